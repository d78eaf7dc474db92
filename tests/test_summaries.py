"""Chart summaries say what the data say; every chart has one; the presenter view works."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import landscapes
from vradam.app import summaries as S
from vradam.app.playground import PlaygroundConfig, run
from vradam.sim.measures import loss_increases
from vradam.studies.physics import gate_curves

ROOT = Path(__file__).resolve().parents[1]


def test_race_summary_numbers_match_the_runs():
    config = PlaygroundConfig(landscape="quadratic", optimizers=(
        "gd:lr=0.3", "adam:lr=0.3", "gd:lr=1.2@too big"), steps=200)  # fmt: skip
    trs = run(config)
    text = S.race_summary(trs, 0.0)
    gd, adam, big = trs
    s = S.reach_step(gd.loss[0])
    assert s > 0 and gd.loss[0, s] <= 1e-6 < gd.loss[0, s - 1]
    assert f"GD (α₀=0.3) reached loss 1e-06 above the minimum at step {s}" in text
    assert f"its loss rose {loss_increases(adam.loss[0])} times" in text
    assert f"too big diverged at step {int(big.diverged_at[0])}" in text
    assert "its loss never rose" in text  # GD at 0.3 on the bowl is monotone


@pytest.mark.slow  # 27 s
def test_training_and_sweep_summaries_match_the_records():
    from vradam.studies.training import TrainConfig, best_lrs, lr_sweep, train_steps

    config = TrainConfig(task="moons", optimizers=("adam:lr=0.01", "vradam:lr=0.01"), steps=30,
                         sharpness_every=0, eval_every=10, boundary_every=0)  # fmt: skip
    records = list(train_steps(config))
    text = S.training_summary(records, ["Adam", "VRAdam"])
    last = [r for r in records if r["optimizer"] == 1 and "train_loss" in r][-1]
    assert f"VRAdam: training loss {last['train_loss']:.3g} at step 30" in text
    assert f"validation accuracy {last['val_acc']:.1%}" in text
    rows = lr_sweep(config, factors=(0.5, 1, 2), steps=20)
    text = S.sweep_summary(rows, ["Adam", "VRAdam"])
    for lr in best_lrs(rows).values():
        assert f"best α0 {lr:.3g}" in text


def test_eos_summary_matches_the_series():
    from vradam.studies.eos import run_quadratic

    result = run_quadratic()
    text = S.eos_summary(result)
    start = result.window_start
    assert text.startswith("Window: steps 300–599. ")
    for s in result.series:
        assert f"loss rose on {s.loss_increases(start)} steps and climbed " \
            f"{s.upward_movement(start):.3g} in log loss" in text  # fmt: skip
        if s.first_edge_step() >= 0:
            assert f"for {s.edge_steps()} steps from step {s.first_edge_step()}" in text


def test_physics_summaries():
    for beta3 in (0.0, 0.3, 3.0):
        v = S.top_speed(8.0, 1.0, beta3)
        assert 0.5 * v * v + 0.75 * beta3 * v**4 == pytest.approx(8.0)
    text = S.phase_summary(1.0, 1.0, 1.0, [0.5, 32])
    assert f"{S.top_speed(32, 1, 0):.3g}" in text and f"{S.top_speed(32, 1, 1):.3g}" in text
    curves = gate_curves(0.1, 4.0, 10.0, np.linspace(0, 5, 50))
    text = S.gate_summary(curves)
    assert "0.5" in text and f"{0.1 / 4:.3g}" in text and f"{0.1 / 11:.3g}" in text


def test_stability_summaries_count_what_the_maps_show():
    from vradam.studies import stability as St

    maps = [St.momentum_map(k, np.geomspace(0.1, 100, 20), np.geomspace(0.1, 10, 10))
            for k in ("ema", "vrmomentum")]  # fmt: skip
    text = S.momentum_maps_summary(maps)
    for m in maps:
        counts = [int((m.classes == k).sum()) for k in (St.CONVERGED, St.BOUNDED, St.DIVERGED)]
        assert f"{counts[0]} of 200 cells converged, {counts[1]} bounded, {counts[2]} diverged" \
            in text  # fmt: skip
    ls = landscapes.get("himmelblau")
    b = St.basin_map(ls, ["gd:lr=0.01"], n=12, steps=300)
    assert "GD (α₀=0.01) reaches 4 of 4 minima" in S.basin_summary(b, 4)
    below = St.below_line_failures(maps[1], steps=2000)
    text = S.momentum_maps_summary(maps, below)
    assert f"{int(below.failing.sum())} cells below the line not converged after 2000" in text
    d = St.gates_and_switching(steps=60)
    text = S.switching_summary(d)
    for name, r in d.radii.items():
        assert f"{name}: ×{r:.3g}" in text
    am = St.adam_map(landscapes.get("ill_conditioned"), [0.01, 0.1, 0.3], [0.0, 0.01, 0.1])
    text = S.adam_map_summary(am)
    assert f"rise {int(am.increases[0].sum())} times" in text
    assert math.isfinite(float(np.nanmin(am.final_loss)))


def test_claim_map_summary_and_runs_count_what_the_map_shows():
    from vradam.app.claims import Measured, Neighbourhood

    holds = np.zeros((3, 2, 7, 7), dtype=bool)  # seeds, horizons, grid, grid
    holds[:, :, 0, :] = True  # a row of starts where the claim always held
    holds[0, 0, 1, :3] = True  # three starts where it held once
    measured = Measured(holds, np.zeros((49, 2)), (150, 300), (0, 1, 2), Neighbourhood((0.5, 0.5)))
    text = S.claim_map_summary(measured)
    assert text.startswith("the claim held in all runs from 7 of 49 starts and in none from 39;")
    assert f"{measured.frequency:.0%} of all runs" in text
    assert measured.runs_text() == "150 and 300 steps, 3 noise seeds each"


@pytest.mark.parametrize(
    "page",
    ["physics", "stability", pytest.param("eos", marks=pytest.mark.slow)],  # eos: 4.9 s
)
def test_every_chart_has_a_summary(page):
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=180).run()
    assert not at.exception
    charts = len(at.get("plotly_chart"))
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: ")]
    # the stability page's tabs all render: one summary per chart
    assert charts >= 1 and len(summaries) == charts


def test_presenter_view_hides_the_sidebar_and_enlarges_charts():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert [c.value for c in at.caption if c.value.startswith("Summary: ")]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["meta"] == "vradam.app.figures"
    normal = spec["layout"]["legend"]["font"]["size"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["presenter"] = True  # (the toggle in a real browser: test_browser)
    at.run()
    assert not at.exception and at.toggle(key="presenter").value is True
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "stSidebar" in html and "display: none" in html
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["meta"] == "vradam.app.figures presenter"
    assert spec["layout"]["font"]["size"] == 16
    assert spec["layout"]["legend"]["font"]["size"] > normal
    widths = [t["line"]["width"] for t in spec["data"] if t.get("line", {}).get("width")]
    assert max(widths) >= 3  # paths are 2 px normally
    at.button(key="presenter_exit").click().run()
    assert at.session_state["presenter"] is False
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["meta"] == "vradam.app.figures"
