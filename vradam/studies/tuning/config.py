"""One tuning run's settings (:class:`TuneConfig`) and its limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vradam.studies.networks import get_task
from vradam.studies.training import MAX_STEPS
from vradam.studies.tuning.space import check_optimizer, search_space

PROTOCOL = 1  # bump when what a trial means changes; studies of another protocol don't join
MAX_TRIALS = 1000
MAX_SEEDS = 50


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class TuneConfig:
    task: str = "digits"
    optimizers: tuple[str, ...] = ("adamw", "vradam")  # registry keys, from TUNABLE
    trials: int = 8  # Optuna trials per optimizer (the budget)
    seeds: int = 3  # fresh seeds at each optimizer's best setting
    steps: int = 200  # updates per training run
    seed: int = 0  # the training seed of every trial; the evaluation uses seed + 1 …
    sampler_seed: int = 0  # the TPE sampler's seed, the same for every optimizer
    device: str = "auto"  # auto | cpu | cuda (not part of a study's identity)

    def __post_init__(self) -> None:
        get_task(self.task)
        if not self.optimizers:
            raise ValueError("choose at least one optimizer")
        for key in self.optimizers:
            check_optimizer(key)
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ValueError(f"an optimizer is listed twice: {', '.join(self.optimizers)}")
        if not 1 <= self.trials <= MAX_TRIALS:
            raise ValueError(f"trials must be between 1 and {MAX_TRIALS}, got {self.trials}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be between 1 and {MAX_SEEDS}, got {self.seeds}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
        if self.seed < 0 or self.sampler_seed < 0:
            raise ValueError("seed and sampler seed must be ≥ 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")

    @property
    def metric(self) -> str:
        return get_task(self.task).metric

    def default_study(self) -> str:
        """A name that only these settings map to, so rerunning a command resumes it."""
        return f"{self.task}-{self.steps}steps-seed{self.seed}-sampler{self.sampler_seed}"

    def eval_seeds(self) -> list[int]:
        return [self.seed + 1 + k for k in range(self.seeds)]

    def identity(self, optimizer: str) -> dict:
        """What every worker of a study must agree on (stored in the study's user attrs)."""
        return dict(
            protocol=PROTOCOL, task=self.task, optimizer=optimizer, steps=self.steps,
            seed=self.seed, sampler_seed=self.sampler_seed, metric=self.metric,
            space=[asdict(r) for r in search_space(optimizer, self.task)],
        )  # fmt: skip
