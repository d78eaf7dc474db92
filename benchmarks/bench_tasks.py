"""The paper's tasks in miniature: default-run wall time, and VRAdam vs AdamW throughput.

    python benchmarks/bench_tasks.py                 # CPU
    python benchmarks/bench_tasks.py --device cuda   # GPU
    python benchmarks/bench_tasks.py --quick

For the language model (lm), the GFlowNet (gflownet) and flow matching (imagegen):

1. The default Networks run: the task's 4 default optimizers (GD, momentum, AdamW, VRAdam)
   × its default steps, evaluation every 10 steps and sharpness at the task's default, as
   the page and ``python -m vradam train`` run it. Target ≤ 60 s on 2 cores.
2. The same run with AdamW alone and with VRAdam alone.
3. Throughput: optimizer steps per second with VRAdam and with AdamW (same model, the
   task's loss, forward + backward + step), interleaved blocks, and the median over blocks
   of their ratio (benchmarks/_throughput.py). On the CPU the
   steps run on one thread (as training does) and are timed in CPU seconds of this
   process, so other work on a shared machine does not enter the ratio; on a GPU, in
   wall-clock seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _throughput import throughput  # benchmarks/_throughput.py, beside this script

from vradam.studies.networks import default_optimizers, get_task
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig, train_steps

TASKS = ("lm", "gflownet", "imagegen")


def run_seconds(
    task_key: str, optimizers: tuple[str, ...], steps: int, device: str
) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. Training holds torch to one thread, so on a quiet
    machine the two agree; on a shared one the CPU time is what the run itself needs."""
    task = get_task(task_key)
    config = TrainConfig(task=task_key, optimizers=optimizers, steps=steps, device=device,
                         sharpness_every=task.default_sharpness_every)  # fmt: skip
    start, cpu = time.perf_counter(), time.process_time()
    for _ in train_steps(config):
        pass
    return time.perf_counter() - start, time.process_time() - cpu


def _s(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:.1f} s ({seconds[1]:.1f} s)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else
             f", {torch.get_num_threads()} threads (training runs use 1)"))  # fmt: skip
    print()
    print("Run times: wall seconds (CPU seconds of this process).")
    print()
    print("| task | steps × batch | default run (4 optimizers) | AdamW alone | VRAdam alone "
          "| AdamW steps/s | VRAdam steps/s | VRAdam / AdamW |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for key in TASKS:
        task = get_task(key)
        steps = 5 if args.quick else task.default_steps
        lr, beta3 = task.default_lr, task.default_beta3
        run_seconds(key, (f"adamw:lr={lr}",), 2, args.device)  # warm up data and kernels
        full = run_seconds(key, default_optimizers(task), steps, args.device)
        adamw = run_seconds(key, (f"adamw:lr={lr}",), steps, args.device)
        vradam = run_seconds(key, (f"vradam:lr={lr},beta3={beta3}",), steps, args.device)
        with one_thread() if device.type == "cpu" else contextlib.nullcontext():  # as training
            r = throughput(
                key, device, *((5, 1) if args.quick else (60, 5)), clock=time.process_time
            )
        target = "" if args.quick else " (target ≤ 60 s)"
        print(f"| {task.name} | {steps} × {r['batch']} | **{_s(full)}**{target} "
              f"| {_s(adamw)} | {_s(vradam)} | {r['AdamW']:.0f} | {r['VRAdam']:.0f} "
              f"| **{r['ratio']:.3f}×** |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
