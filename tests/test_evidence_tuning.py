"""The evidence set's tuned comparison: ``python -m vradam evidence`` computes the tuning
units (the JSON ``tune --out`` writes, same numbers), resumes them from the tuning storage
without training again, shares their budget between workers, and refuses bad input in one
line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from vradam.app import evidence as ae
from vradam.cli import main
from vradam.studies import evidence as ev
from vradam.studies import evidence_tuning as et
from vradam.studies import tuning as T

ROOT = Path(__file__).resolve().parents[1]


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _stored(storage: str) -> dict[str, int]:
    """Study name → how many trials it holds (every state): tuning trials, and the seed
    runs' claims (``…-seeds``)."""
    return {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}


def _exact_budget(storage: str, name: str, small: bool = True) -> None:
    """Every study of the unit holds exactly its budget of evaluated trials, none running;
    each evaluation seed was trained once."""
    plan = et.plan(name, small)
    for each, group in plan.runs().values():
        for study in T.open_studies(each, storage, group).values():
            trials = study.get_trials()
            assert len(T.evaluated_trials(trials)) == plan.config.trials, group
            assert not [t for t in trials if t.state == TrialState.RUNNING]
            if group == plan.group:  # the main run: its seed phase, each seed once
                assert sorted(s for _, s in T.trainings(study)) == plan.config.eval_seeds()
            else:
                assert T.trainings(study) == []


def _untimed(results: list[dict]) -> list[dict]:
    for r in results:
        r["curves"] = [{k: v for k, v in c.items() if k != "seconds"} for c in r["curves"]]
    return results


def test_the_units_their_plans_and_the_shipped_settings():
    full, lr = (et.plan(n) for n in et.names())
    assert (full.config.task, full.config.trials, full.config.seeds, full.sampler_seeds) == (
        "digits", 8, 5, 3)  # fmt: skip
    assert full.config.lr_only == () and lr.config.lr_only == ("vradam",)
    assert full.total_runs() == 2 * (8 * 3 + 5) == ev.Unit(ev.TUNING, "digits-full").total_runs()
    assert lr.group == "digits-300steps-8trials-seed0-sampler0-vradam-lr"  # tune's own name
    small = et.plan("moons-full", small=True).config
    assert (small.task, small.trials, small.seeds, small.steps) == ("moons", 2, 3, 10)
    with pytest.raises(ValueError, match="no tuning unit 'digits-wide'"):
        et.plan("digits-wide")
    shipped = json.loads((ev.SHIPPED / "tuning-digits-full.json").read_text())["meta"]
    assert et.unit_of(shipped) == ("digits-full", False)
    other = {**shipped, "trials": 12}  # a tune run with other settings: its own command
    assert et.unit_of(other) is None and ae.tuning_command(other).startswith(
        "python -m vradam tune"
    )


