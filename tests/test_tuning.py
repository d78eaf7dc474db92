"""Equal-budget tuning with Optuna: search spaces, the budget, divergence, storage, CLI,
several worker processes on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import math
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import optuna
import pytest
from conftest import start_server, stop_server, wait_for_server
from optuna.trial import TrialState

from vradam.cli import main
from vradam.sim.optimizers import PAPER_BETA3
from vradam.studies import tuning as T
from vradam.studies.networks import TASKS

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(task="moons", trials=3, seeds=2, steps=20)


def sqlite(tmp_path: Path, name: str = "studies.db") -> str:
    return f"sqlite:///{tmp_path / name}"


# ----------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize("task", list(TASKS))
def test_search_spaces_hold_the_papers_values_and_the_tasks_defaults(task):
    t = TASKS[task]
    for key in T.TUNABLE:
        space = {r.name: r for r in T.search_space(key, task)}
        lr = space["lr"]
        assert lr.log and lr.low < t.default_lr < lr.high, (key, lr)
        if key in ("adamw", "radam", "vradam", "nesterov", "rmsprop"):
            assert lr.low < T.PAPER_ALPHA0 < lr.high, (key, lr)
        assert set(space) == ({"lr", "beta3", "alpha1"} if key == "vradam" else {"lr"})
    b3, a1 = (T.search_space("vradam", task)[i] for i in (1, 2))
    assert b3.low <= t.default_beta3 / 100 and b3.high >= t.default_beta3 * 100
    assert b3.low < PAPER_BETA3 < b3.high and b3.log
    assert a1.low < 10 < T.PAPER_ALPHA1 < a1.high and a1.log


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(task="nope"), "unknown task 'nope'"),
        (dict(optimizers=("adamw", "foo")), "cannot tune optimizer 'foo'"),
        (dict(optimizers=("adam",)), "not one of the paper's baselines"),
        (dict(optimizers=()), "at least one optimizer"),
        (dict(optimizers=("adamw", "adamw")), "listed twice"),
        (dict(trials=0), "trials must be between 1"),
        (dict(seeds=0), "seeds must be between 1"),
        (dict(steps=0), "steps must be between 1"),
        (dict(device="tpu"), "device must be"),
    ],
)
def test_config_rejects_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        T.TuneConfig(**{**TINY, **change})


def test_t_interval_is_students():
    mean, half = T.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302652729911275 / math.sqrt(3))
    assert T.t_interval([5.0])[0] == 5.0 and math.isnan(T.t_interval([5.0])[1])
    assert all(math.isnan(v) for v in T.t_interval([]))


def test_storage_urls(tmp_path, monkeypatch):
    monkeypatch.delenv(T.ENV_STORAGE, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert T.default_storage_url() == f"sqlite:///{tmp_path / 'data' / 'vradam' / 'studies.db'}"
    monkeypatch.setenv(T.ENV_STORAGE, "sqlite:////elsewhere.db")
    assert T.default_storage_url() == "sqlite:////elsewhere.db"
    url = T.normalise_url("postgresql://me:secret@db.example:5432/studies")
    assert url == "postgresql+psycopg://me:secret@db.example:5432/studies"
    assert "secret" not in T.redact(url) and "***" in T.redact(url)
    for bad, message in [("nonsense", "bad storage URL"), ("mysql://x@y/z", "unsupported"),
                         ("sqlite://", "needs a file"), ("", "empty")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            T.normalise_url(bad)
    assert T.list_runs(sqlite(tmp_path, "missing.db")) == []  # listing creates no file
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.slow  # 2 s (creates a storage)
def test_results_are_printed_beside_the_papers_table(tmp_path):
    config = T.TuneConfig(task="digits", optimizers=("vradam", "lion", "nesterov"), trials=1)
    rows = T.results_table(config, T.open_studies(config, sqlite(tmp_path)))
    assert [r.paper for r in rows] == ["0.476 / 0.469", "", "0.625 / 0.620"]
    assert all(r.trials == 0 and math.isnan(r.mean) for r in rows)  # nothing run yet
    text = T.format_table(T.table_rows(rows))
    assert "paper's Table 1" in text and "0.476 / 0.469" in text
    paper = T.format_table(T.paper_rows())
    assert "WikiText-2" in paper and "5.99 / 6.00" in paper and "25.0 / 25.0" in paper


# ----------------------------------------------------------------------------- one worker


@pytest.mark.slow  # 12 s
def test_tune_is_reproducible_and_gives_every_optimizer_the_same_budget(tmp_path):
    config = T.TuneConfig(optimizers=("adamw", "vradam"), **TINY)
    seen = []
    first = T.tune(config, sqlite(tmp_path, "a.db"), on_progress=seen.append)
    second = T.tune(config, sqlite(tmp_path, "b.db"))
    assert [r.as_dict() for r in first] == [r.as_dict() for r in second]
    assert seen[-1].phase == "done" and seen[-1].done == seen[-1].total == 2 * (3 + 2)
    studies = T.open_studies(config, sqlite(tmp_path, "a.db"))
    for row in first:
        trials = studies[row.optimizer].get_trials()
        assert len(T.evaluated_trials(trials)) == row.trials == 3
        assert {t.user_attrs["spec"].split(":")[0] for t in trials} == {row.optimizer}
        assert row.seeds == (1, 2) and len(row.values) == 2 and math.isfinite(row.mean)
        assert row.best_value == min(t.value for t in trials)
        assert row.spec == studies[row.optimizer].best_trial.user_attrs["spec"]
    # A rerun resumes: nothing is trained again, and the table is the same.
    again = T.tune(config, sqlite(tmp_path, "a.db"))
    assert [r.as_dict() for r in again] == [r.as_dict() for r in first]
    assert len(studies["adamw"].get_trials()) == 3


def test_seed_runs_of_concurrent_workers_merge_and_a_late_write_cannot_shrink_a_table(
    tmp_path, monkeypatch
):
    """Two workers evaluate the best setting at once: each merges what the other stored
    (no seed trained twice once stored), and a slower worker's stale write of fewer seeds
    does not cut the finished worker's table (found under pytest-xdist: a table of 1 seed)."""
    config = T.TuneConfig(optimizers=("adamw",), **{**TINY, "trials": 2, "seeds": 3})
    url = sqlite(tmp_path)
    T.tune(config, url)  # tuned and evaluated once; now pretend seeds 2-3 are another's
    study = T.open_studies(config, url)["adamw"]
    stored = study.user_attrs["evaluation"]
    spec, full = stored["spec"], {r[0]: r for r in stored["runs"]}
    study.set_user_attr("evaluation", dict(stored, runs=[full[1]]))
    trained = []
    real = T.train_once

    def train_once(task, spec_, steps, seed, device, tick=None):
        if seed == 2:  # while this worker trains seed 2, the other stores seed 3
            study.set_user_attr("evaluation", dict(stored, runs=[full[1], full[3]]))
        trained.append(seed)
        return real(task, spec_, steps, seed, device, tick)

    monkeypatch.setattr(T.protocol, "train_once", train_once)
    values = T.evaluate_best(study, config, "adamw")
    assert trained == [2]  # seed 1 was stored before, seed 3 appeared while it trained
    assert values == {k: full[k][1] for k in (1, 2, 3)}
    assert sorted(r[0] for r in study.user_attrs["evaluation"]["runs"]) == [1, 2, 3]
    assert study.user_attrs["evaluation"]["spec"] == spec
    # A slower worker now writes what it had read before: one seed. The table built from
    # this worker's own values keeps all three.
    study.set_user_attr("evaluation", dict(stored, runs=[full[1]]))
    (row,) = T.results_table(config, {"adamw": study}, {"adamw": values})
    assert row.seeds == (1, 2, 3) and len(row.values) == 3


