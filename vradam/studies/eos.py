"""Edge of stability: full-batch runs whose sharpness meets each optimizer's threshold.

Two problems (docs/theory.md §2):

* ``mlp``: a tanh MLP fitting a fixed random "teacher" network under mean squared
  error, full batch. GD's sharpness λmax(H) rises (progressive sharpening) until it
  reaches 2/η and then hovers there while the loss keeps falling non-monotonically:
  the edge of stability (Cohen et al. 2021). Heavy ball's line is 2(1+μ)/η; Adam's
  preconditioned sharpness λmax(P^-½HP^-½) settles near 38/η (Cohen et al. 2022);
  VRAdam's threshold moves with ‖v‖.
* ``quadratic``: a rotated ravine, where Adam-type methods never diverge: their
  preconditioned sharpness grows as the gradient (and so the preconditioner)
  shrinks, until it meets the threshold and the loss starts to oscillate. VRAdam's
  gate raises its threshold while ‖v‖ is large and damps the oscillation.

Adam is always run twice: at VRAdam's α0, and at VRAdam's mean effective rate η_t *over
the comparison window* (by default the second half of the run, after the early clipped
phase), so that a difference there is not just "a smaller step". Every comparison is
measured over that window:

* ``loss_increases``: how many steps the loss went up (counts a tiny wiggle like a big one);
* ``upward_movement``: Σ max(Δ log loss, 0), how far the loss climbed in total;
* ``amplitude``: the standard deviation of Δ log loss, i.e. the oscillation with the
  trend removed (a steady descent at any constant rate gives 0).

Mean |Δ log loss| is not used: it counts a steady descent as oscillation.

:func:`findings` turns several runs (MLP seeds, or quadratic starts) into statements
with the measure each uses and how many runs it holds in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig, train_steps

__all__ = [
    "EDGE_TOLERANCE",
    "EoSConfig",
    "EoSResult",
    "Finding",
    "QuadraticConfig",
    "Series",
    "findings",
    "quadratic_starts",
    "run_mlp",
    "run_quadratic",
    "run_quadratic_starts",
    "sharpness_examples",
]

EDGE_TOLERANCE = 0.1  # "at the edge": sharpness within 10 % of the threshold
MATCHED_LABEL = "Adam at VRAdam's window η"

Progress = Callable[[float, str], None]


@dataclass
class Series:
    """One optimizer's run, reduced to what the edge-of-stability plots need."""

    label: str
    spec: str
    sharpness_kind: str  # "hessian" or "preconditioned"
    steps: np.ndarray  # (T,) update index t (loss of update t+1 is at t)
    loss: np.ndarray  # (T,) training loss before update t+1
    eta: np.ndarray  # (T,) effective learning rate of update t+1
    sharp_steps: np.ndarray  # (S,) steps where the sharpness was measured
    sharpness: np.ndarray  # (S,)
    threshold: np.ndarray  # (S,) the optimizer's stability threshold at those steps

    @property
    def ratio(self) -> np.ndarray:
        return self.sharpness / self.threshold

    def edge_steps(self, rel: float = EDGE_TOLERANCE) -> int:
        """Steps with the sharpness within ``rel`` of the threshold (sampled: each sample
        stands for the interval to the next one)."""
        if len(self.sharp_steps) < 2:
            return 0
        width = np.diff(self.sharp_steps, append=self.sharp_steps[-1])
        return int(np.sum(width[np.abs(self.ratio - 1) <= rel]))

    def first_edge_step(self, rel: float = EDGE_TOLERANCE) -> int:
        hit = np.flatnonzero(self.ratio >= 1 - rel)
        return int(self.sharp_steps[hit[0]]) if hit.size else -1

    def _dlog(self, start: int = 0) -> np.ndarray:
        """Δ log loss between consecutive steps from ``start`` on."""
        tail = np.log(np.maximum(self.loss[start:], 1e-300))
        return np.diff(tail)

    def loss_increases(self, start: int = 0) -> int:
        """How many steps from ``start`` on the loss went up."""
        return int(np.sum(np.diff(self.loss[start:]) > 0))

    def upward_movement(self, start: int = 0) -> float:
        """Σ max(Δ log loss, 0) from ``start`` on: how far the loss climbed in total."""
        d = self._dlog(start)
        return float(np.sum(d[d > 0])) if d.size else float("nan")

    def amplitude(self, start: int = 0) -> float:
        """Standard deviation of Δ log loss from ``start`` on: the oscillation with the
        trend removed (0 for a descent at a constant rate, whatever the rate)."""
        d = self._dlog(start)
        return float(np.std(d)) if d.size > 1 else float("nan")

    def mean_eta(self, start: int = 0) -> float:
        return float(np.mean(self.eta[start:]))

    def summary(self, start: int = 0) -> dict:
        """The table row; the oscillation measures are over steps ``start`` … end."""
        return {
            "optimizer": self.label,
            "final loss": float(self.loss[-1]),
            "loss increases (window)": self.loss_increases(start),
            "upward movement Σ⁺Δlog loss (window)": self.upward_movement(start),
            "amplitude std Δlog loss (window)": self.amplitude(start),
            "mean η (window)": self.mean_eta(start),
            "first step at the edge": _step_text(self.first_edge_step()),
            "steps at the edge (±10 %)": self.edge_steps(),
        }


