"""Edge of stability: GD hovers at 2/η, Adam meets 38/η, VRAdam damps the oscillation."""

from __future__ import annotations

import csv
import io

import numpy as np
import plotly.graph_objects as go
import pytest

from vradam.app.figures import eos as eosplots
from vradam.studies import eos
from vradam.studies.training import train_steps


def test_default_gd_run_sits_at_the_edge_of_stability():
    """The page's default GD run: sharpness within 10 % of 2/η for at least 200 steps."""
    config = eos.EoSConfig()
    gd = config.optimizers()[0]
    records = list(train_steps(config.train_config((gd,))))
    s = eos.series_from_records(records, 0)
    assert s.sharpness_kind == "hessian"
    np.testing.assert_allclose(s.threshold, 2 / config.lr_gd)
    assert s.edge_steps() >= 200
    assert s.sharpness[0] < 0.9 * s.threshold[0]  # it starts below: progressive sharpening
    assert s.loss[-1] < 0.1 * s.loss[0]  # and the loss still goes down
    assert s.loss_increases() > 10  # … but not monotonically


def test_quadratic_adam_meets_its_threshold_and_vradam_damps_it():
    result = eos.run_quadratic()
    adam, vr, matched = result.series
    cfg = eos.QuadraticConfig()
    # 38(1 − β1^t)/η: bias correction lowers Adam's line over the first ~40 steps
    bc1 = 1 - 0.9 ** np.arange(1, adam.threshold.shape[0] + 1)
    np.testing.assert_allclose(adam.threshold, 38 * bc1 / cfg.lr)
    assert adam.sharpness_kind == vr.sharpness_kind == "preconditioned"
    assert adam.first_edge_step() > 0 and adam.edge_steps() >= 50
    assert adam.sharpness[0] < 0.5 * adam.threshold[-1]
    # VRAdam's threshold moves: 2(1+β1)(1 − β1^t)/((1−β1)·η_t) with η_t its effective rate
    np.testing.assert_allclose(vr.threshold, 2 * 1.9 * bc1 / (0.1 * vr.eta), rtol=1e-12)
    assert vr.threshold.max() > 2 * vr.threshold.min()
    # the matched run uses VRAdam's mean η, so the comparison is not just a smaller step
    assert result.matched_lr == pytest.approx(np.mean(vr.eta), rel=1e-3)
    np.testing.assert_allclose(matched.eta, result.matched_lr)
    for other in (adam, matched):
        assert vr.loss_increases() < 0.5 * other.loss_increases()
        assert vr.oscillation() < 0.5 * other.oscillation()


def test_quadratic_without_gate_is_adam():
    result = eos.run_quadratic(eos.QuadraticConfig(beta3=0.0, steps=200))
    adam, vr, _ = result.series
    np.testing.assert_allclose(vr.loss, adam.loss, rtol=1e-12)
    np.testing.assert_allclose(vr.threshold, adam.threshold, rtol=1e-12)


def test_short_mlp_run_has_all_five_series_and_exports():
    config = eos.EoSConfig(steps=40, sharpness_every=20)
    result = eos.run_mlp(config)
    labels = [s.label for s in result.series]
    assert len(labels) == 5 and labels[-1] == eos.MATCHED_LABEL
    assert [s.sharpness_kind for s in result.series] == ["hessian", "hessian"] + [
        "preconditioned"
    ] * 3
    vr = result.series[3]
    assert result.matched_lr == pytest.approx(np.mean(vr.eta), rel=1e-3)
    for s in result.series:
        assert len(s.loss) == 40 and list(s.sharp_steps) == [0, 20, 40][-len(s.sharp_steps) :]
    np.testing.assert_allclose(result.series[1].threshold, 2 * 1.9 / config.lr_gd)
    go.Figure(eosplots.eos_figure(result))
    rows = result.summary_rows()
    assert [r["optimizer"] for r in rows] == labels

    from vradam.app.ui.eos import series_csv

    table = list(csv.DictReader(io.StringIO(series_csv(result))))
    assert len(table) == 5 * 40
    assert {r["optimizer"] for r in table} == set(labels)
    assert sum(r["sharpness"] != "" for r in table) >= 5


def test_edge_steps_and_oscillation_measures():
    s = eos.Series("x", "gd:lr=1", "hessian", np.arange(6), np.array([4.0, 2, 3, 1, 2, 0.5]),
                   np.ones(6), np.array([0, 10, 20, 30]), np.array([1.0, 1.95, 2.05, 1.0]),
                   np.full(4, 2.0))  # fmt: skip
    assert s.edge_steps() == 20  # samples at 10 and 20 count for the interval to the next
    assert s.first_edge_step() == 10
    assert s.loss_increases() == 2
    assert s.oscillation() == pytest.approx(np.mean(np.abs(np.diff(np.log([1, 2, 0.5])))))
    assert s.summary()["first step at the edge"] == "10"


def test_configs_validate():
    with pytest.raises(ValueError):
        eos.EoSConfig(lr_gd=0)
    with pytest.raises(ValueError):
        eos.EoSConfig(steps=5)
    with pytest.raises(ValueError):
        eos.QuadraticConfig(beta2=1.0)
