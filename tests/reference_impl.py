"""Plain, readable float64 reference loops of the updates in docs/theory.md §1
(no torch.optim).

Written from docs/theory.md §1.1, deliberately with none of the
package's code, so the tests compare two independent implementations.
"""

from __future__ import annotations

import math

import torch


def vradam_reference(groups, grad_seq, *, maximize=False):
    """Run VRAdam on float64 copies.

    groups: list of dicts with "params" (list of tensors) and lr, betas, beta3,
        alpha1, eps, weight_decay.
    grad_seq: list over steps of list over groups of list over params of grads.
    Returns (final params per group, etas[t][group], sq_norms[t]).
    """
    theta = [[p.detach().clone().double() for p in g["params"]] for g in groups]
    v = [[torch.zeros_like(p) for p in g] for g in theta]
    m = [[torch.zeros_like(p) for p in g] for g in theta]
    etas, sq_norms = [], []
    for t, grads in enumerate(grad_seq, start=1):
        for gi, g in enumerate(groups):
            b1, b2 = g["betas"]
            for j in range(len(theta[gi])):
                grad = grads[gi][j].double() * (-1.0 if maximize else 1.0)
                v[gi][j] = b1 * v[gi][j] + (1 - b1) * grad
                m[gi][j] = b2 * m[gi][j] + (1 - b2) * grad * grad
        s = sum(float((vij**2).sum()) for vg in v for vij in vg)
        sq_norms.append(s)
        step_etas = []
        for gi, g in enumerate(groups):
            b1, b2 = g["betas"]
            eta = g["lr"] / (1 + min(g["beta3"] * s, g["alpha1"]))
            step_etas.append(eta)
            for j in range(len(theta[gi])):
                v_hat = v[gi][j] / (1 - b1**t)
                m_hat = m[gi][j] / (1 - b2**t)
                theta[gi][j] = theta[gi][j] * (1 - eta * g["weight_decay"]) - eta * v_hat / (
                    torch.sqrt(m_hat) + g["eps"]
                )
        etas.append(step_etas)
    return theta, etas, sq_norms


def vrmomentum_reference(groups, grad_seq, *, maximize=False):
    """Run VRMomentum (EMA velocity, no bias correction) on float64 copies."""
    theta = [[p.detach().clone().double() for p in g["params"]] for g in groups]
    v = [[torch.zeros_like(p) for p in g] for g in theta]
    etas, sq_norms = [], []
    for grads in grad_seq:
        for gi, g in enumerate(groups):
            for j in range(len(theta[gi])):
                grad = grads[gi][j].double() * (-1.0 if maximize else 1.0)
                v[gi][j] = g["beta1"] * v[gi][j] + (1 - g["beta1"]) * grad
        s = sum(float((vij**2).sum()) for vg in v for vij in vg)
        sq_norms.append(s)
        step_etas = []
        for gi, g in enumerate(groups):
            eta = g["lr"] / (1 + min(g["beta3"] * s, g["alpha1"]))
            step_etas.append(eta)
            for j in range(len(theta[gi])):
                theta[gi][j] = theta[gi][j] * (1 - eta * g["weight_decay"]) - eta * v[gi][j]
        etas.append(step_etas)
    return theta, etas, sq_norms


def random_grad_seq(shapes_per_group, steps, *, seed=0, log_scale_range=(-2.0, 1.0)):
    """Random float64 gradients whose overall scale varies by step (log-uniform)."""
    gen = torch.Generator().manual_seed(seed)
    seq = []
    for _ in range(steps):
        lo, hi = log_scale_range
        u = float(torch.rand((), generator=gen, dtype=torch.float64))
        scale = math.pow(10.0, lo + (hi - lo) * u)
        seq.append(
            [
                [scale * torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
                for shapes in shapes_per_group
            ]
        )
    return seq
