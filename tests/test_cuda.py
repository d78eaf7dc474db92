"""CUDA checks: the same numbers as the CPU reference, and no host sync inside step(); the
fused kernel (bit for bit AdamW(fused=True) with the gate off) and capturable steps replayed
in a CUDA graph.

Runs only where a CUDA device exists (skips cleanly elsewhere). Imports torch and
the `vradam` core only, so the GPU machine can run it with its own python3:

    PYTHONPATH=. python3 -m pytest -o addopts= tests/test_cuda.py
"""

from __future__ import annotations

import pytest
import torch
from reference_impl import random_grad_seq, vradam_reference, vrmomentum_reference

from vradam import VRAdam, VRMomentum

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

SHAPES = [[(64, 33), (33,)], [(17,), (8, 4, 3)]]
VRADAM_GROUPS = [
    dict(lr=0.02, betas=(0.9, 0.999), beta3=0.05, alpha1=3.0, eps=1e-8, weight_decay=0.05),
    dict(lr=0.05, betas=(0.8, 0.99), beta3=0.2, alpha1=10.0, eps=1e-6, weight_decay=0.0),
]
VRMOM_GROUPS = [
    dict(lr=0.05, beta1=0.9, beta3=0.05, alpha1=3.0, weight_decay=0.05),
    dict(lr=0.02, beta1=0.7, beta3=0.2, alpha1=10.0, weight_decay=0.0),
]


def _params(dtype):
    gen = torch.Generator().manual_seed(1)
    return [
        [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes] for shapes in SHAPES
    ]


def _run(cls, groups_hp, init, grad_seq, dtype, **kwargs):
    params = [[torch.nn.Parameter(p.to("cuda", dtype)) for p in ps] for ps in init]
    opt = cls([dict(hp, params=ps) for hp, ps in zip(groups_hp, params)], **kwargs)
    for grads in grad_seq:
        for ps, gs in zip(params, grads):
            for p, g in zip(ps, gs):
                p.grad = g.to("cuda", dtype)
        torch.cuda.set_sync_debug_mode("error")
        try:
            opt.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return params, opt


KERNELS = {
    "loop": dict(foreach=False),
    "foreach": dict(foreach=True),
    "fused": dict(fused=True),
    "capturable": dict(foreach=True, capturable=True),
    "capturable-loop": dict(foreach=False, capturable=True),
    "capturable-fused": dict(fused=True, capturable=True),
}


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_vradam_cuda_matches_reference_without_sync(kernel, dtype):
    grad_seq = random_grad_seq(SHAPES, 60, seed=3)
    init = _params(dtype)
    ref, ref_etas, _ = vradam_reference(
        [dict(hp, params=ps) for hp, ps in zip(VRADAM_GROUPS, init)], grad_seq
    )
    params, opt = _run(VRAdam, VRADAM_GROUPS, init, grad_seq, dtype, **KERNELS[kernel])
    tol = dict(rtol=0, atol=1e-10) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    for ps, rs in zip(params, ref):
        for p, r in zip(ps, rs):
            torch.testing.assert_close(p.detach().double().cpu(), r, **tol)
    eta = opt.param_groups[0]["effective_lr"]
    assert eta.device.type == "cuda"
    assert float(eta) == pytest.approx(ref_etas[-1][0], rel=1e-4)


@pytest.mark.parametrize("foreach", [False, True])
def test_vrmomentum_cuda_matches_reference_without_sync(foreach):
    grad_seq = random_grad_seq(SHAPES, 60, seed=4)
    init = _params(torch.float64)
    ref, _, _ = vrmomentum_reference(
        [dict(hp, params=ps) for hp, ps in zip(VRMOM_GROUPS, init)], grad_seq
    )
    params, _ = _run(VRMomentum, VRMOM_GROUPS, init, grad_seq, torch.float64, foreach=foreach)
    for ps, rs in zip(params, ref):
        for p, r in zip(ps, rs):
            torch.testing.assert_close(p.detach().cpu(), r, rtol=0, atol=1e-10)


def test_foreach_is_the_default_on_cuda():
    from vradam.functional import default_foreach

    assert default_foreach([torch.zeros(2, device="cuda")]) is True


