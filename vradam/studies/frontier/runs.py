"""Running a frontier study: one row per (optimizer, schedule, α0, β3, seed) run, and
rows to and from CSV (resumable, as vradam.studies.robustness.runs)."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from vradam.sim import export, measures, schedules
from vradam.studies.frontier.config import (
    GATE_FIELDS,
    ROW_FIELDS,
    FrontierConfig,
    run_key,
)

Progress = Callable[[float, str], None]
RING = 0.5  # the quadratic's seeds: the preset start, then starts at this distance
GOLDEN = math.pi * (3 - math.sqrt(5))  # … at angles k·(golden angle): no two coincide


def _versions() -> dict:
    from vradam.sim import export  # torch: its version

    return export.versions()


def _gate_columns(spec, eta: np.ndarray, rates: np.ndarray) -> dict:
    from vradam.sim.optimizers import gate_activity_of

    gate = gate_activity_of(spec, eta, rates)
    return {} if gate is None else gate.columns()


def _measured(config: FrontierConfig, loss: np.ndarray, final: float, end: int) -> dict:
    """The row's measures from the losses before each update (T,), the loss after the
    last one, and ``end``: the first step of a diverged run's invalid loss (−1: none)."""
    diverged = end >= 0 or not math.isfinite(final)
    window = loss[config.window :]
    osc = measures.upward_movement(window) if not diverged else math.nan
    return dict(oscillation=osc, final_loss=math.nan if diverged else float(final),
                diverged=diverged,
                diverged_at=end if end >= 0 else (config.n_steps if diverged else -1))  # fmt: skip


def frontier_start(seed: int) -> tuple[float, float]:
    """The quadratic's start for ``seed``: the ravine's preset start for seed 0, else
    :data:`RING` away from it at angle seed·(golden angle)."""
    import landscapes

    x, y = _ravine(landscapes).start
    if seed == 0:
        return float(x), float(y)
    a = seed * GOLDEN
    return float(x + RING * math.cos(a)), float(y + RING * math.sin(a))


def _ravine(landscapes):
    return landscapes.ill_conditioned(25.0, 30.0)


def run_frontier(
    config: FrontierConfig,
    done_rows: Iterable[dict] = (),
    progress: Progress | None = None,
    done_keys: Iterable[tuple] = (),
) -> Iterator[dict]:
    """Yield one row (:data:`ROW_FIELDS`) per run not in ``done_rows`` (rows read back or
    kept from an earlier run: their :func:`run_key` is skipped) nor in ``done_keys`` (run
    keys), seed by seed, so that what an interruption keeps is whole seeds first.
    ``progress(fraction, text)`` is called as the runs advance. The baseline's rows carry
    β3 NaN; VRAdam's carry its gate columns."""
    done = {run_key(r) for r in done_rows} | set(done_keys)
    base = dict(problem=config.problem, steps=config.n_steps, window_start=config.window,
                **_versions())  # fmt: skip
    seeds = config.seed_list()
    for k, seed in enumerate(seeds):
        todo = [c for c in config.cells()
                if run_key(dict(c, **base, seed=seed)) not in done]  # fmt: skip
        if not todo:
            continue

        def inner(fraction: float, text: str, k=k, seed=seed) -> None:
            if progress is not None:
                progress((k + fraction) / len(seeds), f"seed {seed}: {text}")

        run = {"lockstep": _lockstep_rows, "landscape": _landscape_rows,
               "network": _network_rows}[config.spec.kind]  # fmt: skip
        for row in run(config, todo, seed, inner):
            cell = {k: v for k, v in row["cell"].items() if k != "spec"}
            yield {**base, **cell, "label": row["cell"]["spec"].display_name, "seed": seed,
                   **{k: v for k, v in row.items() if k != "cell"}}  # fmt: skip
    if progress is not None:
        progress(1.0, "done")


def _rates(config: FrontierConfig, cell: dict) -> np.ndarray:
    return cell["lr"] * schedules.factors(cell["schedule"], config.n_steps)


