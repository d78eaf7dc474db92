"""The Stability maps page: phase diagrams, the Adam-family map, basins, switching."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

import landscapes
from vradam.app.figures import stability as stabplots
from vradam.app.playground import PlaygroundConfig
from vradam.app.summaries import (
    adam_map_summary,
    basin_summary,
    momentum_maps_summary,
    switching_summary,
    trace_summary,
)
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.links import page_link
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.studies import stability as S

# The URL holds every tab's settings (one source of bounds and options per control).
MOMENTUM = {"sm_beta3": (0.01, 0.1, 1.0, 10.0, 100.0), "sm_alpha1": (1.0, 3.0, 10.0, 30.0, 100.0),
            "sm_steps": (100, 200, 400, 800)}  # fmt: skip
ADAM_LANDSCAPES = ("ill_conditioned", "rosenbrock", "quadratic", "beale", "booth", "matyas")
ADAM_LRS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
BASIN_LANDSCAPES = ("himmelblau", "six_hump_camel", "styblinski_tang")
FIELDS = [
    UrlField("sm_beta", 0.9, bounds=(0.5, 0.98)),
    UrlField("sm_beta3", 1.0, MOMENTUM["sm_beta3"]),
    UrlField("sm_alpha1", 10.0, MOMENTUM["sm_alpha1"]),
    UrlField("sm_steps", 400, MOMENTUM["sm_steps"]),
    UrlField("sm_adam_ls", ADAM_LANDSCAPES[0], ADAM_LANDSCAPES),
    UrlField("sm_adam_lo", 0.01, ADAM_LRS),  # the α₀ range slider's two ends
    UrlField("sm_adam_hi", 1.0, ADAM_LRS),
    UrlField("sm_adam_steps", 300, (100, 200, 300, 500)),
    UrlField("sm_basin_ls", BASIN_LANDSCAPES[0], BASIN_LANDSCAPES),
    UrlField("sm_basin_opt", ""),  # the optimizers typed for the basins; "": the defaults
    UrlField("sm_basin_n", 50, (30, 50, 80, 100)),
    UrlField("sm_kappa", 5.0, bounds=(2.0, 20.0)),
    UrlField("sm_theta", 0.1, bounds=(0.05, 1.5)),
]
F = {f.key: f for f in FIELDS}


@st.cache_data(max_entries=16, show_spinner=False)
def _momentum_maps(beta, beta3, alpha1, steps, n):
    lrs = np.geomspace(0.05, 200, n)
    curvatures = np.geomspace(0.1, 100, n)
    return [
        S.momentum_map(kind, lrs, curvatures, beta=beta, beta3=beta3, alpha1=alpha1, steps=steps)
        for kind in ("ema", "vrmomentum", "momentum")
    ]


@st.cache_data(max_entries=16, show_spinner=False)
def _below_line(beta, beta3, alpha1, steps, n) -> S.BelowLine:
    return S.below_line_failures(_momentum_maps(beta, beta3, alpha1, steps, n)[1])


@st.cache_data(max_entries=16, show_spinner=False)
def _adam_map(key, lo, hi, n_lr, beta3s, steps):
    return S.adam_map(landscapes.get(key), np.geomspace(lo, hi, n_lr), beta3s, steps=steps)


@st.cache_data(max_entries=8, show_spinner=False)
def _basins(key, specs, n, steps):
    return S.basin_map(landscapes.get(key), list(specs), n=n, steps=steps)


TRACE_STEPS = 2000  # the 1-D trace of one cell (the Playground's longest run)


@st.cache_data(max_entries=32, show_spinner=False)
def _traces(lr, L, beta, beta3, alpha1):
    kw = dict(beta=beta, alpha1=alpha1, steps=TRACE_STEPS)
    return (S.trace_1d("vrmomentum", lr, L, beta3=beta3, **kw),
            S.trace_1d("ema", lr, L, beta3=0.0, **kw))  # fmt: skip


def playground_config(lr: float, L: float, trace: S.Trace1D, settings: dict) -> PlaygroundConfig:
    """The cell as a Playground run: f = (L/2)·x² (flat in y) from (x₀, 0), VRMomentum and
    its β₃ = 0 twin (EMA momentum) at the cell's α₀, for TRACE_STEPS steps."""
    reach = float(np.nanmax(np.abs(trace.x[np.isfinite(trace.x)])))
    half = float(max(2, math.ceil(1.5 * reach)))
    vr = f"vrmomentum:lr={lr:.6g},beta1={settings['beta']:g},beta3={settings['beta3']:g}," \
         f"alpha1={settings['alpha1']:g}"  # fmt: skip
    ema = f"vrmomentum:lr={lr:.6g},beta1={settings['beta']:g},beta3=0"
    return PlaygroundConfig(landscape="custom", expression=f"{L / 2:.10g}*x^2",
                            domain=(-half, half, -half, half), start=(settings["x0"], 0.0),
                            optimizers=(vr, ema), steps=TRACE_STEPS)  # fmt: skip