def test_a_diverged_trial_fails_with_its_reason_and_the_study_goes_on(tmp_path, monkeypatch):
    real = T.search_space

    def space(optimizer, task):  # rates at which SGD overflows on the MSE regression
        if optimizer == "nesterov":
            return (T.Range("lr", 1e3, 1e4),)
        return real(optimizer, task)

    monkeypatch.setattr(T.protocol, "search_space", space)
    config = T.TuneConfig(task="teacher", optimizers=("nesterov", "adamw"), trials=2, seeds=1,
                          steps=20)  # fmt: skip
    rows = T.tune(config, sqlite(tmp_path))
    studies = T.open_studies(config, sqlite(tmp_path))
    failed = studies["nesterov"].get_trials()
    assert [t.state for t in failed] == [TrialState.FAIL] * 2
    for t in failed:
        assert t.user_attrs["outcome"] == "diverged"
        assert t.user_attrs["reason"].startswith("diverged at step")
    nesterov, adamw = rows
    assert nesterov.trials == 2 and nesterov.diverged_trials == 2 and nesterov.spec == ""
    assert math.isnan(nesterov.mean) and T.fmt_mean(nesterov) == "—"
    assert adamw.trials == 2 and math.isfinite(adamw.mean)  # the other study went on
    trial_rows = T.trial_rows(studies)
    assert sum(r["outcome"] == "diverged" for r in trial_rows) == 2
    from vradam.app.figures import tuning as tplots

    fig = tplots.history_figure(studies, "val_loss")
    (marks,) = [t for t in fig["data"] if t["name"] == "Nesterov: diverged"]
    assert marks["x"] == [0, 1] and marks["text"][0].startswith("diverged at step")
    assert "✕ at the top: diverged" in fig["layout"]["yaxis"]["title"]["text"]


