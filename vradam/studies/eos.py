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

Adam is always run twice: at VRAdam's α0, and at VRAdam's *mean* effective rate η_t,
so that a difference is not just "a smaller step".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.training import TrainConfig, train_steps

__all__ = [
    "EDGE_TOLERANCE",
    "EoSConfig",
    "EoSResult",
    "QuadraticConfig",
    "Series",
    "run_mlp",
    "run_quadratic",
]

EDGE_TOLERANCE = 0.1  # "at the edge": sharpness within 10 % of the threshold
MATCHED_LABEL = "Adam at VRAdam's mean η"

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

    def loss_increases(self) -> int:
        return int(np.sum(np.diff(self.loss) > 0))

    def oscillation(self) -> float:
        """Mean |Δ log loss| per step over the second half of the run."""
        tail = self.loss[len(self.loss) // 2 :]
        tail = np.log(np.maximum(tail, 1e-300))
        return float(np.mean(np.abs(np.diff(tail)))) if tail.size > 1 else float("nan")

    def summary(self) -> dict:
        return {
            "optimizer": self.label,
            "final loss": float(self.loss[-1]),
            "loss increases": self.loss_increases(),
            "oscillation |Δ log loss|": self.oscillation(),
            "mean η": float(np.mean(self.eta)),
            "first step at the edge": _step_text(self.first_edge_step()),
            "steps at the edge (±10 %)": self.edge_steps(),
        }


def _step_text(step: int) -> str:
    return str(step) if step >= 0 else "never"


@dataclass
class EoSResult:
    problem: str  # "mlp" or "quadratic"
    series: list[Series]
    matched_lr: float  # Adam's rate in the matched run = VRAdam's mean η

    def summary_rows(self) -> list[dict]:
        return [s.summary() for s in self.series]


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
    seed: int = 0

    def __post_init__(self) -> None:
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
    """GD, heavy ball, Adam, VRAdam and Adam at VRAdam's mean η on the teacher MLP."""
    records = _train(config.train_config(config.optimizers()), progress, 0.0, 0.8)
    series = [series_from_records(records, i) for i in range(4)]
    matched_lr = float(f"{np.mean(series[3].eta):.4g}")
    matched = OptimizerSpec("adam", {"lr": matched_lr}, MATCHED_LABEL)
    extra = _train(config.train_config((str(matched),)), progress, 0.8, 0.2)
    series.append(series_from_records(extra, 0))
    return EoSResult("mlp", series, matched_lr)


# ----------------------------------------------------------------------------- quadratic


@dataclass(frozen=True)
class QuadraticConfig:
    """A rotated ravine ``ill_conditioned(kappa, 30°)``; β2 = 0.9 so that Adam's
    preconditioner forgets the large early gradients within the run."""

    lr: float = 0.05
    beta2: float = 0.9
    beta3: float = 0.03
    kappa: float = 25.0
    steps: int = 600

    def __post_init__(self) -> None:
        if not (self.lr > 0 and self.beta3 >= 0 and 0 < self.beta2 < 1 and self.kappa >= 1):
            raise ValueError("need lr > 0, β3 ≥ 0, 0 < β2 < 1 and κ ≥ 1")
        if not 10 <= self.steps <= 20_000:
            raise ValueError("steps must be between 10 and 20000")


def _series_from_trajectory(tr) -> Series:
    T = tr.steps
    steps = np.arange(T)
    kind = tr.spec.info.stability
    return Series(
        label=tr.label,
        spec=str(tr.spec),
        sharpness_kind="preconditioned" if kind == "preconditioned" else "hessian",
        steps=steps,
        loss=tr.loss[0, :T],
        eta=tr.effective_lr[0],
        sharp_steps=steps,
        sharpness=tr.compared_sharpness[0],
        threshold=tr.stability_threshold[0],
    )


def run_quadratic(config: QuadraticConfig = QuadraticConfig()) -> EoSResult:
    """Adam, VRAdam and Adam at VRAdam's mean η on a rotated ravine (engine, float64)."""
    import landscapes
    from vradam.sim.engine import simulate

    ls = landscapes.ill_conditioned(config.kappa, 30.0)
    b2 = f"beta2={config.beta2:g}"
    specs = [
        f"adam:lr={config.lr:g},{b2}",
        f"vradam:lr={config.lr:g},{b2},beta3={config.beta3:g},weight_decay=0",
    ]
    adam, vr = simulate(ls, specs, [ls.start], config.steps)
    matched_lr = float(f"{np.nanmean(vr.effective_lr[0]):.4g}")
    matched = OptimizerSpec.parse(f"adam:lr={matched_lr:g},{b2}@{MATCHED_LABEL}")
    (m,) = simulate(ls, [matched], [ls.start], config.steps)
    series = [_series_from_trajectory(t) for t in (adam, vr, m)]
    return EoSResult("quadratic", series, matched_lr)
