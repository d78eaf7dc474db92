"""The Playground's race figure: the animated map of every run with its panels, and its
final frame as a static copy. The static path map (step-through, lessons) is in
:mod:`vradam.app.figures.paths`, the 3-D view in :mod:`vradam.app.figures.surface`; both
are importable from here as before.

The race figure animates inside Streamlit, where contour and heatmap traces vanish
during ``redraw=False`` animations: the landscape is a PNG in ``layout.images``,
contour lines are static Scatter traces, and frames (plain dicts, at most ~120)
move only the heads, the velocity arrows and one cursor per panel. Figures use
Unicode, never LaTeX (MathJax is not available offline).

What a rerun sends is kept small (≤ 0.3 MB for the default race, bench_server.py): long
arrays are base64 float32 typed arrays (:func:`packed`), panels give their steps as ``x0``/``dx``
instead of arrays, frames carry only what moves (cursors only their x), and the number
of frames shrinks when a setup has many runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vradam.app.figures.animation import animation_controls, frame_steps
from vradam.app.figures.arrays import PACK_MIN, packed, thinning_stride
from vradam.app.figures.colors import GRID_COLOR
from vradam.app.figures.maps import map_axes, map_base, map_digits, start_marker

# The static path map and the 3-D view, from here as before (lessons, step-through, tests)
from vradam.app.figures.paths import LOSS_FLOOR as LOSS_FLOOR
from vradam.app.figures.paths import floored as floored
from vradam.app.figures.paths import loss_floor as loss_floor
from vradam.app.figures.paths import path_figure as path_figure
from vradam.app.figures.surface import SURFACE_SCALE as SURFACE_SCALE
from vradam.app.figures.surface import legend_rows
from vradam.app.figures.surface import surface_figure as surface_figure
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import cursor_style, panel_label

PANELS = [
    ("loss", "loss"),
    ("effective_lr", "effective LR η_t"),
    ("velocity_sq_norm", "‖v‖²"),
    ("step_norm", "step size ‖Δθ‖"),
    ("sharpness", "sharpness vs threshold (dotted)"),
]
PANEL_NAMES = tuple(name for name, _ in PANELS)
PANEL_TITLES = dict(PANELS)
PATH_POINTS = 15_000  # the map's paths, all runs together, at most this many points
FRAME_NUMBERS = 120_000  # numbers all frames together carry (fewer frames for many runs)
MIN_FRAMES = 30
ARROW_RUNS = 4  # velocity arrows for the chosen start and at most 3 more runs
PANEL_POINTS = 800  # points per panel line


# ----------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class RaceLayout:
    """Where the race's parts go. ``stacked``: map, controls and panels one under another
    at full width (phones); otherwise the map left and the panels stacked on its right.
    ``font`` is the size the text will have (16 in the presenter view), for the spacing.
    ``height`` (side by side only) is the whole figure's height in pixels."""

    stacked: bool = False
    height: int = 560
    font: float = 12.0
    map_px: int = 300  # stacked: the map's height
    panel_px: int = 110  # stacked: each panel's height

    @property
    def scale(self) -> float:
        return self.font / 12.0


