"""One-line text summaries of every chart, computed from the chart's data.

Shown under each chart (for screen readers, printouts and anyone who cannot see the
colours); each is a pure function of the numbers the chart draws, and tests check
the numbers in the text against the data.
"""

from __future__ import annotations

import math

import numpy as np

from vradam.sim.measures import loss_increases

__all__ = [
    "adam_map_summary",
    "basin_summary",
    "claim_map_summary",
    "eos_summary",
    "gate_summary",
    "momentum_maps_summary",
    "motion_summary",
    "phase_summary",
    "race_summary",
    "reach_step",
    "sweep_summary",
    "switching_summary",
    "top_speed",
    "trace_summary",
    "training_summary",
]

REACH = 1e-6  # "reached the minimum": loss − f* ≤ this


def _g(x: float) -> str:
    return f"{x:.3g}"


def reach_step(loss: np.ndarray, f_star: float = 0.0, level: float = REACH) -> int:
    """First step whose loss − f* ≤ level (−1 if never)."""
    hit = np.flatnonzero(np.asarray(loss) - f_star <= level)
    return int(hit[0]) if hit.size else -1


def race_summary(trajectories, f_star: float | None) -> str:
    """Playground race / lesson paths, run 0: reached 1e-6, rises, divergence."""
    parts = []
    for tr in trajectories:
        loss = tr.loss[0]
        d = int(tr.diverged_at[0])
        if d >= 0:
            parts.append(f"{tr.label} diverged at step {d}")
            continue
        rises = loss_increases(loss)
        osc = f", its loss rose {rises} times" if rises else ", its loss never rose"
        if f_star is not None and (s := reach_step(loss, f_star)) >= 0:
            parts.append(f"{tr.label} reached loss {REACH:g} above the minimum at step {s}{osc}")
        else:
            parts.append(f"{tr.label} ended at loss {_g(loss[-1])}{osc}")
    return "; ".join(parts) + "."


def training_summary(records: list[dict], labels: list[str]) -> str:
    """Networks curves: final training loss and validation accuracy per optimizer."""
    parts = []
    for i, label in enumerate(labels):
        mine = [r for r in records if r["optimizer"] == i]
        if any(r.get("diverged") for r in mine):
            step = next(r["step"] for r in mine if r.get("diverged"))
            parts.append(f"{label} diverged at step {step}")
            continue
        evals = [r for r in mine if "train_loss" in r]
        if not evals:
            continue
        last = evals[-1]
        acc = f", validation accuracy {last['val_acc']:.1%}" if "val_acc" in last else ""
        parts.append(f"{label}: training loss {_g(last['train_loss'])} at step {last['step']}{acc}")
    return "; ".join(parts) + "."


def sweep_summary(rows: list[dict], labels: list[str]) -> str:
    """LR sweep: each optimizer's best α0 and how many rates diverged."""
    parts = []
    for i, label in enumerate(labels):
        mine = [r for r in rows if r["optimizer"] == i]
        ok = [r for r in mine if not r["diverged"] and math.isfinite(r["train_loss"])]
        bad = len(mine) - len(ok)
        if not ok:
            parts.append(f"{label} diverged at every rate tried")
            continue
        best = min(ok, key=lambda r: r["train_loss"])
        parts.append(
            f"{label}: best α0 {best['lr']:.3g} (loss {_g(best['train_loss'])}), "
            f"{bad} of {len(mine)} rates diverged"
        )
    return "; ".join(parts) + "."


def eos_summary(result) -> str:
    """Edge of stability: steps at the edge per optimizer, and over the comparison window
    (shaded) how often and how far its loss rose."""
    start = result.window_start
    first, last = result.window
    parts = []
    for s in result.series:
        first_edge = s.first_edge_step()
        edge = (
            f"at its edge (±10 %) for {s.edge_steps()} steps from step {first_edge}"
            if first_edge >= 0
            else "never at its edge"
        )
        parts.append(
            f"{s.label} {edge}, loss rose on {s.loss_increases(start)} steps and climbed "
            f"{_g(s.upward_movement(start))} in log loss in the window, final loss "
            f"{_g(s.loss[-1])}"
        )
    return f"Window: steps {first}–{last}. " + "; ".join(parts) + "."


def motion_summary(motions, labels: list[str]) -> str:
    parts = []
    for m, label in zip(motions, labels):
        top = float(np.max(np.linalg.norm(m.v, axis=-1)))
        drift = float(np.max(np.abs(m.energy - m.energy[0])) / max(abs(m.energy[0]), 1e-300))
        esc = f", left the domain at t = {m.t[m.escaped_at]:.2f}" if m.escaped_at > 0 else ""
        parts.append(f"{label}: top speed {_g(top)}, energy change {drift:.1e}{esc}")
    return "; ".join(parts) + "."


def gate_summary(curves: dict) -> str:
    return (
        f"η falls from α0 to half at ‖v‖ = {_g(curves['peak_speed'])}, where the step peaks at "
        f"{_g(curves['bound'])}; from ‖v‖ = {_g(curves['clip_speed'])} it stays at the floor "
        f"{_g(curves['floor'])} and the step grows linearly."
    )


