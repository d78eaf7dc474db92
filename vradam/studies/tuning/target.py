"""Time to target (AlgoPerf's view): how soon each tuned optimizer reaches the baseline's result.

Every evaluation run (each optimizer's best setting on each evaluation seed) records the
task's metric every ``steps // CURVE_POINTS`` updates. Two targets come from the baseline
(AdamW) at its own best setting: its mean final metric over the evaluation seeds (``tight``),
and a looser one, that mean plus 10 % of its size (``loose``; lower is better for every
tuned metric). For each optimizer and seed, the steps to a target are the first recorded
step whose metric is at or below it (None: never within the run), and the seconds are the
run's wall time × that step / the run's steps (each step costs the same on these
fixed-size models; the evaluations are in the time, at the same rate for every optimizer).
An optimizer's summary is the median over seeds, a seed that never reached counting as
never (so the median is "never" once half the seeds miss). About half of the baseline's own
seeds end above its mean, so it reaches the tight target on about half of them: read the
count beside the median.

The performance profile (Dolan & Moré, as AlgoPerf scores) runs over tasks: on each task
(one stored run each, with the baseline), each optimizer's median steps to the tight
target divided by the fewest any optimizer took there; ρ(τ) is the fraction of the tasks
an optimizer ran on where that ratio is at most τ (never reached: ratio ∞).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

CURVE_POINTS = 20  # an evaluation run records its metric about this many times
LOOSE = 1.1  # the looser target: the baseline's mean final metric × 1.1 (+10 % of its size)
TARGETS = ("tight", "loose")
TAUS = tuple(1 + 3 * k / 60 for k in range(61))  # τ from 1 to 4


def curve_every(steps: int) -> int:
    """How often an evaluation run records its metric."""
    return max(1, steps // CURVE_POINTS)


@dataclass(frozen=True)
class TimeToTarget:
    """One optimizer against one target, over its evaluation seeds."""

    optimizer: str  # registry key
    target: str  # "tight" | "loose"
    value: float  # the target's metric value
    seeds: tuple[int, ...]  # the seeds with a recorded curve
    steps: tuple[int | None, ...]  # per seed: steps to the target (None: never)
    seconds: tuple[float | None, ...]  # per seed: seconds to the target (None: never)

    @property
    def reached(self) -> int:
        return sum(s is not None for s in self.steps)

    @property
    def median_steps(self) -> float:
        """The median over seeds (∞ when half or more never reached; NaN without runs)."""
        return _median(self.steps)

    @property
    def median_seconds(self) -> float:
        return _median(self.seconds)

    def text(self) -> str:
        """ "120 steps, 0.84 s (5/5 seeds)" or "never (2/5 seeds)"."""
        n = f"({self.reached}/{len(self.seeds)} seeds)"
        if not self.seeds:
            return "—"
        if not math.isfinite(self.median_steps):
            return f"never {n}"
        return f"{self.median_steps:.0f} steps, {self.median_seconds:.2g} s {n}"


def _median(values: Sequence[float | None]) -> float:
    if not values:
        return math.nan
    return float(statistics.median(math.inf if v is None else v for v in values))


def steps_to(steps: Sequence[int], values: Sequence[float], target: float) -> int | None:
    """The first recorded step whose metric is at or below ``target`` (None: never)."""
    for step, value in zip(steps, values):
        if value is not None and math.isfinite(value) and value <= target:
            return int(step)
    return None


def target_values(baseline_mean: float) -> dict[str, float]:
    """The two targets from the baseline's mean final metric (lower is better)."""
    return {"tight": baseline_mean, "loose": baseline_mean + (LOOSE - 1) * abs(baseline_mean)}


def time_to_target(
    optimizer: str, curves: Iterable[Mapping], target: str, value: float
) -> TimeToTarget:
    """``curves``: one mapping per seed run with ``seed``, ``steps``, ``values``, ``seconds``
    and ``run_steps`` (the run's length)."""
    seeds, steps, seconds = [], [], []
    for c in curves:
        if not c.get("steps"):
            continue
        s = steps_to(c["steps"], c["values"], value)
        seeds.append(int(c["seed"]))
        steps.append(s)
        seconds.append(None if s is None else c["seconds"] * s / max(1, c["run_steps"]))
    return TimeToTarget(optimizer, target, value, tuple(seeds), tuple(steps), tuple(seconds))


