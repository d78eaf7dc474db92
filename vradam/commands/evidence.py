"""``python -m vradam evidence``: compute the whole evidence set into one folder.

The units are :mod:`vradam.studies.evidence`'s; the claims that let several workers share
them live in one storage (the robustness and frontier runs':
:mod:`vradam.studies.evidence_claims`; the tuned comparison's:
:mod:`vradam.studies.evidence_tuning`). This module reads the arguments, starts ``--jobs − 1``
helper processes on the same folder, storage and set (each claims runs the others have not),
prints one line per unit as it advances,
then each unit's result in words, and writes ``evidence.json``. Bad input (a bad or
unreachable ``--storage`` included) is one line on standard error and exit 2
(:mod:`vradam.cli`), before anything runs.
"""

from __future__ import annotations

import importlib.util
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
        help="compute the whole evidence set (robustness curves, damping-cost frontier, tuned "
        "comparison) into a folder, resumably",
        description=(
            "Compute every stored measurement the app's Evidence page shows: learning-rate "
            "robustness (AdamW and VRAdam at each task's β3, one log grid of α0, 5 seeds) on "
            "the network tasks and every 2-D preset, and the damping-cost frontier (VRAdam over "
            "β3 × α0 against Adam's α0 grid, constant and warmup-cosine) on its problems, and "
            "the tuned comparison (python -m vradam tune on digits, AdamW and VRAdam, 8 trials "
            "each, 5 seeds, 3 sampler seeds: once with each full search, once with VRAdam "
            "searching α0 only). One CSV per study and problem in --out; each finished run is "
            "appended, so the same command resumes. Several processes (--jobs, or the same "
            "command started again, on this machine or on others, each with its own --out or "
            "one shared folder) split the work through claims in --storage, run by run: give "
            "them one storage (on several machines a PostgreSQL one, as for tune) and the same "
            "--set. A process that dies leaves its runs to the others a heartbeat's grace "
            "period later (30 s); each process's folder ends with every row. The tuning runs "
            "keep their trials in the same storage and write tuning-TASK-ARM.json (what tune "
            "--out writes) when complete; each tuning run is owned by one process at a time, "
            "so its trials go in order and the result does not depend on the number of "
            "processes. Then prints each result in words and writes evidence.json. The "
            "default run took 6.5 minutes with --jobs 2 on 2 idle cores (12 minutes of CPU; "
            "BENCHMARKS.md); --small runs in under a minute. Needs scikit-learn, scipy and "
            "Optuna: pip install 'vradam[app]'."
        ),
        epilog=f"Example: {PROG} evidence --out evidence/ --jobs 2 (the app ships the result "
        "in vradam/assets/evidence/); a part: --tasks digits lm; the tuned comparison: --tasks "
        "tuning.",
    )
    p.add_argument("--out", type=Path, required=True, help="the folder (created if missing)")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help="only these: network tasks (moons, digits, lm, imagegen, gflownet), "
                   "'landscapes' (every 2-D preset), frontier problems (eos, quadratic, "
                   "moons, digits; a name that is both runs both), 'tuning' (the tuned "
                   "comparison) or one of its arms (digits-full, digits-lr; with --small "
                   "moons-full, moons-lr)")  # fmt: skip
    p.add_argument("--small", action="store_true",
                   help="a CI-sized set (2 α0 × 2 seeds × 10 steps; the frontier's --small "
                   "cells; tuning on the moons, 2 trials × 10 steps, 3 seeds, 2 sampler "
                   "seeds; without --tasks: moons, two landscapes, the quadratic's "
                   "frontier, the moons' full-search tuning): under a minute")  # fmt: skip
    p.add_argument("--storage",
                   help="Optuna storage URL of the claims and the tuning runs that workers "
                   "share (default: $VRADAM_STORAGE, else sqlite:///OUT/tuning.db); a tune run "
                   "of the same settings stored there is reused. Keep a database password out "
                   "of it (PGPASSWORD, ~/.pgpass or $VRADAM_STORAGE)")  # fmt: skip
    p.add_argument("--set", default="evidence", metavar="NAME", dest="set_name",
                   help="the evidence set's name in the storage (default 'evidence'; letters, "
                   "digits, - _ .): workers of one set share its runs, two sets in one "
                   "storage do not")  # fmt: skip
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
    """Start ``--jobs − 1`` workers on the same folder, units, storage and set, one torch
    thread each."""
    argv = [sys.executable, "-m", "vradam", "evidence", "--out", str(args.out), "--worker"]
    if args.tasks:
        argv += ["--tasks", *args.tasks]
    if args.small:
        argv.append("--small")
    if args.storage:  # else the same default: $VRADAM_STORAGE (inherited) or OUT/tuning.db
        argv += ["--storage", args.storage]
    argv += ["--set", args.set_name]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return [subprocess.Popen(argv, env=env) for _ in range(args.jobs - 1)]


