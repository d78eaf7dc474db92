"""A GFlowNet on an 8×8 grid world, trained by trajectory balance (written here, no torchgfn).

The paper's generative-modelling benchmark in small. Every trajectory starts at (0, 0);
each step takes one of 5 actions:

    0: x + 1    1: y + 1    2: x + 2    3: y + 2    4: stop (the current cell is the sample)

Moves that would leave the grid are masked, so at (7, 7) only "stop" remains. Every move
increases x + y, so the states form a DAG and every trajectory ends (at most 14 moves).
The reward is the hypergrid reward of Bengio et al. (2021) on the 8×8 grid,

    R(x, y) = R0 + R1·∏ 1[|c/7 − ½| > 0.25] + R2·∏ 1[0.3 < |c/7 − ½| < 0.4]   (c = x, y)

with R0 = 0.1, R1 = 0.5, R2 = 2: four modes (R = 2.6) at (1, 1), (1, 6), (6, 1) and
(6, 6), each in a plateau of R = 0.6 at its corner, and R = 0.1 elsewhere.

The policy P_F(a | s) is a small MLP on the one-hot coordinates with a learned log Z; the
backward policy P_B is uniform over a cell's parents. Trajectory balance (Malkin et al.
2022) on a trajectory τ ending at x:

    L(τ) = (log Z + Σ log P_F(s_{t+1} | s_t) − log R(x) − Σ log P_B(s_t | s_{t+1}))²

Training samples trajectories from the policy itself (on-policy, one per row of the batch);
validation uses a fixed batch of trajectories drawn from the true distribution R/Z (cells
drawn ∝ R, paths drawn backwards by P_B), so the validation loss is deterministic. A loss
of 0 on every trajectory would mean the policy samples cells ∝ R, but not conversely: a
policy can sample ∝ R with a log Z, or forward flows, that do not balance these backward
paths. So the distribution itself is measured apart: the learned distribution over cells is
computed exactly by dynamic programming over the DAG (:func:`terminal_distribution`), not
sampled, and compared with R/Z (``val_l1``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "ACTIONS",
    "SIZE",
    "GridPolicy",
    "evaluate",
    "log_reward",
    "make_split",
    "objective",
    "outputs",
    "sample_trajectories",
    "terminal_distribution",
    "trajectory_balance",
    "true_distribution",
]

SIZE = 8
N_STATES = SIZE * SIZE  # cell (x, y) is state x·SIZE + y
ACTIONS = ((1, 0), (0, 1), (2, 0), (0, 2))  # moves; action 4 is "stop"
STOP = len(ACTIONS)
MAX_LEN = 2 * (SIZE - 1) + 1  # the longest trajectory: 14 moves of 1, then stop
R0, R1, R2 = 0.1, 0.5, 2.0
VAL_TRAJECTORIES = 256
EVAL_TRAJECTORIES = 64  # train_loss: on-policy TB on this many trajectories, fixed seed
EVAL_SEED = 12345


def _cells() -> np.ndarray:
    return np.array([(x, y) for x in range(SIZE) for y in range(SIZE)])  # (64, 2)


def log_reward() -> Tensor:
    """log R of every cell, (64,) float32."""
    c = np.abs(_cells() / (SIZE - 1) - 0.5)
    reward = R0 + R1 * (c > 0.25).all(1) + R2 * ((c > 0.3) & (c < 0.4)).all(1)
    return torch.as_tensor(np.log(reward), dtype=torch.float32)


def true_distribution() -> np.ndarray:
    """R / ΣR as an (8, 8) array indexed [x, y]."""
    r = np.exp(log_reward().double().numpy())
    return (r / r.sum()).reshape(SIZE, SIZE)


def _children() -> np.ndarray:
    """child[s, a]: the state action a leads to, −1 where it leaves the grid (or stops)."""
    out = -np.ones((N_STATES, STOP + 1), dtype=np.int64)
    for s, (x, y) in enumerate(_cells()):
        for a, (dx, dy) in enumerate(ACTIONS):
            if x + dx < SIZE and y + dy < SIZE:
                out[s, a] = (x + dx) * SIZE + y + dy
    return out


CHILDREN = _children()
VALID = torch.as_tensor(np.concatenate([CHILDREN[:, :STOP] >= 0,
                                        np.ones((N_STATES, 1), bool)], 1))  # fmt: skip
# log P_B(parent | s) = −log(number of parents of s), uniform over parents
N_PARENTS = np.bincount(CHILDREN[CHILDREN >= 0], minlength=N_STATES)
LOG_PB = torch.as_tensor(-np.log(np.maximum(N_PARENTS, 1)), dtype=torch.float32)
# cells in an order where every parent comes before its children (x + y increases)
ORDER = np.argsort(_cells().sum(1), kind="stable")


class GridPolicy(nn.Module):
    """P_F(a | s) for every cell: one-hot (x, y) → 64 → 64 → 5 logits, and log Z."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * SIZE, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
            nn.Linear(width, STOP + 1),
        )  # fmt: skip
        self.log_z = nn.Parameter(torch.zeros(()))
        cells = torch.as_tensor(_cells())
        onehot = torch.cat([nn.functional.one_hot(cells[:, 0], SIZE),
                            nn.functional.one_hot(cells[:, 1], SIZE)], 1).float()  # fmt: skip
        self.register_buffer("inputs", onehot, persistent=False)  # (64, 16)
        self.register_buffer("valid", VALID.clone(), persistent=False)  # (64, 5)

    def forward(self) -> Tensor:
        """log P_F(a | s), (64 states, 5 actions); −inf for actions leaving the grid."""
        logits = self.net(self.inputs).masked_fill(~self.valid, float("-inf"))
        return logits.log_softmax(-1)


