"""``python -m vradam tune``: equal-budget tuning with Optuna, on one machine or many.

The protocol and the storage are :mod:`vradam.studies.tuning`'s; this module reads the
arguments, draws a progress bar on standard error, prints what was compared, the results
table (paired differences from AdamW first) and the paper's Table 1 apart, and writes JSON
and CSV (with the package versions). Optuna and the protocol are imported only when the
command runs, and only after the arguments are checked (:func:`tune_config`, with the
light ``vradam.studies.tuning.config``), so ``import vradam``, the other commands and a bad
argument never load them. Bad input is one line on standard error and exit 2.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import sys
import textwrap
from dataclasses import replace
from functools import partial
from pathlib import Path

PROG = "python -m vradam"
WIDTH = 100  # the notes' line length
# Modules tune needs beyond the app extra, and the distributions that provide them.
NEEDS = {"optuna": "optuna", "sqlalchemy": "sqlalchemy"}


def _epilog() -> str:
    """The help's list of tasks and optimizers (the records' names, without torch)."""
    from vradam.studies.tuning.limits import TASK_KEYS, TUNABLE_KEYS, UNSUITABLE

    tasks = [k for k in TASK_KEYS if k not in UNSUITABLE]
    return (
        f"tasks: {', '.join(tasks)} ({', '.join(UNSUITABLE)}: not tuned, see the error it "
        f"gives). optimizers: {', '.join(TUNABLE_KEYS)}. Example: {PROG} tune --task digits "
        "--optimizers adamw,vradam --trials 8 --seeds 5 --out results/ (add --space "
        "vradam=lr for equal search dimensions). Many workers: export "
        "VRADAM_STORAGE=postgresql+psycopg://USER@HOST/DB with the password in PGPASSWORD "
        "or ~/.pgpass (never in the command line: ps shows it), then the same command with "
        "--study NAME on each machine (--workers-join on helpers that only add trials)."
    )


def add_tune_parser(sub) -> None:
    """Register ``tune`` on the CLI's subparsers: nothing heavy is imported here (the
    epilog's lists load when the help is shown), so a bad argument answers at once."""
    p = sub.add_parser(
        "tune",
        help="tune optimizers with Optuna on the same budget, then compare them over seeds",
        description=(
            "Equal-budget tuning: one Optuna study per optimizer (TPE with the same seed, the "
            "same number of trials, the same training seed, each task at its own length), "
            "then each optimizer's best setting on fresh seeds; prints each optimizer's paired "
            "difference from AdamW over those seeds (95%% t-interval), its own mean ± 95%% "
            "t-interval and the dimensions it searched, then the paper's Table 1 (its own "
            "models and data), and writes JSON and CSV. Studies live in --storage (default: "
            "$VRADAM_STORAGE, else a SQLite file in your data directory); run the same command "
            "on more machines with a shared storage and --study name and they share the budget."
        ),
        epilog=_epilog,
    )
    p.add_argument("--task", default="digits", help="task key (default: digits)")
    p.add_argument("--optimizers", default="adamw,vradam",
                   help="comma-separated registry keys (default: adamw,vradam)")  # fmt: skip
    p.add_argument("--trials", type=int, default=8, help="trials per optimizer (default 8)")
    p.add_argument("--seeds", type=int, default=5,
                   help="evaluation seeds at each optimizer's best setting, paired across "
                   "optimizers (default 5; fewer than 3 give no interval)")  # fmt: skip
    p.add_argument("--steps", type=int,
                   help="updates per run (default: the task's own, e.g. digits 300)")  # fmt: skip
    p.add_argument("--space", default="",
                   help="search space per optimizer, OPT=full|lr, comma-separated (lr alone: "
                   "every optimizer): lr searches α0 only, with VRAdam's β3=auto "
                   "and α1 at its default (default: full; VRAdam then searches α0, β3, "
                   "α1)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0,
                   help="training seed of all trials; seed+1… evaluate (default 0)")  # fmt: skip
    p.add_argument("--sampler-seed", type=int, default=0, help="TPE's seed (default 0)")
    p.add_argument("--sampler-seeds", type=int, default=3,
                   help="studies per optimizer, with TPE seeds SAMPLER_SEED, +1, …: the first "
                   "gives the table, all give the budget curves (best after 1, 2, 4, … "
                   "trials, median and spread; default 3, 1 for no curves)")  # fmt: skip
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--storage", help="Optuna storage URL (default: $VRADAM_STORAGE or "
                   "sqlite:///~/.local/share/vradam/studies.db); keep a database password "
                   "out of it (PGPASSWORD, ~/.pgpass or $VRADAM_STORAGE)")  # fmt: skip
    p.add_argument("--study", help="study name; each optimizer's study is NAME-OPTIMIZER "
                   "(default: from the settings, so the same command resumes)")  # fmt: skip
    p.add_argument("--out", type=Path, help="folder for STUDY.json and STUDY.csv")
    p.add_argument("--workers-join", action="store_true",
                   help="an extra worker: add trials to the shared budget, then exit (the "
                   "other workers run the seeds and write the table); with --out it stays, "
                   "shares the seed runs and writes the table too")  # fmt: skip
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