def _periods_text(b: S.BelowLine) -> str:
    periods = b.period[b.failing]
    n4 = int((periods == 4).sum())
    other = periods[(periods > 0) & (periods != 4)]
    none = int((periods < 0).sum())
    parts = [f"{n4} on a period-4 orbit"] if n4 else []
    if other.size:
        parts.append(f"{other.size} on other periods ({other.min()}–{other.max()})")
    if none:
        parts.append(f"{none} with no period up to 32")
    return ", ".join(parts)


def _rates_text(m: S.MomentumMap, b: S.BelowLine) -> str:
    """The failures as rates by band of α0·L over the line (studies.stability.failure_rates)."""

    def pct(failing: int, cells: int) -> str:
        return f"{100 * failing / cells:.0f} % ({failing} of {cells})" if cells else "no cells"

    bands = S.failure_rates(m, b)
    (lo, hi, f, n), *rest = bands
    parts = [f"{pct(f, n)} of the map's cells at {lo:g}–{hi:g}× the line"]
    parts += [f"{pct(f2, n2)} at {lo2:g}–{hi2:g}×" for lo2, hi2, f2, n2 in rest]
    ((_, _, f1, n1),) = S.failure_rates(m, b, ((lo, hi),), max_lr=1.0)
    return f" As a rate: {', '.join(parts)}; at {lo:g}–{hi:g}× the line with α₀ ≤ 1, {pct(f1, n1)}."


def below_line_text(b: S.BelowLine, m: S.MomentumMap | None = None) -> str:
    """What the purple cells are, every number measured from ``b`` (and, given the map
    ``m``, as rates by band below the line)."""
    fail = b.failing
    n = int(fail.sum())
    head = (
        f"**Below the line.** Of the VRMomentum cells with α₀·L < {b.limit:.3g}, {len(b.rows)} "
        f"had not converged after the map's {b.map_steps} steps. Rerun for {b.steps:,} steps "
    )
    if n == 0:
        return head + "from the same start, every one of them converges (or diverges): here "\
            "the gate does not break Theorem 4.1's conclusion."  # fmt: skip
    ratio = b.lrs[fail] * b.curvatures[fail] / b.limit
    n_div = int(b.diverged.sum())
    others = " and ".join(f"{int(f.sum())} from x₀ = {x0:g}" for x0, f in b.fails_from.items())
    return (
        head
        + (
            f"from x₀ = {b.x0:g}, **{n} still have not converged** (purple), at α₀·L from "
            f"{ratio.min():.3g} to {ratio.max():.3g} times the line; "
            f"{'none diverges' if n_div == 0 else f'{n_div} diverge'}. They stay bounded and "
            f"oscillate: {_periods_text(b)}, with |x| up to {b.amplitude[fail].max():.2g} over the "
            "last 96 steps, where EMA momentum (β₃ = 0) at the same (α₀, L) converges in "
            f"{int(b.ema_converged[fail].sum())} of the {n}. Every rate the gate picks is at most "
            "α₀, stable on its own; the sequence it picks is not: the paper's Theorem 4.1 fails "
            "for the state-dependent gate itself, not only under adversarial switching (last "
            "tab). Which cells fail depends on the details: of these "
            f"{n}, {int(b.robust[fail].sum())} still fail with α₀ changed by "
            f"±{S.PERTURBATION:.1%}, {others}."
        )
        + (_rates_text(m, b) if m is not None else "")
    )


