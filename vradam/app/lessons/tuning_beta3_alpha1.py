"""Lesson 7: tuning β₃ and α₁ (the clip's floor α₀/(1 + α₁) on VRAdam's rate)."""

from __future__ import annotations

import math

import numpy as np

from vradam.app.figures.arrays import sig_list
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.panels import map_over_panel
from vradam.app.figures.ticks import log_ticks
from vradam.app.lessons.lesson import (
    BOWL,
    HOOD,
    Claim,
    Exercise,
    fate,
    playground_claim,
    playground_lesson,
    race,
)
from vradam.app.playground import PlaygroundConfig, run
from vradam.sim.optimizers import OptimizerSpec

_CLIP_CONFIG = PlaygroundConfig(
    landscape=BOWL,
    optimizers=(
        "adam:lr=0.5",
        "vradam:lr=0.5,beta3=10,alpha1=1,weight_decay=0@VRAdam, α₁ = 1",
        "vradam:lr=0.5,beta3=10,alpha1=10,weight_decay=0@VRAdam, α₁ = 10",
    ),
    steps=200,
)


def _clip_config(alpha1: float) -> PlaygroundConfig:
    vr = f"vradam:lr=0.5,beta3=10,alpha1={alpha1:g},weight_decay=0@VRAdam, α₁ = {alpha1:g}"
    return PlaygroundConfig(landscape=BOWL, optimizers=("adam:lr=0.5", vr), steps=200)


def _clipped(tr, alpha1: float) -> np.ndarray:
    """The steps of run 0 where β₃‖v‖² ≥ α₁ (β₃ = 10 in this lesson): the clip is active."""
    return np.flatnonzero(10 * tr.velocity_sq_norm[0] >= alpha1)


def _clip_steps(tr, alpha1: float) -> int:
    return int(_clipped(tr, alpha1).size)


def _clip_test(trs, h: int) -> np.ndarray:
    """Each VRAdam's rate bottoms exactly at α0/(1 + α1) (the clip was active), and both
    end at least 100× below their starting loss."""
    _, a1, a10 = trs
    floors = np.isclose(np.nanmin(a1.effective_lr, axis=1), 0.5 / 2, rtol=1e-9) & np.isclose(
        np.nanmin(a10.effective_lr, axis=1), 0.5 / 11, rtol=1e-9
    )
    clipped = np.any(10 * a10.velocity_sq_norm >= 10, axis=1)
    fell = (a1.loss[:, -1] < 1e-2 * a1.loss[:, 0]) & (a10.loss[:, -1] < 1e-2 * a10.loss[:, 0])
    return floors & clipped & fell


def _clip_claim() -> Claim:
    _, a1, a10 = run(_CLIP_CONFIG)
    floors = [float(np.nanmin(t.effective_lr[0])) for t in (a1, a10)]
    back = int(np.argmax(a10.effective_lr[0] > 0.99 * 0.5))
    statement = (
        "The rate never went below the floor α₀/(1 + α₁) and sat exactly on it while the clip "
        "was active: 0.25 with α₁ = 1, 0.5/11 = 0.04545 with α₁ = 10. Training never stalled: "
        "both VRAdam runs ended more than 100 times below their starting loss."
    )
    detail = (
        f"From the preset start: with α₁ = 10 the clip held the rate at {floors[1]:.4g} for "
        f"{_clip_steps(a10, 10)} steps, η_t was back above 0.99·α₀ from step {back}, and after "
        f"200 steps the losses were {a1.loss[0, -1]:.1e} (α₁ = 1) and {a10.loss[0, -1]:.1e} "
        f"(α₁ = 10), from {a10.loss[0, 0]:.3g}."
    )
    numbers = {"floors": floors, "clipped_steps": _clip_steps(a10, 10), "back_at": back}
    return playground_claim(_CLIP_CONFIG, HOOD, _clip_test, statement, detail, numbers)


def _clip_race(config: PlaygroundConfig) -> tuple[list, dict]:
    """The race with the η_t panel in place of the loss (the lesson is about the rate): each
    run's η_t, VRAdam's floor α₀/(1 + α₁) dashed and its clipped steps marked."""
    trs, fig = race(config)
    fig["layout"].pop("annotations", None)  # the loss panel's note
    panel = [t for t in fig["data"] if t.get("yaxis") == "y2"]
    for trace, tr in zip(panel, trs):
        trace["y"] = sig_list(tr.effective_lr[0])
        trace.pop("x0", None), trace.pop("dx", None)
        trace["x"] = list(range(len(trace["y"])))
        trace["hovertemplate"] = "step %{x}<br>η_t %{y:.4g}<extra></extra>"
    alpha1 = float(OptimizerSpec.parse(config.optimizers[-1]).hyperparams["alpha1"])
    vr, color = trs[-1], assign_colors(config.specs())[-1]
    floor, steps = 0.5 / (1 + alpha1), len(vr.effective_lr[0])
    clipped = _clipped(vr, alpha1)
    fig["data"] += [
        dict(type="scatter", x=[0, steps - 1], y=[floor, floor], mode="lines",
             line=dict(color=color, width=1, dash="dash"), name="floor α₀/(1 + α₁)",
             xaxis="x2", yaxis="y2", hoverinfo="skip"),
        dict(type="scatter", x=clipped.tolist(), y=[floor] * clipped.size, mode="markers",
             marker=dict(color=color, size=5, symbol="line-ns-open"),
             name=f"clipped steps ({clipped.size})", xaxis="x2", yaxis="y2",
             hoverinfo="skip"),
    ]  # fmt: skip
    lo, hi = math.log10(floor) - 0.3, math.log10(0.5) + 0.15
    fig["layout"]["yaxis2"].update(range=[lo, hi], title=dict(text="η_t"), **log_ticks(lo, hi, 4))
    return trs, map_over_panel(fig)


CLIP = playground_lesson(
    key="tuning_beta3_alpha1",
    title="Tuning β₃ and α₁",
    question="With a large β₃ the gate would stop a fast optimizer dead. What does the clip "
    "α₁ in 1 + min(β₃‖v‖², α₁) guarantee?",
    config=_CLIP_CONFIG,
    look_for="In the η_t panel (the chart here, and the Playground's) VRAdam starts on a flat "
    "floor, the dashed line α₀/(1 + α₁), for the clipped steps marked on it, then climbs back "
    "to α₀ = 0.5 as it slows down.",
    try_this="Change α₁ and watch the floor and the number of clipped steps.",
    answer="While β₃‖v‖² ≥ α₁ the rate is clipped at the floor α₀/(1 + α₁), so training never "
    "stalls, however large β₃ is. β₃ decides *when* the gate acts (at ‖v‖ ≈ 1/√β₃ the rate "
    "halves), α₁ decides *how far* it can cut. A rule of thumb: choose β₃ so that β₃‖v‖² "
    'peaks around 1–2 early in training (the Playground\'s "suggest β₃" button), keep '
    "α₁ ≈ 10.",
    exercise=Exercise("α₁", (0.5, 1.0, 3.0, 10.0, 30.0), 10.0),
    vary=_clip_config,
    check=_clip_claim,
    figure=_clip_race,
    result=lambda trs, a1: (
        f"α₁ = {a1:g}: floor α₀/(1 + α₁) = {0.5 / (1 + a1):.3g}, reached "
        f"(min η_t = {np.nanmin(trs[1].effective_lr[0]):.3g}); the clip was active for "
        f"{_clip_steps(trs[1], a1)} steps and VRAdam {fate(trs[1])}."
    ),
)
