"""A new optimizer is one record plus one test row: torch.optim.SGD with ``dampening``,
registered here at test time, runs through every layer that takes optimizers from the
registry, and equals torch.optim.SGD(momentum=μ, dampening=d) wherever it moves.

torch's SGD with dampening d keeps buf ← g at the first update and buf ← μ·buf + (1 − d)·g
after it, and steps along buf: a gradient weight that depends on the step, which the
unified form's per-step tables hold (docs/theory.md §1.4). Adamax is not here: its second
state m ← max(β2·m, |g|) is not a linear recurrence, one of the things §1.4 says the form
cannot express (it needs engine work, not a record).

The row is a ``Row`` of tests/optimizer_table.py, and the checks that file's rows get
(tests/test_records.py, tests/test_engine.py, tests/test_stepthrough.py) are run on it
as they are on the table's rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import test_engine
import test_records
import test_stepthrough
import torch
from optimizer_table import Row

import landscapes
from vradam.sim import formulas
from vradam.sim.engine import simulate
from vradam.sim.optimizers import (
    REGISTRY,
    HyperParam,
    OptimizerInfo,
    OptimizerSpec,
    Tuning,
    threshold_at,
)
from vradam.sim.unified import Coefficients

ROOT = Path(__file__).resolve().parents[1]
KEY = "sgd_dampened"
MU, D = 0.8, 0.5
TEXT = f"{KEY}:lr=0.002,momentum={MU},dampening={D}"


# ----------------------------------------------------------------------------- the record


def _dampened_coefficients(hp, lr):
    """buf ← g at the first update, μ·buf + (1 − d)·g after; the step is along buf."""
    mu, d = hp["momentum"], hp["dampening"]
    b1 = np.full(lr.shape, 1 - d)
    b1[0] = 1.0
    c = Coefficients.plain(lr, a1=mu, b1=b1, wd_l2=hp["weight_decay"])
    return Coefficients(lr=c.lr, c1=c.e * mu, c2=b1, c3=c.c3, e=c.e, a1=mu, b1=b1,
                        wd_l2=c.wd_l2)  # fmt: skip


def _dampened_lines(s: formulas.Step) -> list[tuple[str, str]]:
    """The buffer with its dampened gradient weight (1 at the first update), then the step."""
    T0, T1, mu = s.t0, s.t1, s.hp["momentum"]
    w = 1.0 if s.t == 1 else 1 - s.hp["dampening"]
    buffer = formulas.eq(
        rf"b_{{{T1}}}", rf"\mu\, b_{{{T0}}} + (1-d)\, g_{{{T1}}}",
        rf"{formulas.num(mu)}\,{formulas.vec(s.prev_v)} + {formulas.num(w)}\,{formulas.vec(s.g)}",
        formulas.vec(s.v),
    )  # fmt: skip
    return [("momentum buffer (dampened)", buffer),
            ("step direction", formulas.eq(rf"d_{{{T1}}}", rf"b_{{{T1}}}"))]  # fmt: skip


def _dampened_torch(params, *, lr, momentum, dampening, weight_decay):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, dampening=dampening,
                           weight_decay=weight_decay)  # fmt: skip


DAMPENED = OptimizerInfo(
    key=KEY, name="SGD (dampened)",
    hyperparams=(
        HyperParam(name="lr", symbol="α₀", default=0.05, slider=(1e-4, 1.0), domain=(0.0, 10.0),
                   log=True, help="Step size.", search=lambda d: (d / 3, 100 * d)),
        HyperParam(name="momentum", symbol="μ", default=0.9, slider=(0.0, 0.99),
                   domain=(0.0, 1.0), log=False, help="Momentum.", open_high=True),
        HyperParam(name="dampening", symbol="d", default=0.5, slider=(0.0, 0.99),
                   domain=(0.0, 1.0), log=False, help="Dampening.", open_high=True),
        HyperParam(name="weight_decay", symbol="λ", default=0.0, slider=(0.0, 0.5),
                   domain=(0.0, 10.0), log=False, help="L2 weight decay.")),
    description="torch.optim.SGD(momentum=μ, dampening=d).",
    coefficients=_dampened_coefficients, torch_class=_dampened_torch,
    formulas=_dampened_lines, stability="sharpness", suggested_lr=False,
    network_lr=0.05, velocity_state="momentum_buffer",
    tuning=Tuning(paper_name="SGD (dampened)"),
)  # fmt: skip


# ----------------------------------------------------------------------------- the test row


def _threshold(hp, t, eta):
    """Heavy ball's 2(1 + μ)/η at the first update (buf ← g), with the gradient weight
    1 − d after it: 2(1 + μ)/((1 − d)·η)."""
    weight = 1.0 if t == 1 else 1 - hp["dampening"]
    return 2 * (1 + hp["momentum"]) / (weight * eta)


ROW = Row(
    KEY, torch.optim.SGD,
    ((dict(lr=2e-3, momentum=MU, dampening=D), dict(lr=2e-3, momentum=MU, dampening=D)),
     (dict(lr=1e-3, momentum=0.9, dampening=0.2, weight_decay=0.1),
      dict(lr=1e-3, momentum=0.9, dampening=0.2, weight_decay=0.1))),
    {"momentum_buffer": "velocity"}, _threshold,
    ((dict(dampening=1.0), "outside its valid range"), (dict(beta1=0.9), "unknown")),
)  # fmt: skip


@pytest.fixture
def dampened(monkeypatch):
    monkeypatch.setitem(REGISTRY, KEY, DAMPENED)
    return DAMPENED


def _torch_path(ls, start, steps: int, **kwargs) -> np.ndarray:
    """torch.optim.SGD itself, with autograd's gradients: (steps + 1, 2)."""
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = torch.optim.SGD([p], **kwargs)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        ls.fn(p[0], p[1]).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


