"""Figures for the stability maps: phase diagrams, the Adam-family map, basins, switching."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.common import EXTRA_COLORS, as_list, minima_trace, sig_list
from vradam.studies import stability as S

CONVERGED_SCALE = [[0, "#08519c"], [1, "#c6dbef"]]  # fast (dark) → slow (light)
BOUNDED_COLOR = "#E69F00"
SLOW_COLOR = "#e8e8e8"
DIVERGED_COLOR = "#3b3b3b"
# VRMomentum cells below the line α0·L < B(β) that never converge (Theorem 4.1 fails there)
FAILURE_COLOR = "#CC79A7"
FAILURE_NAME = "below the line, not converged"
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


def _failure_layer(m: S.MomentumMap, below: S.BelowLine, example: int, axes: dict) -> list:
    """VRMomentum's below-the-line failures as a flat layer, and the example cell ringed."""
    z = np.where(below.mask(), 1.0, np.nan)
    hover = (
        f"α₀=%{{x:.3g}}, L=%{{y:.3g}}<br>below the line, not converged after "
        f"{below.steps:,} steps<extra></extra>"
    )
    data = [
        dict(
            type="heatmap",
            x=m.lrs.tolist(),
            y=m.curvatures.tolist(),
            z=as_list(z),
            colorscale=_flat(FAILURE_COLOR),
            showscale=False,
            name=FAILURE_NAME,
            hovertemplate=hover,
            **axes,
        )
    ]
    if example >= 0:
        data.append(
            dict(
                type="scatter",
                x=[float(below.lrs[example])],
                y=[float(below.curvatures[example])],
                mode="markers",
                marker=dict(size=13, symbol="circle-open", color="#000000", line=dict(width=2.5)),
                name="example (opened below)",
                hovertemplate="the example cell<br>α₀=%{x:.3g}, L=%{y:.3g}<extra></extra>",
                **axes,
            )
        )
    return data


# panel titles that fit a third of a 1024 px screen (S.KINDS has the long names)
PANEL_TITLES = {
    "gd": "GD",
    "heavy_ball": "heavy ball<br>(torch SGD momentum)",
    "ema": "EMA momentum<br>(VRMomentum, β₃ = 0)",
    "vrmomentum": "VRMomentum",
}


def momentum_maps_figure(
    maps: list[S.MomentumMap], below: S.BelowLine | None = None, example: int = -1
) -> dict:
    """One panel per optimizer: converged (blue, darker = fewer steps), bounded, diverged.

    With ``below`` (VRMomentum's cells below the line that never converge) those cells get
    their own colour on the VRMomentum panel, and ``example`` (an index into ``below``) is
    ringed."""
    data = []
    layout = _layout(
        480,
        dict(l=60, r=20, t=60, b=55),
        showlegend=True,
        # below the panels: above them it collided with the titles on narrow screens
        legend=dict(orientation="h", x=0, y=-0.3, yanchor="top"),
    )
    for i, m in enumerate(maps):
        s = _axes(layout, i, len(maps), x_title="α₀", y_title="curvature L")
        # explicit ranges: all-NaN class layers would otherwise shift a panel's autorange
        layout[f"xaxis{s}"]["range"] = _log_cell_range(m.lrs)
        layout[f"yaxis{s}"]["range"] = _log_cell_range(m.curvatures)
        if i > 0:  # the same L axis as the first panel: its labels only crowd the gap
            layout[f"yaxis{s}"]["showticklabels"] = False
        axes = dict(xaxis=f"x{s}", yaxis=f"y{s}")
        data += _momentum_panel(m, i == 0, axes)
        if below is not None and m.kind == "vrmomentum":
            data += _failure_layer(m, below, example, axes)
        title = f"{PANEL_TITLES[m.kind]}<br><sup>dashed: α₀·L = {m.limit:.3g}</sup>"
        _panel_title(layout, s, title, font=dict(size=13))
    data += [_legend_swatch(S.CLASS_NAMES[cls], color) for cls, color in CLASS_LAYERS]
    if below is not None:
        data.append(_legend_swatch(FAILURE_NAME, FAILURE_COLOR))
    layout["margin"].update(t=80, b=70, r=90)
    return dict(data=data, layout=layout)


def trace_figure(vr: S.Trace1D, ema: S.Trace1D, limit: float, last: int = 40) -> dict:
    """One cell as a 1-D run. Left: |x_t| for VRMomentum and EMA momentum at the same
    (α₀, L). Right: VRMomentum's η_t·L over the last ``last`` steps against the line: every
    step is below it (stable alone), yet the run does not converge."""
    colors = {"vrmomentum": "#882255", "ema": "#009E73"}
    names = {"vrmomentum": "VRMomentum", "ema": "EMA momentum (β₃ = 0)"}
    data = []
    for tr in (vr, ema):
        y = np.abs(tr.x)
        data.append(
            dict(
                type="scatter",
                x=list(range(y.size)),
                y=sig_list(np.where(y > 0, y, np.nan)),
                mode="lines",
                name=names[tr.kind],
                line=dict(color=colors[tr.kind], width=2),
                hovertemplate=f"{names[tr.kind]}<br>step %{{x}}<br>|x| %{{y:.3g}}<extra></extra>",
            )
        )
    T = vr.rate.size
    t0 = max(0, T - last)
    steps = list(range(t0 + 1, T + 1))
    data.append(
        dict(
            type="scatter",
            x=steps,
            y=sig_list(vr.rate[t0:] * vr.curvature),
            mode="lines+markers",
            name="VRMomentum's η_t·L",
            line=dict(color=colors["vrmomentum"], width=1.5),
            marker=dict(size=5),
            xaxis="x2",
            yaxis="y2",
            hovertemplate="update %{x}<br>η_t·L %{y:.4g}<extra></extra>",
        )
    )
    data.append(
        dict(
            type="scatter",
            x=[steps[0], steps[-1]],
            y=[limit, limit],
            mode="lines",
            name=f"the line B(β) = {limit:.3g}",
            line=dict(color="#333333", width=1.5, dash="dash"),
            xaxis="x2",
            yaxis="y2",
            hoverinfo="skip",
        )
    )
    layout = _layout(
        360,
        dict(l=60, r=20, t=40, b=50),
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.3, yanchor="top"),
        xaxis=dict(domain=[0, 0.55], title=dict(text="step"), gridcolor="#eeeeee"),
        yaxis=dict(
            type="log", title=dict(text="|x_t|"), gridcolor="#eeeeee", exponentformat="power"
        ),
        xaxis2=dict(domain=[0.65, 1], anchor="y2", title=dict(text="update"),
                    gridcolor="#eeeeee"),
        yaxis2=dict(anchor="x2", title=dict(text="η_t·L"), gridcolor="#eeeeee",
                    rangemode="tozero"),
    )  # fmt: skip
    _panel_title(layout, "", f"|x_t| over {T:,} steps", font=dict(size=13))
    _panel_title(layout, "2", f"the last {T - t0} rates η_t·L", font=dict(size=13))
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
    colors = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#000000"]
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
