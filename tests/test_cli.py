"""`python -m vradam simulate` and `train`: round trips through CSV/JSON, the output
columns of every task, and one-line errors (a missing optional extra included)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vradam.cli import main
from vradam.sim.engine import simulate
from vradam.sim.export import COLUMNS, META_COLUMNS
from vradam.studies.networks import TASKS

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.mark.slow  # 10 s
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


# Bad arguments of every command, checked before torch (and Optuna) load; the time this
# saves is measured by benchmarks/bench_cli.py (BENCHMARKS.md), not here.
_LIGHT = textwrap.dedent(
    """
    import sys
    from vradam.cli import main

    def heavy():
        return sorted({m.split(".")[0] for m in sys.modules} & {"torch", "optuna", "sqlalchemy"})

    import vradam
    assert heavy() == [], heavy()
    bad = [["tune", "--bogus"], ["tune", "--trials", "0"], ["tune", "--seeds", "x"],
           ["tune", "--space", "vradam=wide"], ["tune", "--sampler-seeds", "0"],
           ["tune", "--task", "nope"], ["tune", "--optimizers", "adamw,foo"],
           ["tune", "--optimizers", "gd"], ["tune", "--task", "modadd"], ["train", "--bogus"],
           ["train", "--steps", "x"], ["simulate", "--bogus"], ["robustness", "--seeds", "x"],
           ["landscape", "--grid", "x"], ["nope"]]
    for argv in bad:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2, (argv, code)
        assert heavy() == [], (argv, heavy())
    try:
        main(["tune", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    # the help lists the records' tasks and optimizers from their snapshot: nothing heavy
    study = [m for m in sys.modules if m.startswith("vradam.studies.tuning.")
             and m.rsplit(".", 1)[1] != "limits"]
    assert heavy() == [] and not study, (heavy(), study)
    from vradam import VRAdam  # the lazy package still gives its names
    print(VRAdam.__name__)
    """
)


@pytest.mark.slow  # a process, 1-3 s
def test_bad_arguments_answer_before_torch_and_optuna_load():
    run = subprocess.run([sys.executable, "-c", _LIGHT], cwd=ROOT, capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("VRAdam")
    errors = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 15, run.stderr[-3000:]
    assert "unrecognized arguments: --bogus" in errors[0]
    assert "invalid int value: 'x'" in errors[2]
    assert "tasks: moons" in run.stdout and "optimizers: adamw" in run.stdout  # the help


@pytest.mark.slow  # 9 s
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


def test_train_ctrl_c_keeps_the_rows_trained_so_far(tmp_path, capsys, monkeypatch):
    """Ctrl+C during `train`: the rows so far are written, with the run's task, seed, length
    and resolved hyperparameters, the versions in a sidecar, one line, exit 130."""
    from vradam.studies import training

    real = training.train_steps

    def interrupted(config):
        for k, record in enumerate(real(config)):
            if k == 9:  # after 5 steps of 2 optimizers
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(training, "train_steps", interrupted)
    out = tmp_path / "metrics.csv"
    argv = ["train", "--task", "moons", "--optimizer", "vradam:lr=0.01", "--optimizer",
            "adamw:lr=0.02", "--steps", "30", "--seed", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"interrupted at step 4 of 30: the 9 rows trained so far are written to {out}"
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and [r["step"] for r in rows[:3]] == ["0", "0", "1"]
    assert {(r["task"], r["seed"], r["run_steps"]) for r in rows} == {("moons", "3", "30")}
    vr, ad = rows[0]["hyperparams"], rows[1]["hyperparams"]
    assert vr.startswith("lr=0.01 beta1=0.9 beta2=0.999 beta3=1 alpha1=10") and "eps=1e-08" in vr
    assert ad.startswith("lr=0.02 beta1=0.9") and "beta3" not in ad
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    assert meta["interrupted_at"] == 4 and "torch" in meta["versions"]


@pytest.mark.slow  # 2.6 s
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


# ----------------------------------------------------------------------------- train columns

# Every task and its kind: classification (accuracy columns), regression, or one of the
# paper's tasks with its own evaluation columns (and, for the GFlowNet, no sharpness).
TASK_KINDS = {
    "moons": "classification", "circles": "classification", "spirals": "classification",
    "blobs": "classification", "digits": "classification", "teacher": "regression",
    "modadd": "classification", "lm": "language model", "gflownet": "gflownet",
    "imagegen": "regression",
}  # fmt: skip
KIND_COLUMNS = {
    "classification": ["train_acc", "val_loss", "val_acc"],
    "regression": ["val_loss"],
    "language model": ["val_loss", "val_ppl"],
    "gflownet": ["val_loss", "val_l1"],
}
NO_SHARPNESS = {"gflownet"}
BASE_COLUMNS = ["optimizer", "label", "task", "seed", "run_steps", "hyperparams", "step", "loss",
                "grad_norm", "effective_lr", "velocity_sq_norm", "clip_active",
                "train_loss"]  # fmt: skip


GATE_COLUMNS = ["eta_ratio_min", "eta_ratio_median", "eta_ratio_final", "clipped_fraction",
                "ungated_fraction", "gate_verdict"]  # fmt: skip


def expected_columns(kind: str, sharpness: bool, gate: bool = True) -> list[str]:
    """The columns of a run; ``gate``: a VR optimizer ran (every run here but one has VRAdam)."""
    cols = [*BASE_COLUMNS, *KIND_COLUMNS[kind]]
    if sharpness:
        cols += ["sharpness", "sharpness_kind", "threshold"]
    return [*cols, "diverged", *(GATE_COLUMNS if gate else [])]


def test_task_table_covers_every_task():
    assert set(TASK_KINDS) == set(TASKS)
    for key, task in TASKS.items():
        assert task.classification == (TASK_KINDS[key] == "classification"), key
        assert task.sharpness == (key not in NO_SHARPNESS), key


def _train(tmp_path, task, sharpness_every, fmt, capsys, steps=1):
    out = tmp_path / f"metrics.{fmt}"
    # VRAdam: preconditioned sharpness (one Lanczos run, at the last step) and clip_active
    argv = ["train", "--task", task, "--optimizer", "vradam:lr=0.001", "--steps", str(steps),
            "--eval-every", "1", "--sharpness-every", str(sharpness_every), "--device", "cpu",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    return out, capsys.readouterr().err


# One row per (task, --sharpness-every off/on): every combination that changes the columns.
CSV_SLOW = {
    "digits-sharpness",  # 2.5 s
    "modadd-sharpness",  # 2.5 s
    "spirals-sharpness",  # 1.5 s
    "lm-no-sharpness",  # 4 s
    "lm-sharpness",  # 4 s, and 17 s with Lanczos (cold)
    "imagegen-sharpness",  # 4 s
}
CSV_CASES = [
    pytest.param(task, every, id=f"{task}-{name}",
                 marks=pytest.mark.slow if f"{task}-{name}" in CSV_SLOW else ())
    for task in sorted(TASKS)
    for every, name in ((0, "no-sharpness"), (1, "sharpness"))
]  # fmt: skip
assert CSV_SLOW <= {case.id for case in CSV_CASES}, "a slow case is not a parameter"


@pytest.mark.parametrize(("task", "sharpness_every"), CSV_CASES)
def test_train_csv_columns_for_every_task(task, sharpness_every, tmp_path, capsys):
    kind = TASK_KINDS[task]
    out, err = _train(tmp_path, task, sharpness_every, "csv", capsys)
    with open(out, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    if task in NO_SHARPNESS:  # said once, then no sharpness columns
        assert ("note: no sharpness for" in err) == (sharpness_every > 0)
        sharpness_every = 0
    assert reader.fieldnames == expected_columns(kind, sharpness_every > 0)
    assert [int(r["step"]) for r in rows] == [0, 1]
    assert all(r["train_loss"] != "" and r["val_loss"] != "" for r in rows)
    assert rows[0]["loss"] != "" and rows[0]["clip_active"] in ("True", "False")
    if kind == "classification":
        assert all(0 <= float(r["val_acc"]) <= 1 for r in rows)
        assert "val acc" in err
    else:
        assert "val loss" in err and "val acc" not in err
    for column in KIND_COLUMNS[kind][1:] if kind != "classification" else []:
        # perplexity, distance to the true distribution
        assert column.replace("_", " ") in err and all(r[column] != "" for r in rows)
    if sharpness_every:
        assert rows[-1]["sharpness_kind"] == "preconditioned"
        assert float(rows[-1]["sharpness"]) > 0 and float(rows[-1]["threshold"]) > 0


@pytest.mark.parametrize(
    ("task", "sharpness_every"),
    [("blobs", 0), ("blobs", 1), ("teacher", 0), ("teacher", 1)],
    ids=["classification", "classification+sharpness", "regression", "regression+sharpness"],
)
def test_train_json_columns(task, sharpness_every, tmp_path, capsys):
    out, _ = _train(tmp_path, task, sharpness_every, "json", capsys)
    data = json.loads(out.read_text())
    columns = expected_columns(TASK_KINDS[task], sharpness_every > 0)
    assert data["meta"]["columns"] == columns
    assert data["meta"]["sharpness_every"] == sharpness_every
    assert len(data["records"]) == 2
    assert all(list(r) == columns for r in data["records"])
    assert data["records"][0]["loss"] is not None
    # the gate's activity is on VRAdam's last row only (one update: η/α₀ at its one step)
    assert all(data["records"][0][k] is None for k in GATE_COLUMNS)
    assert data["records"][1]["gate_verdict"].startswith(("behaved as AdamW", "gated"))
    assert 0 < data["records"][1]["eta_ratio_min"] <= 1


def test_train_reports_what_the_gate_did(tmp_path, capsys):
    """The last row of each VRAdam says what its gate did over the run, as
    vradam.sim.measures.gate_activity computes it from the run's η column; the other rows
    and AdamW's are empty, and a run without a VR optimizer has no gate columns."""
    from vradam.sim.measures import gate_activity

    out = tmp_path / "metrics.csv"
    argv = ["train", "--task", "moons", "--optimizer", "vradam:lr=0.01,beta3=0@open",
            "--optimizer", "vradam:lr=0.01,beta3=1e9@clipped", "--optimizer", "adamw:lr=0.01",
            "--steps", "20", "--sharpness-every", "0", "--device", "cpu",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    by = {label: [r for r in rows if r["label"] == label] for label in ("open", "clipped")}
    by["adamw"] = [r for r in rows if r["label"].startswith("AdamW")]
    assert all(len(v) == 21 for v in by.values())
    assert all(r[k] == "" for v in by.values() for r in v[:-1] for k in GATE_COLUMNS)
    assert all(by["adamw"][-1][k] == "" for k in GATE_COLUMNS)
    never, clipped = by["open"][-1], by["clipped"][-1]
    assert never["gate_verdict"] == "behaved as AdamW at α₀"  # β₃ = 0: the gate is off
    assert float(never["eta_ratio_min"]) == 1 and float(never["ungated_fraction"]) == 1
    assert clipped["gate_verdict"] == "behaved as AdamW at α₀/(1+α₁)"
    assert float(clipped["clipped_fraction"]) == 1 and float(clipped["ungated_fraction"]) == 0
    assert float(clipped["eta_ratio_final"]) == pytest.approx(1 / 11, rel=1e-6)
    for label in ("open", "clipped"):
        gate = gate_activity([float(r["effective_lr"]) for r in by[label][:-1]], 0.01, 10.0)
        last = by[label][-1]
        assert (float(last["eta_ratio_min"]), float(last["eta_ratio_median"])) == (
            gate.minimum, gate.median)  # fmt: skip
        assert last["gate_verdict"] == gate.verdict
    lines = [line for line in err.splitlines() if line.startswith("  ")]
    assert lines[0].endswith("; gate: behaved as AdamW at α₀")
    assert lines[1].endswith("; gate: behaved as AdamW at α₀/(1+α₁)")
    assert "gate:" not in lines[2]
    # AdamW alone: no gate columns at all
    assert main(["train", "--task", "moons", "--optimizer", "adamw:lr=0.01", "--steps", "2",
                 "--sharpness-every", "0", "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    with open(out, newline="") as fh:
        header = next(csv.reader(fh))
    assert header == expected_columns("classification", sharpness=False, gate=False)


@pytest.mark.slow  # 2.9 s
def test_train_regression_with_default_optimizers(capsys):
    # was KeyError: 'val_acc' (regression tasks have no accuracy)
    assert main(["train", "--task", "teacher", "--sharpness-every", "0", "--steps", "20"]) == 0
    captured = capsys.readouterr()
    header = captured.out.splitlines()[0].split(",")
    assert header == expected_columns("regression", sharpness=False)
    summary = [line for line in captured.err.splitlines() if line.startswith("  ")]
    assert len(summary) == 4 and all("val loss" in line for line in summary)


# ----------------------------------------------------------------------------- missing extras

# Run the CLI with scikit-learn and/or scipy unimportable, as if they were not installed.
_BLOCKED_RUN = textwrap.dedent(
    """
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    from vradam.cli import main

    raise SystemExit(main(sys.argv[2:]))
    """
)


def _extra_providing(*distributions: str) -> str:
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for name, reqs in extras.items():
        names = {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip()
                 for r in reqs}  # fmt: skip
        if set(distributions) <= names:
            return name
    raise AssertionError(f"no extra provides {distributions}")


@pytest.mark.parametrize(
    ("blocked", "task", "named"),
    [("sklearn,scipy", "moons", "scikit-learn"), ("scipy", "teacher", "scipy")],
)
@pytest.mark.slow  # 5 s, 2 cases
def test_train_without_the_extra_is_one_line_and_exit_2(blocked, task, named, tmp_path):
    extra = _extra_providing("scikit-learn", "scipy")
    out = tmp_path / "metrics.csv"
    run = subprocess.run(
        [sys.executable, "-c", _BLOCKED_RUN, blocked, "train", "--task", task, "--steps", "1",
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert named in lines[0] and f"pip install 'vradam[{extra}]'" in lines[0]
    assert run.stdout == "" and not out.exists()


def test_import_errors_during_a_run_are_caught_only_for_the_extras(monkeypatch, capsys):
    import vradam.studies.training as training

    def missing(name):
        def train_steps(config):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            yield  # pragma: no cover

        return train_steps

    monkeypatch.setattr(training, "train_steps", missing("scipy.sparse.linalg"))
    assert main(["train", "--task", "teacher", "--steps", "1"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert "scipy is not installed" in line
    extra = _extra_providing("scipy")
    assert f"vradam[{extra}]" in line
    monkeypatch.setattr(training, "train_steps", missing("somethingelse"))
    with pytest.raises(ModuleNotFoundError):
        main(["train", "--task", "teacher", "--steps", "1"])


def test_the_tuning_names_snapshot_is_the_records():
    """``tune`` checks names and prints its help from a snapshot, before torch loads; it must
    be the records' own (a new task or record that is not added there fails here)."""
    from vradam.sim.optimizers import REGISTRY, tunable
    from vradam.studies.networks import TASKS
    from vradam.studies.tuning import limits

    assert limits.TASK_KEYS == tuple(TASKS)
    assert limits.OPTIMIZER_KEYS == tuple(REGISTRY)
    assert limits.TUNABLE_KEYS == tunable()
    assert set(limits.UNSUITABLE) <= set(TASKS)


def test_a_name_check_defers_to_the_live_records_once_they_are_loaded(monkeypatch):
    """A program that registered its own record (loaded the records) is not refused by the
    snapshot; without the records, the snapshot answers with the records' wording."""
    import vradam.sim.optimizers  # noqa: F401 (loaded: the live records decide)
    from vradam.studies.tuning import limits
    from vradam.studies.tuning.space import check_optimizer

    limits.check_names("digits", ["a-record-registered-at-run-time"])  # no error here
    with pytest.raises(ValueError) as live:
        check_optimizer("gd")
    monkeypatch.delitem(sys.modules, "vradam.sim.optimizers")
    with pytest.raises(ValueError) as snap:
        limits.check_names("digits", ["gd"])
    assert str(snap.value) == str(live.value)
    with pytest.raises(ValueError, match="unknown task 'nope'; valid: moons"):
        limits.check_names("nope", [])


def test_train_help_states_the_optimizer_limit(capsys):
    from vradam.studies.training import MAX_OPTIMIZERS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert f"at most {MAX_OPTIMIZERS}:" in " ".join(capsys.readouterr().out.split())
    assert main(["train", "--steps", "1", *["--optimizer", "adam"] * (MAX_OPTIMIZERS + 1)]) == 2
    assert f"between 1 and {MAX_OPTIMIZERS} optimizers" in capsys.readouterr().err
