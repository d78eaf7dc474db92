"""Fair tuning: the same Optuna budget for every optimizer, then seeds at each one's best.

The protocol, as the paper's (equal-budget tuning, then several seeds at the tuned setting):

1. One Optuna study per (run, optimizer), named ``{study}-{optimizer}``, in one storage.
   Every optimizer gets the same number of trials, a TPE sampler with the same seed, and
   the same training seed (``seed``: the same data split, initial weights and batches).
   A trial trains the task for ``steps`` updates and reports the task's metric
   (``Task.metric``, e.g. ``val_loss``; lower is better).
2. A trial that diverges (a non-finite loss, weights or metric) is recorded as FAILED with
   ``user_attrs["outcome"] == "diverged"`` and its reason in ``user_attrs["reason"]``;
   the study goes on. It counts toward the budget: the setting was tried.
3. Each optimizer's best setting then trains on ``seeds`` fresh seeds (``seed + 1`` …,
   the same for every optimizer); the table reports the metric's mean ± the half-width of
   its 95 % t-interval, beside the paper's Table 1 (other models and data).

Search spaces (:func:`search_space`). The paper gives its tuned CIFAR-10 values (α0 = 0.0846,
β1 = 0.9, β2 = 0.999, β3 = 1.015, α1 = 29 for VRAdam) but no sweep ranges, so the ranges
here are this project's choice: log-uniform, wide enough to hold both the paper's values
and the task's own defaults (``Task.default_lr``, ``Task.default_beta3``). β3 is not scale
invariant (‖v‖² grows with the loss scale and the parameter count), so it is searched
around the task's β3, ×[0.01, 100]. β1, β2, ε, weight decay and momentum stay at each
optimizer's defaults (the paper's β1, β2; AdamW's and VRAdam's weight decay 0.01).

Many workers: a study lives in a storage URL (default: a SQLite file in the user's data
directory, :func:`default_storage_url`); any number of processes, on one machine or many
(PostgreSQL: ``postgresql+psycopg://user@host/db``), run :func:`tune` with the same
settings and study name and share the budget. Each trial checks, when it starts, the
trials already evaluated plus those still running with a smaller trial number (Optuna
numbers trials atomically), so the budget holds exactly without a scheduler; a trial
over budget is pruned before it trains. A worker killed mid-trial loses only that trial:
its heartbeat stops, it is marked FAILED without an outcome (not counted) and another
trial takes its place. The TPE sampler is seeded per trial from (sampler seed, trial
number), so one worker reproduces a study exactly, a resumed worker does not repeat the
settings already tried, and concurrent workers propose different ones.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import optuna
import sqlalchemy.exc
from optuna.samplers import BaseSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.engine import make_url

from vradam.sim.optimizers import REGISTRY, OptimizerSpec
from vradam.studies.networks import TASKS, Task, get_task
from vradam.studies.threads import one_thread
from vradam.studies.training import MAX_STEPS, TrainConfig, resolve_device, train_steps

__all__ = [
    "PAPER_TABLE1",
    "TUNABLE",
    "Progress",
    "Range",
    "ResultRow",
    "TuneConfig",
    "default_storage_url",
    "evaluated_trials",
    "list_runs",
    "load_run",
    "make_objective",
    "open_storage",
    "open_studies",
    "paper_rows",
    "results_table",
    "search_space",
    "t_interval",
    "tune",
]

# The paper's baselines (Table 1 and Lion), by registry key.
TUNABLE = ("adamw", "nesterov", "rmsprop", "radam", "lion", "vradam")
PAPER_ALPHA0 = 0.0846  # the paper's tuned CIFAR-10 values for VRAdam
PAPER_BETA3 = 1.015
PAPER_ALPHA1 = 29.0
PROTOCOL = 1  # bump when what a trial means changes; studies of another protocol don't join

ENV_STORAGE = "VRADAM_STORAGE"  # a storage URL that replaces the default (tests, servers)
ENV_HEARTBEAT = "VRADAM_HEARTBEAT"  # "interval,grace" in seconds (tests shorten them)
HEARTBEAT = (5, 30)  # a worker pings every 5 s; after 30 s of silence its trial has failed
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # which process ran a trial
MAX_TRIALS = 1000
MAX_SEEDS = 50
SIG_DIGITS = 4  # sampled values are rounded to 4 significant digits before training


# ----------------------------------------------------------------------------- the paper


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's Table 1: "validation / test" loss per optimizer, as printed."""

    setting: str
    task: str | None  # our task in the same family, if any
    values: dict[str, str]


