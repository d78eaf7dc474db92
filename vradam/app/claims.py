"""Claims measured over a neighbourhood, not one run.

A scenario or lesson says what optimizers do; that statement is only worth making if
it holds around the preset too. :func:`measure` evaluates a claim's per-run test over a
grid of starts around the preset start, at several horizons (half, once and twice the
preset's step count) and, when the preset has gradient noise, several noise seeds.
Each seed is one batched engine call at the longest horizon; shorter horizons are
prefixes of the same runs (the engine is causal and the preset's schedule is constant),
so the whole neighbourhood costs about one run of 2T steps over the grid. The runs of a
neighbourhood are cached and shared by every test measured on it, so a scenario's claim and
the numbers its text quotes beside it cost one simulation.

The claim's test receives the trajectories cut to h steps and returns one bool per
start: ``test(trajectories, h) -> (N,) bool``. Tests use positions, losses and the
per-step telemetry; they must not use ``converged_at`` (defined over the whole run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from vradam.app.playground import PlaygroundConfig
from vradam.sim.engine import Trajectory, simulate

__all__ = ["Measured", "Neighbourhood", "clear_caches", "measure", "truncate"]

# per-step arrays of a Trajectory: (N, T+1, …) states and (N, T, …) updates
_STATE = ("xy", "loss", "sharpness")
_STEP = ("grad", "velocity", "velocity_sq_norm", "effective_lr", "coord_lr", "step_norm",
         "precond_sharpness", "stability_threshold")  # fmt: skip


@dataclass(frozen=True)
class Neighbourhood:
    """Where a claim is measured: a grid of starts in start ± half_width, the horizons
    (multiples of the preset's steps) and the noise seeds (used when noise is on)."""

    half_width: tuple[float, float]
    grid: int = 7
    horizons: tuple[float, ...] = (0.5, 1.0, 2.0)
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self) -> None:
        if not (self.half_width[0] > 0 and self.half_width[1] > 0):
            raise ValueError("the neighbourhood's half widths must be positive")
        if not 2 <= self.grid <= 15:
            raise ValueError("the neighbourhood's grid must be 2 … 15 points a side")

    def starts(self, centre) -> np.ndarray:
        """(grid², 2) starts, row-major in y then x (the centre is the middle one)."""
        (x, y), (dx, dy) = centre, self.half_width
        X, Y = np.meshgrid(np.linspace(x - dx, x + dx, self.grid),
                           np.linspace(y - dy, y + dy, self.grid))  # fmt: skip
        return np.stack([X.ravel(), Y.ravel()], axis=1)

    def horizon_steps(self, steps: int) -> tuple[int, ...]:
        return tuple(max(1, round(h * steps)) for h in self.horizons)


@dataclass(frozen=True)
class Measured:
    """Where a claim held: ``holds`` has shape (seeds, horizons, grid, grid)."""

    holds: np.ndarray
    starts: np.ndarray  # (grid², 2)
    horizons: tuple[int, ...]  # step counts
    seeds: tuple[int, ...]  # () when the preset has no noise
    hood: Neighbourhood

    @property
    def count(self) -> int:
        return int(self.holds.sum())

    @property
    def total(self) -> int:
        return int(self.holds.size)

    @property
    def frequency(self) -> float:
        return self.count / self.total

    def per_start(self) -> np.ndarray:
        """(grid, grid) fraction of horizons (and seeds) at which the claim held."""
        return self.holds.mean(axis=(0, 1))

    def text(self) -> str:
        """'in 140 of 147 runs (95%; 7×7 starts in x ± 0.3, y ± 0.3 around the preset start,
        each run for 150, 300 and 600 steps)' — the frequency, with what it was measured over."""
        g, (dx, dy) = self.hood.grid, self.hood.half_width
        what = (f"{g}×{g} starts in x ± {dx:g}, y ± {dy:g} around the preset start, each run "
                f"for {_and(self.horizons)} steps")  # fmt: skip
        if self.seeds:
            what += f" with {len(self.seeds)} noise seeds"
        return f"in {self.count} of {self.total} runs ({self.frequency:.0%}; {what})"

    def short(self) -> str:
        """'in 84 of 147 runs (57%)', or 'from 25 of 49 starts (51%)' when measured at one
        step count without noise seeds — a number quoted beside a claim."""
        if len(self.horizons) == 1 and len(self.seeds) <= 1:
            return f"from {self.count} of {self.total} starts ({self.frequency:.0%})"
        return f"in {self.count} of {self.total} runs ({self.frequency:.0%})"

    def runs_text(self) -> str:
        """'150, 300 and 600 steps, 3 noise seeds each': how long each start was run."""
        text = f"{_and(map(str, self.horizons))} steps"
        if self.seeds:
            text += f", {len(self.seeds)} noise seeds each"
        return text

    def at(self, horizon: float) -> Measured:
        """The same measurement at one horizon, given as a multiple of the preset's steps
        (one of the neighbourhood's ``horizons``)."""
        if horizon not in self.hood.horizons:
            raise ValueError(f"{horizon} is not one of the horizons {self.hood.horizons}")
        j = self.hood.horizons.index(horizon)
        return replace(self, holds=self.holds[:, j : j + 1], horizons=(self.horizons[j],))


