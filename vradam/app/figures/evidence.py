"""The Evidence page's figures: VRAdam − AdamW, paired by seed, against α0 (one task), and
every task's good α0 range side by side.

Plain dicts, Unicode labels; the numbers come from
:class:`~vradam.studies.robustness.RobustnessResult` and
:class:`~vradam.app.evidence.TaskRobustness` (the curves themselves are
:func:`vradam.app.figures.robustness.robustness_figure`).
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.colors import GRID_COLOR
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import line_trace
from vradam.studies.robustness import RobustnessResult

__all__ = ["difference_figure", "widths_figure"]

BETTER, WORSE, TIE = "#228833", "#CC3311", "#777777"


def difference_figure(result: RobustnessResult, color: str = "#4477AA") -> dict:
    """VRAdam's final metric minus AdamW's at each α0: the mean over the seeds where both
    finished with its 95 % t-interval (green below 0, red above, grey holding 0); α0 where
    a seed diverged are named in the hover and marked ✕ on the zero line."""
    ref = result.reference
    k = next(i for i in range(len(result.curves)) if i != ref)
    c, a = result.curves[k], result.curves[ref]
    lrs = [float(x) for x in result.lrs]
    data = []
    for sign, colour, word in ((-1, BETTER, "VRAdam lower"), (1, WORSE, "VRAdam higher"),
                               (0, TIE, "interval holds 0")):  # fmt: skip
        ps = [p for p, d in enumerate(c.differences) if d.pairs and d.significant == sign]
        if not ps:
            continue
        ds = [c.differences[p] for p in ps]
        half = [d.half_width if math.isfinite(d.half_width) else 0.0 for d in ds]
        data.append(dict(
            type="scatter", mode="markers", name=word, x=[lrs[p] for p in ps],
            y=[d.mean for d in ds], marker=dict(size=9, color=colour),
            error_y=dict(type="data", array=half, visible=True, color=colour, thickness=2),
            customdata=[[d.lower, d.seeds, d.pairs] for d in ds],
            hovertemplate=f"α₀ = %{{x:.3g}}<br>VRAdam − AdamW %{{y:.3g}}<br>{word}; VRAdam "
            "lower in %{customdata[0]} of %{customdata[1]} seeds (%{customdata[2]} pairs)"
            "<extra></extra>",
        ))  # fmt: skip
    bad = [p for p in range(len(lrs))
           if np.isinf(c.values[p]).any() or np.isinf(a.values[p]).any()]  # fmt: skip
    if bad:
        text = [f"AdamW {int(np.isinf(a.values[p]).sum())}, VRAdam "
                f"{int(np.isinf(c.values[p]).sum())} diverged" for p in bad]  # fmt: skip
        data.append(dict(
            type="scatter", mode="markers", name="a seed diverged", x=[lrs[p] for p in bad],
            y=[0.0] * len(bad), text=text, marker=dict(symbol="x-thin", size=13, color=WORSE,
                                                        line=dict(width=3, color=WORSE)),
            hovertemplate="α₀ = %{x:.3g}: %{text} (not in the pairs)<extra></extra>",
        ))  # fmt: skip
    x_range = log_range([np.array(lrs)], pad=0.12)
    data.append(line_trace(list(10.0 ** np.array(x_range)), [0.0, 0.0], None,
                           line=dict(color="rgba(0,0,0,0.45)", width=1), showlegend=False,
                           hoverinfo="skip", name="zero"))  # fmt: skip
    layout = dict(
        height=340, margin=dict(l=60, r=20, t=40, b=50), plot_bgcolor="white",
        xaxis=dict(type="log", title=dict(text="α₀ (learning rate)"), gridcolor=GRID_COLOR,
                   range=x_range, **log_ticks(*x_range, max_ticks=7)),
        yaxis=dict(title=dict(text=f"VRAdam − AdamW, {result.metric_name}"),
                   gridcolor=GRID_COLOR, zeroline=False),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"), hovermode="closest",
    )  # fmt: skip
    return dict(data=data, layout=layout)


def widths_figure(tasks: list, colors: tuple[str, str] = ("#4477AA", "#EE6677")) -> dict:
    """Each task's good α0 range (within 10 % of its own best mean), AdamW and VRAdam, in
    decades; ``tasks``: :class:`~vradam.app.evidence.TaskRobustness`. A hatched bar is a
    lower bound (the range reaches the grid's end)."""
    names = [t.task for t in tasks]
    data = []
    for i, (who, color) in enumerate(zip(("AdamW", "VRAdam"), colors)):
        widths = [t.width[i] if math.isfinite(t.width[i]) else 0.0 for t in tasks]
        censored = [t.censored[i] for t in tasks]
        data.append(dict(
            type="bar", orientation="h", name=who, y=names, x=widths,
            marker=dict(color=color, pattern=dict(shape=["/" if c else "" for c in censored])),
            customdata=[["≥ " if c else ""] for c in censored],
            hovertemplate=f"{who} on %{{y}}: %{{customdata[0]}}%{{x:.2f}} decades of α₀ within "
            "10 % of its best<extra></extra>",
        ))  # fmt: skip
    layout = dict(
        height=80 + 46 * len(tasks), barmode="group", margin=dict(l=80, r=20, t=40, b=50),
        plot_bgcolor="white",
        xaxis=dict(title=dict(text="good α₀ range, decades (hatched: at least)"),
                   gridcolor=GRID_COLOR, rangemode="tozero"),
        yaxis=dict(autorange="reversed"),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
    )  # fmt: skip
    return dict(data=data, layout=layout)
