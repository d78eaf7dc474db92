"""The paper's Figure 2 in miniature, measured over seeds and stated as measured.

The paper (ResNet-32 on CIFAR-10) reports that VRAdam's loss falls faster than Adam's,
that its top Hessian eigenvalue stays lower, and that its effective rate dips in the
first ~25 steps and returns near α0. Here: the 8×8 digits CNN, AdamW against VRAdam at
the same α0 (the task's α0 for Adam) and the same weight decay, so the gate is the only
difference; β3 from the project's own rule (:func:`~vradam.studies.training.suggest_beta3`,
β3·‖v‖² ≈ 1.5 at the early peak of ‖v‖², measured on the first seed); and the control
"AdamW at VRAdam's η": AdamW at VRAdam's mean effective rate over the compared window
(every step of the run), per seed. Each seed trains all three from the same initial
weights on the same batches (those of :func:`~vradam.studies.training.train_steps`).

Sharpness is the paper's quantity, λmax of the loss Hessian (not preconditioned), on 256
training examples (the first of :func:`~vradam.studies.training.train_steps`' draw of
512, to keep the first run under a minute on two cores); at the last step the
preconditioned λmax(P^-½HP^-½) and each optimizer's threshold are recorded too, which
say how far from its edge of stability each run is.

:func:`figure2_runs` trains (a generator, for progress bars), :func:`measure` reduces the
records to per-seed numbers, :func:`statement` writes what they say, including when
VRAdam is not better. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from vradam.studies.networks import get_task
from vradam.studies.threads import one_thread
from vradam.studies.training import (
    TrainConfig,
    series,
    suggest_beta3,
    train_steps,
)

__all__ = [
    "ADAMW",
    "FIGURE2",
    "LABELS",
    "MATCHED",
    "VRADAM",
    "Figure2Measures",
    "Figure2Setup",
    "SeedMeasures",
    "choose_beta3",
    "figure2_config",
    "figure2_runs",
    "measure",
    "seed_rows",
    "statement",
    "summary",
]

ADAMW, VRADAM, MATCHED = 0, 1, 2  # optimizer indices in every run of the preset
LABELS = ("AdamW", "VRAdam", "AdamW at VRAdam's η")
RECOVERED = 0.9  # η/α0 counted as "back near α0"


@dataclass(frozen=True)
class Figure2Setup:
    """What the preset trains. ``beta3=None``: the project's suggestion (on ``seeds[0]``)."""

    task: str = "digits"
    lr: float | None = None  # None: the task's α0 for Adam
    steps: int = 300
    seeds: tuple[int, ...] = (0, 1, 2)
    sharpness_every: int = 25  # 0: never (as in TrainConfig)
    sharpness_samples: int = 256  # λmax on this many training examples (same for all)
    eval_every: int = 20
    beta3: float | None = None
    device: str = "auto"
    matched: bool = True  # train the control "AdamW at VRAdam's η"

    @property
    def alpha0(self) -> float:
        return self.lr if self.lr is not None else get_task(self.task).default_lr


FIGURE2 = Figure2Setup()


def figure2_config(setup_: Figure2Setup, beta3: float, seed: int | None = None) -> TrainConfig:
    """AdamW and VRAdam at the same α0 (and weight decay), VRAdam at ``beta3``."""
    lr = setup_.alpha0
    return TrainConfig(
        task=setup_.task,
        optimizers=(f"adamw:lr={lr:g}@{LABELS[ADAMW]}",
                    f"vradam:lr={lr:g},beta3={beta3:g}@{LABELS[VRADAM]}"),
        steps=setup_.steps,
        seed=setup_.seeds[0] if seed is None else seed,
        device=setup_.device,
        sharpness_every=setup_.sharpness_every,
        eval_every=setup_.eval_every,
        sharpness_of="hessian",
        sharpness_samples=setup_.sharpness_samples,
    )  # fmt: skip


