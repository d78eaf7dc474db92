"""VRAdam and VRMomentum against plain float64 references, AdamW and torch conventions."""

from __future__ import annotations

import copy
import io
import math
import re
import subprocess
import sys

import pytest
import torch
from optimizer_table import BAD_CLASS, GATE_OFF, LOADS, ROW
from reference_impl import random_grad_seq, vradam_reference, vrmomentum_reference

from vradam import VRAdam, VRMomentum, effective_lr
from vradam.functional import adam_apply_, momentum_apply_

SHAPES = [[(4, 3), (3,)], [(5,), (2, 2, 2)]]  # two param groups


def _make_params(shapes_per_group, seed=1, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return [
        [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype)) for s in shapes]
        for shapes in shapes_per_group
    ]


def _run_class(cls, groups_hp, params, grad_seq, **kwargs):
    groups = [dict(hp, params=ps) for hp, ps in zip(groups_hp, params)]
    opt = cls(groups, **kwargs)
    etas, norms = [], []
    for grads in grad_seq:
        for ps, gs in zip(params, grads):
            for p, g in zip(ps, gs):
                p.grad = g.clone().to(p.dtype)
        opt.step()
        etas.append([float(g["effective_lr"]) for g in opt.param_groups])
        norms.append(float(opt.param_groups[0]["velocity_sq_norm"]))
    return opt, etas, norms


def _assert_as_reference(params, ref_theta, etas, norms) -> None:
    """Parameters within 1e-10 of the reference's; η_t and ‖v‖² (each a (run, reference)
    pair of per-step lists) to 1e-12 relative."""
    for ps, ref_ps in zip(params, ref_theta):
        for p, r in zip(ps, ref_ps):
            torch.testing.assert_close(p.detach(), r, rtol=0, atol=1e-10)
    for ours, theirs in (etas, norms):
        torch.testing.assert_close(torch.tensor(ours), torch.tensor(theirs), rtol=1e-12, atol=0)


VRADAM_GROUPS = [
    dict(lr=0.02, betas=(0.9, 0.999), beta3=0.5, alpha1=3.0, eps=1e-8, weight_decay=0.05),
    dict(lr=0.05, betas=(0.8, 0.99), beta3=2.0, alpha1=10.0, eps=1e-6, weight_decay=0.0),
]


KERNELS = {"loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("maximize", [False, True])
def test_vradam_matches_reference(kernel, maximize):
    steps = 120
    grad_seq = random_grad_seq(SHAPES, steps, seed=3)
    params = _make_params(SHAPES)
    ref_groups = [dict(hp, params=ps) for hp, ps in zip(VRADAM_GROUPS, params)]
    ref_theta, ref_etas, ref_norms = vradam_reference(ref_groups, grad_seq, maximize=maximize)

    _, etas, norms = _run_class(
        VRAdam, VRADAM_GROUPS, params, grad_seq, maximize=maximize, **KERNELS[kernel]
    )
    _assert_as_reference(params, ref_theta, (etas, ref_etas), (norms, ref_norms))

    # The test exercises both regimes of the gate: clip hit on some steps, not on others.
    clipped = [[hp["beta3"] * s >= hp["alpha1"] for hp in VRADAM_GROUPS] for s in ref_norms]
    assert any(c[0] for c in clipped) and not all(c[0] for c in clipped)
    assert any(c[1] for c in clipped) and not all(c[1] for c in clipped)


VRMOM_GROUPS = [
    dict(lr=0.05, beta1=0.9, beta3=0.5, alpha1=3.0, weight_decay=0.05),
    dict(lr=0.02, beta1=0.7, beta3=2.0, alpha1=10.0, weight_decay=0.0),
]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
def test_vrmomentum_matches_reference(foreach, maximize):
    grad_seq = random_grad_seq(SHAPES, 120, seed=4)
    params = _make_params(SHAPES)
    ref_groups = [dict(hp, params=ps) for hp, ps in zip(VRMOM_GROUPS, params)]
    ref_theta, ref_etas, ref_norms = vrmomentum_reference(ref_groups, grad_seq, maximize=maximize)
    _, etas, norms = _run_class(
        VRMomentum, VRMOM_GROUPS, params, grad_seq, foreach=foreach, maximize=maximize
    )
    _assert_as_reference(params, ref_theta, (etas, ref_etas), (norms, ref_norms))
    clipped = [VRMOM_GROUPS[0]["beta3"] * s >= VRMOM_GROUPS[0]["alpha1"] for s in ref_norms]
    assert any(clipped) and not all(clipped)


def _train(model, opt, steps, seed=0, scheduler=None):
    gen = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    for _ in range(steps):
        x = torch.randn(16, 6, generator=gen, dtype=dtype)
        y = torch.randn(16, 2, generator=gen, dtype=dtype)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def _model(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).to(
        dtype
    )


GATE_OFF_CASES = [(r, settings) for r in GATE_OFF for settings in r.gate_off[1]]


@pytest.mark.parametrize(
    ("row", "settings"),
    GATE_OFF_CASES,
    ids=[f"{r.key}-{i}" for i, (r, _) in enumerate(GATE_OFF_CASES)],
)
@pytest.mark.parametrize("foreach", [False, True])
def test_gate_off_is_its_twin_bit_for_bit(row, settings, foreach):
    """beta3 = 0: VRAdam is AdamW, VRMomentum is EMA momentum, bit for bit."""
    twin_class = row.gate_off[0]
    a, b = _model(), _model()
    opt = row.torch_class(a.parameters(), beta3=0.0, foreach=foreach, **settings)
    twin = twin_class(b.parameters(), foreach=foreach, **settings)
    _train(a, opt, 60)
    _train(b, twin, 60)
    for p, q in zip(a.parameters(), b.parameters()):
        # Same operations in the same order: identical, not merely close.
        assert torch.equal(p, q)
    assert opt.param_groups[0]["effective_lr"].item() == twin.param_groups[0]["lr"]


def test_beta3_zero_is_adamw_with_defaults_after_load():
    """An AdamW checkpoint loads into VRAdam(beta3=0) and continues identically."""
    a, b = _model(), _model()
    opt_w = torch.optim.AdamW(b.parameters())
    _train(b, opt_w, 10)
    a.load_state_dict(b.state_dict())
    opt_v = VRAdam(a.parameters(), beta3=0.0, alpha1=2.0)
    opt_v.load_state_dict(copy.deepcopy(opt_w.state_dict()))  # as saved: no beta3, no alpha1
    assert opt_v.param_groups[0]["beta3"] == 0.0 and opt_v.param_groups[0]["alpha1"] == 2.0
    _train(a, opt_v, 10, seed=1)
    _train(b, opt_w, 10, seed=1)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_foreach_matches_for_loop(cls):
    a, b = _model(), _model()
    opt_a = cls(a.parameters(), lr=0.05, foreach=False)
    opt_b = cls(b.parameters(), lr=0.05, foreach=True)
    _train(a, opt_a, 80)
    _train(b, opt_b, 80)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)


