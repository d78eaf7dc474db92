"""Pieces shared by the pages: fast Plotly charts, page style, the optimizer editor."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from vradam.app.figures.export import PRESENTER, TRUSTED, finish, trust_marked_figures
from vradam.sim.optimizers import REGISTRY, OptimizerInfo, OptimizerSpec

# --------------------------------------------------------------------------- fast charts
# st.plotly_chart validates a dict figure again; the marked ones skip that (see figures.export).
trust_marked_figures()


def chart_summary(text: str) -> None:
    """The one-line text summary under a chart (screen readers, printouts)."""
    st.caption(f"Summary: {text}")


def presenter_on() -> bool:
    return bool(st.session_state.get("presenter", False))


PRESENTER_FONT = 16  # px, Plotly's default is 12
PRESENTER_LINE = 1.6  # line widths × this


def _scale_fonts(node, factor: float) -> None:
    """Scale every explicit font size (font, tickfont, title fonts …) in a layout tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict) and "size" in value:
                value["size"] = round(value["size"] * factor, 1)
            _scale_fonts(value, factor)
    elif isinstance(node, list):
        for item in node:
            _scale_fonts(item, factor)


def for_projector(fig: dict) -> dict:
    """Larger fonts and thicker lines (the presenter view); colours unchanged."""
    layout = fig["layout"]
    _scale_fonts(layout, PRESENTER_FONT / 12)
    layout["font"] = {**layout.get("font", {}), "size": PRESENTER_FONT}
    for trace in fig["data"]:
        line = trace.get("line")
        if isinstance(line, dict) and trace.get("type", "scatter") == "scatter":
            trace["line"] = {**line, "width": round(PRESENTER_LINE * line.get("width", 2), 2)}
    layout["meta"] = PRESENTER
    return fig


def trusted(fig: dict) -> dict:
    """Mark a vradam.app.figures figure as schema-checked (and style it for the presenter view).

    Every string in it is escaped first, so user text cannot be markup, and each optimizer's
    lines get its dash pattern (:func:`vradam.app.figures.export.finish`)."""
    finish(fig)
    if presenter_on():
        if fig["layout"].get("meta") != PRESENTER:
            for_projector(fig)
        return fig
    fig["layout"]["meta"] = TRUSTED
    return fig


# --------------------------------------------------------------------------- URL state


QUOTE_LIMIT = 40  # characters of a user's value quoted in a message

# Characters that Streamlit's Markdown reads as formatting anywhere (bold, code, links,
# HTML, tables, strike-through, LaTeX; a colon before a word: emoji/colour/icon short
# codes), and those that
# start a list or heading at the beginning of a line.
_MD_SPECIAL = frozenset("\\`*_[]<>|~$")
_MD_LINE_START = frozenset("#+-=>0123456789")


def md_escape(text: object) -> str:
    """``text`` shown as itself in st.markdown/st.warning/st.caption…, never as Markdown.

    >>> md_escape("x*y + x**2")
    'x\\*y + x\\*\\*2'
    """
    lines = []
    for line in str(text).split("\n"):
        out = "".join("\\" + c if c in _MD_SPECIAL else c for c in line)
        out = re.sub(r":(?=\S)", r"\:", out)  # :smile:, :material/…:, :red[…]
        stripped = out.lstrip()
        if stripped[:1] in _MD_LINE_START and not stripped[:1].isdigit():
            out = out[: len(out) - len(stripped)] + "\\" + stripped
        elif stripped[:1].isdigit():  # "1. text" would start a numbered list
            head = stripped.split(" ", 1)[0]
            if head.rstrip(".)").isdigit() and head[-1:] in ".)":
                out = out.replace(head, head[:-1] + "\\" + head[-1], 1)
        lines.append(out)
    return "\n".join(lines)


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A user's value for a message: quoted, at most ``limit`` characters (then "…")."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text):,} characters)"
    return f"'{text}'"


@dataclass(frozen=True)
class UrlField:
    """A widget whose value lives in the URL under its session-state key.

    ``options`` lists the allowed values (select sliders, radios); without it the
    value is any number ``parse`` accepts, clamped to ``bounds`` (the same bounds the
    widget gets: pass ``field.bounds`` as its min and max). Widgets bound this way must
    not pass ``value=``: their session-state entry is the value.
    """

    key: str
    default: object
    options: tuple | None = None
    bounds: tuple[float, float] | None = None

    def parse(self, raw: str):
        """The value of ``raw``; ValueError (in plain words) when it cannot be used."""
        if isinstance(self.default, str):
            value = raw
        else:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ValueError("not a number") from None
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            if isinstance(self.default, int):
                if value != int(value):
                    raise ValueError("not a whole number")
                value = int(value)
        if self.options is not None:
            match = [o for o in self.options if o == value or _close(o, value)]
            if not match:
                shown = ", ".join(_url_text(o) for o in self.options)
                raise ValueError(f"not one of {shown}")
            value = match[0]
        return value

    def clamp(self, value):
        """``value`` within ``bounds`` (unchanged without bounds)."""
        if self.bounds is None or isinstance(value, str):
            return value
        lo, hi = self.bounds
        return type(value)(min(max(value, lo), hi))


