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
# A line pattern per optimizer as well as a colour: with deuteranopia Momentum and RMSprop
# look alike, with tritanopia Adam and Momentum. VRAdam, Adam and GD stay solid; "dot" is
# left to the stability thresholds and "dash" to guides, which set their own.
KEY_DASHES = {
    "momentum": "longdash",
    "rmsprop": "dashdot",
    "nesterov": "longdashdot",
    "adamw": "8px,3px,2px,3px",
    "vrmomentum": "6px,2px",
    "adagrad": "12px,4px",
    "nadam": "2px,4px,8px,4px",
    "radam": "8px,3px,2px,3px,2px,3px",
    "lion": "10px,2px,2px,2px,2px,2px",
}
EXTRA_DASHES = ["longdash", "dashdot", "longdashdot", "8px,3px,2px,3px", "6px,2px", "12px,4px",
                "2px,4px,8px,4px"]  # fmt: skip
_DASH_OF_COLOR = {
    **{KEY_COLORS[k]: d for k, d in KEY_DASHES.items()},
    **dict(zip(EXTRA_COLORS, EXTRA_DASHES, strict=True)),
}
# scatter3d takes named patterns only
_NAMED_DASHES = {"solid", "dot", "dash", "longdash", "dashdot", "longdashdot"}
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


def dash_of(color: str) -> str:
    """The line pattern of the optimizer drawn in ``color`` ("solid" for the others)."""
    return _DASH_OF_COLOR.get(color, "solid")


