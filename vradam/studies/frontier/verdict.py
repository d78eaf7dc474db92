"""From rows to cells (means over seeds), Adam's frontier, and the verdict in numbers.

Definitions (one each, tested):

* **Cell**: one (optimizer, schedule, α0, β3) over its seeds: the mean oscillation and the
  mean of log10 final loss (a geometric mean); a cell with a diverged seed has no point.
  An oscillation below :data:`OSCILLATION_FLOOR` counts as 0: the loss rose by less than
  0.1 % in all over the window, rounding's level (a decayed schedule's runs climb by
  1e-8 at the end, which must not order them).
* **Adam's frontier**: the lower-left envelope of the baseline's cells (every α0 and
  schedule): for an oscillation o, the lowest mean log10 final loss of a baseline cell
  whose oscillation is ≤ o.
* **A VRAdam cell against it**: its comparator is the baseline cell that sets the frontier
  at the VRAdam cell's oscillation (the lowest final loss among those that oscillate no
  more). The margin is VRAdam's log10 final loss minus the comparator's, seed by seed
  (paired), with its mean and 95 % t-interval (:func:`vradam.sim.measures.t_interval`).
  The cell lies **below** the frontier when the mean margin is < 0 (clearly so when the
  whole interval is), **above** it when ≥ 0, and **beyond** it when it oscillates less
  than every baseline cell (no comparator: then it is compared with the baseline's least
  oscillating cell, in both oscillation and final loss).

Both sides pick their best cell from the same rows, so a single margin is optimistic for
whichever side had more cells to choose from; the verdict gives the count of cells below
the frontier alongside the largest margin.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from vradam.sim.measures import t_interval
from vradam.studies.frontier.config import MIN_SEEDS, PROBLEMS, ROLES

OSCILLATION_FLOOR = 1e-3  # Σ max(Δ ln loss, 0) below this counts as 0 (a 0.1 % climb)


def _oscillation(row: dict) -> float:
    if row["diverged"]:
        return math.nan
    value = float(row["oscillation"])
    return 0.0 if value < OSCILLATION_FLOOR else value


@dataclass(frozen=True)
class Cell:
    role: str
    optimizer: str
    schedule: str
    lr: float
    beta3: float  # NaN for the baseline
    seeds: tuple[int, ...]
    oscillation: tuple[float, ...]  # per seed (NaN where diverged)
    log_final: tuple[float, ...]  # log10 final loss per seed (NaN where diverged)
    gate_labels: tuple[str, ...] = ()

    @property
    def is_vr(self) -> bool:
        """The VRAdam arm's cell (role "vr"), not the baseline's."""
        return self.role == ROLES[1]

    @property
    def diverged(self) -> int:
        return int(sum(not math.isfinite(v) for v in self.log_final))

    @property
    def ok(self) -> bool:
        return self.diverged == 0 and bool(self.seeds)

    @property
    def mean_oscillation(self) -> float:
        return float(np.mean(self.oscillation)) if self.ok else math.nan

    @property
    def mean_log_final(self) -> float:
        return float(np.mean(self.log_final)) if self.ok else math.nan

    @property
    def final(self) -> float:
        """The geometric mean of the final loss over the seeds."""
        return 10.0**self.mean_log_final if self.ok else math.nan

    @property
    def gate(self) -> str:
        """The gate's most common label over the seeds ("" for the baseline)."""
        return Counter(self.gate_labels).most_common(1)[0][0] if self.gate_labels else ""

    def name(self) -> str:
        sched = "" if self.schedule == "constant" else f", {self.schedule.replace('_', '-')}"
        if self.is_vr:
            return f"β₃ = {self.beta3:g}, α₀ = {self.lr:g}{sched}"
        return f"α₀ = {self.lr:g}{sched}"


def _finite_log(x) -> float:
    return math.log10(x) if isinstance(x, float) and math.isfinite(x) and x > 0 else (
        -300.0 if x == 0 else math.nan)  # fmt: skip


