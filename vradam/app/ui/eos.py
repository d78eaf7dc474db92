"""The Edge-of-stability page: sharpness against each optimizer's threshold."""

from __future__ import annotations

import contextlib
import csv
import io
import threading
from dataclasses import replace

import numpy as np
import streamlit as st

from vradam.app.figures import eos as eosplots
from vradam.app.figures.eos_frontier import frontier_figure, symbol_key
from vradam.app.figures.ticks import tick_label
from vradam.app.summaries import eos_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.sliders import fmt_value, slider_row
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.studies import eos_precision, frontier
from vradam.studies.eos import (
    EoSConfig,
    EoSResult,
    Finding,
    QuadraticConfig,
    findings,
    mlp_stream,
    run_quadratic_starts,
    sharpness_examples,
)

PROBLEMS = {"mlp": "Small MLP (full batch)", "quadratic": "2-D quadratic"}
FRONTIER = {"eos": "this MLP", "quadratic": "the 2-D ravine", "moons": "two moons",
            "digits": "8×8 digits"}  # fmt: skip
_M, _Q = EoSConfig(), QuadraticConfig()
MLP_OPTIONS = {
    "eos_lr_gd": [0.05, 0.1, 0.2, 0.3, 0.5],
    "eos_lr_adam": [0.003, 0.01, 0.02, 0.03, 0.05],
    "eos_beta3": [0.0, 1e2, 1e3, 3e3, 1e4, 3e4, 1e5],
    "eos_steps": [200, 300, 500, 800],
    "eos_every": [10, 20, 50],
    "eos_seeds": [1, 3, 5],
}
Q_OPTIONS = {
    "eos_q_lr": [0.01, 0.02, 0.05, 0.1],
    "eos_q_beta3": [0.0, 0.01, 0.03, 0.1, 0.3, 1.0],
    "eos_q_kappa": [5.0, 25.0, 100.0],
    "eos_q_steps": [300, 600, 1200],
    "eos_q_starts": [1, 5, 9],
}
DEFAULTS = {
    "eos_lr_gd": _M.lr_gd, "eos_lr_adam": _M.lr_adam, "eos_beta3": _M.beta3,
    "eos_steps": _M.steps, "eos_every": _M.sharpness_every, "eos_q_lr": _Q.lr,
    "eos_q_beta3": _Q.beta3, "eos_q_kappa": _Q.kappa, "eos_q_steps": _Q.steps,
    "eos_seeds": 3, "eos_q_starts": 9,
}  # fmt: skip
# The URL holds the whole page: a link (or a lesson) opens it exactly as it was.
FIELDS = [
    UrlField("eos_problem", "mlp", tuple(PROBLEMS)),
    UrlField("eos_frontier", "eos", tuple(FRONTIER)),
    *(UrlField(k, DEFAULTS[k], tuple(o)) for k, o in {**MLP_OPTIONS, **Q_OPTIONS}.items()),
]


@st.cache_data(max_entries=8, show_spinner=False)
def _quadratic(config: QuadraticConfig, n_starts: int) -> list[EoSResult]:
    return run_quadratic_starts(config, n_starts)


@st.cache_resource(max_entries=1, show_spinner=False)
def _mlp_cache() -> tuple[dict, threading.Lock]:
    """Finished MLP runs by configuration (seed included), shared by every session: a run
    is the same for everyone, and nothing here changes a stored result."""
    return {}, threading.Lock()


MLP_CACHE = 48  # runs kept (a run is ~0.1 MB: 16 settings × 3 seeds)


def _cached_mlp(configs: list[EoSConfig]) -> list[EoSResult | None]:
    cache, lock = _mlp_cache()
    with lock:
        return [cache.get(c) for c in configs]


def _store_mlp(configs: list[EoSConfig], results: list[EoSResult]) -> None:
    cache, lock = _mlp_cache()
    with lock:
        cache.update(zip(configs, results))
        while len(cache) > MLP_CACHE:
            cache.pop(next(iter(cache)))


