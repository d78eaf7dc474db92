"""What the gate did (vradam.sim.measures.gate_activity): the measure's rules on made-up
rates, and its place in every output where VRAdam or VRMomentum runs: the Playground's
table, the Edge of stability table and text, the Networks table and caption, and the
tuning table (with the flag for a winner that never gated) and its stored seed runs.
The train CLI's columns are tested in test_cli.py."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from vradam.sim import measures
from vradam.sim.measures import GateActivity, gate_across, gate_activity, gate_means
from vradam.sim.optimizers import OptimizerSpec, gate_activity_of

A0, A1 = 0.01, 10.0
FLOOR = A0 / (1 + A1)


def rates(*pieces: tuple[float, int]) -> np.ndarray:
    """η_t from (η/α0, steps) pieces, e.g. rates((0.5, 10), (1, 90))."""
    return np.concatenate([np.full(n, ratio * A0) for ratio, n in pieces])


# ----------------------------------------------------------------------------- the measure


def test_a_run_at_the_full_rate_never_gates():
    gate = gate_activity(rates((1, 100)), A0, A1)
    assert (gate.kind, gate.verdict) == ("never", "behaved as AdamW at α₀")
    assert (gate.minimum, gate.median, gate.final) == (1, 1, 1)
    assert (gate.clipped_fraction, gate.ungated_fraction) == (0, 1)
    assert gate.released_at == 0 and (gate.steps, gate.skipped) == (100, 0)


@pytest.mark.parametrize(
    ("eta", "kind"),
    [
        (rates((0.986, 100)), "never"),  # ≥ 0.985·α0 throughout: AdamW in disguise
        (rates((0.984, 1), (0.986, 99)), "gated"),  # one step below 0.985, none ≥ 0.99
        (rates((0.4, 1), (1, 99)), "never"),  # below 0.99·α0 on 1 % of the steps
        (rates((0.4, 2), (1, 98)), "gated"),  # … on 2 %
    ],
    ids=["0.986-throughout", "0.984-once", "dip-on-1%", "dip-on-2%"],
)
def test_the_never_gates_rule(eta, kind):
    gate = gate_activity(eta, A0, A1)
    assert gate.kind == kind
    if kind == "never" and gate.minimum < measures.FULL_RATE:
        below = int(np.sum(eta < 0.99 * A0))
        assert gate.verdict == (
            f"behaved as AdamW at α₀ (below 0.99·α₀ on {below} of 100 steps, down to "
            f"{gate.minimum:.3g})"
        )


def test_a_run_clipped_throughout_is_adamw_at_the_floor():
    eta = np.full(100, np.float32(A0) / np.float32(1 + A1), dtype=np.float32)  # float32 rounding
    gate = gate_activity(eta, A0, A1)
    assert (gate.kind, gate.verdict) == ("clipped", "behaved as AdamW at α₀/(1+α₁)")
    assert gate.clipped_fraction == 1 and gate.ungated_fraction == 0 and gate.released_at == -1
    assert gate.final == pytest.approx(1 / 11, rel=1e-6)
    almost = gate_activity(np.r_[np.full(99, FLOOR), 0.5 * A0], A0, A1)
    assert almost.kind == "clipped" and almost.clipped_fraction == 0.99
    less = gate_activity(np.r_[np.full(98, FLOOR), 0.5 * A0, 0.5 * A0], A0, A1)
    assert less.kind == "gated"
    near = gate_activity(np.full(10, FLOOR * (1 + 2e-5)), A0, A1)  # beyond rounding: not clipped
    assert near.clipped_fraction == 0


def test_a_cap_below_one_percent_never_gates():
    """With α1 ≤ 0.0101 the clipped rate is within 1 % of α0: "never" wins."""
    gate = gate_activity(np.full(10, A0 / 1.005), A0, 0.005)
    assert gate.kind == "never" and gate.clipped_fraction == 1


def test_a_gate_that_dips_then_releases():
    eta = rates((0.3, 5), (0.7, 15), (1, 80))
    gate = gate_activity(eta, A0, A1)
    assert gate.kind == "gated" and gate.released_at == 20
    assert gate.verdict == "gated, then released: η/α₀ fell to 0.3 and is ≥ 0.99 from step 20 on"
    assert (gate.minimum, gate.median, gate.final) == (0.3, 1, 1)
    assert gate.ungated_fraction == 0.8 and gate.clipped_fraction == 0
    still = gate_activity(rates((1, 50), (0.6, 50)), A0, A1)
    assert still.released_at == -1
    assert still.verdict == "gated to the end: η/α₀ 0.6 at the last step (median 0.8)"
    assert still.text().startswith("η/α₀ min 0.6 · median 0.8 · final 0.6; clipped on 0 % of ")


def test_non_finite_rates_are_left_out_and_counted():
    eta = rates((0.3, 10), (1, 30))
    eta = np.r_[eta, np.nan, np.inf, np.nan]  # a diverged run's last steps
    gate = gate_activity(eta, A0, A1)
    assert (gate.steps, gate.skipped) == (40, 3)
    assert gate.final == 1 and gate.released_at == 10  # the last finite step
    assert gate.verdict.endswith("; 3 steps without a finite η/α₀ left out")
    none = gate_activity(np.full(4, np.nan), A0, A1)
    assert (none.kind, none.steps, none.skipped) == ("none", 0, 4)
    assert math.isnan(none.minimum) and none.verdict.startswith("no finite η")
    assert gate_activity([], A0, A1).verdict == "no update"


def test_a_schedule_is_the_base_rate_of_each_step():
    lr = A0 * np.linspace(1, 0, 11)  # linear decay to 0: the last step has no rate
    gate = gate_activity(lr, lr, A1)  # the gate never acted
    assert gate.kind == "never" and (gate.steps, gate.skipped) == (10, 1)
    halved = gate_activity(lr / 2, lr, A1)
    assert halved.median == 0.5 and halved.released_at == -1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="one run's rates"):
        gate_activity(np.ones((2, 3)), A0, A1)
    with pytest.raises(ValueError, match="alpha1"):
        gate_activity(np.ones(3), A0, -1.0)


def test_the_record_round_trips_through_json():
    for eta in (rates((0.3, 5), (1, 5)), np.full(3, np.nan)):
        gate = gate_activity(eta, A0, A1)
        back = GateActivity.from_dict(json.loads(json.dumps(gate.as_dict(), allow_nan=False)))
        assert back.as_dict() == gate.as_dict()


def test_several_runs():
    never, clipped = (
        gate_activity(rates((1, 10)), A0, A1),
        gate_activity(rates((1 / 11, 30)), A0, A1),
    )
    dip = gate_activity(rates((0.5, 5), (1, 5)), A0, A1)
    assert gate_across([never], "seeds") == "behaved as AdamW at α₀"
    assert gate_across([never, never, dip], "seeds") == (
        "behaved as AdamW at α₀ in 2 of 3 seeds, gated in 1"
    )
    assert gate_across([]) == ""
    m = gate_means([never, clipped])
    assert m["minimum"] == pytest.approx((1 + 1 / 11) / 2)
    assert m["clipped_fraction"] == 30 / 40 and m["ungated_fraction"] == 10 / 40  # per step


def test_the_spec_names_the_ungated_twin():
    eta = np.full(5, 0.1)
    assert gate_activity_of(OptimizerSpec("vradam", {"lr": 0.1}), eta).label == (
        "behaved as AdamW at α₀"
    )
    momentum = gate_activity_of(OptimizerSpec("vrmomentum", {"lr": 0.1, "alpha1": 1.0}), eta / 2)
    assert momentum.verdict == "behaved as EMA momentum at α₀/(1+α₁)"
    assert gate_activity_of(OptimizerSpec("adam", {"lr": 0.1}), eta) is None


# ----------------------------------------------------------------------------- the outputs


def test_playground_table():
    from vradam.app.playground import GATE_COLUMNS, PlaygroundConfig, results_table, run

    config = PlaygroundConfig(
        optimizers=("adam:lr=0.05", "vradam:lr=0.05,beta3=0,weight_decay=0",
                    "vrmomentum:lr=0.01,beta3=1e9"),
        steps=60,
    )  # fmt: skip
    trajectories = run(config)
    adam, vr, mom = results_table(config, trajectories)
    assert all(adam[k] is None for k in GATE_COLUMNS)
    assert vr["gate"] == "behaved as AdamW at α₀" and vr["η ≥ 0.99·α₀"] == "100 % of steps"
    assert vr["η/α₀ min · median · final"] == "1 · 1 · 1"
    assert mom["gate"] == "behaved as EMA momentum at α₀/(1+α₁)"
    assert mom["clipped at α₁"] == "100 % of steps"
    only_adam = PlaygroundConfig(optimizers=("adam:lr=0.05",), steps=10)
    (row,) = results_table(only_adam, run(only_adam))
    assert not set(GATE_COLUMNS) & set(row)


def _series(spec: str, eta: np.ndarray):
    from vradam.studies.eos import Series

    T = len(eta)
    loss = np.linspace(1.0, 0.1, T)
    empty = np.array([])
    return Series(spec.split(":")[0], spec, "preconditioned", np.arange(T), loss, eta,
                  empty.astype(int), empty, empty)  # fmt: skip


@pytest.mark.slow  # 2 s (imports the page, and Streamlit with it)
def test_edge_of_stability_table_and_text():
    from vradam.app.ui.eos import gate_text
    from vradam.studies.eos import GATE_RATIOS, GATE_SHARES, GATE_VERDICT

    vr = _series("vradam:lr=0.03,beta3=10000,weight_decay=0", 0.03 * np.r_[np.full(10, 1 / 11),
                                                                          np.ones(30)])  # fmt: skip
    adam = _series("adam:lr=0.03", np.full(40, 0.03))
    row = vr.summary(20)
    assert row[GATE_RATIOS] == "0.0909 · 1 · 1" and row[GATE_SHARES] == "25 % · 75 %"
    assert row[GATE_VERDICT] == (
        "gated, then released: η/α₀ fell to 0.0909 and is ≥ 0.99 from step 10 on"
    )
    assert {adam.summary()[k] for k in (GATE_RATIOS, GATE_SHARES, GATE_VERDICT)} == {"—"}
    text = gate_text(vr)
    assert text.startswith("**What VRAdam's gate did** over the whole run: η/α₀ min 0.0909")
    assert text.endswith("from step 10 on.") and gate_text(adam) == ""


def _records(eta_ratios: list[np.ndarray]) -> list[dict]:
    """Training records of Adam (index 0) and VRAdam (1, α0 = 0.05) with these η/α0."""
    out = []
    T = len(eta_ratios[0])
    for t in range(T + 1):
        for i, ratio in enumerate(eta_ratios):
            r = {"step": t, "optimizer": i, "spec": "", "label": ""}
            if t < T:
                r.update(loss=1.0, effective_lr=0.05 * float(ratio[t]))
            if t == T:
                r.update(train_loss=0.5, val_loss=0.6, val_acc=0.9)
            r["diverged"] = False
            out.append(r)
    return out


def test_networks_table_and_caption():
    from vradam.app.networks import GATE_COLUMNS, results_caption, summary_rows
    from vradam.studies.networks import get_task
    from vradam.studies.training import TrainConfig

    config = TrainConfig(optimizers=("adam:lr=0.05", "vradam:lr=0.05"), steps=20,
                         sharpness_every=0)  # fmt: skip
    ones = np.ones(20)
    dip = np.r_[np.full(10, 1 / 11), np.ones(10)]
    result = dict(config=config, seeds=[0, 1], done=True,
                  runs=[_records([ones, ones]), _records([ones, dip])])  # fmt: skip
    adam, vr = summary_rows(result)
    assert {adam[k] for k in GATE_COLUMNS} == {"—"}
    assert vr["gate"] == "behaved as AdamW at α₀ in 1 of 2 seeds, gated in 1"
    half = (1 + 1 / 11) / 2  # the dip run's minimum is 1/11, its median half-way
    assert vr["η/α₀ min · median · final"] == f"{half:.3g} · {(1 + half) / 2:.3g} · 1"
    assert vr["clip active"] == "25 % of steps" and vr["η ≥ 0.99·α₀"] == "75 % of steps"
    task = get_task(config.task)
    assert "behaved as AdamW at α₀" in results_caption(task, config)
    plain = TrainConfig(optimizers=("adam:lr=0.05",), steps=20, sharpness_every=0)
    assert "behaved as" not in results_caption(task, plain)


@pytest.mark.slow  # 6 s: a tiny study in SQLite
def test_tuning_table_flags_a_winner_that_never_gates(tmp_path):
    from vradam.studies import tuning as T

    config = T.TuneConfig(task="moons", optimizers=("adamw", "vradam"), trials=1, seeds=2,
                          steps=5)  # fmt: skip
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    adamw, vradam = T.tune(config, url)
    assert adamw.gates == () and vradam.gate_source == "seeds" and len(vradam.gates) == 2
    studies = T.open_studies(config, url)
    runs = studies["vradam"].user_attrs["evaluation"]["runs"]
    assert [len(r) for r in runs] == [4, 4]  # [seed, value, reason, gate]
    assert [GateActivity.from_dict(r[3]).as_dict() for r in runs] == list(vradam.gates)
    best = T.best_trial(studies["vradam"].get_trials(), 1)
    assert best.user_attrs["gate"]["kind"] in ("never", "clipped", "gated")
    assert "gate" not in T.best_trial(studies["adamw"].get_trials(), 1).user_attrs
    trials = {r["optimizer"]: r for r in T.trial_rows(studies)}
    assert trials["adamw"]["gate"] == "" and trials["vradam"]["gate"] == best.user_attrs["gate"][
        "verdict"]  # fmt: skip
    rows = T.table_rows([adamw, vradam])
    assert rows[0]["gate"] == "—" and rows[1]["gate"].lstrip("⚠ ")
    # A study stored before gates were recorded ([seed, value, reason]) still opens; its
    # table falls back to the best trial's own run.
    stored = studies["vradam"].user_attrs["evaluation"]
    studies["vradam"].set_user_attr("evaluation", dict(stored, runs=[r[:3] for r in runs]))
    assert T.evaluation(studies["vradam"], config) == dict(zip(vradam.seeds, vradam.values))
    assert T.evaluation_gates(studies["vradam"], config) == {}
    (old,) = T.results_table(replace(config, optimizers=("vradam",)), studies)
    assert old.values == vradam.values and old.gate_source == "best trial"
    assert "(in the best trial; no seed run yet)" in T.gate_text(old)[1]
    # The flag: a winner that behaved as AdamW at α₀ on every seed.
    never = gate_activity(np.full(5, 0.01), 0.01, 10.0).as_dict()
    clipped = gate_activity(np.full(5, 0.01 / 11), 0.01, 10.0).as_dict()
    dip = gate_activity(np.r_[0.005, np.full(4, 0.01)], 0.01, 10.0).as_dict()
    flagged = replace(vradam, gates=(never, never), gate_source="seeds")
    mixed = replace(vradam, gates=(never, dip), gate_source="seeds")
    both = replace(vradam, gates=(never, clipped), gate_source="seeds")
    assert flagged.never_gates and both.never_gates and not mixed.never_gates
    cells = T.table_rows([adamw, flagged, mixed])
    assert cells[1]["gate"] == T.GATE_FLAG + "behaved as AdamW at α₀ in 2 of 2 seeds"
    assert cells[1]["gate: η/α₀ min · median · final; clipped · ≥ 0.99"] == "1 · 1 · 1; 0 % · 100 %"
    assert not cells[2]["gate"].startswith(T.GATE_FLAG)
    assert set(T.table_rows([adamw])[0]) == set(rows[0]) - {
        "gate", "gate: η/α₀ min · median · final; clipped · ≥ 0.99"}  # fmt: skip
    import csv
    import io

    table = list(csv.DictReader(io.StringIO(T.results_csv([adamw, flagged], {}))))
    assert table[0]["gate_verdict"] == "" and table[1]["gate_never"] == "True"
    assert float(table[1]["ungated_fraction"]) == 1
    data = json.loads(T.results_json({}, [adamw, flagged], []))
    assert data["results"][1]["gates"][0]["kind"] == "never" and data["results"][0]["gates"] == []
