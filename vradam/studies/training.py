"""Train small networks with several optimizers in lockstep: a plain generator of records.

Every optimizer trains its own copy of the *same* initial weights on the *same*
batches, one step at a time in turn, so curves are comparable step by step. The
generator :func:`train_steps` yields one dict per (step, optimizer); the page, the
CLI and the tests all consume it. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from vradam.calibrate import SUGGEST_STEPS, SUGGEST_TARGET, beta3_from_peak
from vradam.sim.measures import GateActivity
from vradam.sim.optimizers import (
    OptimizerSpec,
    gate_activity_of,
    make_optimizer,
    preconditioner,
    threshold_at,
    velocity_sq_norm,
)
from vradam.studies.networks import default_optimizers, get_task
from vradam.studies.sharpness import top_eigenvalue
from vradam.studies.threads import one_thread

__all__ = [
    "TrainConfig",
    "gate_activities",
    "lr_sweep",
    "resolve_device",
    "suggest_beta3",
    "train_steps",
]

MAX_STEPS = 5000
SHARPNESS_SAMPLES = 512  # sharpness of the loss on (at most) this many training examples
SHARPNESS_SEED = 2024  # the draws of a stochastic objective when its sharpness is measured


@dataclass(frozen=True)
class TrainConfig:
    task: str = "moons"
    optimizers: tuple[str, ...] = default_optimizers(get_task("moons"))
    steps: int = 500
    batch_size: int | None = None  # None: the task's default (full batch for the 2-D sets)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    sharpness_every: int = 25  # 0: never
    eval_every: int = 10
    boundary_every: int = 0  # 2-D tasks: predictions on a grid every k steps (0: never)
    # "compared": each optimizer's own sharpness (λmax(P^-½HP^-½) for adaptive ones) and
    # threshold; "hessian": λmax(H) for every optimizer (the paper's Figure 2), and at the
    # last step also precond_sharpness / precond_threshold for adaptive ones
    sharpness_of: str = "compared"
    sharpness_samples: int = SHARPNESS_SAMPLES  # λmax on (at most) this many examples
    snapshot_every: int = 0  # every k steps and at the last: "flat_params" (0: never)

    def __post_init__(self) -> None:
        get_task(self.task)
        if not 1 <= len(self.optimizers) <= 8:
            raise ValueError("choose between 1 and 8 optimizers")
        for text in self.optimizers:
            OptimizerSpec.parse(text)
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch size must be ≥ 1, got {self.batch_size}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.sharpness_every < 0 or self.eval_every < 1 or self.boundary_every < 0:
            raise ValueError("sharpness_every and boundary_every must be ≥ 0, eval_every ≥ 1")
        if self.sharpness_of not in ("compared", "hessian"):
            raise ValueError(f"sharpness_of must be compared or hessian, got {self.sharpness_of!r}")
        if self.sharpness_samples < 1:
            raise ValueError(f"sharpness_samples must be ≥ 1, got {self.sharpness_samples}")
        if self.snapshot_every < 0:
            raise ValueError(f"snapshot_every must be ≥ 0, got {self.snapshot_every}")

    def specs(self) -> list[OptimizerSpec]:
        return [OptimizerSpec.parse(t) for t in self.optimizers]


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA device is available")
    return torch.device(name)


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(-1) == y).float().mean())


def setup(config: TrainConfig):
    """(task, device, specs, data, models, optimizers): identical initial weights for all."""
    task = get_task(config.task)
    device = resolve_device(config.device)
    specs = config.specs()
    data = task.make_data(config.seed).to(device)
    torch.manual_seed(config.seed)
    base = task.make_model().to(device)
    models = [copy.deepcopy(base) for _ in specs]
    optimizers = [make_optimizer(s, m.parameters()) for s, m in zip(specs, models)]
    return task, device, specs, data, models, optimizers


def train_steps(config: TrainConfig) -> Iterator[dict]:
    """Yield one record per (step, optimizer), then a final evaluation record each.

    On the CPU the run holds torch to one intra-op thread (:mod:`vradam.studies.threads`):
    these models are too small to gain from more, and on a busy machine two threads made
    the language model's step 20× slower (1.3 s against 0.06 s, measured).

    Records of step t describe the parameters after t updates: ``loss`` (the batch
    loss of update t+1), ``grad_norm``, ``effective_lr`` and ``velocity_sq_norm`` of
    that update, ``clip_active`` (VR optimizers: β3‖v‖² ≥ α1), and every
    ``eval_every`` steps ``train_loss``/``train_acc``/``val_loss``/``val_acc`` on the
    full sets, every ``sharpness_every`` steps ``sharpness`` (λmax of H, or of
    P^-½HP^-½ for adaptive methods, see ``sharpness_kind``) and its ``threshold``.
    Tasks with their own evaluation record their ``evaluation_keys`` instead (e.g.
    ``val_ppl``, ``val_l1``) and, at the last step, their ``outputs`` (arrays); tasks
    without sharpness support never record sharpness. A run whose loss becomes non-finite
    or exceeds the task's ``loss_limit``, or whose weights become non-finite, stops:
    ``diverged`` is True from then on, and its last record has NaN for every evaluation key.
    With ``snapshot_every`` = k > 0, records of every k-th step and the last also hold
    ``flat_params``: the weights as one float32 array (``parameters_to_vector`` order).
    """
    cpu = resolve_device(config.device).type == "cpu"
    with one_thread() if cpu else contextlib.nullcontext():
        yield from _records(config)


def _records(config: TrainConfig) -> Iterator[dict]:
    task, device, specs, data, models, optimizers = setup(config)
    n_train = data.x_train.shape[0]
    batch = config.batch_size if config.batch_size is not None else task.default_batch
    batch = None if batch is None or batch >= n_train else batch
    gen = torch.Generator().manual_seed(config.seed + 1)
    n_sharp = min(config.sharpness_samples, task.sharpness_samples or config.sharpness_samples)
    sharp_idx = torch.randperm(n_train, generator=gen)[:n_sharp].to(device)
    eigvecs: list[np.ndarray | None] = [None] * len(specs)
    grid = boundary_grid(data) if task.input_2d and config.boundary_every else None
    diverged = [False] * len(specs)
    sharpness_every = config.sharpness_every if task.sharpness else 0

    def evaluate(model) -> dict:
        if task.evaluate is not None:
            return task.evaluate(model, data)
        with torch.no_grad():
            out = {}
            for split, x, y in (("train", data.x_train, data.y_train),
                                ("val", data.x_val, data.y_val)):  # fmt: skip
                logits = model(x)
                out[f"{split}_loss"] = float(task.loss_fn(logits, y))
                if task.classification:
                    out[f"{split}_acc"] = _accuracy(logits, y)
            return out

    def sharpness(i: int, eta: float, step: int, last: bool) -> dict:
        spec, model, opt = specs[i], models[i], optimizers[i]
        params = [p for p in model.parameters() if p.requires_grad]
        kind = spec.info.stability
        P = preconditioner(spec, opt, params) if kind == "preconditioned" else None
        x, y = data.x_train[sharp_idx], data.y_train[sharp_idx]

        def loss():  # stochastic objectives: the same draws at every measurement
            return task.batch_loss(model, x, y, torch.Generator().manual_seed(SHARPNESS_SEED))

        if config.sharpness_of == "hessian":
            value, eigvecs[i], _ = top_eigenvalue(loss, params, v0=eigvecs[i])
            out = dict(sharpness=value, sharpness_kind="hessian")
            if last and P is not None:
                pre, _, _ = top_eigenvalue(loss, params, precond=P)
                out.update(precond_sharpness=pre, precond_threshold=threshold_at(spec, step, eta))
            return out
        if kind == "preconditioned" and P is None:
            return {}  # no second moment yet (before the first update)
        value, eigvecs[i], _ = top_eigenvalue(loss, params, precond=P, v0=eigvecs[i])
        return dict(
            sharpness=value,
            sharpness_kind="preconditioned" if P is not None else "hessian",
            threshold=threshold_at(spec, max(step, 1), eta),
        )

    for t in range(config.steps + 1):
        last = t == config.steps
        if batch is not None and not last:
            idx = torch.randint(0, n_train, (batch,), generator=gen).to(device)
            xb, yb = data.x_train[idx], data.y_train[idx]
        else:
            xb, yb = data.x_train, data.y_train
        for i, (spec, model, opt) in enumerate(zip(specs, models, optimizers)):
            record: dict = {
                "step": t,
                "optimizer": i,
                "spec": str(spec),
                "label": spec.display_name,
            }
            if diverged[i]:
                record["diverged"] = True
                if last:  # the final record names every evaluation key (NaN: no value)
                    record.update(dict.fromkeys(task.evaluation_keys, math.nan))
                yield record
                continue
            eta_prev = float(opt.param_groups[0].get("effective_lr", opt.param_groups[0]["lr"]))
            if t % config.eval_every == 0 or last:
                record.update(evaluate(model))
            if last and task.outputs is not None:
                record.update(task.outputs(model, data))
            if config.snapshot_every and (t % config.snapshot_every == 0 or last):
                flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
                record["flat_params"] = flat.float().cpu().numpy()
            if sharpness_every and (t % sharpness_every == 0 or last):
                record.update(sharpness(i, eta_prev, max(t, 1), last))
            if grid is not None and (t % config.boundary_every == 0 or last):
                with torch.no_grad():
                    probs = model(grid[2]).softmax(-1)
                record["boundary"] = probs.view(grid[1].numel(), grid[0].numel(), -1).cpu().numpy()
            if not last:
                opt.zero_grad(set_to_none=True)
                loss = task.batch_loss(model, xb, yb, step_generator(config.seed, t))
                loss.backward()
                grads = [p.grad for p in model.parameters() if p.grad is not None]
                grad_sq = float(torch.stack([g.double().square().sum() for g in grads]).sum())
                record["loss"] = float(loss.detach())
                record["grad_norm"] = math.sqrt(grad_sq)
                finite = math.isfinite(record["loss"]) and math.isfinite(grad_sq)
                if not finite or record["loss"] > task.loss_limit:
                    diverged[i] = True
                    record["diverged"] = True
                    yield record
                    continue
                opt.step()
                group = opt.param_groups[0]
                eta = float(group.get("effective_lr", group["lr"]))
                v2 = velocity_sq_norm(spec, opt)
                record["effective_lr"] = eta
                record["velocity_sq_norm"] = grad_sq if v2 is None else float(v2)
                if spec.info.velocity_regularized:  # the group's β3: "auto" calibrates it
                    beta3, alpha1 = group["beta3"], group["alpha1"]
                    record["clip_active"] = beta3 * record["velocity_sq_norm"] >= alpha1
                if not all(torch.isfinite(p).all() for p in model.parameters()):
                    diverged[i] = True
            record["diverged"] = diverged[i]
            yield record


def step_generator(seed: int, step: int) -> torch.Generator:
    """The random draws of update ``step`` (noise, times, trajectories): a fresh generator,
    so every optimizer gets the same draws at the same step."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step + 17) % 2**63)


