"""Figures of a network's loss landscape (vradam.studies.landscape): the plane's map with
every optimizer's projected path and a step slider, the loss along each path (true and on
the surface) under it, the 1-D slice between two optimizers' final weights, and the 3-D
surface.

The map and its panel are one figure laid out for any width: legend on top (one entry a
row), the map, its flat colour bar, Play/Pause and the slider, then the panel, each the
column's full width (vradam.app.figures.panels). The surface is a PNG under the axes
(contour traces vanish in Streamlit's animations) with its contour lines and an invisible
grid of hover points; frames move only the heads and the panel's cursor. Plain dicts.
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.animation import animation_controls
from vradam.app.figures.arrays import as_list, packed, thinning_stride
from vradam.app.figures.colors import CURSOR_COLOR, GRID_COLOR, MINIMUM_STAR
from vradam.app.figures.contours import contour_paths
from vradam.app.figures.images import palette_png_uri
from vradam.app.figures.panels import (
    AXIS_TITLE,
    COLORBAR,
    TICKS,
    TITLE_ROW,
    column_legend,
    flat_colorbar,
    legend_height,
    stack,
    wrap,
)
from vradam.app.figures.playground import SURFACE_SCALE
from vradam.app.figures.ticks import log_range, log_ticks, tick_label
from vradam.app.figures.traces import line_trace, panel_label

MAP_PX = 360
PANEL_PX = 170
BUTTONS = 30  # px of the Play/Pause row
SLIDER = 62  # px of the slider: its current value, rail and step labels
HOVER_POINTS = 21  # per axis: the invisible markers that show the loss under the cursor
CONTOUR_LEVELS = 10
PANEL_TITLE = "Loss along each path: true (solid) and the<br>surface at its projection (dotted)"
SHARP_TITLE = ("Sharpness along each path: λmax where the run<br>measured it (◆, filled at or "
               "over the threshold)<br>and the optimizer's threshold (dotted)")  # fmt: skip


def _finite(values) -> np.ndarray:
    v = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in values]) if values else []
    v = np.asarray(v, dtype=float)
    return v[np.isfinite(v)]


def colour_values(Z: np.ndarray, log: bool) -> tuple[np.ndarray, str]:
    """Values the map colours (and draws contours of), and the colour bar's title: the
    loss, or its log10 (of the loss less its minimum plus a thousandth of its range when
    some loss is not positive)."""
    finite = Z[np.isfinite(Z)]
    if not log or finite.size == 0:
        return Z, "loss"
    lo = float(finite.min())
    with np.errstate(divide="ignore", invalid="ignore"):
        if lo > 0:
            return np.log10(Z), "loss (log scale)"
        floor = 1e-3 * max(float(finite.max()) - lo, 1e-300)
        return np.log10(Z - lo + floor), "log₁₀(loss − min + δ)"


def axis_titles(ls) -> tuple[str, str]:
    """The plane's axes with the share of the snapshots' spread each explains."""
    share = [f"{100 * e:.3g} %" for e in ls.plane.explained]
    if ls.plane.kind == "pca":
        return (f"PC1 ({share[0]} explained)", f"PC2 ({share[1]})")
    return (f"random direction 1 ({share[0]})", f"random direction 2 ({share[1]})")


def reference_name(ls) -> str:
    if ls.reference_index is not None:
        return f"reference: {ls.labels[ls.reference_index]}'s final weights"
    return "reference: the shared initial weights"


def _colour_bar_trace(V: np.ndarray, title: str, log_title: bool, y: float) -> dict:
    """An invisible marker whose colour bar matches the image (the 1st–99th percentile
    of the values, as vradam.app.figures.images maps them)."""
    finite = V[np.isfinite(V)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    bar = flat_colorbar(title, 0.0, 1.0, y)
    if log_title:  # ticks at loss values, placed at their log10
        ticks = log_ticks(float(lo), float(hi), 6)
        bar.update(tickmode="array", tickvals=[math.log10(v) for v in ticks["tickvals"]],
                   ticktext=ticks["ticktext"])  # fmt: skip
    return dict(
        type="scatter", x=[None], y=[None], mode="markers", showlegend=False,
        hoverinfo="skip", name="colour scale", xaxis="x", yaxis="y",
        marker=dict(color=[float(lo), float(hi)], colorscale=SURFACE_SCALE, cmin=float(lo),
                    cmax=float(hi), showscale=True, colorbar=bar, size=0.1, opacity=0),
    )  # fmt: skip


def _contours(ls, V: np.ndarray) -> dict:
    finite = V[np.isfinite(V)]
    parts_x, parts_y = [], []
    if finite.size and ls.grid >= 3:
        for level in np.unique(np.quantile(finite, np.linspace(0.05, 0.95, CONTOUR_LEVELS))):
            for lx, ly in contour_paths(ls.xs, ls.ys, V, level):
                parts_x += [lx, [np.nan]]
                parts_y += [ly, [np.nan]]
    x = np.concatenate(parts_x) if parts_x else np.array([])
    y = np.concatenate(parts_y) if parts_y else np.array([])
    return dict(type="scatter", x=packed(x), y=packed(y), mode="lines", name="contours",
                line=dict(color="rgba(70,78,92,0.4)", width=1), hoverinfo="skip",
                showlegend=False, xaxis="x", yaxis="y")  # fmt: skip


def _hover_grid(ls) -> dict:
    stride = thinning_stride(ls.grid, HOVER_POINTS)
    idx = np.unique(np.r_[np.arange(0, ls.grid, stride), ls.grid - 1])
    A, B = np.meshgrid(ls.xs[idx], ls.ys[idx])
    return dict(
        type="scatter", x=packed(A.ravel()), y=packed(B.ravel()),
        customdata=as_list(ls.Z[np.ix_(idx, idx)].ravel()), mode="markers",
        marker=dict(size=12, opacity=0), showlegend=False, name="surface", xaxis="x", yaxis="y",
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>surface loss %{customdata:.4g}<extra></extra>",
    )  # fmt: skip


def _label(ls, i: int) -> str:
    return ls.labels[i] + (" (diverged)" if ls.diverged[i] else "")


def _path_trace(ls, i: int, color: str) -> dict:
    c, steps = ls.coords[i], ls.steps[i]
    custom = np.stack([steps, ls.true_loss[i], ls.surface_loss[i], ls.gap(i), ls.off_plane[i]],
                      axis=1) if steps.size else np.zeros((0, 5))  # fmt: skip
    label = _label(ls, i)
    return dict(
        type="scatter", x=as_list(c[:, 0]), y=as_list(c[:, 1]), mode="lines+markers",
        name=label, legendgroup=label, line=dict(color=color, width=2),
        marker=dict(size=4, color=color), customdata=[as_list(row) for row in custom],
        xaxis="x", yaxis="y",
        hovertemplate=f"{label}, step %{{customdata[0]}}<br>true loss %{{customdata[1]:.4g}}"
        "<br>surface at the projection %{customdata[2]:.4g}<br>gap %{customdata[3]:+.3g}, "
        "off the plane by %{customdata[4]:.3g}<extra></extra>",
    )  # fmt: skip


def _marks_trace(ls, i: int, marks, color: str) -> dict:
    """Sharpness measurements on the path: filled ◆ at or over the threshold (the edge of
    stability), open ◆ below it."""
    over = np.isfinite(marks.threshold) & (marks.sharpness >= marks.threshold)
    what = "λmax(P^-½HP^-½)" if marks.kind == "preconditioned" else "λmax(H)"
    custom = [[int(s), float(v), None if not math.isfinite(t) else float(t)]
              for s, v, t in zip(marks.steps, marks.sharpness, marks.threshold)]  # fmt: skip
    label = _label(ls, i)
    return dict(
        type="scatter", x=as_list(marks.coords[:, 0]), y=as_list(marks.coords[:, 1]),
        mode="markers", name=f"{label}: sharpness", legendgroup=label, showlegend=False,
        marker=dict(symbol=["diamond" if o else "diamond-open" for o in over], size=10,
                    color=color, line=dict(color=color, width=1.5)),
        customdata=custom, xaxis="x", yaxis="y",
        hovertemplate=f"{label}, step %{{customdata[0]}}<br>{what} %{{customdata[1]:.4g}}"
        "<br>threshold %{customdata[2]:.4g}<extra></extra>",
    )  # fmt: skip


def _frame_steps(ls, max_frames: int) -> list[int]:
    steps = np.unique(np.concatenate([s for s in ls.steps if s.size] or [np.zeros(1, int)]))
    if steps.size > max_frames:
        steps = steps[np.unique(np.round(np.linspace(0, steps.size - 1, max_frames)).astype(int))]
    return [int(s) for s in steps]


def _heads(ls, step: int) -> tuple[list, list]:
    """Each optimizer's point at its last snapshot at or before ``step`` (None: none)."""
    xs, ys = [], []
    for s, c in zip(ls.steps, ls.coords):
        k = int(np.searchsorted(s, step, side="right")) - 1
        ok = k >= 0 and np.isfinite(c[k]).all()
        xs.append(float(c[k, 0]) if ok else None)
        ys.append(float(c[k, 1]) if ok else None)
    return xs, ys