def _and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def truncate(tr: Trajectory, h: int) -> Trajectory:
    """The first h updates of a trajectory (a prefix of the same run)."""
    cut = {name: getattr(tr, name)[:, : h + 1] for name in _STATE if getattr(tr, name) is not None}
    cut.update({name: getattr(tr, name)[:, :h] for name in _STEP if getattr(tr, name) is not None})
    d = tr.diverged_at
    return replace(tr, **cut, lr=tr.lr[:h], diverged_at=np.where(d > h, -1, d),
                   converged_at=np.full_like(tr.converged_at, -1))  # fmt: skip


Test = Callable[[list[Trajectory], int], np.ndarray]


def measure(
    config: PlaygroundConfig, hood: Neighbourhood, test: Test, *, telemetry: str = "full"
) -> Measured:
    """Evaluate ``test`` over the neighbourhood of ``config``'s start.

    ``telemetry="path"`` (positions, losses, divergence) costs about half of ``"full"``
    (which adds η_t, ‖v‖², sharpness …); use it when the test needs only the path.
    Results are cached per (config, neighbourhood, test, telemetry).
    """
    if config.schedule != "constant":
        raise ValueError("neighbourhoods need a constant schedule (horizons are prefixes)")
    if telemetry not in ("path", "full"):
        raise ValueError("telemetry must be 'path' or 'full'")
    return _measure(config, hood, test, telemetry)


@lru_cache(maxsize=2)  # full telemetry of 2T steps is tens of MB
def _runs(config: PlaygroundConfig, hood: Neighbourhood, telemetry: str):
    """(starts, horizons, seeds, one list of trajectories per seed) at the longest horizon."""
    starts = hood.starts(config.start_point())
    horizons = hood.horizon_steps(config.steps)
    seeds = hood.seeds if config.noise > 0 else ()
    runs = tuple(
        simulate(
            config.landscape_obj(),
            config.specs(),
            starts,
            max(horizons),
            noise_std=config.noise,
            seed=seed,
            telemetry=telemetry,
        )
        for seed in (seeds or (config.seed,))
    )
    return starts, horizons, seeds, runs


@lru_cache(maxsize=64)
def _measure(config: PlaygroundConfig, hood: Neighbourhood, test: Test, telemetry: str) -> Measured:
    starts, horizons, seeds, runs = _runs(config, hood, telemetry)
    holds = np.zeros((len(runs), len(horizons), hood.grid * hood.grid), dtype=bool)
    for i, trs in enumerate(runs):
        for j, h in enumerate(horizons):
            result = np.asarray(test([truncate(tr, h) for tr in trs], h), dtype=bool)
            if result.shape != (starts.shape[0],):
                raise ValueError(f"a claim's test must return {starts.shape[0]} booleans")
            holds[i, j] = result
    holds = holds.reshape((*holds.shape[:2], hood.grid, hood.grid))
    holds.flags.writeable = False  # shared by every caller of the cache
    return Measured(holds, starts, horizons, seeds, hood)


def clear_caches() -> None:
    """Forget cached neighbourhood runs and measurements (benchmarks, tests)."""
    _runs.cache_clear()
    _measure.cache_clear()
