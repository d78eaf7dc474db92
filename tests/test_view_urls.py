"""The Networks page's Robustness and Landscape views keep their controls in the URL: a link
sets them, the page writes them back, and garbage in any of them falls back to the default
with one short warning and no exception. (The Landscape view's own run is in
tests/test_landscape_net.py::test_networks_page_landscape_view.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vradam.app.ui.landscape import FIELDS as LANDSCAPE_FIELDS
from vradam.app.ui.networks import URL_KEYS
from vradam.app.ui.robustness import FIELDS as ROBUSTNESS_FIELDS

ROOT = Path(__file__).resolve().parents[1]
VIEW_KEYS = [f.key for f in (*ROBUSTNESS_FIELDS, *LANDSCAPE_FIELDS)]
GARBAGE = ["1e308", "-5", "nan", "ünïcødé ✓ 漢字", "x" * 10_000, "", "**bold** <b>", "0x10"]


def _open(query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _query_value(at, key):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_every_view_control_is_a_networks_url_key():
    assert set(VIEW_KEYS) <= set(URL_KEYS)
    assert len(VIEW_KEYS) == len(set(VIEW_KEYS)) == 11


@pytest.mark.slow  # 2 page runs, 2-5 s
def test_a_link_sets_the_robustness_view_and_the_page_writes_it_back():
    query = dict(nt_mode="robustness", nt_rb_points="8", nt_rb_seeds="2", nt_rb_steps="50",
                 nt_rb_below="0.5", nt_rb_above="2.5", nt_ls_plane="random")  # fmt: skip
    at = _open(query)
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    values = {f.key: at.select_slider(key=f.key).value for f in ROBUSTNESS_FIELDS}
    assert values == dict(nt_rb_points=8, nt_rb_seeds=2, nt_rb_steps=50, nt_rb_below=0.5,
                          nt_rb_above=2.5)  # fmt: skip
    assert at.session_state["nt_ls_plane"] == "random"  # the other view's, kept for later
    at.select_slider(key="nt_rb_points").set_value(4).run()
    assert _query_value(at, "nt_rb_points") == "4"
    assert _query_value(at, "nt_rb_steps") == "50"
    # a link naming only the mode: every view control at its default, none in the URL
    at = _open(dict(nt_mode="robustness"))
    assert at.select_slider(key="nt_rb_points").value == 6
    assert not set(VIEW_KEYS) & set(at.query_params)


@pytest.mark.slow  # 8 page runs, 6-15 s
def test_garbage_in_the_views_links_falls_back_to_the_defaults():
    for value in GARBAGE:
        at = _open({**{k: value for k in VIEW_KEYS}, "nt_mode": "robustness"})
        assert not at.exception, (value[:20], [e.value for e in at.exception])
        for f in (*ROBUSTNESS_FIELDS, *LANDSCAPE_FIELDS):
            assert at.session_state[f.key] == f.default, (value[:20], f.key)
        texts = [w.value for w in at.warning]
        assert len(texts) == len(VIEW_KEYS), (value[:20], texts)
        assert all(t.startswith("Ignored nt_") and len(t) < 400 for t in texts), texts
        assert "x" * 41 not in " ".join(texts)
        assert [b.label for b in at.button][:2] == ["Run robustness", "Stop"]


@pytest.mark.slow  # 1 page run, 1-3 s
def test_a_link_over_the_operators_limits_gets_the_largest_option_within(monkeypatch):
    from vradam.app.ui import robustness as view
    from vradam.app.ui.tuning import PageLimits

    monkeypatch.setattr(view, "LIMITS", PageLimits(trials=50, steps=120, seeds=4))
    at = _open(dict(nt_mode="robustness", nt_rb_steps="1000", nt_rb_seeds="10"))
    assert not at.exception
    assert at.select_slider(key="nt_rb_steps").value == 100  # not 120: not an option
    assert at.select_slider(key="nt_rb_seeds").value == 3
