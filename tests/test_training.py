"""Networks: every optimizer learns every task, fairly, and the sharpness estimate is exact."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vradam.sim.engine import simulate
from vradam.sim.lion import Lion
from vradam.sim.optimizers import REGISTRY, OptimizerSpec, make_optimizer, preconditioner
from vradam.studies.networks import TASKS, default_optimizers, get_task
from vradam.studies.sharpness import top_eigenvalue
from vradam.studies.training import (
    TrainConfig,
    best_lrs,
    final_records,
    lr_sweep,
    resolve_device,
    setup,
    train_steps,
)

SHORT = {
    "moons": 150,
    "circles": 150,
    "spirals": 200,
    "blobs": 150,
    "digits": 100,
    "modadd": 200,
    "teacher": 200,
}


def test_every_task_has_a_loss_test():
    paper = {"lm", "gflownet", "imagegen"}  # slower losses: tests/test_paper_tasks.py
    assert set(SHORT) | paper == set(TASKS) and not set(SHORT) & paper


@pytest.mark.parametrize("task", sorted(SHORT))
@pytest.mark.slow  # 78 s, 7 tasks
def test_loss_falls_for_every_optimizer(task):
    config = TrainConfig(task=task, optimizers=default_optimizers(get_task(task)),
                         steps=SHORT[task], sharpness_every=0, eval_every=SHORT[task])  # fmt: skip
    records = list(train_steps(config))
    first = {r["optimizer"]: r for r in records if r["step"] == 0}
    last = final_records(records)
    for i in range(len(config.optimizers)):
        assert not last[i]["diverged"], config.optimizers[i]
        assert last[i]["train_loss"] <= 0.5 * first[i]["train_loss"], config.optimizers[i]


@pytest.mark.slow  # 24 s
def test_digits_validation_accuracy_for_adam_and_vradam():
    task = get_task("digits")
    lr = task.default_lr
    config = TrainConfig(task="digits", optimizers=(f"adam:lr={lr}",
                         f"vradam:lr={lr},beta3={task.default_beta3}"),
                         steps=task.default_steps, sharpness_every=0, eval_every=100)  # fmt: skip
    last = final_records(list(train_steps(config)))
    assert last[0]["val_acc"] >= 0.9 and last[1]["val_acc"] >= 0.9


# imagegen is not here: its gradient noise does not vanish at the loss floor, so with the
# suggested β3 (1.5 / early peak of ‖v‖²) the gate dips (η/α0 ≈ 0.35) but stays near 0.6.
@pytest.mark.parametrize("task", ["moons", "digits", "modadd", "lm", "gflownet"])
@pytest.mark.slow  # 65 s, 3 tasks
def test_task_betas_make_the_gate_dip_then_release(task):
    t = get_task(task)
    spec = f"vradam:lr={t.default_lr},beta3={t.default_beta3}"
    config = TrainConfig(task=task, optimizers=(spec,), steps=t.default_steps,
                         sharpness_every=0, eval_every=t.default_steps)  # fmt: skip
    records = list(train_steps(config))
    eta = np.array([r["effective_lr"] for r in records if "effective_lr" in r])
    eta /= t.default_lr
    # mini-batch noise moves the gate step to step (modadd: 0.3–0.9 mid-run, and one
    # rounding-level change in the norm moved its very last step from 0.95 to 0.46), so
    # the release is judged on the median of the last tenth of the run
    tail = eta[-max(10, len(eta) // 10) :]
    assert eta[:50].min() <= 0.5 and np.median(tail) >= 0.8


@pytest.mark.slow  # 3 runs, 15 s
def test_modadd_memorises_and_does_not_generalise_as_its_description_says():
    """The task's description, with its baseline over seeds 0–2 (one VRAdam run at seed 0
    reached 0.97 train accuracy on one CPU and 0.71 on another: rounding decides how far
    a 600-step run gets, so no single run of any optimizer is the test)."""
    t = get_task("modadd")
    accs = []
    for seed in range(3):
        config = TrainConfig(task="modadd", optimizers=(f"adamw:lr={t.default_lr}",), seed=seed,
                             steps=t.default_steps, sharpness_every=0,
                             eval_every=t.default_steps)  # fmt: skip
        (last,) = final_records(list(train_steps(config))).values()
        accs.append((last["train_acc"], last["val_acc"]))
    train, val = np.array(accs).T
    assert train.mean() >= 0.9 and (val <= train - 0.4).all(), accs


def test_identical_initial_weights_and_batches():
    config = TrainConfig(task="digits", steps=3)
    _, _, _, _, models, _ = setup(config)
    first = models[0].state_dict()
    for m in models[1:]:
        for k, v in m.state_dict().items():
            assert torch.equal(v, first[k])
    # same seed, same data and same initial model in a second setup
    *_, models2, _ = setup(config)
    assert torch.equal(models2[0].state_dict()["head.weight"], first["head.weight"])
    # every optimizer sees the same batches: with lr = 0 all losses are identical
    zero = TrainConfig(task="digits", steps=5, optimizers=("adam:lr=0", "gd:lr=0"),
                       sharpness_every=0)  # fmt: skip
    losses = {}
    for r in train_steps(zero):
        if "loss" in r:
            losses.setdefault(r["step"], []).append(r["loss"])
    assert all(a == b for a, b in losses.values()) and len(set(map(tuple, losses.values()))) > 1


def test_records_are_complete():
    config = TrainConfig(task="moons", steps=30, sharpness_every=10, eval_every=10)
    records = list(train_steps(config))
    K = len(config.optimizers)
    assert len(records) == K * (config.steps + 1)
    for r in records:
        if r["step"] < config.steps:
            assert {"loss", "grad_norm", "effective_lr", "velocity_sq_norm"} <= set(r)
        if r["step"] % 10 == 0:
            assert {"train_loss", "train_acc", "val_loss", "val_acc"} <= set(r)
        if r["step"] % 10 == 0 and r["step"] > 0:
            assert {"sharpness", "threshold", "sharpness_kind"} <= set(r)
    vr = [r for r in records if r["spec"].startswith("vradam")]
    assert all("clip_active" in r for r in vr if r["step"] < config.steps)
    adam_family = [
        r for r in records if r["spec"].startswith(("adamw", "vradam")) and "sharpness" in r
    ]
    assert {r["sharpness_kind"] for r in adam_family} == {"preconditioned"}
    gd = [r for r in records if r["spec"].startswith("gd") and "sharpness" in r]
    assert {r["sharpness_kind"] for r in gd} == {"hessian"}
    assert gd[0]["threshold"] == pytest.approx(2 / 0.3)


def _tiny_problem(dtype=torch.float64):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    model = model.to(dtype)
    x = torch.randn(40, 3, dtype=dtype)
    y = torch.randint(0, 2, (40,))
    return model, x, y


def _exact_hessian(model, x, y):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(theta):
        params, offset = {}, 0
        for name, shape in zip(names, shapes):
            n = math.prod(shape)
            params[name] = theta[offset : offset + n].reshape(shape)
            offset += n
        return F.cross_entropy(torch.func.functional_call(model, params, (x,)), y)

    return torch.autograd.functional.hessian(loss, flat)


def test_sharpness_matches_the_exact_top_eigenvalue():
    model, x, y = _tiny_problem()
    H = _exact_hessian(model, x, y)
    exact = torch.linalg.eigvalsh(H).max().item()
    value, vec, count = top_eigenvalue(lambda: F.cross_entropy(model(x), y), model.parameters())
    assert value == pytest.approx(exact, rel=1e-4)
    # warm start: the same answer from fewer products
    again, _, count2 = top_eigenvalue(lambda: F.cross_entropy(model(x), y), model.parameters(),
                                      v0=vec)  # fmt: skip
    assert again == pytest.approx(exact, rel=1e-4) and count2 <= count


def test_preconditioned_sharpness_matches_the_exact_value():
    model, x, y = _tiny_problem()
    spec = OptimizerSpec("adam", {"lr": 0.01})
    opt = make_optimizer(spec, model.parameters())
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    params = list(model.parameters())
    P = preconditioner(spec, opt, params)
    d = torch.cat([p.reshape(-1) for p in P])
    H = _exact_hessian(model, x, y)
    S = H / torch.sqrt(d[:, None] * d[None, :])
    exact = torch.linalg.eigvalsh(S).max().item()
    value, _, _ = top_eigenvalue(lambda: F.cross_entropy(model(x), y), params, precond=P)
    assert value == pytest.approx(exact, rel=1e-4)


def test_lr_sweep_marks_divergence_and_finds_best_rates():
    config = TrainConfig(task="moons", optimizers=("gd:lr=1", "adamw:lr=0.01"), steps=60)
    rows = lr_sweep(config, factors=(0.1, 1, 100), steps=40)
    assert len(rows) == 6
    gd_huge = next(r for r in rows if r["optimizer"] == 0 and r["factor"] == 100)
    assert gd_huge["diverged"] or gd_huge["train_loss"] > 0.5
    best = best_lrs(rows)
    assert set(best) == {0, 1}
    assert all(math.isfinite(r["lr"]) for r in rows)


def test_lion_torch_class_equals_the_engine():
    import landscapes

    ls = landscapes.get("himmelblau")
    p = torch.nn.Parameter(torch.tensor(ls.start, dtype=torch.float64))
    opt = Lion([p], lr=0.01, weight_decay=0.1)
    path = [p.detach().clone()]
    for _ in range(100):
        opt.zero_grad()
        ls.fn(p[0], p[1]).backward()
        opt.step()
        path.append(p.detach().clone())
    (tr,) = simulate(ls, ["lion:lr=0.01,weight_decay=0.1"], [ls.start], 100)
    np.testing.assert_allclose(torch.stack(path).numpy(), tr.xy[0], atol=1e-9)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_registry_optimizer_has_a_torch_class(key):
    """The record's torch twin takes the spec's values, and its first step goes downhill."""
    values = dict(OptimizerSpec(key).hyperparams)
    values["lr"] *= 0.5  # not the defaults (torch's own, often): the values must get through
    if "beta1" in values:
        values["beta1"] = 0.8
    spec = OptimizerSpec(key, values)
    model, x, y = _tiny_problem(torch.float32)
    opt = make_optimizer(spec, model.parameters())
    group = opt.param_groups[0]
    for name, value in spec.hyperparams.items():
        if name in ("beta1", "beta2") and "betas" in group:  # torch's (β1, β2)
            got = group["betas"][int(name[-1]) - 1]
        else:
            got = group[name]
        got = got.item() if isinstance(got, torch.Tensor) else got
        assert got == pytest.approx(value), (name, got, value)
    F.cross_entropy(model(x.float()), y).backward()
    before = [p.detach().clone() for p in model.parameters()]
    grads = [p.grad.detach().clone() for p in model.parameters()]
    opt.step()
    moves = [p.detach() - b for p, b in zip(model.parameters(), before)]
    assert all(torch.isfinite(d).all() for d in moves)
    slope = sum(float((d * g).sum()) for d, g in zip(moves, grads))
    assert slope < 0, f"{key}: the first step is not downhill (Δθ·∇L = {slope:g})"


def test_device_resolution_and_validation():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    bads = [(dict(task="mnist"), "unknown task"), (dict(steps=0), "steps"),
            (dict(device="tpu"), "device"), (dict(optimizers=("sgd",)), "unknown")]  # fmt: skip
    for bad, msg in bads:
        with pytest.raises(ValueError, match=msg):
            TrainConfig(**bad)


def test_divergence_stops_the_run():
    config = TrainConfig(task="moons", optimizers=("gd:lr=1e38", "adamw:lr=0.01"), steps=20,
                         sharpness_every=0)  # fmt: skip
    records = list(train_steps(config))
    bad = [r for r in records if r["optimizer"] == 0]
    assert bad[-1]["diverged"] and not final_records(records)[1]["diverged"]


@pytest.mark.slow  # 2.5 s
def test_network_figures_are_valid_plotly():
    import plotly.graph_objects as go

    from vradam.app.figures import networks as netplots
    from vradam.app.figures.colors import assign_colors
    from vradam.app.figures.ticks import tick_label
    from vradam.studies.training import boundary_grid

    config = TrainConfig(task="blobs", steps=30, sharpness_every=10, boundary_every=10)
    runs = [list(train_steps(config)), list(train_steps(TrainConfig(**{**config.__dict__,
                                                                       "seed": 1})))]  # fmt: skip
    specs = config.specs()
    labels, colors = [s.display_name for s in specs], assign_colors(specs)
    training = netplots.training_figure(runs, labels, colors, config.steps)
    go.Figure(training)
    log_axes = [a for k, a in training["layout"].items() if k.startswith("yaxis")
                and a.get("type") == "log"]  # fmt: skip
    assert log_axes
    for axis in log_axes:  # labelled values, never Plotly's bare minor-tick digits
        assert 2 <= len(axis["tickvals"]) <= 3
        assert axis["ticktext"] == [tick_label(v) for v in axis["tickvals"]]
    task = get_task("blobs")
    data = task.make_data(0)
    fig = netplots.boundary_figure(runs[0], boundary_grid(data), data, labels, colors, 4)
    assert len(fig["frames"]) == 4  # steps 0, 10, 20, 30
    go.Figure(fig)
    K = len(labels)
    two = netplots.boundary_figure(runs[0], boundary_grid(data), data, labels, colors, 4, 2)
    go.Figure(two)  # a phone: two panels a row, the rows stacked without overlap
    suffixes = ["", *map(str, range(2, K + 1))]
    x = {tuple(two["layout"][f"xaxis{s}"]["domain"]) for s in suffixes}
    y = sorted({tuple(two["layout"][f"yaxis{s}"]["domain"]) for s in suffixes})
    assert len(x) == min(2, K) and len(y) == -(-K // 2)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(y))
    rows = lr_sweep(TrainConfig(task="moons", optimizers=("gd:lr=1",), steps=20),
                    factors=(1, 1000), steps=20)  # fmt: skip
    sweep = netplots.sweep_figure(rows, ["GD"], ["#000000"])
    go.Figure(sweep)
    for axis in ("xaxis", "yaxis"):
        ticks = sweep["layout"][axis]
        assert ticks["tickvals"] and ticks["ticktext"] == [tick_label(v) for v in ticks["tickvals"]]
    s, mean, sd = netplots.seed_stats(runs, 0, "loss")
    assert s.size == 30 and (sd >= 0).all() and np.isfinite(mean).all()


# ------------------------------------------------------------- Figure 2 in miniature


def test_hessian_sharpness_mode_trains_identically_and_measures_the_plain_hessian():
    """sharpness_of="hessian" (Figure 2): the same run, λmax(H) for adaptive optimizers
    too, and the preconditioned value with its threshold at the last step."""
    from dataclasses import replace

    optimizers = ("adamw:lr=0.003", "vradam:lr=0.003,beta3=5.9")
    config = TrainConfig(task="digits", optimizers=optimizers, steps=10, sharpness_every=5,
                         eval_every=5, sharpness_samples=64)  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these tiny ops are several times slower on 2 busy threads
    try:
        ours = list(train_steps(replace(config, sharpness_of="hessian")))
        theirs = list(train_steps(config))
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(ours, theirs):
        assert (a["step"], a["optimizer"]) == (b["step"], b["optimizer"])
        if "loss" in a:
            assert a["loss"] == b["loss"] and a["effective_lr"] == b["effective_lr"]
    sharp = [r for r in ours if "sharpness" in r]
    assert {r["sharpness_kind"] for r in sharp} == {"hessian"}
    assert len(sharp) == 6  # steps 0, 5, 10 × 2 optimizers: adaptive ones from step 0 too
    last = [r for r in sharp if r["step"] == 10]
    assert all(r["precond_threshold"] > 0 and r["precond_sharpness"] > 0 for r in last)
    with pytest.raises(ValueError, match="sharpness_of"):
        replace(config, sharpness_of="other")


@pytest.fixture(scope="module")
def figure2_measured():
    """The preset itself (3 seeds, 300 steps, β3 suggested, the control), sharpness every
    100 steps instead of 25 to keep the test short: training is the same (Lanczos draws
    nothing from torch's generators), only the sharpness average has fewer points."""
    from dataclasses import replace

    from vradam.studies import figure2

    setup_ = replace(figure2.FIGURE2, sharpness_every=100)
    beta3 = figure2.choose_beta3(setup_)
    *_, (_, _, runs) = figure2.figure2_runs(setup_, beta3)
    return setup_, beta3, runs, figure2.measure(runs, setup_, beta3)


@pytest.mark.slow
def test_figure2_preset_eta_dips_early_and_recovers_in_every_seed(figure2_measured):
    from vradam.studies.figure2 import FIGURE2, VRADAM

    setup_, beta3, runs, m = figure2_measured
    assert beta3 == pytest.approx(5.9)  # suggest_beta3 on the first seed
    assert len(m.seeds) == len(runs) == len(FIGURE2.seeds) >= 3
    for run in runs:
        eta = np.array([r["effective_lr"] for r in run if r["optimizer"] == VRADAM
                        and "effective_lr" in r]) / FIGURE2.alpha0  # fmt: skip
        assert eta.size == setup_.steps
        assert eta[:60].min() <= 0.5, eta[:60].min()
        assert eta[-1] >= 0.9, eta[-1]
        assert not any(r.get("diverged") for r in run)
    for s in m.seeds:
        assert s.eta_min <= 0.5 and s.eta_min_step <= 60 and s.eta_end >= 0.9
        assert 0 < s.recovered_step <= setup_.steps
        assert 0.5 < s.matched_ratio < 1  # the control runs below α0


def _per_seed(runs, i, key, lo, hi, how):
    out = []
    for run in runs:
        pts = [(r["step"], r[key]) for r in run if r["optimizer"] == i and key in r]
        if how == "last":
            out.append(pts[-1][1])
        else:
            out.append(np.mean([v for s, v in pts if max(lo, 1) <= s <= hi]))
    return np.array(out)


@pytest.mark.slow
def test_figure2_statement_matches_the_measured_numbers(figure2_measured):
    from vradam.studies.figure2 import ADAMW, MATCHED, VRADAM, seed_rows, statement, summary

    setup_, _, runs, m = figure2_measured
    text = "\n".join(statement(m))
    n, (lo, hi) = len(runs), m.window
    words = {n: "lower", 0: "not lower"}
    # sharpness: mean λmax(H) over the tracked steps, recomputed from the records
    sh = {i: _per_seed(runs, i, "sharpness", lo, hi, "mean") for i in (ADAMW, VRADAM, MATCHED)}
    k0 = k = int((sh[VRADAM] < sh[ADAMW]).sum())
    assert f"**Sharpness is {words.get(k, 'lower in some seeds only')}**" in text
    assert (
        f"VRAdam {sh[VRADAM].mean():.3g} ± " in text and f"AdamW {sh[ADAMW].mean():.3g} ± " in text
    )
    assert f"lower in {k} of {n} seeds" in text
    # loss: mean and final training loss, validation loss
    losses = [_per_seed(runs, i, "train_loss", lo, hi, "mean") for i in (VRADAM, ADAMW)]
    finals = [_per_seed(runs, i, "train_loss", lo, hi, "last") for i in (VRADAM, ADAMW)]
    vals = [_per_seed(runs, i, "val_loss", lo, hi, "last") for i in (VRADAM, ADAMW)]
    found = {words.get(int((a < b).sum()), "mixed") for a, b in (losses, finals, vals)}
    word = found.pop() if len(found) == 1 else "mixed"
    assert f"**Loss is {word.replace('mixed', 'lower in some seeds only')}**" in text
    assert f"VRAdam {finals[0].mean():.3g} ± " in text
    # the control: AdamW at VRAdam's mean η over the same window, per seed
    for run, s in zip(runs, m.seeds):
        eta = [r["effective_lr"] for r in run if r["optimizer"] == VRADAM and "effective_lr" in r]
        control = next(r["spec"] for r in run if r["optimizer"] == MATCHED)
        assert control.startswith(f"adamw:lr={np.mean(eta[lo - 1 : hi]):.4g}")
        assert s.matched_ratio == pytest.approx(np.mean(eta[lo - 1 : hi]) / setup_.alpha0)
    k = int((sh[VRADAM] < sh[MATCHED]).sum())
    assert (
        f"mean λmax {sh[MATCHED].mean():.3g} ± " in text and f"(VRAdam lower in {k} of {n})" in text
    )
    assert len(seed_rows(m)) == 3 * n
    assert f"top Hessian eigenvalue is {words.get(k0, 'lower in some seeds only')}" in summary(m)


def test_figure2_statement_says_lower_only_when_it_is():
    from vradam.studies.figure2 import (
        FIGURE2,
        Figure2Measures,
        SeedMeasures,
        statement,
    )

    def seed(k, sharp, loss):  # optimizer → value; the control between them
        d = lambda a, b: {0: a, 1: b, 2: (a + b) / 2}  # noqa: E731
        return SeedMeasures(k, 0.3, 40, 0.98, 120, 0.8, d(*sharp), d(*sharp), d(*loss),
                            d(*loss), d(*loss), {0: 0.02, 1: 0.02, 2: 0.02},
                            {0: False, 1: False, 2: False})  # fmt: skip

    seeds = [seed(k, (5, 4), (0.1, 0.05)) for k in range(3)]
    better = Figure2Measures(FIGURE2, 5.9, (1, 300), seeds, (100, 200, 300))
    text = "\n".join(statement(better))
    assert "**Sharpness is lower**" in text and "**Loss is lower**" in text
    assert "lower in 3 of 3 seeds" in text and "beats AdamW and this control" in text
    assert "neither optimizer is near its edge of stability" in text
    mixed = Figure2Measures(FIGURE2, 5.9, (1, 300), [seed(0, (5, 4), (0.1, 0.2)),
                            seed(1, (4, 5), (0.1, 0.2)), seed(2, (5, 6), (0.1, 0.2))])  # fmt: skip
    text = "\n".join(statement(mixed))
    assert "**Sharpness is lower in some seeds only**" in text and "**Loss is not lower**" in text
    assert "lower in 1 of 3 seeds" in text and "not lower than AdamW in every seed" in text
    assert "dips to 0.30·α₀ at step 40, is back above 0.9·α₀ from step 120" in text


def test_figure2_figure_is_valid_plotly():
    import plotly.graph_objects as go

    from vradam.app.figures import networks as netplots

    run = [dict(step=t, optimizer=i, train_loss=1.0 / (t + 1), val_loss=1.0, eta_ratio=0.5,
                sharpness=3.0) for t in range(5) for i in range(3)]  # fmt: skip
    fig = netplots.figure2_figure([run, run, run], ["a", "b", "c"], ["#000000"] * 3, 4)
    go.Figure(fig)
    assert [a["text"] for a in fig["layout"]["annotations"]][2] == "effective LR η_t / α₀"


def test_one_beta3_rule_for_the_optimizer_and_the_app():
    """beta3="auto" and the app's "suggest β₃" buttons use one rule (calibrate.beta3_from_peak):
    target / the peak ‖v‖² of the first gate-off steps, two significant digits."""
    from vradam import VRAdam
    from vradam.calibrate import AUTO_STEPS, AUTO_TARGET, beta3_from_peak

    assert beta3_from_peak(0.37) == pytest.approx(5.4) and beta3_from_peak(4.0, 1.5) == 0.38
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite, positive"):
            beta3_from_peak(bad)
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(20))
    opt = VRAdam([w], lr=0.01, beta3="auto")
    peak = 0.0
    for _ in range(AUTO_STEPS):
        opt.zero_grad()
        (w**4).sum().backward()
        opt.step()
        peak = max(peak, float(opt.param_groups[0]["velocity_sq_norm"]))
    assert opt.param_groups[0]["beta3"] == beta3_from_peak(peak, AUTO_TARGET)


