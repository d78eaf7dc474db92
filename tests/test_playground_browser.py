"""The Playground in headless Chromium: history, a projector, a phone, the 3-D view.

Screenshots land in tests/artifacts/ (playground-*.png). Like tests/test_browser.py, these
skip without Chromium unless VRADAM_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, wait_for_app, wait_for_charts_at_rest

pytestmark = pytest.mark.browser

PLOT = ".js-plotly-plot"
JS_SLIDER_ACTIVE = "() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active"

# Texts and boxes of the race that must not overlap one another (client rectangles): panel
# titles, axis titles, tick labels (of different axes), the legend, the slider, the buttons.
JS_OVERLAPS = r"""
() => {
  const plot = document.querySelector('.js-plotly-plot');
  const items = [];
  const add = (el, kind, group) => {
    const r = el.getBoundingClientRect();
    const text = (el.textContent || '').trim();
    if (r.width < 1 || r.height < 1 || (el.tagName === 'text' && !text)) return;
    items.push({kind, group: group || kind + items.length, r, text: text.slice(0, 24)});
  };
  plot.querySelectorAll('.annotation-text').forEach((e) => add(e, 'title'));
  plot.querySelectorAll('.infolayer > g[class^="g-"] > text').forEach((e) => add(e, 'axis title'));
  plot.querySelectorAll('g[class$="tick"] > text').forEach((e) => {
    const axis = e.parentElement.getAttribute('class');
    add(e, 'tick', axis);
  });
  plot.querySelectorAll('.legend > rect.bg').forEach((e) => add(e, 'legend'));
  plot.querySelectorAll('.slider-container .slider-rail-rect').forEach((e) => add(e, 'slider'));
  plot.querySelectorAll('.updatemenu-button').forEach((e) => add(e, 'button', 'buttons'));
  const found = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.group === b.group) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 1.5 && h > 1.5) found.push(`${a.kind} "${a.text}" × ${b.kind} "${b.text}"`);
    }
  }
  return found;
}
"""


def _open(browser, url, width, height, init_script=None):
    context = browser.new_context(viewport={"width": width, "height": height})
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)
    page.wait_for_selector(f"{PLOT} .main-svg")
    return context, page, errors


def _presenter(page):
    toggle = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]')
    toggle.filter(has_text="Presenter view").locator("label").click()
    page.get_by_role("button", name="Exit presenter view").wait_for()
    wait_for_app(page)
    page.wait_for_selector(f"{PLOT} .main-svg")
    page.wait_for_timeout(800)
    wait_for_charts_at_rest(page)


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_settings_replace_the_history_entry_and_back_leaves(browser, app_server):
    """Changing settings rewrites the address in place: one Back press leaves the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("about:blank")
        page.goto(app_server, wait_until="domcontentloaded")
        wait_for_app(page)
        length = page.evaluate("history.length")
        assert page.evaluate("location.search") == ""  # the default setup needs no query
        seed = page.get_by_label("seed")
        for value in ("3", "4"):
            seed.fill(value)
            seed.press("Enter")
            page.wait_for_function(f"() => location.search.includes('seed={value}')")
            wait_for_app(page)
            assert page.evaluate("history.length") == length
        page.locator('[data-testid="stButtonGroup"]').get_by_text(
            "Beale's plateaus", exact=True
        ).click()
        page.wait_for_function("() => location.search.includes('ls=beale')")
        wait_for_app(page)
        assert page.evaluate("history.length") == length
        page.go_back()
        page.wait_for_url("about:blank")
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize("panels", ["all", "three"])
def test_presenter_view_fits_a_projector(browser, app_server, panels):
    """At 1024×768 the map, the Play button, the slider and the chosen panels are on the
    first screen in the presenter view, without overlapping texts."""
    context, page, errors = _open(browser, app_server, 1024, 768)
    try:
        _presenter(page)
        if panels == "three":
            page.get_by_role("button", name="Panels").click()
            for name in ("step size", "sharpness"):  # loss, η_t, ‖v‖² stay
                page.locator('[data-testid="stPopoverBody"]').get_by_text(name, exact=True).click()
                wait_for_app(page)
            page.keyboard.press("Escape")
            page.wait_for_function("() => document.querySelectorAll('.annotation-text')"
                                   ".length === 3")  # fmt: skip
        page.wait_for_timeout(500)
        wait_for_charts_at_rest(page)  # the boxes below are measured at rest
        height = page.viewport_size["height"]
        chart = _box(page, PLOT)
        assert chart["y"] >= 0 and chart["y"] + chart["height"] <= height
        for part in (f"{PLOT} .slider-container", f"{PLOT} .updatemenu-container",
                     f"{PLOT} .xy .nsewdrag"):  # fmt: skip
            box = _box(page, part)
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, part
        assert page.evaluate(JS_OVERLAPS) == []
        page.screenshot(path=str(ARTIFACTS / f"playground-presenter-1024x768-{panels}.png"))
    finally:
        context.close()
    assert not errors, errors


