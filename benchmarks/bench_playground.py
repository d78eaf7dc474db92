"""Server-side time from a slider change to the new Playground figure, and its payload.

    python benchmarks/bench_playground.py [--quick]

A slider change means a new config: the engine runs every optimizer, the race figure
is built as plain dicts and serialised to the JSON Streamlit sends. The landscape's
background image is cached per landscape, so the "slider change" row reuses it; the
"new landscape" row builds it too. Targets: ≤ 300 ms for the default scenario and a
payload ≤ 0.3 MB (benchmarks/bench_server.py counts the bytes of a whole rerun
and the server's CPU). Times are medians; the ratio column compares with the target.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import plotly.io as pio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vradam.app import claims, playground
from vradam.app.figures import playground as plots
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.maps import background
from vradam.app.playground import PlaygroundConfig
from vradam.app.scenarios import SCENARIOS

TARGET_S = 0.300


def figure_json(config: PlaygroundConfig, bg: dict | None = None) -> tuple[str, dict]:
    ls = config.landscape_obj()
    bg = bg if bg is not None else background(ls)
    trajectories = playground.run(config)
    fig = plots.race_figure(ls, trajectories, assign_colors(config.specs()), bg)
    return pio.to_json(fig, validate=False), bg


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else 11

    print("| scenario | slider change (background cached) | new landscape | payload | target |")
    print("|---|---|---|---|---|")
    setups = [("The default race", PlaygroundConfig())]
    setups += [(sc.title, sc.config) for sc in SCENARIOS.values()]
    for name, config in setups:
        _, bg = figure_json(config)  # warm up imports and caches of the landscape
        warm, cold = [], []
        for i in range(reps):
            # a "slider change": one step fewer or more, so nothing but the background is reused
            changed = replace(config, steps=config.steps - (i % 2))
            start = time.perf_counter()
            text, _ = figure_json(changed, bg)
            warm.append(time.perf_counter() - start)
            start = time.perf_counter()
            figure_json(changed)
            cold.append(time.perf_counter() - start)
        w, c = statistics.median(warm), statistics.median(cold)
        print(
            f"| {name} | **{1e3 * w:.0f} ms** ({w / TARGET_S:.2f}× the budget) | {1e3 * c:.0f} ms "
            f"| {len(text.encode()) / 1e6:.3f} MB | ≤ 300 ms, ≤ 0.3 MB |"
        )
        if args.quick:
            break
    neighbourhoods(quick=args.quick)
    return 0


def neighbourhoods(quick: bool) -> None:
    """What measuring a scenario's claim over its neighbourhood costs (caches cleared)."""
    print()
    print("| scenario claim | neighbourhood | runs | time (best of 3) | vs 1 s budget |")
    print("|---|---|---|---|---|")
    for sc in SCENARIOS.values():
        best = math.inf
        for _ in range(1 if quick else 3):
            claims.clear_caches()
            start = time.perf_counter()
            measured = sc.measure()
            sc.claim()
            best = min(best, time.perf_counter() - start)
        seeds = f" × {len(measured.seeds)} seeds" if measured.seeds else ""
        what = (f"{len(sc.config.optimizers)} optimizers × {measured.starts.shape[0]} starts × "
                f"{max(measured.horizons)} steps{seeds}")  # fmt: skip
        print(f"| {sc.title} | {what} | {measured.total} | **{best:.2f} s** "
              f"| {best / 1.0:.2f}× |")  # fmt: skip
        if quick:
            break


if __name__ == "__main__":
    raise SystemExit(main())
