"""A 100 × 100 stability map of one optimizer configuration, from numbers to figure JSON.

    python benchmarks/bench_stability.py [--quick]

Target: ≤ 2 s on these machines, for the computation, the figure dict and its
serialisation together. Each row also prints a baseline measured in the same run, the
bare recurrence or optimizer loop on the same 10 000 cells without classification or
figure, so that the ratio shows the cost of everything around the arithmetic.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import plotly.io as pio
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import landscapes
from vradam.app.figures import stability as stabplots
from vradam.studies import stability as S

TARGET_S = 2.0
N = 100


def momentum_row() -> float:
    m = S.momentum_map("vrmomentum", np.geomspace(0.05, 200, N), np.geomspace(0.1, 100, N))
    return len(pio.to_json(stabplots.momentum_maps_figure([m]), validate=False))


def momentum_baseline() -> None:
    lrs, L = np.geomspace(0.05, 200, N), np.geomspace(0.1, 100, N)[:, None]
    x, v = np.ones((N, N)), np.zeros((N, N))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(400):
            v = 0.9 * v + 0.1 * L * x
            x = x - lrs / (1 + np.minimum(v * v, 10.0)) * v


def adam_row() -> float:
    ls = landscapes.get("ill_conditioned")
    m = S.adam_map(ls, np.geomspace(1e-3, 1.0, N), np.geomspace(1e-3, 10, N), steps=300)
    return len(pio.to_json(stabplots.adam_map_figure(m), validate=False))


def basin_row() -> float:
    ls = landscapes.get("himmelblau")
    b = S.basin_map(ls, ["adam:lr=0.1"], n=N, steps=300)
    return len(pio.to_json(stabplots.basin_figure(b, ls), validate=False))


def torch_adam_baseline(landscape_key: str, n_runs: int, lr: float) -> None:
    ls = landscapes.get(landscape_key)
    xy = torch.tensor(np.tile(ls.start, (n_runs, 1)), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([xy], lr=lr)
    for _ in range(300):
        opt.zero_grad()
        ls.fn(xy[:, 0], xy[:, 1]).sum().backward()
        opt.step()


ROWS = [
    ("momentum phase diagram, VRMomentum, 100 α₀ × 100 L, 400 steps", momentum_row,
     momentum_baseline, "numpy recurrence alone"),
    ("Adam-family map, ravine, 100 α₀ × 100 β₃, 300 steps", adam_row,
     lambda: torch_adam_baseline("ill_conditioned", N * N, 0.01), "torch.optim.Adam, 10⁴ runs"),
    ("basin map, Himmelblau, Adam, 100 × 100 starts, 300 steps", basin_row,
     lambda: torch_adam_baseline("himmelblau", N * N, 0.1), "torch.optim.Adam, 10⁴ runs"),
]  # fmt: skip


def _median(fn, reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition")
    args = parser.parse_args(argv)
    reps = 1 if args.quick else 5
    momentum_row()  # warm up imports
    print("| map (numbers + figure + JSON) | time | vs 2 s budget | baseline | ratio | payload |")
    print("|---|---|---|---|---|---|")
    for name, row, baseline, base_name in ROWS:
        t, size = _median(row, reps)
        tb, _ = _median(baseline, reps)
        print(
            f"| {name} | **{1e3 * t:.0f} ms** | {t / TARGET_S:.2f}× | {base_name} "
            f"{1e3 * tb:.0f} ms | {t / tb:.2f}× | {size / 1e6:.2f} MB |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
