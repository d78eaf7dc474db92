"""What a run reports: the table (each optimizer's paired difference from the baseline, its
mean ± 95 % t-interval, what it searched), opening stored runs, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field, replace

import optuna
from optuna.trial import TrialState

from vradam.sim.measures import GateActivity, gate_across, gate_means, percent
from vradam.sim.optimizers import REGISTRY, OptimizerSpec
from vradam.studies.networks import TASKS, get_task
from vradam.studies.tuning.config import MIN_SEEDS, TuneConfig
from vradam.studies.tuning.heldout import split_note
from vradam.studies.tuning.paired import (
    Paired,
    paired_difference,
    paired_text,
    t_interval,
    wins_text,
)
from vradam.studies.tuning.paper import PAPER_NOTE, paper_rows
from vradam.studies.tuning.protocol import best_trial, evaluated_trials, quiet_optuna, study_name
from vradam.studies.tuning.seeds import (
    evaluation,
    evaluation_curves,
    evaluation_gates,
    evaluation_tests,
)
from vradam.studies.tuning.space import (
    TUNABLE,
    baseline,
    held_text,
    held_value,
    symbols,
    widens,
)
from vradam.studies.tuning.storage import default_storage_url, open_storage, redact
from vradam.studies.tuning.target import CSV_FIELDS as TARGET_FIELDS
from vradam.studies.tuning.target import as_dict as target_dict
from vradam.studies.tuning.target import of_rows, target_csv, target_note

# ----------------------------------------------------------------------------- results


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
    params: dict = field(default_factory=dict)
    # VR optimizers: what the gate did in the best setting's seed runs (GateActivity.as_dict()
    # each), or, before any seed run stored one, in the best trial's own run
    gates: tuple[dict, ...] = ()
    gate_source: str = ""  # "seeds", "best trial" or "" (no gate measured)
    # What the study searched (Range fields each: name, low, high, log) and held fixed
    space: tuple[dict, ...] = ()
    fixed: dict = field(default_factory=dict)
    # This optimizer minus the baseline over the seeds both ran; None for the baseline
    # itself and when the run has no baseline
    paired: Paired | None = None
    # the metric's curve of each seed run that recorded one (seed, steps, values, seconds,
    # run_steps): time to target (:mod:`.target`)
    curves: tuple[dict, ...] = ()
    # the held-out test split (heldout.py): the metric per seed run that measured it (None:
    # diverged), and the paired difference from the baseline on it
    test: dict = field(default_factory=dict)
    test_paired: Paired | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seeds"], out["values"] = list(self.seeds), list(self.values)
        out["gates"], out["space"] = list(self.gates), list(self.space)
        out["curves"] = list(self.curves)
        if self.paired is not None:
            out["paired"]["seeds"] = list(self.paired.seeds)
        if self.test_paired is not None:
            out["test_paired"]["seeds"] = list(self.test_paired.seeds)
        out["test"] = {str(k): v for k, v in self.test.items()}
        out["test_mean"], out["test_ci95"] = self.test_interval
        out["search_dims"] = self.dims
        return out

    @property
    def test_interval(self) -> tuple[float, float]:
        """The held-out metric's mean and 95 % half-width over the seeds that finished."""
        return t_interval([v for v in self.test.values() if v is not None])

    @property
    def dims(self) -> int:
        """How many hyperparameters the study searched."""
        return len(self.space)

    @property
    def searched(self) -> str:
        """ "3: α₀, β₃, α₁"."""
        return f"{self.dims}: {symbols(self.optimizer, [r['name'] for r in self.space])}"

    @property
    def is_baseline(self) -> bool:
        return self.optimizer == baseline()

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
        # what the study searched and held fixed: its stored identity (the ranges of the
        # version that created it), else this config's
        identity = studies[o].user_attrs.get("vradam") or {}
        if "space" in identity:
            space, fixed = identity["space"], identity.get("fixed", {})
        else:
            space, fixed = [asdict(r) for r in config.space(o)], config.fixed(o)
        rows.append(ResultRow(
            task=config.task, optimizer=o, name=REGISTRY[o].name, metric=config.metric,
            trials=len(counted), diverged_trials=sum(t.state == TrialState.FAIL for t in counted),
            best_trial=None if best is None else best.number,
            best_value=math.nan if best is None else float(best.value),
            spec=best.user_attrs.get("spec", "") if best else "",
            seeds=tuple(ev), values=values, mean=mean, ci95=half,
            diverged_seeds=sum(v is None for v in values),
            params={} if best is None else dict(best.params),
            gates=gates, gate_source=source if gates else "",
            space=tuple(dict(r) for r in space), fixed=dict(fixed),
            curves=tuple(evaluation_curves(studies[o], config)),
            test=evaluation_tests(studies[o], config),
        ))  # fmt: skip
    return with_paired(rows)


