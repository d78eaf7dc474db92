"""Figures for the stability maps: phase diagrams, the Adam-family map, basins, switching."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.arrays import as_list, packed, sig_list
from vradam.app.figures.colors import EXTRA_COLORS
from vradam.app.figures.maps import minima_trace
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
from vradam.app.figures.ticks import log_ticks
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


def _axes(layout, i, n, *, x_title, y_title, x_log=True, y_log=True, gap=0.06,
          x_domain=None, y_domain=(0, 1)):  # fmt: skip
    """Axes x{i+1}/y{i+1} of panel i: by default the i-th of n side by side."""
    suffix = "" if i == 0 else str(i + 1)
    if x_domain is None:
        w = (1 - gap * (n - 1)) / n
        x_domain = (i * (w + gap), i * (w + gap) + w)
    layout[f"xaxis{suffix}"] = dict(
        domain=[round(x_domain[0], 4), round(x_domain[1], 4)],
        anchor=f"y{suffix}",
        type="log" if x_log else "linear",
        title=dict(text=x_title) if x_title else None,
    )
    layout[f"yaxis{suffix}"] = dict(
        domain=[round(y_domain[0], 5), round(y_domain[1], 5)],
        anchor=f"x{suffix}",
        type="log" if y_log else "linear",
        title=dict(text=y_title) if y_title else None,
    )
    return suffix


def _log_cell_range(values: np.ndarray) -> list[float]:
    """The log10 axis range covering a geometric grid's cells, edge to edge."""
    logs = np.log10(np.asarray(values, dtype=float))
    half = (logs[-1] - logs[0]) / (2 * max(len(logs) - 1, 1)) or 0.1  # one value: ±0.1
    return [float(logs[0] - half), float(logs[-1] + half)]


def _panel_title(layout: dict, suffix: str, text: str, **style) -> None:
    """A title centred above the panel on axes x{suffix}/y{suffix}."""
    title = dict(text=text, xref=f"x{suffix} domain", yref=f"y{suffix} domain", x=0.5, y=1.0)
    layout["annotations"].append(dict(title, yanchor="bottom", showarrow=False, **style))


def _log_axis(axis: dict, values) -> None:
    """A log axis over a geometric grid's cells, labelled at decades (or 1-2-5 steps)."""
    axis["range"] = _log_cell_range(values)
    axis.update(log_ticks(*axis["range"]))


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


# The momentum maps as one heatmap per panel of small integer codes (Plotly's base64 uint8
# typed array, 13 kB per 100 × 100 map instead of ~60 kB of JSON per class layer), coloured
# through one colour axis shared by the panels: codes 0 … CONVERGED_LEVELS − 1 are the
# converged cells' log₁₀ steps in even shades from dark (1 step) to light (STEPS_SCALE_MAX;
# a shade per 0.011 decade, finer than the eye tells apart), then one code per other class.
CONVERGED_LEVELS = 240
STEPS_SCALE_MAX = 400  # steps at the light end of the blue scale (longer runs: as light)
CLASS_CODES = {cls: CONVERGED_LEVELS + i for i, (cls, _) in enumerate(CLASS_LAYERS)}
FAILURE_CODE = CONVERGED_LEVELS + len(CLASS_LAYERS)


