"""The stability facts of docs/theory.md §2 and §4 as numbers: thresholds, limit cycles,
basins, switching."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import landscapes
from vradam.app.figures.arrays import unpacked
from vradam.sim.engine import simulate
from vradam.studies import stability as S

BETA = 0.9
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("kind", "limit"), [("gd", 2.0), ("momentum", 2 * (1 + BETA)),
                                             ("ema", 2 * (1 + BETA) / (1 - BETA))])  # fmt: skip
def test_quadratic_stability_thresholds_both_sides(kind, limit):
    """Converges iff α0·L < limit: checked just below and just above, for several L."""
    curvatures = np.array([0.5, 1.0, 4.0])
    below = S.momentum_map(kind, [0.97 * limit], curvatures * 0 + 1, steps=3000)
    above = S.momentum_map(kind, [1.03 * limit], curvatures * 0 + 1, steps=3000)
    assert (below.classes == S.CONVERGED).all()
    assert (above.classes == S.DIVERGED).all()
    for L in curvatures:  # only the product α0·L matters
        lo = S.momentum_map(kind, [0.97 * limit / L], [L], steps=3000)
        hi = S.momentum_map(kind, [1.03 * limit / L], [L], steps=3000)
        assert lo.classes[0, 0] == S.CONVERGED and hi.classes[0, 0] == S.DIVERGED
    assert S.theory_limit(kind, BETA) == pytest.approx(limit)


def test_vrmomentum_beyond_the_limit_is_bounded_not_converged():
    """α0·L > B(β) with an active clip: no divergence and no convergence (a limit cycle)."""
    B = S.theory_limit("ema", BETA)
    m = S.momentum_map("vrmomentum", [2 * B], [1.0], beta3=1.0, alpha1=10.0, steps=2000)
    assert m.classes[0, 0] == S.BOUNDED
    ema = S.momentum_map("ema", [2 * B], [1.0], steps=2000)
    assert ema.classes[0, 0] == S.DIVERGED


def test_map_recurrences_equal_the_engine():
    """The scalar recurrences are the optimizers themselves (checked against simulate)."""
    L = 3.0
    ls = landscapes.from_expression(f"{L / 2}*x^2", domain=((-5, 5), (-5, 5)), start=(1.0, 0.0))
    cases = [
        ("gd", "gd:lr=0.3"),
        ("momentum", "momentum:lr=0.3"),
        ("ema", "vrmomentum:lr=5,beta3=0"),
        ("vrmomentum", "vrmomentum:lr=5,beta3=1"),
    ]
    for kind, spec in cases:
        (tr,) = simulate(ls, [spec], [(1.0, 0.0)], 60)
        lr = float(spec.split("lr=")[1].split(",")[0])
        for steps in (1, 7, 60):
            m = S.momentum_map(kind, [lr], [L], steps=steps)
            assert m.final[0, 0] == pytest.approx(abs(tr.xy[0, steps, 0]), rel=1e-9, abs=1e-12)


def test_vrmomentum_step_bound_while_the_clip_is_inactive():
    """‖Δθ‖ = η_t‖v_t‖ ≤ α0/(2√β3) on a quadratic far beyond the stability limit."""
    alpha0, beta3 = 40.0, 4.0
    ls = landscapes.from_expression("2*x^2 + 0.5*y^2", domain=((-50, 50), (-50, 50)))
    (tr,) = simulate(ls, [f"vrmomentum:lr={alpha0},beta3={beta3},alpha1=1e9"],
                     [(3.0, -2.0)], 400)  # fmt: skip
    assert tr.diverged_at[0] == -1
    assert np.nanmax(tr.step_norm) <= alpha0 / (2 * math.sqrt(beta3)) * (1 + 1e-9)
    assert np.nanmax(tr.step_norm) > 0.5 * alpha0 / (2 * math.sqrt(beta3))


def test_momentum_map_speed_budget_shape():
    m = S.momentum_map("vrmomentum", np.geomspace(0.05, 100, 100), np.geomspace(0.1, 100, 100))
    assert m.classes.shape == (100, 100) and m.steps_to_tol.shape == (100, 100)
    assert {S.CONVERGED, S.BOUNDED, S.DIVERGED} <= set(np.unique(m.classes).tolist())
    assert (m.steps_to_tol[m.classes != S.CONVERGED] == -1).all()


def test_adam_map_adam_row_oscillates_more():
    ls = landscapes.ill_conditioned(25, 30)
    m = S.adam_map(ls, [0.1, 0.3], [0.0, 0.021, 0.21], steps=300)
    assert m.final_loss.shape == (3, 2)
    # at α0 = 0.3 Adam (β3 = 0) has far more loss increases than VRAdam with β3 = 0.021
    assert m.increases[0, 1] >= 3 * m.increases[1, 1]
    assert np.isfinite(m.final_loss).all()


def test_basin_map_of_himmelblau_finds_all_four_minima():
    ls = landscapes.get("himmelblau")
    b = S.basin_map(ls, ["gd:lr=0.01", "adam:lr=0.1"], n=24, steps=300)
    assert b.basins.shape == (2, 24, 24)
    for k in range(2):
        assert set(np.unique(b.basins[k])) >= {0, 1, 2, 3}


def test_switching_and_per_coordinate_counterexamples_grow():
    d = S.gates_and_switching()
    s = d.settings
    # each configuration alone is stable ...
    assert s["rho_each_coordinate_config"] < 1 and s["rho_each_scalar_step"] < 1
    # ... but alternating them grows (docs/theory.md §4: ×3.35 per pair for η = 30, 30/11)
    assert s["growth_per_pair_scalar"] == pytest.approx(3.35, abs=0.01)
    assert s["growth_per_pair_coordinate"] > 4
    assert d.radii[S.SCALAR_SWITCHING] > 1.5
    assert d.radii[S.COORDINATE_SWITCHING] > 2
    # the state-dependent gates, scalar and per coordinate, converge here
    assert d.radii[S.SCALAR_GATE] < 1
    assert d.radii[S.COORDINATE_GATE] < 1
    assert len(d.norms) == 5


# ----------------------------------------------------------------------------- below the line


@pytest.fixture(scope="module")
def page_maps():
    """The page's default momentum maps: 100 × 100, 400 steps, β = 0.9, β3 = 1, α1 = 10."""
    lrs, curvatures = np.geomspace(0.05, 200, 100), np.geomspace(0.1, 100, 100)
    vr = S.momentum_map("vrmomentum", lrs, curvatures)
    ema = S.momentum_map("ema", lrs, curvatures)
    return vr, ema, S.below_line_failures(vr)