GRID = 64


def boundary_grid(data, n: int = GRID):
    """(xs, ys, points (n·n, 2)) covering the data with a 10 % margin."""
    x = torch.cat([data.x_train, data.x_val]).cpu()
    lo, hi = x.min(0).values, x.max(0).values
    pad = 0.1 * (hi - lo)
    xs = torch.linspace(float(lo[0] - pad[0]), float(hi[0] + pad[0]), n)
    ys = torch.linspace(float(lo[1] - pad[1]), float(hi[1] + pad[1]), n)
    Y, X = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([X.reshape(-1), Y.reshape(-1)], dim=1).to(data.x_train)
    return xs, ys, points


def suggest_beta3(config: TrainConfig, index: int) -> float:
    """β3 by the optimizer's rule (vradam.calibrate.beta3_from_peak, as ``beta3="auto"``
    calibrates it) over the app's window: SUGGEST_TARGET over the largest ‖v‖² of this
    optimizer's first SUGGEST_STEPS steps, trained with the gate off. 1.0 when there is
    no finite, positive ‖v‖² to measure."""
    spec = config.specs()[index]
    if "beta3" not in spec.hyperparams:
        raise ValueError(f"{spec.info.name} has no β3")
    probe = OptimizerSpec(spec.key, {**dict(spec.params), "beta3": 0.0})
    cfg = replace(config, optimizers=(str(probe),), steps=min(SUGGEST_STEPS, config.steps),
                  sharpness_every=0, eval_every=10_000, boundary_every=0)  # fmt: skip
    peak = max((r.get("velocity_sq_norm", 0.0) for r in train_steps(cfg)), default=0.0)
    try:
        return beta3_from_peak(peak, SUGGEST_TARGET)
    except ValueError:
        return 1.0


