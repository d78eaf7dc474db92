"""Figures for the physics page: motion on a landscape, energy, phase portrait, the gate."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.animation import animation_controls, frame_steps
from vradam.app.figures.arrays import as_list, sig_list, thinning_stride
from vradam.app.figures.colors import GRID_COLOR
from vradam.app.figures.maps import map_axes, map_base, map_digits
from vradam.app.figures.panels import (
    AXIS_TITLE,
    TICKS,
    TITLE_ROW,
    column_legend,
    legend_height,
    stack,
)
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import cursor_style, line_trace, panel_label
from vradam.studies.physics import Motion

MOTION_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
# short: a title must fit its panel on a phone (the caption says what the change means)
MOTION_PANELS = ["energy change |E − E₀|/|E₀|", "speed ‖v‖"]
CONTROLS = 80  # px of the Play/Pause buttons and the time slider under the figure


def _motion_paths(motions: list[Motion], labels: list[str], stride: int, digits: int) -> list:
    """Each particle's path on the map, up to where it left the domain."""
    data = []
    T = motions[0].t.size - 1
    for m, label, color in zip(motions, labels, MOTION_COLORS):
        end = m.escaped_at if m.escaped_at > 0 else T + 1
        data.append(
            dict(
                type="scatter",
                x=as_list(m.x[:end:stride, 0], digits),
                y=as_list(m.x[:end:stride, 1], digits),
                mode="lines",
                name=label,
                line=dict(color=color, width=2),
                hoverinfo="skip",
                xaxis="x",
                yaxis="y",
            )
        )
    return data


def _motion_panels(motions: list[Motion], labels: list[str], stride: int) -> tuple[list, list]:
    """Traces of |E − E₀|/|E₀| (axes x2/y2) and ‖v‖ (x3/y3), and the two log ranges."""
    panels = []
    for m in motions:
        rel = np.abs(m.energy - m.energy[0]) / max(abs(m.energy[0]), 1e-300)
        panels.append((np.where(rel > 0, rel, np.nan), np.linalg.norm(m.v, axis=-1)))
    data, ranges = [], []
    for j in range(len(MOTION_PANELS)):
        axis = j + 2
        values = [p[j] for p in panels]
        ranges.append(log_range(values))
        for m, label, color, vals in zip(motions, labels, MOTION_COLORS, values):
            data.append(
                dict(
                    type="scatter",
                    x=as_list(m.t[::stride]),
                    y=as_list(vals[::stride]),
                    mode="lines",
                    line=dict(color=color, width=1.6),
                    showlegend=False,
                    name=label,
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    hovertemplate=f"{label}<br>t=%{{x:.3g}}: %{{y:.3g}}<extra></extra>",
                )
            )
    return data, ranges


def _motion_frame_data(motions: list[Motion], ranges: list, k: int) -> list[dict]:
    """What frame k moves: each particle (held where it escaped) and the panels' cursors."""
    out = []
    for m in motions:
        kk = min(k, m.escaped_at - 1) if m.escaped_at > 0 else k
        out.append(dict(type="scatter", x=[float(m.x[kk, 0])], y=[float(m.x[kk, 1])]))
    for rng in ranges:
        t = float(motions[0].t[k])
        out.append(dict(type="scatter", x=[t, t], y=[10 ** rng[0], 10 ** rng[1]]))
    return out


def _motion_animated(motions: list[Motion], ranges: list) -> list[dict]:
    """The traces the frames move, as they stand at t = 0 and styled."""
    first = _motion_frame_data(motions, ranges, 0)
    data = []
    for trace, color in zip(first[: len(motions)], MOTION_COLORS):
        data.append(
            dict(
                trace,
                mode="markers",
                showlegend=False,
                hoverinfo="skip",
                xaxis="x",
                yaxis="y",
                marker=dict(size=13, color=color, line=dict(color="white", width=1.5)),
            )
        )
    for j, trace in enumerate(first[len(motions) :]):
        data.append(cursor_style(trace, j + 2))
    return data


def _motion_axes(layout: dict, motions: list[Motion], ranges: list, domains: list) -> None:
    """The two time panels (x2/y2, x3/y3) on ``domains`` ((x0, x1), (y0, y1)) each, log y
    with decade or 1-2-5 labels (minor labels like "2" over "10" read as wrong values)."""
    for j, (title, rng, (xd, yd)) in enumerate(zip(MOTION_PANELS, ranges, domains)):
        axis = j + 2
        layout[f"xaxis{axis}"] = dict(domain=list(xd), anchor=f"y{axis}",
                                      range=[0, float(motions[0].t[-1])], gridcolor=GRID_COLOR,
                                      title=dict(text="time t") if j == 1 else None)  # fmt: skip
        layout[f"yaxis{axis}"] = dict(domain=list(yd), anchor=f"x{axis}", type="log", range=rng,
                                      gridcolor=GRID_COLOR, **log_ticks(*rng))  # fmt: skip
        layout["annotations"].append(panel_label(title, xd[0], yd[1]))


