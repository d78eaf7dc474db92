"""Chart text is readable: at least 12 px everywhere (axis titles 14 px) on every page, and
log axes are labelled with values.

The sizes are read from the figures a page sends (AppTest, no browser), the way Plotly under
Streamlit's theme draws them: a size the figure writes wins; otherwise Streamlit's Plotly
theme gives 12 px (axis titles 14 px); text inside <sup> or <sub> is drawn at 70 %. Hover
labels are not counted (they are Streamlit's 12 px unless a figure changes them).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEME = 12  # px: Streamlit's Plotly theme (fontSizes.twoSm); axis titles fontSizes.sm
THEME_AXIS_TITLE = 14
MIN_TEXT, MIN_AXIS_TITLE = 12, 14
_SMALL = re.compile(r"<su[pb]>", re.IGNORECASE)


def _size(font, default: float) -> float:
    size = font.get("size") if isinstance(font, dict) else None
    return size if isinstance(size, int | float) else default


def _hidden(font) -> bool:
    color = str((font or {}).get("color", "")).replace(" ", "")
    return color.startswith("rgba(") and color.endswith(",0)")


def _text(out: list, size: float, where: str, text) -> None:
    if isinstance(text, str) and text.strip():
        out.append((size * (0.7 if _SMALL.search(text) else 1), where, text[:50]))


def _axes(layout: dict, out: list) -> None:
    axes = [(k, a) for k, a in layout.items() if k[1:5] == "axis" and isinstance(a, dict)]
    for scene in (v for k, v in layout.items() if k.startswith("scene") and isinstance(v, dict)):
        axes += [(k, a) for k, a in scene.items() if k[1:5] == "axis" and isinstance(a, dict)]
    for key, axis in axes:
        if axis.get("visible", True) is False:
            continue
        if axis.get("showticklabels", True) is not False:
            out.append((_size(axis.get("tickfont"), THEME), f"{key} tick labels", ""))
        title = axis.get("title")
        if isinstance(title, dict):
            size = _size(title.get("font"), THEME_AXIS_TITLE)
            _text(out, size, f"{key} title", title.get("text"))


def _traces(fig: dict, base: float, out: list) -> None:
    layout = fig.get("layout", {})
    for trace in fig.get("data", []):
        legend = layout.get(trace.get("legend", "legend")) or {}
        if trace.get("showlegend", True) is not False:
            _text(out, _size(legend.get("font"), THEME), "legend", trace.get("name"))
        if trace.get("text") is not None and "text" in str(trace.get("mode", "text")):
            font = trace.get("textfont") or {}
            if not _hidden(font):
                out.append((_size(font, base), f"{trace.get('type')} text", ""))
        for bar in (trace.get("colorbar"), (trace.get("marker") or {}).get("colorbar")):
            if isinstance(bar, dict) and trace.get("showscale", True) is not False:
                out.append((_size(bar.get("tickfont"), base), "colour bar ticks", ""))
                title = bar.get("title") or {}
                _text(out, _size(title.get("font"), base), "colour bar title", title.get("text"))


def text_sizes(fig: dict) -> list[tuple[float, str, str]]:
    """(px, where, text) of every text a chart draws, hover labels aside."""
    out: list = []
    layout = fig.get("layout", {})
    base = _size(layout.get("font"), THEME)
    _axes(layout, out)
    _traces(fig, base, out)
    for note in layout.get("annotations") or []:
        if not _hidden(note.get("font")):
            _text(out, _size(note.get("font"), base), "annotation", note.get("text"))
    for slider in layout.get("sliders") or []:
        shown = slider.get("currentvalue", {}).get("visible", True) is not False
        if shown:
            out.append((_size(slider.get("currentvalue", {}).get("font"), base), "slider", ""))
        if not _hidden(slider.get("font")):
            out.append((_size(slider.get("font"), base), "slider labels", ""))
    for menu in layout.get("updatemenus") or []:
        out.append((_size(menu.get("font"), base), "buttons", ""))
    title = layout.get("title")
    if isinstance(title, dict):
        _text(out, _size(title.get("font"), 16), "title", title.get("text"))
    return out


def default_log_ticks(fig: dict) -> list[str]:
    """The log axes a figure leaves to Plotly's ticks, which label minor ticks "2" and "5"
    as if they were values (the project labels log axes with vradam.app.figures.ticks)."""
    return [
        key
        for key, axis in fig.get("layout", {}).items()
        if key[1:5] == "axis" and isinstance(axis, dict) and axis.get("type") == "log"
        and axis.get("showticklabels", True) is not False
        and not (axis.get("tickmode") == "array" and axis.get("tickvals"))
    ]  # fmt: skip


def too_small(fig: dict) -> list:
    return [
        (size, where, text)
        for size, where, text in text_sizes(fig)
        if size < (MIN_AXIS_TITLE if where.endswith(" title") and "axis" in where else MIN_TEXT)
    ]


def _small_figure() -> dict:
    """Text at the sizes figures used to set: ticks 10 and 11 px, a note at 10 px, a panel
    title's second line in <sup>, a slider's hidden step labels at 8 px."""
    return {
        "data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "a", "mode": "text",
                  "text": ["p", "q"], "textfont": {"size": 9}}],
        "layout": {
            "xaxis": {"tickfont": {"size": 10}, "title": {"text": "step"}},
            "yaxis2": {"tickfont": {"size": 11}, "title": {"text": "loss", "font": {"size": 12}}},
            "annotations": [{"text": "note", "font": {"size": 10}},
                            {"text": "title<br><sup>more</sup>"}],
            "sliders": [{"font": {"size": 8, "color": "rgba(0,0,0,0)"}, "steps": []}],
        },
    }  # fmt: skip


def test_small_chart_text_is_raised_once_for_every_figure():
    """finish() (every figure on every page, and the exports) raises each size below 12 px
    (axis titles below 14 px) and writes it into the figure; text in <sup> stays small, so
    figures must not use it; hidden text keeps its size; the presenter view enlarges all."""
    from vradam.app.figures.export import finish
    from vradam.app.ui.presenter import for_projector

    fig = _small_figure()
    wheres = {w for _, w, _ in too_small(fig)}
    assert wheres == {"xaxis tick labels", "yaxis2 tick labels", "yaxis2 title", "annotation",
                      "scatter text"}  # fmt: skip
    finish(fig)
    assert [(w, t) for _, w, t in too_small(fig)] == [("annotation", "title<br><sup>more</sup>")]
    fig["layout"]["annotations"].pop()
    assert too_small(fig) == []
    layout = fig["layout"]
    assert layout["xaxis"]["tickfont"]["size"] == 12 and layout["yaxis2"]["tickfont"]["size"] == 12
    assert layout["xaxis"]["title"]["font"]["size"] == 14
    assert layout["sliders"][0]["font"]["size"] == 8  # hidden: unchanged
    big = for_projector(copy.deepcopy(fig))
    assert min(s for s, _, _ in text_sizes(big)) >= 16


def test_a_log_axis_left_to_plotlys_ticks_is_found():
    from vradam.app.figures.ticks import log_ticks

    fig = {"data": [], "layout": {"xaxis": {"type": "log"}, "yaxis": {"type": "log"},
                                  "yaxis2": {"type": "log", "showticklabels": False}}}  # fmt: skip
    assert default_log_ticks(fig) == ["xaxis", "yaxis"]
    fig["layout"]["xaxis"].update(log_ticks(-2, 1))
    fig["layout"]["yaxis"].update(log_ticks(0.1, 0.6))  # under a decade: 2, 3 … labelled
    assert default_log_ticks(fig) == []
    assert fig["layout"]["yaxis"]["ticktext"][:2] == ["2", "3"]


def _app(path: str, query: dict | None = None, switch: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if switch:
        at.switch_page(switch)
    return at.run()


# each page with charts, opened as a visitor would (the Stability maps page is checked in
# tests/test_stability.py, whose AppTest already opens it)
PAGES = {
    "playground": lambda: _app("app.py"),
    "lessons": lambda: _app("app.py", {"lesson": "7"}, "app_pages/lessons.py"),
    "eos": lambda: _app("app_pages/eos.py"),
    "physics": lambda: _app("app_pages/physics.py"),
    "evidence": lambda: _app("app_pages/evidence.py"),
}


def _networks_trained():
    at = _app("app_pages/networks.py", {"nt_steps": "20"})
    next(b for b in at.button if b.label == "Train").click().run()
    return at


PAGES["networks"] = _networks_trained


@pytest.mark.slow  # one page's AppTest each: 2-10 s
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_draws_chart_text_of_at_least_12_px(page):
    """… and labels every log axis with values, not Plotly's "2", "5" minor labels."""
    at = PAGES[page]()
    assert not at.exception, [e.value for e in at.exception]
    figs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    assert figs, "the page drew no chart"
    for fig in figs:
        assert text_sizes(fig) and too_small(fig) == []
        assert default_log_ticks(fig) == []
