"""A result in words and tables: per optimizer (:func:`summary_rows`), per α0
(:func:`difference_rows`), sentences (:func:`statement`, :func:`headline`), and JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from vradam.studies.robustness.config import MIN_SEEDS, ROW_FIELDS, RobustnessConfig
from vradam.studies.robustness.measures import PairedDifference, Width
from vradam.studies.robustness.runs import study_rows
from vradam.studies.robustness.summary import Curve, RobustnessResult, summarize


def _g(x: float) -> str:
    return f"{x:.3g}"


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _range_text(w: Width) -> str:
    """ "0.003 – 0.05", or with a gap "0.003 – 0.05 in 2 pieces"; "—" for none."""
    if not math.isfinite(w.decades):
        return "—"
    more = f" in {len(w.pieces)} pieces" if len(w.pieces) > 1 else ""
    return f"{_g(w.low)} – {_g(w.high)}{more}"


def _width_text(w: Width) -> str:
    if not math.isfinite(w.decades):
        return "—"
    text = f"{w.decades:.2f}"
    return f"≥ {text}" if w.censored else text


def summary_rows(result: RobustnessResult) -> list[dict]:
    """One row per optimizer: best α0 and mean, the width and range, divergences, gate."""
    out = []
    for k, c in enumerate(result.curves):
        w, best = c.width, result.best_lr(k)
        i = w.best_index
        row = {
            "optimizer": c.label,
            "best α₀": _g(best) if math.isfinite(best) else "—",
            f"best mean {result.metric_name}": _g(float(c.mean[i])) if i >= 0 else "—",
            f"width (decades, within {_pct(result.tolerance)})": _width_text(w),
            "α₀ range": _range_text(w),
            "diverged runs": f"{c.diverged_runs} of {c.runs}"
            + (f" ({_pct(c.divergence_rate)})" if c.runs else ""),
        }
        if c.gated:
            row["gate at the best α₀"] = c.gate[i] if i >= 0 else "—"
        out.append(row)
    return out


def _diff_text(d: PairedDifference) -> str:
    if d.pairs == 0:
        return "—"
    if not math.isfinite(d.half_width):
        return f"{d.mean:+.3g}"
    return f"{d.mean:+.3g} ± {d.half_width:.2g}"


def difference_rows(result: RobustnessResult) -> list[dict]:
    """One row per (α0, optimizer): mean ± sd over seeds, divergences, the paired
    difference from the reference with its 95 % interval, and the gate."""
    ref = result.curves[result.reference].label
    out = []
    for p, lr in enumerate(result.lrs):
        for k, c in enumerate(result.curves):
            v = c.values[p]
            finite = v[np.isfinite(v)]
            ran = int((~np.isnan(v)).sum())
            row = {
                "α₀": _g(float(lr)),
                "optimizer": c.label,
                f"mean {result.metric_name}": _g(float(finite.mean())) if finite.size else "—",
                "sd": _g(float(finite.std(ddof=1))) if finite.size > 1 else "—",
                "diverged": f"{int(np.isinf(v).sum())} of {ran}",
            }
            d = c.differences[p]
            if k == result.reference:
                row[f"− {ref} (95 % CI)"] = "reference"
                row["lower in"] = "—"
            else:
                row[f"− {ref} (95 % CI)"] = _diff_text(d)
                row["lower in"] = f"{d.lower} of {d.seeds}" if d.seeds else "—"
            if c.gated:
                row["gate"] = c.gate[p] or "—"
                row["median η/α₀"] = _g(c.gate_median[p]) if math.isfinite(c.gate_median[p]) \
                    else "—"  # fmt: skip
            out.append(row)
    return out


def _lr_list(values: list[float]) -> str:
    return ", ".join(_g(v) for v in values)


def statement(result: RobustnessResult) -> list[str]:
    """The result in sentences, every number from the result (one list item each)."""
    lines = []
    if result.runs < result.expected_runs:
        lines.append(f"Partial: {result.runs} of {result.expected_runs} runs done; every "
                     "number below is over the runs done.")  # fmt: skip
    n_seeds = len(result.seeds)
    if n_seeds < MIN_SEEDS:
        lines.append(f"{n_seeds} seed{'s' if n_seeds != 1 else ''} only: the protocol asks for "
                     f"at least {MIN_SEEDS}, and intervals over so few are wide.")  # fmt: skip
    for k, c in enumerate(result.curves):
        w = c.width
        rate = (f"{c.diverged_runs} of {c.runs} runs diverged ({_pct(c.divergence_rate)})"
                if c.runs else "no run done")  # fmt: skip
        if not math.isfinite(w.decades):
            lines.append(f"{c.label}: no α₀ where every seed finished; {rate}.")
            continue
        bound = " (at least: the range reaches the grid's end)" if w.censored else ""
        lines.append(
            f"{c.label}: mean {result.metric_name} within {_pct(result.tolerance)} of its best "
            f"({_g(float(c.mean[w.best_index]))} at α₀ = {_g(result.best_lr(k))}) over "
            f"{w.decades:.2f} decades of α₀ ({_range_text(w)}){bound}; {rate}."
        )
    ref = result.curves[result.reference]
    for k, c in enumerate(result.curves):
        if k == result.reference:
            continue
        if math.isfinite(c.width.decades) and math.isfinite(ref.width.decades):
            gap = c.width.decades - ref.width.decades
            if abs(gap) < 0.005:
                lines.append(f"{c.label}'s range is as wide as {ref.label}'s.")
            else:
                wider = "wider" if gap > 0 else "narrower"
                lines.append(f"{c.label}'s range is {abs(gap):.2f} decades {wider} than "
                             f"{ref.label}'s.")  # fmt: skip
        lines.append(_paired_sentence(result, c, ref))
        gate = _gate_sentence(result, c)
        if gate:
            lines.append(gate)
    below, above = result.coverage()
    if math.isfinite(below):
        short = below < 1 - 1e-9 or above < 1.5 - 1e-9
        lines.append(
            f"{ref.label}'s best α₀ here is {_g(result.best_lr(result.reference))}; the grid "
            f"reaches {below:.2f} decades below it and {above:.2f} above"
            + (" (the protocol asks for ≥ 1 below and ≥ 1.5 above: move the anchor there)."
               if short else ".")
        )  # fmt: skip
    return lines


def headline(result: RobustnessResult) -> str:
    """One sentence: each optimizer's width and divergence rate (a chart's summary line)."""
    parts = []
    for c in result.curves:
        w = c.width
        width = ("no α₀ where every seed finished" if not math.isfinite(w.decades) else
                 f"{'≥ ' if w.censored else ''}{w.decades:.2f} decades")  # fmt: skip
        rate = _pct(c.divergence_rate) if c.runs else "—"
        parts.append(f"{c.label} {width} ({rate} of runs diverged)")
    return (
        f"α₀ range within {_pct(result.tolerance)} of each optimizer's best mean "
        f"{result.metric_name} over {len(result.seeds)} seeds: " + "; ".join(parts) + "."
    )


def _paired_sentence(result: RobustnessResult, c: Curve, ref: Curve) -> str:
    lower, higher, tied, only_ref, only_mine = [], [], [], [], []
    for p, d in enumerate(c.differences):
        lr = float(result.lrs[p])
        s = d.significant
        (lower if s < 0 else higher if s > 0 else tied).append((lr, d))
        ref_div = int(np.isinf(ref.values[p]).sum())
        my_div = int(np.isinf(c.values[p]).sum())
        if ref_div > my_div:
            only_ref.append(lr)
        elif my_div > ref_div:
            only_mine.append(lr)
    name = result.metric_name
    parts = [f"Paired by seed, {c.label}'s {name} minus {ref.label}'s has a 95 % interval"]
    clauses = []
    if lower:
        big = min(lower, key=lambda t: t[1].mean)
        clauses.append(f"below 0 at α₀ = {_lr_list([t[0] for t in lower])} (largest gain "
                       f"{_diff_text(big[1])} at {_g(big[0])})")  # fmt: skip
    if higher:
        big = max(higher, key=lambda t: t[1].mean)
        clauses.append(f"above 0 at α₀ = {_lr_list([t[0] for t in higher])} (largest loss "
                       f"{_diff_text(big[1])} at {_g(big[0])})")  # fmt: skip
    if not clauses:
        text = f"{parts[0]} holding 0 (or too few pairs) at every α₀"
    else:
        text = f"{parts[0]} " + "; ".join(clauses)
        if tied:
            text += f"; it holds 0 (or has too few pairs) at the other {len(tied)}"
    always = [(p, d) for p, d in enumerate(c.differences) if d.seeds >= 2]
    every_lower = [float(result.lrs[p]) for p, d in always if d.lower == d.seeds]
    every_higher = [float(result.lrs[p]) for p, d in always if d.higher == d.seeds]
    both = (("lower", every_lower), ("higher", every_higher))
    signs = [f"{word} in every seed at α₀ = {_lr_list(lrs)}" for word, lrs in both if lrs]
    if signs:
        text += f"; {c.label} was " + " and ".join(signs)
    extra = []
    if only_ref:
        extra.append(f"more {ref.label} runs than {c.label} runs diverged at α₀ = "
                     f"{_lr_list(only_ref)}")  # fmt: skip
    if only_mine:
        extra.append(f"more {c.label} runs diverged at α₀ = {_lr_list(only_mine)}")
    return text + (" (" + "; ".join(extra) + ")" if extra else "") + "."


def _gate_sentence(result: RobustnessResult, c: Curve) -> str:
    """Where the gate acted: the α0 values at which every seed's run got the same label."""
    if not c.gated:
        return ""
    same: dict[str, list[float]] = {}
    mixed = []
    for p, labels in enumerate(c.gate_labels):
        if labels and len(set(labels)) == 1:
            same.setdefault(labels[0], []).append(float(result.lrs[p]))
        elif labels:
            mixed.append(float(result.lrs[p]))
    parts = [f"{label} in every seed at α₀ = {_lr_list(lrs)}" for label, lrs in same.items()]
    if mixed:
        parts.append(f"mixed over seeds at α₀ = {_lr_list(mixed)}")
    return f"{c.label}'s gate: " + "; ".join(parts) + "."


