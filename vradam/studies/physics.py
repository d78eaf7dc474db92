"""The physics behind VRAdam: motion with a quartic kinetic energy (docs/theory.md §3).

Lagrangian L = T(v) − V(x) with T(v) = (M/2)‖v‖² + (β3/4)‖v‖⁴. The momentum is
p = ∂L/∂v = (M + β3‖v‖²)·v and the Euler–Lagrange equation is ṗ = −∇V (− γv with
friction). Solved for v̇ in 2-D (Sherman–Morrison on ∂p/∂v = (M + β3‖v‖²)I + 2β3vvᵀ):

    ẋ = v,
    v̇ = [F − 2β3 (v·F) v / (M + 3β3‖v‖²)] / (M + β3‖v‖²),   F = −∇V(x) − γv.

In 1-D (or when F ∥ v) this is the paper's v̇ = F/(M + 3β3‖v‖²); on a 2-D landscape
the full form is needed. The conserved energy (no friction) is the Hamiltonian
E = V + (M/2)‖v‖² + (3β3/4)‖v‖⁴. Integration is classical RK4.

Also here: the gate itself, η(‖v‖) = α0/(1 + min(β3‖v‖², α1)), and the step it
allows, η‖v‖, bounded by α0/(2√β3) while the clip is inactive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vradam.sim.engine import grad_and_loss

__all__ = ["Motion", "acceleration", "gate_curves", "integrate", "momentum"]


def acceleration(F: np.ndarray, v: np.ndarray, mass: float, beta3) -> np.ndarray:
    """v̇ from the force F (…, 2) and velocity v (…, 2); beta3 broadcasts over the batch."""
    s = np.sum(v * v, axis=-1, keepdims=True)
    b = np.asarray(beta3, dtype=np.float64).reshape(-1, 1) if np.ndim(beta3) else beta3
    vF = np.sum(v * F, axis=-1, keepdims=True)
    return (F - 2 * b * vF * v / (mass + 3 * b * s)) / (mass + b * s)


def momentum(v: np.ndarray, mass: float, beta3: float) -> np.ndarray:
    """p = (M + β3‖v‖²)·v for velocities of shape (…, 2)."""
    return (mass + beta3 * np.sum(v * v, axis=-1, keepdims=True)) * v


@dataclass
class Motion:
    beta3: float
    t: np.ndarray  # (T+1,)
    x: np.ndarray  # (T+1, 2)
    v: np.ndarray  # (T+1, 2)
    potential: np.ndarray  # (T+1,) V(x)
    energy: np.ndarray  # (T+1,) V + (M/2)‖v‖² + (3β3/4)‖v‖⁴
    p: np.ndarray  # (T+1, 2) (M + β3‖v‖²)·v
    grad: np.ndarray  # (T+1, 2) ∇V(x)
    escaped_at: int  # first index where the state is not finite or left the 10× box, −1


def integrate(
    landscape, x0, v0, *, beta3s=(0.0, 1.0), mass: float = 1.0, friction: float = 0.0,
    dt: float = 0.01, steps: int = 1000,
) -> list[Motion]:  # fmt: skip
    """RK4 for every β3 at once; one Motion per β3.

    ``x0`` and ``v0`` may also be (N, 2) arrays (v0 broadcasts): then every start runs
    with every β3 in the same batch (it costs about one run), and the Motions come
    start-major: N·B of them, ``motions[i * B + j]`` for start i and β3 j.
    """
    if not (mass > 0 and dt > 0 and steps >= 1 and friction >= 0):
        raise ValueError("need mass > 0, dt > 0, steps ≥ 1 and friction ≥ 0")
    b = np.asarray(beta3s, dtype=np.float64)
    if (b < 0).any() or not np.isfinite(b).all():
        raise ValueError("β3 must be finite and ≥ 0")
    starts = np.atleast_2d(np.asarray(x0, dtype=np.float64))
    pushes = np.broadcast_to(np.asarray(v0, dtype=np.float64), starts.shape)
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError("x0 must be a point (2,) or points (N, 2)")
    b = np.tile(b, len(starts))  # (N·B,): start-major
    B = b.size
    fn = landscape.fn

    def grad_at(x):  # x (B, 2) → V (B,), ∇V (B, 2)
        P = np.ascontiguousarray(x.T)
        f, gx, gy = grad_and_loss(fn, P)
        return f, np.stack([gx, gy], axis=-1)

    def deriv(x, v):
        _, g = grad_at(x)
        return v, acceleration(-g - friction * v, v, mass, b)

    x = np.repeat(starts, B // len(starts), axis=0)
    v = np.repeat(pushes, B // len(starts), axis=0)
    X, Vel = np.empty((steps + 1, B, 2)), np.empty((steps + 1, B, 2))
    X[0], Vel[0] = x, v
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            k1x, k1v = deriv(x, v)
            k2x, k2v = deriv(x + 0.5 * dt * k1x, v + 0.5 * dt * k1v)
            k3x, k3v = deriv(x + 0.5 * dt * k2x, v + 0.5 * dt * k2v)
            k4x, k4v = deriv(x + dt * k3x, v + dt * k3v)
            x = x + dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
            v = v + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
            X[k + 1], Vel[k + 1] = x, v
        Vpot, G = grad_at(X.reshape(-1, 2))
    Vpot = Vpot.reshape(steps + 1, B)
    G = G.reshape(steps + 1, B, 2)
    (bx0, bx1), (by0, by1) = landscape.divergence_box()
    out = []
    t = dt * np.arange(steps + 1)
    for i, beta3 in enumerate(b):
        xi, vi = X[:, i], Vel[:, i]
        bad = ~np.isfinite(xi).all(-1) | ~np.isfinite(vi).all(-1)
        bad |= (xi[:, 0] < bx0) | (xi[:, 0] > bx1) | (xi[:, 1] < by0) | (xi[:, 1] > by1)
        escaped = int(np.argmax(bad)) if bad.any() else -1
        s = np.sum(vi * vi, axis=-1)
        E = Vpot[:, i] + 0.5 * mass * s + 0.75 * beta3 * s * s
        p = momentum(vi, mass, beta3)
        out.append(Motion(float(beta3), t, xi, vi, Vpot[:, i], E, p, G[:, i], escaped))
    return out


def gate_curves(alpha0: float, beta3: float, alpha1: float, speeds: np.ndarray) -> dict:
    """η(‖v‖), the step η‖v‖, and the bound α0/(2√β3) (clip inactive) over ‖v‖."""
    s = np.asarray(speeds, dtype=np.float64)
    eta = alpha0 / (1 + np.minimum(beta3 * s * s, alpha1))
    clip_speed = math.sqrt(alpha1 / beta3) if beta3 > 0 else math.inf
    return dict(
        speed=s,
        eta=eta,
        step=eta * s,
        floor=alpha0 / (1 + alpha1),
        bound=alpha0 / (2 * math.sqrt(beta3)) if beta3 > 0 else math.inf,
        peak_speed=1 / math.sqrt(beta3) if beta3 > 0 else math.inf,
        clip_speed=clip_speed,
    )
