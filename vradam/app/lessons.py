"""Guided lessons for the classroom: a question, a preset, what to look for, an exercise.

Each lesson opens one page of the app with the right settings through that page's
shareable URL (``page`` and ``query``), and carries two functions:

* ``check()`` measures the lesson's claim over a neighbourhood of its preset, not on one
  run, and returns a :class:`Claim` with the frequency (the tests assert ``holds``: the
  claim held in at least 80 % of the neighbourhood, and on the preset's own run).
  Playground lessons use :func:`vradam.app.claims.measure` (7×7 starts around the preset
  start × half, once and twice its steps × noise seeds when noise is on); the edge of
  stability lesson varies the data/initialisation seed, the step size and the horizon;
  the physics lesson the start and the horizon;
* ``explore(value)`` runs the "try this" exercise for one value of its slider and
  returns a small figure and a one-line result, shown on the lesson's own screen.

Oscillation, where a lesson compares it, is measured as the loss's *climb*: the sum of
its rises in decades, Σ max(0, Δ log₁₀ loss), which a steady descent does not add to.
Where a lesson compares VRAdam with Adam it also runs Adam at VRAdam's mean effective
rate over the same steps (the matched-rate control), so that a difference is not just
"a smaller step".

No streamlit here: the Lessons page (``vradam.app.ui.lessons``) renders these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

import landscapes
from vradam.app.claims import Measured, Neighbourhood, measure
from vradam.app.figures import playground as plots
from vradam.app.figures.common import as_list, assign_colors, background, log_ticks, sig_list
from vradam.app.figures.panels import map_over_panel
from vradam.app.playground import (
    MATCHED_LABEL,
    PlaygroundConfig,
    matched_adam,
    mean_effective_rate,
    oscillations,
    run,
)
from vradam.sim.engine import simulate
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.physics import integrate
from vradam.studies.threads import one_thread

__all__ = ["HOLDS_AT", "LESSONS", "PAGES", "Claim", "Exercise", "Lesson", "climb"]

PAGES = {
    "playground": ("app_pages/playground.py", "Playground"),
    "edge_of_stability": ("app_pages/eos.py", "Edge of stability"),
    "physics": ("app_pages/physics.py", "Physics"),
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
_HOOD = Neighbourhood((0.5, 0.5))


def _rises(loss: np.ndarray) -> np.ndarray:
    """(N, T+1) losses → (N,) number of steps on which the loss went up."""
    return (np.diff(loss, axis=1) > 0).sum(axis=1)


def climb(loss: np.ndarray) -> np.ndarray:
    """The loss's climb in decades, Σ max(0, Δ log₁₀ loss): (T+1,) → scalar, (N, T+1) → (N,).

    An oscillation measure that a steady descent does not add to (unlike mean |Δ log
    loss|) and that weighs each rise by its size (unlike a count of rises).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.diff(np.log10(np.maximum(loss, 1e-300)), axis=-1)
    return np.where(d > 0, d, 0.0).sum(axis=-1)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sci(x: float) -> str:
    """3.7·10⁵, 8·10⁻⁷: a number for a sentence."""
    mantissa, exponent = f"{x:.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}·10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _playground_claim(config: PlaygroundConfig, hood: Neighbourhood, test, statement: str,
                      detail: str, numbers: dict) -> Claim:  # fmt: skip
    """Measure ``test`` over ``hood`` and on the preset's own run."""
    m = measure(config, hood, test)
    preset = bool(np.asarray(test(run(config), config.steps))[0])
    return Claim(statement, m.count, m.total, m.text(), preset, numbers, detail)


def _race(config: PlaygroundConfig, highlight=None) -> tuple[list, dict]:
    """The runs and their figure: the map over the loss panel, since a lesson's figure has
    a column of the page (about 380–490 px wide on a desktop, the full width of a phone)."""
    trs = run(config)
    ls = config.landscape_obj()
    colors = assign_colors(config.specs())
    fig = plots.path_figure(ls, trs, colors, background(ls, n_image=160, n_contour=60),
                            highlight=highlight)  # fmt: skip
    return trs, map_over_panel(fig)


