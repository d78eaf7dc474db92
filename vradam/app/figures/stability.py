"""Figures for the stability maps: phase diagrams, the Adam-family map, basins, switching."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.common import EXTRA_COLORS, as_list, minima_trace
from vradam.studies import stability as S

CONVERGED_SCALE = [[0, "#08519c"], [1, "#c6dbef"]]  # fast (dark) → slow (light)
BOUNDED_COLOR = "#E69F00"
SLOW_COLOR = "#e8e8e8"
DIVERGED_COLOR = "#3b3b3b"
MINIMUM_COLORS = ["#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#E69F00"]
# the classes drawn as flat layers over the converged heatmap, and in the legend
CLASS_LAYERS = ((S.BOUNDED, BOUNDED_COLOR), (S.DIVERGED, DIVERGED_COLOR), (S.SLOW, SLOW_COLOR))


def _flat(color: str):
    return [[0, color], [1, color]]


def _axes(layout, i, n, *, x_title, y_title, x_log=True, y_log=True, gap=0.06):
    suffix = "" if i == 0 else str(i + 1)
    w = (1 - gap * (n - 1)) / n
    x0 = i * (w + gap)
    layout[f"xaxis{suffix}"] = dict(
        domain=[round(x0, 4), round(x0 + w, 4)],
        anchor=f"y{suffix}",
        type="log" if x_log else "linear",
        title=dict(text=x_title) if x_title else None,
        exponentformat="power",
    )
    layout[f"yaxis{suffix}"] = dict(
        domain=[0, 1],
        anchor=f"x{suffix}",
        type="log" if y_log else "linear",
        title=dict(text=y_title) if y_title and i == 0 else None,
        exponentformat="power",
    )
    return suffix


def _log_cell_range(values: np.ndarray) -> list[float]:
    """The log10 axis range covering a geometric grid's cells, edge to edge."""
    logs = np.log10(np.asarray(values, dtype=float))
    half = (logs[-1] - logs[0]) / (2 * max(len(logs) - 1, 1))
    return [float(logs[0] - half), float(logs[-1] + half)]


def _panel_title(layout: dict, suffix: str, text: str, **style) -> None:
    """A title centred above the panel on axes x{suffix}/y{suffix}."""
    title = dict(text=text, xref=f"x{suffix} domain", yref="paper", x=0.5, y=1.0)
    layout["annotations"].append(dict(title, yanchor="bottom", showarrow=False, **style))


def _layout(height: int, margin: dict, **extra) -> dict:
    """A white figure layout with an empty annotation list (the panel titles go there)."""
    return dict(height=height, margin=margin, plot_bgcolor="white", annotations=[], **extra)


def _legend_swatch(name: str, color: str) -> dict:
    """A legend entry only (no data): a square in ``color``."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker=dict(symbol="square", size=12, color=color),
    )


def _momentum_panel(m: S.MomentumMap, first: bool, axes: dict) -> list[dict]:
    """One optimizer's map: steps to converge, a flat layer per other class, the α₀·L line."""
    steps = np.where(m.classes == S.CONVERGED, np.log10(np.maximum(m.steps_to_tol, 1)), np.nan)
    data = [
        dict(
            type="heatmap",
            x=m.lrs.tolist(),
            y=m.curvatures.tolist(),
            z=as_list(steps),
            colorscale=CONVERGED_SCALE,
            showscale=first,
            zmin=0,
            zmax=math.log10(400),
            colorbar=dict(title=dict(text="log₁₀ steps<br>to converge"), x=1.01, len=0.8)
            if first
            else None,
            hovertemplate="α₀=%{x:.3g}, L=%{y:.3g}<br>converged, 10^%{z:.2f} steps<extra></extra>",
            **axes,
        )
    ]
    for cls, color in CLASS_LAYERS:
        name = S.CLASS_NAMES[cls]
        data.append(
            dict(
                type="heatmap",
                x=m.lrs.tolist(),
                y=m.curvatures.tolist(),
                z=as_list(np.where(m.classes == cls, 1.0, np.nan)),
                colorscale=_flat(color),
                showscale=False,
                name=name,
                hovertemplate=f"α₀=%{{x:.3g}}, L=%{{y:.3g}}<br>{name}<extra></extra>",
                **axes,
            )
        )
    xs = np.geomspace(float(m.lrs.min()), float(m.lrs.max()), 50)
    ys = m.limit / xs
    keep = (ys >= m.curvatures.min()) & (ys <= m.curvatures.max())
    data.append(
        dict(
            type="scatter",
            x=xs[keep].tolist(),
            y=ys[keep].tolist(),
            mode="lines",
            line=dict(color="white", width=3, dash="dash"),
            name=f"α₀·L = {m.limit:.3g}",
            showlegend=False,
            hoverinfo="skip",
            **axes,
        )
    )
    return data