def sample_trajectories(
    log_pf: Tensor, n: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """(states, actions), each (n, MAX_LEN) long, padded with −1: n trajectories from P_F.

    Sampling runs on the CPU with ``generator`` (the same draws on every device).
    """
    probs = log_pf.detach().double().exp().cpu()
    children = torch.as_tensor(CHILDREN)
    states = -torch.ones(n, MAX_LEN, dtype=torch.long)
    actions = -torch.ones(n, MAX_LEN, dtype=torch.long)
    current = torch.zeros(n, dtype=torch.long)
    alive = torch.ones(n, dtype=torch.bool)
    for t in range(MAX_LEN):
        a = torch.multinomial(probs[current], 1, generator=generator)[:, 0]
        states[alive, t] = current[alive]
        actions[alive, t] = a[alive]
        alive = alive & (a != STOP)
        if not alive.any():
            break
        current = torch.where(alive, children[current, a], current)
    return states, actions


def trajectory_balance(log_pf: Tensor, log_z: Tensor, states: Tensor, actions: Tensor) -> Tensor:
    """Mean TB loss over trajectories (states, actions: (n, MAX_LEN), −1 padded)."""
    mask = actions >= 0
    s, a = states.clamp(min=0), actions.clamp(min=0)
    lpf = torch.where(mask, log_pf[s, a], 0.0).sum(1)
    is_move = mask & (actions != STOP)
    children = torch.as_tensor(CHILDREN, device=s.device)[s, a].clamp(min=0)
    lpb = torch.where(is_move, LOG_PB.to(log_pf.device)[children], 0.0).sum(1)
    last = mask.sum(1) - 1
    terminal = s.gather(1, last[:, None])[:, 0]
    log_r = log_reward().to(log_pf.device)[terminal]
    return (log_z + lpf - log_r - lpb).square().mean()


def _nan_loss(log_pf: Tensor) -> Tensor:
    """A NaN loss still attached to the graph (the training loop calls backward first)."""
    return torch.where(torch.isfinite(log_pf), log_pf, 0.0).sum() * 0 + math.nan


def _usable(log_pf: Tensor) -> bool:
    probs = log_pf.detach().exp()
    return bool(torch.isfinite(probs).all() and (probs.sum(-1) > 0.5).all())


def objective(model: GridPolicy, xb: Tensor, yb: Tensor, generator: torch.Generator) -> Tensor:
    """TB loss on one on-policy trajectory per row of the batch (the rows' content is unused:
    a GFlowNet has no data set, it samples from its own policy)."""
    log_pf = model()
    if not _usable(log_pf) or not torch.isfinite(model.log_z):
        return _nan_loss(log_pf)
    states, actions = sample_trajectories(log_pf, xb.shape[0], generator)
    return trajectory_balance(log_pf, model.log_z, states.to(xb.device), actions.to(xb.device))


def terminal_distribution(log_pf: Tensor) -> np.ndarray:
    """P(the policy stops at each cell), exactly, by dynamic programming over the DAG (8, 8)."""
    p = log_pf.detach().double().exp().cpu().numpy()
    reach = np.zeros(N_STATES)
    reach[0] = 1.0
    for s in ORDER:  # parents before children
        for a in range(STOP):
            child = CHILDREN[s, a]
            if child >= 0:
                reach[child] += reach[s] * p[s, a]
    return (reach * p[:, STOP]).reshape(SIZE, SIZE)


def _backward_paths(cells: np.ndarray, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """Trajectories from (0, 0) to each cell, drawn backwards with the uniform P_B."""
    parents = [[] for _ in range(N_STATES)]
    for s in range(N_STATES):
        for a in range(STOP):
            if CHILDREN[s, a] >= 0:
                parents[CHILDREN[s, a]].append((s, a))
    states = -np.ones((len(cells), MAX_LEN), dtype=np.int64)
    actions = -np.ones((len(cells), MAX_LEN), dtype=np.int64)
    for i, cell in enumerate(cells):
        path = [(int(cell), STOP)]
        while path[-1][0] != 0:
            s, a = parents[path[-1][0]][rng.integers(len(parents[path[-1][0]]))]
            path.append((s, a))
        path.reverse()
        states[i, : len(path)] = [s for s, _ in path]
        actions[i, : len(path)] = [a for _, a in path]
    return torch.as_tensor(states), torch.as_tensor(actions)


def make_split(seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(cells (64, 2), log R (64,), validation states, validation actions (256, 15)).

    The "training set" is the grid itself (its rows only count the trajectories per step);
    validation: 256 cells drawn ∝ R with the seed, each with a backward-drawn path.
    """
    rng = np.random.default_rng(seed)
    cells = rng.choice(N_STATES, size=VAL_TRAJECTORIES, p=true_distribution().ravel())
    states, actions = _backward_paths(cells, rng)
    x = torch.as_tensor(_cells(), dtype=torch.float32)
    return x, log_reward(), states, actions


def evaluate(model: GridPolicy, data) -> dict:
    """train_loss (on-policy TB, fixed seed), val_loss (TB on the fixed validation paths),
    val_l1 = Σ|P_learned − P_true| over the 64 cells (0 … 2)."""
    with torch.no_grad():
        log_pf = model()
        if not _usable(log_pf) or not torch.isfinite(model.log_z):
            return dict(train_loss=math.nan, val_loss=math.nan, val_l1=math.nan)
        gen = torch.Generator().manual_seed(EVAL_SEED)
        states, actions = sample_trajectories(log_pf, EVAL_TRAJECTORIES, gen)
        device = log_pf.device
        train = trajectory_balance(log_pf, model.log_z, states.to(device), actions.to(device))
        val = trajectory_balance(log_pf, model.log_z, data.x_val, data.y_val)
        l1 = float(np.abs(terminal_distribution(log_pf) - true_distribution()).sum())
    return dict(train_loss=float(train), val_loss=float(val), val_l1=l1)


def outputs(model: GridPolicy, data) -> dict:
    """At the end of a run: the learned distribution over cells, (8, 8) indexed [x, y]."""
    with torch.no_grad():
        log_pf = model()
    if not _usable(log_pf):
        return {}
    return dict(terminal_dist=terminal_distribution(log_pf))
