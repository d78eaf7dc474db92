"""Lesson 1: step size and divergence (GD on the bowl x² + y², curvature L = 2)."""

from __future__ import annotations

import numpy as np

from vradam.app.lessons.lesson import (
    BOWL,
    HOOD,
    Claim,
    Exercise,
    fate,
    playground_claim,
    playground_lesson,
)
from vradam.app.playground import PlaygroundConfig, run

_STEP_CONFIG = PlaygroundConfig(
    landscape=BOWL,
    optimizers=("gd:lr=0.9@GD, α₀·L = 1.8", "gd:lr=1.05@GD, α₀·L = 2.1"),
    steps=60,
)


def _gd_bowl(alpha0: float, steps: int = 60) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=BOWL, optimizers=(f"gd:lr={alpha0:g}",), steps=steps)


def _step_size_test(trs, h: int) -> np.ndarray:
    """α0·L = 1.8: the loss × 0.64 on every step; 2.1: × 1.21 until it leaves the domain,
    within the horizon."""
    safe, big = trs
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r_safe = safe.loss[:, 1:] / safe.loss[:, :-1]
        r_big = big.loss[:, 1:] / big.loss[:, :-1]
    shrinks = np.all(np.abs(r_safe - 0.64) < 1e-6, axis=1)
    d = big.diverged_at
    before = np.arange(h)[None, :] + 1 < d[:, None]  # both ends of the step still in the box
    grows = np.all(~before | (np.abs(r_big - 1.21) < 1e-6), axis=1)
    return shrinks & grows & (d >= 0)


def _step_size_claim() -> Claim:
    safe, big = run(_STEP_CONFIG)
    statement = (
        "At α₀·L = 1.8 GD's loss fell by the factor (1 − α₀L)² = 0.64 on every step, never "
        "rising; at α₀·L = 2.1 it rose by (1 − α₀L)² = 1.21 on every step until the run left "
        "the domain (10× the map), within 30 steps."
    )
    detail = (
        f"From the preset start: loss {safe.loss[0, -1]:.1e} after 60 steps against "
        f"{safe.loss[0, 0]:.3g} at the start, and the large step {fate(big)}."
    )
    numbers = {"safe_final_loss": float(safe.loss[0, -1]),
               "big_diverged_at": int(big.diverged_at[0])}  # fmt: skip
    return playground_claim(_STEP_CONFIG, HOOD, _step_size_test, statement, detail, numbers)


STEP_SIZE = playground_lesson(
    key="step_size",
    title="Step size and divergence",
    question="Gradient descent on the bowl x² + y² (curvature L = 2): how large can the step "
    "α₀ be before it blows up?",
    config=_STEP_CONFIG,
    look_for="The chart runs GD at the α₀ you pick. Between α₀ = ½ and 1 it jumps across the "
    "minimum at every step and lands a little closer each time; past α₀ = 1 it lands a little "
    "farther and the loss panel climbs. The preset puts α₀·L = 1.8 and 2.1 side by side.",
    try_this="Move α₀ through 1 (α₀·L = 2) and read the result line.",
    answer="On a quadratic each GD step multiplies the distance to the minimum by |1 − α₀L|. "
    "That is below 1, so the run converges, exactly when α₀L < 2. Past 2/L the steps grow "
    "geometrically. The same threshold, 2/η, comes back at the edge of stability.",
    exercise=Exercise("α₀ (L = 2)", (0.2, 0.5, 0.9, 0.99, 1.01, 1.1, 1.3), 0.99),
    vary=_gd_bowl,
    check=_step_size_claim,
    result=lambda trs, a: (
        f"α₀ = {a:g}, α₀·L = {2 * a:.3g} ({'<' if 2 * a < 2 else '>'} 2): GD "
        f"{fate(trs[0])}; each step multiplies the distance by |1 − α₀L| = {abs(1 - 2 * a):.2f}."
    ),
)