# ----------------------------------------------------------------------------- the row's checks


@pytest.mark.parametrize("t", [1, 2, 10, 100, 1000])
def test_the_rows_threshold_checks(dampened, t):
    test_records.test_generic_threshold_equals_the_closed_form(ROW, t)


@pytest.mark.slow  # ~2 s: torch SGD above and below its line
def test_the_rows_record_checks(dampened):
    """The spectral radius crosses 1 at the derived line, the torch twin is the row's class
    with its state, bad values are refused, and torch's SGD itself grows just above the
    line and shrinks just below it."""
    test_records.test_threshold_is_where_the_spectral_radius_crosses_one(ROW)
    test_records.test_torch_twin_class_state_and_values(ROW)
    test_records.test_spec_refuses_bad_values(ROW)
    test_records.test_torch_optimizer_grows_above_its_line_and_shrinks_below(ROW)
    assert threshold_at(OptimizerSpec.parse(TEXT), 1, 0.002) == pytest.approx(2 * 1.8 / 0.002)
    assert threshold_at(OptimizerSpec.parse(TEXT), 50, 0.002) == pytest.approx(
        2 * 1.8 / (0.5 * 0.002)
    )


@pytest.mark.slow  # 1.2-1.7 s each
@pytest.mark.parametrize("landscape", test_engine.LANDSCAPES)
def test_the_rows_engine_cases(dampened, landscape):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for flat, kwargs in ROW.cases:
            test_engine.test_engine_equals_torch_optim(landscape, (KEY, flat, ROW.torch_class,
                                                                   kwargs))  # fmt: skip
    finally:
        torch.set_default_dtype(previous)


def test_the_rows_step_through(dampened):
    """The step-through's numbers are torch's state at every step, and its lines show."""
    test_stepthrough.test_step_numbers_equal_the_torch_class_for_every_optimizer(ROW)
    test_stepthrough.test_step_lines_for_every_optimizer(KEY)


# ----------------------------------------------------------------------------- every layer


def test_engine_equals_torch_sgd_with_dampening(dampened):
    """The 2-D engine against torch.optim.SGD(dampening=d) with autograd's gradients."""
    ls = landscapes.get("himmelblau")
    (tr,) = simulate(ls, [TEXT], [ls.start], 60)
    ref = _torch_path(ls, ls.start, 60, lr=0.002, momentum=MU, dampening=D)
    np.testing.assert_allclose(tr.xy[0], ref, rtol=1e-12)
    np.testing.assert_allclose(tr.stability_threshold[0, 1:], 2 * 1.8 / (0.5 * 0.002))
    assert tr.stability_threshold[0, 0] == pytest.approx(2 * 1.8 / 0.002)


