"""The Playground's figures: the animated race and the static path map (step-through).

The race figure animates inside Streamlit, where contour and heatmap traces vanish
during ``redraw=False`` animations: the landscape is a PNG in ``layout.images``,
contour lines are static Scatter traces, and frames (plain dicts, at most ~150)
move only the heads, the velocity arrows and one cursor per panel. Figures use
Unicode, never LaTeX (MathJax is not available offline).
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.common import (
    GRID_COLOR,
    animation_controls,
    as_list,
    cursor_style,
    frame_steps,
    line_trace,
    log_range,
    map_axes,
    map_base,
    map_digits,
    panel_label,
    sig_list,
    start_marker,
    thinning_stride,
)

PANELS = [
    ("loss", "loss"),
    ("effective_lr", "effective LR η_t"),
    ("velocity_sq_norm", "‖v‖²"),
    ("step_norm", "step size ‖Δθ‖"),
    ("sharpness", "sharpness (solid) vs threshold (dashed)"),
]
PANEL_DOMAIN = (0.64, 1.0)
PANEL_GAP = 0.045
PANEL_HEIGHT = (1 - PANEL_GAP * (len(PANELS) - 1)) / len(PANELS)


# ----------------------------------------------------------------------------- path figure


def _path_traces(trajectories, colors, digits: int) -> list[dict]:
    """Each optimizer's run 0: its path on the map (x/y) and its loss (x2/y2)."""
    data = []
    steps = np.arange(trajectories[0].steps + 1)
    for tr, color in zip(trajectories, colors):
        xy = tr.xy[0]
        common = dict(mode="lines", line=dict(color=color, width=2), legendgroup=tr.label)
        data.append(
            dict(
                type="scatter",
                x=as_list(xy[:, 0], digits),
                y=as_list(xy[:, 1], digits),
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
                x=steps.tolist(),
                y=sig_list(tr.loss[0]),
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
        y=sig_list(tr.loss[0, t : t + 1]),
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
) -> dict:
    """A static map with each optimizer's path (run 0) and its loss against the step.

    ``highlight`` = (optimizer index, step t) marks the update from xy[t] to xy[t+1]
    on the map and step t on the loss panel (the Playground's step-through mode).
    """
    digits = map_digits(ls)
    data = map_base(ls, bg, digits, click=False)
    data += _path_traces(trajectories, colors, digits)
    start = trajectories[0].xy[0, 0]
    data.append(start_marker([float(start[0])], [float(start[1])], size=12, hoverinfo="skip"))
    if highlight is not None:
        data += _highlight_traces(trajectories, colors, *highlight)
    finite = [tr.loss[0][np.isfinite(tr.loss[0])] for tr in trajectories]
    layout = dict(
        height=height,
        margin=dict(l=50, r=20, t=30, b=45),
        plot_bgcolor="white",
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
        xaxis2=dict(domain=[0.6, 1.0], anchor="y2", title=dict(text="step"), gridcolor=GRID_COLOR),
        yaxis2=dict(
            anchor="x2",
            type="log",
            range=log_range(finite),
            title=dict(text="loss"),
            gridcolor=GRID_COLOR,
            exponentformat="power",
        ),
        **map_axes(ls, bg, (0.0, 0.52)),
    )
    return dict(data=data, layout=layout)


# ----------------------------------------------------------------------------- race: the map


def _race_paths(trajectories, colors, digits: int) -> list[dict]:
    """Every run's full path (thinned to ~60k points in all), one trace per optimizer."""
    N, T = trajectories[0].xy.shape[0], trajectories[0].steps
    stride = thinning_stride(len(trajectories) * N * (T + 1), 60_000)
    idx = np.unique(np.r_[np.arange(0, T + 1, stride), T])
    data = []
    for tr, color in zip(trajectories, colors):
        px = np.full((N, idx.size + 1), np.nan)  # the last column: a gap between runs
        py = np.full((N, idx.size + 1), np.nan)
        px[:, :-1], py[:, :-1] = tr.xy[:, idx, 0], tr.xy[:, idx, 1]
        data.append(
            dict(
                type="scatter",
                x=as_list(px.ravel(), digits),
                y=as_list(py.ravel(), digits),
                mode="lines",
                line=dict(color=color, width=2 if N == 1 else 1.2),
                opacity=0.9 if N == 1 else 0.55,
                name=tr.label,
                legendgroup=tr.label,
                hoverinfo="skip",
                xaxis="x",
                yaxis="y",
            )
        )
    return data


def _divergence_markers(trajectories, colors) -> list[dict]:
    """A ✕ where each diverged run stopped, with the step in the hover."""
    data = []
    for tr, color in zip(trajectories, colors):
        bad = np.flatnonzero(tr.diverged_at >= 0)
        if bad.size == 0:
            continue
        last = tr.xy[bad, -1]
        data.append(
            dict(
                type="scatter",
                x=as_list(last[:, 0]),
                y=as_list(last[:, 1]),
                mode="markers",
                marker=dict(symbol="x-thin", size=16, color=color, line=dict(width=3, color=color)),
                name=f"{tr.label}: diverged",
                legendgroup=tr.label,
                showlegend=False,
                customdata=tr.diverged_at[bad].tolist(),
                hovertemplate=f"{tr.label}<br>diverged at step %{{customdata}}<extra></extra>",
                xaxis="x",
                yaxis="y",
            )
        )
    return data


def _race_map(ls, trajectories, colors, bg: dict, digits: int) -> list[dict]:
    """The map's static traces: landscape, paths, starts and divergence markers."""
    data = map_base(ls, bg, digits)
    data += _race_paths(trajectories, colors, digits)
    starts = trajectories[0].xy[:, 0]
    data.append(
        start_marker(
            as_list(starts[:, 0]),
            as_list(starts[:, 1]),
            size=11,
            hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>",
            showlegend=False,
        )
    )
    return data + _divergence_markers(trajectories, colors)


# ----------------------------------------------------------------------------- race: panels


def _panel_series(tr, name):
    """(x, y) of run 0 for one panel; None where not applicable."""
    T = tr.steps
    if name == "loss":
        return np.arange(T + 1), tr.loss[0]
    if name == "sharpness":
        s = tr.compared_sharpness
        return (np.arange(T), None) if s is None else (np.arange(T), s[0])
    arr = getattr(tr, name)
    return np.arange(1, T + 1), arr[0]


def _panel_lines(tr, color, name: str, axis: int, sel: slice, f_star) -> tuple[list, list]:
    """One optimizer's line(s) in one panel, and the values they show (for the range)."""
    x, y = _panel_series(tr, name)
    if y is None:
        return [], []
    if name == "loss" and f_star is not None:
        y = y - f_star  # the gap to the minimum, on a log scale
    axes = dict(legendgroup=tr.label, showlegend=False, xaxis=f"x{axis}", yaxis=f"y{axis}")
    hover = f"{tr.label}<br>step %{{x}}: %{{y:.4g}}"
    line = dict(color=color, width=1.6)
    data = [line_trace(x[sel].tolist(), as_list(y[sel]), hover, line=line, name=tr.label, **axes)]
    values = [y]
    if name == "sharpness" and tr.stability_threshold is not None:
        th = tr.stability_threshold[0]
        if np.isfinite(th).any():
            values.append(th)
            data.append(
                line_trace(
                    np.arange(tr.steps)[sel].tolist(),
                    as_list(th[sel]),
                    f"{tr.label} threshold<br>step %{{x}}: %{{y:.4g}}",
                    line=dict(color=color, width=1.2, dash="dash"),
                    name=f"{tr.label} threshold",
                    **axes,
                )
            )
    return data, values


def _panel_range(values: list, log: bool) -> tuple[str, list[float]]:
    """(axis type, range) covering a panel's values."""
    if log:
        return "log", log_range(values)
    v = np.concatenate(values) if values else np.array([0.0, 1.0])
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo or 1.0)
    return "linear", [lo - pad, hi + pad]


