"""The Playground's pure layer: config, URL round trip, scenarios' claims, figure structure."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

import landscapes
from vradam.app import playground
from vradam.app.figures import playground as plots
from vradam.app.figures.arrays import packed, unpacked
from vradam.app.figures.colors import KEY_COLORS, assign_colors
from vradam.app.figures.contours import contour_paths, marching_squares
from vradam.app.figures.maps import background
from vradam.app.figures.ticks import log_ticks, tick_label
from vradam.app.playground import PlaygroundConfig, run
from vradam.app.scenarios import (
    SCENARIOS,
    first_below,
    gate_from_path,
    left_at,
)
from vradam.sim.measures import loss_increases, upward_movement

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
# Each scenario's claim is measured over its neighbourhood (a 7×7 grid of starts in the box
# it declares, half and double the step count, 3 noise seeds when noise is on).


def _by_key(trs, key):
    return [tr for tr in trs if tr.spec.key == key]


def test_every_scenario_has_a_measurable_claim_and_runs_clean():
    assert len(SCENARIOS) >= 6
    for sc in SCENARIOS.values():
        assert "{measured}" in sc.text and sc.what, sc.key
        assert sc.config.schedule == "constant" and sc.telemetry in ("path", "full")
        trs = run(sc.config)
        assert len(trs) == len(sc.config.optimizers)


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_scenario_claim_holds_in_its_neighbourhood(key):
    """The claim holds in ≥ 80% of its neighbourhood, and the text states the count."""
    sc = SCENARIOS[key]
    m = sc.measure()
    assert m.frequency >= 0.8, f"{key}: {m.text()}"
    text = sc.claim()
    assert f"in {m.count} of {m.total} runs ({m.frequency:.0%};" in text
    assert "{" not in text and "}" not in text  # every placeholder filled
    for name, quoted in sc.quoted().items():
        assert quoted.short() in text, name


def test_measuring_a_neighbourhood_returns_the_documented_shape():
    sc = SCENARIOS["saddle"]
    m = sc.measure()
    g, T = sc.hood.grid, sc.config.steps
    assert m.horizons == (T // 2, T, 2 * T) and m.seeds == ()
    assert m.holds.shape == (1, 3, g, g) and m.holds.dtype == bool
    assert m.starts.shape == (g * g, 2) and m.per_start().shape == (g, g)
    assert tuple(m.starts[g * g // 2]) == pytest.approx(sc.config.start_point())
    assert m.total == 3 * g * g and 0 <= m.count <= m.total
    assert m.text().startswith(f"in {m.count} of {m.total} runs (")
    assert sc.measure() is m  # cached
    noisy = SCENARIOS["rastrigin_noise"].measure()
    assert noisy.seeds == (0, 1, 2) and noisy.holds.shape == (3, 3, g, g)
    assert "3 noise seeds" in noisy.text()
    one = m.at(2.0)
    assert one.horizons == (2 * T,) and one.total == g * g
    assert one.short().startswith("from ") and one.short().endswith(
        "starts (" + f"{one.frequency:.0%})"
    )


def _matched(sc):
    (tr,) = [t for t in run(sc.config) if t.spec.label == playground.MATCHED_LABEL]
    return tr


def test_scenarios_comparing_vradam_and_adam_run_the_matched_control():
    """Adam at VRAdam's mean η over the window the claim uses, from the preset start."""
    for key in ("rosenbrock", "ravine", "saddle"):
        sc = SCENARIOS[key]
        trs = run(sc.config)
        (vr,) = _by_key(trs, "vradam")
        window = {
            "rosenbrock": int(first_below(vr.loss, 1e-3)[0]),  # its descent to 1e-3
            "ravine": sc.config.steps,  # the whole run
            "saddle": int(left_at(vr.xy, 1, 1.0)[0]),  # until it leaves the saddle
        }[key]
        rate = playground.mean_effective_rate(vr, window)
        matched = _matched(sc)
        assert matched.spec.key == "adam" and matched.spec.hyperparams["lr"] == rate, key
        assert f"({rate:.2g})" in sc.text or f"({rate:g})" in sc.text, key


