"""The Playground's scenarios: one-click setups, each with a claim measured around it.

A scenario's text states what its optimizers do, and that statement is a test: a
per-run check (:data:`vradam.app.claims.Test`) evaluated over a neighbourhood of the
preset (a grid of starts in a box the scenario declares, half and double the step
count, several noise seeds when noise is on). The text carries the measured frequency
in place of ``{measured}``; other numbers it quotes beside the claim (how often one
optimizer is first, say) are measured on the same runs and fill their own placeholders
(:class:`Quote`). Every claim holds in at least 80% of its neighbourhood
(``tests/test_playground.py``); ``what`` says what each claim measures, and which
oscillation measure it uses when it talks about oscillation.

Wherever a claim compares VRAdam with Adam, the scenario also runs "Adam at VRAdam's
η": Adam at VRAdam's mean effective rate over the steps the claim looks at, measured
from the preset start (:func:`vradam.app.playground.mean_effective_rate`), so that the
comparison separates *when* the gate lowers the rate from *how much* on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import landscapes
from vradam.app.claims import Measured, Neighbourhood, Test, measure
from vradam.app.playground import MATCHED_LABEL, PlaygroundConfig
from vradam.sim.engine import Trajectory, grad_and_loss
from vradam.sim.measures import upward_movement
from vradam.sim.unified import gate

__all__ = [
    "SCENARIOS",
    "Quote",
    "Scenario",
    "first_below",
    "gate_from_path",
    "left_at",
]


# ----------------------------------------------------------------------------- measures


def first_below(loss: np.ndarray, level: float) -> np.ndarray:
    """(N,) the first step at which the loss is below ``level`` (inf if never)."""
    hit = loss < level
    return np.where(hit.any(axis=1), hit.argmax(axis=1), np.inf)


def left_at(xy: np.ndarray, coord: int, distance: float) -> np.ndarray:
    """(N,) the first step with |coordinate| > distance (inf if never)."""
    out = np.abs(xy[:, :, coord]) > distance
    return np.where(out.any(axis=1), out.argmax(axis=1), np.inf)


def gate_from_path(tr: Trajectory, ls: landscapes.Landscape) -> np.ndarray:
    """(N, T) the velocity gate's η_t of a VRAdam or VRMomentum run, rebuilt from its path.

    η_t = α0 / (1 + min(β3‖v_t‖², α1)) with v_t = β1·v_{t−1} + (1 − β1)·∇f(θ_{t−1}), the
    gradients taken at the recorded positions: the same η_t as the engine's telemetry for
    a noiseless run without L2 decay and with a constant schedule (a test checks it). It
    lets a claim about η_t run on ``telemetry="path"``, about half the cost of "full".
    """
    xy = np.ascontiguousarray(tr.xy[:, :-1].transpose(2, 0, 1))  # (2, N, T) θ_0 … θ_{T−1}
    _, gx, gy = grad_and_loss(ls.fn, xy)
    T = xy.shape[2]
    c = tr.spec.coefficients(np.full(T, float(tr.spec.hyperparams["lr"])))
    v = np.zeros((2, xy.shape[1]))
    sq = np.empty(xy.shape[1:])
    for t in range(T):
        v *= c.a1[t]
        v[0] += c.b1[t] * gx[:, t]
        v[1] += c.b1[t] * gy[:, t]
        sq[:, t] = v[0] ** 2 + v[1] ** 2
    return gate(c.lr[None, :], sq, c.beta3[None, :], c.alpha1[None, :])


def _within(a: np.ndarray, b: np.ndarray, fraction: float) -> np.ndarray:
    """Two step counts within ``fraction`` of the smaller, or both inf (neither happened)."""
    with np.errstate(invalid="ignore"):
        close = np.abs(a - b) <= fraction * np.minimum(a, b)
    return close | (np.isinf(a) & np.isinf(b))


def _before(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a strictly before b, or neither happened (both inf): an order the run does not break."""
    return (a < b) | (np.isinf(a) & np.isinf(b))


