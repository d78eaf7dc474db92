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

The MLP runs are trained by :func:`lockstep_series`: every optimizer and seed is a row of
one batched computation (vradam.studies.lockstep: forward, backward and exact
Hessian-vector products written out as batched matrix products), each optimizer following
its record's update (the engine's unified form, as its torch.optim twin computes it), and
the sharpness of all rows comes from one batched Lanczos
(:func:`vradam.studies.sharpness.top_eigenvalues`). In float32, as
:func:`vradam.studies.training.train_steps` trains the ``nn.Module``, it matches that path
to 1e-5 over the first 60 steps (tested) and runs several times faster.

At the edge the runs are chaotic, so a change at the level of rounding changes their
details, and now and then their outcome. Measured with the page's defaults, perturbing the
initial weights by 1e-7 (relative; 8 runs per seed, seeds 0–2): in float32 VRAdam's upward
movement in the window was 0.9–3.8 in 24 of 24 runs, but in this trainer's first version
(torch.tanh, autograd) it burst to 21–153 (as large as Adam's ~30) in 4 of 24, the
unperturbed seed 0 among them; in float64 it was 0.8–3.4 in 24 of 24 (both versions).
GD's steps at its edge for seeds 1 and 2 were 280–320 and 260–300 in float32
(train_steps: 320 and 300) but exactly 220 and 200 in float64, where GD overshoots 2/η
for longer before it settles (presumably because the unstable direction starts from
smaller rounding errors). ``dtype=torch.float64`` (:func:`run_mlp_seeds`,
:func:`mlp_stream`) trains the rows in float64 (about 1.7× slower); the page trains in
float32 and states what holds in both precisions from vradam.studies.eos_precision (its
statements on 10 seeds, in each precision).
The statements over several runs are in vradam.studies.eos_findings (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vradam.sim import measures
from vradam.sim.optimizers import (
    OptimizerSpec,
    gate_activity_of,
    stability_threshold,
    threshold_at,
)
from vradam.studies.lockstep import TRAIN_DTYPE, Lockstep
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig

__all__ = [
    "EDGE_TOLERANCE",
    "EoSConfig",
    "EoSResult",
    "Finding",
    "QuadraticConfig",
    "Series",
    "findings",
    "lockstep_series",
    "mlp_stream",
    "quadratic_starts",
    "run_mlp",
    "run_mlp_seeds",
    "run_quadratic",
    "run_quadratic_starts",
    "sharpness_examples",
]

EDGE_TOLERANCE = 0.1  # "at the edge": sharpness within 10 % of the threshold
LOSS_LIMIT = float(torch.finfo(torch.float32).max)  # a row ends above it (float32 would)
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

    def loss_increases(self, start: int = 0) -> int:
        """How many steps from ``start`` on the loss went up (vradam.sim.measures)."""
        return measures.loss_increases(self.loss[start:])

    def upward_movement(self, start: int = 0) -> float:
        """Σ max(Δ log loss, 0) from ``start`` on: how far the loss climbed in total."""
        return (
            measures.upward_movement(self.loss[start:]) if self.loss[start:].size > 1 else math.nan
        )

    def amplitude(self, start: int = 0) -> float:
        """Standard deviation of Δ log loss from ``start`` on: the oscillation with the
        trend removed (0 for a descent at a constant rate, whatever the rate)."""
        return measures.amplitude(self.loss[start:])

    def mean_eta(self, start: int = 0) -> float:
        return float(np.mean(self.eta[start:]))

    def gate(self) -> measures.GateActivity | None:
        """What VRAdam's gate did over the whole run (vradam.sim.measures.gate_activity);
        None for an optimizer without the gate."""
        return gate_activity_of(OptimizerSpec.parse(self.spec), self.eta)

    def summary(self, start: int = 0) -> dict:
        """The table row; the oscillation measures are over steps ``start`` … end, the
        gate's activity (VR optimizers; "—" for the others) over the whole run."""
        gate = self.gate()
        return {
            "optimizer": self.label,
            "final loss": float(self.loss[-1]),
            "loss increases (window)": self.loss_increases(start),
            "upward movement Σ⁺Δlog loss (window)": self.upward_movement(start),
            "amplitude std Δlog loss (window)": self.amplitude(start),
            "mean η (window)": self.mean_eta(start),
            "first step at the edge": _step_text(self.first_edge_step()),
            "steps at the edge (±10 %)": self.edge_steps(),
            GATE_RATIOS: _gate_ratios(gate),
            GATE_SHARES: _gate_shares(gate),
            GATE_VERDICT: "—" if gate is None else gate.verdict,
        }


GATE_RATIOS = "gate: η/α₀ min · median · final (run)"
GATE_SHARES = "gate: steps clipped at α₁ · at η ≥ 0.99·α₀"
GATE_VERDICT = "gate (run)"


def _gate_ratios(gate: measures.GateActivity | None) -> str:
    if gate is None or not gate.steps:
        return "—"
    return " · ".join(f"{v:.3g}" for v in (gate.minimum, gate.median, gate.final))


def _gate_shares(gate: measures.GateActivity | None) -> str:
    if gate is None or not gate.steps:
        return "—"
    return f"{measures.percent(gate.clipped_fraction)} · {measures.percent(gate.ungated_fraction)}"


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
    steps: int = 0  # updates in the run (0: read from the first series)
    complete: bool = True  # False while training: the series so far, maybe no control yet

    @property
    def window(self) -> tuple[int, int]:
        """(first, last) step of the comparison window (loss of update t+1 at t)."""
        last = self.steps - 1 if self.steps else int(self.series[0].steps[-1])
        return self.window_start, last

    def summary_rows(self) -> list[dict]:
        return [s.summary(self.window_start) for s in self.series]

    def role(self, role: str) -> Series:
        """The series by role: an optimizer key (gd, momentum, adam, vradam) or "matched"."""
        keys = [OptimizerSpec.parse(s.spec).key for s in self.series]
        if role == "matched":
            return next(s for s in self.series if s.label == MATCHED_LABEL)
        return next(s for s, k in zip(self.series, keys) if k == role and s.label != MATCHED_LABEL)


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


def mlp_stream(
    config: EoSConfig,
    seeds: Sequence[int] | None = None,
    chunk: int = 0,
    dtype: torch.dtype = TRAIN_DTYPE,
) -> Iterator[tuple[float, list[EoSResult]]]:
    """The page's runs for every seed, all at once: yield (fraction done, one result per
    seed) every ``chunk`` steps while they train (partial results, ``complete`` False: the
    series so far, the control's empty until the second pass), and last (1.0, the
    complete results).

    Two batched passes: GD, heavy ball, Adam and VRAdam for every seed, then Adam at each
    seed's VRAdam window-mean η (which needs VRAdam's run first). ``dtype``: the rows'
    precision (the page's: float32)."""
    seeds = [config.seed] if seeds is None else [int(s) for s in seeds]
    specs = [OptimizerSpec.parse(text) for text in config.optimizers()]
    S, steps = len(seeds), config.steps
    start = _window_start(steps, config.window_start)
    n_examples = sharpness_examples(config)
    first_share = 0.75  # pass 1 trains 4 rows per seed, pass 2 one: most of the time

    def results(series, matched_lrs, complete=False) -> list[EoSResult]:
        return [EoSResult("mlp", series[j], matched_lrs[j], start, f"seed {seed}",
                          n_examples, steps, complete) for j, seed in enumerate(seeds)]  # fmt: skip

    with one_thread():  # a tiny MLP: threads only cost (vradam.studies.threads)
        rows = [spec for spec in specs for _ in seeds]
        main = []
        for t, series in lockstep_series(rows, seeds * len(specs), steps,
                                         config.sharpness_every, chunk, dtype):  # fmt: skip
            main = [[series[i * S + j] for i in range(len(specs))] for j in range(S)]
            if t < steps:  # the control's panel stays empty until it trains
                waiting = [[*m, _untrained(MATCHED_LABEL)] for m in main]
                yield first_share * t / steps, results(waiting, [math.nan] * S)
        rates = [float(f"{main[j][3].mean_eta(start):.4g}") for j in range(S)]
        matched = [OptimizerSpec("adam", {"lr": r}, MATCHED_LABEL) for r in rates]
        for t, series in lockstep_series(matched, seeds, steps, config.sharpness_every, chunk,
                                         dtype):  # fmt: skip
            full = [main[j] + [series[j]] for j in range(S)]
            if t < steps:
                yield first_share + (1 - first_share) * t / steps, results(full, rates)
        yield 1.0, results(full, rates, complete=True)


def _untrained(label: str) -> Series:
    """An Adam series with no steps yet (the control while its rate is not known)."""
    empty = np.array([])
    spec = OptimizerSpec("adam", {}, label)
    return Series(label, str(spec), "preconditioned", empty, empty, empty, empty.astype(int),
                  empty, empty)  # fmt: skip


def run_mlp_seeds(
    config: EoSConfig,
    seeds: Sequence[int],
    progress: Progress | None = None,
    dtype: torch.dtype = TRAIN_DTYPE,
) -> list[EoSResult]:
    """GD, heavy ball, Adam, VRAdam and Adam at VRAdam's window-mean η on the teacher MLP,
    for each seed (``config.seed`` is ignored), trained together in ``dtype``."""
    results: list[EoSResult] = []
    chunk = max(1, config.steps // 10) if progress is not None else 0
    for fraction, partial in mlp_stream(config, seeds, chunk, dtype):
        results = partial
        if progress is not None:
            progress(fraction, "training" if fraction < 1 else "done")
    return results


def run_mlp(config: EoSConfig, progress: Progress | None = None) -> EoSResult:
    """GD, heavy ball, Adam, VRAdam and Adam at VRAdam's window-mean η on the teacher MLP."""
    return run_mlp_seeds(config, [config.seed], progress)[0]


def sharpness_examples(config: EoSConfig) -> int:
    """How many training examples the sharpness is computed on: the lockstep trainer
    takes λmax of the full-batch loss, so the teacher task's whole training set."""
    from vradam.studies.networks import get_task

    return int(get_task("teacher").make_data(config.seed).x_train.shape[0])


# ----------------------------------------------------------------------------- lockstep


class _Thresholds:
    """Each sampled step's threshold, ``threshold_at(spec, s, η of update s)``, for every
    s at once (the coefficient tables are built once); at s = 0 the base rate's."""

    def __init__(self, spec: OptimizerSpec, steps: int) -> None:
        lr = float(spec.hyperparams["lr"])
        self.spec, self.table = spec, spec.coefficients(np.full(steps, lr))
        self.first = threshold_at(spec, 1, lr)

    def __call__(self, at: np.ndarray, eta: np.ndarray) -> np.ndarray:
        line = stability_threshold(self.spec, self.table, eta)  # (T,) update t+1 at its η
        return np.array([line[s - 1] if s > 0 else self.first for s in at])


def lockstep_series(
    specs: list[OptimizerSpec],
    seeds: list[int],
    steps: int,
    every: int,
    chunk: int = 0,
    dtype: torch.dtype = TRAIN_DTYPE,
) -> Iterator[tuple[int, list[Series]]]:
    """Train one teacher MLP per (spec, seed) row in lockstep; yield (t, series so far)
    after every ``chunk`` updates (0: none), and last (steps, the complete series).

    Recorded as :func:`vradam.studies.training.train_steps` records them: the loss and η
    of update t+1 at step t; the sharpness and threshold every ``every`` steps and at the
    last, at the parameters after t updates (an adaptive row has none at step 0). A row
    whose loss is not finite, or beyond float32's range (where the float32 nn.Module of
    train_steps overflows), ends there: its arrays are shorter."""
    if len(specs) != len(seeds) or not specs:
        raise ValueError("give one seed per optimizer row (and at least one row)")
    if steps < 1 or every < 1 or chunk < 0:
        raise ValueError("steps and every must be ≥ 1, chunk ≥ 0")
    run = Lockstep(specs, seeds, steps, dtype)
    B = len(specs)
    loss = np.full((steps, B), np.nan)
    eta = np.full((steps, B), np.nan)
    sharp_at = np.array([t for t in range(steps + 1) if t % every == 0 or t == steps])
    sharp = np.full((len(sharp_at), B), np.nan)
    end = np.full(B, steps + 1)  # a row's numbers are valid at steps < end
    adaptive = [s.info.stability == "preconditioned" for s in specs]
    thresholds = [_Thresholds(s, steps) for s in specs]

    def series(done: int) -> list[Series]:  # steps 0 … done − 1 have run
        out = []
        for i, s in enumerate(specs):
            last = min(done, end[i])
            keep = (sharp_at < last) & ~(adaptive[i] & (sharp_at == 0))
            out.append(Series(
                label=s.display_name, spec=str(s),
                sharpness_kind="preconditioned" if adaptive[i] else "hessian",
                steps=np.arange(min(last, steps)), loss=loss[:last, i], eta=eta[:last, i],
                sharp_steps=sharp_at[keep], sharpness=sharp[keep, i],
                threshold=thresholds[i](sharp_at[keep], eta[:, i]),
            ))  # fmt: skip
        return out

    with one_thread():  # a tiny MLP: threads only cost (vradam.studies.threads)
        j = 0
        for t in range(steps + 1):
            cache = run.net.forward(run.theta, run.views)
            grad = run.net.gradient(cache, run.grad)
            if j < len(sharp_at) and t == sharp_at[j]:
                sharp[j] = run.sharpness(cache).numpy()
                j += 1
            if t == steps:
                break
            loss[t] = cache["loss"].double().numpy()
            with np.errstate(invalid="ignore"):
                dead = ~(np.abs(loss[t]) <= LOSS_LIMIT) & (end > steps)
            if dead.any():  # the row ends here; zeroed so that no NaN reaches the solvers
                end[dead] = t
                for tensor in (run.theta, run.velocity, run.second, grad):
                    tensor[torch.from_numpy(dead)] = 0
            run.update(grad)
            eta[t] = run.eta.numpy()
            if chunk and (t + 1) % chunk == 0 and t + 1 < steps:
                yield t + 1, series(t + 1)
    yield steps, series(steps + 1)


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


# The statements over several runs live in their own module (they use Series' measures).
from vradam.studies.eos_findings import Finding, findings  # noqa: E402