def _race_panels(ls, trajectories, colors) -> tuple[list[dict], dict]:
    """The panels' traces (axes x2/y2 …) and each panel's (axis type, range) by axis."""
    data, ranges = [], {}
    sel = slice(None, None, thinning_stride(trajectories[0].steps + 1, 800))
    for p, (name, _title) in enumerate(PANELS):
        axis = p + 2
        values = []
        for tr, color in zip(trajectories, colors):
            lines, shown = _panel_lines(tr, color, name, axis, sel, ls.min_value)
            data += lines
            values += shown
        ranges[axis] = _panel_range(values, name != "loss" or ls.min_value is not None)
    return data, ranges


# ----------------------------------------------------------------------------- race: animation


class _RaceFrames:
    """What the race's frames move: heads, velocity arrows and one cursor per panel."""

    def __init__(self, ls, trajectories, ranges: dict, digits: int):
        self.trajectories, self.ranges, self.digits = trajectories, ranges, digits
        (x0, x1), (y0, y1) = ls.domain
        diag = math.hypot(x1 - x0, y1 - y0)
        self.scales = []  # arrow length per unit of velocity: the 95th percentile → 12 %
        for tr in trajectories:
            speeds = np.linalg.norm(tr.velocity, axis=-1)
            speeds = speeds[np.isfinite(speeds) & (speeds > 0)]
            ref = np.percentile(speeds, 95) if speeds.size else 1.0
            self.scales.append(0.12 * diag / ref)

    def heads(self, t: int) -> list[dict]:
        return [
            dict(type="scatter", x=as_list(tr.xy[:, t, 0]), y=as_list(tr.xy[:, t, 1]))
            for tr in self.trajectories
        ]

    def arrows(self, t: int) -> list[dict]:
        out = []
        for tr, scale in zip(self.trajectories, self.scales):
            if t == 0:
                out.append(dict(type="scatter", x=[None], y=[None]))
                continue
            head = tr.xy[:, t]
            tip = head - scale * tr.velocity[:, t - 1]  # motion goes against the velocity
            gap = np.full(head.shape[0], np.nan)
            ax = np.stack([head[:, 0], tip[:, 0], gap], 1).ravel()
            ay = np.stack([head[:, 1], tip[:, 1], gap], 1).ravel()
            out.append(dict(type="scatter", x=as_list(ax, self.digits), y=as_list(ay, self.digits)))
        return out

    def cursors(self, t: int) -> list[dict]:
        out = []
        for p in range(len(PANELS)):
            kind, (lo, hi) = self.ranges[p + 2]
            ylo, yhi = (10**lo, 10**hi) if kind == "log" else (lo, hi)
            out.append(dict(type="scatter", x=[t, t], y=[ylo, yhi]))
        return out

    def frame(self, t: int, traces: list[int]) -> dict:
        return dict(
            name=str(t), data=self.heads(t) + self.arrows(t) + self.cursors(t), traces=traces
        )