def _blue(t: np.ndarray) -> list[str]:
    """Colours of CONVERGED_SCALE at fractions ``t`` (0: dark, 1: light)."""
    (_, lo), (_, hi) = CONVERGED_SCALE
    a = np.array([int(lo[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)
    b = np.array([int(hi[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)
    rgb = np.rint(a + np.asarray(t, dtype=float)[:, None] * (b - a)).astype(int)
    return ["#" + "".join(f"{v:02x}" for v in c) for c in rgb]


def code_colors() -> list[str]:
    """The colour of every code, in code order (the converged shades, then the classes)."""
    shades = _blue(np.linspace(0.0, 1.0, CONVERGED_LEVELS))
    return shades + [color for _, color in CLASS_LAYERS] + [FAILURE_COLOR]


def _code_scale() -> list:
    """A colour scale with one flat band per code, for z from −0.5 to FAILURE_CODE + 0.5."""
    colors = code_colors()
    n = len(colors)
    scale = []
    for k, c in enumerate(colors):
        scale += [[round(k / n, 6), c], [round((k + 1) / n, 6), c]]
    return scale


def code_axis() -> dict:
    """The layout's colour axis of the codes: one flat band per code, no colour bar."""
    return dict(colorscale=_code_scale(), cmin=-0.5, cmax=FAILURE_CODE + 0.5, showscale=False)


def map_codes(m: S.MomentumMap, failures: np.ndarray | None = None) -> np.ndarray:
    """(C, A) uint8 code of every cell: converged cells by their log₁₀ steps to converge,
    the other classes (and, given the ``failures`` mask, VRMomentum's cells below the line
    that never converge) by their own code."""
    logs = np.log10(np.maximum(m.steps_to_tol, 1)) / math.log10(STEPS_SCALE_MAX)
    codes = np.rint(np.clip(logs, 0, 1) * (CONVERGED_LEVELS - 1)).astype(np.uint8)
    for cls, code in CLASS_CODES.items():
        codes[m.classes == cls] = code
    if failures is not None:
        codes[failures] = FAILURE_CODE
    return codes


def _steps_colorbar(colorbar: dict, axes: dict) -> dict:
    """The colour bar of the converged cells' shades (log₁₀ steps), on a data-free trace."""
    top = math.log10(STEPS_SCALE_MAX)
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        marker=dict(color=[0.0, top], cmin=0.0, cmax=top, colorscale=CONVERGED_SCALE,
                    showscale=True, colorbar=colorbar),
        showlegend=False,
        hoverinfo="skip",
        **axes,
    )  # fmt: skip


def _momentum_panel(m: S.MomentumMap, colorbar: dict | None, axes: dict,
                    failures: np.ndarray | None = None) -> list[dict]:  # fmt: skip
    """One optimizer's map as one heatmap of codes (:func:`map_codes`), the α₀·L line (and
    the colour bar when given). Hover gives the cell's α₀ and L; its colour and the legend
    say what happened there."""
    data = [
        dict(
            type="heatmap",
            x=packed(m.lrs),
            y=packed(m.curvatures),
            z=packed(map_codes(m, failures), "u1"),
            coloraxis="coloraxis",  # code_axis(), in the layout
            hovertemplate="α₀=%{x:.3g}, L=%{y:.3g}<extra></extra>",
            **axes,
        )
    ]
    if colorbar is not None:
        data.append(_steps_colorbar(colorbar, axes))
    xs = np.geomspace(float(m.lrs.min()), float(m.lrs.max()), 50)
    ys = m.limit / xs
    keep = (ys >= m.curvatures.min()) & (ys <= m.curvatures.max())
    data.append(
        dict(
            type="scatter",
            x=sig_list(xs[keep], 4),
            y=sig_list(ys[keep], 4),
            mode="lines",
            line=dict(color="white", width=3, dash="dash"),
            name=f"α₀·L = {m.limit:.3g}",
            showlegend=False,
            hoverinfo="skip",
            **axes,
        )
    )
    return data


def _example_ring(below: S.BelowLine, example: int, axes: dict) -> list:
    """The example cell of VRMomentum's below-the-line failures, ringed."""
    if example < 0:
        return []
    return [
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
    ]


# panel titles that fit a third of a 1024 px screen (S.KINDS has the long names)
PANEL_TITLES = {
    "gd": "GD",
    "momentum": "heavy ball<br>(torch SGD momentum)",
    "ema": "EMA momentum<br>(VRMomentum, β₃ = 0)",
    "vrmomentum": "VRMomentum",
}


def _momentum_layout(n: int, narrow: bool, legend_entries: int) -> tuple[dict, list]:
    """The maps side by side (wide: colour bar right) or stacked (narrow: colour bar flat
    under the last map); the legend below, one entry per row."""
    title = 3 * TITLE_ROW + 10  # two lines and the dashed-line note, at 13 px
    below = TICKS + AXIS_TITLE + 8
    if narrow:
        st = stack([240] * n, [below + title] * (n - 1))
        # the colour bar's title 6 px under the α₀ title (touching it otherwise)
        colorbar = flat_colorbar("log₁₀ steps to converge", 0.0, 0.6, st.below(n - 1, below + 6))
        under = below + 6 + COLORBAR + 6  # px from the last map's bottom to the legend
        domains = [((0.0, 1.0), st.domain(i)) for i in range(n)]
    else:
        st = stack([330], [])
        colorbar = dict(title=dict(text="log₁₀ steps<br>to converge"), x=1.01, len=0.8)
        under = below
        gap = 0.05
        w = (1 - gap * (n - 1)) / n
        domains = [((i * (w + gap), i * (w + gap) + w), (0.0, 1.0)) for i in range(n)]
    legend = column_legend(st.below(n - 1 if narrow else 0, under))
    bottom = under + legend_height(legend_entries)
    margin = dict(l=60, r=20 if narrow else 90, t=title, b=bottom)
    layout = _layout(title + st.plot + bottom, margin, showlegend=True, legend=legend,
                     coloraxis=code_axis())  # fmt: skip
    return layout, [domains, colorbar]


def momentum_maps_figure(
    maps: list[S.MomentumMap], below: S.BelowLine | None = None, example: int = -1,
    narrow: bool = False,
) -> dict:  # fmt: skip
    """One panel per optimizer: converged (blue, darker = fewer steps), bounded, diverged;
    side by side, or stacked when ``narrow``.

    With ``below`` (VRMomentum's cells below the line that never converge) those cells get
    their own colour on the VRMomentum panel, and ``example`` (an index into ``below``) is
    ringed."""
    data = []
    entries = len(CLASS_LAYERS) + (0 if below is None else 2 if example >= 0 else 1)
    layout, (domains, colorbar) = _momentum_layout(len(maps), narrow, entries)
    for i, m in enumerate(maps):
        x_domain, y_domain = domains[i]
        # the L axis is the same on every map: side by side only the first is labelled
        label = narrow or i == 0
        s = _axes(layout, i, len(maps), x_title="α₀", y_title="curvature L" if label else None,
                  x_domain=x_domain, y_domain=y_domain)  # fmt: skip
        # explicit ranges: all-NaN class layers would otherwise shift a panel's autorange
        _log_axis(layout[f"xaxis{s}"], m.lrs)
        _log_axis(layout[f"yaxis{s}"], m.curvatures)
        layout[f"yaxis{s}"]["showticklabels"] = label
        axes = dict(xaxis=f"x{s}", yaxis=f"y{s}")
        failures = below.mask() if below is not None and m.gated else None
        data += _momentum_panel(m, colorbar if i == 0 else None, axes, failures)
        if failures is not None:
            data += _example_ring(below, example, axes)
        title = f"{PANEL_TITLES[m.kind]}<br>dashed: α₀·L = {m.limit:.3g}"
        _panel_title(layout, s, title, font=dict(size=13))
    data += [_legend_swatch(S.CLASS_NAMES[cls], color) for cls, color in CLASS_LAYERS]
    if below is not None:
        data.append(_legend_swatch(FAILURE_NAME, FAILURE_COLOR))
    return dict(data=data, layout=layout)


TRACE_COLORS = {"vrmomentum": "#882255", "ema": "#009E73"}
TRACE_NAMES = {"vrmomentum": "VRMomentum", "ema": "EMA momentum (β₃ = 0)"}


def _distance_traces(vr: S.Trace1D, ema: S.Trace1D) -> tuple[list[dict], np.ndarray]:
    """|x_t| of each run (steps 0, 1, 2 …), and the positive values of both (for the log
    axis's ticks)."""
    data = []
    positive = []  # |x_t| > 0 of both runs, for the log axis's ticks
    for tr in (vr, ema):
        y = np.abs(tr.x)
        positive.append(y[np.isfinite(y) & (y > 0)])
        name = TRACE_NAMES[tr.kind]
        data.append(
            dict(
                type="scatter",
                x0=0,  # steps 0, 1, 2 …: no x array
                dx=1,
                y=packed(np.where(y > 0, y, np.nan)),  # typed: ~11 kB per 2,000 steps
                mode="lines",
                name=name,
                line=dict(color=TRACE_COLORS[tr.kind], width=2),
                hovertemplate=f"{name}<br>step %{{x}}<br>|x| %{{y:.3g}}<extra></extra>",
            )
        )
    return data, np.concatenate(positive)


def _rate_traces(vr: S.Trace1D, limit: float, t0: int) -> list[dict]:
    """VRMomentum's η_t·L at its updates after ``t0``, and the line B(β)."""
    steps = list(range(t0 + 1, vr.rate.size + 1))
    axes = dict(xaxis="x2", yaxis="y2", legend="legend2")
    rates = dict(
        type="scatter",
        x=steps,
        y=sig_list(vr.rate[t0:] * vr.curvature),
        mode="lines+markers",
        name="VRMomentum's η_t·L",
        line=dict(color=TRACE_COLORS["vrmomentum"], width=1.5),
        marker=dict(size=5),
        **axes,
        hovertemplate="update %{x}<br>η_t·L %{y:.4g}<extra></extra>",
    )
    line = dict(
        type="scatter",
        x=[steps[0], steps[-1]],
        y=[limit, limit],
        mode="lines",
        name=f"the line B(β) = {limit:.3g}",
        line=dict(color="#333333", width=1.5, dash="dash"),
        **axes,
        hoverinfo="skip",
    )
    return [rates, line]


def _trace_layout(narrow: bool) -> dict:
    """The two panels side by side (stacked when narrow), each with its own legend, one
    entry per row, under its x axis title."""
    below = TICKS + AXIS_TITLE + 6
    legend_px = below + legend_height(2)
    if narrow:
        st = stack([220, 220], [legend_px + TITLE_ROW])
        x_domains, y_domains = [(0, 1), (0, 1)], [st.domain(0), st.domain(1)]
    else:
        st = stack([260], [])
        x_domains, y_domains = [(0, 0.55), (0.65, 1)], [(0, 1), (0, 1)]
    return _layout(
        TITLE_ROW + 6 + st.plot + legend_px,
        dict(l=60, r=20, t=TITLE_ROW + 6, b=legend_px),
        showlegend=True,
        legend=column_legend(st.below(0, below)),
        legend2=column_legend(st.below(len(st.tops) - 1, below), x=x_domains[1][0]),
        xaxis=dict(domain=x_domains[0], title=dict(text="step"), gridcolor="#eeeeee"),
        yaxis=dict(domain=y_domains[0], type="log", title=dict(text="|x_t|"),
                   gridcolor="#eeeeee"),
        xaxis2=dict(domain=x_domains[1], anchor="y2", title=dict(text="update"),
                    gridcolor="#eeeeee"),
        yaxis2=dict(domain=y_domains[1], anchor="x2", title=dict(text="η_t·L"),
                    gridcolor="#eeeeee", rangemode="tozero"),
    )  # fmt: skip


def trace_figure(
    vr: S.Trace1D, ema: S.Trace1D, limit: float, last: int = 40, narrow: bool = False
) -> dict:
    """One cell as a 1-D run. Left: |x_t| for VRMomentum and EMA momentum at the same
    (α₀, L). Right: VRMomentum's η_t·L over the last ``last`` steps against the line: every
    step is below it (stable alone), yet the run does not converge."""
    data, finite = _distance_traces(vr, ema)
    T = vr.rate.size
    t0 = max(0, T - last)
    data += _rate_traces(vr, limit, t0)
    layout = _trace_layout(narrow)
    if finite.size:
        lo, hi = math.log10(finite.min()), math.log10(finite.max())
        layout["yaxis"].update(log_ticks(lo, hi))
    _panel_title(layout, "", f"|x_t| over {T:,} steps", font=dict(size=13))
    _panel_title(layout, "2", f"the last {T - t0} rates η_t·L", font=dict(size=13))
    return dict(data=data, layout=layout)


def adam_map_figure(m: S.AdamMap, narrow: bool = False) -> dict:
    """Left: final loss over (α0, β3); right: how many steps the loss went up (stacked when
    ``narrow``). Each colour bar lies flat under its own map, so none reaches the other."""
    y_labels = [("0 (Adam)" if b == 0 else f"{b:.3g}") for b in m.beta3s]
    panels = [  # colour scales by plotly.js names (it has no "Magma")
        ("final loss − f* (last quarter)", np.log10(np.maximum(m.final_loss, 1e-16)),
         "log₁₀ loss", "Viridis"),
        ("loss increases (oscillation)", m.increases.astype(float), "count", "Reds"),
    ]  # fmt: skip
    below = TICKS + AXIS_TITLE + 12  # the colour bar's title 12 px under the α₀ title
    if narrow:
        st = stack([240, 240], [below + COLORBAR + 10 + TITLE_ROW])
        x_domains = [(0.0, 1.0), (0.0, 1.0)]
    else:  # the β₃ labels once, left: the right map's would sit on the left colour bar
        st = stack([280], [])
        x_domains = [(0.0, 0.47), (0.53, 1.0)]
    bottom = below + COLORBAR + 10
    data, layout = [], _layout(TITLE_ROW + 6 + st.plot + bottom,
                               dict(l=80, r=20, t=TITLE_ROW + 6, b=bottom))  # fmt: skip
    for i, (title, z, unit, scale) in enumerate(panels):
        k = i if narrow else 0
        s = _axes(layout, i, 2, x_title="α₀", y_title="β₃" if narrow or i == 0 else None,
                  y_log=False, x_domain=x_domains[i], y_domain=st.domain(k))  # fmt: skip
        layout[f"yaxis{s}"].update(type="category", showticklabels=narrow or i == 0)
        _log_axis(layout[f"xaxis{s}"], m.lrs)
        z = np.where(np.isfinite(z), z, np.nan)
        x0, x1 = x_domains[i]
        data.append(
            dict(
                type="heatmap",
                x=m.lrs.tolist(),
                y=y_labels,
                z=as_list(z),
                colorscale=scale,
                colorbar=flat_colorbar(unit, x0, x0 + 0.8 * (x1 - x0), st.below(k, below)),
                hovertemplate=f"α₀=%{{x:.3g}}, β₃=%{{y}}<br>{title}: %{{z:.3g}}<extra></extra>",
                xaxis=f"x{s}",
                yaxis=f"y{s}",
            )
        )
        _panel_title(layout, s, title)
    return dict(data=data, layout=layout)


def _wrap_label(label: str) -> str:
    """A label such as "VRAdam (β₃=0.0008, α₀=0.1)" on two lines: name, then settings."""
    name, sep, rest = label.partition(" (")
    return f"{name}<br>({rest}" if sep else label


def basin_figure(b: S.BasinMap, landscape, narrow: bool = False) -> dict:
    """One panel per optimizer, each start coloured by the minimum it reaches: a grid of up to
    three columns (two for four panels), one column when ``narrow``."""
    M = len(landscape.minima)
    colors = (MINIMUM_COLORS + EXTRA_COLORS)[:M]
    # categories: −2 diverged, −1 not settled, 0..M−1 minima → z = index + 2
    scale = []
    palette = [DIVERGED_COLOR, "#d9d9d9", *colors]
    n = len(palette)
    for k, c in enumerate(palette):
        scale += [[k / n, c], [(k + 1) / n, c]]
    K = len(b.labels)
    cols = 1 if narrow else (2 if K == 4 else min(K, 3))
    rows = math.ceil(K / cols)
    side = {1: 300, 2: 330, 3: 250}[cols]  # px: about square at the column's width
    title = 2 * TITLE_ROW + 10  # two lines
    st = stack([side] * rows, [TICKS + title] * (rows - 1))
    gap = 0.06
    w = (1 - gap * (cols - 1)) / cols
    # the legend: one entry per row on a phone; a few rows of entries side by side otherwise
    legend_px = legend_height(n) if narrow else legend_height(3)
    legend_y = st.below(rows - 1, TICKS + 6)
    legend = (column_legend(legend_y) if narrow
              else dict(orientation="h", x=0, y=legend_y, yanchor="top"))  # fmt: skip
    layout = _layout(title + st.plot + TICKS + 6 + legend_px,
                     dict(l=40, r=20, t=title, b=TICKS + 6 + legend_px),
                     showlegend=True, legend=legend)  # fmt: skip
    data = []
    for i, label in enumerate(b.labels):
        row, col = divmod(i, cols)
        x_domain = (col * (w + gap), col * (w + gap) + w)
        s = _axes(layout, i, K, x_title=None, y_title=None, x_log=False, y_log=False,
                  x_domain=x_domain, y_domain=st.domain(row))  # fmt: skip
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
        _panel_title(layout, s, _wrap_label(label))
    names = [
        "diverged",
        "not settled",
        *(f"minimum ({x:.2f}, {y:.2f})" for x, y in landscape.minima),
    ]
    data += [_legend_swatch(name, color) for name, color in zip(names, palette)]
    return dict(data=data, layout=layout)


def switching_figure(d: S.SwitchingDemo, narrow: bool = False) -> dict:
    """‖(x, v)‖ of the five runs on a log axis; the legend one entry per row under it (its
    long entries broken over lines when ``narrow``)."""
    colors = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#000000"]
    data = []
    for (name, norms), color in zip(d.norms.items(), colors):
        data.append(
            dict(
                type="scatter",
                x=d.steps.tolist(),
                y=as_list(norms),
                mode="lines",
                name=(wrap if narrow else str)(f"{name} (×{d.radii[name]:.2f} per step)"),
                line=dict(color=color, width=2),
            )
        )
    st = stack([300], [])
    below = TICKS + AXIS_TITLE + 6
    breaks = sum(t["name"].count("<br>") for t in data)
    legend_px = legend_height(len(data), breaks) + 6
    finite = np.concatenate([np.ravel(n) for n in d.norms.values()])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ticks = log_ticks(math.log10(finite.min()), math.log10(finite.max())) if finite.size else {}
    layout = dict(
        height=10 + st.plot + below + legend_px,
        margin=dict(l=60, r=20, t=10, b=below + legend_px),
        plot_bgcolor="white",
        xaxis=dict(title=dict(text="step"), gridcolor="#eeeeee"),
        yaxis=dict(title=dict(text="‖(x, v)‖"), type="log", gridcolor="#eeeeee", **ticks),
        legend=column_legend(st.y(st.plot + below)),
    )
    return dict(data=data, layout=layout)