def test_tensor_lr_path_matches_float_path():
    """The accelerator path (η as a 0-dim tensor, no host reads) equals the float path."""
    gen = torch.Generator().manual_seed(0)
    shapes = [(7, 3), (5,), (2, 2)]
    for foreach in (False, True):
        for weight_decay in (0.0, 0.1):
            params = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
            v = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
            m = [torch.rand(s, generator=gen, dtype=torch.float64) for s in shapes]
            steps = [torch.tensor(3.0), torch.tensor(3.0), torch.tensor(7.0)]
            p_float = [p.clone() for p in params]
            p_tensor = [p.clone() for p in params]
            kw = dict(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay)
            adam_apply_(p_float, v, m, steps, lr=0.0123, foreach=foreach, **kw)
            adam_apply_(
                p_tensor, v, m, steps, lr=torch.tensor(0.0123, dtype=torch.float64),
                foreach=foreach, **kw,
            )  # fmt: skip
            for x, y in zip(p_float, p_tensor):
                torch.testing.assert_close(x, y, rtol=1e-14, atol=1e-15)
            q_float = [p.clone() for p in params]
            q_tensor = [p.clone() for p in params]
            momentum_apply_(q_float, v, lr=0.0123, weight_decay=weight_decay, foreach=foreach)
            momentum_apply_(
                q_tensor, v, lr=torch.tensor(0.0123, dtype=torch.float64),
                weight_decay=weight_decay, foreach=foreach,
            )  # fmt: skip
            for x, y in zip(q_float, q_tensor):
                torch.testing.assert_close(x, y, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
@pytest.mark.parametrize("foreach", [False, True])
def test_step_on_meta_device_never_reads_values(cls, foreach):
    """On `meta`, .item()/float()/bool() raise: a step that runs there never syncs."""
    params = [torch.nn.Parameter(torch.empty(4, 3, device="meta")) for _ in range(3)]
    params.append(torch.nn.Parameter(torch.empty(5, device="meta", dtype=torch.bfloat16)))
    for p in params:
        p.grad = torch.empty_like(p)
    opt = cls(
        [{"params": params[:2]}, {"params": params[2:], "lr": 0.5}],
        weight_decay=0.1,
        foreach=foreach,
    )
    for _ in range(2):
        opt.step()
    group = opt.param_groups[0]
    assert group["effective_lr"].device.type == "meta"
    assert group["velocity_sq_norm"].device.type == "meta"
    assert group["velocity_sq_norm"].dtype == torch.float32
    with pytest.raises(Exception):  # noqa: B017 - the point is that reading fails on meta
        group["effective_lr"].item()


def test_foreach_default_is_for_loop_on_cpu():
    model = _model()
    opt = VRAdam(model.parameters())
    assert opt.param_groups[0]["foreach"] is None
    from vradam.functional import default_foreach

    assert default_foreach(list(model.parameters())) is False


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(("cls", "kwargs", "message"), BAD_CLASS)
def test_constructors_reject_bad_hyperparameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_wide_hyperparameters_are_valid():
    """Stability studies need large values: lr = 46, alpha1 = 1e9 or inf, beta3 = 0."""
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = VRAdam([p], lr=46.0, beta3=0.0, alpha1=float("inf"))
    p.grad = torch.ones(2, dtype=torch.float64)
    opt.step()
    assert opt.param_groups[0]["effective_lr"].item() == 46.0
    VRMomentum([p], lr=46.0, alpha1=1e9)


# ----------------------------------------------------------------------------- conventions


def test_state_is_lazy_and_named_like_torch():
    model = _model()
    opt = VRAdam(model.parameters())
    assert len(opt.state) == 0
    _train(model, opt, 1)
    state = opt.state[next(model.parameters())]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["step"].device.type == "cpu" and state["step"].item() == 1.0
    mom = VRMomentum(model.parameters())
    _train(model, mom, 1)
    assert set(mom.state[next(model.parameters())]) == {"step", "exp_avg"}


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_state_dict_round_trip_continues_identically(cls):
    a = _model()
    opt_a = cls(a.parameters(), lr=0.02)
    _train(a, opt_a, 15)
    buffer = io.BytesIO()
    torch.save({"model": a.state_dict(), "opt": opt_a.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    b = _model(seed=99)
    b.load_state_dict(saved["model"])
    opt_b = cls(b.parameters(), lr=0.7)  # hyperparameters come back from the state dict
    opt_b.load_state_dict(saved["opt"])
    assert opt_b.param_groups[0]["lr"] == 0.02

    _train(a, opt_a, 15, seed=5)
    _train(b, opt_b, 15, seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_setstate_fills_options_added_later():
    model = _model()
    opt = VRAdam(model.parameters())
    _train(model, opt, 2)
    state = opt.__getstate__()
    state = copy.deepcopy(state)
    for group in state["param_groups"]:
        for key in ("maximize", "foreach", "beta3", "alpha1"):
            group.pop(key)
    for s in state["state"].values():
        s["step"] = float(s["step"])
    assert "_process_group" not in state  # pickling drops it; __setstate__ restores it
    fresh = VRAdam.__new__(VRAdam)
    fresh.__setstate__(state)
    group = fresh.param_groups[0]
    assert group["maximize"] is False and group["foreach"] is None
    assert group["beta3"] == 1.0 and group["alpha1"] == 10.0
    assert fresh._process_group is None
    assert all(torch.is_tensor(s["step"]) for s in fresh.state.values())


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_closure_runs_with_grad_and_returns_loss(cls):
    model = _model()
    opt = cls(model.parameters())
    x = torch.randn(4, 6, dtype=torch.float64)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        return loss

    before = [p.detach().clone() for p in model.parameters()]
    loss = opt.step(closure)
    assert calls == [True]
    assert torch.is_tensor(loss) and loss.ndim == 0
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_params_without_grad_are_skipped(cls):
    used = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    unused = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = cls([used, unused], weight_decay=0.1)
    used.grad = torch.full((3,), 0.5, dtype=torch.float64)
    opt.step()
    assert torch.equal(unused, torch.ones(3, dtype=torch.float64))
    assert unused not in opt.state
    # The norm covers the parameters that stepped: v = (1-β1)·0.5 on three coordinates.
    beta1 = 0.9
    expected = 3 * ((1 - beta1) * 0.5) ** 2
    assert opt.param_groups[0]["velocity_sq_norm"].item() == pytest.approx(expected, rel=1e-12)


def test_no_grads_at_all_is_a_no_op():
    p = torch.nn.Parameter(torch.ones(3))
    opt = VRAdam([p])
    assert opt.step() is None
    assert torch.equal(p, torch.ones(3))


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_sparse_gradients_are_rejected(cls):
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        cls(emb.parameters()).step()


def test_norm_is_global_across_param_groups():
    """Group 0's η depends on group 1's velocity, and each group uses its own lr/β3/α1."""
    a = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = VRAdam(
        [{"params": [a], "lr": 0.1, "beta3": 1.0}, {"params": [b], "lr": 0.2, "beta3": 3.0}],
        alpha1=1e6,
    )
    a.grad = torch.tensor([1.0, 0.0], dtype=torch.float64)
    b.grad = torch.tensor([0.0, 20.0], dtype=torch.float64)
    opt.step()
    s = (0.1 * 1.0) ** 2 + (0.1 * 20.0) ** 2
    g0, g1 = opt.param_groups
    assert g0["velocity_sq_norm"].item() == pytest.approx(s, rel=1e-12)
    assert g1["velocity_sq_norm"] is g0["velocity_sq_norm"]
    assert g0["effective_lr"].item() == pytest.approx(0.1 / (1 + s), rel=1e-12)
    assert g1["effective_lr"].item() == pytest.approx(0.2 / (1 + 3 * s), rel=1e-12)


def test_gate_bounds_and_halving():
    """η ∈ [α0/(1+α1), α0]; η = α0/2 at ‖v‖ = 1/√β3; floor once β3‖v‖² ≥ α1."""
    lr, beta3, alpha1 = 0.1, 4.0, 10.0
    s = torch.logspace(-6, 6, 200, dtype=torch.float64)
    eta = effective_lr(lr, s, beta3, alpha1)
    assert torch.all(eta <= lr) and torch.all(eta >= lr / (1 + alpha1) * (1 - 1e-15))
    assert effective_lr(lr, 1 / beta3, beta3, alpha1) == pytest.approx(lr / 2)
    assert effective_lr(lr, alpha1 / beta3 * 5, beta3, alpha1) == pytest.approx(lr / (1 + alpha1))
    # tensor and float forms agree
    for x in (0.0, 0.3, 2.5, 1e3):
        t = effective_lr(lr, torch.tensor(x, dtype=torch.float64), beta3, alpha1).item()
        assert t == pytest.approx(effective_lr(lr, x, beta3, alpha1), rel=1e-15)


def test_low_precision_norm_accumulates_in_float32():
    # n·v² ≈ 257, halfway between the bf16 neighbours 256 and 258.
    n = 189_105
    p = torch.nn.Parameter(torch.zeros(n, dtype=torch.bfloat16))
    opt = VRAdam([p], beta3=0.0)
    p.grad = torch.full((n,), 0.37, dtype=torch.bfloat16)
    opt.step()
    v = opt.state[p]["exp_avg"].double()
    exact = float((v**2).sum())
    s = opt.param_groups[0]["velocity_sq_norm"]
    assert s.dtype == torch.float32
    assert s.item() == pytest.approx(exact, rel=1e-3)
    # A norm held in bf16 is off by ~4e-3 here.
    naive = torch.linalg.vector_norm(opt.state[p]["exp_avg"]).square().item()
    assert abs(naive - exact) / exact > 2e-3
    # fp16: ‖v‖² ≈ 1e5 is past float16's largest value (65504), finite in float32.
    q = torch.nn.Parameter(torch.zeros(100_000, dtype=torch.float16))
    opt = VRAdam([q])
    q.grad = torch.full((100_000,), 10.0, dtype=torch.float16)
    opt.step()
    s = opt.param_groups[0]["velocity_sq_norm"]
    exact = float((opt.state[q]["exp_avg"].double() ** 2).sum())
    assert s.dtype == torch.float32 and exact > 65504
    assert s.item() == pytest.approx(exact, rel=1e-5)
    assert torch.isfinite(q).all()


def test_complex_parameters_follow_adamw():
    gen = torch.Generator().manual_seed(0)
    init = torch.randn(5, dtype=torch.complex128, generator=gen)
    a = torch.nn.Parameter(init.clone())
    b = torch.nn.Parameter(init.clone())
    opt_v = VRAdam([a], lr=0.01, beta3=0.0)
    opt_w = torch.optim.AdamW([b], lr=0.01)
    for _ in range(10):
        g = torch.randn(5, dtype=torch.complex128, generator=gen)
        a.grad, b.grad = g.clone(), g.clone()
        opt_v.step()
        opt_w.step()
    assert torch.equal(a, b)
    # With the gate on, ‖v‖² counts real and imaginary parts.
    opt_g = VRAdam([a], lr=0.01)
    a.grad = torch.full((5,), 1 + 1j, dtype=torch.complex128)
    opt_g.step()
    assert opt_g.param_groups[0]["velocity_sq_norm"].item() == pytest.approx(5 * 2 * 0.1**2)


def test_non_finite_gradients_propagate_like_adamw():
    for cls in (VRAdam, torch.optim.AdamW):
        p = torch.nn.Parameter(torch.ones(3))
        opt = cls([p])
        p.grad = torch.tensor([1.0, float("inf"), 0.0])
        opt.step()  # no exception, no silent clipping
        assert not torch.isfinite(p).all()


def test_tensor_lr_is_accepted():
    a, b = _model(), _model()
    opt_a = VRAdam(a.parameters(), lr=torch.tensor(0.01, dtype=torch.float64))
    opt_b = VRAdam(b.parameters(), lr=0.01)
    _train(a, opt_a, 10)
    _train(b, opt_b, 10)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- schedulers


SCHEDULERS = {
    "step": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
    "cosine": lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30),
    "onecycle": lambda opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.05, total_steps=40, cycle_momentum=True
    ),
    "cyclic": lambda opt: torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.005, max_lr=0.05, step_size_up=6, base_momentum=0.8, max_momentum=0.95
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_schedulers_move_alpha0_and_the_gate_divides_it(name):
    # beta3 = 0: VRAdam + scheduler is AdamW + scheduler, betas cycling included.
    a, b = _model(), _model()
    opt_v = VRAdam(a.parameters(), lr=0.01, beta3=0.0)
    opt_w = torch.optim.AdamW(b.parameters(), lr=0.01)
    _train(a, opt_v, 35, scheduler=SCHEDULERS[name](opt_v))
    _train(b, opt_w, 35, scheduler=SCHEDULERS[name](opt_w))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)

    # beta3 > 0: each step's η_t is the scheduled α0 divided by the gate.
    model = _model()
    opt = VRAdam(model.parameters(), lr=0.01, beta3=5.0, alpha1=4.0)
    sched = SCHEDULERS[name](opt)
    gen = torch.Generator().manual_seed(0)
    lrs, betas_seen = [], set()
    for _ in range(35):
        scheduled = opt.param_groups[0]["lr"]
        betas_seen.add(opt.param_groups[0]["betas"][0])
        x = torch.randn(16, 6, generator=gen, dtype=torch.float64)
        opt.zero_grad()
        (model(x).pow(2).mean() * 30).backward()
        opt.step()
        group = opt.param_groups[0]
        s = group["velocity_sq_norm"].item()
        assert group["effective_lr"].item() == pytest.approx(
            scheduled / (1 + min(5.0 * s, 4.0)), rel=1e-12
        )
        lrs.append(scheduled)
        sched.step()
    assert len(set(lrs)) > 3
    if name in ("onecycle", "cyclic"):
        assert len(betas_seen) > 3  # cycle_momentum moved betas[0]


@pytest.mark.slow  # 4.8 s
def test_import_without_web_stack():
    code = (
        "import sys, vradam.optim, vradam\n"
        "bad = [m for m in ('streamlit', 'plotly', 'scipy', 'sklearn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vrmomentum_step_bound_while_clip_inactive():
    """‖θ_t − θ_{t−1}‖ = η_t‖v_t‖ ≤ α0/(2√β3) whenever β3‖v‖² < α1 (no weight decay)."""
    lr, beta3 = 0.3, 2.0
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.zeros(6, dtype=torch.float64))
    opt = VRMomentum([p], lr=lr, beta1=0.5, beta3=beta3, alpha1=1e12)
    largest = 0.0
    for _ in range(400):
        scale = 10 ** float(torch.empty(()).uniform_(-2, 2, generator=gen))
        p.grad = scale * torch.randn(6, generator=gen, dtype=torch.float64)
        before = p.detach().clone()
        opt.step()
        largest = max(largest, float((p.detach() - before).norm()))
    bound = lr / (2 * math.sqrt(beta3))
    assert largest <= bound * (1 + 1e-12)
    assert largest > 0.9 * bound  # the bound is reached, so the check is not vacuous


@pytest.mark.parametrize("beta3", [1.0, 0.3])
def test_an_adamw_checkpoint_continues_as_the_constructed_vradam(beta3):
    """Keys the checkpoint lacks take the constructor's values, per group (two groups)."""
    model = _model()
    params = list(model.parameters())
    groups = [dict(params=params[:1]), dict(params=params[1:], lr=5e-3)]
    adamw = torch.optim.AdamW(groups)
    _train(model, adamw, 3)
    opt = VRAdam([dict(params=params[:1], alpha1=4.0), dict(params=params[1:])],
                 beta3=beta3, alpha1=7.0)  # fmt: skip
    opt.load_state_dict(adamw.state_dict())
    assert [g["beta3"] for g in opt.param_groups] == [beta3, beta3]
    assert [g["alpha1"] for g in opt.param_groups] == [4.0, 7.0]
    assert opt.param_groups[1]["lr"] == 5e-3  # the checkpoint's own values win
    _train(model, opt, 2)
    assert all(torch.isfinite(p).all() for p in params)


@pytest.mark.parametrize("row", GATE_OFF, ids=lambda r: r.key)
@pytest.mark.parametrize("foreach", [False, True])
def test_overflowing_velocity_norm(row, foreach):
    """‖v‖² = inf (gradients of 1e18 on 1e5 float32 elements): β3 = 0 is still the gate-off
    twin (AdamW, EMA momentum) bit for bit, β3 > 0 clips the gate at α1 (η = α0/(1 + α1));
    never NaN."""
    twin_class, lr, alpha1 = row.gate_off[0], 1e-3, 10.0
    grad = torch.full((100_000,), 1e18)
    ref = torch.nn.Parameter(torch.ones(100_000))
    twin = twin_class([ref], lr=lr, foreach=foreach)
    for _ in range(2):
        ref.grad = grad.clone()
        twin.step()
    for beta3, eta in ((0.0, lr), (1.0, lr / (1 + alpha1))):
        p = torch.nn.Parameter(torch.ones(100_000))
        opt = row.torch_class([p], lr=lr, beta3=beta3, alpha1=alpha1, foreach=foreach)
        for _ in range(2):
            p.grad = grad.clone()
            opt.step()
            assert torch.isinf(opt.param_groups[0]["velocity_sq_norm"])
            assert float(opt.param_groups[0]["effective_lr"]) == pytest.approx(eta)
        assert torch.isfinite(p).all()
        if beta3 == 0:
            assert torch.equal(p, ref)


def _checkpoint(opt) -> dict:
    """A state dict as a checkpoint holds it: saved and loaded back."""
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _groups(model, **kwargs) -> list[dict]:
    params = list(model.parameters())
    return [dict(params=params[:2], **kwargs), dict(params=params[2:], **kwargs)]


@pytest.mark.parametrize(("row", "load"), LOADS,
                         ids=[f"{load.source.__name__}-into-{r.key}-{i}"
                              for i, (r, load) in enumerate(LOADS)])  # fmt: skip
def test_state_dict_of_another_optimizer(row, load):
    """Options the saved groups lack take the constructor's values (per group, no patching);
    a continuation the row claims is bit for bit; a refused checkpoint loads nothing."""
    model = _model()
    source = load.source(_groups(model), **load.source_kwargs)
    _train(model, source, 3)
    twin_model = copy.deepcopy(model)
    twin = load.source(_groups(twin_model), **load.source_kwargs)
    twin.load_state_dict(_checkpoint(source))
    saved = _checkpoint(source)

    opt = row.torch_class(_groups(model), **load.kwargs)
    before = copy.deepcopy(opt.param_groups)
    if load.error is not None:
        with pytest.raises(ValueError, match=re.escape(load.error)):
            opt.load_state_dict(saved)
        assert len(opt.state) == 0
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in before]
        return
    opt.load_state_dict(saved)
    for group, mine, theirs in zip(opt.param_groups, before, saved["param_groups"], strict=True):
        for key, value in mine.items():
            if key not in ("params", "effective_lr", "velocity_sq_norm"):
                assert group[key] == theirs.get(key, value), key
    _train(model, opt, 5, seed=7)
    _train(twin_model, twin, 5, seed=7)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    if load.continues_as_source:
        for p, q in zip(model.parameters(), twin_model.parameters()):
            assert torch.equal(p, q)


# ----------------------------------------------------------------------------- beta3="auto"


def _auto_run(cls, scale: float, width: int, steps: int = 300, **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, width), torch.nn.Tanh(),
                                torch.nn.Linear(width, 1))  # fmt: skip
    opt = cls(model.parameters(), beta3="auto", **kwargs)
    x = torch.randn(256, 10)
    y = torch.sin(x.sum(1, keepdim=True))
    ratios = []
    for _ in range(steps):
        opt.zero_grad()
        (scale * (model(x) - y).square().mean()).backward()
        opt.step()
        ratios.append(float(opt.param_groups[0]["effective_lr"] / opt.param_groups[0]["lr"]))
    return opt, ratios


