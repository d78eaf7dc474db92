"""The Networks page's state without Streamlit: each run's labels, colours and figure, its
results table, captions and summaries, and its exports (CSV, JSON).

A page result is the dict the page keeps in session state: ``config`` (a
:class:`~vradam.studies.training.TrainConfig`), ``seeds``, ``runs`` (one list of training
records per seed) and ``done`` (False when Stop cut the run short).
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from vradam.app.figures import networks as netplots
from vradam.app.figures.colors import assign_colors
from vradam.sim import export
from vradam.sim.measures import gate_across, gate_means, percent
from vradam.studies.networks import Task, get_task
from vradam.studies.training import TrainConfig, final_records, gate_activities


def labels_colors(config: TrainConfig):
    specs = config.specs()
    return [s.display_name for s in specs], assign_colors(specs)


def results_figure(runs, labels, colors, config: TrainConfig, narrow: bool = False) -> dict:
    """The training panels: the paper's tasks show their own metrics (perplexity, TB loss
    and distance to the true distribution, flow-matching loss). ``narrow`` (a phone): one
    column, so no panel's title runs into its neighbour's."""
    panels = get_task(config.task).figure_panels(config.sharpness_every > 0)
    if narrow:
        panels = panels or netplots.default_panels(runs)
        return netplots.training_figure(runs, labels, colors, config.steps, panels=panels,
                                        cols=1, height=80 + 230 * len(panels))  # fmt: skip
    return netplots.training_figure(runs, labels, colors, config.steps, panels=panels)


EXTRA_COLUMNS = [("val_ppl", "val perplexity"), ("val_l1", "val L1 to the true distribution")]


GATE_COLUMNS = ("η/α₀ min · median · final", "clip active", "η ≥ 0.99·α₀", "gate")
GATE_CAPTION = (
    "The table's gate columns say what the gate did over each run: a run with "
    "η ≥ 0.99·α₀ on at least 99 % of its steps (or ≥ 0.985·α₀ on all) behaved as AdamW "
    "at α₀ (VRMomentum: as EMA momentum), one clipped at α₁ on at least 99 % behaved as "
    "AdamW at α₀/(1+α₁); only the rest were gated"
)


def gate_cells(gates: list) -> dict:
    """The table's gate columns for one optimizer's runs (one GateActivity per seed, none
    for an optimizer without the gate: "—"): η/α₀ at its minimum, median and final step
    (means over the seeds), the share of steps clipped at α₁ and at ≥ 0.99·α₀ (over
    all seeds' steps), and the verdict in words (vradam.sim.measures.gate_activity)."""
    if not any(g.steps for g in gates):  # no gate, or no update before a divergence
        cells = dict.fromkeys(GATE_COLUMNS, "—")
        cells[GATE_COLUMNS[3]] = gate_across(gates, "seeds") or "—"
        return cells
    m = gate_means(gates)
    return {
        GATE_COLUMNS[0]: " · ".join(f"{m[k]:.3g}" for k in ("minimum", "median", "final")),
        GATE_COLUMNS[1]: f"{percent(m['clipped_fraction'])} of steps",
        GATE_COLUMNS[2]: f"{percent(m['ungated_fraction'])} of steps",
        GATE_COLUMNS[3]: gate_across(gates, "seeds"),
    }


def summary_rows(result: dict) -> list[dict]:
    config: TrainConfig = result["config"]
    labels, _ = labels_colors(config)
    specs = config.specs()
    gates = [gate_activities(run, specs) for run in result["runs"] if run]
    rows = []
    for i, label in enumerate(labels):
        finals = [final_records(run).get(i, {}) for run in result["runs"] if run]
        diverged = sum(bool(f.get("diverged")) for f in finals)
        row = {"optimizer": label}
        task = get_task(config.task)
        keys = task.evaluation_keys
        columns = [("train_loss", "final train loss"), ("val_loss", "val loss")]
        if task.evaluate is None:  # the default evaluation (regression: "—")
            columns.append(("val_acc", "val accuracy"))
        columns += [(k, name) for k, name in EXTRA_COLUMNS if k in keys]
        for key, name in columns:
            values = [f[key] for f in finals if key in f and not f.get("diverged")]
            if values:
                mean = float(np.mean(values))
                row[name] = (
                    f"{mean:.4g}"
                    if len(values) == 1
                    else (f"{mean:.4g} ± {float(np.std(values)):.2g}")
                )
            else:
                row[name] = "—"
        row.update(gate_cells([g[i] for g in gates if i in g]))
        row["diverged"] = f"{diverged}/{len(finals)} runs" if diverged else "no"
        rows.append(row)
    return rows


def records_csv(result: dict) -> str:
    buffer = io.StringIO()
    extra = [k for k, _ in EXTRA_COLUMNS if k in get_task(result["config"].task).evaluation_keys]
    fields = ["seed", "spec", "label", "step", "loss", "grad_norm", "effective_lr",
              "velocity_sq_norm", "clip_active", "train_loss", "train_acc", "val_loss",
              "val_acc", *extra, "sharpness", "sharpness_kind", "threshold",
              "diverged"]  # fmt: skip
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for seed, run in zip(result["seeds"], result["runs"]):
        for r in run:
            writer.writerow({**r, "seed": seed})
    return buffer.getvalue()


def records_json(result: dict) -> str:
    config: TrainConfig = result["config"]
    meta = dict(task=config.task, optimizers=list(config.optimizers), steps=config.steps,
                batch_size=config.batch_size, seeds=result["seeds"], device=config.device,
                complete=result["done"], versions=export.versions())  # fmt: skip

    def clean(r):
        out = {}
        for k, v in r.items():
            if isinstance(v, np.ndarray | dict):  # decision boundaries, outputs, weights
                continue
            out[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        return out

    runs = [[clean(r) for r in run] for run in result["runs"]]
    return json.dumps(dict(meta=meta, runs=runs))


def final_values(records: list[dict], key: str, n: int) -> list:
    """Each optimizer's final value of ``key`` (None where it diverged)."""
    finals = final_records(records)
    return [finals.get(i, {}).get(key) for i in range(n)]


def metric_summary(records: list[dict], labels: list[str], task: Task) -> str:
    """The paper's tasks: each optimizer's final perplexity or distribution distance."""
    finals = final_records(records)
    out = ""
    for key, name in EXTRA_COLUMNS:
        values = [f"{labels[i]} {r[key]:.4g}" for i, r in sorted(finals.items())
                  if key in task.evaluation_keys and not r.get("diverged")]  # fmt: skip
        if values:
            out += f" Final {name}: " + ", ".join(values) + "."
    return out


def results_caption(task: Task, config: TrainConfig) -> str:
    same = "Same initial weights and the same batches for every optimizer"
    if task.objective is not None:
        same += " (and the same noise, times or sampled trajectories at each step)"
    text = f"{same}. η_t is VRAdam's gated rate (others: their learning rate)"
    if any(spec.info.velocity_regularized for spec in config.specs()):
        text += f". {GATE_CAPTION}"
    if task.reference is not None:
        text += f". {task.reference().rstrip('.')}"
    if not task.sharpness:
        return f"{text}. No sharpness here: {task.sharpness_note}."
    if config.sharpness_every == 0:
        return f"{text}. Sharpness is off: choose “sharpness every” in the sidebar to measure it."
    samples = min(config.sharpness_samples, task.sharpness_samples or config.sharpness_samples)
    return (
        f"{text}; sharpness is λmax of the loss Hessian on up to {samples} training examples, "
        "preconditioned (λmax(P^-½HP^-½)) for adaptive methods, against each optimizer's "
        "stability threshold."
    )
