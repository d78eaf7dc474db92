"""Measures of a loss curve, one definition each, used by every layer (the Playground's
table and scenarios, the lessons, the Edge of stability page, the summaries).

* :func:`loss_increases`: how many steps the loss went up (a tiny wiggle counts like a big
  one; a monotone descent gives 0);
* :func:`upward_movement`: Σ max(0, Δ log f), how far the loss climbed in total (each rise
  weighed by its size; a steady descent at any speed adds nothing). ``base=10`` measures it
  in decades, as the lessons say it;
* :func:`amplitude`: the standard deviation of Δ log f, the oscillation with the trend
  removed (0 for a descent at a constant rate, whatever the rate).

Mean |Δ log f| is not offered: it counts a steady descent as oscillation. Losses are
floored at 1e-300 before the logarithm (a loss of exactly 0 is a descent, not −inf); a
step into or out of a non-finite loss adds nothing. Each takes losses along the last axis
and returns one value per row.

And one measure of a run's rates, for VRAdam and VRMomentum (docs/theory.md §1.3):

* :func:`gate_activity`: what the gate did, η_t/α0 at every step reduced to its minimum,
  median and final value, the share of steps clipped at α1 and the share at the full rate
  (η ≥ 0.99·α0), with a verdict in words: a run that never gates "behaved as AdamW at α₀",
  one clipped throughout "behaved as AdamW at α₀/(1+α₁)" (:data:`NEVER_SHARE`,
  :data:`NEVER_FLOOR` and :data:`CLIPPED_SHARE` give the exact rules);
  :func:`gate_across` says it for several runs.

And one interval for a mean over seeds:

* :func:`t_interval`: the mean and the half-width of its Student t interval (95 % by
  default), with the t quantile (:func:`t_quantile`) computed exactly here, so this layer
  needs no scipy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

__all__ = [
    "GateActivity",
    "amplitude",
    "gate_across",
    "gate_activity",
    "gate_means",
    "loss_increases",
    "percent",
    "t_interval",
    "t_quantile",
    "upward_movement",
]

FLOOR = 1e-300


def _dlog(loss, base: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.diff(np.log(np.maximum(np.asarray(loss, dtype=np.float64), FLOOR)), axis=-1)
    return d if base == math.e else d / math.log(base)


def loss_increases(loss) -> np.ndarray | int:
    """The number of steps on which the loss went up: (T+1,) → int, (N, T+1) → (N,)."""
    count = (np.diff(np.asarray(loss, dtype=np.float64), axis=-1) > 0).sum(axis=-1)
    return int(count) if np.ndim(count) == 0 else count


def upward_movement(loss, base: float = math.e) -> np.ndarray | float:
    """Σ max(0, Δ log f) in log base ``base``: (T+1,) → float, (N, T+1) → (N,)."""
    d = _dlog(loss, base)
    total = np.where(np.isfinite(d) & (d > 0), d, 0.0).sum(axis=-1)
    return float(total) if np.ndim(total) == 0 else total


def amplitude(loss) -> np.ndarray | float:
    """The standard deviation of Δ ln f (NaN with fewer than 3 losses)."""
    d = _dlog(loss, math.e)
    if d.shape[-1] < 2:
        return float("nan") if d.ndim == 1 else np.full(d.shape[:-1], np.nan)
    out = np.std(d, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------- the gate

FULL_RATE = 0.99  # η ≥ 0.99·α0: the gate is open (the step is at most 1 % short of α0's)
# A run never gates when η ≥ FULL_RATE·α0 on at least NEVER_SHARE of its steps, or when
# η ≥ NEVER_FLOOR·α0 on every step (no step more than 1.5 % short: AdamW in disguise).
NEVER_SHARE = 0.99
NEVER_FLOOR = 0.985
CLIPPED_SHARE = 0.99  # a run clipped at α1 on at least this share of its steps
# η within this relative distance of α0/(1+α1) is clipped: float32 rounds η to ~1e-7, and
# an unclipped η this close to the floor has β3‖v‖² within 1e-5·(1+α1) of α1.
CLIP_RTOL = 1e-5


@dataclass(frozen=True)
class GateActivity:
    """What the gate did over one run: η_t/α0 at each step, reduced to a few numbers.

    ``kind`` is "never" (never gated), "clipped" (clipped throughout), "gated" or "none"
    (no step measured); ``label`` says it in a few words ("behaved as AdamW at α₀",
    "gated") and ``verdict`` in a phrase that starts with the label. Steps whose η or α0
    is not finite (a diverged run's) or whose α0 is 0 (the end of a schedule) are left out
    of every number and counted in ``skipped``.
    """

    steps: int  # steps measured
    skipped: int  # steps left out: η or α0 not finite, or α0 = 0
    minimum: float  # min η/α0 (NaN when no step was measured, as median and final)
    median: float
    final: float  # η/α0 at the last measured step
    clipped_fraction: float  # share of the measured steps with η at α0/(1+α1)
    ungated_fraction: float  # share with η ≥ 0.99·α0
    released_at: int  # index of the step from which η ≥ 0.99·α0 to the end; −1: not by the end
    kind: str
    label: str
    verdict: str

    def as_dict(self) -> dict:
        """Plain values for JSON (None for NaN)."""
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v
                for k, v in asdict(self).items()}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> GateActivity:
        """The record of :meth:`as_dict` (None back to NaN; keys it does not know are
        ignored, so a record stored by a later version still reads)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: math.nan if v is None else v for k, v in data.items() if k in names})

    def numbers(self) -> str:
        """The numbers in words: "η/α₀ min 0.42 · median 0.99 · final 1; clipped on 3 % of
        steps, η ≥ 0.99·α₀ on 95 %"."""
        if not self.steps:
            return "no step with a finite η"
        return (
            f"η/α₀ min {self.minimum:.3g} · median {self.median:.3g} · final {self.final:.3g}; "
            f"clipped on {percent(self.clipped_fraction)} of steps, η ≥ {FULL_RATE:g}·α₀ on "
            f"{percent(self.ungated_fraction)}"
        )

    def text(self) -> str:
        """The numbers, then the verdict: one sentence for a caption or a page."""
        return f"{self.numbers()}: {self.verdict}"

    def columns(self) -> dict:
        """The run's :data:`GATE_COLUMNS`, as the studies' CSV rows carry them."""
        return dict(
            eta_ratio_min=self.minimum, eta_ratio_median=self.median, eta_ratio_final=self.final,
            clipped_fraction=self.clipped_fraction, ungated_fraction=self.ungated_fraction,
            gate_label=self.label, gate_verdict=self.verdict,
        )  # fmt: skip


