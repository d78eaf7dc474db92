"""The Playground page: sidebar controls, the animated race, results and exports."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import landscapes
from vradam.app import playground
from vradam.app.figures import playground as plots
from vradam.app.figures.export import to_html, to_png
from vradam.app.playground import MATCHED_LABEL, PlaygroundConfig
from vradam.app.summaries import race_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.optimizer_editor import (
    append_optimizer,
    entries,
    load_optimizers,
    optimizer_editor,
    set_hyperparam,
)
from vradam.app.ui.playground_cache import cached_race_figure, cached_run, cached_surface_figure
from vradam.app.ui.presenter import presenter_on
from vradam.app.ui.scenarios import scenario_buttons, scenario_text
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.sliders import fmt_value as _fmt
from vradam.app.ui.sliders import log_options
from vradam.app.ui.stepthrough import step_through
from vradam.sim import export, schedules
from vradam.sim.optimizers import REGISTRY, OptimizerInfo, OptimizerSpec

P = "pg"  # session-state prefix of this page
PANEL_LABELS = {"loss": "loss", "effective_lr": "η_t", "velocity_sq_norm": "‖v‖²",
                "step_norm": "step size", "sharpness": "sharpness"}  # fmt: skip
VIEWS = {"2-D": "2-D", "3-D": "3-D"}
CHART_HEIGHT = 560  # px, the race side by side
PRESENTER_HEIGHT = 540  # px: with the toolbar above it, fits a 1024×768 projector


# --------------------------------------------------------------------------- widgets


def _load(config: PlaygroundConfig) -> None:
    """Put a config into the widgets' session state (before they are drawn)."""
    ss = st.session_state
    ss["pg_landscape"] = config.landscape
    params = dict(config.landscape_params)
    defaults = dict(landscapes.REGISTRY["ill_conditioned"].params)
    ss["pg_condition"] = float(params.get("condition", defaults["condition"]))
    ss["pg_angle"] = float(params.get("angle", defaults["angle"]))
    ss["pg_expr"] = config.expression or "x^2 + 10*sin(y)"
    ss["pg_domain"] = ", ".join(f"{v:g}" for v in config.domain)
    try:
        sx, sy = config.start_point()
    except ValueError:
        sx, sy = 0.0, 0.0
    ss["pg_start_x"], ss["pg_start_y"] = float(sx), float(sy)
    ss["pg_start_custom"] = config.start is not None
    ss["pg_start_mode"] = config.start_mode
    ss["pg_n_starts"] = config.n_starts
    ss["pg_same_lr_on"] = config.same_lr is not None
    ss["pg_same_lr"] = config.same_lr if config.same_lr is not None else 0.1
    ss["pg_steps"] = config.steps
    ss["pg_noise"] = float(config.noise)
    ss["pg_seed"] = int(config.seed)
    ss["pg_schedule"] = config.schedule
    load_optimizers(P, config.optimizers)


def _on_landscape_change() -> None:
    """New landscape: its default start, and its suggested α0/β3 for the Adam family."""
    ss = st.session_state
    key = ss["pg_landscape"]
    ss["pg_start_custom"] = False
    if key == "custom":
        return
    params = {}
    if key in landscapes.FACTORIES:
        params = dict(condition=ss["pg_condition"], angle=ss["pg_angle"])
    ls = landscapes.get(key, **params)
    ss["pg_start_x"], ss["pg_start_y"] = ls.start
    set_hyperparam(P, _takes_suggested_lr, "lr", ls.suggested_lr)
    set_hyperparam(P, _is_gated, "beta3", ls.suggested_beta3)


def _new_values(key: str) -> dict:
    """An added optimizer starts at the landscape's suggested α0 (and β3 for VRAdam)."""
    config = st.session_state.get("pg_config")
    if config is None:
        return {}
    try:
        ls = config.landscape_obj()
    except ValueError:
        return {}
    values, info = {}, REGISTRY[key]
    if _takes_suggested_lr(info):
        values["lr"] = ls.suggested_lr
    if _is_gated(info):
        values.update(beta3=ls.suggested_beta3, weight_decay=0.0)
    return values


