"""AppTest: every page runs without an exception, and the Playground's controls work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vradam.app.playground import PlaygroundConfig
from vradam.app.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
# A run that takes 1-5 s alone; the default 3 s, or even 60 s, is too short under load.
TIMEOUT = 180

pytestmark = pytest.mark.slow  # AppTests of whole pages: 26 tests, 80 s on 2 cores


def _app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _spec(at) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def _no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_app_opens_on_the_playground():
    at = _app()
    _no_errors(at)
    assert at.session_state["pg_config"] == PlaygroundConfig()
    spec = _spec(at)
    assert len(spec["frames"]) == 120 and spec["layout"]["images"]
    assert not at.error and not at.warning
    assert len(at.dataframe) == 1


def test_about_page_content():
    at = AppTest.from_file(str(ROOT / "app_pages" / "about.py"), default_timeout=TIMEOUT).run()
    _no_errors(at)
    assert "Velocity-Regularized Adam" in at.title[0].value
    latex = " ".join(el.value for el in at.latex)
    assert r"\min\!\left(\beta_3 \lVert v_t \rVert^2,\ \alpha_1\right)" in latex
    text = " ".join(el.value for el in at.markdown)
    for needle in ("WikiText-2", "5.99 / 6.00", "0.476 / 0.469", "25.0 / 25.0", "3.447"):
        assert needle in text
    code = " ".join(el.value for el in at.code)
    assert "from vradam import VRAdam" in code and "2505.13196" in code


def test_switch_page_to_about():
    at = _app()
    at.switch_page("app_pages/about.py").run()
    _no_errors(at)
    assert "Velocity-Regularized Adam" in at.title[0].value


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_each_scenario_loads(key):
    at = _app()
    at.button_group[0].set_value(key).run()
    _no_errors(at)
    assert at.session_state["pg_config"] == SCENARIOS[key].config
    assert any(SCENARIOS[key].title in el.value for el in at.info)
    if key == "big_step":
        assert any("diverged at step" in w.value for w in at.warning)


def test_widgets_change_the_run():
    at = _app()
    at.slider(key="pg_steps").set_value(120).run()
    _no_errors(at)
    assert at.session_state["pg_config"].steps == 120
    assert _spec(at)["frames"][-1]["name"] == "120"
    at.selectbox(key="pg_landscape").set_value("himmelblau").run()
    _no_errors(at)
    config = at.session_state["pg_config"]
    assert config.landscape == "himmelblau" and config.start is None
    # the Adam family took the landscape's suggested α0 (and β3 for VRAdam)
    assert "vradam:beta3=0.0008,lr=0.1,weight_decay=0" in config.optimizers
    at.toggle(key="pg_same_lr_on").set_value(True).run()
    assert {s.hyperparams["lr"] for s in at.session_state["pg_config"].specs()} == {0.1}
    at.radio(key="pg_start_mode").set_value("cloud").run()
    _no_errors(at)
    assert at.session_state["pg_config"].start_points().shape[0] == 16


def test_add_remove_and_duplicate_optimizers():
    at = _app()
    at.selectbox(key="pg_add_key").set_value("vradam").run()
    add = next(b for b in at.button if b.label == "add")
    add.click().run()
    _no_errors(at)
    opts = at.session_state["pg_config"].optimizers
    assert len(opts) == 5 and sum(o.startswith("vradam") for o in opts) == 2
    remove = next(b for b in at.button if b.label == "remove")
    remove.click().run()
    assert len(at.session_state["pg_config"].optimizers) == 4


def test_suggest_beta3_button():
    at = _app()
    at.select_slider(key="pg_o1_beta3").set_value(2.0).run()
    assert "beta3=2," in at.session_state["pg_config"].optimizers[1]
    next(b for b in at.button if b.label.startswith("suggest")).click().run()
    _no_errors(at)
    beta3 = at.session_state["pg_config"].specs()[1].hyperparams["beta3"]
    assert 1e-4 < beta3 < 0.1
    assert any("β₃ set to" in el.value for el in at.info)


def test_custom_expression_valid_and_invalid():
    at = _app()
    at.selectbox(key="pg_landscape").set_value("custom").run()
    _no_errors(at)
    at.text_input(key="pg_expr").set_value("x^2 + 3*y^2").run()
    _no_errors(at)
    good = at.session_state["pg_config"]
    assert good.landscape == "custom" and good.expression == "x^2 + 3*y^2"
    assert _spec(at)["layout"]["images"]
    at.text_input(key="pg_expr").set_value("x.__class__").run()
    _no_errors(at)
    assert any("attribute access is not allowed" in e.value for e in at.error)
    assert at.session_state["pg_config"] == good  # the last good figure stays
    assert at.get("plotly_chart")
    at.text_input(key="pg_expr").set_value("x^2 + 3*y^2").run()
    at.text_input(key="pg_domain").set_value("1, 2, 3").run()
    assert any("four numbers" in e.value for e in at.error)


def test_query_params_set_the_controls():
    config = SCENARIOS["ravine"].config
    query = config.to_query()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    _no_errors(at)
    assert at.session_state["pg_config"] == config
    assert at.selectbox(key="pg_landscape").value == "ill_conditioned"
    assert at.slider(key="pg_condition").value == 25.0


def test_bad_query_params_warn_and_fall_back():
    at = _app(ls="nowhere", steps="-5", opt="sgd:lr=1")
    _no_errors(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "unknown landscape 'nowhere'" in warnings and "steps='-5'" in warnings
    assert at.session_state["pg_config"] == PlaygroundConfig()


def test_exports_are_offered():
    at = _app()
    labels = [b.label for b in at.get("download_button")]
    assert labels[:3] == ["CSV (every step)", "JSON (with versions)", "HTML (plays offline)"]
    code = " ".join(el.value for el in at.code)
    assert "simulate(landscape, optimizers, starts, steps=500)" in code


# ----------------------------------------------------------------------------- networks


def _networks() -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=120).run()


def test_networks_page_trains_a_short_run():
    at = _networks()
    _no_errors(at)
    at.slider(key="nt_steps").set_value(30).run()
    at.radio(key="nt_seeds").set_value(3).run()
    next(b for b in at.button if b.label == "Train").click().run()
    _no_errors(at)
    result = at.session_state["nt_results"]
    assert result["done"] and len(result["runs"]) == 3
    (table,) = at.dataframe
    assert list(table.value["optimizer"])[3].startswith("VRAdam")
    assert "±" in table.value["final train loss"][0]  # mean ± sd over 3 seeds
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV (every step)", "JSON (with versions and settings)"]
    assert len(at.get("plotly_chart")) == 2  # curves and decision boundaries


@pytest.mark.parametrize("task", ["digits", "modadd"])
def test_networks_page_other_tasks(task):
    at = _networks()
    at.selectbox(key="nt_task").set_value(task).run()
    at.slider(key="nt_steps").set_value(20).run()
    at.selectbox(key="nt_sharp").set_value(10).run()
    next(b for b in at.button if b.label == "Train").click().run()
    _no_errors(at)
    assert at.session_state["nt_results"]["config"].task == task
    assert len(at.get("plotly_chart")) == 1  # no decision boundary for non-2-D inputs


def test_networks_lr_sweep_and_best_rates():
    at = _networks()
    at.slider(key="nt_steps").set_value(20).run()
    at.radio(key="nt_mode").set_value("sweep").run()
    next(b for b in at.button if b.label == "Run sweep").click().run()
    _no_errors(at)
    rows = at.session_state["nt_sweep"]["rows"]
    assert len(rows) == 4 * 7
    next(b for b in at.button if b.label.startswith("Compare")).click().run()
    _no_errors(at)
    optimizers = at.session_state["nt_config"].optimizers
    assert len(optimizers) == 7 and any("best α₀" in o for o in optimizers)
    assert at.session_state["nt_mode"] == "train"


def test_networks_cuda_choice_without_gpu_is_an_inline_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    at = _networks()
    at.selectbox(key="nt_device").set_value("cuda").run()
    _no_errors(at)
    assert any("no CUDA device" in e.value for e in at.error)


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=120).run()


def _text(at) -> str:
    return " ".join(el.value for el in [*at.markdown, *at.caption])


def test_physics_page_integrates_and_reacts_to_friction():
    at = _page("physics")
    _no_errors(at)
    assert len(at.get("plotly_chart")) == 3
    latex = " ".join(el.value for el in at.latex)
    assert r"\tfrac{3\beta_3}{4}" in latex and r"2\beta_3\,(v\cdot F)" in latex
    assert "integrator's error" in _text(at)
    at.select_slider(key="ph_gamma").set_value(1.0).run()
    _no_errors(at)
    assert "energy decreases" in _text(at)
    at.selectbox(key="ph_ls").set_value("rosenbrock").run()
    _no_errors(at)


def test_stability_maps_page_shows_all_four_sections():
    at = _page("stability")
    _no_errors(at)
    assert len(at.get("plotly_chart")) == 5  # four sections and the 1-D trace of a cell
    text = _text(at)
    assert "bounded limit cycle" in text and "per pair" in text
    at.select_slider(key="sm_steps").set_value(100).run()
    _no_errors(at)


def test_edge_of_stability_page_runs_both_problems():
    at = _page("eos")
    _no_errors(at)
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe) == 1  # + the frontier
    text = _text(at)
    assert "GD reaches 2/η by step" in text and "Adam at VRAdam's mean rate" in text
    assert "eos_problem" not in at.query_params  # defaults stay out of the URL
    at.radio(key="eos_problem").set_value("quadratic").run()
    _no_errors(at)
    assert "Adam reaches 38/η by step" in _text(at)
    at.select_slider(key="eos_q_beta3").set_value(0.0).run()
    _no_errors(at)
    assert len(at.get("plotly_chart")) == 2
    assert at.query_params["eos_q_beta3"] == "0"


def test_theory_pages_read_their_settings_from_the_url():
    at = AppTest.from_file(str(ROOT / "app_pages" / "eos.py"), default_timeout=120)
    at.query_params.update(eos_problem="quadratic", eos_q_beta3="0.1", eos_q_kappa="7")
    at.run()
    _no_errors(at)
    assert at.select_slider(key="eos_q_beta3").value == 0.1
    assert at.select_slider(key="eos_q_kappa").value == 25.0  # 7 is not offered: default
    assert any("eos_q_kappa" in w.value for w in at.warning)
    at = AppTest.from_file(str(ROOT / "app_pages" / "physics.py"), default_timeout=120)
    at.query_params.update(ph_ls="rosenbrock", ph_gamma="1", ph_vx="0.5")
    at.run()
    _no_errors(at)
    assert at.selectbox(key="ph_ls").value == "rosenbrock"
    assert at.number_input(key="ph_vx").value == 0.5
    assert "energy decreases" in _text(at) and not at.warning
