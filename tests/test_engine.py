"""The batched engine equals torch.optim (and VRAdam/VRMomentum, and published Lion) run by run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from optimizer_table import CASES

import landscapes
from vradam.sim import schedules
from vradam.sim.engine import grad_and_loss, hessians, simulate, top_eigenvalue
from vradam.sim.optimizers import REGISTRY, OptimizerSpec

LANDSCAPES = ["ill_conditioned", "himmelblau", "six_hump_camel"]
STARTS = {
    "ill_conditioned": [(-2.5, 2.0), (1.0, -2.0), (2.5, 2.5)],
    "himmelblau": [(-0.5, -0.5), (1.0, 1.0), (-4.0, 4.0)],
    "six_hump_camel": [(-2.0, -1.5), (1.5, 1.0), (0.5, -0.2)],
}
# The rows of tests/optimizer_table.py. Some settle into a bounded oscillation about a
# minimum (RMSprop on six_hump_camel near step 270) where a last-bit difference grows to
# the oscillation's size, so the reference takes its gradients where the engine does
# (grad_and_loss: forward-mode duals, which round differently from autograd in the last
# bit) and checks on the way that they equal autograd's to 1e-12: the comparison is then
# of the optimizer arithmetic alone, and exact to rounding.


def _torch_path(ls, start, steps, cls, kwargs, factors=None):
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = cls([p], **kwargs)
    sched = None
    if factors is not None:
        last = len(factors) - 1
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: float(factors[min(k, last)]))
    path = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        ls.fn(p[0], p[1]).backward()
        P = p.detach().numpy().copy().reshape(2, 1)
        _, gx, gy = grad_and_loss(ls.fn, P)
        g = np.array([gx[0], gy[0]])
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, atol=1e-12)
        p.grad.copy_(torch.from_numpy(g))
        opt.step()
        if sched is not None:
            sched.step()
        path.append(p.detach().clone())
    return torch.stack(path).numpy()


@pytest.fixture(autouse=True)
def _float64_scalars():
    # torch.optim keeps scalars such as NAdam's mu_product in the default dtype.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


# Adam on Himmelblau is slow: 1.9 s and 1.8 s (its first two cases).
ENGINE_CASES = [
    pytest.param(landscape, case, id=f"{landscape}-{case[0]}-{sorted(case[1].items())}",
                 marks=pytest.mark.slow if (landscape, case[0]) == ("himmelblau", "adam") else ())
    for landscape in LANDSCAPES
    for case in CASES
]  # fmt: skip


@pytest.mark.parametrize(("landscape", "case"), ENGINE_CASES)
def test_engine_equals_torch_optim(landscape, case):
    key, params, cls, kwargs = case
    ls = landscapes.get(landscape)
    starts = STARTS[landscape]
    (tr,) = simulate(ls, [OptimizerSpec(key, params)], starts, 300)
    assert (tr.diverged_at == -1).all()
    for i, start in enumerate(starts):
        ref = _torch_path(ls, start, 300, cls, kwargs)
        np.testing.assert_allclose(tr.xy[i], ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("schedule", ["cosine", "warmup_cosine", "step"])
@pytest.mark.parametrize(
    "case",
    [next(c for c in CASES if c[0] == k) for k in ("gd", "momentum", "adam", "vradam")],
    ids=lambda c: c[0],
)
def test_schedules_equal_lambda_lr(schedule, case):
    key, params, cls, kwargs = case
    ls = landscapes.get("himmelblau")
    steps = 200
    f = schedules.factors(schedule, steps)
    (tr,) = simulate(ls, [OptimizerSpec(key, params)], [ls.start], steps, schedule=schedule)
    ref = _torch_path(ls, ls.start, steps, cls, kwargs, factors=f)
    np.testing.assert_allclose(tr.xy[0], ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(tr.lr, params["lr"] * f)
    if key != "vradam":
        np.testing.assert_allclose(tr.effective_lr[0], params["lr"] * f)


def test_schedule_factors():
    assert schedules.factors("constant", 4).tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(
        schedules.factors("cosine", 4), [1, 0.8535533905932737, 0.5, 0.14644660940672627]
    )
    w = schedules.factors("warmup_cosine", 20)
    assert w[:2].tolist() == [0.5, 1.0] and w[2] == 1.0 and w[-1] < 0.01
    assert schedules.factors("step", 8).tolist() == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedules.factors("linear", 3)


def _lion_reference(ls, start, steps, lr, b1, b2, wd):
    theta = np.array(start, dtype=np.float64)
    m = np.zeros(2)
    path = [theta.copy()]
    for _ in range(steps):
        g = ls.gradient(theta)
        c = b1 * m + (1 - b1) * g
        theta = theta - lr * (np.sign(c) + wd * theta)
        m = b2 * m + (1 - b2) * g
        path.append(theta.copy())
    return np.array(path)


@pytest.mark.parametrize("wd", [0.0, 0.3])
def test_lion_equals_the_published_update(wd):
    ls = landscapes.get("himmelblau")
    starts = STARTS["himmelblau"]
    spec = OptimizerSpec("lion", dict(lr=0.01, weight_decay=wd))
    (tr,) = simulate(ls, [spec], starts, 300)
    for i, start in enumerate(starts):
        ref = _lion_reference(ls, start, 300, 0.01, 0.9, 0.99, wd)
        np.testing.assert_allclose(tr.xy[i], ref, rtol=0, atol=1e-9)


@pytest.mark.slow  # 1.5 s
def test_batched_equals_separate_runs():
    """K specs × N starts at once = every (spec, start) alone; VRAdam's norm is per run."""
    ls = landscapes.get("himmelblau")
    specs = [
        "vradam:lr=0.1,beta3=0.001,weight_decay=0",
        "vradam:lr=0.1,beta3=0.5",
        "adam:lr=0.05",
        "lion:lr=0.02",
        "momentum:lr=0.002",
        "vrmomentum:lr=0.05,beta3=0.01",
        "radam:lr=0.002",
        "nadam:lr=0.05",
        "gd:lr=0.05",  # diverges from some starts: frozen runs must match too
    ]
    starts = [(-0.5, -0.5), (1.0, 1.0), (-4.0, 4.0), (3.0, -3.0)]
    together = simulate(ls, specs, starts, 150)
    for k, spec in enumerate(specs):
        for i, start in enumerate(starts):
            (alone,) = simulate(ls, [spec], [start], 150)
            assert np.array_equal(together[k].xy[i], alone.xy[0])
            assert np.array_equal(
                together[k].effective_lr[i], alone.effective_lr[0], equal_nan=True
            )
            assert together[k].diverged_at[i] == alone.diverged_at[0]


