"""The benchmark scripts run (tiny sizes); their numbers live in BENCHMARKS.md, not here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vradam.app.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]


def _quick(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run benchmarks/<script> with ``args`` (e.g. --quick); fail if it exits non-zero."""
    argv = [sys.executable, str(ROOT / "benchmarks" / script), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True)


@pytest.mark.slow  # 6 s
def test_bench_optim_quick_run(tmp_path):
    out = tmp_path / "bench.json"
    result = _quick("bench_optim.py", "--quick", "--reps", "2", "--json", str(out))
    assert "VRAdam / AdamW" in result.stdout
    assert out.exists() and '"ratio_vradam_adamw"' in out.read_text()


@pytest.mark.slow  # 10 s
def test_bench_engine_quick_run():
    result = _quick("bench_engine.py", "--quick")
    assert "6 optimizers × 1 start × 500 steps" in result.stdout
    assert "basin map 30×30" in result.stdout


@pytest.mark.slow  # 4 s
def test_bench_playground_quick_run():
    result = _quick("bench_playground.py", "--quick")
    assert "The default race" in result.stdout and "MB" in result.stdout
    hood = SCENARIOS["rosenbrock"].hood  # a claim's cost: its first scenario's runs
    assert "neighbourhood" in result.stdout
    assert f"| {hood.grid**2 * len(hood.horizons)} |" in result.stdout


@pytest.mark.slow  # 20 s: AppTest reruns of the Playground
def test_bench_server_quick_run():
    result = _quick("bench_server.py", "--quick")
    out = result.stdout
    assert "| slider change: α₀ of Adam 0.3 → 0.2 | **" in out and "kB" in out
    assert "Server CPU per rerun" in out and "Capacity: one Streamlit process" in out
    assert "| The default race | **0." in out  # the chart's spec, in MB


@pytest.mark.slow  # 9 s
def test_bench_train_quick_run():
    result = _quick("bench_train.py", "--quick")
    assert "VRAdam / AdamW" in result.stdout and "transformer" in result.stdout


@pytest.mark.slow  # 10-36 s: three tasks, each run four ways
def test_bench_tasks_quick_run():
    result = _quick("bench_tasks.py", "--quick")
    assert "VRAdam / AdamW" in result.stdout and result.stdout.count("×** |") == 3
    assert "GFlowNet" in result.stdout and "Language model" in result.stdout


@pytest.mark.slow  # 13 s
def test_bench_stability_quick_run():
    result = _quick("bench_stability.py", "--quick")
    assert result.stdout.count("× |") >= 3 and "basin map, Himmelblau" in result.stdout


@pytest.mark.slow  # 8-15 s: a cold process, then the old path's imports
def test_bench_eos_quick_run():
    result = _quick("bench_eos.py", "--quick")
    assert "Machine:" in result.stdout and "load average" in result.stdout
    assert "slider change" in result.stdout and "old path (train_steps)" in result.stdout
    assert "× faster" in result.stdout


@pytest.mark.slow  # two servers, 10-20 s
def test_browser_free_load_check_quick_run():
    """Two browser-free sessions on two replicas: the websocket client still speaks
    Streamlit's protocol (a slider change applies, no error)."""
    result = _quick("load_check.py", "--no-browser", "--sessions", "2", "--rounds", "1",
                    "--replicas", "2")  # fmt: skip
    out = result.stdout
    assert "2 browser-free sessions, 1 slider changes each, 2 server process(es)" in out
    assert "  errors: 0" in out and "slider change: p50" in out and "(n=2)" in out


@pytest.mark.slow  # a server, 10-20 s
def test_bench_pages_quick_run():
    result = _quick("bench_pages.py", "--quick")
    assert "| playground | steps |" in result.stdout and "| physics | β₃ |" in result.stdout
    assert "error" not in result.stdout


@pytest.mark.slow  # a server and Chromium, 15-30 s
def test_bench_pages_browser_quick_run(chromium_path):
    """The browser page benchmark still finds the Playground's slider and sees the change
    redrawn (Chromium from the chromium_path fixture: skipped without it, as every
    browser test)."""
    result = _quick("bench_pages_browser.py", "--quick")
    assert "| playground | " in result.stdout and " MB | baseline |" in result.stdout