def _takes_suggested_lr(info: OptimizerInfo) -> bool:
    """The landscape's suggested α0 fits the adaptive optimizers and EMA momentum; SGD's
    and Lion's rates live on other scales, so they keep their records' defaults."""
    return info.suggested_lr


def _is_gated(info: OptimizerInfo) -> bool:
    return info.velocity_regularized


def _suggest(index: int) -> float:
    config = st.session_state.get("pg_config")
    if config is None:
        raise ValueError("run the Playground once before asking for a suggestion")
    return playground.suggest_beta3(config, index)


# --------------------------------------------------------------------------- controls


def _pending_config() -> None:
    """Apply a config queued by a scenario button, a map click or the URL."""
    ss = st.session_state
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    current = ss.get("pg_config")
    # A link opened in this session (a lesson's preset, a pasted URL) replaces the setup;
    # otherwise the URL is the one this page wrote for the current config.
    linked = bool(query) and (current is None or query != playground.query_lists(current))
    if "pg_initialized" not in ss or linked:
        config, warnings = PlaygroundConfig.from_query(query) if query else (PlaygroundConfig(), [])
        ss["pg_url_warnings"] = warnings
        ss["pg_initialized"] = True
        _load(config)
    pending = ss.pop("pg_pending", None)
    if pending is not None:
        _load(pending)


def _landscape_controls() -> tuple[str, tuple, str, tuple, str | None]:
    """The Landscape section → (key, params, expression, domain, error about the domain)."""
    ss = st.session_state
    sb = st.sidebar
    error = None
    sb.header("Landscape")
    keys = [*sorted(landscapes.REGISTRY, key=lambda k: landscapes.REGISTRY[k].name), "custom"]
    sliders = dict(condition=ss["pg_condition"], angle=ss["pg_angle"])  # the ravine's κ, θ
    sb.selectbox(
        "Function",
        keys,
        key="pg_landscape",
        persist_state="session",
        on_change=_on_landscape_change,
        format_func=lambda k: playground.landscape_label(k, sliders),
    )
    key = ss["pg_landscape"]
    params: tuple = ()
    expression, domain = "", playground.DEFAULT_DOMAIN
    if key == "ill_conditioned":
        (k_lo, k_hi, k_step), (a_lo, a_hi, a_step) = (
            landscapes.PARAM_RANGES[key][name] for name in ("condition", "angle")
        )
        sb.slider(
            "condition number κ",
            k_lo,
            k_hi,
            key="pg_condition",
            persist_state="session",
            step=k_step,
            on_change=_on_landscape_change,
        )
        sb.slider(
            "angle θ (degrees)",
            a_lo,
            a_hi,
            key="pg_angle",
            persist_state="session",
            step=a_step,
            on_change=_on_landscape_change,
        )
        params = (("condition", float(ss["pg_condition"])), ("angle", float(ss["pg_angle"])))
    if key == "custom":
        # No max_chars: the browser would cut a long paste silently; the expression's own
        # check says it is too long instead.
        expression = sb.text_input(
            "f(x, y)", key="pg_expr", persist_state="session",
            help="Ordinary maths in x and y: + − * / ** (or ^), sin cos tan exp log sqrt abs "
            "tanh sinh cosh arctan sigmoid softplus …, and the constants pi and e.",
        )  # fmt: skip
        text = sb.text_input(
            "domain: xmin, xmax, ymin, ymax", key="pg_domain", persist_state="session"
        )
        values = playground.parse_floats(text.replace(" ", ""), 4)
        if values is None:
            error = "The domain must be four numbers: xmin, xmax, ymin, ymax."
        else:
            domain = tuple(values)
            if not playground.domain_ok(values):
                error = (
                    "The domain needs xmin < xmax and ymin < ymax, each within "
                    f"±{playground.COORD_LIMIT:g}."
                )
    return key, params, expression, domain, error