def test_storage_default_is_the_environment_then_a_file_in_the_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(T.ENV_STORAGE, raising=False)
    assert et.storage_url(tmp_path) == sqlite(tmp_path.resolve() / "tuning.db")
    monkeypatch.setenv(T.ENV_STORAGE, sqlite(tmp_path / "env.db"))
    assert et.storage_url(tmp_path) == sqlite(tmp_path / "env.db")
    assert et.storage_url(tmp_path, "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError, match="unsupported storage URL"):
        et.storage_url(tmp_path, "mysql://u@h/db")


@pytest.mark.parametrize(
    ("storage", "message"),
    [("mysql://u@h/db", "unsupported storage URL"), ("::", "bad storage URL"),
     ("sqlite://", "a sqlite storage needs a file"),
     ("sqlite:////proc/no/such/dir/t.db", "cannot create the storage's folder")],
)  # fmt: skip
def test_cli_bad_storage_is_one_line_and_exit_2(storage, message, tmp_path, capsys):
    out = tmp_path / "ev"
    assert main(["evidence", "--out", str(out), "--small", "--tasks", "tuning",
                 "--storage", storage]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("python -m vradam evidence: error: ") and message in err
    assert err.count("\n") == 1 and not (out / "tuning-moons-full.json").exists()


def test_cli_a_foreign_tuning_file_is_one_line_and_not_overwritten(tmp_path, capsys):
    (tmp_path / "tuning-moons-full.json").write_text('{"meta": {"task": "moons"}}')
    argv = ["evidence", "--out", str(tmp_path), "--small", "--tasks", "moons-full",
            "--storage", sqlite(tmp_path / "t.db")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds no tuning run of this unit's settings" in err and err.count("\n") == 1
    assert json.loads((tmp_path / "tuning-moons-full.json").read_text()) == {
        "meta": {"task": "moons"}
    }
    assert not (tmp_path / "t.db").exists()


def test_cli_without_optuna_the_tuning_units_are_one_line(tmp_path, capsys, without_optuna):
    assert main(["evidence", "--out", str(tmp_path), "--small", "--tasks", "tuning"]) == 2
    err = capsys.readouterr().err
    assert "optuna is not installed" in err and "vradam[tune]" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.slow  # two tiny tuning runs, a tune run, a rerun: 3.4 s idle, 38 s at load 12
def test_small_unit_writes_what_tune_writes_and_a_rerun_trains_nothing(tmp_path, capsys):
    out, storage = tmp_path / "ev", sqlite(tmp_path / "ev.db")
    argv = ["evidence", "--out", str(out), "--small", "--tasks", "moons-full",
            "--storage", storage]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    path = out / "tuning-moons-full.json"
    result = json.loads(path.read_text())
    assert ev.missing(out, ev.Unit(ev.TUNING, "moons-full", small=True)) == 0
    assert f"## {path.name}\n{ae.tuned_sentence(result)}\n" in captured.out
    summary = json.loads((out / "evidence.json").read_text())
    (unit,) = summary["units"]
    assert unit["runs"] == unit["expected"] == 2 * (2 * 2 + 3) and unit["results"]["results"]
    _exact_budget(storage, "moons-full")
    # `tune` with the same settings, in another storage: the same JSON, timings aside
    plan = et.plan("moons-full", small=True)
    c = plan.config
    tuned = tmp_path / "tune"
    assert main(["tune", "--task", c.task, "--optimizers", ",".join(c.optimizers),
                 "--trials", str(c.trials), "--seeds", str(c.seeds), "--steps", str(c.steps),
                 "--sampler-seeds", str(plan.sampler_seeds), "--device", "cpu",
                 "--storage", sqlite(tmp_path / "tune.db"), "--out", str(tuned)]) == 0  # fmt: skip
    capsys.readouterr()
    theirs = json.loads((tuned / f"{plan.group}.json").read_text())
    assert _untimed(result["results"]) == _untimed(theirs["results"])
    assert result["budget_curves"] == theirs["budget_curves"] and result["budget_curves"]
    assert result["comparison"] == theirs["comparison"]
    untimed = [{k: v for k, v in t.items() if k != "seconds"} for t in result["trials"]]
    assert untimed == [{k: v for k, v in t.items() if k != "seconds"} for t in theirs["trials"]]
    assert {k: v for k, v in result["meta"].items() if k != "storage"} == {
        k: v for k, v in theirs["meta"].items() if k != "storage"}  # fmt: skip
    # a rerun: done, nothing runs; without the JSON, it resumes from the storage and
    # trains nothing (the same trials and claims are stored), then writes the same results
    before = _stored(storage)
    assert ev.run_evidence(out, ev.choose_units(["moons-full"], small=True), print,
                           storage=storage) == {}  # fmt: skip
    path.unlink()
    assert main(argv) == 0
    assert _stored(storage) == before
    assert _untimed(json.loads(path.read_text())["results"]) == _untimed(result["results"])


@pytest.mark.slow  # two processes, a torch import each, tiny tuning runs: 8 s idle, 59 s at load 12
def test_two_workers_on_one_folder_share_the_budget_exactly(tmp_path):
    """Two evidence processes started together on one folder and its default storage
    (tuning.db there), both arms: each study holds exactly its budget, each seed trained
    once, both JSONs are written, and they hold what one process writes (each tuning run
    is owned by one process, so TPE proposes what it would alone: two workers sharing one
    study's trials had made the shipped digits lr arm pick α0 = 0.149 instead of 0.0091)."""
    env = {k: v for k, v in os.environ.items() if k != T.ENV_STORAGE}
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "vradam", "evidence", "--out", str(out), "--small",
           "--tasks", "tuning"]  # fmt: skip
    workers = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    for w in workers:
        _, err = w.communicate()
        assert w.returncode == 0, err[-2000:]
    storage = sqlite((out / "tuning.db").resolve())
    for name in et.names(small=True):
        _exact_budget(storage, name)
        meta = json.loads((out / et.file_name(name)).read_text())["meta"]
        assert meta["storage"] == storage and et.unit_of(meta) == (name, True)
    assert not list(out.glob(".tuning-*"))
    one = tmp_path / "one"
    assert main(["evidence", "--out", str(one), "--small", "--tasks", "tuning", "--storage",
                 sqlite(tmp_path / "one.db")]) == 0  # fmt: skip
    for name in et.names(small=True):
        both, alone = (json.loads((d / et.file_name(name)).read_text()) for d in (out, one))
        assert _untimed(both["results"]) == _untimed(alone["results"]), name
        assert both["budget_curves"] == alone["budget_curves"], name
        assert [{k: v for k, v in t.items() if k != "seconds"} for t in both["trials"]] == [
            {k: v for k, v in t.items() if k != "seconds"} for t in alone["trials"]
        ], name