# A run's gate in a table row (GateActivity.columns): the numbers first, then the words.
GATE_COLUMNS = (
    "eta_ratio_min", "eta_ratio_median", "eta_ratio_final", "clipped_fraction",
    "ungated_fraction", "gate_label", "gate_verdict",
)  # fmt: skip


def percent(share: float) -> str:
    """0.004 → "<1 %", 0.995 → ">99 %" (never rounded to 0 or 100 unless exact)."""
    if not math.isfinite(share):
        return "—"
    if 0 < share < 0.01:
        return "<1 %"
    if 0.99 < share < 1:
        return ">99 %"
    return f"{100 * share:.0f} %"


def gate_activity(eta, lr, alpha1: float, *, ungated: str = "AdamW") -> GateActivity:
    """What the gate η_t = α0/(1 + min(β3‖v‖², α1)) did over one run.

    ``eta``: η_t of each step, shape (T,); ``lr``: the base rate α0, a number or one per
    step (T,) (a schedule's α0·factor, the rate the step would have had without the gate);
    ``alpha1``: the cap α1; ``ungated``: the optimizer the run equals with the gate off,
    for the verdict ("AdamW" for VRAdam, "EMA momentum" for VRMomentum).

    Verdict, on the measured steps (see :class:`GateActivity` for those left out):

    * η ≥ 0.99·α0 on ≥ 99 % of them, or η ≥ 0.985·α0 on all of them: "behaved as AdamW
      at α₀" (with the steps below 0.99·α0 named, if any);
    * else clipped at α1 (η within :data:`CLIP_RTOL` of α0/(1+α1)) on ≥ 99 % of them:
      "behaved as AdamW at α₀/(1+α₁)";
    * else "gated", saying whether the gate released (η ≥ 0.99·α0 from some step to the
      end) or was still acting at the end.
    """
    eta = np.asarray(eta, dtype=np.float64)
    if eta.ndim != 1:
        raise ValueError(f"eta must be one run's rates, shape (T,), got shape {eta.shape}")
    base = np.broadcast_to(np.asarray(lr, dtype=np.float64), eta.shape)
    if not (math.isfinite(alpha1) and alpha1 >= 0):
        raise ValueError(f"alpha1 must be a finite number ≥ 0, got {alpha1}")
    ok = np.isfinite(eta) & np.isfinite(base) & (base > 0)
    index = np.flatnonzero(ok)
    ratio = eta[ok] / base[ok]
    n, skipped = int(ratio.size), int(eta.size - ratio.size)
    s = "s" if skipped != 1 else ""
    left_out = f"; {skipped} step{s} without a finite η/α₀ left out" if skipped else ""
    if n == 0:
        why = "no finite η (diverged before its first update)" if skipped else "no update"
        return GateActivity(0, skipped, *[math.nan] * 5, -1, "none", "no finite η", why)
    clipped = float(np.mean(ratio <= (1 + CLIP_RTOL) / (1 + alpha1)))
    below = ratio < FULL_RATE
    ungated_share = 1 - float(np.mean(below))
    released = (
        0 if not below.any() else (-1 if below[-1] else int(index[np.flatnonzero(below)[-1] + 1]))
    )
    low = float(ratio.min())
    # "never" first: with α1 < 0.0101 a clipped step is also within 1 % of α0
    if ungated_share >= NEVER_SHARE or low >= NEVER_FLOOR:
        kind, label = "never", f"behaved as {ungated} at α₀"
        verdict = label
        if below.any():
            verdict += (f" (below {FULL_RATE:g}·α₀ on {int(below.sum())} of {n} steps, "
                        f"down to {low:.3g})")  # fmt: skip
    elif clipped >= CLIPPED_SHARE:
        kind, label = "clipped", f"behaved as {ungated} at α₀/(1+α₁)"
        verdict = label
    else:
        kind, label = "gated", "gated"
        if released > 0:
            verdict = (f"gated, then released: η/α₀ fell to {low:.3g} and is ≥ {FULL_RATE:g} "
                       f"from step {released} on")  # fmt: skip
        else:
            verdict = (f"gated to the end: η/α₀ {float(ratio[-1]):.3g} at the last step "
                       f"(median {float(np.median(ratio)):.3g})")  # fmt: skip
    return GateActivity(
        steps=n, skipped=skipped, minimum=low, median=float(np.median(ratio)),
        final=float(ratio[-1]), clipped_fraction=clipped, ungated_fraction=ungated_share,
        released_at=released, kind=kind, label=label, verdict=verdict + left_out,
    )  # fmt: skip