def choose_beta3(setup_: Figure2Setup) -> float:
    """``setup_.beta3``, or :func:`suggest_beta3` for VRAdam on the first seed."""
    if setup_.beta3 is not None:
        return float(setup_.beta3)
    with _one_thread(setup_.device):
        return suggest_beta3(figure2_config(setup_, 1.0), VRADAM)


def _one_thread(device: str):
    """One CPU thread while these small models train (several times faster than two on a
    busy 2-core machine, see :mod:`vradam.studies.threads`); nothing changes on a GPU."""
    return contextlib.nullcontext() if device == "cuda" else one_thread()


def _work(setup_: Figure2Setup) -> int:
    """Optimizer-steps of the whole preset (for progress)."""
    return len(setup_.seeds) * setup_.steps * (3 if setup_.matched else 2)


def matched_rate(records: list[dict], window: tuple[int, int] | None = None) -> float:
    """VRAdam's mean effective rate over updates ``window`` = (first, last), 1-based
    inclusive (default: every update of the run)."""
    eta = np.array([r["effective_lr"] for r in records
                    if r["optimizer"] == VRADAM and "effective_lr" in r])  # fmt: skip
    lo, hi = window or (1, eta.size)
    return float(eta[lo - 1 : hi].mean())


def figure2_runs(
    setup_: Figure2Setup = FIGURE2, beta3: float | None = None
) -> Iterator[tuple[float, str, list[list[dict]]]]:
    """Train every seed; yields (fraction done, what is running, runs so far) as it goes.

    ``runs[k]`` holds seed k's records: AdamW (optimizer 0), VRAdam (1) and, with
    ``setup_.matched``, AdamW at seed k's VRAdam mean η (2), trained after the first two.
    """
    beta3 = choose_beta3(setup_) if beta3 is None else beta3
    alpha0 = setup_.alpha0
    runs: list[list[dict]] = []

    def with_ratio(r: dict, **extra) -> dict:  # η_t/α0 of the preset's α0 (the control too)
        ratio = {"eta_ratio": r["effective_lr"] / alpha0} if "effective_lr" in r else {}
        return {**r, **ratio, **extra}

    total, done = _work(setup_), 0
    with _one_thread(setup_.device):
        for seed in setup_.seeds:
            config = figure2_config(setup_, beta3, seed)
            records: list[dict] = []
            runs.append(records)
            for r in train_steps(config):
                records.append(with_ratio(r))
                if r["optimizer"] == VRADAM and r["step"] % 10 == 0:
                    yield (done + 2 * r["step"]) / total, f"seed {seed}: AdamW and VRAdam", runs
            done += 2 * setup_.steps
            if not setup_.matched:
                continue
            rate = matched_rate(records)
            text = f"adamw:lr={rate:.4g}@{LABELS[MATCHED]}"
            matched = replace(config, optimizers=(text,))
            for r in train_steps(matched):
                records.append(with_ratio(r, optimizer=MATCHED))
                if r["step"] % 10 == 0:
                    yield (done + r["step"]) / total, f"seed {seed}: {LABELS[MATCHED]}", runs
            done += setup_.steps
    yield 1.0, "done", runs


# --------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class SeedMeasures:
    """One seed's numbers. Sharpness and losses by optimizer index (0 AdamW, 1 VRAdam,
    2 matched AdamW, when trained); NaN where a run diverged."""

    seed: int
    eta_min: float  # min η/α0 of VRAdam
    eta_min_step: int  # the update where it happens (1-based)
    eta_end: float  # η/α0 at the last update
    recovered_step: int  # first update after the dip with η/α0 ≥ RECOVERED (-1: never)
    matched_ratio: float  # VRAdam's mean η/α0 over the window (the control's α0 / α0)
    sharpness: dict[int, float]  # mean λmax(H) over the tracked steps in the window
    sharpness_end: dict[int, float]
    train_loss: dict[int, float]  # at the last step, full training set
    val_loss: dict[int, float]
    mean_train_loss: dict[int, float]  # mean over the evaluations in the window: speed
    precond_ratio: dict[int, float]  # preconditioned λmax / its threshold at the last step
    diverged: dict[int, bool]


