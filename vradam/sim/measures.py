"""Measures of a loss curve, one definition each, used by every layer (the Playground's
table and scenarios, the lessons, the Edge of stability page, the summaries).

* :func:`loss_increases`: how many steps the loss went up (a tiny wiggle counts like a big
  one; a monotone descent gives 0);
* :func:`upward_movement`: Σ max(0, Δ log f), how far the loss climbed in total (each rise
  weighed by its size; a steady descent at any speed adds nothing). ``base=10`` measures it
  in decades, as the lessons say it;
* :func:`amplitude`: the standard deviation of Δ log f, the oscillation with the trend
  removed (0 for a descent at a constant rate, whatever the rate).

Mean |Δ log f| is not offered: it counts a steady descent as oscillation. Losses are
floored at 1e-300 before the logarithm (a loss of exactly 0 is a descent, not −inf); a
step into or out of a non-finite loss adds nothing. Each takes losses along the last axis
and returns one value per row.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["amplitude", "loss_increases", "upward_movement"]

FLOOR = 1e-300


def _dlog(loss, base: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.diff(np.log(np.maximum(np.asarray(loss, dtype=np.float64), FLOOR)), axis=-1)
    return d if base == math.e else d / math.log(base)


def loss_increases(loss) -> np.ndarray | int:
    """The number of steps on which the loss went up: (T+1,) → int, (N, T+1) → (N,)."""
    count = (np.diff(np.asarray(loss, dtype=np.float64), axis=-1) > 0).sum(axis=-1)
    return int(count) if np.ndim(count) == 0 else count


def upward_movement(loss, base: float = math.e) -> np.ndarray | float:
    """Σ max(0, Δ log f) in log base ``base``: (T+1,) → float, (N, T+1) → (N,)."""
    d = _dlog(loss, base)
    total = np.where(np.isfinite(d) & (d > 0), d, 0.0).sum(axis=-1)
    return float(total) if np.ndim(total) == 0 else total


def amplitude(loss) -> np.ndarray | float:
    """The standard deviation of Δ ln f (NaN with fewer than 3 losses)."""
    d = _dlog(loss, math.e)
    if d.shape[-1] < 2:
        return float("nan") if d.ndim == 1 else np.full(d.shape[:-1], np.nan)
    out = np.std(d, axis=-1)
    return float(out) if np.ndim(out) == 0 else out
