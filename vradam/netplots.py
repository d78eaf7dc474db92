"""Figures for the networks page: training curves (with seed bands), decision
boundaries over time, and the learning-rate sweep. Plain dicts, Unicode labels."""

from __future__ import annotations

import math

import numpy as np

from vradam.plots import _list, _log_range

PANELS = [
    ("loss", "training loss (batch)", "log"),
    ("val_acc", "validation accuracy", "linear"),
    ("effective_lr", "effective LR η_t", "log"),
    ("velocity_sq_norm", "‖v‖² (gradient² for GD, RMSprop)", "log"),
    ("grad_norm", "gradient norm", "log"),
    ("sharpness", "sharpness (solid) vs threshold (dashed)", "log"),
]


def _series(records: list[dict], i: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[key]) for r in records if r["optimizer"] == i and key in r]
    if not pts:
        return np.array([]), np.array([])
    steps, values = zip(*pts)
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def seed_stats(runs: list[list[dict]], i: int, key: str):
    """(steps, mean, sd) over seeds at the steps every seed has (sd = 0 for one seed)."""
    per_seed = [_series(r, i, key) for r in runs]
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


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


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
    if panels is None:
        has_acc = any("val_acc" in r for run in runs for r in run)
        panels = (
            PANELS if has_acc else [PANELS[0], ("val_loss", "validation loss", "log"), *PANELS[2:]]
        )
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
        r, c = divmod(p, cols)
        axis = p + 1
        suffix = "" if axis == 1 else str(axis)
        x0 = c / cols + (0.04 if c else 0.0)
        x1 = (c + 1) / cols - 0.03
        y1 = 1 - r / rows - (0.06 if r else 0.0)
        y0 = 1 - (r + 1) / rows + (0.08 if r < rows - 1 else 0.0)
        values = []
        for i, (label, color) in enumerate(zip(labels, colors)):
            s, mean, sd = seed_stats(runs, i, key)
            if s.size == 0:
                continue
            values.append(mean)
            common = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}", legendgroup=label)
            if len(runs) > 1:
                lo, hi = mean - sd, mean + sd
                if scale == "log":
                    lo = np.where(lo > 0, lo, np.nan)
                data.append(
                    dict(
                        type="scatter",
                        x=s.tolist(),
                        y=_list(hi),
                        mode="lines",
                        line=dict(width=0),
                        hoverinfo="skip",
                        showlegend=False,
                        **common,
                    )
                )
                data.append(
                    dict(
                        type="scatter",
                        x=s.tolist(),
                        y=_list(lo),
                        mode="lines",
                        line=dict(width=0),
                        fill="tonexty",
                        fillcolor=_rgba(color, 0.18),
                        hoverinfo="skip",
                        showlegend=False,
                        **common,
                    )
                )
            data.append(
                dict(
                    type="scatter",
                    x=s.tolist(),
                    y=_list(mean),
                    mode="lines",
                    name=label,
                    line=dict(color=color, width=1.8),
                    showlegend=p == 0,
                    hovertemplate=f"{label}: %{{y:.4g}}<extra></extra>",
                    **common,
                )
            )
            if key == "sharpness":
                ts, tmean, _ = seed_stats(runs, i, "threshold")
                if ts.size and np.isfinite(tmean).any():
                    values.append(tmean)
                    data.append(
                        dict(
                            type="scatter",
                            x=ts.tolist(),
                            y=_list(tmean),
                            mode="lines",
                            line=dict(color=color, width=1.2, dash="dash"),
                            showlegend=False,
                            name=f"{label} threshold",
                            hovertemplate=f"{label} threshold: %{{y:.4g}}<extra></extra>",
                            **common,
                        )
                    )
        yaxis = dict(
            domain=[round(y0, 4), round(y1, 4)],
            anchor=f"x{suffix}",
            type=scale,
            gridcolor="#eeeeee",
            zeroline=False,
            exponentformat="power",
        )
        if scale == "log":
            yaxis["range"] = _log_range(values)
        else:
            yaxis["range"] = [0, 1.02]
        layout[f"yaxis{suffix}"] = yaxis
        layout[f"xaxis{suffix}"] = dict(
            domain=[round(x0, 4), round(x1, 4)],
            anchor=f"y{suffix}",
            range=[0, steps],
            gridcolor="#eeeeee",
            zeroline=False,
            title=dict(text="step") if r == rows - 1 else None,
        )
        layout["annotations"].append(
            dict(
                text=title,
                xref="paper",
                yref="paper",
                x=x0,
                y=y1,
                xanchor="left",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12),
            )
        )
    return dict(data=data, layout=layout)


