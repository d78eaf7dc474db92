"""Browser tests: the app served by Streamlit, driven in headless Chromium.

Screenshots land in tests/artifacts/ (look at them). Without Chromium these tests
skip with a message saying how to install it; `.ci/run` sets
VRADAM_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1600, 1000), "projector": (1280, 720)}


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_about_page_renders(browser, app_server, viewport):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(app_server, wait_until="domcontentloaded")
        wait_for_app(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Velocity-Regularized Adam" in page.locator("h1").first.inner_text()
        # KaTeX rendered the update rule (no raw LaTeX left on the page).
        assert page.locator(".katex").count() > 5
        assert "\\begin{aligned}" not in page.locator('[data-testid="stMain"]').inner_text()
        # Nothing wider than the window (no horizontal overflow of the page itself).
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=str(ARTIFACTS / f"about-{viewport}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
