"""Speed of the batched 2-D engine against torch.optim loops measured in the same run.

    python benchmarks/bench_engine.py           # both scenarios
    python benchmarks/bench_engine.py --quick   # fewer repetitions (a smoke run)

1. Default scenario: 6 optimizers × 1 start × 500 steps on Rosenbrock with full
   telemetry, against the same six runs done one after another with warm
   torch.optim loops (autograd + optimizer.step per step). Target: ≥ 5× faster.
2. Basin map: 100 × 100 starts × 300 steps of one optimizer (Adam) on Himmelblau
   with telemetry="path", against a bare torch.optim.Adam loop on one (N, 2)
   parameter. Targets: ≤ 1 s and ≤ 3× the bare loop. The full-telemetry time is
   reported too.

Repetitions alternate engine and baseline; the table shows medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import landscapes
from vradam import VRAdam
from vradam.sim.engine import simulate

DEFAULT_SPECS = [
    ("gd:lr=0.001", torch.optim.SGD, dict(lr=1e-3)),
    ("momentum:lr=0.001", torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    ("nesterov:lr=0.001", torch.optim.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)),
    ("rmsprop:lr=0.01", torch.optim.RMSprop, dict(lr=1e-2)),
    ("adam:lr=0.05", torch.optim.Adam, dict(lr=0.05)),
    ("vradam:lr=0.05,beta3=0.0045,weight_decay=0", VRAdam,
     dict(lr=0.05, beta3=0.0045, weight_decay=0.0)),
]  # fmt: skip


def torch_loops(ls, steps):
    for _, cls, kwargs in DEFAULT_SPECS:
        p = torch.nn.Parameter(torch.tensor(ls.start, dtype=torch.float64))
        opt = cls([p], **kwargs)
        for _ in range(steps):
            opt.zero_grad()
            ls.fn(p[0], p[1]).backward()
            opt.step()


def bare_adam(ls, starts, steps):
    p = torch.nn.Parameter(torch.tensor(starts, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        ls.fn(p[:, 0], p[:, 1]).sum().backward()
        opt.step()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict, reps: int) -> dict[str, float]:
    for fn in fns.values():  # warm up
        fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            times[k].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke run)")
    args = parser.parse_args(argv)
    reps = 2 if args.quick else 9

    ros = landscapes.get("rosenbrock")
    specs = [s for s, _, _ in DEFAULT_SPECS]
    m = interleaved(
        {
            "engine": lambda: simulate(ros, specs, [ros.start], 500),
            "torch.optim loops": lambda: torch_loops(ros, 500),
        },
        reps,
    )
    ratio = m["torch.optim loops"] / m["engine"]
    print(f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads")
    print()
    print("| scenario | engine | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        f"| 6 optimizers × 1 start × 500 steps, Rosenbrock, full telemetry "
        f"| {1e3 * m['engine']:.0f} ms | torch.optim loops {1e3 * m['torch.optim loops']:.0f} ms "
        f"| **{ratio:.1f}× faster** | ≥ 5× |"
    )

    him = landscapes.get("himmelblau")
    n = 30 if args.quick else 100
    xs = np.linspace(-5, 5, n)
    X, Y = np.meshgrid(xs, xs)
    starts = np.stack([X.ravel(), Y.ravel()], axis=1)
    b = interleaved(
        {
            "path": lambda: simulate(him, ["adam:lr=0.1"], starts, 300, telemetry="path"),
            "bare Adam": lambda: bare_adam(him, starts, 300),
        },
        max(1, reps // 2),
    )
    full = statistics.median(
        timed(lambda: simulate(him, ["adam:lr=0.1"], starts, 300)) for _ in range(2)
    )
    print(
        f"| basin map {n}×{n} starts × 300 steps, Adam, path telemetry "
        f"| {1e3 * b['path']:.0f} ms | bare torch.optim.Adam on ({n * n}, 2) "
        f"{1e3 * b['bare Adam']:.0f} ms | **{b['path'] / b['bare Adam']:.2f}× the bare loop** "
        f"| ≤ 1 s and ≤ 3× |"
    )
    print(
        f"| the same map with full telemetry (Hessians, thresholds, …) | {1e3 * full:.0f} ms "
        f"| | | reported |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
