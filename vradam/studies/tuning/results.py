"""What a run reports: the table (mean ± 95 % t-interval), opening stored runs, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import optuna
from optuna.trial import TrialState

from vradam.sim.measures import GateActivity, gate_across, gate_means, percent
from vradam.sim.optimizers import REGISTRY, OptimizerSpec
from vradam.studies.networks import TASKS, get_task
from vradam.studies.tuning.config import TuneConfig
from vradam.studies.tuning.paper import PAPER_NOTE, paper_row, paper_rows
from vradam.studies.tuning.protocol import (
    best_trial,
    evaluated_trials,
    evaluation,
    evaluation_gates,
    quiet_optuna,
    study_name,
)
from vradam.studies.tuning.space import TUNABLE, search_space
from vradam.studies.tuning.storage import default_storage_url, open_storage, redact

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
    # VR optimizers: what the gate did in the best setting's seed runs (GateActivity.as_dict()
    # each), or, before any seed run stored one, in the best trial's own run
    gates: tuple[dict, ...] = ()
    gate_source: str = ""  # "seeds", "best trial" or "" (no gate measured)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seeds"], out["values"] = list(self.seeds), list(self.values)
        out["gates"] = list(self.gates)
        return out

    def gate_activities(self) -> list[GateActivity]:
        return [GateActivity.from_dict(g) for g in self.gates]

    @property
    def never_gates(self) -> bool:
        """The winner behaved as its ungated twin (AdamW at α0, or at α0/(1+α1)) in every
        run measured: a tuned AdamW under VRAdam's name. Flagged in the table."""
        kinds = {g.kind for g in self.gate_activities()}
        return bool(kinds) and kinds <= {"never", "clipped"}


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
        stored = evaluation_gates(studies[o], config)
        gates, source = tuple(stored[s] for s in ev if s in stored), "seeds"
        if not gates and best is not None and best.user_attrs.get("gate"):
            gates, source = (best.user_attrs["gate"],), "best trial"
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
            gates=gates, gate_source=source if gates else "",
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


GATE_FLAG = "⚠ "
GATE_NOTE = (
    "Gate: what VRAdam's gate did at the best setting, over the seed runs (or the best trial's "
    "run until seeds are stored): η/α₀ at its minimum, median and final step (means over the "
    "runs), then the share of steps clipped at α₁ and the share at η ≥ 0.99·α₀. A run with "
    "η ≥ 0.99·α₀ on at least 99 % of its steps (or ≥ 0.985·α₀ on all) behaved as AdamW at α₀, "
    f"one clipped on at least 99 % as AdamW at α₀/(1+α₁); {GATE_FLAG.strip()} marks a winner "
    "that did so in every run: a tuned AdamW, not the gate, won."
)


def gate_text(row: ResultRow) -> tuple[str, str]:
    """The table's two gate cells: the numbers, and the verdict in words (flagged with
    :data:`GATE_FLAG` when the winner never gated); ("—", "—") without a gate."""
    gates = row.gate_activities()
    if not gates:
        return "—", "—"
    verdict = gate_across(gates, "seeds")
    if row.gate_source == "best trial":
        verdict += " (in the best trial; no seed run yet)"
    if row.never_gates:
        verdict = GATE_FLAG + verdict
    if not any(g.steps for g in gates):
        return "—", verdict
    m = gate_means(gates)
    ratios = " · ".join(f"{m[k]:.3g}" for k in ("minimum", "median", "final"))
    return f"{ratios}; {percent(m['clipped_fraction'])} · {percent(m['ungated_fraction'])}", verdict


def table_rows(rows: list[ResultRow]) -> list[dict]:
    """The results as text columns (the app's table and the CLI's printout); the gate
    columns (:data:`GATE_NOTE`) only when some optimizer has a gate."""
    out = []
    gated = any(r.gates for r in rows)
    for r in rows:
        n = len(r.seeds)
        row = {
            "optimizer": r.name,
            f"{r.metric} (mean ± 95% CI)": fmt_mean(r),
            "seeds diverged": f"{r.diverged_seeds}/{n}" if n else "—",
            "trials (diverged)": f"{r.trials} ({r.diverged_trials})",
            "paper's Table 1 (val / test)": r.paper or "—",
            "best setting": setting_text(r) or "—",
        }
        if gated:
            numbers, verdict = gate_text(r)
            row["gate: η/α₀ min · median · final; clipped · ≥ 0.99"] = numbers
            row["gate"] = verdict
        out.append(row)
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
    quiet_optuna()
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
    """Every trial of a run: optimizer, number, state, outcome, value, setting, reason,
    seconds, and what a VR optimizer's gate did in it (its verdict; "" for the others)."""
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
                gate=(t.user_attrs.get("gate") or {}).get("verdict", ""),  # VR optimizers
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
    # the gate (empty for optimizers without one): as the table's, see GATE_NOTE
    "eta_ratio_min", "eta_ratio_median", "eta_ratio_final", "clipped_fraction",
    "ungated_fraction", "gate_verdict", "gate_never", "gate_source",
]  # fmt: skip


def _gate_csv(row: ResultRow) -> dict:
    """The gate's CSV cells of one row (empty strings without a gate)."""
    gates = row.gate_activities()
    if not gates:
        return dict.fromkeys(CSV_FIELDS[CSV_FIELDS.index("eta_ratio_min") :], "")
    m = gate_means(gates)
    return dict(
        eta_ratio_min=m["minimum"], eta_ratio_median=m["median"], eta_ratio_final=m["final"],
        clipped_fraction=m["clipped_fraction"], ungated_fraction=m["ungated_fraction"],
        gate_verdict=gate_across(gates, "seeds"), gate_never=row.never_gates,
        gate_source=row.gate_source,
    )  # fmt: skip


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
        d.update(_gate_csv(r))
        d.update({f"version_{k}": v for k, v in versions.items()})
        writer.writerow({k: d[k] for k in fields})
    return buffer.getvalue()
