"""Load check: 8 concurrent browser sessions against one Streamlit server.

    python benchmarks/load_check.py [--sessions 8] [--rounds 3]

Starts the app on a free port, opens N contexts of one headless Chromium, and in each
round every session picks a different scenario at the same time. Reports page errors
and Streamlit exceptions (target: 0) and the slowest rerun (click → script idle).
Not part of `make test`: it measures, it does not assert timing.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def session(browser, url, index, rounds, report):
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda exc: report["errors"].append(f"session {index}: {exc}"))
    await page.goto(url)
    await page.wait_for_function(IDLE, timeout=120_000)
    titles = [s.title for s in SCENARIOS.values()]
    for r in range(rounds):
        title = titles[(index + r) % len(titles)]
        start = time.perf_counter()
        pill = page.locator('[data-testid="stButtonGroup"]').get_by_text(title, exact=True)
        try:
            await pill.click(timeout=180_000)
            await page.wait_for_timeout(200)
            await page.wait_for_function(IDLE, timeout=180_000)
        except PlaywrightTimeout:
            report["errors"].append(f"session {index}: no response to {title!r} within 3 min")
        report["reruns"].append(time.perf_counter() - start)
        if await page.locator('[data-testid="stException"]').count():
            report["errors"].append(f"session {index}: Streamlit exception after {title!r}")
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
        report: dict = {"errors": [], "reruns": []}
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
            await asyncio.gather(*(session(browser, url, i, rounds, report)
                                   for i in range(sessions)))  # fmt: skip
            await browser.close()
        return report
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(
            f"Chromium not found at {args.chromium}: apt-get install -y chromium", file=sys.stderr
        )
        return 2
    report = asyncio.run(main_async(args.sessions, args.rounds, args.chromium))
    reruns = sorted(report["reruns"])
    print(f"{args.sessions} sessions × {args.rounds} scenario changes: "
          f"{len(report['errors'])} errors; rerun median {reruns[len(reruns) // 2]:.2f} s, "
          f"slowest {reruns[-1]:.2f} s")  # fmt: skip
    for e in report["errors"]:
        print("  ", e)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
