"""``python -m vradam evidence``: compute the whole evidence set into one folder.

The units, their storage and the claims that let several processes share a folder are
:mod:`vradam.studies.evidence`'s; this module reads the arguments, starts ``--jobs − 1``
helper processes on the same folder (each claims units the others have not), prints one
line per unit as it advances, then each unit's result in words, and writes
``evidence.json``. Bad input is one line on standard error and exit 2 (:mod:`vradam.cli`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PROG = "python -m vradam"


def add_evidence_parser(sub) -> None:
    """Register ``evidence`` on the CLI's subparsers."""
    p = sub.add_parser(
        "evidence",
        help="compute the whole evidence set (robustness curves, damping-cost frontier) into "
        "a folder, resumably",
        description=(
            "Compute every stored measurement the app's Evidence page shows: learning-rate "
            "robustness (AdamW and VRAdam at each task's β3, one log grid of α0, 5 seeds) on "
            "the network tasks and every 2-D preset, and the damping-cost frontier (VRAdam over "
            "β3 × α0 against Adam's α0 grid, constant and warmup-cosine) on its problems. One "
            "CSV per study and problem in --out; each finished run is appended, so the same "
            "command resumes. Several processes (--jobs, or the same command started again, "
            "on this machine or another sharing the folder) split the work: each claims a "
            "unit with a lock file (a process that died on this machine leaves one the next "
            "run takes over; one from another machine must be deleted by hand: DIR/*.lock). "
            "Then prints each result in words and writes evidence.json. The default run "
            "is about 19 minutes of CPU, about 10 minutes with --jobs 2 on 2 idle cores "
            "(BENCHMARKS.md); --small runs in seconds. Needs scikit-learn and scipy: pip "
            "install 'vradam[app]'."
        ),
        epilog=f"Example: {PROG} evidence --out evidence/ --jobs 2 (the app ships the result "
        "in vradam/assets/evidence/); a part: --tasks digits lm.",
    )
    p.add_argument("--out", type=Path, required=True, help="the folder (created if missing)")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help="only these: network tasks (moons, digits, lm, imagegen, gflownet), "
                   "'landscapes' (every 2-D preset) or frontier problems (eos, quadratic, "
                   "moons, digits); a name that is both runs both")  # fmt: skip
    p.add_argument("--small", action="store_true",
                   help="a CI-sized set (2 α0 × 2 seeds × 10 steps; the frontier's --small "
                   "cells; without --tasks: moons, two landscapes, the quadratic's "
                   "frontier): seconds")  # fmt: skip
    p.add_argument("--jobs", type=int, default=1,
                   help="processes on this machine (default 1; 2 on 2 cores)")  # fmt: skip
    p.add_argument("--worker", action="store_true", help=argparse_suppress())
    p.set_defaults(func=cmd_evidence)


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


def _say(prefix: str):
    def say(text: str) -> None:
        print(f"{prefix}{text}", file=sys.stderr, flush=True)

    return say


def _helpers(args) -> list[subprocess.Popen]:
    """Start ``--jobs − 1`` workers on the same folder and units, one torch thread each."""
    argv = [sys.executable, "-m", "vradam", "evidence", "--out", str(args.out), "--worker"]
    if args.tasks:
        argv += ["--tasks", *args.tasks]
    if args.small:
        argv.append("--small")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return [subprocess.Popen(argv, env=env) for _ in range(args.jobs - 1)]


def cmd_evidence(args) -> int:
    from vradam.cli import CLIError, require_optional

    require_optional()
    from vradam.studies import evidence as ev

    if not 1 <= args.jobs <= 16:
        raise CLIError(f"--jobs must be between 1 and 16, got {args.jobs}")
    units = ev.choose_units(args.tasks or (), small=args.small)
    if args.out.exists() and not args.out.is_dir():
        raise CLIError(f"--out {args.out} is a file: name a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    for unit in units:  # a foreign file is one line here, before anything runs
        ev.read_rows(args.out / unit.file, unit)
    if args.worker:
        ev.run_evidence(args.out, units, _say(f"[worker {os.getpid()}] "))
        return 0
    if args.jobs > 1:
        import torch

        torch.set_num_threads(1)
    total = sum(u.total_runs() for u in units)
    todo = sum(ev.missing(args.out, u) for u in units)
    print(f"evidence: {len(units)} unit(s), {total} runs, {total - todo} already in "
          f"{args.out}; {args.jobs} process(es)", file=sys.stderr)  # fmt: skip
    began, helpers = time.perf_counter(), _helpers(args)
    try:
        ev.run_evidence(args.out, units, _say(""))
        for h in helpers:
            h.wait()
    except KeyboardInterrupt:
        for h in helpers:
            h.terminate()
        print(f"\ninterrupted: every finished run is saved in {args.out}; the same command "
              "resumes", file=sys.stderr)  # fmt: skip
        return 130
    if any(h.returncode for h in helpers):
        raise CLIError("a helper process failed (its error is above); the same command resumes")
    _report(args.out, units)
    path = ev.write_summary(args.out, units)
    print(f"wrote {path} ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
    return 0


def _report(folder: Path, units) -> None:
    """Each unit's result in words: the robustness headline, the frontier verdict."""
    from vradam.studies import evidence as ev
    from vradam.studies import robustness as rb

    for unit in units:
        print(f"## {unit.file}")
        if unit.study == "frontier":
            verdict = ev.load_frontier(unit.name, folder, unit.small)
            print(verdict.sentence if verdict else "no rows")
            continue
        rows = ev.read_rows(folder / unit.file, unit)
        for config in unit.configs():
            result = rb.summarize(config, rb.study_rows(config, rows))
            print(f"{result.title}: {rb.headline(result)}")
