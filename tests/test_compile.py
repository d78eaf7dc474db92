"""VRAdam and VRMomentum under torch.compile (torch only: this file also runs on the GPU
machine with ``PYTHONPATH=. python3 -m pytest -o addopts= tests/test_compile.py``).

A compiled training step (model, loss, backward, ``step()``) equals the eager one, makes
no more graphs than the same step with AdamW, and does not recompile while the gate
moves; ``step()`` alone compiles with ``fullgraph=True`` wherever AdamW's does. The
optimizers and their settings are the rows of tests/optimizer_table.py that have them.
The CPU runs use the ``aot_eager`` backend (the graphs dynamo and AOTAutograd make,
without inductor's C++ build); ``VRADAM_COMPILE_BACKEND=inductor`` (the GPU script)
compiles for real.
"""

from __future__ import annotations

import copy
import os
from typing import NamedTuple

import pytest
import torch
from optimizer_table import COMPILE
from torch._dynamo.testing import CompileCounterWithBackend

from vradam import VRAdam, VRMomentum

pytestmark = pytest.mark.slow  # every test compiles with torch.compile

BACKEND = os.environ.get("VRADAM_COMPILE_BACKEND", "aot_eager")
DEVICE = "cuda" if BACKEND == "inductor" and torch.cuda.is_available() else "cpu"
ADAMW = (torch.optim.AdamW, dict(lr=0.01))  # the baseline
# From the optimizer table: each row's settings move the gate (and clip it) within 20 steps.
CASES = [(row.torch_class, row.compile) for row in COMPILE]
IDS = [row.key for row in COMPILE]


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(
        DEVICE
    )


def _train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss


class CompiledRun(NamedTuple):
    frames: list[int]  # the compile counter's frames after each step
    etas: list[float]  # the compiled optimizer's η_t at each step
    diff: float  # the largest |compiled − eager| parameter difference at the end
    opt: torch.optim.Optimizer  # the compiled step's optimizer
    eager: torch.optim.Optimizer  # its eager twin's
    model: torch.nn.Module  # trained by the compiled step
    twin: torch.nn.Module  # trained eagerly


def _compiled_run(cls, kwargs, steps=20) -> CompiledRun:
    """``steps`` compiled training steps beside the same steps run eagerly on a twin."""
    torch._dynamo.reset()
    gen = torch.Generator().manual_seed(1)
    x, y = (
        torch.randn(32, 8, generator=gen).to(DEVICE),
        torch.randn(32, 1, generator=gen).to(DEVICE),
    )
    model = _model()
    twin = copy.deepcopy(model)
    opt, opt_eager = cls(model.parameters(), **kwargs), cls(twin.parameters(), **kwargs)
    counter = CompileCounterWithBackend(BACKEND)
    step = torch.compile(_train_step, backend=counter)
    frames, etas = [], []
    for _ in range(steps):
        step(model, opt, x, y)
        _train_step(twin, opt_eager, x, y)
        frames.append(counter.frame_count)
        etas.append(float(opt.param_groups[0].get("effective_lr", kwargs["lr"])))
    diff = max((a - b).abs().max().item() for a, b in zip(model.parameters(), twin.parameters()))
    return CompiledRun(frames, etas, diff, opt, opt_eager, model, twin)


@pytest.fixture(scope="module")
def adamw_frames():
    frames, *_ = _compiled_run(*ADAMW)
    return frames[-1]


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_compiled_training_step_equals_eager(cls, kwargs, adamw_frames):
    frames, etas, diff, *_ = _compiled_run(cls, kwargs)
    assert diff < 1e-6
    assert frames[-1] <= adamw_frames  # no more graphs than AdamW's step
    assert frames[1] == frames[-1]  # no recompile after the first step …
    assert max(etas) > 1.5 * min(etas)  # … while the gate moves


def _compile_step_alone(cls, kwargs, fullgraph):
    torch._dynamo.reset()
    model = _model()
    opt = cls(model.parameters(), **kwargs)
    model(torch.ones(4, 8, device=DEVICE)).sum().backward()
    opt.step()  # state exists: the compiled step is the steady-state one
    counter = CompileCounterWithBackend(BACKEND)
    step = torch.compile(opt.step, backend=counter, fullgraph=fullgraph)
    frames = []
    for _ in range(4):
        step()
        frames.append(counter.frame_count)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    return frames


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_compiled_step_alone_does_not_recompile(cls, kwargs):
    frames = _compile_step_alone(cls, kwargs, fullgraph=False)
    assert frames[0] == frames[-1]  # compiled on the first call only


def _graphs_and_breaks(cls, kwargs):
    torch._dynamo.reset()
    model = _model()
    opt = cls(model.parameters(), **kwargs)
    model(torch.ones(4, 8, device=DEVICE)).sum().backward()
    opt.step()
    explained = torch._dynamo.explain(opt.step)()
    return explained.graph_count, explained.graph_break_count


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_step_alone_makes_no_more_graphs_than_adamw(cls, kwargs):
    graphs, breaks = _graphs_and_breaks(cls, kwargs)
    adamw_graphs, adamw_breaks = _graphs_and_breaks(*ADAMW)
    assert graphs <= adamw_graphs and breaks <= adamw_breaks


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_compiled_step_alone_fullgraph_where_adamw_compiles(cls, kwargs):
    try:
        _compile_step_alone(*ADAMW, fullgraph=True)
    except torch._dynamo.exc.Unsupported as exc:
        pytest.skip(f"torch {torch.__version__}'s own AdamW.step() breaks the graph: {exc!s:.80}")
    assert _compile_step_alone(cls, kwargs, fullgraph=True)[-1] == 1


def test_first_compiled_step_creates_the_state_like_eager():
    """The lazy state is created outside the graph (torch's _init_group protocol)."""
    torch._dynamo.reset()
    model = _model()
    twin = copy.deepcopy(model)
    opt, eager = VRAdam(model.parameters(), lr=0.01), VRAdam(twin.parameters(), lr=0.01)
    x = torch.ones(4, 8, device=DEVICE)
    for m in (model, twin):
        m(x).sum().backward()
    torch.compile(opt.step, backend=CompileCounterWithBackend(BACKEND))()
    eager.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
        assert float(opt.state[p]["step"]) == 1.0
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls", [VRAdam, VRMomentum])
def test_compiled_step_with_auto_beta3_calibrates_as_eager(cls):
    """``beta3="auto"`` under torch.compile: a compiled training step runs the 10 gate-off
    calibration steps, sets the same β3 as the eager twin, and then gates as it does; the
    parameters equal eager's to rounding over the whole run, and the gate moves after the
    calibration (η_t below α0). The calibration's records stay out of the graph: no recompile
    during the calibration (a guard on each step's new record would recompile every step)
    and one when β3 is set."""
    frames, etas, _, opt, eager, model, twin = _compiled_run(cls, dict(lr=0.01, beta3="auto"))
    beta3, eager_beta3 = opt.param_groups[0]["beta3"], eager.param_groups[0]["beta3"]
    assert isinstance(beta3, float) and beta3 > 0
    assert beta3 == pytest.approx(eager_beta3, rel=1e-6)
    assert opt.beta3_calibration.done and eager.beta3_calibration.done
    assert etas[:10] == pytest.approx([0.01] * 10)  # the calibration runs with the gate off
    assert max(etas[10:]) < 0.01  # then the gate acts
    assert frames[1] == frames[9] and frames[10] == frames[-1] <= frames[1] + 1
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