def _start_controls() -> None:
    """The Start section: the chosen start, and a cloud or grid of starts around it."""
    ss = st.session_state
    sb = st.sidebar
    sb.header("Start")
    c1, c2 = sb.columns(2)
    lim = playground.COORD_LIMIT
    c1.number_input(
        "x",
        -lim,
        lim,
        key="pg_start_x",
        persist_state="session",
        format="%.4g",
        on_change=_start_moved,
    )
    c2.number_input(
        "y",
        -lim,
        lim,
        key="pg_start_y",
        persist_state="session",
        format="%.4g",
        on_change=_start_moved,
    )
    sb.caption("Or click the map to start there.")
    sb.radio(
        "Starts",
        playground.START_MODES,
        key="pg_start_mode",
        persist_state="session",
        horizontal=True,
        format_func={"single": "one", "cloud": "cloud", "grid": "grid"}.get,
    )
    if ss["pg_start_mode"] != "single":
        sb.slider(
            "number of starts",
            *playground.N_STARTS_RANGE,
            key="pg_n_starts",
            persist_state="session",
        )


def _optimizer_controls(key: str, params: tuple, expression: str, domain: tuple) -> list[str]:
    """The Optimizers section: one α0 for all (optional) and the editor → spec strings."""
    ss = st.session_state
    sb = st.sidebar
    sb.header("Optimizers")
    sb.toggle("same α₀ for all", key="pg_same_lr_on", persist_state="session",
              help="Run every optimizer at one learning rate, for a fair comparison.")  # fmt: skip
    if ss["pg_same_lr_on"]:
        sb.select_slider("α₀ for all", log_options(*playground.SAME_LR_RANGE, ss.get("pg_same_lr")),
                         key="pg_same_lr", persist_state="session", format_func=_fmt)  # fmt: skip
    try:
        center = (
            PlaygroundConfig(
                landscape=key, landscape_params=params, expression=expression or "x", domain=domain
            )
            .landscape_obj()
            .suggested_beta3
        )
    except ValueError:
        center = 1.0
    texts = optimizer_editor(
        P, beta3_center=center, same_lr=float(ss["pg_same_lr"]) if ss["pg_same_lr_on"] else None,
        suggest=_suggest, new_values=_new_values, limit=playground.MAX_OPTIMIZERS,
    )  # fmt: skip
    return texts


def _run_controls() -> None:
    """The Run section: steps, gradient noise, seed and learning-rate schedule."""
    sb = st.sidebar
    sb.header("Run")
    sb.slider("steps", *playground.STEPS_RANGE, key="pg_steps", persist_state="session", step=10)
    sb.number_input(
        "gradient noise (std)",
        *playground.NOISE_RANGE,
        key="pg_noise",
        persist_state="session",
        step=1.0,
        help="Gaussian noise added to every gradient component (seeded).",
    )
    sb.number_input("seed", *playground.SEED_RANGE, key="pg_seed", persist_state="session", step=1)
    sb.selectbox(
        "LR schedule",
        list(schedules.SCHEDULES),
        key="pg_schedule",
        persist_state="session",
        help="\n".join(f"{k}: {v}" for k, v in schedules.SCHEDULES.items()),
    )


