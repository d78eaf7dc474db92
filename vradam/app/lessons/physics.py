"""Lesson 6: a quartic kinetic energy (a ball on Himmelblau's landscape, with and without
the term (β₃/4)‖v‖⁴).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import landscapes
from vradam.app.claims import Measured, Neighbourhood
from vradam.app.figures.arrays import as_list
from vradam.app.lessons.lesson import Claim, Exercise, Lesson, sci
from vradam.studies.physics import integrate

_PHYSICS_DT, _PHYSICS_STEPS = 0.005, 1000  # t = 5, the Physics page's default
_PHYSICS_PUSH = (2.0, 0.0)
_PHYSICS_HOOD = Neighbourhood((0.5, 0.5))  # 7×7 starts around (−0.5, −0.5) × t = 2.5, 5, 10


def _physics_run(beta3: float):
    ls = landscapes.get("himmelblau")
    return integrate(ls, ls.start, _PHYSICS_PUSH, beta3s=(0.0, beta3), dt=_PHYSICS_DT,
                     steps=_PHYSICS_STEPS)  # fmt: skip


def _motions(ls, starts: np.ndarray, v0, beta3s, dt: float, steps: int):
    """Speeds (T+1, N, B) and energies (T+1, N, B) from every start for every β3: one
    batched RK4 run of :func:`vradam.studies.physics.integrate`."""
    motions = integrate(ls, starts, v0, beta3s=beta3s, dt=dt, steps=steps)
    N, B = len(starts), len(beta3s)
    speed = np.stack([np.linalg.norm(m.v, axis=-1) for m in motions], axis=1)
    energy = np.stack([m.energy for m in motions], axis=1)
    return speed.reshape(steps + 1, N, B), energy.reshape(steps + 1, N, B)


@lru_cache(maxsize=2)
def _physics_hood():
    ls = landscapes.get("himmelblau")
    hood = _PHYSICS_HOOD
    starts = hood.starts(ls.start)
    horizons = hood.horizon_steps(_PHYSICS_STEPS)
    speed, energy = _motions(ls, starts, _PHYSICS_PUSH, (0.0, 1.0), _PHYSICS_DT, max(horizons))
    rows = []
    for h in horizons:
        top = speed[: h + 1].max(axis=0)  # (N, 2)
        drift = np.max(np.abs(energy[: h + 1] - energy[0]) / np.abs(energy[0]), axis=0)
        rows.append((top, drift))
    return starts, horizons, rows


def _physics_claim() -> Claim:
    starts, horizons, rows = _physics_hood()
    g = _PHYSICS_HOOD.grid
    holds = np.stack([(top[:, 1] < 0.5 * top[:, 0]) & (drift.max(axis=1) < 1e-3)
                      for top, drift in rows])  # fmt: skip
    m = Measured(holds.reshape(1, len(horizons), g, g), starts, horizons, (), _PHYSICS_HOOD)
    ratio = np.concatenate([top[:, 1] / top[:, 0] for top, _ in rows])
    tops = np.concatenate([top for top, _ in rows])
    worst = np.max([drift.max(axis=0) for _, drift in rows], axis=0)  # (2,)
    ordinary, quartic = _physics_run(1.0)
    top = [float(np.max(np.linalg.norm(mo.v, axis=-1))) for mo in (ordinary, quartic)]
    drift = max(float(np.max(np.abs(mo.energy - mo.energy[0])) / abs(mo.energy[0]))
                for mo in (ordinary, quartic))  # fmt: skip
    preset = top[1] < 0.5 * top[0] and drift < 1e-3
    statement = (
        "Same push (2, 0), starts around (−0.5, −0.5): the particle with the quartic term "
        f"(β₃ = 1) reached a top speed of only {ratio.min():.0%}–{ratio.max():.0%} of the "
        f"ordinary one's ({tops[:, 1].min():.2g}–{tops[:, 1].max():.2g} against "
        f"{tops[:, 0].min():.2g}–{tops[:, 0].max():.2g}). Both kept their energy constant, to "
        f"{sci(worst[0])} (ordinary) and {sci(worst[1])} (quartic) of its value: the "
        f"integrator's error (RK4, dt = {_PHYSICS_DT:g})."
    )
    detail = (
        f"From the preset start up to t = 5: top speeds {top[0]:.3g} and {top[1]:.3g}, "
        f"energy constant to {sci(drift)}."
    )
    numbers = {"top_ordinary": top[0], "top_quartic": top[1], "drift": drift,
               "ratio_range": (float(ratio.min()), float(ratio.max()))}  # fmt: skip
    return Claim(statement, m.count, m.total, m.text().replace(" steps", " steps of RK4"),
                 preset, numbers, detail)  # fmt: skip


def _physics_explore(beta3: float) -> tuple[dict, str]:
    motions = _physics_run(beta3)
    colors = ["#888888", "#D55E00"]
    names = ["β₃ = 0", f"β₃ = {beta3:g}"]
    data = [
        dict(type="scatter", x=as_list(m.t[::5], 4),
             y=as_list(np.linalg.norm(m.v[::5], axis=-1), 4), mode="lines", name=n,
             line=dict(color=c, width=2))
        for m, c, n in zip(motions, colors, names)
    ]  # fmt: skip
    fig = dict(data=data, layout=dict(
        height=300, margin=dict(l=50, r=20, t=30, b=45), plot_bgcolor="white",
        xaxis=dict(title=dict(text="time t"), gridcolor="#eeeeee"),
        yaxis=dict(title=dict(text="speed ‖v‖"), gridcolor="#eeeeee", rangemode="tozero"),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom")))  # fmt: skip
    top = [float(np.max(np.linalg.norm(m.v, axis=-1))) for m in motions]
    return fig, (
        f"β₃ = {beta3:g}: top speed {top[1]:.3g} against {top[0]:.3g} without the quartic term "
        f"({top[1] / top[0]:.0%})."
    )


PHYSICS = Lesson(
    key="physics",
    title="A quartic kinetic energy",
    question="A ball rolls on Himmelblau's landscape. Give its kinetic energy an extra term "
    "(β₃/4)‖v‖⁴: what happens to its motion?",
    page="physics",
    query={"ph_ls": "himmelblau", "ph_b3": "1", "ph_gamma": "0", "ph_vx": "2", "ph_vy": "0"},
    look_for="The two paths start together and separate as the ordinary ball speeds up "
    "downhill; the other never gets fast (about a fifth of the speed). The energy panel shows "
    "each ball's energy error |E − E₀|/E₀ on a log axis: it creeps up with the integrator's "
    "rounding but stays under one part in a thousand, so both energies are conserved.",
    try_this="Change β₃ and read the top speed.",
    answer="The momentum is p = (M + β₃‖v‖²)v: the particle behaves as if its mass grew with "
    "its speed, so the same force accelerates it less when it is fast. Energy is still "
    "conserved (E = V + (M/2)‖v‖² + (3β₃/4)‖v‖⁴), but more of it is stored per unit of speed: "
    "falling the same height, the quartic ball ends much slower. VRAdam borrows the factor "
    "1/(1 + β₃‖v‖²) as a gate on its learning rate.",
    exercise=Exercise("β₃", (0.01, 0.1, 0.3, 1.0, 3.0, 10.0), 1.0),
    check=_physics_claim,
    explore=_physics_explore,
)