def boundary_figure(records: list[dict], grid, data, labels, colors, n_classes: int) -> dict:
    """One panel per optimizer: predicted class over the plane, the training points, a slider.

    Frames use ``redraw=True`` (heatmaps do not survive ``redraw=False`` animations).
    """
    xs, ys, _ = grid
    xs, ys = xs.cpu().numpy(), ys.cpu().numpy()
    K = len(labels)
    snaps: dict[int, dict[int, np.ndarray]] = {}
    for r in records:
        if "boundary" in r:
            snaps.setdefault(r["step"], {})[r["optimizer"]] = r["boundary"]
    steps = sorted(s for s, by in snaps.items() if len(by) == K)
    if not steps:
        return {}

    def z_of(probs: np.ndarray) -> np.ndarray:
        if n_classes == 2:
            return probs[..., 1]
        return probs.argmax(-1) + 0.999 * (probs.max(-1) - 1 / n_classes)  # class, with confidence

    x_train = data.x_train.cpu().numpy()
    y_train = data.y_train.cpu().numpy()
    point_colors = ["#1f3b73", "#b3261e", "#2e7d32", "#6a1b9a", "#ef6c00"]
    scale = [[0, "#9ec5e8"], [0.5, "#f7f7f7"], [1, "#f2a7a0"]] if n_classes == 2 else "Viridis"
    traces: list[dict] = []
    width = 1 / K
    layout: dict = dict(
        height=330,
        margin=dict(l=30, r=10, t=40, b=80),
        plot_bgcolor="white",
        showlegend=False,
        annotations=[],
    )
    first = steps[0]
    for i in range(K):
        suffix = "" if i == 0 else str(i + 1)
        x0, x1 = i * width + 0.01, (i + 1) * width - 0.01
        traces.append(
            dict(
                type="heatmap",
                x=xs.tolist(),
                y=ys.tolist(),
                z=np.round(z_of(snaps[first][i]), 3).tolist(),
                colorscale=scale,
                zmin=0,
                zmax=1 if n_classes == 2 else n_classes,
                showscale=False,
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hoverinfo="skip",
            )
        )
        layout[f"xaxis{suffix}"] = dict(
            domain=[x0, x1],
            anchor=f"y{suffix}",
            showticklabels=False,
            range=[float(xs[0]), float(xs[-1])],
        )
        layout[f"yaxis{suffix}"] = dict(
            domain=[0, 1],
            anchor=f"x{suffix}",
            showticklabels=False,
            range=[float(ys[0]), float(ys[-1])],
            scaleanchor=f"x{suffix}",
        )
        layout["annotations"].append(
            dict(
                text=labels[i],
                x=(x0 + x1) / 2,
                y=1.02,
                xref="paper",
                yref="paper",
                showarrow=False,
                yanchor="bottom",
                font=dict(size=12, color=colors[i]),
            )
        )
    for i in range(K):
        suffix = "" if i == 0 else str(i + 1)
        traces.append(
            dict(
                type="scatter",
                x=x_train[:, 0].tolist(),
                y=x_train[:, 1].tolist(),
                mode="markers",
                marker=dict(size=4, color=[point_colors[c % 5] for c in y_train], opacity=0.7),
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hoverinfo="skip",
            )
        )
    frames = [
        dict(
            name=str(s),
            traces=list(range(K)),
            data=[
                dict(type="heatmap", z=np.round(z_of(snaps[s][i]), 3).tolist()) for i in range(K)
            ],
        )
        for s in steps
    ]
    animate = dict(
        mode="immediate", frame=dict(duration=300, redraw=True), transition=dict(duration=0)
    )
    layout["updatemenus"] = [
        dict(
            type="buttons",
            direction="left",
            x=0,
            y=-0.08,
            xanchor="left",
            yanchor="top",
            buttons=[
                dict(
                    label="▶ Play", method="animate", args=[None, {**animate, "fromcurrent": True}]
                ),
                dict(
                    label="❚❚ Pause",
                    method="animate",
                    args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))],
                ),
            ],
        )
    ]
    layout["sliders"] = [
        dict(
            active=0,
            x=0,
            len=1,
            y=-0.08,
            pad=dict(l=180, t=0),
            currentvalue=dict(prefix="step "),
            steps=[dict(method="animate", label=str(s), args=[[str(s)], animate]) for s in steps],
        )
    ]
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
    layout = dict(
        height=420,
        margin=dict(l=60, r=20, t=30, b=50),
        plot_bgcolor="white",
        xaxis=dict(
            type="log",
            title=dict(text="α₀ (learning rate)"),
            gridcolor="#eeeeee",
            exponentformat="power",
        ),
        yaxis=dict(
            type="log",
            title=dict(text="final training loss (✕: diverged)"),
            gridcolor="#eeeeee",
            exponentformat="power",
        ),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
    )
    return dict(data=data, layout=layout)
