"""Hostile input: garbage in any page's URL never crashes it; user text is never Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vradam.app.playground import PlaygroundConfig
from vradam.app.ui.eos import FIELDS as EOS_FIELDS
from vradam.app.ui.evidence import FIELDS as EVIDENCE_FIELDS
from vradam.app.ui.markdown import md_escape, quote
from vradam.app.ui.networks import URL_KEYS as NETWORKS_KEYS
from vradam.app.ui.physics import FIELDS as PHYSICS_FIELDS
from vradam.app.ui.stability import FIELDS as STABILITY_FIELDS
from vradam.app.ui.tuning import FIELDS as TUNING_FIELDS
from vradam.studies.networks import TASKS

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
LONG = "x" * 10_000
GARBAGE = ["1e308", "-1e308", "-5", "nan", "inf", "-inf", "ünïcødé ✓ 漢字", LONG, "", "1e12",
           "0x10", "**bold** <b>", "__import__('os')"]  # fmt: skip
PLAYGROUND_KEYS = ["v", "ls", "lp_condition", "lp_angle", "expr", "dom", "start", "starts", "n",
                   "opt", "lr", "steps", "noise", "seed", "sched"]  # fmt: skip
PAGES = {
    "playground": ("app.py", None, PLAYGROUND_KEYS),
    "lessons": ("app.py", "app_pages/lessons.py", ["lesson"]),
    "networks": ("app_pages/networks.py", None, list(NETWORKS_KEYS)),
    "eos": ("app_pages/eos.py", None, [f.key for f in EOS_FIELDS]),
    "physics": ("app_pages/physics.py", None, [f.key for f in PHYSICS_FIELDS]),
    "stability": ("app_pages/stability.py", None, [f.key for f in STABILITY_FIELDS]),
    "tuning": ("app_pages/tuning.py", None, [f.key for f in TUNING_FIELDS]),
    "evidence": ("app_pages/evidence.py", None, [f.key for f in EVIDENCE_FIELDS]),
}


def _open(page: str, query: dict) -> AppTest:
    path, switch, _ = PAGES[page]
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    if switch:
        at.switch_page(switch)
    return at.run()


def _check(at, what) -> list[str]:
    assert not at.exception, (what, [e.value for e in at.exception])
    texts = [w.value for w in at.warning]
    for text in texts:
        assert "x" * 41 not in text, (what, "a long value is echoed", text[:200])
        assert len(text) < 400, (what, text[:200])
        for raw in ("invalid literal", "could not convert", "Traceback", "Error:"):
            assert raw not in text, (what, text)
    return texts


def _garbage_queries(keys, fixed=None):
    """One query per garbage value (every key gets it), then one with repeated keys."""
    fixed = fixed or {}
    for value in GARBAGE:
        yield value[:20], {**{k: value for k in keys}, **fixed}
    yield "repeated", {**{k: ["1", "inf", LONG, "-1"] for k in keys}, **fixed}


@pytest.mark.parametrize(
    "page",
    [
        "playground",
        "lessons",
        "physics",
        pytest.param("stability", marks=pytest.mark.slow),  # 14 page runs, 9 s
        pytest.param("tuning", marks=pytest.mark.slow),  # 14 page runs, 17 s under load
        pytest.param("evidence", marks=pytest.mark.slow),
    ],
)
def test_garbage_urls_never_crash_a_page(page, tmp_path, monkeypatch):
    monkeypatch.setenv("VRADAM_STORAGE", f"sqlite:///{tmp_path / 'studies.db'}")  # tuning page
    for what, query in _garbage_queries(PAGES[page][2]):
        _check(_open(page, query), (page, what))


def test_garbage_urls_never_crash_the_edge_of_stability_page():
    keys = [k for k in PAGES["eos"][2] if k != "eos_seeds"]
    # The quadratic problem for most values (fast); the MLP once, with one seed.
    for what, query in _garbage_queries(keys, {"eos_problem": ["mlp", "quadratic"]}):
        _check(_open("eos", query), ("eos", what))
    for value in ("1e308", LONG):
        query = {**{k: value for k in keys}, "eos_seeds": "1"}
        _check(_open("eos", query), ("eos mlp", value[:20]))


@pytest.mark.slow  # 14 page runs, 8-17 s
def test_garbage_urls_never_crash_the_networks_page():
    for what, query in _garbage_queries(PAGES["networks"][2]):
        at = _open("networks", query)
        texts = _check(at, ("networks", what))
        assert texts and all(t.startswith(("Ignored", "nt_", "No usable")) for t in texts), texts
        config = at.session_state["nt_config"]
        assert config.task in TASKS and 1 <= len(config.optimizers) <= 8
        assert 20 <= at.slider(key="nt_steps").value <= 3000


@pytest.mark.slow  # 3 AppTests, 3 s
def test_networks_link_sets_the_page_and_the_page_writes_its_link():
    query = {"nt_task": "gflownet", "nt_steps": "120", "nt_seed": "7", "nt_batch": "32",
             "nt_o1": "adamw:lr=0.02", "nt_o2": "vradam:lr=0.02,beta3=0.5@VR", "nt_o3": "",
             "nt_o4": ""}  # fmt: skip
    at = _open("networks", query)
    assert not _check(at, "link")
    config = at.session_state["nt_config"]
    assert (config.task, config.steps, config.seed, config.batch_size) == ("gflownet", 120, 7, 32)
    assert config.optimizers == ("adamw:lr=0.02", "vradam:beta3=0.5,lr=0.02@VR")
    at.slider(key="nt_steps").set_value(200).run()
    assert at.query_params["nt_steps"] == "200" and at.query_params["nt_task"] == "gflownet"
    assert at.session_state["nt_config"].optimizers == config.optimizers
    # a link naming only the task: that task's defaults, nothing else in the URL
    at = _open("networks", {"nt_task": "lm"})
    lm = TASKS["lm"]
    config = at.session_state["nt_config"]
    assert config.steps == lm.default_steps and len(config.optimizers) == 4
    assert f"beta3={lm.default_beta3:g}" in config.optimizers[3]
    assert set(at.query_params) == {"nt_task"}


def test_networks_link_refuses_bad_values_in_plain_words():
    query = {"nt_task": "mnist", "nt_steps": "1e12", "nt_seed": "-3", "nt_sharp": "7",
             "nt_o1": "sgd:lr=1", "nt_o2": "adamw:lr=inf"}  # fmt: skip
    at = _open("networks", query)
    text = " ".join(_check(at, "bad"))
    assert "nt_task='mnist' from the link: not one of moons" in text
    assert "nt_steps='1e12' from the link is outside 20 … 3000: using 3000" in text
    assert "nt_seed='-3' from the link is outside 0 … " in text and "nt_sharp='7'" in text
    assert "Ignored nt_o1='sgd\\:lr=1'" in text and "unknown optimizer" in text
    assert "nt_o2='adamw\\:lr=inf'" in text and "finite" in text
    config = at.session_state["nt_config"]
    assert config.task == "moons" and config.steps == 3000 and config.seed == 0
    assert [o.split(":")[0] for o in config.optimizers] == ["adamw", "vradam"]  # nt_o3, nt_o4


# --------------------------------------------------------------------------- specific values


@pytest.mark.parametrize(
    "name, value", [("condition", "201"), ("condition", "1e308"), ("angle", "95"), ("angle", "-5")]
)
def test_landscape_parameters_outside_the_slider_are_refused(name, value):
    at = _open("playground", {"ls": "ill_conditioned", f"lp_{name}": value})
    (text,) = _check(at, value)
    assert f"{name}='{value}'" in text and "must be between" in text
    assert at.session_state["pg_config"].landscape == "ill_conditioned"
    assert 1 <= at.slider(key="pg_condition").value <= 200
    assert 0 <= at.slider(key="pg_angle").value <= 90


def test_playground_refuses_bad_numbers_in_plain_words():
    at = _open("playground", {"seed": "-1", "steps": "1e12", "n": "2.5", "noise": "nan"})
    text = " ".join(_check(at, "scalars"))
    assert "seed='-1': must be between 0 and" in text
    assert "steps='1e12': must be between 10 and 2000" in text and "2147483647" in text
    assert "n='2.5': not a whole number" in text and "noise='nan': not a number" in text
    assert at.session_state["pg_config"] == PlaygroundConfig()
    assert at.number_input(key="pg_seed").value == 0


def test_playground_refuses_non_finite_hyperparameters():
    at = _open("playground", {"opt": ["adam:lr=inf", "adam:lr=0", "gd:lr=0.01"]})
    text = " ".join(_check(at, "opt"))
    assert r"'adam\:lr=inf': lr must be a finite number" in text
    assert r"'adam\:lr=0': lr must be greater than 0" in text
    assert at.session_state["pg_config"].optimizers == ("gd:lr=0.01",)


def test_long_value_is_quoted_short():
    at = _open("playground", {"ls": LONG})
    (text,) = _check(at, "ls")
    assert "10,000 characters" in text


def test_physics_velocity_is_clamped_to_its_input():
    at = AppTest.from_file(str(ROOT / "app_pages/physics.py"), default_timeout=TIMEOUT)
    at.query_params.update(ph_vx="1e308", ph_vy="-1e308")
    at.run()
    text = " ".join(_check(at, "ph_vx"))
    assert "outside -20 … 20: using 20" in text
    assert at.number_input(key="ph_vx").value == 20 and at.number_input(key="ph_vy").value == -20
    shown = " ".join(el.value for el in [*at.markdown, *at.caption])
    assert "nan" not in shown


@pytest.mark.slow  # 3-15 s (cold maps)
def test_stability_settings_from_a_link_are_clamped_or_dropped():
    """Every tab's setting comes from the URL; out of range it is clamped to its widget's
    bounds, unusable it is dropped with one short warning; typed optimizers are checked."""
    at = _open("stability", {"sm_beta": "1e308", "sm_kappa": "-5", "sm_theta": "nan",
                             "sm_beta3": "7", "sm_adam_lo": "3", "sm_adam_hi": "0.003",
                             "sm_basin_opt": LONG})  # fmt: skip
    text = " ".join(_check(at, "stability"))
    assert "sm_beta='1e308' from the link is outside 0.5 … 0.98: using 0.98" in text
    assert "sm_kappa='-5' from the link is outside 2 … 20: using 2" in text
    assert "sm_theta='nan' from the link: not a finite number" in text
    assert "sm_beta3='7' from the link: not one of" in text
    assert at.slider(key="sm_beta").value == 0.98 and at.slider(key="sm_kappa").value == 2
    assert at.slider(key="sm_theta").value == 0.1 and at.select_slider(key="sm_beta3").value == 1
    (lr,) = [s for s in at.select_slider if s.label == "α₀ range"]
    assert lr.value == (0.003, 3.0)  # the two ends, in order
    (error,) = [e.value for e in at.error]
    assert "10,000 characters long" in error and "x" * 41 not in error


def test_url_fields_parse_in_plain_words():
    (field,) = [f for f in PHYSICS_FIELDS if f.key == "ph_b3"]
    for raw, reason in [("abc", "not a number"), ("inf", "not a finite number"),
                        ("7", "not one of")]:  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            field.parse(raw)


def test_a_long_expression_gets_a_message():
    at = _open("playground", {})
    at.selectbox(key="pg_landscape").set_value("custom").run()
    at.text_input(key="pg_expr").set_value("x+" * 5000 + "y").run()
    assert not at.exception
    assert any("too long" in e.value for e in at.error)


# --------------------------------------------------------------------------- Markdown


def test_md_escape_and_quote():
    assert md_escape("x*y + x**2") == r"x\*y + x\*\*2"
    assert md_escape("- a\n# b\n1. c") == "\\- a\n\\# b\n1\\. c"
    assert md_escape("__import__") == r"\_\_import\_\_"
    assert md_escape("[a](http://b) `c` $d$ :red[e]") == (
        r"\[a\](http\://b) \`c\` \$d\$ \:red\[e\]"
    )
    assert quote("a" * 100) == "'" + "a" * 40 + "… (100 characters)'"
    assert quote("short") == "'short'"


def test_expressions_and_errors_are_shown_as_text():
    at = _open("playground", {})
    at.selectbox(key="pg_landscape").set_value("custom").run()
    at.text_input(key="pg_expr").set_value("x*y + x**2").run()
    assert not at.exception
    header = " ".join(m.value for m in at.markdown)
    assert r"Custom: x\*y + x\*\*2" in header
    at.text_input(key="pg_expr").set_value("__import__('os')").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert r"\_\_import\_\_" in errors and "__import__" not in errors


# --------------------------------------------------------------------------- figure markup

HOSTILE = ('<a href="https://evil.example/login">Click here for the answers</a>'
           '<span style="font-size:40px;color:red">BIG</span>')  # fmt: skip
# Plotly renders these tags (and only these) in figure text; the figures use no others.
_MARKUP = re.compile(r"<(?!/?(?:br|b|i|em|sub|sup|extra)\s*/?>)[^<>]*>", re.IGNORECASE)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _markup_in_charts(at) -> list[str]:
    """Every figure string on the page that Plotly would render as a tag other than the
    figures' own attribute-free ones."""
    found = []
    for chart in at.get("plotly_chart"):
        for text in _strings(json.loads(chart.proto.spec)):
            found += _MARKUP.findall(text)
    return found