def _motion_layout(ls, bg: dict, motions: list[Motion], ranges: list, steps: list,
                   narrow: bool) -> dict:  # fmt: skip
    """Wide: the map left, the two time panels right. Narrow: map, energy, speed stacked.
    The legend lists one entry per row above the map; the controls sit under it all."""
    entries = len(motions) + (1 if ls.minima else 0)
    top = legend_height(entries) + 12
    if narrow:
        st = stack([300, 110, 110], [TICKS + AXIS_TITLE + TITLE_ROW + 8, TICKS + TITLE_ROW])
        below = TICKS + AXIS_TITLE + 10
        domains = [((0.0, 1.0), st.domain(1)), ((0.0, 1.0), st.domain(2))]
        map_domain, map_y = (0.0, 1.0), st.domain(0)
    else:
        st = stack([330], [])
        below = TICKS + AXIS_TITLE + 10
        domains = [((0.62, 1.0), (0.55, 1.0)), ((0.62, 1.0), (0.0, 0.42))]
        map_domain, map_y = (0.0, 0.52), [0.0, 1.0]
    layout = dict(
        height=top + st.plot + below + CONTROLS,
        margin=dict(l=50, r=20, t=top, b=below + CONTROLS),
        plot_bgcolor="white",
        legend=column_legend(st.y(-(top - 4))),
        annotations=[],
        **map_axes(ls, bg, map_domain),
    )
    layout["yaxis"]["domain"] = list(map_y)
    _motion_axes(layout, motions, ranges, domains)
    labels = [f"{motions[0].t[k]:.2f}" for k in steps]
    y = st.y(st.plot + below)
    controls = animation_controls([str(k) for k in steps], labels, frame_ms=50,
                                  buttons_y=y, slider_y=y, slider_len=1.0,
                                  prefix="t = ")  # fmt: skip
    if narrow:  # buttons above a full-width slider (beside it the slider has no room)
        controls["sliders"][0].update(y=st.y(st.plot + below + 36), pad=dict(t=0, b=0, l=0))
    layout.update(controls)
    return layout


def motion_figure(
    ls, motions: list[Motion], labels: list[str], bg: dict, frames: int = 120,
    narrow: bool = False,
) -> dict:  # fmt: skip
    """Animated paths on the landscape, with |E − E₀|/|E₀| and ‖v‖ over time beside them
    (under it when ``narrow``)."""
    digits = map_digits(ls)
    T = motions[0].t.size - 1
    stride = thinning_stride(T, 1500)
    data = map_base(ls, bg, digits, click=False)
    data += _motion_paths(motions, labels, stride, digits)
    panels, ranges = _motion_panels(motions, labels, stride)
    data += panels
    first_anim = len(data)
    data += _motion_animated(motions, ranges)
    traces = list(range(first_anim, len(data)))
    steps = frame_steps(T, frames)
    frame_list = [
        dict(name=str(k), data=_motion_frame_data(motions, ranges, k), traces=traces) for k in steps
    ]
    layout = _motion_layout(ls, bg, motions, ranges, steps, narrow)
    return dict(data=data, layout=layout, frames=frame_list)


def _level_set(e: float, k: float, mass: float, b: float, n: int = 181):
    """The closed curve ½kx² + (M/2)v² + (3b/4)v⁴ = e, as (x, v) arrays: v = v_max sin θ,
    x = ±√(2(e − K(v))/k) (exact: no grid, a few kilobytes where contours on a grid took
    megabytes)."""
    if b > 0:  # the positive root of (3b/4)w² + (M/2)w − e = 0 in w = v²
        w = (-0.5 * mass + math.sqrt(0.25 * mass**2 + 3 * b * e)) / (1.5 * b)
    else:
        w = 2 * e / mass
    theta = np.linspace(0, 2 * np.pi, n)
    v = math.sqrt(w) * np.sin(theta)
    kinetic = 0.5 * mass * v**2 + 0.75 * b * v**4
    x = np.sign(np.cos(theta)) * np.sqrt(np.maximum(2 * (e - kinetic) / k, 0.0))
    return x, v


