"""The Edge-of-stability page's MLP runs: a cold default run and a slider change.

    python benchmarks/bench_eos.py [--quick] [--reps N]

Target: the default run cold in ≤ 3 s and a slider change in ≤ 3 s. What the
page computes for a setting it has not cached: seed 0 (the plotted run: GD, heavy ball,
Adam, VRAdam, then Adam at VRAdam's window-mean η), then seeds 1 and 2 together (the
findings table; the page's default is 3 seeds). Each row is timed three ways:

* cold process: a fresh Python process imports the study and runs it (a server's
  first visitor after a restart pays this once);
* new setting: in a process that has run another setting (a warm server), the first
  run of this one: the default (η = 0.3, α₀ = 0.03, β₃ = 1e4), then a slider change
  (β₃ = 3e4);
* old path: the same runs with train_steps (torch.optim on the nn.Module, scipy's
  Lanczos), as the page did before the lockstep trainer, and the ratio.

Wall-clock and CPU seconds (one thread; CPU time is what a busy machine inflates least),
best of ``--reps`` for the new settings, with the machine's load average, since other work
on a shared machine slows both.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from vradam.sim.optimizers import OptimizerSpec  # noqa: E402
from vradam.studies import eos  # noqa: E402
from vradam.studies.threads import one_thread  # noqa: E402
from vradam.studies.training import train_steps  # noqa: E402

TARGET_S = 3.0
COLD = """
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
sys.path.insert(0, {root!r})
from vradam.studies import eos
config = eos.EoSConfig(steps={steps}, sharpness_every={every})
eos.run_mlp(config)
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def timed(fn) -> tuple[float, float, object]:
    """(wall s, CPU s, result) of one call."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def old_run(config: eos.EoSConfig) -> eos.EoSResult:
    """One seed as the page computed it before: train_steps for the four optimizers, then
    for Adam at VRAdam's window-mean η."""
    records = list(train_steps(config.train_config(config.optimizers())))
    series = [eos.series_from_records(records, i) for i in range(4)]
    start = round(config.window_start * config.steps)
    rate = float(f"{series[3].mean_eta(start):.4g}")
    matched = OptimizerSpec("adam", {"lr": rate}, eos.MATCHED_LABEL)
    extra = list(train_steps(config.train_config((str(matched),))))
    series.append(eos.series_from_records(extra, 0))
    return eos.EoSResult("mlp", series, rate, start, f"seed {config.seed}")


def page(config: eos.EoSConfig, seeds: int, reps: int) -> tuple[float, float, float, float]:
    """What the page does for an uncached setting: (wall, CPU) to seed 0's figure, then
    (wall, CPU) for the other seeds; each the best of ``reps`` (load only adds time)."""
    first = [timed(lambda: eos.run_mlp(config))[:2] for _ in range(reps)]
    rest = list(range(1, seeds))
    others = [timed(lambda: eos.run_mlp_seeds(config, rest) if rest else 0)[:2]
              for _ in range(reps)]  # fmt: skip
    return (min(w for w, _ in first), min(c for _, c in first),
            min(w for w, _ in others), min(c for _, c in others))  # fmt: skip


def load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 steps, one seed, one rep")
    parser.add_argument("--reps", type=int, default=3, help="best of this many (default 3)")
    args = parser.parse_args(argv)
    reps = 1 if args.quick else max(1, args.reps)
    steps, every, seeds = (40, 20, 1) if args.quick else (500, 20, 3)
    default = eos.EoSConfig(steps=steps, sharpness_every=every)
    change = replace(default, beta3=3e4)
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}; "
          f"load average {load()} (1/5/15 min)")  # fmt: skip
    print(f"MLP runs: {steps} steps, sharpness every {every}, seeds 0–{seeds - 1}; new settings: "
          f"best of {reps}, the old path and the cold process: one run\n")  # fmt: skip
    script = COLD.format(root=str(ROOT), steps=steps, every=every)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    cold_wall, cold_cpu = (float(x) for x in out.stdout.split())
    with one_thread():
        eos.run_mlp(replace(default, lr_gd=0.2, steps=40))  # a warm process: imports done
        old_run(replace(default, lr_gd=0.2, steps=20))  # (torch.optim's and scipy's too)
        rows = [("default setting", *page(default, seeds, reps)), ("slider change β₃ = 3e4",
                *page(change, seeds, reps))]  # fmt: skip
        ow, oc, _ = timed(lambda: old_run(default))
    print("| run | seed 0 (the figure) | + other seeds | page total | vs 3 s |")
    print("|---|---|---|---|---|")
    print(f"| cold process, default (imports included) | {cold_wall:.2f} s "
          f"(CPU {cold_cpu:.2f} s) | | | {cold_wall / TARGET_S:.2f}× |")  # fmt: skip
    for name, w0, c0, w1, c1 in rows:
        print(f"| new setting: {name} | **{w0:.2f} s** (CPU {c0:.2f} s) | {w1:.2f} s "
              f"(CPU {c1:.2f} s) | {w0 + w1:.2f} s | {w0 / TARGET_S:.2f}× |")  # fmt: skip
    w0, c0 = rows[0][1], rows[0][2]
    print(f"| old path (train_steps), default seed 0 | {ow:.2f} s (CPU {oc:.2f} s) | | | "
          f"{ow / TARGET_S:.2f}× |")  # fmt: skip
    print(f"\nLockstep / old path, seed 0: {w0 / ow:.2f}× wall, {c0 / oc:.2f}× CPU "
          f"(old / lockstep: {ow / w0:.1f}× faster)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
