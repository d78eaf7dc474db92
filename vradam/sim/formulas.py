"""One update's maths as LaTeX, in each optimizer's own notation, with the real numbers.

Each optimizer record (:mod:`vradam.sim.optimizers`) names one ``*_lines`` function
here: the lines between "gradient" and "learning rate" of the Playground's
step-through (moments, bias corrections, step direction). The lines every optimizer
shares (position, gradient, the rate or the VR gate, the update, the new position)
are written by :func:`vradam.app.stepthrough.step_lines`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Step",
    "adam_lines",
    "adaptive_lines",
    "eq",
    "gd_lines",
    "lion_lines",
    "momentum_lines",
    "num",
    "vec",
    "vrmomentum_lines",
]


def num(x: float) -> str:
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


def vec(a) -> str:
    """A 2-vector as a row (x, y)."""
    return rf"({num(a[0])},\ {num(a[1])})"


WRAP_AT = 30  # LaTeX characters: a longer right-hand side wraps at its first " + "
_NUMBERS_TIMES_VECTOR = re.compile(r"\d\\,\(")  # "0.999\,(" : a line with the numbers


def _wrapped(side: str) -> str:
    """``side``, broken before its first top-level " + " when long (the numbers of a moving
    average, e.g. 0.999 (0, 0) + 0.001 (2.402×10⁴, 2500), overflow half a 1024-px page)."""
    if len(side) <= WRAP_AT or not _NUMBERS_TIMES_VECTOR.search(side):
        return side  # short, or symbols only (those fit)
    depth = 0
    for i, c in enumerate(side):
        depth += 1 if c in "({[" else -1 if c in ")}]" else 0
        if depth == 0 and side.startswith(" + ", i):
            return side[:i] + r" \\ &\, + " + side[i + 3 :]
    return side


def eq(lhs: str, *rhs: str) -> str:
    """lhs = rhs[0] = rhs[1] … with each right-hand side on its own line (narrow columns),
    a long one wrapped before its first top-level " + "."""
    body = r" \\ &= ".join(_wrapped(side) for side in rhs)
    return rf"\begin{{aligned}} {lhs} &= {body} \end{{aligned}}"


@dataclass(frozen=True)
class Step:
    """The quantities of update t that the formulas show (2-vectors as (2,) arrays)."""

    t: int  # the update, 1 … T
    hp: dict  # every hyperparameter, defaults filled in
    g: np.ndarray  # g_t as the optimizer sees it
    v: np.ndarray  # velocity / momentum buffer after the update
    prev_v: np.ndarray  # … before it
    m: np.ndarray  # second moment / accumulator after the update (0 if none)
    prev_m: np.ndarray
    d: np.ndarray  # step direction before η_t and decay
    bc1: float  # 1 − β1^t (1 where unused)
    bc2: float  # 1 − β2^t

    @property
    def t0(self) -> str:
        return f"{self.t - 1}"

    @property
    def t1(self) -> str:
        return f"{self.t}"


def _ema(s: Step, sym: str, decay: str, value: float, new, old, what: str, sq: bool = False):
    T0, T1 = s.t0, s.t1
    g = rf"g_{{{T1}}}^2" if sq else rf"g_{{{T1}}}"
    g_num = vec(s.g * s.g) if sq else vec(s.g)
    return (
        what,
        eq(
            rf"{sym}_{{{T1}}}",
            rf"{decay}\, {sym}_{{{T0}}} + (1-{decay})\, {g}",
            rf"{num(value)}\,{vec(old)} + {num(1 - value)}\,{g_num}",
            vec(new),
        ),
    )


def gd_lines(s: Step) -> list[tuple[str, str]]:
    return [("step direction", eq(rf"d_{{{s.t1}}}", rf"g_{{{s.t1}}}"))]


def momentum_lines(s: Step, *, nesterov: bool) -> list[tuple[str, str]]:
    """torch.optim.SGD's buffer b ← μ·b + g; heavy ball steps along b, Nesterov along g + μ·b."""
    T0, T1, mu = s.t0, s.t1, s.hp["momentum"]
    lines = [
        (
            "momentum buffer (torch)",
            eq(
                rf"b_{{{T1}}}",
                rf"\mu\, b_{{{T0}}} + g_{{{T1}}}",
                rf"{num(mu)}\,{vec(s.prev_v)} + {vec(s.g)}",
                vec(s.v),
            ),
        )
    ]
    if nesterov:
        direction = eq(rf"d_{{{T1}}}", rf"g_{{{T1}}} + \mu\, b_{{{T1}}}", vec(s.d))
        return [*lines, ("step direction (Nesterov)", direction)]
    return [*lines, ("step direction (heavy ball)", eq(rf"d_{{{T1}}}", rf"b_{{{T1}}}"))]