def write_outputs(
    out: Path, group: str, meta: dict, rows, trials: list[dict], curves=()
) -> list[Path]:
    """STUDY.json (settings, versions, results, budget curves, every trial, the paper's
    table) and STUDY.csv."""
    from vradam.studies import tuning

    out.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out / f"{group}.json", out / f"{group}.csv"
    json_path.write_text(tuning.results_json(meta, rows, trials, curves))
    csv_path.write_text(tuning.results_csv(rows, meta["versions"]))
    return [json_path, csv_path]


def _lr_only(text: str, optimizers: tuple[str, ...]) -> tuple[str, ...]:
    """``--space``: "vradam=lr", "lr" (every optimizer) or "" → the optimizers searching α0 only."""
    from vradam.studies.tuning.limits import SPACES

    lr_only: list[str] = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        key, eq, space = part.rpartition("=")
        if space not in SPACES:
            raise ValueError(f"--space: unknown space {space!r} in {part!r}; "
                             f"use OPT={'|'.join(SPACES)}")  # fmt: skip
        keys = [key.strip()] if eq else list(optimizers)
        if eq and not key.strip():
            raise ValueError(f"--space: expected OPT=SPACE, got {part!r}")
        for k in keys:
            if k in lr_only:
                lr_only.remove(k)
            if space == "lr":
                lr_only.append(k)
    return tuple(lr_only)


def check_arguments(args: argparse.Namespace) -> tuple[str, ...]:
    """Everything about the arguments that needs no record (numbers, the search-space
    syntax, the study name, the names against the records' snapshot): checked before torch
    and Optuna load, so such a mistake answers at once. Returns the optimizers' keys as given."""
    from vradam.studies.tuning.limits import MAX_SAMPLER_SEEDS, check_names, check_numbers

    check_numbers(trials=args.trials, seeds=args.seeds, steps=args.steps, seed=args.seed,
                  sampler_seed=args.sampler_seed, device=args.device)  # fmt: skip
    optimizers = tuple(o.strip().lower() for o in args.optimizers.split(",") if o.strip())
    check_names(args.task, optimizers)
    _lr_only(args.space, optimizers)
    if args.study is not None and not args.study.strip():
        raise ValueError("--study needs a name")
    if not 1 <= args.sampler_seeds <= MAX_SAMPLER_SEEDS:
        raise ValueError(f"sampler seeds must be between 1 and {MAX_SAMPLER_SEEDS}, "
                         f"got {args.sampler_seeds}")  # fmt: skip
    return optimizers


def tune_config(args: argparse.Namespace):
    """The run's settings from the arguments: :func:`check_arguments` first (no torch),
    then the names against the records (torch, not Optuna or the protocol)."""
    optimizers = check_arguments(args)
    from vradam.studies.tuning.config import TuneConfig, check_task

    check_task(args.task)
    return TuneConfig(
        task=args.task, optimizers=optimizers, trials=args.trials, seeds=args.seeds,
        steps=args.steps, seed=args.seed, sampler_seed=args.sampler_seed, device=args.device,
        lr_only=_lr_only(args.space, optimizers),
    )  # fmt: skip


def _warnings(config, args: argparse.Namespace, storage: str) -> None:
    from sqlalchemy.engine import make_url

    from vradam.studies.tuning.config import MIN_SEEDS

    if config.seeds < MIN_SEEDS:
        print(f"warning: {config.seeds} evaluation seed(s): fewer than {MIN_SEEDS} give no "
              "paired interval (the table says 'not enough seeds'); the default is 5",
              file=sys.stderr)  # fmt: skip
    if args.storage and make_url(storage).password:
        print("warning: the --storage URL holds a password, which other users of this machine "
              "can read in the process list (ps); put it in PGPASSWORD or ~/.pgpass, or the "
              "whole URL in $VRADAM_STORAGE", file=sys.stderr)  # fmt: skip


def _print_targets(rows, metric: str) -> None:
    """Time to target: the note and, when the runs recorded curves, the table."""
    from vradam.studies import tuning

    base = next((r.name for r in rows if r.is_baseline), None)
    if base is None:
        return
    times = tuning.of_rows(rows)
    print()
    print(textwrap.fill(tuning.target_note(times, base, metric), WIDTH))
    if times:
        names = {r.optimizer: r.name for r in rows}
        print(tuning.format_table(tuning.target_table(times, names)))
    print()