def _close(a, b) -> bool:
    return isinstance(a, float | int) and isinstance(b, float | int) and math.isclose(a, b)


def _url_text(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def url_state(fields: Sequence[UrlField]) -> list[str]:
    """Seed each field's session value from the URL, else from its default.

    The URL wins when it differs from what this page last wrote there (a shared link,
    a lesson's preset, the Back button) or when the widget has no value yet. A URL that
    holds some of this page's fields means the default for the ones it leaves out (a
    preset lists only what differs). Returns one short warning per value that could not
    be used (that field keeps its value) or was clamped to its widget's range.
    """
    ss = st.session_state
    written = ss.setdefault("_url_written", {})
    ours = any(f.key in st.query_params for f in fields)
    warnings = []
    for f in fields:
        raw = st.query_params.get(f.key)
        if raw is None:
            if f.key not in ss or (ours and written.get(f.key) is not None):
                ss[f.key] = f.default
                written[f.key] = None
            continue
        if raw != written.get(f.key) or f.key not in ss:
            written[f.key] = raw
            try:
                value = f.parse(raw)
            except ValueError as exc:
                warnings.append(f"Ignored {f.key}={md_escape(quote(raw))} from the link: {exc}.")
            else:
                clamped = f.clamp(value)
                if clamped != value:
                    lo, hi = f.bounds
                    warnings.append(
                        f"{f.key}={md_escape(quote(raw))} from the link is outside "
                        f"{lo:g} … {hi:g}: using {clamped:g}."
                    )
                ss[f.key] = clamped
                continue
        if f.key not in ss:
            ss[f.key] = f.default
    return warnings


def write_url(fields: Sequence[UrlField]) -> None:
    """Put the fields' current values in the URL, so the address reproduces the page.

    A value equal to its default is left out unless the URL already names it. All
    changes go out as one update; it replaces the page's history entry (Streamlit would
    push one per update: see :data:`HISTORY_SCRIPT`), and an unchanged page writes none.
    """
    ss = st.session_state
    written = ss.setdefault("_url_written", {})
    changes = {}
    for f in fields:
        value = ss.get(f.key, f.default)
        text = _url_text(value)
        present = st.query_params.get(f.key)
        if present is not None:
            if present != text:
                changes[f.key] = text
        elif value != f.default:
            changes[f.key] = text
        written[f.key] = text if (present is not None or value != f.default) else None
    if changes:
        st.query_params.update(changes)


# --------------------------------------------------------------------------- page style

_STYLE = """
<style>
/* Less empty space above the content: the figures should fit a 1280×720 projector. */
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 2rem; }
/* Phones: the header bar stays over the page, so the title starts below it; Plotly's mode
   bar would cover legends and titles (pinch zoom does its job there). */
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 4.2rem; }
  .js-plotly-plot .modebar-container { display: none !important; }
}
</style>
"""


_PRESENTER_STYLE = """
<style>
/* Presenter view: no sidebar, larger type, the full width for the content. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] { display: none !important; }
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2.5rem;
  padding-right: 2.5rem; padding-top: 1.2rem; }
</style>
"""


# Streamlit pushes a browser history entry whenever the server changes the query string
# (its frontend calls history.pushState), so every setting a page writes to the URL adds
# one and Back only steps through the page's own settings. This script, run once per
# browser tab, turns a push that keeps the path (same page, new settings) into a
# replace; a push to another path (another page) stays a push, so Back leaves the page.
HISTORY_SCRIPT = """
<script>
(() => {
  if (window.__vradamHistory) return;
  window.__vradamHistory = true;
  const push = window.history.pushState.bind(window.history);
  window.history.pushState = function (state, title, url) {
    try {
      const next = new URL(url, window.location.href);
      if (next.pathname === window.location.pathname) {
        return window.history.replaceState(state, title, url);
      }
    } catch (err) {
      /* an unparsable URL: let the browser decide, as before */
    }
    return push(state, title, url);
  };
})();
</script>
"""


# Charts for keyboards and screen readers: names, summaries, Play/Pause and the step
# slider by keyboard (vradam/assets/a11y.js; run once per browser tab, like the above).
A11Y_SCRIPT = f"<script>{(Path(__file__).parents[2] / 'assets' / 'a11y.js').read_text()}</script>"


def _exit_presenter() -> None:
    st.session_state["presenter"] = False


def apply_style() -> None:
    """The house style, and the presenter view when its toggle is on (app.py, every page)."""
    st.html(_STYLE)
    st.sidebar.html(HISTORY_SCRIPT, unsafe_allow_javascript=True)
    st.sidebar.html(A11Y_SCRIPT, unsafe_allow_javascript=True)
    st.sidebar.toggle(
        "Presenter view", key="presenter", persist_state="session",
        help="Hides this sidebar and enlarges text and lines for a projector. The page "
        "keeps its settings; a button at the top brings the sidebar back.",
    )  # fmt: skip
    if presenter_on():
        st.html(_PRESENTER_STYLE)
        st.button("Exit presenter view", on_click=_exit_presenter, icon=":material/close:",
                  key="presenter_exit", type="tertiary")  # fmt: skip


# --------------------------------------------------------------------------- sliders

_NICE = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)


