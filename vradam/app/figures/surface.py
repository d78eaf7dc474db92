"""The Playground's 3-D view: the landscape as a rotatable surface with every optimizer's
paths at their height; and the row count of a horizontal legend, which the race figure
also uses."""

from __future__ import annotations

import numpy as np

from vradam.app.figures.arrays import as_list, packed, thinning_stride
from vradam.app.figures.colors import MINIMUM_STAR


def legend_rows(labels: list[str], width_px: float, font: float) -> int:
    """How many rows a horizontal legend of these labels takes in ``width_px``."""
    rows, used = 1, 0.0
    for label in labels:
        w = 46 + 0.62 * font * len(label)
        if used and used + w > width_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


SURFACE_SCALE = [[0.0, "#ffffff"], [0.5, "#dee4ec"], [1.0, "#96a2b6"]]  # the map's ramp


def _height_transform(ls, Z: np.ndarray):
    """z = f, or for steep landscapes (the map's log shading) log10(f − min + δ) with δ a
    thousandth of f's range on the grid: the floor keeps a valley's bottom smooth instead of
    grid-sized spikes toward log 0. Returns the function and the z axis title."""
    finite = Z[np.isfinite(Z)]
    if not ls.log_scale or finite.size == 0:
        return (lambda v: np.asarray(v, dtype=np.float64)), "f(x, y)"
    lo = float(finite.min())
    if ls.min_value is not None:
        lo = min(lo, ls.min_value)
    floor = 1e-3 * max(float(finite.max()) - lo, 1e-300)

    def transform(v):
        v = np.asarray(v, dtype=np.float64)
        return np.log10(np.maximum(v - lo, 0.0) + floor)

    return transform, "log₁₀(f − min + δ)"


def _surface_paths(trajectories, colors, transform, lift: float) -> list[dict]:
    """Each optimizer's paths (all runs, thinned) at their height, and its last positions."""
    data: list[dict] = []
    N, T = trajectories[0].xy.shape[0], trajectories[0].steps
    stride = thinning_stride(len(trajectories) * N * (T + 1), 20_000)
    idx = np.unique(np.r_[np.arange(0, T + 1, stride), T])
    for tr, color in zip(trajectories, colors):
        gap = np.full((N, 1), np.nan)
        px = np.hstack([tr.xy[:, idx, 0], gap]).ravel()
        py = np.hstack([tr.xy[:, idx, 1], gap]).ravel()
        pz = np.hstack([transform(tr.loss[:, idx]) + lift, gap]).ravel()
        data.append(
            dict(type="scatter3d", mode="lines", x=packed(px), y=packed(py), z=packed(pz),
                 name=tr.label, legendgroup=tr.label, line=dict(color=color, width=5),
                 hovertemplate=f"{tr.label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>")
        )  # fmt: skip
        ok = np.isfinite(tr.loss[:, -1])
        data.append(
            dict(type="scatter3d", mode="markers", x=packed(tr.xy[ok, -1, 0]),
                 y=packed(tr.xy[ok, -1, 1]), z=packed(transform(tr.loss[ok, -1]) + lift),
                 name=f"{tr.label} (end)", legendgroup=tr.label, showlegend=False,
                 marker=dict(size=5, color=color, line=dict(color="white", width=1)),
                 hovertemplate=f"{tr.label}, last step<br>(%{{x:.4g}}, %{{y:.4g}})"
                 "<extra></extra>")
        )  # fmt: skip
    return data


def surface_figure(
    ls, trajectories, colors, *, height: int = 560, n: int = 64, narrow: bool = False
) -> dict:
    """The landscape as a rotatable surface with every optimizer's path at its height.

    Paths (all runs, thinned) are drawn at the height of each point (f, or log10(f − min + δ)
    as :func:`_height_transform` says), lifted by 0.5 % of the z range so that they stay
    above the surface; the last positions are dots,
    the start a ring, minima gold diamonds. Static (no frames): dragging rotates.
    """
    xs, ys, Z = ls.grid(n)
    transform, z_title = _height_transform(ls, Z)
    ZT = transform(Z)
    finite = ZT[np.isfinite(ZT)]
    zlo, zhi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lift = 0.005 * (zhi - zlo or 1.0)
    data: list[dict] = [
        dict(
            type="surface", x=packed(xs), y=packed(ys), z=packed(ZT),
            colorscale=SURFACE_SCALE, showscale=False, opacity=0.92, name="f(x, y)",
            hovertemplate="x=%{x:.3g}, y=%{y:.3g}<br>" + z_title + "=%{z:.3g}<extra></extra>",
            contours=dict(z=dict(show=True, color="rgba(70,78,92,0.35)", width=1,
                                 start=zlo, end=zhi, size=(zhi - zlo) / 12 or 1.0)),
            lighting=dict(ambient=0.75, diffuse=0.5, specular=0.05),
        )
    ]  # fmt: skip
    data += _surface_paths(trajectories, colors, transform, lift)
    start = trajectories[0].xy[0, 0]
    data.append(
        dict(type="scatter3d", mode="markers", x=[float(start[0])], y=[float(start[1])],
             z=as_list(transform(trajectories[0].loss[0, :1]) + lift), name="start",
             marker=dict(size=6, color="white", line=dict(color="black", width=2)),
             hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>")
    )  # fmt: skip
    if ls.minima:
        mx, my = (np.array(v, dtype=float) for v in zip(*ls.minima))
        mz = transform(ls.value(np.stack([mx, my], axis=1)))
        data.append(
            dict(type="scatter3d", mode="markers", x=mx.tolist(), y=my.tolist(),
                 z=as_list(mz + lift), name="global minimum",
                 marker=dict(size=6, symbol="diamond", color=MINIMUM_STAR,
                             line=dict(color="black", width=1)),
                 hovertemplate="minimum (%{x:.4g}, %{y:.4g})<extra></extra>")
        )  # fmt: skip
    (x0, x1), (y0, y1) = ls.domain
    aspect = (y1 - y0) / (x1 - x0)
    labels = [t["name"] for t in data if t.get("showlegend", True) and t["type"] != "surface"]
    rows = legend_rows(labels, 330 if narrow else 700, 12)
    axis = dict(gridcolor="#dddddd", backgroundcolor="white", showbackground=True)
    layout = dict(
        height=height,
        margin=dict(l=0, r=0 if narrow else 40, t=round(12 + 21 * rows), b=0),
        paper_bgcolor="white",
        modebar=dict(orientation="v"),  # in the right margin, clear of the legend
        legend=dict(orientation="h", x=0, y=1, yref="container", yanchor="top", font=dict(size=12)),
        scene=dict(
            xaxis=dict(title=dict(text="x"), range=[x0, x1], **axis),
            yaxis=dict(title=dict(text="y"), range=[y0, y1], **axis),
            zaxis=dict(title=dict(text=z_title), **axis),
            aspectmode="manual",
            aspectratio=dict(x=1.0, y=round(min(max(aspect, 0.3), 3.0), 3), z=0.6),
            camera=dict(eye=dict(x=1.05, y=-1.25, z=0.8)),
        ),
        uirevision="surface",  # keep the user's rotation across reruns
    )
    return dict(data=data, layout=layout)