def with_paired(rows: list[ResultRow]) -> list[ResultRow]:
    """The rows with each one's paired difference from the baseline's row (if present)."""
    base = next((r for r in rows if r.is_baseline), None)
    if base is None:
        return rows
    by_seed = dict(zip(base.seeds, base.values))
    return [r if r is base else replace(
        r, paired=paired_difference(dict(zip(r.seeds, r.values)), by_seed, base.optimizer),
        test_paired=paired_difference(r.test, base.test, base.optimizer) if base.test
        and r.test else None) for r in rows]  # fmt: skip


def fmt_mean(row: ResultRow) -> str:
    if not math.isfinite(row.mean):
        return "diverged" if row.diverged_seeds else "—"
    if not math.isfinite(row.ci95):
        return f"{row.mean:.4g}"
    return f"{row.mean:.4g} ± {row.ci95:.2g}"


def setting_text(row: ResultRow) -> str:
    """The best setting's searched values in the search space's order, then what was held
    fixed: "lr=0.003 beta3=5.9", "lr=0.003 (fixed: beta3=auto alpha1=10)"."""
    if not row.spec:
        return ""
    values = OptimizerSpec.parse(row.spec).hyperparams
    text = " ".join(f"{r['name']}={values[r['name']]:g}" for r in row.space)
    if row.fixed:
        text += " (fixed: " + held_text(row.fixed) + ")"
    return text


