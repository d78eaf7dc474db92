"""Axis ticks and ranges: short tick labels, log-axis ticks and log ranges in decades."""

from __future__ import annotations

import math

import numpy as np


def tick_label(v: float) -> str:
    """A short tick label: 0.02, 300, 1e-5, 2e6 (no "×10⁻⁵" that reads as another number)."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{float(f'{v:.3g}'):f}".rstrip("0").rstrip(".")  # 1000, not 1e+03
    mantissa, exponent = f"{v:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def log_ticks(lo: float, hi: float, max_ticks: int = 4) -> dict:
    """``tickvals``/``ticktext`` for a log axis whose range is [lo, hi] decades: at most
    ``max_ticks`` labels, whole decades when the range spans two or more (every k-th decade
    when it spans many), else 1-2-5, 1…9 or 1.0…9.9 multiples; labels by :func:`tick_label`."""
    max_ticks = max(2, max_ticks)
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        step = math.ceil(len(decades) / max_ticks)
        values = [10.0**k for k in decades if k % step == 0]
        if len(values) < 2:
            values = [10.0**k for k in decades[::step]]
    else:
        values = []
        fine = tuple(m / 10 for m in range(10, 100))  # 1.0, 1.1 … 9.9
        for mults in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9), fine):
            values = [m * 10.0**k for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                      for m in mults if lo <= math.log10(m * 10.0**k) <= hi]  # fmt: skip
            if len(values) >= 2:
                break
        if len(values) > max_ticks:
            values = values[:: math.ceil(len(values) / max_ticks)]
        if len(values) < 2:  # under a 40th of a decade: the two ends
            values = [10.0**lo, 10.0**hi]
    values = [float(f"{v:.3g}") for v in values]
    return dict(tickmode="array", tickvals=values, ticktext=[tick_label(v) for v in values])


def log_range(values, pad=0.15) -> list[float]:
    """A log axis range (in decades) covering the positive finite values of all arrays."""
    v = np.concatenate([np.ravel(x) for x in values]) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return [-1.0, 1.0]
    lo, hi = math.log10(v.min()), math.log10(v.max())
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25
    return [lo - pad, hi + pad]
