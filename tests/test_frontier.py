"""The damping–cost frontier (vradam.studies.frontier): rows, the verdict, the shipped data.

The verdict is recomputed here from the shipped rows by an independent brute-force
dominance check, a fresh small run must reproduce the shipped rows of its cells, and the
network runner must train as train_steps trains (same weights, batches and losses)."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from vradam.sim import measures
from vradam.studies import frontier as fr
from vradam.studies.frontier.runs import _network_run


def shipped(problem: str) -> list[dict]:
    text = resources.files("vradam").joinpath(f"assets/evidence/frontier-{problem}.csv")
    return fr.read_rows(text.read_text())


def _row(role, lr, seed, osc, final, beta3=math.nan, schedule="constant", diverged=False):
    return dict(problem="quadratic", role=role, optimizer=role, schedule=schedule, lr=lr,
                beta3=beta3, seed=seed, steps=600, window_start=300, oscillation=osc,
                final_loss=final, diverged=diverged)  # fmt: skip


def _brute_force_below(rows: list[dict]) -> tuple[int, int]:
    """(VRAdam cells below, VRAdam cells with a point): a cell is below when no baseline
    cell oscillates no more (mean over seeds) and ends as low (mean log10 final loss)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (r["role"], r["schedule"], r["lr"], None if math.isnan(r["beta3"]) else r["beta3"])
        groups.setdefault(key, []).append(r)
    points = {}
    for key, rs in groups.items():
        if any(r["diverged"] for r in rs):
            continue
        points[key] = (np.mean([r["oscillation"] for r in rs]),
                       np.mean([math.log10(r["final_loss"]) for r in rs]))  # fmt: skip
    base = [p for k, p in points.items() if k[0] == "baseline"]
    vr = [p for k, p in points.items() if k[0] == "vr"]
    below = 0
    for o, f in vr:
        under = [bf for bo, bf in base if bo <= o]
        below += bool(under) and f < min(under)
    return below, len(vr)


def test_verdict_counts_and_margins_on_made_up_rows():
    """VRAdam's cell A oscillates like Adam's smooth cell but ends 10× lower (below); cell B
    ends higher than an Adam cell that oscillates less (above); cell C oscillates less than
    every Adam cell (beyond); cell D diverged on a seed (not counted)."""
    rows = []
    for s in range(5):
        jitter = 1 + 0.01 * s
        rows += [
            _row("baseline", 0.01, s, 1.0 * jitter, 1e-2),
            _row("baseline", 0.1, s, 10.0 * jitter, 1e-4),
            _row("vr", 0.1, s, 1.0 * jitter, 1e-3 * jitter, beta3=1.0),  # A
            _row("vr", 0.1, s, 20.0, 1e-3, beta3=0.1),  # B
            _row("vr", 0.05, s, 0.1, 1e-1, beta3=1.0),  # C
            _row("vr", 0.05, s, 0.1, 1e-1, beta3=0.1, diverged=s == 2),  # D
        ]
    v = fr.frontier_verdict(rows)
    assert (v.vradam_cells, v.vradam_diverged, v.below, v.beyond) == (3, 1, 1, 1)
    assert v.best.vradam.beta3 == 1.0 and v.best.category == "below"
    assert v.best.baseline.lr == 0.01  # the Adam cell that oscillates no more than A
    expected = np.mean([math.log10(1e-3 * (1 + 0.01 * s)) - math.log10(1e-2) for s in range(5)])
    assert v.best.margin == pytest.approx(expected)
    assert v.best.clear and v.clearly_below == 1
    assert v.smoothest.vradam.lr == 0.05 and v.smoothest.category == "beyond"
    assert "1 of 3 VRAdam settings end below Adam's frontier" in v.sentence
    assert [c.lr for c in v.frontier] == [0.01, 0.1]
    assert _brute_force_below(rows) == (v.below, v.vradam_cells)


@pytest.mark.parametrize("problem", list(fr.PROBLEMS))
def test_shipped_rows_are_the_default_study_and_the_verdict_recomputes(problem):
    rows = shipped(problem)
    config = fr.FrontierConfig(problem=problem)
    assert len(fr.study_rows(config, rows)) == config.total_runs() == len(rows)
    assert config.seeds >= fr.MIN_SEEDS
    v = fr.frontier_verdict(rows)
    assert (v.below, v.vradam_cells) == _brute_force_below(rows)
    assert f"{v.below} of {v.vradam_cells} VRAdam settings" in v.sentence
    for c in v.comparisons:  # every margin is the paired mean it says it is
        pairs = [a - b for a, b in zip(c.vradam.log_final, c.baseline.log_final)]
        assert c.margin == pytest.approx(measures.t_interval(pairs)[0])
    gated = [r for r in rows if r["role"] == "vr"]
    assert all(r.get("gate_verdict") for r in gated)  # VRAdam's rows say what the gate did
    assert all("vradam" in r and "torch" in r for r in rows)


