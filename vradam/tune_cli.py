"""``python -m vradam tune``: equal-budget tuning with Optuna, on one machine or many.

The protocol and the storage are :mod:`vradam.studies.tuning`'s; this module reads the
arguments, draws a progress bar on standard error, prints the results table beside the
paper's Table 1 and writes it as JSON and CSV (with the package versions). Optuna and
the studies layer are imported only when the command runs, so ``import vradam`` and the
other commands never load them. Bad input is one line on standard error and exit 2.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

PROG = "python -m vradam"
# Modules tune needs beyond the app extra, and the distributions that provide them.
NEEDS = {"optuna": "optuna", "sqlalchemy": "sqlalchemy"}


def add_tune_parser(sub) -> None:
    """Register ``tune`` on the CLI's subparsers (no optuna import here)."""
    from vradam.sim.optimizers import tunable
    from vradam.studies.networks import TASKS

    p = sub.add_parser(
        "tune",
        help="tune optimizers with Optuna on the same budget, then compare them over seeds",
        description=(
            "Equal-budget tuning: one Optuna study per optimizer (TPE with the same seed, the "
            "same number of trials, the same training seed), then each optimizer's best "
            "setting on fresh seeds; prints the metric's mean ± 95% t-interval beside the "
            "paper's Table 1 and writes JSON and CSV. Studies live in --storage (default: "
            "a SQLite file in your data directory, or $VRADAM_STORAGE); run the same command "
            "on more machines with a shared --storage URL and --study name and they share "
            "the budget."
        ),
        epilog=(
            f"tasks: {', '.join(TASKS)}. "
            f"optimizers: {', '.join(tunable())}. Example: {PROG} tune "
            "--task digits --optimizers adamw,vradam --trials 8 --seeds 3 --steps 200 "
            "--out results/. Many workers: add --storage postgresql+psycopg://USER:PASS@HOST/DB "
            "--study NAME on each (--workers-join on helpers that only add trials)."
        ),
    )
    p.add_argument("--task", default="digits", help="task key (default: digits)")
    p.add_argument("--optimizers", default="adamw,vradam",
                   help="comma-separated registry keys (default: adamw,vradam)")  # fmt: skip
    p.add_argument("--trials", type=int, default=8, help="trials per optimizer (default 8)")
    p.add_argument("--seeds", type=int, default=3,
                   help="seeds at each optimizer's best setting (default 3)")  # fmt: skip
    p.add_argument("--steps", type=int, default=200, help="updates per run (default 200)")
    p.add_argument("--seed", type=int, default=0,
                   help="training seed of all trials; seed+1… evaluate (default 0)")  # fmt: skip
    p.add_argument("--sampler-seed", type=int, default=0, help="TPE's seed (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--storage", help="Optuna storage URL (default: $VRADAM_STORAGE or "
                   "sqlite:///~/.local/share/vradam/studies.db)")  # fmt: skip
    p.add_argument("--study", help="study name; each optimizer's study is NAME-OPTIMIZER "
                   "(default: from the task, steps and seeds, so a rerun resumes)")  # fmt: skip
    p.add_argument("--out", type=Path, help="folder for STUDY.json and STUDY.csv")
    p.add_argument("--workers-join", action="store_true",
                   help="an extra worker: add trials to the shared budget, then exit "
                   "(no seeds, no table; the other workers finish those)")  # fmt: skip
    p.set_defaults(func=cmd_tune)


class Bar:
    """A one-line progress bar on standard error, redrawn in place."""

    def __init__(self, width: int = 28) -> None:
        self.width = width
        self.shown = ""

    def __call__(self, progress) -> None:
        frac = 0.0 if progress.total == 0 else min(1.0, progress.done / progress.total)
        filled = int(self.width * frac)
        bar = "█" * filled + "·" * (self.width - filled)
        line = f"[{bar}] {progress.done:5.1f}/{progress.total} runs  {progress.text}"[:110]
        if line != self.shown:
            pad = " " * max(0, len(self.shown) - len(line))
            print(f"\r{line}{pad}", end="", file=sys.stderr, flush=True)
            self.shown = line

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _check_installed() -> None:
    for module, dist in NEEDS.items():
        if not _installed(module):
            raise ValueError(
                f"{dist} is not installed; it comes with the 'tune' extra: "
                "pip install 'vradam[tune]' (from a checkout: pip install '.[tune]')"
            )


def write_outputs(out: Path, group: str, meta: dict, rows, trials: list[dict]) -> list[Path]:
    """STUDY.json (settings, versions, results, every trial, the paper's table) and STUDY.csv."""
    from vradam.studies import tuning

    out.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out / f"{group}.json", out / f"{group}.csv"
    json_path.write_text(tuning.results_json(meta, rows, trials))
    csv_path.write_text(tuning.results_csv(rows, meta["versions"]))
    return [json_path, csv_path]


def cmd_tune(args: argparse.Namespace) -> int:
    _check_installed()
    from vradam.studies import tuning
    from vradam.studies.networks import get_task

    optimizers = tuple(o.strip().lower() for o in args.optimizers.split(",") if o.strip())
    config = tuning.TuneConfig(
        task=args.task, optimizers=optimizers, trials=args.trials, seeds=args.seeds,
        steps=args.steps, seed=args.seed, sampler_seed=args.sampler_seed, device=args.device,
    )  # fmt: skip
    from vradam.studies.training import resolve_device

    device = resolve_device(config.device)
    if args.study is not None and not args.study.strip():
        raise ValueError("--study needs a name")
    group = args.study or config.default_study()
    storage = tuning.normalise_url(args.storage or tuning.default_storage_url())
    tuning.open_storage(storage)  # an unreachable database is one line, before any output
    task = get_task(config.task)
    role = "joining as an extra worker" if args.workers_join else "tuning"
    print(f"{role}: {task.name}, {', '.join(optimizers)}; {config.trials} trials × "
          f"{config.steps} steps each on {device}; study {group!r} in "
          f"{tuning.redact(storage)}", file=sys.stderr)  # fmt: skip
    bar = Bar()
    try:
        rows = tuning.tune(config, storage, group, join=args.workers_join, on_progress=bar)
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: the finished trials are stored; the same command resumes",
              file=sys.stderr)  # fmt: skip
        return 130
    bar.close()
    if rows is None:
        print(f"this worker's trials are done; study {group!r} holds the budget", file=sys.stderr)
        return 0
    seeds = ", ".join(map(str, config.eval_seeds()))
    print(f"{task.name}, {config.steps} steps: {config.metric} of each optimizer's best setting "
          f"(of {config.trials} trials, training seed {config.seed}) on seeds {seeds}; "
          "mean ± 95% t-interval")  # fmt: skip
    print(tuning.format_table(tuning.table_rows(rows)))
    print()
    print(tuning.PAPER_NOTE)
    print(tuning.format_table(tuning.paper_rows()))
    if args.out is not None:
        meta = {**tuning.run_meta(config, storage, group), "device": str(device)}
        _, opened = tuning.load_run(storage, group)
        paths = write_outputs(args.out, group, meta, rows, tuning.trial_rows(opened))
        print(f"wrote {', '.join(map(str, paths))}", file=sys.stderr)
    return 0