def _fate(tr) -> str:
    if tr.diverged_at[0] >= 0:
        return f"diverged at step {int(tr.diverged_at[0])}"
    if tr.converged_at[0] >= 0:
        return f"converged at step {int(tr.converged_at[0])}"
    return f"ended at loss {tr.loss[0, -1]:.2g}"


def _playground_lesson(
    *, key, title, question, config: PlaygroundConfig, look_for, try_this, answer,
    exercise: Exercise, vary: Callable[[float], PlaygroundConfig],
    check: Callable[[], Claim], result: Callable[[list, float], str],
    figure: Callable[[PlaygroundConfig], tuple[list, dict]] = _race,
) -> Lesson:  # fmt: skip
    def explore(value: float) -> tuple[dict, str]:
        trs, fig = figure(vary(value))
        return fig, result(trs, value)

    return Lesson(key, title, question, "playground", config.to_query(), look_for, try_this,
                  answer, exercise, check=check, explore=explore)  # fmt: skip


# ----------------------------------------------------------------------------- 1 step size

_BOWL = "quadratic"  # f = x² + y²: curvature L = 2 in every direction, so GD needs α0 < 1
_STEP_CONFIG = PlaygroundConfig(
    landscape=_BOWL,
    optimizers=("gd:lr=0.9@GD, α₀·L = 1.8", "gd:lr=1.05@GD, α₀·L = 2.1"),
    steps=60,
)


def _gd_bowl(alpha0: float, steps: int = 60) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=_BOWL, optimizers=(f"gd:lr={alpha0:g}",), steps=steps)


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
        f"{safe.loss[0, 0]:.3g} at the start, and the large step {_fate(big)}."
    )
    numbers = {"safe_final_loss": float(safe.loss[0, -1]),
               "big_diverged_at": int(big.diverged_at[0])}  # fmt: skip
    return _playground_claim(_STEP_CONFIG, _HOOD, _step_size_test, statement, detail, numbers)


STEP_SIZE = _playground_lesson(
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
        f"{_fate(trs[0])}; each step multiplies the distance by |1 − α₀L| = {abs(1 - 2 * a):.2f}."
    ),
)


# ----------------------------------------------------------------------------- 2 momentum

_RAVINE = (("condition", 25.0), ("angle", 30.0))
_SIN30, _COS30 = 0.5, float(np.sqrt(3) / 2)


def _momentum_config(mu: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape="ill_conditioned", landscape_params=_RAVINE,
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
        (_rises(gd.loss) == 0)
        & zigzag
        & (_rises(mom.loss) >= 0.4 * h)
        & (mom.loss[:, -1] > gd.loss[:, -1])
    )


def _momentum_claim() -> Claim:
    config = _momentum_config(0.9)
    gd, mom = run(config)
    w = np.abs(_across(gd.xy[0]))
    swings = int(np.argmax(w < 0.02 * w[0]))
    n_mom = oscillations(mom.loss[0])
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
    numbers = {"gd_increases": oscillations(gd.loss[0]), "momentum_increases": n_mom,
               "gd_swings": swings}  # fmt: skip
    return _playground_claim(config, _HOOD, _momentum_test, statement, detail, numbers)


MOMENTUM = _playground_lesson(
    key="momentum",
    title="Momentum and oscillation",
    question="In a ravine 25 times steeper across than along, does adding momentum "
    "(μ = 0.9) to gradient descent make it faster?",
    config=_momentum_config(0.9),
    look_for="GD zig-zags across the ravine, each swing three quarters of the last, about a "
    "dozen before they are too small to see, and slides down the floor. The heavy ball "
    "carries its speed past the floor and swings from wall to wall; its loss saw-tooths.",
    try_this="Lower μ and find the value that converges first.",
    answer="Momentum turns every direction into a damped oscillator whose swing shrinks by "
    "about √μ per step. At μ = 0.9 the damping is weak (0.95 per step, 0.9 in the loss), so "
    "the swings across the ravine die out only slowly and the loss rises on about every "
    "second step. A moderate μ (try 0.5) converges well before GD. VRAdam's gate is another "
    "way to damp such swings.",
    exercise=Exercise("momentum μ", (0.0, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99), 0.9),
    vary=_momentum_config,
    check=_momentum_claim,
    result=lambda trs, mu: (
        f"μ = {mu:g}: heavy ball {_fate(trs[1])}, its loss rose on "
        f"{oscillations(trs[1].loss[0])} steps; GD {_fate(trs[0])}."
    ),
)