class _Geometry:
    """Pixel layout of the race, converted to Plotly's paper coordinates."""

    def __init__(self, lay: RaceLayout, n_panels: int, legend: list[str]):
        s = lay.scale
        self.lay, self.n = lay, n_panels
        self.title_px = round(lay.font + 8)  # a panel's title above it
        self.axis_px = round(44 * s)  # tick labels and title under an x axis
        self.buttons_px = round(30 * s)
        # current value, rail (labels hidden); stacked: its step labels need 14 px more
        self.slider_px = round(54 * s) + (14 if lay.stacked else 0)
        self.ticks_px = round(18 * s) if lay.stacked else 0  # stacked: every panel's steps
        row = lay.font + 9
        if lay.stacked:
            self.margin = dict(l=round(46 * s), r=12, b=self.axis_px)
            rows = legend_rows(legend, 330, lay.font)
            self.margin["t"] = round(10 + rows * row)
            panels = n_panels * (self.title_px + lay.panel_px + self.ticks_px + 8)
            between = self.axis_px + self.buttons_px + self.slider_px + 8
            self.plot_h = lay.map_px + between + panels
            self.height = self.plot_h + self.margin["t"] + self.margin["b"]
        else:
            self.margin = dict(l=round(50 * s), r=44, b=self.axis_px + self.buttons_px + 6)
            rows = legend_rows(legend, 700, lay.font)
            self.margin["t"] = round(10 + rows * row)
            self.height = lay.height
            self.plot_h = self.height - self.margin["t"] - self.margin["b"]

    def y(self, px_from_top: float) -> float:
        """Paper y of a point ``px_from_top`` pixels below the plot area's top."""
        return round(1 - px_from_top / self.plot_h, 6)

    def map_domain(self) -> tuple[list[float], list[float]]:
        if self.lay.stacked:
            return [0.0, 1.0], [self.y(self.lay.map_px), 1.0]
        return [0.0, 0.55], [0.0, 1.0]

    def panels_x(self) -> list[float]:
        return [0.0, 1.0] if self.lay.stacked else [0.64, 1.0]

    def panel_y(self, p: int) -> tuple[float, float]:
        """(bottom, top) of panel p in paper coordinates (panel 0 at the top)."""
        if self.lay.stacked:
            first = self.lay.map_px + self.axis_px + self.buttons_px + self.slider_px + 8
            each = self.title_px + self.lay.panel_px + self.ticks_px + 8
            top = first + self.title_px + p * each
            return max(self.y(top + self.lay.panel_px), 0.0), self.y(top)
        gap = 6
        h = (self.plot_h - self.n * self.title_px - (self.n - 1) * gap) / self.n
        top = self.title_px + p * (h + self.title_px + gap)
        return max(self.y(top + h), 0.0), self.y(top)

    def panel_px(self) -> float:
        if self.lay.stacked:
            return self.lay.panel_px
        return (self.plot_h - self.n * (self.title_px + 6)) / max(self.n, 1)

    def controls(self) -> dict:
        """Keyword arguments of :func:`animation_controls` for this layout."""
        if self.lay.stacked:
            below_map = self.lay.map_px + self.axis_px
            return dict(
                buttons_y=self.y(below_map),
                slider_y=self.y(below_map + self.buttons_px + 4),
                slider_len=1.0,
                slider_pad_left=0,
            )
        below = self.y(self.plot_h + self.axis_px)
        return dict(buttons_y=below, slider_y=below + 0.004, slider_len=1.0,
                    slider_pad_left=round(170 * self.lay.scale))  # fmt: skip


# ----------------------------------------------------------------------------- race: the map