def gate_means(activities: Sequence[GateActivity]) -> dict[str, float]:
    """Several runs' numbers as one: the mean over runs of η/α0's ``minimum``, ``median``
    and ``final``, and the shares ``clipped_fraction`` and ``ungated_fraction`` over all
    their measured steps (NaN for each when no run has a measured step)."""
    runs = [a for a in activities if a.steps]
    if not runs:
        return dict.fromkeys(("minimum", "median", "final", "clipped_fraction",
                              "ungated_fraction"), math.nan)  # fmt: skip
    steps = np.array([a.steps for a in runs], dtype=np.float64)
    out = {k: float(np.mean([getattr(a, k) for a in runs])) for k in ("minimum", "median", "final")}
    for k in ("clipped_fraction", "ungated_fraction"):
        out[k] = float(np.array([getattr(a, k) for a in runs]) @ steps / steps.sum())
    return out


def gate_across(activities: Sequence[GateActivity], unit: str = "runs") -> str:
    """Several runs' verdicts in words: one run's verdict, or each kind's count
    ("behaved as AdamW at α₀ in 3 of 3 seeds"; "gated in 2 of 3 seeds, behaved as …
    in 1"). ``unit`` names the runs ("seeds", "starts")."""
    if not activities:
        return ""
    if len(activities) == 1:
        return activities[0].verdict
    counts = Counter(a.label for a in activities)
    parts = [f"{label} in {k}" for label, k in counts.most_common()]
    parts[0] += f" of {len(activities)} {unit}"
    return ", ".join(parts)


# ----------------------------------------------------------------------------- intervals


def _t_coverage(theta: float, df: int) -> float:
    """P(|T| ≤ √df·tan θ) for Student's t with ``df`` (an integer ≥ 1) degrees of freedom:
    the closed forms of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df)."""
    c, s = math.cos(theta), math.sin(theta)
    if df % 2:  # (2/π)(θ + sin θ cos θ Σ_k a_k cos^2k θ), a_k = a_(k−1)·2k/(2k+1)
        if df == 1:
            return 2 * theta / math.pi
        k = np.arange(1, (df - 3) // 2 + 1, dtype=np.float64)
        a = np.concatenate([[1.0], np.cumprod(2 * k / (2 * k + 1))])
        return 2 / math.pi * (theta + s * c * float(np.sum(a * c ** (2 * np.arange(a.size)))))
    k = np.arange(1, (df - 2) // 2 + 1, dtype=np.float64)  # sin θ Σ_k b_k cos^2k θ
    b = np.concatenate([[1.0], np.cumprod((2 * k - 1) / (2 * k))])
    return s * float(np.sum(b * c ** (2 * np.arange(b.size))))


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """The two-sided Student t quantile: t with P(|T| ≤ t) = ``confidence`` for ``df``
    degrees of freedom (12.706 for df = 1 at 95 %, 2.776 for df = 4). Exact up to float
    rounding: the closed-form distribution function inverted by bisection on θ = atan(t/√df)."""
    if isinstance(df, bool) or int(df) != df or df < 1:
        raise ValueError(f"degrees of freedom must be an integer ≥ 1, got {df}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    df = int(df)
    lo, hi = 0.0, math.pi / 2
    for _ in range(80):  # the coverage rises monotonically from 0 to 1 on [0, π/2)
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_coverage(mid, df) < confidence else (lo, mid)
    return math.sqrt(df) * math.tan((lo + hi) / 2)


def t_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of its Student t interval at ``confidence``) of the finite values;
    None and non-finite values are left out (say how many, where it matters). Half-width
    NaN for one value, both NaN for none. Half-width = t(n−1)·sd/√n with the sample sd."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    half = t_quantile(x.size - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return float(x.mean()), half
