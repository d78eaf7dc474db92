"""The Playground's scenarios: the pills that load one, and the loaded scenario's claim
with its measured frequency and the map of where it holds."""

from __future__ import annotations

import streamlit as st

from vradam.app.figures.claims import claim_map
from vradam.app.playground import PlaygroundConfig
from vradam.app.scenarios import SCENARIOS
from vradam.app.summaries import claim_map_summary
from vradam.app.ui.charts import chart_summary, trusted


def _on_scenario() -> None:
    key = st.session_state.get("pg_scenario_pick")
    if key in SCENARIOS:
        st.session_state["pg_pending"] = SCENARIOS[key].config
        st.session_state["pg_scenario"] = key


def scenario_buttons() -> None:
    st.pills(
        "Scenarios: one click sets everything up",
        list(SCENARIOS),
        key="pg_scenario_pick",
        persist_state="session",
        format_func=lambda k: SCENARIOS[k].title,
        on_change=_on_scenario,
    )


def scenario_text(config: PlaygroundConfig) -> None:
    """The loaded scenario's claim with its measured frequency, and where it holds."""
    key = st.session_state.get("pg_scenario")
    scenario = SCENARIOS.get(key) if key else None
    if scenario is None or scenario.config != config:  # a link to a scenario shows it too
        scenario = next((s for s in SCENARIOS.values() if s.config == config), None)
    if scenario is None:
        return
    with st.spinner("Measuring the claim around this start…"):
        claim, measured = scenario.claim(), scenario.measure()  # cached per process
    st.info(f"**{scenario.title}.** {claim}", icon="👀")
    with st.expander(f"Where the claim holds: {measured.count} of {measured.total} runs",
                     expanded=True):  # fmt: skip
        left, right = st.columns(2, vertical_alignment="center")
        runs = measured.holds.shape[0] * measured.holds.shape[1]
        fig = claim_map(measured.per_start(), measured.starts, config.start_point(), runs)
        right.plotly_chart(trusted(fig), key="pg_claim_map",
                           config={"displayModeBar": False})  # fmt: skip
        with left:
            st.markdown(
                f"Each cell is a start near the preset one (ringed), run for "
                f"{measured.runs_text()}: blue where the claim held in all {runs} runs from that "
                "start, vermillion where it held in none, the count where it held in some."
            )
            st.caption(f"How it is measured: {scenario.what}")
        with right:
            chart_summary(claim_map_summary(measured))
