"""The Edge of stability page's statements over more seeds and in both float precisions.

At the edge the MLP runs are chaotic, so a count measured on three seeds in float32 can
change in float64 ("GD stays at its edge for most of the run" held in 3 of 3 seeds in
float32 and 1 of 3 in float64). :func:`precision_rows` measures every statement of
:func:`vradam.studies.eos_findings.findings` on seeds 0 … n−1 in float32 and float64, at
the page's β3 and at ``beta3="auto"`` (each seed's β3 as the optimizer calibrates it,
:func:`vradam.studies.training.suggest_beta3`), and adds whether VRAdam's gate has
released by the comparison window (mean η/α0 over it ≥ :data:`RELEASED`). Each seed is
trained on its own (the rows do not depend on which seeds ran together).
:func:`precision_table` and :func:`precision_sentences` say what holds in both precisions.
The page reads the stored rows (``assets/evidence/eos-findings.csv``, written by
``python -m vradam.studies.eos_precision``)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import replace

import torch

from vradam.studies.eos import EoSConfig, EoSResult, run_mlp_seeds
from vradam.studies.eos_findings import Finding, findings

__all__ = ["FIELDS", "PRECISIONS", "RELEASED", "precision_rows", "precision_sentences",
           "precision_table", "read_rows", "rows_csv"]  # fmt: skip

PRECISIONS = {"float32": torch.float32, "float64": torch.float64}
RELEASED = 0.99  # "released": VRAdam's mean η/α0 over the window at least this
SEEDS = 10
FIELDS = ["setting", "beta3", "dtype", "seed", "statement", "measure", "holds", "value",
          "ratio", "window_eta_ratio", "window_start", "steps"]  # fmt: skip
GATE_STATEMENT = "VRAdam's gate has released by the comparison window"


def auto_beta3(config: EoSConfig, seed: int) -> float:
    """β3 as ``beta3="auto"`` calibrates it for this seed's run of VRAdam at the page's α0."""
    from vradam.studies.training import TrainConfig, suggest_beta3

    spec = f"vradam:lr={config.lr_adam:g},beta3=auto,weight_decay=0"
    train = TrainConfig(task="teacher", optimizers=(spec,), steps=config.steps, seed=seed,
                        sharpness_every=0)  # fmt: skip
    return float(f"{suggest_beta3(train, 0):.4g}")


def _gate_finding(results: list[EoSResult]) -> Finding:
    ratios = [r.role("vradam").mean_eta(r.window_start) / _alpha0(r) for r in results]
    first, last = results[0].window
    return Finding(GATE_STATEMENT, f"mean η/α₀ over steps {first}–{last} ≥ {RELEASED:g}",
                   [q >= RELEASED for q in ratios], [f"{q:.4g}" for q in ratios])  # fmt: skip


def _alpha0(result: EoSResult) -> float:
    from vradam.sim.optimizers import OptimizerSpec

    return float(OptimizerSpec.parse(result.role("vradam").spec).hyperparams["lr"])


def _rows(results: list[EoSResult], setting: str, betas: list[float], dtype: str) -> list:
    rows = []
    for f in [*findings(results), _gate_finding(results)]:
        for k, r in enumerate(results):
            vr = r.role("vradam")
            rows.append(dict(
                setting=setting, beta3=betas[k], dtype=dtype, seed=int(r.label.split()[-1]),
                statement=f.statement, measure=f.measure, holds=bool(f.holds[k]),
                value=f.values[k], ratio=f.ratios[k] if f.ratios else math.nan,
                window_eta_ratio=vr.mean_eta(r.window_start) / _alpha0(r),
                window_start=r.window_start, steps=r.steps,
            ))  # fmt: skip
    return rows


def precision_rows(
    config: EoSConfig | None = None,
    seeds: Iterable[int] = range(SEEDS),
    settings: tuple[str, ...] = ("page", "auto"),
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """One row per (setting, precision, statement, seed): ``setting`` "page" is the page's
    β3 (``config.beta3``, default the page's EoSConfig()), "auto" each seed's calibrated β3."""
    config = EoSConfig() if config is None else config
    seeds, rows = list(seeds), []
    betas = {"page": {s: config.beta3 for s in seeds}}
    if "auto" in settings:
        betas["auto"] = {s: auto_beta3(config, s) for s in seeds}
    for setting in settings:
        for name, dtype in PRECISIONS.items():
            results = []
            for s in seeds:
                if progress is not None:
                    progress(f"{setting} β3, {name}, seed {s}")
                one = replace(config, beta3=betas[setting][s])
                results += run_mlp_seeds(one, [s], dtype=dtype)
            rows += _rows(results, setting, [betas[setting][s] for s in seeds], name)
    return rows


def rows_csv(rows: Iterable[dict]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
    return out.getvalue()


def read_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != FIELDS:
        raise ValueError("not an eos-findings file of this version (other columns)")
    out = []
    for r in reader:
        out.append(dict(r, beta3=float(r["beta3"]), seed=int(r["seed"]),
                        holds=r["holds"] == "True", ratio=float(r["ratio"]),
                        window_eta_ratio=float(r["window_eta_ratio"]),
                        window_start=int(r["window_start"]), steps=int(r["steps"])))  # fmt: skip
    return out


def _counts(rows: list[dict], setting: str, statement: str) -> dict[str, tuple[int, int]]:
    out = {}
    for dtype in PRECISIONS:
        mine = [r for r in rows if r["setting"] == setting and r["dtype"] == dtype
                and r["statement"] == statement]  # fmt: skip
        out[dtype] = (sum(r["holds"] for r in mine), len(mine))
    return out


def _ratios(rows: list[dict], setting: str, statement: str) -> str:
    values = [r["ratio"] for r in rows if r["setting"] == setting
              and r["statement"] == statement and math.isfinite(r["ratio"])]  # fmt: skip
    if not values:
        return ""
    lo, hi = min(values), max(values)
    return f"{lo:.2g}" if f"{lo:.2g}" == f"{hi:.2g}" else f"{lo:.2g}–{hi:.2g}"


def both_words(counts: dict[str, tuple[int, int]]) -> str:
    """ "in all 10 seeds in both precisions", "in neither", or "depends on the precision"."""
    (a, n), (b, m) = counts["float32"], counts["float64"]
    if a == n and b == m:
        return "holds in every seed, both precisions"
    if a == 0 and b == 0:
        return "holds in no seed, either precision"
    if min(a / n, b / m) > 0.5:
        return "holds in most seeds, both precisions"
    if max(a / n, b / m) < 0.5:
        return "holds in few seeds, both precisions"
    return "depends on the seed and the precision"


def precision_table(rows: list[dict], setting: str) -> list[dict]:
    """One row per statement: how many seeds it holds in, float32 and float64."""
    statements = list(dict.fromkeys(r["statement"] for r in rows if r["setting"] == setting))
    table = []
    for s in statements:
        c = _counts(rows, setting, s)
        table.append({
            "statement": s, "float32": f"{c['float32'][0]} of {c['float32'][1]}",
            "float64": f"{c['float64'][0]} of {c['float64'][1]}", "in both": both_words(c),
            "VRAdam ÷ control": _ratios(rows, setting, s),
        })  # fmt: skip
    return table


def _count_words(rows: list[dict], setting: str, start: str) -> str:
    statement = next(r["statement"] for r in rows if r["statement"].startswith(start))
    c = _counts(rows, setting, statement)
    return (
        f"{c['float32'][0]} of {c['float32'][1]} (float32) and {c['float64'][0]} of "
        f"{c['float64'][1]} (float64)"
    )


def precision_sentences(rows: list[dict]) -> dict[str, str]:
    """The page's general sentences, each from the stored rows: "damping" (at the page's
    β3: where the damping appears and what it costs) and "auto" (where the gate is at
    ``beta3="auto"``)."""
    page = [r for r in rows if r["setting"] == "page"]
    beta3 = page[0]["beta3"]
    seeds = len({r["seed"] for r in page})
    up = "VRAdam's loss climbs less than the control's"
    out = {
        "damping": (
            f"Over seeds 0–{seeds - 1} at β₃ = {beta3:g}, VRAdam's loss climbs less than the "
            f"control's (Adam at VRAdam's window-mean η) in {_count_words(rows, 'page', up)} "
            f"seeds (VRAdam ÷ control {_ratios(rows, 'page', up)}); the cost: it ends lower "
            "than the control in "
            f"{_count_words(rows, 'page', 'VRAdam ends lower than the control')} and lower "
            f"than Adam at the same α₀ in "
            f"{_count_words(rows, 'page', 'VRAdam ends lower than Adam at the same')}. GD "
            f"stays at its edge for most of the run in "
            f"{_count_words(rows, 'page', 'GD then stays')}."
        ),
    }
    auto = [r for r in rows if r["setting"] == "auto"]
    if auto:
        gate = [r for r in auto if r["statement"] == GATE_STATEMENT]
        lo, hi = min(r["beta3"] for r in auto), max(r["beta3"] for r in auto)
        q = [r["window_eta_ratio"] for r in gate]
        out["auto"] = (
            f'At beta3="auto" (β₃ = {lo:.3g}–{hi:.3g} over these seeds) VRAdam\'s mean '
            f"η/α₀ over the window is {min(q):.4g}–{max(q):.4g}: the gate has released by "
            f"the edge in {_count_words(rows, 'auto', GATE_STATEMENT)} seeds, and its loss "
            f"climbs less than the control's in {_count_words(rows, 'auto', up)} "
            f"(VRAdam ÷ control {_ratios(rows, 'auto', up)})."
        )
    return out


if __name__ == "__main__":  # python -m vradam.studies.eos_precision OUT.csv
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "eos-findings.csv"
    found = precision_rows(progress=lambda text: print(text, file=sys.stderr, flush=True))
    with open(target, "w", newline="") as fh:
        fh.write(rows_csv(found))
    for sentence in precision_sentences(found).values():
        print(sentence)