def _panel_range(ls) -> tuple[str, list[float]]:
    values = _finite([*ls.true_loss, *ls.surface_loss])
    if values.size and values.min() > 0:
        return "log", log_range([values])
    if not values.size:
        return "linear", [0.0, 1.0]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo or 1.0)
    return "linear", [lo - pad, hi + pad]


def _sharpness_panel(ls, marks, colors: list[str]) -> tuple[list[dict], list[float]]:
    """Panel 3 (x3/y3): each optimizer's measured λmax at its steps (◆ filled at or over
    its threshold) and its threshold (dotted, as on the other pages' sharpness panels), and
    the log range covering both."""
    data, values = [], []
    for i, m in enumerate(marks):
        if m is None:
            continue
        label = _label(ls, i)
        what = "λmax(P^-½HP^-½)" if m.kind == "preconditioned" else "λmax(H)"
        common = dict(legendgroup=label, showlegend=False, xaxis="x3", yaxis="y3")
        data.append(line_trace(
            m.steps.tolist(), as_list(m.sharpness), f"{label}, step %{{x}}<br>{what} %{{y:.4g}}",
            name=f"{label}: sharpness", mode="lines+markers",
            line=dict(color=colors[i], width=1.2),  # the optimizer's pattern
            marker=dict(symbol=["diamond" if o else "diamond-open" for o in m.over], size=8,
                        color=colors[i], line=dict(color=colors[i], width=1.5)), **common,
        ))  # fmt: skip
        values += [m.sharpness]
        if np.isfinite(m.threshold).any():
            data.append(line_trace(
                m.steps.tolist(), as_list(m.threshold),
                f"{label}, step %{{x}}<br>threshold %{{y:.4g}}", name=f"{label}: threshold",
                line=dict(color=colors[i], width=1.4, dash="dot"), **common,
            ))  # fmt: skip
            values += [m.threshold]
    finite = _finite(values)
    finite = finite[finite > 0]
    return data, (log_range([finite]) if finite.size else [0.0, 1.0])