@pytest.mark.slow  # 2-10 s a problem: training from scratch
@pytest.mark.parametrize("problem", list(fr.PROBLEMS))
def test_a_small_fresh_run_reproduces_the_shipped_rows(problem):
    cheap = problem in ("eos", "quadratic")  # a network run trains alone: fewer of them
    config = fr.FrontierConfig.small(problem, seeds=2 if cheap else 1,
                                     schedules=("constant", "warmup_cosine") if cheap
                                     else ("constant",))  # fmt: skip
    stored = {fr.run_key(r): r for r in shipped(problem)}
    fresh = list(fr.run_frontier(config))
    assert len(fresh) == config.total_runs()
    for r in fresh:
        s = stored[fr.run_key(r)]
        assert r["diverged"] == s["diverged"]
        for k in ("oscillation", "final_loss", "eta_ratio_median"):
            if k in s:
                assert r[k] == pytest.approx(s[k], rel=1e-6, abs=1e-12), (r["label"], k)


def test_rows_round_trip_and_a_run_resumes(tmp_path):
    config = fr.FrontierConfig.small("quadratic", seeds=2)
    rows = list(fr.run_frontier(config))
    back = fr.read_rows(fr.rows_csv(rows))
    for a, b in zip(rows, back):
        for k in fr.ROW_FIELDS:
            x, y = a.get(k), b.get(k)
            missing = (isinstance(x, float) and math.isnan(x)) and (y is None or math.isnan(y))
            assert x == y or missing, k
    assert list(fr.run_frontier(config, back)) == []  # nothing left to run
    first_seed = [r for r in back if r["seed"] == 0]
    again = list(fr.run_frontier(config, first_seed))
    assert {r["seed"] for r in again} == {1} and len(again) == len(rows) // 2
    with pytest.raises(ValueError, match="other columns"):
        fr.read_rows("a,b\n1,2\n")


@pytest.mark.slow  # two short moons runs, twice (scikit-learn's data set)
def test_network_runs_train_as_train_steps():
    """A constant-rate frontier run of moons equals train_steps' run: the same losses at
    every step (so the same oscillation) and the same final training loss."""
    from vradam.studies.training import TrainConfig, train_steps

    config = fr.FrontierConfig(problem="moons", steps=30, window_start=0.0, seeds=1,
                               adam_lrs=(0.03,), vradam_lrs=(0.03,), beta3s=(86.0,))  # fmt: skip
    for cell in config.cells()[-1:] + config.cells()[:1]:  # VRAdam, AdamW constant
        row = _network_run(config, cell, seed=3)
        records = list(train_steps(TrainConfig(task="moons", optimizers=(str(cell["spec"]),),
                                               steps=30, seed=3, sharpness_every=0,
                                               device="cpu", eval_every=30)))  # fmt: skip
        losses = [r["loss"] for r in records if "loss" in r]
        assert row["oscillation"] == pytest.approx(measures.upward_movement(losses), rel=1e-6)
        assert row["final_loss"] == pytest.approx(records[-1]["train_loss"], rel=1e-6)


def test_a_schedule_reaches_every_kind_of_run():
    """A schedule reaches the lockstep MLP and the engine alike, and the gate columns are
    measured against the scheduled rate (with β3 ≈ 0, η/rate stays 1, not the schedule's
    factor, whose median over a warmup-cosine run is about 0.5)."""
    for problem in ("eos", "quadratic"):
        config = fr.FrontierConfig(problem=problem, steps=40, seeds=1, adam_lrs=(0.01,),
                                   vradam_lrs=(0.01,), beta3s=(1e-9,),
                                   vradam_schedules=("warmup_cosine",))  # fmt: skip
        rows = list(fr.run_frontier(config))
        vr = next(r for r in rows if r["role"] == "vr")
        assert vr["schedule"] == "warmup_cosine"
        assert vr["eta_ratio_median"] == pytest.approx(1.0, abs=0.01)  # β3 ≈ 0: ungated
        const, cos = (next(r for r in rows if r["role"] == "baseline" and r["schedule"] == s)
                      for s in ("constant", "warmup_cosine"))  # fmt: skip
        assert const["final_loss"] != cos["final_loss"]


def test_config_validates_and_small_is_a_subset():
    with pytest.raises(ValueError, match="unknown problem"):
        fr.FrontierConfig(problem="nope")
    with pytest.raises(ValueError, match="positive"):
        fr.FrontierConfig(beta3s=(0.0,))
    with pytest.raises(ValueError, match="schedules"):
        fr.FrontierConfig(schedules=("bogus",))
    for problem in fr.PROBLEMS:
        full = set(fr.FrontierConfig(problem=problem).run_keys())
        assert set(fr.FrontierConfig.small(problem).run_keys()) <= full


def test_cli_writes_resumes_and_says_the_verdict(tmp_path, capsys):
    from vradam.cli import main

    out = tmp_path / "q.csv"
    args = ["frontier", "--problem", "quadratic", "--small", "--out", str(out)]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "VRAdam settings end below Adam's frontier" in first.out
    n = len(fr.read_rows(out.read_text()))
    assert n == fr.FrontierConfig.small("quadratic").total_runs()
    assert main(args) == 0
    assert f"{n} already in" in capsys.readouterr().err
    assert len(fr.read_rows(out.read_text())) == n