def test_the_budget_counts_evaluated_and_earlier_running_trials(tmp_path):
    config = T.TuneConfig(task="moons", optimizers=("adamw",), trials=1, seeds=1, steps=10)
    study = T.open_studies(config, sqlite(tmp_path))["adamw"]
    with warnings.catch_warnings():  # Optuna: heartbeats are meant for Study.optimize
        warnings.simplefilter("ignore", UserWarning)
        other = study.ask()  # trial 0: another worker's, still running
    objective = T.make_objective(config, "adamw")
    study.optimize(objective, n_trials=1)  # trial 1 would exceed the budget
    assert study.trials[1].state == TrialState.PRUNED
    assert study.trials[1].user_attrs["outcome"] == "over budget" and not study.trials[1].params
    study.tell(other, state=TrialState.FAIL)  # that worker died: its trial does not count
    study.optimize(objective, n_trials=1)
    assert study.trials[2].state == TrialState.COMPLETE
    assert len(T.evaluated_trials(study.trials)) == 1
    rows = T.tune(config, sqlite(tmp_path))  # the budget is full: only the seeds run
    assert len(study.get_trials()) == 3 and rows[0].trials == 1 and rows[0].best_trial == 2


def test_more_seeds_reuse_the_stored_ones(tmp_path, monkeypatch):
    config = T.TuneConfig(task="moons", optimizers=("adamw",), trials=1, seeds=1, steps=10)
    (row,) = T.tune(config, sqlite(tmp_path))
    runs = []
    real = T.train_once
    monkeypatch.setattr(
        T.protocol, "train_once", lambda *a, **k: runs.append(a[3]) or real(*a, **k)
    )
    (more,) = T.tune(T.TuneConfig(**{**vars(config), "seeds": 3}), sqlite(tmp_path))
    assert runs == [2, 3] and more.values[0] == row.values[0] and more.seeds == (1, 2, 3)


def test_a_study_with_other_settings_does_not_join(tmp_path):
    config = T.TuneConfig(task="moons", optimizers=("adamw",), trials=1, seeds=1, steps=10)
    T.open_studies(config, sqlite(tmp_path), "mine")
    other = T.TuneConfig(**{**vars(config), "steps": 20})
    with pytest.raises(ValueError, match=r"exists with other settings.*steps 10 ≠ 20"):
        T.open_studies(other, sqlite(tmp_path), "mine")


# ----------------------------------------------------------------------------- the CLI


