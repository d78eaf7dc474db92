"""Slider options on a 1-1.5-2-3-5-7 log scale, how a slider shows a value, and a row of
select sliders kept for the session (the Edge of stability and Physics pages)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import streamlit as st

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


def slider_row(
    options: Mapping[str, Sequence],
    labels: Mapping[str, str],
    formats: Mapping[str, Callable] | None = None,
    columns: Sequence | None = None,
) -> list:
    """One select slider a column, in the order of ``labels`` (session-state key → label),
    each kept for the session; returns their values in that order.

    ``options[key]`` lists a slider's choices and ``formats[key]``, where given, shows
    them. The sliders pass no ``value=``: their session-state entry (seeded from the URL
    by ``url_state``) is the value. New columns, one a slider, unless ``columns`` are
    given (the rest of a row that starts with another widget).
    """
    formats = formats or {}
    columns = st.columns(len(labels)) if columns is None else columns
    return [
        column.select_slider(
            label,
            options[key],
            key=key,
            persist_state="session",
            **({"format_func": formats[key]} if key in formats else {}),
        )
        for column, (key, label) in zip(columns, labels.items(), strict=True)
    ]
