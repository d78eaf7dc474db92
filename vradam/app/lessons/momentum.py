"""Lesson 2: momentum and oscillation (GD and heavy ball in a ravine, κ = 25)."""

from __future__ import annotations

import numpy as np

from vradam.app.lessons.lesson import (
    HOOD,
    RAVINE,
    Claim,
    Exercise,
    fate,
    playground_claim,
    playground_lesson,
)
from vradam.app.playground import PlaygroundConfig, run
from vradam.sim.measures import loss_increases

_SIN30, _COS30 = 0.5, float(np.sqrt(3) / 2)


def momentum_config(mu: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape="ill_conditioned", landscape_params=RAVINE,
                            optimizers=("gd:lr=0.07",  # the label names μ even at its default, 0.9
                                        f"momentum:lr=0.07,momentum={mu:g}@Momentum, μ = {mu:g}"),
                            steps=150)  # fmt: skip


def _across(xy: np.ndarray) -> np.ndarray:
    """The coordinate across the ravine (its steep direction), w = −x sin 30° + y cos 30°."""
    return -_SIN30 * xy[..., 0] + _COS30 * xy[..., 1]


def _momentum_test(trs, h: int) -> np.ndarray:
    """GD never rises and zig-zags across the ravine, each swing 0.75 of the last; heavy
    ball (μ = 0.9) rises on at least 40 % of its steps and ends above GD."""
    gd, mom = trs
    w = _across(gd.xy[:, :11])
    zigzag = np.all(np.abs(w[:, 1:] / w[:, :-1] + 0.75) < 1e-6, axis=1)
    return (
        (loss_increases(gd.loss) == 0)
        & zigzag
        & (loss_increases(mom.loss) >= 0.4 * h)
        & (mom.loss[:, -1] > gd.loss[:, -1])
    )


def _momentum_claim() -> Claim:
    config = momentum_config(0.9)
    gd, mom = run(config)
    w = np.abs(_across(gd.xy[0]))
    swings = int(np.argmax(w < 0.02 * w[0]))
    n_mom = loss_increases(mom.loss[0])
    statement = (
        "GD's loss never rose: it zig-zagged across the ravine, each swing |1 − α₀·25| = 0.75 "
        "of the last, then slid down the floor. Heavy ball (μ = 0.9) rose on at least 40 % of "
        "its steps and ended behind GD."
    )
    detail = (
        f"From the preset start: GD made {swings} swings before they were 2 % of the first "
        f"and ended at {gd.loss[0, -1]:.1e}; heavy ball rose on {n_mom} of 150 steps and "
        f"ended at {mom.loss[0, -1]:.1e}."
    )
    numbers = {"gd_increases": loss_increases(gd.loss[0]), "momentum_increases": n_mom,
               "gd_swings": swings}  # fmt: skip
    return playground_claim(config, HOOD, _momentum_test, statement, detail, numbers)


MOMENTUM = playground_lesson(
    key="momentum",
    title="Momentum and oscillation",
    question="In a ravine 25 times steeper across than along, does adding momentum "
    "(μ = 0.9) to gradient descent make it faster?",
    config=momentum_config(0.9),
    look_for="GD zig-zags across the ravine, each swing three quarters of the last, about a "
    "dozen before they are too small to see, and slides down the floor. The heavy ball "
    "carries its speed past the floor and swings from wall to wall; its loss saw-tooths.",
    try_this="Lower μ and find the value that converges first.",
    answer="Momentum turns every direction into a damped oscillator whose swing shrinks by "
    "about √μ per step. At μ = 0.9 the damping is weak (0.95 per step, 0.9 in the loss), so "
    "the swings across the ravine die out only slowly and the loss rises on about every "
    "second step. A moderate μ (try 0.5) converges well before GD. VRAdam's gate is another "
    "way to damp such swings, at a price: in the velocity-penalty lesson (a ravine, measured "
    "over a neighbourhood of starts) its loss climbs less than Adam's but ends higher than "
    "Adam run at VRAdam's own mean rate.",
    exercise=Exercise("momentum μ", (0.0, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99), 0.9),
    vary=momentum_config,
    check=_momentum_claim,
    result=lambda trs, mu: (
        f"μ = {mu:g}: heavy ball {fate(trs[1])}, its loss rose on "
        f"{loss_increases(trs[1].loss[0])} steps; GD {fate(trs[0])}."
    ),
)
