"""One frontier study's settings (:class:`FrontierConfig`), the problems it runs on
(:data:`PROBLEMS`) and what makes two result rows the same run (:func:`run_key`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from vradam.sim import schedules
from vradam.sim.export import VERSION_KEYS
from vradam.sim.measures import GATE_COLUMNS

KINDS = ("lockstep", "landscape", "network")
MAX_SEEDS = 50
MAX_GRID = 16
MIN_SEEDS = 5  # the protocol's: fewer seeds are allowed, and the verdict says so
GATE_FIELDS = GATE_COLUMNS
VERSION_FIELDS = VERSION_KEYS
# One row per run: the run's identity (run_key), its measures, the gate, versions.
ROW_FIELDS = [
    "problem", "role", "optimizer", "label", "schedule", "lr", "beta3", "seed", "steps",
    "window_start", "oscillation", "final_loss", "metric", "metric_value", "diverged",
    "diverged_at", "dtype", "seconds", *GATE_FIELDS, *VERSION_FIELDS,
]  # fmt: skip
ROLES = ("baseline", "vr")  # the study's two arms: Adam/AdamW, and VRAdam


@dataclass(frozen=True)
class Problem:
    """One problem of the frontier: how it trains and its default grids.

    ``baseline`` and ``vradam`` are spec strings without α0 (and β3 for VRAdam): the grid
    sets them. ``final`` names what ``final_loss`` is; ``metric`` the task's own end metric
    (networks: the validation loss), empty where it is the final loss itself."""

    key: str
    name: str
    kind: str
    baseline: str
    vradam: str
    steps: int
    adam_lrs: tuple[float, ...]
    vradam_lrs: tuple[float, ...]
    beta3s: tuple[float, ...]
    final: str
    baseline_name: str = "Adam"  # how the sentences name the baseline
    oscillation_of: str = "the full-batch training loss before each update"
    metric: str = ""
    task: str = ""  # lockstep / network: the network task; landscape: unused
    small_adam: tuple[float, ...] = ()  # the --small run's subsets of the grids
    small_vradam: tuple[float, ...] = ()
    small_beta3s: tuple[float, ...] = ()


PROBLEMS: dict[str, Problem] = {
    p.key: p
    for p in (
        Problem(
            key="eos",
            name="Edge of stability MLP (teacher, full batch)",
            kind="lockstep",
            baseline="adam",
            vradam="vradam:weight_decay=0",
            steps=500,
            adam_lrs=(0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1),
            vradam_lrs=(0.01, 0.03, 0.05),
            beta3s=(1e2, 1e3, 1e4, 1e5),
            final="training loss (MSE) after the last update",
            task="teacher",
            small_adam=(0.01, 0.03),
            small_vradam=(0.03,),
            small_beta3s=(1e4,),
        ),
        Problem(
            key="quadratic",
            name="2-D rotated ravine (κ = 25, β₂ = 0.9)",
            kind="landscape",
            baseline="adam:beta2=0.9",
            vradam="vradam:beta2=0.9,weight_decay=0",
            steps=600,
            adam_lrs=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
            vradam_lrs=(0.02, 0.05, 0.1),
            beta3s=(0.01, 0.03, 0.1, 0.3, 1.0),
            final="f(θ_T), the loss after the last update (minimum 0)",
            small_adam=(0.02, 0.05),
            small_vradam=(0.05,),
            small_beta3s=(0.03,),
        ),
        Problem(
            key="moons",
            name="Two moons (MLP, full batch)",
            kind="network",
            baseline="adamw",
            vradam="vradam",
            steps=500,
            adam_lrs=(0.001, 0.003, 0.01, 0.03, 0.1),
            vradam_lrs=(0.01, 0.03),
            beta3s=(10.0, 86.0, 1e3, 1e4),
            final="training loss (cross-entropy, full training set) after the last update",
            baseline_name="AdamW",
            metric="val_loss",
            task="moons",
            small_adam=(0.01,),
            small_vradam=(0.01,),
            small_beta3s=(86.0,),
        ),
        Problem(
            key="digits",
            name="8×8 digits (CNN, batch 128)",
            kind="network",
            baseline="adamw",
            vradam="vradam",
            steps=300,
            adam_lrs=(0.0003, 0.001, 0.003, 0.01, 0.03),
            vradam_lrs=(0.003, 0.01),
            beta3s=(1.0, 5.9, 30.0, 300.0),
            final="training loss (cross-entropy, full training set) after the last update",
            baseline_name="AdamW",
            metric="val_loss",
            task="digits",
            oscillation_of="the batch loss of each update (the same batches for every run)",
            small_adam=(0.003,),
            small_vradam=(0.003,),
            small_beta3s=(5.9,),
        ),
    )
}


def round_value(x: float) -> float:
    """α0 and β3 to 6 significant digits: how rows match the grid."""
    return float(f"{x:.6g}")


def _positive(name: str, values: tuple[float, ...]) -> None:
    if not 1 <= len(values) <= MAX_GRID:
        raise ValueError(f"{name}: give between 1 and {MAX_GRID} values")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{name}: every value must be a positive number, got {values}")


@dataclass(frozen=True)
class FrontierConfig:
    """One frontier study: a problem, seeds, steps and the grids.

    VRAdam runs at every (α0, β3) of ``vradam_lrs`` × ``beta3s`` with each schedule of
    ``vradam_schedules``; the baseline (Adam or AdamW, the problem's) at every α0 of
    ``adam_lrs`` with each schedule of ``schedules``. None: the problem's default grid.
    Seeds ``seed`` … ``seed + seeds − 1``; every optimizer gets the same seeds (paired)."""

    problem: str = "eos"
    seeds: int = 5
    seed: int = 0
    steps: int | None = None
    adam_lrs: tuple[float, ...] | None = None
    vradam_lrs: tuple[float, ...] | None = None
    beta3s: tuple[float, ...] | None = None
    schedules: tuple[str, ...] = ("constant", "warmup_cosine")
    vradam_schedules: tuple[str, ...] = ("constant",)
    window_start: float = 0.5  # oscillation: from this fraction of the run to its end

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"unknown problem {self.problem!r}; valid: {', '.join(PROBLEMS)}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be between 1 and {MAX_SEEDS}, got {self.seeds}")
        if not 0 <= self.seed <= 2**31 - 1:
            raise ValueError(f"seed must be between 0 and 2**31 - 1, got {self.seed}")
        if not 10 <= self.n_steps <= 5000:
            raise ValueError(f"steps must be between 10 and 5000, got {self.n_steps}")
        for name in ("adam_lrs", "vradam_lrs", "beta3s"):
            _positive(name, self.grid(name))
        for name in ("schedules", "vradam_schedules"):
            chosen = getattr(self, name)
            if not chosen or any(s not in schedules.SCHEDULES for s in chosen):
                raise ValueError(f"{name}: choose from {', '.join(schedules.SCHEDULES)}")
        if not 0 <= self.window_start <= 0.9:
            raise ValueError("window_start must be in [0, 0.9] (a fraction of the run)")

    @classmethod
    def small(cls, problem: str, **changes) -> FrontierConfig:
        """The CI-sized run: 2 seeds and a few cells of the default grids (the same steps,
        so its rows equal the default run's rows of those cells)."""
        p = PROBLEMS[problem]
        values = dict(problem=problem, seeds=2, adam_lrs=p.small_adam,
                      vradam_lrs=p.small_vradam, beta3s=p.small_beta3s)  # fmt: skip
        return cls(**{**values, **changes})

    @property
    def spec(self) -> Problem:
        return PROBLEMS[self.problem]

    @property
    def n_steps(self) -> int:
        return self.steps if self.steps is not None else PROBLEMS[self.problem].steps

    @property
    def window(self) -> int:
        """The first step of the oscillation window (loss before update t+1 at t)."""
        return min(max(round(self.window_start * self.n_steps), 0), self.n_steps - 2)

    def grid(self, name: str) -> tuple[float, ...]:
        chosen = getattr(self, name)
        values = getattr(PROBLEMS[self.problem], name) if chosen is None else chosen
        return tuple(round_value(float(v)) for v in values)

    def seed_list(self) -> list[int]:
        return [self.seed + k for k in range(self.seeds)]

    def cells(self) -> list[dict]:
        """Every (role, optimizer, schedule, α0, β3) of the study, baseline first; β3 NaN
        for the baseline. ``spec``: the OptimizerSpec the run trains."""
        p, out = self.spec, []
        for schedule in self.schedules:
            for lr in self.grid("adam_lrs"):
                spec = _with(p.baseline, lr=lr)
                out.append(dict(role="baseline", optimizer=p.baseline, schedule=schedule,
                                lr=lr, beta3=math.nan, spec=spec))  # fmt: skip
        for schedule in self.vradam_schedules:
            for lr in self.grid("vradam_lrs"):
                for beta3 in self.grid("beta3s"):
                    spec = _with(p.vradam, lr=lr, beta3=beta3)
                    out.append(dict(role="vr", optimizer=p.vradam, schedule=schedule,
                                    lr=lr, beta3=beta3, spec=spec))  # fmt: skip
        return out

    def total_runs(self) -> int:
        return len(self.cells()) * self.seeds

    def run_keys(self) -> Iterator[tuple]:
        """The run key of every run, in the order they run (seed by seed)."""
        for seed in self.seed_list():
            for c in self.cells():
                yield run_key(dict(c, problem=self.problem, steps=self.n_steps, seed=seed,
                                   window_start=self.window))  # fmt: skip


def _with(text: str, **values: float):
    """The OptimizerSpec of ``text`` with ``values`` set (torch loads here, not on import:
    the CLI's parser lists the problems without it)."""
    from vradam.sim.optimizers import OptimizerSpec

    spec = OptimizerSpec.parse(text)
    return OptimizerSpec(spec.key, {**dict(spec.params), **values}, spec.label)


def _key_number(x) -> float:
    x = float(x) if x not in (None, "") else math.nan
    return math.nan if math.isnan(x) else round_value(x)


def run_key(row: dict) -> tuple:
    """What makes two rows the same run: problem, steps, window, optimizer, schedule, α0,
    β3 and seed (NaN β3 written as None so that keys compare equal)."""
    beta3 = _key_number(row.get("beta3"))
    return (str(row["problem"]), int(row["steps"]), int(row["window_start"]),
            str(row["optimizer"]), str(row["schedule"]), _key_number(row["lr"]),
            None if math.isnan(beta3) else beta3, int(row["seed"]))  # fmt: skip