def _print_results(task, config, rows, studies, curves) -> None:
    """The results on standard output: the paired table, time to target, which trials ran
    in parallel, the budget curves and the paper's table."""
    from vradam.studies import tuning
    from vradam.studies.tuning import budget

    seeds = ", ".join(map(str, config.eval_seeds()))
    print(f"{task.name}, {config.steps} steps: {config.metric} of each optimizer's best setting "
          f"(of {config.trials} trials, training seed {config.seed}) on seeds {seeds}")  # fmt: skip
    print(textwrap.fill(tuning.comparison_note(rows, config.trials), WIDTH))
    print(tuning.format_table(tuning.table_rows(rows)))
    splits = tuning.split_note(config.task, config.metric, any(r.test for r in rows))
    print(textwrap.fill(splits, WIDTH))
    _print_targets(rows, config.metric)
    print(textwrap.fill(tuning.parallel_note(studies), WIDTH))
    if curves:
        print()
        print(textwrap.fill(budget.budget_note(curves, config.metric), WIDTH))
        print(tuning.format_table(budget.budget_text(curves, config.metric)))
    print()
    print(textwrap.fill(tuning.PAPER_NOTE, WIDTH))
    print(tuning.format_table(tuning.paper_rows()))


def cmd_tune(args: argparse.Namespace) -> int:
    config = tune_config(args)
    _check_installed()
    from vradam.studies.tuning.storage import default_storage_url, normalise_url

    storage = normalise_url(args.storage or default_storage_url())
    from vradam.studies import tuning  # Optuna and the protocol: only past this point
    from vradam.studies.networks import get_task
    from vradam.studies.training import resolve_device
    from vradam.studies.tuning import budget

    device = resolve_device(config.device)
    group = args.study or config.default_study()
    # the main run's sampler seed first (its table), then the others (budget curves)
    first = config.sampler_seed
    runs = {s: (replace(config, sampler_seed=s), budget.sampler_group(group, config, s))
            for s in range(first, first + args.sampler_seeds)}  # fmt: skip
    # an unreachable database, or a study with other settings or another budget, is one
    # line before any output
    store = tuning.open_storage(storage)
    for each, name in runs.values():
        tuning.open_studies(each, store, name)
    _warnings(config, args, storage)
    task = get_task(config.task)
    join = args.workers_join and args.out is None  # with --out: stays for the seeds and table
    role = ("joining as an extra worker" if join else "joining, then writing the table"
            if args.workers_join else "tuning")  # fmt: skip
    length = "" if args.steps else " (the task's own length)"
    narrowed = "".join(f"; {o} searches α0 only" for o in config.lr_only)
    more = f" (and {len(runs) - 1} more with other sampler seeds)" if len(runs) > 1 else ""
    print(f"{role}: {task.name}, {', '.join(config.optimizers)}; {config.trials} trials × "
          f"{config.steps} steps each{length} on {device}{narrowed}; study {group!r}{more} in "
          f"{tuning.redact(storage)}", file=sys.stderr)  # fmt: skip
    bar = Bar()
    # one bar over every run: the main one's trials and seeds, then the others' trials
    tuned = len(config.optimizers) * config.trials
    first_total = tuned + (0 if join else len(config.optimizers) * config.seeds)
    total = first_total + tuned * (len(runs) - 1)

    def tell(p, offset: float = 0, prefix: str = "") -> None:
        bar(replace(p, done=offset + p.done, total=total, text=prefix + p.text))

    try:
        rows = tuning.tune(config, store, group, join=join, on_progress=tell)
        for k, (s, (each, name)) in enumerate(list(runs.items())[1:]):
            # tuning only: the curves need no seed runs
            on = partial(tell, offset=first_total + k * tuned, prefix=f"sampler seed {s}: ")
            tuning.tune(each, store, name, join=True, on_progress=on)
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: the finished trials are stored; the same command resumes",
              file=sys.stderr)  # fmt: skip
        return 130
    bar.close()
    if rows is None:
        print(f"this worker's trials are done; study {group!r} holds the budget", file=sys.stderr)
        return 0
    curves = []
    if len(runs) > 1:
        studies = {s: tuning.open_studies(each, store, name) for s, (each, name) in runs.items()}
        curves = budget.budget_curves(studies, config.trials)
    _print_results(task, config, rows, tuning.open_studies(config, store, group), curves)
    if args.out is not None:
        meta, trials = tuning.run_record(config, storage, group, runs, str(device))
        paths = write_outputs(args.out, group, meta, rows, trials, curves)
        print(f"wrote {', '.join(map(str, paths))}", file=sys.stderr)
    return 0
