"""One record per optimizer (:class:`OptimizerInfo`), the registry, and `OptimizerSpec`.

A record holds the optimizer's hyperparameters (ranges, help), its per-step update in
the engine's unified form (:class:`Coefficients`), from which its stability threshold
is derived generically (:func:`linear_threshold`), its torch.optim twin, and its
step-through formulas. Adding an optimizer is one :func:`register` call.

Every optimizer follows its torch.optim class (VRAdam's and VRMomentum's for the
VR pair, the published algorithm for Lion, Chen et al. 2023) with the same
defaults, except that ``momentum`` and ``nesterov`` default to momentum 0.9.
Hyperparameters use flat names everywhere (``lr``, ``momentum``, ``beta1``,
``beta2``, ``beta3``, ``alpha1``, ``alpha``, ``eps``, ``weight_decay``); their records
(:class:`HyperParam`, with a slider range and a wider valid domain) and the ones several
optimizers share are in :mod:`vradam.sim.hyperparams`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor
from torch.optim import Optimizer

from vradam.optim import VRAdam, VRMomentum
from vradam.sim import formulas, measures
from vradam.sim.formulas import Step
from vradam.sim.hyperparams import (
    ALPHA1,
    B1,
    B2,
    BETA3,
    MOMENTUM,
    PAPER_BETA3,
    HyperParam,
    beta_param,
    eps_param,
    lr_param,
    lr_search,
    wd_param,
)
from vradam.sim.lion import Lion
from vradam.sim.unified import Coefficients, linear_threshold

__all__ = [
    "PAPER_BETA3",
    "REGISTRY",
    "HyperParam",
    "OptimizerInfo",
    "OptimizerSpec",
    "gate_activity_of",
    "get_info",
    "make_optimizer",
    "preconditioner",
    "register",
    "stability_threshold",
    "threshold_at",
    "tunable",
    "velocity_sq_norm",
]


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True, kw_only=True)
class Tuning:
    """How the tuning protocol (vradam.studies.tuning) treats an optimizer: the paper's
    name for it (a column of its Table 1), the label the Tuning page shows, and whether it
    is the baseline every other optimizer is compared with. The searched hyperparameters
    are those of the record with a ``search`` range."""

    paper_name: str
    label: str | None = None  # None: the record's name
    baseline: bool = False


@dataclass(frozen=True, kw_only=True)
class OptimizerInfo:
    """Everything the project knows about one optimizer, in one record.

    ``coefficients`` gives the engine's per-step update (and so its stability
    threshold, derived generically); ``torch_class`` builds the torch.optim twin that
    networks train with and the tests compare against; ``formulas`` writes the
    step-through's LaTeX. Adding an optimizer is one record passed to :func:`register`.
    """

    key: str
    name: str
    hyperparams: tuple[HyperParam, ...]
    description: str
    coefficients: Callable[[dict, np.ndarray], Coefficients]  # (hyperparams, lr (T,))
    torch_class: Callable[..., Optimizer]  # (params, **hyperparams) → the torch twin
    formulas: Callable[[Step], list[tuple[str, str]]]  # step-through lines
    # What its stability threshold is compared with: "sharpness" (λmax(H)),
    # "preconditioned" (λmax(P⁻¹H)) or None (no curvature threshold, e.g. Lion).
    stability: str | None
    # Whether a landscape's or task's suggested α0 (an Adam-scale rate) suits a newly added
    # copy; if not, the copy starts at ``network_lr`` on a network task (when given) and at
    # the record's default otherwise.
    suggested_lr: bool = True
    network_lr: float | None = None
    velocity_regularized: bool = False
    # VR optimizers: what the optimizer is with its gate off (β3 = 0), for the verdict of
    # its gate activity ("behaved as AdamW at α₀"); None: the record's name.
    ungated_name: str | None = None
    velocity_state: str | None = "exp_avg"  # torch state holding the velocity (None: none)
    precond_state: str | None = None  # torch state holding the second moment
    precond_bias_corrected: bool = False  # P = √(m/(1 − β2^t)) + ε rather than √m + ε
    tuning: Tuning | None = None  # None: not one of the tuning protocol's optimizers

    def __post_init__(self) -> None:
        if not self.key.isidentifier() or self.key != self.key.lower():
            raise ValueError(f"optimizer key must be a lower-case identifier, got {self.key!r}")
        if self.stability not in ("sharpness", "preconditioned", None):
            raise ValueError(f"{self.key}: unknown stability kind {self.stability!r}")

    def param(self, name: str) -> HyperParam:
        for hp in self.hyperparams:
            if hp.name == name:
                return hp
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, float]:
        return {hp.name: hp.default for hp in self.hyperparams}


def _steps(lr: np.ndarray) -> np.ndarray:
    return np.arange(1, lr.shape[0] + 1, dtype=np.float64)


def _gd(hp, lr):
    return Coefficients.plain(lr, wd_l2=hp["weight_decay"])


def _momentum(hp, lr, nesterov: bool):
    # torch: buf ← μ·buf + g; heavy ball steps along buf = μ·buf_old + g,
    # Nesterov along g + μ·buf = μ²·buf_old + (1 + μ)·g.
    mu = hp["momentum"]
    c = Coefficients.plain(lr, a1=mu, b1=1.0, wd_l2=hp["weight_decay"])
    if nesterov:
        return replace(c, c1=c.e * mu * mu, c2=c.e * (1 + mu))
    return replace(c, c1=c.e * mu)


def _rmsprop(hp, lr):
    c = Coefficients.plain(lr, a2=hp["alpha"], b2=1 - hp["alpha"], wd_l2=hp["weight_decay"])
    return replace(c, c3=c.e * 1.0, e=c.e * hp["eps"])


def _adagrad(hp, lr):
    c = Coefficients.plain(lr, a2=1.0, b2=1.0, wd_l2=hp["weight_decay"])
    return replace(c, c3=c.e * 1.0, e=c.e * hp["eps"])


def _adam(hp, lr, decoupled: bool = False, gated: bool = False):
    b1, b2, t = hp["beta1"], hp["beta2"], _steps(lr)
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    wd = hp["weight_decay"]
    return Coefficients(
        lr=lr * 1.0, c1=b1 / bc1, c2=(1 - b1) / bc1, c3=1 / bc2, e=np.full_like(t, hp["eps"]),
        a1=b1, b1=1 - b1, a2=b2, b2=1 - b2,
        wd_l2=0.0 if decoupled else wd, wd_dec=wd if decoupled else 0.0,
        beta3=hp["beta3"] if gated else 0.0, alpha1=hp["alpha1"] if gated else 0.0,
        bc1=bc1, bc2=bc2,
    )  # fmt: skip


def _nadam(hp, lr):
    c = _adam(hp, lr)
    b1, psi, t = hp["beta1"], hp["momentum_decay"], _steps(lr)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    mu_prod = np.cumprod(mu)
    cg = (1 - mu) / (1 - mu_prod)  # weight of g
    cv = mu_next / (1 - mu_prod * mu_next)  # weight of the new v
    return replace(c, c1=cv * b1, c2=cg + cv * (1 - b1))


def _radam(hp, lr):
    c = _adam(hp, lr)
    b2, t, bc2 = hp["beta2"], _steps(lr), c.bc2
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / bc2
    adaptive = rho > 5
    safe_rho = np.where(adaptive, rho, 6.0)
    rect = np.sqrt((safe_rho - 4) * (safe_rho - 2) * rho_inf
                   / ((rho_inf - 4) * (rho_inf - 2) * safe_rho))  # fmt: skip
    rect = np.where(adaptive, rect, 1.0)
    # torch: sqrt(bc2)/(sqrt(m) + eps), i.e. den = sqrt(m/bc2) + eps/sqrt(bc2)
    return replace(
        c, c1=rect * c.c1, c2=rect * c.c2,
        c3=np.where(adaptive, 1 / bc2, 0.0),
        e=np.where(adaptive, hp["eps"] / np.sqrt(bc2), 1.0),
    )  # fmt: skip


def _lion(hp, lr):
    b1, b2 = hp["beta1"], hp["beta2"]
    c = Coefficients.plain(lr, a1=b2, b1=1 - b2, sign=True, wd_dec=hp["weight_decay"])
    return replace(c, c1=c.e * b1, c2=c.e * (1 - b1))


def _vrmomentum(hp, lr):
    b1 = hp["beta1"]
    c = Coefficients.plain(lr, a1=b1, b1=1 - b1, wd_dec=hp["weight_decay"],
                           beta3=hp["beta3"], alpha1=hp["alpha1"])  # fmt: skip
    return replace(c, c1=c.e * b1, c2=c.e * (1 - b1))


# torch twins: (params, **flat hyperparameters) → torch optimizer
def _sgd(params, *, lr, weight_decay, momentum=0.0, nesterov=False):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov,
                           weight_decay=weight_decay)  # fmt: skip


def _betas(cls):
    def make(params, *, beta1, beta2, **kw):
        return cls(params, betas=(beta1, beta2), **kw)

    make.__name__ = f"make_{cls.__name__}"
    return make


_MOMENTUM_LINES = functools.partial(formulas.momentum_lines, nesterov=False)
_ADAM = (lr_param(1e-3), B1, B2, eps_param(1e-8), wd_param(0.0, False))

REGISTRY: dict[str, OptimizerInfo] = {}


def register(info: OptimizerInfo) -> OptimizerInfo:
    """Add an optimizer record (its key must be new); returns it."""
    if not isinstance(info, OptimizerInfo):
        raise ValueError(f"expected an OptimizerInfo, got {type(info).__name__}")
    if info.key in REGISTRY:
        raise ValueError(f"optimizer {info.key!r} is already registered")
    REGISTRY[info.key] = info
    return info


# fmt: off
_SGD_SEARCH = lr_search(1e-3, 1 / 3, 1.0, 100.0)  # SGD rates are larger than Adam's
_ADAM_SEARCH = lr_search(1e-4, 1 / 10, 0.3, 10.0)  # Adam's kin; holds the paper's α0
for _info in [
    OptimizerInfo(
        key="gd", name="GD", hyperparams=(lr_param(1e-3), wd_param(0.0, False)),
        description="Gradient descent, torch.optim.SGD without momentum.",
        coefficients=_gd, torch_class=_sgd, formulas=formulas.gd_lines,
        stability="sharpness", suggested_lr=False, network_lr=0.3, velocity_state=None,
    ),
    OptimizerInfo(
        key="momentum", name="Momentum",
        hyperparams=(lr_param(1e-3), MOMENTUM, wd_param(0.0, False)),
        description="Heavy ball, torch.optim.SGD(momentum=μ): buf ← μ·buf + g, θ ← θ − η·buf.",
        coefficients=functools.partial(_momentum, nesterov=False), torch_class=_sgd,
        formulas=_MOMENTUM_LINES, stability="sharpness", suggested_lr=False,
        network_lr=0.05, velocity_state="momentum_buffer",
    ),
    OptimizerInfo(
        key="nesterov", name="Nesterov",
        hyperparams=(lr_param(1e-3, _SGD_SEARCH), MOMENTUM, wd_param(0.0, False)),
        description="torch.optim.SGD(momentum=μ, nesterov=True): θ ← θ − η·(g + μ·buf).",
        coefficients=functools.partial(_momentum, nesterov=True),
        torch_class=functools.partial(_sgd, nesterov=True),
        formulas=functools.partial(formulas.momentum_lines, nesterov=True),
        stability="sharpness", suggested_lr=False, network_lr=0.05,
        velocity_state="momentum_buffer",
        tuning=Tuning(paper_name="SGD+Nesterov", label="Nesterov (SGD)"),
    ),
    OptimizerInfo(
        key="rmsprop", name="RMSprop",
        hyperparams=(
            lr_param(1e-2, lr_search(1e-5, 1 / 100, 0.1, 10.0)),
            HyperParam(name="alpha", symbol="α", default=0.99, slider=(0.0, 0.999),
                       domain=(0.0, 1.0), log=False, open_high=True,
                       help="Decay of the squared-gradient average."),
            eps_param(1e-8), wd_param(0.0, False)),
        description="torch.optim.RMSprop (not centered, no momentum).",
        coefficients=_rmsprop, torch_class=torch.optim.RMSprop,
        formulas=functools.partial(formulas.adaptive_lines, accumulate=False),
        stability="preconditioned", velocity_state=None, precond_state="square_avg",
        tuning=Tuning(paper_name="RMSProp"),
    ),
    OptimizerInfo(
        key="adagrad", name="Adagrad",
        hyperparams=(lr_param(1e-2), eps_param(1e-10), wd_param(0.0, False)),
        description="torch.optim.Adagrad: the step shrinks as squared gradients accumulate.",
        coefficients=_adagrad, torch_class=torch.optim.Adagrad,
        formulas=functools.partial(formulas.adaptive_lines, accumulate=True),
        stability="preconditioned", velocity_state=None, precond_state="sum",
    ),
    OptimizerInfo(
        key="adam", name="Adam", hyperparams=_ADAM,
        description="torch.optim.Adam, with bias correction.",
        coefficients=_adam, torch_class=_betas(torch.optim.Adam), formulas=formulas.adam_lines,
        stability="preconditioned", precond_state="exp_avg_sq", precond_bias_corrected=True,
    ),
    OptimizerInfo(
        key="adamw", name="AdamW",
        hyperparams=(lr_param(1e-3, _ADAM_SEARCH), *_ADAM[1:4], wd_param(1e-2, True)),
        description="torch.optim.AdamW: Adam with decoupled weight decay.",
        coefficients=functools.partial(_adam, decoupled=True),
        torch_class=_betas(torch.optim.AdamW), formulas=formulas.adam_lines,
        stability="preconditioned", precond_state="exp_avg_sq", precond_bias_corrected=True,
        tuning=Tuning(paper_name="AdamW", baseline=True),
    ),
    OptimizerInfo(
        key="nadam", name="NAdam",
        hyperparams=(
            lr_param(2e-3), *_ADAM[1:],
            HyperParam(name="momentum_decay", symbol="ψ", default=4e-3, slider=(0.0, 0.1),
                       domain=(0.0, math.inf), log=False,
                       help="NAdam's momentum schedule μ_t = β₁(1 − ½·0.96^(tψ)).")),
        description="torch.optim.NAdam: Adam with Nesterov momentum.",
        coefficients=_nadam, torch_class=_betas(torch.optim.NAdam),
        formulas=functools.partial(formulas.adam_lines, direction="NAdam's Nesterov-corrected"),
        stability="preconditioned", precond_state="exp_avg_sq", precond_bias_corrected=True,
    ),
    OptimizerInfo(
        key="radam", name="RAdam", hyperparams=(lr_param(1e-3, _ADAM_SEARCH), *_ADAM[1:]),
        description="torch.optim.RAdam: Adam with a rectified (warm-up free) variance.",
        coefficients=_radam, torch_class=_betas(torch.optim.RAdam),
        formulas=functools.partial(formulas.adam_lines, direction="RAdam's rectified"),
        stability="preconditioned", precond_state="exp_avg_sq", precond_bias_corrected=True,
        tuning=Tuning(paper_name="RAdam"),
    ),
    OptimizerInfo(
        key="lion", name="Lion",
        hyperparams=(
            # Lion's rate is 3–10× below AdamW's (Chen et al. 2023)
            lr_param(1e-4, lr_search(1e-5, 1 / 100, 0.03, 3.0)),
            beta_param("beta1", "β₁", 0.9, "Interpolation for the update direction."),
            beta_param("beta2", "β₂", 0.99, "Decay of the momentum."),
            wd_param(0.0, True)),
        description="Lion (Chen et al. 2023): θ ← θ − η·(sign(β₁m + (1−β₁)g) + λθ).",
        coefficients=_lion, torch_class=_betas(Lion), formulas=formulas.lion_lines,
        stability=None, suggested_lr=False, tuning=Tuning(paper_name="Lion"),
    ),
    OptimizerInfo(
        key="vradam", name="VRAdam",
        hyperparams=(lr_param(1e-3, _ADAM_SEARCH), B1, B2, BETA3, ALPHA1, eps_param(1e-8),
                     wd_param(1e-2, True)),
        description="Velocity-Regularized Adam: AdamW with η = α₀ / (1 + min(β₃‖v‖², α₁)).",
        coefficients=functools.partial(_adam, decoupled=True, gated=True),
        torch_class=_betas(VRAdam), formulas=formulas.adam_lines, stability="preconditioned",
        velocity_regularized=True, ungated_name="AdamW", precond_state="exp_avg_sq",
        precond_bias_corrected=True, tuning=Tuning(paper_name="VRAdam"),
    ),
    OptimizerInfo(
        key="vrmomentum", name="VRMomentum",
        hyperparams=(lr_param(1e-2), B1, BETA3, ALPHA1, wd_param(0.0, True)),
        description="The paper's momentum ablation: EMA velocity gated like VRAdam, "
        "no preconditioner.",
        coefficients=_vrmomentum, torch_class=VRMomentum, formulas=formulas.vrmomentum_lines,
        stability="sharpness", velocity_regularized=True, ungated_name="EMA momentum",
    ),
]:
    register(_info)
del _info
# fmt: on


def value_text(value: float | str) -> str:
    """A hyperparameter as the spec text writes it: a number in %g, or "auto"."""
    return value if isinstance(value, str) else f"{value:g}"


def tunable() -> tuple[str, ...]:
    """The tuning protocol's optimizers (records with tuning facts): the baseline first,
    then the others in registry order."""
    keys = [k for k, info in REGISTRY.items() if info.tuning is not None]
    return tuple(sorted(keys, key=lambda k: not REGISTRY[k].tuning.baseline))


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
                params[name.strip()] = "auto" if value.strip() == "auto" else float(value)
            except ValueError:
                raise ValueError(f"{key}: {name.strip()} must be a number, got {value!r}") from None
        return cls(key, params, label.strip() or None)

    @property
    def info(self) -> OptimizerInfo:
        return REGISTRY[self.key]

    def coefficients(self, lr: np.ndarray) -> Coefficients:
        """The engine's per-step update for base rates ``lr`` of shape (T,).

        β3 = "auto" (calibrated during training) counts as 0 here: the gate is off while
        it calibrates, and the thresholds do not depend on β3 (η_t carries the gate)."""
        hp = {k: 0.0 if v == "auto" else v for k, v in self.hyperparams.items()}
        return self.info.coefficients(hp, np.asarray(lr, dtype=np.float64))

    @property
    def hyperparams(self) -> dict[str, float]:
        """Every hyperparameter, defaults filled in."""
        return {**self.info.defaults, **dict(self.params)}

    def __str__(self) -> str:
        args = ",".join(f"{k}={value_text(v)}" for k, v in self.params)
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
        args = ", ".join(f"{symbols[k]}={value_text(v)}" for k, v in self.params)
        return f"{self.info.name} ({args})"


# ----------------------------------------------------------------------------- torch side


def make_optimizer(spec: OptimizerSpec, params) -> Optimizer:
    """The torch optimizer of a spec: its record's torch twin with the spec's values."""
    return spec.info.torch_class(params, **spec.hyperparams)


def velocity_sq_norm(spec: OptimizerSpec, optimizer: Optimizer) -> Tensor | None:
    """‖v‖² of the optimizer's first moment / momentum buffer (VR: the gate's own norm).

    None for optimizers without a velocity (GD, RMSprop, Adagrad): the caller uses
    the gradient, as the 2-D engine does.
    """
    if spec.info.velocity_regularized:
        return optimizer.param_groups[0].get("velocity_sq_norm")
    name = spec.info.velocity_state
    parts = [
        s[name].detach().double().square().sum()
        for s in optimizer.state.values()
        if name is not None and s.get(name) is not None
    ]
    return torch.stack(parts).sum() if parts else None


def gate_activity_of(spec: OptimizerSpec, eta, lr=None) -> measures.GateActivity | None:
    """What the gate did over one run of ``spec`` (:func:`vradam.sim.measures.gate_activity`
    with the spec's α1), or None for an optimizer without the gate. ``eta``: η_t of each
    step (T,); ``lr``: the base rate at each step (T,) or a number, by default the spec's
    α0 (pass a schedule's rates when the run had one)."""
    info = spec.info
    if not info.velocity_regularized:
        return None
    hp = spec.hyperparams
    base = hp["lr"] if lr is None else lr
    return measures.gate_activity(eta, base, hp["alpha1"], ungated=info.ungated_name or info.name)


def preconditioner(spec: OptimizerSpec, optimizer: Optimizer, params) -> list[Tensor] | None:
    """P (one tensor per parameter) of an adaptive optimizer, or None if it has none (yet):
    √m̂ + ε with m̂ = m/(1 − β2^t) for the Adam family, √m + ε for RMSprop and Adagrad."""
    info, hp = spec.info, spec.hyperparams
    if info.precond_state is None:
        return None
    out = []
    for p in params:
        state = optimizer.state.get(p, {})
        if info.precond_state not in state:
            return None
        m = state[info.precond_state]
        if info.precond_bias_corrected:
            m = m / (1 - hp["beta2"] ** float(state["step"]))
        out.append((m.sqrt() + hp["eps"]).detach())
    return out


def stability_threshold(spec: OptimizerSpec, c: Coefficients, eta) -> np.ndarray:
    """The threshold of each update on the spec's compared sharpness, from its frozen
    coefficients ``c`` (tables of T steps) at rate ``eta`` (shape (T, …): η_t, the gated
    rate for the VR optimizers). NaN where the record has no threshold (Lion)."""
    eta = np.asarray(eta, dtype=np.float64)
    if spec.info.stability is None or c.sign:
        return np.full(eta.shape, np.nan)
    shape = (c.steps,) + (1,) * (eta.ndim - 1)
    c1, c2, a1, b1 = (getattr(c, name).reshape(shape) for name in ("c1", "c2", "a1", "b1"))
    return linear_threshold(eta, c1, c2, a1, b1)


def threshold_at(spec: OptimizerSpec, step: int, eta: float) -> float:
    """The threshold at update ``step`` (1, 2, …) of a run at rate ``eta`` (networks)."""
    if step < 1:
        raise ValueError(f"step must be ≥ 1, got {step}")
    c = spec.coefficients(np.full(int(step), float(eta)))
    return float(stability_threshold(spec, c, c.lr)[-1])