# ----------------------------------------------------------------------------- 3 Adam

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
    starts = _HOOD.starts(config.start_point())
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
    return _playground_claim(config, _HOOD, _adam_test, statement, detail, numbers)


ADAM = _playground_lesson(
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
    "minimum (VRAdam's gate targets exactly that).",
    exercise=Exercise("condition number κ", (1.0, 10.0, 100.0, 1000.0), 100.0),
    vary=_adam_config,
    check=_adam_claim,
    result=lambda trs, k: (
        f"κ = {k:g}: GD's first step is {_first_step_ratio(trs[0]):.3g}× "
        f"longer in y than in x (κ·|y/x| = {k:g}·0.8), Adam's {_first_step_ratio(trs[1]):.3g}×; "
        f"after 200 steps GD {_fate(trs[0])}, Adam {_fate(trs[1])}."
    ),
)


# ----------------------------------------------------------------------------- 4 EoS

_EOS_STEPS = 500  # the Edge of stability page's default run (EoSConfig().steps)
_EOS_EVERY = 20
# Three runs (seed of the data and initial weights, η): the preset and two nearby step
# sizes, each with its own seed; each cut at ½ and 1 × 500 steps. A run costs ~1–2 s of
# CPU, so a full 3 × 3 grid would triple the check. (Seed 2 at η = 0.25 reaches the edge
# only at step 160 and its loss has not yet risen by step 250: the claim says "rises"
# with their measured range, not as a condition.)
_EOS_RUNS = ((0, 0.3), (1, 0.25), (2, 0.35))
_EOS_HORIZONS = (250, 500)
_EOS_BAND = (0.7, 1.35)  # "hovers around 2/η": after first reaching it, never outside this


@lru_cache(maxsize=16)
def _gd_edge(lr: float, steps: int = _EOS_STEPS, every: int = _EOS_EVERY, seed: int = 0):
    from vradam.studies.eos import EoSConfig, series_from_records
    from vradam.studies.training import train_steps

    config = EoSConfig(lr_gd=lr, steps=steps, sharpness_every=every, seed=seed)
    with one_thread():
        records = list(train_steps(config.train_config((config.optimizers()[0],))))
    return series_from_records(records, 0)


def _edge(s, h: int) -> dict:
    """GD's sharpness against 2/η over the first h steps of one run."""
    keep = s.sharp_steps <= h
    steps, ratio = s.sharp_steps[keep], (s.sharpness / s.threshold)[keep]
    hit = np.flatnonzero(ratio >= 0.9)
    k = int(hit[0]) if hit.size else len(ratio)
    after = ratio[k:]
    width = np.diff(steps, append=h)[k:]
    loss = s.loss[:h]
    out = dict(
        start=float(ratio[0]),
        first=int(steps[k]) if hit.size else -1,
        peak=float(ratio.max()),
        low=float(after.min()) if after.size else float("nan"),
        near=float(width[np.abs(after - 1) <= 0.1].sum() / max(1, width.sum())),
        rises=int(np.sum(np.diff(loss) > 0)),
        fell=float(loss[0] / loss[-1]),
    )
    out["holds"] = bool(
        hit.size > 0
        and out["peak"] >= out["start"] + 0.1  # it rose: progressive sharpening
        and _EOS_BAND[0] <= out["low"]
        and out["peak"] <= _EOS_BAND[1]
        and out["fell"] >= 10
    )
    return out