def final_records(records: list[dict]) -> dict[int, dict]:
    """The last record of each optimizer that has an evaluation."""
    out: dict[int, dict] = {}
    for r in records:
        if "val_loss" in r or r.get("diverged"):
            out[r["optimizer"]] = r
    return out


def gate_activities(records: list[dict], specs: list[OptimizerSpec]) -> dict[int, GateActivity]:
    """What the gate did in each VR optimizer's run (:func:`vradam.sim.measures.gate_activity`
    over the ``effective_lr`` of its updates, against its α0), by optimizer index; the
    other optimizers are absent. A diverged run is measured up to its last update."""
    out: dict[int, GateActivity] = {}
    for i, spec in enumerate(specs):
        eta = [r["effective_lr"] for r in records if r["optimizer"] == i and "effective_lr" in r]
        gate = gate_activity_of(spec, eta)
        if gate is not None:
            out[i] = gate
    return out


SWEEP_FACTORS = (1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8)


def sweep_rows(
    config: TrainConfig, factors=SWEEP_FACTORS, steps: int | None = None
) -> Iterator[dict]:
    """Rows of :func:`lr_sweep`, one short run at a time (for progress bars)."""
    steps = steps or max(50, config.steps // 2)
    for i, spec in enumerate(config.specs()):
        base = spec.hyperparams["lr"]
        for f in factors:
            lr = base * f
            one = OptimizerSpec(spec.key, {**dict(spec.params), "lr": lr}, spec.label)
            cfg = replace(config, optimizers=(str(one),), steps=steps, sharpness_every=0,
                          eval_every=steps, boundary_every=0)  # fmt: skip
            last = final_records(list(train_steps(cfg)))[0]
            yield dict(
                optimizer=i, label=spec.display_name, lr=lr, factor=f,
                train_loss=last.get("train_loss", math.nan),
                val_loss=last.get("val_loss", math.nan),
                val_acc=last.get("val_acc", math.nan), diverged=bool(last.get("diverged")),
            )  # fmt: skip


def lr_sweep(config: TrainConfig, factors=SWEEP_FACTORS, steps: int | None = None) -> list[dict]:
    """Final losses of short runs of each optimizer at its α0 × each factor.

    Returns rows (optimizer index, label, lr, final train/val loss and accuracy,
    diverged): the robustness picture, which optimizer keeps working as α0 grows.
    """
    return list(sweep_rows(config, factors, steps))


def best_lrs(rows: list[dict]) -> dict[int, float]:
    """Each optimizer's α0 with the lowest final training loss among non-diverged runs."""
    best: dict[int, tuple[float, float]] = {}
    for r in rows:
        if r["diverged"] or not math.isfinite(r["train_loss"]):
            continue
        if r["optimizer"] not in best or r["train_loss"] < best[r["optimizer"]][0]:
            best[r["optimizer"]] = (r["train_loss"], r["lr"])
    return {i: lr for i, (_, lr) in best.items()}


def curves(records: list[dict], key: str, n_optimizers: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(steps, values) per optimizer for one record field (missing values skipped)."""
    out = []
    for i in range(n_optimizers):
        pts = [(r["step"], r[key]) for r in records if r["optimizer"] == i and key in r]
        steps = np.array([p[0] for p in pts], dtype=float)
        values = np.array([p[1] for p in pts], dtype=float)
        out.append((steps, values))
    return out