def test_noise_is_seeded_and_shared_across_optimizers():
    ls = landscapes.get("quadratic")
    specs = ["adam:lr=0.05", "adam:lr=0.05", "gd:lr=0.05"]
    a = simulate(ls, specs, [ls.start, (1.0, 1.0)], 50, noise_std=0.5, seed=3)
    b = simulate(ls, specs, [ls.start, (1.0, 1.0)], 50, noise_std=0.5, seed=3)
    c = simulate(ls, specs, [ls.start, (1.0, 1.0)], 50, noise_std=0.5, seed=4)
    clean = simulate(ls, specs, [ls.start, (1.0, 1.0)], 50)
    assert np.array_equal(a[0].xy, b[0].xy)
    assert not np.array_equal(a[0].xy, c[0].xy)
    assert not np.array_equal(a[0].xy, clean[0].xy)
    assert np.array_equal(a[0].xy, a[1].xy)  # the same noise reaches every optimizer
    # the recorded gradient is ∇f itself, without the noise
    grads = ls.gradient(a[0].xy[:, :-1])
    np.testing.assert_allclose(a[0].grad, grads, atol=1e-12)


def test_divergence_is_data_and_other_runs_continue():
    ls = landscapes.get("quadratic")
    # GD on x² + y² (L = 2) is stable iff lr·L < 2.
    trs = simulate(ls, ["gd:lr=1.5", "gd:lr=0.1"], [(1.0, 1.0), (-2.0, 0.5)], 200)
    bad, good = trs
    assert (bad.diverged_at > 0).all() and (good.diverged_at == -1).all()
    # x ← (1 − 2·lr)·x = −2x: |x| first exceeds the 10× box (|x| > 30) at 2^5 and 2·2^4
    assert bad.diverged_at.tolist() == [5, 4]
    for i, d in enumerate(bad.diverged_at):
        # frozen at its last valid position; telemetry NaN from then on
        assert (bad.xy[i, d:] == bad.xy[i, d - 1]).all()
        assert np.isnan(bad.effective_lr[i, d - 1 :]).all()
        assert np.isfinite(bad.effective_lr[i, : d - 1]).all()
        assert np.isnan(bad.sharpness[i, d:]).all() and np.isfinite(bad.sharpness[i, :d]).all()
    assert (good.converged_at > 0).all()