def _eos_claim() -> Claim:
    edges = [_edge(_gd_edge(lr, seed=seed), h) for seed, lr in _EOS_RUNS for h in _EOS_HORIZONS]
    count = sum(e["holds"] for e in edges)
    total = len(edges)
    preset = _edge(_gd_edge(0.3), _EOS_STEPS)
    s = _gd_edge(0.3)
    n = s.edge_steps()

    def span(key, fmt):
        values = [e[key] for e in edges]
        return f"{fmt(min(values))}–{fmt(max(values))}"

    statement = (
        "GD's sharpness started below 2/η (at "
        f"{span('start', lambda v: f'{v:.2f}')} of it), rose to within 10 % of it by step "
        f"{max(e['first'] for e in edges)} and from then on hovered around it, between "
        f"{min(e['low'] for e in edges):.2f} and {max(e['peak'] for e in edges):.2f} times 2/η "
        f"(the test: within {_EOS_BAND[0]:g}–{_EOS_BAND[1]:g}), within 10 % on "
        f"{span('near', lambda v: f'{v:.0%}')} of the later steps, while the loss fell "
        f"{span('fell', lambda v: f'{v:.0f}')}-fold with {span('rises', str)} rises."
    )
    detail = (
        f"At the preset (η = 0.3, seed 0): sharpness {s.sharpness[0]:.2f} at the start, "
        f"within 10 % of 2/η = {s.threshold[0]:.3g} by step {s.first_edge_step()}, peak "
        f"{preset['peak'] - 1:.0%} above it, within 10 % for {n} of {_EOS_STEPS} steps; "
        f"loss {s.loss[0]:.2g} → {s.loss[-1]:.2g}."
    )
    measured = (
        f"in {count} of {total} runs ({count / total:.0%}; η = 0.3, 0.25 and 0.35 with seeds "
        f"0, 1 and 2 of the data and initial weights, each over "
        f"{' and '.join(map(str, _EOS_HORIZONS))} steps)"
    )
    numbers = {"edge_steps": n, "peak": preset["peak"], "runs": edges}
    return Claim(statement, count, total, measured, preset["holds"], numbers, detail)