def momentum_maps_figure(maps: list[S.MomentumMap]) -> dict:
    """One panel per optimizer: converged (blue, darker = fewer steps), bounded, diverged."""
    data = []
    layout = _layout(
        430,
        dict(l=60, r=20, t=60, b=55),
        showlegend=True,
        legend=dict(orientation="h", x=0, y=1.16, yanchor="bottom"),
    )
    for i, m in enumerate(maps):
        s = _axes(layout, i, len(maps), x_title="α₀", y_title="curvature L")
        # explicit ranges: all-NaN class layers would otherwise shift a panel's autorange
        layout[f"xaxis{s}"]["range"] = _log_cell_range(m.lrs)
        layout[f"yaxis{s}"]["range"] = _log_cell_range(m.curvatures)
        data += _momentum_panel(m, i == 0, dict(xaxis=f"x{s}", yaxis=f"y{s}"))
        title = f"{S.KINDS[m.kind]}<br><sup>dashed: α₀·L = {m.limit:.3g}</sup>"
        _panel_title(layout, s, title, font=dict(size=13))
    data += [_legend_swatch(S.CLASS_NAMES[cls], color) for cls, color in CLASS_LAYERS]
    layout["margin"].update(t=90, b=70, r=90)
    return dict(data=data, layout=layout)


def adam_map_figure(m: S.AdamMap) -> dict:
    """Left: final loss over (α0, β3); right: how many steps the loss went up."""
    y_labels = [("0 (Adam)" if b == 0 else f"{b:.3g}") for b in m.beta3s]
    data, layout = [], _layout(400, dict(l=80, r=20, t=50, b=55))
    panels = [
        (
            "final loss − f* (last quarter)",
            np.log10(np.maximum(m.final_loss, 1e-16)),
            "log₁₀ loss",
            "Viridis",
        ),
        ("loss increases (oscillation)", m.increases.astype(float), "count", "Magma"),
    ]
    for i, (title, z, unit, scale) in enumerate(panels):
        s = _axes(layout, i, 2, x_title="α₀", y_title="β₃", y_log=False, gap=0.12)
        layout[f"yaxis{s}"]["type"] = "category"
        z = np.where(np.isfinite(z), z, np.nan)
        data.append(
            dict(
                type="heatmap",
                x=m.lrs.tolist(),
                y=y_labels,
                z=as_list(z),
                colorscale=scale,
                colorbar=dict(title=dict(text=unit), x=0.44 if i == 0 else 1.0, len=0.9),
                hovertemplate=f"α₀=%{{x:.3g}}, β₃=%{{y}}<br>{title}: %{{z:.3g}}<extra></extra>",
                xaxis=f"x{s}",
                yaxis=f"y{s}",
            )
        )
        _panel_title(layout, s, title)
    return dict(data=data, layout=layout)


def basin_figure(b: S.BasinMap, landscape) -> dict:
    """One panel per optimizer, each start coloured by the minimum it reaches."""
    M = len(landscape.minima)
    colors = (MINIMUM_COLORS + EXTRA_COLORS)[:M]
    # categories: −2 diverged, −1 not settled, 0..M−1 minima → z = index + 2
    scale = []
    palette = [DIVERGED_COLOR, "#d9d9d9", *colors]
    n = len(palette)
    for k, c in enumerate(palette):
        scale += [[k / n, c], [(k + 1) / n, c]]
    data = []
    layout = _layout(
        420,
        dict(l=40, r=20, t=60, b=40),
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.12),
    )
    K = len(b.labels)
    for i, label in enumerate(b.labels):
        s = _axes(layout, i, K, x_title=None, y_title=None, x_log=False, y_log=False, gap=0.04)
        layout[f"yaxis{s}"]["scaleanchor"] = f"x{s}"
        data.append(
            dict(
                type="heatmap",
                x=b.xs.tolist(),
                y=b.ys.tolist(),
                z=(b.basins[i] + 2).tolist(),
                colorscale=scale,
                zmin=0,
                zmax=n,
                showscale=False,
                xaxis=f"x{s}",
                yaxis=f"y{s}",
                hovertemplate="start (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )
        data.append(
            minima_trace(
                landscape.minima,
                size=13,
                showlegend=False,
                hoverinfo="skip",
                xaxis=f"x{s}",
                yaxis=f"y{s}",
            )
        )
        _panel_title(layout, s, label)
    names = [
        "diverged",
        "not settled",
        *(f"minimum ({x:.2f}, {y:.2f})" for x, y in landscape.minima),
    ]
    data += [_legend_swatch(name, color) for name, color in zip(names, palette)]
    return dict(data=data, layout=layout)


def switching_figure(d: S.SwitchingDemo) -> dict:
    colors = ["#D55E00", "#0072B2", "#009E73", "#000000"]
    data = []
    for (name, norms), color in zip(d.norms.items(), colors):
        data.append(
            dict(
                type="scatter",
                x=d.steps.tolist(),
                y=as_list(norms),
                mode="lines",
                name=f"{name} (×{d.radii[name]:.2f} per step)",
                line=dict(color=color, width=2),
            )
        )
    layout = dict(
        height=420,
        margin=dict(l=60, r=20, t=30, b=50),
        plot_bgcolor="white",
        xaxis=dict(title=dict(text="step"), gridcolor="#eeeeee"),
        yaxis=dict(
            title=dict(text="‖(x, v)‖"), type="log", gridcolor="#eeeeee", exponentformat="power"
        ),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
    )
    return dict(data=data, layout=layout)
