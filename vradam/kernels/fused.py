"""The fused kernel of VRAdam: torch's own fused AdamW kernel fed the gated rate.

``fused=True`` runs ``torch._fused_adamw_``, which does the moments and the parameter update
in one pass over the tensors. The gate needs ‖v_t‖² of every tensor before any parameter
moves, so phase 1 takes the norm without changing the state
(:func:`next_velocity_sq_norm`), and :func:`adamw_fused_` then runs the kernel with η_t as its
learning rate (a float on the CPU, a 0-dim device tensor elsewhere, so no host read). Torch
only.
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import torch
from torch import Tensor
from torch.optim import Optimizer

from vradam.functional import compiling, tensor_buckets
from vradam.norm import SMALL_NUMEL, SqNormAccumulator

__all__ = ["DOT_MIN", "NormMemo", "adamw_fused_", "next_velocity_sq_norm"]


class NormMemo(NamedTuple):
    """‖v_t‖² of a fused group's large velocities, as phase 1 took it, kept for the next step
    (see :class:`vradam.kernels.flat.VelocityCache`): valid while the same tensors hold the values
    the fused kernel left, which :meth:`valid_for` checks by identity and version counter
    (the fused kernel does not bump it; every other in-place write does). The velocities are
    held by weak references, so a memo never keeps a replaced state tensor alive."""

    velocities: tuple[weakref.ref, ...]  # the dotted velocities, in order
    versions: tuple[int, ...]  # their ``_version`` after the fused kernel ran
    sq_norm: Tensor  # Σ‖v_t‖² over them, 0-dim, their dtype

    def valid_for(self, velocities: list[Tensor]) -> bool:
        return (
            len(velocities) == len(self.velocities)
            and all(ref() is v for ref, v in zip(self.velocities, velocities, strict=True))
            and all(v._version == n for v, n in zip(velocities, self.versions, strict=True))
        )

    @staticmethod
    def after_kernel(velocities: list[Tensor], sq_norm: Tensor) -> NormMemo:
        # A copy: the norm's part may also be the step's ‖v_t‖² diagnostic, which is the user's.
        versions = tuple(v._version for v in velocities)
        refs = tuple(map(weakref.ref, velocities))
        return NormMemo(refs, versions, sq_norm.detach().clone())


def next_velocity_sq_norm(
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    *,
    beta1: float,
    maximize: bool,
    norms: SqNormAccumulator,
    memo: NormMemo | None = None,
) -> tuple[list[Tensor], Tensor] | None:
    """‖v_t‖² of v_t = β1·v + (1−β1)·g into ``norms``, leaving ``exp_avgs`` unchanged.

    The fused kernel updates the moments and the parameters in one pass, so the gate's norm
    is taken before it. On the CPU, contiguous float32/float64 tensors of at least
    :data:`DOT_MIN` elements (of the first such dtype) take the identity

        ‖v_t‖² = β1²‖v‖² + 2β1(1−β1)⟨v, g⟩ + (1−β1)²‖g‖²,

    two BLAS dots per tensor and no v_t written, where ‖v‖² is the last step's ‖v_t‖² when
    ``memo`` is valid for these velocities (one more dot per tensor otherwise); it equals
    the norm of the kernel's v_t to rounding. The rest: tiny tensors one multi-tensor lerp
    and norm for all, large ones one at a time through a scratch buffer. On other devices
    one multi-tensor lerp and norm per device and dtype, with no host read.

    Returns (the dotted velocities, their ‖v_t‖²), which the caller keeps as the next step's
    memo once the kernel ran (:meth:`NormMemo.after_kernel`), or None.
    """
    weight = 1 - beta1
    plain = all(type(v) in (Tensor, torch.nn.Parameter) and v.is_cpu for v in exp_avgs)
    if not plain or compiling():
        _lerp_norms(grads, exp_avgs, weight, maximize, norms)
        return None
    dotted = _dotted(grads, exp_avgs)
    if len(dotted) < len(exp_avgs):
        rest = sorted(set(range(len(exp_avgs))) - set(dotted))
        tiny = [i for i in rest if exp_avgs[i].numel() < SMALL_NUMEL]
        _joined_norms([grads[i] for i in tiny], [exp_avgs[i] for i in tiny], weight, maximize,
                      norms)  # fmt: skip
        large = [i for i in rest if exp_avgs[i].numel() >= SMALL_NUMEL]
        _scratch_norms([grads[i] for i in large], [exp_avgs[i] for i in large], weight,
                       maximize, norms)  # fmt: skip
    if not dotted:
        return None
    grads, exp_avgs = [grads[i] for i in dotted], [exp_avgs[i] for i in dotted]
    previous = memo.sq_norm if memo is not None and memo.valid_for(exp_avgs) else None
    sq_norm = _sq_norm_by_dots(grads, exp_avgs, beta1, maximize, previous)
    norms.add_part(sq_norm)
    return exp_avgs, sq_norm


# From this many elements a CPU tensor's part of the norm is two BLAS dots (~2 µs of call
# overhead each) rather than a share of one multi-tensor lerp and norm (~2.6 ns an element).
DOT_MIN = 1 << 12


def _dotted(grads: list[Tensor], exp_avgs: list[Tensor]) -> list[int]:
    """Indices of the tensors the identity takes: contiguous, at least DOT_MIN elements, of
    the first float32/float64 dtype among them (its parts are summed in that dtype)."""
    dtype = None
    chosen = []
    for i, (g, v) in enumerate(zip(grads, exp_avgs, strict=True)):
        if v.numel() < DOT_MIN or not (v.is_contiguous() and g.is_contiguous()):
            continue
        if dtype is None and v.dtype in (torch.float32, torch.float64):
            dtype = v.dtype
        if v.dtype == dtype and g.dtype == dtype:
            chosen.append(i)
    return chosen


def _lerp_norms(grads, exp_avgs, weight: float, maximize: bool, norms) -> None:
    """Σ‖lerp(v, g)‖² by one multi-tensor lerp and norm per device and dtype."""
    if not exp_avgs:
        return
    for _, g, v in tensor_buckets([exp_avgs, grads, exp_avgs], True):
        if maximize:
            g = torch._foreach_neg(g)
        norms.add_bucket(torch._foreach_lerp(v, g, weight))


def _joined_norms(grads, exp_avgs, weight: float, maximize: bool, norms) -> None:
    """Σ‖lerp(v, g)‖² of small CPU tensors: per dtype, the velocities and the gradients
    joined into one flat tensor each, one lerp and one reduction (a few calls in all, where
    multi-tensor ops cost a few µs per tensor)."""
    by_dtype: dict[torch.dtype, list[int]] = {}
    for i, v in enumerate(exp_avgs):
        by_dtype.setdefault(v.dtype, []).append(i)
    for dtype, idx in by_dtype.items():
        if dtype not in (torch.float32, torch.float64):
            _lerp_norms([grads[i] for i in idx], [exp_avgs[i] for i in idx], weight, maximize,
                        norms)  # fmt: skip
            continue
        v = torch.cat([exp_avgs[i].reshape(-1) for i in idx])
        g = torch.cat([grads[i].reshape(-1) for i in idx]).to(dtype)  # one cast, if any
        norms.add_now(v.lerp_(g.neg_() if maximize else g, weight))


def _scratch_norms(grads, exp_avgs, weight: float, maximize: bool, norms) -> None:
    """Σ‖lerp(v, g)‖², each v_t written into one reused scratch buffer and reduced there."""
    if not exp_avgs:
        return
    scratch: dict[torch.dtype, Tensor] = {}
    size = max(v.numel() for v in exp_avgs)
    for grad, exp_avg in zip(grads, exp_avgs, strict=True):
        buf = scratch.get(exp_avg.dtype)
        if buf is None:
            buf = scratch[exp_avg.dtype] = torch.empty(size, dtype=exp_avg.dtype)
        out = buf[: exp_avg.numel()].view(exp_avg.shape)
        torch.lerp(exp_avg, -grad if maximize else grad, weight, out=out)
        norms.add_now(out)


def _sq_norm_by_dots(grads, exp_avgs, beta1: float, maximize: bool, previous) -> Tensor:
    """Σ‖β1·v + (1−β1)·g‖² by the identity (see :func:`next_velocity_sq_norm`); ``previous``
    is Σ‖v‖² when known (a 0-dim tensor), else it is taken here."""
    cross, grad_sq, vel_sq = [], [], []
    for grad, exp_avg in zip(grads, exp_avgs, strict=True):
        v, g = exp_avg.view(-1), grad.view(-1)
        cross.append(torch.dot(v, g))
        grad_sq.append(torch.dot(g, g))
        if previous is None:
            vel_sq.append(torch.dot(v, v))
    if previous is None:
        previous = torch.stack(vel_sq).sum()
    sign = -1.0 if maximize else 1.0
    total = previous * beta1**2
    total += torch.stack(cross).sum() * (sign * 2 * beta1 * (1 - beta1))
    total += torch.stack(grad_sq).sum() * (1 - beta1) ** 2
    # Where v_t nearly cancels (g ≈ −β1/(1−β1)·v) the three terms cancel to rounding of
    # β1²‖v‖², which may fall below zero: a norm is not negative.
    return total.clamp_(min=0)


def adamw_fused_(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One step of torch's fused AdamW kernel (``torch._fused_adamw_``) at the rate ``lr``:
    VRAdam passes the gated η_t (a float on the CPU, a 0-dim tensor on the device
    elsewhere, so nothing is read on the host), and with β3 = 0 the group's ``lr`` exactly
    as ``torch.optim.AdamW(fused=True)`` does, so the numbers are AdamW's bit for bit."""
    if len(params) == 0:
        return
    # As torch.optim.adam._fused_adam: a CPU tensor lr is passed as it is, a device one
    # moved to each bucket's device once.
    lr_by_device = {lr.device: lr} if isinstance(lr, Tensor) and lr.device.type != "cpu" else None
    grouped = Optimizer._group_tensors_by_device_and_dtype(
        [params, grads, exp_avgs, exp_avg_sqs, state_steps]
    )
    for (device, _), ((p, g, v, m, s), _) in grouped.items():
        bucket_lr = lr
        if lr_by_device is not None:
            if device not in lr_by_device:
                lr_by_device[device] = lr.to(device=device, non_blocking=True)
            bucket_lr = lr_by_device[device]
        torch._foreach_add_(s, 1)
        torch._fused_adamw_(
            p, g, v, m, [], s, amsgrad=False, lr=bucket_lr, beta1=beta1, beta2=beta2,
            weight_decay=weight_decay, eps=eps, maximize=maximize, grad_scale=None,
            found_inf=None,
        )  # fmt: skip
