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
    "series",
    "suggest_beta3",
    "train_steps",
]

MAX_STEPS = 5000
MAX_OPTIMIZERS = 8  # trained in lockstep, one model each (train --help states it)
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
        if not 1 <= len(self.optimizers) <= MAX_OPTIMIZERS:
            raise ValueError(f"choose between 1 and {MAX_OPTIMIZERS} optimizers")
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


class _Run:
    """One lock-step training run's shared state: the task, its data, one model and one
    optimizer per spec, the sharpness sample and the power iterations' last vectors."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.task, device, self.specs, self.data, self.models, self.optimizers = setup(config)
        self.n_train = self.data.x_train.shape[0]
        batch = config.batch_size if config.batch_size is not None else self.task.default_batch
        self.batch = None if batch is None or batch >= self.n_train else batch
        self.gen = torch.Generator().manual_seed(config.seed + 1)
        limit = self.task.sharpness_samples or config.sharpness_samples
        n_sharp = min(config.sharpness_samples, limit)
        self.sharp_idx = torch.randperm(self.n_train, generator=self.gen)[:n_sharp].to(device)
        self.device = device
        self.eigvecs: list[np.ndarray | None] = [None] * len(self.specs)
        drawn = self.task.input_2d and config.boundary_every
        self.grid = boundary_grid(self.data) if drawn else None
        self.diverged = [False] * len(self.specs)
        self.sharpness_every = config.sharpness_every if self.task.sharpness else 0

    def batch_at(self, last: bool):
        """The batch of the next update (the full training set for full-batch runs)."""
        data = self.data
        if self.batch is not None and not last:
            idx = torch.randint(0, self.n_train, (self.batch,), generator=self.gen)
            idx = idx.to(self.device)
            return data.x_train[idx], data.y_train[idx]
        return data.x_train, data.y_train

    def evaluate(self, model) -> dict:
        task, data = self.task, self.data
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

    def sharpness(self, i: int, eta: float, step: int, last: bool) -> dict:
        spec, model, opt = self.specs[i], self.models[i], self.optimizers[i]
        params = [p for p in model.parameters() if p.requires_grad]
        kind = spec.info.stability
        P = preconditioner(spec, opt, params) if kind == "preconditioned" else None
        x, y = self.data.x_train[self.sharp_idx], self.data.y_train[self.sharp_idx]

        def loss():  # stochastic objectives: the same draws at every measurement
            gen = torch.Generator().manual_seed(SHARPNESS_SEED)
            return self.task.batch_loss(model, x, y, gen)

        if self.config.sharpness_of == "hessian":
            value, self.eigvecs[i], _ = top_eigenvalue(loss, params, v0=self.eigvecs[i])
            out = dict(sharpness=value, sharpness_kind="hessian")
            if last and P is not None:
                pre, _, _ = top_eigenvalue(loss, params, precond=P)
                out.update(precond_sharpness=pre, precond_threshold=threshold_at(spec, step, eta))
            return out
        if kind == "preconditioned" and P is None:
            return {}  # no second moment yet (before the first update)
        value, self.eigvecs[i], _ = top_eigenvalue(loss, params, precond=P, v0=self.eigvecs[i])
        return dict(
            sharpness=value,
            sharpness_kind="preconditioned" if P is not None else "hessian",
            threshold=threshold_at(spec, max(step, 1), eta),
        )

    def observe(self, i: int, t: int, last: bool, record: dict) -> None:
        """Add what step t measures of optimizer i before its update: evaluations, outputs,
        weights, sharpness and the decision boundary, each on its own schedule."""
        config, model, opt = self.config, self.models[i], self.optimizers[i]
        eta_prev = float(opt.param_groups[0].get("effective_lr", opt.param_groups[0]["lr"]))
        if t % config.eval_every == 0 or last:
            record.update(self.evaluate(model))
        if last and self.task.outputs is not None:
            record.update(self.task.outputs(model, self.data))
        if config.snapshot_every and (t % config.snapshot_every == 0 or last):
            flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
            record["flat_params"] = flat.float().cpu().numpy()
        if self.sharpness_every and (t % self.sharpness_every == 0 or last):
            record.update(self.sharpness(i, eta_prev, max(t, 1), last))
        if self.grid is not None and (t % config.boundary_every == 0 or last):
            xs, ys, points = self.grid
            with torch.no_grad():
                probs = model(points).softmax(-1)
            record["boundary"] = probs.view(ys.numel(), xs.numel(), -1).cpu().numpy()

    def update(self, i: int, t: int, xb, yb, record: dict) -> bool:
        """Optimizer i's update t + 1 on the batch, recorded; False when the loss or the
        gradient is not finite or the loss is beyond the task's limit (nothing moves)."""
        spec, model, opt, task = self.specs[i], self.models[i], self.optimizers[i], self.task
        opt.zero_grad(set_to_none=True)
        loss = task.batch_loss(model, xb, yb, step_generator(self.config.seed, t))
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        grad_sq = float(torch.stack([g.double().square().sum() for g in grads]).sum())
        record["loss"] = float(loss.detach())
        record["grad_norm"] = math.sqrt(grad_sq)
        if not (math.isfinite(record["loss"]) and math.isfinite(grad_sq)):
            return False
        if record["loss"] > task.loss_limit:
            return False
        opt.step()
        group = opt.param_groups[0]
        v2 = velocity_sq_norm(spec, opt)
        record["effective_lr"] = float(group.get("effective_lr", group["lr"]))
        record["velocity_sq_norm"] = grad_sq if v2 is None else float(v2)
        if spec.info.velocity_regularized:  # the group's β3: "auto" calibrates it
            beta3, alpha1 = group["beta3"], group["alpha1"]
            record["clip_active"] = beta3 * record["velocity_sq_norm"] >= alpha1
        return True


def _records(config: TrainConfig) -> Iterator[dict]:
    run = _Run(config)
    for t in range(config.steps + 1):
        last = t == config.steps
        xb, yb = run.batch_at(last)
        for i, spec in enumerate(run.specs):
            record: dict = {"step": t, "optimizer": i, "spec": str(spec),
                            "label": spec.display_name}  # fmt: skip
            if run.diverged[i]:
                record["diverged"] = True
                if last:  # the final record names every evaluation key (NaN: no value)
                    record.update(dict.fromkeys(run.task.evaluation_keys, math.nan))
                yield record
                continue
            run.observe(i, t, last, record)
            if not last:
                if not run.update(i, t, xb, yb, record):
                    run.diverged[i] = True
                    record["diverged"] = True
                    yield record
                    continue
                if not all(torch.isfinite(p).all() for p in run.models[i].parameters()):
                    run.diverged[i] = True
            record["diverged"] = run.diverged[i]
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


def series(records: list[dict], i: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one record field for optimizer ``i`` (records without it
    skipped), both as float arrays."""
    pts = [(r["step"], r[key]) for r in records if r["optimizer"] == i and key in r]
    if not pts:
        return np.array([]), np.array([])
    steps, values = zip(*pts)
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
