"""Helpers shared by the figure modules: colours, numbers for JSON, the landscape map
(background image, contour lines, minima), bands, panel labels and animation controls.

Every builder returns plain dicts in Plotly's schema; nothing here imports Streamlit.
Helpers return fresh dicts on every call (the presenter view edits figures in place).
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
MINIMUM_STAR = "#FFD700"
CURSOR_COLOR = "rgba(0,0,0,0.45)"
GRID_COLOR = "#eeeeee"

MAP_DOMAIN = (0.0, 0.55)  # the map's share of the width in the animated figures


# ----------------------------------------------------------------------------- colours


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


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` → ``rgba(r,g,b,alpha)`` (for translucent fills)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# ----------------------------------------------------------------------------- numbers


def as_list(a: np.ndarray, digits: int | None = None) -> list:
    """numpy → list with None for NaN (JSON null breaks lines, as Plotly expects)."""
    a = np.asarray(a, dtype=np.float64)
    if digits is not None:
        a = np.round(a, digits)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def sig_list(a: np.ndarray, sig: int = 6) -> list:
    """Like :func:`as_list`, rounded to ``sig`` significant digits (for values on log axes,
    where rounding to decimals would turn small values into 0)."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a) & (a != 0)
    mag = np.floor(np.log10(np.abs(np.where(ok, a, 1.0))))
    scale = 10.0 ** (sig - 1 - mag)
    return as_list(np.where(ok, np.round(a * scale) / scale, a))


def log_range(values, pad=0.15) -> list[float]:
    """A log axis range (in decades) covering the positive finite values of all arrays."""
    v = np.concatenate([np.ravel(x) for x in values]) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return [-1.0, 1.0]
    lo, hi = math.log10(v.min()), math.log10(v.max())
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25
    return [lo - pad, hi + pad]


def thinning_stride(n: int, budget: int) -> int:
    """The stride that keeps at most ``budget`` of ``n`` points."""
    return max(1, math.ceil(n / budget))


