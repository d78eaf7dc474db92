"""``python -m vradam landscape``: a network's loss landscape with every optimizer's path.

Trains the task with the optimizers (the same weights and batches for all), saving the
weights about 50 times per optimizer, fits one plane to every snapshot (PCA of the paths,
or Li et al.'s filter-normalised random directions), and evaluates the loss on a grid over
it (:mod:`vradam.studies.landscape`). Writes the plane (kind, reference, explained
variance), the grid, the projected paths with their true and surface losses, the run's
sharpness measurements on them, and the 1-D slice between the two lowest final points, as
JSON, or as long-format CSV when ``--out`` ends in ``.csv``. A progress line goes to
standard error; bad input is one line there and exit 2. The study modules are imported
only when the command runs.
"""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import numpy as np

PROG = "python -m vradam"
PLANES = ("pca", "random")
CENTRES = ("best", "init")
SPLITS = ("train", "val")


def _one_line_error(parser, message: str):
    """Bad arguments: one line on standard error and exit 2 (no usage block)."""
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def add_landscape_parser(sub) -> None:
    """Register ``landscape`` on the CLI's subparsers (no torch import here: the epilog's
    task list loads when the help is shown, see :class:`vradam.cli.Parser`)."""
    from vradam.cli import task_keys

    p = sub.add_parser(
        "landscape",
        help="a network's loss landscape: every optimizer's path on one plane of weights",
        description=(
            "Train a network task with several optimizers (same weights, same batches), "
            "save the weights about 50 times per optimizer, fit one plane to all of them "
            "(the top two principal directions of the paths, or Li et al.'s filter-"
            "normalised random directions, which cover at least ±1), and evaluate the loss "
            "on a grid over it. Writes the plane and the share of the paths' spread each "
            "axis explains, the grid of losses, each projected path with the true loss "
            "beside the surface's value at its projection, the run's sharpness on the "
            "paths, and the loss on the line between the two lowest final points, as JSON "
            "(or CSV when --out ends in .csv). Needs scikit-learn and scipy: pip install "
            "'vradam[app]'."
        ),
        epilog=lambda: (
            f"tasks: {', '.join(task_keys())}. Example: {PROG} landscape --task moons --optimizer "
            "adamw:lr=0.01 --optimizer vradam:lr=0.01,beta3=86 --grid 41 --plane pca "
            "--centre best --out surface.json"
        ),
    )
    p.error = types.MethodType(_one_line_error, p)
    p.add_argument("--task", default="moons", help="network task (default: moons)")
    p.add_argument("--optimizer", action="append",
                   help="key:name=value,... (repeatable; default: the task's four)")  # fmt: skip
    p.add_argument("--grid", type=int, default=41, help="points per axis (default 41)")
    p.add_argument("--plane", default="pca", help="pca (default) or random (Li et al.)")
    p.add_argument("--centre", "--center", dest="centre", default="best",
                   help="the plane's origin: best (the lowest final loss's weights, "
                   "default) or init (the shared initial weights)")  # fmt: skip
    p.add_argument("--split", default="train", help="the loss shown: train (default) or val")
    p.add_argument("--steps", type=int, help="updates (default: the task's)")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default: the task's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="save the weights every k steps (default 0: about 50 per run)")  # fmt: skip
    p.add_argument("--sharpness-every", type=int,
                   help="measure λmax every k steps to mark it on the paths (default: the "
                   "task's; 0 turns it off)")  # fmt: skip
    p.add_argument("--budget", type=float,
                   help="seconds: a coarser grid when the asked one would take longer "
                   "(default: always the asked grid)")  # fmt: skip
    p.add_argument("--direction-seed", type=int, default=0, help="--plane random: its draws")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--out", type=Path,
                   help="output file, .json or .csv (default: landscape-TASK.json)")  # fmt: skip
    p.set_defaults(func=cmd_landscape)


def _check(args, tasks) -> None:
    """ValueError (one line) for what argparse lets through."""
    for name, value, allowed in (("--task", args.task, tuple(tasks)), ("--plane", args.plane,
                                 PLANES), ("--centre", args.centre, CENTRES),
                                 ("--split", args.split, SPLITS),
                                 ("--device", args.device, ("auto", "cpu", "cuda"))):  # fmt: skip
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    if args.steps is not None and not 1 <= args.steps <= 100_000:
        raise ValueError(f"--steps must be between 1 and 100000, got {args.steps}")
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget > 0):
        raise ValueError(f"--budget must be a positive number of seconds, got {args.budget}")
    if args.sharpness_every is not None and args.sharpness_every < 0:
        raise ValueError(f"--sharpness-every must be ≥ 0, got {args.sharpness_every}")
    if args.out is not None and args.out.suffix not in (".json", ".csv"):
        raise ValueError(f"--out must end in .json or .csv, got {str(args.out)!r}")
    if args.out is not None and args.out.parent and not args.out.parent.is_dir():
        raise ValueError(f"--out: no such folder {str(args.out.parent)!r}")