def cells(rows: list[dict]) -> list[Cell]:
    """The rows grouped into cells, in the rows' order of first appearance."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        beta3 = r.get("beta3", math.nan)
        beta3 = math.nan if beta3 in (None, "") else float(beta3)
        key = (r["role"], r["optimizer"], r["schedule"], float(r["lr"]),
               None if math.isnan(beta3) else beta3)  # fmt: skip
        groups[key].append(r)
    out = []
    for (role, opt, sched, lr, beta3), mine in groups.items():
        mine = sorted(mine, key=lambda r: int(r["seed"]))
        out.append(Cell(
            role, opt, sched, lr, math.nan if beta3 is None else beta3,
            tuple(int(r["seed"]) for r in mine),
            tuple(_oscillation(r) for r in mine),
            tuple(math.nan if r["diverged"] else _finite_log(float(r["final_loss"]))
                  for r in mine),
            tuple(r["gate_label"] for r in mine if r.get("gate_label")),
        ))  # fmt: skip
    return out


def frontier(baseline: list[Cell]) -> list[Cell]:
    """The baseline cells on the lower-left envelope, by increasing oscillation (each one
    ends lower than every cell that oscillates less)."""
    line, best = [], math.inf
    for c in sorted((c for c in baseline if c.ok), key=lambda c: (c.mean_oscillation,
                                                                   c.mean_log_final)):  # fmt: skip
        if c.mean_log_final < best:
            line.append(c)
            best = c.mean_log_final
    return line


@dataclass(frozen=True)
class Comparison:
    """One VRAdam cell against Adam's frontier (see the module's definitions)."""

    vradam: Cell
    baseline: Cell  # the comparator
    category: str  # "below", "above" or "beyond"
    margin: float  # mean over paired seeds of log10 final loss, VRAdam − comparator
    margin_half: float  # its 95 % t half-width (NaN with one pair)
    oscillation_diff: float  # mean paired oscillation, VRAdam − comparator
    oscillation_half: float
    pairs: int

    @property
    def ratio(self) -> float:
        """VRAdam's final loss ÷ the comparator's (geometric means over paired seeds)."""
        return 10.0**self.margin

    @property
    def clear(self) -> bool:
        """The whole 95 % interval of the margin on the side of its sign."""
        return math.isfinite(self.margin_half) and abs(self.margin) > self.margin_half


def _paired(a: Cell, b: Cell, field: str) -> tuple[float, float, int]:
    mine = dict(zip(a.seeds, getattr(a, field)))
    theirs = dict(zip(b.seeds, getattr(b, field)))
    diffs = [mine[s] - theirs[s] for s in mine if s in theirs]
    mean, half = t_interval(diffs)
    return mean, half, len(diffs)


def compare(cell: Cell, line: list[Cell]) -> Comparison | None:
    """``cell`` (a VRAdam cell with a point) against the frontier ``line``."""
    if not cell.ok or not line:
        return None
    under = [c for c in line if c.mean_oscillation <= cell.mean_oscillation]
    if under:
        ref = min(under, key=lambda c: c.mean_log_final)
        margin, half, n = _paired(cell, ref, "log_final")
        category = "below" if margin < 0 else "above"
    else:
        ref = line[0]
        margin, half, n = _paired(cell, ref, "log_final")
        category = "beyond"
    osc, osc_half, _ = _paired(cell, ref, "oscillation")
    return Comparison(cell, ref, category, margin, half, osc, osc_half, n)


@dataclass(frozen=True)
class FrontierVerdict:
    """The answer for one problem: how many VRAdam cells lie below Adam's frontier, the
    largest margin and where, and the cells beyond it; ``sentence`` says it."""

    problem: str
    seeds: int
    vradam_cells: int  # VRAdam cells with a point (no diverged seed)
    vradam_diverged: int  # VRAdam cells with a diverged seed
    baseline_cells: int
    below: int
    clearly_below: int
    beyond: int
    best: Comparison | None  # the largest margin below (or the closest above)
    smoothest: Comparison | None  # the beyond cell with the lowest final loss
    frontier: tuple[Cell, ...]
    comparisons: tuple[Comparison, ...]
    baseline: tuple[Cell, ...]  # every baseline cell (with or without a point)
    # the same against the baseline at a constant α0 only (no schedule):
    below_constant: int
    best_constant: Comparison | None
    sentence: str


def frontier_verdict(rows: list[dict]) -> FrontierVerdict:
    """The verdict for the rows of one problem's study (all its seeds)."""
    problems = {r["problem"] for r in rows}
    if len(problems) != 1:
        raise ValueError(f"give the rows of one problem, got {sorted(problems)}")
    problem = problems.pop()
    all_cells = cells(rows)
    base = [c for c in all_cells if c.role == "baseline"]
    vr = [c for c in all_cells if c.is_vr]
    line = frontier(base)
    comps, below, beyond, best, smoothest = _against(vr, line)
    constant = frontier([c for c in base if c.schedule == "constant"])
    _, below_c, _, best_c, _ = _against(vr, constant)
    n_seeds = len({int(r["seed"]) for r in rows})
    verdict = dict(
        problem=problem, seeds=n_seeds, vradam_cells=len(comps),
        vradam_diverged=sum(not v.ok for v in vr), baseline_cells=len(base), below=len(below),
        clearly_below=sum(c.clear for c in below), beyond=len(beyond), best=best,
        smoothest=smoothest, frontier=tuple(line), comparisons=tuple(comps),
        baseline=tuple(base), below_constant=len(below_c), best_constant=best_c,
    )  # fmt: skip
    return FrontierVerdict(**verdict, sentence=_sentence(verdict))