def test_vrmomentum_fails_to_converge_below_the_line(page_maps):
    """Theorem 4.1 promises convergence for α0·L < B(β); the state-dependent gate itself
    breaks it on 154 cells of the page's grid (docs/theory.md §4), where EMA momentum at
    the same (α0, L) converges."""
    vr, ema, b = page_maps
    fail = b.failing
    assert int(fail.sum()) == 154 and b.steps == S.BELOW_LINE_STEPS
    assert not b.diverged.any()
    mask = b.mask()
    assert mask.shape == vr.classes.shape and int(mask.sum()) == 154
    assert (vr.below_line[mask]).all()  # every one is below the line …
    assert (ema.classes[mask] == S.CONVERGED).all()  # … where EMA momentum converges
    assert b.ema_converged[fail].all()
    # at 400 steps the map shows them as bounded (one still looks like it is shrinking)
    assert np.isin(vr.classes[mask], [S.BOUNDED, S.SLOW]).all()
    assert int((vr.classes[mask] == S.BOUNDED).sum()) >= 150
    ratio = b.lrs[fail] * b.curvatures[fail] / b.limit
    assert ratio.max() < 1 and ratio.min() < 0.55  # down to about half the line
    # bounded oscillations, mostly period 4
    assert int((b.period[fail] == 4).sum()) == 88
    assert 0.05 < b.amplitude[fail].min() and b.amplitude[fail].max() < 5
    # which cells fail depends on the details (α0's last digits, the start)
    assert 50 <= int(b.robust[fail].sum()) < 154
    assert set(b.fails_from) == {0.5, 2.0}
    assert all(0 < int(f.sum()) < 154 for f in b.fails_from.values())