def _seed_measures(seed: int, records: list[dict], window: tuple[int, int]) -> SeedMeasures:
    lo, hi = window
    _, eta = series(records, VRADAM, "eta_ratio")
    k = int(np.argmin(eta))
    after = np.flatnonzero(eta[k:] >= RECOVERED)
    indices = sorted({r["optimizer"] for r in records})
    out: dict[str, dict] = {k: {} for k in ("sh", "she", "tl", "vl", "mtl", "pr", "dv")}
    for i in indices:
        mine = [r for r in records if r["optimizer"] == i]
        bad = any(r.get("diverged") for r in mine)
        out["dv"][i] = bad
        s, v = series(records, i, "sharpness")
        inside = (s >= max(lo, 1)) & (s <= hi)
        out["sh"][i] = math.nan if bad else float(v[inside].mean())
        out["she"][i] = math.nan if bad else float(v[-1])
        s, v = series(records, i, "train_loss")
        out["tl"][i] = math.nan if bad else float(v[-1])
        out["mtl"][i] = math.nan if bad else float(v[(s >= lo) & (s <= hi)].mean())
        out["vl"][i] = math.nan if bad else float(series(records, i, "val_loss")[1][-1])
        last = mine[-1]
        ratio = last.get("precond_sharpness", math.nan) / last.get("precond_threshold", math.nan)
        out["pr"][i] = float(ratio)
    return SeedMeasures(
        seed=seed, eta_min=float(eta[k]), eta_min_step=k + 1, eta_end=float(eta[-1]),
        recovered_step=int(k + 1 + after[0]) if after.size else -1,
        matched_ratio=float(eta[max(lo, 1) - 1 : hi].mean()),
        sharpness=out["sh"], sharpness_end=out["she"], train_loss=out["tl"],
        val_loss=out["vl"], mean_train_loss=out["mtl"], precond_ratio=out["pr"],
        diverged=out["dv"],
    )  # fmt: skip


@dataclass(frozen=True)
class Figure2Measures:
    setup: Figure2Setup
    beta3: float
    window: tuple[int, int]  # (first, last) step compared; the control's rate is over it
    seeds: list[SeedMeasures] = field(default_factory=list)
    sharpness_steps: tuple[int, ...] = ()  # where λmax was tracked inside the window

    def values(self, name: str, i: int) -> np.ndarray:
        """One field of every seed for optimizer i (e.g. ``values("sharpness", VRADAM)``)."""
        return np.array([getattr(m, name).get(i, math.nan) for m in self.seeds], dtype=float)

    def lower_in(self, name: str, i: int = VRADAM, than: int = ADAMW) -> int:
        """In how many seeds optimizer i's ``name`` is below ``than``'s."""
        return int(np.sum(self.values(name, i) < self.values(name, than)))

    def verdict(self, name: str, i: int = VRADAM, than: int = ADAMW) -> str:
        """'lower' (every seed), 'not lower' (no seed) or 'mixed'."""
        k, n = self.lower_in(name, i, than), len(self.seeds)
        return "lower" if k == n else "not lower" if k == 0 else "mixed"


def measure(
    runs: list[list[dict]], setup_: Figure2Setup, beta3: float, window=None
) -> Figure2Measures:
    """Per-seed numbers of :func:`figure2_runs`' records over ``window`` (default: the
    whole run, the window the control's rate is matched over)."""
    window = window or (1, setup_.steps)
    seeds = [_seed_measures(s, r, window) for s, r in zip(setup_.seeds, runs) if r]
    tracked = series(runs[0], VRADAM, "sharpness")[0] if runs and runs[0] else np.array([])
    inside = tuple(int(t) for t in tracked if max(window[0], 1) <= t <= window[1])
    return Figure2Measures(setup_, beta3, window, seeds, inside)


def _sd(x: float) -> str:
    return f"{x:#.2g}".rstrip(".")


