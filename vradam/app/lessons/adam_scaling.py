"""Lesson 3: Adam's per-coordinate scaling (GD and Adam on f = ½(x² + κy²))."""

from __future__ import annotations

import numpy as np

from vradam.app.lessons.lesson import (
    HOOD,
    Claim,
    Exercise,
    fate,
    playground_claim,
    playground_lesson,
)
from vradam.app.playground import PlaygroundConfig, run

_KAPPA = 100.0


def _adam_config(kappa: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape="ill_conditioned",
                            landscape_params=(("condition", float(kappa)), ("angle", 0.0)),
                            optimizers=(f"gd:lr={1.9 / kappa:.4g}", "adam:lr=0.1"),
                            steps=200)  # fmt: skip


def _first_step_ratio(tr) -> float:
    d = np.abs(tr.xy[0, 1] - tr.xy[0, 0])
    return float(d[1] / d[0])


def _adam_test(trs, h: int) -> np.ndarray:
    """Adam's first step is α0 = 0.1 in each coordinate; GD's is κ|y/x| times longer in y
    than in x; Adam ends below GD."""
    gd, adam = trs
    x0 = gd.xy[:, 0]
    d_gd = np.abs(gd.xy[:, 1] - x0)
    d_adam = np.abs(adam.xy[:, 1] - adam.xy[:, 0])
    gd_ratio = np.isclose(d_gd[:, 1] / d_gd[:, 0], _KAPPA * np.abs(x0[:, 1] / x0[:, 0]), rtol=1e-9)
    adam_alpha0 = np.all(np.isclose(d_adam, 0.1, rtol=1e-6), axis=1)
    return gd_ratio & adam_alpha0 & (adam.loss[:, -1] < gd.loss[:, -1])


def _adam_claim() -> Claim:
    config = _adam_config(_KAPPA)
    gd, adam = run(config)
    r_gd, r_adam = _first_step_ratio(gd), _first_step_ratio(adam)
    first = np.abs(adam.xy[0, 1] - adam.xy[0, 0])
    starts = HOOD.starts(config.start_point())
    span = _KAPPA * np.abs(starts[:, 1] / starts[:, 0])
    statement = (
        "Adam's first step moved x and y by α₀ = 0.1 each. GD's first step is α₀ times the "
        "gradient (x, κy), so it is κ·|y/x| times longer in y than in x: "
        f"{span.min():.0f}–{span.max():.0f}× from these starts; only where |y| = |x| is it "
        f"κ = {_KAPPA:.0f}×. Adam ended below GD."
    )
    detail = (
        f"From the preset start (−2.5, 2): Adam's first step {first[0]:.4f} in x and "
        f"{first[1]:.4f} in y, GD's {r_gd:.0f}× longer in y than in x; after 200 steps GD at "
        f"loss {gd.loss[0, -1]:.1e}, Adam at {adam.loss[0, -1]:.1e}."
    )
    numbers = {"gd_ratio": r_gd, "adam_ratio": r_adam,
               "gd_ratio_range": (float(span.min()), float(span.max()))}  # fmt: skip
    return playground_claim(config, HOOD, _adam_test, statement, detail, numbers)


ADAM = playground_lesson(
    key="adam_scaling",
    title="Adam's per-coordinate scaling",
    question="On f = ½(x² + 100y²), GD's step must be below 2/100 to be stable in y. What "
    "does that do to its progress in x, and how does Adam avoid it?",
    config=_adam_config(_KAPPA),
    look_for="GD bounces across the x axis, each bounce 0.9 as high as the last (its step "
    "1.9/κ is just under the limit 2/κ), while it crawls along it. Adam heads diagonally "
    "first, as if the valley were round, then rattles to the minimum.",
    try_this="Change the condition number κ and compare the two first steps.",
    answer="Adam divides each coordinate's step by the root mean square of its own gradients, "
    "so its first step is exactly α₀ in every coordinate, however steep. GD's step is the "
    "gradient itself, (x, κy): κ·|y/x| times longer in the steep direction (80× from the "
    "preset start, where |y/x| = 0.8), and the safe rate 2/κ makes it slow in the flat one. "
    "The price: Adam's step no longer shrinks with the gradient, so it oscillates near the "
    "minimum. VRAdam's gate targets exactly that; what it buys and costs is measured in the "
    "velocity-penalty lesson and on the Evidence page.",
    exercise=Exercise("condition number κ", (1.0, 10.0, 100.0, 1000.0), 100.0),
    vary=_adam_config,
    check=_adam_claim,
    result=lambda trs, k: (
        f"κ = {k:g}: GD's first step is {_first_step_ratio(trs[0]):.3g}× "
        f"longer in y than in x (κ·|y/x| = {k:g}·0.8), Adam's {_first_step_ratio(trs[1]):.3g}×; "
        f"after 200 steps GD {fate(trs[0])}, Adam {fate(trs[1])}."
    ),
)
