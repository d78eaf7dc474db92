"""Image generation: flow matching on scikit-learn's 8×8 digits, with a small MLP.

The model v_θ(x_t, t, class) learns the velocity of the straight path from noise to data,
x_t = (1 − t)·x0 + t·x1 with x0 ~ N(0, I) and x1 a digit (pixels scaled to [−1, 1]):

    L(θ) = E ‖v_θ(x_t, t, y) − (x1 − x0)‖² / 64      (conditional flow matching, Lipman et al. 2023)

Training draws x0 and t from the step's generator (the same draws for every optimizer);
validation uses noise and times fixed by one seed, so the validation loss is a deterministic
function of the weights. Samples come from Euler steps of dx/dt = v_θ from fixed noise,
:data:`SAMPLES_PER_CLASS` for each digit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["FlowMLP", "evaluate", "make_split", "objective", "outputs", "sample"]

PIXELS = 64
N_CLASSES = 10
EVAL_SEED = 4321
TRAIN_EVAL = 256  # train_loss on the first 256 training images, with fixed noise
SAMPLES_PER_CLASS = 4
EULER_STEPS = 32


def make_split(seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Digits as (N, 64) pixels in [−1, 1] with their labels: 80 % train, 20 % validation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 8.0 - 1.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = round(0.2 * len(x))
    val, train = order[:n_val], order[n_val:]
    as_x = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    y = digits.target
    return as_x(x[train]), as_y(y[train]), as_x(x[val]), as_y(y[val])


class FlowMLP(nn.Module):
    """(x_t (B, 64), t (B,), class (B,)) → velocity (B, 64): an MLP of width 256 with SiLU."""

    def __init__(self, width: int = 256, t_features: int = 16, class_dim: int = 16):
        super().__init__()
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(t_features // 2).float(),
                             persistent=False)  # fmt: skip
        self.label = nn.Embedding(N_CLASSES, class_dim)
        self.net = nn.Sequential(
            nn.Linear(PIXELS + t_features + class_dim, width), nn.SiLU(),
            nn.Linear(width, width), nn.SiLU(), nn.Linear(width, PIXELS),
        )  # fmt: skip

    def forward(self, x: Tensor, t: Tensor, label: Tensor) -> Tensor:
        angles = t[:, None] * self.freqs
        features = torch.cat([x, angles.sin(), angles.cos(), self.label(label)], dim=1)
        return self.net(features)


def _draws(n: int, generator: torch.Generator, device) -> tuple[Tensor, Tensor]:
    """Noise (n, 64) and times (n,) drawn on the CPU (the same on every device)."""
    noise = torch.randn(n, PIXELS, generator=generator)
    t = torch.rand(n, generator=generator)
    return noise.to(device), t.to(device)


def _loss(model: nn.Module, x1: Tensor, label: Tensor, x0: Tensor, t: Tensor) -> Tensor:
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    return F.mse_loss(model(xt, t, label), x1 - x0)


def objective(model: nn.Module, xb: Tensor, yb: Tensor, generator: torch.Generator) -> Tensor:
    """Flow-matching loss on the batch with noise and times from ``generator``."""
    x0, t = _draws(xb.shape[0], generator, xb.device)
    return _loss(model, xb, yb, x0, t)


def evaluate(model: nn.Module, data) -> dict:
    """train_loss (first 256 training images) and val_loss, both with fixed noise and times."""
    out = {}
    with torch.no_grad():
        for split, x, y in (("train", data.x_train[:TRAIN_EVAL], data.y_train[:TRAIN_EVAL]),
                            ("val", data.x_val, data.y_val)):  # fmt: skip
            gen = torch.Generator().manual_seed(EVAL_SEED)
            x0, t = _draws(x.shape[0], gen, x.device)
            out[f"{split}_loss"] = float(_loss(model, x, y, x0, t))
    return out


def sample(
    model: nn.Module, per_class: int = SAMPLES_PER_CLASS, steps: int = EULER_STEPS, seed: int = 0
) -> np.ndarray:
    """Samples (10·per_class, 8, 8) in [0, 1], class by class (0, 0, …, 1, 1, …): Euler steps
    of dx/dt = v(x, t, class) from t = 0 (noise, fixed by ``seed``) to t = 1."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    n = N_CLASSES * per_class
    x = torch.randn(n, PIXELS, generator=gen).to(device)
    labels = torch.arange(N_CLASSES, device=device).repeat_interleave(per_class)
    with torch.no_grad():
        for k in range(steps):
            t = torch.full((n,), k / steps, device=device)
            x = x + model(x, t, labels) / steps
    images = ((x.double().cpu().numpy() + 1) / 2).reshape(n, 8, 8)
    return np.clip(np.nan_to_num(images, nan=0.0), 0.0, 1.0)


def outputs(model: nn.Module, data) -> dict:
    """At the end of a run: a grid of samples, (40, 8, 8) in [0, 1]."""
    return dict(samples=sample(model))
