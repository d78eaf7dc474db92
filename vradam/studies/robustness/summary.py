"""A study's rows as arrays and measures: one :class:`Curve` per optimizer in a
:class:`RobustnessResult`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

import landscapes
from vradam.studies.networks import get_task
from vradam.studies.robustness.config import RobustnessConfig, round_lr
from vradam.studies.robustness.measures import (
    PairedDifference,
    Width,
    divergence_rate,
    paired_difference,
    robust_width,
    seed_means,
)


@dataclass(frozen=True)
class Curve:
    """One optimizer over the grid."""

    spec: str  # the optimizer without α0
    label: str
    values: np.ndarray  # (P, S) final metric; +∞ diverged, NaN not run
    width: Width
    differences: tuple[PairedDifference, ...]  # (P,) against the reference
    gate_labels: tuple[tuple[str, ...], ...]  # (P,) each seed's gate label (() without a gate)
    gate_median: np.ndarray  # (P,) the seeds' mean of median η/α0 (NaN without a gate)

    @property
    def gated(self) -> bool:
        return any(self.gate_labels)

    @property
    def gate(self) -> tuple[str, ...]:
        """(P,) what the gate did over the seeds, in words ("" without a gate)."""
        return tuple(gate_words(labels) for labels in self.gate_labels)

    @property
    def mean(self) -> np.ndarray:
        """(P,) over the seeds run; +∞ where one diverged."""
        return seed_means(self.values)

    @property
    def finite_mean(self) -> np.ndarray:
        """(P,) over the seeds that finished (NaN: none did), for drawing."""
        v = np.where(np.isfinite(self.values), self.values, np.nan)
        return seed_means(v)

    @property
    def runs(self) -> int:
        return int((~np.isnan(self.values)).sum())

    @property
    def diverged_runs(self) -> int:
        return int(np.isinf(self.values).sum())

    @property
    def divergence_rate(self) -> float:
        return divergence_rate(self.values)


@dataclass(frozen=True)
class RobustnessResult:
    kind: str
    task: str
    title: str  # the task's or the landscape's name
    metric: str  # the row key ("val_loss", "final_gap")
    metric_name: str  # in words
    steps: int
    lrs: np.ndarray  # (P,) ascending
    seeds: tuple[int, ...]
    anchor: float
    reference: int
    tolerance: float
    curves: tuple[Curve, ...]
    expected_runs: int
    notes: tuple[str, ...] = field(default=())

    @property
    def runs(self) -> int:
        return sum(c.runs for c in self.curves)

    def best_lr(self, k: int) -> float:
        i = self.curves[k].width.best_index
        return math.nan if i < 0 else float(self.lrs[i])

    def coverage(self) -> tuple[float, float]:
        """(decades below, decades above) the reference's measured best α0 that the grid
        reaches (NaN, NaN without one)."""
        best = self.best_lr(self.reference)
        if not math.isfinite(best):
            return math.nan, math.nan
        return (float(np.log10(best / self.lrs[0])), float(np.log10(self.lrs[-1] / best)))


def _metric_name(config: RobustnessConfig) -> str:
    if config.kind == "landscape":
        return "gap f − f*"
    return config.metric.replace("val_", "validation ").replace("_", " ")


def summarize(config: RobustnessConfig, rows: Iterable[dict]) -> RobustnessResult:
    """The study's arrays and measures from its rows (others, e.g. of another grid in the same
    file, are ignored; a run listed twice counts once, the last)."""
    specs, lrs, seeds = config.specs(), config.lrs(), config.seed_list()
    names = [str(s) for s in specs]
    settings = config.settings()
    want = {k: settings[k] for k in ("kind", "task", "metric", "steps", "batch_size")}
    values = np.full((len(specs), len(lrs), len(seeds)), np.nan)
    gates: dict[tuple[int, int, int], dict] = {}  # (optimizer, α0, seed) → row
    lr_index = {float(lr): p for p, lr in enumerate(lrs)}
    seed_index = {s: n for n, s in enumerate(seeds)}
    for r in rows:
        if any(r.get(k) != v for k, v in want.items()):
            continue
        if float(r.get("noise_std") or 0.0) != config.noise_std or r["optimizer"] not in names:
            continue
        p, n = lr_index.get(round_lr(float(r["lr"]))), seed_index.get(int(r["seed"]))
        if p is None or n is None:
            continue
        k = names.index(r["optimizer"])
        values[k, p, n] = math.inf if r["diverged"] else float(r["value"])
        if r.get("gate_label"):
            gates[k, p, n] = r
    ref = config.reference
    curves = []
    for k, spec in enumerate(specs):
        diffs = tuple(paired_difference(values[k, p], values[ref, p]) for p in range(len(lrs)))
        labels, medians = [], []
        for p in range(len(lrs)):
            mine = [gates[k, p, n] for n in range(len(seeds)) if (k, p, n) in gates]
            labels.append(tuple(g["gate_label"] for g in mine))
            finite = [g["eta_ratio_median"] for g in mine
                      if isinstance(g.get("eta_ratio_median"), float)
                      and math.isfinite(g["eta_ratio_median"])]  # fmt: skip
            medians.append(float(np.mean(finite)) if finite else math.nan)
        curves.append(Curve(
            spec=str(spec), label=spec.display_name, values=values[k],
            width=robust_width(lrs, values[k], config.tolerance), differences=diffs,
            gate_labels=tuple(labels), gate_median=np.array(medians),
        ))  # fmt: skip
    title = get_task(config.task).name if config.kind == "network" else (
        landscapes.get(config.task).name)  # fmt: skip
    return RobustnessResult(
        kind=config.kind, task=config.task, title=title, metric=config.metric,
        metric_name=_metric_name(config), steps=config.n_steps, lrs=lrs, seeds=tuple(seeds),
        anchor=config.anchor_lr, reference=ref, tolerance=config.tolerance,
        curves=tuple(curves), expected_runs=config.total_runs(),
    )  # fmt: skip


def gate_words(labels: Iterable[str]) -> str:
    """Several seeds' gate labels in words: "gated in 4 of 5 seeds, behaved as AdamW at α₀
    in 1" (the form of :func:`vradam.sim.measures.gate_across`); "" for none."""
    labels = list(labels)
    if not labels:
        return ""
    counts = Counter(labels)
    parts = [f"{label} in {k}" for label, k in counts.most_common()]
    parts[0] += f" of {len(labels)} seed{'s' if len(labels) != 1 else ''}"
    return ", ".join(parts)
