"""AppTest: every page runs without an exception (no browser needed)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

TIMEOUT = 60  # the default 3 s is too short on a loaded 2-core machine


def test_app_routes_to_about_by_default():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Velocity-Regularized Adam" in at.title[0].value


def test_about_page_content():
    at = AppTest.from_file(str(ROOT / "pages" / "about.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    latex = " ".join(el.value for el in at.latex)
    assert r"\min\!\left(\beta_3 \lVert v_t \rVert^2,\ \alpha_1\right)" in latex
    text = " ".join(el.value for el in at.markdown)
    for needle in ("WikiText-2", "5.99 / 6.00", "0.476 / 0.469", "25.0 / 25.0", "3.447"):
        assert needle in text
    code = " ".join(el.value for el in at.code)
    assert "from vradam import VRAdam" in code and "2505.13196" in code
