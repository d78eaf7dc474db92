"""Batched simulation: K optimizer configurations × N starts × T steps on one 2-D landscape.

All K·N runs advance together as array operations; there is no Python loop per
run or per optimizer. Every optimizer in :mod:`vradam.sim.optimizers` is one case of
a single update written with per-run coefficients:

    num  = c1·v + c2·g                  (direction, from the previous velocity v)
    v    ← a1·v + b1·g                  (first moment / momentum buffer)
    m    ← a2·m + b2·g²                 (second moment / accumulator)
    den  = √(c3·m) + e                  (preconditioner; 1 where there is none)
    η    = lr_t / (1 + min(β3‖v‖², α1)) (β3 = 0 except for the VR optimizers)
    θ    ← θ − η·(num/den + λ_dec·θ)    (sign(num) instead of num/den for Lion)

with g = ∇f(θ) + noise + λ_L2·θ. The coefficients depend on the step (bias
corrections, NAdam's momentum schedule, RAdam's rectification, the LR schedule)
and are tabulated before the loop. Gradients come from the landscape's torch
function evaluated on forward-mode dual numbers in numpy (autograd where those
cannot answer); the update runs in numpy, whose operations on these
small arrays cost about a microsecond. Derived telemetry (Hessians, sharpness,
thresholds, divergence and convergence) is computed once after the loop,
vectorised over all steps.

Definitions (documented in the README and tested):

* A run **diverges** at the first step whose loss or position is not finite or
  whose position leaves the landscape's domain enlarged 10× about its centre.
  From then on it is frozen at its last valid position (its telemetry is NaN).
* A run **converges** at the first step after which its gradient norm stays below
  ``tolerance`` (default 1e-6 × the landscape's gradient scale) and, for
  landscapes with known minimisers, its position stays within 1e-3 of one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from landscapes.dual import value_and_grad
from vradam.sim import schedules
from vradam.sim.optimizers import OptimizerSpec, stability_threshold
from vradam.sim.unified import Coefficients, gate

__all__ = ["Trajectory", "grad_and_loss", "hessians", "simulate", "top_eigenvalue"]

MAX_STEPS = 100_000
# Intermediates of each update kept with telemetry="step" (not frozen at divergence).
# Unlike the telemetry above they are raw: not frozen or NaN after a divergence.
INTERNALS = {
    "theta": "XY",  # (N, T+1, 2) positions
    "loss": "LOSS",  # (N, T+1)
    "grad": "GOPT",  # (N, T, 2) g_t as the optimizer sees it: noise and L2 term included
    "velocity": "VEL",  # (N, T, 2) first moment / momentum buffer after update t
    "second": "SECOND",  # (N, T, 2) second moment / accumulator (0 where none)
    "direction": "DIR",  # (N, T, 2) the step direction before η_t and decoupled decay
    "sq_norm": "SQ",  # (N, T) ‖v_t‖²
    "eta": "ETA",  # (N, T) η_t
}
CONVERGENCE_RADIUS = 1e-3


@dataclass
class Trajectory:
    """One optimizer configuration's runs from every start (numpy arrays, float64).

    Shapes use N starts and T steps; index t of a (…, T+1) array is the state
    after t updates, index t of a (…, T) array belongs to update t+1.
    """

    spec: OptimizerSpec
    landscape: str  # the landscape's key
    xy: np.ndarray  # (N, T+1, 2) positions
    loss: np.ndarray  # (N, T+1)
    diverged_at: np.ndarray  # (N,) first invalid step index, −1 if never
    converged_at: np.ndarray  # (N,) step index, −1 if never
    lr: np.ndarray  # (T,) the scheduled base rate α0·schedule
    # Full telemetry only (None with telemetry="path"):
    grad: np.ndarray | None = None  # (N, T, 2) ∇f at xy[t] (without the added noise)
    velocity: np.ndarray | None = None  # (N, T, 2) first moment / momentum buffer after update t
    velocity_sq_norm: np.ndarray | None = None  # (N, T) ‖velocity‖²
    effective_lr: np.ndarray | None = None  # (N, T) η_t (VR: gated; others: scheduled lr)
    coord_lr: np.ndarray | None = None  # (N, T, 2) η_t / preconditioner, per coordinate
    step_norm: np.ndarray | None = None  # (N, T) ‖xy[t+1] − xy[t]‖
    sharpness: np.ndarray | None = None  # (N, T+1) λmax of the Hessian at xy[t]
    precond_sharpness: np.ndarray | None = None  # (N, T) λmax(P^-½ H P^-½); adaptive only
    stability_threshold: np.ndarray | None = None  # (N, T); NaN where none (Lion)
    # telemetry="step" only: name → (N, T, 2) array, see INTERNALS
    internals: dict[str, np.ndarray] | None = None

    @property
    def label(self) -> str:
        return self.spec.display_name

    @property
    def steps(self) -> int:
        return self.xy.shape[1] - 1

    @property
    def compared_sharpness(self) -> np.ndarray | None:
        """The sharpness this optimizer's threshold applies to, shape (N, T)."""
        kind = self.spec.info.stability
        if kind == "preconditioned":
            return self.precond_sharpness
        if kind == "sharpness" and self.sharpness is not None:
            return self.sharpness[:, :-1]
        return None


