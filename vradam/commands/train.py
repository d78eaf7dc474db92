"""``python -m vradam train``: a small network trained with several optimizers in lockstep.

Every optimizer gets the same initial weights and batches (:mod:`vradam.studies.training`);
the rows (loss, gradient norm, the gate's η and ‖v‖², evaluations, sharpness) go to CSV or
JSON, with the run's settings and versions. Ctrl+C keeps the rows trained so far (exit 130).
The study modules are imported only when the command runs.
"""

from __future__ import annotations

import math
import sys

TRAIN_FIELDS = [
    # the run: task, seed, its length and each optimizer's resolved hyperparameters (its
    # defaults included, "lr=0.01 beta1=0.9 …"), on every row
    "optimizer", "label", "task", "seed", "run_steps", "hyperparams", "step", "loss",
    "grad_norm", "effective_lr", "velocity_sq_norm", "clip_active", "train_loss", "train_acc",
    "val_loss", "val_acc", "sharpness", "sharpness_kind", "threshold", "diverged",
]  # fmt: skip
EVALUATION_FIELDS = ("train_loss", "train_acc", "val_loss", "val_acc")  # the task's own
SHARPNESS_FIELDS = ("sharpness", "sharpness_kind", "threshold")  # --sharpness-every > 0 only
# What the gate did over the whole run (vradam.sim.measures.gate_activity), on the last row
# of each VRAdam / VRMomentum: η/α0 min, median and final, the share of steps clipped at
# α1, the share with η ≥ 0.99·α0, and the verdict in words. Only when a VR optimizer runs.
GATE_FIELDS = (
    "eta_ratio_min", "eta_ratio_median", "eta_ratio_final", "clipped_fraction",
    "ungated_fraction", "gate_verdict",
)  # fmt: skip


def train_columns(evaluation_keys, sharpness: bool, gate: bool = False) -> list[str]:
    """The output columns of ``train``: the task's evaluation keys (accuracy only for
    classification; perplexity, distribution distance… for the paper's tasks), sharpness
    and its threshold only when it is measured, and the gate's activity (on each VR
    optimizer's last row) only when a VR optimizer runs."""
    before = TRAIN_FIELDS[: TRAIN_FIELDS.index("train_loss")]
    after = [] if not sharpness else list(SHARPNESS_FIELDS)
    return [*before, *evaluation_keys, *after, "diverged", *(GATE_FIELDS if gate else ())]


def gate_columns(gate) -> dict:
    """The :data:`GATE_FIELDS` of one run's :class:`~vradam.sim.measures.GateActivity`."""
    columns = gate.columns()
    return {k: columns[k] for k in GATE_FIELDS}


def _status(task, r: dict) -> str:
    """One optimizer's final line: its losses and the task's other evaluation values."""
    if r.get("diverged"):
        return "diverged"
    if task.classification:
        return f"train loss {r['train_loss']:.4g}, val acc {r['val_acc']:.3f}"
    extra = [k for k in task.evaluation_keys if k not in EVALUATION_FIELDS]
    parts = [f"train loss {r['train_loss']:.4g}", f"val loss {r['val_loss']:.4g}"]
    parts += [f"{k.replace('_', ' ')} {r[k]:.4g}" for k in extra]
    return ", ".join(parts)


def _generate_samples(records: list[dict], args) -> None:
    """``--generate N``: N characters from each optimizer's trained language model."""
    from vradam.studies import lm

    for r in records:
        if "weights" not in r:  # diverged: nothing to sample from
            print(f"--- {r['optimizer']}: diverged, no sample", file=sys.stderr)
            continue
        text = lm.generate(lm.from_weights(r["weights"]), args.prompt, args.generate,
                           args.temperature, seed=args.seed)  # fmt: skip
        print(f"--- {r['optimizer']}: {args.generate} characters after {args.prompt!r}",
              file=sys.stderr)  # fmt: skip
        print(args.prompt + text, file=sys.stderr)


def _progress(done: int, total: int, width: int = 30) -> None:
    filled = int(width * done / total)
    bar = "█" * filled + "·" * (width - filled)
    print(f"\r[{bar}] {done}/{total} steps", end="", file=sys.stderr, flush=True)


