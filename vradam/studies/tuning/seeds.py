"""The shared seed phase: each optimizer's best setting on the evaluation seeds, each seed
trained once, by whichever worker claims it.

Claims are trials of a second Optuna study beside each optimizer's, ``{study}-seeds``, in
the same storage (so they work on SQLite and PostgreSQL alike, with Optuna's heartbeats). A
worker takes a seed by starting a claim trial: trial numbers are atomic, so the rule "a
claim takes the first seed that no finished run and no running claim numbered below it
holds" gives every seed to exactly one worker. A claim first waits (briefly) until every
running claim numbered below it has named its seed, so two workers never pick the same one.
A worker killed mid-run stops its heartbeat: its claim fails a grace period later and the
seed is free again, so the phase resumes. A finished claim holds its run (``user_attrs
["run"]``: the seed's metric, why it diverged, the gate, the seconds and the metric's curve
for time to target); the study's ``evaluation`` attribute keeps, as before, [seed, value,
reason, gate] per run (read first, for studies stored before claims).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import optuna
from optuna.trial import TrialState

from vradam.studies.tuning import protocol
from vradam.studies.tuning.config import TuneConfig
from vradam.studies.tuning.heldout import has_split
from vradam.studies.tuning.target import curve_every

SUFFIX = "-seeds"


def claims_study(study: optuna.Study) -> optuna.Study:
    """The claims of ``study``'s seed runs (created on first use)."""
    protocol.quiet_optuna()
    return optuna.create_study(storage=study._storage, study_name=study.study_name + SUFFIX,
                               sampler=optuna.samplers.RandomSampler(seed=0),
                               load_if_exists=True)  # fmt: skip


def _legacy(study: optuna.Study, spec: str) -> dict[int, dict]:
    """The runs in the study's ``evaluation`` attribute ([seed, value, reason(, gate)])."""
    cached = study.user_attrs.get("evaluation") or {}
    if cached.get("spec") != spec:
        return {}
    return {r[0]: dict(seed=r[0], value=r[1], reason=r[2], gate=r[3] if len(r) > 3 else None)
            for r in cached.get("runs", [])}  # fmt: skip


def stored_runs(study: optuna.Study, spec: str | None, claims: optuna.Study | None = None):
    """seed → the run of ``spec`` on it (a dict: seed, value, reason, gate and, for runs
    made by a claim, seconds, steps and the curve), read afresh. The study's attribute
    comes first; a claim's run adds its curve."""
    if spec is None:
        return {}
    claims = claims or claims_study(study)
    runs = {t.user_attrs["run"]["seed"]: dict(t.user_attrs["run"])
            for t in claims.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get("spec") == spec and "run" in t.user_attrs}  # fmt: skip
    for seed, run in _legacy(study, spec).items():
        runs[seed] = {**runs.get(seed, {}), **run}
    return runs


def trainings(study: optuna.Study) -> list[tuple[str, int]]:
    """(spec, seed) of every seed run this study's claims trained (a test counts them)."""
    return [(t.user_attrs["spec"], t.user_attrs["run"]["seed"])
            for t in claims_study(study).get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if "run" in t.user_attrs]  # fmt: skip


def _taken(claims: optuna.Study, spec: str, before: int | None = None) -> set[int] | None:
    """Seeds held by running claims (numbered below ``before``); None while one of those
    has not named its seed yet."""
    seeds = set()
    for t in claims.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if before is not None and t.number >= before:
            continue
        if "seed" not in t.user_attrs:
            return None
        if t.user_attrs.get("spec") == spec:
            seeds.add(t.user_attrs["seed"])
    return seeds


def _record(seed: int, run: protocol.RunOutcome, steps: int) -> dict:
    return dict(seed=seed, value=run.value, reason=run.reason, gate=run.gate,
                seconds=round(run.seconds, 4), steps=steps, curve_steps=list(run.curve[0]),
                curve_values=[v if math.isfinite(v) else None for v in run.curve[1]],
                test=run.test)  # fmt: skip


def _claim_objective(study, claims, config: TuneConfig, spec: str, on_step, poll: float):
    seeds = config.eval_seeds()
    nudged: set = set()

    def objective(trial: optuna.Trial) -> float:
        while (taken := _taken(claims, spec, before=trial.number)) is None:
            protocol.fail_stale_trials(claims, claims._storage, nudged)
            time.sleep(poll)  # an earlier claim is naming its seed: a moment
        done = stored_runs(study, spec, claims)
        free = [s for s in seeds if s not in done and s not in taken]
        if not free:
            trial.set_user_attr("outcome", "nothing left to claim")
            raise optuna.TrialPruned("every seed is run or held by another worker")
        seed = free[0]
        trial.set_user_attr("spec", spec)
        trial.set_user_attr("seed", seed)  # named: later claims now skip it
        trial.set_user_attr("worker", protocol.WORKER)
        i = seeds.index(seed)
        tick = None if on_step is None else (lambda step: on_step(i, step))
        try:
            run = protocol.train_once(config.task, spec, config.steps, seed, config.device,
                                      tick, curve_every=curve_every(config.steps),
                                      test=has_split(config.task))  # fmt: skip
        except BaseException as exc:  # the app's Stop: Optuna lets it through, so fail the
            if not isinstance(exc, Exception | KeyboardInterrupt):  # claim (seed free again)
                claims.tell(trial, state=TrialState.FAIL)
            raise
        record = _record(seed, run, config.steps)
        trial.set_user_attr("run", record)
        _cache(study, spec, record)
        return 0.0  # the run's outcome is in the user attrs (a diverged run has no value)

    return objective


