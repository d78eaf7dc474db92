"""Command line: ``python -m vradam simulate ...``, ``train ...`` and ``robustness ...``.

``simulate`` runs optimizers on a 2-D landscape (:mod:`vradam.sim`); ``train`` trains a
small network with several optimizers in lockstep (:mod:`vradam.studies`, which needs
scikit-learn and scipy from the ``app`` extra); ``robustness`` measures the final metric
against α0 over seeds (:mod:`vradam.studies.robustness`). They write CSV or JSON. The upper
layers are imported inside the commands, so ``import vradam`` stays torch-only.

Errors in the arguments (unknown names, out-of-range values, bad numbers) and a missing
optional dependency print one line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np

from vradam.commands.args import LazyChoices, Parser, optimizer_keys, task_keys
from vradam.commands.runlog import RunLog
from vradam.commands.train import cmd_train

PROG = "python -m vradam"
# Options whose value may start with '-' (a negative number), e.g. --start -1.5,2
_NUMERIC_OPTIONS = {"--start", "--domain"}
# Optional modules the commands import, and the distributions that provide them.
_OPTIONAL = {"sklearn": "scikit-learn", "scipy": "scipy"}


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _missing_optional(exc: ImportError) -> str | None:
    """The distribution (e.g. ``scikit-learn``) whose absence raised ``exc``, if optional."""
    name = exc.name
    if name is None:
        m = re.search(r"No module named '([^']+)'", str(exc))
        name = m.group(1) if m else ""
    return _OPTIONAL.get(name.split(".")[0])


def _extra_for(distribution: str) -> str:
    """The extra of this package that installs ``distribution`` (from its metadata)."""
    try:
        requires = importlib.metadata.requires("vradam") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        m = re.match(r"\s*([A-Za-z0-9_.-]+).*;\s*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if m and m.group(1).lower().replace("_", "-") == distribution:
            return m.group(2)
    return "app"


def require_optional() -> None:
    """Raise ModuleNotFoundError, without importing anything, if an optional module is absent.

    The studies layer needs scikit-learn (data sets) and scipy (Lanczos for sharpness).
    """
    for module in _OPTIONAL:
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)


def _missing_message(distribution: str) -> str:
    extra = _extra_for(distribution)
    return (
        f"{distribution} is not installed; it comes with the '{extra}' extra: "
        f"pip install 'vradam[{extra}]' (from a checkout: pip install '.[{extra}]')"
    )


def _floats(text: str, n: int, what: str) -> list[float]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise CLIError(f"{what} must be {n} numbers separated by commas, got {text!r}") from None
    if len(values) != n:
        raise CLIError(f"{what} must be {n} numbers separated by commas, got {text!r}")
    return values


def _grid(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise CLIError(f"--grid must look like 50x50, got {text!r}")
    nx, ny = int(m.group(1)), int(m.group(2))
    if not (1 <= nx <= 1000 and 1 <= ny <= 1000):
        raise CLIError(f"--grid sizes must be between 1 and 1000, got {text!r}")
    return nx, ny


def _landscape(args):
    import landscapes

    if args.expression is not None:
        domain = ((-3.0, 3.0), (-3.0, 3.0))
        if args.domain:
            x0, x1, y0, y1 = _floats(args.domain, 4, "--domain")
            domain = ((x0, x1), (y0, y1))
        return landscapes.from_expression(args.expression, domain=domain)
    params = {}
    for item in args.param or []:
        name, eq, value = item.partition("=")
        if not eq:
            raise CLIError(f"--param must be name=value, got {item!r}")
        params[name.strip()] = _floats(value, 1, f"--param {name.strip()}")[0]
    return landscapes.get(args.landscape, **params)


def _starts(args, ls) -> np.ndarray:
    starts = [_floats(s, 2, "--start") for s in args.start or []]
    if args.grid:
        nx, ny = _grid(args.grid)
        (x0, x1), (y0, y1) = ls.domain
        X, Y = np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
        starts.extend(np.stack([X.ravel(), Y.ravel()], axis=1).tolist())
    if not starts:
        starts = [list(ls.start)]
    return np.asarray(starts, dtype=np.float64)


def cmd_simulate(args) -> int:
    from vradam.sim import export
    from vradam.sim.engine import simulate
    from vradam.sim.optimizers import OptimizerSpec

    ls = _landscape(args)
    specs = [OptimizerSpec.parse(o) for o in args.optimizer] if args.optimizer else None
    if specs is None:
        specs = [
            OptimizerSpec("adam", {"lr": ls.suggested_lr}),
            OptimizerSpec(
                "vradam",
                {"lr": ls.suggested_lr, "beta3": ls.suggested_beta3, "weight_decay": 0.0},
            ),
        ]
    starts = _starts(args, ls)
    steps = args.steps if args.steps is not None else ls.suggested_steps
    trajectories = simulate(
        ls, specs, starts, steps,
        noise_std=args.noise, seed=args.seed, schedule=args.schedule, telemetry=args.telemetry,
    )  # fmt: skip
    fmt = args.format or ("json" if args.out and args.out.suffix == ".json" else "csv")
    meta = dict(
        landscape=ls.key, landscape_params=dict(ls.params), expression=args.expression,
        domain=ls.domain, optimizers=[str(s) for s in specs], starts=starts.tolist(),
        steps=steps, noise_std=args.noise, seed=args.seed, schedule=args.schedule,
        telemetry=args.telemetry,
    )  # fmt: skip
    if fmt == "json":
        text = export.to_json(trajectories, meta)
        if args.out:
            args.out.write_text(text)
        else:
            sys.stdout.write(text + "\n")
    elif args.out:
        with open(args.out, "w", newline="") as fh:
            export.to_csv(trajectories, fh, meta)
    else:
        export.to_csv(trajectories, sys.stdout, meta)
    if args.out:
        summary = "; ".join(
            f"{tr.label}: final loss {np.nanmean(tr.loss[:, -1]):.4g}"
            + (
                f", {int((tr.diverged_at >= 0).sum())} diverged"
                if (tr.diverged_at >= 0).any()
                else ""
            )
            for tr in trajectories
        )
        print(
            f"wrote {args.out} ({len(starts)} start(s) × {steps} steps). {summary}", file=sys.stderr
        )
    return 0


def _text_table(rows: list[dict]) -> str:
    """Rows of strings as an aligned plain-text table (the header from the first row's keys)."""
    if not rows:
        return ""
    keys = list(rows[0])
    cells = [keys, *([str(r.get(k, "")) for k in keys] for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in cells)  # fmt: skip


def _read_results(path: Path, columns: list[str]) -> list[dict]:
    """The rows of a results file written by ``robustness`` (CLIError if it is not one)."""
    import csv

    from vradam.studies.robustness import parse_row

    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != columns:
            raise CLIError(f"{path} is not a robustness results file of this version "
                           "(other columns): choose another --out, or --restart to overwrite "
                           "it")  # fmt: skip
        try:
            return [parse_row(r) for r in reader]
        except (KeyError, TypeError, ValueError) as exc:
            raise CLIError(f"{path}: unreadable row ({exc}); --restart overwrites it") from None


def cmd_robustness(args) -> int:

    require_optional()
    from vradam.studies import robustness as rb

    config = rb.RobustnessConfig(
        task=args.landscape or args.task, kind="landscape" if args.landscape else "network",
        optimizers=tuple(args.optimizer or ()), anchor=args.anchor, below=args.below,
        above=args.above, points=args.points, seeds=args.seeds, seed=args.seed,
        steps=args.steps, batch_size=args.batch_size, noise_std=args.noise, device=args.device,
    )  # fmt: skip
    out = args.out or Path(f"robustness-{config.task}.csv")
    json_path = args.json or out.with_suffix(".json")
    if json_path == out:
        raise CLIError("--json must name another file than --out")
    device = rb.device_name(config)  # before any output: cuda without a GPU is one line
    existing = [] if args.restart or not out.exists() else _read_results(out, rb.ROW_FIELDS)
    done = {rb.run_key(r) for r in existing}
    total = config.total_runs()
    todo = total - sum(k in done for k in config.run_keys())
    specs = config.specs()
    print(f"robustness of {', '.join(s.display_name for s in specs)} on {config.task} "
          f"({config.metric}, {config.n_steps} steps, {device}): {len(specs)} optimizer(s) × "
          f"{config.points} α₀ × {config.seeds} seed(s) = {total} runs; "
          f"{total - todo} already in {out}", file=sys.stderr)  # fmt: skip
    if args.restart or not out.exists():
        out.write_text(rb.rows_csv([]))
    log = RunLog(out, rb.rows_csv, todo)
    new = log.write(
        rb.robustness_runs(config, done, device=device),
        lambda row: f"{row['label']} α₀={row['lr']:.3g} seed {row['seed']}",
    )
    if new is None:
        return 130
    rows = rb.study_rows(config, [*existing, *new])
    json_path.write_text(rb.study_json(config, rows, device, csv=str(out)) + "\n")
    result = rb.summarize(config, rows)
    print(_text_table(rb.summary_rows(result)))
    print()
    print(_text_table(rb.difference_rows(result)))
    print()
    print(rb.headline(result))
    for line in rb.statement(result):
        print(f"- {line}")
    print(f"wrote {out} ({len(rows)} runs of this study) and {json_path}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from vradam.sim import schedules

    parser = Parser(
        prog=PROG,
        description="VRAdam and baselines: simulate them on 2-D landscapes, or train small "
        "networks with them.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser(
        "simulate",
        help="run optimizers on a 2-D landscape and write every step as CSV or JSON",
        description=(
            "Run optimizers from one or more starts on a 2-D landscape; write one row per "
            "(optimizer, run, step) with all telemetry."
        ),
        epilog=lambda: (
            f"optimizers: {', '.join(optimizer_keys())}. Example: {PROG} simulate "
            "--landscape rosenbrock --optimizer vradam:lr=0.05 --optimizer adam:lr=0.05 --start "
            "-1.5,2 --steps 500 --out runs.csv"
        ),
    )
    where = sim.add_mutually_exclusive_group()
    where.add_argument(
        "--landscape", default="rosenbrock", help="registry key (default: rosenbrock)"
    )
    where.add_argument("--expression", help='a custom f(x, y), e.g. "x^2 + 10*sin(y)"')
    sim.add_argument("--domain", help="xmin,xmax,ymin,ymax for --expression (default -3,3,-3,3)")
    sim.add_argument("--param", action="append", help="landscape parameter name=value (repeatable)")
    sim.add_argument(
        "--optimizer", action="append",
        help="key:name=value,... (repeatable; default: Adam and VRAdam at the landscape's "
        "suggested settings)",
    )  # fmt: skip
    sim.add_argument("--start", action="append", help="x,y (repeatable; default: the landscape's)")
    sim.add_argument("--grid", help="a grid of starts over the domain, e.g. 50x50")
    sim.add_argument("--steps", type=int, help="updates per run (default: the landscape's)")
    sim.add_argument("--noise", type=float, default=0.0, help="gradient noise std (default 0)")
    sim.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    sim.add_argument("--schedule", default="constant", choices=list(schedules.SCHEDULES))
    sim.add_argument("--telemetry", default="full", choices=["full", "path"])
    sim.add_argument("--format", choices=["csv", "json"], help="default: from --out, else csv")
    sim.add_argument("--out", type=Path, help="output file (default: standard output)")
    sim.set_defaults(func=cmd_simulate)

    tasks = LazyChoices(task_keys)  # torch loads only for a bad --task or --help
    train = sub.add_parser(
        "train",
        help="train a small network with several optimizers (same weights, same batches)",
        description="Train a small network with several optimizers in lockstep and write "
        "one row per (optimizer, step): losses, accuracy (classification tasks), η_t, ‖v‖², "
        "and sharpness with its threshold (unless --sharpness-every 0); the last row of a "
        "VRAdam or VRMomentum also says what its gate did over the run (η/α₀ min, median, "
        "final, steps clipped at α₁ or at the full rate, and a verdict). Needs scikit-learn "
        "and scipy: pip install 'vradam[app]'.",
        epilog=lambda: (
            f"tasks: {', '.join(tasks)}. Example: {PROG} train --task moons "
            "--optimizer vradam:lr=0.01 --optimizer adamw:lr=0.01 --steps 500 --device auto "
            "--out metrics.csv"
        ),
    )
    train.add_argument("--task", default="moons", choices=tasks, metavar="TASK",
                       help="a network task (default: moons; listed below)")  # fmt: skip
    train.add_argument("--optimizer", action="append",
                       help="key:name=value,... (repeatable, at most 8: they train in "
                       "lockstep; default: GD, momentum, AdamW, VRAdam at the task's "
                       "settings)")  # fmt: skip
    train.add_argument("--steps", type=int, help="updates (default: the task's)")
    train.add_argument("--batch-size", type=int, help="mini-batch size (default: the task's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    train.add_argument("--sharpness-every", type=int,
                       help="0 turns it off (default: the task's, 25; 0 for lm, gflownet "
                       "and imagegen, where a measurement costs many steps)")  # fmt: skip
    train.add_argument("--eval-every", type=int, default=10)
    train.add_argument("--generate", type=int, metavar="N",
                       help="--task lm: after training, print N generated characters per "
                       "optimizer (to standard error)")  # fmt: skip
    train.add_argument("--prompt", default="\n", help="--generate: the text to continue")
    train.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="--generate: sampling temperature (0: the likeliest character)",
    )
    train.add_argument("--format", choices=["csv", "json"])
    train.add_argument("--out", type=Path, help="output file (default: standard output)")
    train.set_defaults(func=cmd_train)

    add_robustness_parser(sub, tasks)

    from vradam.commands.landscape import add_landscape_parser

    add_landscape_parser(sub)

    from vradam.commands.frontier import add_frontier_parser

    add_frontier_parser(sub)

    from vradam.commands.evidence import add_evidence_parser

    add_evidence_parser(sub)

    from vradam.commands.tune import add_tune_parser  # optuna loads only when tune runs

    add_tune_parser(sub)
    return parser


def add_robustness_parser(sub, tasks) -> None:
    rb = sub.add_parser(
        "robustness",
        help="learning-rate robustness: the final metric against α0 over seeds, per optimizer",
        description="Train every optimizer at every α0 of one log grid around AdamW's best "
        "(the task's α0 unless --anchor), with the same seeds (paired), on a network task or "
        "a 2-D landscape. Reports per optimizer the width in decades of the α0 range whose "
        "mean final metric is within 10 % of its own best, the divergence rate, and at "
        "every α0 the paired-by-seed difference from AdamW with a 95 % t-interval, and what "
        "VRAdam's gate did. Rows go to a CSV as each run ends (rerun the same command to "
        "resume: finished runs are skipped), then a JSON with the settings, versions, rows "
        "and measures. Needs scikit-learn and scipy: pip install 'vradam[app]'.",
        epilog=lambda: (
            f"tasks: {', '.join(tasks)}; landscapes: those with a known minimum. "
            f"Example: {PROG} robustness --task moons --points 11 --seeds 5 --out "
            "robustness-moons.csv"
        ),
    )
    where = rb.add_mutually_exclusive_group()
    where.add_argument("--task", default="moons", choices=tasks, metavar="TASK",
                       help="a network task (default: moons; listed below)")  # fmt: skip
    where.add_argument("--landscape", help="a 2-D landscape instead, e.g. rosenbrock "
                       "(seeds move its start by up to 5 %% of the domain)")  # fmt: skip
    rb.add_argument("--optimizer", action="append",
                    help="key:name=value,... (repeatable; α0 comes from the grid; default: "
                    "AdamW and VRAdam at the task's β3, without weight decay on a "
                    "landscape). The first AdamW is the reference")  # fmt: skip
    rb.add_argument("--anchor", type=float,
                    help="the α0 the grid is built around (default: the task's, AdamW's "
                    "best as measured for the task)")  # fmt: skip
    rb.add_argument("--below", type=float, default=1.0, help="decades below (default 1)")
    rb.add_argument("--above", type=float, default=1.5, help="decades above (default 1.5)")
    rb.add_argument("--points", type=int, default=11, help="α0 values (default 11)")
    rb.add_argument("--seeds", type=int, default=5, help="seeds per α0 (default 5)")
    rb.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    rb.add_argument("--steps", type=int, help="steps per run (default: the task's)")
    rb.add_argument("--batch-size", type=int, help="networks: mini-batch (default: the task's)")
    rb.add_argument("--noise", type=float, default=0.0,
                    help="landscapes: gradient noise std (default 0)")  # fmt: skip
    rb.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    rb.add_argument("--out", type=Path,
                    help="the results CSV, appended to and resumed (default: "
                    "robustness-TASK.csv)")  # fmt: skip
    rb.add_argument("--json", type=Path, help="the JSON summary (default: --out with .json)")
    rb.add_argument("--restart", action="store_true",
                    help="start the results file over instead of resuming it")  # fmt: skip
    rb.set_defaults(func=cmd_robustness)


def _join_negative_values(argv: list[str]) -> list[str]:
    """Let ``--start -1.5,2`` through argparse (it would take -1.5,2 for an option)."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg in _NUMERIC_OPTIONS:
            value = next(it, None)
            out.append(arg if value is None else f"{arg}={value}")
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(argv))
    try:
        return args.func(args)
    except (CLIError, ValueError) as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        distribution = _missing_optional(exc)
        if distribution is None:
            raise
        print(f"{PROG} {args.command}: error: {_missing_message(distribution)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