@pytest.mark.parametrize(("scale", "width"), [(1e-3, 32), (1.0, 32), (1e3, 32), (1.0, 256)])
@pytest.mark.slow  # 6 s, 4 cases
def test_beta3_auto_acts_early_and_releases_whatever_the_scale(scale, width):
    """Losses 10⁶ apart (‖v‖² 10¹² apart), two widths: the calibrated gate at least halves
    η within 40 steps of the calibration and is back above 0.9·α0 by step 300."""
    opt, ratios = _auto_run(VRAdam, scale, width, lr=1e-2, weight_decay=0.0)
    cal = opt.beta3_calibration
    assert cal.done and opt.param_groups[0]["beta3"] == cal.value > 0
    assert ratios[: cal.steps] == [1.0] * cal.steps  # gate off while measuring
    assert min(ratios[cal.steps : cal.steps + 40]) <= 0.5
    assert ratios[-1] >= 0.9


@pytest.mark.slow  # 2 s
def test_beta3_auto_values_follow_the_scale_and_survive_a_checkpoint():
    small, _ = _auto_run(VRAdam, 1e-3, 32, steps=25, lr=1e-2)
    large, _ = _auto_run(VRAdam, 1e3, 32, steps=25, lr=1e-2)
    assert small.beta3_calibration.value > 1e10 * large.beta3_calibration.value
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    resumed = VRAdam(model.parameters(), beta3=1.0)
    resumed.load_state_dict(large.state_dict())
    assert resumed.param_groups[0]["beta3"] == large.beta3_calibration.value
    mom, ratios = _auto_run(VRMomentum, 1.0, 32, steps=60, lr=0.05)
    assert mom.beta3_calibration.done and min(ratios[20:]) < 1.0