def _eos_explore(lr: float) -> tuple[dict, str]:
    s = _gd_edge(lr)
    x = s.sharp_steps.tolist()
    fig = dict(
        data=[
            dict(type="scatter", x=x, y=sig_list(s.sharpness), mode="lines+markers",
                 name="sharpness λmax(H)", line=dict(color="#000000")),
            dict(type="scatter", x=x, y=sig_list(s.threshold), mode="lines",
                 name="2/η", line=dict(color="#D55E00", dash="dash")),
        ],
        layout=dict(height=300, margin=dict(l=50, r=20, t=30, b=45), plot_bgcolor="white",
                    xaxis=dict(title=dict(text="step"), gridcolor="#eeeeee"),
                    yaxis=dict(title=dict(text="sharpness"), gridcolor="#eeeeee"),
                    legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom")),
    )  # fmt: skip
    first = s.first_edge_step()
    peak = float(np.max(s.ratio))
    text = (
        f"η = {lr:g}: 2/η = {2 / lr:.3g}; the sharpness came within 10 % of it at step {first}, "
        f"peaked {peak - 1:+.0%} from it and stayed within 10 % for {s.edge_steps()} of "
        f"{_EOS_STEPS} steps."
        if first >= 0
        else f"η = {lr:g}: 2/η = {2 / lr:.3g} is above anything the sharpness reached "
        f"({np.max(s.sharpness):.3g}) in {_EOS_STEPS} steps: this step is too small to meet "
        "the edge."
    )
    return fig, text


EOS = Lesson(
    key="edge_of_stability",
    title="The edge of stability",
    question="Full-batch GD on a small network at η = 0.3. The lesson on step sizes says it "
    "needs sharpness < 2/η. What does the sharpness actually do during training?",
    page="edge_of_stability",
    query={"eos_problem": "mlp", "eos_seeds": "1"},  # one seed: the lesson opens fast
    look_for="Top left, GD's panel (and the chart here): the dots (sharpness) climb to the "
    "dashed line 2/η, overshoot it (by 14 % at η = 0.3), drop back and then hover around it, "
    "closer and closer. The chart here shows the sharpness only: on the page (open the "
    "preset) GD's loss panel keeps falling, but not monotonically.",
    try_this="Pick another η: where does the sharpness level off now?",
    answer="Training drives the sharpness up (progressive sharpening) until it reaches 2/η, "
    "the largest curvature GD can stand at that rate. It cannot go far beyond: an overshoot "
    "along the top eigenvector makes the loss rise for a few steps and pushes the weights to "
    "a flatter region. So the network sits at the edge, loss falling non-monotonically "
    "(Cohen et al. 2021). Adam does the same on its preconditioned sharpness at 38/η; "
    "VRAdam's edge moves up while the velocity is large.",
    exercise=Exercise("η (GD)", (0.1, 0.2, 0.3, 0.5), 0.3),
    check=_eos_claim,
    explore=_eos_explore,
)


# ----------------------------------------------------------------------------- 5 VRAdam

# The Playground's control: Adam at VRAdam's mean η_t over the preset's 300 steps from
# its start, 0.214 (playground.matched_adam; a test re-derives it).
_MATCHED_LR = 0.214


def _vr_spec(beta3: float) -> str:
    return f"vradam:lr=0.3,beta3={beta3:g},weight_decay=0"


_RAVINE_CONFIG = PlaygroundConfig(landscape="ill_conditioned", landscape_params=_RAVINE,
                                  optimizers=("adam:lr=0.3", _vr_spec(0.021),
                                              f"adam:lr={_MATCHED_LR:g}@{MATCHED_LABEL}"),
                                  steps=300)  # fmt: skip


@lru_cache(maxsize=8)
def _vr_parts(config: PlaygroundConfig, starts: bytes, etas: bytes, h: int):
    """Cached matched runs, keyed by the starts and rates (bytes) of one measurement."""
    xy = np.frombuffer(starts).reshape(-1, 2)
    specs = [f"adam:lr={eta:g}" for eta in np.frombuffer(etas)]
    runs = simulate(config.landscape_obj(), specs, xy, h, telemetry="path")
    return np.stack([r.loss[i] for i, r in enumerate(runs)])


def _vr_compare(trs, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per start: VRAdam climbs less than Adam; less than Adam at its mean η; ends higher
    than Adam at its mean η."""
    adam, vr = trs[0], trs[1]
    etas = np.array([mean_effective_rate(vr, h, i) for i in range(vr.xy.shape[0])])
    matched = _vr_parts(_RAVINE_CONFIG, np.ascontiguousarray(vr.xy[:, 0]).tobytes(),
                        etas.tobytes(), h)  # fmt: skip
    c_adam, c_vr, c_matched = climb(adam.loss), climb(vr.loss), climb(matched)
    return c_vr < c_adam, c_vr < c_matched, vr.loss[:, -1] > matched[:, -1]


def _vr_test(trs, h: int) -> np.ndarray:
    smoother, smoother_matched, higher = _vr_compare(trs, h)
    return smoother & smoother_matched & higher


def _vr_smoother(trs, h: int) -> np.ndarray:
    return _vr_compare(trs, h)[0]


def _vr_smoother_matched(trs, h: int) -> np.ndarray:
    return _vr_compare(trs, h)[1]


def _vr_higher(trs, h: int) -> np.ndarray:
    return _vr_compare(trs, h)[2]


def _vr_claim() -> Claim:
    config = _RAVINE_CONFIG
    adam, vr, matched = run(config)
    eta = vr.effective_lr[0]
    parts = [measure(config, _HOOD, t).short()
             for t in (_vr_smoother, _vr_smoother_matched, _vr_higher)]  # fmt: skip
    c = [float(climb(t.loss[0])) for t in (adam, vr, matched)]
    n = [oscillations(t.loss[0]) for t in (adam, vr, matched)]
    final = [float(t.loss[0, -1]) for t in (adam, vr, matched)]
    statement = (
        "Oscillation is measured as the loss's climb, the sum of its rises in decades. "
        "VRAdam's loss climbed less than Adam's at the same α₀ = 0.3 "
        f"{parts[0]}, and less than that of Adam run at VRAdam's mean η over the same steps "
        f"(matched per start and step count) {parts[1]}: the smoothing is more than a smaller "
        "average step. But it is not faster: VRAdam ended higher than that matched Adam "
        f"{parts[2]}."
    )
    detail = (
        f"From the preset start over 300 steps (Adam, VRAdam, Adam at "
        f"η = {_MATCHED_LR:g}): climbs {c[0]:.1f}, {c[1]:.1f} and {c[2]:.1f} decades; the "
        f"loss rose on {n[0]}, {n[1]} and {n[2]} steps; final losses {final[0]:.1e}, "
        f"{final[1]:.1e} and {final[2]:.1e}, so the matched Adam ended "
        f"{_sci(final[1] / final[2])} times lower than VRAdam. VRAdam's η_t fell to "
        f"{np.nanmin(eta):.3g} (the floor α₀/(1 + α₁)) and was back at {eta[-1]:.3g} at the "
        "end."
    )
    numbers = {"adam_increases": n[0], "vradam_increases": n[1], "matched_increases": n[2],
               "climb": c, "final": final, "matched_lr": float(np.nanmean(eta))}  # fmt: skip
    return _playground_claim(config, _HOOD, _vr_test, statement, detail, numbers)


def _vr_config(beta3: float) -> PlaygroundConfig:
    return replace(_RAVINE_CONFIG, optimizers=("adam:lr=0.3", _vr_spec(beta3)))


def _vr_race(config: PlaygroundConfig) -> tuple[list, dict]:
    """Adam, VRAdam and Adam at VRAdam's mean η over the run (the Playground's control)."""
    matched = matched_adam(config, run(config), 1)
    return _race(replace(config, optimizers=(*config.optimizers, matched)))


VR_PENALTY = _playground_lesson(
    key="velocity_penalty",
    title="VRAdam's velocity penalty",
    question="Adam bounces from wall to wall in a rotated ravine. What changes if its rate "
    "is divided by 1 + β₃‖v‖², where v is its velocity (first moment)? Is that more than "
    "a smaller step?",
    config=_RAVINE_CONFIG,
    look_for="The loss panel: Adam saw-tooths all the way down. The third run, Adam at "
    "VRAdam's mean rate η̄, is the control (same average step, no gate): it saw-tooths less. "
    "VRAdam's curve is the smoothest but ends the highest. On this small map the three paths "
    "overlap; zoom into the Playground's map to see the zig-zags, and its η_t panel to see "
    "VRAdam's rate dip when its ‖v‖² peaks.",
    try_this="Raise β₃ from 0 (plain Adam) and watch the loss's climb and its final value.",
    answer="Bouncing means a large velocity, and the gate shrinks the step in proportion to "
    "‖v‖²: the faster the motion, the smaller the step, as if the particle grew heavier with "
    "speed. That damps the bouncing more than a constant step of the same average size: "
    "the control, Adam at VRAdam's mean rate, still climbs more. But here the damping costs "
    "speed: the small steps come early, and the matched Adam ends far lower. Too large a β₃ "
    "slows the descent further; the clip α₁ bounds the cut.",
    exercise=Exercise("β₃", (0.0, 0.005, 0.01, 0.021, 0.05, 0.1, 0.3), 0.021),
    vary=_vr_config,
    check=_vr_claim,
    figure=_vr_race,
    result=lambda trs, b: (
        f"β₃ = {b:g}: the loss climbed {climb(trs[1].loss[0]):.1f} decades for VRAdam, "
        f"{climb(trs[0].loss[0]):.1f} for Adam and {climb(trs[2].loss[0]):.1f} for Adam at "
        f"VRAdam's mean η ({trs[2].spec.hyperparams['lr']:.3g}); final losses "
        f"{trs[1].loss[0, -1]:.2g}, {trs[0].loss[0, -1]:.2g} and {trs[2].loss[0, -1]:.2g}."
    ),
)


# ----------------------------------------------------------------------------- 6 physics

_PHYSICS_DT, _PHYSICS_STEPS = 0.005, 1000  # t = 5, the Physics page's default
_PHYSICS_PUSH = (2.0, 0.0)
_PHYSICS_HOOD = Neighbourhood((0.5, 0.5))  # 7×7 starts around (−0.5, −0.5) × t = 2.5, 5, 10


def _physics_run(beta3: float):
    ls = landscapes.get("himmelblau")
    return integrate(ls, ls.start, _PHYSICS_PUSH, beta3s=(0.0, beta3), dt=_PHYSICS_DT,
                     steps=_PHYSICS_STEPS)  # fmt: skip


def _motions(ls, starts: np.ndarray, v0, beta3s, dt: float, steps: int):
    """Speeds (T+1, N, B) and energies (T+1, N, B) from every start for every β3: one
    batched RK4 run of :func:`vradam.studies.physics.integrate`."""
    motions = integrate(ls, starts, v0, beta3s=beta3s, dt=dt, steps=steps)
    N, B = len(starts), len(beta3s)
    speed = np.stack([np.linalg.norm(m.v, axis=-1) for m in motions], axis=1)
    energy = np.stack([m.energy for m in motions], axis=1)
    return speed.reshape(steps + 1, N, B), energy.reshape(steps + 1, N, B)


@lru_cache(maxsize=2)
def _physics_hood():
    ls = landscapes.get("himmelblau")
    hood = _PHYSICS_HOOD
    starts = hood.starts(ls.start)
    horizons = hood.horizon_steps(_PHYSICS_STEPS)
    speed, energy = _motions(ls, starts, _PHYSICS_PUSH, (0.0, 1.0), _PHYSICS_DT, max(horizons))
    rows = []
    for h in horizons:
        top = speed[: h + 1].max(axis=0)  # (N, 2)
        drift = np.max(np.abs(energy[: h + 1] - energy[0]) / np.abs(energy[0]), axis=0)
        rows.append((top, drift))
    return starts, horizons, rows


def _physics_claim() -> Claim:
    starts, horizons, rows = _physics_hood()
    g = _PHYSICS_HOOD.grid
    holds = np.stack([(top[:, 1] < 0.5 * top[:, 0]) & (drift.max(axis=1) < 1e-3)
                      for top, drift in rows])  # fmt: skip
    m = Measured(holds.reshape(1, len(horizons), g, g), starts, horizons, (), _PHYSICS_HOOD)
    ratio = np.concatenate([top[:, 1] / top[:, 0] for top, _ in rows])
    tops = np.concatenate([top for top, _ in rows])
    worst = np.max([drift.max(axis=0) for _, drift in rows], axis=0)  # (2,)
    ordinary, quartic = _physics_run(1.0)
    top = [float(np.max(np.linalg.norm(mo.v, axis=-1))) for mo in (ordinary, quartic)]
    drift = max(float(np.max(np.abs(mo.energy - mo.energy[0])) / abs(mo.energy[0]))
                for mo in (ordinary, quartic))  # fmt: skip
    preset = top[1] < 0.5 * top[0] and drift < 1e-3
    statement = (
        "Same push (2, 0), starts around (−0.5, −0.5): the particle with the quartic term "
        f"(β₃ = 1) reached a top speed of only {ratio.min():.0%}–{ratio.max():.0%} of the "
        f"ordinary one's ({tops[:, 1].min():.2g}–{tops[:, 1].max():.2g} against "
        f"{tops[:, 0].min():.2g}–{tops[:, 0].max():.2g}). Both kept their energy constant, to "
        f"{_sci(worst[0])} (ordinary) and {_sci(worst[1])} (quartic) of its value: the "
        f"integrator's error (RK4, dt = {_PHYSICS_DT:g})."
    )
    detail = (
        f"From the preset start up to t = 5: top speeds {top[0]:.3g} and {top[1]:.3g}, "
        f"energy constant to {_sci(drift)}."
    )
    numbers = {"top_ordinary": top[0], "top_quartic": top[1], "drift": drift,
               "ratio_range": (float(ratio.min()), float(ratio.max()))}  # fmt: skip
    return Claim(statement, m.count, m.total, m.text().replace(" steps", " steps of RK4"),
                 preset, numbers, detail)  # fmt: skip


def _physics_explore(beta3: float) -> tuple[dict, str]:
    motions = _physics_run(beta3)
    colors = ["#888888", "#D55E00"]
    names = ["β₃ = 0", f"β₃ = {beta3:g}"]
    data = [
        dict(type="scatter", x=as_list(m.t[::5], 4),
             y=as_list(np.linalg.norm(m.v[::5], axis=-1), 4), mode="lines", name=n,
             line=dict(color=c, width=2))
        for m, c, n in zip(motions, colors, names)
    ]  # fmt: skip
    fig = dict(data=data, layout=dict(
        height=300, margin=dict(l=50, r=20, t=30, b=45), plot_bgcolor="white",
        xaxis=dict(title=dict(text="time t"), gridcolor="#eeeeee"),
        yaxis=dict(title=dict(text="speed ‖v‖"), gridcolor="#eeeeee", rangemode="tozero"),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom")))  # fmt: skip
    top = [float(np.max(np.linalg.norm(m.v, axis=-1))) for m in motions]
    return fig, (
        f"β₃ = {beta3:g}: top speed {top[1]:.3g} against {top[0]:.3g} without the quartic term "
        f"({top[1] / top[0]:.0%})."
    )


PHYSICS = Lesson(
    key="physics",
    title="A quartic kinetic energy",
    question="A ball rolls on Himmelblau's landscape. Give its kinetic energy an extra term "
    "(β₃/4)‖v‖⁴: what happens to its motion?",
    page="physics",
    query={"ph_ls": "himmelblau", "ph_b3": "1", "ph_gamma": "0", "ph_vx": "2", "ph_vy": "0"},
    look_for="The two paths start together and separate as the ordinary ball speeds up "
    "downhill; the other never gets fast (about a fifth of the speed). The energy panel shows "
    "each ball's energy error |E − E₀|/E₀ on a log axis: it creeps up with the integrator's "
    "rounding but stays under one part in a thousand, so both energies are conserved.",
    try_this="Change β₃ and read the top speed.",
    answer="The momentum is p = (M + β₃‖v‖²)v: the particle behaves as if its mass grew with "
    "its speed, so the same force accelerates it less when it is fast. Energy is still "
    "conserved (E = V + (M/2)‖v‖² + (3β₃/4)‖v‖⁴), but more of it is stored per unit of speed: "
    "falling the same height, the quartic ball ends much slower. VRAdam borrows the factor "
    "1/(1 + β₃‖v‖²) as a gate on its learning rate.",
    exercise=Exercise("β₃", (0.01, 0.1, 0.3, 1.0, 3.0, 10.0), 1.0),
    check=_physics_claim,
    explore=_physics_explore,
)


# ----------------------------------------------------------------------------- 7 β3 and α1

_CLIP_CONFIG = PlaygroundConfig(
    landscape=_BOWL,
    optimizers=(
        "adam:lr=0.5",
        "vradam:lr=0.5,beta3=10,alpha1=1,weight_decay=0@VRAdam, α₁ = 1",
        "vradam:lr=0.5,beta3=10,alpha1=10,weight_decay=0@VRAdam, α₁ = 10",
    ),
    steps=200,
)


def _clip_config(alpha1: float) -> PlaygroundConfig:
    vr = f"vradam:lr=0.5,beta3=10,alpha1={alpha1:g},weight_decay=0@VRAdam, α₁ = {alpha1:g}"
    return PlaygroundConfig(landscape=_BOWL, optimizers=("adam:lr=0.5", vr), steps=200)


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
    return _playground_claim(_CLIP_CONFIG, _HOOD, _clip_test, statement, detail, numbers)


def _clip_race(config: PlaygroundConfig) -> tuple[list, dict]:
    """The race with the η_t panel in place of the loss (the lesson is about the rate): each
    run's η_t, VRAdam's floor α₀/(1 + α₁) dashed and its clipped steps marked."""
    trs, fig = _race(config)
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


CLIP = _playground_lesson(
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
        f"{_clip_steps(trs[1], a1)} steps and VRAdam {_fate(trs[1])}."
    ),
)


# ----------------------------------------------------------------------------- 8 noise

_NOISE_LRS = (0.1, 0.025)
_FLOOR_TOLERANCE = 0.5  # a floor averaged over one run's second half is itself noisy


def _noise_config(sigma: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=_BOWL, optimizers=("gd:lr=0.1", "gd:lr=0.025"),
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
    tight = measure(config, _HOOD, _noise_test_25).short()
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
    return _playground_claim(config, _HOOD, _noise_test, statement, detail,
                             {"floors": floors, "theory": theory})  # fmt: skip


def _running_mean(loss: np.ndarray, window: int = 50) -> np.ndarray:
    c = np.cumsum(np.r_[0.0, loss])
    n = np.minimum(np.arange(1, loss.size + 1), window)
    return (c[1:] - c[np.arange(1, loss.size + 1) - n]) / n


def _noise_race(config: PlaygroundConfig) -> tuple[list, dict]:
    """The race, with each run's per-step loss faint, its 50-step running mean bold and the
    theory's floors dashed, on a log axis zoomed onto the floors: the two levels show."""
    trs, fig = _race(config)
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


NOISE = _playground_lesson(
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


LESSONS: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in (STEP_SIZE, MOMENTUM, ADAM, EOS, VR_PENALTY, PHYSICS, CLIP, NOISE)
}