def cmd_evidence(args) -> int:
    from vradam.cli import CLIError, require_optional

    require_optional()
    from vradam.studies import evidence as ev
    from vradam.studies import evidence_tuning as et

    if not 1 <= args.jobs <= 16:
        raise CLIError(f"--jobs must be between 1 and 16, got {args.jobs}")
    units = ev.choose_units(args.tasks or (), small=args.small)
    if args.out.exists() and not args.out.is_dir():
        raise CLIError(f"--out {args.out} is a file: name a folder")
    storage = _storage(args)
    ev.check_set(args.set_name)
    args.out.mkdir(parents=True, exist_ok=True)
    todo = 0
    for unit in units:  # a foreign file is one line here, before anything runs
        if unit.study == ev.TUNING:
            et.check(args.out, unit.name, unit.small)
        todo += ev.missing(args.out, unit)
    if todo and not args.worker:
        from vradam.studies.tuning import open_storage

        open_storage(storage)  # an unreachable database: one line, before anything runs
    run = dict(storage=storage, set_name=args.set_name)
    if args.worker:
        ev.run_evidence(args.out, units, _say(f"[worker {os.getpid()}] "), **run)
        return 0
    if args.jobs > 1:
        import torch

        torch.set_num_threads(1)
    total = sum(u.total_runs() for u in units)
    print(f"evidence: {len(units)} unit(s), {total} runs, {total - todo} already in "
          f"{args.out}; {args.jobs} process(es)", file=sys.stderr)  # fmt: skip
    began, helpers = time.perf_counter(), _helpers(args)
    try:
        ev.run_evidence(args.out, units, _say(""), **run)
        for h in helpers:
            h.wait()
    except KeyboardInterrupt:
        for h in helpers:
            h.terminate()
        where = f"{args.out} and the storage"
        print(f"\ninterrupted: every finished run is saved in {where}; the same command "
              "resumes", file=sys.stderr)  # fmt: skip
        return 130
    if any(h.returncode for h in helpers):
        raise CLIError("a helper process failed (its error is above); the same command resumes")
    _report(args.out, units)
    path = ev.write_summary(args.out, units)
    print(f"wrote {path} ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
    return 0


def _storage(args) -> str:
    """The storage's URL, checked (a bad --storage is one line). Every unit shares its runs
    through it, so Optuna must be installed."""
    from vradam.studies import evidence_tuning as et

    for module in ("optuna", "sqlalchemy"):
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"{module} is not installed; the evidence command shares its runs "
                             "through an Optuna storage: pip install 'vradam[tune]'")  # fmt: skip
    return et.storage_url(args.out, args.storage)


def _report(folder: Path, units) -> None:
    """Each unit's result in words: the robustness headline, the frontier verdict, the
    tuned comparison (the Evidence page's sentence)."""
    from vradam.studies import evidence as ev
    from vradam.studies import evidence_tuning as et
    from vradam.studies import robustness as rb

    for unit in units:
        print(f"## {unit.file}")
        if unit.study == ev.TUNING:
            from vradam.app.evidence import tuned_sentence  # no Streamlit there

            result = et.read_result(folder, unit.name)
            print(tuned_sentence(result) if result else "not computed")
            continue
        if unit.study == "frontier":
            verdict = ev.load_frontier(unit.name, folder, unit.small)
            print(verdict.sentence if verdict else "no rows")
            continue
        rows = ev.read_rows(folder / unit.file, unit)
        for config in unit.configs():
            result = rb.summarize(config, rb.study_rows(config, rows))
            print(f"{result.title}: {rb.headline(result)}")