def _cache(study: optuna.Study, spec: str, record: dict) -> None:
    """Add a run to the study's ``evaluation`` attribute (merged with what is there)."""
    cached = study.user_attrs.get("evaluation") or {}
    runs = {r[0]: list(r) for r in cached.get("runs", [])} if cached.get("spec") == spec else {}
    runs[record["seed"]] = [record["seed"], record["value"], record["reason"], record["gate"]]
    study.set_user_attr("evaluation", dict(spec=spec, trial=cached.get("trial"),
                                           runs=[runs[k] for k in sorted(runs)]))  # fmt: skip


def evaluate_best(
    study: optuna.Study, config: TuneConfig, optimizer: str,
    on_step: Callable[[int, int], None] | None = None, poll: float = 1.0,
) -> dict[int, float | None]:  # fmt: skip
    """The best setting's metric on each evaluation seed (None: diverged), {} if none.

    This worker claims and trains the seeds no run and no other worker holds, then waits
    for those other workers hold (a dead one's claim fails after its heartbeat's grace
    period, and the seed is claimed again). The seeds a rerun, another worker or a larger
    ``seeds`` finds stored are not trained again.
    """
    best = protocol.best_trial(study.get_trials(deepcopy=False), config.trials)
    if best is None:
        return {}
    spec = best.user_attrs["spec"]
    if (study.user_attrs.get("evaluation") or {}).get("spec") != spec:
        study.set_user_attr("evaluation", dict(spec=spec, trial=best.number, runs=[]))
    claims = claims_study(study)
    objective = _claim_objective(study, claims, config, spec, on_step, poll)
    nudged: set = set()
    while True:
        done = stored_runs(study, spec, claims)
        todo = [s for s in config.eval_seeds() if s not in done]
        if not todo:
            return {s: done[s]["value"] for s in config.eval_seeds()}
        taken = _taken(claims, spec)
        if taken is None or set(todo) - taken:
            claims.optimize(objective, n_trials=1, catch=())
        else:  # the rest are other workers': wait for them
            protocol.fail_stale_trials(claims, claims._storage, nudged)
            time.sleep(poll)


def evaluation(study: optuna.Study, config: TuneConfig) -> dict[int, float | None]:
    """The stored seed runs of the best setting (only the seeds of ``config``)."""
    runs = _best_runs(study, config)
    return {s: runs[s]["value"] for s in config.eval_seeds() if s in runs}


def evaluation_gates(study: optuna.Study, config: TuneConfig) -> dict[int, dict]:
    """What the gate did in each stored seed run of the best setting (VR optimizers; only
    the seeds of ``config``): seed → GateActivity.as_dict(). Runs stored without a gate (an
    optimizer without one, or a study from before gates were recorded) are absent."""
    runs = _best_runs(study, config)
    return {s: runs[s]["gate"] for s in config.eval_seeds()
            if s in runs and runs[s].get("gate") is not None}  # fmt: skip


def evaluation_curves(study: optuna.Study, config: TuneConfig) -> list[dict]:
    """The metric's curve of each stored seed run of the best setting that has one (runs
    made before curves were recorded have none): seed, steps, values, seconds, run_steps."""
    runs = _best_runs(study, config)
    return [dict(seed=s, steps=runs[s]["curve_steps"], values=runs[s]["curve_values"],
                 seconds=runs[s]["seconds"], run_steps=runs[s]["steps"])
            for s in config.eval_seeds() if s in runs and runs[s].get("curve_steps")]  # fmt: skip


def evaluation_tests(study: optuna.Study, config: TuneConfig) -> dict[int, float | None]:
    """The held-out test metric of each stored seed run of the best setting that measured
    one (None: the run diverged)."""
    runs = _best_runs(study, config)
    return {s: runs[s]["test"] for s in config.eval_seeds() if s in runs and "test" in runs[s]
            and (runs[s]["test"] is not None or runs[s]["value"] is None)}  # fmt: skip


def _best_runs(study: optuna.Study, config: TuneConfig) -> dict[int, dict]:
    best = protocol.best_trial(study.get_trials(deepcopy=False), config.trials)
    return {} if best is None else stored_runs(study, best.user_attrs.get("spec"))
