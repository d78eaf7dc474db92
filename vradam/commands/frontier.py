"""``python -m vradam frontier``: run one problem's frontier study
(:mod:`vradam.studies.frontier`) into a CSV (resumable) and print the verdict. An entry
point beside vradam.cli, which adds the parser (:func:`add_frontier_parser`)."""

from __future__ import annotations

import sys
from pathlib import Path

from vradam.commands.runlog import RunLog
from vradam.studies.frontier.config import PROBLEMS, FrontierConfig


def config_from_args(args) -> FrontierConfig:
    if args.small:
        extra = {} if args.seeds is None else {"seeds": args.seeds}
        return FrontierConfig.small(args.problem, **extra)
    return FrontierConfig(problem=args.problem, seeds=5 if args.seeds is None else args.seeds)


def _existing(path: Path) -> list[dict]:
    from vradam.cli import CLIError
    from vradam.studies.frontier import read_rows

    try:
        return read_rows(path.read_text())
    except (KeyError, TypeError, ValueError) as exc:
        raise CLIError(f"{path}: {exc}; choose another --out, or --restart to overwrite "
                       "it") from None  # fmt: skip


def cmd_frontier(args) -> int:
    from vradam.studies import frontier as fr

    config = config_from_args(args)
    out = args.out or Path(f"frontier-{config.problem}.csv")
    existing = [] if args.restart or not out.exists() else _existing(out)
    done = {fr.run_key(r) for r in existing}
    total = config.total_runs()
    todo = total - sum(k in done for k in config.run_keys())
    print(f"frontier on {config.spec.name}: {len(config.cells())} settings × {config.seeds} "
          f"seed(s) = {total} runs, {config.n_steps} steps; {total - todo} already in {out}",
          file=sys.stderr)  # fmt: skip
    if args.restart or not out.exists():
        out.write_text(fr.rows_csv([]))
    log = RunLog(out, fr.rows_csv, todo)
    new = log.write(fr.run_frontier(config, existing, lambda fraction, text: log.say(text)))
    if new is None:
        return 130
    rows = fr.study_rows(config, [*existing, *new])
    verdict = fr.frontier_verdict(rows)
    print(verdict.sentence)
    print(f"wrote {out} ({len(rows)} runs of this study)", file=sys.stderr)
    return 0


def add_frontier_parser(sub) -> None:
    from vradam.cli import PROG

    p = sub.add_parser(
        "frontier",
        help="the damping-cost frontier: oscillation against final loss, VRAdam over β3 "
        "and α0 against Adam/AdamW over α0 (constant and warmup-cosine)",
        description="Is VRAdam's damping more than a smaller step? Runs VRAdam over a grid "
        "of β3 at several α0 and the baseline (Adam; AdamW on the network tasks) over a "
        "grid of α0, constant and with a warmup-cosine schedule, on the same seeds, and "
        "measures each run's oscillation (Σ max(Δ ln loss, 0) over the second half) and "
        "final training loss. Prints whether any VRAdam setting ends below the baseline's "
        "lower-left envelope, by how much (paired by seed, 95 %% t-interval) and where. "
        "Rows go to a CSV as each run ends (rerun the same command to resume).",
        epilog=f"problems: {', '.join(f'{k} ({p.name})' for k, p in PROBLEMS.items())}. "
        f"Example: {PROG} frontier --problem eos --out frontier-eos.csv",
    )
    p.add_argument("--problem", default="eos", choices=list(PROBLEMS))
    p.add_argument("--seeds", type=int, help="seeds 0 … N−1 (default 5; --small: 2)")
    p.add_argument("--small", action="store_true",
                   help="a few cells of the default grids (for CI): the same runs as the "
                   "default's rows of those cells")  # fmt: skip
    p.add_argument("--out", type=Path,
                   help="the results CSV, appended to and resumed (default: "
                   "frontier-PROBLEM.csv)")  # fmt: skip
    p.add_argument("--restart", action="store_true",
                   help="start the results file over instead of resuming it")  # fmt: skip
    p.set_defaults(func=cmd_frontier)
