"""The evidence set: the one command (resumable, several processes sharing its runs), the
shipped measurements, and every sentence the Evidence page, About and the README generate
from them, recomputed here from the raw CSV rows."""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from vradam.app import evidence as ae
from vradam.studies import evidence as ev
from vradam.studies import robustness as rb

ROOT = Path(__file__).resolve().parents[1]
SMALL_UNITS = [ev.Unit("robustness", ev.LANDSCAPES, small=True),
               ev.Unit("frontier", "quadratic", small=True)]  # fmt: skip


def _quiet(_text: str) -> None:
    pass


# ----------------------------------------------------------------------------- the command


@pytest.mark.slow  # 42 small runs, one resumed: 6 s at load 18
def test_small_run_computes_every_run_then_resumes_without_rerunning(tmp_path):
    spent = ev.run_evidence(tmp_path, SMALL_UNITS, _quiet)
    assert set(spent) == {u.file for u in SMALL_UNITS}
    for unit in SMALL_UNITS:
        assert ev.missing(tmp_path, unit) == 0
        rows = ev.read_rows(tmp_path / unit.file, unit)
        assert len(rows) == unit.total_runs() > 0
    before = {u.file: (tmp_path / u.file).read_text() for u in SMALL_UNITS}
    assert ev.run_evidence(tmp_path, SMALL_UNITS, _quiet) == {}  # nothing left to run
    assert {u.file: (tmp_path / u.file).read_text() for u in SMALL_UNITS} == before
    # a killed process: its last line cut short, and one run lost; the rerun takes it back
    # from the run's claim in the storage (tuning.db in the folder), trains nothing
    unit = SMALL_UNITS[0]
    path = tmp_path / unit.file
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:25])
    assert ev.missing(tmp_path, unit) == 1
    assert set(ev.run_evidence(tmp_path, [unit], _quiet)) == {unit.file}
    assert ev.missing(tmp_path, unit) == 0
    assert len(ev.read_rows(path, unit)) == unit.total_runs()


def test_choose_units_and_bad_names():
    assert [u.file for u in ev.choose_units(small=True)] == [
        "robustness-moons.csv", "robustness-landscapes.csv", "frontier-quadratic.csv",
        "tuning-moons-full.json"]  # fmt: skip
    both = ev.choose_units(["digits"])  # a task name: not its tuning (that is "tuning")
    assert [u.file for u in both] == ["robustness-digits.csv", "frontier-digits.csv"]
    assert len(ev.choose_units()) == len(ev.NETWORK_TASKS) + 1 + 4 + 2
    assert [u.file for u in ev.choose_units(["tuning"])] == [
        "tuning-digits-full.json", "tuning-digits-lr.json"]  # fmt: skip
    assert [u.file for u in ev.choose_units(["digits-lr"])] == ["tuning-digits-lr.json"]
    assert [u.file for u in ev.choose_units(["tuning"], small=True)] == [
        "tuning-moons-full.json", "tuning-moons-lr.json"]  # fmt: skip
    with pytest.raises(ValueError, match=r"unknown evidence task.*valid: .*tuning"):
        ev.choose_units(["nope"])


