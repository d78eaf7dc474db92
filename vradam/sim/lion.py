"""Lion (Chen et al. 2023), which torch.optim does not ship: the optimizer records' torch twin."""

from __future__ import annotations

import torch
from torch.optim import Optimizer

__all__ = ["Lion"]


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
