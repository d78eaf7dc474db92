"""The `Landscape` record: one 2-D test function and everything known about it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

Box = tuple[tuple[float, float], tuple[float, float]]
Point = tuple[float, float]


@dataclass(frozen=True)
class Landscape:
    """A 2-D objective f(x, y) with its metadata.

    ``fn`` is written once in torch ops and broadcasts over tensors of any shape;
    autograd gives gradients and Hessians, and :meth:`grid` evaluates the same
    function for plots (no second numpy copy).
    """

    key: str
    name: str
    formula: str  # LaTeX, for st.latex
    fn: Callable[[Tensor, Tensor], Tensor]
    domain: Box  # ((xmin, xmax), (ymin, ymax))
    minima: tuple[Point, ...]  # every global minimiser (empty when unknown or unbounded)
    min_value: float | None
    start: Point  # a start that makes a good demonstration
    lesson: str  # one sentence on what the function teaches
    log_scale: bool = False  # colour-scale hint: log for steep functions
    # For VRAdam (no weight decay) from `start`: the gate acts in the transient
    # (η ≤ α0/2 within 50 steps) and releases near the end (η ≥ 0.9·α0); tested.
    suggested_lr: float = 0.05  # α0
    suggested_beta3: float = 1.0  # β3 (the gate is not scale invariant)
    suggested_steps: int = 300
    params: tuple[tuple[str, float], ...] = field(default=())  # for parametrised landscapes

    def __post_init__(self) -> None:
        (x0, x1), (y0, y1) = self.domain
        if not (math.isfinite(x0) and math.isfinite(x1) and x0 < x1):
            raise ValueError(f"invalid x range {self.domain[0]}: need finite xmin < xmax")
        if not (math.isfinite(y0) and math.isfinite(y1) and y0 < y1):
            raise ValueError(f"invalid y range {self.domain[1]}: need finite ymin < ymax")

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        return self.fn(x, y)

    @property
    def center(self) -> Point:
        (x0, x1), (y0, y1) = self.domain
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def divergence_box(self, factor: float = 10.0) -> Box:
        """The domain box enlarged ``factor`` times about its centre."""
        (x0, x1), (y0, y1) = self.domain
        cx, cy = self.center
        hx, hy = factor * (x1 - x0) / 2, factor * (y1 - y0) / 2
        return ((cx - hx, cx + hx), (cy - hy, cy + hy))

    def value(self, xy) -> np.ndarray:
        """f at points of shape (..., 2) (numpy in, numpy out, float64)."""
        p = torch.as_tensor(np.asarray(xy, dtype=np.float64))
        with torch.no_grad():
            return self.fn(p[..., 0], p[..., 1]).numpy()

    def gradient(self, xy) -> np.ndarray:
        """∇f at points of shape (..., 2), by autograd."""
        p = torch.as_tensor(np.array(xy, dtype=np.float64))
        x = p[..., 0].clone().requires_grad_(True)
        y = p[..., 1].clone().requires_grad_(True)
        out = self.fn(x, y)
        gx, gy = torch.autograd.grad(out.sum(), (x, y), allow_unused=True)
        gx = torch.zeros_like(x) if gx is None else gx
        gy = torch.zeros_like(y) if gy is None else gy
        return torch.stack([gx, gy], dim=-1).detach().numpy()

    def grid(self, n: int = 200, domain: Box | None = None):
        """(xs (n,), ys (n,), Z (n, n)) with Z[i, j] = f(xs[j], ys[i]); NaN where undefined."""
        (x0, x1), (y0, y1) = domain or self.domain
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y0, y1, n)
        X, Y = np.meshgrid(xs, ys)
        with torch.no_grad():
            Z = self.fn(torch.from_numpy(X), torch.from_numpy(Y)).numpy()
        Z = np.where(np.isfinite(Z), Z, np.nan)
        return xs, ys, Z

    @cached_property
    def grad_scale(self) -> float:
        """Typical gradient size: the median ‖∇f‖ over a 65 × 65 grid of the domain."""
        (x0, x1), (y0, y1) = self.domain
        X, Y = np.meshgrid(np.linspace(x0, x1, 65), np.linspace(y0, y1, 65))
        g = self.gradient(np.stack([X, Y], axis=-1))
        norms = np.linalg.norm(g, axis=-1)
        norms = norms[np.isfinite(norms)]
        scale = float(np.median(norms)) if norms.size else 1.0
        return scale if scale > 0 else 1.0

    def nearest_minimum(self, xy) -> tuple[np.ndarray, np.ndarray]:
        """(index of the nearest known minimiser, distance to it) for points (..., 2)."""
        p = np.asarray(xy, dtype=np.float64)
        if not self.minima:
            shape = p.shape[:-1]
            return np.full(shape, -1), np.full(shape, np.nan)
        m = np.asarray(self.minima, dtype=np.float64)  # (M, 2)
        d = np.linalg.norm(p[..., None, :] - m, axis=-1)  # (..., M)
        return d.argmin(axis=-1), d.min(axis=-1)
