"""VRAdam and VRMomentum as drop-in ``torch.optim.Optimizer`` classes.

Velocity-Regularized Adam (Vaidhyanathan, Schorling, Ares, Osborne,
arXiv:2505.13196) is AdamW whose learning rate is divided by
``1 + min(β3·‖v‖², α1)``, where ``v`` is the first moment ("velocity") and the
norm is one global norm over every parameter the optimizer holds.

This module imports torch only: no web stack, nothing else from the project. The two
classes hold their defaults, options and kernels; what they share (gathering, the global
norm, the gate, the kernel per path) is :class:`vradam.gated.VelocityGatedOptimizer`, the
option checks are :mod:`vradam.options`, the update maths :mod:`vradam.functional` (for-loop
and foreach kernels), :mod:`vradam.kernels.flat` (flat small-tensor kernels) and
:mod:`vradam.kernels.fused`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from vradam.functional import (
    adam_group_apply,
    adam_group_moments,
    momentum_group_apply,
    momentum_group_moments,
)
from vradam.gated import VelocityGatedOptimizer
from vradam.kernels.flat import (
    adam_flat_apply_,
    adam_flat_moments_,
    momentum_flat_apply_,
    momentum_flat_moments_,
)
from vradam.kernels.fused import adamw_fused_, next_velocity_sq_norm
from vradam.options import (
    Options,
    check_beta,
    is_auto,
    nonnegative,
)

__all__ = ["VRAdam", "VRMomentum"]


class VRAdam(VelocityGatedOptimizer):
    r"""Velocity-Regularized Adam (VRAdam), arXiv:2505.13196.

    AdamW whose learning rate is divided by a velocity penalty computed from the
    first moment ("velocity") of *all* parameters the optimizer holds.

    .. math::
       \begin{aligned}
            &\textbf{input}: \alpha_0 \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)},
                \beta_3, \alpha_1, \epsilon, \lambda \text{ (weight decay)},
                \theta_0 \text{ (params)}, f(\theta) \text{ (objective)} \\
            &\textbf{initialize}: v_0 \leftarrow 0, \; m_0 \leftarrow 0 \\
            &\textbf{for}\: t=1 \: \textbf{to} \: \ldots \: \textbf{do} \\
            &\hspace{5mm} g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1})
                \quad (- \text{ if maximize}) \\
            &\hspace{5mm} v_t \leftarrow \beta_1 v_{t-1} + (1-\beta_1) g_t \\
            &\hspace{5mm} m_t \leftarrow \beta_2 m_{t-1} + (1-\beta_2) g_t^2 \\
            &\hspace{5mm} \eta_t \leftarrow \alpha_0 \,/\,
                \big(1 + \min(\beta_3 \lVert v_t \rVert_2^2,\ \alpha_1)\big)
                \quad \text{(one norm over every parameter, all groups)} \\
            &\hspace{5mm} \widehat{v_t} \leftarrow v_t/(1-\beta_1^t), \;
                \widehat{m_t} \leftarrow m_t/(1-\beta_2^t) \\
            &\hspace{5mm} \theta_t \leftarrow \theta_{t-1}(1 - \eta_t\lambda)
                - \eta_t \widehat{v_t}/\big(\sqrt{\widehat{m_t}} + \epsilon\big) \\
            &\textbf{return} \: \theta_t
       \end{aligned}

    The norm is of the raw (not bias-corrected) first moment, squared, without a
    square root. η_t lies in [α0/(1+α1), α0]: it halves at ‖v‖ = 1/√β3 and sits
    at the floor once β3‖v‖² ≥ α1. With ``beta3=0`` VRAdam is exactly
    :class:`torch.optim.AdamW` (same defaults, same operations).

    Each param group applies its own ``lr``, ``beta3`` and ``alpha1`` to the one
    global norm. (The authors' released code sums the norm per param group
    instead; the two agree when there is a single group.) Torch LR schedulers
    move ``lr`` (α0) as usual and the gate divides it.

    The gate is not scale invariant: ‖v‖² grows with the loss scale and the
    number of parameters, so choose ``beta3`` for the problem (a β3 that is too
    large clips every step, and VRAdam becomes AdamW at α0/(1+α1)).

    Args:
        params (iterable): iterable of parameters or named parameters to
            optimize, or dicts defining parameter groups.
        lr (float, Tensor, optional): maximal learning rate α0 (default: 1e-3).
        betas (tuple[float, float], optional): decay rates β1, β2 of the first
            and second moments (default: (0.9, 0.999)).
        beta3 (float or "auto", optional): velocity penalty strength β3 ≥ 0 (default:
            1.0). ``"auto"`` calibrates it from the first 10 steps' ‖v‖² (this
            project's heuristic, see :mod:`vradam.calibrate`) in every group that has no
            number of its own; the calibration is ``optimizer.beta3_calibration``, its
            state a record in the param groups, so checkpoints, copies and pickles
            carry it.
        alpha1 (float, optional): penalty cap α1 ≥ 0; the smallest learning rate
            is α0/(1+α1) (default: 10.0).
        eps (float, optional): term added to the denominator after the square
            root (default: 1e-8).
        weight_decay (float, optional): decoupled weight decay λ, scaled by the
            dynamic η_t (default: 1e-2, as AdamW).
        maximize (bool, optional): maximize the objective instead of minimizing
            (default: False).
        foreach (bool, optional): use the multi-tensor kernel. ``None`` picks as
            torch does: foreach on CUDA, the for-loop kernel on CPU.
        capturable (bool, optional): step counters on the parameters' device and
            bias corrections computed there, so the step can be captured in a CUDA
            graph (default: False; refused on the CPU).
        differentiable (bool, optional): refused when True (default: False).
        fused (bool, optional): use torch's fused AdamW kernel (CPU and CUDA), fed the
            gated rate; ‖v_t‖² is taken in one pass before it (default: None, not
            fused). With ``beta3=0`` it is ``AdamW(fused=True)`` bit for bit.
        process_group (optional): for parameters sharded by hand across ranks,
            the group whose local squared norms are summed (one all-reduce of one
            scalar per step). DTensor parameters (FSDP2) are reduced over their
            sharded mesh dimensions without it. Not needed under DDP. Under
            ``ZeroRedundancyOptimizer`` pass
            ``optimizer_class=functools.partial(VRAdam, process_group=...)``: ZeRO
            gives each rank a shard (VRAdam warns when built there without one).

    Options are checked when a group is added and at every ``step()``, with the same
    messages as the constructor. A non-finite ‖v_t‖² (a NaN or an infinity anywhere in
    the velocities) clips the gate at α1, so one bad gradient tensor does not turn every
    parameter into NaN; with ``beta3=0`` the gate is off whatever the norm.

    After each step every group holds the diagnostics ``group["effective_lr"]``
    (η_t) and ``group["velocity_sq_norm"]`` (‖v_t‖²) as 0-dim tensors. On
    accelerators the step never synchronises with the host. On the CPU the
    ``exp_avg`` tensors of each param group are views of one flat buffer
    (:class:`vradam.kernels.flat.VelocityBuffer`), so ‖v‖² of many small tensors is one
    reduction; a loaded checkpoint is copied into a new buffer at the next step.

    ``load_state_dict`` takes VRAdam, AdamW and Adam checkpoints: options a saved group
    lacks (``beta3``, ``alpha1``) keep this optimizer's values. It refuses, before
    loading anything, what VRAdam cannot continue: ``amsgrad`` and Adam's L2 weight decay.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float | str = 1.0,
        alpha1: float = 10.0,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        process_group=None,
    ) -> None:
        is_auto(beta3)
        defaults = dict(
            lr=lr,
            betas=betas,
            beta3=beta3,  # "auto": each group joins the calibration (see add_param_group)
            alpha1=alpha1,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )
        self._options(defaults, read_lr=True)
        super().__init__(params, defaults, process_group)

    _state_keys = ("exp_avg", "exp_avg_sq")
    _group_defaults: ClassVar[dict[str, Any]] = {
        **VelocityGatedOptimizer._group_defaults,
        "fused": None,
    }

    def _options(self, group, read_lr=False):
        betas = group["betas"]
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Invalid betas: {betas}; expected (beta1, beta2)") from None
        return Options(
            beta1=check_beta("betas[0]", beta1, "beta parameter at index 0"),
            beta2=check_beta("betas[1]", beta2, "beta parameter at index 1"),
            eps=nonnegative("eps", group["eps"], "epsilon value"),
            **self._common_options(group, read_lr),
        )

    # The same phase functions as the functional vradam().
    _moments = staticmethod(adam_group_moments)
    _apply = staticmethod(adam_group_apply)

    def _moments_flat(self, o, t, buffer):
        adam_flat_moments_(buffer, t.grads, t.steps, beta1=o.beta1, beta2=o.beta2,
                           maximize=o.maximize)  # fmt: skip

    def _apply_flat(self, o, t, lr, buffer):
        return adam_flat_apply_(buffer, t.params, t.steps, lr=lr, beta1=o.beta1,
                                beta2=o.beta2, eps=o.eps, weight_decay=o.weight_decay,
                                adamw_ops=o.beta3 == 0)  # fmt: skip

    def _next_sq_norm(self, o, t, norms, memo):
        return next_velocity_sq_norm(t.grads, t.velocities, beta1=o.beta1, maximize=o.maximize,
                                     norms=norms, memo=memo)  # fmt: skip

    def _step_fused(self, o, t, lr):
        exp_avgs, exp_avg_sqs = t.moments
        adamw_fused_(t.params, t.grads, exp_avgs, exp_avg_sqs, t.steps, lr=lr, beta1=o.beta1,
                     beta2=o.beta2, eps=o.eps, weight_decay=o.weight_decay,
                     maximize=o.maximize)  # fmt: skip


