"""Where a claim holds: a small map over a neighbourhood's grid of starts.

Arrays in (the per-start fraction from :meth:`vradam.app.claims.Measured.per_start`),
a Plotly figure dict out. Each cell is one start; its colour and label say in how many
of that start's runs (horizons × noise seeds) the claim held.
"""

from __future__ import annotations

import numpy as np

from vradam.app.figures.arrays import as_list

# Okabe–Ito: vermillion where the claim fails, through white, to blue where it holds.
HOLDS_SCALE = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]


def claim_map(
    per_start: np.ndarray,
    starts: np.ndarray,
    centre: tuple[float, float],
    runs_per_start: int,
    *,
    height: int = 250,
) -> dict:
    """Heatmap of ``per_start`` ((grid, grid), rows along y) over the starts ((grid², 2),
    row-major in y then x), the preset start ringed. Cells where the claim did not hold in
    every run are labelled "held/runs"; the others are plain blue (hover gives the count)."""
    grid = per_start.shape[0]
    xs = starts[:grid, 0]
    ys = starts[::grid, 1]
    held = np.rint(per_start * runs_per_start).astype(int)
    labels = [[f"{h}/{runs_per_start}" if h < runs_per_start else "" for h in row] for row in held]
    heat = dict(
        type="heatmap",
        x=as_list(xs, 6),
        y=as_list(ys, 6),
        z=as_list(per_start, 4),
        zmin=0.0,
        zmax=1.0,
        colorscale=HOLDS_SCALE,
        showscale=False,
        xgap=1,
        ygap=1,
        text=labels,
        texttemplate="%{text}",  # Plotly picks a label colour that contrasts with the cell
        textfont=dict(size=9),
        customdata=held.tolist(),
        hovertemplate=f"start (%{{x}}, %{{y}}): held in %{{customdata}} of {runs_per_start} "
        "runs<extra></extra>",
    )
    marker = dict(
        type="scatter",
        x=[float(centre[0])],
        y=[float(centre[1])],
        mode="markers",
        name="preset start",
        marker=dict(symbol="circle-open", size=30, color="black", line=dict(width=2)),
        hovertemplate="the preset start<extra></extra>",
        showlegend=False,
    )
    dx = float(xs[1] - xs[0]) if grid > 1 else 1.0
    dy = float(ys[1] - ys[0]) if grid > 1 else 1.0
    return dict(
        data=[heat, marker],
        layout=dict(
            height=height,
            margin=dict(l=50, r=10, t=10, b=40),
            font=dict(size=12),
            xaxis=dict(title=dict(text="start x"), range=[xs[0] - dx / 2, xs[-1] + dx / 2],
                       showgrid=False, zeroline=False, tickformat=".3~g", nticks=4),
            yaxis=dict(title=dict(text="start y"), range=[ys[0] - dy / 2, ys[-1] + dy / 2],
                       showgrid=False, zeroline=False, tickformat=".3~g", nticks=4),
            plot_bgcolor="white",
        ),
    )  # fmt: skip
