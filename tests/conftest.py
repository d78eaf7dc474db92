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
# Slow: every browser or distributed test, tests/test_app.py, and the tests below, each
# measured over ~1.5 s (setup + call + teardown, `pytest --durations=0` on 2 CPU cores).
# Per file: a test function (all its parameters), or "name[prefix" for some parameters.
SLOW_FILES = ("test_app.py", "test_compile.py")
SLOW = {
    "test_benchmarks.py": (
        "test_bench_engine_quick_run",  # 10 s
        "test_bench_eos_quick_run",  # 8-15 s: a cold process, then the old path's imports
        "test_bench_optim_quick_run",  # 6 s
        "test_bench_playground_quick_run",  # 4 s
        "test_bench_server_quick_run",  # 20 s: AppTest reruns of the Playground
        "test_bench_stability_quick_run",  # 13 s
        "test_bench_tasks_quick_run",  # 10-36 s: three tasks, each run four ways
        "test_bench_train_quick_run",  # 9 s
        "test_browser_free_load_check_quick_run",  # two servers, 10-20 s
        "test_bench_pages_quick_run",  # a server, 10-20 s
    ),
    "test_cli.py": (
        "test_module_entry_point_and_argparse_errors",  # 10 s
        "test_train_csv_and_progress",  # 9 s
        "test_train_csv_columns_for_every_task[digits-sharpness]",  # 2.5 s
        "test_train_csv_columns_for_every_task[modadd-sharpness]",  # 2.5 s
        "test_train_csv_columns_for_every_task[spirals-sharpness]",  # 1.5 s
        "test_train_csv_columns_for_every_task[lm-",  # 4 s, and 17 s with Lanczos (cold)
        "test_train_csv_columns_for_every_task[imagegen-sharpness]",  # 4 s
        "test_train_json_has_meta",  # 2.6 s
        "test_train_regression_with_default_optimizers",  # 2.9 s
        "test_train_without_the_extra_is_one_line_and_exit_2",  # 5 s, 2 cases
    ),
    "test_docs.py": ("test_readme_cli_example_runs",),  # 14 s
    "test_engine.py": (
        "test_batched_equals_separate_runs",  # 1.5 s
        "test_engine_equals_torch_optim[himmelblau-adam-",  # 1.9 s and 1.8 s (the first two)
    ),
    "test_eos.py": (
        # the page's default run (a shared fixture, 2-4 s): whichever test runs first pays it
        "test_default_mlp_window_matched_control",
        "test_default_gd_run_sits_at_the_edge_of_stability",
        "test_batched_lanczos_matches_the_exact_hessian",  # 4-10 s: two exact Hessians
        "test_lockstep_training_matches_torch_optim",  # 5-17 s: torch.optim, scipy imports
    ),
    "test_expression.py": ("test_arbitrary_unicode_never_crashes",),  # 3 s
    "test_layers.py": (
        "test_cli_simulate_runs_without_the_web_and_science_stacks",  # 4.5 s
        "test_core_sim_and_landscapes_import_without_the_web_and_science_stacks",  # 5 s
    ),
    "test_inputs.py": (
        "test_garbage_urls_never_crash_the_networks_page",  # 14 page runs, 8-17 s
        "test_networks_link_sets_the_page_and_the_page_writes_its_link",  # 3 AppTests, 3 s
        "test_garbage_urls_never_crash_a_page[stability",  # 14 page runs, 9 s
        "test_garbage_urls_never_crash_a_page[tuning",  # 14 page runs, 17 s under load
        "test_stability_settings_from_a_link_are_clamped_or_dropped",  # 3-15 s (cold maps)
    ),
    "test_lessons.py": (
        "test_lesson_claim_holds_on_its_preset[edge_of_stability]",  # 36 s
        "test_lesson_exercise_figure_and_result[edge_of_stability]",  # 21 s
        "test_lesson_exercise_figure_and_result[physics]",  # 1.8 s
        "test_lesson_preset_opens_its_page_without_errors[edge_of_stability]",  # 7 s
        "test_lesson_preset_opens_its_page_without_errors[physics]",  # 1.4 s
        "test_lessons_page_shows_one_lesson[physics]",  # 2.8 s
        "test_lesson_preset_function_picker_names_the_presets_kappa_and_theta",  # an AppTest
    ),
    "test_optim.py": (
        "test_import_without_web_stack",  # 4.8 s
        "test_beta3_auto_acts_early_and_releases_whatever_the_scale",  # 6 s, 4 cases
        "test_beta3_auto_values_follow_the_scale_and_survive_a_checkpoint",  # 2 s
    ),
    "test_records.py": (
        "test_toy_record_in_the_playground_picker",  # an AppTest, ~2 s
        "test_beta3_auto_from_the_cli_and_the_networks_page",  # an AppTest, ~5 s
    ),
    "test_stepthrough.py": ("test_step_through_in_the_playground",),  # an AppTest, ~1.5 s
    "test_paper_tasks.py": (
        "test_networks_page_trains_a_paper_task_and_shows_its_outputs",  # AppTests, 1-9 s
        "test_language_model_sharpness_uses_double_backward_through_attention",  # 10 s: Lanczos
        "test_data_and_runs_are_deterministic_from_a_seed[lm]",  # 3 s
        "test_adamw_lowers_the_validation_loss_and_the_metric_is_recorded[lm]",  # 3-7 s
    ),
    "test_physics.py": (
        "test_friction_dissipates_energy_at_the_rate_gamma_v_squared",  # 1.6 s
        "test_path_satisfies_newtons_law_for_the_quartic_momentum",  # 1.5 s
    ),
    "test_playground.py": (
        "test_largest_allowed_setup_payload",  # 6 s: 8 optimizers × 100 starts × 2000 steps
        "test_figures_use_title_objects",  # 12 s
        "test_apptest_scenario_shows_its_frequency_and_map",  # an AppTest, ~3 s
        "test_apptest_add_adam_at_vradams_rate",  # an AppTest, ~3 s
    ),
    "test_stability.py": (
        "test_below_line_example_opens_as_a_trace_and_in_the_playground",
        "test_page_settings_round_trip_through_the_url",  # two AppTests, 12 s
    ),
    "test_summaries.py": (
        "test_every_chart_has_a_summary[eos]",  # 4.9 s (in the make test-fast run)
        "test_training_and_sweep_summaries_match_the_records",  # 27 s
    ),
    "test_tuning.py": (
        "test_tune_is_reproducible_and_gives_every_optimizer_the_same_budget",  # 12 s
        "test_results_are_printed_beside_the_papers_table",  # 2 s (creates a storage)
        "test_cli_tune_writes_json_and_csv_with_versions",  # 1.5 s
        "test_two_workers_share_a_sqlite_study",  # processes, 68 s on a busy machine
        "test_a_helper_worker_only_adds_trials",  # a process, 22 s
        "test_a_killed_worker_loses_nothing_and_a_new_one_resumes",  # processes, 80 s
        "test_optuna_stays_out_of_import_vradam_and_its_absence_is_one_line",  # 12 s
        "test_two_workers_share_a_postgres_study",  # a PostgreSQL server and processes, 99 s
        "test_tuning_page_runs_a_study_and_opens_it_again",  # an AppTest, 15 s
    ),
    "test_training.py": (
        "test_digits_validation_accuracy_for_adam_and_vradam",  # 24 s
        "test_loss_falls_for_every_optimizer",  # 78 s, 7 tasks
        "test_network_figures_are_valid_plotly",  # 2.5 s
        "test_task_betas_make_the_gate_dip_then_release",  # 65 s, 3 tasks
    ),
}


def is_slow(item: pytest.Item) -> bool:
    """Browser, distributed, in a SLOW_FILES file, or listed in SLOW."""
    if item.get_closest_marker("browser") or item.get_closest_marker("distributed"):
        return True
    path, _, name = item.nodeid.partition("::")
    file = path.rpartition("/")[2]
    if file in SLOW_FILES:
        return True
    for entry in SLOW.get(file, ()):
        if name == entry or name.startswith(entry if "[" in entry else entry + "["):
            return True
    return False


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
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_env(tmp: Path) -> dict:
    """A test server's environment: its Tuning page stores studies under ``tmp``."""
    return {"VRADAM_STORAGE": f"sqlite:///{tmp / 'studies.db'}"}


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
        yield b
        b.close()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
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
