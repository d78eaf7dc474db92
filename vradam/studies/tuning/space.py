"""What the tuning protocol searches: each optimizer record's ranges around a task's suggestions.

Two search spaces per optimizer (``SPACES``): ``full``, every hyperparameter whose record
has a ``search`` range (VRAdam: α0, β3, α1), and ``lr``, α0 alone with the others held, so
that every optimizer searches one dimension and a comparison on equal budgets is also one on
equal dimensions. A held hyperparameter that can calibrate itself (``HyperParam.auto``:
VRAdam's β3) is held at "auto", so it is no searched choice at all; the others at the
record's default (α1).
"""

from __future__ import annotations

from dataclasses import dataclass

from vradam.sim.optimizers import REGISTRY, OptimizerSpec, tunable
from vradam.studies.networks import Task, get_task
from vradam.studies.tuning.limits import SPACES, untunable  # noqa: F401 (SPACES here too)

# The paper's baselines (Table 1 and Lion): the records with tuning facts, the baseline
# first, the others in registry order.
TUNABLE = tunable()
SIG_DIGITS = 4  # sampled values are rounded to 4 significant digits before training


# ----------------------------------------------------------------------------- search spaces


@dataclass(frozen=True)
class Range:
    """One searched hyperparameter: Optuna's ``suggest_float(name, low, high, log=log)``."""

    name: str
    low: float
    high: float
    log: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"{self.name}: need 0 < low < high, got {self.low}, {self.high}")


def _suggestions(task: Task) -> dict[str, float]:
    """The task's own values for the hyperparameters it suggests (its α0, its β3)."""
    return {"lr": task.default_lr, "beta3": task.default_beta3}


def search_space(optimizer: str, task: Task | str, lr_only: bool = False) -> tuple[Range, ...]:
    """What Optuna searches for ``optimizer`` on ``task``: each hyperparameter whose record
    has a ``search`` range, around the task's suggestion for it (its α0, its β3); with
    ``lr_only``, α0's range alone (see :func:`fixed_values` for the others)."""
    task = get_task(task) if isinstance(task, str) else task
    check_optimizer(optimizer)
    suggestion = _suggestions(task)
    return tuple(
        Range(hp.name, *hp.search(suggestion.get(hp.name, hp.default)))
        for hp in REGISTRY[optimizer].hyperparams
        if hp.search is not None and (hp.name == "lr" or not lr_only)
    )


def fixed_values(optimizer: str, lr_only: bool = False) -> dict[str, float | str]:
    """The searchable hyperparameters that a ``lr_only`` search holds fixed: "auto" where the
    record calibrates it (β3), else the record's default (α1); {} for a full search."""
    if not lr_only:
        return {}
    return {hp.name: "auto" if hp.auto else float(hp.default)
            for hp in REGISTRY[optimizer].hyperparams
            if hp.search is not None and hp.name != "lr"}  # fmt: skip


def held_value(value: float | str) -> str:
    """A held value as the spec writes it: "auto", or a number in %g."""
    return value if isinstance(value, str) else f"{value:g}"


def held_text(fixed: dict[str, float | str]) -> str:
    """ "beta3=auto alpha1=10": what a narrowed search holds fixed."""
    return " ".join(f"{k}={held_value(v)}" for k, v in fixed.items())


def widens(optimizer: str) -> bool:
    """Whether the optimizer's full search has more than α0 (so ``lr`` narrows it)."""
    return any(hp.search is not None and hp.name != "lr" for hp in REGISTRY[optimizer].hyperparams)


def baseline() -> str:
    """The record every other optimizer is compared with (``Tuning(baseline=True)``)."""
    return next(k for k in tunable() if REGISTRY[k].tuning.baseline)


def symbols(optimizer: str, names) -> str:
    """ "α₀, β₃, α₁": the record's symbols for hyperparameter names."""
    info = REGISTRY[optimizer]
    return ", ".join(info.param(n).symbol for n in names)


def check_optimizer(key: str) -> None:
    keys = tunable()  # the registry now (a record registered after import included)
    if key not in keys:
        raise ValueError(untunable(key, keys, REGISTRY))


def _round(value: float) -> float:
    return float(f"{value:.{SIG_DIGITS}g}")


def spec_text(
    optimizer: str, params: dict[str, float], fixed: dict[str, float] | None = None
) -> str:
    """The optimizer spec a trial trains: its sampled values, rounded to 4 digits, and the
    values a narrowed search holds fixed."""
    return str(OptimizerSpec(optimizer, {**(fixed or {}),
                                         **{k: _round(v) for k, v in params.items()}}))  # fmt: skip
