"""torch.optim optimizers for every registry entry, from an `OptimizerSpec`.

Networks train with real torch optimizers: torch.optim's own classes, VRAdam and
VRMomentum from this package, and Lion as published (Chen et al. 2023), which torch
does not ship.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.optim import Optimizer

from vradam.optim import VRAdam, VRMomentum
from vradam.optimizers import OptimizerSpec

__all__ = ["Lion", "make_optimizer", "velocity_sq_norm"]


class Lion(Optimizer):
    r"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms").

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        \theta_t = \theta_{t-1} - \eta\,(\operatorname{sign}(c_t) + \lambda\theta_{t-1}),\quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    State per parameter: ``exp_avg`` (m).
    """

    def __init__(self, params, lr: float = 1e-4, betas=(0.9, 0.99), weight_decay: float = 0.0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                m = state["exp_avg"]
                c = m.mul(beta1).add_(p.grad, alpha=1 - beta1)
                if wd != 0:
                    p.mul_(1 - lr * wd)
                p.add_(c.sign_(), alpha=-lr)
                m.mul_(beta2).add_(p.grad, alpha=1 - beta2)
        return loss


def make_optimizer(spec: OptimizerSpec, params) -> Optimizer:
    """The torch optimizer of a registry spec (flat names mapped to torch's)."""
    hp = spec.hyperparams
    key = spec.key
    wd = hp.get("weight_decay", 0.0)
    if key in ("gd", "momentum", "nesterov"):
        mu = hp.get("momentum", 0.0)
        return torch.optim.SGD(params, lr=hp["lr"], momentum=mu, nesterov=key == "nesterov",
                               weight_decay=wd)  # fmt: skip
    if key == "rmsprop":
        return torch.optim.RMSprop(params, lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"],
                                   weight_decay=wd)  # fmt: skip
    if key == "adagrad":
        return torch.optim.Adagrad(params, lr=hp["lr"], eps=hp["eps"], weight_decay=wd)
    betas = (hp.get("beta1", 0.9), hp.get("beta2", 0.999))
    if key == "adam":
        return torch.optim.Adam(params, lr=hp["lr"], betas=betas, eps=hp["eps"], weight_decay=wd)
    if key == "adamw":
        return torch.optim.AdamW(params, lr=hp["lr"], betas=betas, eps=hp["eps"], weight_decay=wd)
    if key == "nadam":
        return torch.optim.NAdam(params, lr=hp["lr"], betas=betas, eps=hp["eps"], weight_decay=wd,
                                 momentum_decay=hp["momentum_decay"])  # fmt: skip
    if key == "radam":
        return torch.optim.RAdam(params, lr=hp["lr"], betas=betas, eps=hp["eps"], weight_decay=wd)
    if key == "lion":
        return Lion(params, lr=hp["lr"], betas=betas, weight_decay=wd)
    if key == "vradam":
        return VRAdam(params, lr=hp["lr"], betas=betas, beta3=hp["beta3"], alpha1=hp["alpha1"],
                      eps=hp["eps"], weight_decay=wd)  # fmt: skip
    if key == "vrmomentum":
        return VRMomentum(params, lr=hp["lr"], beta1=hp["beta1"], beta3=hp["beta3"],
                          alpha1=hp["alpha1"], weight_decay=wd)  # fmt: skip
    raise ValueError(f"no torch optimizer for {key!r}")


_VELOCITY_STATE = {"momentum": "momentum_buffer", "nesterov": "momentum_buffer"}


def velocity_sq_norm(spec: OptimizerSpec, optimizer: Optimizer) -> Tensor | None:
    """‖v‖² of the optimizer's first moment / momentum buffer (VR: the gate's own norm).

    None for optimizers without a velocity (GD, RMSprop, Adagrad): the caller uses
    the gradient, as the 2-D engine does.
    """
    if spec.info.velocity_regularized:
        return optimizer.param_groups[0].get("velocity_sq_norm")
    name = _VELOCITY_STATE.get(spec.key, "exp_avg")
    parts = [
        s[name].detach().double().square().sum()
        for s in optimizer.state.values()
        if name in s and s[name] is not None
    ]
    if not parts:
        return None
    return torch.stack(parts).sum()
