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

    python benchmarks/load_check.py --no-browser --sessions 30 [--replicas 2]

measures the server alone: each session is a browser-free client that speaks Streamlit's
websocket messages (benchmarks/_ws_client.py) and renders nothing, so the numbers are what
a class of phones costs the machine that serves them (browsers on the same 2 cores would
dominate). ``--replicas N`` starts N servers and pins session i to server i mod N, as a
proxy with sticky sessions would (see README, "Serving a class").
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
sys.path.insert(0, str(ROOT / "benchmarks"))

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

    (server,), (url,) = start_servers(1)
    try:
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
        stop_servers([server])


def start_servers(replicas: int) -> tuple[list[subprocess.Popen], list[str]]:
    """``replicas`` servers of the app as `make run` serves it, each on a free port."""
    servers, urls = [], []
    for _ in range(replicas):
        port = free_port()
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
             str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        urls.append(f"http://127.0.0.1:{port}")
    for server, url in zip(servers, urls):
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    stop_servers(servers)
                    raise SystemExit(f"the server for {url} exited before it answered") from None
                time.sleep(0.3)
    return servers, urls


def stop_servers(servers: list[subprocess.Popen]) -> None:
    """Terminate each server, and kill it if it has not stopped after 10 s (a loaded
    machine stops slowly; that is not an error)."""
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def ws_session(url: str, index: int, rounds: int, report: dict, phases) -> None:
    """One browser-free visitor: the Playground at its own seed, then ``rounds`` changes of
    the steps slider (a new run and a new figure each)."""
    from _ws_client import Session

    try:
        async with Session(url) as s:
            run = await s.open(f"seed={index}")
            report["first_chart"].append(run.seconds)
            report["errors"] += [f"session {index}: {e}" for e in run.exceptions]
            await phases.wait()
            steps = 500
            for _ in range(rounds):
                steps += STEP
                run = await s.set_slider("steps", steps)
                report["changes"].append(run.seconds)
                report["change_bytes"].append(run.received)
                report["errors"] += [f"session {index}: {e}" for e in run.exceptions]
                if f"steps={steps}" not in s.query:
                    report["errors"].append(f"session {index}: the change did not apply")
            report["reruns"] += 1 + rounds
    except Exception as exc:  # a dropped connection is an error of the run, not a crash
        report["errors"].append(f"session {index}: {type(exc).__name__}: {exc}")


async def main_ws_async(sessions: int, rounds: int, replicas: int) -> dict:
    servers, urls = start_servers(replicas)
    try:
        report: dict = {"errors": [], "first_chart": [], "changes": [], "change_bytes": [],
                        "reruns": 0, "load_before": os.getloadavg()}  # fmt: skip
        cpu0 = sum(cpu_seconds(p.pid) for p in servers)
        wall0 = time.perf_counter()
        phases = asyncio.Barrier(sessions)
        await asyncio.gather(*(ws_session(urls[i % replicas], i, rounds, report, phases)
                               for i in range(sessions)))  # fmt: skip
        report["server_cpu"] = sum(cpu_seconds(p.pid) for p in servers) - cpu0
        report["wall"] = time.perf_counter() - wall0
        report["load_after"] = os.getloadavg()
        return report
    finally:
        stop_servers(servers)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    q = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return (f"p50 {statistics.median(values):.2f} s, p95 {q[18]:.2f} s, max {max(values):.2f} s "
            f"(n={len(values)})")  # fmt: skip


def report_ws(args, report: dict) -> int:
    load = " / ".join(f"{a:.1f}" for a in report["load_before"])
    after = " / ".join(f"{a:.1f}" for a in report["load_after"])
    print(f"{args.sessions} browser-free sessions, {args.rounds} slider changes each, "
          f"{args.replicas} server process(es), {os.cpu_count()} CPUs (load average 1/5/15 "
          f"min before: {load}; after: {after})")  # fmt: skip
    print(f"  errors: {len(report['errors'])}")
    print(f"  first run:     {_percentiles(report['first_chart'])}")
    print(f"  slider change: {_percentiles(report['changes'])}")
    if report["change_bytes"]:
        sizes = report["change_bytes"]
        print(f"  bytes sent per change: median {statistics.median(sizes) / 1e3:.0f} kB")
    reruns = max(report["reruns"], 1)
    print(
        f"  server CPU: {report['server_cpu']:.1f} s over {report['wall']:.0f} s for "
        f"{report['reruns']} reruns = {report['server_cpu'] / reruns:.3f} s per rerun"
    )
    for e in report["errors"][:20]:
        print("   ", e)
    return 1 if report["errors"] else 0


def _stats(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="slider changes per session")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="browser-free clients (Streamlit's websocket messages)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="server processes (--no-browser only); session i uses i mod N",
    )
    args = parser.parse_args(argv)
    if args.no_browser:
        return report_ws(args, asyncio.run(main_ws_async(args.sessions, args.rounds,
                                                         args.replicas)))  # fmt: skip
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
