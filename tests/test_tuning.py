"""Equal-budget tuning with Optuna: search spaces, the budget, divergence, storage, CLI,
several worker processes on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import glob
import io
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
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from conftest import start_server, stop_server, wait_for_server
from optuna.trial import TrialState

from vradam.cli import main
from vradam.sim.optimizers import PAPER_BETA3, REGISTRY, OptimizerSpec
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
    # α0 only: the same α0 range, β3 calibrated ("auto") and α1 at the record's default
    assert T.search_space("vradam", task, lr_only=True) == (T.search_space("vradam", task)[0],)
    assert T.fixed_values("vradam", lr_only=True) == {"beta3": "auto", "alpha1": 10.0}
    assert T.fixed_values("vradam") == {} and T.widens("vradam")
    assert not any(T.widens(k) for k in T.TUNABLE if k != "vradam")


def test_a_narrowed_search_is_its_own_study_and_a_full_one_joins_as_before():
    full = T.TuneConfig(task="moons")
    narrow = T.TuneConfig(task="moons", lr_only=("vradam", "adamw"))
    assert narrow.lr_only == ("vradam",)  # AdamW's full space is α0 already
    assert [r.name for r in narrow.space("vradam")] == ["lr"] and full.fixed("vradam") == {}
    # a full search's identity has the keys of the first version: stored studies still join
    assert set(full.identity("vradam")) == {"protocol", "task", "optimizer", "steps", "seed",
                                            "sampler_seed", "metric", "space"}  # fmt: skip
    assert narrow.identity("vradam")["fixed"] == {"beta3": "auto", "alpha1": 10.0}
    assert narrow.identity("adamw") == full.identity("adamw")
    assert full.default_study() == "moons-500steps-8trials-seed0-sampler0"
    assert narrow.default_study() == full.default_study() + "-vradam-lr"
    spec = T.spec_text("vradam", {"lr": 0.0123456}, narrow.fixed("vradam"))
    assert OptimizerSpec.parse(spec).hyperparams == {
        **OptimizerSpec.parse("vradam").hyperparams, "lr": 0.01235,
        "beta3": "auto", "alpha1": 10.0}  # fmt: skip


@pytest.mark.parametrize("task", list(TASKS))
def test_each_task_is_tuned_at_its_own_length(task):
    assert T.TuneConfig(task=task).steps == TASKS[task].default_steps
    assert T.TuneConfig(task=task, steps=7).steps == 7
    assert T.TuneConfig(task=task) == T.TuneConfig(task=task, steps=TASKS[task].default_steps)


@pytest.mark.slow  # 1.7 s (creates a storage)
def test_modadd_is_left_out_of_tuning_with_its_reason(tmp_path):
    with pytest.raises(ValueError, match=r"task 'modadd' is not tuned: .*only memorises"):
        T.check_task("modadd")
    config = T.TuneConfig(task="modadd", optimizers=("adamw",), trials=1, seeds=1, steps=2)
    with pytest.raises(ValueError, match="would reward not training"):
        T.tune(config, sqlite(tmp_path))
    assert T.list_runs(sqlite(tmp_path)) == []  # refused before a study was created
    # a modadd study stored by an earlier version still opens
    T.open_studies(config, sqlite(tmp_path), "old")
    loaded, studies = T.load_run(sqlite(tmp_path), "old")
    assert loaded.task == "modadd" and [r.optimizer for r in T.results_table(loaded, studies)] == [
        "adamw"]  # fmt: skip


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
        (dict(steps=0), "steps must be ≥ 1"),
        (dict(steps=10**6), "steps must be between 1 and 5000"),
        (dict(device="tpu"), "device must be"),
        (dict(lr_only=("lion",)), "a search space for lion, which is not tuned here"),
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


@pytest.mark.slow  # 1.5 s (imports scipy.stats)
def test_paired_difference_is_scipys_paired_t_interval():
    from scipy import stats

    rng = np.random.default_rng(0)
    for n in (3, 5, 8):
        base = rng.normal(0.3, 0.05, n)
        other = base + rng.normal(-0.01, 0.01, n)
        p = T.paired_difference(dict(enumerate(other)), dict(enumerate(base)), "adamw")
        ci = stats.ttest_rel(other, base).confidence_interval(0.95)
        assert p.pairs == n and p.diverged == 0 and p.mean == pytest.approx(np.mean(other - base))
        assert (p.low, p.high) == pytest.approx((ci.low, ci.high))
        assert p.lower == int(np.sum(other < base)) and p.lower + p.higher == n
        # the pairing is what shrinks it: the unpaired intervals are far wider here
        assert p.ci95 < T.t_interval(list(other))[1] / 2


def test_pairs_are_the_seeds_both_ran_and_a_diverged_run_loses():
    base = {1: 0.5, 2: 0.4, 3: 0.6, 4: 0.5, 5: None, 6: 0.3}  # seed 5: the baseline diverged
    other = {1: 0.4, 2: 0.5, 3: None, 4: 0.45, 5: 0.2, 7: 0.1}  # 3: it diverged; 7: no pair
    p = T.paired_difference(other, base, "adamw")
    assert p.seeds == (1, 2, 3, 4, 5) and p.pairs == 3 and p.diverged == 2
    assert p.mean == pytest.approx(np.mean([0.4 - 0.5, 0.5 - 0.4, 0.45 - 0.5]))
    assert (p.lower, p.higher) == (3, 2)  # seeds 1, 4, 5 (the baseline diverged); 2, 3
    both = T.paired_difference({1: None, 2: 1.0}, {1: None, 2: 2.0}, "adamw")
    assert (both.lower, both.higher, both.pairs, both.diverged) == (1, 0, 1, 1)
    assert p.mean < 0 and T.paired_text(p) == (
        f"−{-p.mean:.3g} ± {p.ci95:.2g} (3 seeds; 2 diverged, left out)")  # fmt: skip
    assert T.paired_text(both) == "not enough seeds (1 paired; 1 diverged, left out)"
    assert T.paired_text(None) == "baseline" and T.wins_text(p) == "3 of 5 seeds"
    neg = T.paired_difference({1: 0.1, 2: 0.2, 3: 0.25}, {1: 0.2, 2: 0.3, 3: 0.3}, "adamw")
    assert T.paired_text(neg).startswith("−0.0833 ± ")  # a minus sign, not a hyphen
    assert T.paired_text(T.paired_difference({}, {1: 0.2}, "adamw")).startswith("— ")


def _row(optimizer: str, values: list, task: str = "moons", lr_only: bool = False):
    """A result row as results_table builds it, without a study."""
    seeds = tuple(range(1, len(values) + 1))
    config = T.TuneConfig(task=task, optimizers=(optimizer,),
                          lr_only=(optimizer,) if lr_only else ())  # fmt: skip
    mean, half = T.t_interval([v for v in values if v is not None])
    space = tuple(dataclasses.asdict(r) for r in config.space(optimizer))
    spec = T.spec_text(optimizer, {r["name"]: r["low"] * 2 for r in space},
                       config.fixed(optimizer))  # fmt: skip
    return T.ResultRow(
        task=task, optimizer=optimizer, name=REGISTRY[optimizer].name, metric="val_loss",
        trials=8, diverged_trials=0, best_trial=3, best_value=0.1, spec=spec, seeds=seeds,
        values=tuple(values), mean=mean, ci95=half,
        diverged_seeds=sum(v is None for v in values), space=space,
        fixed=config.fixed(optimizer),
    )  # fmt: skip


def test_the_table_leads_with_paired_differences_and_states_search_dimensions():
    adamw = _row("adamw", [0.30, 0.32, 0.28, 0.31, 0.29])
    vradam = _row("vradam", [0.29, 0.30, 0.27, None, 0.27])
    rows = T.with_paired([adamw, vradam])
    assert rows[0].paired is None and rows[1].paired.pairs == 4
    table = T.table_rows(rows)
    assert list(table[0])[:5] == ["optimizer", "searched", "Δ val_loss vs AdamW (paired, 95% CI)",
                                  "lower than AdamW", "val_loss (mean ± 95% CI)"]  # fmt: skip
    assert [r["searched"] for r in table] == ["1: α₀", "3: α₀, β₃, α₁"]
    assert table[0]["Δ val_loss vs AdamW (paired, 95% CI)"] == "baseline"
    assert table[1]["Δ val_loss vs AdamW (paired, 95% CI)"] == T.paired_text(rows[1].paired)
    assert table[1]["lower than AdamW"] == "4 of 5 seeds"  # its diverged seed is a loss
    assert not any("paper" in c for c in table[0])  # the paper's Table 1 is apart
    note = T.comparison_note(rows, 8)
    assert "Unequal search dimensions (AdamW 1: α₀, VRAdam 3: α₀, β₃, α₁) with 8 trials" in note
    assert "--space vradam=lr" in note and "seeds (1, 2, 3, 4, 5)" in note
    # α0 only: equal dimensions, and the note says what was held fixed
    narrow = T.with_paired([adamw, _row("vradam", [0.29, 0.30, 0.28, 0.3, 0.27], lr_only=True)])
    assert T.table_rows(narrow)[1]["searched"] == "1: α₀"
    assert T.table_rows(narrow)[1]["best setting"].endswith("(fixed: beta3=auto alpha1=10)")
    note = T.comparison_note(narrow, 8)
    assert note.endswith("Equal search dimensions: every optimizer searched 1 (α₀) with 8 "
                         "trials each; fixed: VRAdam's β₃ = auto, α₁ = 10 (β₃ calibrated by "
                         "beta3=auto, α₁ at its default).")  # fmt: skip
    # a study stored before β3 = auto held the task's number: it reads as it did
    b3 = TASKS["moons"].default_beta3
    old = _row("vradam", [0.29, 0.30, 0.28, 0.3, 0.27], lr_only=True)
    old = replace(old, fixed={"beta3": b3, "alpha1": 10.0})
    assert T.setting_text(old).endswith(f"(fixed: beta3={b3:g} alpha1=10)")
    # two seeds: no interval, and the table says so
    few = T.with_paired([_row("adamw", [0.3, 0.31]), _row("vradam", [0.29, 0.3])])
    assert T.table_rows(few)[1]["Δ val_loss vs AdamW (paired, 95% CI)"] == (
        "not enough seeds (2 paired)")  # fmt: skip
    assert "Only 2 seed(s): not enough for an interval" in T.comparison_note(few)
    # without the baseline: no paired columns, and the note says why
    alone = T.with_paired([vradam])
    assert "searched" in T.table_rows(alone)[0] and not any(
        c.startswith("Δ") for c in T.table_rows(alone)[0])  # fmt: skip
    assert T.comparison_note(alone).startswith("No paired differences: the baseline, AdamW")


def test_csv_and_json_carry_the_pairing_and_the_search():
    rows = T.with_paired([_row("adamw", [0.30, 0.32, 0.28]), _row("vradam", [0.29, 0.30, 0.27])])
    table = list(csv.DictReader(io.StringIO(T.results_csv(rows, {}))))
    assert table[0]["baseline"] == "adamw" and table[0]["paired_diff"] == ""
    assert table[1]["baseline"] == "adamw" and int(table[1]["paired_n"]) == 3
    assert float(table[1]["paired_diff"]) == pytest.approx(rows[1].paired.mean)
    assert table[1]["lower_than_baseline"] == "3" and table[1]["search_dims"] == "3"
    assert table[1]["search_space"].startswith("lr:") and "beta3:" in table[1]["search_space"]
    assert table[0]["search_dims"] == "1" and table[1]["fixed"] == ""
    data = json.loads(T.results_json({"trials": 8}, rows, []))
    assert data["results"][1]["paired"]["pairs"] == 3 and data["results"][0]["paired"] is None
    assert data["results"][1]["search_dims"] == 3 and "Unequal search" in data["comparison"]
    assert "model" in json.dumps(data["paper_table1"]) and "paper" not in data["results"][0]


def test_log_axes_of_the_history_and_budget_charts_use_the_projects_ticks():
    """A metric over many decades gets a log axis labelled by vradam.app.figures.ticks (not
    Plotly's own minor labels "2" and "5")."""
    from optuna.trial import create_trial

    from vradam.app.figures import tuning as tplots

    def study(values):
        s = optuna.create_study(direction="minimize")
        for v in values:
            s.add_trial(create_trial(value=v))
        return s

    studies = {"adamw": study([3.0, 0.4, 0.002]), "vradam": study([9.0, 0.05, 0.001])}
    history = tplots.history_figure(studies, "val_loss")
    budget = tplots.budget_figure(T.budget_curves({0: studies, 1: studies}, 3), "val_loss")
    for fig in (history, budget):
        axis = fig["layout"]["yaxis"]
        assert axis["type"] == "log" and axis["tickmode"] == "array", axis
        lo, hi = axis["range"]
        assert lo <= math.log10(0.001) and hi >= math.log10(3.0)
        assert all(lo <= math.log10(v) <= hi for v in axis["tickvals"])


def test_budget_curves_are_medians_of_best_so_far_over_sampler_seeds():
    from optuna.trial import create_trial

    def study(values):  # None: a diverged trial
        s = optuna.create_study(direction="minimize")
        for v in values:
            if v is None:
                s.add_trial(create_trial(state=TrialState.FAIL,
                                         user_attrs={"outcome": "diverged"}))  # fmt: skip
            else:
                s.add_trial(create_trial(value=v))
        s.add_trial(create_trial(state=TrialState.FAIL))  # a killed worker's: not counted
        return s

    best = T.best_so_far(study([None, 0.5, 0.7, 0.2, 0.1]).trials, 4)
    assert math.isnan(best[0]) and best[1:] == [0.5, 0.5, 0.2]  # the budget's 4 trials only
    assert T.budget_points(8) == [1, 2, 4, 8] and T.budget_points(6) == [1, 2, 4, 6]
    assert T.budget_points(1) == [1]
    runs = {0: {"adamw": study([0.9, 0.4, 0.3, 0.3]), "vradam": study([None, 0.6, 0.2, 0.25])},
            1: {"adamw": study([0.5, 0.5, 0.45, 0.2]), "vradam": study([0.8, 0.7, 0.1, 0.05])},
            2: {"adamw": study([0.7, 0.6, 0.5, 0.4]), "vradam": study([0.3])}}  # fmt: skip
    adamw, vradam = T.budget_curves(runs, 4)
    assert adamw.trials == (1, 2, 4) and adamw.sampler_seeds == (0, 1, 2)
    assert adamw.curves == ((0.9, 0.4, 0.3), (0.5, 0.5, 0.2), (0.7, 0.6, 0.4))
    assert adamw.median == (0.7, 0.5, 0.3) and adamw.low == (0.5, 0.4, 0.2)
    assert adamw.high == (0.9, 0.6, 0.4) and adamw.studies == (3, 3, 3)
    # seed 0's VRAdam diverged first (no result after 1 trial); seed 2's ran 1 trial only
    assert vradam.studies == (2, 2, 2) and vradam.median == pytest.approx((0.55, 0.65, 0.125))
    assert T.budget_text([vradam], "val_loss")[0]["4 trials"] == (
        "0.125 [0.05 – 0.2] (2 of 3 studies)")  # fmt: skip
    assert T.budget_text([adamw], "val_loss")[0] == {
        "optimizer": "AdamW", "1 trial": "0.7 [0.5 – 0.9]", "2 trials": "0.5 [0.4 – 0.6]",
        "4 trials": "0.3 [0.2 – 0.4]"}  # fmt: skip
    assert "over 3 studies that differ only in TPE's seed (sampler seeds 0, 1, 2)" in (
        T.budget_note([adamw], "val_loss"))  # fmt: skip
    import plotly.graph_objects as go

    from vradam.app.figures import tuning as tplots

    fig = tplots.budget_figure([adamw, vradam], "val_loss")
    go.Figure(fig)  # Plotly's schema
    medians = [t for t in fig["data"] if t["name"].endswith("median")]
    assert medians[0]["y"] == [0.7, 0.5, 0.3] and medians[1]["y"] == list(vradam.median)
    assert fig["layout"]["xaxis"]["tickvals"] == [1, 2, 4]
    # where the other sampler seeds' runs live
    config = T.TuneConfig(task="moons", trials=4)
    assert T.sampler_group("mine", config, 0) == "mine"
    assert T.sampler_group("mine", config, 2) == "mine-sampler2"
    assert T.sampler_group(config.default_study(), config, 2) == replace(
        config, sampler_seed=2).default_study()  # fmt: skip


def test_the_papers_table_is_apart_and_labelled_by_model_and_data():
    rows = T.paper_rows()
    assert [r["the paper's data"] for r in rows] == [
        "WikiText-2", "CIFAR-10 (32×32 colour images)", "8×8 grid world"]  # fmt: skip
    assert rows[2]["the paper's model"] == "GFlowNet trained by flow matching"
    assert rows[1]["nearest task here (not the same)"] == TASKS["digits"].name
    paper = T.format_table(rows)
    assert "5.99 / 6.00" in paper and "0.476 / 0.469" in paper and "25.0 / 25.0" in paper
    note = T.PAPER_NOTE
    assert "8×8 grid world trained by flow matching" in note and "random search" in note
    assert "larger grid" not in note and "no number compares with ours" in note


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


# ----------------------------------------------------------------------------- one worker


def _untimed(rows) -> list[dict]:
    out = [r.as_dict() for r in rows]
    for r in out:
        r["curves"] = [{k: v for k, v in c.items() if k != "seconds"} for c in r["curves"]]
    return out


@pytest.mark.slow  # 12 s
def test_tune_is_reproducible_and_gives_every_optimizer_the_same_budget(tmp_path):
    config = T.TuneConfig(optimizers=("adamw", "vradam"), **TINY)
    seen = []
    first = T.tune(config, sqlite(tmp_path, "a.db"), on_progress=seen.append)
    second = T.tune(config, sqlite(tmp_path, "b.db"))
    assert _untimed(first) == _untimed(second)  # all but the wall seconds of the seed runs
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


@pytest.mark.slow  # 7 s: a tiny study, then two more seed runs
def test_each_seed_is_claimed_and_trained_once_and_another_workers_claim_is_left_to_it(
    tmp_path, monkeypatch
):
    """The seed phase: every seed trained once (counted in the claims study); a seed that
    another worker's running claim holds is not trained here; more seeds reuse the stored."""
    config = T.TuneConfig(optimizers=("adamw",), **{**TINY, "trials": 2, "seeds": 3})
    url = sqlite(tmp_path)
    T.tune(config, url)
    study = T.open_studies(config, url)["adamw"]
    spec = T.best_trial(study.get_trials(), 2).user_attrs["spec"]
    assert sorted(T.trainings(study)) == [(spec, 1), (spec, 2), (spec, 3)]
    claims = T.claims_study(study)
    with warnings.catch_warnings():  # Optuna: heartbeats are meant for Study.optimize
        warnings.simplefilter("ignore", UserWarning)
        other = claims.ask()  # another worker holds seed 4
    other.set_user_attr("spec", spec)
    other.set_user_attr("seed", 4)
    trained, real = [], T.train_once

    def train_once(task, spec_, steps, seed, device, tick=None, **kw):
        trained.append(seed)
        run = real(task, spec_, steps, seed, device, tick, **kw)
        if seed == 5:  # meanwhile the other worker finishes seed 4
            theirs = real(task, spec_, steps, 4, device, None, **kw)
            other.set_user_attr("run", T.seeds._record(4, theirs, steps))
            claims.tell(other, 0.0)
        return run

    monkeypatch.setattr(T.protocol, "train_once", train_once)
    values = T.evaluate_best(study, replace(config, seeds=5), "adamw", poll=0.05)
    assert trained == [5]  # seed 4 was the other worker's (trained inside the patch)
    assert sorted(seed for _, seed in T.trainings(study)) == [1, 2, 3, 4, 5]
    assert list(values) == [1, 2, 3, 4, 5] and all(v is not None for v in values.values())
    # the table reads the runs from the claims, with their curves
    (row,) = T.results_table(replace(config, seeds=5), {"adamw": study})
    assert row.seeds == (1, 2, 3, 4, 5) and [c["seed"] for c in row.curves] == [1, 2, 3, 4, 5]


def test_a_curve_is_recorded_without_changing_the_run():
    plain = T.train_once("moons", "adamw:lr=0.01", 30, 1, "cpu")
    curved = T.train_once("moons", "adamw:lr=0.01", 30, 1, "cpu", curve_every=T.curve_every(30))
    assert curved.value == plain.value and plain.curve == ((), ())
    steps, values = curved.curve
    assert steps == tuple(range(0, 31, 1)) and values[-1] == curved.value
    assert values[0] > values[-1]  # it learned


@pytest.mark.slow  # 4 s: a tiny study
def test_the_held_out_split_is_a_fresh_draw_reported_beside_validation(tmp_path):
    from vradam.studies.training import TrainConfig, train_steps

    train = TASKS["moons"].make_data(1)
    test = T.test_data("moons", 1)
    seen = torch.cat([train.x_train, train.x_val])
    assert len(test.x_val) == 512 and torch.cdist(test.x_val, seen).min() > 0  # new points
    run = T.train_once("moons", "adamw:lr=0.01", 20, 1, "cpu", test=True)
    (last,) = [
        r
        for r in train_steps(
            TrainConfig(
                task="moons",
                optimizers=("adamw:lr=0.01",),
                steps=20,
                seed=1,
                sharpness_every=0,
                snapshot_every=20,
            )
        )
        if r["step"] == 20
    ]
    model = TASKS["moons"].make_model()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(last["flat_params"]), model.parameters())
    with torch.no_grad():
        by_hand = float(torch.nn.functional.cross_entropy(model(test.x_val), test.y_val))
    assert run.test == pytest.approx(by_hand, rel=1e-6) and run.test != run.value
    config = T.TuneConfig(**{**TINY, "seeds": 3})
    adamw, vradam = T.tune(config, sqlite(tmp_path))
    assert list(adamw.test) == [1, 2, 3] and all(v is not None for v in adamw.test.values())
    diffs = [vradam.test[s] - adamw.test[s] for s in (1, 2, 3)]
    assert vradam.test_paired.mean == pytest.approx(np.mean(diffs))
    (_, cells) = T.table_rows([adamw, vradam])
    assert cells["held-out test val_loss (mean ± 95% CI)"] != "—"
    table = list(csv.DictReader(io.StringIO(T.results_csv([adamw, vradam], {}))))
    assert float(table[1]["test_paired_diff"]) == pytest.approx(np.mean(diffs))
    assert float(table[0]["test_mean"]) == pytest.approx(np.mean(list(adamw.test.values())))
    assert "the held-out test columns are a fresh draw" in T.split_note("moons", "val_loss")
    assert not T.has_split("digits") and "No held-out test split for digits" in T.split_note(
        "digits", "val_loss")  # fmt: skip


