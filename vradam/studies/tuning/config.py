"""One tuning run's settings (:class:`TuneConfig`), its limits and the tasks left out."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vradam.studies.networks import get_task
from vradam.studies.training import MAX_STEPS
from vradam.studies.tuning.limits import (  # noqa: F401 (MAX_*, MIN_SEEDS, PROTOCOL, UNSUITABLE: here too)
    MAX_SEEDS,
    MAX_TRIALS,
    MIN_SEEDS,
    PROTOCOL,
    UNSUITABLE,
    check_numbers,
)
from vradam.studies.tuning.space import check_optimizer, fixed_values, search_space, widens


def check_task(task: str) -> None:
    """ValueError with the reason when ``task`` is left out of tuning (:data:`UNSUITABLE`)."""
    get_task(task)
    if task in UNSUITABLE:
        raise ValueError(f"task {task!r} is not tuned: {UNSUITABLE[task]}")


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class TuneConfig:
    task: str = "digits"
    optimizers: tuple[str, ...] = ("adamw", "vradam")  # registry keys, from TUNABLE
    trials: int = 8  # Optuna trials per optimizer (the budget)
    seeds: int = 5  # fresh seeds at each optimizer's best setting (the paired comparison's n)
    steps: int | None = None  # updates per training run; None: the task's own default_steps
    seed: int = 0  # the training seed of every trial; the evaluation uses seed + 1 …
    sampler_seed: int = 0  # the TPE sampler's seed, the same for every optimizer
    device: str = "auto"  # auto | cpu | cuda (not part of a study's identity)
    # optimizers that search α0 alone (space "lr": β3 = "auto", α1 at its default);
    # the others search their full space. Only optimizers with more than α0 are kept.
    lr_only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_numbers(trials=self.trials, seeds=self.seeds, steps=self.steps, seed=self.seed,
                      sampler_seed=self.sampler_seed, device=self.device)  # fmt: skip
        task = get_task(self.task)
        if self.steps is None:
            object.__setattr__(self, "steps", task.default_steps)
        if not self.optimizers:
            raise ValueError("choose at least one optimizer")
        for key in self.optimizers:
            check_optimizer(key)
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ValueError(f"an optimizer is listed twice: {', '.join(self.optimizers)}")
        stray = [o for o in self.lr_only if o not in self.optimizers]
        if stray:
            raise ValueError(f"a search space for {', '.join(stray)}, which is not tuned here")
        object.__setattr__(self, "lr_only", tuple(o for o in self.optimizers
                                                  if o in self.lr_only and widens(o)))  # fmt: skip
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")

    @property
    def metric(self) -> str:
        return get_task(self.task).metric

    def default_study(self) -> str:
        """A name that only these settings map to, so rerunning a command resumes it (and a
        run with another budget or search space is another study)."""
        narrowed = "".join(f"-{o}-lr" for o in self.lr_only)
        return (f"{self.task}-{self.steps}steps-{self.trials}trials-seed{self.seed}"
                f"-sampler{self.sampler_seed}{narrowed}")  # fmt: skip

    def eval_seeds(self) -> list[int]:
        return [self.seed + 1 + k for k in range(self.seeds)]

    def space(self, optimizer: str):
        """The ranges this run searches for ``optimizer`` (see :func:`search_space`)."""
        return search_space(optimizer, self.task, lr_only=optimizer in self.lr_only)

    def fixed(self, optimizer: str) -> dict[str, float]:
        """What this run holds fixed for ``optimizer`` (see :func:`fixed_values`)."""
        return fixed_values(optimizer, lr_only=optimizer in self.lr_only)

    def identity(self, optimizer: str) -> dict:
        """What every worker of a study must agree on (stored in the study's user attrs).
        A narrowed search adds what it holds fixed; a full one's identity is unchanged
        since the first version, so stored studies still join."""
        out = dict(
            protocol=PROTOCOL, task=self.task, optimizer=optimizer, steps=self.steps,
            seed=self.seed, sampler_seed=self.sampler_seed, metric=self.metric,
            space=[asdict(r) for r in self.space(optimizer)],
        )  # fmt: skip
        fixed = self.fixed(optimizer)
        if fixed:
            out["fixed"] = fixed
        return out
