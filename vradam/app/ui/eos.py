"""The Edge-of-stability page: sharpness against each optimizer's threshold."""

from __future__ import annotations

import csv
import io

import numpy as np
import streamlit as st

from vradam.app.figures import eos as eosplots
from vradam.app.summaries import eos_summary
from vradam.app.ui.common import UrlField, chart_summary, fmt_value, trusted, url_state, write_url
from vradam.studies.eos import EoSConfig, EoSResult, QuadraticConfig, run_mlp, run_quadratic

PROBLEMS = {"mlp": "Small MLP (full batch)", "quadratic": "2-D quadratic"}
_M, _Q = EoSConfig(), QuadraticConfig()
MLP_OPTIONS = {
    "eos_lr_gd": [0.05, 0.1, 0.2, 0.3, 0.5],
    "eos_lr_adam": [0.003, 0.01, 0.02, 0.03, 0.05],
    "eos_beta3": [0.0, 1e2, 1e3, 3e3, 1e4, 3e4, 1e5],
    "eos_steps": [200, 300, 500, 800],
    "eos_every": [10, 20, 50],
}
Q_OPTIONS = {
    "eos_q_lr": [0.01, 0.02, 0.05, 0.1],
    "eos_q_beta3": [0.0, 0.01, 0.03, 0.1, 0.3, 1.0],
    "eos_q_kappa": [5.0, 25.0, 100.0],
    "eos_q_steps": [300, 600, 1200],
}
DEFAULTS = {
    "eos_lr_gd": _M.lr_gd, "eos_lr_adam": _M.lr_adam, "eos_beta3": _M.beta3,
    "eos_steps": _M.steps, "eos_every": _M.sharpness_every, "eos_q_lr": _Q.lr,
    "eos_q_beta3": _Q.beta3, "eos_q_kappa": _Q.kappa, "eos_q_steps": _Q.steps,
}  # fmt: skip
# The URL holds the whole page: a link (or a lesson) opens it exactly as it was.
FIELDS = [
    UrlField("eos_problem", "mlp", tuple(PROBLEMS)),
    *(UrlField(k, DEFAULTS[k], tuple(o)) for k, o in {**MLP_OPTIONS, **Q_OPTIONS}.items()),
]


@st.cache_data(max_entries=8, show_spinner=False)
def _quadratic(config: QuadraticConfig) -> EoSResult:
    return run_quadratic(config)


@st.cache_resource(max_entries=8, show_spinner=False)
def _mlp_cache() -> dict:
    return {}


def _mlp(config: EoSConfig) -> EoSResult:
    """Cached per configuration; a fresh run shows a progress bar (about 10 s on 2 cores)."""
    cache = _mlp_cache()
    if config not in cache:
        bar = st.progress(0.0, text="Training…")
        cache[config] = run_mlp(config, lambda f, what: bar.progress(min(f, 1.0), text=what))
        bar.empty()
        while len(cache) > 8:
            cache.pop(next(iter(cache)))
    return cache[config]


