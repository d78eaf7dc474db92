"""Plotly figure builders (arrays in, figures out; no Streamlit, no optimizer maths).

The race figure animates inside Streamlit, where contour and heatmap traces vanish
during ``redraw=False`` animations: the landscape is a PNG in ``layout.images``,
contour lines are static Scatter traces, and frames (plain dicts, at most ~150)
move only the heads, the velocity arrows and one cursor per panel. Figures use
Unicode, never LaTeX (MathJax is not available offline).
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

# Okabe–Ito (colour-blind safe), one fixed colour per optimizer, extended with
# Paul Tol's muted scheme for the rest and for repeated optimizers.
KEY_COLORS = {
    "vradam": "#D55E00",  # vermillion
    "adam": "#0072B2",  # blue
    "momentum": "#009E73",  # bluish green
    "rmsprop": "#CC79A7",  # reddish purple
    "gd": "#000000",  # black
    "nesterov": "#E69F00",  # orange
    "adamw": "#56B4E9",  # sky blue
    "vrmomentum": "#882255",  # wine
    "adagrad": "#117733",  # green
    "nadam": "#332288",  # indigo
    "radam": "#44AA99",  # teal
    "lion": "#AA4499",  # purple
}
EXTRA_COLORS = ["#999933", "#CC6677", "#88CCEE", "#DDCC77", "#661100", "#6699CC", "#888888"]

PANELS = [
    ("loss", "loss"),
    ("effective_lr", "effective LR η_t"),
    ("velocity_sq_norm", "‖v‖²"),
    ("step_norm", "step size ‖Δθ‖"),
    ("sharpness", "sharpness (solid) vs threshold (dashed)"),
]
MAP_DOMAIN = (0.0, 0.55)
PANEL_DOMAIN = (0.64, 1.0)


def assign_colors(specs) -> list[str]:
    """A colour per spec: the optimizer's own colour first, free ones for repeats."""
    used: set[str] = set()
    colors = []
    pool = [*KEY_COLORS.values(), *EXTRA_COLORS]
    for spec in specs:
        color = KEY_COLORS.get(spec.key)
        if color is None or color in used:
            color = next((c for c in pool if c not in used), EXTRA_COLORS[len(colors) % 7])
        used.add(color)
        colors.append(color)
    return colors


# ----------------------------------------------------------------------------- background


def _value_transform(Z: np.ndarray, log_scale: bool) -> np.ndarray:
    """Values mapped for colouring and contour levels (log of the gap for steep functions)."""
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return np.zeros_like(Z)
    if log_scale:
        lo = finite.min()
        span = max(finite.max() - lo, 1e-300)
        return np.log10(Z - lo + 1e-6 * span)
    return Z


_RAMP = np.array([[255, 255, 255], [222, 228, 236], [150, 162, 182]], dtype=np.float64)