def _pm(values: np.ndarray, fmt: str = ".3g") -> str:
    """ "mean ± sd" over seeds (finite values only)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "—"
    if values.size == 1:
        return f"{values[0]:{fmt}}"
    return f"{values.mean():{fmt}} ± {_sd(values.std())}"


def _range(values, fmt: str = ".2f") -> str:
    """ "lo–hi" of the values (one number when they print the same)."""
    lo, hi = np.min(values), np.max(values)
    return f"{lo:{fmt}}" if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}}–{hi:{fmt}}"


WORDS = {"lower": "lower", "not lower": "not lower", "mixed": "lower in some seeds only"}


def _compare(m: Figure2Measures, name: str, what: str, than: int = ADAMW) -> str:
    """One measured comparison: both means ± sd over seeds, the paired difference and in
    how many seeds VRAdam's value is the lower one."""
    n, k = len(m.seeds), m.lower_in(name, VRADAM, than)
    d = m.values(name, VRADAM) - m.values(name, than)
    d = d[np.isfinite(d)]
    diff = f"VRAdam − {LABELS[than]} {d.mean():+.2g} ± {_sd(d.std())} per seed; " if d.size else ""
    return (f"{what}: VRAdam {_pm(m.values(name, VRADAM))} vs {LABELS[than]} "
            f"{_pm(m.values(name, than))} ({diff}lower in {k} of {n} seeds)")  # fmt: skip


def _verdict_of(m: Figure2Measures, names: tuple[str, ...]) -> str:
    """'lower' or 'not lower' when every named measure agrees, else 'mixed'."""
    verdicts = {m.verdict(name) for name in names}
    return verdicts.pop() if len(verdicts) == 1 else "mixed"


def _steps_text(steps: tuple[int, ...]) -> str:
    if len(steps) < 3:
        return ", ".join(map(str, steps))
    return f"{steps[0]}, {steps[1]}, …, {steps[-1]}"


def _at(steps: list[int]) -> str:
    text = _range(steps, "d")
    return f"steps {text}" if "–" in text else f"step {text}"


def _eta_line(m: Figure2Measures) -> str:
    mins = [s.eta_min for s in m.seeds]
    steps = [s.eta_min_step for s in m.seeds]
    back = [s.recovered_step for s in m.seeds]
    ends = [s.eta_end for s in m.seeds]
    text = f"**Effective rate**: VRAdam's η_t dips to {_range(mins)}·α₀ at {_at(steps)}"
    if all(b > 0 for b in back):
        text += f", is back above {RECOVERED:g}·α₀ from {_at(back)}"
    else:
        text += f", does not get back above {RECOVERED:g}·α₀ in every seed"
    paper = "paper: a dip in the first ~25 steps, then η_t near α₀"
    return text + f" and ends at {_range(ends)}·α₀ ({paper})."


def _control_line(m: Figure2Measures) -> str:
    n, (lo, hi) = len(m.seeds), m.window
    ratio = np.array([s.matched_ratio for s in m.seeds])
    names = (("sharpness", "mean λmax"), ("mean_train_loss", "mean training loss"),
             ("train_loss", "final training loss"), ("val_loss", "validation loss"))  # fmt: skip
    parts = [f"{what} {_pm(m.values(name, MATCHED))} (VRAdam lower in "
             f"{m.lower_in(name, VRADAM, MATCHED)} of {n})" for name, what in names]  # fmt: skip
    text = (f"**Control**, AdamW at VRAdam's mean η over steps {max(lo, 1)}–{hi} "
            f"({_range(ratio)}·α₀, per seed): " + "; ".join(parts) + ".")  # fmt: skip
    better = [what for name, what in names if m.verdict(name) == "lower"]
    if not better:
        worse = [what for name, what in names if m.verdict(name, VRADAM, MATCHED) == "not lower"]
        text += (" VRAdam is not lower than AdamW in every seed on any of these, so no "
                 "consistent gain needs explaining")  # fmt: skip
        if worse:
            text += (f"; it is above the control too on {', '.join(worse)}: the gate's early dip "
                     "does worse than the same mean rate held constant")  # fmt: skip
        return text + "."
    beats = [what for name, what in names if m.verdict(name) == "lower"
             and m.verdict(name, VRADAM, MATCHED) == "lower"]  # fmt: skip
    if beats:
        return text + (f" VRAdam beats AdamW and this control on {', '.join(beats)}: there the "
                       "gate's timing matters, not only its lower mean rate.")  # fmt: skip
    return text + (f" VRAdam beats AdamW on {', '.join(better)} but not the control in every "
                   "seed: a smaller constant rate does about as well.")  # fmt: skip