def json_ready(value):
    """NaN and ±∞ as None (JSON has neither), numpy scalars as Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_dict(result: RobustnessResult) -> dict:
    """The measures for JSON: per optimizer its width, divergences and, at each α0, the
    mean, the paired difference from the reference and the gate (None for NaN)."""
    out = []
    for k, c in enumerate(result.curves):
        w = c.width
        per_lr = []
        for p, lr in enumerate(result.lrs):
            v = c.values[p]
            d = c.differences[p]
            per_lr.append(dict(
                lr=float(lr), runs=int((~np.isnan(v)).sum()), diverged=int(np.isinf(v).sum()),
                mean=json_ready(float(c.mean[p])),
                finite_mean=json_ready(float(c.finite_mean[p])),
                difference=None if k == result.reference else dict(
                    mean=json_ready(d.mean), ci95=json_ready(d.half_width), pairs=d.pairs,
                    lower=d.lower, higher=d.higher, both_diverged=d.both_diverged,
                    seeds=d.seeds),
                gate=c.gate[p] or None, gate_median_eta_ratio=json_ready(float(c.gate_median[p])),
            ))  # fmt: skip
        out.append(dict(
            optimizer=c.spec, label=c.label, reference=k == result.reference,
            best_lr=json_ready(result.best_lr(k)),
            best_mean=json_ready(float(c.mean[w.best_index])) if w.best_index >= 0 else None,
            width_decades=json_ready(w.decades), range=[json_ready(w.low), json_ready(w.high)],
            pieces=[list(piece) for piece in w.pieces],
            width_censored=w.censored, runs=c.runs, diverged_runs=c.diverged_runs,
            divergence_rate=json_ready(c.divergence_rate), per_lr=per_lr,
        ))  # fmt: skip
    below, above = result.coverage()
    return dict(metric=result.metric, metric_name=result.metric_name,
                tolerance=result.tolerance, reference=result.curves[result.reference].spec,
                grid=[float(x) for x in result.lrs], seeds=list(result.seeds),
                coverage_decades=dict(below=json_ready(below), above=json_ready(above)),
                runs=result.runs, expected_runs=result.expected_runs, optimizers=out,
                statement=statement(result))  # fmt: skip


def study_json(config: RobustnessConfig, rows: Iterable[dict], device: str, **meta) -> str:
    """The study as JSON: ``meta`` (settings, grid, device, columns, versions and any
    ``meta`` given), ``rows`` (this study's, :data:`ROW_FIELDS` each, null for NaN) and
    ``summary`` (:func:`result_dict`)."""
    import json

    from vradam.sim import export

    rows = study_rows(config, rows)
    specs = config.specs()
    head = dict(config.settings(), optimizers=[str(s) for s in specs],
                reference=str(specs[config.reference]), anchor=config.anchor_lr,
                below=config.below, above=config.above, points=config.points,
                seeds=config.seed_list(), grid=[float(x) for x in config.lrs()],
                tolerance=config.tolerance, device=device, columns=ROW_FIELDS,
                versions=export.versions(), **meta)  # fmt: skip
    records = [{k: json_ready(r.get(k)) for k in ROW_FIELDS} for r in rows]
    summary = result_dict(summarize(config, rows))
    return json.dumps(dict(meta=head, rows=records, summary=summary), allow_nan=False)