def test_phone_stacks_the_map_and_panels_and_plays(browser, app_server):
    """At 390×844 the race is one column at full width: map, controls, panels; Play works."""
    context, page, errors = _open(browser, app_server, 390, 844)
    try:
        # the page first assumes a wide screen; the probe's report redraws it stacked
        page.wait_for_function("() => document.querySelector('.js-plotly-plot')"
                               "._fullLayout.xaxis.domain[1] === 1")  # fmt: skip
        wait_for_app(page)
        wait_for_charts_at_rest(page)
        column = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
            ".getBoundingClientRect().width"
        )
        chart = _box(page, f"{PLOT} .main-svg")
        assert chart["width"] >= 0.85 * (column - 32)
        layout = page.evaluate(
            "() => { const l = document.querySelector('.js-plotly-plot')._fullLayout;"
            " return {map: l.yaxis.domain, panels: [2, 3, 4, 5, 6].map("
            "(k) => l['yaxis' + k].domain), x: l.xaxis2.domain}; }"
        )
        assert layout["x"] == [0, 1]
        assert all(top < layout["map"][0] for _, top in layout["panels"])  # all below the map
        assert page.evaluate(JS_OVERLAPS) == []
        page.locator(f"{PLOT} .updatemenu-button").filter(has_text="Play").click()
        page.wait_for_function(f"({JS_SLIDER_ACTIVE})() > 20")
        page.set_viewport_size({"width": 390, "height": 2400})  # the whole column, for a look
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "playground-phone-390x844.png"))
    finally:
        context.close()
    assert not any("negative" in e for e in errors), errors
    assert not errors, errors


def test_a_lost_width_report_is_sent_again(browser, app_server):
    """A phone whose first width report never reaches the script still gets the stacked
    layout: the probe reports again until a run shows it heard (the page is not left wide
    for ever because one message was lost while it was busy)."""
    lose_two = "window.vradamLoseReports = 2;"  # the first report and the first resend
    context, page, errors = _open(browser, app_server, 390, 844, init_script=lose_two)
    try:
        page.wait_for_function("() => window.vradamLoseReports === 0")
        page.wait_for_function("() => document.querySelector('.js-plotly-plot')"
                               "._fullLayout.xaxis.domain[1] === 1")  # fmt: skip
        assert page.evaluate("() => document.documentElement.dataset.vradamNarrow") == "true"
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_3d_view_shows_the_surface_and_back(browser, app_server, width, height):
    context, page, errors = _open(browser, app_server, width, height)
    try:
        page.locator('[data-testid="stButtonGroup"]').get_by_text("3-D", exact=True).click()
        wait_for_app(page)
        page.wait_for_function(
            "() => { const p = document.querySelector('.js-plotly-plot');"
            " return p && p.data && p.data[0].type === 'surface'; }",
        )
        page.wait_for_selector(f"{PLOT} .gl-container canvas")
        types = page.evaluate("() => document.querySelector('.js-plotly-plot').data"
                              ".map((t) => t.type)")  # fmt: skip
        assert types.count("scatter3d") >= 4 and types[0] == "surface"
        page.wait_for_timeout(1500)
        page.locator(PLOT).first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"playground-3d-{width}x{height}.png"))
        page.locator('[data-testid="stButtonGroup"]').get_by_text("2-D", exact=True).click()
        wait_for_app(page)
        page.wait_for_function(f"() => ({JS_SLIDER_ACTIVE})() === 0")
    finally:
        context.close()
    # headless Chromium may warn that WebGL falls back to software; nothing else is allowed
    assert not [e for e in errors if "WebGL" not in e and "GPU" not in e], errors
