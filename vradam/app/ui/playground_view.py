"""The Playground page's main area: the landscape's formula, the race (2-D map and panels,
or the 3-D surface), the results table, the step-through and the exports."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from vradam.app import playground
from vradam.app.figures import playground as plots
from vradam.app.figures.export import to_html, to_png
from vradam.app.playground import PlaygroundConfig
from vradam.app.summaries import race_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.playground_cache import cached_race_figure, cached_run, cached_surface_figure
from vradam.app.ui.presenter import presenter_on
from vradam.app.ui.scenarios import scenario_buttons, scenario_text
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.stepthrough import step_through
from vradam.sim import export

P = "pg"  # session-state prefix of this page (as in vradam.app.ui.playground)
PANEL_LABELS = {"loss": "loss", "effective_lr": "η_t", "velocity_sq_norm": "‖v‖²",
                "step_norm": "step size", "sharpness": "sharpness"}  # fmt: skip
VIEWS = {"2-D": "2-D", "3-D": "3-D"}
CHART_HEIGHT = 560  # px, the race side by side
PRESENTER_HEIGHT = 540  # px: with the toolbar above it, fits a 1024×768 projector


def _sync_url(config: PlaygroundConfig) -> None:
    """Write the config to the URL (one update, replacing the history entry: see
    ui.style.HISTORY_SCRIPT). The bare address stands for the default setup, so a first
    visit writes nothing."""
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    if not query and config == playground.default_config():
        return
    if query != playground.query_lists(config):
        st.query_params.from_dict(config.to_query())


def landscape_header(config: PlaygroundConfig) -> None:
    ls = config.landscape_obj()
    left, right = st.columns([3, 2])
    with left:
        st.latex(playground.formula_latex(ls.formula))
    right.markdown(f"**{md_escape(ls.name)}.** {ls.lesson}")


def race_layout(narrow: bool, presenter: bool) -> plots.RaceLayout:
    """Side by side at a height that fits the screen, or stacked on a phone."""
    return plots.RaceLayout(
        stacked=narrow, height=PRESENTER_HEIGHT if presenter else CHART_HEIGHT,
        font=16.0 if presenter else 12.0,
    )  # fmt: skip


def chart_toolbar(presenter: bool) -> tuple[tuple[str, ...], str]:
    """Which panels to show and the 2-D or 3-D view (and, in the presenter view, the
    scenarios, in a popover: the chart then fits a projector's screen)."""
    ss = st.session_state
    ss.setdefault("pg_panels", list(plots.PANEL_NAMES))
    ss.setdefault("pg_view", "2-D")
    pills = dict(
        label="Panels",
        options=plots.PANEL_NAMES,
        selection_mode="multi",
        key="pg_panels",
        persist_state="session",
        format_func=PANEL_LABELS.get,
        help="The synced panels right of the map.",
    )
    view = dict(
        label="View",
        options=list(VIEWS),
        key="pg_view",
        persist_state="session",
        required=True,
        format_func=VIEWS.get,
    )
    if presenter:
        c = st.columns([1, 1, 1.6], vertical_alignment="bottom")
        with c[0].popover("Scenarios", width="stretch"):
            scenario_buttons()
        with c[1].popover("Panels", width="stretch"):
            st.pills(**pills)
        c[2].segmented_control(**view, label_visibility="collapsed")
    else:
        c = st.columns([4, 1], vertical_alignment="bottom")
        c[0].pills(**pills)
        c[1].segmented_control(**view)
    chosen = set(ss.get("pg_panels") or [])
    return tuple(p for p in plots.PANEL_NAMES if p in chosen), ss.get("pg_view") or "2-D"


def surface_view(config: PlaygroundConfig, narrow: bool, presenter: bool) -> None:
    height = 440 if narrow else PRESENTER_HEIGHT if presenter else CHART_HEIGHT
    fig = trusted(cached_surface_figure(config, height, narrow))
    st.plotly_chart(fig, key="pg_surface",
                    config={"displaylogo": False, "displayModeBar": not narrow})  # fmt: skip
    chart_summary(race_summary(cached_run(config), config.landscape_obj().min_value))


@st.fragment
def race_chart(
    config: PlaygroundConfig,
    panels: tuple[str, ...] = plots.PANEL_NAMES,
    narrow: bool = False,
    presenter: bool = False,
) -> None:
    fig = trusted(cached_race_figure(config, panels, race_layout(narrow, presenter)))
    event = st.plotly_chart(
        fig, key="pg_chart", on_select="rerun", selection_mode="points",
        config={"displaylogo": False, "scrollZoom": False, "displayModeBar": not narrow,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]},
    )  # fmt: skip
    chart_summary(race_summary(cached_run(config), config.landscape_obj().min_value))
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    on_map = {i for i, trace in enumerate(fig["data"]) if trace.get("xaxis") == "x"}
    map_points = [p for p in points if p.get("curve_number") in on_map and p.get("x") is not None]
    if map_points:
        p = map_points[0]
        marker = (round(float(p["x"]), 9), round(float(p["y"]), 9))
        if st.session_state.get("pg_last_click") != marker:
            st.session_state["pg_last_click"] = marker
            st.session_state["pg_pending"] = replace(config, start=marker)
            st.rerun(scope="app")


