"""A network's own loss landscape: every optimizer's path on one plane of weight space.

After a Networks run, :func:`landscape` trains the run again with snapshots of the weights
every k steps (the same seed, batches and draws: the same trajectories, since sharpness
and evaluation do not move the weights), centres them on a reference (the lowest final
loss's weights, or the shared initial weights), and picks two directions:

* ``pca``: the top two principal directions of all optimizers' snapshots together, from
  the eigenvectors of their T×T Gram matrix (cheap for any number of weights), with the
  share of the snapshots' squared distance from the reference that each axis explains;
* ``random``: Li et al.'s (2018) filter-normalised Gaussian directions, each filter (row
  of a weight matrix or kernel) scaled to the norm of the reference's filter, and every
  bias or normalisation parameter (one dimension) left out, as they do.

The loss on a grid over the plane (a range covering every projected path, with a margin)
comes from ``torch.func.functional_call``, vmapped over chunks of grid points, on one
thread (:mod:`vradam.studies.threads`). The grid is made coarser when the asked one would
take longer than a budget, measured on the paths' own points first. Along each path it
returns the true loss at the snapshot beside the surface's value at its projection (and
the distance the snapshot lies off the plane). What is drawn from a landscape besides
(its JSON and CSV, the slice between two final points, the sharpness marks) is in
:mod:`vradam.studies.landscape_views`. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, jvp, vmap

from vradam.studies.networks import get_task
from vradam.studies.threads import one_thread
from vradam.studies.training import TrainConfig, resolve_device, train_steps

__all__ = [
    "GRID",
    "Landscape",
    "LandscapeConfig",
    "Plane",
    "Snapshots",
    "SurfaceLoss",
    "choose_grid",
    "collect_snapshots",
    "filter_normalized_directions",
    "landscape",
    "pca_plane",
    "plane_range",
    "random_plane",
]

GRID = 41  # points per axis asked for by default (Li et al.: 51)
MIN_GRID = 11  # the coarsest grid the budget may choose
BUDGET_S = 10.0  # the grid's evaluation: a coarser grid when the asked one would take longer
SNAPSHOTS = 50  # snapshots per optimizer when the interval is automatic (and the last step)
MARGIN = 0.25  # the grid's range: the projected paths' span plus this share on each side
CHUNK = 128  # grid points per vmapped call
OBJECTIVE_EXAMPLES = 64  # tasks with their own objective: at most this many examples
SURFACE_SEED = 2024  # their random draws (noise, times, trajectories), the same everywhere
RANDOM_SPAN = 1.0  # a random plane's grid covers at least ±1 (Li et al.'s range)
PLANES = ("pca", "random")
REFERENCES = ("best", "init")
SPLITS = ("train", "val")


@dataclass(frozen=True)
class LandscapeConfig:
    plane: str = "pca"  # pca | random (filter-normalised, Li et al.)
    reference: str = "best"  # best: the lowest final loss's weights (on the split); init: start
    split: str = "train"  # the loss the surface shows: training or validation set
    grid: int = GRID  # points per axis asked for
    budget_s: float | None = BUDGET_S  # a coarser grid if the asked one takes longer (None: never)
    snapshot_every: int = 0  # 0: about SNAPSHOTS snapshots per optimizer
    margin: float = MARGIN
    direction_seed: int = 0  # the random plane's draws
    sharpness: bool = False  # measure λmax in the re-run too (the train config's interval)

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise ValueError(f"plane must be one of {', '.join(PLANES)}, got {self.plane!r}")
        if self.reference not in REFERENCES:
            raise ValueError(
                f"reference must be one of {', '.join(REFERENCES)}, got {self.reference!r}"
            )
        if self.split not in SPLITS:
            raise ValueError(f"split must be train or val, got {self.split!r}")
        if not 3 <= self.grid <= 201:
            raise ValueError(f"grid must be between 3 and 201 points per axis, got {self.grid}")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ValueError(f"budget_s must be positive (or None), got {self.budget_s}")
        if self.snapshot_every < 0:
            raise ValueError(f"snapshot_every must be ≥ 0, got {self.snapshot_every}")
        if not 0 <= self.margin <= 5:
            raise ValueError(f"margin must be between 0 and 5, got {self.margin}")


# ----------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshots:
    labels: tuple[str, ...]
    steps: tuple[np.ndarray, ...]  # per optimizer (T_i,)
    weights: tuple[np.ndarray, ...]  # per optimizer (T_i, P) float32
    diverged: tuple[bool, ...]
    every: int
    sharpness: tuple[dict, ...] = ()  # rows: optimizer, step, sharpness, threshold, kind


SHARPNESS_KEYS = ("optimizer", "step", "sharpness", "threshold", "sharpness_kind")


def snapshot_interval(steps: int, every: int = 0) -> int:
    """``every``, or (0) the interval that gives about SNAPSHOTS snapshots of a run."""
    return every or max(1, math.ceil(steps / SNAPSHOTS))


def collect_snapshots(
    config: TrainConfig,
    every: int = 0,
    on_step: Callable[[int], None] | None = None,
    sharpness: bool = False,
) -> Snapshots:
    """Train ``config`` again and keep each optimizer's weights every ``every`` steps (0:
    :func:`snapshot_interval`) and at its last step; evaluation only at the ends, and
    sharpness (at ``config.sharpness_every``) only when ``sharpness``. ``on_step(t)`` is
    called once per step (progress)."""
    every = snapshot_interval(config.steps, every)
    run = replace(config, snapshot_every=every, eval_every=config.steps, boundary_every=0,
                  sharpness_every=config.sharpness_every if sharpness else 0)  # fmt: skip
    specs = config.specs()
    steps: list[list[int]] = [[] for _ in specs]
    weights: list[list[np.ndarray]] = [[] for _ in specs]
    diverged = [False] * len(specs)
    sharp = []
    for r in train_steps(run):
        i = r["optimizer"]
        if on_step is not None and i == 0:
            on_step(r["step"])
        if r.get("diverged"):
            diverged[i] = True
        if "sharpness" in r:
            sharp.append({k: r[k] for k in SHARPNESS_KEYS if k in r})
        if "flat_params" in r and np.isfinite(r["flat_params"]).all():
            steps[i].append(r["step"])
            weights[i].append(r["flat_params"])
    return Snapshots(
        labels=tuple(s.display_name for s in specs),
        steps=tuple(np.asarray(s, dtype=int) for s in steps),
        weights=tuple(np.stack(w) if w else np.zeros((0, 0), np.float32) for w in weights),
        diverged=tuple(diverged),
        every=every,
        sharpness=tuple(sharp),
    )


# ----------------------------------------------------------------------------- the plane


@dataclass(frozen=True)
class Plane:
    """θ(a, b) = center + a·directions[0] + b·directions[1]."""

    kind: str  # "pca" or "random"
    center: np.ndarray  # (P,) float64
    directions: np.ndarray  # (2, P) float64; orthonormal for "pca"
    explained: np.ndarray  # (2,) share of Σ‖θ − center‖² of the fitted snapshots per axis

    def coordinates(self, weights: np.ndarray) -> np.ndarray:
        """(T, 2): least-squares coordinates of weights (T, P) on the plane (for orthonormal
        directions, the dot products of θ − center with them)."""
        M = np.asarray(weights, dtype=np.float64) - self.center
        D = self.directions
        return np.linalg.solve(D @ D.T, D @ M.T).T

    def points(self, ab: np.ndarray) -> np.ndarray:
        """(N, P): the weights at plane coordinates ab (N, 2)."""
        return self.center + np.asarray(ab, dtype=np.float64) @ self.directions

    def off_plane(self, weights: np.ndarray) -> np.ndarray:
        """(T,): each snapshot's distance from the plane (from its projection)."""
        M = np.asarray(weights, dtype=np.float64) - self.center
        return np.linalg.norm(M - self.coordinates(weights) @ self.directions, axis=1)


