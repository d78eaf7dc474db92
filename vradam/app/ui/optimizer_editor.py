"""The optimizer editor in the sidebar: one expander per optimizer with its hyperparameter
sliders, label, remove and "suggest β₃" buttons, and a picker to add one. Its state
lives in ``st.session_state`` under the page's prefix; it returns OptimizerSpecs
(:func:`edit_optimizers`), or their text for a page that keeps text
(:func:`optimizer_editor`).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from vradam.app.ui.markdown import md_escape
from vradam.app.ui.sliders import fmt_value, log_options
from vradam.sim.optimizers import REGISTRY, OptimizerInfo, OptimizerSpec

SUGGEST_HELP = (
    "Sets β₃ so that β₃‖v‖² peaks near 1.5 early in this run: the gate acts in the transient "
    "and releases near the minimum."
)


def opt_key(prefix: str, uid: int, name: str) -> str:
    return f"{prefix}_o{uid}_{name}"


def entries(prefix: str) -> list[dict]:
    return st.session_state.setdefault(f"{prefix}_opts", [])


def load_optimizers(prefix: str, specs) -> None:
    """Replace the editor's optimizers with these specs (OptimizerSpec, or spec strings
    from a link) before the widgets are drawn."""
    ss = st.session_state
    for entry in entries(prefix):
        for name in [*REGISTRY[entry["key"]].defaults, "label"]:
            ss.pop(opt_key(prefix, entry["uid"], name), None)
    new = []
    for spec in specs:
        spec = spec if isinstance(spec, OptimizerSpec) else OptimizerSpec.parse(spec)
        uid = ss.get(f"{prefix}_next_uid", 0)
        ss[f"{prefix}_next_uid"] = uid + 1
        new.append(dict(uid=uid, key=spec.key))
        for name, value in spec.hyperparams.items():
            if value == "auto":
                ss[opt_key(prefix, uid, "beta3_auto")] = True
                value = REGISTRY[spec.key].param(name).default
            ss[opt_key(prefix, uid, name)] = float(value)
        ss[opt_key(prefix, uid, "label")] = spec.label or ""
    ss[f"{prefix}_opts"] = new


def page_values(info: OptimizerInfo, lr: float, beta3: float) -> dict:
    """What a page suggests for an optimizer of record ``info``: the page's α0 where the
    record takes a suggested rate (the adaptive optimizers and EMA momentum; SGD's and
    Lion's rates live on other scales) and its β3 where the record is gated."""
    values = {}
    if info.suggested_lr:
        values["lr"] = float(lr)
    if info.velocity_regularized:
        values["beta3"] = float(beta3)
    return values


def apply_suggestions(prefix: str, lr: float, beta3: float) -> None:
    """Set the page's new suggestions (:func:`page_values`) on every optimizer of the editor
    (a new landscape or task)."""
    for entry in entries(prefix):
        info = REGISTRY[entry["key"]]
        for name, value in page_values(info, lr, beta3).items():
            if name in info.defaults:
                st.session_state[opt_key(prefix, entry["uid"], name)] = value


def append_optimizer(prefix: str, key: str, values: dict, label: str = "") -> None:
    """Add optimizer ``key`` at the end of the editor with these hyperparameter values."""
    ss = st.session_state
    uid = ss.get(f"{prefix}_next_uid", 0)
    ss[f"{prefix}_next_uid"] = uid + 1
    for name, value in values.items():
        ss[opt_key(prefix, uid, name)] = float(value)
    ss[opt_key(prefix, uid, "label")] = label
    ss[f"{prefix}_opts"] = [*entries(prefix), dict(uid=uid, key=key)]


def _add(prefix: str, new_values: Callable[[str], dict], limit: int) -> None:
    if len(entries(prefix)) >= limit:
        return
    key = st.session_state[f"{prefix}_add_key"]
    append_optimizer(prefix, key, {**REGISTRY[key].defaults, **new_values(key)})


def _remove(prefix: str, uid: int) -> None:
    st.session_state[f"{prefix}_opts"] = [e for e in entries(prefix) if e["uid"] != uid]


def _suggest(prefix: str, index: int, uid: int, suggest: Callable[[int], float]) -> None:
    ss = st.session_state
    try:
        value = suggest(index)
    except ValueError as exc:
        ss[f"{prefix}_notice"] = md_escape(exc)
        return
    ss[opt_key(prefix, uid, "beta3")] = value
    ss[f"{prefix}_notice"] = f"β₃ set to {value:g} from the run's early velocity."


def _hyperparam_widget(prefix: str, uid: int, hp, beta3_center: float) -> float:
    key = opt_key(prefix, uid, hp.name)
    current = float(st.session_state.get(key, hp.default))
    label = f"{hp.symbol}  ({hp.name})"
    if hp.name == "beta3":
        options = log_options(beta3_center / 1000, beta3_center * 1000, current, zero=True)
        return st.select_slider(
            label, options, key=key, persist_state="session", format_func=fmt_value, help=hp.help
        )
    if hp.log:
        options = log_options(hp.slider[0], hp.slider[1], current)
        return st.select_slider(
            label, options, key=key, persist_state="session", format_func=fmt_value, help=hp.help
        )
    lo, hi = hp.slider
    lo, hi = min(lo, current), max(hi, current)
    step = 0.001 if hi <= 1 else 0.5
    return st.slider(
        label,
        float(lo),
        float(hi),
        key=key,
        persist_state="session",
        step=step,
        help=hp.help,
        format="%.3f" if hi <= 1 else "%.1f",
    )


AUTO_HELP = (
    "Runs the first 10 steps with the gate off, then sets β₃ = 2 / (largest ‖v‖² seen): "
    "this project's heuristic for training code (VRAdam(params, beta3='auto')), not the "
    "paper's."
)


def _overrides(info, values: dict) -> dict:
    return {k: v for k, v in values.items() if v != info.defaults[k]}


def optimizer_editor(prefix: str, **options) -> list[str]:
    """:func:`edit_optimizers` as canonical spec strings, for a page that keeps its
    optimizers as text (the Networks page's configs and link slots)."""
    return [str(spec) for spec in edit_optimizers(prefix, **options)]


def _sliders(prefix: str, uid: int, info: OptimizerInfo, values: dict, *, same_lr: float | None,
             auto_beta3: bool, beta3_center: float) -> None:  # fmt: skip
    """One optimizer's hyperparameter widgets; ``values`` takes what they hold."""
    for hp in info.hyperparams:
        if hp.name == "lr" and same_lr is not None:
            st.caption(f"α₀ = {same_lr:g} (same for all)")
            continue
        if hp.name == "beta3" and auto_beta3:
            auto_key = opt_key(prefix, uid, "beta3_auto")
            st.checkbox("β₃ = auto (calibrated from the first 10 steps)", key=auto_key,
                        persist_state="session", help=AUTO_HELP)  # fmt: skip
            if st.session_state.get(auto_key):
                values["beta3"] = "auto"
                continue
        values[hp.name] = _hyperparam_widget(prefix, uid, hp, beta3_center)


def _add_row(prefix: str, new_values: Callable[[str], dict], limit: int, n: int) -> None:
    """The picker of an optimizer to add, and its button (off at ``limit`` optimizers)."""
    c1, c2 = st.sidebar.columns([3, 2])
    c1.selectbox("add", list(REGISTRY), key=f"{prefix}_add_key", persist_state="session",
                 label_visibility="collapsed", format_func=lambda k: REGISTRY[k].name)  # fmt: skip
    c2.button("add", key=f"{prefix}_add", on_click=_add, args=(prefix, new_values, limit),
              width="stretch", disabled=n >= limit)  # fmt: skip


def edit_optimizers(
    prefix: str,
    *,
    beta3_center: float,
    same_lr: float | None,
    suggest: Callable[[int], float] | None,
    new_values: Callable[[str], dict],
    limit: int = 8,
    auto_beta3: bool = False,
) -> list[OptimizerSpec]:
    """One expander per optimizer in the sidebar; returns their specs (defaults dropped),
    built from the widgets' values: no text on the way (text is the URL's business).

    ``same_lr`` hides each α0 slider (one α0 for all); ``suggest(index)`` backs the
    "suggest β₃" button; ``new_values(key)`` gives an added optimizer's starting values;
    ``auto_beta3`` offers β₃ = auto (calibrated during training, vradam.calibrate).
    """
    ss = st.session_state
    sb = st.sidebar
    specs = []
    current = entries(prefix)
    for i, entry in enumerate(current):
        info = REGISTRY[entry["key"]]
        uid = entry["uid"]
        values = {hp.name: float(ss.get(opt_key(prefix, uid, hp.name), hp.default))
                  for hp in info.hyperparams}  # fmt: skip
        label = ss.get(opt_key(prefix, uid, "label"), "") or None
        auto_key = opt_key(prefix, uid, "beta3_auto")
        if auto_beta3 and "beta3" in values and ss.get(auto_key):
            values["beta3"] = "auto"
        overrides = _overrides(info, values)
        spec = OptimizerSpec(entry["key"], overrides, label)
        # A stable title (no values, no label): a title that changes on every edit makes
        # Streamlit rebuild the expander, closed. The settings are listed inside.
        with sb.expander(f"{i + 1}. {info.name}", key=f"{prefix}_exp_{uid}"):
            if spec.params or spec.label:
                st.caption(md_escape(spec.display_name))
            st.caption(info.description)
            _sliders(prefix, uid, info, values, same_lr=same_lr, auto_beta3=auto_beta3,
                     beta3_center=beta3_center)  # fmt: skip
            if "beta3" in values and suggest is not None:
                st.button("suggest β₃ from this run", key=f"{prefix}_sugg_{uid}",
                          on_click=_suggest, args=(prefix, i, uid, suggest),
                          help=SUGGEST_HELP)  # fmt: skip
            st.text_input(
                "label (optional)", key=opt_key(prefix, uid, "label"), persist_state="session"
            )
            st.button("remove", key=f"{prefix}_rm_{uid}", on_click=_remove, args=(prefix, uid),
                      disabled=len(current) <= 1)  # fmt: skip
        if _overrides(info, values) != overrides:  # a widget changed a value on this run
            spec = OptimizerSpec(entry["key"], _overrides(info, values), label)
        specs.append(spec)
    _add_row(prefix, new_values, limit, len(current))
    return specs