def test_non_finite_loss_counts_as_divergence():
    ls = landscapes.from_expression("log(x)", domain=((0.1, 3.0), (-1.0, 1.0)), start=(0.5, 0.0))
    (tr,) = simulate(ls, ["gd:lr=1.0"], [(0.5, 0.0)], 5)
    # x = 0.5 → 0.5 − 1/0.5 = −1.5: log is NaN there
    assert tr.diverged_at[0] == 1


def test_convergence_definition():
    ls = landscapes.get("quadratic")
    tol = 1e-6 * ls.grad_scale
    for spec in ("gd:lr=0.1", "adam:lr=0.3", "momentum:lr=0.05"):
        (tr,) = simulate(ls, [spec], [ls.start], 300)
        gn = np.linalg.norm(ls.gradient(tr.xy[0]), axis=-1)
        near = np.linalg.norm(tr.xy[0], axis=-1) < 1e-3
        ok = (gn < tol) & near
        c = tr.converged_at[0]
        assert c > 0, spec
        assert ok[c:].all() and not ok[c - 1], spec
    # a looser tolerance never converges later
    (strict,) = simulate(ls, ["adam:lr=0.3"], [ls.start], 300)
    (loose,) = simulate(ls, ["adam:lr=0.3"], [ls.start], 300, tolerance=1.0)
    assert 0 < loose.converged_at[0] <= strict.converged_at[0]
    # never within 1e-3 of the minimum: never converged, however small the gradient
    (far,) = simulate(ls, ["gd:lr=1e-6"], [ls.start], 20, tolerance=1e9)
    assert far.converged_at[0] == -1


def test_saddle_landscape_has_no_minimum_to_converge_to():
    ls = landscapes.get("saddle")
    (tr,) = simulate(ls, ["gd:lr=0.1"], [(1.0, 0.0)], 300)
    # on the stable manifold y = 0 GD converges to the saddle point (gradient 0)
    assert tr.converged_at[0] > 0


def test_full_telemetry_is_consistent():
    ls = landscapes.get("himmelblau")
    specs = [
        "vradam:lr=0.1,beta3=0.001,weight_decay=0",
        "adam:lr=0.05",
        "momentum:lr=0.002",
        "nesterov:lr=0.002",
        "gd:lr=0.01",
        "vrmomentum:lr=0.05,beta3=0.01",
        "lion:lr=0.01",
        "rmsprop:lr=0.01",
    ]
    trs = simulate(ls, specs, [ls.start, (2.0, -1.0)], 120)
    for tr in trs:
        N, T1, _ = tr.xy.shape
        T = T1 - 1
        assert tr.grad.shape == tr.velocity.shape == tr.coord_lr.shape == (N, T, 2)
        for a in (tr.velocity_sq_norm, tr.effective_lr, tr.step_norm, tr.stability_threshold):
            assert a.shape == (N, T)
        assert tr.sharpness.shape == (N, T + 1)
        np.testing.assert_allclose(tr.velocity_sq_norm, (tr.velocity**2).sum(-1))
        np.testing.assert_allclose(tr.step_norm, np.linalg.norm(np.diff(tr.xy, axis=1), axis=-1))
        np.testing.assert_allclose(tr.loss, ls.value(tr.xy), rtol=1e-12, atol=1e-12)
    vr, adam, mom, nest, gd, vrm, lion, rms = trs
    hp = vr.spec.hyperparams
    np.testing.assert_allclose(
        vr.effective_lr,
        hp["lr"] / (1 + np.minimum(hp["beta3"] * vr.velocity_sq_norm, hp["alpha1"])),
    )
    assert (adam.effective_lr == 0.05).all()
    # thresholds from the closed forms of docs/theory.md §2 (Adam's lowered by bias correction)
    bc1 = 1 - 0.9 ** np.arange(1, 121)
    np.testing.assert_allclose(gd.stability_threshold, 2 / 0.01)
    np.testing.assert_allclose(mom.stability_threshold, 2 * 1.9 / 0.002)
    np.testing.assert_allclose(nest.stability_threshold, 2 * 1.9 / (2.8 * 0.002))
    np.testing.assert_allclose(adam.stability_threshold, np.broadcast_to(38 * bc1 / 0.05, (2, 120)))
    np.testing.assert_allclose(rms.stability_threshold, 2 / 0.01)
    np.testing.assert_allclose(vr.stability_threshold, 38 * bc1 / vr.effective_lr)
    np.testing.assert_allclose(vrm.stability_threshold, 38 / vrm.effective_lr)
    assert np.isnan(lion.stability_threshold).all() and lion.precond_sharpness is None
    assert gd.precond_sharpness is None and adam.precond_sharpness is not None
    np.testing.assert_allclose(gd.compared_sharpness, gd.sharpness[:, :-1])
    assert adam.compared_sharpness is adam.precond_sharpness


