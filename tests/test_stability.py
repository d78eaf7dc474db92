"""The stability facts of docs/theory.md §2 and §4 as numbers: thresholds, limit cycles,
basins, switching."""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscapes
from vradam.sim.engine import simulate
from vradam.studies import stability as S

BETA = 0.9


@pytest.mark.parametrize(("kind", "limit"), [("gd", 2.0), ("heavy_ball", 2 * (1 + BETA)),
                                             ("ema", 2 * (1 + BETA) / (1 - BETA))])  # fmt: skip
def test_quadratic_stability_thresholds_both_sides(kind, limit):
    """Converges iff α0·L < limit: checked just below and just above, for several L."""
    curvatures = np.array([0.5, 1.0, 4.0])
    below = S.momentum_map(kind, [0.97 * limit], curvatures * 0 + 1, steps=3000)
    above = S.momentum_map(kind, [1.03 * limit], curvatures * 0 + 1, steps=3000)
    assert (below.classes == S.CONVERGED).all()
    assert (above.classes == S.DIVERGED).all()
    for L in curvatures:  # only the product α0·L matters
        lo = S.momentum_map(kind, [0.97 * limit / L], [L], steps=3000)
        hi = S.momentum_map(kind, [1.03 * limit / L], [L], steps=3000)
        assert lo.classes[0, 0] == S.CONVERGED and hi.classes[0, 0] == S.DIVERGED
    assert S.theory_limit(kind, BETA) == pytest.approx(limit)


def test_vrmomentum_beyond_the_limit_is_bounded_not_converged():
    """α0·L > B(β) with an active clip: no divergence and no convergence (a limit cycle)."""
    B = S.theory_limit("ema", BETA)
    m = S.momentum_map("vrmomentum", [2 * B], [1.0], beta3=1.0, alpha1=10.0, steps=2000)
    assert m.classes[0, 0] == S.BOUNDED
    ema = S.momentum_map("ema", [2 * B], [1.0], steps=2000)
    assert ema.classes[0, 0] == S.DIVERGED


def test_map_recurrences_equal_the_engine():
    """The scalar recurrences are the optimizers themselves (checked against simulate)."""
    L = 3.0
    ls = landscapes.from_expression(f"{L / 2}*x^2", domain=((-5, 5), (-5, 5)), start=(1.0, 0.0))
    cases = [
        ("gd", "gd:lr=0.3"),
        ("heavy_ball", "momentum:lr=0.3"),
        ("ema", "vrmomentum:lr=5,beta3=0"),
        ("vrmomentum", "vrmomentum:lr=5,beta3=1"),
    ]
    for kind, spec in cases:
        (tr,) = simulate(ls, [spec], [(1.0, 0.0)], 60)
        lr = float(spec.split("lr=")[1].split(",")[0])
        for steps in (1, 7, 60):
            m = S.momentum_map(kind, [lr], [L], steps=steps)
            assert m.final[0, 0] == pytest.approx(abs(tr.xy[0, steps, 0]), rel=1e-9, abs=1e-12)


def test_vrmomentum_step_bound_while_the_clip_is_inactive():
    """‖Δθ‖ = η_t‖v_t‖ ≤ α0/(2√β3) on a quadratic far beyond the stability limit."""
    alpha0, beta3 = 40.0, 4.0
    ls = landscapes.from_expression("2*x^2 + 0.5*y^2", domain=((-50, 50), (-50, 50)))
    (tr,) = simulate(ls, [f"vrmomentum:lr={alpha0},beta3={beta3},alpha1=1e9"],
                     [(3.0, -2.0)], 400)  # fmt: skip
    assert tr.diverged_at[0] == -1
    assert np.nanmax(tr.step_norm) <= alpha0 / (2 * math.sqrt(beta3)) * (1 + 1e-9)
    assert np.nanmax(tr.step_norm) > 0.5 * alpha0 / (2 * math.sqrt(beta3))


def test_momentum_map_speed_budget_shape():
    m = S.momentum_map("vrmomentum", np.geomspace(0.05, 100, 100), np.geomspace(0.1, 100, 100))
    assert m.classes.shape == (100, 100) and m.steps_to_tol.shape == (100, 100)
    assert {S.CONVERGED, S.BOUNDED, S.DIVERGED} <= set(np.unique(m.classes).tolist())
    assert (m.steps_to_tol[m.classes != S.CONVERGED] == -1).all()


def test_adam_map_adam_row_oscillates_more():
    ls = landscapes.ill_conditioned(25, 30)
    m = S.adam_map(ls, [0.1, 0.3], [0.0, 0.021, 0.21], steps=300)
    assert m.final_loss.shape == (3, 2)
    # at α0 = 0.3 Adam (β3 = 0) has far more loss increases than VRAdam with β3 = 0.021
    assert m.increases[0, 1] >= 3 * m.increases[1, 1]
    assert np.isfinite(m.final_loss).all()


def test_basin_map_of_himmelblau_finds_all_four_minima():
    ls = landscapes.get("himmelblau")
    b = S.basin_map(ls, ["gd:lr=0.01", "adam:lr=0.1"], n=24, steps=300)
    assert b.basins.shape == (2, 24, 24)
    for k in range(2):
        assert set(np.unique(b.basins[k])) >= {0, 1, 2, 3}


def test_switching_and_per_coordinate_counterexamples_grow():
    d = S.gates_and_switching()
    s = d.settings
    # each configuration alone is stable ...
    assert s["rho_each_coordinate_config"] < 1 and s["rho_each_scalar_step"] < 1
    # ... but alternating them grows (docs/theory.md §4: ×3.35 per pair for η = 30, 30/11)
    assert s["growth_per_pair_scalar"] == pytest.approx(3.35, abs=0.01)
    assert s["growth_per_pair_coordinate"] > 4
    assert d.radii["adversarial scalar switching (1-D, η = 30, 30/11)"] > 1.5
    assert d.radii["adversarial per-coordinate switching"] > 2
    # the state-dependent gates, scalar and per coordinate, converge here
    assert d.radii["scalar VR gate (VRMomentum)"] < 1
    assert d.radii["per-coordinate gate"] < 1