def _axis_shares(M: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Σ over rows of (m·û_k)² / Σ‖m‖² for each unit direction û_k (0 when M is 0)."""
    total = float(np.sum(M * M))
    if total == 0.0:
        return np.zeros(len(directions))
    units = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    return np.sum((M @ units.T) ** 2, axis=0) / total


def pca_plane(weights: np.ndarray, center: np.ndarray, seed: int = 0) -> Plane:
    """The plane through ``center`` spanned by the top two principal directions of
    ``weights`` (T, P) − center, from the eigenvectors of their Gram matrix (T × T):
    v_k = Mᵀu_k / s_k. Each direction's sign puts the snapshot farthest along it on its
    positive side. When the snapshots span fewer than two directions, the missing one is a
    seeded random direction orthogonal to the others (explaining nothing)."""
    center = np.asarray(center, dtype=np.float64)
    M = np.asarray(weights, dtype=np.float64) - center
    G = M @ M.T
    evals, U = np.linalg.eigh(G)  # ascending
    order = np.argsort(evals)[::-1]
    evals, U = np.clip(evals[order], 0.0, None), U[:, order]
    total = float(evals.sum())
    directions, explained = [], []
    rng = np.random.default_rng(seed)
    for k in range(2):
        s2 = float(evals[k]) if k < evals.size else 0.0
        if s2 > 1e-12 * max(total, 1e-300):
            v = U[:, k] @ M / math.sqrt(s2)
            for w in directions:  # rounding: keep the pair orthonormal
                v = v - (v @ w) * w
            v /= np.linalg.norm(v)
            proj = M @ v
            if proj[np.argmax(np.abs(proj))] < 0:
                v = -v
            explained.append(s2 / total)
        else:
            v = rng.standard_normal(center.size)
            for w in directions:
                v = v - (v @ w) * w
            v /= np.linalg.norm(v)
            explained.append(0.0)
        directions.append(v)
    return Plane("pca", center, np.stack(directions), np.asarray(explained))


def filter_normalized_directions(
    model: nn.Module, center: np.ndarray, seed: int = 0, n: int = 2
) -> np.ndarray:
    """(n, P): Li et al.'s directions for the weights ``center`` (in ``model``'s
    parameter order): Gaussian, each filter d_f (a row of a weight matrix, one output
    channel of a kernel) scaled to ‖d_f‖ = ‖θ_f‖ of the reference's filter, and zero on
    every parameter of one dimension (biases, normalisation weights), which they ignore."""
    gen = torch.Generator().manual_seed(seed)
    ref = torch.as_tensor(np.asarray(center, dtype=np.float64))
    out = []
    for _ in range(n):
        parts, at = [], 0
        for p in model.parameters():
            w = ref[at : at + p.numel()].view(p.shape)
            at += p.numel()
            d = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if d.dim() <= 1:
                d.zero_()
            else:
                rows, wrows = d.view(d.shape[0], -1), w.reshape(w.shape[0], -1)
                rows.mul_(wrows.norm(dim=1, keepdim=True) / (rows.norm(dim=1, keepdim=True)
                                                             + 1e-10))  # fmt: skip
            parts.append(d.reshape(-1))
        out.append(torch.cat(parts).numpy())
    return np.stack(out)


def random_plane(model: nn.Module, center: np.ndarray, fit: np.ndarray, seed: int = 0) -> Plane:
    """The plane through ``center`` along two filter-normalised random directions; the
    shares it explains are measured on the snapshots ``fit`` (T, P)."""
    center = np.asarray(center, dtype=np.float64)
    D = filter_normalized_directions(model, center, seed)
    M = np.asarray(fit, dtype=np.float64) - center
    return Plane("random", center, D, _axis_shares(M, D))


def plane_range(
    paths: list[np.ndarray], margin: float = MARGIN, at_least: float = 0.0
) -> np.ndarray:
    """[[a0, a1], [b0, b1]]: the span of the paths' points (T_i, 2) and the origin (the
    reference), widened by ``margin`` of the span on each side, and covering at least
    ±``at_least`` (a random plane: Li et al.'s ±1 in filter-normalised units). An axis
    along which nothing moves gets the other's span (or ±1)."""
    pts = np.concatenate([np.zeros((1, 2)), *[p[np.isfinite(p).all(1)] for p in paths]])
    lo, hi = pts.min(0), pts.max(0)
    span = hi - lo
    wide = float(span.max())
    fallback = wide if wide > 0 else 2.0
    for k in range(2):
        if span[k] <= 1e-9 * fallback:
            mid = (lo[k] + hi[k]) / 2
            lo[k], hi[k], span[k] = mid - fallback / 2, mid + fallback / 2, fallback
    out = np.stack([lo - margin * span, hi + margin * span], axis=1)
    out[:, 0] = np.minimum(out[:, 0], -at_least)
    out[:, 1] = np.maximum(out[:, 1], at_least)
    return out


def choose_grid(
    asked: int, seconds_per_point: float, budget_s: float | None, minimum: int = MIN_GRID
) -> int:
    """Points per axis: ``asked``, or fewer (never under ``minimum``) so that n² points at
    ``seconds_per_point`` fit in ``budget_s``."""
    if budget_s is None or seconds_per_point <= 0:
        return asked
    fit = int(math.sqrt(budget_s / seconds_per_point))
    return max(min(asked, minimum), min(asked, fit))


# ----------------------------------------------------------------------------- the loss


def _is_convolutional(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d) for m in model.modules())


