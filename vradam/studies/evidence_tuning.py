"""The evidence set's tuned comparison: ``tuning-<task>-<arm>.json``, one unit per arm.

Each arm is one ``python -m vradam tune`` run, with the settings the app's Evidence page
states (:data:`TUNED`: digits, AdamW and VRAdam, 8 trials each, 5 evaluation seeds, 3
sampler seeds for the budget curves; ``--small``: :data:`SMALL_TUNED`, the moons at 10
steps): arm ``full`` searches each optimizer's full space, arm ``lr`` VRAdam's α0 alone
(``--space vradam=lr``). A unit's output is the JSON ``tune --out`` writes (settings,
versions, results, budget curves, every trial, the paper's table), named after the unit.

The studies live in a tuning storage (:func:`storage_url`: ``--storage``, else
``$VRADAM_STORAGE``, else ``tuning.db`` in the evidence folder) under the names ``tune``
gives the same settings, so a ``tune`` run already stored there is reused. Any number of
processes run the same unit at once: each tuning run (the main one and each other sampler
seed's) is owned by one process at a time (:func:`_own`), so its trials go in order and the
JSON is what one ``tune`` process writes, however many workers shared the unit; each
process writes the JSON when every run is complete.
A unit is done when its JSON holds a run of the unit's settings (:func:`done`); a rerun
resumes from the storage, training only what it lacks. Optuna loads only when a unit runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from vradam.studies.tuning.config import TuneConfig

TUNING = "tuning"  # the study name of the units, and the --tasks name selecting them all
OPTIMIZERS = ("adamw", "vradam")
ARMS = {"full": (), "lr": ("vradam",)}  # arm → the optimizers searching α0 alone
# The default run: what the shipped tuning-digits-*.json hold (``tune --task digits
# --optimizers adamw,vradam --trials 8 --seeds 5 --sampler-seeds 3``, the task's 300 steps)
TUNED = dict(task="digits", trials=8, seeds=5, steps=None, sampler_seeds=3)
SMALL_TUNED = dict(task="moons", trials=2, seeds=3, steps=10, sampler_seeds=2)  # --small
STORAGE_FILE = "tuning.db"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TuningPlan:
    """One arm's tuning run: the main study's settings and how many sampler seeds."""

    config: TuneConfig
    sampler_seeds: int

    @property
    def group(self) -> str:
        """The main run's name (``tune``'s default for these settings, so it resumes)."""
        return self.config.default_study()

    def seeds(self) -> list[int]:
        """The sampler seeds, the main run's first (``tune --sampler-seeds``)."""
        return list(range(self.config.sampler_seed, self.config.sampler_seed + self.sampler_seeds))

    def runs(self) -> dict[int, tuple[TuneConfig, str]]:
        """Sampler seed → (settings, run name): the main run first (its table), then the
        budget curves' (as ``tune --sampler-seeds`` names them). Loads Optuna."""
        from vradam.studies.tuning.budget import sampler_group

        return {s: (replace(self.config, sampler_seed=s), sampler_group(self.group, self.config, s))
                for s in self.seeds()}  # fmt: skip

    def total_runs(self) -> int:
        """Training runs: every study's trials, and the main run's seed runs."""
        c = self.config
        return len(c.optimizers) * (c.trials * self.sampler_seeds + c.seeds)


def names(small: bool = False) -> list[str]:
    """The units' names, ``<task>-<arm>``."""
    task = (SMALL_TUNED if small else TUNED)["task"]
    return [f"{task}-{arm}" for arm in ARMS]


def plan(name: str, small: bool = False) -> TuningPlan:
    """The tuning run of unit ``name`` (ValueError for a name that is not one)."""
    settings = dict(SMALL_TUNED if small else TUNED)
    task, _, arm = name.rpartition("-")
    if task != settings["task"] or arm not in ARMS:
        raise ValueError(f"no tuning unit {name!r}; valid: {', '.join(names(small))}")
    sampler_seeds = settings.pop("sampler_seeds")
    config = TuneConfig(optimizers=OPTIMIZERS, device="cpu", lr_only=ARMS[arm], **settings)
    return TuningPlan(config, sampler_seeds)


def file_name(name: str) -> str:
    return f"{TUNING}-{name}.json"


# ----------------------------------------------------------------------------- storage


