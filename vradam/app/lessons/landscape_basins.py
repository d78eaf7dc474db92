"""Lesson 9: where VRAdam and AdamW end on a network's own loss landscape (two moons MLP).

From the same initial weights, full batch, AdamW and VRAdam at the same α0 and weight decay
(the gate is the only difference) and the control AdamW at VRAdam's mean effective rate
over the same steps (per seed and step count). Each run is drawn with the Networks page's
Landscape tools (:func:`vradam.studies.landscape.landscape`: snapshots, the common PCA
plane, true against surface loss along each path) and measured at the ends with its 1-D
slices (:func:`vradam.studies.landscape_views.line_slice`: the loss on the straight line
between two optimizers' final weights, and its bump above the higher end), λmax of the
loss Hessian (the paper's Figure 2 quantity, Lanczos on Hessian-vector products, full
training set) and the run's preconditioned sharpness against each optimizer's threshold.

The neighbourhood: seeds 0–4 of the data and initial weights, each over 250 and 500 steps
(the Networks page's default), at α0 = 0.01 and the task's β3 = 86. One (seed, steps)
costs about 1–2 s on one core; the whole check about 15 s.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from functools import lru_cache

import numpy as np
import torch

from vradam.app.figures.arrays import sig_list
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.app.lessons.lesson import HOLDS_AT, Claim, Exercise, Lesson
from vradam.sim.measures import t_interval
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies import landscape_views as views
from vradam.studies.landscape import LandscapeConfig, SurfaceLoss, landscape
from vradam.studies.networks import get_task
from vradam.studies.sharpness import top_eigenvalue
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig, train_steps

_TASK = "moons"
_LR = 0.01  # the task's α0 (AdamW's and VRAdam's)
_BETA3 = get_task(_TASK).default_beta3  # 86: the task's β3
_SEEDS = (0, 1, 2, 3, 4)
_HORIZONS = (250, 500)
_STEPS = 500  # the preset (the page's default for the task)
_BUMP = 0.2  # "a bump": the line's highest loss between the ends ≥ 20 % above the higher end
ADAMW, VRADAM, MATCHED = 0, 1, 2
NAMES = ("AdamW", "VRAdam", "AdamW at VRAdam's η")
COLORS = ("#0072B2", "#D55E00", "#009E73")
# The preset's control: AdamW at seed 0's VRAdam mean η over 500 steps at α0 = 0.01
# (:func:`matched_rate`; a test re-derives it).
_MATCHED_LR = 0.00925


def _specs(lr: float, matched: float) -> tuple[str, ...]:
    return tuple(str(OptimizerSpec.parse(t)) for t in (
        f"adamw:lr={lr:g}", f"vradam:lr={lr:g},beta3={_BETA3:g}",
        f"adamw:lr={matched:g}@{NAMES[MATCHED]}"))  # fmt: skip


def _config(lr: float, steps: int, seed: int, optimizers: tuple[str, ...]) -> TrainConfig:
    """Full batch on the CPU; sharpness at the start and the end only."""
    return TrainConfig(task=_TASK, optimizers=optimizers, steps=steps, seed=seed,
                       device="cpu", sharpness_every=steps, eval_every=steps)  # fmt: skip


@lru_cache(maxsize=8)
def _eta(lr: float, seed: int) -> np.ndarray:
    """VRAdam alone over the longest run: η_t of each update (a shorter run's are its
    first ones: full batch, nothing else draws)."""
    steps = max(*_HORIZONS, _STEPS)
    config = _config(lr, steps, seed, _specs(lr, lr)[VRADAM : VRADAM + 1])
    records = train_steps(replace(config, sharpness_every=0))
    return np.array([r["effective_lr"] for r in records if "effective_lr" in r])


def gate(lr: float, steps: int, seed: int) -> tuple[float, float, int]:
    """VRAdam over its first ``steps`` updates: (its mean effective rate, 3 significant
    digits as the Playground's control: the control AdamW's α0; its lowest η_t/α0; the
    update where that happened)."""
    eta = _eta(lr, seed)[:steps]
    k = int(np.argmin(eta))
    return float(f"{float(np.mean(eta)):.3g}"), float(eta[k] / lr), k + 1


def matched_rate(lr: float, steps: int, seed: int) -> float:
    return gate(lr, steps, seed)[0]


def _top_hessian(loss: SurfaceLoss, theta: np.ndarray) -> float:
    """λmax of the loss Hessian at ``theta`` on the surface's split (the training set)."""
    model = copy.deepcopy(loss.model).requires_grad_(True)
    flat = torch.as_tensor(np.asarray(theta), dtype=torch.float32, device=loss.device)
    torch.nn.utils.vector_to_parameters(flat, model.parameters())
    params = list(model.parameters())
    with one_thread():
        value, _, _ = top_eigenvalue(lambda: loss.task.loss_fn(model(loss.x), loss.y), params)
    return value


