"""The Playground's pure layer: config, URL round trip, scenarios' claims, figure structure."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

import landscapes
from vradam.app import playground
from vradam.app.figures import playground as plots
from vradam.app.figures.common import KEY_COLORS, assign_colors, background, marching_squares
from vradam.app.playground import SCENARIOS, PlaygroundConfig, oscillations, run

# ----------------------------------------------------------------------------- config + URL


def test_default_scenario_gate_dips_then_recovers():
    """In the default scenario VRAdam's η_t ≤ 0.5·α0 within 50 steps and ≥ 0.9·α0 at the end."""
    config = PlaygroundConfig()
    trs = run(config)
    (vr,) = [tr for tr in trs if tr.spec.key == "vradam"]
    alpha0 = vr.spec.hyperparams["lr"]
    assert np.nanmin(vr.effective_lr[0, :50]) <= 0.5 * alpha0
    assert vr.effective_lr[0, -1] >= 0.9 * alpha0


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_scenario_url_round_trip(key):
    config = SCENARIOS[key].config
    query = config.to_query()
    back, warnings = PlaygroundConfig.from_query(query)
    assert warnings == []
    assert back == config
    assert query["v"] == playground.SCHEMA_VERSION


def test_url_round_trip_of_every_field():
    config = PlaygroundConfig(
        landscape="custom", expression="x^2 + 3*sin(y)", domain=(-2.0, 1.0, -4.0, 4.0),
        start=(0.5, -1.25), start_mode="cloud", n_starts=9,
        optimizers=("adam:lr=0.05@fast Adam", "vradam:beta3=0.2"), same_lr=0.02,
        steps=123, noise=0.5, seed=7, schedule="warmup_cosine",
    )  # fmt: skip
    back, warnings = PlaygroundConfig.from_query(config.to_query())
    assert warnings == [] and back == config


def test_bad_url_values_fall_back_with_warnings():
    query = {
        "v": "1", "ls": "nowhere", "start": "a,b", "opt": ["adam:lr=0.1", "sgd:lr=1", "adam:lr=-3"],
        "steps": "100000", "noise": "-2", "sched": "linear", "starts": "everywhere", "n": "x",
    }  # fmt: skip
    config, warnings = PlaygroundConfig.from_query(query)
    text = " | ".join(warnings)
    for needle in ("unknown landscape 'nowhere'", "start='a,b'", "sgd:lr=1", "adam:lr=-3",
                   "steps='100000'", "noise='-2'", "sched='linear'", "starts='everywhere'",
                   "n='x'"):  # fmt: skip
        assert needle in text, needle
    assert config.landscape == "rosenbrock" and config.optimizers == ("adam:lr=0.1",)
    assert config.steps == PlaygroundConfig().steps


def test_url_with_an_invalid_expression_warns_and_shows_defaults():
    config, warnings = PlaygroundConfig.from_query({"ls": "custom", "expr": "__import__('os')"})
    assert config == PlaygroundConfig()
    assert any("could not be used" in w for w in warnings)


