"""The heavy pages in a real browser: a cold server's first visitor, then slider changes.

    python benchmarks/bench_pages_browser.py [--changes 3] [--quick]

For each page of ``bench_pages.PAGES`` (the Playground first, the baseline measured in the
same run) a fresh server is started as `make run` serves it, and headless Chromium (Debian's,
``/usr/bin/chromium``) at 1280×800 opens the page as that server's first visitor: **first
chart** is the wall time from the address to every chart drawn and the script idle (the
app's imports and the page's first computation included). Then the page's slider (found by
its widget key) is moved ``--changes`` times with the keyboard, each time to a value this
session has not seen (the next one up, else down, else an end: a new computation), and
**per change** is the wall time from the key press to the script having run and gone idle
and every chart redrawn (two animation frames after the last message). It also counts the
bytes the websocket delivered per change, and reports page errors and Streamlit
exceptions (target: 0). The issue's goal: ≤ 3 s per change on the Edge of stability and
Stability maps pages on a quiet machine. It measures; it asserts nothing
(``tests/test_benchmarks.py`` runs ``--quick`` to keep it working).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import PAGES  # noqa: E402
from load_check import IDLE, start_servers, stop_servers  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 300_000
# the widget key of each page's slider in bench_pages.PAGES (the label there)
KEYS = {"": "pg_steps", "physics": "ph_pp_b3", "edge_of_stability": "eos_beta3",
        "stability_maps": "sm_beta3"}  # fmt: skip
# Set a flag when the script starts running, so a change's wait cannot end on the idle
# state from before the key press.
WATCH = """() => {
    window.__vradamRan = false;
    const app = document.querySelector('[data-testid="stApp"]');
    if (window.__vradamWatch) window.__vradamWatch.disconnect();
    window.__vradamWatch = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__vradamRan = true;
    });
    window.__vradamWatch.observe(app, {attributes: true});
}"""
RAN_AND_IDLE = f"() => window.__vradamRan && ({IDLE})()"
FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _charts_drawn(page) -> None:
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every((p) => p._fullLayout && p.querySelector('.main-svg'))",
        timeout=TIMEOUT_MS,
    )
    page.evaluate(FRAMES)


def _next_key(thumb, seen: set) -> str:
    """The key that moves the slider (a range input, or an ARIA slider) to a value not seen
    yet in this session (a new computation, not a cached one): the next one up, else down,
    else the far end."""
    now, low, high, step = thumb.evaluate(
        "(e) => ['aria-valuenow', 'aria-valuemin', 'aria-valuemax'].map((a, i) =>"
        " Number(e.getAttribute(a) ?? [e.value, e.min, e.max][i])).concat([Number(e.step) || 1])"
    )
    seen.add(now)
    for key, value in (("ArrowRight", now + step), ("ArrowLeft", now - step), ("Home", low),
                       ("End", high)):  # fmt: skip
        if low <= value <= high and value not in seen:
            seen.add(value)
            return key
    raise SystemExit(f"the slider has no value left to move to (seen {sorted(seen)})")


def measure(browser, url: str, path: str, key: str, changes: int) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    received, errors = [0], []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)[:120]))  # fmt: skip
    try:
        start = time.perf_counter()
        page.goto(f"{url}/{path}", timeout=TIMEOUT_MS)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT_MS)
        _charts_drawn(page)
        first = time.perf_counter() - start
        runs, sent, seen = [], [], set()
        for _ in range(changes):
            box = page.locator(f".st-key-{key}")
            box.scroll_into_view_if_needed()
            thumb = box.locator('[role="slider"], input[type="range"]').first
            move = _next_key(thumb, seen)
            page.evaluate(WATCH)
            before, start = received[0], time.perf_counter()
            thumb.focus()
            page.keyboard.press(move)
            page.wait_for_function(RAN_AND_IDLE, timeout=TIMEOUT_MS)
            _charts_drawn(page)
            runs.append(time.perf_counter() - start)
            sent.append(received[0] - before)
        if page.locator('[data-testid="stException"]').count():
            errors.append("a Streamlit exception")
    finally:
        context.close()
    return dict(first=first, runs=runs, sent=sent, errors=errors)


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="the Playground only, one change (a smoke test)")  # fmt: skip
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no browser at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 2
    pages = PAGES[:1] if args.quick else PAGES
    changes = 1 if args.quick else args.changes
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for path, _, _, goal in pages:
            servers, urls = start_servers(1)  # a cold server: this page is its first visit
            try:
                results[path] = (measure(browser, urls[0], path, KEYS[path], changes), goal)
            finally:
                stop_servers(servers)
        browser.close()
    base = statistics.median(results[""][0]["runs"])
    print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; one fresh "
          "server per page, Chromium at 1280×800, keyboard slider changes\n")  # fmt: skip
    print("| page | cold first visitor: first chart | per change (median) | slowest change "
          "| sent per change | goal |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    failed = 0
    for path, (r, goal) in results.items():
        med = statistics.median(r["runs"])
        ratio = f" ({med / base:.1f}× the Playground's)" if path else ""
        print(f"| {path or 'playground'} | {r['first']:.2f} s | **{med:.2f} s**{ratio} | "
              f"{max(r['runs']):.2f} s | {statistics.median(r['sent']) / 1e6:.3f} MB | "
              f"{goal} |")  # fmt: skip
        for e in r["errors"]:
            print(f"error on {path or 'playground'}: {e}", file=sys.stderr)
        failed += bool(r["errors"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
