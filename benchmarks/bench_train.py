"""Training speed: the Networks page's default run, and VRAdam vs AdamW throughput.

    python benchmarks/bench_train.py                 # CPU: default run + throughput
    python benchmarks/bench_train.py --device cuda   # GPU throughput (and the default run)
    python benchmarks/bench_train.py --quick
    python benchmarks/bench_train.py --throughput-only --threads 1 --clock cpu  # busy machine

1. The default page run: two moons, 4 optimizers (GD, momentum, AdamW, VRAdam) × 500
   steps with sharpness every 25 steps, as the page trains it. Target ≤ 10 s on 2 cores.
2. Throughput of the CNN (8×8 digits, batch 128) and the transformer (a + b mod 17,
   full batch): optimizer steps per second with VRAdam and with AdamW (same model,
   forward + backward + step, β3 = 1), 15 interleaved blocks of 30 steps each, alternating
   which runs first, and the median over blocks of the VRAdam / AdamW ratio
   (benchmarks/_throughput.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _throughput import throughput  # benchmarks/_throughput.py, beside this script

from vradam.studies.training import TrainConfig, train_steps


def default_run(device: str) -> float:
    list(train_steps(TrainConfig(steps=5, device=device)))  # warm up imports and kernels
    start = time.perf_counter()
    list(train_steps(TrainConfig(device=device)))
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time")  # fmt: skip
    parser.add_argument("--throughput-only", action="store_true",
                        help="skip the default page run")  # fmt: skip
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if args.device == "cuda" and args.clock == "cpu":
        parser.error("--clock cpu times CPU runs; GPU runs are timed by the wall clock")
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else
             f", {torch.get_num_threads()} threads"))  # fmt: skip
    print()
    if not (args.quick or args.throughput_only):
        seconds = default_run(args.device)
        print(f"Default Networks run (moons, 4 optimizers × 500 steps, sharpness every 25): "
              f"**{seconds:.1f} s** (target ≤ 10 s)")  # fmt: skip
        print()
    print("| model | batch | AdamW steps/s | VRAdam steps/s | VRAdam / AdamW (median of blocks) |")
    print("|---|---|---|---|---|")
    steps, reps = (5, 1) if args.quick else (30, 15)
    for key in ("digits", "modadd"):
        r = throughput(key, device, steps, reps, beta3=1.0, clock=clock)
        print(f"| {r['task']} | {r['batch']} | {r['AdamW']:.0f} | {r['VRAdam']:.0f} "
              f"| **{r['ratio']:.3f}×** |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