def statement(m: Figure2Measures) -> list[str]:
    """What the measured numbers say, one paragraph per claim of the paper's Figure 2."""
    lo, hi = m.window
    where = f"Mean of λmax(H) at steps {_steps_text(m.sharpness_steps)}"
    losses = ("mean_train_loss", "train_loss", "val_loss")
    lines = [
        _eta_line(m),
        f"**Sharpness is {WORDS[m.verdict('sharpness')]}** for VRAdam (paper: its top Hessian "
        f"eigenvalue stays lower). " + _compare(m, "sharpness", where) + ".",
        f"**Loss is {WORDS[_verdict_of(m, losses)]}** for VRAdam (paper: it falls faster). "
        + _compare(m, "mean_train_loss", f"Training loss averaged over steps {lo}–{hi}")
        + "; " + _compare(m, "train_loss", f"at step {hi}")
        + "; " + _compare(m, "val_loss", "validation loss") + ".",
    ]  # fmt: skip
    if any(MATCHED in s.sharpness for s in m.seeds):
        lines.append(_control_line(m))
    ratios = [s.precond_ratio.get(i, math.nan) for s in m.seeds for i in (ADAMW, VRADAM)]
    if np.isfinite(ratios).all():
        near = max(ratios) >= 0.5
        lines.append(
            f"At step {hi} the preconditioned sharpness λmax(P^-½HP^-½) is {_range(ratios, '.2g')} "
            "of each run's stability threshold: "
            + ("at least one run is near its edge of stability." if near else
               "neither optimizer is near its edge of stability, so the gate has no "
               "instability to damp here.")
        )  # fmt: skip
    return lines


def summary(m: Figure2Measures) -> str:
    """One line for under the chart: the shape of η_t and the two verdicts."""
    mins = [s.eta_min for s in m.seeds]
    back = all(s.eta_end >= RECOVERED for s in m.seeds)
    losses = ("mean_train_loss", "train_loss", "val_loss")
    return (f"Over {len(m.seeds)} seeds VRAdam's η_t dips to {_range(mins)}·α₀ and "
            + ("returns near α₀" if back else "does not return near α₀ in every seed")
            + f"; against AdamW its top Hessian eigenvalue is {WORDS[m.verdict('sharpness')]} "
            f"and its loss is {WORDS[_verdict_of(m, losses)]}.")  # fmt: skip


def seed_rows(m: Figure2Measures) -> list[dict]:
    """One table row per seed and optimizer: the numbers :func:`statement` summarises."""
    rows = []
    for s in m.seeds:
        for i in sorted(s.sharpness):
            vr = i == VRADAM
            rows.append({
                "seed": s.seed,
                "optimizer": LABELS[i],
                "α₀ used": f"{m.setup.alpha0 * (s.matched_ratio if i == MATCHED else 1):.3g}",
                "η min / α₀ (step)": f"{s.eta_min:.2f} ({s.eta_min_step})" if vr else "—",
                "η ≥ 0.9·α₀ again at": (str(s.recovered_step) if s.recovered_step > 0
                                        else "never") if vr else "—",
                "η end / α₀": f"{s.eta_end:.2f}" if vr else "—",
                "mean λmax(H)": f"{s.sharpness[i]:.3g}",
                "λmax(H) at end": f"{s.sharpness_end[i]:.3g}",
                "mean train loss": f"{s.mean_train_loss[i]:.3g}",
                "final train loss": f"{s.train_loss[i]:.3g}",
                "final val loss": f"{s.val_loss[i]:.3g}",
            })  # fmt: skip
    return rows