def test_escape_markup_keeps_the_figures_tags_and_nothing_else():
    from vradam.app.figures.export import escape_markup, plain_text

    assert escape_markup("x<br>y<sub>2</sub> <b>z</b><extra></extra>") == (
        "x<br>y<sub>2</sub> <b>z</b><extra></extra>")  # fmt: skip
    once = escape_markup(HOSTILE)
    assert "<" not in once and ">" not in once and "Click here for the answers" in once
    assert escape_markup(once) == once  # idempotent: figures are escaped on every rerun
    assert escape_markup('<br onclick="x">') == '&lt;br onclick="x"&gt;'
    assert escape_markup("a < b and c > d") == "a &lt; b and c &gt; d"
    fig = {
        "data": [
            {
                "name": HOSTILE,
                "x": [1.0, 2.0],
                "text": ["<i>ok</i>", "<u>no</u>"],
                "hovertext": [None, HOSTILE],
            }
        ],  # a gap first, then text
        "layout": {"title": {"text": HOSTILE}},
        "frames": [{"data": [{"name": HOSTILE}]}],
    }
    plain_text(fig)
    assert not _MARKUP.findall(json.dumps(fig)) and fig["data"][0]["text"][0] == "<i>ok</i>"


def test_a_link_cannot_plant_markup_in_any_chart(tmp_path, monkeypatch):
    """User text reaches figures through optimizer labels (Playground, Networks, Stability
    maps), the custom expression and the landscape: none of it becomes a tag."""
    monkeypatch.setenv("VRADAM_STORAGE", f"sqlite:///{tmp_path / 'studies.db'}")
    playground = _open("playground", {"opt": [f"adam:lr=0.1@{HOSTILE}", "vradam@<b>x</b>"],
                                      "steps": "50"})  # fmt: skip
    _check(playground, "playground labels")
    assert len(playground.get("plotly_chart")) >= 1
    assert _markup_in_charts(playground) == []
    assert "Click here for the answers" in json.dumps(
        [json.loads(c.proto.spec) for c in playground.get("plotly_chart")]
    )
    custom = _open("playground", {"ls": "custom", "expr": f"x^2+y^2 {HOSTILE}", "steps": "20"})
    _check(custom, "expression")
    assert _markup_in_charts(custom) == []
    networks = _open("networks", {"nt_o1": f"adamw:lr=0.01@{HOSTILE}", "nt_o2": "sgd@<u>u</u>",
                                  "nt_steps": "20", "nt_sharp": "0"})  # fmt: skip
    _check(networks, "networks labels")
    networks.button[0].click().run()  # Train
    assert not networks.exception and len(networks.get("plotly_chart")) >= 1
    assert _markup_in_charts(networks) == []
    stability = _open(
        "stability", {"sm_basin_n": "30", "sm_basin_opt": f"gd:lr=0.1@{HOSTILE};adam@<u>u</u>"}
    )
    _check(stability, "stability labels")
    assert _markup_in_charts(stability) == []