def _relative(sl: views.Slice) -> float:
    """The slice's bump above its higher end, as a share of that end's loss."""
    ends = sl.loss[(sl.t == 0) | (sl.t == 1)]
    return sl.barrier / float(np.max(ends))


@lru_cache(maxsize=32)
def ends(lr: float, steps: int, seed: int) -> dict:
    """One run of the three optimizers drawn on its landscape, measured at the ends: final
    losses, the slices between the ends (VRAdam–AdamW, VRAdam–control, AdamW–control),
    λmax(H), preconditioned sharpness over threshold, the plane's explained shares and the
    largest gap between true and surface loss along each path (relative to the true)."""
    rate, dip, dip_step = gate(lr, steps, seed)
    config = _config(lr, steps, seed, _specs(lr, rate))
    ls = landscape(config, LandscapeConfig(grid=21, budget_s=None, sharpness=True))
    loss = SurfaceLoss(config)
    slices = {pair: views.line_slice(loss, ls, *pair)
              for pair in ((ADAMW, VRADAM), (VRADAM, MATCHED), (ADAMW, MATCHED))}  # fmt: skip
    last = {r["optimizer"]: r for r in ls.sharpness_rows if r["step"] == steps}
    return dict(
        seed=seed, steps=steps, lr=lr, rate=rate, dip=dip, dip_step=dip_step,
        final=[float(t[-1]) for t in ls.true_loss],
        bump={pair: _relative(sl) for pair, sl in slices.items()},
        distance={pair: sl.distance for pair, sl in slices.items()},
        slices=slices,
        lam=[_top_hessian(loss, ls.finals[i]) for i in range(3)],
        edge=[last[i]["sharpness"] / last[i]["threshold"] if i in last else math.nan
              for i in range(3)],
        explained=float(np.sum(ls.plane.explained)),
        gap=[float(np.nanmax(np.abs(ls.gap(i)) / ls.true_loss[i])) for i in range(3)],
        diverged=any(ls.diverged),
    )  # fmt: skip


def _holds(e: dict) -> bool:
    """VRAdam's end lies behind a bump from both AdamW's and the control's ends."""
    bump = e["bump"]
    return not e["diverged"] and min(bump[ADAMW, VRADAM], bump[VRADAM, MATCHED]) >= _BUMP


# ----------------------------------------------------------------------------- the claim


def _logs(runs: list[dict], key: str, other: int, h: int) -> list[float]:
    return [math.log(e[key][VRADAM] / e[key][other]) for e in runs if e["steps"] == h]


def _ratio(runs: list[dict], key: str, other: int) -> tuple[str, int, list]:
    """VRAdam's ``key`` over ``other``'s, paired by seed: the words (per step count the
    geometric mean ratio and its 95 % t-interval), in how many runs it was higher, and the
    intervals' bounds (lower, upper) of the log ratio per step count."""
    parts, bounds = [], []
    for h in _HORIZONS:
        mean, half = t_interval(_logs(runs, key, other, h))
        bounds.append((mean - half, mean + half))
        parts.append(f"×{math.exp(mean):.2f} [{math.exp(mean - half):.2f}, "
                     f"{math.exp(mean + half):.2f}] at {h} steps")  # fmt: skip
    higher = sum(e[key][VRADAM] > e[key][other] for e in runs)
    return "; ".join(parts), higher, bounds


