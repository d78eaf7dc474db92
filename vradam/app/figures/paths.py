"""The Playground's static path map: each optimizer's path (run 0) on the landscape and its
loss against the step, with one update highlighted in the step-through. Unicode, never
LaTeX (MathJax is not available offline)."""

from __future__ import annotations

import numpy as np

from vradam.app.figures.arrays import as_list, packed
from vradam.app.figures.colors import GRID_COLOR
from vradam.app.figures.maps import map_axes, map_base, map_digits, start_marker
from vradam.app.figures.ticks import log_range, log_ticks

LOSS_FLOOR = 1e-16  # of the largest loss shown: below it a loss is rounding, not progress


def loss_floor(losses) -> float:
    """Where a log loss panel stops: :data:`LOSS_FLOOR` times the largest finite loss."""
    top = [float(np.max(v[np.isfinite(v) & (v > 0)])) for v in losses
           if np.any(np.isfinite(v) & (v > 0))]  # fmt: skip
    return LOSS_FLOOR * (max(top) if top else 1.0)


def floored(loss: np.ndarray, floor: float) -> np.ndarray:
    """``loss`` with exact zeros and values in [0, ``floor``) drawn at ``floor`` (a log axis
    cannot show 0, and 1e-96 would squash the panel into one cliff); negative values, which
    no log axis shows, stay as they are."""
    return np.where(_under(loss, floor), floor, loss)


def _under(loss: np.ndarray, floor: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(loss) & (loss >= 0) & (loss < floor)


def _path_traces(trajectories, colors, floor: float = 0.0) -> list[dict]:
    """Each optimizer's run 0: its path on the map (x/y) and its loss (x2/y2), drawn at
    ``floor`` where it is lower."""
    data = []
    for tr, color in zip(trajectories, colors):
        xy = tr.xy[0]
        common = dict(mode="lines", line=dict(color=color, width=2), legendgroup=tr.label)
        data.append(
            dict(
                type="scatter",
                x=packed(xy[:, 0]),
                y=packed(xy[:, 1]),
                name=tr.label,
                hoverinfo="skip",
                xaxis="x",
                yaxis="y",
                **common,
            )
        )
        data.append(
            dict(
                type="scatter",
                x0=0,
                dx=1,
                y=packed(floored(tr.loss[0], floor)),
                name=tr.label,
                showlegend=False,
                xaxis="x2",
                yaxis="y2",
                hovertemplate="step %{x}<br>loss %{y:.4g}<extra></extra>",
                **common,
            )
        )
    return data


def _highlight_traces(trajectories, colors, k: int, t: int) -> list[dict]:
    """Optimizer k's update from xy[t] to xy[t+1] on the map and step t on the loss panel."""
    tr = trajectories[k]
    a, b = tr.xy[0, t], tr.xy[0, min(t + 1, tr.steps)]
    update = dict(
        type="scatter",
        x=[float(a[0]), float(b[0])],
        y=[float(a[1]), float(b[1])],
        mode="lines+markers",
        name=f"update {t + 1}",
        line=dict(color="black", width=4),
        marker=dict(
            size=[9, 14],
            color=["white", colors[k]],
            symbol=["circle", "circle"],
            line=dict(color="black", width=2),
        ),
        hoverinfo="skip",
        xaxis="x",
        yaxis="y",
    )
    step = dict(
        type="scatter",
        x=[t],
        y=as_list(tr.loss[0, t : t + 1]),
        mode="markers",
        showlegend=False,
        name=f"step {t}",
        marker=dict(size=12, color=colors[k], line=dict(color="black", width=2)),
        hoverinfo="skip",
        xaxis="x2",
        yaxis="y2",
    )
    return [update, step]


def path_figure(
    ls,
    trajectories,
    colors,
    bg: dict,
    *,
    highlight: tuple[int, int] | None = None,
    height: int = 380,
    stacked: bool = False,
) -> dict:
    """A static map with each optimizer's path (run 0) and its loss against the step.

    ``highlight`` = (optimizer index, step t) marks the update from xy[t] to xy[t+1]
    on the map and step t on the loss panel (the Playground's step-through mode).
    ``stacked`` puts the loss panel under the map (phones); ``height`` is then the map's.
    """
    digits = map_digits(ls)
    data = map_base(ls, bg, digits, click=False)
    floor = loss_floor([tr.loss[0] for tr in trajectories])
    data += _path_traces(trajectories, colors, floor)
    start = trajectories[0].xy[0, 0]
    data.append(start_marker([float(start[0])], [float(start[1])], size=12, hoverinfo="skip"))
    if highlight is not None:
        data += _highlight_traces(trajectories, colors, *highlight)
    finite = [floored(tr.loss[0], floor)[np.isfinite(tr.loss[0])] for tr in trajectories]
    lo, hi = log_range(finite)
    loss_axis = dict(anchor="x2", type="log", range=[lo, hi], title=dict(text="loss"),
                     gridcolor=GRID_COLOR, **log_ticks(lo, hi, 5))  # fmt: skip
    step_axis = dict(anchor="y2", title=dict(text="step"), gridcolor=GRID_COLOR)
    if stacked:  # the map (``height`` px), its axis, then a 120 px loss panel
        total = height + 210
        map_x, map_y = [0.0, 1.0], [round(1 - height / (total - 90), 4), 1.0]
        loss_axis["domain"] = [0.0, round(120 / (total - 90), 4)]
        axes = dict(xaxis2=dict(domain=[0.0, 1.0], **step_axis), yaxis2=loss_axis)
        height = total
    else:
        map_x, map_y = [0.0, 0.52], [0.0, 1.0]
        axes = dict(xaxis2=dict(domain=[0.6, 1.0], **step_axis), yaxis2=loss_axis)
    layout = dict(
        height=height,
        margin=dict(l=50, r=20, t=30 if not stacked else 60, b=45),
        plot_bgcolor="white",
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
        **axes,
        **map_axes(ls, bg, map_x),
    )
    layout["yaxis"]["domain"] = map_y
    if any(np.any(_under(tr.loss[0], floor)) for tr in trajectories):
        layout["annotations"] = [dict(
            text=f"a loss under {floor:.0e} (or exactly 0) is drawn at {floor:.0e}",
            xref="x2 domain", yref="y2 domain", x=1, y=0.02, xanchor="right",
            yanchor="bottom", showarrow=False, font=dict(size=10, color="#555555"),
        )]  # fmt: skip
    return dict(data=data, layout=layout)
