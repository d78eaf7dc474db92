"""Every registry landscape's metadata is right, and its derivatives are finite."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import landscapes
from landscapes import REGISTRY

REQUIRED = [
    "quadratic", "ill_conditioned", "saddle", "rosenbrock", "beale", "himmelblau", "rastrigin",
    "ackley", "goldstein_price", "booth", "matyas", "three_hump_camel", "six_hump_camel",
    "styblinski_tang", "levi_n13", "mccormick",
]  # fmt: skip

WITH_MINIMA = [(k, i) for k, ls in REGISTRY.items() for i in range(len(ls.minima))]


def test_registry_has_every_required_key():
    assert set(REQUIRED) <= set(REGISTRY)
    assert REGISTRY["saddle"].minima == ()


@pytest.mark.parametrize(("key", "i"), WITH_MINIMA)
def test_minimiser_value_and_zero_gradient(key, i):
    ls = REGISTRY[key]
    m = ls.minima[i]
    assert ls.value(m) == pytest.approx(ls.min_value, abs=1e-12)
    assert np.abs(ls.gradient(m)).max() < 1e-9
    # a minimum, not a saddle: the Hessian is positive semi-definite there
    x = torch.tensor(m[0], dtype=torch.float64)
    y = torch.tensor(m[1], dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda a, b: ls.fn(a, b), (x, y))
    H = torch.tensor([[float(H[0][0]), float(H[0][1])], [float(H[1][0]), float(H[1][1])]])
    assert torch.linalg.eigvalsh(H).min() >= -1e-9


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_metadata_is_consistent(key):
    ls = REGISTRY[key]
    assert ls.key == key and ls.name and ls.formula and ls.lesson.endswith(".")
    (x0, x1), (y0, y1) = ls.domain
    assert x0 <= ls.start[0] <= x1 and y0 <= ls.start[1] <= y1
    for mx, my in ls.minima:
        assert x0 <= mx <= x1 and y0 <= my <= y1
    assert ls.suggested_lr > 0 and ls.suggested_beta3 > 0 and ls.suggested_steps > 0
    if ls.minima:
        # no point of a fine grid is lower than the stated minimum
        _, _, Z = ls.grid(301)
        assert np.nanmin(Z) >= ls.min_value - 1e-9


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_gradients_and_hessians_finite_everywhere_a_run_can_go(key):
    """On a grid of the divergence box (the region runs may visit), minimisers and the origin."""
    ls = REGISTRY[key]
    from vradam.sim.engine import hessians

    (x0, x1), (y0, y1) = ls.divergence_box(factor=3.0)
    xs = np.concatenate([np.linspace(x0, x1, 61), [0.0, *(m[0] for m in ls.minima)]])
    ys = np.concatenate([np.linspace(y0, y1, 61), [0.0, *(m[1] for m in ls.minima)]])
    X, Y = np.meshgrid(xs, ys)
    pts = np.stack([X, Y])
    g = ls.gradient(np.moveaxis(pts, 0, -1))
    assert np.isfinite(g).all()
    for h in hessians(ls.fn, pts):
        assert np.isfinite(h).all()


def test_ackley_is_safe_at_the_origin():
    ls = REGISTRY["ackley"]
    assert ls.value((0.0, 0.0)) == 0.0
    assert np.array_equal(ls.gradient((0.0, 0.0)), [0.0, 0.0])
    # the smoothing changes the standard Ackley by less than 1e-7 away from the origin
    x, y = 1.3, -0.7
    r = np.sqrt(0.5 * (x * x + y * y))
    standard = (
        (-20 * np.exp(-0.2 * r) - np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y))))
        + np.e
        + 20
    )
    assert ls.value((x, y)) == pytest.approx(standard, abs=1e-7)


def test_get_and_its_errors():
    assert landscapes.get("rosenbrock") is REGISTRY["rosenbrock"]
    with pytest.raises(ValueError, match="unknown landscape 'nope'; valid keys: ackley, beale"):
        landscapes.get("nope")
    with pytest.raises(ValueError, match="takes no parameters"):
        landscapes.get("rosenbrock", condition=3)
    with pytest.raises(ValueError, match="takes the parameters condition, angle"):
        landscapes.get("ill_conditioned", bogus=3)


def test_ill_conditioned_factory():
    ls = landscapes.get("ill_conditioned", condition=100, angle=45)
    assert dict(ls.params) == {"condition": 100.0, "angle": 45.0}
    # Hessian eigenvalues are 1 and κ, the floor along θ
    H = torch.autograd.functional.hessian(
        lambda p: ls.fn(p[0], p[1]), torch.zeros(2, dtype=torch.float64)
    )
    assert torch.linalg.eigvalsh(H).tolist() == pytest.approx([1.0, 100.0])
    floor = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4)])
    assert ls.value(floor) == pytest.approx(0.5)
    for bad in (dict(condition=0.5), dict(condition=float("nan")), dict(angle=float("inf"))):
        with pytest.raises(ValueError):
            landscapes.ill_conditioned(**bad)


def test_grid_uses_the_same_function():
    ls = REGISTRY["himmelblau"]
    xs, ys, Z = ls.grid(11)
    assert Z.shape == (11, 11)
    assert Z[3, 7] == pytest.approx(float(ls.value((xs[7], ys[3]))))


def test_divergence_box_and_nearest_minimum():
    ls = REGISTRY["rosenbrock"]
    assert ls.divergence_box() == ((-20.0, 20.0), (-19.0, 21.0))
    idx, dist = ls.nearest_minimum(np.array([[1.0, 1.0], [1.0, 4.0]]))
    assert idx.tolist() == [0, 0] and dist.tolist() == pytest.approx([0.0, 3.0])
