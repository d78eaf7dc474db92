"""The heavy pages on a real server, without a browser: first visit and slider changes.

    python benchmarks/bench_pages.py [--changes 3]

Starts the app as `make run` serves it and, for each page below, opens it from a new
browser-free session (benchmarks/_ws_client.py: Streamlit's own websocket messages), then
moves one of its sliders ``--changes`` times to values nobody has asked for yet (a new
computation each time). Prints the wall time from sending the change to the script's end
(what a visitor waits for, less the browser's drawing) and the bytes the server sent (the
client holds the large messages it was sent, as a browser does, so an unchanged figure
comes back as a reference, not again). The
Playground's default steps change is the baseline measured in the same run (its target:
≤ 0.3 MB, and about 0.1 s of server CPU, BENCHMARKS.md); the issue's goals are ≤ 3 s per
change on the Edge of stability and Stability maps pages and ≤ 0.5 MB per change on Physics
and Stability maps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _ws_client import Session  # noqa: E402
from load_check import cpu_seconds, start_servers, stop_servers  # noqa: E402

# page (URL path), the slider moved (its label), the option indices (select sliders) or
# values it is moved to, and the goal per change.
PAGES = [
    ("", "steps", [510, 520, 530, 540], "baseline"),
    ("physics", "β₃ ", [0, 2, 4, 6], "≤ 0.5 MB"),
    ("edge_of_stability", "β₃ (VRAdam)", [0, 1, 3, 4], "≤ 3 s"),
    ("stability_maps", "β₃", [0, 1, 3, 4], "≤ 3 s, ≤ 0.5 MB"),
]


async def measure(url: str, page: str, label: str, values: list, changes: int) -> dict:
    async with Session(url) as s:
        first = await s.open("", page)
        runs = []
        for value in values[:changes]:
            runs.append(await s.set_slider(label, value))
    errors = first.exceptions + [e for r in runs for e in r.exceptions]
    return dict(first=first, runs=runs, errors=errors)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the Playground and Physics only, one change (a smoke test)",
    )
    args = parser.parse_args(argv)
    pages = PAGES[:2] if args.quick else PAGES
    if args.quick:
        args.changes = 1
    (server,), (url,) = start_servers(1)
    errors = 0
    try:
        print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; one "
              "server process, one browser-free session per page\n")  # fmt: skip
        print("| page | slider | first visit | per change (median) | sent per change | "
              "server CPU per run | goal |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        base = None
        for page, label, values, goal in pages:
            cpu0 = cpu_seconds(server.pid)
            r = asyncio.run(measure(url, page, label, values, args.changes))
            cpu = (cpu_seconds(server.pid) - cpu0) / (1 + args.changes)
            wall = statistics.median(x.seconds for x in r["runs"])
            sent = statistics.median(x.received for x in r["runs"]) / 1e6
            base = wall if base is None else base
            print(f"| {page or 'playground'} | {label.strip()} | {r['first'].seconds:.2f} s | "
                  f"**{wall:.2f} s** ({wall / base:.1f}× the Playground's) | {sent:.3f} MB | "
                  f"{cpu:.2f} s | {goal} |")  # fmt: skip
            for e in r["errors"]:
                print("   error:", e)
            errors += len(r["errors"])
    finally:
        stop_servers([server])
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