def _colorize(V: np.ndarray) -> np.ndarray:
    """Light slate ramp (low = white), NaN in pale rose; returns uint8 RGB."""
    finite = V[np.isfinite(V)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    t = np.clip((V - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    t = np.where(np.isfinite(t), t, 0.0)
    pos = t * (len(_RAMP) - 1)
    i = np.minimum(pos.astype(int), len(_RAMP) - 2)
    f = (pos - i)[..., None]
    rgb = _RAMP[i] * (1 - f) + _RAMP[i + 1] * f
    rgb[~np.isfinite(V)] = (250, 225, 225)
    return rgb.astype(np.uint8)


def png_data_uri(rgb: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def marching_squares(xs, ys, V, level) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the contour V = level on a grid: x and y arrays with NaN gaps."""
    a, b = V[:-1, :-1], V[:-1, 1:]  # corners of each cell: a b
    d, c = V[1:, :-1], V[1:, 1:]  # (rows go up in y)          d c
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    case = (a > level) * 1 + (b > level) * 2 + (c > level) * 4 + (d > level) * 8
    case = np.where(ok, case, 0)
    X0, Y0 = np.meshgrid(xs[:-1], ys[:-1])
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]

    def frac(p, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip((level - p) / (q - p), 0, 1)

    # crossing points on the four edges: bottom (a-b), right (b-c), top (d-c), left (a-d)
    edges = {
        "B": (X0 + frac(a, b) * dx, Y0),
        "R": (X0 + dx, Y0 + frac(b, c) * dy),
        "T": (X0 + frac(d, c) * dx, Y0 + dy),
        "L": (X0, Y0 + frac(a, d) * dy),
    }
    table = {
        1: ["LB"],
        2: ["BR"],
        3: ["LR"],
        4: ["RT"],
        5: ["LT", "BR"],
        6: ["BT"],
        7: ["LT"],
        8: ["LT"],
        9: ["BT"],
        10: ["LB", "RT"],
        11: ["RT"],
        12: ["LR"],
        13: ["BR"],
        14: ["LB"],
    }
    xs_out, ys_out = [], []
    for k, segments in table.items():
        mask = case == k
        if not mask.any():
            continue
        for seg in segments:
            (x1, y1), (x2, y2) = edges[seg[0]], edges[seg[1]]
            n = int(mask.sum())
            gap = np.full(n, np.nan)
            xs_out.append(np.stack([x1[mask], x2[mask], gap], axis=1).ravel())
            ys_out.append(np.stack([y1[mask], y2[mask], gap], axis=1).ravel())
    if not xs_out:
        return np.array([]), np.array([])
    return np.concatenate(xs_out), np.concatenate(ys_out)


def background(ls, n_image: int = 360, n_contour: int = 90, levels: int = 11) -> dict:
    """The landscape as an image, contour lines and a grid of values (cached by the page)."""
    _, _, Z = ls.grid(n_image)
    V = _value_transform(Z, ls.log_scale)
    image = png_data_uri(_colorize(V)[::-1])  # image rows run top (ymax) to bottom
    cx, cy, CZ = ls.grid(n_contour)
    CV = _value_transform(CZ, ls.log_scale)
    finite = CV[np.isfinite(CV)]
    lines_x, lines_y = [], []
    if finite.size:
        for level in np.quantile(finite, np.linspace(0.03, 0.97, levels)):
            lx, ly = marching_squares(cx, cy, CV, level)
            lines_x.append(lx)
            lines_y.append(ly)
    cont_x = np.concatenate(lines_x) if lines_x else np.array([])
    cont_y = np.concatenate(lines_y) if lines_y else np.array([])
    gx, gy, GZ = ls.grid(23)  # the click-to-set grid (each marker is an SVG node)
    return dict(image=image, contour_x=cont_x, contour_y=cont_y, grid=(gx, gy, GZ))


# ----------------------------------------------------------------------------- race figure


def _list(a: np.ndarray, digits: int | None = None) -> list:
    """numpy → list with None for NaN (JSON null breaks lines, as Plotly expects)."""
    a = np.asarray(a, dtype=np.float64)
    if digits is not None:
        a = np.round(a, digits)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _sig_list(a: np.ndarray, sig: int = 6) -> list:
    """Like :func:`_list`, rounded to ``sig`` significant digits (for values on log axes,
    where rounding to decimals would turn small values into 0)."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a) & (a != 0)
    mag = np.floor(np.log10(np.abs(np.where(ok, a, 1.0))))
    scale = 10.0 ** (sig - 1 - mag)
    return _list(np.where(ok, np.round(a * scale) / scale, a))


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


def _log_range(values, pad=0.15):
    v = np.concatenate([np.ravel(x) for x in values]) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return [-1.0, 1.0]
    lo, hi = math.log10(v.min()), math.log10(v.max())
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25
    return [lo - pad, hi + pad]


def _stride(n: int, budget: int) -> int:
    return max(1, math.ceil(n / budget))


def _click_grid(GX, GY, GZ, digits) -> dict:
    # Invisible markers: st.plotly_chart reports clicks on points only.
    return dict(
        type="scatter",
        x=_list(GX.ravel(), digits),
        y=_list(GY.ravel(), digits),
        customdata=_list(GZ.ravel()),
        mode="markers",
        marker=dict(size=14, opacity=0),
        hovertemplate="x=%{x:.3g}, y=%{y:.3g}<br>f=%{customdata:.4g}<br>"
        "click to start here<extra></extra>",
        showlegend=False,
        name="click to set the start",
        xaxis="x",
        yaxis="y",
    )


def map_axes(ls, bg: dict, domain=MAP_DOMAIN) -> dict:
    """Layout entries of the map: fixed x/y axes at true aspect and the background image."""
    (x0, x1), (y0, y1) = ls.domain
    return dict(
        xaxis=dict(domain=list(domain), range=[x0, x1], title=dict(text="x"), showgrid=False,
                   zeroline=False, constrain="domain"),
        yaxis=dict(domain=[0.0, 1.0], range=[y0, y1], title=dict(text="y"), showgrid=False,
                   zeroline=False, scaleanchor="x", scaleratio=1, constrain="domain"),
        images=[dict(source=bg["image"], xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0,
                     sizey=y1 - y0, sizing="stretch", layer="below", xanchor="left",
                     yanchor="top")],
    )  # fmt: skip


def map_base(ls, bg: dict, digits: int, *, click: bool = True) -> list[dict]:
    """The landscape's static traces on axes x/y: the click grid, contour lines, minima."""
    data: list[dict] = []
    gx, gy, GZ = bg["grid"]
    GX, GY = np.meshgrid(gx, gy)
    if click:
        data.append(_click_grid(GX, GY, GZ, digits))
    data.append(
        dict(
            type="scatter",
            x=_list(bg["contour_x"], digits),
            y=_list(bg["contour_y"], digits),
            mode="lines",
            line=dict(color="rgba(70,78,92,0.35)", width=1),
            hoverinfo="skip",
            showlegend=False,
            xaxis="x",
            yaxis="y",
            name="contours",
        )
    )
    if ls.minima:
        mx, my = zip(*ls.minima)
        data.append(
            dict(
                type="scatter",
                x=list(mx),
                y=list(my),
                mode="markers",
                name="global minimum",
                marker=dict(
                    symbol="star", size=15, color="#FFD700", line=dict(color="black", width=1)
                ),
                hovertemplate="minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
                xaxis="x",
                yaxis="y",
            )
        )

    return data


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
    (x0, x1), (y0, y1) = ls.domain
    digits = max(0, 6 - math.floor(math.log10(max(x1 - x0, y1 - y0))))
    data = map_base(ls, bg, digits, click=False)
    T = trajectories[0].steps
    steps = np.arange(T + 1)
    for tr, color in zip(trajectories, colors):
        xy = tr.xy[0]
        common = dict(mode="lines", line=dict(color=color, width=2), legendgroup=tr.label)
        data.append(
            dict(
                type="scatter",
                x=_list(xy[:, 0], digits),
                y=_list(xy[:, 1], digits),
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
                y=_sig_list(tr.loss[0]),
                name=tr.label,
                showlegend=False,
                xaxis="x2",
                yaxis="y2",
                hovertemplate="step %{x}<br>loss %{y:.4g}<extra></extra>",
                **common,
            )
        )
    data.append(
        dict(
            type="scatter",
            x=[float(trajectories[0].xy[0, 0, 0])],
            y=[float(trajectories[0].xy[0, 0, 1])],
            mode="markers",
            name="start",
            marker=dict(symbol="circle-open", size=12, color="black", line=dict(width=2)),
            hoverinfo="skip",
            xaxis="x",
            yaxis="y",
        )
    )
    if highlight is not None:
        k, t = highlight
        tr = trajectories[k]
        a, b = tr.xy[0, t], tr.xy[0, min(t + 1, T)]
        data.append(
            dict(
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
        )
        data.append(
            dict(
                type="scatter",
                x=[t],
                y=_sig_list(tr.loss[0, t : t + 1]),
                mode="markers",
                showlegend=False,
                name=f"step {t}",
                marker=dict(size=12, color=colors[k], line=dict(color="black", width=2)),
                hoverinfo="skip",
                xaxis="x2",
                yaxis="y2",
            )
        )
    finite = [tr.loss[0][np.isfinite(tr.loss[0])] for tr in trajectories]
    layout = dict(
        height=height,
        margin=dict(l=50, r=20, t=30, b=45),
        plot_bgcolor="white",
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
        xaxis2=dict(domain=[0.6, 1.0], anchor="y2", title=dict(text="step"), gridcolor="#eeeeee"),
        yaxis2=dict(
            anchor="x2",
            type="log",
            range=_log_range(finite),
            title=dict(text="loss"),
            gridcolor="#eeeeee",
            exponentformat="power",
        ),
        **map_axes(ls, bg, (0.0, 0.52)),
    )
    return dict(data=data, layout=layout)


def race_figure(ls, trajectories, colors, bg: dict, *, max_frames: int = 120) -> dict:
    """The animated race: map with paths, heads and velocity arrows, and synced panels.

    Returns a plain figure dict (data, layout, frames). One slider and the Play/Pause
    buttons drive every subplot: each panel has a cursor at the current step.
    """
    (x0, x1), (y0, y1) = ls.domain
    K = len(trajectories)
    N = trajectories[0].xy.shape[0]
    T = trajectories[0].steps
    digits = max(0, 6 - math.floor(math.log10(max(x1 - x0, y1 - y0))))
    data: list[dict] = []

    data += map_base(ls, bg, digits)

    # --- map: full paths, starts, divergence markers ------------------------------------
    stride = _stride(K * N * (T + 1), 60_000)
    idx = np.unique(np.r_[np.arange(0, T + 1, stride), T])
    for tr, color in zip(trajectories, colors):
        px = np.full((N, idx.size + 1), np.nan)
        py = np.full((N, idx.size + 1), np.nan)
        px[:, :-1], py[:, :-1] = tr.xy[:, idx, 0], tr.xy[:, idx, 1]
        data.append(
            dict(
                type="scatter",
                x=_list(px.ravel(), digits),
                y=_list(py.ravel(), digits),
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
    starts = trajectories[0].xy[:, 0]
    data.append(
        dict(
            type="scatter",
            x=_list(starts[:, 0]),
            y=_list(starts[:, 1]),
            mode="markers",
            name="start",
            marker=dict(symbol="circle-open", size=11, color="black", line=dict(width=2)),
            hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>",
            xaxis="x",
            yaxis="y",
            showlegend=False,
        )
    )
    for tr, color in zip(trajectories, colors):
        bad = np.flatnonzero(tr.diverged_at >= 0)
        if bad.size == 0:
            continue
        last = tr.xy[bad, -1]
        data.append(
            dict(
                type="scatter",
                x=_list(last[:, 0]),
                y=_list(last[:, 1]),
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

    # --- panels -------------------------------------------------------------------------
    n_panels = len(PANELS)
    gap = 0.045
    height = (1 - gap * (n_panels - 1)) / n_panels
    ranges = {}
    gap_loss = ls.min_value is not None
    pstride = _stride(T + 1, 800)
    for p, (name, _title) in enumerate(PANELS):
        axis = p + 2
        values = []
        for tr, color in zip(trajectories, colors):
            x, y = _panel_series(tr, name)
            if y is None:
                continue
            if name == "loss" and gap_loss:
                y = y - ls.min_value  # the gap to the minimum, on a log scale
            sel = slice(None, None, pstride)
            values.append(y)
            data.append(
                dict(
                    type="scatter",
                    x=x[sel].tolist(),
                    y=_list(y[sel]),
                    mode="lines",
                    line=dict(color=color, width=1.6),
                    name=tr.label,
                    legendgroup=tr.label,
                    showlegend=False,
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    hovertemplate=f"{tr.label}<br>step %{{x}}: %{{y:.4g}}<extra></extra>",
                )
            )
            if name == "sharpness" and tr.stability_threshold is not None:
                th = tr.stability_threshold[0]
                if np.isfinite(th).any():
                    values.append(th)
                    data.append(
                        dict(
                            type="scatter",
                            x=np.arange(T)[sel].tolist(),
                            y=_list(th[sel]),
                            mode="lines",
                            line=dict(color=color, width=1.2, dash="dash"),
                            name=f"{tr.label} threshold",
                            legendgroup=tr.label,
                            showlegend=False,
                            xaxis=f"x{axis}",
                            yaxis=f"y{axis}",
                            hovertemplate=f"{tr.label} threshold<br>step %{{x}}: %{{y:.4g}}"
                            "<extra></extra>",
                        )
                    )
        log = name != "loss" or gap_loss
        if log:
            ranges[axis] = ("log", _log_range(values))
        else:
            v = np.concatenate(values) if values else np.array([0.0, 1.0])
            v = v[np.isfinite(v)]
            lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
            pad = 0.05 * (hi - lo or 1.0)
            ranges[axis] = ("linear", [lo - pad, hi + pad])

    # --- animated traces: heads, velocity arrows, cursors ---------------------------------
    first_anim = len(data)
    diag = math.hypot(x1 - x0, y1 - y0)
    scales = []
    for tr in trajectories:
        speeds = np.linalg.norm(tr.velocity, axis=-1)
        speeds = speeds[np.isfinite(speeds) & (speeds > 0)]
        ref = np.percentile(speeds, 95) if speeds.size else 1.0
        scales.append(0.12 * diag / ref)

    def heads_and_arrows(t: int) -> list[dict]:
        out = []
        for tr in trajectories:
            out.append(dict(type="scatter", x=_list(tr.xy[:, t, 0]), y=_list(tr.xy[:, t, 1])))
        for tr, scale in zip(trajectories, scales):
            if t == 0:
                out.append(dict(type="scatter", x=[None], y=[None]))
                continue
            head = tr.xy[:, t]
            tip = head - scale * tr.velocity[:, t - 1]  # motion goes against the velocity
            ax = np.stack([head[:, 0], tip[:, 0], np.full(N, np.nan)], 1).ravel()
            ay = np.stack([head[:, 1], tip[:, 1], np.full(N, np.nan)], 1).ravel()
            out.append(dict(type="scatter", x=_list(ax, digits), y=_list(ay, digits)))
        return out

    def cursors(t: int) -> list[dict]:
        out = []
        for p in range(n_panels):
            kind, (lo, hi) = ranges[p + 2]
            ylo, yhi = (10**lo, 10**hi) if kind == "log" else (lo, hi)
            out.append(dict(type="scatter", x=[t, t], y=[ylo, yhi]))
        return out

    for (tr, color), first in zip(zip(trajectories, colors), heads_and_arrows(0)[:K]):
        data.append(
            dict(
                first,
                mode="markers",
                name=f"{tr.label} (now)",
                legendgroup=tr.label,
                showlegend=False,
                xaxis="x",
                yaxis="y",
                marker=dict(size=12, color=color, line=dict(color="white", width=1.5)),
                hovertemplate=f"{tr.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            )
        )
    for (tr, color), first in zip(zip(trajectories, colors), heads_and_arrows(0)[K:]):
        data.append(
            dict(
                first,
                mode="lines+markers",
                name=f"{tr.label} velocity",
                legendgroup=tr.label,
                showlegend=False,
                xaxis="x",
                yaxis="y",
                hoverinfo="skip",
                line=dict(color=color, width=2.5),
                marker=dict(symbol="arrow", angleref="previous", size=[0, 11, 0] * N, color=color),
            )
        )
    for p, c in enumerate(cursors(0)):
        data.append(
            dict(
                c,
                mode="lines",
                line=dict(color="rgba(0,0,0,0.45)", width=1),
                hoverinfo="skip",
                showlegend=False,
                xaxis=f"x{p + 2}",
                yaxis=f"y{p + 2}",
                name="now",
            )
        )
    animated = list(range(first_anim, len(data)))

    F = min(max_frames, T + 1)
    frame_steps = np.unique(np.round(np.linspace(0, T, F)).astype(int)).tolist()
    frames = [
        dict(name=str(t), data=heads_and_arrows(t) + cursors(t), traces=animated)
        for t in frame_steps
    ]

    # --- layout ---------------------------------------------------------------------------
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
        axis = p + 2
        top = 1 - p * (height + gap)
        kind, rng = ranges[axis]
        layout[f"xaxis{axis}"] = dict(
            domain=list(PANEL_DOMAIN),
            range=[0, T],
            anchor=f"y{axis}",
            showticklabels=p == n_panels - 1,
            title=dict(text="step") if p == n_panels - 1 else None,
            gridcolor="#eeeeee",
            zeroline=False,
        )
        layout[f"yaxis{axis}"] = dict(
            domain=[round(max(top - height, 0.0), 6), round(min(top, 1.0), 6)],
            type=kind,
            range=rng,
            anchor=f"x{axis}",
            gridcolor="#eeeeee",
            zeroline=False,
            tickfont=dict(size=10),
            exponentformat="power",
        )
        label = "loss − f*" if name == "loss" and gap_loss else title
        layout["annotations"].append(
            dict(
                text=label,
                xref="paper",
                yref="paper",
                x=PANEL_DOMAIN[0],
                y=top,
                xanchor="left",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12),
            )
        )
    layout["updatemenus"] = [
        dict(
            type="buttons",
            direction="left",
            x=0.0,
            y=-0.14,
            xanchor="left",
            yanchor="top",
            showactive=False,
            pad=dict(t=0, r=10),
            buttons=[
                dict(
                    label="▶ Play",
                    method="animate",
                    args=[
                        None,
                        dict(
                            frame=dict(duration=60, redraw=False),
                            fromcurrent=True,
                            transition=dict(duration=0),
                            mode="immediate",
                        ),
                    ],
                ),
                dict(
                    label="❚❚ Pause",
                    method="animate",
                    args=[
                        [None],
                        dict(
                            frame=dict(duration=0, redraw=False),
                            mode="immediate",
                            transition=dict(duration=0),
                        ),
                    ],
                ),
            ],
        )
    ]
    layout["sliders"] = [
        dict(
            active=0,
            x=0.0,
            len=MAP_DOMAIN[1],
            y=-0.115,
            xanchor="left",
            yanchor="top",
            pad=dict(t=0, b=0, l=180),
            currentvalue=dict(prefix="step ", font=dict(size=13)),
            transition=dict(duration=0),
            steps=[
                dict(
                    method="animate",
                    label=str(t),
                    args=[
                        [str(t)],
                        dict(
                            mode="immediate",
                            frame=dict(duration=0, redraw=False),
                            transition=dict(duration=0),
                        ),
                    ],
                )
                for t in frame_steps
            ],
        )
    ]
    return dict(data=data, layout=layout, frames=frames)


def to_plotly(fig: dict):
    """A go.Figure without validation (the dict is built to Plotly's schema)."""
    import plotly.graph_objects as go

    return go.Figure(fig, skip_invalid=False, _validate=False)
