"""Stability maps and switching experiments (docs/theory.md §2 and §4).

* :func:`momentum_map`: a grid of (α0, curvature L) on the 1-D quadratic ½Lx² for GD,
  torch's heavy ball, EMA momentum (VRMomentum with β3 = 0) and VRMomentum, classified
  as converged, bounded but not converged (the limit cycle), or diverged. The
  recurrences are the optimizers' own updates on a scalar, vectorised over the grid;
  a test checks them against the engine.
* :func:`adam_map`: Adam-family optimizers do not diverge on quadratics, so their map
  is over (α0, β3) on a landscape, coloured by oscillation and final loss (engine).
* :func:`basin_map`: which minimum each start of a grid reaches (engine, path telemetry).
* :func:`gates_and_switching`: the scalar VR gate, a per-coordinate gate, and
  adversarial switching of step sizes, side by side on a rotated quadratic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vradam.sim.optimizers import REGISTRY, OptimizerSpec, get_info
from vradam.sim.unified import gate, linear_threshold

CONVERGED, BOUNDED, DIVERGED, SLOW = 0, 1, 2, 3
CLASS_NAMES = {
    CONVERGED: "converged",
    BOUNDED: "bounded, not converged (limit cycle)",
    DIVERGED: "diverged",
    SLOW: "still converging (too few steps)",
}


@dataclass(frozen=True)
class Kind:
    """A named 1-D configuration of a registered optimizer: its record's update on ½Lx²."""

    key: str  # the optimizer record
    label: str
    gate: bool = True  # False: β3 = 0 (the record's update with the gate off)


# the maps' named configurations; any registered optimizer's key is a kind as well
KINDS = {
    "gd": Kind("gd", "GD"),
    "momentum": Kind("momentum", "heavy ball (torch SGD momentum)"),
    "ema": Kind("vrmomentum", "EMA momentum (VRMomentum, β₃ = 0)", gate=False),
    "vrmomentum": Kind("vrmomentum", "VRMomentum"),
}
# a map's β is the decay of the record's velocity: the first of these it has
DECAY_NAMES = ("momentum", "beta1")


def kind_spec(kind: str, beta: float, beta3: float = 0.0, alpha1: float = 10.0) -> OptimizerSpec:
    """The optimizer spec of ``kind`` with velocity decay β (and the gate's β3, α1)."""
    if kind not in KINDS and kind not in REGISTRY:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)} or an optimizer key")
    k = KINDS.get(kind) or Kind(kind, REGISTRY[kind].name)
    info = get_info(k.key)
    names = {hp.name for hp in info.hyperparams}
    decay = [n for n in DECAY_NAMES if n in names]
    values = {decay[0]: beta} if decay else {}
    if info.velocity_regularized:
        values.update(beta3=beta3 if k.gate else 0.0, alpha1=alpha1)
    if "weight_decay" in names:
        values["weight_decay"] = 0.0
    return OptimizerSpec(k.key, values)


class Recurrence:
    """A record's update on ½Lx², vectorised over cells: the engine's unified form
    (vradam.sim.unified.Coefficients) on a scalar, step by step. ``step`` takes and
    returns the state (x, v, m); ``rate`` is the step size it used (η_t, gated)."""

    def __init__(self, spec: OptimizerSpec, steps: int) -> None:
        self.c = spec.coefficients(np.ones(max(int(steps), 1)))
        self.velocity = spec.info.velocity_state is not None or spec.info.velocity_regularized
        self.moment = bool(self.c.b2.any())

    def limit(self) -> float:
        """The largest stable α0·L once the coefficients have settled (docs/theory.md §2)."""
        c = self.c
        return float(linear_threshold(1.0, c.c1[-1], c.c2[-1], c.a1[-1], c.b1[-1]))

    def step(self, t, x, v, m, eta, L):
        c = self.c
        g = L * x
        if c.wd_l2[t]:
            g = g + c.wd_l2[t] * x
        if self.velocity:
            v_new = c.a1[t] * v + c.b1[t] * g
            same = c.c1[t] == c.a1[t] and c.c2[t] == c.b1[t]  # the direction is the new v
            num = v_new if same else c.c1[t] * v + c.c2[t] * g
            v = v_new
        else:
            num = c.c2[t] * g
        if self.moment:
            m = c.a2[t] * m + c.b2[t] * (g * g)
            num = num / (np.sqrt(c.c3[t] * m) + c.e[t])
        elif c.e[t] != 1:
            num = num / c.e[t]
        if c.sign:
            num = np.sign(num)
        rate = eta * c.lr[t]
        if c.beta3[t]:
            rate = gate(rate, v * v, c.beta3[t], c.alpha1[t])
        if c.wd_dec[t]:
            num = num + c.wd_dec[t] * x
        return x - rate * num, v, m, rate


