"""The Edge of stability page's statements, each measured on several runs (MLP seeds or
quadratic starts): :func:`findings` turns a list of :class:`vradam.studies.eos.EoSResult`
into :class:`Finding` records, with the measure each uses and how many runs it holds in.
Split from vradam.studies.eos (which re-exports both); no import of it at run time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vradam.studies.eos import EoSResult, Series

__all__ = ["MORE_THAN_HALF", "Finding", "findings"]


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


_NAMES = {"gd": "GD", "momentum": "Heavy ball", "adam": "Adam", "vradam": "VRAdam"}
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
                [float(np.max(r.role("momentum").ratio)) < 1 for r in results],
                [f"{np.max(r.role('momentum').ratio):.2f}" for r in results],
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
                 f"upward movement Σ max(Δ log loss, 0), {window}", _upward),
        _compare(results, "VRAdam oscillates with a smaller amplitude than the control",
                 f"std of Δ log loss (trend removed), {window}", _amplitude),
        _compare(results, "VRAdam's loss goes up on fewer steps than the control's",
                 f"steps with Δ loss > 0, {window}", _increases, fmt="{:d}"),
        _compare(results, "VRAdam ends lower than the control",
                 "final loss; control: Adam at VRAdam's window-mean η", _final),
        _compare(results, "VRAdam ends lower than Adam at the same α₀",
                 "final loss; control: Adam at VRAdam's α₀", _final, control="adam"),
    ]  # fmt: skip
    return out


def _upward(s: Series, start: int) -> float:
    return s.upward_movement(start)


def _amplitude(s: Series, start: int) -> float:
    return s.amplitude(start)


def _increases(s: Series, start: int) -> int:
    return s.loss_increases(start)