def log_options(lo: float, hi: float, current: float | None = None, zero: bool = False):
    """1-1.5-2-3-5-7 steps between lo and hi, plus the current value (for select_slider)."""
    values = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        values += [m * 10.0**k for m in _NICE if lo * 0.999 <= m * 10.0**k <= hi * 1.001]
    values = [float(f"{v:.3g}") for v in values]
    if current is not None and current > 0:
        values.append(float(current))
    out = sorted(set(values))
    return [0.0, *out] if zero else out


def fmt_value(v: float) -> str:
    return "0 (off)" if v == 0 else f"{v:.3g}"


# --------------------------------------------------------------------------- optimizers

SUGGEST_HELP = (
    "Sets β₃ so that β₃‖v‖² peaks near 1.5 early in this run: the gate acts in the transient "
    "and releases near the minimum."
)


def opt_key(prefix: str, uid: int, name: str) -> str:
    return f"{prefix}_o{uid}_{name}"


def entries(prefix: str) -> list[dict]:
    return st.session_state.setdefault(f"{prefix}_opts", [])


def load_optimizers(prefix: str, texts) -> None:
    """Replace the editor's optimizers with these spec strings (before widgets are drawn)."""
    ss = st.session_state
    for entry in entries(prefix):
        for name in [*REGISTRY[entry["key"]].defaults, "label"]:
            ss.pop(opt_key(prefix, entry["uid"], name), None)
    new = []
    for text in texts:
        spec = OptimizerSpec.parse(text)
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


def set_hyperparam(
    prefix: str, applies: Callable[[OptimizerInfo], bool], name: str, value: float
) -> None:
    """Set ``name`` on every optimizer whose record ``applies`` (e.g. a new suggested α0)."""
    for entry in entries(prefix):
        info = REGISTRY[entry["key"]]
        if applies(info) and name in info.defaults:
            st.session_state[opt_key(prefix, entry["uid"], name)] = float(value)


def _add(prefix: str, new_values: Callable[[str], dict], limit: int) -> None:
    ss = st.session_state
    if len(entries(prefix)) >= limit:
        return
    key = ss[f"{prefix}_add_key"]
    uid = ss.get(f"{prefix}_next_uid", 0)
    ss[f"{prefix}_next_uid"] = uid + 1
    for name, value in {**REGISTRY[key].defaults, **new_values(key)}.items():
        ss[opt_key(prefix, uid, name)] = float(value)
    ss[opt_key(prefix, uid, "label")] = ""
    ss[f"{prefix}_opts"] = [*entries(prefix), dict(uid=uid, key=key)]


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


def optimizer_editor(
    prefix: str,
    *,
    beta3_center: float,
    same_lr: float | None,
    suggest: Callable[[int], float] | None,
    new_values: Callable[[str], dict],
    limit: int = 8,
    auto_beta3: bool = False,
) -> list[str]:
    """One expander per optimizer in the sidebar; returns canonical spec strings.

    ``same_lr`` hides each α0 slider (one α0 for all); ``suggest(index)`` backs the
    "suggest β₃" button; ``new_values(key)`` gives an added optimizer's starting values;
    ``auto_beta3`` offers β₃ = auto (calibrated during training, vradam.calibrate).
    """
    ss = st.session_state
    sb = st.sidebar
    texts = []
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
            for hp in info.hyperparams:
                if hp.name == "lr" and same_lr is not None:
                    st.caption(f"α₀ = {same_lr:g} (same for all)")
                    continue
                if hp.name == "beta3" and auto_beta3:
                    st.checkbox(
                        "β₃ = auto (calibrated from the first 10 steps)",
                        key=auto_key,
                        persist_state="session",
                        help=AUTO_HELP,
                    )
                    if ss.get(auto_key):
                        values["beta3"] = "auto"
                        continue
                values[hp.name] = _hyperparam_widget(prefix, uid, hp, beta3_center)
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
        texts.append(str(spec))
    c1, c2 = sb.columns([3, 2])
    c1.selectbox(
        "add",
        list(REGISTRY),
        key=f"{prefix}_add_key",
        persist_state="session",
        label_visibility="collapsed",
        format_func=lambda k: REGISTRY[k].name,
    )
    c2.button("add", key=f"{prefix}_add", on_click=_add, args=(prefix, new_values, limit),
              width="stretch", disabled=len(current) >= limit)  # fmt: skip
    return texts