def theory_limit(kind: str, beta: float) -> float:
    """The largest stable α0·L on a quadratic (docs/theory.md §2), from the record's
    coefficients: 2 (GD), 2(1+μ) (heavy ball), 2(1+β)/(1−β) (EMA momentum; VRMomentum's
    α0 line, where the gate is released)."""
    return Recurrence(kind_spec(kind, beta), 1).limit()


@dataclass
class MomentumMap:
    kind: str
    lrs: np.ndarray  # (A,)
    curvatures: np.ndarray  # (C,)
    classes: np.ndarray  # (C, A) CONVERGED / BOUNDED / DIVERGED / SLOW
    steps_to_tol: np.ndarray  # (C, A), −1 where never
    final: np.ndarray  # (C, A) |x_T| (inf when diverged)
    limit: float  # the theory's α0·L line
    # the run's settings (beta, beta3, alpha1, steps, x0, tol), so that cells can be rerun
    settings: dict = field(default_factory=dict)

    @property
    def below_line(self) -> np.ndarray:
        """(C, A) True where α0·L < the line: where the theory promises convergence."""
        return self.curvatures[:, None] * self.lrs[None, :] < self.limit

    @property
    def gated(self) -> bool:
        """Whether the map's optimizer has the velocity gate on (β3 > 0)."""
        k = KINDS.get(self.kind) or Kind(self.kind, REGISTRY[self.kind].name)
        return k.gate and get_info(k.key).velocity_regularized and self.settings["beta3"] > 0


def _recurrence(kind: str, settings: dict, steps: int) -> Recurrence:
    spec = kind_spec(kind, settings["beta"], settings["beta3"], settings["alpha1"])
    return Recurrence(spec, steps)


def momentum_map(
    kind: str, lrs, curvatures, *, beta: float = 0.9, beta3: float = 1.0, alpha1: float = 10.0,
    steps: int = 400, x0: float = 1.0, tol: float = 1e-6, blowup: float = 1e8,
) -> MomentumMap:  # fmt: skip
    """Run ``kind`` from x0 on ½Lx² for every (L, α0) of the grid at once."""
    settings = dict(beta=beta, beta3=beta3, alpha1=alpha1, steps=steps, x0=x0, tol=tol)
    run = _recurrence(kind, settings, steps)
    lrs = np.asarray(lrs, dtype=np.float64)
    L = np.asarray(curvatures, dtype=np.float64)[:, None]
    x = np.full((L.shape[0], lrs.size), float(x0))
    v, m = np.zeros_like(x), np.zeros_like(x)
    eta = np.broadcast_to(lrs, x.shape)
    dead = np.zeros(x.shape, dtype=bool)
    last_big = np.full(x.shape, -1)
    # the largest |x| + |v| over two windows: 40–50 % and 90–100 % of the run
    mid_peak, late_peak = np.zeros(x.shape), np.zeros(x.shape)
    mid = range(int(0.4 * steps), max(int(0.5 * steps), int(0.4 * steps) + 1))
    late = range(int(0.9 * steps), steps)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            x, v, m, _ = run.step(t, x, v, m, eta, L)
            mag = np.abs(x) + np.abs(v)
            dead |= ~np.isfinite(mag) | (mag > blowup * abs(x0))
            last_big = np.where(mag >= tol * abs(x0), t, last_big)
            if t in mid:
                mid_peak = np.fmax(mid_peak, mag)
            if t in late:
                late_peak = np.fmax(late_peak, mag)
    final = np.where(dead, np.inf, np.abs(x))
    converged = ~dead & (last_big < steps - 1)
    # not converged, not diverged: still shrinking (slow), or swinging without decay
    decaying = late_peak < 0.5 * mid_peak
    classes = np.where(
        dead, DIVERGED, np.where(converged, CONVERGED, np.where(decaying, SLOW, BOUNDED))
    )
    steps_to_tol = np.where(converged, last_big + 1, -1)
    return MomentumMap(kind, lrs, L[:, 0], classes, steps_to_tol, final, run.limit(), settings)