# ----------------------------------------------------------------------------- modadd's model
class _OldTinyTransformer(torch.nn.Module):
    """TinyTransformer as it was before it used lm.Block (git show fbc2a6f:
    vradam/studies/networks.py): one pre-norm block, attention over all three tokens (no
    mask), h + proj(attn(norm1(h))) then h + mlp(norm2(h)), read out at "="."""

    def __init__(self, vocab: int, n_out: int, d: int = 32, heads: int = 2):
        super().__init__()
        nn = torch.nn
        self.heads = heads
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.1 * torch.randn(3, d))
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.out = nn.Linear(d, n_out)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos  # (B, 3, d)
        B, T, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).split(d, dim=-1)
        dh = d // self.heads

        def split(t):  # (B, T, d) → (B, heads, T, dh)
            return t.view(B, T, self.heads, dh).transpose(1, 2)

        att = (split(q) @ split(k).transpose(-1, -2)) / math.sqrt(dh)
        y = (att.softmax(dim=-1) @ split(v)).transpose(1, 2).reshape(B, T, d)
        h = h + self.proj(y)
        h = h + self.mlp(self.norm2(h))
        return self.out(h[:, -1])


def test_tiny_transformer_is_its_old_block():
    """modadd's TinyTransformer (now on lm.Block) computes what its own block did: the same
    initial weights from a seed, and in float64 the same logits and gradients."""
    from vradam.studies.networks import MOD_P, TinyTransformer

    task = get_task("modadd")
    assert task.make_model is TinyTransformer
    torch.manual_seed(0)
    model = TinyTransformer()
    torch.manual_seed(0)
    ref = _OldTinyTransformer(MOD_P + 1, MOD_P)
    weights = {k.removeprefix("block."): v for k, v in model.state_dict().items()}
    old = ref.state_dict()
    assert list(weights) == list(old)  # the same parameters, drawn in the same order
    for k, v in weights.items():
        assert torch.equal(v, old[k]), k
    torch.manual_seed(1)  # other weights, copied over, so the check does not rest on init
    model = TinyTransformer().double()
    with torch.no_grad():  # the norms too (they start at 1 and 0): norm1 ≠ norm2
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ref.double().load_state_dict(
        {k.removeprefix("block."): v for k, v in model.state_dict().items()}
    )
    data = task.make_data(0)
    x, y = data.x_train[:128], data.y_train[:128]
    logits, ref_logits = model(x), ref(x)
    torch.testing.assert_close(logits, ref_logits)
    F.cross_entropy(logits, y).backward()
    F.cross_entropy(ref_logits, y).backward()
    ref_params = dict(ref.named_parameters())
    for k, p in model.named_parameters():
        g = ref_params[k.removeprefix("block.")].grad
        torch.testing.assert_close(p.grad, g, msg=lambda m, k=k: f"{k}: {m}")
