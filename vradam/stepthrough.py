"""The maths of one update, with the actual numbers (the Playground's step-through mode).

:func:`replay` re-runs one optimizer of a Playground setup from its chosen start, one
update at a time, keeping every intermediate quantity: the gradient g_t (with the same
seeded noise as the engine), the velocity (first moment or momentum buffer), the
second moment, the bias corrections, the gate's ‖v_t‖² and η_t, the step direction,
the weight-decay term and the new position. It uses the engine's update coefficients,
so its path is the engine's path (a test checks both, and checks the numbers against
the torch optimizer classes fed the same gradients).

:func:`step_lines` writes update t as LaTeX in the optimizer's own notation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vradam import schedules
from vradam.engine import _coefficients, _grad_and_loss
from vradam.optimizers import OptimizerSpec
from vradam.playground import PlaygroundConfig

__all__ = ["Replay", "replay", "step_lines"]


@dataclass
class Replay:
    """Arrays indexed by update t = 1 … T at position t − 1 (``theta`` has T + 1 rows)."""

    spec: OptimizerSpec
    theta: np.ndarray  # (T+1, 2) θ_0 … θ_T
    loss: np.ndarray  # (T+1,)
    grad: np.ndarray  # (T, 2) g_t as the optimizer sees it (noise and L2 term included)
    velocity: np.ndarray  # (T, 2) v_t: first moment / momentum buffer after update t
    second: np.ndarray  # (T, 2) m_t: second moment / squared-gradient average (0 if none)
    sq_norm: np.ndarray  # (T,) ‖v_t‖²
    lr: np.ndarray  # (T,) scheduled α0
    eta: np.ndarray  # (T,) η_t
    direction: np.ndarray  # (T, 2) the step direction before η_t and decay
    decay: np.ndarray  # (T, 2) decoupled weight decay λθ_{t−1} (0 if none)
    bc1: np.ndarray  # (T,) 1 − β1^t (1 where not used)
    bc2: np.ndarray  # (T,) 1 − β2^t (1 where not used)

    @property
    def steps(self) -> int:
        return self.grad.shape[0]


def replay(config: PlaygroundConfig, index: int, start_index: int = 0) -> Replay:
    """Re-run optimizer ``index`` of ``config`` from start ``start_index``."""
    specs = config.specs()
    if not 0 <= index < len(specs):
        raise ValueError(f"optimizer index must be in 0 … {len(specs) - 1}")
    starts = config.start_points()
    if not 0 <= start_index < starts.shape[0]:
        raise ValueError(f"start index must be in 0 … {starts.shape[0] - 1}")
    spec, T, N = specs[index], config.steps, starts.shape[0]
    factors = schedules.factors(config.schedule, T)
    c = _coefficients(spec, spec.hyperparams["lr"] * factors)
    hp = spec.hyperparams
    b1, b2 = hp.get("beta1", 0.0), hp.get("beta2", 0.0)
    t = np.arange(1, T + 1, dtype=np.float64)
    adam_like = spec.key in ("adam", "adamw", "vradam", "nadam", "radam")
    fn = config.landscape_obj().fn
    rng = np.random.default_rng(config.seed) if config.noise > 0 else None

    p = starts[start_index].astype(np.float64)
    v, m = np.zeros(2), np.zeros(2)
    theta, loss = np.empty((T + 1, 2)), np.empty(T + 1)
    G, V, M, D, W = (np.zeros((T, 2)) for _ in range(5))
    S, ETA = np.zeros(T), np.zeros(T)
    theta[0] = p
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(T):
            f, gx, gy = _grad_and_loss(fn, np.ascontiguousarray(p.reshape(2, 1)))
            loss[k] = f[0]
            g = np.array([gx[0], gy[0]])
            if rng is not None:  # the engine draws (2, 1, N) per step, shared by optimizers
                g = g + config.noise * rng.standard_normal((2, 1, N))[:, 0, start_index]
            g = g + c["wd_l2"] * p
            num = c["c1"][k] * v + c["c2"][k] * g
            v = c["a1"] * v + c["b1"] * g
            if c["b2"]:
                m = c["a2"] * m + c["b2"] * g * g
                den = np.sqrt(c["c3"][k] * m) + c["e"][k]
            else:
                den = c["e"][k]
            s = float(v @ v)
            eta = c["lr"][k] / (1 + min(c["beta3"] * s, c["alpha1"])) if c["beta3"] else c["lr"][k]
            d = np.sign(num) if c["sign"] else num / den
            w = c["wd_dec"] * p
            p = p - eta * (d + w)
            G[k], V[k], M[k], D[k], W[k], S[k], ETA[k] = g, v, m, d, w, s, eta
            theta[k + 1] = p
        f, _, _ = _grad_and_loss(fn, np.ascontiguousarray(p.reshape(2, 1)))
        loss[T] = f[0]
    ones = np.ones(T)
    return Replay(
        spec=spec,
        theta=theta,
        loss=loss,
        grad=G,
        velocity=V,
        second=M,
        sq_norm=S,
        lr=np.asarray(c["lr"], dtype=np.float64),
        eta=ETA,
        direction=D,
        decay=W,
        bc1=1 - b1**t if adam_like else ones,
        bc2=1 - b2**t if adam_like else ones,
    )


# ----------------------------------------------------------------------------- LaTeX


def _n(x: float) -> str:
    """A number for LaTeX: 4 significant digits, powers of ten written out."""
    x = float(x)
    if not np.isfinite(x):
        return r"\text{" + ("nan" if np.isnan(x) else ("∞" if x > 0 else "−∞")) + "}"
    if x == 0:
        return "0"
    text = f"{x:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        return rf"{mant}\times10^{{{int(exp)}}}"
    return text


def _vec(a) -> str:
    return rf"({_n(a[0])},\ {_n(a[1])})"


def _eq(lhs: str, *rhs: str) -> str:
    """lhs = rhs[0] = rhs[1] … with each right-hand side on its own line (narrow columns)."""
    body = r" \\ &= ".join(rhs)
    return rf"\begin{{aligned}} {lhs} &= {body} \end{{aligned}}"


_L2_KEYS = ("gd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "nadam", "radam")


def step_lines(r: Replay, t: int) -> list[tuple[str, str]]:
    """(what, LaTeX) lines for update t (1 … T): θ_{t−1} → θ_t, with the numbers.

    Vectors are written as rows (x, y); each line is an aligned block whose right-hand
    sides stack, so it fits half a projector's width."""
    if not 1 <= t <= r.steps:
        raise ValueError(f"update must be in 1 … {r.steps}")
    k = t - 1
    key, hp = r.spec.key, r.spec.hyperparams
    g, v, m, d = r.grad[k], r.velocity[k], r.second[k], r.direction[k]
    prev = r.velocity[k - 1] if k else np.zeros(2)
    prev_m = r.second[k - 1] if k else np.zeros(2)
    T0, T1 = f"{t - 1}", f"{t}"
    wd = hp.get("weight_decay", 0.0)
    g_note = r" + \lambda\theta_{" + T0 + "}" if wd and key in _L2_KEYS else ""
    lines = [
        ("position before the update", _eq(rf"\theta_{{{T0}}}", _vec(r.theta[k]))),
        (
            "gradient (with noise, if any)",
            _eq(rf"g_{{{T1}}}", rf"\nabla f(\theta_{{{T0}}}){g_note}", _vec(g)),
        ),
    ]
    eta, lr = r.eta[k], r.lr[k]
    if key == "gd":
        lines.append(("step direction", _eq(rf"d_{{{T1}}}", rf"g_{{{T1}}}")))
    elif key in ("adam", "adamw", "vradam", "nadam", "radam"):
        b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
        lines += [
            (
                "velocity (first moment)",
                _eq(
                    rf"v_{{{T1}}}",
                    rf"\beta_1 v_{{{T0}}} + (1-\beta_1)\, g_{{{T1}}}",
                    rf"{_n(b1)}\,{_vec(prev)} + {_n(1 - b1)}\,{_vec(g)}",
                    _vec(v),
                ),
            ),
            (
                "second moment",
                _eq(
                    rf"m_{{{T1}}}",
                    rf"\beta_2 m_{{{T0}}} + (1-\beta_2)\, g_{{{T1}}}^2",
                    rf"{_n(b2)}\,{_vec(prev_m)} + {_n(1 - b2)}\,{_vec(g * g)}",
                    _vec(m),
                ),
            ),
            (
                "bias corrections",
                rf"1-\beta_1^{{{T1}}} = {_n(r.bc1[k])},\quad 1-\beta_2^{{{T1}}} = {_n(r.bc2[k])}",
            ),
            (
                "bias-corrected velocity",
                _eq(rf"\hat v_{{{T1}}}", rf"v_{{{T1}}}/(1-\beta_1^{{{T1}}})", _vec(v / r.bc1[k])),
            ),
            (
                "bias-corrected second moment",
                _eq(rf"\hat m_{{{T1}}}", rf"m_{{{T1}}}/(1-\beta_2^{{{T1}}})", _vec(m / r.bc2[k])),
            ),
        ]
        if key in ("adam", "adamw", "vradam"):
            direction = rf"\hat v_{{{T1}}} / (\sqrt{{\hat m_{{{T1}}}}} + \epsilon)"
            lines.append((f"step direction (ε = {eps:g})", _eq(rf"d_{{{T1}}}", direction, _vec(d))))
        else:
            what = "NAdam's Nesterov-corrected" if key == "nadam" else "RAdam's rectified"
            lines.append(
                (
                    f"step direction ({what} form, torch's exact update)",
                    _eq(rf"d_{{{T1}}}", _vec(d)),
                )
            )
    elif key in ("momentum", "nesterov"):
        mu = hp["momentum"]
        lines.append(
            (
                "momentum buffer (torch)",
                _eq(
                    rf"b_{{{T1}}}",
                    rf"\mu\, b_{{{T0}}} + g_{{{T1}}}",
                    rf"{_n(mu)}\,{_vec(prev)} + {_vec(g)}",
                    _vec(v),
                ),
            )
        )
        if key == "nesterov":
            lines.append(
                (
                    "step direction (Nesterov)",
                    _eq(rf"d_{{{T1}}}", rf"g_{{{T1}}} + \mu\, b_{{{T1}}}", _vec(d)),
                )
            )
        else:
            lines.append(("step direction (heavy ball)", _eq(rf"d_{{{T1}}}", rf"b_{{{T1}}}")))
    elif key == "vrmomentum":
        b1 = hp["beta1"]
        lines += [
            (
                "velocity",
                _eq(
                    rf"v_{{{T1}}}",
                    rf"\beta_1 v_{{{T0}}} + (1-\beta_1)\, g_{{{T1}}}",
                    rf"{_n(b1)}\,{_vec(prev)} + {_n(1 - b1)}\,{_vec(g)}",
                    _vec(v),
                ),
            ),
            ("step direction", _eq(rf"d_{{{T1}}}", rf"v_{{{T1}}}")),
        ]
    elif key in ("rmsprop", "adagrad"):
        if key == "rmsprop":
            lines.append(
                (
                    f"squared-gradient average (α = {hp['alpha']:g})",
                    _eq(
                        rf"m_{{{T1}}}", rf"\alpha\, m_{{{T0}}} + (1-\alpha)\, g_{{{T1}}}^2", _vec(m)
                    ),
                )
            )
        else:
            lines.append(
                (
                    "sum of squared gradients",
                    _eq(rf"m_{{{T1}}}", rf"m_{{{T0}}} + g_{{{T1}}}^2", _vec(m)),
                )
            )
        lines.append(
            (
                "step direction",
                _eq(rf"d_{{{T1}}}", rf"g_{{{T1}}} / (\sqrt{{m_{{{T1}}}}} + \epsilon)", _vec(d)),
            )
        )
    elif key == "lion":
        lines += [
            (
                "step direction",
                _eq(
                    rf"d_{{{T1}}}",
                    rf"\operatorname{{sign}}(\beta_1 m_{{{T0}}} + (1-\beta_1)\, "
                    rf"g_{{{T1}}})",
                    _vec(d),
                ),
            ),
            (
                "momentum",
                _eq(rf"m_{{{T1}}}", rf"\beta_2 m_{{{T0}}} + (1-\beta_2)\, g_{{{T1}}}", _vec(v)),
            ),
        ]
    if r.spec.info.velocity_regularized:
        b3, a1 = hp["beta3"], hp["alpha1"]
        sq = r.sq_norm[k]
        clip = r"\ (\text{clipped at } \alpha_1)" if b3 * sq >= a1 else ""
        lines += [
            (
                "the gate's input",
                rf"\lVert v_{{{T1}}}\rVert^2 = {_n(sq)},\quad \beta_3 \lVert v_{{{T1}}}\rVert^2 = "
                rf"{_n(b3 * sq)}{clip}",
            ),
            (
                "dynamic learning rate",
                _eq(
                    rf"\eta_{{{T1}}}",
                    rf"\frac{{\alpha_0}}{{1 + \min(\beta_3 \lVert v_{{{T1}}}\rVert^2,\ \alpha_1)}}",
                    rf"\frac{{{_n(lr)}}}{{1 + {_n(min(b3 * sq, a1))}}}",
                    _n(eta),
                ),
            ),
        ]
    else:
        lines.append(("learning rate", _eq(rf"\eta_{{{T1}}}", _n(eta))))
    decoupled = bool(r.decay[k].any())
    step_sym = rf"\eta_{{{T1}}}\, d_{{{T1}}}" + (
        rf" + \eta_{{{T1}}} \lambda\theta_{{{T0}}}" if decoupled else ""
    )
    lines += [
        ("the update", _eq(step_sym, _vec(eta * (d + r.decay[k])))),
        (
            "new position",
            _eq(rf"\theta_{{{T1}}}", rf"\theta_{{{T0}}} - ({step_sym})", _vec(r.theta[t]))
            + rf"\qquad f(\theta_{{{T1}}}) = {_n(r.loss[t])}",
        ),
    ]
    return lines