class SurfaceLoss:
    """The loss of a task's model at many weight vectors, batched.

    Tasks without their own objective: ``task.loss_fn(model(x), y)`` on the whole split,
    with ``torch.func.functional_call``, vmapped over chunks of weight vectors; for
    convolutional models on the CPU one vector at a time (vmap turns the convolutions into
    grouped ones, and the digits CNN's 41×41 grid took 71 s against 25 s, measured). Tasks
    with their own objective (the paper's): the objective on at most OBJECTIVE_EXAMPLES
    examples of the split (evenly spread) with the same fixed draws at every point.
    """

    def __init__(self, config: TrainConfig, split: str = "train", chunk: int = CHUNK):
        if split not in SPLITS:
            raise ValueError(f"split must be train or val, got {split!r}")
        self.task = get_task(config.task)
        self.device = resolve_device(config.device)
        data = self.task.make_data(config.seed).to(self.device)
        x, y = (data.x_train, data.y_train) if split == "train" else (data.x_val, data.y_val)
        if self.task.objective is not None:
            stride = max(1, x.shape[0] // OBJECTIVE_EXAMPLES)
            x, y = x[::stride][:OBJECTIVE_EXAMPLES], y[::stride][:OBJECTIVE_EXAMPLES]
        self.x, self.y, self.split, self.chunk = x, y, split, chunk
        with torch.random.fork_rng(devices=[]):  # the template's own weights never count
            self.model = self.task.make_model().to(self.device)
        self.model.requires_grad_(False)
        named = list(self.model.named_parameters())
        self.names = [n for n, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        self.n_params = sum(self.sizes)
        conv_on_cpu = self.device.type == "cpu" and _is_convolutional(self.model)
        self.method = "loop" if self.task.objective is not None or conv_on_cpu else "vmap"

    @property
    def n_examples(self) -> int:
        return int(self.x.shape[0])

    def _one(self, flat: Tensor) -> Tensor:
        params = dict(zip(self.names, (p.view(s) for p, s in
                                       zip(flat.split(self.sizes), self.shapes))))  # fmt: skip
        return self.task.loss_fn(functional_call(self.model, params, (self.x,)), self.y)

    def _objective(self, flat: Tensor) -> Tensor:
        nn.utils.vector_to_parameters(flat, self.model.parameters())
        gen = torch.Generator().manual_seed(SURFACE_SEED)
        return self.task.batch_loss(self.model, self.x, self.y, gen)

    def _chunk_losses(self, thetas: Tensor) -> Tensor:
        if self.method == "vmap":
            return vmap(self._one)(thetas)
        one = self._objective if self.task.objective is not None else self._one
        return torch.stack([one(t) for t in thetas])

    def _run(self, chunks: Iterator[Tensor], n: int, progress=None) -> np.ndarray:
        out, done = [], 0
        cpu = self.device.type == "cpu"
        with torch.no_grad(), one_thread() if cpu else contextlib.nullcontext():
            for thetas in chunks:
                out.append(self._chunk_losses(thetas).double().cpu())
                done += thetas.shape[0]
                if progress is not None:
                    progress(done / n)
        if not out:
            return np.zeros(0)
        values = torch.cat(out).numpy()
        return np.where(np.isfinite(values), values, np.nan)

    def at(self, weights: np.ndarray, progress=None) -> np.ndarray:
        """(N,): the loss at each row of ``weights`` (N, P)."""
        W = np.asarray(weights)
        chunks = (torch.as_tensor(W[k : k + self.chunk], dtype=torch.float32, device=self.device)
                  for k in range(0, W.shape[0], self.chunk))  # fmt: skip
        return self._run(chunks, W.shape[0], progress)

    def curvature(self, theta: np.ndarray, direction: np.ndarray) -> float:
        """uᵀHu for the unit vector u along ``direction``: the loss's curvature at ``theta``
        along that line, a lower bound on λmax(H) there (a Hessian-vector product, exact
        up to float32). NaN for a task with its own objective (its loss is not a function
        of the weights alone here)."""
        if self.task.objective is not None:
            return math.nan
        th = torch.as_tensor(np.asarray(theta), dtype=torch.float32, device=self.device)
        u = torch.as_tensor(np.asarray(direction), dtype=torch.float32, device=self.device)
        u = u / u.norm()
        cpu = self.device.type == "cpu"
        with one_thread() if cpu else contextlib.nullcontext():
            _, hu = jvp(grad(self._one), (th,), (u,))
        return float(u @ hu)

    def on_plane(self, plane: Plane, ab: np.ndarray, progress=None) -> np.ndarray:
        """(N,): the loss at plane coordinates ab (N, 2), built chunk by chunk (a grid of a
        large model's weights would not fit in memory at once)."""
        ab = np.asarray(ab, dtype=np.float64)
        center = torch.as_tensor(plane.center, device=self.device)
        D = torch.as_tensor(plane.directions, device=self.device)

        def chunks():
            for k in range(0, ab.shape[0], self.chunk):
                c = torch.as_tensor(ab[k : k + self.chunk], device=self.device)
                yield (center + c @ D).float()

        return self._run(chunks(), ab.shape[0], progress)


# ----------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Landscape:
    task: str
    labels: tuple[str, ...]
    plane: Plane
    reference: str  # "best" or "init"
    reference_index: int | None  # the optimizer whose final weights are the centre ("best")
    split: str
    steps: tuple[np.ndarray, ...]  # per optimizer (T_i,) snapshot steps
    coords: tuple[np.ndarray, ...]  # per optimizer (T_i, 2) projected path
    true_loss: tuple[np.ndarray, ...]  # (T_i,) the loss at the snapshot
    surface_loss: tuple[np.ndarray, ...]  # (T_i,) the surface's value at its projection
    off_plane: tuple[np.ndarray, ...]  # (T_i,) ‖θ − projection‖
    diverged: tuple[bool, ...]
    finals: np.ndarray  # (K, P) float32 last snapshot of each optimizer (NaN: none)
    xs: np.ndarray  # (n,) plane coordinate a
    ys: np.ndarray  # (n,) plane coordinate b
    Z: np.ndarray  # (n, n) loss, rows along ys
    reference_loss: float
    grid_asked: int
    snapshot_every: int
    steps_total: int
    method: str  # how the grid was evaluated (SurfaceLoss.method)
    n_params: int
    n_examples: int
    seconds_per_point: float  # measured on the paths' points
    grid_seconds: float
    train_seconds: float
    sharpness_rows: tuple[dict, ...] = ()  # measured in the re-run (LandscapeConfig.sharpness)

    @property
    def grid(self) -> int:
        return int(self.xs.size)

    def gap(self, i: int) -> np.ndarray:
        """(T_i,): true loss − surface value along optimizer i's path."""
        return self.true_loss[i] - self.surface_loss[i]

    def grid_minimum(self) -> tuple[float, float, float]:
        """(a, b, loss) of the lowest grid point (NaN when no value is finite)."""
        if not np.isfinite(self.Z).any():
            return math.nan, math.nan, math.nan
        r, c = np.unravel_index(np.nanargmin(self.Z), self.Z.shape)
        return float(self.xs[c]), float(self.ys[r]), float(self.Z[r, c])

    def estimated_seconds(self, n: int) -> float:
        """The grid evaluation's cost at n × n points, from the measured rate."""
        return n * n * self.seconds_per_point


def _best(true: list[np.ndarray], diverged: tuple[bool, ...]) -> int | None:
    finals = [(t[-1], i) for i, t in enumerate(true)
              if t.size and not diverged[i] and np.isfinite(t[-1])]  # fmt: skip
    return min(finals)[1] if finals else None


def landscape(
    train: TrainConfig,
    config: LandscapeConfig = LandscapeConfig(),
    progress: Callable[[float, str], None] | None = None,
) -> Landscape:
    """The run ``train`` on one plane: snapshots, plane, projected paths, grid of losses.

    ``progress(fraction, text)`` is told how far it is (training first, then the grid).
    """
    say = progress or (lambda f, text: None)
    start = time.perf_counter()
    snaps = collect_snapshots(
        train, config.snapshot_every,
        lambda t: say(0.6 * t / max(train.steps, 1), f"training again: step {t}"),
        sharpness=config.sharpness,
    )  # fmt: skip
    train_s = time.perf_counter() - start
    say(0.6, "the loss along the paths")
    loss = SurfaceLoss(train, config.split)
    tic = time.perf_counter()
    true = [loss.at(w) for w in snaps.weights]
    n_points = sum(w.shape[0] for w in snaps.weights)
    per_point = (time.perf_counter() - tic) / max(n_points, 1)
    K = len(snaps.labels)
    usable = [i for i in range(K) if not snaps.diverged[i] and snaps.weights[i].shape[0]]
    if not usable:  # every run diverged: fit what there is
        usable = [i for i in range(K) if snaps.weights[i].shape[0]]
    init = snaps.weights[usable[0]][0] if usable else None
    if init is None:
        raise ValueError("no snapshot to draw: every run diverged before its first step")
    best = _best(true, snaps.diverged) if config.reference == "best" else None
    center = (snaps.weights[best][-1] if best is not None else init).astype(np.float64)
    fit = np.concatenate([snaps.weights[i] for i in usable])
    if config.plane == "pca":
        plane = pca_plane(fit, center, config.direction_seed)
    else:
        plane = random_plane(loss.model, center, fit, config.direction_seed)
    coords = [plane.coordinates(w) if w.shape[0] else np.zeros((0, 2)) for w in snaps.weights]
    say(0.65, "the surface under the paths")
    tic = time.perf_counter()
    surface = [loss.on_plane(plane, c) for c in coords]
    # the rate for the budget: the slower of the two measurements (the machine may be busy)
    per_point = max(per_point, (time.perf_counter() - tic) / max(n_points, 1))
    off = [plane.off_plane(w) if w.shape[0] else np.zeros(0) for w in snaps.weights]
    at_least = RANDOM_SPAN if config.plane == "random" else 0.0
    (a0, a1), (b0, b1) = plane_range([coords[i] for i in usable], config.margin, at_least)
    n = choose_grid(config.grid, per_point, config.budget_s)
    xs, ys = np.linspace(a0, a1, n), np.linspace(b0, b1, n)
    A, B = np.meshgrid(xs, ys)
    say(0.7, f"the grid: {n}×{n} points")
    tic = time.perf_counter()
    ab = np.stack([A.ravel(), B.ravel()], axis=1)
    Z = loss.on_plane(plane, ab, lambda f: say(0.7 + 0.3 * f, f"the grid: {n}×{n} points"))
    Z = Z.reshape(n, n)
    grid_s = time.perf_counter() - tic
    reference_loss = float(loss.at(center[None])[0])
    P = loss.n_params
    finals = np.stack([w[-1] if w.shape[0] else np.full(P, np.nan, np.float32)
                       for w in snaps.weights])  # fmt: skip
    return Landscape(
        task=train.task, labels=snaps.labels, plane=plane, reference=config.reference,
        reference_index=best, split=config.split, steps=snaps.steps, coords=tuple(coords),
        true_loss=tuple(true), surface_loss=tuple(surface), off_plane=tuple(off),
        diverged=snaps.diverged, finals=finals, xs=xs, ys=ys, Z=Z,
        reference_loss=reference_loss, grid_asked=config.grid, snapshot_every=snaps.every,
        steps_total=train.steps, method=loss.method, n_params=P, n_examples=loss.n_examples,
        seconds_per_point=per_point, grid_seconds=grid_s, train_seconds=train_s,
        sharpness_rows=snaps.sharpness,
    )  # fmt: skip