@pytest.mark.slow
def test_below_line_example_opens_as_a_trace_and_in_the_playground(page_maps):
    vr_map, _, b = page_maps
    k = b.example()
    assert k == b.examples()[0] and b.robust[k] and b.failing[k]
    lr, L = float(b.lrs[k]), float(b.curvatures[k])
    assert lr * L < b.limit
    kw = dict(steps=2000)
    vr = S.trace_1d("vrmomentum", lr, L, **kw)
    ema = S.trace_1d("ema", lr, L, **kw)
    # the trace is the map's recurrence: same |x| after the map's 400 steps
    row, col = b.rows[k], b.cols[k]
    assert abs(vr.x[400]) == pytest.approx(vr_map.final[row, col], rel=1e-12)
    assert np.abs(vr.x[-100:]).max() > 0.05 and abs(ema.x[-1]) < 1e-12
    assert (vr.rate * L < b.limit).all()  # every rate is stable alone
    # the Playground link runs the same cell (α0 rounded to 6 digits) with the same outcome
    from vradam.app.playground import PlaygroundConfig, run
    from vradam.app.ui.stability import TRACE_STEPS, playground_config

    config = playground_config(lr, L, vr, vr_map.settings)
    q = config.to_query()
    assert q["ls"] == "custom" and q["start"] == "1,0" and q["steps"] == str(TRACE_STEPS)
    again, _ = PlaygroundConfig.from_query(q)
    vr_run, ema_run = run(again)
    assert vr_run.diverged_at[0] == -1 and vr_run.converged_at[0] == -1
    assert np.abs(vr_run.xy[0, -100:, 0]).max() > 0.05
    assert ema_run.converged_at[0] >= 0


def test_below_line_text_and_figure_use_the_measurements(page_maps):
    from vradam.app.figures import stability as stabplots
    from vradam.app.summaries import momentum_maps_summary, trace_summary
    from vradam.app.ui.stability import below_line_text

    vr, ema, b = page_maps
    text = below_line_text(b)
    n = int(b.failing.sum())
    assert f"**{n} still have not converged**" in text
    assert f"Rerun for {S.BELOW_LINE_STEPS:,} steps" in text
    assert f"converges in {int(b.ema_converged[b.failing].sum())} of the {n}" in text
    assert f"of these {n}, {int(b.robust[b.failing].sum())} still fail" in text
    # as rates by band of α0·L over the line: the failures sit just below it
    bands = S.failure_rates(vr, b)
    assert sum(f for *_, f, _ in bands) == n  # every failing cell is below the line
    (lo, hi, f, cells), *_ = bands
    assert (lo, hi) == (0.5, 1.0) and f / cells > 0.1 and f > bands[-1][2]
    rated = below_line_text(b, vr)
    assert rated.startswith(text)
    assert (
        f"{100 * f / cells:.0f} % ({f} of {cells}) of the map's cells at 0.5–1× the line" in rated
    )
    ((*_, f1, n1),) = S.failure_rates(vr, b, bands=((0.5, 1.0),), max_lr=1.0)
    assert f"with α₀ ≤ 1, {100 * f1 / n1:.0f} % ({f1} of {n1})" in rated
    fig = stabplots.momentum_maps_figure([ema, vr], b, b.example())
    assert [t["name"] for t in fig["data"] if t.get("name") == stabplots.FAILURE_NAME] == [
        stabplots.FAILURE_NAME  # the legend swatch; the cells have their own code …
    ]
    (heat,) = [t for t in fig["data"] if t["type"] == "heatmap" and t["xaxis"] == "x2"]
    codes = unpacked(heat["z"])
    assert int((codes == stabplots.FAILURE_CODE).sum()) == n  # … on VRMomentum's map only
    assert (codes[b.mask()] == stabplots.FAILURE_CODE).all()
    (ema_heat,) = [t for t in fig["data"] if t["type"] == "heatmap" and t["xaxis"] == "x"]
    assert not (unpacked(ema_heat["z"]) == stabplots.FAILURE_CODE).any()
    marker = [t for t in fig["data"] if t.get("name") == "example (opened below)"]
    assert marker[0]["x"] == [float(b.lrs[b.example()])]
    summary = momentum_maps_summary([ema, vr], b)
    assert f"{n} cells below the line not converged after {b.steps} steps" in summary
    k = b.example()
    tr = S.trace_1d("vrmomentum", b.lrs[k], b.curvatures[k], steps=300)
    tr0 = S.trace_1d("ema", b.lrs[k], b.curvatures[k], steps=300)
    assert "all below the line" in trace_summary(tr, tr0, b.limit)
    go_fig = stabplots.trace_figure(tr, tr0, b.limit)
    assert len(go_fig["data"]) == 4