@pytest.mark.parametrize("bad", ["Auto", "", "1.0"])
def test_beta3_text_other_than_auto_is_refused(bad):
    with pytest.raises(ValueError, match='"auto"'):
        VRAdam([torch.nn.Parameter(torch.zeros(2))], beta3=bad)


@pytest.mark.parametrize("scheduler", ["onecycle", "cyclic"])
def test_vrmomentum_follows_cycle_momentum_schedulers(scheduler):
    """torch's cyclic schedulers drive VRMomentum's β1 through its "momentum" mirror."""
    model = _model()
    opt = VRMomentum(model.parameters(), lr=0.01, beta1=0.9)
    if scheduler == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.05, total_steps=20, base_momentum=0.8, max_momentum=0.95
        )
    else:
        sched = torch.optim.lr_scheduler.CyclicLR(
            opt, base_lr=0.01, max_lr=0.05, step_size_up=5, base_momentum=0.8, max_momentum=0.95
        )
    used = []
    for _ in range(12):
        _train(model, opt, 1)
        used.append(opt.param_groups[0]["beta1"])
        assert opt.param_groups[0]["beta1"] == opt.param_groups[0]["momentum"]
        sched.step()
    assert min(used) < 0.9 < max(used) or len(set(used)) > 3
    opt.param_groups[0]["beta1"] = 0.5  # a user's own change still wins
    _train(model, opt, 1)
    assert opt.param_groups[0]["momentum"] == 0.5


# ----------------------------------------------------------------------------- README claims
# (tests/optimizer_table.py's CLAIMS maps every claim of the README's optimizer section to
# the tests that check it; these are the ones no other test covered.)


def test_core_needs_only_torch_and_numpy():
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~ \[]", d)[0] for d in project["dependencies"]}
    assert names == {"torch", "numpy"}
    assert "streamlit" in " ".join(project["optional-dependencies"]["app"])


def test_signatures_are_the_documented_ones():
    import inspect

    assert str(inspect.signature(VRAdam)) == (
        "(params, lr: 'float | Tensor' = 0.001, betas: 'tuple[float, float]' = (0.9, 0.999), "
        "beta3: 'float | str' = 1.0, alpha1: 'float' = 10.0, eps: 'float' = 1e-08, "
        "weight_decay: 'float' = 0.01, *, maximize: 'bool' = False, "
        "foreach: 'bool | None' = None, capturable: 'bool' = False, "
        "differentiable: 'bool' = False, fused: 'bool | None' = None, "
        "process_group=None) -> 'None'"
    )
    defaults = {k: p.default for k, p in inspect.signature(VRMomentum).parameters.items()}
    assert defaults["lr"] == 1e-2 and defaults["beta1"] == 0.9 and defaults["beta3"] == 1.0
    assert defaults["alpha1"] == 10.0 and defaults["weight_decay"] == 0.0