def _sharper(bounds: list) -> str:
    """Sharper, flatter or neither: every interval (both controls, both step counts) above
    1, below 1, or neither."""
    if all(lo > 0 for lo, _ in bounds):
        return "not flatter but sharper"
    if all(hi < 0 for _, hi in bounds):
        return "flatter"
    return "not measurably flatter or sharper"


def _lower(bounds: list) -> str:
    """ "no lower than" unless some interval lies below 1."""
    return "lower than one of" if any(hi < 0 for _, hi in bounds) else "no lower than"


def _cause(share: float) -> str:
    """What the control says, when VRAdam's end stood apart from it too in most runs."""
    if share >= HOLDS_AT:
        return ("The same mean rate without the gate did not reach VRAdam's end: the gate, "
                "not a smaller average step, sent VRAdam elsewhere.")  # fmt: skip
    return "The control's end was often near VRAdam's: a smaller step may explain part of it."


def _span(values, fmt: str = ".2g") -> str:
    return f"{min(values):{fmt}}–{max(values):{fmt}}"


def _basins(runs: list[dict], count: int) -> str:
    """The slices' sentences: bumps, distances, the control, the gate's dip."""
    n = len(runs)
    va, vm, am = ([e["bump"][pair] for e in runs]
                  for pair in ((ADAMW, VRADAM), (VRADAM, MATCHED), (ADAMW, MATCHED)))  # fmt: skip
    d_va = [e["distance"][ADAMW, VRADAM] for e in runs]
    d_am = [e["distance"][ADAMW, MATCHED] for e in runs]
    return (
        f"On the straight line between the final weights, VRAdam's end lay behind a bump "
        f"(the loss between the ends at least {_BUMP:.0%} above the higher end) from "
        f"AdamW's in {sum(b >= _BUMP for b in va)} of {n} runs and from the control's "
        f"(AdamW at VRAdam's mean η over the same steps) in {sum(b >= _BUMP for b in vm)} "
        f"of {n}, both in {count}: bumps {_span(va)} and {_span(vm)} times the higher end's "
        f"loss, {_span(d_va, '.3g')} apart in weight space. AdamW and the control ended "
        f"without such a bump between them in {sum(b < _BUMP for b in am)} of {n} runs "
        f"({_span(am)}), {_span(d_am, '.2g')} apart. {_cause(count / n)} VRAdam's rate η "
        f"dipped to {_span([e['dip'] for e in runs])} of α₀ (by update "
        f"{max(e['dip_step'] for e in runs)}) and averaged "
        f"{_span([e['rate'] / e['lr'] for e in runs])} of it."
    )


def _statement(runs: list[dict], count: int) -> str:
    n = len(runs)
    lam_a, up_a, b_a = _ratio(runs, "lam", ADAMW)
    lam_m, up_m, b_m = _ratio(runs, "lam", MATCHED)
    loss_a, worse_a, l_a = _ratio(runs, "final", ADAMW)
    loss_m, worse_m, l_m = _ratio(runs, "final", MATCHED)
    edge = [x for e in runs for x in e["edge"] if math.isfinite(x)]
    return (
        f"{_basins(runs, count)} VRAdam's end was {_sharper(b_a + b_m)}: λmax(H) higher than "
        f"AdamW's in {up_a} of {n} runs ({lam_a}) and than the control's in {up_m} of {n} "
        f"({lam_m}). Its training loss ended {_lower(l_a + l_m)} AdamW's and the control's: "
        f"higher than AdamW's in {worse_a} of {n} ({loss_a}) and than the control's in "
        f"{worse_m} of {n} ({loss_m}). At the end each optimizer's preconditioned sharpness "
        f"was {_span(edge)} times its own threshold."
    )