def test_time_to_target_and_the_performance_profile_by_hand():
    assert T.steps_to([0, 10, 20, 30], [1.0, 0.6, 0.4, 0.5], 0.5) == 20
    assert T.steps_to([0, 10], [1.0, 0.6], 0.5) is None
    assert T.target_values(0.5) == {"tight": 0.5, "loose": pytest.approx(0.55)}
    curves = [
        dict(seed=1, steps=[0, 10, 20], values=[1.0, 0.5, 0.4], seconds=2.0, run_steps=20),
        dict(seed=2, steps=[0, 10, 20], values=[1.0, 0.7, 0.6], seconds=4.0, run_steps=20),
        dict(seed=3, steps=[0, 10, 20], values=[1.0, 0.5, 0.5], seconds=2.0, run_steps=20),
    ]
    t = T.time_to_target("vradam", curves, "tight", 0.5)
    assert t.steps == (10, None, 10) and t.seconds == (1.0, None, 1.0) and t.reached == 2
    assert t.median_steps == 10 and t.text() == "10 steps, 1 s (2/3 seeds)"
    never = T.time_to_target("adamw", curves[1:2] * 2 + curves[:1], "tight", 0.5)
    assert never.median_steps == math.inf and never.text() == "never (1/3 seeds)"
    # three tasks: A fastest on moons, B within 2× there; B alone reaches on digits
    per_task = {"moons": {"a": 100, "b": 200}, "digits": {"a": math.inf, "b": 50},
                "teacher": {"a": 30, "b": 30}}  # fmt: skip
    rho = T.performance_profile(per_task, (1.0, 1.5, 2.0, 4.0))
    assert rho["a"] == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert rho["b"] == pytest.approx([2 / 3, 2 / 3, 1.0, 1.0])
    steps = {"moons": {"adamw": 100.0, "vradam": 200.0}, "digits": {"adamw": math.inf}}
    profile = T.Profile({k: f"{k}-run" for k in steps}, steps, (1.0,), {})
    assert profile.text_rows() == [
        {"task": "moons", "run": "moons-run", "AdamW: steps": "100", "VRAdam: steps": "200"},
        {"task": "digits", "run": "digits-run", "AdamW: steps": "never", "VRAdam: steps": "—"},
    ]