def test_sharpness_is_the_exact_top_hessian_eigenvalue():
    ls = landscapes.get("six_hump_camel")
    (tr,) = simulate(ls, ["adam:lr=0.05"], [ls.start], 40)
    for t in (0, 7, 39):
        p = torch.tensor(tr.xy[0, t], dtype=torch.float64)
        H = torch.autograd.functional.hessian(lambda q: ls.fn(q[0], q[1]), p)
        assert tr.sharpness[0, t] == pytest.approx(torch.linalg.eigvalsh(H).max().item(), rel=1e-10)
        # preconditioned: λmax(P^-½ H P^-½) with P = diag(√m̂ + ε), m̂ from the second moment
        g = ls.gradient(tr.xy[0, : t + 1])
        m = np.zeros(2)
        for k in range(t + 1):
            m = 0.999 * m + 0.001 * g[k] ** 2
        d = np.sqrt(m / (1 - 0.999 ** (t + 1))) + 1e-8
        S = np.diag(d**-0.5) @ H.numpy() @ np.diag(d**-0.5)
        assert tr.precond_sharpness[0, t] == pytest.approx(np.linalg.eigvalsh(S).max(), rel=1e-8)


def test_closed_form_eigenvalue_and_hessians():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 50))
    expected = [np.linalg.eigvalsh([[ai, bi], [bi, ci]]).max() for ai, bi, ci in zip(a, b, c)]
    np.testing.assert_allclose(top_eigenvalue(a, b, c), expected)
    ls = landscapes.get("rosenbrock")
    hxx, hxy, hyy = hessians(ls.fn, np.array([[1.0], [1.0]]))
    assert (hxx[0], hxy[0], hyy[0]) == (802.0, -400.0, 200.0)


def test_path_telemetry_matches_full():
    ls = landscapes.get("himmelblau")
    specs = ["adam:lr=0.1", "vradam:lr=0.1,beta3=0.01"]
    full = simulate(ls, specs, [ls.start, (4.0, 4.0)], 100)
    path = simulate(ls, specs, [ls.start, (4.0, 4.0)], 100, telemetry="path")
    for f, p in zip(full, path):
        assert np.array_equal(f.xy, p.xy) and np.array_equal(f.loss, p.loss)
        assert np.array_equal(f.converged_at, p.converged_at)
        assert p.grad is None and p.sharpness is None