def test_the_eos_trainer_follows_torch(dampened):
    """The batched lock-step trainer (built from the record's coefficients) trains as
    train_steps does with the record's torch twin, torch.optim.SGD(dampening=d)."""
    from vradam.studies import eos
    from vradam.studies.training import train_steps

    spec = OptimizerSpec.parse(TEXT)
    config = eos.EoSConfig(steps=30, sharpness_every=15)
    old = list(train_steps(config.train_config([TEXT])))
    *_, (_, (new,)) = eos.lockstep_series([spec], [0], 30, 15)
    np.testing.assert_allclose(new.loss, eos.series_from_records(old, 0).loss, rtol=1e-5)
    assert np.isfinite(new.loss).all() and new.loss[-1] < new.loss[0]


def test_a_stability_map_and_the_tuning_space(dampened):
    """A stability map by the record's key, with the record's own α0·L line; the tuning
    protocol lists it and searches its α0 in the record's range."""
    from vradam.studies import stability as S
    from vradam.studies import tuning as T
    from vradam.studies.networks import TASKS

    m = S.momentum_map(KEY, [0.1, 1.0, 10.0], [1.0], beta=MU, steps=300)
    assert m.limit == pytest.approx(2 * (1 + MU) / (1 - D))
    assert list(m.classes[0]) == [S.CONVERGED, S.CONVERGED, S.DIVERGED]
    assert KEY in T.tunable()
    (lr,) = T.search_space(KEY, "moons")
    d = TASKS["moons"].default_lr
    assert (lr.name, lr.low, lr.high) == ("lr", d / 3, 100 * d)


def test_the_cli_simulates_it_like_torch(dampened, tmp_path, capsys):
    """``python -m vradam simulate --optimizer sgd_dampened:…`` (in-process): the path it
    writes is torch's, and ``simulate --help`` lists it."""
    from vradam.cli import main

    out = tmp_path / "run.csv"
    code = main(["simulate", "--landscape", "himmelblau", "--optimizer", TEXT,
                 "--steps", "40", "--out", str(out)])  # fmt: skip
    assert code in (0, None)
    with open(out, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["optimizer"].startswith("#")]
    assert {r["optimizer"] for r in rows} == {str(OptimizerSpec.parse(TEXT))}
    xy = np.array([[float(r["x"]), float(r["y"])] for r in sorted(rows, key=lambda r:
                   int(r["step"]))])  # fmt: skip
    ls = landscapes.get("himmelblau")
    np.testing.assert_allclose(xy, _torch_path(ls, ls.start, 40, lr=0.002, momentum=MU,
                                               dampening=D), rtol=1e-9)  # fmt: skip
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    assert KEY in capsys.readouterr().out.replace("\n", " ")


@pytest.mark.slow  # an AppTest, ~4 s
def test_the_playground_picker_adds_and_runs_it(dampened):
    """Picked in the Playground's editor, it races at its record's default α0 (SGD's
    scale: the record does not take the landscape's Adam-scale rate), and its path is
    torch's."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    picker = at.selectbox(key="pg_add_key")
    assert KEY in picker.options or DAMPENED.name in picker.options
    picker.set_value(KEY).run()
    next(b for b in at.button if b.key == "pg_add").click().run()
    assert not at.exception
    assert any(DAMPENED.name in e.label for e in at.expander)
    config = at.session_state["pg_config"]
    (spec,) = [s for s in config.specs() if s.key == KEY]
    assert spec.hyperparams["lr"] == DAMPENED.defaults["lr"]
    assert any(KEY in v for v in at.query_params.get("opt", []))
    # its row in the results table, and its path against torch's
    rows = at.dataframe[0].value
    assert DAMPENED.name in " ".join(map(str, rows["optimizer"]))
    from vradam.app.playground import run

    (tr,) = [t for t in run(config) if t.spec.key == KEY]
    ls = config.landscape_obj()
    ref = _torch_path(ls, ls.start, config.steps, lr=spec.hyperparams["lr"], momentum=0.9,
                      dampening=0.5)  # fmt: skip
    end = config.steps + 1 if tr.diverged_at[0] < 0 else int(tr.diverged_at[0])
    np.testing.assert_allclose(tr.xy[0, :end], ref[:end], rtol=1e-9, atol=1e-12)