def _finite_or_none(value):
    """JSON has no NaN or infinity: write null instead."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def cmd_train(args) -> int:
    from vradam.cli import CLIError, require_optional

    require_optional()  # before any output, so a missing extra is one line
    from vradam.sim import export
    from vradam.sim.optimizers import value_text
    from vradam.studies.networks import default_optimizers, get_task
    from vradam.studies.training import (
        TrainConfig,
        gate_activities,
        resolve_device,
        train_steps,
    )

    task = get_task(args.task)
    if args.generate is not None and task.key != "lm":
        raise CLIError(f"--generate needs --task lm (a language model), not {task.key!r}")
    if args.generate is not None and not 0 <= args.generate <= 100_000:
        raise CLIError(f"--generate must be between 0 and 100000 characters, got {args.generate}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise CLIError(f"--temperature must be a finite number ≥ 0, got {args.temperature}")
    optimizers = tuple(args.optimizer) if args.optimizer else default_optimizers(task)
    sharpness_every = args.sharpness_every
    if sharpness_every is None:
        sharpness_every = task.default_sharpness_every
    if sharpness_every and not task.sharpness:
        print(f"note: no sharpness for {task.key}: {task.sharpness_note}; "
              "--sharpness-every ignored", file=sys.stderr)  # fmt: skip
        sharpness_every = 0
    config = TrainConfig(
        task=args.task, optimizers=optimizers,
        steps=args.steps if args.steps is not None else task.default_steps,
        batch_size=args.batch_size, seed=args.seed, device=args.device,
        sharpness_every=sharpness_every, eval_every=args.eval_every,
    )  # fmt: skip
    device = resolve_device(config.device)
    print(f"training {task.name} on {device} with {len(optimizers)} optimizer(s)", file=sys.stderr)
    records, raw, last_row = [], [], {}
    K = len(optimizers)
    run = [dict(task=task.key, seed=config.seed, run_steps=config.steps,
                hyperparams=" ".join(f"{k}={value_text(v)}" for k, v in spec.hyperparams.items()))
           for spec in config.specs()]  # fmt: skip
    interrupted = False
    try:
        for r in train_steps(config):
            raw.append(r)
            last_row[r["optimizer"]] = len(records)
            records.append({**r, **run[r["optimizer"]], "optimizer": r["spec"]})
            if r["optimizer"] == K - 1 and (r["step"] % 10 == 0 or r["step"] == config.steps):
                _progress(r["step"], config.steps)
    except KeyboardInterrupt:  # Ctrl+C: keep the rows trained so far
        interrupted = True
    print(file=sys.stderr)
    gates = gate_activities(raw, config.specs())
    for i, gate in gates.items():  # on the optimizer's last row: its whole run
        records[last_row[i]].update(gate_columns(gate))
    columns = train_columns(task.evaluation_keys, config.sharpness_every > 0, bool(gates))
    meta = dict(task=args.task, optimizers=list(optimizers), steps=config.steps,
                batch_size=config.batch_size, seed=args.seed, device=str(device),
                sharpness_every=config.sharpness_every, eval_every=config.eval_every,
                columns=columns, versions=export.versions(),
                interrupted_at=records[-1]["step"] if interrupted and records else None,
                )  # fmt: skip
    _write_train(args, columns, meta, records)
    if interrupted:
        where = f"to {args.out}" if args.out else "above"
        print(f"interrupted at step {meta['interrupted_at']} of {config.steps}: the "
              f"{len(records)} rows trained so far are written {where}",
              file=sys.stderr)  # fmt: skip
        return 130
    last = {}
    for r in records:
        if "val_loss" in r or r.get("diverged"):
            last[r["optimizer"]] = r
    for spec, r in last.items():
        gate = f"; gate: {r['gate_verdict']}" if "gate_verdict" in r else ""
        print(f"  {spec}: {_status(task, r)}{gate}", file=sys.stderr)
    if args.generate is not None:
        _generate_samples(list(last.values()), args)
    return 0


def _write_train(args, columns: list[str], meta: dict, records: list[dict]) -> None:
    """``train``'s rows as JSON (with the settings and versions) or CSV (the settings and
    versions in a sidecar ``OUT.meta.json`` when written to a file)."""
    import csv
    import json

    fmt = args.format or ("json" if args.out and args.out.suffix == ".json" else "csv")
    out = open(args.out, "w", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            rows = [{k: _finite_or_none(r.get(k)) for k in columns} for r in records]
            out.write(json.dumps({"meta": meta, "records": rows}, allow_nan=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore",
                                    lineterminator="\n")  # fmt: skip
            writer.writeheader()
            writer.writerows(records)
    finally:
        if args.out:
            out.close()
    if args.out and fmt == "csv":
        args.out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=1) + "\n")