PAPER_TABLE1 = (
    PaperRow("WikiText-2 language modelling (transformer)", "lm", {
        "vradam": "5.99 / 6.00", "adamw": "6.47 / 6.50", "radam": "7.51 / 7.55",
        "nesterov": "NaN", "rmsprop": "NaN"}),
    PaperRow("CIFAR-10 classification (ResNet)", "digits", {
        "vradam": "0.476 / 0.469", "adamw": "0.522 / 0.565", "radam": "2.300 / 4.005",
        "nesterov": "0.625 / 0.620", "rmsprop": "0.801 / 0.813"}),
    PaperRow("GridWorld GFlowNet flow matching", "gflownet", {
        "vradam": "1.25 / 1.33", "adamw": "2.41 / 3.60", "radam": "1.41 / 2.29",
        "nesterov": "2.71 / 2.61", "rmsprop": "25.0 / 25.0"}),
)  # fmt: skip
PAPER_NAMES = {"vradam": "VRAdam", "adamw": "AdamW", "radam": "RAdam",
               "nesterov": "SGD+Nesterov", "rmsprop": "RMSProp"}  # fmt: skip
PAPER_NOTE = (
    "The paper's Table 1 (validation / test loss; NaN = diverged) used other models and data "
    "(ResNet on CIFAR-10, a transformer on WikiText-2, a GFlowNet on a larger grid): compare "
    "the ranking, not the numbers."
)


def paper_row(task: str) -> PaperRow | None:
    """The paper's row for the same family as ``task`` (e.g. digits ↔ CIFAR-10), if any."""
    return next((r for r in PAPER_TABLE1 if r.task == task), None)


def paper_rows() -> list[dict]:
    """The paper's Table 1 as rows of text: setting, then 'val / test' per optimizer."""
    rows = []
    for r in PAPER_TABLE1:
        row = {"setting (the paper's)": r.setting}
        row.update({name: r.values[key] for key, name in PAPER_NAMES.items()})
        rows.append(row)
    return rows


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


def _lr_range(key: str, d: float) -> Range:
    """α0's range from the task's Adam rate ``d``; Adam's kin also hold the paper's α0."""
    if key == "nesterov":  # SGD rates are larger than Adam's
        return Range("lr", min(1e-3, d / 3), max(1.0, 100 * d))
    if key == "rmsprop":
        return Range("lr", min(1e-5, d / 100), max(0.1, 10 * d))
    if key == "lion":  # Lion's rate is 3–10× below AdamW's (Chen et al. 2023)
        return Range("lr", min(1e-5, d / 100), max(0.03, 3 * d))
    return Range("lr", min(1e-4, d / 10), max(0.3, 10 * d))  # adamw, radam, vradam


def search_space(optimizer: str, task: Task | str) -> tuple[Range, ...]:
    """What Optuna searches for ``optimizer`` on ``task`` (see the module docstring)."""
    task = get_task(task) if isinstance(task, str) else task
    check_optimizer(optimizer)
    space = [_lr_range(optimizer, task.default_lr)]
    if optimizer == "vradam":
        b3 = task.default_beta3
        space += [
            Range("beta3", min(b3 / 100, PAPER_BETA3 / 2), max(b3 * 100, 2 * PAPER_BETA3)),
            Range("alpha1", 1.0, 100.0),  # holds the default 10 and the paper's 29
        ]
    return tuple(space)


def check_optimizer(key: str) -> None:
    if key not in TUNABLE:
        known = " (it is not one of the paper's baselines)" if key in REGISTRY else ""
        raise ValueError(f"cannot tune optimizer {key!r}{known}; choose from {', '.join(TUNABLE)}")


def _round(value: float) -> float:
    return float(f"{value:.{SIG_DIGITS}g}")


def spec_text(optimizer: str, params: dict[str, float]) -> str:
    """The optimizer spec a trial trains: its sampled values, rounded to 4 digits."""
    return str(OptimizerSpec(optimizer, {k: _round(v) for k, v in params.items()}))


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


# ----------------------------------------------------------------------------- storage


