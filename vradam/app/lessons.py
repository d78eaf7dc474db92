"""Guided lessons for the classroom: a question, a preset, what to look for, an exercise.

Each lesson opens one page of the app with the right settings through that page's
shareable URL (``page`` and ``query``), and carries two functions:

* ``check()`` measures the lesson's claim on exactly the run the preset opens and
  returns a :class:`Claim` (the tests assert ``holds`` for every lesson);
* ``explore(value)`` runs the "try this" exercise for one value of its slider and
  returns a small figure and a one-line result, shown on the lesson's own screen.

No streamlit here: the Lessons page (``vradam.app.ui.lessons``) renders these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import landscapes
from vradam.app.figures import playground as plots
from vradam.app.figures.common import as_list, assign_colors, background, sig_list
from vradam.app.playground import PlaygroundConfig, oscillations, run

__all__ = ["LESSONS", "PAGES", "Claim", "Exercise", "Lesson"]

PAGES = {
    "playground": ("pages/playground.py", "Playground"),
    "edge_of_stability": ("pages/eos.py", "Edge of stability"),
    "physics": ("pages/physics.py", "Physics"),
}


@dataclass(frozen=True)
class Claim:
    holds: bool
    text: str  # the claim with the measured numbers, for the answer box
    numbers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Exercise:
    label: str  # the slider's label
    options: tuple[float, ...]
    default: float


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    question: str
    page: str  # a key of PAGES
    query: dict  # the page's URL query: the preset
    look_for: str
    try_this: str
    answer: str
    exercise: Exercise
    check: Callable[[], Claim] = field(compare=False, repr=False)
    explore: Callable[[float], tuple[dict, str]] = field(compare=False, repr=False)


# ----------------------------------------------------------------------------- helpers


def _race(config: PlaygroundConfig, highlight=None) -> tuple[list, dict]:
    trs = run(config)
    ls = config.landscape_obj()
    colors = assign_colors(config.specs())
    fig = plots.path_figure(ls, trs, colors, background(ls, n_image=160, n_contour=60),
                            highlight=highlight, height=340)  # fmt: skip
    return trs, fig


def _fate(tr) -> str:
    if tr.diverged_at[0] >= 0:
        return f"diverged at step {int(tr.diverged_at[0])}"
    if tr.converged_at[0] >= 0:
        return f"converged at step {int(tr.converged_at[0])}"
    return f"ended at loss {tr.loss[0, -1]:.2g}"


def _playground_lesson(
    *, key, title, question, config: PlaygroundConfig, look_for, try_this, answer,
    exercise: Exercise, vary: Callable[[float], PlaygroundConfig],
    claim: Callable[[list], Claim], result: Callable[[list, float], str],
) -> Lesson:  # fmt: skip
    def explore(value: float) -> tuple[dict, str]:
        trs, fig = _race(vary(value))
        return fig, result(trs, value)

    return Lesson(key, title, question, "playground", config.to_query(), look_for, try_this,
                  answer, exercise, check=lambda: claim(run(config)), explore=explore)  # fmt: skip


# ----------------------------------------------------------------------------- 1 step size

_BOWL = "quadratic"  # f = x² + y²: curvature L = 2 in every direction, so GD needs α0 < 1


def _gd_bowl(alpha0: float, steps: int = 60) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=_BOWL, optimizers=(f"gd:lr={alpha0:g}",), steps=steps)


def _step_size_claim(trs) -> Claim:
    safe, big = trs
    no_rise = oscillations(safe.loss[0]) == 0
    holds = safe.diverged_at[0] < 0 <= big.diverged_at[0] and safe.loss[0, -1] < 1e-8 and no_rise
    return Claim(
        holds,
        f"At α₀·L = 1.8, GD's loss fell to {safe.loss[0, -1]:.1e} without a single rise; at "
        f"α₀·L = 2.1 every step overshoots by 10 % more than the last and the run "
        f"{_fate(big)}.",
        {"safe_final_loss": float(safe.loss[0, -1]), "big_diverged_at": int(big.diverged_at[0])},
    )


STEP_SIZE = _playground_lesson(
    key="step_size",
    title="Step size and divergence",
    question="Gradient descent on the bowl x² + y² (curvature L = 2): how large can the step "
    "α₀ be before it blows up?",
    config=PlaygroundConfig(
        landscape=_BOWL,
        optimizers=("gd:lr=0.9@GD, α₀·L = 1.8", "gd:lr=1.05@GD, α₀·L = 2.1"),
        steps=60,
    ),
    look_for="Both runs jump across the minimum at every step. One lands a little closer each "
    "time, the other a little farther: watch the loss panel.",
    try_this="Move α₀ through 1 (α₀·L = 2) and read the result line.",
    answer="On a quadratic each GD step multiplies the distance to the minimum by |1 − α₀L|. "
    "That is below 1, so the run converges, exactly when α₀L < 2. Past 2/L the steps grow "
    "geometrically. The same threshold, 2/η, comes back at the edge of stability.",
    exercise=Exercise("α₀ (L = 2)", (0.2, 0.5, 0.9, 0.99, 1.01, 1.1, 1.3), 0.99),
    vary=_gd_bowl,
    claim=_step_size_claim,
    result=lambda trs, a: (
        f"α₀ = {a:g}, α₀·L = {2 * a:.3g} ({'<' if 2 * a < 2 else '>'} 2): GD "
        f"{_fate(trs[0])}; each step multiplies the distance by |1 − α₀L| = {abs(1 - 2 * a):.2f}."
    ),
)


# ----------------------------------------------------------------------------- 2 momentum

_RAVINE = (("condition", 25.0), ("angle", 30.0))


def _momentum_config(mu: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape="ill_conditioned", landscape_params=_RAVINE,
                            optimizers=("gd:lr=0.07", f"momentum:lr=0.07,momentum={mu:g}"),
                            steps=150)  # fmt: skip


def _momentum_claim(trs) -> Claim:
    gd, mom = trs
    n_gd, n_mom = oscillations(gd.loss[0]), oscillations(mom.loss[0])
    holds = n_gd == 0 and n_mom >= 50 and mom.loss[0, -1] > gd.loss[0, -1]
    return Claim(
        holds,
        f"GD's loss never went up and it {_fate(gd)}. Heavy ball with μ = 0.9 went up on "
        f"{n_mom} of 150 steps and ended at {mom.loss[0, -1]:.1e}, behind GD.",
        {"gd_increases": n_gd, "momentum_increases": n_mom},
    )


MOMENTUM = _playground_lesson(
    key="momentum",
    title="Momentum and oscillation",
    question="In a ravine 25 times steeper across than along, does adding momentum "
    "(μ = 0.9) to gradient descent make it faster?",
    config=_momentum_config(0.9),
    look_for="GD zig-zags once and slides down the floor. The heavy ball carries its speed "
    "past the floor and swings from wall to wall; its loss saw-tooths.",
    try_this="Lower μ and find the value that converges first.",
    answer="Momentum turns every direction into a damped oscillator whose swing shrinks by "
    "about √μ per step. At μ = 0.9 the damping is weak (0.95 per step), so the swings across "
    "the ravine last for hundreds of steps. A moderate μ (0.5 here) converges in 56 steps "
    "against GD's 145. VRAdam's gate is another way to damp such swings.",
    exercise=Exercise("momentum μ", (0.0, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99), 0.9),
    vary=_momentum_config,
    claim=_momentum_claim,
    result=lambda trs, mu: (
        f"μ = {mu:g}: heavy ball {_fate(trs[1])}, its loss rose on "
        f"{oscillations(trs[1].loss[0])} steps; GD {_fate(trs[0])}."
    ),
)


# ----------------------------------------------------------------------------- 3 Adam


def _adam_config(kappa: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape="ill_conditioned",
                            landscape_params=(("condition", float(kappa)), ("angle", 0.0)),
                            optimizers=(f"gd:lr={1.9 / kappa:.4g}", "adam:lr=0.1"),
                            steps=200)  # fmt: skip


def _first_step_ratio(tr) -> float:
    d = np.abs(tr.xy[0, 1] - tr.xy[0, 0])
    return float(d[1] / d[0])


def _adam_claim(trs) -> Claim:
    gd, adam = trs
    r_gd, r_adam = _first_step_ratio(gd), _first_step_ratio(adam)
    first = np.abs(adam.xy[0, 1] - adam.xy[0, 0])
    holds = abs(r_adam - 1) < 1e-6 and r_gd > 50 and np.allclose(first, 0.1, rtol=1e-6)
    return Claim(
        holds,
        f"Adam's first step moved x and y by {first[0]:.4f} and {first[1]:.4f}: α₀ in each "
        f"coordinate. GD's first step was {r_gd:.0f} times longer in y than in x. After 200 "
        f"steps GD is at loss {gd.loss[0, -1]:.1e}, Adam at {adam.loss[0, -1]:.1e}.",
        {"gd_ratio": r_gd, "adam_ratio": r_adam},
    )


ADAM = _playground_lesson(
    key="adam_scaling",
    title="Adam's per-coordinate scaling",
    question="On f = ½(x² + 100y²), GD's step must be below 2/100 to be stable in y. What "
    "does that do to its progress in x, and how does Adam avoid it?",
    config=_adam_config(100.0),
    look_for="GD drops onto the x axis at once, then crawls along it. Adam heads diagonally "
    "first, as if the valley were round, then rattles to the minimum.",
    try_this="Change the condition number κ and compare the two first steps.",
    answer="Adam divides each coordinate's step by the root mean square of its own gradients, "
    "so its first step is exactly α₀ in every coordinate, however steep. GD's step is the "
    "gradient itself: κ times longer in the steep direction, and the safe rate 2/κ makes it "
    "slow in the flat one. The price: Adam's step no longer shrinks with the gradient, so it "
    "oscillates near the minimum (VRAdam's gate targets exactly that).",
    exercise=Exercise("condition number κ", (1.0, 10.0, 100.0, 1000.0), 100.0),
    vary=_adam_config,
    claim=_adam_claim,
    result=lambda trs, k: (
        f"κ = {k:g}: GD's first step is {_first_step_ratio(trs[0]):.3g}× "
        f"longer in y than in x, Adam's {_first_step_ratio(trs[1]):.3g}×; after 200 steps GD "
        f"{_fate(trs[0])}, Adam {_fate(trs[1])}."
    ),
)


# ----------------------------------------------------------------------------- 4 EoS


def _gd_edge(lr: float, steps: int, every: int):
    from vradam.studies.eos import EoSConfig, series_from_records
    from vradam.studies.training import train_steps

    config = EoSConfig(lr_gd=lr, steps=steps, sharpness_every=every)
    records = list(train_steps(config.train_config((config.optimizers()[0],))))
    return series_from_records(records, 0)


def _eos_claim() -> Claim:
    from vradam.studies.eos import EoSConfig

    config = EoSConfig()
    s = _gd_edge(config.lr_gd, config.steps, config.sharpness_every)
    n = s.edge_steps()
    return Claim(
        n >= 200 and s.sharpness[0] < 0.9 * s.threshold[0],
        f"GD's sharpness started at {s.sharpness[0]:.2f}, reached 2/η = {s.threshold[0]:.3g} by "
        f"step {s.first_edge_step()} and stayed within 10 % of it for {n} of {config.steps} "
        f"steps, while the loss fell from {s.loss[0]:.2g} to {s.loss[-1]:.2g}.",
        {"edge_steps": n},
    )


def _eos_explore(lr: float) -> tuple[dict, str]:
    s = _gd_edge(lr, 300, 20)
    x = s.sharp_steps.tolist()
    fig = dict(
        data=[
            dict(type="scatter", x=x, y=sig_list(s.sharpness), mode="lines+markers",
                 name="sharpness λmax(H)", line=dict(color="#000000")),
            dict(type="scatter", x=x, y=sig_list(s.threshold), mode="lines",
                 name="2/η", line=dict(color="#D55E00", dash="dash")),
        ],
        layout=dict(height=300, margin=dict(l=50, r=20, t=30, b=45), plot_bgcolor="white",
                    xaxis=dict(title=dict(text="step"), gridcolor="#eeeeee"),
                    yaxis=dict(title=dict(text="sharpness"), gridcolor="#eeeeee"),
                    legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom")),
    )  # fmt: skip
    first = s.first_edge_step()
    text = (
        f"η = {lr:g}: 2/η = {2 / lr:.3g}; the sharpness reached it at step {first} and stayed "
        f"within 10 % for {s.edge_steps()} of 300 steps."
        if first >= 0
        else f"η = {lr:g}: 2/η = {2 / lr:.3g} is above anything the sharpness reached "
        f"({np.max(s.sharpness):.3g}) in 300 steps: this step is too small to meet the edge."
    )
    return fig, text


EOS = Lesson(
    key="edge_of_stability",
    title="The edge of stability",
    question="Full-batch GD on a small network at η = 0.3. The lesson on step sizes says it "
    "needs sharpness < 2/η. What does the sharpness actually do during training?",
    page="edge_of_stability",
    query={"eos_problem": "mlp"},
    look_for="Top left, GD's panel: the dots (sharpness) climb until they meet the dashed "
    "line 2/η and then stay there. In the loss panel GD's curve keeps falling, with spikes.",
    try_this="Pick another η: where does the sharpness level off now?",
    answer="Training drives the sharpness up (progressive sharpening) until it reaches 2/η, "
    "the largest curvature GD can stand at that rate. It cannot go far beyond: any overshoot "
    "along the top eigenvector pushes the weights to a flatter region. So the network sits at "
    "the edge, loss falling non-monotonically (Cohen et al. 2021). Adam does the same on its "
    "preconditioned sharpness at 38/η; VRAdam's edge moves up while the velocity is large.",
    exercise=Exercise("η (GD)", (0.1, 0.2, 0.3, 0.5), 0.2),
    check=_eos_claim,
    explore=_eos_explore,
)


# ----------------------------------------------------------------------------- 5 VRAdam

_RAVINE_CONFIG = PlaygroundConfig(landscape="ill_conditioned", landscape_params=_RAVINE,
                                  optimizers=("adam:lr=0.3",
                                              "vradam:lr=0.3,beta3=0.021,weight_decay=0"),
                                  steps=300)  # fmt: skip


def _vr_config(beta3: float) -> PlaygroundConfig:
    vr = f"vradam:lr=0.3,beta3={beta3:g},weight_decay=0"
    return replace(_RAVINE_CONFIG, optimizers=("adam:lr=0.3", vr))


def _vr_claim(trs) -> Claim:
    adam, vr = trs
    n_a, n_v = oscillations(adam.loss[0]), oscillations(vr.loss[0])
    eta = vr.effective_lr[0]
    return Claim(
        n_v * 2 < n_a and np.nanmin(eta) < 0.5 * 0.3,
        f"Adam's loss rose on {n_a} of 300 steps, VRAdam's on {n_v}. VRAdam's rate η_t went "
        f"as low as {np.nanmin(eta):.3g} (α₀ = 0.3) while it moved fast and was back at "
        f"{eta[-1]:.3g} at the end. Smoother is not faster here: Adam's final loss is "
        f"{adam.loss[0, -1]:.1e}, VRAdam's {vr.loss[0, -1]:.1e}.",
        {"adam_increases": n_a, "vradam_increases": n_v},
    )


VR_PENALTY = _playground_lesson(
    key="velocity_penalty",
    title="VRAdam's velocity penalty",
    question="Adam bounces from wall to wall in a rotated ravine. What changes if its rate "
    "is divided by 1 + β₃‖v‖², where v is its velocity (first moment)?",
    config=_RAVINE_CONFIG,
    look_for="On the map Adam's path is a thick zig-zag; VRAdam's is tighter. In the Playground "
    "look at the η_t panel: VRAdam's rate dips exactly when its ‖v‖² peaks.",
    try_this="Raise β₃ from 0 (plain Adam) and watch the count of loss increases.",
    answer="Bouncing means a large velocity, and the gate shrinks the step in proportion to "
    "‖v‖²: the faster the motion, the smaller the step, as if the particle grew heavier with "
    "speed. Near the minimum v is small and the gate opens again, so VRAdam keeps Adam's "
    "speed where it is safe. Too large a β₃ slows the descent; the clip α₁ bounds the cut.",
    exercise=Exercise("β₃", (0.0, 0.005, 0.01, 0.021, 0.05, 0.1, 0.3), 0.021),
    vary=_vr_config,
    claim=_vr_claim,
    result=lambda trs, b: (
        f"β₃ = {b:g}: VRAdam's loss rose on {oscillations(trs[1].loss[0])} "
        f"steps (Adam: {oscillations(trs[0].loss[0])}) and ended at {trs[1].loss[0, -1]:.2g} "
        f"(Adam: {trs[0].loss[0, -1]:.2g})."
    ),
)


# ----------------------------------------------------------------------------- 6 physics


def _physics_run(beta3: float):
    from vradam.studies.physics import integrate

    ls = landscapes.get("himmelblau")
    return integrate(ls, ls.start, (2.0, 0.0), beta3s=(0.0, beta3), dt=0.005, steps=1000)


def _physics_claim() -> Claim:
    ordinary, quartic = _physics_run(1.0)
    top = [float(np.max(np.linalg.norm(m.v, axis=-1))) for m in (ordinary, quartic)]
    drift = max(float(np.max(np.abs(m.energy - m.energy[0])) / abs(m.energy[0]))
                for m in (ordinary, quartic))  # fmt: skip
    return Claim(
        top[1] < 0.5 * top[0] and drift < 1e-6,
        f"Same start, same push: the ordinary particle reached speed {top[0]:.3g}, the one "
        f"with the quartic term (β₃ = 1) only {top[1]:.3g}. Both conserve their energy to "
        f"{drift:.0e} (the integrator's error).",
        {"top_ordinary": top[0], "top_quartic": top[1], "drift": drift},
    )


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
    "downhill; the other never gets fast. The energy panel shows both energies constant.",
    try_this="Change β₃ and read the top speed.",
    answer="The momentum is p = (M + β₃‖v‖²)v: the particle behaves as if its mass grew with "
    "its speed, so the same force accelerates it less when it is fast. Energy is still "
    "conserved (E = V + (M/2)‖v‖² + (3β₃/4)‖v‖⁴), but more of it is stored per unit of speed. "
    "VRAdam borrows the factor 1/(1 + β₃‖v‖²) as a gate on its learning rate.",
    exercise=Exercise("β₃", (0.01, 0.1, 0.3, 1.0, 3.0, 10.0), 1.0),
    check=_physics_claim,
    explore=_physics_explore,
)


# ----------------------------------------------------------------------------- 7 β3 and α1


def _clip_config(alpha1: float) -> PlaygroundConfig:
    vr = f"vradam:lr=0.5,beta3=10,alpha1={alpha1:g},weight_decay=0"
    return PlaygroundConfig(landscape=_BOWL, optimizers=("adam:lr=0.5", vr), steps=200)


def _clip_steps(tr, alpha1: float) -> int:
    return int(np.sum(10 * tr.velocity_sq_norm[0] >= alpha1))


def _clip_claim(trs) -> Claim:
    _, a1, a10 = trs
    floors = [float(np.nanmin(t.effective_lr[0])) for t in (a1, a10)]
    reached = all(t.loss[0, -1] < 1e-6 for t in (a1, a10))
    holds = np.allclose(floors, [0.5 / 2, 0.5 / 11], rtol=1e-9) and _clip_steps(a10, 10) > 0
    holds = holds and reached
    return Claim(
        holds,
        f"With α₁ = 1 the rate never went below {floors[0]:.4g} = α₀/(1 + α₁); with α₁ = 10 "
        f"it bottomed at {floors[1]:.4g} = 0.5/11, the clip holding it there for "
        f"{_clip_steps(a10, 10)} steps. Both runs still reach the minimum.",
        {"floors": floors},
    )


CLIP = _playground_lesson(
    key="tuning_beta3_alpha1",
    title="Tuning β₃ and α₁",
    question="With a large β₃ the gate would stop a fast optimizer dead. What does the clip "
    "α₁ in 1 + min(β₃‖v‖², α₁) guarantee?",
    config=PlaygroundConfig(
        landscape=_BOWL,
        optimizers=(
            "adam:lr=0.5",
            "vradam:lr=0.5,beta3=10,alpha1=1,weight_decay=0",
            "vradam:lr=0.5,beta3=10,alpha1=10,weight_decay=0",
        ),
        steps=200,
    ),
    look_for="In the Playground's η_t panel both VRAdam runs start at a flat floor, then climb "
    "back to α₀ = 0.5 as they slow down.",
    try_this="Change α₁ and watch the floor and the number of clipped steps.",
    answer="While β₃‖v‖² ≥ α₁ the rate is clipped at the floor α₀/(1 + α₁), so training never "
    "stalls, however large β₃ is. β₃ decides *when* the gate acts (at ‖v‖ ≈ 1/√β₃ the rate "
    "halves), α₁ decides *how far* it can cut. A rule of thumb: choose β₃ so that β₃‖v‖² "
    'peaks around 1–2 early in training (the Playground\'s "suggest β₃" button), keep '
    "α₁ ≈ 10.",
    exercise=Exercise("α₁", (0.5, 1.0, 3.0, 10.0, 30.0), 10.0),
    vary=_clip_config,
    claim=_clip_claim,
    result=lambda trs, a1: (
        f"α₁ = {a1:g}: floor α₀/(1 + α₁) = {0.5 / (1 + a1):.3g}, reached "
        f"(min η_t = {np.nanmin(trs[1].effective_lr[0]):.3g}); the clip was active for "
        f"{_clip_steps(trs[1], a1)} steps and VRAdam {_fate(trs[1])}."
    ),
)


# ----------------------------------------------------------------------------- 8 noise


def _noise_config(sigma: float) -> PlaygroundConfig:
    return PlaygroundConfig(landscape=_BOWL, optimizers=("gd:lr=0.1", "gd:lr=0.025"),
                            steps=600, noise=float(sigma))  # fmt: skip


def _floor(tr) -> float:
    return float(np.mean(tr.loss[0, 300:]))


def _noise_floor_theory(alpha: float, sigma: float) -> float:
    """Stationary E[f] of GD with N(0, σ²) gradient noise on x² + y²: ασ²/(2(1 − α))."""
    return alpha * sigma**2 / (2 * (1 - alpha))


def _noise_claim(trs) -> Claim:
    floors = [_floor(t) for t in trs]
    theory = [_noise_floor_theory(a, 2.0) for a in (0.1, 0.025)]
    close = all(abs(f / t - 1) < 0.25 for f, t in zip(floors, theory))
    return Claim(
        close and 2.5 < floors[0] / floors[1] < 6,
        f"With noise of std 2 on every gradient, neither run converges: the loss hovers at "
        f"{floors[0]:.3f} for α₀ = 0.1 and {floors[1]:.3f} for α₀ = 0.025 (theory "
        f"ασ²/(2(1 − α)): {theory[0]:.3f} and {theory[1]:.3f}). A 4× smaller step gives a "
        f"{floors[0] / floors[1]:.1f}× lower floor.",
        {"floors": floors, "theory": theory},
    )


NOISE = _playground_lesson(
    key="noise",
    title="Noise and mini-batches",
    question="A mini-batch gradient is the true gradient plus noise. With noisy gradients on "
    "the bowl x² + y², where does gradient descent end up?",
    config=_noise_config(2.0),
    look_for="Both runs reach the bottom quickly and then jitter around it; the loss panel "
    "flattens at a level instead of falling forever, lower for the smaller step.",
    try_this="Change the noise and see how the floor follows.",
    answer="Near the minimum each step is α₀ times the noise, so the iterate keeps a spread "
    "proportional to α₀σ²: the loss floor is ασ²/(2(1 − α)) here. That is why training with "
    "mini-batches decays its learning rate (try the schedules in the Playground), and why "
    "larger batches (less noise) allow larger steps. On the Networks page the batch size "
    "sets the noise.",
    exercise=Exercise("noise std σ", (0.0, 0.5, 1.0, 2.0, 4.0), 2.0),
    vary=_noise_config,
    claim=_noise_claim,
    result=lambda trs, s: (
        f"σ = {s:g}: loss floor {_floor(trs[0]):.3g} at α₀ = 0.1 (theory "
        f"{_noise_floor_theory(0.1, s):.3g}) and {_floor(trs[1]):.3g} at α₀ = 0.025 (theory "
        f"{_noise_floor_theory(0.025, s):.3g})."
    ),
)


LESSONS: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in (STEP_SIZE, MOMENTUM, ADAM, EOS, VR_PENALTY, PHYSICS, CLIP, NOISE)
}
