"""Step time of VRAdam against AdamW, same kernel, measured interleaved in one run.

    python benchmarks/bench_optim.py              # CPU: 1M, 10M (76 and 196 tensors), 30k
    python benchmarks/bench_optim.py --device cuda
    python benchmarks/bench_optim.py --sizes 30k,10M/196 --rounds 5
    python benchmarks/bench_optim.py --threads 1 --clock cpu  # a busy shared machine
    python benchmarks/bench_optim.py --quick      # tiny sizes, a smoke run
    python benchmarks/bench_optim.py --sizes 10M/196 --kernels fused
    python benchmarks/bench_optim.py --fused-floor --threads 1 --clock cpu  # the fused gap

Parameters are shaped like a small transformer (embedding, attention and MLP
matrices, biases, layer norms: many tensors of mixed sizes). Each repetition
runs one AdamW step, one VRAdam step (default β3 = 1, so the gate is on) with the same
kernel (for-loop, foreach, or torch's fused AdamW kernel) and one
step of the published reference loop, in rotating order, so drift in machine load
hits all three alike; the whole set of sizes runs in several rounds, round-robin.
The table reports medians over every repetition, the ratio VRAdam / AdamW (the
median of per-repetition ratios) and the range of that ratio over the rounds, which
shows how noisy the machine was. On CUDA every VRAdam step also runs under
``torch.cuda.set_sync_debug_mode("error")``.

The reference row is the algorithm as the authors published it: a plain loop
over tensors that reads each tensor's partial norm on the host with
``float()`` (a device synchronisation per tensor on GPU) and keeps no ``lr``
key, so no scheduler can drive it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.optim import Optimizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vradam import VRAdam


class PublishedLoopVRAdam(Optimizer):
    """The published per-tensor loop (reference timing row, not for use)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), beta3=1.0, alpha1=10.0, eps=1e-8,
                 weight_decay=1e-2):  # fmt: skip
        super().__init__(params, dict(eta=lr, betas=betas, beta3=beta3, alpha1=alpha1, eps=eps,
                                      weight_decay=weight_decay))  # fmt: skip

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            total = 0.0
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["v"] = torch.zeros_like(p)
                    state["m"] = torch.zeros_like(p)
                state["t"] += 1
                state["v"].mul_(b1).add_(p.grad, alpha=1 - b1)
                total += float(state["v"].abs().pow(2).sum())  # host read per tensor
                state["m"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            lr = group["eta"] / (1 + min(group["beta3"] * total, group["alpha1"]))
            for p in group["params"]:
                state = self.state[p]
                t = state["t"]
                v_hat = state["v"].div(1 - b1**t)
                denom = state["m"].div(1 - b2**t).sqrt_().add_(group["eps"])
                p.mul_(1 - group["weight_decay"] * lr).add_(v_hat.div_(denom), alpha=-lr)


def transformer_shapes(vocab: int, d: int, layers: int) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = [(vocab, d), (1024, d)]  # token and position embeddings
    for _ in range(layers):
        shapes += [(d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,)]  # ln1, qkv, proj
        shapes += [(d,), (d,), (4 * d, d), (4 * d,), (d, 4 * d), (d,)]  # ln2, mlp
    shapes += [(d,), (d,)]  # final layer norm
    return shapes


SIZES = {
    "1M": dict(vocab=2048, d=128, layers=4),  # 52 tensors
    "10M": dict(vocab=8192, d=320, layers=6),  # 76 tensors
    "10M/196": dict(vocab=4096, d=224, layers=16),  # the same size in 196 smaller tensors
    "30k": dict(vocab=16, d=16, layers=4),  # the Networks page's scale: fixed costs show
}
QUICK_SIZES = {"tiny": dict(vocab=64, d=16, layers=2)}


def make_params(shapes, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    params = []
    for s in shapes:
        p = torch.nn.Parameter((0.02 * torch.randn(s, generator=gen)).to(device))
        p.grad = (1e-3 * torch.randn(s, generator=gen)).to(device)
        params.append(p)
    return params


def _timed_step(opt, device, clock, sync_debug=False):
    if device.type == "cuda":
        torch.cuda.synchronize()
        if sync_debug:
            torch.cuda.set_sync_debug_mode("error")
        start = time.perf_counter()
        try:
            opt.step()
        finally:
            if sync_debug:
                torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()
        return time.perf_counter() - start
    start = clock()
    opt.step()
    return clock() - start


KERNELS = {  # the kernel's name → the keyword arguments that pick it (AdamW and VRAdam alike)
    "for-loop": dict(foreach=False),
    "foreach": dict(foreach=True),
    "fused": dict(fused=True),  # torch's fused AdamW kernel; VRAdam feeds it the gated rate
}


def time_steps(
    shapes, device, kernel, reps, warmup, clock=time.perf_counter
) -> dict[str, list[float]]:
    """Per-repetition step times of each optimizer, interleaved in rotating order.

    ``clock=time.process_time`` (``--clock cpu``) counts this process's CPU time, which
    waiting for a core that other processes hold does not inflate (CPU steps only; use
    it with ``--threads 1`` on a busy shared machine)."""
    kw = KERNELS[kernel]
    opts = {
        "AdamW": torch.optim.AdamW(make_params(shapes, device), lr=1e-3, **kw),
        "VRAdam": VRAdam(make_params(shapes, device), lr=1e-3, **kw),
        "published loop": PublishedLoopVRAdam(make_params(shapes, device), lr=1e-3),
    }
    times = {k: [] for k in opts}
    keys = list(opts)
    for i in range(warmup + reps):
        # Rotate the order each repetition so no optimizer always runs after another.
        order = keys[i % len(keys) :] + keys[: i % len(keys)]
        for key in order:
            dt = _timed_step(
                opts[key], device, clock, sync_debug=(key == "VRAdam" and device.type == "cuda")
            )
            if i >= warmup:
                times[key].append(dt)
    return times


def _ratio(times, key) -> float:
    # median of per-repetition ratios: robust to drifting machine load
    return statistics.median(a / b for a, b in zip(times[key], times["AdamW"], strict=True))


def summarise(name, shapes, device, kernel, rounds: list[dict[str, list[float]]]) -> dict:
    """One table row from several rounds: medians over every repetition of every round,
    and the range of the per-round medians of VRAdam / AdamW (the run-to-run spread)."""
    times = {k: [t for r in rounds for t in r[k]] for k in rounds[0]}
    per_round = [_ratio(r, "VRAdam") for r in rounds]
    return dict(
        size=name,
        params=sum(torch.Size(s).numel() for s in shapes),
        tensors=len(shapes),
        kernel=kernel,
        device=str(device),
        median_ms={k: 1e3 * statistics.median(v) for k, v in times.items()},
        ratio_vradam_adamw=_ratio(times, "VRAdam"),
        ratio_published_adamw=_ratio(times, "published loop"),
        ratio_vradam_adamw_rounds=per_round,
        reps=len(times["AdamW"]),
    )


def fused_floor(shapes, reps: int, clock) -> list[tuple[str, float, float]]:
    """What the fused kernel's gap is made of, on CPU tensors of ``shapes``: the fused AdamW
    kernel alone against VRAdam's pass before it (which must read every velocity and
    gradient once, as the gate needs ‖v_t‖² before any parameter moves) and against the
    cheapest reads of the same data. Rows: (what, median ms, bytes moved per element)."""
    from vradam.kernels.fused import NormMemo, next_velocity_sq_norm
    from vradam.norm import SqNormAccumulator

    params = make_params(shapes, torch.device("cpu"))
    grads = [p.grad for p in params]
    gen = torch.Generator().manual_seed(1)
    vs = [1e-3 * torch.randn(p.shape, generator=gen) for p in params]
    ms = [1e-6 * torch.rand(p.shape, generator=gen) for p in params]
    steps = [torch.tensor(3.0) for _ in params]
    memo = NormMemo.after_kernel(*next_velocity_sq_norm(
        grads, vs, beta1=0.9, maximize=False, norms=SqNormAccumulator()))  # fmt: skip
    scratch = torch.empty(max(v.numel() for v in vs))

    def kernel():  # reads θ, g, v, m and writes θ, v, m: 7 × 4 bytes an element
        torch._fused_adamw_(params, grads, vs, ms, [], steps, amsgrad=False, lr=1e-3,
                            beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8,
                            maximize=False, grad_scale=None, found_inf=None)  # fmt: skip

    def phase1(m):
        next_velocity_sq_norm(grads, vs, beta1=0.9, maximize=False,
                              norms=SqNormAccumulator(), memo=m)  # fmt: skip

    def lerp_dot():  # v_t into a scratch buffer, then its dot: the previous pass
        for g, v in zip(grads, vs, strict=True):
            out = scratch[: v.numel()]
            torch.lerp(v.view(-1), g.view(-1), 0.1, out=out)
            torch.dot(out, out)

    rows = [
        ("fused AdamW kernel", kernel, 28),
        ("VRAdam's pass, last norm known (2 dots a tensor)", lambda: phase1(memo), 8),
        ("VRAdam's pass, first step or after a load (3 dots)", lambda: phase1(None), 8),
        ("lerp into scratch + dot (the pass before this change)", lerp_dot, 8),
        (
            "one dot ⟨v, g⟩ a tensor: one read of v and g",
            lambda: [torch.dot(v.view(-1), g.view(-1)) for v, g in zip(vs, grads, strict=True)],
            8,
        ),
        ("sum of g: one read of g", lambda: [g.sum() for g in grads], 4),
    ]
    times: dict[str, list[float]] = {name: [] for name, _, _ in rows}
    for _ in range(reps):
        for name, fn, _ in rows:
            start = clock()
            fn()
            times[name].append(clock() - start)
    return [(name, 1e3 * statistics.median(times[name]), b) for name, _, b in rows]


def print_fused_floor(shapes, reps, clock) -> None:
    numel = sum(torch.Size(s).numel() for s in shapes)
    rows = fused_floor(shapes, reps, clock)
    base = rows[0][1]
    print(f"{numel:,} float32 parameters in {len(shapes)} tensors\n")
    print("| what | ms | × the fused kernel | bytes / element | GB/s |")
    print("|---|---|---|---|---|")
    for name, ms, per in rows:
        print(f"| {name} | {ms:.2f} | {ms / base:.2f}× | {per} | {per * numel / ms / 1e6:.0f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--reps", type=int, default=None, help="timed steps per optimizer")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds over every size (default 3, --quick 1)")  # fmt: skip
    parser.add_argument("--sizes", default=None, help=f"comma list of {', '.join(SIZES)}")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time (CPU steps only)")  # fmt: skip
    parser.add_argument("--kernels", default=None,
                        help=f"comma list of {', '.join(KERNELS)} (default: all)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few reps (smoke run)")
    parser.add_argument("--fused-floor", action="store_true",
                        help="the fused kernel's gap, part by part (first size given)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if device.type == "cuda" and args.clock == "cpu":
        parser.error("--clock cpu times CPU steps; GPU steps are timed by the wall clock")
    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        unknown = set(args.sizes.split(",")) - set(sizes)
        if unknown:
            parser.error(
                f"--sizes: unknown {', '.join(sorted(unknown))}; one of {', '.join(sizes)}"
            )
        sizes = {k: v for k, v in sizes.items() if k in args.sizes.split(",")}
    if args.fused_floor:
        name, config = next(iter(sizes.items())) if args.sizes or args.quick else (
            "10M/196", SIZES["10M/196"])  # fmt: skip
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clock} "
              f"clock, size {name}")  # fmt: skip
        print_fused_floor(transformer_shapes(**config), args.reps or 15, clock)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    kernels = args.kernels.split(",") if args.kernels else list(KERNELS)
    if set(kernels) - set(KERNELS):
        parser.error(f"--kernels: one or more of {', '.join(KERNELS)}")
    configs = [(name, transformer_shapes(**cfg), kernel)
               for name, cfg in sizes.items() for kernel in kernels]  # fmt: skip
    results: list[list[dict]] = [[] for _ in configs]
    for _ in range(rounds):  # round-robin, so load drift is spread over every row
        for (name, shapes, kernel), out in zip(configs, results, strict=True):
            reps = args.reps or (3 if args.quick else {"1M": 40, "30k": 300}.get(name, 16))
            out.append(time_steps(shapes, device, kernel, reps, warmup=2, clock=clock))
    rows = [summarise(name, shapes, device, kernel, out)
            for (name, shapes, kernel), out in zip(configs, results, strict=True)]  # fmt: skip

    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, device {device}, {rounds} round(s), "
          f"{args.clock} clock")  # fmt: skip
    print()
    print("| size | params | tensors | kernel | AdamW ms | VRAdam ms | published loop ms "
          "| VRAdam / AdamW | rounds' range | published / AdamW |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        m = r["median_ms"]
        lo, hi = min(r["ratio_vradam_adamw_rounds"]), max(r["ratio_vradam_adamw_rounds"])
        print(
            f"| {r['size']} | {r['params']:,} | {r['tensors']} | {r['kernel']} "
            f"| {m['AdamW']:.2f} | {m['VRAdam']:.2f} | {m['published loop']:.2f} "
            f"| **{r['ratio_vradam_adamw']:.3f}×** | {lo:.3f}–{hi:.3f} "
            f"| {r['ratio_published_adamw']:.3f}× |"
        )
    if args.json:
        meta = dict(torch=torch.__version__, clock=args.clock, threads=torch.get_num_threads())
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(meta | dict(rows=rows), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