def _animated_traces(anim: _RaceFrames, colors) -> list[dict]:
    """The traces the frames move, as they stand at step 0 and styled: every head, then every
    velocity arrow, then the panels' cursors."""
    N = anim.trajectories[0].xy.shape[0]
    heads, arrows = [], []
    for tr, color, head, arrow in zip(anim.trajectories, colors, anim.heads(0), anim.arrows(0)):
        on_map = dict(legendgroup=tr.label, showlegend=False, xaxis="x", yaxis="y")
        heads.append(
            dict(
                head,
                mode="markers",
                name=f"{tr.label} (now)",
                marker=dict(size=12, color=color, line=dict(color="white", width=1.5)),
                hovertemplate=f"{tr.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
                **on_map,
            )
        )
        arrows.append(
            dict(
                arrow,
                mode="lines+markers",
                name=f"{tr.label} velocity",
                hoverinfo="skip",
                line=dict(color=color, width=2.5),
                marker=dict(symbol="arrow", angleref="previous", size=[0, 11, 0] * N, color=color),
                **on_map,
            )
        )
    cursors = [cursor_style(c, p + 2, name="now") for p, c in enumerate(anim.cursors(0))]
    return heads + arrows + cursors


# ----------------------------------------------------------------------------- race: layout


def _panel_top(p: int) -> float:
    """The top of panel p (paper coordinates; panel 0 is at the top)."""
    return 1 - p * (PANEL_HEIGHT + PANEL_GAP)


def _panel_axes(p: int, T: int, kind: str, rng: list[float]) -> dict:
    """Layout entries xaxis{p+2}/yaxis{p+2} of panel p, stacked top to bottom."""
    axis, last, top = p + 2, p == len(PANELS) - 1, _panel_top(p)
    return {
        f"xaxis{axis}": dict(
            domain=list(PANEL_DOMAIN),
            range=[0, T],
            anchor=f"y{axis}",
            showticklabels=last,
            title=dict(text="step") if last else None,
            gridcolor=GRID_COLOR,
            zeroline=False,
        ),
        f"yaxis{axis}": dict(
            domain=[round(max(top - PANEL_HEIGHT, 0.0), 6), round(min(top, 1.0), 6)],
            type=kind,
            range=rng,
            anchor=f"x{axis}",
            gridcolor=GRID_COLOR,
            zeroline=False,
            tickfont=dict(size=10),
            exponentformat="power",
        ),
    }


def _race_layout(ls, bg: dict, ranges: dict, T: int, steps: list[int]) -> dict:
    layout: dict = dict(
        height=620,
        margin=dict(l=50, r=20, t=40, b=130),
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(size=13),
        hovermode="closest",
        dragmode="pan",
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom", font=dict(size=12)),
        **map_axes(ls, bg),
        annotations=[],
    )
    for p, (name, title) in enumerate(PANELS):
        layout.update(_panel_axes(p, T, *ranges[p + 2]))
        label = "loss − f*" if name == "loss" and ls.min_value is not None else title
        layout["annotations"].append(panel_label(label, PANEL_DOMAIN[0], _panel_top(p)))
    layout.update(animation_controls([str(t) for t in steps], steps, frame_ms=60))
    return layout


def race_figure(ls, trajectories, colors, bg: dict, *, max_frames: int = 120) -> dict:
    """The animated race: map with paths, heads and velocity arrows, and synced panels.

    Returns a plain figure dict (data, layout, frames). One slider and the Play/Pause
    buttons drive every subplot: each panel has a cursor at the current step.
    """
    T = trajectories[0].steps
    digits = map_digits(ls)
    data = _race_map(ls, trajectories, colors, bg, digits)
    panels, ranges = _race_panels(ls, trajectories, colors)
    data += panels
    anim = _RaceFrames(ls, trajectories, ranges, digits)
    first_anim = len(data)
    data += _animated_traces(anim, colors)
    animated = list(range(first_anim, len(data)))
    steps = frame_steps(T, max_frames)
    frames = [anim.frame(t, animated) for t in steps]
    return dict(data=data, layout=_race_layout(ls, bg, ranges, T, steps), frames=frames)
