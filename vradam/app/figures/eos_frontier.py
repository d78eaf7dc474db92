"""The damping–cost frontier figure: oscillation against final loss, both log axes.

The baseline's cells (Adam or AdamW at each α0, constant: circles, warmup-cosine:
diamonds) in its colour, the lower-left envelope through them (Adam's frontier, a
staircase), and VRAdam's cells coloured by β3 (a marker shape per α0). Every point is a
cell's mean over its seeds (geometric for the final loss); the bars span the seeds'
lowest and highest values. An oscillation of 0 (below
:data:`vradam.studies.frontier.OSCILLATION_FLOOR`, rounding's level) is drawn at the left
edge, whose tick says "0". Plain dicts; the numbers come from a
:class:`vradam.studies.frontier.FrontierVerdict`.
"""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.colors import EXTRA_COLORS, GRID_COLOR, KEY_COLORS, rgba
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.figures.traces import line_trace
from vradam.studies.frontier import OSCILLATION_FLOOR, Cell, FrontierVerdict

__all__ = ["frontier_figure", "symbol_key"]

BASELINE_COLOR = "#0072B2"  # Adam's colour (KEY_COLORS), also for AdamW: one baseline
BETA3_COLORS = [KEY_COLORS["vradam"], "#E69F00", "#CC79A7", "#882255", "#009E73", "#661100",
                *EXTRA_COLORS]  # fmt: skip
SCHEDULE_SYMBOLS = {"constant": "circle", "warmup_cosine": "diamond"}
LR_SYMBOLS = ["triangle-up", "square", "star", "triangle-down", "pentagon", "hexagon"]


def _floor(cells: list[Cell]) -> float:
    """Where an oscillation of 0 is drawn: half a decade below the smallest positive one
    (at most the floor below which an oscillation counts as 0)."""
    values = [v for c in cells for v in c.oscillation if math.isfinite(v) and v > 0]
    return min([*values, OSCILLATION_FLOOR]) / 10**0.5


def _point(c: Cell, floor: float) -> dict:
    osc = np.maximum(np.asarray(c.oscillation, dtype=float), floor)
    final = 10.0 ** np.asarray(c.log_final, dtype=float)
    x, y = max(c.mean_oscillation, floor), c.final
    return dict(x=x, y=y, x_lo=x - osc.min(), x_hi=osc.max() - x, y_lo=y - final.min(),
                y_hi=final.max() - y)  # fmt: skip


def _cell_trace(cells: list[Cell], floor: float, name: str, color: str, symbol, hover: str,
                group: str) -> dict:  # fmt: skip
    points = [_point(c, floor) for c in cells]
    custom = [[c.lr, c.beta3 if math.isfinite(c.beta3) else 0, c.mean_oscillation,
               c.schedule.replace("_", "-"), len(c.seeds), c.gate or "—"]
              for c in cells]  # fmt: skip
    return dict(
        type="scatter", mode="markers", name=name, legendgroup=group,
        x=[p["x"] for p in points], y=[p["y"] for p in points], customdata=custom,
        error_x=dict(type="data", symmetric=False, array=[p["x_hi"] for p in points],
                     arrayminus=[p["x_lo"] for p in points], color=rgba(color, 0.45),
                     thickness=1, width=0),
        error_y=dict(type="data", symmetric=False, array=[p["y_hi"] for p in points],
                     arrayminus=[p["y_lo"] for p in points], color=rgba(color, 0.45),
                     thickness=1, width=0),
        marker=dict(color=color, symbol=symbol, size=10, line=dict(width=1, color="white")),
        hovertemplate=f"{hover}<extra></extra>",
    )  # fmt: skip


def _staircase(line: list[Cell], floor: float, x_max: float) -> tuple[list, list]:
    """The envelope as a staircase: each frontier cell's final loss holds from its
    oscillation to the next one's, and the last one's to the right edge."""
    xs, ys = [], []
    for k, c in enumerate(line):
        x = max(c.mean_oscillation, floor)
        nxt = max(line[k + 1].mean_oscillation, floor) if k + 1 < len(line) else x_max
        xs += [x, nxt]
        ys += [c.final, c.final]
    return xs, ys


