"""The landscape lesson: its preset's control is VRAdam's own mean rate, and its link opens
the Networks page whose Landscape view draws what the lesson tells the class to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vradam.app.lessons import LANDSCAPE, PAGES
from vradam.app.lessons import landscape_basins as lb

ROOT = Path(__file__).resolve().parents[1]


def test_the_preset_control_is_adamw_at_vradams_mean_rate():
    """nt_o3 is AdamW at seed 0's VRAdam mean η over the preset's 500 steps (re-derived),
    with AdamW's β1, β2, ε and weight decay; nt_o1, nt_o2: AdamW and VRAdam at one α₀."""
    q = LANDSCAPE.query
    assert lb.matched_rate(0.01, 500, 0) == lb._MATCHED_LR
    assert q["nt_o1"] == "adamw:lr=0.01" and q["nt_o2"] == "vradam:beta3=86,lr=0.01"
    assert q["nt_o3"] == "adamw:lr=0.00925@AdamW at VRAdam's η" and q["nt_o4"] == ""
    assert (q["nt_task"], q["nt_steps"], q["nt_seed"]) == ("moons", "500", "0")


@pytest.mark.slow  # 2.1 s: four trainings of 500 steps
def test_the_exercise_draws_both_lines_through_the_final_weights():
    fig, text = LANDSCAPE.explore(0.01)  # the preset's run (cached after the claim)
    names = [t["name"] for t in fig["data"]]
    assert names == ["AdamW (t = 0) → VRAdam (t = 1)",
                     "AdamW (t = 0) → AdamW at VRAdam's η (t = 1)", "final weights"]  # fmt: skip
    e = lb.ends(0.01, 500, 0)
    ends = fig["data"][2]["y"]
    assert ends == pytest.approx([e["final"][0], e["final"][1], e["final"][2]], rel=1e-4)
    assert f"{e['bump'][lb.ADAMW, lb.VRADAM]:.2f}×" in text and "α₀ = 0.01" in text


@pytest.mark.slow  # 7 s: the Networks page trains the preset, then draws its landscape
def test_the_preset_link_opens_the_landscape_view_it_describes():
    """The link's settings reach the page (its optimizers, the view's plane, centre, loss
    and grid); after Train and Compute the landscape, the slice opens between AdamW and the
    control (flat) and, with VRAdam at B, shows the bump the lesson describes."""
    at = AppTest.from_file(str(ROOT / PAGES["networks"][0]), default_timeout=300)
    at.query_params.update(LANDSCAPE.query)
    at.run()
    assert not at.exception and not at.warning
    ss = at.session_state
    for key in ("nt_ls_plane", "nt_ls_reference", "nt_ls_split"):
        assert ss[key] == LANDSCAPE.query[key]
    assert ss["nt_ls_grid"] == 41 and ss["nt_steps"] == 500 and ss["nt_seed"] == 0
    config = ss["nt_config"]
    assert config.optimizers == tuple(LANDSCAPE.query[f"nt_o{k}"] for k in (1, 2, 3))
    next(b for b in at.button if b.label == "Train").click().run()
    next(b for b in at.button if b.label == "Compute the landscape").click().run()
    assert not at.exception and not at.error
    ls = at.session_state["nt_ls"]["landscape"]
    assert ls.plane.kind == "pca" and ls.reference == "best" and ls.grid == 41
    e = lb.ends(0.01, 500, 0)
    finals = [float(t[-1]) for t in ls.true_loss]
    assert finals == pytest.approx(e["final"], rel=1e-4)  # the run the lesson measured
    assert (at.selectbox(key="nt_ls_a").value, at.selectbox(key="nt_ls_b").value) == (0, 2)
    flat = [c.value for c in at.caption if c.value.startswith("Summary: Loss along the line")]
    assert flat and "no bump between them" in flat[0]
    at.selectbox(key="nt_ls_b").set_value(1).run()
    assert not at.exception
    bump = [c.value for c in at.caption if c.value.startswith("Summary: Loss along the line")]
    assert bump and "a barrier" in bump[0] and "above the higher end" in bump[0]
    slice_spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert slice_spec["data"][0]["name"] == "train loss on the line"