def _reference_points(ls) -> list[dict]:
    """The map's fixed points: the start (the reference too, when it is the start), the
    reference (another optimizer's final weights) and the lowest grid point."""
    first = next((c[0] for c in ls.coords if c.shape[0]), np.zeros(2))
    same = ls.reference_index is None  # the reference is the start
    data = [dict(
        type="scatter", x=[float(first[0])], y=[float(first[1])], mode="markers",
        name=wrap("start = reference (shared initial weights)" if same
                  else "start (shared initial weights)"),
        marker=dict(symbol="circle-open", size=13, color="black", line=dict(width=2)),
        hovertemplate="start<extra></extra>", xaxis="x", yaxis="y",
    )]  # fmt: skip
    if not same:
        data.append(dict(
            type="scatter", x=[0.0], y=[0.0], mode="markers", name=wrap(reference_name(ls)),
            marker=dict(symbol="x-thin", size=13, color="black", line=dict(width=2.5)),
            hovertemplate=f"{reference_name(ls)}<br>loss {ls.reference_loss:.4g}<extra></extra>",
            xaxis="x", yaxis="y",
        ))  # fmt: skip
    ma, mb, mz = ls.grid_minimum()
    if math.isfinite(mz):
        data.append(dict(
            type="scatter", x=[ma], y=[mb], mode="markers", name="lowest grid point",
            marker=dict(symbol="star", size=15, color=MINIMUM_STAR,
                        line=dict(color="black", width=1)),
            hovertemplate=f"lowest grid point<br>loss {mz:.4g}<extra></extra>",
            xaxis="x", yaxis="y",
        ))  # fmt: skip
    return data