def _thrown_out(loss: np.ndarray) -> np.ndarray:
    """(N,) the loss rose above 1e-4 after having been below 1e-8."""
    low = np.minimum.accumulate(loss, axis=1) < 1e-8
    return (low & (loss > 1e-4)).any(axis=1)


def _nearest(ends: np.ndarray, points) -> tuple[np.ndarray, np.ndarray]:
    """(N,) index of the nearest of ``points`` to each end point, and (N,) its distance."""
    P = np.asarray(points)
    d = np.linalg.norm(ends[:, None, :] - P[None], axis=2)
    return d.argmin(axis=1), d.min(axis=1)


def _period(xy: np.ndarray, *, max_period: int = 16, span: int = 40, tol: float = 1e-6):
    """(N,) the smallest p ≤ max_period with positions repeating every p steps over the last
    ``span`` steps (to ``tol``), 0 if none."""
    out = np.zeros(xy.shape[0], dtype=int)
    tail = xy[:, -span - 1 :]
    for p in range(max_period, 0, -1):
        back = xy[:, -span - 1 - p : xy.shape[1] - p]
        if back.shape[1] != tail.shape[1]:
            continue
        ok = np.all(np.abs(tail - back) < tol, axis=(1, 2))
        out = np.where(ok, p, out)
    return out


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Quote:
    """A number quoted beside the claim, measured on the same runs: ``{name}`` in the text
    becomes "in 84 of 147 runs (57%)", or with ``horizon`` (a multiple of the preset's
    steps) "from 25 of 49 starts (51%)" at that one step count."""

    name: str
    test: Test
    horizon: float | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    text: str  # the claim, with "{measured}" (and each quote's "{name}") to fill in
    config: PlaygroundConfig
    hood: Neighbourhood  # where the claim is measured, around config's start
    test: Test  # the claim, per run: test(trajectories cut to h steps, h) -> (N,) bool
    what: str  # what the claim measures (thresholds, the oscillation measure)
    quotes: tuple[Quote, ...] = ()
    telemetry: str = "path"  # "full" when a test reads η_t, ‖v‖² …

    def measure(self) -> Measured:
        """The claim over the neighbourhood (cached; about one run of 2T steps)."""
        return measure(self.config, self.hood, self.test, telemetry=self.telemetry)

    def quoted(self) -> dict[str, Measured]:
        out = {}
        for q in self.quotes:
            m = measure(self.config, self.hood, q.test, telemetry=self.telemetry)
            out[q.name] = m if q.horizon is None else m.at(q.horizon)
        return out

    def claim(self) -> str:
        """The text with the measured frequency (and quoted numbers) filled in."""
        numbers = {name: m.short() for name, m in self.quoted().items()}
        return self.text.format(measured=self.measure().text(), **numbers)


# ----------------------------------------------------------------------------- claims
# Each test receives the scenario's trajectories, in the order of its optimizers.


def _rosenbrock(trs: list[Trajectory], h: int) -> np.ndarray:
    adam, vr, matched = trs
    eta = gate_from_path(vr, landscapes.get("rosenbrock")) / vr.spec.hyperparams["lr"]
    dips = np.nanmin(eta[:, :50], axis=1) <= 0.5
    back = eta[:, -1] >= 0.9
    a, m = first_below(adam.loss, 1e-3), first_below(matched.loss, 1e-3)
    return dips & back & _within(a, m, 0.1)


def _rosenbrock_vr_first(trs, h):
    adam, vr, _ = trs
    return first_below(vr.loss, 1e-3) < first_below(adam.loss, 1e-3)


def _rosenbrock_vr_thrown(trs, h):
    return _thrown_out(trs[1].loss)


def _rosenbrock_adam_thrown(trs, h):
    return _thrown_out(trs[0].loss)