def phase_portrait_figure(k: float, mass: float, beta3: float, energies=None) -> dict:
    """Level sets of E(x, v) = ½kx² + (M/2)v² + (3β3/4)v⁴ in 1-D, for β3 = 0 and β3, on one
    panel (one width fits every screen): with β3 > 0 the orbits are squashed in v, since
    the velocity grows only like E^¼ at high energy: fast motion is damped."""
    energies = np.asarray(energies if energies is not None else [0.5, 2, 8, 32], dtype=float)
    xmax = math.sqrt(2 * energies.max() / k) * 1.1
    vmax = math.sqrt(2 * energies.max() / mass) * 1.1
    data: list[dict] = []
    families = ((0.0, "β₃ = 0: ellipses", "solid"), (beta3, f"β₃ = {beta3:g}: squashed", "dash"))
    for i, (b, name, dash) in enumerate(families):
        color = MOTION_COLORS[i]
        for e in energies:
            x, v = _level_set(float(e), k, mass, b)
            data.append(
                line_trace(
                    sig_list(x, 5), sig_list(v, 5), f"{name}<br>E = {e:g}", name=name,
                    legendgroup=name, showlegend=False, line=dict(color=color, width=2, dash=dash),
                )
            )  # fmt: skip
        data.append(line_trace([None], [None], name=name, legendgroup=name,
                               line=dict(color=color, dash=dash)))  # fmt: skip
    top, st = legend_height(2) + 12, stack([310], [])
    layout: dict = dict(
        height=top + st.plot + TICKS + AXIS_TITLE + 10,
        margin=dict(l=55, r=20, t=top, b=TICKS + AXIS_TITLE + 10),
        plot_bgcolor="white",
        legend=column_legend(st.y(-(top - 4))),
        xaxis=dict(title=dict(text="position x"), zeroline=True, range=[-xmax, xmax]),
        yaxis=dict(title=dict(text="velocity v"), range=[-vmax, vmax]),
    )
    return dict(data=data, layout=layout)


def _gate_traces(curves: dict) -> list[dict]:
    """η(‖v‖) and its floor (left), the step η‖v‖ and, with β₃ > 0, its bound (right, in
    the second legend)."""
    s = curves["speed"]
    step_axes = dict(xaxis="x2", yaxis="y2")
    data = [
        line_trace(
            s.tolist(),
            curves["eta"].tolist(),
            name="η = α₀ / (1 + min(β₃‖v‖², α₁))",
            line=dict(color="#D55E00", width=2.5),
        ),
        line_trace(
            [s[0], s[-1]],
            [curves["floor"]] * 2,
            name="floor α₀/(1 + α₁)",
            line=dict(color="#555555", dash="dot"),
        ),
        line_trace(
            s.tolist(),
            curves["step"].tolist(),
            name="step η‖v‖",
            line=dict(color="#0072B2", width=2.5),
            legend="legend2",
            **step_axes,
        ),
    ]
    if math.isfinite(curves["bound"]):
        data.append(
            line_trace(
                [s[0], s[-1]],
                [curves["bound"]] * 2,
                name="bound α₀/(2√β₃) (clip inactive)",
                line=dict(color="#009E73", dash="dash"),
                legend="legend2",
                **step_axes,
            )
        )
    return data


def _gate_lines(curves: dict) -> list[dict]:
    """Dotted verticals at the speed of the longest step (right) and where the clip starts
    (both panels), when within the plotted speeds."""
    shapes = []
    for speed, color, xref in (
        (curves["peak_speed"], "#009E73", "x2"),
        (curves["clip_speed"], "#555555", "x"),
        (curves["clip_speed"], "#555555", "x2"),
    ):
        if math.isfinite(speed) and speed <= curves["speed"][-1]:
            shapes.append(
                dict(
                    type="line",
                    xref=xref,
                    yref="paper",
                    x0=speed,
                    x1=speed,
                    y0=0,
                    y1=1,
                    line=dict(color=color, width=1, dash="dot"),
                )
            )
    return shapes


def gate_figure(curves: dict, narrow: bool = False) -> dict:
    """η(‖v‖) with its floor, and the step η‖v‖ with the bound α0/(2√β3) and the clip
    (beside each other, or stacked when ``narrow``)."""
    # η left and the step right on a wide screen, stacked when narrow; each panel's two
    # entries in its own legend, one per row, above it.
    if narrow:
        st = stack([180, 180], [TICKS + AXIS_TITLE + legend_height(2) + 4])
        x_domains, y_domains = [[0, 1], [0, 1]], [st.domain(0), st.domain(1)]
        legend_y = [st.y(-4), st.y(st.tops[1] - 4)]
    else:
        st = stack([260], [])
        x_domains, y_domains = [[0, 0.45], [0.55, 1]], [[0, 1], [0, 1]]
        legend_y = [st.y(-4), st.y(-4)]
    top = legend_height(2) + 4
    layout = dict(
        height=top + st.plot + TICKS + AXIS_TITLE + 10,
        margin=dict(l=55, r=20, t=top, b=TICKS + AXIS_TITLE + 10),
        plot_bgcolor="white",
        legend=column_legend(legend_y[0], yanchor="bottom"),
        legend2=column_legend(legend_y[1], yanchor="bottom", x=x_domains[1][0]),
        xaxis=dict(domain=x_domains[0], title=dict(text="‖v‖"), gridcolor=GRID_COLOR),
        yaxis=dict(domain=y_domains[0], title=dict(text="η"), gridcolor=GRID_COLOR,
                   rangemode="tozero"),
        xaxis2=dict(domain=x_domains[1], anchor="y2", title=dict(text="‖v‖"),
                    gridcolor=GRID_COLOR),
        yaxis2=dict(domain=y_domains[1], anchor="x2", title=dict(text="step length"),
                    gridcolor=GRID_COLOR, rangemode="tozero"),
        shapes=_gate_lines(curves),
    )  # fmt: skip
    return dict(data=_gate_traces(curves), layout=layout)
