"""The Networks page's Robustness view: the final metric against α0 over seeds, per optimizer.

The sidebar's task, batch, first seed, device and its optimizers on Adam's α0 scale are the
study's; the grid, seeds and steps are set here, within the server operator's limits (the
Tuning page's: ``VRADAM_PAGE_MAX_STEPS``, ``_SEEDS``, and ``_TRIALS`` runs per optimizer).
Rows accumulate in session state as each run ends, so Stop keeps them and Run with the same
settings resumes. The computation is :mod:`vradam.studies.robustness`, the figure
:func:`vradam.app.figures.robustness.robustness_figure`. The view's settings live in the
URL (:data:`FIELDS`, read and written with the Networks page's own fields); a value over
the operator's limits comes down to the largest option within them.
"""

from __future__ import annotations

import streamlit as st

from vradam.app.figures.colors import assign_colors
from vradam.app.figures.robustness import robustness_figure
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.tuning import LIMITS
from vradam.app.ui.url_state import UrlField
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies import robustness as rb
from vradam.studies.training import TrainConfig

__all__ = ["FIELDS", "show_robustness"]

POINTS = (4, 5, 6, 8, 11)
SEEDS = (2, 3, 5, 8, 10)
STEPS = (20, 50, 100, 150, 200, 300, 500, 1000)
BELOW = (0.5, 1.0, 1.5, 2.0)
ABOVE = (1.0, 1.5, 2.0, 2.5)
# Small by default: 6 α0 (the anchor among them) × 5 seeds × 150 steps, AdamW and VRAdam:
# 60 runs, about 20 s for the two moons on 2 CPU cores.
DEFAULTS = dict(nt_rb_points=6, nt_rb_seeds=5, nt_rb_steps=150, nt_rb_below=1.0,
                nt_rb_above=1.5)  # fmt: skip
OPTIONS = dict(nt_rb_points=POINTS, nt_rb_seeds=SEEDS, nt_rb_steps=STEPS, nt_rb_below=BELOW,
               nt_rb_above=ABOVE)  # fmt: skip
FIELDS = [UrlField(key, DEFAULTS[key], options) for key, options in OPTIONS.items()]
STATE = "nt_rb"  # session state: {"config": RobustnessConfig, "rows": [...], "device": str}


def _options(options: tuple, limit: int) -> list:
    return [o for o in options if o <= limit] or [min(options[0], limit)]


def _within(key: str, limit: int) -> None:
    """The session's value of ``key`` as the largest option within ``limit`` (a value
    from an older session or a link may be neither an option nor within it)."""
    ss = st.session_state
    allowed = _options(OPTIONS[key], limit)
    try:
        value = int(ss[key])
    except (TypeError, ValueError):
        value = DEFAULTS[key]
    ss[key] = max([o for o in allowed if o <= value] or [allowed[0]])


def _chosen(config: TrainConfig) -> tuple[list[OptimizerSpec], list[OptimizerSpec]]:
    """(optimizers on Adam's α0 scale, those left out): a shared grid suits rates of one
    scale, and GD's or heavy ball's best α0 is another (their records' network rate)."""
    specs = config.specs()
    kept = [s for s in specs if s.info.suggested_lr]
    return kept, [s for s in specs if not s.info.suggested_lr]


def robustness_controls(config: TrainConfig) -> tuple[rb.RobustnessConfig | None, str | None]:
    """The view's own controls → (study config, or None with the reason it cannot run)."""
    ss = st.session_state
    for key, value in DEFAULTS.items():
        ss.setdefault(key, value)
    _within("nt_rb_steps", LIMITS.steps)
    _within("nt_rb_seeds", LIMITS.seeds)
    columns = st.columns(5)
    columns[0].select_slider("α₀ values", POINTS, key="nt_rb_points", persist_state="session")
    columns[1].select_slider("seeds", _options(SEEDS, LIMITS.seeds), key="nt_rb_seeds",
                             persist_state="session")  # fmt: skip
    columns[2].select_slider("steps per run", _options(STEPS, LIMITS.steps), key="nt_rb_steps",
                             persist_state="session")  # fmt: skip
    columns[3].select_slider(
        "decades below",
        BELOW,
        key="nt_rb_below",
        persist_state="session",
        help="The grid starts this many decades below the task's α₀.",
    )
    columns[4].select_slider("decades above", ABOVE, key="nt_rb_above", persist_state="session",
                             help="… and ends this many decades above it.")  # fmt: skip
    kept, left_out = _chosen(config)
    texts = tuple(str(s) for s in kept)
    points, seeds = int(ss["nt_rb_points"]), int(ss["nt_rb_seeds"])
    if points * seeds > LIMITS.trials:
        return None, (f"{points} α₀ × {seeds} seeds = {points * seeds} runs per optimizer; "
                      f"this server allows {LIMITS.trials} (its operator's limit; "
                      "`python -m vradam robustness` has none). Choose fewer.")  # fmt: skip
    try:
        study = rb.RobustnessConfig(
            task=config.task, optimizers=texts, points=points, seeds=seeds, seed=config.seed,
            steps=int(ss["nt_rb_steps"]), batch_size=config.batch_size, device=config.device,
            below=float(ss["nt_rb_below"]), above=float(ss["nt_rb_above"]),
        )  # fmt: skip
    except ValueError as exc:
        return None, str(exc)
    names = ", ".join(s.display_name for s in study.specs())
    caption = (f"Optimizers (the sidebar's on Adam's α₀ scale): {names}; each runs at every "
               f"α₀ with its other settings kept. Reference of the paired differences: "
               f"{study.specs()[study.reference].display_name}.")  # fmt: skip
    if not texts:
        caption = f"No sidebar optimizer on Adam's α₀ scale: using {names}."
    if left_out:
        caption += (" Left out (another α₀ scale): "
                    + ", ".join(s.display_name for s in left_out) + ".")  # fmt: skip
    st.caption(md_escape(caption))
    return study, None