def optimizer_dashes(fig: dict) -> dict:
    """Give every line drawn in an optimizer's colour that optimizer's pattern (in place),
    unless the trace sets its own (a dashed threshold keeps its dashes); frames too."""
    traces = [*fig.get("data", ()), *(t for f in fig.get("frames", ()) for t in f.get("data", ()))]
    for trace in traces:
        line = trace.get("line")
        if not isinstance(line, dict) or "dash" in line or "lines" not in trace.get("mode", ""):
            continue
        dash = _DASH_OF_COLOR.get(line.get("color"))
        if dash is None or (trace.get("type") == "scatter3d" and dash not in _NAMED_DASHES):
            continue
        trace["line"] = {**line, "dash": dash}
    return fig


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    c = [int(h[k : k + 2], 16) / 255 for k in (0, 2, 4)]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def contrast(hex_color: str, background: str = "#FFFFFF") -> float:
    """WCAG contrast ratio of two ``#RRGGBB`` colours."""
    a, b = sorted((_luminance(hex_color), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_color(hex_color: str, ratio: float = 4.5) -> str:
    """``hex_color`` darkened just enough for text on white (WCAG AA: 4.5:1)."""
    h = hex_color.lstrip("#")
    rgb = [int(h[k : k + 2], 16) for k in (0, 2, 4)]
    for step in range(101):
        f = 1 - step / 100
        out = "#" + "".join(f"{round(c * f):02X}" for c in rgb)
        if contrast(out) >= ratio:
            return out
    return "#000000"


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


# Plotly.js (≥ 2.28) reads base64 typed arrays: {"dtype": "f4", "bdata": "…"}. A float32
# value takes 5⅓ characters against ~9–19 for a JSON decimal, and the JSON encoder copies
# one string instead of formatting thousands of floats (server CPU). NaN is a gap, as null.
_F4_SAFE = (1e-37, 1e37)  # |values| float32 keeps to 7 digits (finer or larger: float64)
PACK_MIN = 16  # shorter arrays stay JSON lists (the typed array's header costs ~40 characters)


def packed(a: np.ndarray, dtype: str | None = None) -> dict | list:
    """A numeric array as Plotly's base64 typed array (float32 unless a finite value needs
    float64, or ``dtype``: "f8", "i4", "u1" …; a 2-D array keeps its shape); arrays shorter
    than ``PACK_MIN`` stay lists (None for NaN). :func:`unpacked` reads either form back."""
    a = np.asarray(a)
    if a.size < PACK_MIN:
        return as_list(a) if dtype is None or dtype[0] == "f" else a.astype(int).tolist()
    if dtype is None:
        f = np.asarray(a, dtype=np.float64)
        mag = np.abs(f[np.isfinite(f) & (f != 0)])
        fits = mag.size == 0 or (mag.min() >= _F4_SAFE[0] and mag.max() <= _F4_SAFE[1])
        dtype = "f4" if fits else "f8"
    data = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    spec = {"dtype": dtype, "bdata": base64.b64encode(data.tobytes()).decode("ascii")}
    if a.ndim > 1:  # a grid (a surface's z): rows first
        spec["shape"] = ",".join(str(n) for n in a.shape)
    return spec


def unpacked(value) -> np.ndarray:
    """A figure's array (list, or base64 typed array from :func:`packed`) as float64."""
    if isinstance(value, dict) and "bdata" in value:
        dtype = np.dtype(value["dtype"]).newbyteorder("<")
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=dtype).astype(np.float64)
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def tick_label(v: float) -> str:
    """A short tick label: 0.02, 300, 1e-5, 2e6 (no "×10⁻⁵" that reads as another number)."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{float(f'{v:.3g}'):f}".rstrip("0").rstrip(".")  # 1000, not 1e+03
    mantissa, exponent = f"{v:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def log_ticks(lo: float, hi: float, max_ticks: int = 4) -> dict:
    """``tickvals``/``ticktext`` for a log axis whose range is [lo, hi] decades: at most
    ``max_ticks`` labels, whole decades when the range spans two or more (every k-th decade
    when it spans many), else 1-2-5, 1…9 or 1.0…9.9 multiples; labels by :func:`tick_label`."""
    max_ticks = max(2, max_ticks)
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        step = math.ceil(len(decades) / max_ticks)
        values = [10.0**k for k in decades if k % step == 0]
        if len(values) < 2:
            values = [10.0**k for k in decades[::step]]
    else:
        values = []
        fine = tuple(m / 10 for m in range(10, 100))  # 1.0, 1.1 … 9.9
        for mults in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9), fine):
            values = [m * 10.0**k for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                      for m in mults if lo <= math.log10(m * 10.0**k) <= hi]  # fmt: skip
            if len(values) >= 2:
                break
        if len(values) > max_ticks:
            values = values[:: math.ceil(len(values) / max_ticks)]
        if len(values) < 2:  # under a 40th of a decade: the two ends
            values = [10.0**lo, 10.0**hi]
    values = [float(f"{v:.3g}") for v in values]
    return dict(tickmode="array", tickvals=values, ticktext=[tick_label(v) for v in values])


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


def _palette_png_uri(V: np.ndarray, levels: int = 32) -> str:
    """The light slate ramp in ``levels`` shades as an indexed PNG (a third to a sixth of the
    bytes of the RGB image; steps of ~3/255 on this pale ramp do not show as bands)."""
    from PIL import Image

    finite = V[np.isfinite(V)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    t = np.clip((V - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    index = np.where(np.isfinite(t), np.rint(np.nan_to_num(t) * (levels - 1)), levels)
    shades = _colorize(np.linspace(0.0, 1.0, levels)[None, :])[0]  # (levels, 3)
    palette = np.vstack([shades, [[250, 225, 225]]]).astype(np.uint8)  # NaN: pale rose
    image = Image.frombytes("P", index.shape[::-1], index.astype(np.uint8).tobytes())
    image.putpalette(palette.ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
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


def _cell_segments(xs, ys, V, level):
    """Every contour segment of the grid: (edge ids (n, 2), x (n, 2), y (n, 2)).

    An edge id names the grid edge a crossing lies on, the same from both cells that
    share it (rows of V go up in y; horizontal edges first, then vertical ones).
    """
    ny, nx = V.shape
    a, b = V[:-1, :-1], V[:-1, 1:]  # corners of each cell: a b
    d, c = V[1:, :-1], V[1:, 1:]  # (rows go up in y)          d c
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    case = (a > level) * 1 + (b > level) * 2 + (c > level) * 4 + (d > level) * 8
    case = np.where(ok, case, 0)
    X0, Y0 = np.meshgrid(xs[:-1], ys[:-1])
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    row, col = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")

    def horizontal(i, j):
        return i * (nx - 1) + j

    def vertical(i, j):
        return ny * (nx - 1) + i * nx + j

    def frac(p, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip((level - p) / (q - p), 0, 1)

    # crossing points on the four edges: bottom (a-b), right (b-c), top (d-c), left (a-d)
    edges = {
        "B": (X0 + frac(a, b) * dx, Y0, horizontal(row, col)),
        "R": (X0 + dx, Y0 + frac(b, c) * dy, vertical(row, col + 1)),
        "T": (X0 + frac(d, c) * dx, Y0 + dy, horizontal(row + 1, col)),
        "L": (X0, Y0 + frac(a, d) * dy, vertical(row, col)),
    }
    ids, px, py = [], [], []
    for k, segments in _SEGMENTS.items():
        mask = case == k
        if not mask.any():
            continue
        for seg in segments:
            (x1, y1, e1), (x2, y2, e2) = edges[seg[0]], edges[seg[1]]
            ids.append(np.stack([e1[mask], e2[mask]], axis=1))
            px.append(np.stack([x1[mask], x2[mask]], axis=1))
            py.append(np.stack([y1[mask], y2[mask]], axis=1))
    if not ids:
        empty = np.zeros((0, 2))
        return empty.astype(int), empty, empty
    return np.concatenate(ids), np.concatenate(px), np.concatenate(py)


def marching_squares(xs, ys, V, level) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the contour V = level on a grid: x and y arrays with NaN gaps."""
    _, px, py = _cell_segments(xs, ys, V, level)
    gap = np.full((px.shape[0], 1), np.nan)
    return np.hstack([px, gap]).ravel(), np.hstack([py, gap]).ravel()


def contour_paths(xs, ys, V, level) -> list[tuple[np.ndarray, np.ndarray]]:
    """The contour V = level as polylines (x, y): the cells' segments joined where they
    share a crossing, so a line of n cells has n + 1 points instead of 3n."""
    ids, px, py = _cell_segments(xs, ys, V, level)
    pairs = ids.tolist()
    at: dict[int, list[int]] = {}
    for s, (e1, e2) in enumerate(pairs):
        at.setdefault(e1, []).append(s)
        at.setdefault(e2, []).append(s)
    used = bytearray(len(pairs))
    lines = []
    for first in range(len(pairs)):
        if used[first]:
            continue
        used[first] = 1
        # walk on from the segment's second end, then back from its first
        ahead, behind = [(first, 0), (first, 1)], []
        for chain, (seg, end) in ((ahead, (first, 1)), (behind, (first, 0))):
            while True:
                edge = pairs[seg][end]
                nxt = next((t for t in at[edge] if not used[t]), None)
                if nxt is None:
                    break
                used[nxt] = 1
                seg, end = nxt, 1 if pairs[nxt][0] == edge else 0
                chain.append((seg, end))
        segs, ends = np.array(behind[::-1] + ahead).T
        lines.append((px[segs, ends], py[segs, ends]))
    return lines


def background(
    ls, n_image: int = 360, n_contour: int = 90, levels: int = 11, max_points: int = 2500
) -> dict:
    """The landscape as an image, contour lines and a grid of values (cached by the page).

    Contour lines are joined polylines with NaN gaps between them, thinned (every k-th
    point, each line's ends kept) to at most ~``max_points`` points.
    """
    _, _, Z = ls.grid(n_image)
    V = _value_transform(Z, ls.log_scale)
    image = _palette_png_uri(V[::-1])  # image rows run top (ymax) to bottom
    cx, cy, CZ = ls.grid(n_contour)
    CV = _value_transform(CZ, ls.log_scale)
    finite = CV[np.isfinite(CV)]
    lines = []
    if finite.size:
        for level in np.quantile(finite, np.linspace(0.03, 0.97, levels)):
            lines += contour_paths(cx, cy, CV, level)
    total = sum(lx.size for lx, _ in lines)
    stride = thinning_stride(total, max_points)
    parts_x, parts_y = [], []
    for lx, ly in lines:
        keep = np.unique(np.r_[np.arange(0, lx.size, stride), lx.size - 1])
        parts_x += [lx[keep], [np.nan]]
        parts_y += [ly[keep], [np.nan]]
    cont_x = np.concatenate(parts_x) if parts_x else np.array([])
    cont_y = np.concatenate(parts_y) if parts_y else np.array([])
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
        x=packed(GX.ravel()),
        y=packed(GY.ravel()),
        customdata=packed(GZ.ravel()),
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
            x=packed(bg["contour_x"], "f4"),
            y=packed(bg["contour_y"], "f4"),
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
    prefix: str = "step ", slider_x: float = 0.0, slider_pad_left: int = 180,
    step_labels: bool = True,
) -> dict:  # fmt: skip
    """Layout entries ``updatemenus`` and ``sliders``: Play/Pause buttons and one slider over
    the frames called ``names`` (shown as ``labels``). ``redraw`` must be True when frames
    replace heatmaps (they vanish otherwise), False for scatter-only frames (faster).

    ``slider_pad_left`` leaves room for the buttons left of the slider (0 when the slider
    has a row of its own; a rail narrower than the pad gets a negative width in Plotly);
    ``step_labels=False`` hides the labels under the rail (a hundred labels overlap) and
    keeps the current step above it."""
    still = dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                 transition=dict(duration=0))  # fmt: skip
    play = dict(mode="immediate", frame=dict(duration=frame_ms, redraw=redraw),
                transition=dict(duration=0), fromcurrent=True)  # fmt: skip
    pause = dict(mode="immediate", frame=dict(duration=0, redraw=False),
                 transition=dict(duration=0))  # fmt: skip
    hidden = {} if step_labels else dict(font=dict(size=8, color="rgba(0,0,0,0)"), ticklen=3,
                                         minorticklen=0, tickcolor="rgba(0,0,0,0.25)")  # fmt: skip
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=buttons_y, xanchor="left",
            yanchor="top", showactive=False, pad=dict(t=0, r=10),
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=slider_x, len=slider_len, y=slider_y, xanchor="left", yanchor="top",
            pad=dict(t=0, b=0, l=slider_pad_left),
            currentvalue=dict(prefix=prefix, font=dict(size=13, color="#333333")),
            transition=dict(duration=0), **hidden,
            steps=[dict(method="animate", label=str(label), args=[[name], still])
                   for name, label in zip(names, labels)],
        )],
    )  # fmt: skip