def comparison_note(rows: list[ResultRow], trials: int | None = None) -> str:
    """What was compared, in words: the pairing, how divergence counts, and each
    optimizer's search dimensions (equal or not, and the flag for the other comparison)."""
    if not rows:
        return ""
    metric, parts = rows[0].metric, []
    base = next((r for r in rows if r.is_baseline), None)
    seeds = max((r.seeds for r in rows), key=len)
    if base is None:
        name = REGISTRY[baseline()].name
        parts.append(f"No paired differences: the baseline, {name}, is not in this run.")
    else:
        parts.append(
            f"Paired: each optimizer minus {base.name} on the same evaluation seeds "
            f"({', '.join(map(str, seeds)) or 'none yet'}), mean ± the 95 % t-interval of "
            f"the differences (negative: a lower {metric} than {base.name}). A seed on which "
            "either run diverged is left out of the interval and counted as a loss for the "
            f"optimizer that diverged in 'lower than {base.name}'."
        )
        if len(seeds) < MIN_SEEDS:
            parts.append(f"Only {len(seeds)} seed(s): not enough for an interval (at least "
                         f"{MIN_SEEDS}; the default is 5).")  # fmt: skip
    budget = f"{trials} trials each" if trials else "the same trials each"
    dims = {r.dims for r in rows}
    if len(dims) > 1:
        each = ", ".join(f"{r.name} {r.searched}" for r in rows)
        wide = [r.optimizer for r in rows if widens(r.optimizer) and r.dims > 1]
        flag = " ".join(f"--space {o}=lr" for o in wide)
        parts.append(
            f"Unequal search dimensions ({each}) with {budget}: the wider search has fewer "
            f"trials per dimension, which handicaps it at a small budget. The "
            f"equal-dimension comparison searches α₀ only: {flag} (the page: Search α₀ only)."
        )
    else:
        held = [f"{r.name}'s " + ", ".join(f"{symbols(r.optimizer, [k])} = {held_value(v)}"
                                           for k, v in r.fixed.items())
                for r in rows if r.fixed]  # fmt: skip
        what = symbols(rows[0].optimizer, [x["name"] for x in rows[0].space])
        parts.append(f"Equal search dimensions: every optimizer searched {dims.pop()} "
                     f"({what}) with {budget}"
                     + (f"; fixed: {'; '.join(held)} (β₃ calibrated by "
                        "beta3=auto, α₁ at its default)." if held else "."))  # fmt: skip
    return " ".join(parts)


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
    """The results as text columns (the app's table and the CLI's printout): first each
    optimizer's paired difference from the baseline (when the baseline ran), then its own
    mean; the gate columns (:data:`GATE_NOTE`) only when some optimizer has a gate."""
    out = []
    gated, tested = any(r.gates for r in rows), any(r.test for r in rows)
    base = next((r for r in rows if r.is_baseline), None)
    for r in rows:
        n = len(r.seeds)
        row = {"optimizer": r.name, "searched": r.searched}
        if base is not None:
            row[f"Δ {r.metric} vs {base.name} (paired, 95% CI)"] = paired_text(r.paired)
            row[f"lower than {base.name}"] = wins_text(r.paired)
        row.update({
            f"{r.metric} (mean ± 95% CI)": fmt_mean(r),
            "seeds diverged": f"{r.diverged_seeds}/{n}" if n else "—",
            "trials (diverged)": f"{r.trials} ({r.diverged_trials})",
            "best setting": setting_text(r) or "—",
        })  # fmt: skip
        if tested:
            mean, half = r.test_interval
            row[f"held-out test {r.metric} (mean ± 95% CI)"] = (
                "—" if not r.test else fmt_mean(replace(r, mean=mean, ci95=half))
            )
            if base is not None:
                row[f"Δ test vs {base.name} (paired)"] = (
                    paired_text(r.test_paired) if r.is_baseline or r.test_paired else "—"
                )
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
    lr_only: tuple[str, ...] = ()  # optimizers whose study searched α0 alone


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
        g = groups.setdefault(group, dict(attrs=attrs, studies={}, spaces={}))
        g["studies"][attrs["optimizer"]] = s.study_name
        g["spaces"][attrs["optimizer"]] = [r["name"] for r in attrs.get("space", [])]
    runs = []
    for group, g in sorted(groups.items()):
        a = g["attrs"]
        trials = {}
        for o, name in g["studies"].items():
            study = optuna.load_study(study_name=name, storage=store)
            trials[o] = len(evaluated_trials(study.get_trials(deepcopy=False)))
        order = [o for o in TUNABLE if o in g["studies"]]
        narrowed = tuple(o for o in order if widens(o) and g["spaces"][o] == ["lr"])
        runs.append(RunSummary(group, a["task"], a["steps"], a["seed"], a["sampler_seed"],
                               tuple(order), trials, narrowed))  # fmt: skip
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
                        steps=r.steps, seed=r.seed, sampler_seed=r.sampler_seed,
                        lr_only=r.lr_only)  # fmt: skip
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
    "task", "optimizer", "name", "metric",
    # the paired difference from the baseline (empty for the baseline itself): see paired.py
    "baseline", "paired_diff", "paired_ci95", "paired_n", "paired_diverged",
    "lower_than_baseline", "higher_than_baseline",
    "mean", "ci95", "diverged_seeds", "seeds", "values",
    # what was searched: how many, the ranges ("lr:0.0001:0.1:log …") and what was fixed
    "search_dims", "search_space", "fixed",
    "trials", "diverged_trials", "best_trial", "best_value", "spec",
    # the gate (empty for optimizers without one): as the table's, see GATE_NOTE
    "eta_ratio_min", "eta_ratio_median", "eta_ratio_final", "clipped_fraction",
    "ungated_fraction", "gate_verdict", "gate_never", "gate_source",
    # time to target (empty without curves): see target.py
    *TARGET_FIELDS,
    # the held-out test split (empty without one): see heldout.py
    "test_mean", "test_ci95", "test_values", "test_paired_diff", "test_paired_ci95",
]  # fmt: skip


def _gate_csv(row: ResultRow) -> dict:
    """The gate's CSV cells of one row (empty strings without a gate)."""
    gates = row.gate_activities()
    if not gates:
        gate = CSV_FIELDS[CSV_FIELDS.index("eta_ratio_min") : CSV_FIELDS.index("gate_source") + 1]
        return dict.fromkeys(gate, "")
    m = gate_means(gates)
    return dict(
        eta_ratio_min=m["minimum"], eta_ratio_median=m["median"], eta_ratio_final=m["final"],
        clipped_fraction=m["clipped_fraction"], ungated_fraction=m["ungated_fraction"],
        gate_verdict=gate_across(gates, "seeds"), gate_never=row.never_gates,
        gate_source=row.gate_source,
    )  # fmt: skip


