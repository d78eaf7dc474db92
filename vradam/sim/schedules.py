"""Learning-rate schedules as multiplicative factors on the base rate, one per update.

``factors(name, steps)[k]`` multiplies ``lr`` for update k = 0 … steps−1, the way
``torch.optim.lr_scheduler.LambdaLR(opt, lambda k: factors[k])`` would.
"""

from __future__ import annotations

import math

import numpy as np

SCHEDULES = {
    "constant": "the same rate for every step",
    "cosine": "cosine decay from lr to 0 over the run (CosineAnnealingLR, T_max = steps)",
    "warmup_cosine": "linear warm-up over the first 10 % of steps, then cosine decay to 0",
    "step": "halved after each quarter of the run (StepLR, gamma = 0.5)",
}


def factors(name: str, steps: int) -> np.ndarray:
    """The schedule's factor for each of ``steps`` updates, shape (steps,)."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; valid: {', '.join(SCHEDULES)}")
    k = np.arange(steps, dtype=np.float64)
    if name == "constant":
        return np.ones(steps)
    if name == "cosine":
        return 0.5 * (1 + np.cos(math.pi * k / steps))
    if name == "warmup_cosine":
        warm = max(1, round(0.1 * steps))
        rest = max(1, steps - warm)
        return np.where(k < warm, (k + 1) / warm, 0.5 * (1 + np.cos(math.pi * (k - warm) / rest)))
    period = max(1, math.ceil(steps / 4))
    return 0.5 ** np.floor(k / period)
