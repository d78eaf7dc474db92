"""Load check: 16 concurrent browser sessions against one Streamlit server.

    python benchmarks/load_check.py [--sessions 16] [--rounds 3]

Starts the app on a free port (as `make run` serves it: no file watcher), opens N contexts
of one headless Chromium at the same time, each on its own setup (``/?seed=i``: nothing is
shared through the cache), and in each session

* waits for the first chart (time to first chart: from opening the address to the race
  drawn and the script idle);
* moves the "steps" slider ``rounds`` times (arrow key, +10 steps: a new run and a new
  figure each time) and waits for the chart that shows it (time per slider change);
* picks a scenario (cached for everyone after the first session that picks it).

Reports page errors, console errors and Streamlit exceptions (target: 0), the medians and
maxima, the bytes the websocket delivered per slider change, the server's CPU time per
rerun (from /proc, all sessions together) and the load average before and after. Not part
of `make test`: it measures, it does not assert timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vradam.app.scenarios import SCENARIOS  # noqa: E402

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]  # fmt: skip
IDLE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)
CHART_STEPS = (
    "(n) => { const p = document.querySelector('.js-plotly-plot');"
    " const s = p && p._fullLayout && p._fullLayout.sliders;"
    " return !!(s && s[0].steps.length && s[0].steps[s[0].steps.length - 1].label === String(n)); }"
)
TIMEOUT_MS = 300_000
STEP = 10  # the steps slider's step


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phase(phases: asyncio.Barrier, report: dict) -> None:
    """Wait for every session; the first released notes the server's CPU time."""
    if await phases.wait() == 0:
        report["marks"].append(cpu_seconds(report["pid"]))


async def session(browser, url, index, rounds, report, phases):
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    received = [0]  # bytes the server sent this session (websocket frames)

    def on_socket(ws):
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_socket)
    page.on("pageerror", lambda exc: report["errors"].append(f"session {index}: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and report["errors"].append(
        f"session {index}: console: {msg.text[:120]}"))  # fmt: skip
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/?seed={index + 1}", timeout=TIMEOUT_MS)
        await page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT_MS)
        await page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
        await page.wait_for_function(CHART_STEPS, arg=500, timeout=TIMEOUT_MS)
        report["first_chart"].append(time.perf_counter() - start)
        report["reruns"] += 1
        await _phase(phases, report)  # every session has its chart: the changes start together
        slider = page.locator('.st-key-pg_steps input[type="range"]')
        for r in range(rounds):
            steps = 500 + STEP * (r + 1)
            # the sidebar draws widgets below the fold lazily: bring the slider into view
            await page.locator(".st-key-pg_steps").scroll_into_view_if_needed()
            start, before = time.perf_counter(), received[0]
            await slider.focus()
            await page.keyboard.press("ArrowRight")
            await page.wait_for_function(CHART_STEPS, arg=steps, timeout=TIMEOUT_MS)
            await page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
            report["changes"].append(time.perf_counter() - start)
            report["change_bytes"].append(received[0] - before)
            report["reruns"] += 1
        await _phase(phases, report)  # every session has made its changes
        titles = [s.title for s in SCENARIOS.values()]
        title = titles[index % len(titles)]
        start = time.perf_counter()
        pill = page.locator('[data-testid="stButtonGroup"]').get_by_text(title, exact=True)
        await pill.click(timeout=TIMEOUT_MS)
        await page.wait_for_timeout(200)
        await page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
        report["scenarios"].append(time.perf_counter() - start)
        report["reruns"] += 1
    except PlaywrightTimeout as exc:
        report["errors"].append(f"session {index}: no response within 5 min ({exc.message[:80]})")
        phases.abort()
    except asyncio.BrokenBarrierError:
        pass  # another session failed: its error is in the report
    if await page.locator('[data-testid="stException"]').count():
        report["errors"].append(f"session {index}: a Streamlit exception")
    await context.close()


async def main_async(sessions: int, rounds: int, chromium: str) -> dict:
    from playwright.async_api import async_playwright

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                await asyncio.sleep(0.3)
        report: dict = {"errors": [], "first_chart": [], "changes": [], "scenarios": [],
                        "change_bytes": [], "marks": [], "reruns": 0,
                        "load_before": os.getloadavg()}  # fmt: skip
        cpu0, wall0 = cpu_seconds(server.pid), time.perf_counter()
        report["pid"] = server.pid
        phases = asyncio.Barrier(sessions)  # all first charts, then all slider changes
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
            await asyncio.gather(*(session(browser, url, i, rounds, report, phases)
                                   for i in range(sessions)))  # fmt: skip
            await browser.close()
        report["server_cpu"] = cpu_seconds(server.pid) - cpu0
        report["wall"] = time.perf_counter() - wall0
        report["load_after"] = os.getloadavg()
        return report
    finally:
        server.terminate()
        server.wait(timeout=10)


def _stats(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="slider changes per session")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(
            f"Chromium not found at {args.chromium}: apt-get install -y chromium", file=sys.stderr
        )
        return 2
    report = asyncio.run(main_async(args.sessions, args.rounds, args.chromium))
    load = " / ".join(f"{a:.1f}" for a in report["load_before"])
    after = " / ".join(f"{a:.1f}" for a in report["load_after"])
    print(
        f"{args.sessions} concurrent sessions, {args.rounds} slider changes and a scenario each, "
        f"on {os.cpu_count()} CPUs (load average 1/5/15 min before: {load}; after: {after})"
    )
    print(f"  errors: {len(report['errors'])}")
    print(f"  time to first chart:  {_stats(report['first_chart'])}")
    print(f"  time per slider change: {_stats(report['changes'])}")
    print(f"  scenario click:         {_stats(report['scenarios'])}")
    if report["change_bytes"]:
        sizes = report["change_bytes"]
        print(
            f"  bytes received per slider change (websocket): median "
            f"{statistics.median(sizes) / 1e3:.0f} kB, max {max(sizes) / 1e3:.0f} kB"
        )
    reruns = max(report["reruns"], 1)
    print(
        f"  server CPU: {report['server_cpu']:.1f} s over {report['wall']:.0f} s for "
        f"{report['reruns']} reruns = {report['server_cpu'] / reruns:.3f} s per rerun, "
        "first visits (a cold server: imports, first runs) included"
    )
    print(
        f"  the server process was busy {100 * report['server_cpu'] / report['wall']:.0f}% of "
        "one core on average; the browsers run on the same machine here, unlike in a class"
    )
    if len(report["marks"]) == 2 and report["changes"]:
        per_change = (report["marks"][1] - report["marks"][0]) / len(report["changes"])
        print(f"  server CPU per slider change (the changes' phase alone): {per_change:.3f} s")
    for e in report["errors"]:
        print("   ", e)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