def test_url_landscape_switch_uses_its_suggested_optimizers():
    config, warnings = PlaygroundConfig.from_query({"ls": "himmelblau"})
    ls = landscapes.get("himmelblau")
    assert warnings == []
    expected = tuple(playground.canonical_spec(t) for t in playground.default_optimizers(ls))
    assert config.optimizers == expected
    assert f"beta3={ls.suggested_beta3:g}" in config.optimizers[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(landscape="nope"), "unknown landscape"),
        (dict(landscape="custom"), "needs an expression"),
        (dict(optimizers=()), "between 1 and 8"),
        (dict(optimizers=("adam",) * 9), "between 1 and 8"),
        (dict(optimizers=("adam:lr=x",)), "lr must be a number"),
        (dict(steps=0), "steps must be between"),
        (dict(noise=-1.0), "noise must be"),
        (dict(start_mode="ring"), "start mode"),
        (dict(n_starts=0), "number of starts"),
        (dict(schedule="linear"), "unknown schedule"),
        (dict(start=(float("nan"), 0.0)), "finite"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlaygroundConfig(**kwargs)


def test_start_points_and_same_lr():
    c = PlaygroundConfig(landscape="himmelblau", start=(1.0, 2.0), start_mode="cloud", n_starts=9)
    pts = c.start_points()
    assert pts.shape == (9, 2) and pts[0].tolist() == [1.0, 2.0]
    assert np.array_equal(pts, c.start_points())  # seeded
    g = PlaygroundConfig(landscape="himmelblau", start_mode="grid", n_starts=16).start_points()
    assert g.shape == (17, 2)
    s = PlaygroundConfig(same_lr=0.01).specs()
    assert all(sp.hyperparams["lr"] == 0.01 for sp in s)


# ----------------------------------------------------------------------------- scenarios


def _by_key(trs, key):
    return [tr for tr in trs if tr.spec.key == key]


def test_every_scenario_has_text_and_runs_clean():
    assert len(SCENARIOS) >= 6
    for sc in SCENARIOS.values():
        assert 2 <= sc.text.count(". ") + 1 <= 4, sc.key
        trs = run(sc.config)
        assert len(trs) == len(sc.config.optimizers)


def test_scenario_rosenbrock_vradam_far_ahead_of_adam():
    (adam,) = _by_key(run(SCENARIOS["rosenbrock"].config), "adam")
    (vr,) = _by_key(run(SCENARIOS["rosenbrock"].config), "vradam")
    assert vr.loss[0, -1] * 100 <= adam.loss[0, -1]  # "about a thousand times lower"


def test_scenario_ravine_adam_oscillates_vradam_damps():
    trs = run(SCENARIOS["ravine"].config)
    (adam,), (vr,) = _by_key(trs, "adam"), _by_key(trs, "vradam")
    assert oscillations(adam.loss[0]) >= 100
    assert oscillations(adam.loss[0]) >= 3 * oscillations(vr.loss[0])
    assert vr.loss[0, -1] < 1e-4  # and VRAdam still reaches the floor


def test_scenario_big_step_ema_momentum_diverges_vrmomentum_bounded():
    ema, vr = run(SCENARIOS["big_step"].config)
    assert ema.spec.hyperparams["beta3"] == 0 and ema.diverged_at[0] >= 0
    assert vr.diverged_at[0] == -1
    assert vr.converged_at[0] == -1  # a bounded oscillation, not convergence
    tail = vr.loss[0, -50:]
    assert np.isfinite(tail).all() and tail.mean() > 1.0  # still swinging, far from 0


def test_scenario_himmelblau_optimizers_pick_different_minima():
    config = SCENARIOS["himmelblau"].config
    ls = config.landscape_obj()
    trs = run(config)
    ends = {tr.spec.key: ls.nearest_minimum(tr.xy[0, -1]) for tr in trs}
    assert all(d < 1e-2 for _, d in ends.values())
    assert ls.minima[ends["gd"][0]] == pytest.approx((-2.805118, 3.131313), abs=1e-5)
    assert ends["momentum"][0] == ends["gd"][0]
    assert ls.minima[ends["adam"][0]] == (3.0, 2.0) and ends["vradam"][0] == ends["adam"][0]


def test_scenario_saddle_adam_escapes_at_least_twice_as_fast_as_gd():
    trs = run(SCENARIOS["saddle"].config)

    def escape(tr):
        out = np.flatnonzero(np.abs(tr.xy[0, :, 1]) > 1)
        return out[0] if out.size else np.inf

    (gd,), (adam,), (vr,), (rms,) = (_by_key(trs, k) for k in ("gd", "adam", "vradam", "rmsprop"))
    assert 2 * escape(adam) <= escape(gd) < np.inf
    assert escape(rms) < escape(adam) < escape(vr) < escape(gd)


def test_scenario_rastrigin_noise_helps_momentum():
    config = SCENARIOS["rastrigin_noise"].config
    quiet = replace(config, noise=0.0)
    (noisy,) = _by_key(run(config), "momentum")
    (calm,) = _by_key(run(quiet), "momentum")
    assert np.median(noisy.loss[:, -1]) <= 0.7 * np.median(calm.loss[:, -1])


def test_scenario_beale_gd_stalls():
    trs = run(SCENARIOS["beale"].config)
    (gd,), (adam,) = _by_key(trs, "gd"), _by_key(trs, "adam")
    assert gd.loss[0, -1] >= 1000 * adam.loss[0, -1]
    ls = SCENARIOS["beale"].config.landscape_obj()
    assert ls.nearest_minimum(adam.xy[0, -1])[1] < 1e-2


# ----------------------------------------------------------------------------- table etc.


def test_results_table_and_oscillations():
    assert oscillations(np.array([3.0, 2.0, 2.5, 1.0, 1.5, np.nan])) == 2
    config = SCENARIOS["big_step"].config
    rows = playground.results_table(config, run(config))
    assert rows[0]["diverged"] == f"step {run(config)[0].diverged_at[0]}"
    assert rows[1]["diverged"] == "no" and rows[1]["converged"] == "no"
    assert set(rows[0]) >= {"optimizer", "final loss", "distance to nearest minimum",
                            "converged", "loss increases"}  # fmt: skip
    msgs = playground.divergence_messages(run(config))
    assert len(msgs) == 1 and "EMA momentum (β₃ = 0) diverged at step" in msgs[0]


def test_suggest_beta3_makes_the_gate_act():
    config = PlaygroundConfig(optimizers=("adam:lr=0.3", "vradam:lr=0.3,beta3=1,weight_decay=0"))
    b3 = playground.suggest_beta3(config, 1)
    assert 1e-4 < b3 < 0.1
    tuned = PlaygroundConfig(optimizers=(f"vradam:lr=0.3,beta3={b3},weight_decay=0",))
    (tr,) = run(tuned)
    eta = tr.effective_lr[0] / 0.3
    assert eta[:50].min() <= 0.6 and eta[-1] >= 0.9
    with pytest.raises(ValueError, match="has no β3"):
        playground.suggest_beta3(config, 0)


def test_python_snippet_reproduces_the_run(capsys):
    config = SCENARIOS["himmelblau"].config
    namespace: dict = {}
    exec(playground.python_snippet(config), namespace)  # our own generated code
    trs = run(config)
    for tr, mine in zip(trs, namespace["runs"]):
        assert np.array_equal(tr.xy, mine.xy)
    custom = PlaygroundConfig(landscape="custom", expression="x^2+y^2", steps=20)
    exec(playground.python_snippet(custom), {})
    assert "Adam" in capsys.readouterr().out


# ----------------------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def race():
    config = PlaygroundConfig(start_mode="cloud", n_starts=4, steps=400)
    trs = run(config)
    ls = config.landscape_obj()
    colors = assign_colors(config.specs())
    return config, trs, colors, plots.race_figure(ls, trs, colors, background(ls))


def test_figure_is_valid_plotly(race):
    *_, fig = race
    go.Figure(fig)  # full schema validation (the app skips it for speed)


def test_figure_frames_and_traces(race):
    config, trs, _, fig = race
    frames = fig["frames"]
    assert 2 <= len(frames) <= 150
    counts = {len(f["data"]) for f in frames}
    assert counts == {len(frames[0]["traces"])}  # constant trace count in every frame
    assert all(f["traces"] == frames[0]["traces"] for f in frames)
    K = len(trs)
    assert len(frames[0]["traces"]) == 2 * K + len(plots.PANELS)
    steps = [int(f["name"]) for f in frames]
    assert steps[0] == 0 and steps[-1] == config.steps and steps == sorted(steps)
    assert len(fig["layout"]["sliders"][0]["steps"]) == len(frames)
    # heads move with the data
    head0 = frames[-1]["data"][0]
    assert head0["x"][0] == pytest.approx(trs[0].xy[0, -1, 0])
    for f in frames:
        for trace in f["data"]:
            assert trace["type"] == "scatter"  # no WebGL traces in frames


def test_figure_background_image_and_colors(race):
    _, _, colors, fig = race
    (image,) = fig["layout"]["images"]
    assert image["source"].startswith("data:image/png;base64,") and image["layer"] == "below"
    assert image["xref"] == "x" and image["sizing"] == "stretch"
    assert not any(t["type"] in ("contour", "heatmap") for t in fig["data"])
    assert len(set(colors)) == len(colors)
    paths = [t for t in fig["data"] if t.get("mode") == "lines" and t.get("showlegend") is not False
             and t.get("xaxis") == "x"]  # fmt: skip
    assert [p["line"]["color"] for p in paths] == colors
    texts = json.dumps([fig["layout"]["annotations"], [t.get("name") for t in fig["data"]]],
                       ensure_ascii=False)  # fmt: skip
    assert "\\" not in texts and "$" not in texts  # Unicode, not LaTeX


def test_colors_are_fixed_per_optimizer_and_distinct_for_repeats():
    from vradam.sim.optimizers import OptimizerSpec

    specs = [OptimizerSpec.parse(t) for t in ("vradam", "adam", "vradam:beta3=2", "gd")]
    colors = assign_colors(specs)
    assert colors[0] == KEY_COLORS["vradam"] and colors[1] == KEY_COLORS["adam"]
    assert colors[2] not in colors[:2] and len(set(colors)) == 4


def test_figure_payload_is_small():
    config = PlaygroundConfig()
    ls = config.landscape_obj()
    trs = run(config)
    fig = plots.race_figure(ls, trs, assign_colors(config.specs()), background(ls))
    size = len(json.dumps(fig))
    assert size < 5_000_000


def test_diverged_runs_get_an_end_marker():
    config = SCENARIOS["big_step"].config
    ls = config.landscape_obj()
    trs = run(config)
    fig = plots.race_figure(ls, trs, assign_colors(config.specs()), background(ls))
    markers = [t for t in fig["data"] if t.get("name", "").endswith(": diverged")]
    assert len(markers) == 1 and markers[0]["customdata"] == [int(trs[0].diverged_at[0])]


def test_marching_squares_traces_a_circle():
    xs = ys = np.linspace(-1, 1, 81)
    X, Y = np.meshgrid(xs, ys)
    cx, cy = marching_squares(xs, ys, X**2 + Y**2, 0.25)
    r = np.hypot(cx, cy)
    r = r[np.isfinite(r)]
    assert r.size > 50 and np.abs(r - 0.5).max() < 0.01


def test_html_export_plays_offline():
    import plotly.io as pio

    config = PlaygroundConfig(steps=60)
    ls = config.landscape_obj()
    fig = plots.race_figure(ls, run(config), assign_colors(config.specs()),
                            background(ls))  # fmt: skip
    html = pio.to_html(fig, include_plotlyjs=True, full_html=True, validate=False)
    assert not re.search(r"<script[^>]*\bsrc=", html)  # no external script
    assert len(html) > 3_000_000  # plotly.js is inline, so the file plays offline
    assert "Plotly.addFrames" in html and "data:image/png;base64," in html


def _string_titles(node, path="fig"):
    """Paths of `title` values given as bare strings (Plotly.js 3 ignores those)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "title" and isinstance(v, str):
                out.append(f"{path}.{k}")
            out += _string_titles(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node[:50]):
            out += _string_titles(v, f"{path}[{i}]")
    return out


def test_figures_use_title_objects(race):
    """Figures skip Plotly's Python validation in the app, which would fix `title="..."`."""
    from vradam.app.figures import networks as netplots
    from vradam.app.figures import stability as stabplots
    from vradam.studies import stability as S
    from vradam.studies.training import TrainConfig, train_steps

    *_, fig = race
    figs = [fig]
    runs = [list(train_steps(TrainConfig(steps=10, sharpness_every=5)))]
    figs.append(netplots.training_figure(runs, ["a", "b", "c", "d"], ["#000"] * 4, 10))
    figs.append(netplots.sweep_figure([], [], []))
    m = S.momentum_map("ema", [0.1, 1.0], [1.0, 2.0], steps=10)
    figs.append(stabplots.momentum_maps_figure([m]))
    figs.append(stabplots.switching_figure(S.gates_and_switching(steps=10)))
    for f in figs:
        assert _string_titles(f) == []
