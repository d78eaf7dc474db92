"""An optimizer's hyperparameter (:class:`HyperParam`: its symbol, slider range, valid
domain, help and tuning range) and the hyperparameters several records share (α0, the
betas, ε, weight decay, momentum, β3, α1), for :mod:`vradam.sim.optimizers`.

Each hyperparameter has a slider range (what the app offers) and a wider valid domain
(what the API and CLI accept), so stability studies can pass lr = 46 or alpha1 = 1e9.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ALPHA1",
    "B1",
    "B2",
    "BETA3",
    "MOMENTUM",
    "PAPER_BETA3",
    "HyperParam",
    "beta_param",
    "eps_param",
    "lr_param",
    "lr_search",
    "wd_param",
]


@dataclass(frozen=True, kw_only=True)
class HyperParam:
    name: str
    symbol: str  # Unicode, for figures and labels
    default: float
    slider: tuple[float, float]  # the app's slider range
    domain: tuple[float, float]  # valid values: [lo, hi] (hi may be inf)
    log: bool  # slider on a log scale
    help: str
    open_high: bool = False  # domain excludes hi (e.g. β < 1)
    auto: bool = False  # also accepts "auto" (β3: calibrated during training)
    # The range the tuning protocol searches (log scale), from the task's suggestion for
    # this hyperparameter (its Adam-scale α0, its β3); None: not searched.
    search: Callable[[float], tuple[float, float]] | None = None

    def check(self, value: float | str, optimizer: str) -> float | str:
        if self.auto and isinstance(value, str) and value.strip() == "auto":
            return "auto"
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{optimizer}: {self.name} must be a number, got {value!r}") from None
        lo, hi = self.domain
        above = value >= hi if self.open_high else value > hi
        if math.isnan(value) or value < lo or above:
            bracket = ")" if self.open_high else "]"
            raise ValueError(
                f"{optimizer}: {self.name}={value:g} is outside its valid range "
                f"[{lo:g}, {hi:g}{bracket}"
            )
        return value


def lr_search(low_cap: float, low: float, high_floor: float, high: float):
    """α0's tuning range around a task's Adam rate d: [min(low_cap, low·d), max(high_floor,
    high·d)] (wide enough to hold the paper's rates whatever the task suggests)."""
    return lambda d: (min(low_cap, low * d), max(high_floor, high * d))


def lr_param(default: float, search=None) -> HyperParam:
    return HyperParam(
        name="lr", symbol="α₀", default=default, slider=(1e-4, 2.0), domain=(0.0, math.inf),
        log=True, help="Learning rate (for VR optimizers α₀, the largest rate).", search=search,
    )  # fmt: skip


def beta_param(name: str, symbol: str, default: float, help: str) -> HyperParam:
    return HyperParam(name=name, symbol=symbol, default=default, slider=(0.0, 0.999),
                      domain=(0.0, 1.0), log=False, help=help, open_high=True)  # fmt: skip


def eps_param(default: float) -> HyperParam:
    return HyperParam(
        name="eps", symbol="ε", default=default, slider=(1e-10, 1e-1), domain=(0.0, math.inf),
        log=True, help="Added to the denominator for numerical stability.",
    )  # fmt: skip


def wd_param(default: float, decoupled: bool) -> HyperParam:
    kind = "decoupled (θ ← θ·(1 − η·λ))" if decoupled else "L2 (added to the gradient)"
    return HyperParam(
        name="weight_decay", symbol="λ", default=default, slider=(0.0, 0.5),
        domain=(0.0, math.inf), log=False, help=f"Weight decay, {kind}.",
    )  # fmt: skip


# The paper's tuned β3 (its Table 3); the tuning range always holds it.
PAPER_BETA3 = 1.015
MOMENTUM = HyperParam(
    name="momentum", symbol="μ", default=0.9, slider=(0.0, 0.99), domain=(0.0, 1.0), log=False,
    help="Heavy-ball momentum: buf ← μ·buf + g (torch.optim.SGD).", open_high=True,
)  # fmt: skip
BETA3 = HyperParam(
    name="beta3", symbol="β₃", default=1.0, slider=(0.0, 10.0), domain=(0.0, math.inf),
    log=False, auto=True,
    help="Velocity penalty: η = α₀ / (1 + min(β₃‖v‖², α₁)). 0 turns the gate off; in "
    "training, 'auto' calibrates it from the first 10 steps' ‖v‖² (vradam.calibrate).",
    search=lambda b3: (min(b3 / 100, PAPER_BETA3 / 2), max(b3 * 100, 2 * PAPER_BETA3)),
)  # fmt: skip
ALPHA1 = HyperParam(
    name="alpha1", symbol="α₁", default=10.0, slider=(0.0, 50.0), domain=(0.0, math.inf),
    log=False, help="Penalty cap: the smallest rate is α₀/(1 + α₁).",
    search=lambda _: (1.0, 100.0),  # holds the default 10 and the paper's 29
)  # fmt: skip
B1 = beta_param("beta1", "β₁", 0.9, "Decay of the first moment (the velocity).")
B2 = beta_param("beta2", "β₂", 0.999, "Decay of the second moment.")