def frame_steps(last: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` evenly spread integer steps from 0 to ``last``, both included."""
    n = min(max_frames, last + 1)
    return np.unique(np.round(np.linspace(0, last, n)).astype(int)).tolist()


def map_digits(ls) -> int:
    """Decimals that keep about six significant digits of map coordinates."""
    (x0, x1), (y0, y1) = ls.domain
    return max(0, 6 - math.floor(math.log10(max(x1 - x0, y1 - y0))))


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


# Marching squares: the segments drawn in a cell for each case (bit k set when corner k
# is above the level), as pairs of the edges they join.
_SEGMENTS = {
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
    xs_out, ys_out = [], []
    for k, segments in _SEGMENTS.items():
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


# ----------------------------------------------------------------------------- the map


def minima_trace(minima, *, size: int = 15, **extra) -> dict:
    """Gold stars on the landscape's minima ([(x, y), …]); ``extra`` sets axes, name, hover."""
    mx, my = zip(*minima)
    return dict(
        type="scatter",
        x=list(mx),
        y=list(my),
        mode="markers",
        marker=dict(
            symbol="star", size=size, color=MINIMUM_STAR, line=dict(color="black", width=1)
        ),
        **extra,
    )


def _click_grid(bg: dict, digits: int) -> dict:
    # Invisible markers: st.plotly_chart reports clicks on points only.
    gx, gy, GZ = bg["grid"]
    GX, GY = np.meshgrid(gx, gy)
    return dict(
        type="scatter",
        x=as_list(GX.ravel(), digits),
        y=as_list(GY.ravel(), digits),
        customdata=as_list(GZ.ravel()),
        mode="markers",
        marker=dict(size=14, opacity=0),
        hovertemplate="x=%{x:.3g}, y=%{y:.3g}<br>f=%{customdata:.4g}<br>"
        "click to start here<extra></extra>",
        showlegend=False,
        name="click to set the start",
        xaxis="x",
        yaxis="y",
    )


def map_base(ls, bg: dict, digits: int, *, click: bool = True) -> list[dict]:
    """The landscape's static traces on axes x/y: the click grid, contour lines, minima."""
    data: list[dict] = [_click_grid(bg, digits)] if click else []
    data.append(
        dict(
            type="scatter",
            x=as_list(bg["contour_x"], digits),
            y=as_list(bg["contour_y"], digits),
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
        hover = "minimum (%{x:.4g}, %{y:.4g})<extra></extra>"
        data.append(
            minima_trace(
                ls.minima, name="global minimum", hovertemplate=hover, xaxis="x", yaxis="y"
            )
        )
    return data


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


def start_marker(x: list, y: list, *, size: int, **extra) -> dict:
    """Open black circles on the start points (axes x/y)."""
    return dict(
        type="scatter",
        x=x,
        y=y,
        mode="markers",
        name="start",
        marker=dict(symbol="circle-open", size=size, color="black", line=dict(width=2)),
        xaxis="x",
        yaxis="y",
        **extra,
    )


# ----------------------------------------------------------------------------- panels


def line_trace(x, y, hover: str | None = None, **style) -> dict:
    """A scatter trace drawn as lines; ``style`` adds keys (or changes the mode), ``hover`` is
    the hovertemplate without its ``<extra></extra>``."""
    trace = {"type": "scatter", "x": x, "y": y, "mode": "lines", **style}
    if hover is not None:
        trace["hovertemplate"] = f"{hover}<extra></extra>"
    return trace


def band_traces(
    x: list, lo: list, hi: list, fillcolor: str, *, closed: bool = False, **extra
) -> list[dict]:
    """A shaded band between ``lo`` and ``hi`` over ``x``, with no outline or hover.

    Two traces by default (the upper edge, then the lower edge filled ``tonexty``), which
    follow gaps (None) in the data; ``closed`` draws one polygon (``toself``) instead.
    ``extra`` goes into every trace (axes, name, legend group).
    """

    def edge(**kw) -> dict:
        return dict(
            type="scatter",
            mode="lines",
            line=dict(width=0),
            hoverinfo="skip",
            showlegend=False,
            **kw,
            **extra,
        )

    if closed:
        outline_x, outline_y = [*x, *x[::-1], x[0]], [*lo, *hi[::-1], lo[0]]
        return [edge(x=outline_x, y=outline_y, fill="toself", fillcolor=fillcolor)]
    return [edge(x=list(x), y=hi), edge(x=list(x), y=lo, fill="tonexty", fillcolor=fillcolor)]


def panel_label(text: str, x: float, y: float, size: int = 12) -> dict:
    """An annotation above a panel's top-left corner (paper coordinates)."""
    return dict(
        text=text,
        xref="paper",
        yref="paper",
        x=x,
        y=y,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=size),
    )


def cursor_style(trace: dict, axis: int, **extra) -> dict:
    """A frame's vertical cursor line ``trace`` styled for panel axes x{axis}/y{axis}."""
    return dict(
        trace,
        mode="lines",
        line=dict(color=CURSOR_COLOR, width=1),
        hoverinfo="skip",
        showlegend=False,
        xaxis=f"x{axis}",
        yaxis=f"y{axis}",
        **extra,
    )


# ----------------------------------------------------------------------------- animation


def animation_controls(
    names: list[str], labels: list, *, frame_ms: int, redraw: bool = False,
    buttons_y: float = -0.14, slider_y: float = -0.115, slider_len: float = MAP_DOMAIN[1],
    prefix: str = "step ",
) -> dict:  # fmt: skip
    """Layout entries ``updatemenus`` and ``sliders``: Play/Pause buttons and one slider over
    the frames called ``names`` (shown as ``labels``). ``redraw`` must be True when frames
    replace heatmaps (they vanish otherwise), False for scatter-only frames (faster)."""
    still = dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                 transition=dict(duration=0))  # fmt: skip
    play = dict(mode="immediate", frame=dict(duration=frame_ms, redraw=redraw),
                transition=dict(duration=0), fromcurrent=True)  # fmt: skip
    pause = dict(mode="immediate", frame=dict(duration=0, redraw=False),
                 transition=dict(duration=0))  # fmt: skip
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=buttons_y, xanchor="left",
            yanchor="top", showactive=False, pad=dict(t=0, r=10),
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=0.0, len=slider_len, y=slider_y, xanchor="left", yanchor="top",
            pad=dict(t=0, b=0, l=180), currentvalue=dict(prefix=prefix, font=dict(size=13)),
            transition=dict(duration=0),
            steps=[dict(method="animate", label=str(label), args=[[name], still])
                   for name, label in zip(names, labels)],
        )],
    )  # fmt: skip
