"""Browser tests: the app served by Streamlit, driven in headless Chromium.

Screenshots land in tests/artifacts/ (look at them). Without Chromium these tests
skip with a message saying how to install it; `.ci/run` sets
VRADAM_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import ARTIFACTS, wait_for_app

import landscapes

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1600, 1000), "projector": (1280, 720)}

PLOT = ".js-plotly-plot"
JS_SLIDER_ACTIVE = "() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active"
JS_BACKGROUND = "() => document.querySelectorAll('.js-plotly-plot .imagelayer image').length"


def _open(browser, url, viewport="desktop"):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)
    return context, page, errors


def _pick_scenario(page, title):
    page.locator('[data-testid="stButtonGroup"]').get_by_text(title, exact=True).click()


def _no_overflow(page):
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_about_page_renders(browser, app_server, viewport):
    context, page, errors = _open(browser, f"{app_server}/about", viewport)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Velocity-Regularized Adam" in page.locator("h1").first.inner_text()
        # KaTeX rendered the update rule (no raw LaTeX left on the page).
        page.wait_for_function("() => document.querySelectorAll('.katex').length > 5")
        assert "\\begin{aligned}" not in page.locator('[data-testid="stMain"]').inner_text()
        _no_overflow(page)
        page.screenshot(path=str(ARTIFACTS / f"about-{viewport}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_playground_plays(browser, app_server, viewport):
    context, page, errors = _open(browser, app_server, viewport)
    try:
        page.wait_for_selector(f"{PLOT} .main-svg")
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(JS_BACKGROUND) == 1
        assert page.evaluate(JS_SLIDER_ACTIVE) == 0
        page.screenshot(path=str(ARTIFACTS / f"playground-{viewport}.png"))
        page.locator(f"{PLOT} .updatemenu-button").filter(has_text="Play").click()
        page.wait_for_function(f"({JS_SLIDER_ACTIVE})() > 40")
        # the background image survives the animation (contour/heatmap traces would not)
        assert page.evaluate(JS_BACKGROUND) == 1
        page.screenshot(path=str(ARTIFACTS / f"playground-{viewport}-playing.png"))
        _no_overflow(page)
    finally:
        context.close()
    assert not errors, errors


def test_click_on_the_map_sets_the_start(browser, app_server):
    context, page, errors = _open(browser, app_server)
    try:
        page.wait_for_selector(f"{PLOT} .main-svg")
        box = page.locator(f"{PLOT} .xy .nsewdrag").first.bounding_box()
        # a point in the upper right quarter of the map
        page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])
        page.wait_for_function("() => window.location.search.includes('start=')")
        wait_for_app(page)
        start = parse_qs(urlparse(page.url).query)["start"][0]
        x, y = (float(v) for v in start.split(","))
        assert x > 0.5 and y > 1.5  # Rosenbrock's domain is [-2, 2] × [-1, 3]
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
    assert not errors, errors


def test_sessions_do_not_share_state(browser, app_server):
    a_ctx, a, a_errors = _open(browser, app_server)
    b_ctx, b, b_errors = _open(browser, f"{app_server}/?ls=himmelblau")
    try:
        assert "Himmelblau" in b.locator('[data-testid="stMain"]').inner_text()
        # B picks a scenario; A then reruns with its own change and must not see B's
        _pick_scenario(b, "A ravine where Adam oscillates")
        b.wait_for_function("() => window.location.search.includes('ls=ill_conditioned')")
        wait_for_app(b)
        _pick_scenario(a, "Beale's plateaus")
        a.wait_for_function("() => window.location.search.includes('ls=beale')")
        wait_for_app(a)
        a_text = a.locator('[data-testid="stMain"]').inner_text()
        b_text = b.locator('[data-testid="stMain"]').inner_text()
        beale = landscapes.get("beale").lesson[:30]
        ravine = landscapes.get("ill_conditioned").lesson[:30]
        assert beale in a_text and ravine not in a_text
        assert ravine in b_text and beale not in b_text
        assert parse_qs(urlparse(a.url).query)["ls"] == ["beale"]
        assert parse_qs(urlparse(b.url).query)["ls"] == ["ill_conditioned"]
    finally:
        a_ctx.close()
        b_ctx.close()
    assert not a_errors and not b_errors


def test_png_export_uses_the_system_chromium(chromium_path):
    from vradam.app.figures.playground import final_state_figure
    from vradam.app.playground import PlaygroundConfig
    from vradam.app.ui import playground as ui

    config = PlaygroundConfig(steps=40)
    fig = final_state_figure(ui.cached_race_figure(config))
    assert "sliders" not in fig["layout"] and "frames" not in fig
    png = ui.png_bytes(config)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_networks_page_trains_in_the_browser(browser, app_server):
    context, page, errors = _open(browser, f"{app_server}/networks")
    try:
        assert "Networks" in page.locator('[data-testid="stMain"]').inner_text()
        page.get_by_role("button", name="Train").click()
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=180_000)
        wait_for_app(page, timeout_ms=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator(".js-plotly-plot").count() == 2  # curves and decision boundaries
        page.screenshot(path=str(ARTIFACTS / "networks-desktop.png"))
        _no_overflow(page)
    finally:
        context.close()
    assert not errors, errors


def test_deep_link_before_any_visit_goes_through_the_navigation(browser, tmp_path):
    """A fresh server whose first request is /networks still shows the app's pages."""
    from conftest import server_env, start_server, stop_server, wait_for_server

    log = tmp_path / "streamlit.log"
    proc, url = start_server(log, server_env(tmp_path))
    try:
        wait_for_server(proc, url, log)
        context, page, errors = _open(browser, f"{url}/networks")
        try:
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Playground" in nav and "About VRAdam" in nav and "app" not in nav.split()
            assert "Networks: Two moons" in page.locator('[data-testid="stMain"]').inner_text()
        finally:
            context.close()
        assert not errors
    finally:
        stop_server(proc)


