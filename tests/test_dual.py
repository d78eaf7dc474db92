"""Forward-mode gradients (landscapes.dual) agree with autograd; where they cannot, autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import landscapes
from landscapes.dual import value_and_grad
from landscapes.expression import FUNCTIONS
from vradam.sim.engine import autograd_grad_and_loss, grad_and_loss, simulate


def _points(ls, n=400, seed=0):
    (x0, x1), (y0, y1) = ls.domain
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(
        np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]).reshape(2, 20, n // 20)
    )


def _assert_same(fast, slow):
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == b.shape and a.dtype == np.float64
        scale = np.maximum(np.abs(b), 1.0)
        assert np.all(np.abs(a - b) <= 1e-12 * scale), np.max(np.abs(a - b) / scale)


LIBRARY = [*landscapes.REGISTRY.values(), landscapes.ill_conditioned(100.0, 75.0)]


@pytest.mark.parametrize("ls", LIBRARY, ids=lambda ls: ls.name)
def test_every_library_landscape_takes_the_fast_path_and_matches_autograd(ls):
    P = _points(ls)
    fast = value_and_grad(ls.fn, P[0], P[1])
    assert fast is not None, f"{ls.key} fell back to autograd"
    _assert_same(fast, autograd_grad_and_loss(ls.fn, P))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_expression_function_matches_autograd(name):
    # Arguments inside every function's domain (asin/acos need |u| < 1, logs u > 0).
    ls = landscapes.from_expression(f"{name}(0.3*x + 0.2*y + 0.1) + x*y/(2 + y^2)",
                                    domain=((0.0, 1.0), (0.0, 1.0)))  # fmt: skip
    P = _points(ls, seed=1)
    fast = value_and_grad(ls.fn, P[0], P[1])
    assert fast is not None
    _assert_same(fast, autograd_grad_and_loss(ls.fn, P))


@pytest.mark.parametrize(
    "text", ["x^y + 2^(x*y) + y^0.5", "(x^2 + 1)^(y/3) - 0^y", "softplus(30*x) + softplus(-40*y)",
             "abs(x) + abs(y)", "7", "x - x"],
)  # fmt: skip
def test_powers_kinks_and_constants_match_autograd(text):
    ls = landscapes.from_expression(text, domain=((0.1, 2.0), (0.1, 2.0)))
    P = _points(ls, seed=2)
    P[:, 0, :3] = [[0.5, 1.0, 1.5], [0.0, 1.0, 0.0]]  # y = 0 where the exponent is 0
    slow = autograd_grad_and_loss(ls.fn, P)
    fast = value_and_grad(ls.fn, P[0], P[1])
    if fast is None:  # a non-finite result: the caller's autograd answer is the answer
        assert not all(np.isfinite(a).all() for a in slow)
    else:
        _assert_same(fast, slow)


def test_non_finite_results_and_unknown_operations_fall_back_to_autograd():
    ls = landscapes.from_expression("sqrt(x^2 + y^2)")  # gradient 0/0 at the origin
    P = np.zeros((2, 1, 3))
    P[0, 0] = [0.0, 1.0, -2.0]
    assert value_and_grad(ls.fn, P[0], P[1]) is None
    f, gx, gy = grad_and_loss(ls.fn, P)  # the engine's entry point still answers
    slow = autograd_grad_and_loss(ls.fn, P)
    for a, b in zip((f, gx, gy), slow, strict=True):
        np.testing.assert_array_equal(a, b)

    def uses_where(x, y):
        return torch.where(x > 0, x, -x) + y**2

    assert value_and_grad(uses_where, P[0], P[1]) is None
    _, gx, gy = grad_and_loss(uses_where, np.ascontiguousarray(P + 0.5))
    np.testing.assert_allclose(gx, np.sign(P[0] + 0.5))
    np.testing.assert_allclose(gy, 2 * (P[1] + 0.5))


def test_simulated_runs_match_the_autograd_engine(monkeypatch):
    ls = landscapes.get("rosenbrock")
    specs = ["adam:lr=0.05", "vradam:lr=0.05,beta3=0.005", "momentum:lr=0.001", "gd:lr=0.001"]
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [-2.0, -1.0]])
    fast = simulate(ls, specs, starts, steps=200)
    import vradam.sim.engine as engine

    monkeypatch.setattr(engine, "value_and_grad", lambda fn, x, y: None)
    slow = simulate(ls, specs, starts, steps=200)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a.xy, b.xy, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.effective_lr, b.effective_lr, rtol=1e-9)
        np.testing.assert_allclose(a.sharpness, b.sharpness, rtol=1e-9)
