"""Paired comparisons: each optimizer minus the baseline over the evaluation seeds both ran.

Every optimizer's best setting trains on the same evaluation seeds (the same data split,
initial weights and batches per seed), so the runs pair by seed and the seed-to-seed
spread, common to both, cancels in the difference. The headline is the mean difference
d̄ = mean(x_s − b_s) over the paired seeds with the half-width of its 95 % Student t
interval, t(0.975, n − 1)·sd(d)/√n (scipy's ``ttest_rel(...).confidence_interval()``).

Diverged runs: a seed on which either run diverged has no difference, so it is left out of
the interval and counted beside it (``diverged``). Leaving it out flatters the optimizer
that diverged, so the win count (``lower``: seeds on which this optimizer ended lower than
the baseline) counts a diverged run as a loss for the optimizer that diverged (a seed on
which both diverged is a win for neither). Read the interval with that count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vradam.sim.measures import t_interval
from vradam.studies.tuning.config import MIN_SEEDS


@dataclass(frozen=True)
class Paired:
    """One optimizer's paired difference from the baseline (this − baseline)."""

    baseline: str  # the baseline's registry key
    seeds: tuple[int, ...]  # the seeds both have a run on (finished or diverged)
    pairs: int  # seeds on which both runs finished: the interval's n
    mean: float  # mean difference over those seeds (negative: lower than the baseline)
    ci95: float  # half-width of its 95 % t-interval (NaN below 2 pairs)
    lower: int  # seeds on which this optimizer ended lower (a diverged run loses)
    higher: int  # seeds on which the baseline ended lower (a diverged run loses)
    diverged: int  # seeds left out of the interval because a run diverged

    @property
    def enough(self) -> bool:
        """At least :data:`MIN_SEEDS` pairs: an interval worth reading."""
        return self.pairs >= MIN_SEEDS

    @property
    def low(self) -> float:
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        return self.mean + self.ci95


def paired_difference(
    values: dict[int, float | None], base: dict[int, float | None], baseline: str
) -> Paired:
    """``values`` minus ``base`` over the seeds both have (seed → metric, None: diverged)."""
    seeds = tuple(s for s in values if s in base)
    ok = lambda v: v is not None and math.isfinite(v)  # noqa: E731
    diffs = [values[s] - base[s] for s in seeds if ok(values[s]) and ok(base[s])]
    mean, half = t_interval(diffs)
    lower = higher = 0  # a diverged run loses to a finished one; both diverged: neither
    for s in seeds:
        x, b = ok(values[s]), ok(base[s])
        if x and (not b or values[s] < base[s]):
            lower += 1
        elif b and (not x or base[s] < values[s]):
            higher += 1
    return Paired(baseline=baseline, seeds=seeds, pairs=len(diffs), mean=mean, ci95=half,
                  lower=lower, higher=higher, diverged=len(seeds) - len(diffs))  # fmt: skip


def paired_text(p: Paired | None) -> str:
    """The table's headline cell: "−0.0043 ± 0.0021 (5 seeds)", or why there is none."""
    if p is None:
        return "baseline"
    if not p.seeds:
        return "— (no seed runs to pair)"
    left = f"; {p.diverged} diverged, left out" if p.diverged else ""
    if not p.enough:
        return f"not enough seeds ({p.pairs} paired{left})"
    mean = f"{p.mean:+.3g}"
    mean = "−" + mean[1:] if mean.startswith("-") else mean  # a minus sign, not a hyphen
    return f"{mean} ± {p.ci95:.2g} ({p.pairs} seeds{left})"


def wins_text(p: Paired | None) -> str:
    """ "4 of 5 seeds": where this optimizer ended lower than the baseline."""
    if p is None:
        return "—"
    return f"{p.lower} of {len(p.seeds)} seeds"