def test_a_too_large_beta3_sits_at_the_floor():
    """The symptom the README names: effective_lr at lr/(1+alpha1) on every step."""
    model = _model()
    opt = VRAdam(model.parameters(), lr=0.01, beta3=1e9, alpha1=10.0)
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        opt.zero_grad()
        x = torch.randn(16, 6, generator=gen, dtype=torch.float64)
        model(x).pow(2).mean().backward()
        opt.step()
        assert opt.param_groups[0]["effective_lr"].item() == pytest.approx(0.01 / 11, rel=1e-12)


def test_tensor_lr_with_beta3_zero_is_adamw_bit_for_bit():
    """A Tensor lr (float32 or float64, with weight decay or not) goes through AdamW's own
    tensor arithmetic while the gate is off."""
    for lr_dtype in (torch.float32, torch.float64):
        for weight_decay in (0.0, 0.1):
            a, b = _model(dtype=torch.float32), _model(dtype=torch.float32)
            lr = dict(lr=torch.tensor(0.01, dtype=lr_dtype), weight_decay=weight_decay)
            opt_v = VRAdam(a.parameters(), beta3=0.0, **lr)
            opt_w = torch.optim.AdamW(b.parameters(), **lr)
            _train(a, opt_v, 20)
            _train(b, opt_w, 20)
            for p, q in zip(a.parameters(), b.parameters()):
                assert torch.equal(p, q), (lr_dtype, weight_decay)