def _lockstep_rows(config: FrontierConfig, cells: list[dict], seed: int, progress) -> list:
    """Every cell of one seed as one row of the batched teacher MLP (full batch, float32,
    as the Edge of stability page trains it)."""
    import torch

    from vradam.studies.lockstep import TRAIN_DTYPE, Lockstep
    from vradam.studies.threads import one_thread

    steps = config.n_steps
    rates = [_rates(config, c) for c in cells]
    began = time.perf_counter()
    run = Lockstep([c["spec"] for c in cells], [seed] * len(cells), steps, TRAIN_DTYPE, rates)
    B = len(cells)
    loss, eta = np.full((steps, B), np.nan), np.full((steps, B), np.nan)
    end = np.full(B, -1)
    limit = float(torch.finfo(torch.float32).max)
    with one_thread():
        for t in range(steps + 1):
            cache = run.net.forward(run.theta, run.views)
            current = cache["loss"].double().numpy()
            if t == steps:
                break
            loss[t] = current
            with np.errstate(invalid="ignore"):
                dead = ~(np.abs(current) <= limit) & (end < 0)
            if dead.any():  # the row ends here; zeroed so that no NaN reaches the others
                end[dead] = t
                for tensor in (run.theta, run.velocity, run.second):
                    tensor[torch.from_numpy(dead)] = 0
            grad = run.net.gradient(cache, run.grad)
            grad[torch.from_numpy(end >= 0)] = 0
            run.update(grad)
            eta[t] = run.eta.numpy()
            if (t + 1) % max(1, steps // 10) == 0:
                progress((t + 1) / steps, f"{B} runs in lockstep, step {t + 1}")
    seconds = (time.perf_counter() - began) / B
    rows = []
    for i, c in enumerate(cells):
        ok = slice(0, end[i] if end[i] >= 0 else steps)
        rows.append(dict(cell=c, **_measured(config, loss[:, i], current[i], int(end[i])),
                         metric="", metric_value=math.nan, dtype="float32", seconds=seconds,
                         **_gate_columns(c["spec"], eta[ok, i], rates[i][ok])))  # fmt: skip
    return rows


def _landscape_rows(config: FrontierConfig, cells: list[dict], seed: int, progress) -> list:
    """The ravine (engine, float64) from this seed's start: one simulate call per schedule."""
    import landscapes
    from vradam.sim.engine import simulate

    ls, steps, rows = _ravine(landscapes), config.n_steps, []
    for schedule in dict.fromkeys(c["schedule"] for c in cells):
        mine = [c for c in cells if c["schedule"] == schedule]
        began = time.perf_counter()
        trajectories = simulate(ls, [c["spec"] for c in mine], [frontier_start(seed)], steps,
                                schedule=schedule)  # fmt: skip
        seconds = (time.perf_counter() - began) / len(mine)
        for c, tr in zip(mine, trajectories):
            at = int(tr.diverged_at[0])
            measured = _measured(config, tr.loss[0, :steps], float(tr.loss[0, steps]), at)
            rows.append(dict(cell=c, **measured, metric="", metric_value=math.nan,
                             dtype="float64", seconds=seconds,
                             **_gate_columns(c["spec"], tr.effective_lr[0], tr.lr)))  # fmt: skip
        progress(len(rows) / len(cells), f"{len(rows)} of {len(cells)} runs")
    return rows


def _network_rows(config: FrontierConfig, cells: list[dict], seed: int, progress) -> list:
    rows = []
    for k, c in enumerate(cells):
        rows.append(_network_run(config, c, seed))
        progress((k + 1) / len(cells), f"{c['spec'].display_name} ({c['schedule']})")
    return rows


def _network_run(config: FrontierConfig, cell: dict, seed: int) -> dict:
    """One run of a network task, trained as vradam.studies.training.train_steps trains it
    (the same initial weights, batches and draws for this seed), with the schedule's
    rates set on the optimizer before each update; float32 on the CPU."""
    import torch

    from vradam.studies.threads import one_thread
    from vradam.studies.training import TrainConfig, setup, step_generator

    steps, spec = config.n_steps, cell["spec"]
    rates = _rates(config, cell)
    began = time.perf_counter()
    with one_thread():
        train = TrainConfig(task=config.spec.task, optimizers=(str(spec),), steps=steps,
                            seed=seed, device="cpu", sharpness_every=0)  # fmt: skip
        task, _, _, data, (model,), (opt,) = setup(train)
        n_train = data.x_train.shape[0]
        batch = task.default_batch if task.default_batch and task.default_batch < n_train else None
        gen = torch.Generator().manual_seed(seed + 1)
        torch.randperm(n_train, generator=gen)  # train_steps' sharpness draw: same batches
        loss, eta, end = np.full(steps, np.nan), np.full(steps, np.nan), -1
        for t in range(steps):
            if batch is not None:
                idx = torch.randint(0, n_train, (batch,), generator=gen)
                xb, yb = data.x_train[idx], data.y_train[idx]
            else:
                xb, yb = data.x_train, data.y_train
            for group in opt.param_groups:
                group["lr"] = float(rates[t])
            opt.zero_grad(set_to_none=True)
            value = task.batch_loss(model, xb, yb, step_generator(seed, t))
            value.backward()
            loss[t] = float(value.detach())
            if not math.isfinite(loss[t]) or loss[t] > task.loss_limit:
                end = t
                break
            opt.step()
            group = opt.param_groups[0]
            eta[t] = float(group.get("effective_lr", group["lr"]))
        with torch.no_grad():
            final = _full_loss(task, model, data.x_train, data.y_train) if end < 0 else math.nan
            metric = _full_loss(task, model, data.x_val, data.y_val) if end < 0 else math.nan
    ok = slice(0, end if end >= 0 else steps)
    return dict(cell=cell, **_measured(config, loss, final, end), metric=config.spec.metric,
                metric_value=metric, dtype="float32", seconds=time.perf_counter() - began,
                **_gate_columns(spec, eta[ok], rates[ok]))  # fmt: skip


def _full_loss(task, model, x, y) -> float:
    return float(task.loss_fn(model(x), y))


# ----------------------------------------------------------------------------- rows ⇄ CSV

_FLOATS = ("lr", "beta3", "oscillation", "final_loss", "metric_value", "seconds",
           *GATE_FIELDS[:5])  # fmt: skip


def _number(text) -> float:
    return math.nan if text in ("", None) else float(text)


def parse_row(raw: dict) -> dict:
    """A row read back from CSV (all text) with its numbers and flags typed; gate columns
    left out where empty (the baseline's)."""
    row = dict(raw)
    for k in _FLOATS:
        if k in row:
            row[k] = _number(row[k])
    for k in ("seed", "steps", "window_start", "diverged_at"):
        row[k] = int(row[k])
    row["diverged"] = str(row["diverged"]).strip().lower() in ("true", "1")
    for k in GATE_FIELDS:
        value = row.get(k)
        if value == "" or (isinstance(value, float) and math.isnan(value)):
            row.pop(k, None)
    return row


def rows_csv(rows: Iterable[dict], header: bool = True) -> str:
    """Rows as CSV text (:data:`ROW_FIELDS`; empty cells for None and NaN, floats exact)."""
    return export.dicts_csv(rows, ROW_FIELDS, header)


def read_rows(text: str) -> list[dict]:
    """The rows of a frontier CSV's text (ValueError if its columns are not this
    version's)."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != ROW_FIELDS:
        raise ValueError("not a frontier results file of this version (other columns)")
    return [parse_row(r) for r in reader]


def study_rows(config: FrontierConfig, rows: Iterable[dict]) -> list[dict]:
    """The rows of this study's runs, one per run (a run listed twice: the last), in the
    order the runs run (a file may hold other studies' rows too)."""
    wanted, mine = set(config.run_keys()), {}
    for r in rows:
        key = run_key(r)
        if key in wanted:
            mine[key] = r
    return [mine[k] for k in config.run_keys() if k in mine]