def targets_of(curves_by_optimizer: Mapping[str, Sequence[Mapping]], baseline: str,
               baseline_mean: float) -> list[TimeToTarget]:  # fmt: skip
    """Every optimizer against both targets (none when the baseline has no finite mean)."""
    if baseline not in curves_by_optimizer or not math.isfinite(baseline_mean):
        return []
    return [time_to_target(o, curves, name, value)
            for name, value in target_values(baseline_mean).items()
            for o, curves in curves_by_optimizer.items()]  # fmt: skip


def performance_profile(
    per_task: Mapping[str, Mapping[str, float]], taus: Sequence[float] = TAUS
) -> dict[str, list[float]]:
    """ρ(τ) per optimizer: ``per_task`` maps a task to each optimizer's median steps to the
    tight target there (∞: never). The ratio is to the fewest steps on that task; a task
    where no optimizer reached the target counts as a miss for all."""
    ratios: dict[str, list[float]] = {}
    for times in per_task.values():
        best = min(times.values(), default=math.inf)
        for o, t in times.items():
            ratios.setdefault(o, []).append(_ratio(t, best))
    return {o: [sum(r <= tau for r in rs) / len(rs) for tau in taus] for o, rs in ratios.items()}


def _ratio(t: float, best: float) -> float:
    """t / best; ∞ when t is ∞ (never) or NaN (no run); 1 for 0 / 0."""
    if not math.isfinite(t) or not math.isfinite(best):
        return math.inf
    if best == 0:
        return 1.0 if t == 0 else math.inf
    return t / best


# ----------------------------------------------------------------------------- a run's rows


def of_rows(rows) -> list[TimeToTarget]:
    """Both targets for every row of a results table (its ``ResultRow``\\ s: optimizer,
    is_baseline, mean, curves); none without the baseline or its curves."""
    base = next((r for r in rows if r.is_baseline), None)
    if base is None or not base.curves:
        return []
    return targets_of({r.optimizer: r.curves for r in rows}, base.optimizer, base.mean)


def target_note(times: Sequence[TimeToTarget], baseline_name: str, metric: str) -> str:
    """What the time-to-target table shows, with the two target values."""
    if not times:
        return (f"Time to target: no curves stored (runs made before curves were recorded, or "
                f"no {baseline_name} run): rerun the seeds to get them.")  # fmt: skip
    values = {t.target: t.value for t in times}
    return (
        f"Time to target (AlgoPerf's view): steps (and seconds) until each optimizer's best "
        f"setting first reached {baseline_name}'s mean final {metric} ({values['tight']:.4g}) "
        f"and a looser {LOOSE:g}× target ({values['loose']:.4g}), median over the evaluation "
        f"seeds, recorded every {CURVE_POINTS}th of the run; a seed that never reached counts "
        f"as never, so the median is 'never' once half miss. {baseline_name} itself ends above "
        "its own mean on about half the seeds. Seconds: the run's wall time × the share of "
        "its steps (a shared machine makes them noisy; the steps are exact)."
    )


def target_table(times: Sequence[TimeToTarget], names: Mapping[str, str]) -> list[dict]:
    """One text row per optimizer: its time to each target."""
    by = {(t.optimizer, t.target): t for t in times}
    order = list(dict.fromkeys(t.optimizer for t in times))
    values = {t.target: t.value for t in times}
    head = {"tight": f"to {values.get('tight', math.nan):.4g}",
            "loose": f"to {values.get('loose', math.nan):.4g} ({LOOSE:g}×)"}  # fmt: skip
    return [{"optimizer": names.get(o, o), **{head[k]: by[(o, k)].text() for k in TARGETS}}
            for o in order]  # fmt: skip


def target_csv(times: Sequence[TimeToTarget], optimizer: str) -> dict:
    """The CSV cells of one optimizer's row (empty without curves)."""
    out = {}
    for k in TARGETS:
        t = next((x for x in times if x.optimizer == optimizer and x.target == k), None)
        prefix = "" if k == "tight" else "loose_"
        out[f"{prefix}target"] = "" if t is None else t.value
        out[f"{prefix}steps_to_target"] = "" if t is None else t.median_steps
        out[f"{prefix}seconds_to_target"] = "" if t is None else t.median_seconds
        out[f"{prefix}reached_target"] = "" if t is None else f"{t.reached}/{len(t.seeds)}"
    return out


CSV_FIELDS = tuple(target_csv([], ""))


def as_dict(t: TimeToTarget) -> dict:
    return dict(optimizer=t.optimizer, target=t.target, value=t.value, seeds=list(t.seeds),
                steps=list(t.steps), seconds=list(t.seconds), reached=t.reached,
                median_steps=t.median_steps, median_seconds=t.median_seconds)  # fmt: skip