# --------------------------------------------------------------------------- every button


def _press_every_button(at, page: str, skip=()) -> list[str]:
    """Press each button on the page once (as it is after the previous press); returns
    their labels. Download buttons are links, not script buttons."""
    pressed = []
    index = 0
    while index < len(at.button):
        button = at.button[index]
        index += 1
        if button.disabled or button.label in skip or button.label in pressed:
            continue
        pressed.append(button.label)
        button.click().run()
        assert not at.exception, (page, button.label, [e.value for e in at.exception])
        index = 0  # the page changed: look again from the top
    return pressed


def test_every_button_on_every_page_runs_without_an_exception(tmp_path, monkeypatch):
    from dataclasses import replace

    from vradam.app.ui import networks as networks_ui

    monkeypatch.setenv("VRADAM_STORAGE", f"sqlite:///{tmp_path / 'studies.db'}")
    # Figure 2 in miniature at a tenth of its length (the buttons' wiring is under test).
    monkeypatch.setattr(
        networks_ui, "FIG2", replace(networks_ui.FIG2, steps=40, sharpness_every=20, eval_every=20)
    )
    queries = {  # page: (link, toggles to turn on first: they reveal more buttons)
        "playground": ({"steps": "40"}, ("pg_step_on", "presenter")),
        "lessons": ({}, ()),
        "networks": ({"nt_steps": "20", "nt_sharp": "0"}, ()),
        "eos": ({"eos_problem": "quadratic"}, ()),
        "physics": ({}, ()),
        "stability": ({}, ()),
        "tuning": ({"tn_task": "moons", "tn_trials": "2", "tn_steps": "20", "tn_seeds": "1"}, ()),
    }
    everything = {}
    for page, (query, toggles) in queries.items():
        at = _open(page, query)
        _check(at, page)
        for key in toggles:
            at.toggle(key=key).set_value(True).run()
            _check(at, (page, key))
        everything[page] = _press_every_button(at, page, skip=("Render PNG",))
    assert {"Next ▶", "◀ Back", "Exit presenter view", "add Adam at VRAdam's η"} <= set(
        everything["playground"])  # fmt: skip
    assert "Figure 2 in miniature" in everything["networks"]
    assert {"Run study", "Stop", "Open"} <= set(everything["tuning"])
    assert {"Next →", "← Previous"} <= set(everything["lessons"])
