"""Workers sharing the evidence set's robustness and frontier runs through claims in one
storage (vradam/studies/evidence_claims.py): each run trained once, every folder complete,
a dead worker's claim taken over, a rerun training nothing."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from optuna.trial import TrialState

from vradam.cli import main
from vradam.studies import evidence as ev
from vradam.studies import evidence_claims as ec
from vradam.studies import tuning as T

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("moons", "landscapes", "quadratic")  # --small: every kind of batch, 40 runs


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _quiet(_text: str) -> None:
    pass


def _claims(storage: str, unit: ev.Unit, set_name: str = "evidence") -> list:
    return ec.claims_study(T.open_storage(storage), unit, set_name).get_trials()


def _finished_batches(storage: str, unit: ev.Unit) -> list[str]:
    return [t.user_attrs["batch"] for t in _claims(storage, unit)
            if t.state == TrialState.COMPLETE and "rows" in t.user_attrs]  # fmt: skip


def _lines(path: Path) -> tuple[str, list[str]]:
    header, *rows = path.read_text().splitlines(keepends=True)
    return header, sorted(rows)


def test_batches_are_stable_and_cover_every_run_once():
    for unit in ev.choose_units(TASKS, small=True):
        batches = ec.batches(unit)
        keys = [k for b in batches for k in b.keys]
        assert len(keys) == len(set(keys)) == unit.total_runs()
        assert set(keys) == unit.run_keys()
        assert [b.id for b in batches] == [b.id for b in ec.batches(unit)]
        assert len({b.id for b in batches}) == len(batches)
    # other settings (the full set): other batch ids, so one claims study can hold both
    small, full = (ec.batches(ev.Unit("frontier", "quadratic", s)) for s in (True, False))
    assert not {b.id for b in small} & {b.id for b in full}
    assert ec.study_name(ev.Unit("robustness", "moons"), "mine") == (
        "evidence-mine-robustness-moons.csv")  # fmt: skip
    with pytest.raises(ValueError, match="--set must be"):
        ec.study_name(ev.Unit("robustness", "moons"), "a b")


@pytest.mark.slow  # two processes, 40 small runs shared: 10-40 s
def test_two_workers_with_their_own_folders_share_one_storage(tmp_path):
    storage = sqlite(tmp_path / "shared.db")
    outs = [tmp_path / "a", tmp_path / "b"]
    cmd = [sys.executable, "-m", "vradam", "evidence", "--small", "--tasks", *TASKS,
           "--storage", storage]  # fmt: skip
    procs = [subprocess.Popen([*cmd, "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for out in outs]  # fmt: skip
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err[-3000:]
    units = ev.choose_units(TASKS, small=True)
    assert len(units) == 4
    for unit in units:
        finished = _finished_batches(storage, unit)
        assert sorted(finished) == sorted(b.id for b in ec.batches(unit))  # each once
        keys = [
            ev.run_key(unit, ec.parse_line(unit, line))
            for t in _claims(storage, unit)
            if t.state == TrialState.COMPLETE
            for line in t.user_attrs.get("rows", [])
        ]
        assert len(keys) == len(set(keys)) and set(keys) == unit.run_keys()  # each run once
        assert ec.trained(T.open_storage(storage), unit) == unit.total_runs()
        for out in outs:
            assert ev.missing(out, unit) == 0, (out, unit.file)
            assert len(ev.read_rows(out / unit.file, unit)) == unit.total_runs()
        assert _lines(outs[0] / unit.file) == _lines(outs[1] / unit.file)  # the same rows
        assert ev.summary(outs[0], [unit])["units"] == ev.summary(outs[1], [unit])["units"]


@pytest.mark.slow  # waits out a 3-s grace period: 5-10 s
def test_a_dead_workers_claim_is_taken_over(tmp_path, monkeypatch):
    """A claim left RUNNING by a killed worker (no heartbeat at all) fails a grace period
    later; the waiting worker then claims its batch and the unit completes."""
    monkeypatch.setenv(T.ENV_HEARTBEAT, "1,3")
    storage = sqlite(tmp_path / "s.db")
    unit = ev.Unit("frontier", "quadratic", small=True)
    first = ec.batches(unit)[0]
    claims = ec.claims_study(T.open_storage(storage), unit)
    with warnings.catch_warnings():  # Optuna: heartbeats are meant for Study.optimize
        warnings.simplefilter("ignore", UserWarning)
        dead = claims.ask()
    dead.set_user_attr("batch", first.id)  # named, then the worker died
    said: list[str] = []
    spent = ev.run_evidence(tmp_path / "ev", [unit], said.append, poll=0.1, storage=storage)
    assert set(spent) == {unit.file}
    assert any("waiting" in s for s in said)  # it waited for the claim, then took it over
    assert ev.missing(tmp_path / "ev", unit) == 0
    trials = _claims(storage, unit)
    assert trials[0].state == TrialState.FAIL
    assert sorted(_finished_batches(storage, unit)) == sorted(b.id for b in ec.batches(unit))
    assert ec.trained(T.open_storage(storage), unit) == unit.total_runs()


@pytest.mark.slow  # 26 small runs, then reruns: 5-20 s
def test_a_rerun_trains_nothing_and_a_new_folder_gets_every_row(tmp_path):
    storage = sqlite(tmp_path / "s.db")
    units = [u for u in ev.choose_units(TASKS, small=True) if u.name != "moons"]
    out = tmp_path / "ev"
    assert set(ev.run_evidence(out, units, _quiet, storage=storage)) == {u.file for u in units}
    counts = {u.file: len(_claims(storage, u)) for u in units}
    before = {u.file: (out / u.file).read_text() for u in units}
    assert ev.run_evidence(out, units, _quiet, storage=storage) == {}  # nothing to do
    # another folder on the same storage: every row comes from the claims, none trained
    other = tmp_path / "other"
    assert set(ev.run_evidence(other, units, _quiet, storage=storage)) == {
        u.file for u in units}  # fmt: skip
    assert {u.file: len(_claims(storage, u)) for u in units} == counts
    for u in units:
        assert (out / u.file).read_text() == before[u.file]
        assert _lines(other / u.file) == _lines(out / u.file)
        assert ec.trained(T.open_storage(storage), u) == u.total_runs()
    # the rows' order in a CSV (workers append as they finish) changes no result
    for u in units:
        header, rows = _lines(other / u.file)
        (other / u.file).write_text(header + "".join(random.Random(1).sample(rows, len(rows))))
        assert _lines(other / u.file) == _lines(out / u.file)
    assert ev.summary(other, units) == ev.summary(out, units)
    # another set in the same storage trains the runs again, in its own claims
    again = tmp_path / "again"
    ev.run_evidence(again, units[:1], _quiet, storage=storage, set_name="second")
    assert len(_claims(storage, units[0], "second")) == len(ec.batches(units[0]))
    assert len(_claims(storage, units[0])) == counts[units[0].file]


def test_cli_bad_set_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["evidence", "--out", str(tmp_path / "ev"), "--small", "--tasks", "quadratic",
                 "--set", "no/slash"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--set must be" in err and err.count("\n") == 1
    assert not (tmp_path / "ev").exists()


def test_cli_bad_storage_is_one_line_for_every_unit(tmp_path, capsys):
    assert main(["evidence", "--out", str(tmp_path / "ev"), "--small", "--tasks", "quadratic",
                 "--storage", "sqlite:////proc/no/such/dir/t.db"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "cannot create the storage's folder" in err and err.count("\n") == 1
    assert not (tmp_path / "ev" / "frontier-quadratic.csv").exists()


def test_cli_without_optuna_every_unit_is_one_line(tmp_path, capsys, without_optuna):
    assert main(["evidence", "--out", str(tmp_path), "--small", "--tasks", "quadratic"]) == 2
    err = capsys.readouterr().err
    assert "optuna is not installed" in err and "vradam[tune]" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_the_shipped_folder_trains_nothing_and_opens_no_storage(tmp_path, monkeypatch):
    monkeypatch.setenv(T.ENV_STORAGE, sqlite(tmp_path / "never.db"))
    folder = tmp_path / "shipped"
    shutil.copytree(ev.SHIPPED, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    units = [u for u in ev.all_units() if u.name != "lm"]  # lm: regenerated at times
    assert ev.run_evidence(folder, units, _quiet) == {}
    assert not (tmp_path / "never.db").exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