def _claim() -> Claim:
    runs = [ends(_LR, h, seed) for seed in _SEEDS for h in _HORIZONS]
    count = sum(_holds(e) for e in runs)
    p = ends(_LR, _STEPS, 0)
    detail = (
        f"At the preset (seed 0, {_STEPS} steps, α₀ = {_LR:g}, β₃ = {_BETA3:g}; the control at "
        f"η = {p['rate']:g}): bump {p['bump'][ADAMW, VRADAM]:.2f}× between AdamW's and "
        f"VRAdam's ends ({p['distance'][ADAMW, VRADAM]:.3g} apart), "
        f"{p['bump'][ADAMW, MATCHED]:.2f}× between AdamW's and the control's "
        f"({p['distance'][ADAMW, MATCHED]:.2g} apart); λmax(H) {p['lam'][ADAMW]:.3g}, "
        f"{p['lam'][VRADAM]:.3g} and {p['lam'][MATCHED]:.3g} (AdamW, VRAdam, control); final "
        f"losses {p['final'][ADAMW]:.2g}, {p['final'][VRADAM]:.2g} and "
        f"{p['final'][MATCHED]:.2g}. The common plane explains {p['explained']:.0%} of the "
        f"paths' spread ({_span([e['explained'] for e in runs], '.0%')} over all runs), yet "
        f"along VRAdam's path the surface's value was off the true loss by up to "
        f"{p['gap'][VRADAM]:.1f}× the true loss (over all runs and paths: "
        f"{_span([g for e in runs for g in e['gap']], '.2g')}×): the colours are not the loss "
        "the optimizers saw."
    )
    measured = (
        f"in {count} of {len(runs)} runs ({count / len(runs):.0%}; seeds "
        f"{', '.join(map(str, _SEEDS))} of the data and initial weights, each over "
        f"{' and '.join(map(str, _HORIZONS))} steps, α₀ = {_LR:g}, β₃ = {_BETA3:g}; each "
        f"run costs 4 trainings: VRAdam alone for its mean η, then all three; intervals: "
        f"95 % t over the {len(_SEEDS)} paired seeds at each step count)"
    )
    numbers = {"runs": [{k: v for k, v in e.items() if k != "slices"} for e in runs],
               "matched_lr": p["rate"]}  # fmt: skip
    return Claim(_statement(runs, count), count, len(runs), measured, _holds(p), numbers,
                 detail)  # fmt: skip


# ----------------------------------------------------------------------------- exercise


def _slice_trace(sl: views.Slice, name: str, color: str, dash: str = "solid") -> dict:
    return dict(type="scatter", x=sig_list(sl.t), y=sig_list(sl.loss), mode="lines", name=name,
                line=dict(color=color, dash=dash))  # fmt: skip


def _ends_trace(*slices: views.Slice) -> dict:
    """The final weights: AdamW's at t = 0, the other end of each slice at t = 1."""
    at = lambda sl, t: float(sl.loss[sl.t == t][0])  # noqa: E731
    return dict(type="scatter", x=[0, *[1] * len(slices)],
                y=[at(slices[0], 0), *[at(sl, 1) for sl in slices]], mode="markers",
                name="final weights", marker=dict(color="#000000", size=8))  # fmt: skip


