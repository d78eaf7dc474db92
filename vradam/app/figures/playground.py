"""The Playground's figures: the animated race, the static path map (step-through) and the
3-D view of the landscape with the paths.

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
from vradam.app.figures.arrays import PACK_MIN, as_list, packed, thinning_stride
from vradam.app.figures.colors import GRID_COLOR, MINIMUM_STAR
from vradam.app.figures.maps import map_axes, map_base, map_digits, start_marker
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


def _legend_rows(labels: list[str], width_px: float, font: float) -> int:
    """How many rows a horizontal legend of these labels takes in ``width_px``."""
    rows, used = 1, 0.0
    for label in labels:
        w = 46 + 0.62 * font * len(label)
        if used and used + w > width_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


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
            rows = _legend_rows(legend, 330, lay.font)
            self.margin["t"] = round(10 + rows * row)
            panels = n_panels * (self.title_px + lay.panel_px + self.ticks_px + 8)
            between = self.axis_px + self.buttons_px + self.slider_px + 8
            self.plot_h = lay.map_px + between + panels
            self.height = self.plot_h + self.margin["t"] + self.margin["b"]
        else:
            self.margin = dict(l=round(50 * s), r=44, b=self.axis_px + self.buttons_px + 6)
            rows = _legend_rows(legend, 700, lay.font)
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


# ----------------------------------------------------------------------------- path figure


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


# ----------------------------------------------------------------------------- 3-D view

SURFACE_SCALE = [[0.0, "#ffffff"], [0.5, "#dee4ec"], [1.0, "#96a2b6"]]  # the map's ramp


def final_state_figure(fig: dict) -> dict:
    """A static copy of the race showing its last frame (no animation controls)."""
    last = fig["frames"][-1]
    data = list(fig["data"])
    for index, trace in zip(last["traces"], last["data"]):
        data[index] = {**data[index], **trace}  # a frame holds what moves (a cursor: its x)
    layout = {k: v for k, v in fig["layout"].items() if k not in ("sliders", "updatemenus")}
    return {"data": data, "layout": layout}


def _height_transform(ls, Z: np.ndarray):
    """z = f, or for steep landscapes (the map's log shading) log10(f − min + δ) with δ a
    thousandth of f's range on the grid: the floor keeps a valley's bottom smooth instead of
    grid-sized spikes toward log 0. Returns the function and the z axis title."""
    finite = Z[np.isfinite(Z)]
    if not ls.log_scale or finite.size == 0:
        return (lambda v: np.asarray(v, dtype=np.float64)), "f(x, y)"
    lo = float(finite.min())
    if ls.min_value is not None:
        lo = min(lo, ls.min_value)
    floor = 1e-3 * max(float(finite.max()) - lo, 1e-300)

    def transform(v):
        v = np.asarray(v, dtype=np.float64)
        return np.log10(np.maximum(v - lo, 0.0) + floor)

    return transform, "log₁₀(f − min + δ)"


def surface_figure(
    ls, trajectories, colors, *, height: int = 560, n: int = 64, narrow: bool = False
) -> dict:
    """The landscape as a rotatable surface with every optimizer's path at its height.

    Paths (all runs, thinned) are drawn at the height of each point (f, or log10(f − min + δ)
    as :func:`_height_transform` says), lifted by 0.5 % of the z range so that they stay
    above the surface; the last positions are dots,
    the start a ring, minima gold diamonds. Static (no frames): dragging rotates.
    """
    xs, ys, Z = ls.grid(n)
    transform, z_title = _height_transform(ls, Z)
    ZT = transform(Z)
    finite = ZT[np.isfinite(ZT)]
    zlo, zhi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lift = 0.005 * (zhi - zlo or 1.0)
    data: list[dict] = [
        dict(
            type="surface", x=packed(xs), y=packed(ys), z=packed(ZT),
            colorscale=SURFACE_SCALE, showscale=False, opacity=0.92, name="f(x, y)",
            hovertemplate="x=%{x:.3g}, y=%{y:.3g}<br>" + z_title + "=%{z:.3g}<extra></extra>",
            contours=dict(z=dict(show=True, color="rgba(70,78,92,0.35)", width=1,
                                 start=zlo, end=zhi, size=(zhi - zlo) / 12 or 1.0)),
            lighting=dict(ambient=0.75, diffuse=0.5, specular=0.05),
        )
    ]  # fmt: skip
    N, T = trajectories[0].xy.shape[0], trajectories[0].steps
    stride = thinning_stride(len(trajectories) * N * (T + 1), 20_000)
    idx = np.unique(np.r_[np.arange(0, T + 1, stride), T])
    for tr, color in zip(trajectories, colors):
        gap = np.full((N, 1), np.nan)
        px = np.hstack([tr.xy[:, idx, 0], gap]).ravel()
        py = np.hstack([tr.xy[:, idx, 1], gap]).ravel()
        pz = np.hstack([transform(tr.loss[:, idx]) + lift, gap]).ravel()
        data.append(
            dict(type="scatter3d", mode="lines", x=packed(px), y=packed(py), z=packed(pz),
                 name=tr.label, legendgroup=tr.label, line=dict(color=color, width=5),
                 hovertemplate=f"{tr.label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>")
        )  # fmt: skip
        ok = np.isfinite(tr.loss[:, -1])
        data.append(
            dict(type="scatter3d", mode="markers", x=packed(tr.xy[ok, -1, 0]),
                 y=packed(tr.xy[ok, -1, 1]), z=packed(transform(tr.loss[ok, -1]) + lift),
                 name=f"{tr.label} (end)", legendgroup=tr.label, showlegend=False,
                 marker=dict(size=5, color=color, line=dict(color="white", width=1)),
                 hovertemplate=f"{tr.label}, last step<br>(%{{x:.4g}}, %{{y:.4g}})"
                 "<extra></extra>")
        )  # fmt: skip
    start = trajectories[0].xy[0, 0]
    data.append(
        dict(type="scatter3d", mode="markers", x=[float(start[0])], y=[float(start[1])],
             z=as_list(transform(trajectories[0].loss[0, :1]) + lift), name="start",
             marker=dict(size=6, color="white", line=dict(color="black", width=2)),
             hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>")
    )  # fmt: skip
    if ls.minima:
        mx, my = (np.array(v, dtype=float) for v in zip(*ls.minima))
        mz = transform(ls.value(np.stack([mx, my], axis=1)))
        data.append(
            dict(type="scatter3d", mode="markers", x=mx.tolist(), y=my.tolist(),
                 z=as_list(mz + lift), name="global minimum",
                 marker=dict(size=6, symbol="diamond", color=MINIMUM_STAR,
                             line=dict(color="black", width=1)),
                 hovertemplate="minimum (%{x:.4g}, %{y:.4g})<extra></extra>")
        )  # fmt: skip
    (x0, x1), (y0, y1) = ls.domain
    aspect = (y1 - y0) / (x1 - x0)
    labels = [t["name"] for t in data if t.get("showlegend", True) and t["type"] != "surface"]
    rows = _legend_rows(labels, 330 if narrow else 700, 12)
    axis = dict(gridcolor="#dddddd", backgroundcolor="white", showbackground=True)
    layout = dict(
        height=height,
        margin=dict(l=0, r=0 if narrow else 40, t=round(12 + 21 * rows), b=0),
        paper_bgcolor="white",
        modebar=dict(orientation="v"),  # in the right margin, clear of the legend
        legend=dict(orientation="h", x=0, y=1, yref="container", yanchor="top", font=dict(size=12)),
        scene=dict(
            xaxis=dict(title=dict(text="x"), range=[x0, x1], **axis),
            yaxis=dict(title=dict(text="y"), range=[y0, y1], **axis),
            zaxis=dict(title=dict(text=z_title), **axis),
            aspectmode="manual",
            aspectratio=dict(x=1.0, y=round(min(max(aspect, 0.3), 3.0), 3), z=0.6),
            camera=dict(eye=dict(x=1.05, y=-1.25, z=0.8)),
        ),
        uirevision="surface",  # keep the user's rotation across reruns
    )
    return dict(data=data, layout=layout)
