"""The Networks page's landscape view: the loss on a 41×41 grid over a plane of weights.

    python benchmarks/bench_landscape.py                  # moons, teacher, digits (CPU)
    python benchmarks/bench_landscape.py --tasks moons,teacher,digits,modadd,lm
    python benchmarks/bench_landscape.py --device cuda
    python benchmarks/bench_landscape.py --quick          # a 9×9 grid (a smoke test)

For each task, around the task's initial weights on a plane of two filter-normalised
directions (the grid's cost does not depend on where the plane lies):

* batched: ``SurfaceLoss.on_plane`` as the view runs it (``torch.func.functional_call``
  vmapped over chunks of grid points, or one point at a time for convolutions on the CPU),
  on one thread;
* plain loop: for each grid point, the weights copied into the model
  (``vector_to_parameters``) and one forward pass and loss, on one thread, in the same run;
* the ratio loop / batched, and the grid the view would choose for its 10 s budget.

Targets: 41×41 in ≤ 2 s for the moons and teacher MLPs, ≤ 10 s for the digits
CNN, or a coarser grid chosen automatically. Wall-clock and CPU seconds of this process
(a shared machine inflates wall time; CPU time less), with the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vradam.studies.landscape import (  # noqa: E402
    BUDGET_S,
    GRID,
    SurfaceLoss,
    choose_grid,
    random_plane,
)
from vradam.studies.threads import one_thread  # noqa: E402
from vradam.studies.training import TrainConfig  # noqa: E402

GOALS = {"moons": 2.0, "teacher": 2.0, "digits": 10.0}


def timed(fn) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def grid_points(n: int) -> np.ndarray:
    a = np.linspace(-1.0, 1.0, n)
    A, B = np.meshgrid(a, a)
    return np.stack([A.ravel(), B.ravel()], axis=1)


def plain_loop(loss: SurfaceLoss, plane, ab: np.ndarray) -> np.ndarray:
    """The loss at each point by copying its weights into the model and calling it."""
    task, model = loss.task, loss.model
    out = np.empty(len(ab))
    with torch.no_grad(), one_thread():
        for k, theta in enumerate(plane.points(ab)):
            vec = torch.as_tensor(theta, dtype=torch.float32, device=loss.device)
            torch.nn.utils.vector_to_parameters(vec, model.parameters())
            if task.objective is not None:
                gen = torch.Generator().manual_seed(0)
                out[k] = float(task.batch_loss(model, loss.x, loss.y, gen))
            else:
                out[k] = float(task.loss_fn(model(loss.x), loss.y))
    return out


def bench(task: str, n: int, device: str) -> dict:
    config = TrainConfig(task=task, device=device)
    loss = SurfaceLoss(config)
    center = torch.nn.utils.parameters_to_vector(loss.model.parameters()).detach().cpu().numpy()
    plane = random_plane(loss.model, center, center[None], seed=0)
    ab = grid_points(n)
    loss.on_plane(plane, ab[: min(len(ab), 2 * loss.chunk)])  # warm up (vmap, allocator)
    batched, b_wall, b_cpu = timed(lambda: loss.on_plane(plane, ab))
    looped, l_wall, l_cpu = timed(lambda: plain_loop(loss, plane, ab))
    agree = float(np.nanmax(np.abs(batched - looped) / np.maximum(np.abs(looped), 1e-12)))
    auto = choose_grid(GRID, b_wall / len(ab), BUDGET_S)
    return dict(task=task, weights=loss.n_params, examples=loss.n_examples, method=loss.method,
                b_wall=b_wall, b_cpu=b_cpu, l_wall=l_wall, l_cpu=l_cpu, agree=agree,
                auto=auto, auto_s=auto * auto * b_wall / len(ab))  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="moons,teacher,digits")
    parser.add_argument("--grid", type=int, default=GRID, help="points per axis")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="a 9×9 grid")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    n = 9 if args.quick else args.grid
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, device {args.device}, one thread, "
          f"{os.cpu_count()} cores, load average {load:.2f}")  # fmt: skip
    print()
    print(f"{n}×{n} = {n * n} points. Seconds: wall (CPU of this process).")
    print()
    print("| task | weights | examples | method | batched | plain loop | loop / batched "
          "| goal | grid within 10 s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for task in args.tasks.split(","):
        r = bench(task.strip(), n, args.device)
        goal = GOALS.get(r["task"])
        verdict = "—" if goal is None else f"≤ {goal:g} s: " + (
            "met" if r["b_wall"] <= goal else "not met")  # fmt: skip
        print(f"| {r['task']} | {r['weights']:,} | {r['examples']:,} | {r['method']} "
              f"| {r['b_wall']:.2f} s ({r['b_cpu']:.2f}) | {r['l_wall']:.2f} s ({r['l_cpu']:.2f}) "
              f"| {r['l_wall'] / r['b_wall']:.2f}× | {verdict} "
              f"| {r['auto']}×{r['auto']} ≈ {r['auto_s']:.1f} s |")  # fmt: skip
        if r["agree"] > 1e-4:
            print(f"  batched and loop disagree for {r['task']}: {r['agree']:.2e}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