def series_csv(result: EoSResult) -> str:
    """Long-format CSV: one row per optimizer and step (sharpness where measured)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["optimizer", "spec", "step", "loss", "effective_lr", "sharpness_kind",
                "sharpness", "threshold"])  # fmt: skip
    for s in result.series:
        sharp = dict(zip(s.sharp_steps.tolist(), zip(s.sharpness, s.threshold)))
        for t, loss, eta in zip(s.steps.tolist(), s.loss, s.eta):
            lam, th = sharp.get(t, ("", ""))
            w.writerow([s.label, s.spec, t, repr(float(loss)), repr(float(eta)),
                        s.sharpness_kind, lam if lam == "" else repr(float(lam)),
                        th if th == "" else repr(float(th))])  # fmt: skip
    return out.getvalue()


def _table(result: EoSResult) -> None:
    rows = result.summary_rows()
    st.dataframe(
        [{k: fmt_value(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows],
        hide_index=True,
        width="stretch",
    )


def _edge_text(s, line: str, steps: int) -> str:
    first = s.first_edge_step()
    if first < 0:
        return (
            f"stays below {line} (sharpness at most {np.max(s.ratio):.0%} of it; it ends at "
            f"{s.sharpness[-1]:.3g} against {s.threshold[-1]:.3g})"
        )
    return (
        f"reaches {line} by step {first} and stays within 10 % of it for "
        f"{s.edge_steps()} of {steps} steps"
    )


def _verdict(result: EoSResult, adam: int, vr: int, matched: int) -> str:
    a, v, m = (result.series[i] for i in (adam, vr, matched))
    return (
        f"Here VRAdam's loss went up on {v.loss_increases()} of {len(v.loss) - 1} steps, "
        f"against {a.loss_increases()} for Adam at the same α₀ and {m.loss_increases()} for "
        f"Adam at VRAdam's mean rate η = {fmt_value(result.matched_lr)}; the oscillation "
        f"(mean |Δ log loss| over the second half) is {v.oscillation():.3g} against "
        f"{a.oscillation():.3g} and {m.oscillation():.3g}. Final loss: "
        f"{v.loss[-1]:.3g} (VRAdam), {a.loss[-1]:.3g} (Adam), {m.loss[-1]:.3g} (Adam at mean η)."
    )


def mlp_section() -> None:
    st.markdown(
        "A small tanh MLP (5 → 32 → 32 → 1) fits a fixed random *teacher* network by mean "
        "squared error, **full batch**, so every curve is deterministic. The top row plots "
        "each optimizer's sharpness (dots, Lanczos on 512 examples) against its own stability "
        "threshold (dashed): 2/η for GD, 2(1+μ)/η for torch's heavy ball, and for the "
        "adaptive methods the preconditioned sharpness λmax(P⁻¹H) against (2+2β₁)/((1−β₁)η) "
        "= 38/η for Adam, and VRAdam's **moving** threshold "
        "2(1+β₁)/((1−β₁)α₀)·(1 + min(β₃‖v‖², α₁))."
    )
    c = st.columns(5)
    lr_gd = c[0].select_slider("η (GD, heavy ball)", MLP_OPTIONS["eos_lr_gd"], key="eos_lr_gd")
    lr_adam = c[1].select_slider("α₀ (Adam, VRAdam)", MLP_OPTIONS["eos_lr_adam"],
                                 key="eos_lr_adam")  # fmt: skip
    beta3 = c[2].select_slider("β₃ (VRAdam)", MLP_OPTIONS["eos_beta3"], key="eos_beta3",
                               format_func=fmt_value)  # fmt: skip
    steps = c[3].select_slider("steps", MLP_OPTIONS["eos_steps"], key="eos_steps")
    every = c[4].select_slider("sharpness every", MLP_OPTIONS["eos_every"], key="eos_every")
    config = EoSConfig(lr_gd=lr_gd, lr_adam=lr_adam, beta3=beta3, steps=steps,
                       sharpness_every=every)  # fmt: skip
    result = _mlp(config)
    st.plotly_chart(trusted(eosplots.eos_figure(result)), key="eos_mlp_fig")
    chart_summary(eos_summary(result))
    gd, hb = result.series[0], result.series[1]
    st.markdown(
        f"**What to see.** GD {_edge_text(gd, '2/η', config.steps)}"
        + (", while the loss keeps falling, not monotonically: the edge of stability. "
           if gd.first_edge_step() >= 0 else ". ")
        + f"Heavy ball {_edge_text(hb, '2(1+μ)/η', config.steps)}"
        + (": momentum buys a larger stable step. " if hb.first_edge_step() < 0 else ". ")
        + "Adam's preconditioned sharpness rises towards 38/η and hovers there (the adaptive "
        "edge of stability) with a jagged loss. VRAdam's threshold starts high while ‖v‖ is "
        "large and comes down to Adam's as training slows; its sharpness rides that moving "
        "line. " + _verdict(result, 2, 3, 4)
    )  # fmt: skip
    st.caption(
        "‖v‖² is of order 10⁻⁴ at the edge on this problem, so β₃ must be large (10⁴) for "
        "the gate to act there; with β₃ ≤ 10³ VRAdam behaves like Adam. A smoother loss is "
        "not always a lower one: compare the final losses above before concluding."
    )
    _table(result)
    st.download_button("Download the runs (CSV)", series_csv(result), "edge_of_stability_mlp.csv",
                       "text/csv", key="eos_mlp_csv")  # fmt: skip


def quadratic_section() -> None:
    st.markdown(
        "A rotated ravine f = ½(x'² + κ y'²)·L/κ with κ = 25, from a fixed start. Adam never "
        "diverges on a quadratic: as the gradient shrinks so does its preconditioner, so the "
        "preconditioned sharpness λmax(P⁻¹H) **grows** until it meets 38/η, and from then "
        "on the loss oscillates. β₂ = 0.9 lets the preconditioner forget the large early "
        "gradients within the run (with 0.999 the edge comes after thousands of steps)."
    )
    c = st.columns(4)
    lr = c[0].select_slider("α₀", Q_OPTIONS["eos_q_lr"], key="eos_q_lr")
    beta3 = c[1].select_slider("β₃", Q_OPTIONS["eos_q_beta3"], key="eos_q_beta3")
    kappa = c[2].select_slider("condition number κ", Q_OPTIONS["eos_q_kappa"], key="eos_q_kappa")
    steps = c[3].select_slider("steps", Q_OPTIONS["eos_q_steps"], key="eos_q_steps")
    config = QuadraticConfig(lr=lr, beta3=beta3, kappa=kappa, steps=steps)
    result = _quadratic(config)
    st.plotly_chart(trusted(eosplots.eos_figure(result)), key="eos_q_fig")
    chart_summary(eos_summary(result))
    adam, vr = result.series[0], result.series[1]
    st.markdown(
        f"**What to see.** Adam {_edge_text(adam, '38/η', config.steps)}; at the edge "
        "each step overshoots along the stiff direction and the loss saw-tooths. VRAdam's "
        "gate lifts its threshold whenever ‖v‖ grows, so the same overshoot is damped: it "
        f"{_edge_text(vr, 'its moving threshold', config.steps)}. " + _verdict(result, 0, 1, 2)
    )
    _table(result)
    st.download_button("Download the runs (CSV)", series_csv(result), "edge_of_stability_quad.csv",
                       "text/csv", key="eos_q_csv")  # fmt: skip


def show() -> None:
    st.subheader("Edge of stability")
    st.markdown(
        "A step is stable on a quadratic when the curvature along it is below a threshold "
        "that depends on the optimizer and its rate. In training, the sharpness rises until "
        "it meets that threshold and then hovers there: the **edge of stability**, where "
        "the loss oscillates. VRAdam's threshold moves with the velocity."
    )
    for warning in url_state(FIELDS):
        st.warning(warning)
    problem = st.radio("Problem", list(PROBLEMS), key="eos_problem", horizontal=True,
                       format_func=PROBLEMS.get, label_visibility="collapsed")  # fmt: skip
    if problem == "mlp":
        mlp_section()
    else:
        quadratic_section()
    write_url(FIELDS)
