"""Sharded and replicated training on 2 CPU processes (gloo) equals one process.

Hand-sharded parameters (``process_group=``) and DTensor parameters (FSDP2's
format) must sum the squared velocity norm across ranks, with one all-reduce
of one scalar per step, so every rank applies the same gate. Under DDP the
parameters are replicated and VRAdam works unchanged.
"""

from __future__ import annotations

import sys
import types

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vradam import VRAdam

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.skipif(not dist.is_available(), reason="torch built without distributed"),
]

WORLD = 2
STEPS = 25
SHAPES = [(6, 3), (4,), (5, 2)]  # (5, 2) shards unevenly: 3 + 2 rows
HP = dict(lr=0.05, beta3=2.0, alpha1=3.0, weight_decay=0.01)


def _full_params():
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=gen, dtype=torch.float64) for s in SHAPES]


def _grad_seq():
    gen = torch.Generator().manual_seed(1)
    return [
        [(0.3 + 2 * (t % 5)) * torch.randn(s, generator=gen, dtype=torch.float64) for s in SHAPES]
        for t in range(STEPS)
    ]


def _ddp_data():
    gen = torch.Generator().manual_seed(2)
    return [
        (torch.randn(8, 6, generator=gen, dtype=torch.float64),
         torch.randn(8, 3, generator=gen, dtype=torch.float64))
        for _ in range(STEPS)
    ]  # fmt: skip


def _ddp_model():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).to(
        torch.float64
    )


def _single_process():
    params = [torch.nn.Parameter(p.clone()) for p in _full_params()]
    opt = VRAdam(params, **HP)
    etas = []
    for grads in _grad_seq():
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        etas.append(opt.param_groups[0]["effective_lr"].item())
    model = _ddp_model()
    mopt = VRAdam(model.parameters(), **HP)
    for x, y in _ddp_data():
        mopt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        mopt.step()
    return [p.detach() for p in params], etas, [p.detach() for p in model.parameters()]


def _worker(rank, init_file, out_file):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    calls = []
    original = dist.all_reduce

    def counting_all_reduce(tensor, *args, **kwargs):
        calls.append(tensor.numel())
        return original(tensor, *args, **kwargs)

    dist.all_reduce = counting_all_reduce
    results = {}

    # 1. Hand-sharded plain tensors: each rank holds a block of rows.
    local = [torch.nn.Parameter(p.chunk(WORLD)[rank].clone()) for p in _full_params()]
    opt = VRAdam(local, process_group=dist.group.WORLD, **HP)
    etas = []
    for grads in _grad_seq():
        for p, g in zip(local, grads):
            p.grad = g.chunk(WORLD)[rank].clone()
        opt.step()
        etas.append(opt.param_groups[0]["effective_lr"].item())
    results["sharded"] = [p.detach() for p in local]
    results["sharded_etas"] = etas
    results["sharded_calls"] = list(calls)

    # 2. DTensor parameters sharded on a 1-D mesh, as FSDP2 holds them.
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor

    calls.clear()
    mesh = init_device_mesh("cpu", (WORLD,))
    dparams = [
        torch.nn.Parameter(distribute_tensor(p.clone(), mesh, [Shard(0)])) for p in _full_params()
    ]
    opt = VRAdam(dparams, **HP)
    detas = []
    for grads in _grad_seq():
        for p, g in zip(dparams, grads):
            p.grad = distribute_tensor(g.clone(), mesh, [Shard(0)])
        opt.step()
        detas.append(opt.param_groups[0]["effective_lr"].item())
    results["dtensor"] = [p.detach().full_tensor() for p in dparams]
    results["dtensor_etas"] = detas
    results["dtensor_calls"] = list(calls)

    # 3. DDP: replicated parameters, each rank sees half of every batch.
    dist.all_reduce = original
    model = torch.nn.parallel.DistributedDataParallel(_ddp_model())
    mopt = VRAdam(model.parameters(), **HP)
    for x, y in _ddp_data():
        mopt.zero_grad()
        xs, ys = x.chunk(WORLD)[rank], y.chunk(WORLD)[rank]
        torch.nn.functional.mse_loss(model(xs), ys).backward()
        mopt.step()
    results["ddp"] = [p.detach() for p in model.module.parameters()]

    # 4. ZeroRedundancyOptimizer: each rank's local VRAdam steps a shard of the parameters.
    # With optimizer_class=functools.partial(VRAdam, process_group=...) the norm is global;
    # without it each rank gates on its own shard, and VRAdam warns.
    import functools
    import warnings

    from torch.distributed.optim import ZeroRedundancyOptimizer

    for name, optimizer_class in (
        ("zero", functools.partial(VRAdam, process_group=dist.group.WORLD)),
        ("zero_plain", VRAdam),
    ):
        zparams = [torch.nn.Parameter(p.clone()) for p in _full_params()]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            zero = ZeroRedundancyOptimizer(zparams, optimizer_class=optimizer_class, **HP)
        results[f"{name}_warnings"] = [str(w.message) for w in caught]
        zetas = []
        for grads in _grad_seq():
            for p, g in zip(zparams, grads):
                p.grad = g.clone()
            zero.step()
            zetas.append(zero.optim.param_groups[0]["effective_lr"].item())
        results[name] = [p.detach().clone() for p in zparams]
        results[f"{name}_etas"] = zetas
        results[f"{name}_local"] = len(zero.optim.param_groups[0]["params"])

    torch.save(results, f"{out_file}.{rank}")
    dist.barrier()
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def rank_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    # Spawned workers re-run the parent's __main__ module; after an AppTest that is a page
    # script. Hand them an empty __main__ so they import only this test module.
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        mp.spawn(_worker, args=(str(tmp / "init"), str(tmp / "out")), nprocs=WORLD, join=True)
    finally:
        sys.modules["__main__"] = saved
    return [torch.load(tmp / f"out.{r}", weights_only=False) for r in range(WORLD)]


