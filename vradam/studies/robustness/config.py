"""One robustness study's settings (:class:`RobustnessConfig`), the α0 grid, and what
makes two result rows the same run (:func:`run_key`, :data:`ROW_FIELDS`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

import landscapes
from vradam.sim.engine import MAX_STEPS as LANDSCAPE_MAX_STEPS
from vradam.sim.export import VERSION_KEYS
from vradam.sim.measures import GATE_COLUMNS
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.networks import get_task
from vradam.studies.training import MAX_STEPS

KINDS = ("network", "landscape")
GAP_FLOOR = 1e-6  # a landscape run's gap below 1e-6 × the start's gap counts as solved
START_JITTER = 0.05  # landscape seeds: the preset start moved by up to 5 % of the domain
MAX_POINTS = 41
MAX_SEEDS = 50
MAX_DECADES = 6.0
TOLERANCE = 0.10
MIN_SEEDS = 5  # the protocol's: fewer seeds are allowed, and the statement says so

GATE_FIELDS = GATE_COLUMNS
VERSION_FIELDS = VERSION_KEYS
# One row per run. The settings that make two runs the same run (run_key) are on every
# row with the run's own versions; the grid (anchor, decades, points) is not: a rerun
# with another grid reuses the α0 values the two grids share.
ROW_FIELDS = [
    "kind", "task", "metric", "optimizer", "label", "lr", "seed", "value", "diverged",
    "diverged_at", "steps", "batch_size", "noise_std", "device", "start_x", "start_y",
    "seconds", *GATE_FIELDS, *VERSION_FIELDS,
]  # fmt: skip


def round_lr(lr: float) -> float:
    """α0 to 6 significant digits: the grid's values, and how rows match them."""
    return float(f"{lr:.6g}")


def landscape_keys() -> tuple[str, ...]:
    """The 2-D presets a robustness run takes: every landscape with a known minimum value."""
    return tuple(k for k, ls in landscapes.REGISTRY.items() if ls.min_value is not None)


def without_lr(spec: OptimizerSpec) -> OptimizerSpec:
    """The spec with its α0 left to the grid (its other values and label kept)."""
    return OptimizerSpec(spec.key, {k: v for k, v in spec.params if k != "lr"}, spec.label)


def with_lr(spec: OptimizerSpec, lr: float) -> OptimizerSpec:
    return OptimizerSpec(spec.key, {**dict(spec.params), "lr": lr}, spec.label)


