"""Figures for the physics page: motion on a landscape, energy, phase portrait, the gate."""

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
    thinning_stride,
)
from vradam.studies.physics import Motion

MOTION_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
MOTION_PANELS = [
    "energy change |E − E₀|/|E₀| (no friction: the integrator's error)",
    "speed ‖v‖",
]


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


def _motion_layout(ls, bg: dict, motions: list[Motion], ranges: list, steps: list) -> dict:
    layout = dict(
        height=560,
        margin=dict(l=50, r=20, t=40, b=130),
        plot_bgcolor="white",
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
        annotations=[],
        **map_axes(ls, bg, (0.0, 0.52)),
    )
    for j, (title, rng) in enumerate(zip(MOTION_PANELS, ranges)):
        axis = j + 2
        lo, hi = (0.55, 1.0) if j == 0 else (0.0, 0.42)
        layout[f"xaxis{axis}"] = dict(
            domain=[0.62, 1.0],
            anchor=f"y{axis}",
            range=[0, float(motions[0].t[-1])],
            gridcolor=GRID_COLOR,
            title=dict(text="time t") if j == 1 else None,
        )
        layout[f"yaxis{axis}"] = dict(
            domain=[lo, hi],
            anchor=f"x{axis}",
            type="log",
            range=rng,
            gridcolor=GRID_COLOR,
            exponentformat="power",
        )
        layout["annotations"].append(panel_label(title, 0.62, hi))
    labels = [f"{motions[0].t[k]:.2f}" for k in steps]
    layout.update(animation_controls([str(k) for k in steps], labels, frame_ms=50,
                                     slider_len=0.52, prefix="t = "))  # fmt: skip
    return layout


def motion_figure(
    ls, motions: list[Motion], labels: list[str], bg: dict, frames: int = 120
) -> dict:
    """Animated paths on the landscape, with |E − E₀|/|E₀| and ‖v‖ over time beside them."""
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
    return dict(data=data, layout=_motion_layout(ls, bg, motions, ranges, steps), frames=frame_list)


def phase_portrait_figure(k: float, mass: float, beta3: float, energies=None) -> dict:
    """Level sets of E(x, v) = ½kx² + (M/2)v² + (3β3/4)v⁴ in 1-D, for β3 = 0 and β3.

    With β3 > 0 the velocity grows only like E^¼ at high energy: fast motion is damped.
    """
    energies = np.asarray(energies if energies is not None else [0.5, 2, 8, 32], dtype=float)
    xmax = math.sqrt(2 * energies.max() / k) * 1.1
    vmax = math.sqrt(2 * energies.max() / mass) * 1.1
    xs = np.linspace(-xmax, xmax, 201)
    vs = np.linspace(-vmax, vmax, 201)
    X, Vv = np.meshgrid(xs, vs)
    data: list[dict] = []
    layout: dict = dict(
        height=380,
        margin=dict(l=55, r=20, t=50, b=50),
        plot_bgcolor="white",
        annotations=[],
        showlegend=False,
    )
    for i, (b, title) in enumerate(((0.0, "β₃ = 0: ellipses"), (beta3, f"β₃ = {beta3:g}"))):
        suffix = "" if i == 0 else "2"
        E = (0.5 * k * X**2 + 0.5 * mass * Vv**2 + 0.75 * b * Vv**4).tolist()
        color = MOTION_COLORS[i]
        for e in energies:
            data.append(
                dict(
                    type="contour",
                    x=xs.tolist(),
                    y=vs.tolist(),
                    z=E,
                    autocontour=False,
                    contours=dict(start=float(e), end=float(e), size=1.0, coloring="lines"),
                    colorscale=[[0, color], [1, color]],
                    showscale=False,
                    line=dict(width=2),
                    xaxis=f"x{suffix}",
                    yaxis=f"y{suffix}",
                    hovertemplate=f"E = {e:g}<extra></extra>",
                )
            )
        x0 = 0.0 if i == 0 else 0.55
        layout[f"xaxis{suffix}"] = dict(
            domain=[x0, x0 + 0.45],
            anchor=f"y{suffix}",
            title=dict(text="position x"),
            zeroline=True,
        )
        layout[f"yaxis{suffix}"] = dict(
            domain=[0, 1],
            anchor=f"x{suffix}",
            range=[-vmax, vmax],
            title=dict(text="velocity v") if i == 0 else None,
        )
        layout["annotations"].append(
            dict(
                text=title,
                xref="paper",
                yref="paper",
                x=x0 + 0.225,
                y=1.0,
                yanchor="bottom",
                showarrow=False,
            )
        )
    return dict(data=data, layout=layout)


def gate_figure(curves: dict) -> dict:
    """η(‖v‖) with its floor, and the step η‖v‖ with the bound α0/(2√β3) and the clip."""
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
                **step_axes,
            )
        )
    layout = dict(
        height=360,
        margin=dict(l=55, r=20, t=40, b=50),
        plot_bgcolor="white",
        legend=dict(orientation="h", x=0, y=1.05, yanchor="bottom"),
        xaxis=dict(domain=[0, 0.45], title=dict(text="‖v‖"), gridcolor=GRID_COLOR),
        yaxis=dict(title=dict(text="η"), gridcolor=GRID_COLOR, rangemode="tozero"),
        xaxis2=dict(domain=[0.55, 1], anchor="y2", title=dict(text="‖v‖"), gridcolor=GRID_COLOR),
        yaxis2=dict(
            anchor="x2", title=dict(text="step length"), gridcolor=GRID_COLOR, rangemode="tozero"
        ),
        shapes=[],
    )
    for speed, color, xref in (
        (curves["peak_speed"], "#009E73", "x2"),
        (curves["clip_speed"], "#555555", "x"),
        (curves["clip_speed"], "#555555", "x2"),
    ):
        if math.isfinite(speed) and speed <= s[-1]:
            layout["shapes"].append(
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
    return dict(data=data, layout=layout)