def test_single_start_and_string_specs():
    (tr,) = simulate("booth", "adam:lr=0.1", (0.0, 0.0), 10)
    assert tr.xy.shape == (1, 11, 2) and tr.landscape == "booth"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(steps=0), "steps must be between 1 and"),
        (dict(steps=2.5), "steps must be an integer"),
        (dict(starts=[[1, 2, 3]]), r"starts must have shape \(N, 2\)"),
        (dict(starts=[[np.nan, 0]]), "starts must be finite"),
        (dict(optimizers=["sgd"]), "unknown optimizer 'sgd'; valid: gd, momentum"),
        (dict(optimizers=["adam:lr=-1"]), r"adam: lr=-1 is outside its valid range \[0, inf\]"),
        (dict(optimizers=["adam:beta1=1"]), r"adam: beta1=1 is outside its valid range \[0, 1\)"),
        (dict(optimizers=["adam:gamma=1"]), "adam: unknown hyperparameter 'gamma'"),
        (dict(optimizers=[]), "no optimizers given"),
        (dict(schedule="linear"), "unknown schedule"),
        (dict(telemetry="some"), "telemetry must be 'full', 'path' or 'step'"),
        (dict(noise_std=-1.0), "noise_std must be"),
        (dict(landscape="nope"), "unknown landscape 'nope'"),
    ],
)
def test_simulate_validation(kwargs, message):
    args = dict(landscape="quadratic", optimizers=["adam"], starts=[(1.0, 1.0)], steps=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        simulate(
            args.pop("landscape"),
            args.pop("optimizers"),
            args.pop("starts"),
            args.pop("steps"),
            **args,
        )


def test_optimizer_spec_parsing_and_names():
    s = OptimizerSpec.parse("VRAdam:lr=0.05, beta3=1@fast")
    assert s.key == "vradam" and dict(s.params) == {"lr": 0.05, "beta3": 1.0}
    assert s.label == "fast" and str(s) == "vradam:beta3=1,lr=0.05@fast"
    assert OptimizerSpec.parse(str(s)) == s
    assert OptimizerSpec("adam").display_name == "Adam"
    assert OptimizerSpec("vradam", {"beta3": 2}).display_name == "VRAdam (β₃=2)"
    assert OptimizerSpec("vradam", {"lr": 46, "alpha1": 1e9}).hyperparams["alpha1"] == 1e9
    assert hash(s) == hash(OptimizerSpec.parse("vradam:beta3=1,lr=0.05@fast"))
    for bad, msg in [
        ("", "empty optimizer spec"),
        ("adam:lr", "expected name=value"),
        ("adam:lr=fast", "lr must be a number"),
    ]:
        with pytest.raises(ValueError, match=msg):
            OptimizerSpec.parse(bad)


def test_registry_defaults_follow_torch():
    assert REGISTRY["adam"].defaults == dict(
        lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0
    )
    assert REGISTRY["adamw"].defaults["weight_decay"] == 1e-2
    assert REGISTRY["rmsprop"].defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0)
    assert REGISTRY["adagrad"].defaults["eps"] == 1e-10
    assert REGISTRY["nadam"].defaults["lr"] == 2e-3
    assert REGISTRY["momentum"].defaults["momentum"] == 0.9
    assert REGISTRY["vradam"].defaults == dict(
        lr=1e-3, beta1=0.9, beta2=0.999, beta3=1.0, alpha1=10.0, eps=1e-8, weight_decay=1e-2
    )
    assert REGISTRY["vrmomentum"].defaults == dict(
        lr=1e-2, beta1=0.9, beta3=1.0, alpha1=10.0, weight_decay=0.0
    )
    assert REGISTRY["lion"].defaults == dict(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0)
    for info in REGISTRY.values():
        for hp in info.hyperparams:
            lo, hi = hp.domain
            assert lo <= hp.slider[0] < hp.slider[1] <= hi and hp.help
            assert lo <= hp.default <= hi


@pytest.mark.parametrize("key", sorted(landscapes.REGISTRY))
def test_suggested_hyperparameters_make_the_gate_act_then_release(key):
    ls = landscapes.get(key)
    spec = OptimizerSpec(
        "vradam", dict(lr=ls.suggested_lr, beta3=ls.suggested_beta3, weight_decay=0.0)
    )
    (tr,) = simulate(ls, [spec], [ls.start], ls.suggested_steps)
    eta = tr.effective_lr[0] / ls.suggested_lr
    assert tr.diverged_at[0] == -1
    assert eta[:50].min() <= 0.5
    if ls.minima:  # the saddle has no minimum to settle in
        assert eta[-1] >= 0.9


@pytest.mark.parametrize(("condition", "angle"), [(5, 0), (25, 60), (100, 30)])
def test_ill_conditioned_suggestions_scale_with_condition(condition, angle):
    ls = landscapes.ill_conditioned(condition, angle)
    spec = OptimizerSpec(
        "vradam", dict(lr=ls.suggested_lr, beta3=ls.suggested_beta3, weight_decay=0.0)
    )
    (tr,) = simulate(ls, [spec], [ls.start], ls.suggested_steps)
    eta = tr.effective_lr[0] / ls.suggested_lr
    assert eta[:50].min() <= 0.5 and eta[-1] >= 0.9
