"""The Playground page: its sidebar controls → a :class:`PlaygroundConfig`
(:func:`playground_controls`), and its main area (:func:`show_playground`, in
:mod:`vradam.app.ui.playground_view`)."""

from __future__ import annotations

import streamlit as st

import landscapes
from vradam.app import playground
from vradam.app.playground import MATCHED_LABEL, PlaygroundConfig
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.optimizer_editor import (
    append_optimizer,
    apply_suggestions,
    edit_optimizers,
    entries,
    load_optimizers,
    page_values,
)
from vradam.app.ui.playground_cache import cached_race_figure, cached_run
from vradam.app.ui.playground_view import png_bytes, show_playground
from vradam.app.ui.sliders import fmt_value as _fmt
from vradam.app.ui.sliders import log_options
from vradam.sim import schedules
from vradam.sim.optimizers import REGISTRY, OptimizerSpec

__all__ = ["cached_race_figure", "playground_controls", "png_bytes", "show_playground"]

P = "pg"  # session-state prefix of this page


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
    load_optimizers(P, config.optimizer_specs())


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
    apply_suggestions(P, ls.suggested_lr, ls.suggested_beta3)


def _new_values(key: str) -> dict:
    """An added optimizer starts at the landscape's suggested α0 (and β3 for VRAdam)."""
    config = st.session_state.get("pg_config")
    if config is None:
        return {}
    try:
        ls = config.landscape_obj()
    except ValueError:
        return {}
    info = REGISTRY[key]
    values = page_values(info, ls.suggested_lr, ls.suggested_beta3)
    if info.velocity_regularized:
        values["weight_decay"] = 0.0
    return values


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
        config, warnings = (PlaygroundConfig.from_query(query) if query
                            else (playground.default_config(), []))  # fmt: skip
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


def _optimizer_controls(
    key: str, params: tuple, expression: str, domain: tuple
) -> list[OptimizerSpec]:
    """The Optimizers section: one α0 for all (optional) and the editor → specs."""
    ss = st.session_state
    sb = st.sidebar
    sb.header("Optimizers")
    sb.toggle("same α₀ for all", key="pg_same_lr_on", persist_state="session",
              help="Run every optimizer at one learning rate, for a fair comparison.")  # fmt: skip
    if ss["pg_same_lr_on"]:
        sb.select_slider("α₀ for all", log_options(*playground.SAME_LR_RANGE, ss.get("pg_same_lr")),
                         key="pg_same_lr", persist_state="session", format_func=_fmt)  # fmt: skip
    try:
        center = playground.landscape_of(key, params, expression or "x", domain).suggested_beta3
    except ValueError:
        center = 1.0
    return edit_optimizers(
        P, beta3_center=center, same_lr=float(ss["pg_same_lr"]) if ss["pg_same_lr_on"] else None,
        suggest=_suggest, new_values=_new_values, limit=playground.MAX_OPTIMIZERS,
    )  # fmt: skip


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


def _widget_config(landscape: tuple, specs: list[OptimizerSpec], error: str | None):
    """The widgets' values as a PlaygroundConfig → (config, error); on an error, the last
    good config (or the default one)."""
    ss = st.session_state
    key, params, expression, domain = landscape
    start = (float(ss["pg_start_x"]), float(ss["pg_start_y"])) if ss["pg_start_custom"] else None
    try:
        config = PlaygroundConfig(
            landscape=key, landscape_params=params, expression=expression, domain=domain,
            start=start, start_mode=ss["pg_start_mode"], n_starts=int(ss["pg_n_starts"]),
            optimizers=tuple(specs) or playground.default_config().optimizers,
            same_lr=float(ss["pg_same_lr"]) if ss["pg_same_lr_on"] else None,
            steps=int(ss["pg_steps"]), noise=float(ss["pg_noise"]), seed=int(ss["pg_seed"]),
            schedule=ss["pg_schedule"],
        )  # fmt: skip
        config.landscape_obj()  # a bad expression raises here
        if error:
            raise ValueError(error)
    except ValueError as exc:
        error = str(exc)
        config = ss.get("pg_config") or playground.default_config()
    return config, error


def playground_controls() -> tuple[PlaygroundConfig, str | None]:
    """Sidebar widgets → a PlaygroundConfig (the last good one, with an error, if invalid)."""
    _pending_config()
    *landscape, error = _landscape_controls()
    _start_controls()
    specs = _optimizer_controls(*landscape)
    matched_slot = st.sidebar.container()  # filled below, once this run's config is known
    _run_controls()
    config, error = _widget_config(tuple(landscape), specs, error)
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