def _race_paths(trajectories, colors) -> list[dict]:
    """Every run's full path (thinned to PATH_POINTS points in all), one trace per optimizer."""
    N, T = trajectories[0].xy.shape[0], trajectories[0].steps
    stride = thinning_stride(len(trajectories) * N * (T + 1), PATH_POINTS)
    idx = np.unique(np.r_[np.arange(0, T + 1, stride), T])
    data = []
    for tr, color in zip(trajectories, colors):
        px = np.full((N, idx.size + 1), np.nan)  # the last column: a gap between runs
        py = np.full((N, idx.size + 1), np.nan)
        px[:, :-1], py[:, :-1] = tr.xy[:, idx, 0], tr.xy[:, idx, 1]
        data.append(
            dict(
                type="scatter",
                x=packed(px.ravel()),
                y=packed(py.ravel()),
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
                x=packed(last[:, 0]),
                y=packed(last[:, 1]),
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


def _race_map(ls, trajectories, colors, bg: dict) -> list[dict]:
    """The map's static traces: landscape, paths, starts and divergence markers."""
    data = map_base(ls, bg, map_digits(ls))
    data += _race_paths(trajectories, colors)
    starts = trajectories[0].xy[:, 0]
    data.append(
        start_marker(
            packed(starts[:, 0]),
            packed(starts[:, 1]),
            size=11,
            hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>",
            showlegend=False,
        )
    )
    return data + _divergence_markers(trajectories, colors)


# ----------------------------------------------------------------------------- race: panels


def _panel_series(tr, name):
    """(first step, values of run 0) for one panel; values None where not applicable."""
    if name == "loss":
        return 0, tr.loss[0]
    if name == "sharpness":
        s = tr.compared_sharpness
        return 0, (None if s is None else s[0])
    return 1, getattr(tr, name)[0]


def _panel_line(y, first: int, stride: int, hover: str, **style) -> dict:
    """A panel's line: its values thinned by ``stride``, the steps as x0/dx (no x array)."""
    return dict(type="scatter", mode="lines", x0=first, dx=stride, y=packed(y[::stride]),
                hovertemplate=f"{hover}<extra></extra>", **style)  # fmt: skip


def _panel_lines(tr, color, name: str, axis: int, stride: int, f_star) -> tuple[list, list]:
    """One optimizer's line(s) in one panel, and the values they show (for the range)."""
    first, y = _panel_series(tr, name)
    if y is None:
        return [], []
    if name == "loss" and f_star is not None:
        y = y - f_star  # the gap to the minimum, on a log scale
    axes = dict(legendgroup=tr.label, showlegend=False, xaxis=f"x{axis}", yaxis=f"y{axis}")
    hover = f"{tr.label}<br>step %{{x}}: %{{y:.4g}}"
    line = dict(color=color, width=1.6)
    data = [_panel_line(y, first, stride, hover, line=line, name=tr.label, **axes)]
    values = [y]
    if name == "sharpness" and tr.stability_threshold is not None:
        th = tr.stability_threshold[0]
        if np.isfinite(th).any():
            values.append(th)
            data.append(
                _panel_line(
                    th,
                    0,
                    stride,
                    f"{tr.label} threshold<br>step %{{x}}: %{{y:.4g}}",
                    line=dict(color=color, width=1.4, dash="dot"),
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


def _race_panels(ls, trajectories, colors, panels) -> tuple[list[dict], dict]:
    """The panels' traces (axes x2/y2 …) and each panel's (axis type, range) by axis."""
    data, ranges = [], {}
    stride = thinning_stride(trajectories[0].steps + 1, PANEL_POINTS)
    for p, name in enumerate(panels):
        axis = p + 2
        values = []
        for tr, color in zip(trajectories, colors):
            lines, shown = _panel_lines(tr, color, name, axis, stride, ls.min_value)
            data += lines
            values += shown
        ranges[axis] = _panel_range(values, name != "loss" or ls.min_value is not None)
    return data, ranges


# ----------------------------------------------------------------------------- race: animation


class _RaceFrames:
    """What the race's frames move: one trace per optimizer with every run's head and, for the
    first ARROW_RUNS runs, an arrow from the head along −v (the motion), [head, tip, gap]
    per run; with more runs, a second trace per optimizer with the other heads; and one
    cursor per panel. Sizes and symbols are fixed, the frames move x and y."""

    def __init__(self, ls, trajectories, n_panels: int):
        self.trajectories, self.n_panels = trajectories, n_panels
        self.digits = max(0, map_digits(ls) - 2)  # ~1/40 000 of the domain: far below a pixel
        self.runs = trajectories[0].xy.shape[0]
        self.arrow_runs = min(self.runs, ARROW_RUNS)
        (x0, x1), (y0, y1) = ls.domain
        diag = math.hypot(x1 - x0, y1 - y0)
        self.scales = []  # arrow length per unit of velocity: the 95th percentile → 12 %
        for tr in trajectories:
            speeds = np.linalg.norm(tr.velocity, axis=-1)
            speeds = speeds[np.isfinite(speeds) & (speeds > 0)]
            ref = np.percentile(speeds, 95) if speeds.size else 1.0
            self.scales.append(0.12 * diag / ref)

    def numbers_per_frame(self) -> int:
        K, n = len(self.trajectories), self.arrow_runs
        return 2 * K * (3 * n + (self.runs - n)) + 2 * self.n_panels

    def _coords(self, a: np.ndarray) -> list:
        """Per frame, one coordinate array of a trace: ``a`` is (frames, points). Long ones
        become typed arrays; short ones lists rounded to ``digits`` (None for NaN), all
        converted at once (per-frame conversions cost more than the rest of the figure)."""
        if a.shape[1] >= PACK_MIN:
            return [packed(row) for row in a]
        rounded = np.round(a, self.digits)
        out = rounded.astype(object)
        out[~np.isfinite(rounded)] = None
        return out.tolist()

    def runners(self, steps: list[int]) -> list[list[dict]]:
        """For each step, each runner trace's {x, y} (see the class)."""
        S = np.asarray(steps)
        n = self.arrow_runs
        per_trace = []
        for tr, scale in zip(self.trajectories, self.scales):
            head = tr.xy[:, S].transpose(1, 0, 2)  # (frames, runs, 2)
            tip = np.full((S.size, n, 2), np.nan)
            moved = S > 0  # motion goes against the velocity
            tip[moved] = head[moved, :n] - scale * tr.velocity[:n, S[moved] - 1].transpose(1, 0, 2)
            gap = np.full_like(tip, np.nan)
            pts = np.stack([head[:, :n], tip, gap], 2).reshape(S.size, 3 * n, 2)
            per_trace.append((self._coords(pts[..., 0]), self._coords(pts[..., 1])))
            if self.runs > n:
                per_trace.append((self._coords(head[:, n:, 0]), self._coords(head[:, n:, 1])))
        return [[dict(x=xs[f], y=ys[f]) for xs, ys in per_trace] for f in range(S.size)]

    def frames(self, steps: list[int], traces: list[int]) -> list[dict]:
        # cursors: only x moves; a frame keeps each cursor's y (the panel's full height)
        return [
            dict(name=str(t), data=[*runners, *([dict(x=[t, t])] * self.n_panels)], traces=traces)
            for t, runners in zip(steps, self.runners(steps))
        ]


def _animated_traces(anim: _RaceFrames, colors, ranges: dict) -> list[dict]:
    """The traces the frames move, as they stand at step 0 and styled: one runner trace per
    optimizer (heads and velocity arrows), then the panels' cursors."""
    n = anim.arrow_runs
    points = iter(anim.runners([0])[0])
    runners = []
    for tr, color in zip(anim.trajectories, colors):
        common = dict(
            type="scatter",
            name=f"{tr.label} (now)",
            legendgroup=tr.label,
            showlegend=False,
            xaxis="x",
            yaxis="y",
            hovertemplate=f"{tr.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        )
        head = dict(size=12, color=color, line=dict(color="white", width=1.5))
        runners.append(
            dict(
                next(points), mode="lines+markers", line=dict(color=color, width=2.5),
                marker=dict(head, size=[12, 11, 0] * n, symbol=["circle", "arrow", "circle"] * n,
                            angleref="previous", line=dict(color="white", width=[1.5, 0, 0] * n)),
                **common,
            )
        )  # fmt: skip
        if anim.runs > n:
            runners.append(dict(next(points), mode="markers", marker=head, **common))
    cursors = []
    for p in range(anim.n_panels):
        kind, (lo, hi) = ranges[p + 2]
        ylo, yhi = (10**lo, 10**hi) if kind == "log" else (lo, hi)
        trace = dict(type="scatter", x=[0, 0], y=[ylo, yhi])
        cursors.append(cursor_style(trace, p + 2, name="now"))
    return runners + cursors


# ----------------------------------------------------------------------------- race: layout


def _panel_axes(geo: _Geometry, p: int, T: int, kind: str, rng: list[float]) -> dict:
    """Layout entries xaxis{p+2}/yaxis{p+2} of panel p, stacked top to bottom."""
    axis, last = p + 2, p == geo.n - 1
    ticks = max(2, int(geo.panel_px() // (2.4 * 10 * geo.lay.scale)))
    labelled = last or geo.lay.stacked
    yaxis = dict(
        domain=list(geo.panel_y(p)), type=kind, range=rng, anchor=f"x{axis}",
        gridcolor=GRID_COLOR, zeroline=False, tickfont=dict(size=10),
    )  # fmt: skip
    if kind == "log":
        yaxis.update(log_ticks(rng[0], rng[1], ticks))
    else:
        yaxis.update(nticks=ticks + 1, tickformat=".3~g")
    return {
        f"xaxis{axis}": dict(
            domain=geo.panels_x(),
            range=[0, T],
            anchor=f"y{axis}",
            showticklabels=labelled,
            title=dict(text="step") if last else None,
            tickfont=dict(size=10),
            gridcolor=GRID_COLOR,
            zeroline=False,
        ),
        f"yaxis{axis}": yaxis,
    }


def _race_layout(ls, bg, geo: _Geometry, panels, ranges, T: int, steps: list[int]) -> dict:
    layout: dict = dict(
        height=geo.height,
        margin=geo.margin,
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(size=13),
        hovermode="closest",
        dragmode="pan",
        legend=dict(
            orientation="h",
            x=0,
            y=1,
            xref="paper",
            yref="container",
            yanchor="top",
            font=dict(size=12),
            itemwidth=30,
        ),
        modebar=dict(orientation="v"),  # in the right margin, clear of the legend
        annotations=[],
    )
    x_dom, y_dom = geo.map_domain()
    layout.update(map_axes(ls, bg, x_dom))
    layout["yaxis"]["domain"] = y_dom
    layout["xaxis"]["title"] = dict(text="x", standoff=4)
    layout["yaxis"]["title"] = dict(text="y", standoff=4)
    for p, name in enumerate(panels):
        layout.update(_panel_axes(geo, p, T, *ranges[p + 2]))
        title = PANEL_TITLES[name]
        if name == "loss" and ls.min_value is not None:
            title = "loss − f*"
        top = geo.panel_y(p)[1]
        layout["annotations"].append(panel_label(title, geo.panels_x()[0], top))
    controls = animation_controls([str(t) for t in steps], steps, frame_ms=60,
                                  step_labels=False, **geo.controls())  # fmt: skip
    layout.update(controls)
    return layout


def _legend_labels(ls, trajectories) -> list[str]:
    return (["global minimum"] if ls.minima else []) + [tr.label for tr in trajectories]


def race_figure(
    ls,
    trajectories,
    colors,
    bg: dict,
    *,
    max_frames: int = 120,
    panels: tuple[str, ...] = PANEL_NAMES,
    layout: RaceLayout | None = None,
) -> dict:
    """The animated race: map with paths, heads and velocity arrows, and synced panels.

    Returns a plain figure dict (data, layout, frames). One slider and the Play/Pause
    buttons drive every subplot: each panel has a cursor at the current step.
    ``panels`` picks and orders the panels (names of :data:`PANELS`, none for the map
    alone); ``layout`` places the parts (side by side by default).
    """
    unknown = [p for p in panels if p not in PANEL_TITLES]
    if unknown:
        raise ValueError(f"unknown panels {unknown}; valid: {', '.join(PANEL_NAMES)}")
    lay = layout or RaceLayout()
    T = trajectories[0].steps
    geo = _Geometry(lay, len(panels), _legend_labels(ls, trajectories))
    data = _race_map(ls, trajectories, colors, bg)
    panel_data, ranges = _race_panels(ls, trajectories, colors, panels)
    data += panel_data
    anim = _RaceFrames(ls, trajectories, len(panels))
    first_anim = len(data)
    data += _animated_traces(anim, colors, ranges)
    animated = list(range(first_anim, len(data)))
    n_frames = max(MIN_FRAMES, FRAME_NUMBERS // anim.numbers_per_frame())
    steps = frame_steps(T, min(max_frames, n_frames))
    frames = anim.frames(steps, animated)
    layout_dict = _race_layout(ls, bg, geo, panels, ranges, T, steps)
    if not panels:
        layout_dict["xaxis"]["domain"] = [0.0, 1.0]
    return dict(data=data, layout=layout_dict, frames=frames)


def final_state_figure(fig: dict) -> dict:
    """A static copy of the race showing its last frame (no animation controls)."""
    last = fig["frames"][-1]
    data = list(fig["data"])
    for index, trace in zip(last["traces"], last["data"]):
        data[index] = {**data[index], **trace}  # a frame holds what moves (a cursor: its x)
    layout = {k: v for k, v in fig["layout"].items() if k not in ("sliders", "updatemenus")}
    return {"data": data, "layout": layout}
