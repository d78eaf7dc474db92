"""Budget curves: how each optimizer's tuned result depends on the budget and on TPE's luck.

One study per sampler seed (the same task, steps, training seed, budget and search space;
only TPE's seed differs) gives, for each optimizer, the best metric after the first k
evaluated trials (k = 1, 2, 4, …, the budget). The curve is the median over the studies
with its min–max spread (AlgoPerf reports the median of 3): a reader sees whether a winner
at 8 trials is the better optimizer or TPE's better draw, and whether the wider search
(VRAdam's three dimensions) catches up as the budget grows. The values are the tuning
seed's (the trials' own metric), not the evaluation seeds'.

Studies of other sampler seeds are named :func:`sampler_group` of the main run's name, so
the CLI's ``--sampler-seeds`` and the Tuning page find them again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from vradam.sim.optimizers import REGISTRY
from vradam.studies.tuning.config import TuneConfig
from vradam.studies.tuning.protocol import evaluated_trials


def best_so_far(trials: Iterable[FrozenTrial], budget: int) -> list[float]:
    """The best metric after each of the first ``budget`` evaluated trials (NaN until one
    completes; a diverged trial spends budget without improving)."""
    out, best = [], math.nan
    for t in sorted(evaluated_trials(trials), key=lambda t: t.number)[:budget]:
        if t.state == TrialState.COMPLETE and not (t.value >= best):  # NaN best: take it
            best = float(t.value)
        out.append(best)
    return out


def budget_points(budget: int) -> list[int]:
    """1, 2, 4, … below the budget, then the budget itself."""
    points, k = [], 1
    while k < budget:
        points.append(k)
        k *= 2
    return [*points, budget]


@dataclass(frozen=True)
class BudgetCurve:
    optimizer: str  # registry key
    name: str
    trials: tuple[int, ...]  # k: 1, 2, 4, …, the budget
    median: tuple[float, ...]  # over the studies with a result by k (NaN: none)
    low: tuple[float, ...]  # min over those studies
    high: tuple[float, ...]  # max over those studies
    studies: tuple[int, ...]  # how many studies had a completed trial by k
    sampler_seeds: tuple[int, ...]  # the studies' sampler seeds
    curves: tuple[tuple[float, ...], ...]  # each study's best so far at k (NaN: not yet)


def budget_curves(runs: dict[int, dict[str, optuna.Study]], budget: int) -> list[BudgetCurve]:
    """Each optimizer's curve over ``runs`` (sampler seed → optimizer → study)."""
    seeds = tuple(sorted(runs))
    ks = budget_points(budget)
    optimizers = [o for o in next(iter(runs.values()), {}) if all(o in r for r in runs.values())]
    out = []
    for o in optimizers:
        curves = []
        for s in seeds:
            best = best_so_far(runs[s][o].get_trials(deepcopy=False), budget)
            curves.append(tuple(best[k - 1] if k <= len(best) else math.nan for k in ks))
        table = np.asarray(curves, dtype=float).reshape(len(seeds), len(ks))  # (studies, k)
        reached = np.isfinite(table)
        stats = [_over_studies(f, table, reached) for f in (np.median, np.min, np.max)]
        out.append(BudgetCurve(
            optimizer=o, name=REGISTRY[o].name, trials=tuple(ks), median=stats[0],
            low=stats[1], high=stats[2], studies=tuple(int(n) for n in reached.sum(axis=0)),
            sampler_seeds=seeds, curves=tuple(curves),
        ))  # fmt: skip
    return out


def _over_studies(f, table: np.ndarray, reached: np.ndarray) -> tuple[float, ...]:
    """``f`` of each column (a budget k) over the studies that reached it (NaN: none)."""
    return tuple(float(f(col[ok])) if ok.any() else math.nan
                 for col, ok in zip(table.T, reached.T))  # fmt: skip


def sampler_group(group: str, config: TuneConfig, sampler_seed: int) -> str:
    """The run name for ``sampler_seed`` beside the main run ``group`` (the main run's
    own sampler seed keeps ``group``): the default name with that seed, or
    ``GROUP-samplerS`` for a name given with --study."""
    if sampler_seed == config.sampler_seed:
        return group
    if group == config.default_study():
        return replace(config, sampler_seed=sampler_seed).default_study()
    return f"{group}-sampler{sampler_seed}"


def budget_text(curves: list[BudgetCurve], metric: str) -> list[dict]:
    """The curves as text columns: "median [min – max]" at each k."""
    rows = []
    for c in curves:
        row = {"optimizer": c.name}
        for k, m, lo, hi, n in zip(c.trials, c.median, c.low, c.high, c.studies):
            cell = "—" if not n else f"{m:.4g}" if n == 1 else f"{m:.4g} [{lo:.3g} – {hi:.3g}]"
            if 0 < n < len(c.sampler_seeds):  # a study without a result yet at k
                cell += f" ({n} of {len(c.sampler_seeds)} studies)"
            row[f"{k} trial{'s' if k > 1 else ''}"] = cell
        rows.append(row)
    return rows


def budget_note(curves: list[BudgetCurve], metric: str) -> str:
    if not curves:
        return ""
    seeds = ", ".join(map(str, curves[0].sampler_seeds))
    return (f"Budget: the best {metric} after k trials (the tuning seed's), median [min – max] "
            f"over {len(curves[0].sampler_seeds)} studies that differ only in TPE's seed "
            f"(sampler seeds {seeds}).")  # fmt: skip
