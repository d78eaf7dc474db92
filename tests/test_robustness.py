"""Learning-rate robustness (vradam.studies.robustness): the t-interval, the width, the
divergence rate and the paired differences on synthetic numbers; the runs (paired by seed,
resumable); `python -m vradam robustness`; the figure; the Networks page's view."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.special import stdtrit

from vradam.app.figures.colors import assign_colors
from vradam.app.figures.robustness import robustness_figure
from vradam.cli import main
from vradam.sim.measures import t_interval, t_quantile
from vradam.studies import robustness as rb

ROOT = Path(__file__).resolve().parents[1]
INF, NAN = math.inf, math.nan

# ----------------------------------------------------------------------------- t-interval


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 10, 29, 30, 100, 1001])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_t_quantile_matches_scipy(df, confidence):
    assert t_quantile(df, confidence) == pytest.approx(stdtrit(df, (1 + confidence) / 2), 1e-10)


def test_t_interval_drops_missing_values_and_needs_two():
    mean, half = t_interval([1.0, 2.0, 3.0, None, NAN, INF])
    assert mean == 2.0 and half == pytest.approx(stdtrit(2, 0.975) * 1.0 / math.sqrt(3))
    assert t_interval([4.0])[0] == 4.0 and math.isnan(t_interval([4.0])[1])
    assert all(math.isnan(v) for v in t_interval([]))


@pytest.mark.parametrize("df", [0, -1, 1.5, True])
def test_t_quantile_rejects_bad_degrees_of_freedom(df):
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(df)


# ----------------------------------------------------------------------------- width

LRS = 10.0 ** np.arange(-2, 3)  # 0.01 … 100, one decade apart


def test_width_interpolates_the_threshold_in_log_alpha():
    w = rb.robust_width(LRS, np.array([2.0, 1.2, 1.0, 1.05, 3.0]))
    # threshold 1.1: left crossing halfway from 1.0 (x = 0) to 1.2 (x = −1); right crossing
    # 0.05/1.95 of the way from 1.05 (x = 1) to 3 (x = 2)
    assert w.best_index == 2 and not w.censored
    assert math.log10(w.low) == pytest.approx(-0.5)
    assert math.log10(w.high) == pytest.approx(1 + 0.05 / 1.95)
    assert w.decades == pytest.approx(1.5 + 0.05 / 1.95)


def test_width_stops_at_a_diverged_neighbour_and_a_diverged_point_never_counts():
    seeds = np.array([[2.0, 2.0], [1.0, 1.0], [0.5, INF], [1.05, 1.05], [1.0, 1.0]])
    w = rb.robust_width(LRS, seeds)  # α0 = 1 has the lowest finite value, but one seed diverged
    assert rb.seed_means(seeds)[2] == INF
    assert w.best_index == 1  # (ties: the first)
    # two pieces: around α0 = 0.1 (extended to the crossing of 1.1 on the way to 2.0,
    # not into the diverged point) and α0 = 10 … 100 (the grid's end: censored)
    (lo1, hi1), (lo2, hi2) = w.pieces
    assert math.log10(lo1) == pytest.approx(-1 - (1.1 - 1.0) / (2.0 - 1.0)) and hi1 == LRS[1]
    assert (lo2, hi2) == (LRS[3], LRS[4]) and w.censored_high and not w.censored_low
    assert w.decades == pytest.approx(0.1 + 1.0)
    assert w.low == pytest.approx(lo1) and w.high == LRS[4]


def test_width_sums_pieces_across_a_noisy_point():
    means = np.array([5.0, 1.05, 1.12, 1.0, 3.0])  # 1.12 is just over the threshold 1.1
    w = rb.robust_width(LRS, means)
    assert len(w.pieces) == 2 and w.best_index == 3
    left = (1.1 - 1.05) / (1.12 - 1.05) + (1.1 - 1.05) / (5.0 - 1.05)  # around α0 = 0.1
    right = (1.1 - 1.0) / (1.12 - 1.0) + (1.1 - 1.0) / (3.0 - 1.0)  # around α0 = 10
    assert w.decades == pytest.approx(left + right)


def test_width_at_the_grid_edge_is_censored_and_missing_runs_are_ignored():
    seeds = np.array([[1.0, NAN], [1.05, 1.05], [5.0, 5.0], [NAN, NAN], [9.0, 9.0]])
    w = rb.robust_width(LRS, seeds)
    assert w.censored_low and not w.censored_high and w.low == LRS[0]
    assert w.best_index == 0 and w.decades == pytest.approx(1 + 0.05 / 3.95)


def test_width_when_nothing_finished():
    w = rb.robust_width(LRS[:2], np.array([[INF, INF], [NAN, NAN]]))
    assert w.best_index == -1 and math.isnan(w.decades) and not w.censored


def test_width_tolerance_and_negative_metrics():
    means = np.array([-1.0, -2.0, -1.9, -1.7, 0.0])  # best −2, within 10 %: ≤ −1.8
    w = rb.robust_width(LRS, means, tolerance=0.1)
    assert w.best_index == 1
    assert math.log10(w.high) == pytest.approx(0 + (-1.8 + 1.9) / (-1.7 + 1.9))  # halfway
    assert rb.robust_width(LRS, means, tolerance=0.5).decades > w.decades


def test_divergence_rate_counts_diverged_over_runs():
    assert rb.divergence_rate([[1.0, INF], [NAN, INF]]) == pytest.approx(2 / 3)
    assert rb.divergence_rate([[1.0, 2.0]]) == 0.0
    assert math.isnan(rb.divergence_rate([[NAN]]))


# ----------------------------------------------------------------------------- pairs


def test_paired_difference_over_seeds_where_both_finished():
    mine = np.array([1.0, 2.0, 3.5, INF, 0.5, NAN])
    ref = np.array([1.5, 2.6, 4.1, 1.0, INF, 1.0])
    d = rb.paired_difference(mine, ref)
    diffs = np.array([-0.5, -0.6, -0.6])
    assert d.pairs == 3 and d.seeds == 5  # seed 5 did not run for both
    assert d.mean == pytest.approx(diffs.mean())
    assert d.half_width == pytest.approx(stdtrit(2, 0.975) * diffs.std(ddof=1) / math.sqrt(3))
    assert (d.lower, d.higher, d.both_diverged) == (4, 1, 0)  # a diverged run is worse
    assert d.significant == -1


def test_paired_difference_that_holds_zero_or_has_no_pairs():
    d = rb.paired_difference([1.0, 2.0, 3.0], [2.0, 1.0, 3.0])
    assert d.significant == 0 and d.lower == 1 and d.higher == 1
    none = rb.paired_difference([INF, INF], [INF, 1.0])
    assert none.pairs == 0 and none.both_diverged == 1 and math.isnan(none.mean)
    assert none.significant == 0


# ----------------------------------------------------------------------------- config


def test_grid_spans_the_decades_around_the_anchor():
    config = rb.RobustnessConfig(task="digits")
    lrs = config.lrs()
    assert len(lrs) == 11 and np.all(np.diff(lrs) > 0)
    assert lrs[0] == pytest.approx(0.0003) and lrs[-1] == pytest.approx(0.003 * 10**1.5, 1e-5)
    assert 0.003 in lrs.tolist()  # the anchor (the task's α0 for AdamW) is a grid point
    assert [str(s) for s in config.specs()] == ["adamw", "vradam:beta3=5.9"]
    assert config.reference == 0 and config.metric == "val_loss" and config.n_steps == 300


def test_optimizers_lose_their_alpha0_and_the_first_adamw_is_the_reference():
    config = rb.RobustnessConfig(optimizers=("vradam:lr=0.5,beta3=3@mine", "adamw:lr=1"))
    assert [str(s) for s in config.specs()] == ["vradam:beta3=3@mine", "adamw"]
    assert config.reference == 1
    landscape = rb.RobustnessConfig(task="rosenbrock", kind="landscape")
    assert landscape.metric == "final_gap" and landscape.n_steps == 500
    assert [s.hyperparams["weight_decay"] for s in landscape.specs()] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(task="nowhere"), "unknown task"),
        (dict(task="saddle", kind="landscape"), "without a known minimum"),
        (dict(kind="maps"), "kind must be"),
        (dict(points=1), "points must be"),
        (dict(seeds=0), "seeds must be"),
        (dict(below=-1.0), "below must be"),
        (dict(above=7.0), "above must be"),
        (dict(below=0.0, above=0.0), "needs a range"),
        (dict(anchor=0.0), "anchor"),
        (dict(steps=0), "steps must be"),
        (dict(noise_std=0.1), "noise_std is for landscapes"),
        (dict(optimizers=("adamw", "adamw:lr=3")), "listed twice"),
        (dict(optimizers=("sgd",)), "unknown optimizer"),
        (dict(device="tpu"), "device must be"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rb.RobustnessConfig(**kwargs)


# ----------------------------------------------------------------------------- summary


def _rows(config: rb.RobustnessConfig, values: dict) -> list[dict]:
    """Rows as robustness_runs writes them, with ``values[(optimizer, α0 index)]`` a value
    per seed (INF: diverged)."""
    rows = []
    specs, lrs = config.specs(), config.lrs()
    for n, seed in enumerate(config.seed_list()):
        for p, lr in enumerate(lrs):
            for k, spec in enumerate(specs):
                v = values[k, p][n]
                row = dict(config.settings(), optimizer=str(spec), label=spec.display_name,
                           lr=float(lr), seed=seed, value=NAN if v == INF else v,
                           diverged=v == INF, diverged_at=3 if v == INF else -1)  # fmt: skip
                if spec.key == "vradam":
                    row.update(gate_label="gated" if p else "behaved as AdamW at α₀",
                               eta_ratio_median=0.5)  # fmt: skip
                rows.append(row)
    return rows


SYNTHETIC = rb.RobustnessConfig(task="digits", points=3, seeds=5, below=1.0, above=1.0)
# α0 = 0.0003, 0.003, 0.03: AdamW best at 0.003 and diverging at 0.03 in 2 of 5 seeds;
# VRAdam best at 0.03, never diverging
SYNTHETIC_VALUES = {
    (0, 0): [0.50, 0.52, 0.48, 0.51, 0.49],
    (0, 1): [0.20, 0.21, 0.19, 0.20, 0.20],
    (0, 2): [0.90, INF, 0.80, INF, 0.85],
    (1, 0): [0.60, 0.61, 0.59, 0.62, 0.58],
    (1, 1): [0.21, 0.22, 0.20, 0.21, 0.21],
    (1, 2): [0.20, 0.20, 0.21, 0.19, 0.20],
}


def test_summarize_and_say_it():
    rows = _rows(SYNTHETIC, SYNTHETIC_VALUES)
    rows.append(dict(rows[0], steps=999))  # another study's row in the same file: ignored
    result = rb.summarize(SYNTHETIC, rows)
    adamw, vradam = result.curves
    assert result.runs == result.expected_runs == 30
    assert adamw.diverged_runs == 2 and adamw.divergence_rate == pytest.approx(2 / 15)
    assert adamw.width.best_index == 1 and vradam.width.best_index == 2
    assert vradam.width.censored_high and not adamw.width.censored
    d = vradam.differences[2]
    assert d.pairs == 3 and d.lower == 5 and d.significant == -1
    assert vradam.gate == ("behaved as AdamW at α₀ in 5 of 5 seeds", "gated in 5 of 5 seeds",
                           "gated in 5 of 5 seeds")  # fmt: skip
    assert adamw.gate == ("", "", "") and vradam.gate_median.tolist() == [0.5] * 3
    lines = rb.statement(result)
    text = " ".join(lines)
    assert "AdamW: mean validation loss within 10 % of its best (0.2 at α₀ = 0.003)" in text
    assert "2 of 15 runs diverged (13 %)" in text and "0 of 15 runs diverged (0 %)" in text
    assert "(at least: the range reaches the grid's end)" in text
    assert "has a 95 % interval below 0 at α₀ = 0.03" in text
    assert "more AdamW runs than VRAdam (β₃=5.9) runs diverged at α₀ = 0.03" in text
    assert "behaved as AdamW at α₀ in every seed at α₀ = 0.0003" in text
    assert "gated in every seed at α₀ = 0.003, 0.03" in text
    assert "the grid reaches 1.00 decades below it and 1.00 above (the protocol asks" in text
    assert "range is" in text and "wider than AdamW's" in text
    assert ("VRAdam (β₃=5.9) was lower in every seed at α₀ = 0.03 and higher in every seed at "
            "α₀ = 0.0003, 0.003") in text  # fmt: skip
    head = rb.headline(result)
    assert head.startswith("α₀ range within 10 % of each optimizer's best mean validation")
    assert "AdamW 0." in head and "(13 % of runs diverged)" in head
    (first, second) = rb.summary_rows(result)
    assert first["best α₀"] == "0.003" and first["diverged runs"] == "2 of 15 (13 %)"
    assert second["width (decades, within 10 %)"].startswith("≥ ")
    table = rb.difference_rows(result)
    assert len(table) == 6 and table[5]["diverged"] == "0 of 5"
    assert table[5]["− AdamW (95 % CI)"].startswith("-0.") and table[5]["lower in"] == "5 of 5"
    assert table[4]["diverged"] == "2 of 5" and table[4]["− AdamW (95 % CI)"] == "reference"


def test_statement_of_a_partial_run_with_few_seeds():
    config = rb.RobustnessConfig(task="digits", points=3, seeds=2, below=1.0, above=1.0)
    values = {k: v[:2] for k, v in SYNTHETIC_VALUES.items()}
    rows = _rows(config, values)[:-3]  # stopped before the last three runs
    lines = rb.statement(rb.summarize(config, rows))
    assert lines[0] == "Partial: 9 of 12 runs done; every number below is over the runs done."
    assert lines[1].startswith("2 seeds only: the protocol asks for at least 5")


def test_result_json_has_no_nan():
    rows = _rows(SYNTHETIC, SYNTHETIC_VALUES)
    data = json.loads(rb.study_json(SYNTHETIC, rows, "cpu", note="x"))
    assert data["meta"]["note"] == "x" and data["meta"]["reference"] == "adamw"
    assert "torch" in data["meta"]["versions"] and len(data["rows"]) == 30
    assert data["rows"][10]["value"] is None and data["rows"][10]["diverged"]  # seed 1
    adamw, vradam = data["summary"]["optimizers"]
    assert adamw["diverged_runs"] == 2 and vradam["width_censored"]
    assert len(adamw["pieces"]) == 1 and adamw["pieces"][0][1] == pytest.approx(0.003)
    assert vradam["per_lr"][2]["difference"]["lower"] == 5
    assert data["summary"]["statement"] == rb.statement(rb.summarize(SYNTHETIC, rows))


# ----------------------------------------------------------------------------- runs


def test_landscape_runs_are_paired_by_seed_and_resume():
    config = rb.RobustnessConfig(task="quadratic", kind="landscape", points=3, seeds=2,
                                 steps=40)  # fmt: skip
    rows = list(rb.robustness_runs(config))
    assert len(rows) == config.total_runs() == 12
    for seed in (0, 1):
        starts = {(r["start_x"], r["start_y"]) for r in rows if r["seed"] == seed}
        assert starts == {rb.landscape_start("quadratic", seed)}
    assert rb.landscape_start("quadratic", 0) != rb.landscape_start("quadratic", 1)
    assert all(set(rb.ROW_FIELDS) - set(rb.GATE_FIELDS) <= set(r) for r in rows)
    assert all(("gate_verdict" in r) == r["optimizer"].startswith("vradam") for r in rows)
    assert all(r["value"] > 0 for r in rows)  # the gap, floored
    done = {rb.run_key(r) for r in rows[:7]}
    rest = list(rb.robustness_runs(config, done))
    assert [rb.run_key(r) for r in rest] == [rb.run_key(r) for r in rows[7:]]
    for a, b in zip(rest, rows[7:]):
        assert a["value"] == b["value"]  # a resumed run is the same run
    assert list(rb.robustness_runs(config, {rb.run_key(r) for r in rows})) == []


def test_a_landscape_run_that_diverges_is_counted():
    config = rb.RobustnessConfig(task="quadratic", kind="landscape", optimizers=("gd",),
                                 anchor=0.5, below=0.0, above=1.0, points=2, seeds=1,
                                 steps=30)  # fmt: skip
    small, large = rb.robustness_runs(config)  # GD on x² + y² diverges for α0 > 1
    assert not small["diverged"] and small["value"] >= 0
    assert large["diverged"] and math.isnan(large["value"]) and large["diverged_at"] > 0


def test_rows_round_trip_through_csv():
    config = rb.RobustnessConfig(task="quadratic", kind="landscape", points=2, seeds=1,
                                 steps=20)  # fmt: skip
    rows = list(rb.robustness_runs(config))
    back = [rb.parse_row(r) for r in csv.DictReader(rb.rows_csv(rows).splitlines())]
    assert [rb.run_key(r) for r in back] == [rb.run_key(r) for r in rows]
    assert back[1]["gate_label"] == rows[1]["gate_label"] and "gate_label" not in back[0]
    assert back[0]["value"] == rows[0]["value"] and back[0]["batch_size"] is None
    assert rb.summarize(config, back).curves[1].gate == rb.summarize(config, rows).curves[1].gate


@pytest.mark.slow  # 2-7 s (the first network training warms up)
def test_network_runs_share_seeds_and_report_the_gate():
    config = rb.RobustnessConfig(task="blobs", points=2, seeds=2, steps=8, device="cpu")
    rows = list(rb.robustness_runs(config))
    assert [(r["seed"], r["optimizer"]) for r in rows[:4]] == [
        (0, "adamw"), (0, "vradam:beta3=21"), (0, "adamw"), (0, "vradam:beta3=21")]  # fmt: skip
    assert all(math.isfinite(r["value"]) and r["metric"] == "val_loss" for r in rows)
    assert all(r["device"] == "cpu" and r["torch"] for r in rows)
    vr = [r for r in rows if r["optimizer"].startswith("vradam")]
    assert all(r["gate_label"] and 0 < r["eta_ratio_min"] <= 1 for r in vr)


# ----------------------------------------------------------------------------- CLI


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow  # 1-10 s (alone, it warms training up)
def test_cli_writes_csv_and_json_and_resumes(tmp_path, capsys):
    out = tmp_path / "rb.csv"
    argv = ["robustness", "--task", "blobs", "--points", "2", "--seeds", "2", "--steps", "5",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "8/8 runs" in captured.err and "= 8 runs; 0 already in" in captured.err
    assert "width (decades, within 10 %)" in captured.out and "− AdamW (95 % CI)" in captured.out
    assert "α₀ range within 10 % of each optimizer's best mean" in captured.out
    rows = _csv(out)
    assert list(rows[0]) == rb.ROW_FIELDS and len(rows) == 8
    assert {r["task"] for r in rows} == {"blobs"} and {r["steps"] for r in rows} == {"5"}
    assert all(r["vradam"] and r["torch"] and r["python"] for r in rows)
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["meta"]["columns"] == rb.ROW_FIELDS and data["meta"]["points"] == 2
    assert len(data["rows"]) == 8 and data["rows"][1]["gate_label"]
    assert data["summary"]["expected_runs"] == 8
    # the same command again: nothing runs, the file is unchanged
    assert main(argv) == 0
    assert "= 8 runs; 8 already in" in capsys.readouterr().err and len(_csv(out)) == 8
    # a finer grid shares both ends: only the middle α0 runs (2 optimizers × 2 seeds)
    assert main([*argv[:3], "--points", "3", *argv[5:]]) == 0
    assert "= 12 runs; 8 already in" in capsys.readouterr().err
    assert len(_csv(out)) == 12
    assert len(json.loads(out.with_suffix(".json").read_text())["rows"]) == 12
    assert main([*argv, "--restart"]) == 0
    assert len(_csv(out)) == 8


def test_cli_landscape_run(tmp_path, capsys):
    out, summary = tmp_path / "ls.csv", tmp_path / "summary.json"
    assert main(["robustness", "--landscape", "quadratic", "--points", "3", "--seeds", "2",
                 "--steps", "30", "--out", str(out), "--json", str(summary)]) == 0  # fmt: skip
    assert "12/12 runs" in capsys.readouterr().err
    rows = _csv(out)
    assert {r["kind"] for r in rows} == {"landscape"} and rows[0]["start_x"] != ""
    assert json.loads(summary.read_text())["meta"]["metric"] == "final_gap"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--points", "1"], "points must be between 2 and 41"),
        (["--landscape", "saddle"], "without a known minimum"),
        (["--noise", "0.1"], "noise_std is for landscapes"),
        (["--optimizer", "sgd"], "unknown optimizer 'sgd'"),
    ],
)
def test_cli_errors_are_one_line(argv, message, capsys, tmp_path):
    assert main(["robustness", *argv, "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "x.csv").exists()


def test_cli_refuses_a_file_that_is_not_its_own(tmp_path, capsys):
    out = tmp_path / "other.csv"
    out.write_text("a,b\n1,2\n")
    assert main(["robustness", "--landscape", "quadratic", "--out", str(out)]) == 2
    assert "not a robustness results file" in capsys.readouterr().err
    assert out.read_text() == "a,b\n1,2\n"


# ----------------------------------------------------------------------------- figure


def test_figure_is_valid_plotly_with_bands_crosses_and_bars():
    result = rb.summarize(SYNTHETIC, _rows(SYNTHETIC, SYNTHETIC_VALUES))
    fig = robustness_figure(result, assign_colors(SYNTHETIC.specs()))
    go.Figure(fig)  # Plotly's own validation
    names = [t.get("name") for t in fig["data"]]
    assert names.count("AdamW") == 1 and "AdamW: diverged" in names
    assert "VRAdam (β₃=5.9): diverged" not in names
    crosses = next(t for t in fig["data"] if t.get("name") == "AdamW: diverged")
    assert crosses["x"] == [pytest.approx(0.03)] and crosses["text"] == ["2/5"]
    line = next(t for t in fig["data"] if t.get("name") == "AdamW")
    assert line["marker"]["symbol"] == ["circle", "circle", "circle-open"]
    assert line["y"][2] == pytest.approx(0.85)  # the mean over the seeds that finished
    assert sum(t.get("fill") == "tonexty" for t in fig["data"]) == 2  # a band each
    assert sum(t.get("name", "").endswith(": range") for t in fig["data"]) == 2
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["type"] == "log"


def test_figure_of_negative_metrics_and_of_nothing_finished():
    values = {k: [-v if v != INF else v for v in vs] for k, vs in SYNTHETIC_VALUES.items()}
    result = rb.summarize(SYNTHETIC, _rows(SYNTHETIC, values))
    fig = robustness_figure(result, assign_colors(SYNTHETIC.specs()))
    go.Figure(fig)
    assert "type" not in fig["layout"]["yaxis"]  # linear
    empty = rb.summarize(SYNTHETIC, [])
    go.Figure(robustness_figure(empty, assign_colors(SYNTHETIC.specs())))


# ----------------------------------------------------------------------------- page


@pytest.mark.slow  # 5-7 s: the page, then 16 short runs
def test_networks_robustness_view_runs():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=180)
    at.query_params["nt_mode"] = "robustness"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="nt_mode").value == "robustness"
    assert any("Left out (another α₀ scale): GD" in c.value for c in at.caption)
    at.select_slider(key="nt_rb_points").set_value(4)
    at.select_slider(key="nt_rb_seeds").set_value(2)
    at.select_slider(key="nt_rb_steps").set_value(20).run()
    next(b for b in at.button if b.label == "Run robustness").click().run()
    assert not at.exception, [e.value for e in at.exception]
    state = at.session_state["nt_rb"]
    assert len(state["rows"]) == 16 and state["config"].points == 4
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert len(at.dataframe) == 2
    text = " ".join(m.value for m in at.markdown)
    assert "AdamW: mean validation loss within 10 % of its best" in text
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV (one row per run)", "JSON (settings, versions, measures)"]
    assert any("python -m vradam robustness --task moons" in c.value for c in at.code)


@pytest.mark.slow  # 7 page runs, 4-10 s
def test_garbage_urls_never_crash_the_robustness_view():
    from streamlit.testing.v1 import AppTest

    from vradam.app.ui.networks import URL_KEYS

    keys = [k for k in URL_KEYS if k != "nt_mode"]
    for value in ["1e308", "-5", "nan", "ünïcødé ✓ 漢字", "x" * 10_000, "", "**bold** <b>"]:
        at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=180)
        for k in keys:
            at.query_params[k] = value
        at.query_params["nt_mode"] = "robustness"
        at.run()
        assert not at.exception, (value[:20], [e.value for e in at.exception])
        assert at.radio(key="nt_mode").value == "robustness"
        assert [b.label for b in at.button][:2] == ["Run robustness", "Stop"]


@pytest.mark.slow  # 2-5 s
def test_robustness_view_keeps_to_the_operators_limits(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from vradam.app.ui import robustness as view
    from vradam.app.ui.tuning import PageLimits

    monkeypatch.setattr(view, "LIMITS", PageLimits(trials=10, steps=100, seeds=3))
    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=180)
    at.query_params["nt_mode"] = "robustness"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="nt_rb_seeds").value == 3  # the default 5, clamped
    assert at.select_slider(key="nt_rb_steps").value == 100
    assert max(at.select_slider(key="nt_rb_steps").options, key=int) == "100"
    (warning,) = at.warning
    assert "6 α₀ × 3 seeds = 18 runs per optimizer; this server allows 10" in warning.value
    assert next(b for b in at.button if b.label == "Run robustness").disabled