@pytest.mark.slow  # two processes, a torch import each: 10-30 s
def test_cli_small_with_two_jobs_writes_the_set_and_its_json(tmp_path):
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "vradam", "evidence", "--out", str(out), "--small",
           "--tasks", "landscapes", "quadratic", "--jobs", "2", "--set", "ci"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "## robustness-landscapes.csv" in done.stdout and "Rosenbrock" in done.stdout
    summary = json.loads((out / "evidence.json").read_text())
    assert {u["file"] for u in summary["units"]} == {u.file for u in SMALL_UNITS}
    assert all(u["runs"] == u["expected"] for u in summary["units"])
    # the claims, in the folder's default storage under the set's name: each batch once
    from vradam.studies import evidence_claims as ec
    from vradam.studies.tuning import open_storage

    store = open_storage(f"sqlite:///{out / 'tuning.db'}")
    for unit in SMALL_UNITS:
        claims = ec.claims_study(store, unit, "ci").get_trials()
        finished = [t.user_attrs["batch"] for t in claims if "rows" in t.user_attrs]
        assert sorted(finished) == sorted(b.id for b in ec.batches(unit))
        assert ec.trained(store, unit, "ci") == unit.total_runs()
    bad = subprocess.run([*cmd[:4], "--out", str(out), "--tasks", "nope"], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "unknown evidence task" in bad.stderr


# ----------------------------------------------------------------------------- shipped data


def test_shipped_evidence_is_complete_and_small():
    files = list(ev.SHIPPED.iterdir())
    assert sum(f.stat().st_size for f in files) < 1_000_000
    for unit in ev.all_units():
        if unit.study in ("robustness", ev.TUNING):  # a tuning JSON of the unit's settings
            assert ev.missing(ev.SHIPPED, unit) == 0, unit.file


def _raw(task: str) -> dict[tuple[str, float], dict[int, float]]:
    """(optimizer, α0) → seed → value (+∞ diverged), read with the csv module alone."""
    path = ev.SHIPPED / f"robustness-{task}.csv"
    text = path.read_text() if path.exists() else gzip.decompress(
        (ev.SHIPPED / "robustness-landscapes.csv.gz").read_bytes()).decode()  # fmt: skip
    config = ev.robustness_config(task)
    grid = {float(f"{x:.6g}") for x in config.lrs()}
    out: dict = {}
    for r in csv.DictReader(text.splitlines()):
        lr = float(r["lr"])
        if r["task"] != task or lr not in grid or int(r["steps"]) != config.n_steps:
            continue
        value = math.inf if r["diverged"] == "True" else float(r["value"])
        out.setdefault((r["optimizer"], lr), {})[int(r["seed"])] = value
    return out


def _paired(raw, task: str, lr: float) -> tuple[float, float, int, int]:
    names = sorted({k[0] for k in raw})
    adamw = next(n for n in names if n.startswith("adamw"))
    vr = next(n for n in names if n != adamw)
    a, v = raw[adamw, lr], raw[vr, lr]
    diffs = [v[s] - a[s] for s in a if math.isfinite(a[s]) and math.isfinite(v[s])]
    lower = sum(v[s] < a[s] for s in a)
    mean = float(np.mean(diffs))
    half = float(stats.t.ppf(0.975, len(diffs) - 1) * np.std(diffs, ddof=1) / math.sqrt(len(diffs)))
    return mean, half, lower, len(a)


@pytest.mark.parametrize("task", ae.TASK_ORDER)
def test_each_task_sentence_is_recomputed_from_the_raw_rows(task):
    t = ae.task_robustness(task)
    assert t is not None and t.complete and t.seeds >= 5
    raw = _raw(task)
    mean, half, _, _ = _paired(raw, task, t.anchor)
    sentences = ae.task_sentences(t)
    text = " ".join(sentences)
    (at_anchor,) = [s for s in sentences if s.startswith(f"At the task's α₀ = {t.anchor:.3g}:")]
    assert f"{mean:+.3g} ± {half:.2g}" in at_anchor
    verdict = "worse" if mean - half > 0 else "better" if mean + half < 0 else "a tie"
    assert verdict in at_anchor
    names = sorted({k[0] for k in raw})
    for k, name in enumerate(sorted(names, key=lambda n: not n.startswith("adamw"))):
        lrs = sorted({lr for (n, lr) in raw if n == name})
        values = np.array([[raw[name, lr][s] for s in sorted(raw[name, lr])] for lr in lrs])
        width = rb.robust_width(lrs, values)
        assert math.isclose(width.decades, t.width[k], rel_tol=1e-9, abs_tol=1e-12) or (
            math.isnan(width.decades) and math.isnan(t.width[k]))  # fmt: skip
        if math.isfinite(width.decades):
            assert f"{width.decades:.2f} decades" in text
    # every α0 the sentence calls a VRAdam win or loss has its interval there
    for lr in t.lower_at:
        m, h, _, _ = _paired(raw, task, lr)
        assert m + h < 0
    for lr in t.higher_at:
        m, h, _, _ = _paired(raw, task, lr)
        assert m - h > 0


def test_headlines_rest_on_the_shipped_numbers():
    ts = ae.tasks()
    claims = {c.key: c for c in ae.headlines()}
    assert set(claims) >= {"robustness", "defaults", "frontier"}
    robust = claims["robustness"].text
    wider = [t.task for t in ts if t.width[1] > t.width[0] + 0.005]
    assert f"wider than AdamW's on {len(wider)} of {len(ts)} small tasks" in robust
    for t in ts:
        if math.isfinite(t.gain_lr):
            raw = _raw(t.task)
            _, _, lower, seeds = _paired(raw, t.task, t.gain_lr)
            assert f"{t.task} at α₀ = {t.gain_lr:.3g}" in robust
            assert f"lower in {lower} of {seeds} seeds" in robust
    groups: dict[str, list[str]] = {"worse": [], "tie": [], "better": []}
    for t in ts:  # the verdict at each task's own α0, from the raw rows
        mean, half, _, _ = _paired(_raw(t.task), t.task, t.anchor)
        groups["worse" if mean - half > 0 else "better" if mean + half < 0 else "tie"].append(
            t.task)  # fmt: skip

    def names(key: str) -> str:
        return ", ".join(groups[key]) or "none"

    assert (f"worse than AdamW's on {names('worse')}, tied on {names('tie')} and better on "
            f"{names('better')};") in claims["defaults"].text  # fmt: skip
    from vradam.studies import frontier as fr

    verdict = fr.frontier_verdict(ev.frontier_rows("eos"))
    assert f"{verdict.below} of {verdict.vradam_cells} VRAdam settings" in claims["frontier"].text
    assert ("not more than a smaller step" in claims["frontier"].text) == (verdict.below == 0)
    for key in ("quadratic", "moons", "digits"):  # the other problems, where VRAdam may win
        v = fr.frontier_verdict(ev.frontier_rows(key))
        assert (
            f"{fr.PROBLEMS[key].name}, {v.seeds} seeds: {v.below} of {v.vradam_cells} "
            f"({v.clearly_below} with the interval below 0)"
        ) in claims["frontier"].text


def _t95(diffs: list[float]) -> tuple[float, float]:
    n = len(diffs)
    half = stats.t.ppf(0.975, n - 1) * np.std(diffs, ddof=1) / math.sqrt(n)
    return float(np.mean(diffs)), float(half)


def test_frontier_damping_by_beta3_is_recomputed_from_the_raw_rows():
    """The frontier claim's second part: each β3's oscillation and final loss against
    Adam's at the same constant α0, paired by seed, from frontier-eos.csv via csv alone."""
    rows = list(csv.DictReader((ev.SHIPPED / "frontier-eos.csv").read_text().splitlines()))
    rows = [r for r in rows if r["schedule"] == "constant"]

    def osc(r: dict) -> float:
        o = float(r["oscillation"])
        return 0.0 if o < 1e-3 else o  # the verdict's OSCILLATION_FLOOR

    adam = {(float(r["lr"]), int(r["seed"])): r for r in rows if r["role"] == "baseline"}
    vr = [r for r in rows if r["role"] != "baseline"]
    shared = sorted({float(r["lr"]) for r in vr} & {lr for lr, _ in adam})
    lr = shared[len(shared) // 2]
    text = next(c.text for c in ae.headlines() if c.key == "frontier")
    assert f"At α₀ = {lr:.3g} (constant, 5 seeds paired)" in text
    base = [adam[k] for k in sorted(adam) if k[0] == lr]
    assert f"second half is {np.mean([osc(r) for r in base]):.3g}" in text
    for beta3 in sorted({float(r["beta3"]) for r in vr}):
        mine = {int(r["seed"]): r for r in vr if float(r["lr"]) == lr
                and float(r["beta3"]) == beta3}  # fmt: skip
        d_osc = [osc(mine[s]) - osc(adam[lr, s]) for s in sorted(mine)]
        d_log = [math.log10(float(mine[s]["final_loss"]) / float(adam[lr, s]["final_loss"]))
                 for s in sorted(mine)]  # fmt: skip
        m, h = _t95(d_osc)
        lm, lh = _t95(d_log)
        mean_osc = np.mean([osc(r) for r in mine.values()])
        assert (f"β₃ = {beta3:.3g}: {mean_osc:.3g} ({m:+.3g} ± {h:.2g}), final loss "
                f"×{10**lm:.2g} Adam's (log10 {lm:+.3g} ± {lh:.2g})") in text  # fmt: skip


def test_edge_claim_counts_come_from_the_stored_seeds():
    """At the page's β3 and at beta3="auto": the counts the edge claim quotes, from
    eos-findings.csv read with the csv module."""
    rows = list(csv.DictReader((ev.SHIPPED / "eos-findings.csv").read_text().splitlines()))
    text = next(c.text for c in ae.headlines() if c.key == "edge")

    def count(setting: str, start: str) -> str:
        out = []
        for dtype in ("float32", "float64"):
            mine = [r for r in rows if r["setting"] == setting and r["dtype"] == dtype
                    and r["statement"].startswith(start)]  # fmt: skip
            out.append(f"{sum(r['holds'] == 'True' for r in mine)} of {len(mine)} ({dtype})")
        return " and ".join(out)

    auto = [r for r in rows if r["setting"] == "auto" and "released" in r["statement"]]
    q = [float(r["window_eta_ratio"]) for r in auto]
    assert len(auto) >= 10 and f"is {min(q):.4g}–{max(q):.4g}: the gate has released" in text
    released = count("auto", "VRAdam's gate has released")
    climbs = count("page", "VRAdam's loss climbs less")
    lower = count("page", "VRAdam ends lower than Adam")
    assert f"released by the edge in {released}" in text
    assert f"climbs less than the control's (Adam at VRAdam's window-mean η) in {climbs}" in text
    assert f"lower than Adam at the same α₀ in {lower}" in text
    beta3 = {float(r["beta3"]) for r in rows if r["setting"] == "page"}
    assert f"at β₃ = {beta3.pop():g}" in text


def test_readme_states_the_generated_claims():
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(ae.README_START), readme.index(ae.README_END)
    assert readme[start : end + len(ae.README_END)] == ae.readme_block(), (
        "README's measured claims drifted from the shipped data; paste this block:\n"
        + ae.readme_block())  # fmt: skip
    assert "suppresses the oscillations" not in readme
    about = (ROOT / "app_pages" / "about.py").read_text()
    assert "suppresses the oscillations" not in about and "measured_section()" in about


def test_gate_counts_match_the_rows():
    counts = ae.gate_counts()
    for task in ae.TASK_ORDER:
        grid = {float(f"{x:.6g}") for x in ev.robustness_config(task).lrs()}
        rows = csv.DictReader((ev.SHIPPED / f"robustness-{task}.csv").read_text().splitlines())
        labels = [r["gate_label"] for r in rows if r["gate_label"] and float(r["lr"]) in grid]
        assert sum(counts[task].values()) == len(labels) > 0
    text = " ".join(ae.gate_sentences(counts))
    anchor = counts["anchor"]
    assert f"gated in {anchor[ae.GATED]} of {sum(anchor.values())}" in text


def test_open_items_say_the_tuned_comparison_is_missing(tmp_path):
    items = ae.open_items(tmp_path)
    assert any("tuned comparison" in s and "not in the stored evidence" in s
               and "python -m vradam evidence --out DIR --tasks tuning" in s
               for s in items)  # fmt: skip
    assert sum("runs not stored" in s for s in items) == len(ev.all_units())
    assert (
        "tuning-digits-lr.json: 58 of 58 runs not stored (python -m vradam evidence --out "
        "DIR --tasks digits-lr computes them)." in items
    )
    (tmp_path / "tuning-digits.json").write_text("{}")
    assert not any("tuned comparison" in s for s in ae.open_items(tmp_path))


# ----------------------------------------------------------------------------- the page


@pytest.mark.slow  # page runs: 3-10 s
def test_evidence_page_renders_and_survives_garbage_urls():
    from streamlit.testing.v1 import AppTest
    from test_inputs import _check, _garbage_queries

    def run(query: dict) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app_pages" / "evidence.py"), default_timeout=300)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    at = run({"ev_task": "lm"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="ev_task").value == "lm"
    shown = " ".join(m.value for m in at.markdown)
    t = ae.task_robustness("lm")
    assert all(re.escape(s[:40]) and s[:40] in shown.replace("\\", "") for s in
               ae.task_sentences(t))  # fmt: skip
    for what, query in _garbage_queries(["ev_task"]):
        at = _check(run(query), ("evidence", what))


def test_the_shipped_tuned_comparisons_are_recomputed_from_their_seed_values():
    """Each shipped tuning run's sentence: VRAdam − AdamW recomputed from the per-seed
    metrics (scipy's t quantile), the seed count it was lower on, and the verdict."""
    paths = sorted(ev.SHIPPED.glob(ae.TUNING_GLOB))
    assert paths, "no tuning run shipped"
    findings = ae.tuned_findings()
    assert len(findings) == len(paths)
    for path, (_title, sentence, command) in zip(paths, findings):
        result = json.loads(path.read_text())
        meta = result["meta"]
        assert len(meta["seeds"]) >= 5  # the evidence command reproduces each
        assert command == f"python -m vradam evidence --out DIR --tasks {path.stem[7:]}"
        by = {r["optimizer"]: r for r in result["results"]}
        base = by[meta["baseline"]]
        for key, row in by.items():
            if key == meta["baseline"]:
                continue
            mine = dict(zip(row["seeds"], row["values"]))
            theirs = dict(zip(base["seeds"], base["values"]))
            shared = [s for s in mine if s in theirs]
            diffs = [mine[s] - theirs[s] for s in shared
                     if mine[s] is not None and theirs[s] is not None]  # fmt: skip
            mean = float(np.mean(diffs))
            half = (
                stats.t.ppf(0.975, len(diffs) - 1) * np.std(diffs, ddof=1) / math.sqrt(len(diffs))
            )
            text = f"{mean:+.3g} ± {half:.2g}".replace("-", "−", 1)
            assert f"= {text} (95 %, {len(diffs)} paired seeds)" in sentence, (text, sentence)
            lower = sum(mine[s] is not None and (theirs[s] is None or mine[s] < theirs[s])
                        for s in shared)  # fmt: skip
            assert f"lower on {lower} of {len(shared)} seeds" in sentence
            verdict = ("better" if mean + half < 0 else "worse" if mean - half > 0
                       else "a tie, the interval holds 0")  # fmt: skip
            assert verdict in sentence
        for curve in result["budget_curves"]:  # the search's spread over sampler seeds
            last = [c[-1] for c in curve["curves"] if c and math.isfinite(c[-1])]
            assert f"{curve['name']} {np.median(last):.4g} [{min(last):.4g} – " in sentence
    assert not any("tuned comparison" in line for line in ae.open_items())