def _widget_config(landscape: tuple, texts: list[str], error: str | None):
    """The widgets' values as a PlaygroundConfig → (config, error); on an error, the last
    good config (or the default one)."""
    ss = st.session_state
    key, params, expression, domain = landscape
    start = (float(ss["pg_start_x"]), float(ss["pg_start_y"])) if ss["pg_start_custom"] else None
    try:
        config = PlaygroundConfig(
            landscape=key, landscape_params=params, expression=expression, domain=domain,
            start=start, start_mode=ss["pg_start_mode"], n_starts=int(ss["pg_n_starts"]),
            optimizers=tuple(texts) or PlaygroundConfig().optimizers,
            same_lr=float(ss["pg_same_lr"]) if ss["pg_same_lr_on"] else None,
            steps=int(ss["pg_steps"]), noise=float(ss["pg_noise"]), seed=int(ss["pg_seed"]),
            schedule=ss["pg_schedule"],
        )  # fmt: skip
        config.landscape_obj()  # a bad expression raises here
        if error:
            raise ValueError(error)
    except ValueError as exc:
        error = str(exc)
        config = ss.get("pg_config") or PlaygroundConfig()
    return config, error


def playground_controls() -> tuple[PlaygroundConfig, str | None]:
    """Sidebar widgets → a PlaygroundConfig (the last good one, with an error, if invalid)."""
    _pending_config()
    *landscape, error = _landscape_controls()
    _start_controls()
    texts = _optimizer_controls(*landscape)
    matched_slot = st.sidebar.container()  # filled below, once this run's config is known
    _run_controls()
    config, error = _widget_config(tuple(landscape), texts, error)
    st.session_state["pg_config"] = config
    with matched_slot:
        matched_control_button(config)
    return config, error


MATCHED_HELP = (
    "Adds Adam at VRAdam's mean effective rate η_t over this run (from the chosen start), "
    "with VRAdam's β₁, β₂ and ε: does VRAdam differ from Adam because of when its gate "
    "lowers the rate, or only because its rate is lower on average?"
)


def matched_control_button(config: PlaygroundConfig) -> None:
    """One click: "Adam at VRAdam's η" for the first VRAdam of the run on screen."""
    vradams = [i for i, s in enumerate(config.specs()) if playground.has_matched_control(s)]
    if not vradams:
        return
    index = vradams[0]
    full = len(entries(P)) >= playground.MAX_OPTIMIZERS
    same = config.same_lr is not None
    which = f" (matches optimizer {index + 1})" if len(vradams) > 1 else ""
    st.button(
        f"add {MATCHED_LABEL}", key="pg_add_matched", on_click=_add_matched, args=(index,),
        disabled=full or same, width="stretch",
        help=MATCHED_HELP + which + (" Turn off 'same α₀ for all' first." if same else ""),
    )  # fmt: skip


def _add_matched(index: int) -> None:
    ss = st.session_state
    config = ss.get("pg_config")
    try:
        text = playground.matched_adam(config, cached_run(config), index)
    except ValueError as exc:
        ss[f"{P}_notice"] = md_escape(exc)
        return
    if text in config.optimizers:
        ss[f"{P}_notice"] = f"{md_escape(text)} is already in the race."
        return
    spec = OptimizerSpec.parse(text)
    append_optimizer(P, spec.key, spec.hyperparams, spec.label or "")
    rate = spec.hyperparams["lr"]
    ss[f"{P}_notice"] = (
        f"Added {spec.label}: α₀ = {rate:g}, VRAdam's mean η_t over this run from the chosen start."
    )


def _start_moved() -> None:
    st.session_state["pg_start_custom"] = True


# --------------------------------------------------------------------------- main area


def _sync_url(config: PlaygroundConfig) -> None:
    """Write the config to the URL (one update, replacing the history entry: see
    ui.style.HISTORY_SCRIPT). The bare address stands for the default setup, so a first
    visit writes nothing."""
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    if not query and config == PlaygroundConfig():
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
    meta = playground.export_meta(config)
    c = st.columns(4)
    c[0].download_button("CSV (every step)", lambda: export.to_csv(trajectories, meta=meta),
                         file_name=f"{stem}.csv", mime="text/csv", on_click="ignore")  # fmt: skip
    c[1].download_button(
        "JSON (with versions)", lambda: export.to_json(trajectories, meta),
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