def test_scalar_switching_between_the_same_rates_grows_faster_than_per_coordinate():
    """docs/theory.md §4: scalar switching between 7.52 and 0.05 on the L = 5 direction grows
    ×5.13 per pair, per-coordinate switching ×5.02: decoupling is not what makes the scalar
    gate safe, and the page says so with the measured numbers."""
    from vradam.app.ui.stability import switching_text

    d = S.gates_and_switching()
    s = d.settings
    assert s["rho_each_same_rate"] < 1
    assert s["growth_per_pair_same_rates"] == pytest.approx(5.13, abs=0.01)
    assert s["growth_per_pair_coordinate"] == pytest.approx(5.02, abs=0.01)
    assert d.radii[S.SAME_RATES_SWITCHING] > 2
    text = switching_text(d)
    assert "×5.13 per pair here, faster than the per-coordinate system (×5.02)" in text
    assert "loses the decoupling" not in text
    # beyond the line (κ = 20: α0·κ = 150 > 38) the page says the runs test nothing
    far = switching_text(S.gates_and_switching(kappa=20.0))
    assert "say nothing about the theorem" in far and "neither converges" in far


# ----------------------------------------------------------------------------- the page


@pytest.mark.slow  # two AppTests, 12 s
def test_page_settings_round_trip_through_the_url():
    """Every tab's settings are written to the URL (defaults left out) and a link with them
    opens the page as it was, the typed basin optimizers and the α₀ range included."""
    from streamlit.testing.v1 import AppTest
    from test_chart_text import default_log_ticks, too_small

    from vradam.app.ui.stability import FIELDS, basin_defaults

    page = str(ROOT / "app_pages" / "stability.py")
    at = AppTest.from_file(page, default_timeout=300).run()
    assert not at.exception
    assert not {f.key for f in FIELDS} & set(at.query_params)  # all defaults: a clean URL
    # every tab's figures together, what a change could send at most: ≤ 0.5 MB, like the
    # Playground (the momentum maps alone were 0.92 MB with a heatmap per class)
    specs = {e.proto.id.rsplit("-", 1)[-1]: len(e.proto.spec) for e in at.get("plotly_chart")}
    assert set(specs) == {"sm_maps", "sm_trace", "sm_adam", "sm_basins", "sm_switch"}
    assert sum(specs.values()) < 250_000 and specs["sm_maps"] < 100_000, specs
    for chart in at.get("plotly_chart"):  # chart text ≥ 12 px (tests/test_chart_text.py),
        fig = json.loads(chart.proto.spec)  # log axes labelled with values, not "2", "5"
        assert too_small(fig) == [] and default_log_ticks(fig) == []
    at.slider(key="sm_beta").set_value(0.8)
    at.select_slider(key="sm_steps").set_value(200)
    (lr,) = [s for s in at.select_slider if s.label == "α₀ range"]
    lr.set_value((0.03, 0.3))
    at.slider(key="sm_kappa").set_value(7.5)
    specs = "adam:lr=0.05; gd:lr=0.02"
    at.text_input(key="sm_basin_specs").input(specs)
    at.run()
    assert not at.exception
    query = {k: at.query_params[k] for k in at.query_params}
    assert query == {"sm_beta": "0.8", "sm_steps": "200", "sm_adam_lo": "0.03",
                     "sm_adam_hi": "0.3", "sm_kappa": "7.5", "sm_basin_opt": specs}  # fmt: skip
    again = AppTest.from_file(page, default_timeout=300)
    for k, v in query.items():
        again.query_params[k] = v
    again.run()
    assert not again.exception and not again.warning
    assert again.slider(key="sm_beta").value == 0.8 and again.slider(key="sm_kappa").value == 7.5
    assert again.select_slider(key="sm_steps").value == 200
    assert [s.value for s in again.select_slider if s.label == "α₀ range"] == [(0.03, 0.3)]
    assert again.text_input(key="sm_basin_specs").value == specs
    # another landscape brings its own default optimizers back
    again.selectbox(key="sm_basin_ls").set_value("six_hump_camel").run()
    assert again.text_input(key="sm_basin_specs").value == basin_defaults("six_hump_camel")
    assert again.query_params.get("sm_basin_opt", "") == ""  # "": the landscape's defaults


