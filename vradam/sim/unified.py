"""The engine's unified update (docs/theory.md §1.4): every optimizer record states its
update as per-step :class:`Coefficients`; :func:`gate` is the velocity gate of the VR
optimizers and :func:`linear_threshold` the stability threshold of the frozen update, both
defined once here for every layer (the 2-D engine, the EoS trainer, the 1-D stability maps,
the thresholds on every page)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["Coefficients", "gate", "linear_threshold"]


@dataclass(frozen=True, kw_only=True)
class Coefficients:
    """One optimizer's update in the engine's unified form (docs/theory.md §1):

        num = c1·v + c2·g                  (direction, from the previous velocity v)
        v   ← a1·v + b1·g                  (first moment / momentum buffer)
        m   ← a2·m + b2·g²                 (second moment / accumulator)
        den = √(c3·m) + e                  (preconditioner; e = 1, c3 = 0 where there is none)
        η   = gate(lr, ‖v‖², β3, α1)        (= lr where β3 = 0, i.e. except for the VR pair)
        θ   ← θ − η·(num/den + λ_dec·θ)    (sign(num) instead of num/den when ``sign``)

    with g = ∇f(θ) + noise + λ_L2·θ. Every number may vary with the step: each field is a
    table of shape (T,) for updates 1 … T (a scalar given to the constructor is repeated),
    so torch SGD's undamped first step or a β3 calibrated after ten steps fits the form.
    """

    lr: np.ndarray  # scheduled base rate α0·schedule
    c1: np.ndarray  # weight of the previous velocity in the direction
    c2: np.ndarray  # weight of the gradient in the direction
    c3: np.ndarray  # scale of the second moment under the root
    e: np.ndarray  # added to the preconditioner
    a1: np.ndarray | float = 0.0
    b1: np.ndarray | float = 1.0
    a2: np.ndarray | float = 0.0
    b2: np.ndarray | float = 0.0
    wd_l2: np.ndarray | float = 0.0  # weight decay added to the gradient
    wd_dec: np.ndarray | float = 0.0  # decoupled weight decay
    beta3: np.ndarray | float = 0.0
    alpha1: np.ndarray | float = 0.0
    sign: bool = False
    bc1: np.ndarray | None = None  # 1 − β1^t, shown by the step-through (None: unused)
    bc2: np.ndarray | None = None  # 1 − β2^t

    TABLES = ("lr", "c1", "c2", "c3", "e", "a1", "b1", "a2", "b2", "wd_l2", "wd_dec",
              "beta3", "alpha1")  # fmt: skip

    def __post_init__(self) -> None:
        steps = np.shape(self.lr)[0]
        for name in self.TABLES:
            table = np.asarray(getattr(self, name), dtype=np.float64)
            if table.shape not in ((), (steps,)):
                raise ValueError(f"{name}: expected a scalar or {steps} steps, got {table.shape}")
            object.__setattr__(self, name, np.array(np.broadcast_to(table, (steps,))))

    @classmethod
    def plain(cls, lr: np.ndarray, **constants) -> Coefficients:
        """GD's tables (num = g, no preconditioner) with ``constants`` replaced."""
        lr = np.asarray(lr, dtype=np.float64)
        zeros, ones = np.zeros_like(lr), np.ones_like(lr)
        return cls(lr=lr * 1.0, c1=zeros, c2=ones, c3=zeros, e=ones, **constants)

    @property
    def steps(self) -> int:
        return self.lr.shape[0]


def gate(lr, sq_norm, beta3, alpha1):
    """The VR optimizers' rate η = lr / (1 + min(β3·‖v‖², α1)) (docs/theory.md §1); lr
    where β3 = 0. NumPy arrays or torch tensors (α1 then a tensor too) broadcast; the one
    definition every layer uses."""
    penalty = beta3 * sq_norm
    minimum = torch.minimum if isinstance(penalty, Tensor) else np.minimum
    return lr / (1 + minimum(penalty, alpha1))


def linear_threshold(eta, c1, c2, a1, b1) -> np.ndarray:
    """The largest curvature h at which the frozen linear update on f = ½·h·x² is stable.

    With g = h·x the state (x, v) evolves by A(h) = [[1 − η·c2·h, −η·c1], [b1·h, a1]]
    (preconditioner frozen, so h is the preconditioned curvature; weight decay left
    out). A real 2×2 matrix has spectral radius < 1 iff 1 + tr + det > 0,
    1 − tr + det > 0 and 1 − det > 0, and each of these is affine in h: the threshold
    is the smallest positive root (docs/theory.md §2). inf where no curvature is
    unstable, 0 where every curvature is. Arguments broadcast.
    """
    eta, c1, c2 = (np.asarray(a, dtype=np.float64) for a in (eta, c1, c2))
    q = a1 * c2 - c1 * b1  # det = a1 − η·h·q, tr = 1 + a1 − η·h·c2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope1 = eta * (c2 + q)  # 1 + tr + det = 2(1 + a1) − h·slope1
        h1 = np.where(slope1 > 0, 2 * (1 + a1) / slope1, np.inf)
        h3 = np.where(q < 0, (1 - a1) / (-eta * q), np.inf)  # 1 − det = 1 − a1 + η·h·q
        out = np.minimum(h1, h3)
        out = np.where(eta * (c2 - q) >= 0, out, 0.0)  # 1 − tr + det = η·h·(c2 − q)
    return np.where(np.isnan(eta), np.nan, out)