def _search_csv(row: ResultRow) -> dict:
    ranges = " ".join(f"{r['name']}:{r['low']:g}:{r['high']:g}:{'log' if r['log'] else 'linear'}"
                      for r in row.space)  # fmt: skip
    return dict(search_dims=row.dims, search_space=ranges, fixed=held_text(row.fixed))


def _paired_csv(row: ResultRow) -> dict:
    p = row.paired
    if p is None:
        keys = CSV_FIELDS[CSV_FIELDS.index("baseline") : CSV_FIELDS.index("mean")]
        return {**dict.fromkeys(keys, ""), "baseline": baseline() if row.is_baseline else ""}
    return dict(baseline=p.baseline, paired_diff=p.mean, paired_ci95=p.ci95, paired_n=p.pairs,
                paired_diverged=p.diverged, lower_than_baseline=p.lower,
                higher_than_baseline=p.higher)  # fmt: skip


def _test_csv(row: ResultRow) -> dict:
    if not row.test:
        return dict.fromkeys(CSV_FIELDS[CSV_FIELDS.index("test_mean") :], "")
    p = row.test_paired
    return dict(test_mean=row.test_interval[0], test_ci95=row.test_interval[1],
                test_values=" ".join("nan" if v is None else repr(v) for v in row.test.values()),
                test_paired_diff="" if p is None else p.mean,
                test_paired_ci95="" if p is None else p.ci95)  # fmt: skip


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
        search_spaces={o: [asdict(r) for r in config.space(o)] for o in config.optimizers},
        lr_only=list(config.lr_only),
        fixed={o: config.fixed(o) for o in config.lr_only},
        baseline=baseline(),
        versions=versions(),
    )  # fmt: skip


def run_record(
    config: TuneConfig, storage: str, group: str, runs: dict, device: str
) -> tuple[dict, list[dict]]:
    """What ``tune --out`` writes beside the results of a finished run: its meta (with the
    sampler seeds and studies of the budget curves; ``runs``: sampler seed → (config, study
    group)) and every trial (the storage read afresh)."""
    meta = {**run_meta(config, storage, group), "device": device, "sampler_seeds": list(runs),
            "budget_runs": [name for _, name in runs.values()]}  # fmt: skip
    _, opened = load_run(storage, group)
    return meta, trial_rows(opened)


def _finite(value):
    """JSON has no NaN: null instead (recursively)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def results_json(meta: dict, rows: list[ResultRow], trials: list[dict], curves=()) -> str:
    """Settings, versions, what was compared (in words), the results, the budget curves
    (:class:`~.budget.BudgetCurve` each, if any), every trial and the paper's table (its
    own models and data), as JSON."""
    times = of_rows(rows)
    base = REGISTRY[baseline()].name
    measured = any(r.test for r in rows)
    splits = split_note(meta["task"], meta.get("metric", ""), measured) if "task" in meta else ""
    payload = dict(meta=meta, comparison=comparison_note(rows, meta.get("trials")), splits=splits,
                   results=[r.as_dict() for r in rows],
                   time_to_target=dict(note=target_note(times, base, meta.get("metric", "")),
                                       rows=[target_dict(t) for t in times]),
                   budget_curves=[asdict(c) for c in curves], trials=trials,
                   paper_table1=dict(note=PAPER_NOTE, rows=paper_rows()))  # fmt: skip
    return json.dumps(_finite(payload), indent=1, allow_nan=False) + "\n"


def results_csv(rows: list[ResultRow], versions: dict[str, str]) -> str:
    """One row per optimizer, with a version_* column per package."""
    buffer = io.StringIO()
    fields = CSV_FIELDS + [f"version_{k}" for k in versions]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    times = of_rows(rows)
    for r in rows:
        d = r.as_dict()
        d["seeds"] = " ".join(map(str, d["seeds"]))
        d["values"] = " ".join("nan" if v is None else repr(v) for v in d["values"])
        d.update({**_gate_csv(r), **_search_csv(r), **_paired_csv(r),
                  **target_csv(times, r.optimizer), **_test_csv(r)})  # fmt: skip
        d.update({f"version_{k}": v for k, v in versions.items()})
        writer.writerow({k: d[k] for k in fields})
    return buffer.getvalue()