def _step_text(step: int) -> str:
    return str(step) if step >= 0 else "never"


@dataclass
class EoSResult:
    problem: str  # "mlp" or "quadratic"
    series: list[Series]
    matched_lr: float  # Adam's rate in the matched run = VRAdam's mean η over the window
    window_start: int = 0  # the comparison window: steps window_start … the last one
    label: str = ""  # which run: "seed 0", "start (−2.5, 2)"
    sharpness_examples: int = 0  # MLP: how many training examples the sharpness uses

    @property
    def window(self) -> tuple[int, int]:
        """(first, last) step of the comparison window (loss of update t+1 at t)."""
        return self.window_start, int(self.series[0].steps[-1])

    def summary_rows(self) -> list[dict]:
        return [s.summary(self.window_start) for s in self.series]

    def role(self, role: str) -> Series:
        """The series by role: gd, heavy_ball, adam, vradam or matched."""
        keys = [OptimizerSpec.parse(s.spec).key for s in self.series]
        if role == "matched":
            return next(s for s in self.series if s.label == MATCHED_LABEL)
        key = {"heavy_ball": "momentum"}.get(role, role)
        return next(s for s, k in zip(self.series, keys) if k == key and s.label != MATCHED_LABEL)


def _window_start(steps: int, fraction: float) -> int:
    return min(max(round(fraction * steps), 0), steps - 2)


def _check_window(fraction: float) -> None:
    if not 0 <= fraction <= 0.9:
        raise ValueError("window_start must be in [0, 0.9] (a fraction of the run)")


# ----------------------------------------------------------------------------- MLP


@dataclass(frozen=True)
class EoSConfig:
    """The MLP problem. Defaults put every optimizer at its edge within ``steps``."""

    lr_gd: float = 0.3  # η of GD and heavy ball
    momentum: float = 0.9
    lr_adam: float = 0.03  # α0 of Adam and VRAdam
    beta3: float = 1e4  # ‖v‖² is ~1e-4 at the edge here, so β3 must be large to gate
    steps: int = 500
    sharpness_every: int = 20
    seed: int = 0  # the initial weights and the 256 input points (the teacher is fixed)
    window_start: float = 0.5  # the comparison window: from this fraction of the run to its end

    def __post_init__(self) -> None:
        _check_window(self.window_start)
        if not (self.lr_gd > 0 and self.lr_adam > 0 and self.beta3 >= 0):
            raise ValueError("learning rates must be > 0 and β3 ≥ 0")
        if not 0 <= self.momentum < 1:
            raise ValueError("momentum must be in [0, 1)")
        if not (10 <= self.steps <= 5000 and self.sharpness_every >= 1):
            raise ValueError("steps must be between 10 and 5000, sharpness_every ≥ 1")

    def optimizers(self) -> tuple[str, ...]:
        return (
            f"gd:lr={self.lr_gd:g}",
            f"momentum:lr={self.lr_gd:g},momentum={self.momentum:g}",
            f"adam:lr={self.lr_adam:g}",
            f"vradam:lr={self.lr_adam:g},beta3={self.beta3:g},weight_decay=0",
        )

    def train_config(self, optimizers: tuple[str, ...]) -> TrainConfig:
        return TrainConfig(task="teacher", optimizers=optimizers, steps=self.steps,
                           sharpness_every=self.sharpness_every,
                           eval_every=self.sharpness_every, seed=self.seed)  # fmt: skip