@pytest.fixture(scope="module")
def single():
    return _single_process()


def test_hand_sharded_equals_single_process(rank_results, single):
    full, etas, _ = single
    for i, ref in enumerate(full):
        got = torch.cat([rank_results[r]["sharded"][i] for r in range(WORLD)])
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-10)
    for r in range(WORLD):
        torch.testing.assert_close(
            torch.tensor(rank_results[r]["sharded_etas"]), torch.tensor(etas), rtol=1e-12, atol=0
        )
    # The gate varies over the run, so equality is not trivially the unclipped α0.
    assert min(etas) < 0.5 * HP["lr"] and max(etas) > 0.9 * HP["lr"]


def test_one_scalar_all_reduce_per_step(rank_results):
    for r in range(WORLD):
        assert rank_results[r]["sharded_calls"] == [1] * STEPS
        assert rank_results[r]["dtensor_calls"] == [1] * STEPS


def test_dtensor_equals_single_process(rank_results, single):
    full, etas, _ = single
    for r in range(WORLD):
        for got, ref in zip(rank_results[r]["dtensor"], full):
            torch.testing.assert_close(got, ref, rtol=0, atol=1e-10)
        torch.testing.assert_close(
            torch.tensor(rank_results[r]["dtensor_etas"]), torch.tensor(etas), rtol=1e-12, atol=0
        )


def test_ddp_replicated_works_unchanged(rank_results, single):
    _, _, model_params = single
    for r in range(WORLD):
        for got, ref in zip(rank_results[r]["ddp"], model_params):
            torch.testing.assert_close(got, ref, rtol=0, atol=1e-10)


def test_zero_redundancy_optimizer_with_a_process_group_equals_single_process(rank_results, single):
    """ZeRO gives each rank a shard of the parameters; its local VRAdam built as
    functools.partial(VRAdam, process_group=WORLD) sums ‖v‖² across ranks and equals one
    process. Built without it, each rank gates on its own shard: VRAdam warns, and the run
    differs."""
    full, etas, _ = single
    assert sorted(rank_results[r]["zero_local"] for r in range(WORLD)) != [0, len(full)]
    for r in range(WORLD):
        assert not any("ZeroRedundancyOptimizer" in w for w in rank_results[r]["zero_warnings"])
        for got, ref in zip(rank_results[r]["zero"], full, strict=True):
            torch.testing.assert_close(got, ref, rtol=0, atol=1e-10)
        torch.testing.assert_close(
            torch.tensor(rank_results[r]["zero_etas"]), torch.tensor(etas), rtol=1e-12, atol=0
        )
        (warning,) = [w for w in rank_results[r]["zero_plain_warnings"] if "ZeroRed" in w]
        assert "functools.partial(VRAdam, process_group=" in warning
        diff = max((got - ref).abs().max().item()
                   for got, ref in zip(rank_results[r]["zero_plain"], full))  # fmt: skip
        assert diff > 1e-6