def test_upward_movement_and_first_steps():
    loss = np.array([[3.0, 2.0, 2.5, 1.0, 1.5], [4.0, 3.0, 2.0, 1.0, 0.5]])
    assert upward_movement(loss) == pytest.approx([np.log(1.25) + np.log(1.5), 0.0])
    assert first_below(loss, 1.2).tolist() == [3, 3] and np.isinf(first_below(loss, 0.1)).all()
    xy = np.zeros((1, 4, 2))
    xy[0, 2:, 1] = [-2.0, 3.0]
    assert left_at(xy, 1, 1.0).tolist() == [2]


def test_gate_from_path_matches_the_engine():
    """The η_t a path-only claim rebuilds is the engine's (VRAdam and VRMomentum)."""
    for key, name in (("rosenbrock", "vradam"), ("big_step", "vrmomentum")):
        config = SCENARIOS[key].config
        tr = [t for t in run(config) if t.spec.key == name][-1]
        rebuilt = gate_from_path(tr, config.landscape_obj())
        assert np.allclose(rebuilt, tr.effective_lr, rtol=1e-12, atol=0, equal_nan=True), key


def test_scenario_rosenbrock_facts_from_the_preset_start():
    """'from this start VRAdam is [thrown out], near step 975'; Adam is not, by step 1000.

    The step moves with last-bit changes (a start moved by 1e-12, or gradients rounded
    differently: it was 985 with autograd's gradients), so it is checked over starts
    within 1e-10 of the preset's.
    """
    config = SCENARIOS["rosenbrock"].config
    x0, y0 = config.start_points()[0]
    for dx in (0.0, 1e-12, -3e-12, 1e-11, -1e-10):
        adam, vr, _ = run(replace(config, start=(x0 + dx, y0 - dx)))
        low = np.minimum.accumulate(vr.loss[0]) < 1e-8
        out = np.flatnonzero(low & (vr.loss[0] > 1e-4))
        assert out.size and 960 <= out[0] <= 995, (dx, out[:1])
        assert adam.loss[0, -1] < 1e-6


def test_scenario_rosenbrock_thrown_out_depends_on_the_horizon():
    """'whether VRAdam's gate keeps it there longer than Adam depends on the horizon': by
    step 2000 VRAdam is thrown out from more starts than Adam, by step 3000 from fewer."""
    q = SCENARIOS["rosenbrock"].quoted()
    assert q["vr_thrown"].count > q["adam_thrown"].count
    assert q["vr_thrown_3k"].count < q["adam_thrown_3k"].count
    assert q["vr_thrown"].horizons == (2000,) and q["vr_thrown_3k"].horizons == (3000,)


def test_scenario_himmelblau_gradient_points_along_x():
    """'At this start the gradient points almost straight along +x (y part 20× smaller)'."""
    config = SCENARIOS["himmelblau"].config
    (gd,) = _by_key(run(replace(config, steps=1)), "gd")
    gx, gy = gd.grad[0, 0]
    assert gx < 0 and 19 <= abs(gx / gy) <= 21  # −∇f points along +x


def test_matched_adam_spec():
    config = PlaygroundConfig()
    trs = run(config)
    assert playground.matched_adam(config, trs, 1) == f"adam:lr=0.294@{playground.MATCHED_LABEL}"
    custom = PlaygroundConfig(optimizers=("vradam:lr=0.1,beta1=0.8,eps=1e-6,weight_decay=0",))
    text = playground.matched_adam(custom, run(custom), 0)
    assert text.startswith("adam:beta1=0.8,eps=1e-06,lr=") and "weight_decay" not in text
    decayed = PlaygroundConfig(optimizers=("vradam:lr=0.1",))  # λ = 0.01: AdamW is its twin
    assert playground.matched_adam(decayed, run(decayed), 0).startswith("adamw:lr=")
    with pytest.raises(ValueError, match="is not VRAdam"):
        playground.matched_adam(config, trs, 0)


# ---------------------------------------------------------------- AppTest (scenarios, control)


def _apptest():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    return AppTest.from_file(str(root / "app.py"), default_timeout=180).run()


