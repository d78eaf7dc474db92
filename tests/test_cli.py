"""`python -m vradam simulate`: a round trip through CSV/JSON, and one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from vradam.cli import main
from vradam.engine import simulate
from vradam.export import COLUMNS, META_COLUMNS


def test_csv_round_trip(tmp_path, capsys):
    out = tmp_path / "runs.csv"
    argv = ["simulate", "--landscape", "rosenbrock", "--optimizer", "vradam:lr=0.05",
            "--optimizer", "adam:lr=0.05", "--start", "-1.5,2", "--start", "0.5,-0.5",
            "--steps", "60", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().err
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == COLUMNS + META_COLUMNS
    assert rows[0]["landscape"] == "rosenbrock" and rows[0]["seed"] == "0"
    assert "vradam 0.1.0" in rows[0]["versions"] and "torch" in rows[0]["versions"]
    assert len(rows) == 2 * 2 * 61  # optimizers × runs × (steps + 1)
    expected = simulate("rosenbrock", ["vradam:lr=0.05", "adam:lr=0.05"],
                        [(-1.5, 2.0), (0.5, -0.5)], 60)  # fmt: skip
    for tr in expected:
        mine = [r for r in rows if r["optimizer"] == str(tr.spec)]
        for i in range(2):
            run = [r for r in mine if int(r["run"]) == i]
            xy = np.array([[float(r["x"]), float(r["y"])] for r in run])
            np.testing.assert_array_equal(xy, tr.xy[i])
            eta = [float(r["effective_lr"]) for r in run[:-1]]
            np.testing.assert_array_equal(eta, tr.effective_lr[i])
            assert run[-1]["effective_lr"] == ""  # no update after the last step
            assert {int(r["diverged_at"]) for r in run} == {int(tr.diverged_at[i])}


def test_json_with_grid_and_path_telemetry(tmp_path):
    out = tmp_path / "runs.json"
    assert (
        main(
            [
                "simulate",
                "--landscape",
                "himmelblau",
                "--grid",
                "4x3",
                "--steps",
                "30",
                "--telemetry",
                "path",
                "--optimizer",
                "adam:lr=0.1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    meta = data["meta"]
    assert meta["landscape"] == "himmelblau" and len(meta["starts"]) == 12
    assert set(meta["versions"]) >= {"vradam", "torch", "numpy", "python"}
    (opt,) = data["optimizers"]
    assert np.array(opt["xy"]).shape == (12, 31, 2)
    assert opt["grad"] is None  # path telemetry


def test_expression_and_default_optimizers(tmp_path, capsys):
    assert main(["simulate", "--expression", "x^2 + 3*y^2", "--domain", "-2,2,-1,1",
                 "--steps", "5", "--format", "json"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["meta"]["expression"] == "x^2 + 3*y^2"
    assert [o["spec"].split(":")[0] for o in data["optimizers"]] == ["adam", "vradam"]


def test_diverged_runs_are_nulls_in_json(capsys):
    assert main(["simulate", "--landscape", "quadratic", "--optimizer", "gd:lr=1.5",
                 "--start", "1,1", "--steps", "8", "--format", "json"]) == 0  # fmt: skip
    (opt,) = json.loads(capsys.readouterr().out)["optimizers"]
    assert opt["diverged_at"] == [5]
    assert opt["effective_lr"][0][4] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--landscape", "nope"], "unknown landscape 'nope'"),
        (["--optimizer", "sgd"], "unknown optimizer 'sgd'"),
        (["--optimizer", "adam:lr=-1"], "adam: lr=-1 is outside its valid range"),
        (["--optimizer", "vradam:gamma=2"], "unknown hyperparameter 'gamma'"),
        (["--start", "1"], "--start must be 2 numbers"),
        (["--grid", "big"], "--grid must look like 50x50"),
        (["--steps", "0"], "steps must be between 1 and"),
        (["--expression", "x.__class__"], "attribute access is not allowed"),
        (["--param", "condition=abc", "--landscape", "ill_conditioned"], "--param condition"),
        (["--noise", "-1"], "noise_std must be"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(["simulate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_module_entry_point_and_argparse_errors():
    ok = subprocess.run(
        [sys.executable, "-m", "vradam", "simulate", "--landscape", "booth", "--start", "-8,-6",
         "--steps", "3", "--optimizer", "gd:lr=0.01"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.startswith("optimizer,label,run")
    bad = subprocess.run(
        [sys.executable, "-m", "vradam", "simulate", "--schedule", "linear"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "invalid choice: 'linear'" in bad.stderr


def test_train_csv_and_progress(tmp_path, capsys):
    out = tmp_path / "metrics.csv"
    argv = ["train", "--task", "moons", "--optimizer", "vradam:lr=0.01", "--optimizer",
            "adamw:lr=0.01", "--steps", "30", "--device", "auto", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "30/30 steps" in err and "vradam:lr=0.01: train loss" in err
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 31
    assert {r["optimizer"] for r in rows} == {"vradam:lr=0.01", "adamw:lr=0.01"}
    assert rows[0]["val_acc"] != "" and rows[-1]["train_loss"] != ""


def test_train_json_has_meta(tmp_path, capsys):
    assert main(["train", "--task", "blobs", "--steps", "10", "--sharpness-every", "0",
                 "--format", "json"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["meta"]["task"] == "blobs" and data["meta"]["seed"] == 0
    assert "torch" in data["meta"]["versions"] and len(data["meta"]["optimizers"]) == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizer", "sgd"], "unknown optimizer 'sgd'"),
        (["--steps", "0"], "steps must be between"),
        (["--optimizer", "adam:lr=-1"], "outside its valid range"),
    ],
)
def test_train_errors_are_one_line(argv, message, capsys):
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in err and "Traceback" not in err