# ----------------------------------------------------------------------------- figures


def _axis_boxes(layout):
    """Each subplot's (x domain, y domain) by axis suffix."""
    return {k[5:]: (layout[k]["domain"], layout["yaxis" + k[5:]]["domain"])
            for k in layout if k.startswith("xaxis")}  # fmt: skip


def _overlap(a, b) -> bool:
    return a[0] < b[1] - 1e-9 and b[0] < a[1] - 1e-9


def test_momentum_maps_are_one_heatmap_of_codes_per_panel(page_maps):
    """Each map is one heatmap of uint8 codes (a tenth of the bytes of a heatmap per class):
    every class keeps its cells and its colour, converged cells are darker the fewer steps
    they took, and the colour bar still reads log₁₀ steps."""
    from vradam.app.figures import stability as stabplots

    vr, ema, b = page_maps
    fig = stabplots.momentum_maps_figure([ema, vr], b, b.example())
    assert len(json.dumps(fig)) < 60_000  # two 100 × 100 maps (a heatmap per class: 0.7 MB)
    heats = [t for t in fig["data"] if t["type"] == "heatmap"]
    assert len(heats) == 2 and all(t["z"]["dtype"] == "u1" for t in heats)
    colors = stabplots.code_colors()
    assert all(t["coloraxis"] == "coloraxis" for t in heats)
    axis = fig["layout"]["coloraxis"]
    scale, lo, hi = axis["colorscale"], axis["cmin"], axis["cmax"]

    def color(code: int) -> str:  # the band of the colour scale the code falls in
        at = (code - lo) / (hi - lo)
        return next(c for (p0, c), (p1, _) in zip(scale[::2], scale[1::2]) if p0 <= at <= p1)

    for m, heat in zip((ema, vr), heats):
        codes = unpacked(heat["z"]).astype(int)
        assert codes.shape == m.classes.shape
        assert np.allclose(unpacked(heat["x"]), m.lrs) and np.allclose(
            unpacked(heat["y"]), m.curvatures
        )
        failing = b.mask() if m is vr else np.zeros_like(codes, dtype=bool)
        assert ((codes == stabplots.FAILURE_CODE) == failing).all()
        for cls, code in stabplots.CLASS_CODES.items():
            assert ((codes == code) == ((m.classes == cls) & ~failing)).all()
        conv = m.classes == S.CONVERGED
        assert (codes[conv] < stabplots.CONVERGED_LEVELS).all()
        # fewer steps, darker shade (a lower code): the order of steps is kept
        steps, shade = m.steps_to_tol[conv], codes[conv]
        order = np.argsort(steps, kind="stable")
        assert (np.diff(shade[order]) >= 0).all() and shade.min() < shade.max()
        for code in np.unique(codes):
            assert color(int(code)) == colors[code]
    assert colors[stabplots.FAILURE_CODE] == stabplots.FAILURE_COLOR
    (bar,) = [t for t in fig["data"] if "colorbar" in (t.get("marker") or {})]
    assert bar["marker"]["cmax"] == pytest.approx(math.log10(stabplots.STEPS_SCALE_MAX))
    assert "steps" in bar["marker"]["colorbar"]["title"]["text"]