@pytest.mark.slow  # an AppTest, ~3 s
def test_apptest_scenario_shows_its_frequency_and_map():
    at = _apptest()
    at.button_group[0].set_value("saddle").run()
    assert not at.exception, [e.value for e in at.exception]
    m = SCENARIOS["saddle"].measure()
    (info,) = [el for el in at.info if "Escaping a saddle" in el.value]
    assert f"in {m.count} of {m.total} runs" in info.value
    maps = [c for c in at.get("plotly_chart") if c.proto.id and "pg_claim_map" in c.proto.id]
    assert len(maps) == 1
    heat = json.loads(maps[0].proto.spec)["data"][0]
    assert heat["type"] == "heatmap" and len(heat["z"]) == SCENARIOS["saddle"].hood.grid


@pytest.mark.slow  # an AppTest, ~3 s
def test_apptest_add_adam_at_vradams_rate():
    at = _apptest()
    (button,) = [b for b in at.button if b.label == f"add {playground.MATCHED_LABEL}"]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    opts = at.session_state["pg_config"].optimizers
    assert opts[-1] == f"adam:lr=0.294@{playground.MATCHED_LABEL}" and len(opts) == 5
    assert any("VRAdam's mean η_t" in el.value for el in at.info)


# ----------------------------------------------------------------------------- table etc.


def test_results_table_and_loss_increases():
    assert loss_increases(np.array([3.0, 2.0, 2.5, 1.0, 1.5, np.nan])) == 2
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
    K, N = len(trs), config.start_points().shape[0]
    runner_traces = K * (2 if N > plots.ARROW_RUNS else 1)
    assert len(frames[0]["traces"]) == runner_traces + len(plots.PANELS)
    steps = [int(f["name"]) for f in frames]
    assert steps[0] == 0 and steps[-1] == config.steps and steps == sorted(steps)
    assert len(fig["layout"]["sliders"][0]["steps"]) == len(frames)
    # heads move with the data: [head, tip, gap] per run, the chosen start first
    last = frames[-1]["data"][0]
    head = unpacked(last["x"])[0], unpacked(last["y"])[0]
    assert head == pytest.approx(tuple(trs[0].xy[0, -1]), abs=1e-4)
    tip = np.array([unpacked(last["x"])[1], unpacked(last["y"])[1]])
    v = trs[0].velocity[0, -1]
    assert np.dot(tip - trs[0].xy[0, -1], v) < 0  # the arrow points along −v
    for index in frames[0]["traces"]:
        assert fig["data"][index]["type"] == "scatter"  # no WebGL traces in frames
    # a cursor frame moves x only (its y, the panel's height, stays in the trace)
    cursors = frames[-1]["data"][runner_traces:]
    assert all(c == {"x": [config.steps, config.steps]} for c in cursors)


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


def test_background_is_an_indexed_png_with_joined_contours():
    import base64
    import io

    from PIL import Image

    ls = landscapes.get("rosenbrock")
    bg = background(ls)
    png = base64.b64decode(bg["image"].split(",", 1)[1])
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and image.size == (360, 360) and len(png) < 30_000
    # contour lines: polylines with one NaN after each, at most ~2500 points in all
    x, y = bg["contour_x"], bg["contour_y"]
    assert x.shape == y.shape and np.isnan(x[-1]) and np.isfinite(x).sum() <= 2600
    pts = np.stack([x, y], 1)[np.isfinite(x)]
    (x0, x1), (y0, y1) = ls.domain
    assert (pts[:, 0] >= x0).all() and (pts[:, 0] <= x1).all()
    assert (pts[:, 1] >= y0).all() and (pts[:, 1] <= y1).all()


def test_packed_arrays_round_trip_and_keep_tiny_values():
    a = np.array([0.5, np.nan, -3.25, 1e6] * 8)
    spec = packed(a)
    assert spec["dtype"] == "f4" and set(spec) == {"dtype", "bdata"}
    assert np.array_equal(unpacked(spec), a, equal_nan=True)
    tiny = np.array([1e-40, 2e-50] * 10)  # below float32: kept as float64
    assert packed(tiny)["dtype"] == "f8" and np.array_equal(unpacked(packed(tiny)), tiny)
    grid = np.arange(20.0).reshape(4, 5)
    assert packed(grid)["shape"] == "4,5" and np.array_equal(unpacked(packed(grid)), grid)
    assert packed(np.array([1.0, np.nan])) == [1.0, None]  # short: a plain list
    go.Figure(dict(data=[dict(type="scatter", x=packed(a), y=packed(a))]))  # Plotly accepts it