def _against(vr: list[Cell], line: list[Cell]) -> tuple:
    """(comparisons, those below, those beyond, the best within, the smoothest beyond)."""
    comps = [c for c in (compare(v, line) for v in vr) if c is not None]
    below = [c for c in comps if c.category == "below"]
    within = [c for c in comps if c.category != "beyond"]
    beyond = [c for c in comps if c.category == "beyond"]
    best = min(within, key=lambda c: c.margin) if within else None
    smoothest = min(beyond, key=lambda c: c.vradam.mean_log_final) if beyond else None
    return comps, below, beyond, best, smoothest


def _interval(mean: float, half: float, digits: str = ".2f") -> str:
    if not math.isfinite(half):
        return f"{mean:+{digits}} (one seed: no interval)"
    return f"{mean:+{digits}} ± {half:{digits}}"


def _sentence(v: dict) -> str:
    p = PROBLEMS[v["problem"]]
    base_name = p.baseline_name
    few = f" (fewer than the protocol's {MIN_SEEDS})" if v["seeds"] < MIN_SEEDS else ""
    head = (f"{p.name}, {v['seeds']} seeds{few}: {v['below']} of {v['vradam_cells']} "
            f"VRAdam settings end below {base_name}'s frontier (a lower final loss than "
            f"every {base_name} setting, constant or warmup-cosine, that oscillates no "
            "more)")  # fmt: skip
    if v["vradam_diverged"]:
        head += f"; {v['vradam_diverged']} diverged on some seed and are not counted"
    parts = [head + "."]
    if v["best"] is not None:
        parts.append(_best_words(v["best"], base_name, "") + ".")
    scheduled = v["best"] is None or v["best"].baseline.schedule != "constant"
    if v["best_constant"] is not None and scheduled:
        parts.append(
            f"Against {base_name} at a constant α₀ alone (no schedule), "
            f"{v['below_constant']} of {v['vradam_cells']} end below its frontier; "
            + _best_words(v["best_constant"], base_name, "constant")
            + "."
        )
    smooth = v["smoothest"]
    if v["beyond"] and smooth is not None:
        parts.append(
            f"{v['beyond']} VRAdam setting(s) oscillate less than any {base_name} setting; "
            f"the one ending lowest, {smooth.vradam.name()}, oscillates "
            f"{smooth.vradam.mean_oscillation:.3g} against {smooth.baseline.mean_oscillation:.3g}"
            f" for {base_name}'s least oscillating setting ({smooth.baseline.name()}) and ends "
            f"at {smooth.vradam.final:.3g} against {smooth.baseline.final:.3g} (log10 "
            f"difference {_interval(smooth.margin, smooth.margin_half)})"
            f"{_gate_words(smooth.vradam)}."
        )  # fmt: skip
    return " ".join(parts)


def _best_words(best: Comparison, base_name: str, which: str) -> str:
    lead = "the largest margin" if best.category == "below" else "none is below:"
    if not which:
        lead = lead[0].upper() + lead[1:]
    where = "below it by" if best.category == "below" else "the closest is above it by"
    clear = "the interval excludes 0" if best.clear else "the interval includes 0"
    return (
        f"{lead} {best.vradam.name()}, {where} a factor {best.ratio:.3g} in final loss "
        f"({best.vradam.final:.3g} vs {best.baseline.final:.3g} for {base_name} at "
        f"{best.baseline.name()}; log10 difference {_interval(best.margin, best.margin_half)} "
        f"over {best.pairs} paired seeds, {clear}); its oscillation "
        f"{best.vradam.mean_oscillation:.3g} vs {best.baseline.mean_oscillation:.3g}"
        f"{_gate_words(best.vradam)}"
    )


def _gate_words(cell: Cell) -> str:
    return f"; its gate: {cell.gate}" if cell.gate else ""