# ----------------------------------------------------------------------------- derivatives


def grad_and_loss(fn, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f, ∂f/∂x, ∂f/∂y at P (2, …) (P[0], P[1] must be contiguous).

    Forward-mode dual numbers in numpy (:func:`landscapes.dual.value_and_grad`, about
    5× cheaper per step on the small arrays of a run), autograd where they cannot
    answer: an operation they do not implement, or a result that is not finite.
    """
    fast = value_and_grad(fn, P[0], P[1])
    if fast is not None:
        return fast
    return autograd_grad_and_loss(fn, P)


def autograd_grad_and_loss(fn, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f, ∂f/∂x, ∂f/∂y at P (2, …) by autograd (P[0], P[1] must be contiguous)."""
    x = torch.from_numpy(P[0]).requires_grad_(True)
    y = torch.from_numpy(P[1]).requires_grad_(True)
    f = fn(x, y)
    # backward() with an explicit seed is measurably cheaper than autograd.grad(f.sum()).
    f.backward(torch.ones_like(f))
    gx = x.grad if x.grad is not None else torch.zeros_like(x)
    gy = y.grad if y.grad is not None else torch.zeros_like(y)
    return f.detach().numpy(), gx.numpy(), gy.numpy()


def hessians(fn, xy: np.ndarray, chunk: int = 200_000) -> tuple[np.ndarray, ...]:
    """(f_xx, f_xy, f_yy) at points xy of shape (2, …), by double autograd."""
    shape = xy.shape[1:]
    flat = xy.reshape(2, -1)
    out = [np.empty(flat.shape[1]) for _ in range(3)]
    for lo in range(0, flat.shape[1], chunk):
        hi = min(lo + chunk, flat.shape[1])
        x = torch.from_numpy(np.ascontiguousarray(flat[0, lo:hi])).requires_grad_(True)
        y = torch.from_numpy(np.ascontiguousarray(flat[1, lo:hi])).requires_grad_(True)
        f = fn(x, y)
        gx, gy = torch.autograd.grad(f.sum(), (x, y), create_graph=True, allow_unused=True)
        parts = []
        for g, wrt in ((gx, (x, y)), (gy, (y,))):
            if g is None or not g.requires_grad:
                parts.extend([torch.zeros_like(x)] * len(wrt))
                continue
            d = torch.autograd.grad(g.sum(), wrt, retain_graph=True, allow_unused=True)
            parts.extend(torch.zeros_like(x) if v is None else v for v in d)
        hxx, hxy, hyy = (p.detach().numpy() for p in parts)
        out[0][lo:hi], out[1][lo:hi], out[2][lo:hi] = hxx, hxy, hyy
    return tuple(o.reshape(shape) for o in out)


def top_eigenvalue(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """λmax of symmetric [[a, b], [b, c]] in closed form."""
    return (a + c) / 2 + np.sqrt(((a - c) / 2) ** 2 + b**2)


# ----------------------------------------------------------------------------- simulate


def _resolve_landscape(landscape):
    import landscapes

    if isinstance(landscape, str):
        return landscapes.get(landscape)
    if isinstance(landscape, landscapes.Landscape):
        return landscape
    raise ValueError(f"landscape must be a registry key or a Landscape, got {type(landscape)}")


def _resolve_specs(optimizers) -> list[OptimizerSpec]:
    if isinstance(optimizers, (str, OptimizerSpec)):
        optimizers = [optimizers]
    specs = [OptimizerSpec.parse(o) if isinstance(o, str) else o for o in optimizers]
    if not specs:
        raise ValueError("no optimizers given")
    for s in specs:
        if not isinstance(s, OptimizerSpec):
            raise ValueError(f"expected OptimizerSpec or 'key:name=value' text, got {s!r}")
        if "auto" in dict(s.params).values():
            raise ValueError(
                f"{s}: beta3=auto calibrates during training; the 2-D engine needs a number "
                "(the Playground's 'suggest β₃' button measures one)"
            )
    return specs


def _resolve_starts(starts) -> np.ndarray:
    try:
        arr = np.asarray(starts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("starts must be numbers of shape (N, 2)") from None
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"starts must have shape (N, 2), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("starts must be finite")
    return arr


def simulate(
    landscape,
    optimizers: Sequence[OptimizerSpec | str] | OptimizerSpec | str,
    starts,
    steps: int,
    *,
    noise_std: float = 0.0,
    seed: int = 0,
    schedule: str = "constant",
    telemetry: str = "full",
    tolerance: float | None = None,
) -> list[Trajectory]:
    """Run every optimizer from every start for ``steps`` updates, all at once.

    Args:
        landscape: a registry key (``"rosenbrock"``) or a :class:`landscapes.Landscape`.
        optimizers: OptimizerSpecs or spec strings (``"vradam:lr=0.05,beta3=1"``).
        starts: (N, 2) starting points (a single (2,) point is accepted).
        steps: number of updates T (1 … 100 000).
        noise_std: standard deviation of Gaussian noise added to every gradient
            component; the same seeded noise sequence reaches every optimizer.
        seed: seed of the noise.
        schedule: one of :data:`vradam.sim.schedules.SCHEDULES`.
        telemetry: ``"full"`` records everything; ``"path"`` only positions, loss
            and the divergence/convergence flags (for maps over many starts);
            ``"step"`` adds to ``"full"`` every intermediate of each update
            (:attr:`Trajectory.internals`, for the step-through).
        tolerance: gradient-norm tolerance of convergence (default 1e-6 × the
            landscape's gradient scale).

    Returns:
        One :class:`Trajectory` per optimizer, in order.
    """
    ls = _resolve_landscape(landscape)
    specs = _resolve_specs(optimizers)
    starts = _resolve_starts(starts)
    steps = _check_steps(steps)
    if not (math.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be a finite number ≥ 0, got {noise_std}")
    if telemetry not in ("full", "path", "step"):
        raise ValueError(f"telemetry must be 'full', 'path' or 'step', got {telemetry!r}")
    if tolerance is None:
        tolerance = 1e-6 * ls.grad_scale
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number, got {tolerance}")
    factors = schedules.factors(schedule, steps)
    coefs = [s.coefficients(s.hyperparams["lr"] * factors) for s in specs]
    rng = np.random.default_rng(seed) if noise_std > 0 else None
    rec = _loop(ls.fn, _Stacked(coefs), starts, steps, noise_std, rng, telemetry)
    XY, LOSS, GN = rec["XY"], rec["LOSS"], rec.pop("GN")
    if telemetry == "step":
        rec["XY"], rec["LOSS"] = XY.copy(), LOSS.copy()

    diverged_at = _first_divergence(ls, XY, LOSS)
    _freeze(diverged_at, XY, LOSS, GN)
    converged_at = _first_convergence(ls, XY, GN, tolerance, diverged_at)
    out = [
        Trajectory(
            spec=spec,
            landscape=ls.key,
            xy=XY[:, :, i, :].transpose(2, 0, 1).copy(),
            loss=LOSS[:, i, :].T.copy(),
            diverged_at=diverged_at[i].copy(),
            converged_at=converged_at[i].copy(),
            lr=coefs[i].lr.copy(),
        )
        for i, spec in enumerate(specs)
    ]
    if telemetry != "path":
        _full_telemetry(ls, coefs, out, XY, rec, diverged_at)
    return out


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be an integer, got {steps!r}")
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")
    return int(steps)


class _Stacked:
    """The K optimizers' coefficients stacked for broadcasting against (2, K, N) state:
    every per-step table as (T, K, 1)."""

    def __init__(self, coefs: list[Coefficients]) -> None:
        for name in Coefficients.TABLES:
            setattr(self, name, np.stack([getattr(c, name) for c in coefs], axis=1)[:, :, None])
        self.sign = np.array([c.sign for c in coefs])[:, None]
        self.any_l2, self.any_dec = bool(self.wd_l2.any()), bool(self.wd_dec.any())
        self.any_vr, self.any_sign = bool(self.beta3.any()), bool(self.sign.any())
        self.any_m = bool(self.b2.any())


def _loop(fn, c: _Stacked, starts, T: int, noise_std: float, rng, telemetry: str) -> dict:
    """The update loop of all K·N runs; returns the recorded arrays by name."""
    K, N = c.lr.shape[1], starts.shape[0]
    # State, shape (2, K, N): coordinate first so P[0], P[1] are contiguous.
    P = np.array(np.broadcast_to(starts.T[:, None, :], (2, K, N)))
    V, M, G = np.zeros((2, K, N)), np.zeros((2, K, N)), np.empty((2, K, N))
    rec = dict(XY=np.empty((T + 1, 2, K, N)), LOSS=np.empty((T + 1, K, N)),
               GN=np.empty((T + 1, K, N)))  # GN: ‖∇f‖ for the convergence test  # fmt: skip
    full, step = telemetry != "path", telemetry == "step"
    names = (["GRAD", "VEL", "DEN"] if full else []) + (["GOPT", "SECOND", "DIR"] if step else [])
    rec.update({n: np.empty((T, 2, K, N)) for n in names})
    if full:
        rec.update(SQ=np.empty((T, K, N)), ETA=np.empty((T, K, N)))
    XY, LOSS, GN = rec["XY"], rec["LOSS"], rec["GN"]
    XY[0] = P
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(T):
            LOSS[k], G[0], G[1] = grad_and_loss(fn, P)
            np.hypot(G[0], G[1], out=GN[k])
            if full:
                rec["GRAD"][k] = G
            if rng is not None:
                G += noise_std * rng.standard_normal((2, 1, N))
            if c.any_l2:
                G += c.wd_l2[k] * P
            num = c.c1[k] * V
            num += c.c2[k] * G
            V *= c.a1[k]
            V += c.b1[k] * G
            if c.any_m:
                M *= c.a2[k]
                M += c.b2[k] * (G * G)
                den = np.sqrt(c.c3[k] * M)
                den += c.e[k]
            else:
                den = c.e[k]
            sq = V[0] * V[0] + V[1] * V[1]
            eta = gate(c.lr[k], sq, c.beta3[k], c.alpha1[k]) if c.any_vr else c.lr[k]
            upd = num / den
            if c.any_sign:
                upd = np.where(c.sign, np.sign(num), upd)
            if step:
                rec["GOPT"][k], rec["SECOND"][k], rec["DIR"][k] = G, M, upd
            if c.any_dec:
                upd += c.wd_dec[k] * P
            upd *= eta
            P -= upd
            XY[k + 1] = P
            if full:
                rec["VEL"][k], rec["SQ"][k], rec["ETA"][k] = V, sq, eta
                rec["DEN"][k] = den
        LOSS[T], gx, gy = grad_and_loss(fn, P)
        GN[T] = np.hypot(gx, gy)
    return rec


def _first_divergence(ls, XY: np.ndarray, LOSS: np.ndarray) -> np.ndarray:
    """(K, N) first step index with a non-finite or out-of-box state, −1 if none."""
    (x0, x1), (y0, y1) = ls.divergence_box()
    x, y = XY[:, 0], XY[:, 1]
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(LOSS) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    first = bad.argmax(axis=0)
    return np.where(bad.any(axis=0), first, -1)


def _freeze(diverged_at: np.ndarray, XY, LOSS, GN) -> None:
    """Hold diverged runs at their last valid state (in place)."""
    if not (diverged_at >= 0).any():
        return
    t = np.arange(XY.shape[0])[:, None, None]
    last = np.maximum(diverged_at - 1, 0)
    src = np.where((diverged_at >= 0) & (t >= diverged_at), last, t)  # (T+1, K, N)
    XY[:] = np.take_along_axis(XY, src[:, None], axis=0)
    LOSS[:] = np.take_along_axis(LOSS, src, axis=0)
    GN[:] = np.take_along_axis(GN, src, axis=0)


def _first_convergence(ls, XY, GN, tolerance, diverged_at) -> np.ndarray:
    """(K, N) first step after which the run stays converged, −1 if it never does."""
    ok = GN < tolerance  # (T+1, K, N)
    if ls.minima:
        # Squared distance to the nearest minimiser, one minimiser at a time
        # (no (T+1, K, N, M, 2) temporary).
        x, y = XY[:, 0], XY[:, 1]
        near = np.zeros_like(ok)
        r2 = CONVERGENCE_RADIUS**2
        for mx, my in ls.minima:
            near |= (x - mx) ** 2 + (y - my) ** 2 < r2
        ok &= near
    stays = np.logical_and.accumulate(ok[::-1], axis=0)[::-1]
    first = stays.argmax(axis=0)
    converged = stays[-1] & (diverged_at < 0)
    return np.where(converged, first, -1)


def _full_telemetry(ls, coefs, out, XY, rec, diverged_at) -> None:
    GRAD, VEL, SQ, ETA, DEN = (rec[n] for n in ("GRAD", "VEL", "SQ", "ETA", "DEN"))
    T = GRAD.shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        hxx, hxy, hyy = hessians(ls.fn, XY.transpose(1, 0, 2, 3))  # each (T+1, K, N)
        sharp = top_eigenvalue(hxx, hxy, hyy)
        d0, d1 = DEN[:, 0], DEN[:, 1]  # (T, K, N)
        pre = top_eigenvalue(hxx[:-1] / d0, hxy[:-1] / np.sqrt(d0 * d1), hyy[:-1] / d1)
        step = np.linalg.norm(np.diff(XY, axis=0), axis=1)  # (T, K, N)
        coord = ETA[:, None] / DEN
    t_state = np.arange(T + 1)[:, None]
    t_step = np.arange(T)[:, None]
    for i, (c, tr) in enumerate(zip(coefs, out)):
        d = diverged_at[i]  # (N,)
        # NaN from the diverging step on: (T+1)-arrays at t ≥ d, T-arrays at t ≥ d − 1.
        dead_state = (d >= 0) & (t_state >= d)  # (T+1, N)
        dead_step = (d >= 0) & (t_step >= d - 1)  # (T, N)

        def per_run(a, dead):  # (T', N) -> (N, T')
            return np.where(dead, np.nan, a).T.copy()

        def per_run2(a, dead):  # (T', 2, N) -> (N, T', 2)
            return np.where(dead[:, None], np.nan, a).transpose(2, 0, 1).copy()

        tr.grad = per_run2(GRAD[:, :, i], dead_step)
        tr.velocity = per_run2(VEL[:, :, i], dead_step)
        tr.velocity_sq_norm = per_run(SQ[:, i], dead_step)
        tr.effective_lr = per_run(ETA[:, i], dead_step)
        tr.coord_lr = per_run2(coord[:, :, i], dead_step)
        tr.step_norm = per_run(step[:, i], dead_step)
        tr.sharpness = per_run(sharp[:, i], dead_state)
        if tr.spec.info.stability == "preconditioned":
            tr.precond_sharpness = per_run(pre[:, i], dead_step)
        threshold = stability_threshold(tr.spec, c, ETA[:, i])
        tr.stability_threshold = per_run(threshold, dead_step)
        if "GOPT" in rec:  # unfrozen: the step-through shows what the update computed
            tr.internals = {name: np.moveaxis(rec[key][..., i, :], -1, 0).copy()
                            for name, key in INTERNALS.items()}  # fmt: skip