def _published_loop_vradam():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "bench_optim.py"
    spec = importlib.util.spec_from_file_location("bench_optim", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PublishedLoopVRAdam


def test_the_published_per_group_norm_agrees_with_one_group():
    """The authors' loop (benchmarks/bench_optim.py) sums ‖v‖² per param group: with one
    group it is VRAdam; with two, VRAdam's global norm gives other steps."""
    published = _published_loop_vradam()
    for groups in (1, 2):
        a, b = _model(), _model()
        hp = dict(lr=0.02, beta3=5.0, alpha1=3.0, weight_decay=0.05)
        pa, pb = list(a.parameters()), list(b.parameters())
        split = [pa] if groups == 1 else [pa[:2], pa[2:]]
        opt_v = VRAdam([dict(params=ps) for ps in split], **hp)
        split = [pb] if groups == 1 else [pb[:2], pb[2:]]
        opt_p = published([dict(params=ps) for ps in split], **hp)
        _train(a, opt_v, 30)
        _train(b, opt_p, 30)
        diff = max((p - q).abs().max().item() for p, q in zip(pa, pb))
        if groups == 1:
            assert diff < 1e-12
        else:
            assert diff > 1e-6


def test_beta3_auto_is_two_over_the_peak_in_every_group():
    from vradam import calibrate
    from vradam.calibrate import Beta3Calibration

    model = _model()
    params = list(model.parameters())
    opt = VRAdam([dict(params=params[:2]), dict(params=params[2:], lr=0.02)], beta3="auto")
    norms = []
    for _ in range(10):
        _train(model, opt, 1)
        norms.append(opt.param_groups[0]["velocity_sq_norm"].item())
        assert [g["effective_lr"].item() for g in opt.param_groups] == [1e-3, 0.02]  # gate off
    value = float(f"{2 / max(norms):.2g}")
    assert opt.beta3_calibration.value == value
    assert [g["beta3"] for g in opt.param_groups] == [value, value]
    assert "this project's heuristic" in " ".join(calibrate.__doc__.split())
    # other step counts and targets, on VRMomentum
    other_model = _model(seed=1)
    other = VRMomentum(other_model.parameters(), beta3=7.0)
    cal = Beta3Calibration(other, steps=3, target=0.5)
    norms = []
    for _ in range(3):
        assert other.param_groups[0]["beta3"] == 0.0
        _train(other_model, other, 1)
        norms.append(other.param_groups[0]["velocity_sq_norm"].item())
    assert cal.done and cal.value == float(f"{0.5 / max(norms):.2g}") > 0
    assert other.param_groups[0]["beta3"] == cal.value


def test_cpu_velocities_are_views_of_one_flat_buffer():
    """Each group's exp_avg tensors are views of one flat tensor (shapes kept), ‖v‖² is their
    sum of squares, and after a checkpoint is loaded they are views of one buffer again."""
    model = torch.nn.Sequential(torch.nn.Linear(6, 300), torch.nn.Tanh(), torch.nn.Linear(300, 2))
    params = list(model.parameters())
    for foreach in (False, True):
        opt = VRAdam([dict(params=params[:2]), dict(params=params[2:])], foreach=foreach)
        _train(model.double(), opt, 3)
        for group in opt.param_groups:
            velocities = [opt.state[p]["exp_avg"] for p in group["params"]]
            assert [v.shape for v in velocities] == [p.shape for p in group["params"]]
            assert len({v.untyped_storage().data_ptr() for v in velocities}) == 1
        total = sum(float((opt.state[p]["exp_avg"] ** 2).sum()) for p in params)
        assert opt.param_groups[0]["velocity_sq_norm"].item() == pytest.approx(total, rel=1e-12)
        fresh = VRAdam([dict(params=params[:2]), dict(params=params[2:])], foreach=foreach)
        fresh.load_state_dict(copy.deepcopy(opt.state_dict()))
        _train(model, fresh, 1)
        velocities = [fresh.state[p]["exp_avg"] for p in params[:2]]
        assert len({v.untyped_storage().data_ptr() for v in velocities}) == 1
        assert velocities[0].untyped_storage().data_ptr() != (
            opt.state[params[0]]["exp_avg"].untyped_storage().data_ptr()
        )


def test_effective_lr_broadcasts_over_runs():
    norms = torch.tensor([0.0, 0.5, 2.0, float("inf")], dtype=torch.float64)
    lr = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    beta3 = torch.tensor([1.0, 2.0, 0.5, 1.0], dtype=torch.float64)
    eta = effective_lr(lr, norms, beta3, 3.0)
    expected = [0.1 / 1, 0.2 / 2, 0.3 / 2, 0.4 / 4]
    assert eta.shape == (4,) and eta.tolist() == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
@pytest.mark.parametrize("foreach", [False, True])
def test_flat_step_of_small_tensors_equals_tensor_by_tensor(cls, foreach, monkeypatch):
    """A CPU group of small tensors steps as a few operations on flat tensors: the same
    numbers, bit for bit, as the step tensor by tensor (maximize, weight decay, a Tensor lr,
    the gate on and off, and a parameter whose first gradient comes later, so that the step
    counts differ)."""
    import vradam.kernels.flat

    def run(flat: bool, **kwargs):
        monkeypatch.setattr(vradam.kernels.flat, "FLAT_STEP_MAX", 1 << 20 if flat else 0)
        model = _model(dtype=torch.float32)
        late = torch.nn.Parameter(torch.ones(5))
        opt = cls([*model.parameters(), late], foreach=foreach, **kwargs)
        gen = torch.Generator().manual_seed(3)
        for step in range(12):
            opt.zero_grad()
            x = torch.randn(16, 6, generator=gen)
            loss = model(x).pow(2).mean() + (late.sum() ** 2 if step >= 6 else 0)
            loss.backward()
            opt.step()
        buffers = opt._velocities.buffers(0)
        assert (buffers[0]._scratch is not None) == flat  # the flat step ran, or did not
        return [p.detach().clone() for p in opt.param_groups[0]["params"]]

    settings = [
        dict(lr=0.01, beta3=5.0, weight_decay=0.1),
        dict(lr=0.01, beta3=0.0, maximize=True),
        dict(lr=torch.tensor(0.01), beta3=0.0, weight_decay=0.1),
    ]
    for kwargs in settings:
        for p, q in zip(run(True, **kwargs), run(False, **kwargs), strict=True):
            assert torch.equal(p, q), kwargs
    # A tensor of 65,536 elements is not small: that group steps tensor by tensor.
    monkeypatch.undo()
    for numel, flat in ((65_535, True), (65_536, False)):
        p = torch.nn.Parameter(torch.zeros(numel))
        opt = cls([p], foreach=foreach)
        p.grad = torch.ones(numel)
        opt.step()
        assert (opt._velocities.buffers(0)[0]._scratch is not None) == flat


# ----------------------------------------------------------------------------- what users do
# to an optimizer: copies and resumes of beta3="auto", Tensor lr of any 1-element
# shape, non-finite gradients, β1 edits, edited and added groups, ZeRO, fused=True.


def _train_steps(model, opt, start, stop):
    """Steps start..stop-1, each on its own seeded batch, so a run can be cut and resumed."""
    dtype = next(model.parameters()).dtype
    for t in range(start, stop):
        gen = torch.Generator().manual_seed(1000 + t)
        x = torch.randn(16, 6, generator=gen, dtype=dtype)
        y = torch.randn(16, 2, generator=gen, dtype=dtype)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def _resumed(how, model, opt, cls):
    """(model, optimizer) continuing the run: by state_dict (through torch.save and
    torch.load(weights_only=True), into a new optimizer built as the first was), deepcopy or
    pickle."""
    import pickle

    if how == "deepcopy":
        return copy.deepcopy((model, opt))
    if how == "pickle":
        return pickle.loads(pickle.dumps((model, opt)))
    twin = copy.deepcopy(model)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    new = cls(twin.parameters(), lr=0.02, beta3="auto")
    new.load_state_dict(torch.load(buffer, weights_only=True))
    return twin, new


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
@pytest.mark.parametrize("how", ["state_dict", "deepcopy", "pickle"])
@pytest.mark.parametrize("cut", [4, 10, 16])
def test_beta3_auto_calibration_survives_state_dict_deepcopy_and_pickle(cls, how, cut):
    """Cut during the calibration (4), at its last step (10) or after it (16): the resumed run
    finishes the same calibration and equals the uninterrupted one bit for bit."""
    model = _model()
    opt = cls(model.parameters(), lr=0.02, beta3="auto")
    _train_steps(model, opt, 0, 25)
    assert opt.beta3_calibration.done and opt.param_groups[0]["beta3"] > 0

    cut_model = _model()
    cut_opt = cls(cut_model.parameters(), lr=0.02, beta3="auto")
    _train_steps(cut_model, cut_opt, 0, cut)
    seen = cut_opt.beta3_calibration.seen
    new_model, new_opt = _resumed(how, cut_model, cut_opt, cls)
    assert new_opt.beta3_calibration.seen == seen == min(cut, 10)
    _train_steps(new_model, new_opt, cut, 25)
    assert new_opt.beta3_calibration.value == opt.beta3_calibration.value
    assert new_opt.param_groups[0]["beta3"] == opt.param_groups[0]["beta3"]
    for p, q in zip(model.parameters(), new_model.parameters(), strict=True):
        assert torch.equal(p, q)
    # The copy taken mid-way did not move with the run it was taken from.
    if how == "state_dict" and cut == 4:
        assert cut_opt.beta3_calibration.seen == 4


def test_beta3_auto_state_dict_is_a_snapshot():
    model = _model()
    opt = VRAdam(model.parameters(), beta3="auto")
    _train_steps(model, opt, 0, 3)
    saved = opt.state_dict()
    _train_steps(model, opt, 3, 12)
    assert saved["param_groups"][0]["beta3_auto"]["seen"] == 3
    assert saved["param_groups"][0]["beta3_auto"]["value"] is None


def test_beta3_auto_keeps_explicit_group_values_and_calibrates_groups_added_later():
    model = _model()
    first, second, third, fourth = model.parameters()
    opt = VRAdam([dict(params=[first]), dict(params=[second], beta3=0.5)], beta3="auto")
    assert [g["beta3"] for g in opt.param_groups] == [0.0, 0.5]
    assert opt.param_groups[1]["beta3_auto"] is None
    _train_steps(model, opt, 0, 4)
    opt.add_param_group(dict(params=[third]))  # joins the calibration in progress
    assert opt.param_groups[2]["beta3"] == 0.0
    assert opt.param_groups[2]["beta3_auto"] is opt.param_groups[0]["beta3_auto"]
    eta = opt.param_groups[1]["effective_lr"].item()
    assert eta < 1e-3  # the explicit β3 = 0.5 gates while the others calibrate
    _train_steps(model, opt, 4, 10)
    value = opt.beta3_calibration.value
    assert value > 0 and [g["beta3"] for g in opt.param_groups] == [value, 0.5, value]
    opt.add_param_group(dict(params=[fourth]))  # after the calibration: its value
    assert opt.param_groups[3]["beta3"] == value
    opt.add_param_group(dict(params=[torch.nn.Parameter(torch.ones(2))], beta3=0.25))
    assert opt.param_groups[4]["beta3"] == 0.25
    # A group's own "auto" calibrates that group only.
    model = _model()
    first, *rest = model.parameters()
    opt = VRMomentum([dict(params=[first], beta3="auto"), dict(params=rest)], beta3=0.3)
    _train_steps(model, opt, 0, 10)
    assert opt.param_groups[0]["beta3"] == opt.beta3_calibration.value > 0
    assert opt.param_groups[1]["beta3"] == 0.3
    # "auto" written into a group later starts a calibration there.
    opt.param_groups[1]["beta3"] = "auto"
    _train_steps(model, opt, 10, 11)
    assert opt.param_groups[1]["beta3"] == opt.param_groups[0]["beta3"]  # the one done


def test_beta3_auto_diverging_window_warns_and_uses_the_finite_steps():
    def run(bad_steps):
        p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
        q = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
        opt = VRAdam([p, q], lr=0.01, beta3="auto")
        norms = []
        for t in range(10):
            p.grad = torch.full((3,), float(t + 1), dtype=torch.float64)
            q.grad = torch.full((2,), math.inf if t in bad_steps else 1.0, dtype=torch.float64)
            opt.step()
            norms.append(opt.param_groups[0]["velocity_sq_norm"].item())
            if t in bad_steps:  # the next step starts from a finite velocity again
                opt.state[q]["exp_avg"].zero_()
                opt.state[q]["exp_avg_sq"].zero_()
                q.data.fill_(1.0)
        return opt, norms

    opt, norms = run(set())
    assert opt.beta3_calibration.value == float(f"{2 / max(norms):.2g}")
    with pytest.warns(RuntimeWarning, match="2 of the 10 calibration steps had a non-finite"):
        opt, norms = run({8, 9})
    finite = [n for n in norms if math.isfinite(n)]
    assert len(finite) == 8 and opt.beta3_calibration.value == float(f"{2 / max(finite):.2g}")
    with pytest.warns(RuntimeWarning, match="β3 stays 0"):
        opt, _ = run(set(range(10)))
    assert opt.beta3_calibration.value == 0.0 == opt.param_groups[0]["beta3"]


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
@pytest.mark.parametrize("kernel", ["loop", "foreach", "flat"])
@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_tensor_lr_of_one_element_with_one_or_two_dims(cls, kernel, shape, monkeypatch):
    """A 1-element Tensor lr of any number of dimensions steps as a 0-dim one, bit for bit
    (torch's test_tensor_lr_num_dim_1/2); with β3 = 0 VRAdam still equals AdamW."""
    import vradam.kernels.flat

    if kernel != "flat":
        monkeypatch.setattr(vradam.kernels.flat, "FLAT_STEP_MAX", 0)
    foreach = kernel == "foreach"

    def run(lr, beta3=2.0, klass=cls):
        model = _model(dtype=torch.float32)
        kwargs = dict(beta3=beta3) if klass is not torch.optim.AdamW else {}
        opt = klass(model.parameters(), lr=lr, foreach=foreach, **kwargs)
        _train_steps(model, opt, 0, 8)
        return list(model.parameters()), opt

    ref, _ = run(torch.tensor(0.02))
    got, opt = run(torch.tensor(0.02).reshape(shape))
    assert all(torch.equal(p, q) for p, q in zip(got, ref, strict=True))
    assert opt.param_groups[0]["effective_lr"].shape == ()
    assert opt.param_groups[0]["lr"].shape == shape
    if cls is VRAdam and not foreach:  # AdamW refuses a Tensor lr with foreach=True
        twin, _ = run(torch.tensor(0.02).reshape(shape), klass=torch.optim.AdamW)
        got, _ = run(torch.tensor(0.02).reshape(shape), beta3=0.0)
        assert all(torch.equal(p, q) for p, q in zip(got, twin, strict=True))


@pytest.mark.parametrize(
    ("cls", "kernel"),
    [(VRAdam, "loop"), (VRAdam, "foreach"), (VRAdam, "fused"), (VRMomentum, "loop"),
     (VRMomentum, "foreach")],
)  # fmt: skip
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_one_non_finite_gradient_tensor_clips_the_gate_and_spares_the_others(cls, kernel, bad):
    """The rule: a non-finite ‖v‖² (one NaN or inf anywhere in the velocities) clips the gate
    at α1. The tensor with the bad gradient is lost as under AdamW; every other tensor steps
    at η = α0/(1 + α1) and stays finite, instead of every parameter turning NaN."""
    model = _model()
    params = list(model.parameters())
    opt = cls(params, lr=0.01, beta3=1.0, alpha1=4.0, **KERNELS[kernel])
    _train_steps(model, opt, 0, 3)
    before = [p.detach().clone() for p in params]
    states = copy.deepcopy([opt.state[p] for p in params])
    opt.zero_grad()
    model(torch.randn(4, 6, dtype=torch.float64)).square().mean().backward()
    params[1].grad[0] = bad
    grads = [p.grad.clone() for p in params]
    opt.step()
    assert opt.param_groups[0]["effective_lr"].item() == pytest.approx(0.01 / 5, rel=1e-15)
    assert not math.isfinite(opt.param_groups[0]["velocity_sq_norm"].item())
    assert not torch.isfinite(params[1]).all()  # as AdamW loses it
    # Every other tensor took the ungated-by-anything step at the floor rate, as a fresh
    # copy of the optimizer with that tensor left out and a gate clipped at α1 would.
    keep = [0, 2, 3]
    twins = [torch.nn.Parameter(before[i].clone()) for i in keep]
    twin = cls(twins, lr=0.01, beta3=1e30, alpha1=4.0, **KERNELS[kernel])
    for t, i in zip(twins, keep):
        twin.state[t] = copy.deepcopy(states[i])
        t.grad = grads[i]
    twin.step()
    for t, i in zip(twins, keep):
        assert torch.isfinite(params[i]).all()
        torch.testing.assert_close(params[i], t, rtol=1e-12, atol=1e-15)
    for _ in range(3):  # while the lost velocity is in the state, the gate stays at the floor
        for p in params:
            p.grad = torch.randn_like(p)
        opt.step()
    assert all(torch.isfinite(params[i]).all() for i in keep)
    assert opt.param_groups[0]["effective_lr"].item() == pytest.approx(0.01 / 5, rel=1e-15)


def test_vrmomentum_beta1_set_by_hand_before_the_first_step_wins():
    for make in (
        lambda ps: VRMomentum(ps, beta1=0.9),
        lambda ps: copy.deepcopy(VRMomentum(ps, beta1=0.9)),
        lambda ps: _loaded_vrmomentum(ps),
    ):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = make([p])
        if opt.param_groups[0]["params"][0] is not p:  # a deepcopy holds its own parameter
            p = opt.param_groups[0]["params"][0]
        opt.param_groups[0]["beta1"] = 0.5
        p.grad = torch.ones(3, dtype=torch.float64)
        opt.step()
        assert opt.param_groups[0]["beta1"] == opt.param_groups[0]["momentum"] == 0.5
        assert opt.state[p]["exp_avg"].tolist() == [0.5, 0.5, 0.5]
    # A scheduler's "momentum" written before the first step wins as before.
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = VRMomentum([p], beta1=0.9)
    opt.param_groups[0]["momentum"] = 0.8
    p.grad = torch.ones(3, dtype=torch.float64)
    opt.step()
    assert opt.param_groups[0]["beta1"] == 0.8
    assert opt.state[p]["exp_avg"].tolist() == pytest.approx([0.2] * 3, rel=1e-15)


def _loaded_vrmomentum(params):
    source = VRMomentum([torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))], beta1=0.9)
    opt = VRMomentum(params, beta1=0.7)
    opt.load_state_dict(source.state_dict())
    assert opt.param_groups[0]["beta1"] == 0.9
    return opt