def _loss_panel(ls, colors: list[str]) -> list[dict]:
    """Panel 2 (x2/y2): each optimizer's true loss (solid, its gap to the surface in the
    hover) and the surface at its projection (dotted)."""
    data = []
    for i in range(len(ls.labels)):
        label, s = _label(ls, i), ls.steps[i].tolist()
        gap = as_list(ls.gap(i))
        common = dict(legendgroup=label, showlegend=False, xaxis="x2", yaxis="y2")
        data.append(line_trace(s, as_list(ls.true_loss[i]), f"{label}, step %{{x}}<br>true "
                               "loss %{y:.4g}<br>gap to the surface %{customdata:+.3g}",
                               name=f"{label}: true loss", customdata=gap,
                               line=dict(color=colors[i], width=1.8, dash="solid"),
                               **common))  # fmt: skip
        data.append(line_trace(s, as_list(ls.surface_loss[i]), f"{label}, step %{{x}}<br>"
                               "surface at the projection %{y:.4g}",
                               name=f"{label}: surface", line=dict(color=colors[i], width=1.4,
                               dash="dot"), **common))  # fmt: skip
    return data


def _moving_traces(ls, colors: list[str], step: int, cursors: list[tuple]) -> list[dict]:
    """What the frames move, at ``step``: every optimizer's head on the map, then each
    panel's cursor (``cursors``: its y extent and axes)."""
    K = len(ls.labels)
    hx, hy = _heads(ls, step)
    data = [dict(
        type="scatter", x=hx, y=hy, mode="markers", name="now", showlegend=False,
        marker=dict(size=12, color=list(colors[:K]), line=dict(color="white", width=1.5)),
        text=[_label(ls, i) for i in range(K)], hovertemplate="%{text}<extra></extra>",
        xaxis="x", yaxis="y",
    )]  # fmt: skip
    for c_lo, c_hi, xa, ya in cursors:
        data.append(dict(type="scatter", x=[step, step], y=[c_lo, c_hi], mode="lines",
                         line=dict(color=CURSOR_COLOR, width=1), hoverinfo="skip",
                         showlegend=False, name="step", xaxis=xa, yaxis=ya))  # fmt: skip
    return data


def _frames(ls, steps: list[int], heads: int, cursors: list[tuple]) -> list[dict]:
    """One frame a step: the heads (trace ``heads``) and the cursors after it."""
    frames = []
    for s in steps:
        fx, fy = _heads(ls, s)
        frames.append(dict(name=str(s), traces=list(range(heads, heads + 1 + len(cursors))),
                           data=[dict(type="scatter", x=fx, y=fy),
                                 *(dict(type="scatter", x=[s, s], y=[c[0], c[1]])
                                   for c in cursors)]))  # fmt: skip
    return frames