@dataclass
class Trace1D:
    """One run of ``kind`` on ½Lx²: the state after each update and the rate it used."""

    kind: str
    lr: float
    curvature: float
    x: np.ndarray  # (T + 1,) x_0 … x_T
    v: np.ndarray  # (T + 1,) velocity (EMA / buffer), v_0 = 0
    rate: np.ndarray  # (T,) the step size of update t + 1 (η_t for VRMomentum)


def trace_1d(
    kind: str, lr: float, curvature: float, *, beta: float = 0.9, beta3: float = 1.0,
    alpha1: float = 10.0, steps: int = 400, x0: float = 1.0,
) -> Trace1D:  # fmt: skip
    """The run of one cell of :func:`momentum_map`, step by step (the same recurrence)."""
    run = _recurrence(kind, dict(beta=beta, beta3=beta3, alpha1=alpha1), steps)
    xs, vs, rates = np.empty(steps + 1), np.empty(steps + 1), np.empty(steps)
    x, v, m = float(x0), 0.0, 0.0
    xs[0], vs[0] = x, v
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            x, v, m, rate = run.step(t, x, v, m, lr, curvature)
            xs[t + 1], vs[t + 1], rates[t] = x, v, rate
    return Trace1D(kind, float(lr), float(curvature), xs, vs, rates)


BELOW_LINE_STEPS = 20_000  # the long rerun of the cells below the line
PERTURBATION = 1e-3  # α0 × (1 ± this): does a cell's failure survive a small change of α0?


