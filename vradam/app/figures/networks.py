"""Figures for the networks page: training curves (with seed bands), decision
boundaries over time, and the learning-rate sweep. Plain dicts, Unicode labels."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.animation import animation_controls
from vradam.app.figures.arrays import as_list
from vradam.app.figures.colors import GRID_COLOR, rgba, text_color
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import band_traces, line_trace, panel_label
from vradam.studies.networks import DYNAMICS, SHARPNESS_PANEL
from vradam.studies.training import series

PANELS = [
    ("loss", "training loss (batch)", "log"),
    ("val_acc", "validation accuracy", "linear"),
    *DYNAMICS,
    SHARPNESS_PANEL,
]


def seed_stats(runs: list[list[dict]], i: int, key: str):
    """(steps, mean, sd) over seeds at the steps every seed has (sd = 0 for one seed)."""
    per_seed = [series(r, i, key) for r in runs]
    per_seed = [s for s in per_seed if s[0].size]
    if not per_seed:
        return np.array([]), np.array([]), np.array([])
    common = per_seed[0][0]
    for steps, _ in per_seed[1:]:
        common = np.intersect1d(common, steps)
    stack = np.stack([v[np.isin(s, common)] for s, v in per_seed])
    with np.errstate(invalid="ignore"):
        sd = stack.std(axis=0) if len(per_seed) > 1 else np.zeros(common.size)
        return common, stack.mean(axis=0), sd


def _suffix(p: int) -> str:
    """The axis suffix of panel p: "" for the first (x, y), then "2", "3", …"""
    return "" if p == 0 else str(p + 1)


def default_panels(runs: list[list[dict]]) -> list[tuple[str, str, str]]:
    """PANELS; regression tasks have no accuracy: the second panel shows the val loss."""
    if any("val_acc" in r for run in runs for r in run):
        return PANELS
    return [PANELS[0], ("val_loss", "validation loss", "log"), *PANELS[2:]]


def _grid_cell(p: int, cols: int, rows: int) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of panel p in a grid filled row by row from the top left."""
    r, c = divmod(p, cols)
    x0 = c / cols + (0.04 if c else 0.0)
    x1 = (c + 1) / cols - 0.03
    y1 = 1 - r / rows - (0.06 if r else 0.0)
    y0 = 1 - (r + 1) / rows + (0.08 if r < rows - 1 else 0.0)
    return x0, x1, y0, y1


def _curve_traces(
    runs, i: int, label: str, color: str, key: str, scale: str, p: int, suffix: str
) -> tuple[list[dict], list[np.ndarray]]:
    """Optimizer i in one panel: its ±1 sd band (several seeds), mean and threshold (for the
    sharpness), and the values they show (for the axis range)."""
    s, mean, sd = seed_stats(runs, i, key)
    if s.size == 0:
        return [], []
    common = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}", legendgroup=label)
    data, values = [], [mean]
    if len(runs) > 1:
        lo, hi = mean - sd, mean + sd
        if scale == "log":
            lo = np.where(lo > 0, lo, np.nan)
        data += band_traces(s.tolist(), as_list(lo), as_list(hi), rgba(color, 0.18), **common)
    data.append(
        line_trace(
            s.tolist(),
            as_list(mean),
            f"{label}: %{{y:.4g}}",
            name=label,
            line=dict(color=color, width=1.8),
            showlegend=p == 0,
            **common,
        )
    )
    if key == "sharpness":
        ts, tmean, _ = seed_stats(runs, i, "threshold")
        if ts.size and np.isfinite(tmean).any():
            values.append(tmean)
            data.append(
                line_trace(
                    ts.tolist(),
                    as_list(tmean),
                    f"{label} threshold: %{{y:.4g}}",
                    line=dict(color=color, width=1.4, dash="dot"),
                    showlegend=False,
                    name=f"{label} threshold",
                    **common,
                )
            )
    return data, values


def _grid_axes(suffix: str, cell, scale: str, values: list, steps: int, bottom: bool) -> dict:
    """Layout entries xaxis{suffix}/yaxis{suffix} of one panel of the training grid."""
    x0, x1, y0, y1 = cell
    y_range = log_range(values) if scale == "log" else [0, 1.02]
    # Log axes: at most 3 labels, whole decades or 1-2-5 values written out (Plotly's own
    # labels "2" and "5" for minor ticks read as values, and crowd a short panel).
    ticks = log_ticks(*y_range, max_ticks=3) if scale == "log" else {}
    return {
        f"yaxis{suffix}": dict(
            domain=[round(y0, 4), round(y1, 4)],
            anchor=f"x{suffix}",
            type=scale,
            gridcolor=GRID_COLOR,
            zeroline=False,
            range=y_range,
            **(ticks or dict(exponentformat="power")),
        ),
        f"xaxis{suffix}": dict(
            domain=[round(x0, 4), round(x1, 4)],
            anchor=f"y{suffix}",
            range=[0, steps],
            gridcolor=GRID_COLOR,
            zeroline=False,
            title=dict(text="step") if bottom else None,
        ),
    }


