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
    # (steps, values): the metric every ``curve_every`` steps and at the end (up to a
    # divergence); empty without ``curve_every``
    curve: tuple[tuple[int, ...], tuple[float, ...]] = ((), ())
    # with ``test``: the final weights' metric on the task's held-out split (:mod:`.heldout`)
    test: float | None = None


def train_once(
    task: str, spec: str, steps: int, seed: int, device: str,
    on_step: Callable[[int], None] | None = None, curve_every: int = 0, test: bool = False,
) -> RunOutcome:  # fmt: skip
    """One training run of one optimizer: the task's metric at the end, or why it diverged,
    and, for a VR optimizer, what its gate did (up to its last update if it diverged).
    With ``curve_every`` = k > 0 the metric is also recorded every k steps (the curve; the
    training itself is the same); with ``test``, the final weights are also evaluated on
    the task's held-out split."""
    metric = get_task(task).metric
    config = TrainConfig(task=task, optimizers=(spec,), steps=steps, seed=seed, device=device,
                         sharpness_every=0, eval_every=curve_every or steps,
                         snapshot_every=steps if test else 0)  # fmt: skip
    start = time.perf_counter()
    last: dict = {}
    diverged_at = None
    every = max(1, steps // 20)
    eta: list[float] = []  # η_t of each update
    weights = None  # the final weights (``test`` only)
    at: list[int] = []  # the curve's steps and values
    values: list[float] = []
    with one_thread():  # also makes the numbers independent of the machine's core count
        for record in train_steps(config):
            if "effective_lr" in record:
                eta.append(record["effective_lr"])
            if "val_loss" in record or metric in record or record.get("diverged"):
                last = record
            if test and record["step"] == steps and "flat_params" in record:
                weights = record["flat_params"]
            if curve_every and metric in record and not record.get("diverged"):
                at.append(record["step"])
                values.append(float(record[metric]))
            if record.get("diverged") and diverged_at is None:
                diverged_at = record["step"]
            if on_step is not None and record["step"] % every == 0:
                on_step(record["step"])
    seconds = time.perf_counter() - start
    activity = gate_activity_of(OptimizerSpec.parse(spec), eta)
    gate = None if activity is None else activity.as_dict()
    curve = (tuple(at), tuple(values))
    if last.get("diverged"):
        where = f" at step {diverged_at}" if diverged_at is not None else ""
        return RunOutcome(None, f"diverged{where}: non-finite loss or weights", seconds, gate,
                          curve)  # fmt: skip
    if metric not in last:
        raise ValueError(f"task {task!r} reports no {metric!r} in its final record")
    value = float(last[metric])
    if not math.isfinite(value):
        return RunOutcome(None, f"diverged: {metric} is {value}", seconds, gate, curve)
    held = None
    if weights is not None:
        from vradam.studies.tuning.heldout import test_metric

        held = test_metric(task, weights, seed)
        held = held if math.isfinite(held) else None
    return RunOutcome(value, "", seconds, gate, curve, held)


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

    from vradam.studies.tuning import seeds  # the seed phase builds on this module

    evaluations: dict[str, dict[int, float | None]] = {}
    for k, o in enumerate(config.optimizers):
        first = K * config.trials + k * config.seeds

        def on_step(i, step, o=o, first=first):
            text = (f"{REGISTRY[o].name} at its best setting: seed {i + 1} of {config.seeds}, "
                    f"step {step}/{config.steps}")  # fmt: skip
            report(Progress("seeds", first + i + step / config.steps, total, o, text))

        evaluations[o] = seeds.evaluate_best(studies[o], config, o, on_step, poll=poll)
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


# ----------------------------------------------------------------------------- parallel runs


def parallel_trials(study: optuna.Study) -> list[int]:
    """The evaluated trials that ran beside another worker's trial of the same study (their
    times overlapped): TPE proposed each without the other's result."""
    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_start is not None]
    now = datetime.datetime.now()
    out = []
    for t in evaluated_trials(trials):
        end = t.datetime_complete or now
        if any(u.number != t.number and u.user_attrs.get("worker") != t.user_attrs.get("worker")
               and u.datetime_start < end and t.datetime_start < (u.datetime_complete or now)
               for u in trials):  # fmt: skip
            out.append(t.number)
    return out


def parallel_note(studies: dict[str, optuna.Study]) -> str:
    """Which trials ran in parallel or were retried, and why the table can then differ from
    one uninterrupted worker's."""
    workers = {t.user_attrs.get("worker") for s in studies.values()
               for t in s.get_trials(deepcopy=False)} - {None}  # fmt: skip
    beside = {o: parallel_trials(s) for o, s in studies.items()}
    lost = sum(t.state == TrialState.FAIL and t.user_attrs.get("outcome") != "diverged"
               for s in studies.values() for t in s.get_trials(deepcopy=False))  # fmt: skip
    if len(workers) <= 1 and not lost:
        return ("Workers: one process ran every trial, in order: this table is what an "
                "uninterrupted run of these settings gives.")  # fmt: skip
    parts = [f"Workers: {len(workers)} processes ran the trials."]
    ran = "; ".join(f"{REGISTRY[o].name} {', '.join(map(str, n))}" for o, n in beside.items() if n)
    if ran:
        parts.append(
            f"Trials that ran beside another worker's ({ran}) were proposed by TPE without "
            "that trial's result, so one worker would have proposed other settings after "
            "the random start, and its table can differ."
        )
    if lost:
        parts.append(
            f"{lost} trial(s) were interrupted (a stopped or killed worker) and did not count; "
            "their places were taken by new trials, whose draws are seeded by trial number, "
            "so a resumed study can differ from an uninterrupted one as well."
        )
    parts.append("The seed runs are the same either way: each seed is trained once.")
    return " ".join(parts)
