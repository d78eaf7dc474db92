"""Sharpness of a network's loss: the top Hessian eigenvalue from Hessian-vector products.

Hessian-vector products come from autograd (double backward, never finite
differences); the top eigenvalue from Lanczos (``scipy.sparse.linalg.eigsh``,
k = 1, largest algebraic), warm-started from the previous eigenvector, which cuts
the number of products when sharpness is tracked during training.

For adaptive optimizers the threshold applies to the preconditioned sharpness
λmax(P^-½ H P^-½) with P = diag(√m̂ + ε) (Adam family), diag(√v + ε) (RMSprop) or
diag(√Σg² + ε) (Adagrad): :func:`vradam.sim.optimizers.preconditioner` reads it from the
optimizer's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["top_eigenvalue"]


def top_eigenvalue(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    *,
    precond: Sequence[Tensor] | None = None,
    v0: np.ndarray | None = None,
    tol: float = 1e-6,
    ncv: int | None = None,
) -> tuple[float, np.ndarray, int]:
    """λmax of the Hessian of ``loss_fn()`` w.r.t. ``params`` (or of P^-½ H P^-½).

    Returns (eigenvalue, eigenvector as a float64 array, number of Hessian-vector
    products). Pass the eigenvector back as ``v0`` at the next call.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    params = list(params)
    loss = loss_fn()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    n = flat.numel()
    scale = None
    if precond is not None:
        scale = torch.cat([d.reshape(-1) for d in precond]).to(flat).rsqrt()
    count = 0

    def matvec(v_np: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        v = torch.as_tensor(np.ascontiguousarray(v_np).ravel()).to(flat)
        if scale is not None:
            v = v * scale
        hv = torch.autograd.grad(flat @ v, params, retain_graph=True)
        out = torch.cat([h.reshape(-1) for h in hv])
        if scale is not None:
            out = out * scale
        return out.detach().double().cpu().numpy()

    if n < 3:  # Lanczos needs k < n; tiny problems are solved densely
        H = np.stack([matvec(e) for e in np.eye(n)])
        w, V = np.linalg.eigh((H + H.T) / 2)
        return float(w[-1]), V[:, -1], count
    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    if v0 is not None and (v0.shape != (n,) or not np.isfinite(v0).all() or not v0.any()):
        v0 = None
    ncv = min(n, ncv or 8)  # a short Lanczos basis: with a warm start ~9 products suffice
    values, vectors = eigsh(op, k=1, which="LA", v0=v0, tol=tol, ncv=ncv)
    return float(values[0]), vectors[:, 0], count