def _explore(lr: float) -> tuple[dict, str]:
    e = ends(lr, _STEPS, 0)
    s = e["slices"]
    span = log_range([s[ADAMW, VRADAM].loss, s[ADAMW, MATCHED].loss], pad=0.1)
    fig = dict(
        data=[
            _slice_trace(s[ADAMW, VRADAM], "AdamW (t = 0) → VRAdam (t = 1)", COLORS[VRADAM]),
            _slice_trace(s[ADAMW, MATCHED], f"AdamW (t = 0) → {NAMES[MATCHED]} (t = 1)",
                         COLORS[MATCHED], "dash"),
            _ends_trace(s[ADAMW, VRADAM], s[ADAMW, MATCHED]),
        ],
        layout=dict(height=320, margin=dict(l=55, r=15, t=30, b=45), plot_bgcolor="white",
                    xaxis=dict(title=dict(text="t on the line θ = (1 − t)·θ_A + t·θ_B"),
                               gridcolor="#eeeeee"),
                    yaxis=dict(title=dict(text="training loss"), type="log", range=span,
                               gridcolor="#eeeeee", **log_ticks(*span)),
                    legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom")),
    )  # fmt: skip
    text = (
        f"α₀ = {lr:g} (seed 0, {_STEPS} steps; the control at η = {e['rate']:.3g}): a bump "
        f"{e['bump'][ADAMW, VRADAM]:.2f}× the higher end's loss between AdamW's and VRAdam's "
        f"ends, {e['distance'][ADAMW, VRADAM]:.3g} apart; {e['bump'][ADAMW, MATCHED]:.2f}× "
        f"between AdamW's and the control's, {e['distance'][ADAMW, MATCHED]:.2g} apart. "
        f"λmax(H) at the ends: AdamW {e['lam'][ADAMW]:.3g}, VRAdam {e['lam'][VRADAM]:.3g}, "
        f"control {e['lam'][MATCHED]:.3g}."
    )
    return fig, text


LANDSCAPE = Lesson(
    key="landscape_basins",
    title="Basins on a network's own landscape",
    question="AdamW and VRAdam train the same small network from the same initial weights at "
    "the same α₀. Do they end in the same basin of its loss landscape, and is VRAdam's end "
    "flatter?",
    page="networks",
    query={
        "nt_task": _TASK,
        "nt_steps": str(_STEPS),
        "nt_seed": "0",
        **{f"nt_o{k + 1}": text for k, text in enumerate(_specs(_LR, _MATCHED_LR))},
        "nt_o4": "",
        "nt_ls_plane": "pca",
        "nt_ls_reference": "best",
        "nt_ls_split": "train",
        "nt_ls_grid": "41",
    },
    look_for="On the Networks page press Train, then open Landscape of this run and press "
    "Compute the landscape (a few seconds). Under the map, Between two final points opens "
    "on the two lowest final losses, AdamW (A) and AdamW at VRAdam's η (B): the line between "
    "them stays flat. Choose VRAdam at B: the loss climbs between the two ends, a bump above "
    "both. The chart here shows both lines (seed 0). In the panel under the map, each "
    "path's surface value (dotted) parts from its true loss (solid): the colours are not "
    "the loss the optimizers saw.",
    try_this="Change α₀ (AdamW's and the gated run's, β₃ = 86; the control follows the mean "
    "rate): at which α₀ does the bump between the two ends shrink?",
    answer="No to both, at α₀ = 0.01 and β₃ = 86 on this network. The straight line from "
    "AdamW's final weights to VRAdam's rises above both ends, so they ended in different "
    "basins as far as a straight line can tell, and AdamW run at VRAdam's mean η ended "
    "apart from VRAdam too, mostly in AdamW's basin. So the gate, not a smaller average "
    "step, sends VRAdam elsewhere: its rate dips to a tenth or a fifth of α₀ in the first "
    "updates, while the velocity is large, and averages most of α₀. VRAdam's end is not "
    "flatter, and its loss ended no lower than theirs (the measurement below gives the top "
    "Hessian eigenvalues and the losses, paired by seed, with their intervals). Most of the "
    "paths' spread lies in the common plane, yet the surface under a path can be far from "
    "the loss the optimizer saw: trust the slice and the true-loss panel, not the colours "
    "alone.",
    exercise=Exercise("α₀", (0.003, 0.01, 0.03), _LR),
    check=_claim,
    explore=_explore,
)
