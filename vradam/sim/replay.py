"""One run's every intermediate quantity, update by update (the Playground's step-through).

:func:`replay` asks the engine itself (``simulate(..., telemetry="step")``) for the
gradient g_t as the optimizer sees it (seeded noise and L2 term included), the velocity
(first moment or momentum buffer), the second moment, ‖v_t‖², η_t and the step
direction, so the numbers shown are the engine's numbers (tests also check them against
the torch optimizer classes fed the same gradients).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vradam.sim import schedules
from vradam.sim.engine import simulate
from vradam.sim.optimizers import OptimizerSpec

__all__ = ["Replay", "replay"]


@dataclass
class Replay:
    """Arrays indexed by update t = 1 … T at position t − 1 (``theta`` has T + 1 rows)."""

    spec: OptimizerSpec
    theta: np.ndarray  # (T+1, 2) θ_0 … θ_T
    loss: np.ndarray  # (T+1,)
    grad: np.ndarray  # (T, 2) g_t as the optimizer sees it (noise and L2 term included)
    velocity: np.ndarray  # (T, 2) v_t: first moment / momentum buffer after update t
    second: np.ndarray  # (T, 2) m_t: second moment / squared-gradient average (0 if none)
    sq_norm: np.ndarray  # (T,) ‖v_t‖²
    lr: np.ndarray  # (T,) scheduled α0
    eta: np.ndarray  # (T,) η_t
    direction: np.ndarray  # (T, 2) the step direction before η_t and decay
    decay: np.ndarray  # (T, 2) decoupled weight decay λθ_{t−1} (0 if none)
    bc1: np.ndarray  # (T,) 1 − β1^t (1 where not used)
    bc2: np.ndarray  # (T,) 1 − β2^t (1 where not used)
    l2: bool  # the weight decay is added to the gradient (coupled, L2)

    @property
    def steps(self) -> int:
        return self.grad.shape[0]


def replay(
    landscape,
    spec: OptimizerSpec | str,
    starts,
    steps: int,
    *,
    start_index: int = 0,
    noise_std: float = 0.0,
    seed: int = 0,
    schedule: str = "constant",
) -> Replay:
    """Run ``spec`` from every start, as :func:`~vradam.sim.engine.simulate` would
    (the noise depends on the number of starts), and keep start ``start_index``."""
    spec = OptimizerSpec.parse(spec) if isinstance(spec, str) else spec
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    if not 0 <= start_index < starts.shape[0]:
        raise ValueError(f"start index must be in 0 … {starts.shape[0] - 1}")
    (tr,) = simulate(landscape, [spec], starts, steps, noise_std=noise_std, seed=seed,
                     schedule=schedule, telemetry="step")  # fmt: skip
    run = {name: a[start_index] for name, a in tr.internals.items()}
    c = spec.coefficients(spec.hyperparams["lr"] * schedules.factors(schedule, steps))
    ones = np.ones(steps)
    with np.errstate(over="ignore", invalid="ignore"):
        decay = c.wd_dec[:, None] * run["theta"][:-1]
    return Replay(
        spec=spec,
        theta=run["theta"],
        loss=run["loss"],
        grad=run["grad"],
        velocity=run["velocity"],
        second=run["second"],
        sq_norm=run["sq_norm"],
        lr=c.lr,
        eta=run["eta"],
        direction=run["direction"],
        decay=decay,
        bc1=ones if c.bc1 is None else c.bc1,
        bc2=ones if c.bc2 is None else c.bc2,
        l2=bool(c.wd_l2.any()),
    )