def data_dir() -> Path:
    """``$XDG_DATA_HOME/vradam`` (default ``~/.local/share/vradam``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vradam"


def default_storage_url() -> str:
    """``$VRADAM_STORAGE`` if set, else a SQLite file in :func:`data_dir`."""
    return os.environ.get(ENV_STORAGE) or f"sqlite:///{data_dir() / 'studies.db'}"


def redact(url: str) -> str:
    """The URL without its password (for messages and the JSON)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def normalise_url(url: str) -> str:
    """Check a storage URL; ``postgresql://`` means psycopg 3 (``postgresql+psycopg://``)."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("empty storage URL; expected e.g. sqlite:///studies.db")
    try:
        parsed = make_url(url.strip())
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f"bad storage URL {url!r}: expected sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported storage URL {redact(url)!r}: use sqlite or postgresql")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError("a sqlite storage needs a file: sqlite:///PATH (in memory is per process)")
    if backend == "sqlite":
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    return parsed.render_as_string(hide_password=False)


def _heartbeat() -> tuple[int, int]:
    text = os.environ.get(ENV_HEARTBEAT)
    if not text:
        return HEARTBEAT
    interval, grace = (int(x) for x in text.split(","))
    return interval, grace


def open_storage(url: str | None = None, *, create: bool = True) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage with heartbeats; ValueError in one line when it cannot be used.

    ``create=False`` does not create a missing SQLite file (for listing studies).
    """
    url = normalise_url(url or default_storage_url())
    parsed = make_url(url)
    connect_args: dict = {}
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database).expanduser()
        if not create and not path.exists():
            raise FileNotFoundError(f"no storage file at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create the storage's folder {path.parent}: {exc}") from None
        connect_args["timeout"] = 60  # seconds a writer waits for another's lock
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 10
    interval, grace = _heartbeat()
    last: Exception | None = None
    for attempt in range(3):  # workers starting together may race to create the tables
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs={"connect_args": connect_args},
                    heartbeat_interval=interval, grace_period=grace,
                )  # fmt: skip
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"the database driver {exc.name!r} for {redact(url)} is not installed "
                "(PostgreSQL: pip install 'psycopg[binary]', URL postgresql+psycopg://…)"
            ) from None
        except sqlalchemy.exc.OperationalError as exc:
            last = exc
            if any(m in str(exc) for m in ("resolve host", "translate host", "refused")):
                break
        except sqlalchemy.exc.SQLAlchemyError as exc:
            last = exc
        time.sleep(0.5 * (attempt + 1))
    first = str(getattr(last, "orig", None) or last).strip().splitlines()[0]
    raise ValueError(f"cannot use the storage {redact(url)}: {first}")


# ----------------------------------------------------------------------------- the sampler


class TrialSeededTPE(BaseSampler):
    """TPE whose random state is seeded by (seed, trial number) for every trial.

    One process reproduces a study exactly; a resumed study does not replay the first
    trials' random draws; concurrent workers (each with the same seed) draw differently.
    TPE keeps no other state between trials: it reads the history from the storage.
    """

    def __init__(self, seed: int, n_startup_trials: int) -> None:
        self.seed = seed
        self.n_startup_trials = n_startup_trials
        self._samplers: dict[int, TPESampler] = {}

    def _for(self, trial: FrozenTrial) -> TPESampler:
        sampler = self._samplers.get(trial.number)
        if sampler is None:
            state = np.random.SeedSequence([self.seed, trial.number]).generate_state(1)[0]
            sampler = TPESampler(seed=int(state), n_startup_trials=self.n_startup_trials,
                                 multivariate=True, constant_liar=True)  # fmt: skip
            self._samplers[trial.number] = sampler
        return sampler

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._for(trial).after_trial(study, trial, state, values)
        self._samplers.pop(trial.number, None)

    def reseed_rng(self) -> None:  # the seed is per trial already
        pass