@pytest.mark.parametrize(("cls", "kwargs", "message"), BAD_CLASS)
def test_added_and_edited_groups_are_checked_with_the_constructors_wording(cls, kwargs, message):
    """add_param_group refuses what the constructor refuses (and adds nothing); a value
    edited into param_groups later is refused by the next step() with the same words."""
    p = torch.nn.Parameter(torch.ones(3))
    opt = cls([p])
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.add_param_group(dict(params=[torch.nn.Parameter(torch.ones(2))], **kwargs))
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    saved = dict(group)
    group.update(kwargs)
    p.grad = torch.ones(3)
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.step()
    assert torch.equal(p, torch.ones(3))  # nothing stepped
    group.update(saved)
    opt.step()


def test_tensor_hyperparameters_on_the_cpu_are_read_as_numbers():
    """Tensor betas, beta3 and alpha1 (AdamW takes Tensor betas) of one element on the CPU
    step as the same Python numbers; other tensors are refused with a clear message."""
    a, b = _model(), _model()
    hp = dict(lr=0.02, betas=(0.8, 0.99), beta3=3.0, alpha1=4.0)
    as_tensors = dict(lr=torch.tensor(0.02, dtype=torch.float64),
                      betas=(torch.tensor(0.8), torch.tensor(0.99)),
                      beta3=torch.tensor(3.0), alpha1=torch.tensor([4.0]))  # fmt: skip
    opt_a = VRAdam(a.parameters(), **hp)
    opt_b = VRAdam(b.parameters(), **as_tensors)
    _train_steps(a, opt_a, 0, 5)
    _train_steps(b, opt_b, 0, 5)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-9)  # 0.8 and 0.99 in float32
    m = VRMomentum(_model().parameters(), beta1=torch.tensor(0.5), beta3=torch.tensor(1.0))
    _train_steps(_model(), m, 0, 1)
    p = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match="Tensor beta3 must be 1-element"):
        VRAdam(p, beta3=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"Tensor betas\[0\] must be on the CPU"):
        VRAdam(p, betas=(torch.tensor(0.9, device="meta"), 0.999))
    with pytest.raises(ValueError, match="Invalid alpha1 value: 'ten'"):
        VRAdam(p, alpha1="ten")


FUSED_GATE_OFF = [
    *ROW["vradam"].gate_off[1],
    dict(lr=0.02, maximize=True),
    dict(lr=torch.tensor(0.01), weight_decay=0.1),
]


@pytest.mark.parametrize("settings", FUSED_GATE_OFF)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_with_the_gate_off_is_fused_adamw_bit_for_bit(settings, dtype):
    """``VRAdam(fused=True, beta3=0)`` runs torch's fused AdamW kernel with AdamW's own lr,
    so the numbers are ``AdamW(fused=True)``'s bit for bit (two param groups)."""
    runs = []
    for cls, extra in ((VRAdam, dict(beta3=0.0)), (torch.optim.AdamW, {})):
        model = _model(dtype=dtype)
        first, *rest = model.parameters()
        groups = [dict(params=[first]), dict(params=rest, weight_decay=0.0)]
        opt = cls(groups, fused=True, **settings, **extra)
        _train_steps(model, opt, 0, 20)
        runs.append((list(model.parameters()), opt))
    (ours, opt), (theirs, adamw) = runs
    assert all(torch.equal(p, q) for p, q in zip(ours, theirs, strict=True))
    p = ours[0]
    assert opt.state[p]["step"].dtype == adamw.state[theirs[0]]["step"].dtype == torch.float32
    assert opt.param_groups[0]["velocity_sq_norm"].item() == pytest.approx(
        sum(float(opt.state[q]["exp_avg"].double().square().sum()) for q in ours), rel=1e-6
    )