class VRMomentum(VelocityGatedOptimizer):
    r"""Velocity-regularized momentum, the paper's ablation and the form its theory uses.

    The VRAdam gate on EMA momentum, without Adam's preconditioner and without
    bias correction:

    .. math::
       \begin{aligned}
            &v_t \leftarrow \beta_1 v_{t-1} + (1-\beta_1) g_t \\
            &\eta_t \leftarrow \alpha_0 \,/\,
                \big(1 + \min(\beta_3 \lVert v_t \rVert_2^2,\ \alpha_1)\big) \\
            &\theta_t \leftarrow \theta_{t-1}(1 - \eta_t\lambda) - \eta_t v_t
       \end{aligned}

    With ``beta3=0`` this is EMA momentum, which is *not* torch's SGD momentum
    (``buf = μ·buf + g`` takes steps 1/(1−μ) times larger). While the clip is
    inactive (and without weight decay) the step is bounded:
    ‖θ_t − θ_{t−1}‖ = η_t‖v_t‖ ≤ α0/(2√β3).

    Args:
        params (iterable): parameters or named parameters, or param-group dicts.
        lr (float, Tensor, optional): maximal learning rate α0 (default: 1e-2).
        beta1 (float, optional): velocity decay β1 (default: 0.9).
        beta3 (float or "auto", optional): velocity penalty strength β3 ≥ 0 (default:
            1.0). ``"auto"`` calibrates it from the first 10 steps' ‖v‖² (this
            project's heuristic, see :mod:`vradam.calibrate`) in every group that has no
            number of its own; the calibration is ``optimizer.beta3_calibration``, its
            state a record in the param groups, so checkpoints, copies and pickles
            carry it.
        alpha1 (float, optional): penalty cap α1 ≥ 0 (default: 10.0).
        weight_decay (float, optional): decoupled weight decay λ (default: 0).
        maximize (bool, optional): maximize the objective (default: False).
        foreach (bool, optional): multi-tensor kernel; ``None`` picks as torch does.
        capturable (bool, optional): as for :class:`VRAdam` (default: False).
        differentiable (bool, optional): refused when True (default: False).
        process_group (optional): as for :class:`VRAdam`.

    State per parameter: ``step`` and ``exp_avg`` (the velocity; on the CPU views of one
    flat buffer per group, as for VRAdam). Diagnostics ``group["effective_lr"]`` and
    ``group["velocity_sq_norm"]`` as for VRAdam. ``load_state_dict`` refuses an SGD
    checkpoint's ``momentum_buffer``: it is 1/(1−μ) times an EMA velocity. Of ``beta1`` and
    its ``momentum`` mirror, whichever changed since the last step (or since the group was
    added or loaded) wins.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        beta1: float = 0.9,
        beta3: float | str = 1.0,
        alpha1: float = 10.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        process_group=None,
    ) -> None:
        is_auto(beta3)
        defaults = dict(
            lr=lr,
            beta1=beta1,
            momentum=beta1,  # a mirror of beta1 for torch's cyclic schedulers (_sync_options)
            beta3=beta3,  # "auto": each group joins the calibration (see add_param_group)
            alpha1=alpha1,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        self._options(defaults, read_lr=True)
        super().__init__(params, defaults, process_group)

    _state_keys = ("exp_avg",)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # torch's cyclic schedulers (OneCycleLR, CyclicLR with cycle_momentum=True) find a
        # momentum under the name "momentum": it mirrors the group's beta1 (_sync_options).
        if isinstance(param_group, dict):
            if "beta1" in param_group:
                param_group = {**param_group, "momentum": param_group["beta1"]}
            elif "momentum" in param_group:
                param_group = {**param_group, "beta1": param_group["momentum"]}
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        group.setdefault("momentum", group["beta1"])
        self.__dict__.setdefault("_beta1_synced", {})[id(group)] = group["beta1"]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._beta1_synced = {id(g): g["beta1"] for g in self.param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group.setdefault("momentum", group["beta1"])
        self._beta1_synced = {id(g): g["beta1"] for g in self.param_groups}

    def _sync_options(self, group: dict[str, Any]) -> None:
        """β1, kept equal to the "momentum" mirror: whichever of the two changed since the
        last step (or since the group was added or loaded) wins. A scheduler writes
        "momentum", a user may write "beta1", before the first step too."""
        synced = self.__dict__.setdefault("_beta1_synced", {})
        beta1, momentum = group["beta1"], group.setdefault("momentum", group["beta1"])
        if momentum is not beta1 and momentum != beta1:
            if beta1 is synced.get(id(group), beta1) or beta1 == synced.get(id(group), beta1):
                check_beta("momentum", momentum, "momentum (VRMomentum's beta1) value")
                group["beta1"] = momentum  # beta1 untouched: the mirror moved
            else:
                group["momentum"] = beta1
        synced[id(group)] = group["beta1"]

    def _options(self, group, read_lr=False):
        return Options(
            beta1=check_beta("beta1", group["beta1"], "beta1 value"),
            beta2=0.0,
            eps=0.0,
            **self._common_options(group, read_lr),
        )

    # The same phase functions as the functional vrmomentum().
    _moments = staticmethod(momentum_group_moments)
    _apply = staticmethod(momentum_group_apply)

    def _moments_flat(self, o, t, buffer):
        momentum_flat_moments_(buffer, t.grads, t.steps, beta1=o.beta1, maximize=o.maximize)

    def _apply_flat(self, o, t, lr, buffer):
        return momentum_flat_apply_(buffer, t.params, lr=lr, weight_decay=o.weight_decay)