def below_line_section(maps, b: S.BelowLine, narrow: bool = False) -> None:
    st.markdown(below_line_text(b, maps[1]))
    order = b.examples()
    if order.size == 0:
        return
    settings = maps[1].settings
    key = f"sm_cell_{settings['beta']}_{settings['beta3']}_{settings['alpha1']}"

    def label(k: int) -> str:
        ratio = b.lrs[k] * b.curvatures[k] / b.limit
        return f"α₀ = {b.lrs[k]:.4g}, L = {b.curvatures[k]:.4g} (α₀·L = {ratio:.2f} × line)"

    k = st.selectbox(
        f"Open a cell as a 1-D run (ringed on the map; the {order.size} listed also fail "
        f"with α₀ ± {S.PERTURBATION:.1%}, furthest below the line first)",
        order.tolist(),
        format_func=label,
        key=key,
        persist_state="session",
    )
    lr, L = float(b.lrs[k]), float(b.curvatures[k])
    vr, ema = _traces(lr, L, settings["beta"], settings["beta3"], settings["alpha1"])
    fig = stabplots.trace_figure(vr, ema, b.limit, narrow=narrow)
    st.plotly_chart(trusted(fig), key="sm_trace")
    chart_summary(trace_summary(vr, ema, b.limit))
    page_link("app_pages/playground.py", "Open this cell in the Playground",
              query=playground_config(lr, L, vr, settings).to_query())  # fmt: skip
    st.caption(
        f"The Playground runs f = (L/2)·x² (flat in y) from ({settings['x0']:g}, 0): the same "
        "1-D recurrence, with α₀ rounded to 6 digits."
    )


def momentum_section(narrow: bool = False) -> None:
    st.markdown(
        "On the quadratic ½Lx², plain momentum methods are stable only below a line "
        "α₀·L = const (docs/theory.md §2). VRMomentum uses the same update as EMA momentum "
        "but divides α₀ by 1 + min(β₃v², α₁). Beyond the line the clip keeps it from "
        "diverging, but near the minimum the clip releases and it swings in a **bounded limit "
        "cycle** (orange) instead of converging. Below the line the paper's Theorem 4.1 "
        "promises convergence, yet bounded oscillations happen there too: the cells where the "
        f"gate has not converged even after {S.BELOW_LINE_STEPS:,} steps are **purple** "
        "(measured, below the map)."
    )
    c = st.columns(4)
    beta = c[0].slider(
        "β (momentum)", *F["sm_beta"].bounds, step=0.01, key="sm_beta", persist_state="session"
    )
    beta3 = c[1].select_slider("β₃", MOMENTUM["sm_beta3"], key="sm_beta3", persist_state="session")
    alpha1 = c[2].select_slider(
        "α₁", MOMENTUM["sm_alpha1"], key="sm_alpha1", persist_state="session"
    )
    steps = c[3].select_slider(
        "steps", MOMENTUM["sm_steps"], key="sm_steps", persist_state="session"
    )
    maps = _momentum_maps(beta, beta3, alpha1, steps, 100)
    with st.spinner(f"Rerunning the cells below the line for {S.BELOW_LINE_STEPS:,} steps…"):
        below = _below_line(beta, beta3, alpha1, steps, 100)
    order = below.examples()
    current = st.session_state.get(f"sm_cell_{beta}_{beta3}_{alpha1}")
    example = int(current) if current is not None and current in order else below.example()
    fig = stabplots.momentum_maps_figure(maps, below, example, narrow)
    st.plotly_chart(trusted(fig), key="sm_maps")
    chart_summary(momentum_maps_summary(maps, below))
    count = {m.kind: {k: int((m.classes == k).sum()) for k in S.CLASS_NAMES} for m in maps}
    vrm = maps[1]
    bounded_below = int(((vrm.classes == S.BOUNDED) & vrm.below_line).sum())
    st.caption(
        f"100 × 100 grid, α₀ from 0.05 to 200 and L from 0.1 to 100, x₀ = 1, {steps} steps; "
        "converged means |x| and |v| stay below 10⁻⁶ to the end; light grey cells are still "
        "shrinking when the run stops. "
        f"EMA momentum diverges on {count['ema'][S.DIVERGED]} cells, VRMomentum on "
        f"{count['vrmomentum'][S.DIVERGED]} (those where even the floor α₀/(1+α₁) is "
        "unstable); VRMomentum is bounded without converging on "
        f"{count['vrmomentum'][S.BOUNDED]}, {bounded_below} of them below the line. Torch's "
        "heavy ball (buf ← μ·buf + g) has its own, lower line 2(1+μ)."
    )
    below_line_section(maps, below, narrow)