def test_log_ticks_are_few_and_read_as_their_values():
    for lo, hi in [(-4.2, 2.3), (-30.0, 5.0), (-1.15, -0.6), (0.1, 0.3), (2.9, 3.01), (0, 0.01)]:
        for most in (2, 3, 5):
            ticks = log_ticks(lo, hi, most)
            values, labels = ticks["tickvals"], ticks["ticktext"]
            assert 2 <= len(values) <= most, (lo, hi, most, labels)
            assert all(10 ** (lo - 1e-3) <= v <= 10 ** (hi + 1e-3) for v in values)
            for v, label in zip(values, labels):
                assert float(label) == pytest.approx(v, rel=0.01), (v, label)
                assert "+" not in label and "×" not in label and len(label) <= 6
    assert log_ticks(-5.2, 1.4, 4)["ticktext"] == ["1e-4", "0.01", "1"]
    assert [tick_label(v) for v in (1000, 0.001, 0.02, 2e6, 5e-4)] == [
        "1000", "0.001", "0.02", "2e6", "5e-4"]  # fmt: skip


def _panel_boxes(fig):
    """(name, bottom, top) of each panel's plot area and its title's baseline, paper y."""
    lay = fig["layout"]
    out = []
    for k in range(2, 20):
        axis = lay.get(f"yaxis{k}")
        if axis is None:
            break
        out.append(axis["domain"])
    return out


@pytest.mark.parametrize("stacked", [False, True])
def test_race_layout_panels_titles_and_controls_do_not_collide(stacked):
    config = PlaygroundConfig(steps=200)
    ls, trs = config.landscape_obj(), run(config)
    layout = plots.RaceLayout(stacked=stacked, height=520)
    for panels in (plots.PANEL_NAMES, ("loss", "sharpness"), ()):
        fig = plots.race_figure(ls, trs, assign_colors(config.specs()), background(ls),
                                panels=panels, layout=layout)  # fmt: skip
        lay = fig["layout"]
        domains = _panel_boxes(fig)
        assert len(domains) == len(panels) == len(lay["annotations"])
        plot_h = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
        title = 20 / plot_h  # a panel title's height, paper units
        for (lo, hi), note in zip(domains, lay["annotations"]):
            assert 0 <= lo < hi <= 1 and note["y"] == hi and note["yanchor"] == "bottom"
        for (lo, _), (_, hi) in itertools.pairwise(domains):
            assert hi + title <= lo + 1e-6  # the next panel and its title sit below
        for k in range(len(panels)):
            ticks = lay[f"yaxis{k + 2}"].get("tickvals")
            if ticks is not None:
                assert len(ticks) <= 6
        (slider,) = lay["sliders"]
        (buttons,) = lay["updatemenus"]
        assert slider["len"] == 1.0 and slider["pad"]["l"] < 300
        map_bottom = lay["yaxis"]["domain"][0]
        if stacked:  # map, then controls, then panels, all at full width
            assert lay["xaxis"]["domain"] == [0.0, 1.0] and slider["pad"]["l"] == 0
            assert all(hi < buttons["y"] < map_bottom for _, hi in domains)
            assert all(lay[f"xaxis{k + 2}"]["domain"] == [0.0, 1.0] for k in range(len(panels)))
        else:
            assert buttons["y"] < 0 and slider["y"] < 0  # under the map and the panels
        go.Figure(fig)
    with pytest.raises(ValueError, match="unknown panels"):
        plots.race_figure(ls, trs, assign_colors(config.specs()), background(ls),
                          panels=("speed",))  # fmt: skip


def test_surface_figure_puts_the_paths_on_the_landscape():
    config = PlaygroundConfig(steps=150)
    ls, trs = config.landscape_obj(), run(config)
    fig = plots.surface_figure(ls, trs, assign_colors(config.specs()), n=40)
    go.Figure(fig)  # full schema validation
    surface = fig["data"][0]
    assert surface["type"] == "surface" and unpacked(surface["z"]).shape == (40, 40)
    paths = [t for t in fig["data"] if t["type"] == "scatter3d" and t["mode"] == "lines"]
    assert [p["name"] for p in paths] == [tr.label for tr in trs]
    z = unpacked(paths[1]["z"])  # VRAdam, on Rosenbrock's log scale: log10(f − min + δ)
    loss = trs[1].loss[0]
    _, _, Z = ls.grid(40)
    floor = 1e-3 * (np.nanmax(Z) - 0.0)
    expected = np.log10(loss + floor)
    lift = 0.005 * (np.nanmax(unpacked(surface["z"])) - np.nanmin(unpacked(surface["z"])))
    assert z[: loss.size] == pytest.approx(expected + lift, abs=1e-4)
    assert fig["layout"]["scene"]["zaxis"]["title"]["text"].startswith("log₁₀")
    assert any(t["name"] == "global minimum" for t in fig["data"])


