"""Figures for the edge-of-stability page: sharpness against each optimizer's threshold.

The panels are placed in pixels, so that titles, tick labels and the legend keep their
room at any width: side by side on a wide screen (one sharpness panel per optimizer in a
row, then the three shared panels), two sharpness panels per row and the shared panels one
under the other on a phone. Log axes carry at most a few ticks labelled "0.01", "1e-5"
(never Plotly's bare mantissas between decades, where 0.3 reads as "3").
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.arrays import as_list, sig_list
from vradam.app.figures.colors import GRID_COLOR, assign_colors
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import band_traces, line_trace, panel_label
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.eos import EDGE_TOLERANCE, MATCHED_LABEL, EoSResult, Series

TITLE_LINE = 16  # px per line of a 12 px panel title
TICK_FONT = 12  # px (figures.fonts.MIN_TEXT): "1000" then takes ~26 px beside its panel
TICKS = 22  # px of x tick labels under a panel
AXIS_TITLE = 26  # px of the x axis title ("step", 14 px: fonts.MIN_AXIS_TITLE) under them
WINDOW_FILL = "rgba(230,159,0,0.12)"
MARKED = 120  # sharpness samples drawn as dots up to this many (the quadratic has one a step)


def series_colors(result: EoSResult) -> list[str]:
    return assign_colors([OptimizerSpec.parse(s.spec) for s in result.series])


def short_title(s: Series) -> str:
    """A panel title that fits a fifth of a projector: the optimizer's name only."""
    return "matched Adam" if s.label == MATCHED_LABEL else OptimizerSpec.parse(s.spec).info.name


def _row_domains(n: int, gap: float) -> list[list[float]]:
    w = (1 - gap * (n - 1)) / n
    return [[round(i * (w + gap), 4), round(i * (w + gap) + w, 4)] for i in range(n)]


def _layout_rows(rows: list[tuple[int, int, int]]) -> tuple[int, list[list[float]]]:
    """Rows of panels, each (title lines, panel px, px under it), top to bottom: the plot
    area's height in px and each row's y domain (paper coordinates)."""
    tops, at = [], 0
    for lines, height, below in rows:
        at += lines * TITLE_LINE + 4
        tops.append((at, height))
        at += height + below
    return at, [[round(1 - (top + h) / at, 5), round(1 - top / at, 5)] for top, h in tops]


def _positive(arrays) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float64) for a in arrays if len(a)]


def _axes(layout, n, dx, dy, *, title, x_max, log_values=None, x_title=None, x_ticks=4):
    """Panel ``n``'s x and y axes at domains ``dx``, ``dy`` and its title above it; a log y
    axis when ``log_values`` (the arrays it shows) is given. Tick labels are 11 px."""
    suffix = "" if n == 1 else str(n)
    small = dict(size=TICK_FONT)
    layout[f"xaxis{suffix}"] = dict(
        domain=dx, anchor=f"y{suffix}", gridcolor=GRID_COLOR, range=[0, x_max],
        nticks=x_ticks, tickfont=small,
        title=dict(text=x_title, standoff=6, font=small) if x_title else None,
    )  # fmt: skip
    y = dict(domain=dy, anchor=f"x{suffix}", gridcolor=GRID_COLOR, nticks=5, tickfont=small)
    if log_values is not None:
        lo, hi = log_range(_positive(log_values), pad=0.08)
        y.update(type="log", range=[lo, hi], **log_ticks(lo, hi, max_ticks=4))
    layout[f"yaxis{suffix}"] = y
    layout["annotations"].append(panel_label(f"<b>{title}</b>", dx[0], dy[1], 12))
    return dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")


def _sharpness_panels(result, colors, layout, domains, x_max) -> list[dict]:
    """One panel per optimizer: its sharpness (dots) against its threshold (dashed)."""
    data = []
    for i, (s, color, (dx, dy)) in enumerate(zip(result.series, colors, domains)):
        what = "λmax(P⁻¹H)" if s.sharpness_kind == "preconditioned" else "λmax(H)"
        ax = _axes(layout, i + 1, dx, dy, title=f"{short_title(s)}<br>{what}", x_max=x_max,
                   log_values=[s.sharpness, s.threshold], x_ticks=3)  # fmt: skip
        x = as_list(s.sharp_steps)
        data.append(line_trace(
            x, sig_list(s.sharpness), "step %{x}<br>sharpness %{y:.4g}",
            mode="lines+markers" if len(x) <= MARKED else "lines", marker=dict(size=4),
            line=dict(color=color, width=1.5),
            name=s.label, legendgroup=s.label, showlegend=False, **ax,
        ))  # fmt: skip
        data.append(line_trace(
            x, sig_list(s.threshold), "step %{x}<br>threshold %{y:.4g}",
            line=dict(color="#333333", width=1.5, dash="dash"), name="threshold",
            legendgroup="threshold", showlegend=i == 0, **ax,
        ))  # fmt: skip
    return data


