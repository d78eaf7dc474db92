"""How fast the command line answers a bad argument, against ``python -c pass``.

    python benchmarks/bench_cli.py            # 7 interleaved rounds
    python benchmarks/bench_cli.py --quick    # 1 round
    python benchmarks/bench_cli.py --json out.json

Each round runs every command once, in turn, as a fresh process (wall time from start to
exit, so Python's start-up is in every number): ``python -c pass`` (the floor),
``python -c "import torch"`` (what a bad argument used to wait for), bad arguments to
``tune`` and ``train`` (exit 2 expected; an unknown task or optimizer name included), and
``tune --help`` (its lists of tasks and optimizers come from the records' snapshot in
``vradam.studies.tuning.limits``, so it loads neither torch nor Optuna). Prints the median
seconds of each and its ratio to ``python -c pass`` of the same rounds; the goal is a bad
argument in under 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# (label, argv, the exit status it must give)
COMMANDS = (
    ("python -c pass", [PY, "-c", "pass"], 0),
    ('python -c "import torch"', [PY, "-c", "import torch"], 0),
    ("tune --bogus", [PY, "-m", "vradam", "tune", "--bogus"], 2),
    ("tune --trials 0", [PY, "-m", "vradam", "tune", "--trials", "0"], 2),
    ("tune --space vradam=wide", [PY, "-m", "vradam", "tune", "--space", "vradam=wide"], 2),
    ("tune --task nope", [PY, "-m", "vradam", "tune", "--task", "nope"], 2),
    ("tune --optimizers adamw,foo", [PY, "-m", "vradam", "tune", "--optimizers", "adamw,foo"], 2),
    ("train --steps x", [PY, "-m", "vradam", "train", "--steps", "x"], 2),
    ("tune --help", [PY, "-m", "vradam", "tune", "--help"], 0),
)
GOAL_S = 2.0


def wall(argv: list[str], status: int) -> float:
    """Seconds from start to exit of one process (which must exit with ``status``)."""
    start = time.perf_counter()
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != status:
        raise SystemExit(f"{argv[2:]} exited {run.returncode}, not {status}: {run.stderr[-500:]}")
    return seconds


def measure(rounds: int) -> dict[str, list[float]]:
    """Each command's wall times over ``rounds`` interleaved rounds."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    for _ in range(rounds):
        for label, argv, status in COMMANDS:
            times[label].append(wall(argv, status))
    return times


def table(times: dict[str, list[float]]) -> list[dict]:
    floor = statistics.median(times["python -c pass"])
    return [
        dict(command=label, median_s=statistics.median(t), ratio=statistics.median(t) / floor,
             max_s=max(t), runs=len(t))
        for label, t in times.items()
    ]  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    rows = table(measure(rounds))
    print(f"Command-line answers ({rounds} round(s), load {load}): median wall seconds of a "
          "fresh process, and the ratio to `python -c pass` in the same rounds")  # fmt: skip
    print()
    print("| command | median | × python -c pass | slowest |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| `{r['command']}` | **{r['median_s']:.2f} s** | {r['ratio']:.1f}× | "
              f"{r['max_s']:.2f} s |")  # fmt: skip
    bad = [r for r in rows if r["command"].startswith(("tune --", "train --"))
           and "help" not in r["command"]]  # fmt: skip
    worst = max(r["median_s"] for r in bad)
    verdict = "under" if worst < GOAL_S else "OVER"
    print()
    print(f"Slowest bad argument: {worst:.2f} s median, {verdict} the {GOAL_S:g} s goal.")
    if args.json:
        args.json.write_text(json.dumps(dict(load=float(load), rounds=rounds, rows=rows)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