def series_from_records(records: list[dict], index: int) -> Series:
    mine = [r for r in records if r["optimizer"] == index]
    stepped = [r for r in mine if "loss" in r]
    sharp = [r for r in mine if "sharpness" in r]
    return Series(
        label=mine[0]["label"],
        spec=mine[0]["spec"],
        sharpness_kind=sharp[0]["sharpness_kind"] if sharp else "hessian",
        steps=np.array([r["step"] for r in stepped]),
        loss=np.array([r["loss"] for r in stepped]),
        eta=np.array([r["effective_lr"] for r in stepped]),
        sharp_steps=np.array([r["step"] for r in sharp]),
        sharpness=np.array([r["sharpness"] for r in sharp]),
        threshold=np.array([r["threshold"] for r in sharp]),
    )


def _train(config: TrainConfig, progress: Progress | None, done: float, share: float) -> list:
    records = []
    n = len(config.optimizers)
    for r in train_steps(config):
        records.append(r)
        if progress is not None and r["optimizer"] == n - 1 and r["step"] % 25 == 0:
            progress(done + share * r["step"] / config.steps, r["label"])
    return records


def run_mlp(config: EoSConfig, progress: Progress | None = None) -> EoSResult:
    """GD, heavy ball, Adam, VRAdam and Adam at VRAdam's window-mean η on the teacher MLP."""
    with one_thread():  # a tiny MLP: threads only cost (vradam.studies.threads)
        return _run_mlp(config, progress)


def _run_mlp(config: EoSConfig, progress: Progress | None) -> EoSResult:
    records = _train(config.train_config(config.optimizers()), progress, 0.0, 0.8)
    series = [series_from_records(records, i) for i in range(4)]
    start = _window_start(config.steps, config.window_start)
    matched_lr = float(f"{series[3].mean_eta(start):.4g}")
    matched = OptimizerSpec("adam", {"lr": matched_lr}, MATCHED_LABEL)
    extra = _train(config.train_config((str(matched),)), progress, 0.8, 0.2)
    series.append(series_from_records(extra, 0))
    return EoSResult("mlp", series, matched_lr, start, f"seed {config.seed}",
                     sharpness_examples(config))  # fmt: skip


def sharpness_examples(config: EoSConfig) -> int:
    """How many training examples the sharpness (Lanczos) is computed on: the teacher
    task's training set, capped at training.SHARPNESS_SAMPLES."""
    from vradam.studies.networks import get_task
    from vradam.studies.training import SHARPNESS_SAMPLES

    n_train = get_task("teacher").make_data(config.seed).x_train.shape[0]
    return min(SHARPNESS_SAMPLES, int(n_train))


# ----------------------------------------------------------------------------- quadratic


@dataclass(frozen=True)
class QuadraticConfig:
    """A rotated ravine ``ill_conditioned(kappa, 30°)``, f = ½(u² + κw²); β2 = 0.9 so that
    Adam's preconditioner forgets the large early gradients within the run."""

    lr: float = 0.05
    beta2: float = 0.9
    beta3: float = 0.03
    kappa: float = 25.0
    steps: int = 600
    window_start: float = 0.5  # the comparison window: from this fraction of the run to its end

    def __post_init__(self) -> None:
        _check_window(self.window_start)
        if not (self.lr > 0 and self.beta3 >= 0 and 0 < self.beta2 < 1 and self.kappa >= 1):
            raise ValueError("need lr > 0, β3 ≥ 0, 0 < β2 < 1 and κ ≥ 1")
        if not 10 <= self.steps <= 20_000:
            raise ValueError("steps must be between 10 and 20000")


