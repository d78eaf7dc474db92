"""The measures of one optimizer's (α0 × seed) results: the width of its good α0 range,
its divergence rate, and the paired difference from the reference at one α0.

Arrays hold the final metric, +∞ for a diverged run and NaN for one not run."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vradam.sim.measures import t_interval
from vradam.studies.robustness.config import TOLERANCE


@dataclass(frozen=True)
class Width:
    """Where an optimizer's mean stays within ``tolerance`` of its best (see the module)."""

    decades: float  # the qualifying α0, in decades: the pieces' lengths summed (NaN: none)
    low: float  # the smallest and largest qualifying α0 (NaN when none)
    high: float
    best_index: int  # the grid index of the best mean (−1: none)
    censored_low: bool  # a piece reaches the grid's smallest α0 (it may go further)
    censored_high: bool  # … its largest
    pieces: tuple[tuple[float, float], ...] = ()  # (low, high) α0 of each run of points

    @property
    def censored(self) -> bool:
        return self.censored_low or self.censored_high


def seed_means(values: np.ndarray) -> np.ndarray:
    """(P, S) → (P,): the mean over the seeds that ran (NaN: none ran; +∞: one diverged)."""
    values = np.asarray(values, dtype=np.float64)
    ran = ~np.isnan(values)
    total = np.where(ran, values, 0.0).sum(axis=-1)
    count = ran.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def robust_width(lrs, values, tolerance: float = TOLERANCE) -> Width:
    """How wide, in decades of α0, the set is where the mean over seeds is within
    ``tolerance`` of the best mean (at most best + tolerance·|best|; lower is better).

    ``lrs``: the grid (P,), ascending; ``values``: (P, S) final metrics, +∞ for a diverged
    run and NaN for one not run (or (P,) means). A point with a diverged seed has a mean of
    +∞ and never qualifies. Each run of consecutive qualifying points is one piece,
    extended on each side to where the mean, interpolated linearly in log10 α0, crosses the
    threshold, when the next point out has a finite mean (not into a diverged or missing
    one); the width is the pieces' lengths summed, so a noisy point just over the threshold
    inside a good range costs the stretch around it, not the rest of the range.
    """
    x = np.log10(np.asarray(lrs, dtype=np.float64))
    values = np.asarray(values, dtype=np.float64)
    mean = seed_means(values) if values.ndim == 2 else values
    finite = np.isfinite(mean)
    if not finite.any():
        return Width(math.nan, math.nan, math.nan, -1, False, False)
    best = int(np.flatnonzero(finite)[np.argmin(mean[finite])])
    threshold = mean[best] + tolerance * abs(mean[best])
    good = finite & (mean <= threshold)
    last = len(x) - 1

    def edge(inner: int, outer: int) -> float:
        if outer < 0 or outer > last or not finite[outer]:  # the grid's end, or no value
            return x[inner]
        frac = (threshold - mean[inner]) / (mean[outer] - mean[inner])
        return x[inner] + frac * (x[outer] - x[inner])

    pieces, i = [], 0
    while i <= last:
        if not good[i]:
            i += 1
            continue
        j = i
        while j < last and good[j + 1]:
            j += 1
        pieces.append((edge(i, i - 1), edge(j, j + 1)))
        i = j + 1
    first, end = np.flatnonzero(good)[[0, -1]]
    return Width(
        decades=float(sum(hi - lo for lo, hi in pieces)), low=10.0 ** pieces[0][0],
        high=10.0 ** pieces[-1][1], best_index=best, censored_low=bool(first == 0),
        censored_high=bool(end == last),
        pieces=tuple((10.0**lo, 10.0**hi) for lo, hi in pieces),
    )  # fmt: skip


def divergence_rate(values) -> float:
    """Diverged runs (+∞) over runs (not NaN): a share in [0, 1], NaN when none ran."""
    values = np.asarray(values, dtype=np.float64)
    ran = ~np.isnan(values)
    return float(np.isinf(values[ran]).sum() / ran.sum()) if ran.any() else math.nan


@dataclass(frozen=True)
class PairedDifference:
    """One optimizer against the reference at one α0, paired by seed."""

    mean: float  # mean of (optimizer − reference) over the seeds where both finished
    half_width: float  # of its 95 % t-interval (NaN with fewer than 2 pairs)
    pairs: int  # seeds where both finished
    lower: int  # seeds where the optimizer's metric was lower (only the reference diverged too)
    higher: int  # seeds where it was higher (only the optimizer diverged too)
    both_diverged: int
    seeds: int  # seeds where both ran

    @property
    def significant(self) -> int:
        """−1: the interval lies below 0, +1: above, 0: it holds 0 (or there is none)."""
        if not math.isfinite(self.half_width):
            return 0
        if self.mean + self.half_width < 0:
            return -1
        return 1 if self.mean - self.half_width > 0 else 0


def paired_difference(values, reference, confidence: float = 0.95) -> PairedDifference:
    """``values`` − ``reference`` seed by seed: (S,) each, +∞ diverged, NaN not run."""
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    ran = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[ran], b[ran]
    finished = np.isfinite(a) & np.isfinite(b)
    mean, half = t_interval((a[finished] - b[finished]).tolist(), confidence)
    return PairedDifference(
        mean=mean, half_width=half, pairs=int(finished.sum()), lower=int((a < b).sum()),
        higher=int((a > b).sum()), both_diverged=int((np.isinf(a) & np.isinf(b)).sum()),
        seeds=int(ran.sum()),
    )  # fmt: skip


# ----------------------------------------------------------------------------- summary