def _mlp(configs: list[EoSConfig], what: str, chart=None, narrow: bool = False,
         status=None) -> list[EoSResult]:  # fmt: skip
    """The runs of ``configs`` (one setting, several seeds): from the cache, or trained
    together (about a second per seed on one core) with a progress bar (in ``status``, an
    st.empty, when given); with ``chart`` (an st.empty) the first seed's figure is drawn
    as it trains."""
    found = _cached_mlp(configs)
    todo = [c for c, r in zip(configs, found) if r is None]
    if todo:
        place = status if status is not None else st.empty()
        bar = place.progress(0.0, text=f"{what}…")
        chunk = max(1, todo[0].steps // 4)
        stream = mlp_stream(todo[0], [c.seed for c in todo], chunk)
        with contextlib.closing(stream):
            for fraction, partial in stream:
                bar.progress(fraction, text=f"{what}: {fraction:.0%}")
                if chart is not None and not partial[0].complete:
                    chart.plotly_chart(trusted(eosplots.eos_figure(partial[0], narrow=narrow)))
        place.empty()
        _store_mlp(todo, partial)
        done = dict(zip(todo, partial))
        found = [r if r is not None else done[c] for c, r in zip(configs, found)]
    return found


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
        [{k: f"{v:.3g}" if isinstance(v, float) else v for k, v in r.items()} for r in rows],
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


def window_text(result: EoSResult) -> str:
    """VRAdam against Adam over the comparison window, one run; every number measured."""
    a, v, m = result.role("adam"), result.role("vradam"), result.role("matched")
    start = result.window_start
    first, last = result.window
    n = last - first
    pulled = (
        ", pulled down by the early phase, where ‖v‖ is large and the gate cuts η most"
        if v.mean_eta() < 0.95 * result.matched_lr
        else ""
    )
    return (
        f"**VRAdam against Adam**, over the comparison window (steps {first}–{last}, "
        f"shaded). The control is Adam at VRAdam's mean rate over that window, "
        f"η = {fmt_value(result.matched_lr)} (over the whole run VRAdam's mean η is "
        f"{fmt_value(v.mean_eta())}{pulled}). "
        f"VRAdam's loss went up on {v.loss_increases(start)} of {n} steps, the control's on "
        f"{m.loss_increases(start)} and Adam's at the same α₀ on {a.loss_increases(start)}: "
        "that counts a tiny wiggle like a big one. How far the loss climbed in total, "
        f"Σ max(Δ log loss, 0), is {v.upward_movement(start):.3g} against "
        f"{m.upward_movement(start):.3g} and {a.upward_movement(start):.3g}; the amplitude "
        f"with the trend removed (std of Δ log loss) is {v.amplitude(start):.3g} against "
        f"{m.amplitude(start):.3g} and {a.amplitude(start):.3g}. Final loss: "
        f"{v.loss[-1]:.3g} (VRAdam), {m.loss[-1]:.3g} (Adam at VRAdam's mean rate over the "
        f"window), {a.loss[-1]:.3g} (Adam at α₀). {gate_text(v)}"
    )


def gate_text(vr) -> str:
    """What VRAdam's gate did over the whole run (vradam.sim.measures.gate_activity): η/α₀
    at its minimum, median and last step, how often it clipped or stayed at the full rate,
    and whether VRAdam behaved as Adam at α₀ (or at α₀/(1+α₁)) or was gated."""
    gate = vr.gate()
    if gate is None:
        return ""
    return f"**What VRAdam's gate did** over the whole run: {gate.text()}."


def _by_statement(found: list[Finding], start: str) -> Finding:
    return next(f for f in found if f.statement.startswith(start))


def _size_word(f: Finding) -> str:
    worst = max(f.ratios)
    if worst <= 1 / 3:
        return "far smaller"
    if worst < 1:
        return "smaller"
    return "not consistently smaller"


def findings_text(found: list[Finding], what: str) -> str:
    """The sentence over all runs; the words follow the measured ratios."""
    up = _by_statement(found, "VRAdam's loss climbs")
    amp = _by_statement(found, "VRAdam oscillates")
    count = _by_statement(found, "VRAdam's loss goes up")
    ctrl = _by_statement(found, "VRAdam ends lower than the control")
    same = _by_statement(found, "VRAdam ends lower than Adam at the same")
    n = len(up.holds)
    size_vs_count = (
        " The gate shrinks how far the loss climbs more than how often it climbs."
        if max(up.ratios) < min(count.ratios)
        else ""
    )
    not_lower = (
        ": a smoother loss is not always a lower one"
        if up.count and min(ctrl.count, same.count) < n
        else ""
    )
    return (
        f"**Over {n} {what}.** How far VRAdam's loss climbs is {_size_word(up)} than the "
        f"control's: {up.ratio_range()} of it (lower in {up.frequency()}); its amplitude "
        f"{amp.ratio_range()} of the control's ({amp.frequency()}); the number of steps its "
        f"loss goes up {count.ratio_range()} of the control's ({count.frequency()})."
        f"{size_vs_count} VRAdam ends lower than the control in {ctrl.frequency()} and lower "
        f"than Adam at the same α₀ in {same.frequency()}{not_lower}. Each statement, its "
        "measure and every run's numbers:"
    )


def _findings_table(found: list[Finding], runs: str) -> None:
    """A static table (it wraps the statements instead of cutting them)."""
    st.table([f.row(runs) for f in found], hide_index=True, border="horizontal")


def mlp_section(narrow: bool = False) -> None:
    n_sharp = sharpness_examples(EoSConfig())
    st.markdown(
        "A small tanh MLP (5 → 32 → 32 → 1) fits a fixed random *teacher* network by mean "
        "squared error, **full batch**, so every curve is deterministic for a given seed. The "
        "top row plots each optimizer's sharpness (dots: the top Hessian eigenvalue by "
        f"Lanczos on Hessian-vector products, on all {n_sharp} training examples) against its "
        "own stability threshold (dashed): 2/η for GD, 2(1+μ)/η for torch's heavy ball, and "
        "for the adaptive methods the preconditioned sharpness λmax(P⁻¹H) against "
        "(2+2β₁)(1−β₁ᵗ)/((1−β₁)η) for Adam (38/η once the bias correction fades), and "
        "VRAdam's **moving** threshold, the same with η_t = α₀/(1 + min(β₃‖v‖², α₁)) in "
        "place of η (docs/theory.md §2)."
    )
    lr_gd, lr_adam, beta3, steps, every = slider_row(
        MLP_OPTIONS,
        {"eos_lr_gd": "η (GD, heavy ball)", "eos_lr_adam": "α₀ (Adam, VRAdam)",
         "eos_beta3": "β₃ (VRAdam)", "eos_steps": "steps", "eos_every": "sharpness every"},
        formats={"eos_beta3": tick_label},  # 1e4, not 1e+04
    )  # fmt: skip
    config = EoSConfig(lr_gd=lr_gd, lr_adam=lr_adam, beta3=beta3, steps=steps,
                       sharpness_every=every)  # fmt: skip
    status, chart = st.empty(), st.empty()  # the progress bar above the growing figure
    (result,) = _mlp([config], "Training seed 0", chart, narrow, status)
    chart.plotly_chart(trusted(eosplots.eos_figure(result, narrow=narrow)), key="eos_mlp_fig")
    chart_summary(eos_summary(result))
    gd, hb = result.role("gd"), result.role("momentum")
    adam, vr = result.role("adam"), result.role("vradam")
    st.markdown(
        f"**What to see** (seed 0, plotted). GD {_edge_text(gd, '2/η', config.steps)}"
        + (", while the loss keeps falling, not monotonically: the edge of stability. "
           if gd.first_edge_step() >= 0 else ". ")
        + f"Heavy ball {_edge_text(hb, '2(1+μ)/η', config.steps)}"
        + (": momentum buys a larger stable step. " if hb.first_edge_step() < 0 else ". ")
        + f"Adam's preconditioned sharpness {_edge_text(adam, '38/η', config.steps)}, with a "
        "jagged loss (the adaptive edge of stability). VRAdam's threshold starts high while "
        f"‖v‖ is large and comes down towards Adam's as training slows; its sharpness "
        f"{_edge_text(vr, 'that moving line', config.steps)}."
    )  # fmt: skip
    st.markdown(window_text(result))
    _table(result)
    st.download_button("Download the runs (CSV)", series_csv(result), "edge_of_stability_mlp.csv",
                       "text/csv", key="eos_mlp_csv")  # fmt: skip
    n_seeds = st.columns([2, 3])[0].select_slider(
        "Measure every statement on this many seeds (0, 1, …)",
        MLP_OPTIONS["eos_seeds"],
        key="eos_seeds",
        persist_state="session",
        help="Each seed draws the MLP's initial weights and its 256 input "
        "points (the teacher network is fixed); seed 0 is the one plotted.",
    )
    others = [replace(config, seed=seed) for seed in range(1, n_seeds)]
    results = [result, *_mlp(others, f"Training seeds 1–{n_seeds - 1}" if others else "")]
    found = findings(results)
    st.markdown(findings_text(found, "seeds" if n_seeds > 1 else "seed"))
    _findings_table(found, "seeds " + ", ".join(str(i) for i in range(n_seeds)))
    precision_section()


def precision_section() -> None:
    """The page's statements over more seeds in float32 and float64 (stored), and what the
    damping costs, and where the gate is at beta3="auto", in sentences from those rows."""
    rows = precision_rows()
    words = eos_precision.precision_sentences(rows)
    st.markdown(
        "**What holds in both precisions.** At the edge the runs are chaotic: a change as "
        "small as rounding changes their details and sometimes a count above (a seed draws "
        "the MLP's initial weights and its input points; the teacher is the same for all). "
        f"So the page's statements were also measured on {len({r['seed'] for r in rows})} "
        "seeds in float32 and in float64, at the default settings (table below). "
        f"{words['damping']} {words.get('auto', '')}"
    )
    st.table(eos_precision.precision_table(rows, "page"), hide_index=True, border="horizontal")
    st.caption(
        "Stored measurement (assets/evidence/eos-findings.csv), reproduced by `python -m "
        "vradam.studies.eos_precision eos-findings.csv`; the table above this one is "
        "measured live, in float32, on the seeds chosen."
    )


def quadratic_section(narrow: bool = False) -> None:
    st.markdown(
        "A rotated ravine f = ½(u² + κw²), with (u, w) the coordinates rotated by 30° "
        "(curvatures 1 and κ), from a fixed start. Adam never diverges on a quadratic: as "
        "the gradient shrinks so does its preconditioner, so the preconditioned sharpness "
        "λmax(P⁻¹H) **grows** until it meets 38/η, and from then on the loss oscillates. "
        "β₂ = 0.9 lets the preconditioner forget the large early gradients within the run "
        "(with 0.999 the edge comes after thousands of steps)."
    )
    lr, beta3, kappa, steps = slider_row(
        Q_OPTIONS,
        {"eos_q_lr": "α₀", "eos_q_beta3": "β₃", "eos_q_kappa": "condition number κ",
         "eos_q_steps": "steps"},
    )  # fmt: skip
    config = QuadraticConfig(lr=lr, beta3=beta3, kappa=kappa, steps=steps)
    n_starts = st.session_state.get("eos_q_starts", DEFAULTS["eos_q_starts"])
    results = _quadratic(config, n_starts)
    result = results[0]
    st.plotly_chart(trusted(eosplots.eos_figure(result, narrow=narrow)), key="eos_q_fig")
    chart_summary(eos_summary(result))
    adam, vr = result.role("adam"), result.role("vradam")
    st.markdown(
        f"**What to see** (the preset start, plotted). Adam "
        f"{_edge_text(adam, '38/η', config.steps)}; at the edge each step overshoots along "
        "the stiff direction and the loss saw-tooths. VRAdam's gate lifts its threshold "
        "whenever ‖v‖ grows, which damps the same overshoot: it "
        f"{_edge_text(vr, 'its moving threshold', config.steps)}."
    )
    st.markdown(window_text(result))
    _table(result)
    st.download_button("Download the runs (CSV)", series_csv(result), "edge_of_stability_quad.csv",
                       "text/csv", key="eos_q_csv")  # fmt: skip
    st.columns([2, 3])[0].select_slider(
        "Measure every statement from this many starts",
        Q_OPTIONS["eos_q_starts"],
        key="eos_q_starts",
        persist_state="session",
        help="The preset start, and the others on a circle of radius 0.5 "
        "around it; the preset start is the one plotted.",
    )
    found = findings(results)
    st.markdown(findings_text(found, "starts" if n_starts > 1 else "start"))
    _findings_table(found, "the preset start, then the circle" if n_starts > 1 else "the start")


@st.cache_data(max_entries=8, show_spinner=False)
def _frontier_text(problem: str) -> str:
    from importlib import resources

    return resources.files("vradam").joinpath(f"assets/evidence/frontier-{problem}.csv").read_text()


@st.cache_data(max_entries=2, show_spinner=False)
def _precision_text() -> str:
    from importlib import resources

    return resources.files("vradam").joinpath("assets/evidence/eos-findings.csv").read_text()


def precision_rows() -> list[dict]:
    """The stored measurement of the page's statements over 10 seeds in both precisions
    (vradam.studies.eos_precision)."""
    return eos_precision.read_rows(_precision_text())


def frontier_section(narrow: bool = False) -> None:
    """Is the damping more than a smaller step? The frontier from the shipped rows."""
    st.markdown("#### Is the damping more than a smaller step?")
    st.markdown(
        "VRAdam damps the oscillation by shrinking its step while ‖v‖ is large. A smaller "
        "step damps too, and so does a schedule that decays the rate. Each point below is "
        "one setting, its mean over the seeds: how much the loss climbed over the second half "
        "of the run (Σ max(Δ ln loss, 0)) against where it ended. The baseline ran at every "
        "α₀ of a grid, with a constant rate (circles) and with a warm-up then cosine decay "
        "(diamonds); its lower-left envelope is its frontier (dashed). VRAdam ran over a "
        "grid of β₃ (colours) at several α₀ (shapes). A VRAdam point below the dashed line "
        "would be damping that no baseline setting matches."
    )
    problem = st.radio("Frontier on", list(FRONTIER), key="eos_frontier", horizontal=True,
                       persist_state="session", format_func=FRONTIER.get)  # fmt: skip
    text = _frontier_text(problem)
    # in the runs' order, whatever order the workers that computed them wrote them in
    rows = frontier.study_rows(frontier.FrontierConfig(problem=problem), frontier.read_rows(text))
    verdict = frontier.frontier_verdict(rows)
    p = frontier.PROBLEMS[problem]
    fig = frontier_figure(verdict, p.baseline_name, height=620 if narrow else 460)
    st.plotly_chart(trusted(fig), key="eos_frontier_fig")
    chart_summary(
        f"oscillation against final training loss on {p.name}: {len(verdict.baseline)} "
        f"{p.baseline_name} settings, {len(verdict.comparisons)} VRAdam settings; "
        f"{verdict.below} VRAdam settings below {p.baseline_name}'s frontier"
    )
    st.markdown(f"**Verdict.** {verdict.sentence}")
    st.caption(
        f"Means over {verdict.seeds} seeds (final loss: geometric). VRAdam's markers: "
        f"{symbol_key(verdict)}. Bars: the seeds' lowest and highest values. Oscillation "
        f"is measured on {p.oscillation_of}; final loss: the {p.final}. A run whose loss "
        f"never rose in the window (oscillation 0) is drawn at the left edge. "
        f"{p.baseline_name}: `{p.baseline}`, "
        f"VRAdam: `{p.vradam}`, {p.steps} steps. Reproduce: `python -m vradam frontier "
        f"--problem {problem} --out frontier-{problem}.csv`."
    )
    st.download_button("Download the frontier's runs (CSV)", text, f"frontier-{problem}.csv",
                       "text/csv", key="eos_frontier_csv")  # fmt: skip


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
    problem = st.radio(
        "Problem",
        list(PROBLEMS),
        key="eos_problem",
        persist_state="session",
        horizontal=True,
        format_func=PROBLEMS.get,
        label_visibility="collapsed",
    )
    narrow = narrow_screen()  # a phone: the figures stack their panels
    if problem == "mlp":
        mlp_section(narrow)
    else:
        quadratic_section(narrow)
    frontier_section(narrow)
    write_url(FIELDS)