def test_contour_paths_join_a_circle_into_one_line():
    xs = ys = np.linspace(-1, 1, 81)
    X, Y = np.meshgrid(xs, ys)
    (line,) = contour_paths(xs, ys, X**2 + Y**2, 0.25)
    x, y = line
    assert x.size > 50 and np.abs(np.hypot(x, y) - 0.5).max() < 0.01
    assert np.hypot(x[0] - x[-1], y[0] - y[-1]) < 0.05  # closed (first ≈ last)
    segments, _ = marching_squares(xs, ys, X**2 + Y**2, 0.25)
    assert x.size < np.isfinite(segments).sum() / 1.9  # about half the segments' points


def test_colors_are_fixed_per_optimizer_and_distinct_for_repeats():
    from vradam.sim.optimizers import OptimizerSpec

    specs = [OptimizerSpec.parse(t) for t in ("vradam", "adam", "vradam:beta3=2", "gd")]
    colors = assign_colors(specs)
    assert colors[0] == KEY_COLORS["vradam"] and colors[1] == KEY_COLORS["adam"]
    assert colors[2] not in colors[:2] and len(set(colors)) == 4


PAYLOAD_LIMIT = 300_000  # bytes of the default race's spec (BENCHMARKS.md)
LARGEST_LIMIT = 3_000_000  # bytes for the largest setup the widgets allow


def _spec_bytes(config: PlaygroundConfig) -> int:
    """What st.plotly_chart sends for this race: its spec, serialised as Streamlit does."""
    import plotly.io as pio

    ls = config.landscape_obj()
    fig = plots.race_figure(ls, run(config), assign_colors(config.specs()), background(ls))
    return len(pio.to_json(fig, validate=False).encode())


def test_figure_payload_is_small():
    assert _spec_bytes(PlaygroundConfig()) <= PAYLOAD_LIMIT


@pytest.mark.slow  # 6 s: 8 optimizers × 100 starts × 2000 steps
def test_largest_allowed_setup_payload():
    """8 optimizers × 100 starts × 2000 steps: the widgets' maxima."""
    from vradam.app.playground import MAX_OPTIMIZERS, MAX_STARTS, MAX_STEPS

    opts = ("adam:lr=0.3", "vradam:lr=0.3,beta3=0.005,weight_decay=0", "momentum:lr=0.002",
            "rmsprop:lr=0.01", "gd:lr=0.001", "nesterov:lr=0.001", "adagrad:lr=0.5",
            "lion:lr=0.01")  # fmt: skip
    config = PlaygroundConfig(optimizers=opts[:MAX_OPTIMIZERS], start_mode="cloud",
                              n_starts=MAX_STARTS, steps=MAX_STEPS)  # fmt: skip
    assert _spec_bytes(config) <= LARGEST_LIMIT


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


@pytest.mark.slow  # 12 s
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


def test_claim_map_figure():
    from vradam.app.figures.claims import claim_map

    sc = SCENARIOS["rastrigin_noise"]
    m = sc.measure()
    runs = m.holds.shape[0] * m.holds.shape[1]
    fig = claim_map(m.per_start(), m.starts, sc.config.start_point(), runs)
    go.Figure(fig)  # full schema validation
    assert _string_titles(fig) == []
    heat, ring = fig["data"]
    assert np.array(heat["z"]).shape == (7, 7) and heat["zmin"] == 0 and heat["zmax"] == 1
    assert heat["x"][3] == pytest.approx(sc.config.start_point()[0])
    held = np.rint(m.per_start() * runs).astype(int)
    labels = np.array(heat["text"])
    assert (labels[held == runs] == "").all()  # full cells plain, the others counted
    assert all(t == f"{h}/{runs}" for t, h in zip(labels[held < runs], held[held < runs]))
    assert ring["x"] == [sc.config.start_point()[0]]