def _ravine(trs, h):
    adam, vr, matched = trs
    up_a, up_v, up_m = (upward_movement(t.loss) for t in trs)
    calmer = (up_v < 0.5 * up_a) & (up_v < up_m)
    slower = (vr.loss[:, -1] > adam.loss[:, -1]) & (vr.loss[:, -1] > matched.loss[:, -1])
    return calmer & slower


def _big_step(trs, h):
    ema, vr = trs
    blows_up = (ema.diverged_at >= 0) & (ema.diverged_at <= 3)
    bounded = (vr.diverged_at < 0) & (np.linalg.norm(vr.xy, axis=2).max(axis=1) < 25)
    unsettled = vr.loss[:, -51:].mean(axis=1) > vr.loss[:, 0]
    return blows_up & bounded & unsettled


def _big_step_cycle(trs, h):
    return _period(trs[1].xy) > 0  # with the main claim: its loss averages above the start's


HIMMELBLAU_SPLIT = ((3.584428, -1.848127), (3.0, 2.0))  # GD and momentum's, Adam and VRAdam's


def _himmelblau(trs, h):
    ends = [_nearest(t.xy[:, -1], HIMMELBLAU_SPLIT) for t in trs]
    (gd, dg), (mom, dm), (adam, da), (vr, dv) = ends
    near = np.maximum.reduce([dg, dm, da, dv]) < 0.1
    return (gd == 0) & (mom == 0) & (adam == 1) & (vr == 1) & near


def _saddle(trs, h):
    gd, adam, vr, rms, matched = (left_at(t.xy, 1, 1.0) for t in trs)
    order = _before(rms, adam) & _before(adam, vr) & _before(vr, gd)
    twice = 2 * adam <= gd
    return order & twice & _within(vr, matched, 0.25)


def _rastrigin(trs, h):
    gd, mom, adam, vr = trs
    pit = np.round(gd.xy[:, 0])  # the integer lattice point whose pit the run starts in

    def stays(t):
        return np.all(np.round(t.xy[:, -1]) == pit, axis=1)

    lower = mom.loss.min(axis=1) < gd.loss[:, -1]
    return ~stays(mom) & stays(gd) & stays(adam) & stays(vr) & lower


def _rastrigin_lower(trs, h):
    gd, mom, *_ = trs
    return mom.loss[:, -1] < gd.loss[:, -1]


def _beale(trs, h):
    gd, *others = trs
    return np.logical_and.reduce([t.loss[:, -1] < 0.1 * gd.loss[:, -1] for t in others])


# ----------------------------------------------------------------------------- scenarios

SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in [
        Scenario(
            "rosenbrock",
            "Rosenbrock's curved valley",
            "At α0 = 0.3 the full rate is too much for an adaptive step near the minimum, and "
            "whether VRAdam's gate (β3 = 0.005) keeps it there longer than Adam depends on the "
            "horizon: by step 2000 VRAdam has been thrown back out of the minimum {vr_thrown} "
            "and Adam {adam_thrown}; by step 3000 VRAdam {vr_thrown_3k} and Adam "
            "{adam_thrown_3k}. From the preset's own start VRAdam is thrown out near step 975, "
            "Adam not by step 1000. Which of the two reaches a loss of 10⁻³ first depends on "
            "the start as well: VRAdam is first {first}. On the way down the gate changes when "
            "the rate is low, not its average: VRAdam's rate dips below half of α0 in its "
            "first 50 steps, while it falls into the banana-shaped valley, and is back above "
            "0.9·α0 by the end, and Adam at VRAdam's mean rate over that descent (0.291) "
            "reaches 10⁻³ within 10% of Adam's step count: {measured}.",
            PlaygroundConfig(
                optimizers=(
                    "adam:lr=0.3",
                    "vradam:lr=0.3,beta3=0.005,weight_decay=0",
                    f"adam:lr=0.291@{MATCHED_LABEL}",
                ),
                steps=1000,
            ),
            Neighbourhood((0.3, 0.3), horizons=(0.5, 1.0, 2.0, 3.0)),
            _rosenbrock,
            "η_t: the gate's rate at each step; 'reaches 10⁻³' is the first step with loss < 10⁻³ "
            "(within 10%: the two step counts differ by at most a tenth, or neither gets "
            "there); the matched rate is VRAdam's mean η_t over its steps until its loss "
            "falls below 10⁻³ from the preset start. Thrown out: the loss rises above 10⁻⁴ "
            "after having been below 10⁻⁸.",
            quotes=(
                Quote("first", _rosenbrock_vr_first),
                Quote("vr_thrown", _rosenbrock_vr_thrown, horizon=2.0),
                Quote("adam_thrown", _rosenbrock_adam_thrown, horizon=2.0),
                Quote("vr_thrown_3k", _rosenbrock_vr_thrown, horizon=3.0),
                Quote("adam_thrown_3k", _rosenbrock_adam_thrown, horizon=3.0),
            ),
        ),
        Scenario(
            "ravine",
            "A ravine where Adam oscillates",
            "A rotated ravine 25 times steeper across than along. At α0 = 0.3 Adam bounces "
            "from wall to wall. VRAdam reads the bouncing as velocity and cuts its step: its "
            "loss moves up less than half as much as Adam's, and less than that of Adam at "
            "VRAdam's mean rate over the run (0.214); the calm costs speed, as Adam and the "
            "matched Adam both end lower than VRAdam: {measured}.",
            PlaygroundConfig(
                landscape="ill_conditioned",
                landscape_params=(("condition", 25.0), ("angle", 30.0)),
                optimizers=(
                    "adam:lr=0.3",
                    "vradam:lr=0.3,beta3=0.021,weight_decay=0",
                    f"adam:lr=0.214@{MATCHED_LABEL}",
                ),
                steps=300,
            ),
            Neighbourhood((0.3, 0.3)),
            _ravine,
            "Oscillation is measured as upward movement: the sum over steps of the rises of "
            "log loss, Σ max(0, Δ log f) (a steady descent scores 0). 'Ends lower' compares "
            "the last step's loss. The matched rate is VRAdam's mean η_t over the preset's "
            "300 steps from its start.",
        ),
        Scenario(
            "big_step",
            "A step too large for momentum",
            "On the bowl x² + y² the curvature is 2, so EMA momentum (β1 = 0.9) is stable only "
            "for α0 < 19. At α0 = 25 it blows up within 3 steps. VRMomentum, the same update "
            "with the velocity gate, stays bounded (within 25 of the minimum, about 8 times "
            "its starting distance) but does not converge: its loss over the last 50 steps "
            "averages above its starting loss, {measured}. After an irregular phase it falls "
            "into a cycle, by step 1200 {cycle}: a limit cycle, but not a small oscillation "
            "around the minimum.",
            PlaygroundConfig(
                landscape="quadratic",
                optimizers=(
                    "vrmomentum:lr=25,beta3=0@EMA momentum (β₃ = 0)",
                    "vrmomentum:lr=25,beta3=1",
                ),
                steps=600,
            ),
            Neighbourhood((0.3, 0.3)),
            _big_step,
            "Blows up: the engine's divergence (non-finite, or outside the domain enlarged "
            "10×) by step 3. Not converging: the mean loss over the last 50 steps is above the "
            "start's loss. A cycle: positions repeat (to 10⁻⁶) with a period of at most 16 "
            "steps over the last 40 steps.",
            quotes=(Quote("cycle", _big_step_cycle, horizon=2.0),),
        ),
        Scenario(
            "himmelblau",
            "Himmelblau's four basins",
            "Four minima of equal depth. At this start the gradient points almost straight "
            "along +x (its y part is 20 times smaller), so gradient descent and momentum roll "
            "to the minimum at (3.58, −1.85); Adam and VRAdam divide each coordinate by its "
            "own scale, so their first steps go diagonally, up and to the right, and they end "
            "at (3, 2): {measured}. Click the map to try other starts: nearer the middle the "
            "basins interleave and the split changes from one start to the next.",
            PlaygroundConfig(
                landscape="himmelblau",
                start=(1.2, -0.9),
                optimizers=(
                    "gd:lr=0.01",
                    "momentum:lr=0.003",
                    "adam:lr=0.1",
                    "vradam:lr=0.1,beta3=0.0008,weight_decay=0",
                ),
                steps=300,
            ),
            Neighbourhood((0.3, 0.3)),
            _himmelblau,
            "'Ends at' a minimum: the last position is within 0.1 of it.",
        ),
        Scenario(
            "saddle",
            "Escaping a saddle",
            "The run starts on the ridge of x² − y², a hair away from the line y = 0. Gradient "
            "descent needs the tiny push to grow geometrically, while RMSprop and Adam "
            "normalise it: RMSprop leaves first, then Adam, then VRAdam, then GD, and Adam at "
            "least twice as fast as GD. VRAdam's gate slows its exit as it speeds up: Adam at "
            "VRAdam's mean rate until it leaves (0.0081) leaves within a quarter of VRAdam's "
            "step count. Both hold {measured}.",
            PlaygroundConfig(
                landscape="saddle",
                optimizers=(
                    "gd:lr=0.02",
                    "adam:lr=0.02",
                    "vradam:lr=0.02,beta3=0.2,weight_decay=0",
                    "rmsprop:lr=0.02",
                    f"adam:lr=0.00812@{MATCHED_LABEL}",
                ),
                steps=150,
            ),
            Neighbourhood((0.2, 0.005)),
            _saddle,
            "Leaving: the first step with |y| > 1 (runs that have not left by the horizon "
            "count as not yet, and the order holds if neither has left). The matched rate is "
            "VRAdam's mean η_t over its steps until it leaves, from the preset start.",
        ),
        Scenario(
            "rastrigin_noise",
            "Rastrigin with noisy gradients",
            "Sixteen starts around one point of a landscape covered in local minima, with "
            "Gaussian noise (std 30) on every gradient. The noise shakes momentum out of the "
            "pit it starts in, and on the way it visits lower ground than GD ends on, while "
            "GD, Adam and VRAdam, fed the same noise, stay in that pit: {measured}. Hopping is "
            "not always descending: momentum ends lower than GD {lower}. Set the noise to 0 to "
            "compare.",
            PlaygroundConfig(
                landscape="rastrigin",
                start_mode="cloud",
                n_starts=16,
                optimizers=(
                    "gd:lr=0.002",
                    "momentum:lr=0.002",
                    "adam:lr=0.1",
                    "vradam:lr=0.1,beta3=0.004,weight_decay=0",
                ),
                steps=300,
                noise=30.0,
            ),
            Neighbourhood((0.15, 0.15)),
            _rastrigin,
            "A pit: the basin of the integer point nearest the position (Rastrigin's local "
            "minima sit near the integer lattice). 'Visits lower ground': momentum's lowest "
            "loss over the run is below GD's last loss.",
            quotes=(Quote("lower", _rastrigin_lower),),
        ),
        Scenario(
            "beale",
            "Beale's plateaus",
            "Gradients on Beale's function range over orders of magnitude. Plain gradient "
            "descent, with a step small enough for the steep walls, crawls across the "
            "plateau: its loss stays more than ten times those of momentum, which gathers "
            "speed, and of Adam and VRAdam, which rescale the gradient, {measured}.",
            PlaygroundConfig(
                landscape="beale",
                optimizers=(
                    "gd:lr=0.001",
                    "momentum:lr=0.001",
                    "adam:lr=0.1",
                    "vradam:lr=0.1,beta3=0.006,weight_decay=0",
                ),
                steps=500,
            ),
            Neighbourhood((0.3, 0.3)),
            _beale,
            "The loss at the horizon's last step, compared with GD's.",
        ),
    ]
}
