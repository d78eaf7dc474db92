"""Lesson 8: noise and mini-batches (GD's loss floor ασ²/(2(1 − α)) with noisy gradients
on the bowl).
"""

from __future__ import annotations

import numpy as np

from vradam.app.claims import measure
from vradam.app.figures import playground as plots
from vradam.app.figures.arrays import sig_list
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.panels import map_over_panel
from vradam.app.figures.ticks import log_ticks
from vradam.app.lessons.lesson import (
    BOWL,
    HOOD,
    Claim,
    Exercise,
    playground_claim,
    playground_lesson,
    race,
)
from vradam.app.playground import PlaygroundConfig, run

_NOISE_LRS = (0.1, 0.025)
_FLOOR_TOLERANCE = 0.5  # a floor averaged over one run's second half is itself noisy


def _noise_config(sigma: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=BOWL, optimizers=("gd:lr=0.1", "gd:lr=0.025"),
                            steps=600, noise=float(sigma))  # fmt: skip


def _floor(loss: np.ndarray) -> np.ndarray:
    """The noise floor: the mean loss over the second half of the run ((…, T+1) → (…))."""
    return np.mean(loss[..., loss.shape[-1] // 2 :], axis=-1)


def _noise_floor_theory(alpha: float, sigma: float) -> float:
    """Stationary E[f] of GD with N(0, σ²) gradient noise on x² + y²: ασ²/(2(1 − α))."""
    return alpha * sigma**2 / (2 * (1 - alpha))


def _noise_within(tolerance: float):
    def test(trs, h: int) -> np.ndarray:
        floors = [_floor(t.loss) for t in trs]
        theory = [_noise_floor_theory(a, 2.0) for a in _NOISE_LRS]
        close = [np.abs(f / t - 1) < tolerance for f, t in zip(floors, theory)]
        return close[0] & close[1] & (floors[1] < floors[0])

    return test


_noise_test = _noise_within(_FLOOR_TOLERANCE)
_noise_test_25 = _noise_within(0.25)


def _noise_claim() -> Claim:
    config = _noise_config(2.0)
    trs = run(config)
    floors = [float(_floor(t.loss[0])) for t in trs]
    theory = [_noise_floor_theory(a, 2.0) for a in _NOISE_LRS]
    tight = measure(config, HOOD, _noise_test_25).short()
    statement = (
        "With noise of std 2 on every gradient neither run converges: the loss hovers at a "
        "floor (its mean over the second half of the run) within "
        f"{_FLOOR_TOLERANCE:.0%} of the theory ασ²/(2(1 − α)), {theory[0]:.3f} for α₀ = 0.1 "
        f"and {theory[1]:.3f} for α₀ = 0.025, and the smaller step's floor is the lower one. "
        f"One run's floor is itself noisy: within 25 % of the theory {tight}."
    )
    detail = (
        f"From the preset start (600 steps, seed 0): {floors[0]:.3f} and {floors[1]:.3f}, a "
        f"{floors[0] / floors[1]:.1f}× lower floor for the 4× smaller step (theory "
        f"{theory[0] / theory[1]:.1f}×)."
    )
    return playground_claim(config, HOOD, _noise_test, statement, detail,
                             {"floors": floors, "theory": theory})  # fmt: skip


def _running_mean(loss: np.ndarray, window: int = 50) -> np.ndarray:
    c = np.cumsum(np.r_[0.0, loss])
    n = np.minimum(np.arange(1, loss.size + 1), window)
    return (c[1:] - c[np.arange(1, loss.size + 1) - n]) / n


def _noise_race(config: PlaygroundConfig) -> tuple[list, dict]:
    """The race, with each run's per-step loss faint, its 50-step running mean bold and the
    theory's floors dashed, on a log axis zoomed onto the floors: the two levels show."""
    trs, fig = race(config)
    colors = assign_colors(config.specs())
    for trace in fig["data"]:
        if trace.get("yaxis") == "y2":
            trace["opacity"] = 0.25
            trace["line"] = {**trace["line"], "width": 1}
    steps = np.arange(config.steps + 1)
    floor = plots.loss_floor([tr.loss[0] for tr in trs])  # as the thin lines (σ = 0)
    levels = []
    for tr, color, lr in zip(trs, colors, _NOISE_LRS):
        mean = plots.floored(_running_mean(tr.loss[0]), floor)
        levels.append(mean[config.steps // 2 :])
        fig["data"].append(dict(type="scatter", x=steps.tolist(), y=sig_list(mean),
                                mode="lines", line=dict(color=color, width=3),
                                name=f"{tr.label}: mean of 50 steps", showlegend=False,
                                xaxis="x2", yaxis="y2", hoverinfo="skip"))  # fmt: skip
        if config.noise > 0:
            level = _noise_floor_theory(lr, config.noise)
            levels.append(np.array([level]))
            fig["data"].append(dict(type="scatter", x=[0, config.steps], y=[level, level],
                                    mode="lines", line=dict(color=color, dash="dash"),
                                    name="theory's floor ασ²/(2(1 − α))", legendgroup="theory",
                                    showlegend=lr == _NOISE_LRS[0], xaxis="x2", yaxis="y2",
                                    hoverinfo="skip"))  # fmt: skip
    if config.noise > 0:
        low = float(np.min(np.concatenate(levels)))
        high = float(np.nanmax(trs[0].loss[0]))
        lo, hi = np.log10(low) - 0.7, np.log10(high) + 0.1
        fig["layout"]["yaxis2"].update(range=[lo, hi], **log_ticks(lo, hi, 5))
    return trs, map_over_panel(fig)  # again: the theory's floor is one more legend entry


NOISE = playground_lesson(
    key="noise",
    title="Noise and mini-batches",
    question="A mini-batch gradient is the true gradient plus noise. With noisy gradients on "
    "the bowl x² + y², where does gradient descent end up?",
    config=_noise_config(2.0),
    look_for="Both runs reach the bottom quickly and then jitter around it. In the loss panel "
    "the thin lines are the loss at each step, the bold ones its mean over 50 steps: they "
    "flatten at a level instead of falling forever, on the dashed line the theory predicts, "
    "and the smaller step's level is about four times lower.",
    try_this="Change the noise and see how the floor follows.",
    answer="Near the minimum each step is α₀ times the noise, so the iterate keeps a spread "
    "proportional to α₀σ²: the loss floor is ασ²/(2(1 − α)) here. That is why training with "
    "mini-batches decays its learning rate (try the schedules in the Playground), and why "
    "larger batches (less noise) allow larger steps. On the Networks page the batch size "
    "sets the noise.",
    exercise=Exercise("noise std σ", (0.0, 0.5, 1.0, 2.0, 4.0), 2.0),
    vary=_noise_config,
    check=_noise_claim,
    figure=_noise_race,
    result=lambda trs, s: (
        f"σ = {s:g}: loss floor {_floor(trs[0].loss[0]):.3g} at α₀ = 0.1 (theory "
        f"{_noise_floor_theory(0.1, s):.3g}) and {_floor(trs[1].loss[0]):.3g} at α₀ = 0.025 "
        f"(theory {_noise_floor_theory(0.025, s):.3g})."
    ),
)
