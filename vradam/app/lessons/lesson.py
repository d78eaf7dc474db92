"""What a lesson is, and the pieces the Playground lessons share.

A :class:`Lesson` opens one page of the app with a preset (``page``, ``query``), asks a
question and carries ``check()`` (its claim, a :class:`Claim` measured over a neighbourhood
of the preset) and ``explore(value)`` (the "try this" exercise: a figure and a one-line
result). :func:`playground_lesson` builds one for the Playground from its config, the
config for an exercise value (``vary``) and the sentence for a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vradam.app.claims import Neighbourhood, measure
from vradam.app.figures import playground as plots
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.maps import background
from vradam.app.figures.panels import map_over_panel
from vradam.app.playground import PlaygroundConfig, run

PAGES = {
    "playground": ("app_pages/playground.py", "Playground"),
    "edge_of_stability": ("app_pages/eos.py", "Edge of stability"),
    "physics": ("app_pages/physics.py", "Physics"),
    "networks": ("app_pages/networks.py", "Networks"),
}

HOLDS_AT = 0.8  # a lesson may claim only what holds in at least 80 % of its neighbourhood


@dataclass(frozen=True)
class Claim:
    """A lesson's claim, measured over a neighbourhood of its preset."""

    statement: str  # the claim, with the measured numbers
    count: int  # runs of the neighbourhood in which it held
    total: int
    measured: str  # "in 44 of 49 runs (90%; what the neighbourhood was)"
    preset: bool  # it holds on the run the preset opens
    numbers: dict = field(default_factory=dict)
    detail: str = ""  # the same numbers on the preset's own run

    @property
    def frequency(self) -> float:
        return self.count / self.total

    @property
    def holds(self) -> bool:
        return self.preset and self.frequency >= HOLDS_AT

    @property
    def text(self) -> str:
        """The answer box's sentence: the claim and how often it held."""
        return f"{self.statement} This held {self.measured}."


@dataclass(frozen=True)
class Exercise:
    label: str  # the slider's label
    options: tuple[float, ...]
    default: float


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    question: str
    page: str  # a key of PAGES
    query: dict  # the page's URL query: the preset
    look_for: str
    try_this: str
    answer: str
    exercise: Exercise
    check: Callable[[], Claim] = field(compare=False, repr=False)
    explore: Callable[[float], tuple[dict, str]] = field(compare=False, repr=False)


# ----------------------------------------------------------------------------- helpers

# 7×7 starts within ±0.5 of the preset start (−2.5, 2) of the bowl and the ravine, at ½, 1
# and 2 × the preset's steps (× 3 noise seeds where noise is on).
HOOD = Neighbourhood((0.5, 0.5))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float) -> str:
    """3.7·10⁵, 8·10⁻⁷: a number for a sentence."""
    mantissa, exponent = f"{x:.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}·10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def playground_claim(config: PlaygroundConfig, hood: Neighbourhood, test, statement: str,
                     detail: str, numbers: dict) -> Claim:  # fmt: skip
    """Measure ``test`` over ``hood`` and on the preset's own run."""
    m = measure(config, hood, test)
    preset = bool(np.asarray(test(run(config), config.steps))[0])
    return Claim(statement, m.count, m.total, m.text(), preset, numbers, detail)


def race(config: PlaygroundConfig, highlight=None) -> tuple[list, dict]:
    """The runs and their figure: the map over the loss panel, since a lesson's figure has
    a column of the page (about 380–490 px wide on a desktop, the full width of a phone)."""
    trs = run(config)
    ls = config.landscape_obj()
    colors = assign_colors(config.specs())
    fig = plots.path_figure(ls, trs, colors, background(ls, n_image=160, n_contour=60),
                            highlight=highlight)  # fmt: skip
    return trs, map_over_panel(fig)


def fate(tr) -> str:
    if tr.diverged_at[0] >= 0:
        return f"diverged at step {int(tr.diverged_at[0])}"
    if tr.converged_at[0] >= 0:
        return f"converged at step {int(tr.converged_at[0])}"
    return f"ended at loss {tr.loss[0, -1]:.2g}"


def playground_lesson(
    *, key, title, question, config: PlaygroundConfig, look_for, try_this, answer,
    exercise: Exercise, vary: Callable[[float], PlaygroundConfig],
    check: Callable[[], Claim], result: Callable[[list, float], str],
    figure: Callable[[PlaygroundConfig], tuple[list, dict]] = race,
) -> Lesson:  # fmt: skip
    def explore(value: float) -> tuple[dict, str]:
        trs, fig = figure(vary(value))
        return fig, result(trs, value)

    return Lesson(key, title, question, "playground", config.to_query(), look_for, try_this,
                  answer, exercise, check=check, explore=explore)  # fmt: skip


# the landscapes more than one lesson uses
BOWL = "quadratic"  # f = x² + y²: curvature L = 2 in every direction, so GD needs α0 < 1
RAVINE = (("condition", 25.0), ("angle", 30.0))