def storage_url(folder: Path, storage: str | None = None) -> str:
    """``storage``, else ``$VRADAM_STORAGE``, else ``tuning.db`` in ``folder``, checked
    (ValueError in one line for a bad URL); nothing is opened."""
    from vradam.studies.tuning.storage import ENV_STORAGE, normalise_url

    url = storage or os.environ.get(ENV_STORAGE) or f"sqlite:///{folder.resolve() / STORAGE_FILE}"
    return normalise_url(url)


# ----------------------------------------------------------------------------- results


def _matches(meta: dict, p: TuningPlan) -> bool:
    """Whether a JSON's settings are the plan's (the settings ``tune`` states, not where it
    ran: storage, study name, device and versions may differ)."""
    c = p.config
    want = dict(task=c.task, optimizers=list(c.optimizers), trials=c.trials,
                seeds=c.eval_seeds(), steps=c.steps, training_seed=c.seed,
                sampler_seed=c.sampler_seed, lr_only=list(c.lr_only),
                fixed={o: c.fixed(o) for o in c.lr_only},
                search_spaces={o: [asdict(r) for r in c.space(o)] for o in c.optimizers},
                sampler_seeds=p.seeds())  # fmt: skip
    return all(meta.get(k) == v for k, v in want.items())


def unit_of(meta: dict) -> tuple[str, bool] | None:
    """(unit name, small) of the evidence unit whose settings a tuning JSON's ``meta``
    holds, or None (a ``tune`` run with other settings)."""
    for small in (False, True):
        for name in names(small):
            if _matches(meta, plan(name, small)):
                return name, small
    return None


def read_result(folder: Path, name: str) -> dict | None:
    """The unit's JSON in ``folder`` (None: absent or unreadable)."""
    try:
        result = json.loads((folder / file_name(name)).read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and isinstance(result.get("meta"), dict) else None


def done(folder: Path, name: str, small: bool = False) -> bool:
    """Whether ``folder`` holds the unit's JSON, of the unit's settings."""
    result = read_result(folder, name)
    return result is not None and _matches(result["meta"], plan(name, small))


def check(folder: Path, name: str, small: bool = False) -> None:
    """ValueError in one line when the unit's file holds something else (another run's
    settings, or no tuning run): the command would not overwrite it."""
    path = folder / file_name(name)
    if path.exists() and not done(folder, name, small):
        raise ValueError(f"{path} holds no tuning run of this unit's settings (another "
                         "tune run, or an older version): remove it or choose another "
                         "folder")  # fmt: skip


def summary(folder: Path, name: str) -> dict | None:
    """The unit's results for evidence.json: each optimizer's best setting, mean and 95 %
    half-width over the seeds, and its paired difference from the baseline."""
    result = read_result(folder, name)
    if result is None:
        return None
    keep = ("optimizer", "spec", "seeds", "values", "mean", "ci95", "paired", "search_dims")
    return dict(comparison=result.get("comparison", ""),
                results=[{k: r.get(k) for k in keep} for r in result["results"]])  # fmt: skip


# ----------------------------------------------------------------------------- running


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)  # a reader, or another worker writing it too, sees a whole file


def _complete(studies: dict, budget: int) -> bool:
    """Every study holds its budget of evaluated trials and none is running."""
    from optuna.trial import TrialState

    from vradam.studies.tuning import evaluated_trials

    return all(not s.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
               and len(evaluated_trials(s.get_trials(deepcopy=False))) >= budget
               for s in studies.values())  # fmt: skip


def _counter(p: TuningPlan, label: str, progress: Progress):
    """A ``tune`` progress callback that says, every 30 s, how far the unit is."""
    c = p.config
    tuned = len(c.optimizers) * c.trials
    first = tuned + len(c.optimizers) * c.seeds
    total, began, shown = p.total_runs(), time.perf_counter(), [0.0]

    def tell(k: int, state) -> None:
        seconds = time.perf_counter() - began
        if seconds - shown[0] >= 30:
            shown[0] = seconds
            done_ = state.done + (0 if k == 0 else first + (k - 1) * tuned)
            progress(f"{label}: {done_:.0f} of {total} runs ({seconds:.0f} s)")

    return tell


OWNER_SUFFIX = "-owner"  # a run's ownership claims: a study beside its own, in the storage