def adam_section(narrow: bool = False) -> None:
    st.markdown(
        "Adam-type methods do not diverge on a quadratic: the preconditioner normalises the "
        "step, and the iterates oscillate with an amplitude of order α₀ whatever the "
        "curvature. So the map for the Adam family is over (α₀, β₃): the β₃ = 0 row is Adam."
    )
    c = st.columns(3)
    key = c[0].selectbox("landscape", ADAM_LANDSCAPES, key="sm_adam_ls", persist_state="session",
                         format_func=lambda k: landscapes.REGISTRY[k].name)  # fmt: skip
    ls = landscapes.get(key)
    ss = st.session_state
    # A range slider takes its two ends from value= only, so the URL's ends go there, and
    # a new key (one per pair of ends) makes the slider take them when they change.
    ends = tuple(sorted((ss["sm_adam_lo"], ss["sm_adam_hi"])))
    lo, hi = c[1].select_slider(
        "α₀ range",
        ADAM_LRS,
        value=ends,
        key="sm_adam_lr_{:g}_{:g}".format(*ends),
        persist_state="session",
    )
    ss["sm_adam_lo"], ss["sm_adam_hi"] = lo, hi
    steps = c[2].select_slider(
        "steps", F["sm_adam_steps"].options, key="sm_adam_steps", persist_state="session"
    )
    center = ls.suggested_beta3
    beta3s = (0.0, *(float(f"{center * f:.2g}") for f in (0.1, 0.3, 1, 3, 10, 30, 100)))
    m = _adam_map(key, lo, hi, 20, beta3s, steps)
    st.plotly_chart(trusted(stabplots.adam_map_figure(m, narrow)), key="sm_adam")
    chart_summary(adam_map_summary(m))
    i = int(np.argmin(np.abs(m.lrs - ls.suggested_lr)))
    st.caption(
        f"VRAdam without weight decay from the landscape's start; β₃ around its suggested "
        f"{center:g}. At α₀ ≈ {m.lrs[i]:.3g}: Adam's loss went up on {m.increases[0, i]} steps, "
        f"VRAdam with β₃ = {m.beta3s[3]:g} on {m.increases[3, i]}."
    )


def basin_defaults(key: str) -> str:
    """The basins' default optimizers on landscape ``key`` (its suggested α₀ and β₃)."""
    ls = landscapes.get(key)
    return "; ".join((
        "gd:lr=0.01",
        "momentum:lr=0.003",
        f"adam:lr={ls.suggested_lr:g}",
        f"vradam:lr={ls.suggested_lr:g},beta3={ls.suggested_beta3:g},weight_decay=0",
    ))  # fmt: skip


def _basin_landscape() -> None:
    """Another landscape: its own default optimizers (their α₀ and β₃ depend on it)."""
    st.session_state["sm_basin_opt"] = ""


def _basin_specs() -> None:
    """The typed optimizers: kept (and in the URL) unless they are the defaults."""
    ss = st.session_state
    text = ss["sm_basin_specs"].strip()
    ss["sm_basin_opt"] = "" if text == basin_defaults(ss["sm_basin_ls"]) else text


MAX_BASINS = 6  # optimizers on the basins tab (each is a grid of runs)
MAX_SPECS_CHARS = 600  # of the optimizers typed for the basins
ERROR_CHARS = 120  # of a parser's message, which may quote the input