@dataclass
class BelowLine:
    """VRMomentum cells *below* the line α0·L < B(β) that do not converge.

    Theorem 4.1 (as the paper states it) promises convergence there. The map's cells below
    the line that had not converged within the map's steps are rerun for ``steps`` (a much
    longer horizon) from the map's start x0, with EMA momentum (β3 = 0) at the same (α0, L)
    beside them. The cells still failing are then rerun with α0 × (1 ± PERTURBATION) and
    from x0/2 and 2·x0, to say how much the failure depends on the exact cell.
    """

    map_steps: int  # the map's horizon
    steps: int  # the long rerun's horizon
    x0: float
    rows: np.ndarray  # (K,) curvature index into the map
    cols: np.ndarray  # (K,) α0 index into the map
    lrs: np.ndarray  # (K,)
    curvatures: np.ndarray  # (K,)
    converged: np.ndarray  # (K,) VRMomentum converged within ``steps``
    diverged: np.ndarray  # (K,)
    ema_converged: np.ndarray  # (K,) EMA momentum at the same (α0, L) converged
    amplitude: np.ndarray  # (K,) max |x| over the last ``tail`` steps of the rerun
    period: np.ndarray  # (K,) smallest period ≤ max_period of the tail's orbit, −1 if none
    robust: np.ndarray  # (K,) also fails at α0 × (1 − PERTURBATION) and × (1 + PERTURBATION)
    fails_from: dict[float, np.ndarray]  # other start → (K,) fails from there too
    limit: float
    shape: tuple[int, int]  # the map's (C, A)

    @property
    def failing(self) -> np.ndarray:
        """(K,) still neither converged nor diverged after the long rerun."""
        return ~self.converged & ~self.diverged

    def mask(self) -> np.ndarray:
        """(C, A) True on the map's cells below the line that never converge."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.rows[self.failing], self.cols[self.failing]] = True
        return out

    def examples(self) -> np.ndarray:
        """Failing cells whose failure survives α0 × (1 ± PERTURBATION), furthest below the
        line (smallest α0·L) first: the ones worth opening, and linking to (the Playground
        rounds α0 to 6 digits)."""
        idx = np.flatnonzero(self.failing & self.robust)
        return idx[np.argsort(self.lrs[idx] * self.curvatures[idx], kind="stable")]

    def example(self) -> int:
        """The robust failing cell furthest below the line, −1 if none."""
        idx = self.examples()
        return int(idx[0]) if idx.size else -1


CHECKPOINT = 1000  # the long rerun drops settled cells every this many steps


def _long_run(kind, lrs, L, settings, steps, *, x0=None, tail=96, max_period=32):
    """Rerun cells (1-D arrays) below the line for ``steps``.

    Returns (converged, diverged, tail amplitude, period). A cell whose |x| + |v| is below
    tol at a checkpoint counts as converged and is dropped: below the line the update near
    0 is the stable linear one (the gate is released), so it stays converged.
    """
    x0 = float(settings["x0"] if x0 is None else x0)
    n = lrs.size
    x, v = np.full(n, x0), np.zeros(n)
    converged, diverged = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    m = np.zeros(n)
    hist = np.zeros((tail, n))
    tol = settings["tol"] * abs(x0)
    run = _recurrence(kind, settings, steps)
    active, t = np.arange(n), 0
    with np.errstate(over="ignore", invalid="ignore"):
        while t < steps and active.size:
            xa, va, ma, la, ca = x[active], v[active], m[active], lrs[active], L[active]
            for _ in range(min(CHECKPOINT, steps - t)):
                xa, va, ma, _ = run.step(t, xa, va, ma, la, ca)
                if t >= steps - tail:
                    hist[t - (steps - tail), active] = xa
                t += 1
            x[active], v[active], m[active] = xa, va, ma
            mag = np.abs(xa) + np.abs(va)
            dead = ~np.isfinite(mag) | (mag > 1e8 * abs(x0))
            done = ~dead & (mag < tol)
            diverged[active[dead]], converged[active[done]] = True, True
            active = active[~dead & ~done]
    failing = ~converged & ~diverged
    amplitude = np.where(failing, np.abs(hist).max(axis=0), 0.0)
    amplitude[diverged] = np.inf
    period = np.full(n, -1)
    scale = np.maximum(amplitude, 1e-300)
    for p in range(max_period, 0, -1):  # the smallest period wins
        same = np.all(np.abs(hist[p:] - hist[:-p]) <= 1e-6 * scale, axis=0)
        period = np.where(same & failing, p, period)
    return converged, diverged, amplitude, period


def below_line_failures(m: MomentumMap, *, steps: int = BELOW_LINE_STEPS) -> BelowLine:
    """Rerun the gated map's cells below the line that did not converge, for ``steps``,
    beside the same optimizer with the gate off (β3 = 0)."""
    if not m.gated:
        raise ValueError("below-the-line failures are measured on a gated (VRMomentum) map")
    st = m.settings
    rows, cols = np.nonzero(m.below_line & (m.classes != CONVERGED))
    lrs, L = m.lrs[cols], m.curvatures[rows]
    conv, div, amp, period = _long_run(m.kind, lrs, L, st, steps)
    ema_conv, *_ = _long_run(m.kind, lrs, L, {**st, "beta3": 0.0}, steps, max_period=1)
    fail = ~conv & ~div
    f = np.flatnonzero(fail)

    def fails(lr_factor: float = 1.0, x0: float | None = None) -> np.ndarray:
        out = np.zeros(lrs.size, dtype=bool)
        c, d, *_ = _long_run(m.kind, lrs[f] * lr_factor, L[f], st, steps, x0=x0,
                             max_period=1)  # fmt: skip
        out[f] = ~c & ~d
        return out

    robust = fails(1 - PERTURBATION) & fails(1 + PERTURBATION)
    x0 = float(st["x0"])
    fails_from = {x0 * k: fails(x0=x0 * k) for k in (0.5, 2.0)}
    return BelowLine(st["steps"], steps, x0, rows, cols, lrs, L, conv, div, ema_conv, amp,
                     period, robust, fails_from, m.limit, m.classes.shape)  # fmt: skip


RATE_BANDS = ((0.5, 1.0), (0.25, 0.5), (0.0, 0.25))  # α0·L as a fraction of the line


def failure_rates(
    m: MomentumMap, b: BelowLine, bands=RATE_BANDS, max_lr: float | None = None
) -> list[tuple[float, float, int, int]]:
    """Where below the line the gate fails, as rates: for each band [lo, hi) of α0·L over
    the line, (lo, hi, cells of the band that never converge, cells of the band on the map),
    keeping only α0 ≤ ``max_lr`` when given. A count over every cell below the line hides
    that the failures sit in the band just below it."""
    ratio = m.curvatures[:, None] * m.lrs[None, :] / m.limit
    keep = np.ones(ratio.shape, dtype=bool)
    if max_lr is not None:
        keep &= m.lrs[None, :] <= max_lr
    failing = b.mask()
    out = []
    for lo, hi in bands:
        cells = (ratio >= lo) & (ratio < hi) & keep
        out.append((lo, hi, int((failing & cells).sum()), int(cells.sum())))
    return out


# ----------------------------------------------------------------------------- Adam family


@dataclass
class AdamMap:
    lrs: np.ndarray  # (A,)
    beta3s: np.ndarray  # (B,), beta3s[0] == 0 is Adam
    final_loss: np.ndarray  # (B, A) mean loss − f* over the last quarter
    swing: np.ndarray  # (B, A) max − min of the loss over the last quarter
    increases: np.ndarray  # (B, A) how many steps the loss went up


def adam_map(landscape, lrs, beta3s, *, steps: int = 300, start=None) -> AdamMap:
    """VRAdam (no weight decay) on a grid of (β3, α0); β3 = 0 is exactly Adam."""
    from vradam.sim.engine import simulate

    lrs = np.asarray(lrs, dtype=np.float64)
    beta3s = np.asarray(beta3s, dtype=np.float64)
    specs = [f"vradam:lr={a:.6g},beta3={b:.6g},weight_decay=0" for b in beta3s for a in lrs]
    start = landscape.start if start is None else start
    trs = simulate(landscape, specs, [start], steps, telemetry="path")
    f_star = landscape.min_value if landscape.min_value is not None else 0.0
    quarter = max(1, steps // 4)
    tails = np.stack([tr.loss[0, -quarter:] for tr in trs]) - f_star  # (B·A, q)
    losses = np.stack([tr.loss[0] for tr in trs])
    with np.errstate(invalid="ignore"):
        final = np.nanmean(tails, axis=1)
        swing = np.nanmax(tails, axis=1) - np.nanmin(tails, axis=1)
        increases = (np.diff(losses, axis=1) > 0).sum(axis=1)
    diverged = np.array([tr.diverged_at[0] >= 0 for tr in trs])
    final[diverged], swing[diverged] = np.inf, np.inf
    shape = (beta3s.size, lrs.size)
    return AdamMap(lrs, beta3s, final.reshape(shape), swing.reshape(shape),
                   increases.reshape(shape))  # fmt: skip


# ----------------------------------------------------------------------------- basins


@dataclass
class BasinMap:
    xs: np.ndarray  # (n,)
    ys: np.ndarray  # (n,)
    labels: list[str]  # one per optimizer
    basins: np.ndarray  # (K, n, n): minimum index, −1 not settled, −2 diverged


def basin_map(landscape, specs, *, n: int = 60, steps: int = 300, radius: float = 1e-2):
    """Which known minimum each start of an n × n grid reaches, per optimizer."""
    from vradam.sim.engine import simulate

    (x0, x1), (y0, y1) = landscape.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    starts = np.stack([X.ravel(), Y.ravel()], axis=1)
    trs = simulate(landscape, specs, starts, steps, telemetry="path")
    out = []
    for tr in trs:
        idx, dist = landscape.nearest_minimum(tr.xy[:, -1])
        label = np.where(dist < radius, idx, -1)
        label = np.where(tr.diverged_at >= 0, -2, label)
        out.append(label.reshape(n, n))
    return BasinMap(xs, ys, [tr.label for tr in trs], np.stack(out))


# ----------------------------------------------------------------------------- switching


def rotated_quadratic(kappa: float, theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0, kappa]) @ R.T


def step_matrix(D: np.ndarray, H: np.ndarray, beta: float) -> np.ndarray:
    """One step of EMA momentum with preconditioner D on ½xᵀHx, state (x, v).

    v' = βv + (1−β)Hx and x' = x − Dv'.
    """
    n = H.shape[0]
    eye = np.eye(n)
    return np.block([[eye - (1 - beta) * D @ H, -beta * D], [(1 - beta) * H, beta * eye]])


def spectral_radius(A: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(A))))


SCALAR_GATE = "scalar VR gate (VRMomentum)"
COORDINATE_GATE = "per-coordinate gate"
COORDINATE_SWITCHING = "adversarial per-coordinate switching"
SAME_RATES_SWITCHING = "adversarial scalar switching, same two rates (1-D, L = κ)"
SCALAR_SWITCHING = "adversarial scalar switching (1-D, η = 30, 30/11)"


@dataclass
class SwitchingDemo:
    steps: np.ndarray
    norms: dict[str, np.ndarray]  # name → ‖(x, v)‖ over the steps
    radii: dict[str, float]  # per-step growth factor (geometric mean over the run)
    settings: dict


def gates_and_switching(
    *, kappa: float = 5.0, theta: float = 0.1, beta: float = 0.9, eta_hi: float = 7.52,
    eta_lo: float = 0.05, beta3: float = 1.0, steps: int = 120,
) -> SwitchingDemo:  # fmt: skip
    """Five runs on the rotated quadratic ½xᵀHx (eigenvalues 1 and κ) or one of its
    eigendirections.

    * the scalar VR gate (VRMomentum, α0 = eta_hi, floor eta_lo), state-dependent;
    * a per-coordinate gate: the same rule applied to each coordinate's own velocity;
    * adversarial per-coordinate switching: diag(eta_hi, eta_lo) and diag(eta_lo,
      eta_hi) alternate — each alone is a stable iteration when eta_hi·κ < B(β);
    * adversarial scalar switching between the *same* two rates, eta_hi and eta_lo, on
      the stiff eigendirection L = κ (a 1-D run): what a scalar gate sees along one
      eigenvector when it alternates between the two rates;
    * adversarial scalar switching on the 1-D quadratic L = 1 (docs/theory.md §4):
      η alternates between 30 and 30/11, both stable alone.
    """
    H = rotated_quadratic(kappa, theta)
    alpha1 = eta_hi / eta_lo - 1
    start = np.array([1.0, 0.5, 0.0, 0.0])
    runs: dict[str, list[float]] = {}

    def gated(per_coordinate: bool) -> list[float]:
        x, v = start[:2].copy(), start[2:].copy()
        out = []
        for _ in range(steps):
            v = beta * v + (1 - beta) * H @ x
            gate = beta3 * (v * v if per_coordinate else np.full(2, v @ v))
            x = x - eta_hi / (1 + np.minimum(gate, alpha1)) * v
            out.append(float(np.hypot(np.linalg.norm(x), np.linalg.norm(v))))
        return out

    def alternate(A: np.ndarray, B: np.ndarray, z: np.ndarray) -> list[float]:
        out = []
        for t in range(steps):
            z = (A if t % 2 == 0 else B) @ z
            out.append(float(np.linalg.norm(z)))
        return out

    runs[SCALAR_GATE] = gated(False)
    runs[COORDINATE_GATE] = gated(True)
    M1 = step_matrix(np.diag([eta_hi, eta_lo]), H, beta)
    M2 = step_matrix(np.diag([eta_lo, eta_hi]), H, beta)
    runs[COORDINATE_SWITCHING] = alternate(M1, M2, start.copy())
    stiff = np.array([[float(kappa)]])
    K1 = step_matrix(np.array([[eta_hi]]), stiff, beta)
    K2 = step_matrix(np.array([[eta_lo]]), stiff, beta)
    runs[SAME_RATES_SWITCHING] = alternate(K1, K2, np.array([1.0, 0.0]))
    S1 = step_matrix(np.array([[30.0]]), np.array([[1.0]]), beta)
    S2 = step_matrix(np.array([[30.0 / 11]]), np.array([[1.0]]), beta)
    runs[SCALAR_SWITCHING] = alternate(S1, S2, np.array([1.0, 0.0]))
    norms = {k: np.asarray(v) for k, v in runs.items()}
    radii = {k: float((v[-1] / v[0]) ** (1 / (len(v) - 1))) for k, v in norms.items()}
    settings = dict(
        kappa=kappa, theta=theta, beta=beta, eta_hi=eta_hi, eta_lo=eta_lo, beta3=beta3,
        alpha1=alpha1, limit=theory_limit("ema", beta),
        rho_each_coordinate_config=max(spectral_radius(M1), spectral_radius(M2)),
        rho_each_scalar_step=max(spectral_radius(S1), spectral_radius(S2)),
        rho_each_same_rate=max(spectral_radius(K1), spectral_radius(K2)),
        growth_per_pair_coordinate=spectral_radius(M2 @ M1),
        growth_per_pair_scalar=spectral_radius(S2 @ S1),
        growth_per_pair_same_rates=spectral_radius(K2 @ K1),
    )  # fmt: skip
    return SwitchingDemo(np.arange(1, steps + 1), norms, radii, settings)
