"""The robustness figure: the final metric against α0 (log axis), one line per optimizer.

Each line is the mean over the seeds that finished, in a band spanning those seeds' lowest
and highest value; a hollow marker says some seeds diverged at that α0, and a ✕ above the
curves counts them. Under the curves, a bar per optimizer spans its α0 range within the
tolerance of its best mean (the width of :func:`vradam.studies.robustness.robust_width`).
Plain dicts, Unicode labels; the numbers come from a
:class:`~vradam.studies.robustness.RobustnessResult`.
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.colors import GRID_COLOR, rgba
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import band_traces, line_trace
from vradam.studies.robustness import Curve, RobustnessResult

__all__ = ["robustness_figure"]

ANCHOR_COLOR = "rgba(0,0,0,0.35)"


def _list(a: np.ndarray) -> list:
    """Floats with None for NaN (a gap in a line)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64)]


def _y_extent(result: RobustnessResult) -> tuple[bool, float, float]:
    """Whether the metric's axis is log (every finished value positive), and the extent of
    the finished values on it (log₁₀ when log), padded."""
    finite_values = np.concatenate([c.values[np.isfinite(c.values)] for c in result.curves])
    log_y = finite_values.size > 0 and bool((finite_values > 0).all())
    if finite_values.size == 0:
        y_lo, y_hi = (-1.0, 1.0) if log_y else (0.0, 1.0)
    elif log_y:
        y_lo, y_hi = log_range([finite_values], pad=0.1)
    else:
        lo, hi = float(finite_values.min()), float(finite_values.max())
        pad = 0.08 * (hi - lo or abs(hi) or 1.0)
        y_lo, y_hi = lo - pad, hi + pad
    return log_y, y_lo, y_hi


def _curve_traces(
    result: RobustnessResult, c: Curve, color: str, group: str, lrs: list[float], cross_y: float
) -> list[dict]:
    """One optimizer's band over its finished seeds (when more than one finished), its mean
    (hollow where seeds diverged) and the ✕ row counting the diverged seeds."""
    data: list[dict] = []
    v = np.where(np.isfinite(c.values), c.values, np.nan)
    finished = np.isfinite(c.values).sum(axis=1)
    ran = (~np.isnan(c.values)).sum(axis=1)
    diverged = np.isinf(c.values).sum(axis=1)
    some = finished > 0
    filled = np.where(some[:, None], v, 0.0)  # rows with no finished seed: NaN below
    low = np.where(some, np.nanmin(filled, axis=1), np.nan)
    high = np.where(some, np.nanmax(filled, axis=1), np.nan)
    if (finished > 1).any():
        data += band_traces(lrs, _list(low), _list(high), rgba(color, 0.18),
                            legendgroup=group)  # fmt: skip
    symbols = ["circle-open" if d else "circle" for d in diverged]
    custom = [[int(f), int(r), f" ({int(d)} diverged)" if d else ""]
              for f, r, d in zip(finished, ran, diverged)]  # fmt: skip
    data.append(line_trace(
        lrs, _list(c.finite_mean),
        f"{c.label}<br>α₀ = %{{x:.3g}}<br>mean {result.metric_name} %{{y:.4g}}"
        "<br>over %{customdata[0]} of %{customdata[1]} seeds%{customdata[2]}",
        mode="lines+markers", name=c.label, legendgroup=group, customdata=custom,
        line=dict(color=color, width=2),
        marker=dict(size=8, color=color, symbol=symbols, line=dict(width=2, color=color)),
    ))  # fmt: skip
    bad = [p for p in range(len(lrs)) if diverged[p]]
    if bad:
        data.append(dict(
            type="scatter", x=[lrs[p] for p in bad], y=[cross_y] * len(bad),
            mode="markers+text", text=[f"{int(diverged[p])}/{int(ran[p])}" for p in bad],
            textposition="top center", textfont=dict(color=color, size=11),
            name=f"{c.label}: diverged", legendgroup=group, showlegend=False,
            marker=dict(symbol="x-thin", size=13, color=color,
                        line=dict(width=3, color=color)),
            hovertemplate=f"{c.label}: %{{text}} seeds diverged at α₀ = %{{x:.3g}}"
            "<extra></extra>",
        ))  # fmt: skip
    return data


def _width_bars(result: RobustnessResult, c: Curve, color: str, group: str, y: float) -> list[dict]:
    """One optimizer's α0 range within the tolerance of its best mean, at height ``y``: a bar
    per piece (none when it has no range)."""
    w = c.width
    bound = "≥ " if w.censored else ""
    xs, ys = [], []
    for lo, hi in w.pieces:  # one bar per piece, None between them
        xs += [lo, hi, None]
        ys += [y, y, None]
    if not xs:
        return []
    return [line_trace(
        xs[:-1], ys[:-1],
        f"{c.label}: within {100 * result.tolerance:.0f} % of its best mean here "
        f"({bound}{w.decades:.2f} decades in all)",
        mode="lines", line=dict(color=color, width=6), legendgroup=group,
        showlegend=False, name=f"{c.label}: range",
    )]  # fmt: skip


def _layout(
    result: RobustnessResult, lrs: list[float], log_y: bool, y_extent: tuple, y_range: list
) -> dict:
    """Log α0 across, the metric up (log when ``log_y``: ticks over ``y_extent``, the finished
    values), the legend on top."""
    x_range = log_range([np.array(lrs)], pad=0.12)
    y_axis = dict(
        title=dict(text=f"final {result.metric_name} (✕: diverged seeds)"),
        gridcolor=GRID_COLOR,
        range=y_range,
    )
    if log_y:
        y_axis.update(type="log", **log_ticks(*y_extent, max_ticks=5))
    return dict(
        height=440,
        margin=dict(l=60, r=20, t=40, b=50),
        plot_bgcolor="white",
        xaxis=dict(
            type="log",
            title=dict(text="α₀ (learning rate)"),
            gridcolor=GRID_COLOR,
            range=x_range,
            **log_ticks(*x_range, max_ticks=7),
        ),
        yaxis=y_axis,
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
        hovermode="closest",
    )


def robustness_figure(result: RobustnessResult, colors: list[str]) -> dict:
    """Final metric against α0 for every optimizer of ``result`` (``colors``: one each)."""
    lrs = [float(x) for x in result.lrs]
    log_y, y_lo, y_hi = _y_extent(result)
    # room above the curves for the ✕ row and below them for the width bars
    span = y_hi - y_lo
    n = len(result.curves)
    top, bottom = y_hi + 0.2 * span, y_lo - (0.06 + 0.05 * n) * span

    def at(fraction_above_bottom: float) -> float:  # an axis value at a share of the span
        v = bottom + fraction_above_bottom * span
        return 10.0**v if log_y else v

    cross_y = 10.0 ** (y_hi + 0.07 * span) if log_y else y_hi + 0.07 * span
    data: list[dict] = []
    for k, (c, color) in enumerate(zip(result.curves, colors)):
        group = f"opt{k}"
        data += _curve_traces(result, c, color, group, lrs, cross_y)
        data += _width_bars(result, c, color, group, at(0.04 + 0.05 * (n - 1 - k)))
    data.append(line_trace(
        [result.anchor, result.anchor], [at(0.0), 10.0**top if log_y else top],
        f"anchor α₀ = {result.anchor:.3g} (the task's α₀ for AdamW)",
        line=dict(color=ANCHOR_COLOR, width=1, dash="dash"), showlegend=False, name="anchor",
    ))  # fmt: skip
    return dict(data=data, layout=_layout(result, lrs, log_y, (y_lo, y_hi), [bottom, top]))
