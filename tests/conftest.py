"""Shared fixtures: a live Streamlit server and a headless Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("VRADAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# ------------------------------------------------------------------ slow tests
# `make test-fast` runs `pytest -m "not slow"`; `make test` (CI) runs everything.
# Slow: every browser or distributed test (marked here), and each test that carries
# `@pytest.mark.slow` itself (or `pytestmark`, or `pytest.param(..., marks=...)` for some of
# its parameters): measured over ~1.5 s (setup + call + teardown, `pytest --durations=0` on
# 2 CPU cores), its seconds in a comment beside the mark.


def slow_params(values, slow) -> list:
    """``values`` for ``pytest.mark.parametrize``, those in ``slow`` marked slow. A value in
    ``slow`` that is not among ``values`` is an error: a renamed one must not turn fast."""
    values = list(values)
    missing = set(slow) - set(values)
    assert not missing, f"marked slow but not a parameter: {sorted(missing)}"
    return [pytest.param(v, marks=pytest.mark.slow) if v in slow else v for v in values]


def is_slow(item: pytest.Item) -> bool:
    """Browser and distributed tests are slow whether or not they say so."""
    return bool(item.get_closest_marker("browser") or item.get_closest_marker("distributed"))


# `make test` runs on two pytest-xdist workers, one file per worker at a time
# (--dist loadfile), handing out files in collection order: the longest files go first so
# that no long file starts last and runs alone at the end. Seconds per file on 2 cores.
FILE_SECONDS = {
    "test_walk.py": 240,
    "test_class_session.py": 300,
    "test_browser.py": 150,
    "test_tuning.py": 120,
    "test_training.py": 110,
    "test_playground_browser.py": 90,
    "test_app.py": 80,
    "test_paper_tasks.py": 70,
    "test_inputs.py": 60,
    "test_benchmarks.py": 60,
    "test_cli.py": 50,
}


def pytest_collection_modifyitems(config, items):
    slow = pytest.mark.slow
    for item in items:
        if is_slow(item):
            item.add_marker(slow)
    # Stable: tests keep their order within a file.
    items.sort(key=lambda item: -FILE_SECONDS.get(Path(item.nodeid.partition("::")[0]).name, 0))


def _require_browser() -> bool:
    return os.environ.get("VRADAM_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def chromium_path():
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path is None:
        message = (
            "Chromium not found at /usr/bin/chromium: install it with "
            "`apt-get update && apt-get install -y chromium` (the browser tests never download one)"
        )
        if _require_browser():
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_path: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` on a free port (not waiting for it): (process, URL)."""
    port = _free_port()
    log = open(log_path, "w")  # noqa: SIM115 - the process holds it; closed with it
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
            "--server.headless", "true", "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )  # fmt: skip
    log.close()
    return proc, f"http://127.0.0.1:{port}"


def wait_for_server(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    """Wait until the server answers its health check (RuntimeError if it exits first;
    no time limit: a loaded machine may take long to import the stack)."""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"Streamlit did not start; see {log_path}")
        time.sleep(0.3)


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate the server, and kill it if it has not stopped after 10 s: a slow stop (a
    loaded machine) is not a failure. Every test that starts a server stops it here."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_env(tmp: Path) -> dict:
    """A test server's environment: its Tuning page stores studies under ``tmp``."""
    return {"VRADAM_STORAGE": f"sqlite:///{tmp / 'studies.db'}"}


@pytest.fixture
def without_optuna(monkeypatch):
    """A Python whose import system finds no Optuna (the ``tune`` extra not installed)."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "optuna" else real(name, *a))  # fmt: skip


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Serve app.py on a free port; yield its base URL."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # One server per pytest-xdist worker (gw0, gw1, ...), each with its own log.
    log_path = ARTIFACTS / f"streamlit-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    proc, url = start_server(log_path, server_env(tmp_path_factory.mktemp("studies")))
    wait_for_server(proc, url, log_path)
    yield url
    stop_server(proc)


# How long a browser test waits for the page (every Playwright wait and action that does
# not name a longer time) before it fails. Playwright's own default, 30 s, is what a rerun of
# a page can take at load 10-20 on 2 cores; a wait that runs out here means the page never
# got there (Playwright's TimeoutError says what it waited for).
BROWSER_TIMEOUT_MS = 180_000


class PatientBrowser:
    """The session's Playwright Browser, whose contexts and pages wait BROWSER_TIMEOUT_MS."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)  # navigation included
        return context

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(BROWSER_TIMEOUT_MS)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _require_browser():
            pytest.fail("playwright is not installed: run `make test` (it installs .[dev])")
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield PatientBrowser(b)
        b.close()


def wait_for_app(page, timeout_ms: int = BROWSER_TIMEOUT_MS) -> None:
    """Wait until the script has finished running and the page is idle."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning';
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)  # let the last deltas paint


# The charts' boxes and Plotly layouts, compared with the previous look (kept on window).
JS_CHARTS_AT_REST = """() => {
  const now = JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'), (p) => {
    const r = p.getBoundingClientRect();
    const l = p._fullLayout || {};
    return [r.x, r.y, r.width, r.height, l.width, l.height];
  }));
  const same = window.__vradamCharts === now;
  window.__vradamCharts = now;
  return same;
}"""


def wait_for_charts_at_rest(page) -> None:
    """Wait until the charts' sizes and positions agree in two looks 300 ms apart: Plotly
    lays a chart out again after its container's width changes, later on a loaded machine."""
    page.wait_for_function(JS_CHARTS_AT_REST, polling=300)
