"""Running a study: one row per (seed, α0, optimizer) run, and rows to and from CSV."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator

import numpy as np

import landscapes
from vradam.sim import export
from vradam.sim.engine import simulate
from vradam.sim.measures import GateActivity
from vradam.sim.optimizers import OptimizerSpec, gate_activity_of
from vradam.studies.robustness.config import (
    GAP_FLOOR,
    GATE_FIELDS,
    ROW_FIELDS,
    START_JITTER,
    RobustnessConfig,
    run_key,
    with_lr,
)
from vradam.studies.training import TrainConfig, final_records, train_steps


def _gate_columns(gate: GateActivity | None) -> dict:
    return {} if gate is None else gate.columns()


def _versions() -> dict:
    return export.versions()


def robustness_runs(
    config: RobustnessConfig, done: Iterable[tuple] = (), device: str | None = None
) -> Iterator[dict]:
    """Yield one row per run whose :func:`run_key` is not in ``done``: seed by seed, at each
    seed every α0 (ascending) and at each α0 every optimizer, so what a Stop keeps is whole
    seeds first. Row keys: :data:`ROW_FIELDS` (gate columns only for VR optimizers;
    ``value`` NaN when the run diverged). ``device``: the resolved device's name for the
    rows (default: resolved here)."""
    done = set(done)
    settings, versions = config.settings(), _versions()
    if device is None:
        device = device_name(config)
    base = dict(settings, device=device, **versions)
    specs, lrs = config.specs(), config.lrs()
    for seed in config.seed_list():
        todo = [(lr, spec) for lr in lrs for spec in specs
                if run_key({**settings, "optimizer": str(spec), "lr": lr, "seed": seed})
                not in done]  # fmt: skip
        if not todo:
            continue
        if config.kind == "landscape":
            yield from (dict(base, **r) for r in _landscape_rows(config, seed, todo))
            continue
        for lr, spec in todo:
            yield dict(base, **_network_row(config, spec, float(lr), seed))


def device_name(config: RobustnessConfig) -> str:
    """The device the runs use, by name ("cpu" on a landscape: the 2-D engine is numpy)."""
    if config.kind == "landscape":
        return "cpu"
    from vradam.studies.training import resolve_device

    return str(resolve_device(config.device))


def _network_row(config: RobustnessConfig, spec: OptimizerSpec, lr: float, seed: int) -> dict:
    one = with_lr(spec, lr)
    steps = config.n_steps
    cfg = TrainConfig(task=config.task, optimizers=(str(one),), steps=steps,
                      batch_size=config.batch_size, seed=seed, device=config.device,
                      sharpness_every=0, eval_every=steps)  # fmt: skip
    start = time.perf_counter()
    records = list(train_steps(cfg))
    seconds = time.perf_counter() - start
    last = final_records(records)[0]
    value = float(last.get(config.metric, math.nan))
    stopped = [r["step"] for r in records if r.get("diverged")]
    diverged = bool(stopped) or not math.isfinite(value)
    eta = [r["effective_lr"] for r in records if "effective_lr" in r]
    return dict(
        optimizer=str(spec), label=spec.display_name, lr=lr, seed=seed,
        value=math.nan if diverged else value, diverged=diverged,
        diverged_at=stopped[0] if stopped else (steps if diverged else -1),
        start_x=None, start_y=None, seconds=seconds, **_gate_columns(gate_activity_of(one, eta)),
    )  # fmt: skip


def landscape_start(key: str, seed: int) -> tuple[float, float]:
    """Seed s's start on a landscape: its preset start moved by up to :data:`START_JITTER`
    of the domain's width in each coordinate (uniform, seeded), kept inside the domain."""
    ls = landscapes.get(key)
    rng = np.random.default_rng(seed)
    out = []
    for value, (lo, hi) in zip(ls.start, ls.domain):
        moved = value + START_JITTER * (hi - lo) * rng.uniform(-1.0, 1.0)
        out.append(float(min(max(moved, lo), hi)))
    return out[0], out[1]


def _landscape_rows(config: RobustnessConfig, seed: int, todo: list) -> list[dict]:
    """One simulate call for every (α0, optimizer) of one seed: same start, same noise."""
    ls = landscapes.get(config.task)
    start = landscape_start(config.task, seed)
    specs = [with_lr(spec, float(lr)) for lr, spec in todo]
    began = time.perf_counter()
    trajectories = simulate(ls, specs, [start], config.n_steps, noise_std=config.noise_std,
                            seed=seed)  # fmt: skip
    seconds = (time.perf_counter() - began) / len(specs)
    start_gap = float(ls.value(np.array(start))) - ls.min_value
    floor = GAP_FLOOR * max(start_gap, np.finfo(float).tiny)
    rows = []
    for (lr, spec), one, tr in zip(todo, specs, trajectories):
        at = int(tr.diverged_at[0])
        gap = float(tr.loss[0, -1]) - ls.min_value
        diverged = at >= 0 or not math.isfinite(gap)
        gate = gate_activity_of(one, tr.effective_lr[0], tr.lr)
        rows.append(dict(
            optimizer=str(spec), label=spec.display_name, lr=float(lr), seed=seed,
            value=math.nan if diverged else max(gap, floor), diverged=diverged,
            diverged_at=at if at >= 0 else (config.n_steps if diverged else -1),
            start_x=start[0], start_y=start[1], seconds=seconds, **_gate_columns(gate),
        ))  # fmt: skip
    return rows


# ----------------------------------------------------------------------------- rows ⇄ CSV


def _number(text: str) -> float:
    return math.nan if text in ("", None) else float(text)


def parse_row(raw: dict) -> dict:
    """A row read back from CSV (all text) with its numbers, flags and empties typed."""
    row = dict(raw)
    for k in ("lr", "value", "noise_std", "seconds", "start_x", "start_y",
              *GATE_FIELDS[:5]):  # fmt: skip
        if k in row:
            row[k] = _number(row[k])
    for k in ("seed", "steps", "diverged_at"):
        row[k] = int(row[k])
    row["batch_size"] = None if row.get("batch_size") in ("", None) else int(row["batch_size"])
    row["diverged"] = str(row["diverged"]).strip().lower() in ("true", "1")
    for k in ("start_x", "start_y"):
        if k in row and isinstance(row[k], float) and math.isnan(row[k]):
            row[k] = None
    for k in ("gate_label", "gate_verdict"):
        if row.get(k) == "":
            row.pop(k)
    for k in GATE_FIELDS[:5]:
        if k in row and isinstance(row[k], float) and math.isnan(row[k]):
            row.pop(k)
    return row


def rows_csv(rows: Iterable[dict], header: bool = True) -> str:
    """Rows as CSV text (:data:`ROW_FIELDS`; empty cells for None and NaN)."""
    return export.dicts_csv(rows, ROW_FIELDS, header)


def study_rows(config: RobustnessConfig, rows: Iterable[dict]) -> list[dict]:
    """The rows of this study's runs, one per run (a run listed twice: the last), in the
    order the runs run (a results file may hold other studies' rows too)."""
    mine = {}
    wanted = set(config.run_keys())
    for r in rows:
        key = run_key(r)
        if key in wanted:
            mine[key] = r
    return [mine[k] for k in config.run_keys() if k in mine]
