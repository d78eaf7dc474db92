"""What the tuning protocol searches: each optimizer record's ranges around a task's suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from vradam.sim.optimizers import REGISTRY, OptimizerSpec, tunable
from vradam.studies.networks import Task, get_task

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


def search_space(optimizer: str, task: Task | str) -> tuple[Range, ...]:
    """What Optuna searches for ``optimizer`` on ``task``: each hyperparameter whose record
    has a ``search`` range, around the task's suggestion for it (its α0, its β3)."""
    task = get_task(task) if isinstance(task, str) else task
    check_optimizer(optimizer)
    suggestion = {"lr": task.default_lr, "beta3": task.default_beta3}
    return tuple(
        Range(hp.name, *hp.search(suggestion.get(hp.name, hp.default)))
        for hp in REGISTRY[optimizer].hyperparams
        if hp.search is not None
    )


def check_optimizer(key: str) -> None:
    keys = tunable()  # the registry now (a record registered after import included)
    if key not in keys:
        known = " (it is not one of the paper's baselines)" if key in REGISTRY else ""
        raise ValueError(f"cannot tune optimizer {key!r}{known}; choose from {', '.join(keys)}")


def _round(value: float) -> float:
    return float(f"{value:.{SIG_DIGITS}g}")


def spec_text(optimizer: str, params: dict[str, float]) -> str:
    """The optimizer spec a trial trains: its sampled values, rounded to 4 digits."""
    return str(OptimizerSpec(optimizer, {k: _round(v) for k, v in params.items()}))