@pytest.mark.parametrize(
    ("path", "heading", "charts"),
    [("physics", "Physics", 3), ("stability_maps", "Stability maps", 1),
     ("edge_of_stability", "Edge of stability", 1)],
)  # fmt: skip
def test_theory_pages_open_without_errors(browser, app_server, path, heading, charts):
    """Physics, stability maps and edge of stability render at projector size."""
    context, page, errors = _open(browser, f"{app_server}/{path}", "projector")
    try:
        wait_for_app(page, timeout_ms=180_000)
        assert heading in page.locator('[data-testid="stMain"]').inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        # only the visible tab's charts are laid out; at least that many are drawn
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
        )
        _no_overflow(page)
        page.screenshot(path=str(ARTIFACTS / f"{path}-projector.png"))
    finally:
        context.close()
    assert not errors, errors


def test_walk_through_a_lesson(browser, app_server):
    """Open a lesson, try its exercise, read the answer, follow its preset to the Playground."""
    context, page, errors = _open(browser, f"{app_server}/lessons?lesson=momentum", "projector")
    try:
        main = page.locator('[data-testid="stMain"]')
        assert "does adding momentum" in main.inner_text()
        page.wait_for_selector(f"{PLOT} .main-svg")
        page.screenshot(path=str(ARTIFACTS / "lesson-momentum-projector.png"))
        before = page.locator('[data-testid="stAlert"]').first.inner_text()
        slider = page.get_by_role("slider")
        slider.focus()
        for _ in range(3):  # μ 0.9 → 0.3
            page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stAlert\"]')"
            ".innerText.includes('μ = 0.3')",
        )
        assert page.locator('[data-testid="stAlert"]').first.inner_text() != before
        page.get_by_test_id("stExpander").get_by_text("Answer").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stMain\"]').innerText"
            ".includes('In the run the preset opens')",
        )
        page.screenshot(path=str(ARTIFACTS / "lesson-momentum-answer.png"), full_page=True)
        page.get_by_role("link", name="Open the preset in the Playground page").click()
        page.wait_for_url("**ls=ill_conditioned**")
        wait_for_app(page)
        page.wait_for_function(f"() => document.querySelectorAll('{PLOT}').length > 0")
        assert "Momentum" in page.locator(f"{PLOT}").first.inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "lesson-momentum-preset.png"))
    finally:
        context.close()
    assert not errors, errors


def test_presenter_view_in_the_browser(browser, app_server):
    context, page, errors = _open(browser, f"{app_server}/edge_of_stability", "projector")
    try:
        wait_for_app(page, timeout_ms=180_000)
        toggle = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]')
        toggle.filter(has_text="Presenter view").locator("label").click()
        page.get_by_role("button", name="Exit presenter view").wait_for()
        wait_for_app(page)
        assert not page.locator('[data-testid="stSidebar"]').is_visible()
        size = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
        assert size == "20px"
        page.wait_for_function(f"() => document.querySelectorAll('{PLOT} .main-svg').length > 0")
        _no_overflow(page)
        page.screenshot(path=str(ARTIFACTS / "presenter-edge_of_stability.png"))
        page.get_by_role("button", name="Exit presenter view").click()
        page.locator('[data-testid="stSidebar"]').wait_for(state="visible")
    finally:
        context.close()
    assert not errors, errors