def _series_from_trajectory(tr, i: int = 0) -> Series:
    T = tr.steps
    steps = np.arange(T)
    kind = tr.spec.info.stability
    return Series(
        label=tr.label,
        spec=str(tr.spec),
        sharpness_kind="preconditioned" if kind == "preconditioned" else "hessian",
        steps=steps,
        loss=tr.loss[i, :T],
        eta=tr.effective_lr[i],
        sharp_steps=steps,
        sharpness=tr.compared_sharpness[i],
        threshold=tr.stability_threshold[i],
    )


def quadratic_starts(landscape, n: int, radius: float = 0.5) -> list[tuple[float, float]]:
    """The landscape's start, then n − 1 starts on a circle of ``radius`` around it."""
    x, y = landscape.start
    angles = np.linspace(0, 2 * np.pi, max(n - 1, 0), endpoint=False)
    ring = [(float(x + radius * np.cos(a)), float(y + radius * np.sin(a))) for a in angles]
    return [(float(x), float(y)), *ring]


def run_quadratic_starts(config: QuadraticConfig = QuadraticConfig(), n_starts: int = 1,
                         radius: float = 0.5) -> list[EoSResult]:  # fmt: skip
    """Adam, VRAdam and Adam at VRAdam's window-mean η on a rotated ravine (engine,
    float64), from the preset start and n_starts − 1 starts around it: one result each,
    each with its own matched rate. Three engine calls in all."""
    import landscapes
    from vradam.sim.engine import simulate

    ls = landscapes.ill_conditioned(config.kappa, 30.0)
    starts = quadratic_starts(ls, n_starts, radius)
    b2 = f"beta2={config.beta2:g}"
    specs = [
        f"adam:lr={config.lr:g},{b2}",
        f"vradam:lr={config.lr:g},{b2},beta3={config.beta3:g},weight_decay=0",
    ]
    adam, vr = simulate(ls, specs, starts, config.steps)
    start = _window_start(config.steps, config.window_start)
    rates = [float(f"{np.nanmean(vr.effective_lr[i, start:]):.4g}") for i in range(len(starts))]
    distinct = sorted(set(rates))
    matched_specs = [OptimizerSpec.parse(f"adam:lr={r:g},{b2}@{MATCHED_LABEL}") for r in distinct]
    matched = simulate(ls, matched_specs, starts, config.steps)
    results = []
    for i, (rate, xy) in enumerate(zip(rates, starts)):
        m = matched[distinct.index(rate)]
        series = [_series_from_trajectory(adam, i), _series_from_trajectory(vr, i),
                  _series_from_trajectory(m, i)]  # fmt: skip
        results.append(EoSResult("quadratic", series, rate, start,
                                 f"start ({xy[0]:.3g}, {xy[1]:.3g})"))  # fmt: skip
    return results


def run_quadratic(config: QuadraticConfig = QuadraticConfig()) -> EoSResult:
    """Adam, VRAdam and Adam at VRAdam's window-mean η from the preset start."""
    return run_quadratic_starts(config, 1)[0]


# ----------------------------------------------------------------------------- findings


@dataclass
class Finding:
    """One statement measured on several runs (seeds or starts)."""

    statement: str
    measure: str
    holds: list[bool]  # per run
    values: list[str]  # per run, what was measured
    ratios: list[float] | None = None  # VRAdam ÷ the control, per run (comparisons only)

    @property
    def count(self) -> int:
        return int(sum(self.holds))

    def frequency(self) -> str:
        return f"{self.count} of {len(self.holds)}"

    def ratio_range(self) -> str:
        if not self.ratios:
            return ""
        lo, hi = min(self.ratios), max(self.ratios)
        return f"{lo:.2g}" if f"{lo:.2g}" == f"{hi:.2g}" else f"{lo:.2g}–{hi:.2g}"

    def row(self, runs: str = "each run") -> dict:
        """A table row; ``runs`` names the last column (e.g. "seeds 0, 1, 2")."""
        return {
            "statement": self.statement,
            "holds in": self.frequency(),
            "VRAdam ÷ control": self.ratio_range(),
            "measure": self.measure,
            runs: " · ".join(self.values),
        }