def _map_layout(
    ls, data: list[dict], V: np.ndarray, kind: str, y_range: list[float], sharp_range
) -> tuple:
    """The layout, top down: legend, map (the surface's PNG under it), its axis title, room
    for the colour bar, buttons and slider, then the loss panel and, with ``sharp_range``,
    the sharpness panel. Returns it with its stack and the px under the map to its colour
    bar."""
    sharp = sharp_range is not None
    names = [t["name"] for t in data if t.get("showlegend", True) is not False]
    top = legend_height(len(names), sum(n.count("<br>") for n in names)) + 12
    under_map = TICKS + AXIS_TITLE + 4
    gap = under_map + COLORBAR + 8 + BUTTONS + SLIDER + 2 * TITLE_ROW + 8
    below = TICKS + AXIS_TITLE + 6
    between = TICKS + AXIS_TITLE + 3 * TITLE_ROW + 10  # panel 2's axis, panel 3's title
    st = stack([MAP_PX, PANEL_PX, PANEL_PX] if sharp else [MAP_PX, PANEL_PX], [gap, between])
    x_title, y_title = axis_titles(ls)
    a0, a1, b0, b1 = ls.xs[0], ls.xs[-1], ls.ys[0], ls.ys[-1]
    layout = dict(
        height=top + st.plot + below,
        margin=dict(l=60, r=16, t=top, b=below),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        dragmode="pan",
        legend=column_legend(st.y(-(top - 2))),
        xaxis=dict(domain=[0.0, 1.0], range=[a0, a1], title=dict(text=x_title, standoff=4),
                   showgrid=False, zeroline=False),
        yaxis=dict(domain=st.domain(0), range=[b0, b1], title=dict(text=y_title, standoff=4),
                   showgrid=False, zeroline=False),
        xaxis2=dict(domain=[0.0, 1.0], anchor="y2", range=[0, ls.steps_total],
                    title=dict(text="step", standoff=4), gridcolor=GRID_COLOR, zeroline=False),
        yaxis2=dict(domain=st.domain(1), anchor="x2", type=kind, range=y_range,
                    gridcolor=GRID_COLOR, zeroline=False, title=dict(text="loss"),
                    **(log_ticks(*y_range, 4) if kind == "log" else {})),
        images=[dict(source=palette_png_uri(V[::-1]), xref="x", yref="y", x=a0, y=b1,
                     sizex=a1 - a0, sizey=b1 - b0, sizing="stretch", layer="below",
                     xanchor="left", yanchor="top")],
        annotations=[dict(panel_label(PANEL_TITLE, 0.0, st.y(st.tops[1] - 2)), align="left")],
    )  # fmt: skip
    if sharp:
        layout.update(
            xaxis3=dict(domain=[0.0, 1.0], anchor="y3", range=[0, ls.steps_total],
                        title=dict(text="step", standoff=4), gridcolor=GRID_COLOR,
                        zeroline=False),
            yaxis3=dict(domain=st.domain(2), anchor="x3", type="log", range=sharp_range,
                        gridcolor=GRID_COLOR, zeroline=False, title=dict(text="λmax"),
                        **log_ticks(*sharp_range, 4)),
        )  # fmt: skip
        layout["annotations"].append(
            dict(panel_label(SHARP_TITLE, 0.0, st.y(st.tops[2] - 2)), align="left")
        )
    return layout, st, under_map