def test_a_diverged_trial_fails_with_its_reason_and_the_study_goes_on(tmp_path, monkeypatch):
    real = T.search_space

    def space(optimizer, task, lr_only=False):  # rates at which SGD overflows on the MSE
        if optimizer == "nesterov":
            return (T.Range("lr", 1e3, 1e4),)
        return real(optimizer, task, lr_only)

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
    narrow = T.TuneConfig(task="moons", optimizers=("vradam",), trials=1, seeds=1, steps=10)
    T.open_studies(narrow, sqlite(tmp_path), "v")
    with pytest.raises(ValueError, match=r"other settings \(space lr∈\[.*\] beta3∈.* ≠ lr∈"):
        T.open_studies(replace(narrow, lr_only=("vradam",)), sqlite(tmp_path), "v")


def test_a_run_stored_by_the_first_version_opens_with_paired_differences(tmp_path):
    """Studies as the first version wrote them (its attrs by hand: no "fixed", a default
    name without the budget, 200 steps, 3 seeds) open, get the paired table, and resume."""
    url = sqlite(tmp_path)
    old = T.TuneConfig(task="moons", trials=1, seeds=3, steps=200)
    group = "moons-200steps-seed0-sampler0"
    for o, values in (("adamw", [0.3, 0.32, 0.28]), ("vradam", [0.29, 0.3, 0.27])):
        study = optuna.create_study(storage=url, study_name=f"{group}-{o}")
        study.set_user_attr("vradam", dict(
            protocol=1, task="moons", optimizer=o, steps=200, seed=0, sampler_seed=0,
            metric="val_loss", space=[dataclasses.asdict(r) for r in T.search_space(o, "moons")],
        ))  # fmt: skip
        study.set_user_attr("group", group)
        study.set_user_attr("budget", [1, 3])
        spec = f"{o}:lr=0.01"
        study.add_trial(optuna.trial.create_trial(
            value=0.2, params={"lr": 0.01}, user_attrs={"spec": spec, "outcome": "complete"},
            distributions={"lr": optuna.distributions.FloatDistribution(1e-4, 1, log=True)},
        ))  # fmt: skip
        study.set_user_attr("evaluation", dict(spec=spec, trial=0, runs=[
            [s, v, ""] for s, v in zip((1, 2, 3), values)]))  # fmt: skip
    config, studies = T.load_run(url, group)
    assert config == old and config.lr_only == ()
    adamw, vradam = T.results_table(config, studies)
    assert vradam.paired.pairs == 3 and vradam.paired.mean == pytest.approx(-0.04 / 3)
    assert vradam.dims == 3 and vradam.fixed == {} and adamw.paired is None
    assert T.open_studies(config, url, group)  # the same settings still join it