def _progress(fraction: float, text: str, width: int = 30) -> None:
    filled = int(width * min(max(fraction, 0.0), 1.0))
    bar = "█" * filled + "·" * (width - filled)
    print(f"\r[{bar}] {100 * fraction:3.0f} %  {text}"[:100].ljust(100), end="",
          file=sys.stderr, flush=True)  # fmt: skip


def _configs(args):
    from vradam.studies.landscape import LandscapeConfig
    from vradam.studies.networks import default_optimizers, get_task
    from vradam.studies.training import TrainConfig

    task = get_task(args.task)
    every = task.default_sharpness_every if args.sharpness_every is None else args.sharpness_every
    if every and not task.sharpness:
        print(f"note: no sharpness for {task.key}: {task.sharpness_note}; "
              "--sharpness-every ignored", file=sys.stderr)  # fmt: skip
        every = 0
    train = TrainConfig(
        task=task.key, optimizers=tuple(args.optimizer or default_optimizers(task)),
        steps=args.steps if args.steps is not None else task.default_steps,
        batch_size=args.batch_size, seed=args.seed, device=args.device, sharpness_every=every,
    )  # fmt: skip
    settings = LandscapeConfig(plane=args.plane, reference=args.centre, split=args.split,
                               grid=args.grid, budget_s=args.budget,
                               snapshot_every=args.snapshot_every,
                               direction_seed=args.direction_seed, sharpness=every > 0)  # fmt: skip
    return task, train, settings


def cmd_landscape(args) -> int:
    from vradam.cli import require_optional
    from vradam.studies.networks import TASKS

    _check(args, TASKS)
    require_optional()
    from vradam.sim import export
    from vradam.studies import landscape_views as views
    from vradam.studies.landscape import SurfaceLoss, landscape
    from vradam.studies.training import resolve_device

    task, train, settings = _configs(args)
    device = resolve_device(train.device)
    out = args.out or Path(f"landscape-{task.key}.json")
    print(f"landscape of {task.name} on {device}: {len(train.optimizers)} optimizer(s), "
          f"{train.steps} steps, {settings.plane} plane, {settings.grid}×{settings.grid} "
          "grid", file=sys.stderr)  # fmt: skip
    ls = landscape(train, settings, lambda f, text: _progress(f, text.replace(" again", "")))
    pair = views.slice_pair(ls)
    sl = None
    if pair is not None:
        _progress(1.0, "the slice between the two lowest final points")
        sl = views.line_slice(SurfaceLoss(train, settings.split), ls, *pair)
    print(file=sys.stderr)
    marks = views.sharpness_marks(ls.sharpness_rows, ls)
    versions = export.versions()
    if out.suffix == ".csv":
        text = views.to_csv(ls, marks, sl, "; ".join(f"{k} {v}" for k, v in versions.items()))
    else:
        meta = dict(task=task.key, optimizers=list(train.optimizers), steps=train.steps,
                    batch_size=train.batch_size, seed=train.seed, device=str(device),
                    sharpness_every=train.sharpness_every, plane=settings.plane,
                    centre=settings.reference, split=settings.split, grid=settings.grid,
                    budget_s=settings.budget_s, direction_seed=settings.direction_seed,
                    versions=versions)  # fmt: skip
        text = json.dumps(views.to_record(ls, marks, meta, sl), allow_nan=False) + "\n"
    out.write_text(text)
    for line in summary_lines(ls, sl):
        print(line)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def summary_lines(ls, sl) -> list[str]:
    """What the run found, in a few lines (standard output)."""
    e = ls.plane.explained
    axes = "PC1, PC2" if ls.plane.kind == "pca" else "random directions 1, 2"
    lines = [f"plane: {ls.plane.kind}, {axes} explain {100 * e[0]:.3g} % and {100 * e[1]:.3g} % "
             f"of the paths' spread; grid {ls.grid}×{ls.grid} over a ∈ [{ls.xs[0]:.3g}, "
             f"{ls.xs[-1]:.3g}], b ∈ [{ls.ys[0]:.3g}, {ls.ys[-1]:.3g}] in "
             f"{ls.grid_seconds:.1f} s ({ls.method})"]  # fmt: skip
    for i, label in enumerate(ls.labels):
        if not ls.true_loss[i].size:
            lines.append(f"  {label}: no snapshot (diverged at once)")
            continue
        gap = ls.gap(i)
        worst = float(abs(gap[np.isfinite(gap)]).max()) if np.isfinite(gap).any() else math.nan
        end = "; diverged" if ls.diverged[i] else ""
        lines.append(f"  {label}: final {ls.split} loss {ls.true_loss[i][-1]:.4g}, on the "
                     f"surface {ls.surface_loss[i][-1]:.4g}; largest |true − surface| along "
                     f"the path {worst:.3g}{end}")  # fmt: skip
    if sl is not None:
        c = ", ".join("—" if not math.isfinite(v) else f"{v:.4g}" for v in sl.curvature)
        bump = "—" if not math.isfinite(sl.barrier) else f"{sl.barrier:.3g}"
        lines.append(f"slice {ls.labels[sl.a]} → {ls.labels[sl.b]}: distance "
                     f"{sl.distance:.3g}, barrier {bump}, curvature along the line at the "
                     f"ends {c}")  # fmt: skip
    return lines