def landscape_figure(
    ls, colors: list[str], *, log_color: bool = False, marks=None, max_frames: int = 120
) -> dict:
    """The plane's map (surface, contours, projected paths, start, reference, lowest grid
    point, sharpness marks) over the loss along each path, with Play/Pause and a step slider
    moving each optimizer's current point and the panel's cursor.

    ``ls``: a vradam.studies.landscape.Landscape; ``marks``: its sharpness_marks (or None).
    """
    V, bar_title = colour_values(ls.Z, log_color)
    bar = _colour_bar_trace(V, bar_title, bar_title == "loss (log scale)", 0.0)
    data: list[dict] = [_hover_grid(ls), _contours(ls, V), bar]
    data += [_path_trace(ls, i, colors[i]) for i in range(len(ls.labels))]
    for i, m in enumerate(marks or []):
        if m is not None:
            data.append(_marks_trace(ls, i, m, colors[i]))
    data += _reference_points(ls)
    # the panel: true loss and the surface at the projection, per optimizer
    kind, y_range = _panel_range(ls)
    data += _loss_panel(ls, colors)
    sharp, sharp_range = _sharpness_panel(ls, marks or [], colors)
    data += sharp
    # what moves: the heads on the map, the cursor on the panel(s)
    steps = _frame_steps(ls, max_frames)
    lo, hi = (10.0 ** y_range[0], 10.0 ** y_range[1]) if kind == "log" else y_range
    cursors = [(lo, hi, "x2", "y2")]
    if sharp:
        cursors.append((10.0 ** sharp_range[0], 10.0 ** sharp_range[1], "x3", "y3"))
    heads = len(data)
    data += _moving_traces(ls, colors, steps[-1], cursors)
    frames = _frames(ls, steps, heads, cursors)
    layout, st, under_map = _map_layout(ls, data, V, kind, y_range, sharp_range if sharp else None)
    bar["marker"]["colorbar"]["y"] = st.below(0, under_map)
    buttons_y = st.below(0, under_map + COLORBAR + 8)
    layout.update(animation_controls(
        [str(s) for s in steps], steps, frame_ms=120, buttons_y=buttons_y,
        slider_y=st.below(0, under_map + COLORBAR + 8 + BUTTONS), slider_len=1.0,
        slider_pad_left=0, step_labels=False,
    ))  # fmt: skip
    layout["sliders"][0]["active"] = len(steps) - 1  # the figure opens on the last step
    return dict(data=data, layout=layout, frames=frames)


def static_figure(fig: dict) -> dict:
    """The map at the step it opens on (the last), without frames or animation controls
    (a PNG)."""
    layout = {k: v for k, v in fig["layout"].items() if k not in ("sliders", "updatemenus")}
    return {"data": fig["data"], "layout": layout}


def slice_figure(
    sl, labels: list[str], colors: list[str], split: str = "train", notes=None
) -> dict:
    """The loss along the line through two optimizers' final weights (t = 0 and 1), a
    little beyond both; ``sl`` is a vradam.studies.landscape_views.Slice, ``notes`` one
    more hover line for each end (its sharpness)."""
    t, v = np.asarray(sl.t), np.asarray(sl.loss)
    finite = v[np.isfinite(v)]
    log = finite.size > 0 and finite.min() > 0
    y_range = log_range([finite]) if log else None
    ends = []
    for k, (idx, at) in enumerate(((sl.a, 0.0), (sl.b, 1.0))):
        j = int(np.argmin(np.abs(t - at)))
        ends.append(dict(
            type="scatter", x=[at], y=as_list(v[j : j + 1]), mode="markers",
            name=f"{'AB'[k]}: {labels[idx]} (t = {at:g})",
            marker=dict(size=12, color=colors[idx], line=dict(color="white", width=1.5)),
            hovertemplate=f"{labels[idx]}'s final weights<br>loss %{{y:.4g}}"
            + (f"<br>{notes[k]}" if notes else "") + "<extra></extra>",
        ))  # fmt: skip
    line = line_trace(as_list(t), as_list(v), "t = %{x:.3g}<br>loss %{y:.4g}",
                      name=f"{split} loss on the line",
                      line=dict(color="#444444", width=2))  # fmt: skip
    data = [line, *ends]
    top = legend_height(len(data)) + 12
    below = TICKS + AXIS_TITLE + 6
    plot = 260
    layout = dict(
        height=top + plot + below,
        margin=dict(l=60, r=16, t=top, b=below),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        legend=column_legend(round(1 + (top - 2) / plot, 5)),
        xaxis=dict(title=dict(text="t in θ = (1 − t)·θ_A + t·θ_B", standoff=4),
                   gridcolor=GRID_COLOR, zeroline=False,
                   range=[float(t.min()) - 0.02, float(t.max()) + 0.02]),
        yaxis=dict(type="log" if log else "linear", title=dict(text="loss"),
                   gridcolor=GRID_COLOR, zeroline=False,
                   **(dict(range=y_range, **log_ticks(*y_range, 4)) if log else {})),
        shapes=[dict(type="rect", xref="x", yref="paper", x0=0, x1=1, y0=0, y1=1,
                     fillcolor="rgba(0,0,0,0.04)", line=dict(width=0), layer="below")],
    )  # fmt: skip
    return dict(data=data, layout=layout)