def _window_shade(result: EoSResult, ax: dict, layout: dict, *, label: bool) -> None:
    """Shade the comparison window (where the matched rate and the oscillation measures
    are taken) behind a shared panel."""
    first, last = result.window
    layout.setdefault("shapes", []).append(
        dict(type="rect", xref=ax["xaxis"], yref=f"{ax['yaxis']} domain", x0=first, x1=last,
             y0=0, y1=1, fillcolor=WINDOW_FILL, line=dict(width=0), layer="below")
    )  # fmt: skip
    if label:
        layout["annotations"].append(
            dict(text=f"comparison window<br>steps {first}–{last}", xref=ax["xaxis"],
                 yref=f"{ax['yaxis']} domain", x=(first + last) / 2, y=0.98, yanchor="top",
                 showarrow=False, font=dict(size=10, color="#8a5a00"))
        )  # fmt: skip


def _shared_panels(result, colors, layout, domains, x_max, first: int) -> list[dict]:
    """Three panels with every optimizer: the loss, sharpness ÷ threshold and η_t."""
    panels = [
        ("training loss", lambda s: (s.steps, s.loss), True),
        ("sharpness ÷ threshold<br>(1 = the edge)", lambda s: (s.sharp_steps, s.ratio), False),
        ("effective rate η_t", lambda s: (s.steps, s.eta), True),
    ]
    data = []
    for j, ((title, get, log), (dx, dy)) in enumerate(zip(panels, domains)):
        values = [get(s)[1] for s in result.series]
        ax = _axes(layout, first + j, dx, dy, title=title, x_max=x_max, x_title="step",
                   log_values=values if log else None)  # fmt: skip
        _window_shade(result, ax, layout, label=j == 0)
        if j == 1:
            lo, hi = 1 - EDGE_TOLERANCE, 1 + EDGE_TOLERANCE
            data += band_traces([0, x_max], [lo, lo], [hi, hi], "rgba(0,0,0,0.08)",
                                closed=True, name=f"edge ±{EDGE_TOLERANCE:.0%}", **ax)  # fmt: skip
        for s, color in zip(result.series, colors):
            x, y = get(s)
            data.append(line_trace(
                as_list(x), sig_list(y), f"{s.label}<br>step %{{x}}<br>%{{y:.4g}}",
                line=dict(color=color, width=1.5), name=s.label, legendgroup=s.label,
                showlegend=j == 0, **ax,
            ))  # fmt: skip
    return data


def eos_figure(result: EoSResult, *, narrow: bool = False) -> dict:
    """Each optimizer's sharpness (dots) and threshold (dashed); then the loss, sharpness
    ÷ threshold (1 = the edge) and the effective rate η_t of all of them, with the
    comparison window shaded. A partial result (still training) is drawn on the full
    step axis, so its curves grow to the right as it trains. ``narrow``: a phone's
    layout (two sharpness panels per row, the shared panels one under another)."""
    colors = series_colors(result)
    n = len(result.series)
    x_max = result.window[1] + 1
    if narrow:
        per_row = 2
        n_rows = math.ceil(n / per_row)
        rows = [(2, 120, TICKS + 6)] * n_rows + [(2, 170, TICKS + AXIS_TITLE)] * 3
        plot, ys = _layout_rows(rows)
        cols = _row_domains(per_row, 0.14)
        top = [(cols[i % per_row], ys[i // per_row]) for i in range(n)]
        shared = [([0, 1], ys[n_rows + j]) for j in range(3)]
        legend = dict(orientation="v", x=0, y=0, yanchor="top")
        margin = dict(l=44, r=8, t=8, b=8 + 20 * (n + 2))
    else:
        rows = [(2, 170, TICKS + 8), (2, 200, TICKS + AXIS_TITLE)]
        plot, ys = _layout_rows(rows)
        top = [(dx, ys[0]) for dx in _row_domains(n, 0.065)]  # ~36 px for tick labels
        shared = [(dx, ys[1]) for dx in _row_domains(3, 0.075)]
        legend = dict(orientation="h", x=0, y=0, yanchor="top")
        margin = dict(l=44, r=12, t=8, b=70)  # the legend: up to three rows
    layout = dict(
        height=plot + margin["t"] + margin["b"],
        margin=margin,
        plot_bgcolor="white",
        annotations=[],
        showlegend=True,
        legend=legend,
        hovermode="closest",
    )
    data = _sharpness_panels(result, colors, layout, top, x_max)
    data += _shared_panels(result, colors, layout, shared, x_max, n + 1)
    return dict(data=data, layout=layout)