def momentum_maps_summary(maps, below=None) -> str:
    """Cells per class and optimizer; with ``below`` (a stability.BelowLine), VRMomentum's
    cells below the line that never converge."""
    from vradam.studies import stability as S

    parts = []
    for m in maps:
        n = m.classes.size
        counts = {k: int((m.classes == k).sum()) for k in S.CLASS_NAMES}
        text = (
            f"{S.KINDS[m.kind].label}: {counts[S.CONVERGED]} of {n} cells converged, "
            f"{counts[S.BOUNDED]} bounded, {counts[S.DIVERGED]} diverged "
            f"(theory line α0·L = {_g(m.limit)})"
        )
        if below is not None and m.gated:
            text += (
                f", {int(below.failing.sum())} cells below the line not converged after "
                f"{below.steps} steps"
            )
        parts.append(text)
    return "; ".join(parts) + "."


def trace_summary(vr, ema, limit: float) -> str:
    """One cell as a 1-D run: where VRMomentum and EMA momentum end, and VRMomentum's rates."""
    T = vr.rate.size
    tail = vr.rate[-min(T, 40) :] * vr.curvature
    return (
        f"At α0 = {_g(vr.lr)}, L = {_g(vr.curvature)} (α0·L = {_g(vr.lr * vr.curvature)}, "
        f"line {_g(limit)}), after {T} steps VRMomentum's |x| is {_g(abs(vr.x[-1]))} and EMA "
        f"momentum's {_g(abs(ema.x[-1]))}; over the last {tail.size} steps VRMomentum's η_t·L "
        f"ranges from {_g(tail.min())} to {_g(tail.max())}, all below the line."
        if tail.max() < limit
        else f"At α0 = {_g(vr.lr)}, L = {_g(vr.curvature)}, after {T} steps VRMomentum's |x| "
        f"is {_g(abs(vr.x[-1]))} and EMA momentum's {_g(abs(ema.x[-1]))}; over the last "
        f"{tail.size} steps VRMomentum's η_t·L reaches {_g(tail.max())}, above the line "
        f"{_g(limit)}."
    )


def adam_map_summary(m) -> str:
    adam_inc = m.increases[0]
    best = np.unravel_index(
        np.argmin(np.where(np.isfinite(m.final_loss), m.final_loss, np.inf)), m.final_loss.shape
    )
    fewest = m.increases[1:].sum(axis=1).argmin() + 1 if len(m.beta3s) > 1 else 0
    return (
        f"Adam (β3 = 0) lets the loss rise {int(adam_inc.sum())} times over the {len(m.lrs)} "
        f"rates; the fewest rises come with β3 = {_g(m.beta3s[fewest])} "
        f"({int(m.increases[fewest].sum())}); the lowest final loss "
        f"{_g(m.final_loss[best])} is at α0 = {_g(m.lrs[best[1]])}, β3 = "
        f"{_g(m.beta3s[best[0]])}."
    )


def basin_summary(b, n_minima: int) -> str:
    parts = []
    for label, basins in zip(b.labels, b.basins):
        found = sorted({int(x) for x in np.unique(basins) if x >= 0})
        div = int((basins == -2).sum())
        parts.append(
            f"{label} reaches {len(found)} of {n_minima} minima"
            + (f", {div} starts diverge" if div else "")
        )
    return "; ".join(parts) + "."


def switching_summary(d) -> str:
    return "; ".join(f"{name}: ×{r:.3g} per step" for name, r in d.radii.items()) + "."


def top_speed(energy: float, mass: float, beta3: float) -> float:
    """Speed at x = 0 on the orbit of energy E: (M/2)v² + (3β3/4)v⁴ = E."""
    if beta3 == 0:
        return math.sqrt(2 * energy / mass)
    a = 0.75 * beta3  # a·u² + (M/2)·u − E = 0 with u = v²
    u = (-mass / 2 + math.sqrt(mass * mass / 4 + 4 * a * energy)) / (2 * a)
    return math.sqrt(u)


def phase_summary(k: float, mass: float, beta3: float, energies) -> str:
    e = float(max(energies))
    return (
        f"On the outermost orbit (E = {_g(e)}) the top speed is {_g(top_speed(e, mass, 0.0))} "
        f"with ordinary kinetic energy and {_g(top_speed(e, mass, beta3))} with β3 = {beta3:g}; "
        f"the turning points x = ±{_g(math.sqrt(2 * e / k))} are the same."
    )


def claim_map_summary(measured) -> str:
    """The claim map (a :class:`~vradam.app.claims.Measured`): from how many starts the
    claim held in every run, and in none."""
    per = measured.per_start()
    every = int((per == 1).sum())
    never = int((per == 0).sum())
    return (
        f"the claim held in all runs from {every} of {per.size} starts and in none from "
        f"{never}; {measured.frequency:.0%} of all runs."
    )