def surface3d_figure(ls, colors: list[str], *, log_color: bool = False, height: int = 520) -> dict:
    """The grid as a rotatable surface, each projected path drawn at the surface's height
    (its value at the projection, lifted slightly): the 3-D view of the map. Static."""
    V, title = colour_values(ls.Z, log_color)
    title = "log₁₀ loss" if title == "loss (log scale)" else title
    finite = V[np.isfinite(V)]
    zlo, zhi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lift = 0.01 * (zhi - zlo or 1.0)
    data: list[dict] = [dict(
        type="surface", x=packed(ls.xs), y=packed(ls.ys), z=packed(V),
        colorscale=SURFACE_SCALE, showscale=False, opacity=0.92, name="surface",
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>" + title + " %{z:.4g}<extra></extra>",
        contours=dict(z=dict(show=True, color="rgba(70,78,92,0.35)", width=1, start=zlo,
                             end=zhi, size=(zhi - zlo) / 12 or 1.0)),
        lighting=dict(ambient=0.75, diffuse=0.5, specular=0.05),
    )]  # fmt: skip
    for i, color in enumerate(colors[: len(ls.labels)]):
        c = ls.coords[i]
        z = _height(ls, np.asarray(ls.surface_loss[i], dtype=float), log_color) + lift
        label = _label(ls, i)
        data.append(dict(
            type="scatter3d", mode="lines", x=as_list(c[:, 0]), y=as_list(c[:, 1]),
            z=as_list(z), name=label, line=dict(color=color, width=5),
            hovertemplate=f"{label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        ))  # fmt: skip
    x_title, y_title = ("PC1", "PC2") if ls.plane.kind == "pca" else ("direction 1", "direction 2")
    axis = dict(gridcolor="#dddddd", backgroundcolor="white", showbackground=True)
    rows = len(ls.labels)
    layout = dict(
        height=height,
        margin=dict(l=0, r=0, t=legend_height(rows) + 8, b=0),
        paper_bgcolor="white",
        legend=column_legend(1.0, yref="container"),
        scene=dict(
            xaxis=dict(title=dict(text=x_title), range=[ls.xs[0], ls.xs[-1]], **axis),
            yaxis=dict(title=dict(text=y_title), range=[ls.ys[0], ls.ys[-1]], **axis),
            zaxis=dict(title=dict(text=title), **axis),
            aspectmode="manual", aspectratio=dict(x=1.0, y=1.0, z=0.6),
            camera=dict(eye=dict(x=1.05, y=-1.25, z=0.8)),
        ),
        uirevision="landscape-surface",
    )  # fmt: skip
    return dict(data=data, layout=layout)


def _height(ls, values: np.ndarray, log_color: bool) -> np.ndarray:
    """Path heights on the surface's scale (the same transform as its colours)."""
    if not log_color:
        return values
    finite = ls.Z[np.isfinite(ls.Z)]
    lo = float(finite.min()) if finite.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if lo > 0:
            return np.log10(values)
        floor = 1e-3 * max(float(finite.max()) - lo, 1e-300)
        return np.log10(values - lo + floor)


def cost_text(ls) -> str:
    """The grid's cost in words: points, seconds, and what the asked grid would take."""
    n, asked = ls.grid, ls.grid_asked
    text = (f"{n}×{n} = {n * n:,} loss evaluations on {ls.n_examples:,} examples "
            f"({ls.n_params:,} weights, {ls.method}) in {ls.grid_seconds:.1f} s")  # fmt: skip
    if n < asked:
        text += (f"; coarser than the {asked}×{asked} asked for, which would take about "
                 f"{ls.estimated_seconds(asked):.0f} s here")  # fmt: skip
    return text


def number(v: float) -> str:
    return tick_label(v) if math.isfinite(v) else "—"