def _own(store, group: str, work: Callable[[], None], nudged: set) -> None:
    """Run ``work`` (one tuning run's trials, and for the main run its seed runs) if this
    process owns run ``group``, so that each run's trials go in order in one process and
    TPE proposes what one process would: the results then do not depend on how many
    workers share the unit. Ownership is a running trial of ``{group}-owner`` with no
    running one numbered below it (trial numbers are atomic); an owner that dies stops its
    heartbeat, its claim fails a grace period later and another process takes the run
    over. While another process owns it, this one returns without running ``work``."""
    import optuna
    from optuna.trial import TrialState

    from vradam.studies import tuning
    from vradam.studies.tuning.protocol import quiet_optuna

    quiet_optuna()
    owners = optuna.create_study(storage=store, study_name=group + OWNER_SUFFIX,
                                 load_if_exists=True)  # fmt: skip
    tuning.fail_stale_trials(owners, store, nudged)  # a dead owner's claim
    if owners.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        return  # owned now: no claim to add

    def objective(trial: optuna.Trial) -> float:
        running = owners.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if any(t.number < trial.number for t in running):
            raise optuna.TrialPruned("another process owns this run")
        work()
        return 0.0

    owners.optimize(objective, n_trials=1, catch=())


def run_tuning(folder: Path, name: str, small: bool = False, storage: str | None = None,
               progress: Progress = print, poll: float = 1.0) -> Path:  # fmt: skip
    """Compute (or resume) the unit into the storage, then write its JSON into ``folder``.

    Each of the unit's tuning runs (the main one: trials, then the seed runs; each other
    sampler seed's: trials) is done by the one process that owns it (:func:`_own`), so its
    trials run in order as in one ``tune`` process; several processes split the runs, the
    two arms and the other units between them. Once every run is complete (other
    processes' included), each process builds the table from the storage (nothing is
    trained again) and writes the JSON ``tune --out`` writes. Returns the JSON's path."""
    from vradam.studies import tuning
    from vradam.studies.training import resolve_device
    from vradam.studies.tuning import budget

    p, url = plan(name, small), storage_url(folder, storage)
    check(folder, name, small)
    config, label = p.config, file_name(name)
    progress(f"{label}: tuning, study {p.group!r} in {tuning.redact(url)}")
    store, runs = tuning.open_storage(url), p.runs()
    tell = _counter(p, label, progress)
    nudged: set = set()
    while True:
        studies = {s: tuning.open_studies(each, store, group) for s, (each, group) in runs.items()}
        left = [k for k, s in enumerate(runs) if not _complete(studies[s], config.trials)
                or (k == 0 and not _seeds_done(studies[s], config))]  # fmt: skip
        if not left:
            break
        for k in left:
            each, group = list(runs.values())[k]
            _own(store, group, lambda k=k, each=each, group=group: tuning.tune(
                each, store, group, join=k > 0, on_progress=lambda st, k=k: tell(k, st),
                poll=poll), nudged)  # fmt: skip
        for by in studies.values():
            for study in by.values():
                tuning.fail_stale_trials(study, store, nudged)  # a dead worker's trial
        time.sleep(poll)
    rows = tuning.tune(config, store, p.group, poll=poll)  # every run stored: the table only
    curves = budget.budget_curves(studies, config.trials) if len(runs) > 1 else []
    # what `tune --out` writes (vradam/commands/tune.py): the same meta, trials and JSON
    meta, trials = tuning.run_record(config, url, p.group, runs, str(resolve_device(config.device)))
    path = folder / label
    _write(path, tuning.results_json(meta, rows, trials, curves))
    progress(f"{label}: complete ({p.total_runs()} runs stored); wrote {path.name}")
    return path


def _seeds_done(studies: dict, config: TuneConfig) -> bool:
    """Whether every optimizer's best setting has its evaluation seeds stored."""
    from vradam.studies.tuning import seeds

    return all(len(seeds.evaluation(studies[o], config)) == config.seeds for o in studies)


__all__ = [
    "ARMS", "OPTIMIZERS", "SMALL_TUNED", "STORAGE_FILE", "TUNED", "TUNING", "TuningPlan",
    "check", "done", "file_name", "names", "plan", "read_result", "run_tuning",
    "storage_url", "summary", "unit_of",
]  # fmt: skip
