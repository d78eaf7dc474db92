"""A class on one server: pages keep their setup when a visitor leaves and comes
back, every page opens from a cold server's deep link, and a link cannot plant markup.

Browser tests (headless Chromium); see tests/test_browser.py for the conventions.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import (
    ARTIFACTS,
    server_env,
    start_server,
    stop_server,
    wait_for_app,
    wait_for_server,
)

pytestmark = pytest.mark.browser

# Sidebar title, path, and a link with non-default settings where the page takes them.
PAGES = [
    ("Playground", "/", "?ls=rosenbrock&steps=300"),
    ("Lessons", "/lessons", "?lesson=momentum"),
    ("Networks", "/networks", "?nt_task=digits&nt_steps=120"),
    ("Tuning", "/tuning", "?tn_task=moons&tn_trials=4"),
    ("Edge of stability", "/edge_of_stability", "?eos_problem=quadratic&eos_q_lr=0.1"),
    ("Physics", "/physics", "?ph_b3=10"),
    ("Stability maps", "/stability_maps", "?sm_beta=0.8"),
    ("Evidence", "/evidence", "?ev_task=lm"),
    ("About VRAdam", "/about", ""),
]

# Every input-like widget on the page: its container's visible text (label and shown
# value) and its inputs' state.
JS_WIDGETS = """() => Array.from(document.querySelectorAll('[data-testid="stElementContainer"]'))
  .filter(c => !c.closest('[data-stale="true"]'))
  .filter(c => c.querySelector('input, textarea, [role="slider"], [data-baseweb="select"]'))
  .map(c => {
    const inputs = Array.from(c.querySelectorAll('input, textarea')).map(
      i => i.type === 'checkbox' || i.type === 'radio' ? String(i.checked) : i.value);
    const sliders = Array.from(c.querySelectorAll('[role="slider"]')).map(
      s => s.getAttribute('aria-valuenow') + '|' + s.getAttribute('aria-valuetext'));
    return [c.innerText, ...inputs, ...sliders].join(' ¦ ');
  })"""


# A rerun marks the elements it has not redrawn yet as stale (and hides them from JS_WIDGETS)
NOTHING_STALE = "() => !document.querySelector('[data-stale=\"true\"]')"


def _query(url: str) -> dict:
    return parse_qs(urlparse(url).query)


def _state(page) -> tuple[str, dict, list[str]]:
    """The page's path, query and widgets, once two looks a second apart agree (a rerun
    that a navigation starts may still be replacing elements)."""
    last = None
    while True:
        page.wait_for_function(NOTHING_STALE, timeout=180_000)
        now = urlparse(page.url).path, _query(page.url), page.evaluate(JS_WIDGETS)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(1000)
        wait_for_app(page, 180_000)


def _same(after, before, what) -> None:
    assert after[:2] == before[:2], (what, "URL", after[:2], before[:2])
    changed = [(b, a) for b, a in zip(before[2], after[2]) if a != b]
    assert not changed and len(after[2]) == len(before[2]), (what, "widgets", changed[:5])


def _no_exception(page, what) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, (what, boxes.first.inner_text()[:500])
    assert page.locator('[role="dialog"]').count() == 0, (what, "a modal is open")


def _sidebar_link(page, title: str) -> None:
    """Follow the sidebar's link to ``title`` and wait until the address is that page's and
    its run has finished (on a loaded machine the click's navigation may not have started
    when the page is first seen idle)."""
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
    target = urlparse(link.get_attribute("href")).path or "/"
    link.click()
    page.wait_for_function("(path) => window.location.pathname === path", arg=target,
                           timeout=180_000)  # fmt: skip
    wait_for_app(page, 180_000)


@pytest.mark.parametrize("index", range(len(PAGES)), ids=[p[0] for p in PAGES])
def test_leaving_a_page_and_coming_back_keeps_its_setup(browser, app_server, index):
    title, path, link = PAGES[index]
    other = "About VRAdam" if title != "About VRAdam" else "Playground"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{app_server}{path}{link}", wait_until="domcontentloaded")
        wait_for_app(page, 180_000)
        _no_exception(page, title)
        before = _state(page)
        assert before[2] or title == "About VRAdam", "no widgets found"
        _sidebar_link(page, other)  # leave by the sidebar …
        assert urlparse(page.url).path != path
        page.go_back()  # … and come back with the browser's Back button
        page.wait_for_function("(path) => window.location.pathname === path", arg=path,
                               timeout=180_000)  # fmt: skip
        wait_for_app(page, 180_000)
        _no_exception(page, (title, "Back"))
        _same(_state(page), before, (title, "after Back"))
        _sidebar_link(page, other)  # leave again, and come back by the sidebar link
        _sidebar_link(page, title)
        _no_exception(page, (title, "sidebar"))
        if before[1]:  # the page writes its settings back to the bare address
            page.wait_for_function("() => window.location.search.length > 1", timeout=180_000)
            wait_for_app(page, 180_000)
        _same(_state(page), before, (title, "after the sidebar link"))
    finally:
        context.close()
    assert not errors, errors


def test_every_page_opens_from_a_cold_servers_deep_link(browser, tmp_path):
    """Each page is the first visit of a new server: no "Page not found" modal, the page's
    own title, no exception."""
    servers = [start_server(ARTIFACTS / f"streamlit-cold-{i}.log", server_env(tmp_path))
               for i in range(len(PAGES))]  # fmt: skip
    try:
        for i, ((title, path, _), (proc, url)) in enumerate(zip(PAGES, servers)):
            wait_for_server(proc, url, ARTIFACTS / f"streamlit-cold-{i}.log")
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}{path}", wait_until="domcontentloaded")
            wait_for_app(page, 180_000)
            _no_exception(page, title)
            assert urlparse(page.url).path == path, (title, page.url)
            current = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
            assert title in current.inner_text(), (title, current.inner_text())
            page.close()
    finally:
        for proc, _ in servers:
            stop_server(proc)


def test_a_label_in_a_link_is_text_in_the_legend(browser, app_server):
    hostile = ('<a href="https://evil.example/login">Click here for the answers</a>'
               '<span style="font-size:40px;color:red">BIG</span>')  # fmt: skip
    from urllib.parse import quote

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{app_server}/?steps=50&opt={quote(f'adam:lr=0.1@{hostile}')}&opt=vradam")
        wait_for_app(page, 180_000)
        page.wait_for_selector(".js-plotly-plot .legend")
        _no_exception(page, "hostile label")
        assert page.locator('.js-plotly-plot a[href*="evil"]').count() == 0
        assert page.locator(".js-plotly-plot [style*='font-size:40px']").count() == 0
        legend = page.locator(".js-plotly-plot .legend").first.text_content()
        assert '<a href="https://evil.example/login">' in legend
        page.screenshot(path=str(ARTIFACTS / "hostile-label.png"))
    finally:
        page.close()


ACTIVE = "() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active"


def test_charts_have_names_summaries_and_keyboard_controls(browser, app_server):
    """Issue 25, item 9: each chart is a named figure described by its "Summary:" caption;
    Play/Pause and the step slider work from the keyboard."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{app_server}/?steps=100")
        wait_for_app(page, 180_000)
        page.wait_for_function(
            "() => document.querySelector('.js-plotly-plot g.slider-container[role=slider]')",
            timeout=180_000,
        )
        chart = page.locator(".js-plotly-plot").first
        assert chart.get_attribute("role") == "figure"
        assert chart.get_attribute("aria-label").startswith("Chart: ")
        assert "VRAdam" in chart.get_attribute("aria-label")
        summary = page.locator(f"#{chart.get_attribute('aria-describedby')}")
        assert summary.inner_text().startswith("Summary:")
        slider = page.locator(".js-plotly-plot g.slider-container").first
        slider.focus()
        for key, expected in [("ArrowRight", 1), ("ArrowRight", 2), ("PageUp", 12),
                              ("ArrowLeft", 11), ("End", 100), ("Home", 0)]:  # fmt: skip
            page.keyboard.press(key)
            page.wait_for_function(f"({ACTIVE})() === {expected}")
            page.wait_for_function(  # the screen reader hears the new value
                f"() => document.querySelector('.js-plotly-plot g.slider-container')"
                f".getAttribute('aria-valuenow') === '{expected}'",
            )
        play = page.locator(".js-plotly-plot g.updatemenu-button").filter(has_text="Play")
        assert play.get_attribute("role") == "button" and play.get_attribute("tabindex") == "0"
        play.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(f"({ACTIVE})() > 5")
    finally:
        page.close()


JS_KATEX_OVERFLOW = """() => Array.from(document.querySelectorAll('.katex-display'))
  .filter(k => k.scrollWidth > k.clientWidth + 4)  // KaTeX itself runs 2 px over
  .map(k => (k.querySelector("annotation") || {}).textContent)"""


def test_step_through_formulas_fit_their_columns(browser, app_server):
    """Issue 25, item 7: v_t and m_t with their numbers were cut at 1024 and 1280 px."""
    page = browser.new_page(viewport={"width": 1024, "height": 800})
    try:
        page.goto(f"{app_server}/?steps=100")
        wait_for_app(page, 180_000)
        page.get_by_text("Step-through mode").click()
        wait_for_app(page, 180_000)
        page.wait_for_function("() => document.querySelectorAll('.katex-display').length > 8")
        for width in (1024, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            wait_for_app(page, 180_000)
            page.wait_for_function(  # laid out (a display still being drawn has no width)
                "() => Array.from(document.querySelectorAll('.katex-display'))"
                ".every(k => k.clientWidth > 0)",
            )
            assert page.evaluate(JS_KATEX_OVERFLOW) == [], width
        _no_exception(page, "step-through")
    finally:
        page.close()
