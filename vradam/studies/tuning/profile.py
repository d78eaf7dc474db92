"""Time to target across every tuned task in a storage: the performance profile's input.

One run per task: the one with the largest budget (most evaluated trials per optimizer;
ties: the last by name), among the runs that include the baseline and stored curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vradam.sim.optimizers import REGISTRY
from vradam.studies.tuning.results import list_runs, load_run, results_table
from vradam.studies.tuning.target import TAUS, of_rows, performance_profile


@dataclass(frozen=True)
class Profile:
    runs: dict[str, str]  # task → the run (group) it was read from
    steps: dict[str, dict[str, float]]  # task → optimizer → median steps to the tight target
    taus: tuple[float, ...]
    rho: dict[str, list[float]]  # optimizer → ρ(τ)

    def text_rows(self) -> list[dict]:
        """One row per task: each optimizer's median steps to the target ("never"; "—":
        it was not tuned on that task), columns named by the optimizers' names."""
        keys = list(dict.fromkeys(o for s in self.steps.values() for o in s))
        return [{"task": task, "run": self.runs[task],
                 **{f"{REGISTRY[o].name}: steps": _steps_text(s.get(o)) for o in keys}}
                for task, s in self.steps.items()]  # fmt: skip


def _steps_text(steps: float | None) -> str:
    if steps is None:
        return "—"
    return f"{steps:.0f}" if math.isfinite(steps) else "never"


def tuned_profile(storage: str | None) -> Profile:
    """Each task's run (see the module docstring) and the optimizers' profile over them."""
    ranked = sorted(list_runs(storage), key=lambda r: (min(r.trials.values(), default=0),
                                                       r.group), reverse=True)  # fmt: skip
    runs, steps = {}, {}
    for r in ranked:
        if r.task in runs:
            continue
        config, studies = load_run(storage, r.group)
        times = [t for t in of_rows(results_table(config, studies)) if t.target == "tight"]
        if times:
            runs[r.task] = r.group
            steps[r.task] = {t.optimizer: t.median_steps for t in times}
    order = sorted(runs)
    runs, steps = {k: runs[k] for k in order}, {k: steps[k] for k in order}
    return Profile(runs, steps, TAUS, performance_profile(steps, TAUS))
