"""Functional VRAdam and VRMomentum: the maths of one step, kernel by kernel.

The gate η_t = α0 / (1 + min(β3·‖v_t‖², α1)) needs the velocity of *every*
tensor before *any* parameter moves, so a step runs in three phases:

1. moments: v_t (and m_t for VRAdam) for every tensor;
2. gate: one squared norm ‖v_t‖² (see :mod:`vradam.norm`; the moment kernels
   feed it as they go) and η_t per group;
3. apply: decoupled weight decay θ·(1 − η_t·λ) and the parameter update.

Each phase has a for-loop kernel and a ``foreach`` (multi-tensor) kernel, as in
``torch.optim.adam``. The apply phase takes η_t either as a Python float or as a
0-dim tensor. With a float and the gate off (``beta3=0``) it runs exactly the
operations of ``torch.optim.AdamW``, so VRAdam reproduces AdamW bit for bit;
with the gate on it folds Adam's second bias correction into ε and the step size,
one pass over the parameters fewer, to pay for the norm. With a tensor, the path
used on accelerators, η_t never leaves the device and nothing in the step
synchronises with the host.

VRAdam's third kernel, ``fused=True``, is torch's own fused AdamW kernel
(:func:`vradam.kernels.fused.adamw_fused_`), which does phases 1 and 3 in one pass: phase 1
then only takes ‖v_t‖² (:func:`vradam.kernels.fused.next_velocity_sq_norm`, leaving the state
as it is), and the kernel runs after the gate with η_t as its learning rate.

A group's tensors travel as one named record, :class:`GroupTensors`. The phase functions of
one group (``adam_group_moments`` / ``adam_group_apply`` and the momentum pair) are what
the optimizers' ``step()`` runs per bucket and what :func:`gated_step` composes for the
functional :func:`vradam` and :func:`vrmomentum` (one list of tensors, one param group, in
the style of ``torch.optim.adam.adam``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import _default_to_fused_or_foreach

from vradam.norm import SqNormAccumulator, compiling
from vradam.options import Options

__all__ = [
    "GroupTensors",
    "adam_apply_",
    "adam_moments_",
    "effective_lr",
    "momentum_apply_",
    "momentum_moments_",
    "vradam",
    "vrmomentum",
]


def effective_lr(lr, velocity_sq_norm, beta3, alpha1):
    """η = lr / (1 + min(β3·‖v‖², α1)), the VRAdam gate.

    Works on Python floats (exact double arithmetic) or on tensors, where it
    broadcasts: a batch of runs can pass ``velocity_sq_norm`` of shape (N,) and
    per-run ``lr``, ``beta3``, ``alpha1`` tensors. A zero ``beta3`` is the gate off:
    η = lr whatever the norm, so ‖v‖² = inf or NaN cannot reach the step (0·inf = NaN).
    With β3 > 0 a non-finite norm clips the gate at α1 (η = lr/(1 + α1)): an infinite one
    because min(inf, α1) = α1, a NaN one (a NaN anywhere in the velocities) by this rule,
    so one non-finite tensor does not turn every parameter into NaN.
    """
    if isinstance(beta3, (int, float)) and beta3 == 0:
        return lr
    if isinstance(velocity_sq_norm, Tensor):
        penalty = beta3 * velocity_sq_norm
        penalty = torch.where(penalty <= alpha1, penalty, alpha1)  # NaN is not ≤ α1
        if isinstance(beta3, Tensor):
            penalty = torch.where(beta3 == 0, 0.0, penalty)
        return lr / (1 + penalty)
    penalty = beta3 * velocity_sq_norm
    return lr / (1.0 + (penalty if penalty <= alpha1 else alpha1))


def step_values(state_steps: Sequence[Tensor]) -> list[float]:
    # The step counters live on the CPU (as in torch.optim), so reading them
    # is not a device synchronisation.
    return [s.item() if isinstance(s, Tensor) else s for s in state_steps]


_ONE = torch.tensor(1.0)  # the step increment of CPU step counters (never written)


def increment_steps(state_steps: list[Tensor], foreach: bool) -> None:
    if len(state_steps) == 0:
        return
    if state_steps[0].is_cpu and not compiling():
        # One call for every counter, whichever kernel: the for-loop kernel's `s += 1` per
        # tensor costs ~3 µs each, which shows on models of many small tensors.
        torch._foreach_add_(state_steps, _ONE, alpha=1.0)
    elif foreach:
        torch._foreach_add_(state_steps, 1)
    else:
        for s in state_steps:
            s += 1


# ----------------------------------------------------------------------------- moments


def adam_moments_(
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    beta1: float,
    beta2: float,
    maximize: bool,
    foreach: bool,
    norms: SqNormAccumulator | None = None,
) -> None:
    """t ← t+1;  v ← β1·v + (1−β1)·g;  m ← β2·m + (1−β2)·g²  (in place).

    With ``foreach`` the lists must share one device and dtype. ``norms``, when
    given, receives ‖v‖² of every updated velocity.
    """
    increment_steps(state_steps, foreach)
    if foreach:
        if len(grads) == 0:
            return
        if maximize:
            grads = torch._foreach_neg(grads)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        if norms is not None:
            norms.add_bucket(exp_avgs)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        return
    for grad, exp_avg, exp_avg_sq in zip(grads, exp_avgs, exp_avg_sqs, strict=True):
        if maximize:
            grad = -grad
        exp_avg.lerp_(grad, 1 - beta1)
        if norms is not None:
            norms.add(exp_avg)  # while it is still in cache
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)


def momentum_moments_(
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    state_steps: list[Tensor],
    *,
    beta1: float,
    maximize: bool,
    foreach: bool,
    norms: SqNormAccumulator | None = None,
) -> None:
    """t ← t+1;  v ← β1·v + (1−β1)·g  (EMA velocity, no bias correction; in place).

    ``norms``, when given, receives ‖v‖² of every updated velocity.
    """
    increment_steps(state_steps, foreach)
    if foreach:
        if len(grads) == 0:
            return
        if maximize:
            grads = torch._foreach_neg(grads)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        if norms is not None:
            norms.add_bucket(exp_avgs)
        return
    for grad, exp_avg in zip(grads, exp_avgs, strict=True):
        exp_avg.lerp_(-grad if maximize else grad, 1 - beta1)
        if norms is not None:
            norms.add(exp_avg)


# ----------------------------------------------------------------------------- apply


def adam_apply_(
    params: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    foreach: bool,
    adamw_ops: bool = True,
    capturable: bool = False,
) -> None:
    """θ ← θ·(1 − η·λ) − η · v̂ / (√m̂ + ε), with bias correction only here.

    ``lr`` is the already-gated η_t: a Python float or a 0-dim tensor on the
    parameters' device (no host synchronisation). With ``adamw_ops`` (the default) and
    a float, or a tensor on the CPU, this runs ``torch.optim.AdamW``'s exact operations,
    so the numbers are AdamW's bit for bit; ``adamw_ops=False`` (what VRAdam uses while
    its gate is on, β3 > 0) folds c2 = √(1 − β2^t) into ε and the step size instead,
    θ ← θ − η·c2/c1 · v / (√m + ε·c2), the same update with one pass fewer. A tensor
    off the CPU takes the device path (η in the denominator, no host read). ``capturable``
    (step counters on the parameters' device, for CUDA graphs) computes the bias corrections
    on the device, as under torch.compile.
    """
    if len(params) == 0:
        return
    if compiling() or capturable:
        _adam_apply_traced(params, exp_avgs, exp_avg_sqs, state_steps, lr=lr, beta1=beta1,
                           beta2=beta2, eps=eps, weight_decay=weight_decay)  # fmt: skip
        return
    steps = step_values(state_steps)
    bias_correction1 = [1 - beta1**s for s in steps]
    bias_correction2_sqrt = [(1 - beta2**s) ** 0.5 for s in steps]
    if isinstance(lr, Tensor) and not (adamw_ops and lr.is_cpu):
        _adam_apply_tensor_lr(
            params,
            exp_avgs,
            exp_avg_sqs,
            bias_correction1,
            bias_correction2_sqrt,
            lr=lr,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
        )
        return
    if foreach:
        if weight_decay != 0:
            torch._foreach_mul_(params, 1 - lr * weight_decay)
        denom = torch._foreach_sqrt(exp_avg_sqs)
        if adamw_ops:
            step_size = [to_number((lr / bc) * -1) for bc in bias_correction1]
            torch._foreach_div_(denom, bias_correction2_sqrt)
            torch._foreach_add_(denom, eps)
        else:
            step_size = [-lr * c / bc for bc, c in zip(bias_correction1, bias_correction2_sqrt)]
            torch._foreach_add_(denom, [eps * c for c in bias_correction2_sqrt])
        torch._foreach_addcdiv_(params, exp_avgs, denom, step_size)
        return
    # In reverse: the moment pass went forwards, so the last tensors are still in cache.
    for param, exp_avg, exp_avg_sq, bc1, bc2_sqrt in reversed(
        list(
            zip(params, exp_avgs, exp_avg_sqs, bias_correction1, bias_correction2_sqrt, strict=True)
        )
    ):
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if adamw_ops:
            # AdamW computes (sqrt(m) / c).add_(eps); dividing in place gives the same
            # numbers with one temporary fewer (~10 % of the step on the CPU).
            denom = exp_avg_sq.sqrt().div_(bc2_sqrt).add_(eps)
            param.addcdiv_(exp_avg, denom, value=-(lr / bc1))
        else:
            denom = exp_avg_sq.sqrt().add_(eps * bc2_sqrt)
            param.addcdiv_(exp_avg, denom, value=-lr * bc2_sqrt / bc1)


def to_number(x: float | Tensor) -> float:
    return x.item() if isinstance(x, Tensor) else x


def _adam_apply_traced(
    params, exp_avgs, exp_avg_sqs, state_steps, *, lr, beta1, beta2, eps, weight_decay
) -> None:
    # Under torch.compile: bias corrections from the step tensors (as torch's Adam does
    # when compiled), η a tensor or a constant, one fused kernel per tensor.
    for param, exp_avg, exp_avg_sq, step in zip(
        params, exp_avgs, exp_avg_sqs, state_steps, strict=True
    ):
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step).sqrt()
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        param.sub_(exp_avg / denom * (lr / bias_correction1))


def _adam_apply_tensor_lr(
    params,
    exp_avgs,
    exp_avg_sqs,
    bias_correction1,
    bias_correction2_sqrt,
    *,
    lr: Tensor,
    eps,
    weight_decay,
    foreach,
) -> None:
    # addcdiv_'s `value` must be a Python number, so η goes into the
    # denominator instead:  θ += v / D  with  D = −(bc1/η)·(√m + ε·√bc2)/√bc2,
    # which is  −η/bc1 · v/(√m/√bc2 + ε).  Same number of passes as AdamW.
    if weight_decay != 0:
        decay = 1 - lr * weight_decay
        if foreach:
            torch._foreach_mul_(params, decay)
        else:
            for p in params:
                p.mul_(decay)
    # Parameters almost always share one step count: one device scalar per
    # distinct (bc1, √bc2) pair rather than one per tensor.
    factors: dict[tuple[float, float], Tensor] = {}
    for bc1, bc2_sqrt in zip(bias_correction1, bias_correction2_sqrt, strict=True):
        if (bc1, bc2_sqrt) not in factors:
            factors[(bc1, bc2_sqrt)] = (-bc1 / bc2_sqrt) / lr
    if foreach:
        by_factor: dict[tuple[float, float], list[int]] = {}
        for i, key in enumerate(zip(bias_correction1, bias_correction2_sqrt, strict=True)):
            by_factor.setdefault(key, []).append(i)
        for (bc1, bc2_sqrt), idx in by_factor.items():
            denom = torch._foreach_sqrt([exp_avg_sqs[i] for i in idx])
            torch._foreach_add_(denom, eps * bc2_sqrt)
            torch._foreach_mul_(denom, factors[(bc1, bc2_sqrt)])
            torch._foreach_addcdiv_([params[i] for i in idx], [exp_avgs[i] for i in idx], denom)
        return
    for param, exp_avg, exp_avg_sq, bc1, bc2_sqrt in zip(
        params, exp_avgs, exp_avg_sqs, bias_correction1, bias_correction2_sqrt, strict=True
    ):
        denom = exp_avg_sq.sqrt().add_(eps * bc2_sqrt).mul_(factors[(bc1, bc2_sqrt)])
        param.addcdiv_(exp_avg, denom)


def momentum_apply_(
    params: list[Tensor],
    exp_avgs: list[Tensor],
    *,
    lr: float | Tensor,
    weight_decay: float,
    foreach: bool,
) -> None:
    """θ ← θ·(1 − η·λ) − η·v  (no preconditioner, no bias correction)."""
    if len(params) == 0:
        return
    if weight_decay != 0:
        decay = 1 - lr * weight_decay
        if foreach:
            torch._foreach_mul_(params, decay)
        else:
            for p in params:
                p.mul_(decay)
    if isinstance(lr, Tensor):
        neg_lr = -lr
        if foreach:
            torch._foreach_add_(params, torch._foreach_mul(exp_avgs, neg_lr))
        else:  # as the foreach kernel rounds (addcmul_ may fuse the multiply and the add)
            for p, v in zip(params, exp_avgs, strict=True):
                p.add_(v * neg_lr)
        return
    if foreach:
        torch._foreach_add_(params, exp_avgs, alpha=-lr)
    else:
        for p, v in zip(params, exp_avgs, strict=True):
            p.add_(v, alpha=-lr)


# ----------------------------------------------------------------------------- gate


def gate_lr(group_lr, velocity_sq_norm: Tensor, beta3, alpha1) -> float | Tensor:
    """η_t for one group from the global norm: a float when the norm is on the CPU.

    On the CPU reading the scalar is not a synchronisation and lets the apply
    phase run AdamW's exact float operations; with the gate off (β3 = 0) η_t is the
    group's ``lr`` as given, so a Tensor ``lr`` goes through AdamW's own tensor
    arithmetic. On any other device (CUDA, meta, …) η_t stays a 0-dim tensor there.
    """
    if isinstance(group_lr, Tensor) and group_lr.device != velocity_sq_norm.device:
        group_lr = group_lr.to(velocity_sq_norm.device, non_blocking=True)
    if velocity_sq_norm.is_cpu and not compiling():
        if isinstance(beta3, (int, float)) and beta3 == 0:
            return group_lr
        lr = group_lr.item() if isinstance(group_lr, Tensor) else group_lr
        return effective_lr(lr, velocity_sq_norm.item(), beta3, alpha1)
    return effective_lr(group_lr, velocity_sq_norm, beta3, alpha1)


def on_device(eta: float | Tensor, device: torch.device, cache: dict) -> float | Tensor:
    """η_t moved (without blocking) to a bucket's device, once per device."""
    if not isinstance(eta, Tensor) or eta.device == device:
        return eta
    if device not in cache:
        cache[device] = eta.to(device, non_blocking=True)
    return cache[device]


# ----------------------------------------------------------------------------- one group


def tensor_buckets(tensorlists: list[list[Tensor]], foreach: bool):
    """Lists grouped by device and dtype for the foreach kernel; one bucket otherwise."""
    if not foreach:
        return [tensorlists]
    grouped = Optimizer._group_tensors_by_device_and_dtype(tensorlists)
    return [lists for lists, _ in grouped.values()]


def default_foreach(params: list[Tensor]) -> bool:
    """Whether torch.optim would use the foreach kernels for ``params`` by default."""
    _, foreach = _default_to_fused_or_foreach(params, differentiable=False, use_fused=False)
    return foreach


class GroupTensors(NamedTuple):
    """The tensors of one param group's step (or of one device/dtype bucket of it): the
    parameters that have a gradient, in order, with their gradients, moments and steps."""

    params: list[Tensor]
    grads: list[Tensor]
    moments: tuple[list[Tensor], ...]  # one list per state key, the velocity (exp_avg) first
    steps: list[Tensor]

    @property
    def velocities(self) -> list[Tensor]:
        return self.moments[0]

    def buckets(self, foreach: bool) -> list[GroupTensors]:
        """By device and dtype for the foreach kernel; the whole group otherwise."""
        lists = [self.params, self.grads, *self.moments, self.steps]
        return [
            GroupTensors(p, g, tuple(moments), s)
            for p, g, *moments, s in tensor_buckets(lists, foreach)
        ]


# The phases of one group (or bucket), as both the optimizers' step() and the functional
# vradam() / vrmomentum() below run them: moments (feeding ‖v_t‖² into ``norms`` when given)
# and the update at the gated rate ``lr``.


def adam_group_moments(o: Options, t: GroupTensors, foreach: bool, norms) -> None:
    exp_avgs, exp_avg_sqs = t.moments
    adam_moments_(t.grads, exp_avgs, exp_avg_sqs, t.steps, beta1=o.beta1, beta2=o.beta2,
                  maximize=o.maximize, foreach=foreach, norms=norms)  # fmt: skip


def adam_group_apply(o: Options, t: GroupTensors, lr, foreach: bool) -> None:
    exp_avgs, exp_avg_sqs = t.moments
    adam_apply_(t.params, exp_avgs, exp_avg_sqs, t.steps, lr=lr, beta1=o.beta1, beta2=o.beta2,
                eps=o.eps, weight_decay=o.weight_decay, foreach=foreach,
                adamw_ops=o.beta3 == 0, capturable=o.capturable)  # fmt: skip


def momentum_group_moments(o: Options, t: GroupTensors, foreach: bool, norms) -> None:
    momentum_moments_(t.grads, t.velocities, t.steps, beta1=o.beta1, maximize=o.maximize,
                      foreach=foreach, norms=norms)  # fmt: skip


def momentum_group_apply(o: Options, t: GroupTensors, lr, foreach: bool) -> None:
    momentum_apply_(t.params, t.velocities, lr=lr, weight_decay=o.weight_decay,
                    foreach=foreach)  # fmt: skip


Phase = Callable[..., None]


def gated_step(
    o: Options, tensors: GroupTensors, moments: Phase, apply: Phase, process_group=None
) -> tuple[float | Tensor, Tensor]:
    """One step of one list of tensors in the three phases: ``moments`` per bucket (and
    ‖v_t‖²), the gate η_t, ``apply`` per bucket at η_t. Returns ``(η_t, ‖v_t‖²)``."""
    foreach = default_foreach(tensors.params) if o.foreach is None else o.foreach
    buckets = tensors.buckets(foreach)
    norms = SqNormAccumulator()
    for bucket in buckets:
        moments(o, bucket, foreach, norms)
    sq_norm = norms.total(process_group)
    eta = gate_lr(o.lr, sq_norm, o.beta3, o.alpha1)
    cache: dict = {}
    for bucket in buckets:
        lr = on_device(eta, bucket.params[0].device, cache) if bucket.params else eta
        apply(o, bucket, lr, foreach)
    return eta, sq_norm


def _one_element(lr: float | Tensor) -> float | Tensor:
    """A tensor lr of one element in any number of dimensions, as a 0-dim tensor."""
    return lr.reshape(()) if isinstance(lr, Tensor) and lr.dim() else lr


def vradam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    beta3: float,
    alpha1: float,
    eps: float,
    weight_decay: float,
    maximize: bool = False,
    foreach: bool | None = None,
    process_group=None,
) -> tuple[float | Tensor, Tensor]:
    """Functional VRAdam step on one list of tensors (see :class:`vradam.VRAdam`).

    The squared norm covers exactly the tensors passed (plus the other ranks'
    shards when ``process_group`` is given). Returns ``(η_t, ‖v_t‖²)``.
    """
    o = Options(lr=_one_element(lr), beta1=beta1, beta2=beta2, beta3=beta3, alpha1=alpha1,
                eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                capturable=False, fused=False)  # fmt: skip
    tensors = GroupTensors(params, grads, (exp_avgs, exp_avg_sqs), state_steps)
    return gated_step(o, tensors, adam_group_moments, adam_group_apply, process_group)


def vrmomentum(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta3: float,
    alpha1: float,
    weight_decay: float,
    maximize: bool = False,
    foreach: bool | None = None,
    process_group=None,
) -> tuple[float | Tensor, Tensor]:
    """Functional VRMomentum step on one list of tensors (see :class:`vradam.VRMomentum`).

    Returns ``(η_t, ‖v_t‖²)``.
    """
    o = Options(lr=_one_element(lr), beta1=beta1, beta2=0.0, beta3=beta3, alpha1=alpha1,
                eps=0.0, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                capturable=False, fused=False)  # fmt: skip
    tensors = GroupTensors(params, grads, (exp_avgs,), state_steps)
    return gated_step(o, tensors, momentum_group_moments, momentum_group_apply, process_group)