@pytest.mark.slow  # 1.5 s
def test_cli_tune_writes_json_and_csv_with_versions(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["tune", "--task", "moons", "--optimizers", "adamw,vradam", "--trials", "2",
            "--seeds", "2", "--steps", "10", "--storage", sqlite(tmp_path), "--study", "cli",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "█" in captured.err and "8.0/8 runs" in captured.err  # the progress bar
    assert "val_loss (mean ± 95% CI)" in captured.out and "The paper's Table 1" in captured.out
    data = json.loads((out / "cli.json").read_text())
    assert {"torch", "optuna", "numpy", "python", "vradam", "sqlalchemy"} <= set(
        data["meta"]["versions"]
    )
    assert data["meta"]["studies"] == {"adamw": "cli-adamw", "vradam": "cli-vradam"}
    assert [r["optimizer"] for r in data["results"]] == ["adamw", "vradam"]
    assert len(data["trials"]) == 4 and data["paper_table1"]["rows"]
    with open(out / "cli.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["optimizer"] for r in rows] == ["adamw", "vradam"]
    assert rows[0]["version_optuna"] == optuna.__version__
    assert float(rows[0]["mean"]) == pytest.approx(data["results"][0]["mean"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "nope"], "unknown task 'nope'"),
        (["--optimizers", "adamw,foo"], "cannot tune optimizer 'foo'"),
        (["--trials", "0"], "trials must be between 1"),
        (["--seeds", "0"], "seeds must be between 1"),
        (["--storage", "nonsense"], "bad storage URL"),
        (["--storage", "postgresql://me:secret@127.0.0.1:{port}/db"], "cannot use the storage"),
        (["--study", " "], "--study needs a name"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(T.ENV_STORAGE, sqlite(tmp_path))
    args = [a.replace("{port}", str(_free_port())) for a in args]
    assert main(["tune", "--steps", "5", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "secret" not in err[0]


# ----------------------------------------------------------------------------- processes


def _worker(storage: str, *extra: str, env: dict | None = None, **popen) -> subprocess.Popen:
    argv = [sys.executable, "-m", "vradam", "tune", "--task", "moons", "--optimizers",
            "adamw,vradam", "--storage", storage, *extra]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)  # fmt: skip


def _two_workers_share_one_study(storage: str, out: Path) -> None:
    """Two workers, one study: exactly the budget, and the same table from both."""
    args = ("--trials", "4", "--seeds", "2", "--steps", "60", "--study", "shared")
    workers = [_worker(storage, *args, "--out", str(out / str(k))) for k in range(2)]
    for w in workers:
        _, stderr = w.communicate(timeout=600)
        assert w.returncode == 0, stderr[-2000:]
    config = T.TuneConfig(task="moons", optimizers=("adamw", "vradam"), trials=4, seeds=2,
                          steps=60)  # fmt: skip
    studies = T.open_studies(config, storage, "shared")
    for study in studies.values():
        trials = study.get_trials()
        assert len(T.evaluated_trials(trials)) == 4, [(t.number, t.state) for t in trials]
        assert all(t.state != TrialState.RUNNING for t in trials)
    results = [json.loads((out / str(k) / "shared.json").read_text())["results"] for k in (0, 1)]
    assert results[0] == results[1]
    assert all(r["trials"] == 4 and len(r["values"]) == 2 for r in results[0])
    assert T.list_runs(storage)[0].trials == {"adamw": 4, "vradam": 4}


@pytest.mark.slow  # processes, 68 s on a busy machine
def test_two_workers_share_a_sqlite_study(tmp_path):
    _two_workers_share_one_study(sqlite(tmp_path), tmp_path)


@pytest.mark.slow  # a process, 22 s
def test_a_helper_worker_only_adds_trials(tmp_path):
    storage = sqlite(tmp_path)
    helper = _worker(storage, "--trials", "2", "--seeds", "1", "--steps", "10", "--study", "h",
                     "--workers-join")  # fmt: skip
    _, err = helper.communicate(timeout=300)
    assert helper.returncode == 0, err[-2000:]
    assert "this worker's trials are done" in err
    config = T.TuneConfig(task="moons", trials=2, seeds=1, steps=10)
    studies = T.open_studies(config, storage, "h")
    assert all(len(T.evaluated_trials(s.trials)) == 2 for s in studies.values())
    assert all("evaluation" not in s.user_attrs for s in studies.values())  # no seeds run


def _evaluated(storage: str, name: str) -> list[tuple[int, float]]:
    with contextlib.suppress(KeyError):
        study = optuna.load_study(study_name=name, storage=storage)
        return [(t.number, t.value) for t in study.trials if t.state == TrialState.COMPLETE]
    return []


def test_a_trial_killed_before_its_first_heartbeat_goes_stale(tmp_path, monkeypatch):
    """A worker killed between creating its trial and its first heartbeat leaves a RUNNING
    trial Optuna never calls stale; the waiting worker gives it one heartbeat, so it fails
    a grace period later (found under pytest-xdist: the resuming worker waited forever)."""
    monkeypatch.setenv(T.ENV_HEARTBEAT, "1,1")
    config = T.TuneConfig(task="moons", optimizers=("adamw",), trials=1, seeds=1, steps=10)
    store = T.open_storage(sqlite(tmp_path))
    study = T.open_studies(config, store)["adamw"]
    with warnings.catch_warnings():  # Optuna: heartbeats are meant for Study.optimize
        warnings.simplefilter("ignore", UserWarning)
        study.ask()  # the dead worker's trial: RUNNING, no heartbeat
    nudged: set = set()
    monkeypatch.setenv(T.ENV_HEARTBEAT, "1,3600")  # however slow the machine: not yet stale
    T.fail_stale_trials(study, store, nudged)
    assert not nudged  # younger than the grace period: left alone
    monkeypatch.setenv(T.ENV_HEARTBEAT, "1,1")
    time.sleep(2.1)  # SQLite's clock has whole seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # Optuna alone never fails it
    assert study.get_trials()[0].state == TrialState.RUNNING
    T.fail_stale_trials(study, store, nudged)
    assert nudged == {(study.study_name, 0)} and study.get_trials()[0].state == TrialState.RUNNING
    time.sleep(2.1)
    T.fail_stale_trials(study, store, nudged)
    assert study.get_trials()[0].state == TrialState.FAIL
    # and the protocol goes on: the budget's one trial is run again
    (row,) = T.tune(config, store, poll=0.1)
    assert row.trials == 1 and len(row.values) == 1


@pytest.mark.slow  # processes, 80 s
def test_a_killed_worker_loses_nothing_and_a_new_one_resumes(tmp_path):
    storage = sqlite(tmp_path)
    args = ("--trials", "5", "--seeds", "1", "--steps", "150", "--study", "k")
    env = {T.ENV_HEARTBEAT: "1,3"}  # a dead worker's trial is stale after 3 s
    first = _worker(storage, *args, env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while not _evaluated(storage, "k-adamw") and time.monotonic() < deadline:
        assert first.poll() is None, first.communicate()[1][-2000:]
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    before = _evaluated(storage, "k-adamw") + _evaluated(storage, "k-vradam")
    assert before, "no trial finished before the kill"
    second = _worker(storage, *args, env=env)
    _, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-2000:]
    after = {"adamw": _evaluated(storage, "k-adamw"), "vradam": _evaluated(storage, "k-vradam")}
    assert set(before) <= set(after["adamw"]) | set(after["vradam"])  # nothing lost
    assert [len(v) for v in after.values()] == [5, 5]  # the full budget
    for name in ("k-adamw", "k-vradam"):
        trials = optuna.load_study(study_name=name, storage=storage).trials
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        dead = [t for t in trials if t.state == TrialState.FAIL]
        assert all("outcome" not in t.user_attrs for t in dead)  # the killed trial, if any


@pytest.mark.slow  # 12 s
def test_optuna_stays_out_of_import_vradam_and_its_absence_is_one_line(tmp_path):
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("optuna", "sqlalchemy"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, Block())
        import vradam, vradam.sim.engine
        from vradam.cli import build_parser, main
        build_parser()
        assert not {"optuna", "sqlalchemy"} & {m.split(".")[0] for m in sys.modules}
        raise SystemExit(main(["tune", "--task", "moons", "--steps", "1"]))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, T.ENV_STORAGE: sqlite(tmp_path)})  # fmt: skip
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "optuna is not installed" in lines[0], run.stderr
    assert "pip install 'vradam[tune]'" in lines[0]


# ----------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:  # /usr/lib/postgresql/15/bin/initdb → 15
        part = Path(path).parts[4]
        return int(part) if part.isdigit() else 0

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return found[-1] if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster on a free port (or $VRADAM_POSTGRES_URL)."""
    given = os.environ.get("VRADAM_POSTGRES_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        message = ("PostgreSQL not found (no initdb/pg_ctl): install it with "
                   "`apt-get install -y postgresql` or set VRADAM_POSTGRES_URL")  # fmt: skip
        if os.environ.get("VRADAM_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="vradam-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as an unprivileged user
        user = next(u for u in ("postgres", "nobody") if _has_user(u))
        shutil.chown(root, user=user)
        prefix = ["runuser", "-u", user, "--"]
    data, port = root / "data", _free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "vradam", "--no-sync"],
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"),
                    "-w", "-t", "60", "start"], check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://vradam@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.mark.slow  # a PostgreSQL server and processes, 99 s
def test_two_workers_share_a_postgres_study(postgres_url, tmp_path):
    _two_workers_share_one_study(postgres_url, tmp_path)
    (run,) = [r for r in T.list_runs(postgres_url) if r.group == "shared"]
    assert run.task == "moons" and run.optimizers == ("adamw", "vradam")
    config, studies = T.load_run(postgres_url, "shared")
    assert config.trials == 4 and config.seeds == 2
    rows = T.results_table(config, studies)
    assert all(len(r.values) == 2 for r in rows)


# ----------------------------------------------------------------------------- the page


def _page(monkeypatch, storage: str, **params):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(T.ENV_STORAGE, storage)
    at = AppTest.from_file(str(ROOT / "app_pages" / "tuning.py"), default_timeout=300)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.slow  # an AppTest, 15 s
def test_tuning_page_runs_a_study_and_opens_it_again(tmp_path, monkeypatch):
    storage = sqlite(tmp_path)
    at = _page(monkeypatch, storage, tn_opts="adamw,foo,vradam", tn_task="moons", tn_trials="3",
               tn_steps="20", tn_seeds="2")  # fmt: skip
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Ignored optimizer 'foo' from the link: choose from "
        "adamw, nesterov, rmsprop, radam, lion, vradam."
    ]
    assert any("No studies stored on this server yet" in c.value for c in at.caption)
    at.button[0].click().run()  # Run study
    assert not at.exception and not at.warning
    assert len(at.get("plotly_chart")) == 3  # history, VRAdam's contour and importances
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: ")]
    assert len(summaries) == 3 and "AdamW: best" in summaries[0]
    table = at.dataframe[0].value
    assert list(table["optimizer"]) == ["AdamW", "VRAdam"]
    (run,) = T.list_runs(storage)
    config, studies = T.load_run(storage, run.group)
    rows = T.results_table(config, studies)
    assert list(table["val_loss (mean ± 95% CI)"]) == [T.fmt_mean(r) for r in rows]
    assert config == T.TuneConfig(task="moons", trials=3, seeds=2, steps=20)
    import plotly.graph_objects as go

    from vradam.app.figures import tuning as tplots

    figures = [tplots.history_figure(studies, "val_loss"),
               tplots.contour_figure(studies["vradam"], "val_loss"),
               tplots.importance_figure(studies["vradam"], "val_loss")]  # fmt: skip
    for fig in figures:
        go.Figure(fig)  # Plotly's schema (the page skips this check)
    names = {t["name"] for t in figures[0]["data"]}
    assert names == {"AdamW: trial", "AdamW: best so far", "VRAdam: trial", "VRAdam: best so far"}
    assert {figures[1]["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")} == {
        "α₀ (lr)", "β₃ (beta3)"}  # fmt: skip
    # A link to the stored run opens it, with its settings in the sidebar.
    again = _page(monkeypatch, storage, tn_study=run.group)
    assert not again.exception and len(again.get("plotly_chart")) == 3
    assert again.session_state["tn_task"] == "moons" and again.session_state["tn_steps"] == 20


def test_tuning_page_storage_is_the_servers_and_never_shown(tmp_path, monkeypatch):
    """A visitor cannot choose the storage (no widget, no URL field); an unreachable one,
    set by the operator, is reported without its URL or password."""
    at = _page(monkeypatch, sqlite(tmp_path), tn_store="url", tn_url="sqlite:////etc/x.db")
    assert not at.exception
    keys = {w.key for kind in ("radio", "text_input", "selectbox") for w in at.get(kind)}
    assert "tn_store" not in keys and "tn_url" not in keys
    assert str(tmp_path) not in " ".join(e.value for e in [*at.caption, *at.markdown])
    assert any("No studies stored on this server yet" in c.value for c in at.caption)
    bad = f"postgresql://me:secret@127.0.0.1:{_free_port()}/db"
    at = _page(monkeypatch, bad)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "Cannot use this server's storage" in text
    assert "secret" not in text and "127.0.0.1" not in text and "postgresql" not in text
    at.multiselect(key="tn_opt_list").set_value([]).run()
    assert any("choose at least one optimizer" in w.value for w in at.warning)


def test_tuning_page_runs_within_the_operators_limits(tmp_path, monkeypatch):
    from vradam.app.ui import tuning as page

    at = _page(monkeypatch, sqlite(tmp_path), tn_trials="1e9", tn_steps="5000", tn_seeds="99",
               tn_study="x" * 3000)  # fmt: skip
    assert not at.exception
    ss = at.session_state
    limits = page.LIMITS
    assert (ss["tn_trials"], ss["tn_steps"], ss["tn_seeds"]) == (
        limits.trials, limits.steps, limits.seeds)  # fmt: skip
    assert ss["tn_study"] == ""
    warnings = " ".join(w.value for w in at.warning)
    assert "outside 1 … 50" in warnings and "at most 80 characters" in warnings
    assert "x" * 100 not in warnings
    for name in ("../../etc/passwd", "a b", "<b>"):
        assert page._study_problem(name) is not None
    assert page._study_problem("moons-300-s0") is None
    monkeypatch.setenv("VRADAM_PAGE_MAX_TRIALS", "8")
    monkeypatch.setenv("VRADAM_PAGE_MAX_STEPS", "nonsense")
    monkeypatch.setenv("VRADAM_PAGE_MAX_SEEDS", "100000")
    assert page.PageLimits.from_env() == page.PageLimits(trials=8, steps=1000, seeds=T.MAX_SEEDS)


@contextlib.contextmanager
def _server(env: dict, tmp: Path):
    log = tmp / "streamlit.log"
    proc, url = start_server(log, env)
    try:
        wait_for_server(proc, url, log)
        yield url
    finally:
        stop_server(proc)


def _states(storage: str, name: str) -> list[tuple[str, str | None]]:
    with contextlib.suppress(KeyError):
        study = optuna.load_study(study_name=name, storage=storage)
        return [(t.state.name, t.user_attrs.get("outcome")) for t in study.trials]
    return []


@pytest.mark.browser
def test_tuning_page_stop_keeps_the_finished_trials_and_run_resumes(browser, tmp_path):
    from conftest import wait_for_app

    storage = sqlite(tmp_path)
    with _server({T.ENV_STORAGE: storage}, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/tuning?tn_task=moons&tn_trials=4&tn_steps=300&tn_seeds=1&tn_study=b")
        wait_for_app(page, 180_000)
        page.get_by_role("button", name="Run study").click()
        deadline = time.monotonic() + 300
        while ("COMPLETE", "complete") not in _states(storage, "b-adamw"):
            assert time.monotonic() < deadline, "no trial finished"
            time.sleep(0.2)
        page.get_by_role("button", name="Stop").click()
        wait_for_app(page, 180_000)
        assert "Stopped: the finished trials are stored" in page.inner_text("body")
        kept = _states(storage, "b-adamw") + _states(storage, "b-vradam")
        assert ("COMPLETE", "complete") in kept and ("RUNNING", None) not in kept
        assert sum(s == ("COMPLETE", "complete") for s in kept) < 8  # it did stop
        page.get_by_role("button", name="Run study").click()
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3",
                               timeout=300_000)  # fmt: skip
        wait_for_app(page, 180_000)
        assert not page.query_selector_all('[data-testid="stException"]')
        for name in ("b-adamw", "b-vradam"):
            done = [s for s in _states(storage, name) if s == ("COMPLETE", "complete")]
            assert len(done) == 4  # the budget, resumed
        assert set(_states(storage, "b-vradam")) <= {("COMPLETE", "complete"),
                                                     ("FAIL", "interrupted")}  # fmt: skip