def adam_lines(s: Step, *, direction: str | None = None) -> list[tuple[str, str]]:
    """Adam's moments and bias corrections; ``direction`` names a variant's own step form
    (NAdam, RAdam), whose numbers are torch's exact update."""
    T1, hp = s.t1, s.hp
    lines = [
        _ema(s, "v", r"\beta_1", hp["beta1"], s.v, s.prev_v, "velocity (first moment)"),
        _ema(s, "m", r"\beta_2", hp["beta2"], s.m, s.prev_m, "second moment", sq=True),
        (
            "bias corrections",
            rf"1-\beta_1^{{{T1}}} = {num(s.bc1)},\quad 1-\beta_2^{{{T1}}} = {num(s.bc2)}",
        ),
        (
            "bias-corrected velocity",
            eq(rf"\hat v_{{{T1}}}", rf"v_{{{T1}}}/(1-\beta_1^{{{T1}}})", vec(s.v / s.bc1)),
        ),
        (
            "bias-corrected second moment",
            eq(rf"\hat m_{{{T1}}}", rf"m_{{{T1}}}/(1-\beta_2^{{{T1}}})", vec(s.m / s.bc2)),
        ),
    ]
    if direction is not None:
        what = f"step direction ({direction} form, torch's exact update)"
        return [*lines, (what, eq(rf"d_{{{T1}}}", vec(s.d)))]
    formula = rf"\hat v_{{{T1}}} / (\sqrt{{\hat m_{{{T1}}}}} + \epsilon)"
    return [*lines, (f"step direction (ε = {hp['eps']:g})", eq(rf"d_{{{T1}}}", formula, vec(s.d)))]


def adaptive_lines(s: Step, *, accumulate: bool) -> list[tuple[str, str]]:
    """RMSprop (an average of g², ``accumulate=False``) or Adagrad (a running sum)."""
    T0, T1 = s.t0, s.t1
    if accumulate:
        second = ("sum of squared gradients", eq(rf"m_{{{T1}}}", rf"m_{{{T0}}} + g_{{{T1}}}^2",
                                                  vec(s.m)))  # fmt: skip
    else:
        alpha = s.hp["alpha"]
        second = (
            f"squared-gradient average (α = {alpha:g})",
            eq(rf"m_{{{T1}}}", rf"\alpha\, m_{{{T0}}} + (1-\alpha)\, g_{{{T1}}}^2", vec(s.m)),
        )
    direction = eq(rf"d_{{{T1}}}", rf"g_{{{T1}}} / (\sqrt{{m_{{{T1}}}}} + \epsilon)", vec(s.d))
    return [second, ("step direction", direction)]


def vrmomentum_lines(s: Step) -> list[tuple[str, str]]:
    return [
        _ema(s, "v", r"\beta_1", s.hp["beta1"], s.v, s.prev_v, "velocity"),
        ("step direction", eq(rf"d_{{{s.t1}}}", rf"v_{{{s.t1}}}")),
    ]


def lion_lines(s: Step) -> list[tuple[str, str]]:
    T0, T1 = s.t0, s.t1
    sign = rf"\operatorname{{sign}}(\beta_1 m_{{{T0}}} + (1-\beta_1)\, g_{{{T1}}})"
    return [
        ("step direction", eq(rf"d_{{{T1}}}", sign, vec(s.d))),
        (
            "momentum",
            eq(rf"m_{{{T1}}}", rf"\beta_2 m_{{{T0}}} + (1-\beta_2)\, g_{{{T1}}}", vec(s.v)),
        ),
    ]