def startup_trials(trials: int) -> int:
    """Random trials before TPE models the history: half the budget, at most 10."""
    return max(1, min(10, trials // 2))


# ----------------------------------------------------------------------------- training runs


@dataclass(frozen=True)
class RunOutcome:
    value: float | None  # the metric; None when the run diverged
    reason: str  # "" or why it diverged
    seconds: float


def train_once(
    task: str, spec: str, steps: int, seed: int, device: str,
    on_step: Callable[[int], None] | None = None,
) -> RunOutcome:  # fmt: skip
    """One training run of one optimizer: the task's metric at the end, or why it diverged."""
    metric = get_task(task).metric
    config = TrainConfig(task=task, optimizers=(spec,), steps=steps, seed=seed, device=device,
                         sharpness_every=0, eval_every=steps)  # fmt: skip
    start = time.perf_counter()
    last: dict = {}
    diverged_at = None
    every = max(1, steps // 20)
    with one_thread():  # also makes the numbers independent of the machine's core count
        for record in train_steps(config):
            if "val_loss" in record or metric in record or record.get("diverged"):
                last = record
            if record.get("diverged") and diverged_at is None:
                diverged_at = record["step"]
            if on_step is not None and record["step"] % every == 0:
                on_step(record["step"])
    seconds = time.perf_counter() - start
    if last.get("diverged"):
        where = f" at step {diverged_at}" if diverged_at is not None else ""
        return RunOutcome(None, f"diverged{where}: non-finite loss or weights", seconds)
    if metric not in last:
        raise ValueError(f"task {task!r} reports no {metric!r} in its final record")
    value = float(last[metric])
    if not math.isfinite(value):
        return RunOutcome(None, f"diverged: {metric} is {value}", seconds)
    return RunOutcome(value, "", seconds)


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    """What a worker is doing, for progress bars (``done`` of ``total`` training runs)."""

    phase: str  # "tune" | "wait" | "seeds" | "done"
    done: float  # runs finished (fractional within the current run)
    total: int
    optimizer: str = ""
    text: str = ""


# ----------------------------------------------------------------------------- trials


def evaluated_trials(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """The trials that spent budget: completed, or failed because the setting diverged."""
    return [t for t in trials if t.state == TrialState.COMPLETE or _diverged(t)]


def _diverged(t: FrozenTrial) -> bool:
    return t.state == TrialState.FAIL and t.user_attrs.get("outcome") == "diverged"


def _reserved(study: optuna.Study, before: int | None = None) -> int:
    """Evaluated trials, plus running ones (numbered below ``before``, if given)."""
    trials = study.get_trials(deepcopy=False)
    running = [t for t in trials if t.state == TrialState.RUNNING
               and (before is None or t.number < before)]  # fmt: skip
    return len(evaluated_trials(trials)) + len(running)


def _running(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def make_objective(
    config: TuneConfig, optimizer: str, on_step: Callable[[int], None] | None = None
):
    """The Optuna objective of one optimizer's study (see the module docstring)."""
    space = search_space(optimizer, config.task)
    device = str(resolve_device(config.device))

    def objective(trial: optuna.Trial) -> float:
        if _reserved(trial.study, before=trial.number) >= config.trials:
            trial.set_user_attr("outcome", "over budget")
            raise optuna.TrialPruned("over budget: other workers hold the remaining trials")
        params = {r.name: trial.suggest_float(r.name, r.low, r.high, log=r.log) for r in space}
        spec = spec_text(optimizer, params)
        trial.set_user_attr("spec", spec)
        trial.set_user_attr("device", device)
        trial.set_user_attr("worker", WORKER)
        try:
            run = train_once(config.task, spec, config.steps, config.seed, config.device,
                             on_step)  # fmt: skip
        except BaseException as exc:
            # Ctrl+C, the app's Stop (a BaseException that Optuna lets through) or a bug: the
            # trial did not evaluate its setting, so it is FAILED without the diverged outcome
            # and does not count toward the budget.
            trial.set_user_attr("outcome", "error" if isinstance(exc, Exception) else "interrupted")
            trial.set_user_attr("reason", f"{type(exc).__name__}: {exc}"[:300])
            if not isinstance(exc, Exception | KeyboardInterrupt):
                trial.study.tell(trial, state=TrialState.FAIL)
            raise
        trial.set_user_attr("seconds", round(run.seconds, 3))
        if run.value is None:
            trial.set_user_attr("outcome", "diverged")
            trial.set_user_attr("reason", run.reason)
            return math.nan  # Optuna records a NaN value as FAILED
        trial.set_user_attr("outcome", "complete")
        return run.value

    return objective


# ----------------------------------------------------------------------------- studies


def _as_storage(storage: str | optuna.storages.BaseStorage | None):
    """A storage already open, or :func:`open_storage` of a URL (None: the default)."""
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    return open_storage(storage)


def study_name(base: str, optimizer: str) -> str:
    return f"{base}-{optimizer}"


def open_studies(
    config: TuneConfig,
    storage: str | optuna.storages.BaseStorage | None = None,
    study: str | None = None,
) -> dict[str, optuna.Study]:
    """Each optimizer's study ``{study}-{optimizer}``, created or joined (same settings);
    ``storage`` is a URL (see :func:`open_storage`) or a storage already open."""
    store = _as_storage(storage)
    base = study or config.default_study()
    return {o: _open_study(store, study_name(base, o), config, o) for o in config.optimizers}


def _open_study(storage, name: str, config: TuneConfig, optimizer: str) -> optuna.Study:
    sampler = TrialSeededTPE(config.sampler_seed, startup_trials(config.trials))
    study = optuna.create_study(storage=storage, sampler=sampler, study_name=name,
                                direction="minimize", load_if_exists=True)  # fmt: skip
    wanted = config.identity(optimizer)
    have = study.user_attrs.get("vradam")
    if have is None:
        study.set_user_attr("vradam", wanted)
        study.set_user_attr("group", name[: -len(optimizer) - 1])
    elif have != wanted:
        diff = [f"{k} {have.get(k)!r} ≠ {v!r}" for k, v in wanted.items() if have.get(k) != v]
        raise ValueError(f"study {name!r} exists with other settings ({'; '.join(diff)}); "
                         "choose another --study name")  # fmt: skip
    if study.user_attrs.get("budget") != [config.trials, config.seeds]:
        study.set_user_attr("budget", [config.trials, config.seeds])  # the latest run's
    return study


def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)


def tune(
    config: TuneConfig,
    storage: str | optuna.storages.BaseStorage | None = None,
    study: str | None = None,
    *,
    join: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    poll: float = 1.0,
) -> list[ResultRow] | None:
    """Run the protocol; return the results table (None for a ``join`` worker).

    Trials go round-robin over the optimizers, one at a time, until each study holds
    ``config.trials`` evaluated trials. A ``join`` worker then stops; the others wait for
    trials still running in other workers (a dead worker's trial fails after its
    heartbeat's grace period), then evaluate each best setting on the seeds (cached in the
    study, so a second worker or a rerun reuses them) and build the table.
    """
    _quiet_optuna()
    store = _as_storage(storage)
    studies = open_studies(config, store, study)
    nudged: set[tuple[str, int]] = set()
    K = len(config.optimizers)
    total = K * (config.trials + (0 if join else config.seeds))
    report = on_progress or (lambda p: None)

    def tuned() -> int:
        return sum(min(len(evaluated_trials(s.get_trials(deepcopy=False))), config.trials)
                   for s in studies.values())  # fmt: skip

    while True:
        while True:  # round robin until every budget is taken
            open_ = [o for o in config.optimizers if _reserved(studies[o]) < config.trials]
            if not open_:
                break
            for o in open_:
                done = tuned()
                k = len(evaluated_trials(studies[o].get_trials(deepcopy=False))) + 1
                text = f"{REGISTRY[o].name}: trial {k} of {config.trials}, step"

                def on_step(step, o=o, done=done, text=text):
                    report(Progress("tune", done + step / config.steps, total, o,
                                    f"{text} {step}/{config.steps}"))  # fmt: skip

                objective = make_objective(config, o, on_step)
                studies[o].optimize(objective, n_trials=1, catch=())
        if join:
            report(Progress("done", tuned(), total, text="this worker's share is done"))
            return None
        running = sum(_running(s) for s in studies.values())
        if running == 0 and all(_reserved(s) >= config.trials for s in studies.values()):
            break
        report(Progress("wait", tuned(), total,
                        text=f"waiting for {running} trial(s) of other workers"))  # fmt: skip
        for s in studies.values():
            fail_stale_trials(s, store, nudged)
        time.sleep(poll)

    evaluations: dict[str, dict[int, float | None]] = {}
    for k, o in enumerate(config.optimizers):
        first = K * config.trials + k * config.seeds

        def on_step(i, step, o=o, first=first):
            text = (f"{REGISTRY[o].name} at its best setting: seed {i + 1} of {config.seeds}, "
                    f"step {step}/{config.steps}")  # fmt: skip
            report(Progress("seeds", first + i + step / config.steps, total, o, text))

        evaluations[o] = evaluate_best(studies[o], config, o, on_step)
    rows = results_table(config, studies, evaluations)
    report(Progress("done", total, total, text="done"))
    return rows


def fail_stale_trials(
    study: optuna.Study, storage: optuna.storages.BaseStorage, nudged: set[tuple[str, int]]
) -> None:
    """Optuna's ``fail_stale_trials``, and one heartbeat for a running trial that has none.

    Optuna judges a trial stale by its last heartbeat. A worker killed after creating its
    trial but before its heartbeat thread's first ping leaves a RUNNING trial with no
    heartbeat at all, which never goes stale, and every other worker would wait for it
    forever. So each running trial older than the grace period gets one heartbeat from this
    worker (``nudged`` remembers which): a live worker's own pings keep its trial alive as
    before, and a dead worker's trial goes stale one grace period later.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    grace = _heartbeat()[1]
    now = datetime.datetime.now()
    study_id = None
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        key = (study.study_name, t.number)
        started = t.datetime_start
        if key in nudged or started is None or (now - started).total_seconds() < grace:
            continue
        if study_id is None:
            study_id = storage.get_study_id_from_name(study.study_name)
        storage.record_heartbeat(
            storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        )
        nudged.add(key)


def best_trial(trials: Iterable[FrozenTrial], budget: int) -> FrozenTrial | None:
    """The lowest metric among the first ``budget`` evaluated trials (ties: the earlier)."""
    counted = sorted(evaluated_trials(trials), key=lambda t: t.number)[:budget]
    complete = [t for t in counted if t.state == TrialState.COMPLETE]
    return min(complete, key=lambda t: (t.value, t.number), default=None)


def evaluate_best(
    study: optuna.Study, config: TuneConfig, optimizer: str,
    on_step: Callable[[int, int], None] | None = None,
) -> dict[int, float | None]:  # fmt: skip
    """The best setting's metric on each evaluation seed (None: diverged), {} if none.

    Runs are stored in the study's user attrs as they finish (``evaluation``: the spec and
    [seed, value, reason] per run), so a rerun, another worker or more seeds reuse them.
    Workers evaluating at the same time each merge what the others stored before writing
    (a run is deterministic, so two workers' runs of one seed agree), and the returned
    values are this worker's own, whatever a slower worker writes afterwards.
    """
    best = best_trial(study.get_trials(deepcopy=False), config.trials)
    if best is None:
        return {}
    spec = best.user_attrs["spec"]
    runs: dict[int, list] = {}
    for i, seed in enumerate(config.eval_seeds()):
        runs = {**_stored_runs(study, spec), **runs}  # what other workers stored meanwhile
        if seed in runs:
            continue
        tick = None if on_step is None else (lambda step, i=i: on_step(i, step))
        run = train_once(config.task, spec, config.steps, seed, config.device, tick)
        runs = {**_stored_runs(study, spec), **runs, seed: [seed, run.value, run.reason]}
        study.set_user_attr("evaluation", dict(spec=spec, trial=best.number,
                                               runs=[runs[k] for k in sorted(runs)]))  # fmt: skip
    return {seed: runs[seed][1] for seed in config.eval_seeds()}


def _stored_runs(study: optuna.Study, spec: str | None) -> dict[int, list]:
    """seed → [seed, value, reason] of the runs stored for ``spec`` (read afresh)."""
    cached = study.user_attrs.get("evaluation") or {}
    if cached.get("spec") != spec:
        return {}
    return {run[0]: list(run) for run in cached.get("runs", [])}


def evaluation(study: optuna.Study, config: TuneConfig) -> dict[int, float | None]:
    """The stored seed runs of the best setting (only the seeds of ``config``)."""
    best = best_trial(study.get_trials(deepcopy=False), config.trials)
    if best is None:
        return {}
    runs = _stored_runs(study, best.user_attrs.get("spec"))
    return {s: runs[s][1] for s in config.eval_seeds() if s in runs}


# ----------------------------------------------------------------------------- results


def t_interval(values: list[float]) -> tuple[float, float]:
    """(mean, half-width of the 95 % Student t interval); half-width NaN for one value."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    from scipy.special import stdtrit  # Student's t quantile (lighter than scipy.stats)

    half = stdtrit(x.size - 1, 0.975) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


@dataclass(frozen=True)
class ResultRow:
    task: str
    optimizer: str  # registry key
    name: str  # e.g. "VRAdam"
    metric: str
    trials: int  # evaluated trials (the budget when complete)
    diverged_trials: int
    best_trial: int | None
    best_value: float  # the metric of the best trial (tuning seed)
    spec: str  # the best setting ("" when every trial diverged)
    seeds: tuple[int, ...]
    values: tuple[float | None, ...]  # the metric per seed (None: diverged)
    mean: float
    ci95: float  # half-width of the 95 % t-interval
    diverged_seeds: int
    paper: str  # the paper's Table 1 entry for this optimizer in the same family, or ""
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seeds"], out["values"] = list(self.seeds), list(self.values)
        return out


def results_table(
    config: TuneConfig, studies: dict[str, optuna.Study],
    evaluations: dict[str, dict[int, float | None]] | None = None,
) -> list[ResultRow]:  # fmt: skip
    """One row per optimizer from the studies (seed results where evaluated, else NaN).

    ``evaluations`` (optimizer → seed → value, as :func:`evaluate_best` returns) takes the
    place of the stored runs, which another worker may be rewriting.
    """
    rows = []
    prow = paper_row(config.task)
    for o in config.optimizers:
        trials = studies[o].get_trials(deepcopy=False)
        counted = sorted(evaluated_trials(trials), key=lambda t: t.number)[: config.trials]
        best = best_trial(trials, config.trials)
        ev = (evaluations or {}).get(o) or evaluation(studies[o], config)
        values = tuple(ev.values())
        mean, half = t_interval([v for v in values if v is not None])
        paper = prow.values.get(o, "") if prow is not None else ""
        rows.append(ResultRow(
            task=config.task, optimizer=o, name=REGISTRY[o].name, metric=config.metric,
            trials=len(counted), diverged_trials=sum(t.state == TrialState.FAIL for t in counted),
            best_trial=None if best is None else best.number,
            best_value=math.nan if best is None else float(best.value),
            spec=best.user_attrs.get("spec", "") if best else "",
            seeds=tuple(ev), values=values, mean=mean, ci95=half,
            diverged_seeds=sum(v is None for v in values), paper=paper,
            params={} if best is None else dict(best.params),
        ))  # fmt: skip
    return rows


def fmt_mean(row: ResultRow) -> str:
    if not math.isfinite(row.mean):
        return "diverged" if row.diverged_seeds else "—"
    if not math.isfinite(row.ci95):
        return f"{row.mean:.4g}"
    return f"{row.mean:.4g} ± {row.ci95:.2g}"


def setting_text(row: ResultRow) -> str:
    """The best setting's searched values in the search space's order: "lr=0.003 beta3=5.9"."""
    if not row.spec:
        return ""
    values = OptimizerSpec.parse(row.spec).hyperparams
    names = [r.name for r in search_space(row.optimizer, row.task)]
    return " ".join(f"{n}={values[n]:g}" for n in names)


def table_rows(rows: list[ResultRow]) -> list[dict]:
    """The results as text columns (the app's table and the CLI's printout)."""
    out = []
    for r in rows:
        n = len(r.seeds)
        out.append({
            "optimizer": r.name,
            f"{r.metric} (mean ± 95% CI)": fmt_mean(r),
            "seeds diverged": f"{r.diverged_seeds}/{n}" if n else "—",
            "trials (diverged)": f"{r.trials} ({r.diverged_trials})",
            "paper's Table 1 (val / test)": r.paper or "—",
            "best setting": setting_text(r) or "—",
        })  # fmt: skip
    return out


def format_table(rows: list[dict]) -> str:
    """Rows of text as an aligned plain-text table."""
    if not rows:
        return ""
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = lambda r: "  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip()  # noqa: E731
    return "\n".join([line({c: c for c in cols}), *(line(r) for r in rows)])


# ----------------------------------------------------------------------------- opening runs


@dataclass(frozen=True)
class RunSummary:
    """A tuning run found in a storage: its base name, settings and studies."""

    group: str
    task: str
    steps: int
    seed: int
    sampler_seed: int
    optimizers: tuple[str, ...]
    trials: dict[str, int]  # evaluated trials per optimizer


def list_runs(storage: str | None = None) -> list[RunSummary]:
    """The tuning runs in a storage (none when a SQLite file does not exist yet)."""
    try:
        store = open_storage(storage, create=False)
    except FileNotFoundError:
        return []
    _quiet_optuna()
    groups: dict[str, dict] = {}
    for s in optuna.get_all_study_summaries(store, include_best_trial=False):
        attrs = s.user_attrs.get("vradam")
        group = s.user_attrs.get("group")
        if not attrs or not group:
            continue
        g = groups.setdefault(group, dict(attrs=attrs, studies={}))
        g["studies"][attrs["optimizer"]] = s.study_name
    runs = []
    for group, g in sorted(groups.items()):
        a = g["attrs"]
        trials = {}
        for o, name in g["studies"].items():
            study = optuna.load_study(study_name=name, storage=store)
            trials[o] = len(evaluated_trials(study.get_trials(deepcopy=False)))
        order = [o for o in TUNABLE if o in g["studies"]]
        runs.append(RunSummary(group, a["task"], a["steps"], a["seed"], a["sampler_seed"],
                               tuple(order), trials))  # fmt: skip
    return runs


def load_run(storage: str | None, group: str) -> tuple[TuneConfig, dict[str, optuna.Study]]:
    """A stored run's config (its budget: the most evaluated trials) and studies."""
    runs = {r.group: r for r in list_runs(storage)}
    if group not in runs:
        raise ValueError(f"no tuning run {group!r} in {redact(storage or default_storage_url())}")
    r = runs[group]
    store = open_storage(storage)
    studies = {o: optuna.load_study(study_name=study_name(group, o), storage=store)
               for o in r.optimizers}  # fmt: skip
    budgets = [s.user_attrs.get("budget") or [1, 1] for s in studies.values()]
    if r.task not in TASKS:
        raise ValueError(f"run {group!r} is on task {r.task!r}, which this version lacks")
    config = TuneConfig(task=r.task, optimizers=r.optimizers,
                        trials=max(b[0] for b in budgets), seeds=max(b[1] for b in budgets),
                        steps=r.steps, seed=r.seed, sampler_seed=r.sampler_seed)  # fmt: skip
    return config, studies


def trial_rows(studies: dict[str, optuna.Study]) -> list[dict]:
    """Every trial of a run: optimizer, number, state, outcome, value, setting, reason."""
    rows = []
    for o, s in studies.items():
        for t in s.get_trials(deepcopy=False):
            rows.append(dict(
                optimizer=o, number=t.number, state=t.state.name,
                outcome=t.user_attrs.get("outcome", "" if t.state != TrialState.FAIL
                                         else "no result (its worker stopped)"),
                value=t.value if t.state == TrialState.COMPLETE else None,
                spec=t.user_attrs.get("spec", ""), reason=t.user_attrs.get("reason", ""),
                seconds=t.user_attrs.get("seconds"),
            ))  # fmt: skip
    return rows


def history_summary(studies: dict[str, optuna.Study], budget: int) -> str:
    """One line per chart: each optimizer's best value, at which trial, and divergences."""
    parts = []
    for o, s in studies.items():
        trials = s.get_trials(deepcopy=False)
        best = best_trial(trials, budget)
        counted = evaluated_trials(trials)
        div = sum(t.state == TrialState.FAIL for t in counted)
        name = REGISTRY[o].name
        if best is None:
            parts.append(f"{name}: no completed trial of {len(counted)}")
        else:
            parts.append(f"{name}: best {best.value:.4g} at trial {best.number} of "
                         f"{len(counted)}" + (f", {div} diverged" if div else ""))  # fmt: skip
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------- export

VERSIONED = ("optuna", "sqlalchemy", "psycopg")
CSV_FIELDS = [
    "task", "optimizer", "name", "metric", "mean", "ci95", "diverged_seeds", "seeds", "values",
    "trials", "diverged_trials", "best_trial", "best_value", "spec", "paper",
]  # fmt: skip


def versions() -> dict[str, str]:
    """vradam, torch, numpy, python, and the tuning stack's versions."""
    import importlib.metadata

    from vradam.sim import export

    out = export.versions()
    for dist in VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def run_meta(config: TuneConfig, storage: str, group: str) -> dict:
    """The settings that reproduce a run, with the package versions."""
    task = get_task(config.task)
    return dict(
        task=config.task, task_name=task.name, metric=config.metric,
        optimizers=list(config.optimizers), trials=config.trials, seeds=config.eval_seeds(),
        steps=config.steps, training_seed=config.seed, sampler_seed=config.sampler_seed,
        device=config.device, storage=redact(storage), study=group,
        studies={o: study_name(group, o) for o in config.optimizers},
        search_spaces={o: [asdict(r) for r in search_space(o, config.task)]
                       for o in config.optimizers},
        versions=versions(),
    )  # fmt: skip


def _finite(value):
    """JSON has no NaN: null instead (recursively)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def results_json(meta: dict, rows: list[ResultRow], trials: list[dict]) -> str:
    """Settings, versions, the results, every trial and the paper's table, as JSON."""
    payload = dict(meta=meta, results=[r.as_dict() for r in rows], trials=trials,
                   paper_table1=dict(note=PAPER_NOTE, rows=paper_rows()))  # fmt: skip
    return json.dumps(_finite(payload), indent=1, allow_nan=False) + "\n"


def results_csv(rows: list[ResultRow], versions: dict[str, str]) -> str:
    """One row per optimizer, with a version_* column per package."""
    buffer = io.StringIO()
    fields = CSV_FIELDS + [f"version_{k}" for k in versions]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        d = r.as_dict()
        d["seeds"] = " ".join(map(str, d["seeds"]))
        d["values"] = " ".join("nan" if v is None else repr(v) for v in d["values"])
        d.update({f"version_{k}": v for k, v in versions.items()})
        writer.writerow({k: d[k] for k in fields})
    return buffer.getvalue()