@dataclass(frozen=True)
class RobustnessConfig:
    """One robustness study: a problem, the optimizers, the α0 grid, seeds and steps.

    ``task``: a network task key (``kind="network"``) or a landscape key
    (``kind="landscape"``, one with a known minimum). ``optimizers``: spec strings whose α0
    the grid replaces (``()``: AdamW and VRAdam at the task's β3; on a landscape both without
    weight decay, at its suggested β3). The first AdamW is the reference of the paired
    differences (else the first optimizer).
    """

    task: str = "moons"
    kind: str = "network"
    optimizers: tuple[str, ...] = ()
    anchor: float | None = None  # None: the task's default_lr / the landscape's suggested_lr
    below: float = 1.0  # decades below the anchor
    above: float = 1.5  # decades above
    points: int = 11  # α0 values (11 over 2.5 decades: 4 a decade, the anchor among them)
    seeds: int = 5  # seeds seed, seed+1, …
    seed: int = 0
    steps: int | None = None  # None: the task's default_steps / suggested_steps
    batch_size: int | None = None  # networks: None is the task's default batch
    noise_std: float = 0.0  # landscapes: gradient noise (seeded like the start)
    device: str = "auto"
    tolerance: float = TOLERANCE  # the width's "within 10 % of the best mean"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be network or landscape, got {self.kind!r}")
        if self.kind == "network":
            get_task(self.task)
            if self.noise_std:
                raise ValueError("noise_std is for landscapes; a network's batches are its noise")
        elif self.task not in landscape_keys():
            raise ValueError(f"unknown landscape {self.task!r} (or one without a known "
                             f"minimum); valid: {', '.join(landscape_keys())}")  # fmt: skip
        if not 1 <= len(self.specs()) <= 8:
            raise ValueError("choose between 1 and 8 optimizers")
        if len({str(s) for s in self.specs()}) != len(self.specs()):
            raise ValueError("an optimizer is listed twice (the grid sets α0 for all)")
        if self.anchor is not None and not (math.isfinite(self.anchor) and self.anchor > 0):
            raise ValueError(f"the anchor α0 must be a positive number, got {self.anchor}")
        for name in ("below", "above"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= MAX_DECADES):
                raise ValueError(f"{name} must be between 0 and {MAX_DECADES:g} decades, "
                                 f"got {value}")  # fmt: skip
        if not 2 <= self.points <= MAX_POINTS:
            raise ValueError(f"points must be between 2 and {MAX_POINTS}, got {self.points}")
        if self.below + self.above <= 0:
            raise ValueError("the grid needs a range: below + above must be > 0 decades")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be between 1 and {MAX_SEEDS}, got {self.seeds}")
        if not 0 <= self.seed <= 2**31 - 1:
            raise ValueError(f"seed must be between 0 and 2**31 - 1, got {self.seed}")
        top = MAX_STEPS if self.kind == "network" else LANDSCAPE_MAX_STEPS
        if not 1 <= self.n_steps <= top:
            raise ValueError(f"steps must be between 1 and {top}, got {self.n_steps}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch size must be ≥ 1, got {self.batch_size}")
        if not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise ValueError(f"noise_std must be a finite number ≥ 0, got {self.noise_std}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if not 0 < self.tolerance <= 1:
            raise ValueError(f"tolerance must be in (0, 1], got {self.tolerance}")

    # -- what the settings resolve to

    def specs(self) -> list[OptimizerSpec]:
        """The optimizers without their α0 (the grid's)."""
        texts = self.optimizers or self.default_optimizers()
        return [without_lr(OptimizerSpec.parse(t)) for t in texts]

    def default_optimizers(self) -> tuple[str, ...]:
        if self.kind == "network":
            return ("adamw", f"vradam:beta3={get_task(self.task).default_beta3:g}")
        beta3 = landscapes.get(self.task).suggested_beta3
        return ("adamw:weight_decay=0", f"vradam:beta3={beta3:g},weight_decay=0")

    @property
    def reference(self) -> int:
        """The index of the paired differences' reference: the first optimizer the records
        name the tuning baseline (AdamW), else 0."""
        specs = self.specs()
        return next((i for i, s in enumerate(specs) if s.info.tuning and s.info.tuning.baseline), 0)

    @property
    def anchor_lr(self) -> float:
        if self.anchor is not None:
            return self.anchor
        if self.kind == "network":
            return get_task(self.task).default_lr
        return landscapes.get(self.task).suggested_lr

    @property
    def n_steps(self) -> int:
        if self.steps is not None:
            return self.steps
        if self.kind == "network":
            return get_task(self.task).default_steps
        return landscapes.get(self.task).suggested_steps

    @property
    def metric(self) -> str:
        return get_task(self.task).metric if self.kind == "network" else "final_gap"

    def lrs(self) -> np.ndarray:
        """The α0 grid (points,), ascending."""
        exponents = np.linspace(-self.below, self.above, self.points)
        return np.array([round_lr(self.anchor_lr * 10.0**e) for e in exponents])

    def seed_list(self) -> list[int]:
        return [self.seed + k for k in range(self.seeds)]

    def settings(self) -> dict:
        """The run settings every row carries (with the run's optimizer, α0 and seed)."""
        return dict(kind=self.kind, task=self.task, metric=self.metric, steps=self.n_steps,
                    batch_size=self.batch_size, noise_std=self.noise_std)  # fmt: skip

    def total_runs(self) -> int:
        return len(self.specs()) * self.points * self.seeds

    def run_keys(self) -> Iterator[tuple]:
        """The run key of every run of the study, in the order they run."""
        specs, settings = self.specs(), self.settings()
        for seed in self.seed_list():
            for lr in self.lrs():
                for spec in specs:
                    yield run_key({**settings, "optimizer": str(spec), "lr": lr, "seed": seed})


def run_key(row: dict) -> tuple:
    """What makes two rows the same run: the settings, the optimizer, α0 and the seed."""
    batch = row.get("batch_size")
    return (str(row["kind"]), str(row["task"]), str(row["metric"]), int(row["steps"]),
            None if batch in (None, "") else int(batch), float(row["noise_std"] or 0.0),
            str(row["optimizer"]), round_lr(float(row["lr"])), int(row["seed"]))  # fmt: skip