def results(config: PlaygroundConfig) -> None:
    trajectories = cached_run(config)
    for message in playground.divergence_messages(trajectories):
        st.warning(md_escape(message), icon="⚠️")
    rows = playground.results_table(config, trajectories)
    st.dataframe(
        rows, hide_index=True, width="stretch",
        column_config={
            "final loss": st.column_config.NumberColumn(format="%.4g"),
            "distance to nearest minimum": st.column_config.NumberColumn(format="%.3g"),
            "loss increases": st.column_config.NumberColumn(
                help="How many steps the loss went up: a measure of oscillation."),
        },
    )  # fmt: skip


def exports(config: PlaygroundConfig) -> None:
    trajectories = cached_run(config)
    stem = f"vradam-{config.landscape}"
    c = st.columns(4)  # (the downloads are written when clicked, metadata included)
    c[0].download_button(
        "CSV (every step)",
        lambda: export.to_csv(trajectories, meta=playground.export_meta(config)),
        file_name=f"{stem}.csv", mime="text/csv", on_click="ignore",
    )  # fmt: skip
    c[1].download_button(
        "JSON (with versions)",
        lambda: export.to_json(trajectories, playground.export_meta(config)),
        file_name=f"{stem}.json", mime="application/json", on_click="ignore",
    )  # fmt: skip
    c[2].download_button(
        "HTML (plays offline)",
        lambda: to_html(cached_race_figure(config), auto_play=False),
        file_name=f"{stem}.html", mime="text/html", on_click="ignore",
    )  # fmt: skip
    if c[3].button("Render PNG", help="Static image of the final state (uses Chromium)."):
        with st.spinner("Rendering with Kaleido…"):
            try:
                st.session_state["pg_png"] = (config, png_bytes(config))
            except Exception as exc:  # any Kaleido or Chromium failure is reported, not raised
                st.error(
                    "PNG export needs Kaleido and a Chromium browser "
                    f"(`apt-get install chromium`); it failed with: {exc}"
                )
    png = st.session_state.get("pg_png")
    if png is not None and png[0] == config:
        c[3].download_button("Download PNG", png[1], file_name=f"{stem}.png", mime="image/png",
                             on_click="ignore")  # fmt: skip
    st.markdown("**Copy as Python**: the same run with the `vradam` package.")
    st.code(playground.python_snippet(config), language="python")


def png_bytes(config: PlaygroundConfig) -> bytes:
    """The race at its last step, as a PNG (Kaleido with the system Chromium)."""
    fig = plots.final_state_figure(cached_race_figure(config))
    return to_png(fig, width=1600, height=800, scale=1)


CAPTION_2D = (
    "Map: every optimizer's path on the landscape (darker = higher), its current position "
    "and an arrow along −v, its velocity (first moment or momentum buffer, scaled per "
    "optimizer). Panels, for the chosen start: loss, the effective learning rate η_t, ‖v‖², "
    "the step length and the sharpness each optimizer's stability threshold applies to "
    "(λmax of the Hessian, or of the preconditioned Hessian for adaptive methods); pick "
    "them above the chart."
)
CAPTION_3D = (
    "The landscape as a surface with every path at its height: f, or for steep functions "
    "(shaded on a log scale on the map) log₁₀(f − min + δ), δ a thousandth of f's range, "
    "which keeps the valley floors smooth. Dots mark where the runs ended, the ring the "
    "start, gold diamonds the minima. Drag to rotate, scroll to zoom."
)


def show_playground(config: PlaygroundConfig, error: str | None) -> None:
    """The main area. The presenter view puts the chart first (scenarios in a popover, the
    formula and the scenario's claim under it), so that it fits a projector's screen."""
    ss = st.session_state
    presenter = presenter_on()
    with st.sidebar:  # the probe's empty element takes no room there
        narrow = narrow_screen()
    if not presenter:
        scenario_buttons()
    for warning in ss.pop("pg_url_warnings", []):
        st.warning(f"Link: {md_escape(warning)}", icon="🔗")
    notice = ss.pop(f"{P}_notice", None)
    if notice:
        st.info(notice)  # user text in it is escaped where it is set
    if error:
        st.error(f"{md_escape(error)} Showing the last valid setup.")
    _sync_url(config)
    if not presenter:
        scenario_text(config)
        landscape_header(config)
    panels, view = chart_toolbar(presenter)
    if view == "3-D":
        surface_view(config, narrow, presenter)
    else:
        race_chart(config, panels, narrow, presenter)
    st.caption(CAPTION_3D if view == "3-D" else CAPTION_2D)
    if presenter:
        landscape_header(config)
        scenario_text(config)
    results(config)
    if st.toggle(
        "Step-through mode: the maths of one update, with the numbers",
        key="pg_step_on",
        persist_state="session",
    ):
        step_through(config, narrow)
    with st.expander("Export and share"):
        st.markdown(
            "The address bar holds this exact setup: copy the URL to share it. "
            "Downloads carry the package versions, seed, landscape and optimizer specs."
        )
        exports(config)