def training_figure(
    runs: list[list[dict]],
    labels: list[str],
    colors: list[str],
    steps: int,
    panels=None,
    cols: int = 3,
    height: int = 560,
) -> dict:
    """Synced panels (default: six); with several seeds each curve is a mean ± 1 sd band.

    ``panels`` lists (record key, title, "log" or "linear"). Regression tasks have no
    accuracy: the default second panel then shows the validation loss.
    """
    panels = default_panels(runs) if panels is None else panels
    data: list[dict] = []
    layout: dict = dict(
        height=height,
        margin=dict(l=55, r=20, t=50, b=45),
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(size=13),
        hovermode="x unified",
        legend=dict(orientation="h", x=0, y=1.08, yanchor="bottom"),
        annotations=[],
    )
    rows = -(-len(panels) // cols)
    for p, (key, title, scale) in enumerate(panels):
        suffix = _suffix(p)
        values = []
        for i, (label, color) in enumerate(zip(labels, colors)):
            traces, shown = _curve_traces(runs, i, label, color, key, scale, p, suffix)
            data += traces
            values += shown
        cell = _grid_cell(p, cols, rows)
        layout.update(_grid_axes(suffix, cell, scale, values, steps, p // cols == rows - 1))
        layout["annotations"].append(panel_label(title, cell[0], cell[3]))
    return dict(data=data, layout=layout)


def _class_z(probs: np.ndarray, n_classes: int) -> np.ndarray:
    """Heatmap values: P(class 1) for two classes, else the class plus its confidence."""
    if n_classes == 2:
        return probs[..., 1]
    return probs.argmax(-1) + 0.999 * (probs.max(-1) - 1 / n_classes)


def _snapshots(records: list[dict], K: int) -> tuple[dict[int, dict[int, np.ndarray]], list]:
    """Boundary snapshots by step and optimizer, and the steps every optimizer has."""
    snaps: dict[int, dict[int, np.ndarray]] = {}
    for r in records:
        if "boundary" in r:
            snaps.setdefault(r["step"], {})[r["optimizer"]] = r["boundary"]
    return snaps, sorted(s for s, by in snaps.items() if len(by) == K)


def _boundary_panel(
    i: int, K: int, xs, ys, z: list, n_classes: int, label: str, color: str, per_row: int
) -> tuple[dict, dict, dict]:
    """Panel i of K (``per_row`` a row): the heatmap trace, its axes' entries, its title."""
    suffix, width = _suffix(i), 1 / per_row
    rows = -(-K // per_row)
    r, c = divmod(i, per_row)
    x0, x1 = c * width + 0.01, (c + 1) * width - 0.01
    y0, y1 = 1 - (r + 1) / rows + (0.06 if r < rows - 1 else 0.0), 1 - r / rows
    scale = [[0, "#9ec5e8"], [0.5, "#f7f7f7"], [1, "#f2a7a0"]] if n_classes == 2 else "Viridis"
    heatmap = dict(
        type="heatmap",
        x=xs.tolist(),
        y=ys.tolist(),
        z=z,
        colorscale=scale,
        zmin=0,
        zmax=1 if n_classes == 2 else n_classes,
        showscale=False,
        xaxis=f"x{suffix}",
        yaxis=f"y{suffix}",
        hoverinfo="skip",
    )
    axes = {
        f"xaxis{suffix}": dict(
            domain=[x0, x1],
            anchor=f"y{suffix}",
            showticklabels=False,
            range=[float(xs[0]), float(xs[-1])],
        ),
        f"yaxis{suffix}": dict(
            domain=[round(y0, 4), round(y1, 4)],
            anchor=f"x{suffix}",
            showticklabels=False,
            range=[float(ys[0]), float(ys[-1])],
            scaleanchor=f"x{suffix}",
        ),
    }
    title = dict(
        text=label.replace(" (", "<br>(", 1),  # two lines: side by side, long labels collide
        x=(x0 + x1) / 2,
        y=y1 + 0.01,
        xref="paper",
        yref="paper",
        showarrow=False,
        yanchor="bottom",
        font=dict(size=12, color=text_color(color)),
    )
    return heatmap, axes, title


def _training_points(data, K: int) -> list[dict]:
    """The training set, coloured by class, on every panel."""
    x_train = data.x_train.cpu().numpy()
    y_train = data.y_train.cpu().numpy()
    point_colors = ["#1f3b73", "#b3261e", "#2e7d32", "#6a1b9a", "#ef6c00"]
    return [
        dict(
            type="scatter",
            x=x_train[:, 0].tolist(),
            y=x_train[:, 1].tolist(),
            mode="markers",
            marker=dict(size=4, color=[point_colors[c % 5] for c in y_train], opacity=0.7),
            xaxis=f"x{_suffix(i)}",
            yaxis=f"y{_suffix(i)}",
            hoverinfo="skip",
        )
        for i in range(K)
    ]


def boundary_figure(
    records: list[dict], grid, data, labels, colors, n_classes: int, per_row: int | None = None
) -> dict:
    """One panel per optimizer: predicted class over the plane, the training points, a slider.
    ``per_row`` panels a row (default: all in one row; 2 on a phone).

    Frames use ``redraw=True`` (heatmaps do not survive ``redraw=False`` animations).
    """
    xs, ys, _ = grid
    xs, ys = xs.cpu().numpy(), ys.cpu().numpy()
    K = len(labels)
    per_row = min(per_row or K, K)
    snaps, steps = _snapshots(records, K)
    if not steps:
        return {}

    def z_at(step: int, i: int) -> list:
        return np.round(_class_z(snaps[step][i], n_classes), 3).tolist()

    traces: list[dict] = []
    layout: dict = dict(
        height=60 + 290 * -(-K // per_row),
        margin=dict(l=30, r=10, t=60, b=80),
        plot_bgcolor="white",
        showlegend=False,
        annotations=[],
    )
    for i in range(K):
        heatmap, axes, title = _boundary_panel(
            i, K, xs, ys, z_at(steps[0], i), n_classes, labels[i], colors[i], per_row
        )
        traces.append(heatmap)
        layout.update(axes)
        layout["annotations"].append(title)
    traces += _training_points(data, K)
    frames = [
        dict(
            name=str(s),
            traces=list(range(K)),
            data=[dict(type="heatmap", z=z_at(s, i)) for i in range(K)],
        )
        for s in steps
    ]
    # heatmap frames: redraw=True, or the heatmaps vanish while playing
    layout.update(animation_controls([str(x) for x in steps], steps, frame_ms=300, redraw=True,
                                     buttons_y=-0.08, slider_y=-0.08, slider_len=1.0))  # fmt: skip
    return dict(data=traces, layout=layout, frames=frames)


def sweep_figure(rows: list[dict], labels: list[str], colors: list[str]) -> dict:
    """Final training loss against α0 (log–log); diverged runs as ✕ above the curves."""
    finite = [r["train_loss"] for r in rows if not r["diverged"] and math.isfinite(r["train_loss"])]
    top = max(finite) * 3 if finite else 10.0
    data = []
    for i, (label, color) in enumerate(zip(labels, colors)):
        mine = sorted((r for r in rows if r["optimizer"] == i), key=lambda r: r["lr"])
        ok = [r for r in mine if not r["diverged"]]
        bad = [r for r in mine if r["diverged"]]
        data.append(
            dict(
                type="scatter",
                x=[r["lr"] for r in ok],
                y=[r["train_loss"] for r in ok],
                mode="lines+markers",
                name=label,
                line=dict(color=color, width=2),
                marker=dict(size=8),
            )
        )
        if bad:
            data.append(
                dict(
                    type="scatter",
                    x=[r["lr"] for r in bad],
                    y=[top] * len(bad),
                    mode="markers",
                    name=f"{label}: diverged",
                    showlegend=False,
                    marker=dict(
                        symbol="x-thin", size=14, color=color, line=dict(width=3, color=color)
                    ),
                    hovertemplate=f"{label} diverged at α₀=%{{x:.3g}}<extra></extra>",
                )
            )
    # Both axes log, labelled with values (Plotly's own ticks label minor ones "2", "5").
    x_range = log_range([np.array([r["lr"] for r in rows], dtype=float)], pad=0.1)
    y_range = log_range([np.array([*finite, top], dtype=float)])
    layout = dict(
        height=420,
        margin=dict(l=60, r=20, t=30, b=50),
        plot_bgcolor="white",
        xaxis=dict(
            type="log",
            title=dict(text="α₀ (learning rate)"),
            gridcolor=GRID_COLOR,
            range=x_range,
            **log_ticks(*x_range, max_ticks=6),
        ),
        yaxis=dict(
            type="log",
            title=dict(text="final training loss (✕: diverged)"),
            gridcolor=GRID_COLOR,
            range=y_range,
            **log_ticks(*y_range, max_ticks=5),
        ),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
    )
    return dict(data=data, layout=layout)


FIGURE2_PANELS = [
    ("train_loss", "training loss (full set)", "log"),
    ("val_loss", "validation loss", "log"),
    ("eta_ratio", "effective LR η_t / α₀", "linear"),
    ("sharpness", "top Hessian eigenvalue λmax(H)", "log"),
]


def figure2_figure(
    runs: list[list[dict]], labels: list[str], colors: list[str], steps: int
) -> dict:
    """The paper's Figure 2 in miniature: loss, η_t/α₀ and λmax(H), mean ± 1 sd over seeds
    (records of :func:`vradam.studies.figure2.figure2_runs`), two panels a row."""
    return training_figure(runs, labels, colors, steps, panels=FIGURE2_PANELS, cols=2, height=540)


# --------------------------------------------------------------------------- the paper's tasks


def _panel(z, title: str, color: str, height: int, bg: str = "white", **heatmap) -> dict:
    """One heatmap with square cells and its title above (the page lays panels out in
    columns, which stack on a phone)."""
    hidden = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="",
                  constrain="domain")  # fmt: skip
    return dict(
        data=[dict(type="heatmap", z=z, showscale=False, **heatmap)],
        layout=dict(
            height=height,
            margin=dict(l=4, r=4, t=44, b=4),
            plot_bgcolor=bg,  # shows between tiles (None cells)
            paper_bgcolor="white",
            title=dict(
                text=title, font=dict(size=12, color=text_color(color)), x=0.5, xanchor="center"
            ),
            xaxis=dict(**hidden),
            yaxis=dict(scaleanchor="x", **hidden),
        ),
    )


def distribution_panels(
    true: np.ndarray, learned: list[np.ndarray | None], labels: list[str], colors: list[str]
) -> list[dict]:
    """The GFlowNet's distribution over the 8×8 cells, one small figure each: the true R/Z,
    then each optimizer's learned one (exact, by dynamic programming), on one colour scale,
    x to the right and y up. Arrays are indexed [x, y]; a diverged run (None) is left out."""
    panels = [(true, "true distribution<br>R / Z", "#333333")]
    for dist, label, color in zip(learned, labels, colors):
        if dist is not None:
            l1 = float(np.abs(dist - true).sum())
            panels.append((dist, f"{label}<br>L1 {l1:.3f}", color))
    zmax = max(float(np.max(z)) for z, _, _ in panels)
    return [
        _panel(np.round(z.T, 5).tolist(), title, color, 230, colorscale="Viridis", zmin=0.0,
               zmax=zmax, hovertemplate="x=%{x}, y=%{y}: p=%{z:.4f}<extra></extra>")
        for z, title, color in panels
    ]  # fmt: skip


def mosaic(images: np.ndarray, rows: int) -> np.ndarray:
    """(n, h, w) images → one (rows·(h+1) − 1, cols·(w+1) − 1) array, NaN between tiles,
    filled column by column (so images of one class, consecutive, form a column)."""
    n, h, w = images.shape
    cols = -(-n // rows)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for k in range(n):
        c, r = divmod(k, rows)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[k]
    return out


INK = [[0.0, "#ffffff"], [1.0, "#111111"]]  # pixel 0 (paper) white, 1 (ink) near black


def samples_panels(
    samples: list[np.ndarray | None], labels: list[str], colors: list[str], per_class: int
) -> list[dict]:
    """Each optimizer's generated digits (ink dark), one class per column, 0 … 9, one small
    figure each; a diverged run (None) is left out."""
    out = []
    for grid, label, color in zip(samples, labels, colors):
        if grid is not None:
            z = np.round(mosaic(grid, per_class)[::-1], 3)  # heatmap rows go up
            z = np.where(np.isnan(z), None, z).tolist()
            out.append(_panel(z, label, color, 200, bg="#c9d1da", colorscale=INK, zmin=0.0,
                              zmax=1.0, hoverinfo="skip"))  # fmt: skip
    return out
