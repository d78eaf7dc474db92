"""The maths of one update, with the actual numbers (the Playground's step-through mode).

:func:`replay` replays one optimizer of a Playground setup from its chosen start through
the engine (:func:`vradam.sim.replay.replay`); :func:`step_lines` writes update t as
LaTeX: the lines every optimizer shares here, its own lines (moments, direction) from
its record's ``formulas`` (:mod:`vradam.sim.formulas`).
"""

from __future__ import annotations

import numpy as np

from vradam.app.playground import PlaygroundConfig
from vradam.sim import replay as sim_replay
from vradam.sim.formulas import Step, eq, num, vec
from vradam.sim.replay import Replay

__all__ = ["Replay", "replay", "step_lines"]


def replay(config: PlaygroundConfig, index: int, start_index: int = 0) -> Replay:
    """Re-run optimizer ``index`` of ``config`` from start ``start_index``."""
    specs = config.specs()
    if not 0 <= index < len(specs):
        raise ValueError(f"optimizer index must be in 0 … {len(specs) - 1}")
    return sim_replay.replay(
        config.landscape_obj(), specs[index], config.start_points(), config.steps,
        start_index=start_index, noise_std=config.noise, seed=config.seed,
        schedule=config.schedule,
    )  # fmt: skip


def _gate_lines(r: Replay, k: int, T1: str) -> list[tuple[str, str]]:
    hp, eta, lr = r.spec.hyperparams, r.eta[k], r.lr[k]
    if not r.spec.info.velocity_regularized:
        return [("learning rate", eq(rf"\eta_{{{T1}}}", num(eta)))]
    b3, a1, sq = hp["beta3"], hp["alpha1"], r.sq_norm[k]
    clip = r"\ (\text{clipped at } \alpha_1)" if b3 * sq >= a1 else ""
    return [
        (
            "the gate's input",
            rf"\lVert v_{{{T1}}}\rVert^2 = {num(sq)},\quad \beta_3 \lVert v_{{{T1}}}\rVert^2 = "
            rf"{num(b3 * sq)}{clip}",
        ),
        (
            "dynamic learning rate",
            eq(
                rf"\eta_{{{T1}}}",
                rf"\frac{{\alpha_0}}{{1 + \min(\beta_3 \lVert v_{{{T1}}}\rVert^2,\ \alpha_1)}}",
                rf"\frac{{{num(lr)}}}{{1 + {num(min(b3 * sq, a1))}}}",
                num(eta),
            ),
        ),
    ]


def step_lines(r: Replay, t: int) -> list[tuple[str, str]]:
    """(what, LaTeX) lines for update t (1 … T): θ_{t−1} → θ_t, with the numbers.

    Vectors are written as rows (x, y); each line is an aligned block whose right-hand
    sides stack, so it fits half a projector's width."""
    if not 1 <= t <= r.steps:
        raise ValueError(f"update must be in 1 … {r.steps}")
    k = t - 1
    T0, T1 = f"{t - 1}", f"{t}"
    zero = np.zeros(2)
    step = Step(
        t=t, hp=r.spec.hyperparams, g=r.grad[k], v=r.velocity[k],
        prev_v=r.velocity[k - 1] if k else zero, m=r.second[k],
        prev_m=r.second[k - 1] if k else zero, d=r.direction[k], bc1=r.bc1[k], bc2=r.bc2[k],
    )  # fmt: skip
    g_note = r" + \lambda\theta_{" + T0 + "}" if r.l2 else ""
    lines = [
        ("position before the update", eq(rf"\theta_{{{T0}}}", vec(r.theta[k]))),
        (
            "gradient (with noise, if any)",
            eq(rf"g_{{{T1}}}", rf"\nabla f(\theta_{{{T0}}}){g_note}", vec(r.grad[k])),
        ),
        *r.spec.info.formulas(step),
        *_gate_lines(r, k, T1),
    ]
    decoupled = bool(r.decay[k].any())
    step_sym = rf"\eta_{{{T1}}}\, d_{{{T1}}}" + (
        rf" + \eta_{{{T1}}} \lambda\theta_{{{T0}}}" if decoupled else ""
    )
    eta = r.eta[k]
    return [
        *lines,
        ("the update", eq(step_sym, vec(eta * (r.direction[k] + r.decay[k])))),
        (
            "new position",
            eq(rf"\theta_{{{T1}}}", rf"\theta_{{{T0}}} - ({step_sym})", vec(r.theta[t])).replace(
                r"\end{aligned}", rf"\\ f(\theta_{{{T1}}}) &= {num(r.loss[t])} \end{{aligned}}"
            ),
        ),
    ]
