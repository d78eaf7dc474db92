"""The optimizers the engine can run, their hyperparameters, and `OptimizerSpec`.

Every optimizer follows its torch.optim class (VRAdam's and VRMomentum's for the
VR pair, the published algorithm for Lion, Chen et al. 2023) with the same
defaults, except that ``momentum`` and ``nesterov`` default to momentum 0.9.
Hyperparameters use flat names everywhere (``lr``, ``momentum``, ``beta1``,
``beta2``, ``beta3``, ``alpha1``, ``alpha``, ``eps``, ``weight_decay``).

Each hyperparameter has a slider range (what the app offers) and a wider valid
domain (what the API and CLI accept), so stability studies can pass lr = 46 or
alpha1 = 1e9.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["REGISTRY", "HyperParam", "OptimizerInfo", "OptimizerSpec", "get_info"]


@dataclass(frozen=True)
class HyperParam:
    name: str
    symbol: str  # Unicode, for figures and labels
    default: float
    slider: tuple[float, float]  # the app's slider range
    domain: tuple[float, float]  # valid values: [lo, hi] (hi may be inf)
    log: bool  # slider on a log scale
    help: str
    open_high: bool = False  # domain excludes hi (e.g. β < 1)

    def check(self, value: float, optimizer: str) -> float:
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


def _lr(default: float) -> HyperParam:
    return HyperParam(
        "lr", "α₀", default, (1e-4, 2.0), (0.0, math.inf), True,
        "Learning rate (for VR optimizers α₀, the largest rate).",
    )  # fmt: skip


def _beta(name: str, symbol: str, default: float, help: str) -> HyperParam:
    return HyperParam(name, symbol, default, (0.0, 0.999), (0.0, 1.0), False, help, open_high=True)


def _eps(default: float) -> HyperParam:
    return HyperParam(
        "eps", "ε", default, (1e-10, 1e-1), (0.0, math.inf), True,
        "Added to the denominator for numerical stability.",
    )  # fmt: skip


def _wd(default: float, decoupled: bool) -> HyperParam:
    kind = "decoupled (θ ← θ·(1 − η·λ))" if decoupled else "L2 (added to the gradient)"
    return HyperParam(
        "weight_decay", "λ", default, (0.0, 0.5), (0.0, math.inf), False,
        f"Weight decay, {kind}.",
    )  # fmt: skip


_MOMENTUM = HyperParam(
    "momentum", "μ", 0.9, (0.0, 0.99), (0.0, 1.0), False,
    "Heavy-ball momentum: buf ← μ·buf + g (torch.optim.SGD).", open_high=True,
)  # fmt: skip
_BETA3 = HyperParam(
    "beta3", "β₃", 1.0, (0.0, 10.0), (0.0, math.inf), False,
    "Velocity penalty: η = α₀ / (1 + min(β₃‖v‖², α₁)). 0 turns the gate off.",
)  # fmt: skip
_ALPHA1 = HyperParam(
    "alpha1", "α₁", 10.0, (0.0, 50.0), (0.0, math.inf), False,
    "Penalty cap: the smallest rate is α₀/(1 + α₁).",
)  # fmt: skip
_B1 = _beta("beta1", "β₁", 0.9, "Decay of the first moment (the velocity).")
_B2 = _beta("beta2", "β₂", 0.999, "Decay of the second moment.")


@dataclass(frozen=True)
class OptimizerInfo:
    key: str
    name: str
    hyperparams: tuple[HyperParam, ...]
    description: str
    # What its stability threshold is compared with: "sharpness" (λmax(H)),
    # "preconditioned" (λmax(P⁻¹H)) or None (no curvature threshold, e.g. Lion).
    stability: str | None
    velocity_regularized: bool = False

    def param(self, name: str) -> HyperParam:
        for hp in self.hyperparams:
            if hp.name == name:
                return hp
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, float]:
        return {hp.name: hp.default for hp in self.hyperparams}


REGISTRY: dict[str, OptimizerInfo] = {
    info.key: info
    for info in [
        OptimizerInfo(
            "gd", "GD", (_lr(1e-3), _wd(0.0, False)),
            "Gradient descent, torch.optim.SGD without momentum.", "sharpness",
        ),
        OptimizerInfo(
            "momentum", "Momentum", (_lr(1e-3), _MOMENTUM, _wd(0.0, False)),
            "Heavy ball, torch.optim.SGD(momentum=μ): buf ← μ·buf + g, θ ← θ − η·buf.",
            "sharpness",
        ),
        OptimizerInfo(
            "nesterov", "Nesterov", (_lr(1e-3), _MOMENTUM, _wd(0.0, False)),
            "torch.optim.SGD(momentum=μ, nesterov=True): θ ← θ − η·(g + μ·buf).",
            "sharpness",
        ),
        OptimizerInfo(
            "rmsprop", "RMSprop",
            (_lr(1e-2),
             HyperParam("alpha", "α", 0.99, (0.0, 0.999), (0.0, 1.0), False,
                        "Decay of the squared-gradient average.", open_high=True),
             _eps(1e-8), _wd(0.0, False)),
            "torch.optim.RMSprop (not centered, no momentum).", "preconditioned",
        ),
        OptimizerInfo(
            "adagrad", "Adagrad", (_lr(1e-2), _eps(1e-10), _wd(0.0, False)),
            "torch.optim.Adagrad: the step shrinks as squared gradients accumulate.",
            "preconditioned",
        ),
        OptimizerInfo(
            "adam", "Adam", (_lr(1e-3), _B1, _B2, _eps(1e-8), _wd(0.0, False)),
            "torch.optim.Adam, with bias correction.", "preconditioned",
        ),
        OptimizerInfo(
            "adamw", "AdamW", (_lr(1e-3), _B1, _B2, _eps(1e-8), _wd(1e-2, True)),
            "torch.optim.AdamW: Adam with decoupled weight decay.", "preconditioned",
        ),
        OptimizerInfo(
            "nadam", "NAdam",
            (_lr(2e-3), _B1, _B2, _eps(1e-8), _wd(0.0, False),
             HyperParam("momentum_decay", "ψ", 4e-3, (0.0, 0.1), (0.0, math.inf), False,
                        "NAdam's momentum schedule μ_t = β₁(1 − ½·0.96^(tψ)).")),
            "torch.optim.NAdam: Adam with Nesterov momentum.", "preconditioned",
        ),
        OptimizerInfo(
            "radam", "RAdam", (_lr(1e-3), _B1, _B2, _eps(1e-8), _wd(0.0, False)),
            "torch.optim.RAdam: Adam with a rectified (warm-up free) variance.",
            "preconditioned",
        ),
        OptimizerInfo(
            "lion", "Lion",
            (_lr(1e-4),
             _beta("beta1", "β₁", 0.9, "Interpolation for the update direction."),
             _beta("beta2", "β₂", 0.99, "Decay of the momentum."),
             _wd(0.0, True)),
            "Lion (Chen et al. 2023): θ ← θ − η·(sign(β₁m + (1−β₁)g) + λθ).", None,
        ),
        OptimizerInfo(
            "vradam", "VRAdam",
            (_lr(1e-3), _B1, _B2, _BETA3, _ALPHA1, _eps(1e-8), _wd(1e-2, True)),
            "Velocity-Regularized Adam: AdamW with η = α₀ / (1 + min(β₃‖v‖², α₁)).",
            "preconditioned", velocity_regularized=True,
        ),
        OptimizerInfo(
            "vrmomentum", "VRMomentum",
            (_lr(1e-2), _B1, _BETA3, _ALPHA1, _wd(0.0, True)),
            "The paper's momentum ablation: EMA velocity gated like VRAdam, no preconditioner.",
            "sharpness", velocity_regularized=True,
        ),
    ]
}  # fmt: skip


def get_info(key: str) -> OptimizerInfo:
    if key not in REGISTRY:
        raise ValueError(f"unknown optimizer {key!r}; valid: {', '.join(REGISTRY)}")
    return REGISTRY[key]


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer configuration: a registry key, hyperparameter overrides, a label.

    ``params`` is stored as sorted (name, value) pairs so the spec is hashable,
    picklable and comparable; ``dict(spec.params)`` gives the overrides back.
    """

    key: str
    params: Mapping[str, float] | tuple[tuple[str, float], ...] = field(default=())
    label: str | None = None

    def __post_init__(self) -> None:
        info = get_info(self.key)
        items = self.params.items() if isinstance(self.params, Mapping) else self.params
        checked = {}
        names = {hp.name for hp in info.hyperparams}
        for name, value in items:
            if name not in names:
                valid = ", ".join(hp.name for hp in info.hyperparams)
                raise ValueError(f"{self.key}: unknown hyperparameter {name!r}; valid: {valid}")
            checked[name] = info.param(name).check(value, self.key)
        object.__setattr__(self, "params", tuple(sorted(checked.items())))
        if self.label is not None and not isinstance(self.label, str):
            raise ValueError(f"label must be text, got {self.label!r}")

    @classmethod
    def parse(cls, text: str) -> OptimizerSpec:
        """``"vradam:lr=0.05,beta3=1"`` → OptimizerSpec("vradam", {"lr": 0.05, "beta3": 1.0}).

        A trailing ``@label`` names the run: ``"adam:lr=0.1@Adam fast"``.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty optimizer spec; expected e.g. vradam:lr=0.05,beta3=1")
        body, _, label = text.strip().partition("@")
        key, _, rest = body.strip().partition(":")
        key = key.strip().lower()
        params = {}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            name, eq, value = part.partition("=")
            if not eq:
                raise ValueError(f"{key}: expected name=value, got {part!r}")
            try:
                params[name.strip()] = float(value)
            except ValueError:
                raise ValueError(f"{key}: {name.strip()} must be a number, got {value!r}") from None
        return cls(key, params, label.strip() or None)

    @property
    def info(self) -> OptimizerInfo:
        return REGISTRY[self.key]

    @property
    def hyperparams(self) -> dict[str, float]:
        """Every hyperparameter, defaults filled in."""
        return {**self.info.defaults, **dict(self.params)}

    def __str__(self) -> str:
        args = ",".join(f"{k}={v:g}" for k, v in self.params)
        text = f"{self.key}:{args}" if args else self.key
        return f"{text}@{self.label}" if self.label else text

    @property
    def display_name(self) -> str:
        """The label, or the optimizer's name with its overrides (for legends)."""
        if self.label:
            return self.label
        if not self.params:
            return self.info.name
        symbols = {hp.name: hp.symbol for hp in self.info.hyperparams}
        args = ", ".join(f"{symbols[k]}={v:g}" for k, v in self.params)
        return f"{self.info.name} ({args})"
