"""Slider options on a 1-1.5-2-3-5-7 log scale, and how a slider shows a value."""

from __future__ import annotations

import math

_NICE = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)


def log_options(lo: float, hi: float, current: float | None = None, zero: bool = False):
    """1-1.5-2-3-5-7 steps between lo and hi, plus the current value (for select_slider)."""
    values = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        values += [m * 10.0**k for m in _NICE if lo * 0.999 <= m * 10.0**k <= hi * 1.001]
    values = [float(f"{v:.3g}") for v in values]
    if current is not None and current > 0:
        values.append(float(current))
    out = sorted(set(values))
    return [0.0, *out] if zero else out


def fmt_value(v: float) -> str:
    return "0 (off)" if v == 0 else f"{v:.3g}"