def shorten(text: str, limit: int = ERROR_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


def basins_section(narrow: bool = False) -> None:
    st.markdown(
        "Which minimum does a run reach from each start? Every pixel is a run; its colour is "
        "the minimum it ends within 0.01 of (light grey: not settled; dark: diverged)."
    )
    c = st.columns([2, 3, 1])
    key = c[0].selectbox("landscape", BASIN_LANDSCAPES, key="sm_basin_ls", persist_state="session",
                         on_change=_basin_landscape,
                         format_func=lambda k: landscapes.REGISTRY[k].name)  # fmt: skip
    ss = st.session_state
    ss["sm_basin_specs"] = ss["sm_basin_opt"] or basin_defaults(key)  # from the URL
    text = c[1].text_input(
        "optimizers (comma-free specs separated by ;)",
        key="sm_basin_specs",
        persist_state="session",
        on_change=_basin_specs,
    )
    n = c[2].select_slider(
        "grid", F["sm_basin_n"].options, key="sm_basin_n", persist_state="session"
    )
    ls = landscapes.get(key)
    if len(text) > MAX_SPECS_CHARS:
        st.error(f"The optimizers are {len(text):,} characters long: at most "
                 f"{MAX_SPECS_CHARS} here.")  # fmt: skip
        return
    specs = tuple(s.strip() for s in text.split(";") if s.strip())
    if not 1 <= len(specs) <= MAX_BASINS:
        st.error(f"Type 1 to {MAX_BASINS} optimizers, separated by ; (here {len(specs)}).")
        return
    try:
        b = _basins(key, specs, n, 300)
    except ValueError as exc:
        st.error(md_escape(shorten(str(exc))))
        return
    st.plotly_chart(trusted(stabplots.basin_figure(b, ls, narrow)), key="sm_basins")
    chart_summary(basin_summary(b, len(ls.minima)))
    found = [len({int(v) for v in np.unique(b.basins[k]) if v >= 0}) for k in range(len(specs))]
    st.caption(
        " · ".join(
            f"{md_escape(label)}: {f} of {len(ls.minima)} minima reached"
            for label, f in zip(b.labels, found)
        )
    )


def _stable_alone(rho: float) -> str:
    return (
        f"each stable alone (spectral radius {rho:.3f})"
        if rho < 1
        else f"not both stable alone (spectral radius {rho:.3f} ≥ 1 at this κ)"
    )


def _decoupling_text(d: S.SwitchingDemo) -> str:
    """What the two growth rates say about the scalar gate's decoupling."""
    s = d.settings
    same, coord = s["growth_per_pair_same_rates"], s["growth_per_pair_coordinate"]
    if max(s["rho_each_same_rate"], s["rho_each_coordinate_config"]) >= 1:
        return (
            f"at this κ the rate {s['eta_hi']:g} is already unstable alone on the stiff "
            f"direction (α₀·κ = {s['eta_hi'] * s['kappa']:.3g} ≥ {s['limit']:.3g}), so these "
            f"runs say nothing about the theorem; take κ < {s['limit'] / s['eta_hi']:.3g}."
        )
    if same <= 1:
        return (
            f"at this κ the two rates alternate without growth on the stiff direction "
            f"(×{same:.2f} per pair; per coordinate ×{coord:.2f})."
        )
    head = (
        'the theorem\'s "every gate sequence" claim is false for a scalar gate as much as for '
        "a per-coordinate one. A scalar gate keeps the dynamics decoupled in the Hessian's "
        "eigenbasis, but each eigendirection then sees a 1-D switched system, "
    )
    if same >= coord:
        return head + (
            f"which grows ×{same:.2f} per pair here, faster than the per-coordinate system "
            f"(×{coord:.2f}): decoupling is not what makes the gate safe."
        )
    return head + (
        f"which grows ×{same:.2f} per pair here, slower than the per-coordinate system "
        f"(×{coord:.2f}) but still growing: decoupling alone does not make the gate safe."
    )


def _pair(x: float) -> str:
    return f"×{x:.2f} per pair of steps ({'grows' if x > 1 else 'does not grow'})"


def _gates_text(d: S.SwitchingDemo) -> str:
    s = d.settings
    gate_vr, gate_pc = d.radii[S.SCALAR_GATE], d.radii[S.COORDINATE_GATE]
    rates = f"×{gate_vr:.3f} and ×{gate_pc:.3f} per step over {d.steps.size} steps"
    beyond = s["eta_hi"] * s["kappa"] >= s["limit"]
    if gate_vr < 1 and gate_pc < 1:
        return (
            f"{rates}: both converge here. The sequence of rates they pick is not the "
            "adversarial one; but the phase diagram's purple cells show the scalar gate's own "
            "sequence failing to converge below the line."
        )
    where = (
        f"α₀·κ = {s['eta_hi'] * s['kappa']:.3g} is beyond the line {s['limit']:.3g}, where the "
        "gate is not expected to converge (the phase diagram's orange region)"
        if beyond
        else f"α₀·κ = {s['eta_hi'] * s['kappa']:.3g} is below the line {s['limit']:.3g}"
    )
    which = "neither converges" if min(gate_vr, gate_pc) >= 1 else "only one converges"
    return f"{rates}: {which} here; {where}."


def switching_text(d: S.SwitchingDemo) -> str:
    """The switching tab's findings, every number from ``d``."""
    s = d.settings
    same, coord = s["growth_per_pair_same_rates"], s["growth_per_pair_coordinate"]
    return f"""
- **Adversarial scalar switching** (docs/theory.md §4: EMA momentum β = {s["beta"]:g}, L = 1):
  η = 30 and η = 30/11 are {_stable_alone(s["rho_each_scalar_step"])}; alternating them:
  {_pair(s["growth_per_pair_scalar"])}.
- **Adversarial per-coordinate switching**: diag({s["eta_hi"]:g}, {s["eta_lo"]:g}) and
  diag({s["eta_lo"]:g}, {s["eta_hi"]:g}) are {_stable_alone(s["rho_each_coordinate_config"])};
  alternating them: {_pair(coord)}.
- **Adversarial scalar switching between the same two rates** on the stiff eigendirection
  (L = κ = {s["kappa"]:g}): η = {s["eta_hi"]:g} and η = {s["eta_lo"]:g} are
  {_stable_alone(s["rho_each_same_rate"])}; alternating them: {_pair(same)}.
- **The state-dependent gates** (VRMomentum's scalar gate, and the same rule per coordinate,
  α₀ = {s["eta_hi"]:g}, floor {s["eta_lo"]:g}): {_gates_text(d)}

**What the numbers support:** {_decoupling_text(d)}
"""


def switching_section(narrow: bool = False) -> None:
    st.markdown(
        "Theorem 4.1 of the paper states that VRMomentum is stable on a quadratic *for every "
        "gate sequence* once α₀·L < B(β). **That part does not hold in general**: switching "
        "between step sizes that are each stable can make the iterates grow. Five runs on a "
        "rotated quadratic (eigenvalues 1 and κ) or on one of its eigendirections:"
    )
    c = st.columns(2)
    c[0].slider("κ", *F["sm_kappa"].bounds, step=0.5, key="sm_kappa", persist_state="session")
    c[1].slider(
        "rotation θ (radians)",
        *F["sm_theta"].bounds,
        step=0.05,
        key="sm_theta",
        persist_state="session",
    )
    d = S.gates_and_switching(
        kappa=st.session_state["sm_kappa"], theta=st.session_state["sm_theta"]
    )
    st.plotly_chart(trusted(stabplots.switching_figure(d, narrow)), key="sm_switch")
    chart_summary(switching_summary(d))
    st.markdown(switching_text(d))


def show() -> None:
    st.subheader("Stability maps")
    for warning in url_state(FIELDS):
        st.warning(warning)
    with st.sidebar:
        narrow = narrow_screen()
    tabs = st.tabs(
        ["Momentum phase diagram", "Adam family", "Basins of attraction", "Gates and switching"]
    )
    with tabs[0]:
        momentum_section(narrow)
    with tabs[1]:
        adam_section(narrow)
    with tabs[2]:
        basins_section(narrow)
    with tabs[3]:
        switching_section(narrow)
    write_url(FIELDS)