@pytest.fixture(scope="module")
def small_maps():
    lrs, curvatures = np.geomspace(0.05, 200, 12), np.geomspace(0.1, 100, 12)
    return [S.momentum_map(k, lrs, curvatures, steps=60) for k in ("ema", "vrmomentum", "gd")]


@pytest.mark.parametrize("narrow", [False, True])
def test_map_figures_stack_on_a_phone_and_keep_colour_bars_off_the_maps(small_maps, narrow):
    """Wide: panels side by side; narrow: each panel the full width, one under another.
    Colour bars never lie on a panel; log axes are labelled with whole values only."""
    import plotly.graph_objects as go

    from vradam.app.figures import stability as stabplots

    ls = landscapes.get("ill_conditioned")
    adam = S.adam_map(ls, np.geomspace(0.01, 1.0, 6), (0.0, 0.01, 0.1), steps=30)
    basins = S.basin_map(landscapes.get("himmelblau"), ["gd:lr=0.01", "adam:lr=0.1"] * 2,
                         n=8, steps=20)  # fmt: skip
    figs = [
        stabplots.momentum_maps_figure(small_maps, narrow=narrow),
        stabplots.adam_map_figure(adam, narrow=narrow),
        stabplots.basin_figure(basins, landscapes.get("himmelblau"), narrow=narrow),
    ]
    for fig in figs:
        go.Figure(fig)  # valid Plotly
        boxes = list(_axis_boxes(fig["layout"]).values())
        for i, (xa, ya) in enumerate(boxes):
            for xb, yb in boxes[i + 1 :]:
                assert not (_overlap(xa, xb) and _overlap(ya, yb))  # panels never overlap
            if narrow:
                assert xa == [0.0, 1.0]  # full width …
        if narrow:  # … and stacked
            assert len({tuple(y) for _, y in boxes}) == len(boxes)
        else:
            assert len({tuple(y) for _, y in boxes}) < len(boxes)
        for trace in fig["data"]:
            bar = trace.get("colorbar") if trace.get("showscale", True) else None
            if bar and bar.get("orientation") == "h":  # flat, under its own panel
                xa, ya = fig["layout"]["xaxis" + trace["xaxis"][1:]]["domain"], None
                assert xa[0] <= bar["x"] and bar["x"] + bar["len"] <= xa[1] + 1e-9
                top = fig["layout"]["yaxis" + trace["yaxis"][1:]]["domain"][0]
                assert bar["y"] < top
                assert not any(y[0] < bar["y"] < y[1] and _overlap(xa, x) for x, y in boxes)
        for key, axis in fig["layout"].items():
            if key[1:5] == "axis" and axis.get("type") == "log":  # each label reads as its value
                assert 2 <= len(axis["tickvals"]) <= 5
                for value, text in zip(axis["tickvals"], axis["ticktext"]):
                    assert float(text) == pytest.approx(value, rel=1e-9)