@pytest.mark.parametrize("cls", [VRAdam, torch.optim.AdamW])
def test_fused_checkpoints_load_across_kernels(cls):
    """A fused run's checkpoint continues in a for-loop VRAdam (to rounding) and back; an
    AdamW(fused=True) checkpoint continues in VRAdam(fused=True, beta3=0) bit for bit."""
    model = _model(dtype=torch.float32)
    opt = cls(model.parameters(), lr=0.01, fused=True)
    _train_steps(model, opt, 0, 5)
    saved = copy.deepcopy(opt.state_dict())
    twin = copy.deepcopy(model)
    _train_steps(model, opt, 5, 15)
    if cls is torch.optim.AdamW:
        resumed = VRAdam(twin.parameters(), lr=0.01, beta3=0.0, fused=True)
        resumed.load_state_dict(saved)
        _train_steps(twin, resumed, 5, 15)
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))
        return
    resumed = VRAdam(twin.parameters(), lr=0.01, fused=False)
    resumed.load_state_dict(saved)
    resumed.param_groups[0]["fused"] = False
    _train_steps(twin, resumed, 5, 15)
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_fused_capturable_and_differentiable_are_refused_clearly_where_unsupported():
    p = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        VRAdam([p], fused=True, foreach=True)
    with pytest.raises(ValueError, match="does not support differentiable=True"):
        VRMomentum([p], differentiable=True)
    z = torch.nn.Parameter(torch.ones(3, dtype=torch.complex64))
    opt = VRAdam([z], fused=True)
    z.grad = torch.ones_like(z)
    with pytest.raises(RuntimeError, match="requires all the params to be floating point"):
        opt.step()
    for cls in (VRAdam, VRMomentum):  # capturable steps are for CUDA graphs (test_cuda.py)
        opt = cls([p], capturable=True)
        p.grad = torch.ones(3)
        with pytest.raises(RuntimeError, match=r"capturable=True.*Use capturable=False on the CPU"):
            opt.step()
        assert torch.equal(p, torch.ones(3))


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_deepcopy_keeps_every_public_attribute(cls):
    """torch's test_deepcopy_copies_all_public_attrs, here: a deepcopy (as a pickle) has the
    same public attributes, the β3 calibration included (it lives in the param groups)."""
    params = [torch.nn.Parameter(torch.randn(2, 3)) for _ in range(2)]
    opt = cls(params, beta3="auto")
    for p in params:
        p.grad = torch.rand_like(p)
    opt.step()

    def public(obj):
        return {k for k in obj.__dict__ if not k.startswith("_")}

    twin = copy.deepcopy(opt)
    assert public(twin) == public(opt)
    assert twin.beta3_calibration.seen == opt.beta3_calibration.seen == 1


@pytest.mark.parametrize("maximize", [False, True])
def test_fused_norm_of_large_and_small_tensors_equals_the_for_loop_kernel(maximize):
    """The fused kernel's ‖v_t‖² (small tensors in one batch, large ones one at a time through
    a scratch buffer) equals the for-loop kernel's, and so do the parameters, to rounding."""
    gen = torch.Generator().manual_seed(0)
    init = [torch.randn(s, generator=gen, dtype=torch.float64) for s in [(300, 250), (70,), (3, 5)]]
    runs = []
    for kwargs in (dict(fused=True), dict(foreach=False)):
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = VRAdam(params, lr=0.01, beta3=0.02, maximize=maximize, **kwargs)
        norms = []
        for step in range(6):
            g = torch.Generator().manual_seed(step)
            for p in params:
                p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * (1 + step)
            opt.step()
            norms.append(opt.param_groups[0]["velocity_sq_norm"].item())
        runs.append((params, norms, opt.param_groups[0]["effective_lr"].item()))
    (fused, fused_norms, fused_eta), (loop, loop_norms, loop_eta) = runs
    assert fused_norms == pytest.approx(loop_norms, rel=1e-12)
    assert fused_eta == pytest.approx(loop_eta, rel=1e-12) and fused_eta < 0.005
    for p, q in zip(fused, loop, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_fused_norm_from_the_last_step_follows_edits_loads_and_gate_off_steps():
    """The fused kernel's ‖v_t‖² starts from the last step's (β1²‖v‖² + 2β1(1−β1)⟨v,g⟩ +
    (1−β1)²‖g‖²): it stays equal to the for-loop kernel's, to rounding, over 40 steps through
    an in-place edit of a velocity, a velocity replaced by hand, a gate-off step (the kernel
    runs without phase 1), a parameter without a gradient, a state dict loaded, and β1 moved."""
    gen = torch.Generator().manual_seed(0)
    shapes = [(80, 60), (70,), (3, 5), (100, 50)]  # two tensors take the dots, two are tiny
    init = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    runs = {}
    for kwargs in (dict(fused=True), dict(foreach=False)):
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = VRAdam(params, lr=0.01, beta3=0.05, **kwargs)
        group, norms = opt.param_groups[0], []
        for step in range(40):
            g = torch.Generator().manual_seed(step)
            for p in params:
                p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * (1 + step % 7)
            if step == 5:
                opt.state[params[0]]["exp_avg"].mul_(0.5)  # edited in place
            if step == 9:
                opt.state[params[3]]["exp_avg"] = torch.ones(shapes[3], dtype=torch.float64)
            group["beta3"] = 0.0 if step == 14 else 0.05
            if step == 18:
                params[0].grad = None
            if step == 24:
                opt.load_state_dict(copy.deepcopy(opt.state_dict()))
                group = opt.param_groups[0]
            group["betas"] = (0.8, 0.999) if step >= 30 else (0.9, 0.999)
            opt.step()
            norms.append(group["velocity_sq_norm"].item())
        runs[str(kwargs)] = (params, norms, opt)
    (fused, fused_norms, opt), (loop, loop_norms, _) = runs.values()
    assert fused_norms == pytest.approx(loop_norms, rel=1e-11)
    for p, q in zip(fused, loop, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-11)
    assert opt._velocities.norm_memo(0, opt.param_groups[0]) is not None  # the memo is used


def test_fused_norm_by_the_identity_is_never_negative_where_velocity_cancels():
    """A gradient that cancels the velocity (g = −β1/(1−β1)·v, so v_t ≈ 0) leaves the three
    terms of β1²‖v‖² + 2β1(1−β1)⟨v,g⟩ + (1−β1)²‖g‖² cancelling to rounding, in float32: the
    fused kernel's ‖v_t‖² stays ≥ 0 (so η_t ≤ lr) and within rounding of the loop kernel's."""
    gen = torch.Generator().manual_seed(3)
    init = torch.randn(80, 60, generator=gen)
    first = torch.randn(80, 60, generator=gen)
    out = {}
    for kwargs in (dict(fused=True), dict(foreach=False)):
        p = torch.nn.Parameter(init.clone())
        opt = VRAdam([p], lr=0.01, beta3=1.0, **kwargs)
        p.grad = first.clone()
        opt.step()
        p.grad = -0.9 / 0.1 * opt.state[p]["exp_avg"].clone()
        opt.step()
        group = opt.param_groups[0]
        out[str(kwargs)] = (group["velocity_sq_norm"].item(), group["effective_lr"].item())
    (fused_sq, fused_eta), (loop_sq, _) = out.values()
    scale = (0.9 * 0.1) ** 2 * first.square().sum().item()  # β1²‖v‖², the cancelling terms
    assert 0.0 <= fused_sq and fused_eta <= 0.01
    assert abs(fused_sq - loop_sq) <= 1e-5 * scale