def frontier_figure(verdict: FrontierVerdict, baseline: str = "Adam", height: int = 440) -> dict:
    """Oscillation (x) against final loss (y) for every cell of ``verdict``'s study."""
    cells = [c.vradam for c in verdict.comparisons]
    base = list(verdict.baseline)
    shown = [c for c in [*base, *cells] if c.ok]
    floor = _floor(shown)
    xs = [max(v, floor) for c in shown for v in c.oscillation]
    ys = [10.0**v for c in shown for v in c.log_final]
    x_range, y_range = log_range([np.array(xs)], pad=0.12), log_range([np.array(ys)], pad=0.12)
    x_ticks = log_ticks(*x_range, max_ticks=5)
    if any(v == 0 for c in shown for v in c.oscillation):  # a "0" tick at the left edge
        x_range[0] = math.log10(floor) - 0.15
        x_ticks = log_ticks(math.log10(floor) + 0.3, x_range[1], max_ticks=5)
        x_ticks["tickvals"] = [floor, *x_ticks["tickvals"]]
        x_ticks["ticktext"] = ["0", *x_ticks["ticktext"]]
    data: list[dict] = []
    for schedule, symbol in SCHEDULE_SYMBOLS.items():
        mine = [c for c in base if c.ok and c.schedule == schedule]
        if mine:
            data.append(_cell_trace(
                mine, floor, f"{baseline}, {schedule.replace('_', '-')}", BASELINE_COLOR, symbol,
                f"{baseline} α₀ = %{{customdata[0]:.3g}} (%{{customdata[3]}})<br>oscillation "
                "%{customdata[2]:.3g}<br>final loss %{y:.3g} (geometric mean of "
                "%{customdata[4]} seeds)", "baseline",
            ))  # fmt: skip
    lx, ly = _staircase(list(verdict.frontier), floor, 10.0 ** x_range[1])
    data.append(line_trace(lx, ly, f"{baseline}'s frontier: final loss %{{y:.3g}}",
                           name=f"{baseline}'s frontier", legendgroup="baseline",
                           line=dict(color=BASELINE_COLOR, width=2, dash="dash")))  # fmt: skip
    lrs = sorted({c.lr for c in cells})
    for k, beta3 in enumerate(sorted({c.beta3 for c in cells})):
        mine = [c for c in cells if c.beta3 == beta3 and c.ok]
        if not mine:
            continue
        color = BETA3_COLORS[k % len(BETA3_COLORS)]
        symbols = [LR_SYMBOLS[lrs.index(c.lr) % len(LR_SYMBOLS)] for c in mine]
        data.append(_cell_trace(
            mine, floor, f"VRAdam β₃ = {beta3:g}", color, symbols,
            "VRAdam β₃ = %{customdata[1]:.3g}, α₀ = %{customdata[0]:.3g}<br>oscillation "
            "%{customdata[2]:.3g}<br>final loss %{y:.3g} (geometric mean of %{customdata[4]} "
            "seeds)<br>gate: %{customdata[5]}", f"beta3-{k}",
        ))  # fmt: skip
    layout = dict(
        height=height, margin=dict(l=64, r=16, t=30, b=56), plot_bgcolor="white",
        xaxis=dict(type="log", range=x_range, gridcolor=GRID_COLOR,
                   title=dict(text="oscillation Σ max(Δ ln loss, 0), second half (log)"),
                   **x_ticks),
        yaxis=dict(type="log", range=y_range, gridcolor=GRID_COLOR,
                   title=dict(text="final training loss (log)"),
                   **log_ticks(*y_range, max_ticks=5)),
        legend=dict(orientation="h", x=0, y=-0.22, yanchor="top"),
        hovermode="closest",
    )  # fmt: skip
    return dict(data=data, layout=layout)


def symbol_key(verdict: FrontierVerdict) -> str:
    """Which marker is which α0 for VRAdam's points, in words for the caption."""
    lrs = sorted({c.vradam.lr for c in verdict.comparisons})
    names = {"triangle-up": "▲", "square": "■", "star": "★", "triangle-down": "▼",
             "pentagon": "⬟", "hexagon": "⬢"}  # fmt: skip
    return ", ".join(f"{names[LR_SYMBOLS[k % len(LR_SYMBOLS)]]} α₀ = {lr:g}"
                     for k, lr in enumerate(lrs))  # fmt: skip