def test_a_worker_with_another_budget_is_refused(tmp_path, capsys):
    config = T.TuneConfig(task="moons", optimizers=("adamw",), trials=2, seeds=3, steps=10)
    T.open_studies(config, sqlite(tmp_path), "b")
    with pytest.raises(ValueError, match=r"study 'b-adamw' has a budget of 2 trials per "
                       r"optimizer, not 3: join it with --trials 2"):  # fmt: skip
        T.open_studies(replace(config, trials=3), sqlite(tmp_path), "b")
    more = T.open_studies(replace(config, seeds=5), sqlite(tmp_path), "b")  # seeds may grow
    assert more["adamw"].user_attrs["budget"] == [2, 5]
    argv = ["tune", "--task", "moons", "--optimizers", "adamw", "--trials", "4", "--steps", "10",
            "--storage", sqlite(tmp_path), "--study", "b"]  # fmt: skip
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "has a budget of 2 trials per optimizer, not 4" in line


# ----------------------------------------------------------------------------- the CLI


@pytest.mark.slow  # 4 s
def test_cli_tune_writes_json_and_csv_with_versions(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["tune", "--task", "moons", "--optimizers", "adamw,vradam", "--trials", "2",
            "--seeds", "3", "--steps", "10", "--storage", sqlite(tmp_path), "--study", "cli",
            "--sampler-seeds", "1", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "█" in captured.err and "10.0/10 runs" in captured.err  # the progress bar
    assert "warning" not in captured.err
    assert "val_loss (mean ± 95% CI)" in captured.out and "The paper's Table 1" in captured.out
    assert "Δ val_loss vs AdamW (paired, 95% CI)" in captured.out
    flat = " ".join(captured.out.split())  # the notes are wrapped at 100 columns
    assert "Unequal search dimensions (AdamW 1: α₀, VRAdam 3: α₀, β₃, α₁)" in flat
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
    vradam = data["results"][1]
    adamw = dict(zip(data["results"][0]["seeds"], data["results"][0]["values"]))
    diffs = [v - adamw[s] for s, v in zip(vradam["seeds"], vradam["values"])]
    assert vradam["paired"]["pairs"] == 3 and vradam["search_dims"] == 3
    assert vradam["paired"]["mean"] == pytest.approx(np.mean(diffs))
    assert float(rows[1]["paired_diff"]) == pytest.approx(np.mean(diffs))
    assert data["meta"]["baseline"] == "adamw" and data["meta"]["lr_only"] == []
    # time to target: AdamW's mean final metric, recomputed from the stored curves
    assert "Time to target (AlgoPerf's view)" in flat and "Workers: one process" in flat
    target = data["results"][0]["mean"]
    times = {(t["optimizer"], t["target"]): t for t in data["time_to_target"]["rows"]}
    for r in data["results"]:
        first = [next((s for s, v in zip(c["steps"], c["values"]) if v <= target), None)
                 for c in r["curves"]]  # fmt: skip
        assert times[(r["optimizer"], "tight")]["steps"] == first
        assert times[(r["optimizer"], "loose")]["value"] == pytest.approx(1.1 * target)
    assert float(rows[0]["target"]) == pytest.approx(target)
    assert rows[1]["reached_target"] == f"{times[('vradam', 'tight')]['reached']}/3"
    # the equal-dimension comparison is one flag; two seeds are warned about
    argv = [*argv[: argv.index("--study")], "--study", "cli-lr", "--space", "vradam=lr",
            "--seeds", "2", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "warning: 2 evaluation seed(s): fewer than 3 give no paired interval" in captured.err
    assert "vradam searches α0 only" in captured.err
    flat = " ".join(captured.out.split())
    assert "Equal search dimensions: every optimizer searched 1 (α₀)" in flat
    assert "not enough seeds (2 paired)" in captured.out
    data = json.loads((out / "cli-lr.json").read_text())
    assert data["meta"]["lr_only"] == ["vradam"] and data["results"][1]["search_dims"] == 1
    assert data["results"][1]["fixed"] == {"beta3": "auto", "alpha1": 10.0}
    assert OptimizerSpec.parse(data["results"][1]["spec"]).hyperparams["beta3"] == "auto"
    specs = [OptimizerSpec.parse(t["spec"]) for t in data["trials"] if t["optimizer"] == "vradam"]
    assert len(specs) == 2 and all(dict(s.params).keys() == {"lr", "beta3", "alpha1"}
                                   and s.hyperparams["beta3"] == "auto"
                                   and s.hyperparams["alpha1"] == 10 for s in specs)  # fmt: skip


@pytest.mark.slow  # 12 s: three tiny studies and an AppTest
def test_cli_budget_curves_over_sampler_seeds_are_printed_stored_and_drawn(
    tmp_path, capsys, monkeypatch
):
    out, storage = tmp_path / "out", sqlite(tmp_path)
    argv = ["tune", "--task", "moons", "--trials", "3", "--seeds", "3", "--steps", "5",
            "--storage", storage, "--study", "bc", "--sampler-seeds", "3",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "24.0/24 runs" in captured.err  # 2 × (3 + 3), then 2 × 3 twice
    flat = " ".join(captured.out.split())
    assert "median [min – max] over 3 studies that differ only in TPE's seed" in flat
    data = json.loads((out / "bc.json").read_text())
    assert data["meta"]["budget_runs"] == ["bc", "bc-sampler1", "bc-sampler2"]
    adamw, _ = data["budget_curves"]
    assert adamw["trials"] == [1, 2, 3] and adamw["sampler_seeds"] == [0, 1, 2]
    best = [T.best_so_far(optuna.load_study(study_name=f"{g}-adamw", storage=storage).trials, 3)
            for g in ("bc", "bc-sampler1", "bc-sampler2")]  # fmt: skip
    assert adamw["median"][-1] == pytest.approx(np.median([b[-1] for b in best]))
    # the other sampler seeds ran no seed evaluations
    study = optuna.load_study(study_name="bc-sampler1-vradam", storage=storage)
    assert "evaluation" not in study.user_attrs and len(study.trials) == 3
    at = _page(monkeypatch, storage, tn_study="bc")
    # the history, the budget curves, the profile across tasks, the contour
    assert not at.exception and len(at.get("plotly_chart")) == 5
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: Budget:")]
    assert len(summaries) == 1 and "After 3 trials: AdamW" in summaries[0]


def test_cli_warns_about_a_password_on_its_command_line(capsys):
    from vradam.commands.tune import _warnings

    config = T.TuneConfig(task="moons")
    url = "postgresql+psycopg://me:secret@db/studies"
    _warnings(config, argparse.Namespace(storage=url), url)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "holds a password" in line and "PGPASSWORD" in line and "secret" not in line
    bare = "postgresql+psycopg://me@db/studies"
    _warnings(config, argparse.Namespace(storage=bare), bare)  # the password from PGPASSWORD
    _warnings(config, argparse.Namespace(storage=None), url)  # from $VRADAM_STORAGE
    assert capsys.readouterr().err == ""


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
        (["--space", "vradam=wide"], "--space: unknown space 'wide'"),
        (["--space", "lion=lr"], "a search space for lion, which is not tuned here"),
        (["--space", "=lr"], "--space: expected OPT=SPACE"),
        (["--optimizers", "gd"], "cannot tune optimizer 'gd' (it is not one of the paper's"),
        (["--task", "modadd"], "task 'modadd' is not tuned: modular addition (a + b mod p)"),
        (["--sampler-seeds", "0"], "sampler seeds must be between 1 and 20"),
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
            "adamw,vradam", "--storage", storage, "--sampler-seeds", "1", *extra]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)  # fmt: skip


def _two_workers_share_one_study(storage: str, out: Path) -> None:
    """Two workers, one study: exactly the budget, and the same table from both (the second
    one a --workers-join worker, which writes the table too when given --out)."""
    args = ("--trials", "4", "--seeds", "2", "--steps", "60", "--study", "shared")
    workers = [_worker(storage, *args, "--out", str(out / str(k)), *extra)
               for k, extra in enumerate([(), ("--workers-join",)])]  # fmt: skip
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
        # the seed phase is shared: each seed trained once, by one of the two workers
        assert sorted(seed for _, seed in T.trainings(study)) == [1, 2]
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
        # bad arguments answer before Optuna (or SQLAlchemy) would load
        for bad in (["--trials", "0"], ["--task", "modadd"], ["--space", "vradam=x"],
                    ["--optimizers", "foo"]):
            assert main(["tune", *bad]) == 2
        assert not {"optuna", "sqlalchemy"} & {m.split(".")[0] for m in sys.modules}
        raise SystemExit(main(["tune", "--task", "moons", "--steps", "1"]))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, T.ENV_STORAGE: sqlite(tmp_path)})  # fmt: skip
    assert run.returncode == 2, run.stderr
    *bad, lines = run.stderr.strip().splitlines()
    assert [line.split(": error: ")[1][:20] for line in bad] == [
        "trials must be betwe", "task 'modadd' is not", "--space: unknown spa",
        "cannot tune optimize"]  # fmt: skip
    lines = [lines]
    assert "optuna is not installed" in lines[0], run.stderr
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
               tn_steps="20", tn_seeds="3")  # fmt: skip
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Ignored optimizer 'foo' from the link: choose from "
        "adamw, nesterov, rmsprop, radam, lion, vradam."
    ]
    assert any("No studies stored on this server yet" in c.value for c in at.caption)
    at.button[0].click().run()  # Run study
    assert not at.exception and not at.warning
    # history, the performance profile, VRAdam's contour and importances
    assert len(at.get("plotly_chart")) == 4
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: ")]
    assert len(summaries) == 4 and "AdamW: best" in summaries[0]
    profile = T.tuned_profile(storage)  # one task: each optimizer fastest there or not
    rho = {o: r[0] for o, r in profile.rho.items()}
    assert set(rho) == {"adamw", "vradam"} and summaries[1].startswith("Summary: Over 1 tuned")
    assert all(f"{REGISTRY[o].name}: fastest on {v:.0%} of the tasks" in summaries[1]
               for o, v in rho.items())  # fmt: skip
    table = at.dataframe[0].value
    assert list(table["optimizer"]) == ["AdamW", "VRAdam"]
    (run,) = T.list_runs(storage)
    config, studies = T.load_run(storage, run.group)
    rows = T.results_table(config, studies)
    assert list(table["val_loss (mean ± 95% CI)"]) == [T.fmt_mean(r) for r in rows]
    assert list(table["Δ val_loss vs AdamW (paired, 95% CI)"]) == [
        "baseline", T.paired_text(rows[1].paired)]  # fmt: skip
    assert list(table["searched"]) == ["1: α₀", "3: α₀, β₃, α₁"]
    assert any(m.value.startswith("Paired: each optimizer minus AdamW") for m in at.markdown)
    assert config == T.TuneConfig(task="moons", trials=3, seeds=3, steps=20)
    import plotly.graph_objects as go

    from vradam.app.figures import tuning as tplots

    figures = [tplots.history_figure(studies, "val_loss"),
               tplots.contour_figure(studies["vradam"], "val_loss"),
               tplots.importance_figure(studies["vradam"], "val_loss"),
               tplots.profile_figure(profile.rho, profile.taus, 1)]  # fmt: skip
    for fig in figures:
        go.Figure(fig)  # Plotly's schema (the page skips this check)
    names = {t["name"] for t in figures[0]["data"]}
    assert names == {"AdamW: trial", "AdamW: best so far", "VRAdam: trial", "VRAdam: best so far"}
    assert {figures[1]["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")} == {
        "α₀ (lr)", "β₃ (beta3)"}  # fmt: skip
    # A link to the stored run opens it, with its settings in the sidebar.
    again = _page(monkeypatch, storage, tn_study=run.group)
    assert not again.exception and len(again.get("plotly_chart")) == 4
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


@pytest.mark.slow  # two AppTest runs, 2.5 s
def test_tuning_page_search_space_length_seeds_and_tasks_left_out(tmp_path, monkeypatch):
    # α₀ only, the task's own length, too few seeds, a task left out
    at = _page(monkeypatch, sqlite(tmp_path), tn_task="moons", tn_space="lr", tn_seeds="2")
    assert not at.exception and at.session_state["tn_steps"] == 0
    text = " ".join(c.value for c in at.caption)
    assert "runs of 500 steps, study 'moons-500steps-6trials-seed0-sampler0-vradam-lr'" in text
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("2 evaluation seed(s): fewer than 3 give no paired interval")
    at = _page(monkeypatch, sqlite(tmp_path), tn_task="modadd")
    assert not at.exception and at.button[0].disabled
    assert any("task 'modadd' is not tuned" in w.value for w in at.warning)


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