_NAMES = {"gd": "GD", "heavy_ball": "Heavy ball", "adam": "Adam", "vradam": "VRAdam"}
MORE_THAN_HALF = 0.5


def _edge_finding(results, role, line, measure) -> Finding:
    firsts = [r.role(role).first_edge_step() for r in results]
    return Finding(
        f"{_NAMES[role]}'s sharpness reaches {line}",
        measure,
        [f >= 0 for f in firsts],
        [f"step {f}" if f >= 0 else "never" for f in firsts],
    )


def _compare(results, statement, measure, get, control="matched", fmt="{:.3g}") -> Finding:
    """``statement`` holds in a run when VRAdam's ``get`` is below the control's."""
    pairs = [(get(r.role("vradam"), r.window_start), get(r.role(control), r.window_start))
             for r in results]  # fmt: skip
    return Finding(
        statement,
        measure,
        [bool(v < c) for v, c in pairs],
        [f"{fmt.format(v)} vs {fmt.format(c)}" for v, c in pairs],
        [float(v / c) if c > 0 else float("inf") for v, c in pairs],
    )


def _final(s: Series, _start: int) -> float:
    return float(s.loss[-1])


def findings(results: list[EoSResult]) -> list[Finding]:
    """The page's statements, each measured on every run of ``results`` (same config,
    different seeds or starts). Oscillation is compared over each run's window with Adam
    at VRAdam's own window-mean rate (the "control")."""
    r0 = results[0]
    first, last = r0.window
    out = []
    if r0.problem == "mlp":
        n = r0.sharpness_examples
        lanczos = f"λmax(H), Lanczos on the {n} training examples, sampled"
        out += [
            _edge_finding(results, "gd", "2/η", f"first sample ≥ 0.9 · 2/η ({lanczos})"),
            Finding(
                "GD then stays at its edge for most of the run",
                f"steps with λmax(H) within ±10 % of 2/η > {MORE_THAN_HALF:.0%} of the run",
                [r.role("gd").edge_steps() > MORE_THAN_HALF * (last + 1) for r in results],
                [f"{r.role('gd').edge_steps()} steps" for r in results],
            ),
            Finding(
                "Heavy ball's sharpness stays below its line 2(1+μ)/η",
                "largest sampled λmax(H) ÷ 2(1+μ)/η < 1",
                [float(np.max(r.role("heavy_ball").ratio)) < 1 for r in results],
                [f"{np.max(r.role('heavy_ball').ratio):.2f}" for r in results],
            ),
        ]
    pre = "first sample with λmax(P⁻¹H) ≥ 0.9 × threshold"
    out += [
        _edge_finding(results, "adam", "38/η", pre),
        _edge_finding(results, "vradam", "its moving threshold", pre),
    ]
    window = f"steps {first}–{last}; control: Adam at VRAdam's window-mean η"
    out += [
        _compare(results, "VRAdam's loss climbs less than the control's",
                 f"upward movement Σ max(Δ log loss, 0), {window}", Series.upward_movement),
        _compare(results, "VRAdam oscillates with a smaller amplitude than the control",
                 f"std of Δ log loss (trend removed), {window}", Series.amplitude),
        _compare(results, "VRAdam's loss goes up on fewer steps than the control's",
                 f"steps with Δ loss > 0, {window}", Series.loss_increases, fmt="{:d}"),
        _compare(results, "VRAdam ends lower than the control",
                 "final loss; control: Adam at VRAdam's window-mean η", _final),
        _compare(results, "VRAdam ends lower than Adam at the same α₀",
                 "final loss; control: Adam at VRAdam's α₀", _final, control="adam"),
    ]  # fmt: skip
    return out