def test_beta3_zero_matches_adamw_on_cuda():
    torch.manual_seed(0)
    init = [torch.randn(32, 16, device="cuda"), torch.randn(16, device="cuda")]
    a = [torch.nn.Parameter(t.clone()) for t in init]
    b = [torch.nn.Parameter(t.clone()) for t in init]
    opt_v = VRAdam(a, lr=0.01, beta3=0.0)
    opt_w = torch.optim.AdamW(b, lr=0.01)
    for _ in range(30):
        grads = [torch.randn_like(t) for t in init]
        for p, q, g in zip(a, b, grads):
            p.grad, q.grad = g.clone(), g.clone()
        opt_v.step()
        opt_w.step()
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_bf16_parameters_norm_in_float32():
    p = torch.nn.Parameter(torch.zeros(100_000, device="cuda", dtype=torch.bfloat16))
    opt = VRAdam([p])
    p.grad = torch.full_like(p, 0.37)
    torch.cuda.set_sync_debug_mode("error")
    try:
        opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    s = opt.param_groups[0]["velocity_sq_norm"]
    assert s.dtype == torch.float32
    exact = float(opt.state[p]["exp_avg"].double().square().sum())
    assert float(s) == pytest.approx(exact, rel=1e-4)


def test_training_runs_on_cuda():
    from vradam.studies.training import TrainConfig, final_records, train_steps

    config = TrainConfig(task="digits", steps=30, device="cuda", sharpness_every=15)
    records = list(train_steps(config))
    last = final_records(records)
    first = {r["optimizer"]: r for r in records if r["step"] == 0}
    for i in range(len(config.optimizers)):
        assert last[i]["train_loss"] < first[i]["train_loss"]
    assert any("sharpness" in r for r in records)


@pytest.mark.parametrize("lr", [0.01, "tensor"])
def test_fused_beta3_zero_is_fused_adamw_bit_for_bit_on_cuda(lr):
    torch.manual_seed(0)
    init = [torch.randn(32, 16, device="cuda"), torch.randn(16, device="cuda")]
    a = [torch.nn.Parameter(t.clone()) for t in init]
    b = [torch.nn.Parameter(t.clone()) for t in init]
    rate = torch.tensor(0.01, device="cuda") if lr == "tensor" else lr
    opt_v = VRAdam(a, lr=rate, beta3=0.0, fused=True)
    opt_w = torch.optim.AdamW(b, lr=rate, fused=True)
    for _ in range(30):
        grads = [torch.randn_like(t) for t in init]
        for p, q, g in zip(a, b, grads):
            p.grad, q.grad = g.clone(), g.clone()
        opt_v.step()
        opt_w.step()
    for p, q in zip(a, b):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(VRAdam, dict(foreach=True)), (VRAdam, dict(foreach=False)), (VRAdam, dict(fused=True)),
     (VRMomentum, dict(foreach=True))],
)  # fmt: skip
def test_capturable_step_replays_in_a_cuda_graph(cls, kwargs):
    """capturable=True: the whole step (norm, gate, update) is captured in one CUDA graph and
    replayed on new gradients, equal to eager steps (the gate moves during the run)."""
    torch.manual_seed(0)
    init = [torch.randn(64, 33, device="cuda"), torch.randn(33, device="cuda")]
    grads = [[torch.randn_like(t) * (1 + 3 * (i % 4)) for t in init] for i in range(20)]
    hp = dict(lr=0.02, beta3=0.05, alpha1=3.0)

    eager = [torch.nn.Parameter(t.clone()) for t in init]
    opt_e = cls(eager, **hp, **kwargs)
    etas = []
    for gs in grads:
        for p, g in zip(eager, gs):
            p.grad = g.clone()
        opt_e.step()
        etas.append(float(opt_e.param_groups[0]["effective_lr"]))

    graphed = [torch.nn.Parameter(t.clone()) for t in init]
    for p in graphed:
        p.grad = torch.zeros_like(p)
    opt_g = cls(graphed, capturable=True, **hp, **kwargs)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up steps create the state outside the graph
        for gs in grads[:3]:
            for p, g in zip(graphed, gs):
                p.grad.copy_(g)
            opt_g.step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        opt_g.step()
    graph_etas = []
    for gs in grads[3:]:
        for p, g in zip(graphed, gs):
            p.grad.copy_(g)
        graph.replay()
        graph_etas.append(float(opt_g.param_groups[0]["effective_lr"]))
    for p, q in zip(graphed, eager):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.tensor(graph_etas), torch.tensor(etas[3:]), rtol=1e-5,
                               atol=0)  # fmt: skip
    assert min(etas) < 0.5 * hp["lr"] < max(etas)
