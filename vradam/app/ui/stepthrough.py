"""The Playground's step-through mode: one optimizer, one update at a time, its maths with
the numbers (:mod:`vradam.app.stepthrough`) beside the step on the map."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vradam.app import stepthrough
from vradam.app.figures import playground as plots
from vradam.app.figures.colors import assign_colors
from vradam.app.playground import PlaygroundConfig
from vradam.app.summaries import race_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.playground_cache import cached_background, cached_replay, cached_run


def _step_by(delta: int, last: int) -> None:
    ss = st.session_state
    ss["pg_step_t"] = int(min(max(1, ss.get("pg_step_t", 1) + delta), last))


@st.fragment
def step_through(config: PlaygroundConfig, narrow: bool = False) -> None:
    """One optimizer, one update at a time: its maths with the numbers, and the step on the map."""
    ss = st.session_state
    labels = [spec.display_name for spec in config.specs()]
    T = config.steps
    c = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
    index = c[0].selectbox("optimizer", range(len(labels)), format_func=lambda i: labels[i],
                           key="pg_step_opt", persist_state="session")  # fmt: skip
    if not 1 <= ss.get("pg_step_t", 1) <= T:
        ss["pg_step_t"] = 1
    t = c[1].number_input(f"update t (1 … {T})", min_value=1, max_value=T, step=1,
                          key="pg_step_t", persist_state="session")  # fmt: skip
    c[2].button("◀ Back", on_click=_step_by, args=(-1, T), disabled=t <= 1, width="stretch")
    c[3].button("Next ▶", on_click=_step_by, args=(1, T), disabled=t >= T, width="stretch")
    r = cached_replay(config, index)
    trajectories = cached_run(config)
    ls = config.landscape_obj()
    bg = cached_background(config.landscape, config.landscape_params, config.expression,
                           config.domain)  # fmt: skip
    colors = assign_colors(config.specs())
    fig = plots.path_figure(ls, trajectories, colors, bg, highlight=(index, int(t) - 1),
                            height=300 if narrow else 360, stacked=narrow)  # fmt: skip
    st.plotly_chart(trusted(fig), key="pg_step_fig")
    chart_summary(race_summary(trajectories, ls.min_value))
    st.caption(
        f"The black segment is update {t} of {md_escape(labels[index])}, from θ_{int(t) - 1} "
        f"(white) to θ_{t}; the dot on the loss curve marks f(θ_{int(t) - 1}). Run 0 (the "
        "chosen start); with noise, g_t includes the same seeded noise the run used."
    )
    if not np.all(np.isfinite(r.theta[int(t)])):
        st.warning(f"The run is no longer finite at update {t}: it diverged earlier.")
    lines = stepthrough.step_lines(r, int(t))
    half = (len(lines) + 1) // 2
    for col, part in zip(st.columns(2, gap="medium"), (lines[:half], lines[half:])):
        with col:
            for what, tex in part:
                st.caption(what)
                st.latex(tex)