def run_robustness(study: rb.RobustnessConfig) -> None:
    """Run what is missing of ``study`` with a progress bar and a chart redrawn each seed."""
    ss = st.session_state
    state = ss.get(STATE)
    if state is None or state["config"] != study:
        state = dict(config=study, rows=[], device=rb.device_name(study))
        ss[STATE] = state
    done = {rb.run_key(r) for r in state["rows"]}
    total = study.total_runs()
    already = sum(k in done for k in study.run_keys())
    colors = assign_colors(study.specs())
    per_seed = len(study.specs()) * study.points
    bar = st.progress(already / total, text="learning-rate robustness…")
    chart = st.empty()
    for n, row in enumerate(rb.robustness_runs(study, done, device=state["device"]), 1):
        state["rows"].append(row)
        bar.progress((already + n) / total, text=f"{row['label']} at α₀ = {row['lr']:.3g}, "
                     f"seed {row['seed']} ({already + n} of {total} runs)")  # fmt: skip
        if (already + n) % per_seed == 0 and already + n < total:
            fig = robustness_figure(rb.summarize(study, state["rows"]), colors)
            chart.plotly_chart(trusted(fig), key=f"nt_rb_live_{already + n}")
    bar.empty()
    chart.empty()


def show_result(state: dict, current: rb.RobustnessConfig | None) -> None:
    study: rb.RobustnessConfig = state["config"]
    rows = rb.study_rows(study, state["rows"])
    result = rb.summarize(study, rows)
    if current is not None and current != study:
        st.caption("Results below are from the previous settings; press **Run robustness** "
                   "to run these.")  # fmt: skip
    colors = assign_colors(study.specs())
    st.plotly_chart(trusted(robustness_figure(result, colors)), key="nt_rb_chart")
    chart_summary(md_escape(rb.headline(result)))
    st.markdown("\n".join(f"- {md_escape(line)}" for line in rb.statement(result)))
    st.caption(
        f"{result.steps} steps per run, seeds {', '.join(map(str, result.seeds))}, the same "
        f"for every optimizer (same data, initial weights and batches). Line: mean "
        f"{result.metric_name} over the seeds that finished; band: their lowest to highest; "
        "hollow marker and ✕: seeds that diverged (counted, never dropped). Bars under the "
        f"curves: each optimizer's α₀ range within {100 * result.tolerance:.0f} % of its own "
        "best mean (a point with a diverged seed never qualifies); dashed: the task's α₀. "
        "Paired difference: the optimizer's value minus the reference's, seed by seed, mean ± "
        "the half-width of the 95 % t-interval over the seeds where both finished."
    )
    st.dataframe(rb.summary_rows(result), hide_index=True, width="stretch")
    with st.expander("At every α₀: mean, divergences, paired difference, gate"):
        st.dataframe(rb.difference_rows(result), hide_index=True, width="stretch")
    with st.expander("Export"):
        c1, c2 = st.columns(2)
        c1.download_button("CSV (one row per run)", lambda: rb.rows_csv(rows),
                           file_name=f"vradam-robustness-{study.task}.csv", mime="text/csv",
                           on_click="ignore")  # fmt: skip
        c2.download_button("JSON (settings, versions, measures)",
                           lambda: rb.study_json(study, rows, state["device"]),
                           file_name=f"vradam-robustness-{study.task}.json",
                           mime="application/json", on_click="ignore")  # fmt: skip
        args = " ".join(f"--optimizer {s}" for s in study.specs())
        batch = f" --batch-size {study.batch_size}" if study.batch_size else ""
        st.code(f"python -m vradam robustness --task {study.task} {args} --points "
                f"{study.points} --below {study.below:g} --above {study.above:g} --seeds "
                f"{study.seeds} --seed {study.seed} --steps {study.n_steps}{batch} --device "
                f"{study.device} --out robustness-{study.task}.csv", language="bash")  # fmt: skip


def show_robustness(config: TrainConfig) -> None:
    """The view: controls, Run and Stop, then the result (the last one kept)."""
    ss = st.session_state
    st.markdown("**Learning-rate robustness**: every optimizer at every α₀ of one log grid "
                "around the task's α₀ for AdamW, over several seeds.")  # fmt: skip
    study, problem = robustness_controls(config)
    c1, c2, _ = st.columns([2, 1, 2])  # "Run robustness" whole at 1024 px
    go = c1.button("Run robustness", type="primary", width="stretch", disabled=study is None)
    c2.button("Stop", key="nt_rb_stop", width="stretch",
              help="Stops the run; finished runs are kept, and Run resumes.")  # fmt: skip
    if problem:
        st.warning(md_escape(problem))
    elif study is not None:
        st.caption(f"{study.total_runs()} runs of {study.n_steps} steps.")
    if go and study is not None:
        run_robustness(study)
    state = ss.get(STATE)
    if state and state["rows"]:
        show_result(state, study)
    elif not go:
        st.info("Press **Run robustness**: each optimizer trains at every α₀ of the grid with "
                "the same seeds; the chart shows the final metric against α₀ with diverged "
                "runs marked, and the table how wide each one's good range is.")  # fmt: skip
