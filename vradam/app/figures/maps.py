"""The landscape map: its background (image, contour lines, click grid), static traces
(contours, minima, start markers) and axes at true aspect.

Every builder returns plain dicts in Plotly's schema; nothing here imports Streamlit.
Helpers return fresh dicts on every call (the presenter view edits figures in place).
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.arrays import packed, thinning_stride
from vradam.app.figures.colors import MINIMUM_STAR
from vradam.app.figures.contours import contour_paths
from vradam.app.figures.images import palette_png_uri

MAP_DOMAIN = (0.0, 0.55)  # the map's share of the width in the animated figures


def map_digits(ls) -> int:
    """Decimals that keep about six significant digits of map coordinates."""
    (x0, x1), (y0, y1) = ls.domain
    return max(0, 6 - math.floor(math.log10(max(x1 - x0, y1 - y0))))


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


def background(
    ls, n_image: int = 360, n_contour: int = 90, levels: int = 11, max_points: int = 2500
) -> dict:
    """The landscape as an image, contour lines and a grid of values (cached by the page).

    Contour lines are joined polylines with NaN gaps between them, thinned (every k-th
    point, each line's ends kept) to at most ~``max_points`` points.
    """
    _, _, Z = ls.grid(n_image)
    V = _value_transform(Z, ls.log_scale)
    image = palette_png_uri(V[::-1])  # image rows run top (ymax) to bottom
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
