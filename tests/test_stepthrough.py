"""Step-through numbers: the engine's path, and the torch classes' state on the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from optimizer_table import ROWS
from streamlit.testing.v1 import AppTest

from vradam import VRAdam
from vradam.app.playground import PlaygroundConfig, run
from vradam.app.stepthrough import replay, step_lines
from vradam.sim.formulas import num as _n
from vradam.sim.optimizers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
KEYS = list(REGISTRY)


@pytest.mark.parametrize("noise", [0.0, 0.7])
def test_replay_follows_the_engine_for_every_optimizer(noise):
    for chunk in (KEYS[:6], KEYS[6:]):
        config = PlaygroundConfig(landscape="rosenbrock", optimizers=tuple(f"{k}:lr=0.003"
                                  for k in chunk), steps=40, noise=noise, start_mode="cloud",
                                  n_starts=3, schedule="cosine")  # fmt: skip
        for i, tr in enumerate(run(config)):
            for s in (0, 2):
                r = replay(config, i, s)
                end = None if tr.diverged_at[s] < 0 else int(tr.diverged_at[s])
                np.testing.assert_allclose(r.theta[:end], tr.xy[s][:end], rtol=0, atol=1e-12,
                                           err_msg=tr.label)  # fmt: skip
                tel = None if end is None else end - 1
                np.testing.assert_allclose(r.eta[:tel], tr.effective_lr[s][:tel], rtol=1e-12)
                np.testing.assert_allclose(r.velocity[:tel], tr.velocity[s][:tel], rtol=1e-12)


def _check_each_step(make_opt, r, state_keys, eta_key="effective_lr", l2=0.0):
    """Feed the replay's gradients (without a coupled L2 term, which torch adds itself)."""
    p = torch.tensor(r.theta[0], dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    for k in range(r.steps):
        p.grad = torch.tensor(r.grad[k] - l2 * r.theta[k], dtype=torch.float64)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), r.theta[k + 1], rtol=1e-12, atol=1e-15)
        state = opt.state[p]
        for name, expected in state_keys.items():
            np.testing.assert_allclose(state[name].numpy(), expected[k], rtol=1e-12, atol=1e-300)
        if eta_key:
            np.testing.assert_allclose(float(opt.param_groups[0][eta_key]), r.eta[k], rtol=1e-12)


def test_vradam_step_numbers_equal_the_class_state():
    """Gate active part of the time (β3‖v‖² crosses α1), decoupled decay on."""
    config = PlaygroundConfig(landscape="rosenbrock", optimizers=(
        "vradam:lr=0.05,beta3=0.3,alpha1=5,weight_decay=0.01",), steps=60, noise=0.3)  # fmt: skip
    r = replay(config, 0)
    assert (0.3 * r.sq_norm >= 5).any() and (0.3 * r.sq_norm < 5).any()
    _check_each_step(
        lambda ps: VRAdam(ps, lr=0.05, beta3=0.3, alpha1=5, weight_decay=0.01),
        r, {"exp_avg": r.velocity, "exp_avg_sq": r.second},
    )  # fmt: skip
    lines = dict(step_lines(r, 7))
    assert _n(r.eta[6]) in lines["dynamic learning rate"]
    assert _n(r.bc2[6]) in lines["bias corrections"]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.key)
def test_step_numbers_equal_the_torch_class_for_every_optimizer(row):
    """The table's torch class, built from its own keyword arguments, fed the replay's
    gradients, holds the replay's numbers in its state at every step."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for flat, torch_kwargs in row.cases:
            text = f"{row.key}:" + ",".join(f"{k}={v}" for k, v in flat.items())
            config = PlaygroundConfig(landscape="himmelblau", optimizers=(text,), steps=40)
            r = replay(config, 0)
            wd = r.spec.hyperparams.get("weight_decay", 0.0) if r.l2 else 0.0
            states = {name: getattr(r, attr) for name, attr in row.state.items()}
            eta_key = "effective_lr" if r.spec.info.velocity_regularized else None
            _check_each_step(lambda ps, kw=torch_kwargs: row.torch_class(ps, **kw), r, states,
                             eta_key, l2=wd)  # fmt: skip
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("key", KEYS)
def test_step_lines_for_every_optimizer(key):
    config = PlaygroundConfig(landscape="himmelblau", optimizers=(f"{key}:lr=0.01",), steps=5)
    r = replay(config, 0)
    for t in (1, 5):
        lines = step_lines(r, t)
        what = [w for w, _ in lines]
        assert what[0] == "position before the update" and what[-1] == "new position"
        assert _n(r.theta[t][0]) in lines[-1][1]
        assert all(tex.count("{") == tex.count("}") for _, tex in lines)
    with pytest.raises(ValueError):
        step_lines(r, 6)


@pytest.mark.slow  # an AppTest, ~1.5 s
def test_step_through_in_the_playground():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.toggle(key="pg_step_on").set_value(True).run()
    assert not at.exception
    assert at.number_input(key="pg_step_t").value == 1
    next_button = next(b for b in at.button if b.label == "Next ▶")
    next_button.click().run()
    assert at.number_input(key="pg_step_t").value == 2
    latex = " ".join(el.value for el in at.latex)
    assert r"\theta_{1}" in latex and r"\theta_{2}" in latex
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(any(tr.get("name") == "update 2" for tr in c["data"]) for c in charts)
    at.selectbox(key="pg_step_opt").set_value(1).run()  # VRAdam: the gate's lines
    assert not at.exception
    assert "dynamic learning rate" in " ".join(c.value for c in at.caption)
