"""The protocol itself: the seeded sampler, one trial's training, the shared budget, the
studies and the seed evaluations at each optimizer's best setting."""

from __future__ import annotations

import datetime
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import optuna
from optuna.samplers import BaseSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

from vradam.sim.optimizers import REGISTRY, OptimizerSpec, gate_activity_of
from vradam.studies.networks import get_task
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig, resolve_device, train_steps
from vradam.studies.tuning.config import TuneConfig, check_task
from vradam.studies.tuning.space import search_space, spec_text
from vradam.studies.tuning.storage import heartbeat_settings, open_storage

if TYPE_CHECKING:
    from vradam.studies.tuning.results import ResultRow

WORKER = f"{socket.gethostname()}:{os.getpid()}"  # which process ran a trial


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
    # VRAdam / VRMomentum: what the gate did over the run (GateActivity.as_dict(): plain
    # values for the study's user attrs); None for optimizers without the gate
    gate: dict | None = None


def train_once(
    task: str, spec: str, steps: int, seed: int, device: str,
    on_step: Callable[[int], None] | None = None,
) -> RunOutcome:  # fmt: skip
    """One training run of one optimizer: the task's metric at the end, or why it diverged,
    and, for a VR optimizer, what its gate did (up to its last update if it diverged)."""
    metric = get_task(task).metric
    config = TrainConfig(task=task, optimizers=(spec,), steps=steps, seed=seed, device=device,
                         sharpness_every=0, eval_every=steps)  # fmt: skip
    start = time.perf_counter()
    last: dict = {}
    diverged_at = None
    every = max(1, steps // 20)
    eta: list[float] = []  # η_t of each update
    with one_thread():  # also makes the numbers independent of the machine's core count
        for record in train_steps(config):
            if "effective_lr" in record:
                eta.append(record["effective_lr"])
            if "val_loss" in record or metric in record or record.get("diverged"):
                last = record
            if record.get("diverged") and diverged_at is None:
                diverged_at = record["step"]
            if on_step is not None and record["step"] % every == 0:
                on_step(record["step"])
    seconds = time.perf_counter() - start
    activity = gate_activity_of(OptimizerSpec.parse(spec), eta)
    gate = None if activity is None else activity.as_dict()
    if last.get("diverged"):
        where = f" at step {diverged_at}" if diverged_at is not None else ""
        return RunOutcome(None, f"diverged{where}: non-finite loss or weights", seconds, gate)
    if metric not in last:
        raise ValueError(f"task {task!r} reports no {metric!r} in its final record")
    value = float(last[metric])
    if not math.isfinite(value):
        return RunOutcome(None, f"diverged: {metric} is {value}", seconds, gate)
    return RunOutcome(value, "", seconds, gate)


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
    space = search_space(optimizer, config.task, lr_only=optimizer in config.lr_only)
    fixed = config.fixed(optimizer)
    device = str(resolve_device(config.device))

    def objective(trial: optuna.Trial) -> float:
        if _reserved(trial.study, before=trial.number) >= config.trials:
            trial.set_user_attr("outcome", "over budget")
            raise optuna.TrialPruned("over budget: other workers hold the remaining trials")
        params = {r.name: trial.suggest_float(r.name, r.low, r.high, log=r.log) for r in space}
        spec = spec_text(optimizer, params, fixed)
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
        if run.gate is not None:
            trial.set_user_attr("gate", run.gate)
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
    quiet_optuna()
    store = _as_storage(storage)
    base = study or config.default_study()
    return {o: _open_study(store, study_name(base, o), config, o) for o in config.optimizers}


def _open_study(storage, name: str, config: TuneConfig, optimizer: str) -> optuna.Study:
    sampler = TrialSeededTPE(config.sampler_seed, startup_trials(config.trials))
    study = optuna.create_study(storage=storage, sampler=sampler, study_name=name,
                                direction="minimize", load_if_exists=True)  # fmt: skip
    wanted = config.identity(optimizer)
    have = study.user_attrs.get("vradam")
    budget = study.user_attrs.get("budget")
    if have is None:
        study.set_user_attr("vradam", wanted)
        study.set_user_attr("group", name[: -len(optimizer) - 1])
    elif have != wanted:
        keys = [*wanted, *(k for k in have if k not in wanted)]
        diff = [_difference(k, have.get(k), wanted.get(k)) for k in keys
                if have.get(k) != wanted.get(k)]  # fmt: skip
        raise ValueError(f"study {name!r} exists with other settings ({'; '.join(diff)}); "
                         "choose another --study name")  # fmt: skip
    if budget and budget[0] != config.trials:
        # The budget is part of the protocol (TPE's random start is half of it, and the
        # table counts the first `trials` evaluated trials): a worker with another one
        # would print "trial k of its own budget" and build another table.
        raise ValueError(f"study {name!r} has a budget of {budget[0]} trials per optimizer, "
                         f"not {config.trials}: join it with --trials {budget[0]}, or choose "
                         "another --study name for another budget")  # fmt: skip
    if budget != [config.trials, config.seeds]:
        study.set_user_attr("budget", [config.trials, config.seeds])  # seeds: the latest run's
    return study


def _difference(key: str, have, wanted) -> str:
    """One setting that differs, in a line (a search space by its names and ranges)."""
    if key == "space":
        have, wanted = (" ".join(f"{r['name']}∈[{r['low']:.3g}, {r['high']:.3g}]"
                                 for r in (v or [])) or "—" for v in (have, wanted))  # fmt: skip
        return f"space {have} ≠ {wanted}"
    return f"{key} {have!r} ≠ {wanted!r}"


def quiet_optuna() -> None:
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
    check_task(config.task)
    quiet_optuna()
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
    from vradam.studies.tuning.results import results_table  # results reads studies: no cycle

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
    grace = heartbeat_settings()[1]
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
    [seed, value, reason, gate] per run, gate being what a VR optimizer's gate did, as
    :meth:`~vradam.sim.measures.GateActivity.as_dict`, or None; runs stored before gates
    were recorded have no fourth item), so a rerun, another worker or more seeds reuse
    them.
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
        runs = {**_stored_runs(study, spec), **runs,
                seed: [seed, run.value, run.reason, run.gate]}  # fmt: skip
        study.set_user_attr("evaluation", dict(spec=spec, trial=best.number,
                                               runs=[runs[k] for k in sorted(runs)]))  # fmt: skip
    return {seed: runs[seed][1] for seed in config.eval_seeds()}


def _stored_runs(study: optuna.Study, spec: str | None) -> dict[int, list]:
    """seed → [seed, value, reason, gate] of the runs stored for ``spec`` (read afresh;
    [seed, value, reason] from a study stored before gates were recorded)."""
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


def evaluation_gates(study: optuna.Study, config: TuneConfig) -> dict[int, dict]:
    """What the gate did in each stored seed run of the best setting (VR optimizers; only
    the seeds of ``config``): seed → GateActivity.as_dict(). Runs stored without a gate (an
    optimizer without one, or a study from before gates were recorded) are absent."""
    best = best_trial(study.get_trials(deepcopy=False), config.trials)
    if best is None:
        return {}
    runs = _stored_runs(study, best.user_attrs.get("spec"))
    return {s: runs[s][3] for s in config.eval_seeds()
            if s in runs and len(runs[s]) > 3 and runs[s][3] is not None}  # fmt: skip
