"""VRAdam vs AdamW training throughput on one task (shared by bench_train and bench_tasks).

Both optimizers train copies of the same initial model on the task's own loss (forward +
backward + step, random batches of the task's default size). After a warm-up, ``reps``
blocks of ``steps`` steps each run for AdamW and for VRAdam back to back, alternating
which goes first; the ratio is the median over blocks of VRAdam / AdamW, so each ratio
compares two blocks that ran under the same load.
"""

from __future__ import annotations

import copy
import statistics
import time

import torch

from vradam.sim.optimizers import OptimizerSpec, make_optimizer
from vradam.studies.networks import get_task
from vradam.studies.training import step_generator


def throughput(task_key: str, device: torch.device, steps: int, reps: int, *,
               beta3: float | None = None, clock=time.perf_counter) -> dict:  # fmt: skip
    """{task, batch, AdamW, VRAdam (median steps/s), ratio}; ``beta3`` defaults to the
    task's. On a GPU the clock is the wall clock, with a synchronisation around each block."""
    task = get_task(task_key)
    data = task.make_data(0).to(device)
    torch.manual_seed(0)
    base = task.make_model().to(device)
    lr = task.default_lr
    beta3 = task.default_beta3 if beta3 is None else beta3
    runs = {}
    for name, spec in (("AdamW", f"adamw:lr={lr}"), ("VRAdam", f"vradam:lr={lr},beta3={beta3}")):
        model = copy.deepcopy(base)
        runs[name] = (model, make_optimizer(OptimizerSpec.parse(spec), model.parameters()))
    n = data.x_train.shape[0]
    batch = min(task.default_batch or n, n)
    gen = torch.Generator().manual_seed(1)
    if device.type == "cuda":
        clock = time.perf_counter

    def run(name):
        model, opt = runs[name]
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = clock()
        for t in range(steps):
            idx = torch.randint(0, n, (batch,), generator=gen).to(device)
            opt.zero_grad(set_to_none=True)
            task.batch_loss(model, data.x_train[idx], data.y_train[idx],
                            step_generator(0, t)).backward()  # fmt: skip
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return steps / (clock() - start)

    for name in runs:
        run(name)  # warm up
    rates = {name: [] for name in runs}
    names = list(runs)
    for i in range(reps):
        for name in names[i % 2 :] + names[: i % 2]:  # alternate which runs first
            rates[name].append(run(name))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = statistics.median(v / a for v, a in zip(rates["VRAdam"], rates["AdamW"], strict=True))
    return dict(task=task.name, batch=batch, **med, ratio=ratio)
