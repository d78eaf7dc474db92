"""The flat-velocity path of the CPU step: a param group's velocities as views of one buffer.

On the CPU, eager steps keep each param group's velocities (``exp_avg``, and VRAdam's
``exp_avg_sq`` where they can follow) as views of one flat tensor per dtype
(:class:`VelocityBuffer`). Then ‖v‖² of the group is one reduction instead of one per tensor,
and a group of small tensors steps as a few operations on whole flat tensors (the kernels
below), elementwise the same operations as tensor by tensor, so the same numbers.

:class:`VelocityCache` is the core's one cache: which buffers each group has, and which
velocities they hold. Its invariants are in its docstring. Torch only.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from vradam.functional import increment_steps, step_values, to_number
from vradam.norm import SMALL_NUMEL

__all__ = [
    "FLAT_STEP_MAX",
    "VelocityBuffer",
    "VelocityCache",
    "adam_flat_apply_",
    "adam_flat_moments_",
    "momentum_flat_apply_",
    "momentum_flat_moments_",
]

_FLOAT_DTYPES = (torch.float32, torch.float64)
# A group of small tensors up to this many elements in all steps on flat tensors: a few
# operations per step instead of a few per tensor, for two scratch buffers of its size.
FLAT_STEP_MAX = 1 << 20


class VelocityBuffer:
    """Velocities of one param group, one dtype, on the CPU, as views of one flat tensor.

    The views are ordered small tensors first, so ``small`` (the first part of ``flat``)
    holds every velocity under :data:`SMALL_NUMEL` elements: the for-loop kernel reduces it
    with one reduction and the large ones while they are in cache; the foreach kernel
    reduces all of ``flat`` at once. Gaps between views (64-byte alignment) stay zero, so
    they add nothing to a norm.

    ``moments`` holds the group's other moments (VRAdam's ``exp_avg_sq``) the same way,
    with the same layout, and :meth:`scratch` two zeroed buffers of that layout (for the
    gradients and the Adam denominator).
    """

    __slots__ = ("_ids", "_layout", "_scratch", "_small_ids", "flat", "moments", "small", "views")

    def __init__(
        self, velocities: Sequence[Tensor], others: dict[str, Sequence[Tensor]] | None = None
    ) -> None:
        """Copy ``velocities`` (contiguous, one dtype and device) into one new flat tensor;
        ``views[i]`` then holds ``velocities[i]``'s values with its shape. ``others`` maps a
        state name to tensors of the same shapes (and dtype), laid out the same way."""
        order = sorted(range(len(velocities)), key=lambda i: velocities[i].numel() >= SMALL_NUMEL)
        # Each view starts on a 64-byte boundary, as a tensor of its own would.
        align = max(1, 64 // velocities[0].element_size())
        starts, offset, small_end = [0] * len(velocities), 0, 0
        for i in order:
            starts[i] = offset
            if velocities[i].numel() < SMALL_NUMEL:
                small_end = offset + velocities[i].numel()
            offset += -(-velocities[i].numel() // align) * align
        self._layout = (offset, starts, [v.shape for v in velocities], velocities[0])
        self.flat, self.views = self._fill(velocities)
        self.moments = {key: self._fill(values) for key, values in (others or {}).items()}
        self._scratch: tuple | None = None
        self.small = self.flat[:small_end]
        # ids of the buffer's own views, which it keeps alive: an id here names that view.
        self._ids = frozenset(map(id, self.views))
        self._small_ids = frozenset(id(v) for v in self.views if v.numel() < SMALL_NUMEL)

    def _fill(self, tensors: Sequence[Tensor] | None) -> tuple[Tensor, list[Tensor]]:
        size, starts, shapes, like = self._layout
        flat = torch.zeros(size, dtype=like.dtype, device=like.device)
        views = [flat[a : a + shape.numel()].view(shape) for a, shape in zip(starts, shapes)]
        for view, t in zip(views, tensors or (), strict=False):
            view.copy_(t)
        return flat, views

    @property
    def all_small(self) -> bool:
        return len(self._small_ids) == len(self.views)

    def holds(self, tensor: Tensor) -> bool:
        """Whether ``tensor`` is one of the views."""
        return id(tensor) in self._ids

    def is_all_of(self, tensors: Sequence[Tensor]) -> bool:
        """Whether ``tensors`` are every view of the buffer (in any order, each once)."""
        return len(tensors) == len(self.views) and self._ids.issuperset(map(id, tensors))

    @property
    def small_ids(self) -> frozenset[int]:
        """The ids of the views under :data:`SMALL_NUMEL` elements (views the buffer holds)."""
        return self._small_ids

    def scratch(self) -> tuple[tuple[Tensor, list[Tensor]], tuple[Tensor, list[Tensor]]]:
        """Two zeroed flat tensors with their views, made once: the views are written, the
        gaps between them stay zero."""
        if self._scratch is None:
            self._scratch = (self._fill(None), self._fill(None))
        return self._scratch

    @property
    def steps_flat_possible(self) -> bool:
        """Small tensors only, and few enough elements for the flat step's scratch."""
        return self.all_small and self.flat.numel() <= FLAT_STEP_MAX

    @staticmethod
    def eligible(velocity: Tensor) -> bool:
        """A velocity the buffer can hold: a plain contiguous float32/float64 CPU tensor."""
        return (
            type(velocity) is torch.Tensor
            and velocity.is_cpu
            and velocity.dtype in _FLOAT_DTYPES
            and velocity.is_contiguous()
        )


class _Entry(NamedTuple):
    group: dict[str, Any]  # the param group the buffers were built for
    known: tuple[Tensor, ...]  # every velocity of the group when built (held: see below)
    known_ids: frozenset[int]  # their ids
    buffers: list[VelocityBuffer]  # one per dtype


class VelocityCache:
    """What the optimizer knows about its velocities between steps, per param group: the
    core's one cache. For a CPU group of the for-loop, foreach or flat kernel, its flat
    velocity buffers; for a fused CPU group, the last ‖v_t‖² of its large velocities
    (:class:`vradam.kernels.fused.NormMemo`), which the next step's norm starts from.

    Invariants:

    - An entry is for one param group *object* (``entry.group is group``). A load, a copy
      or an unpickle makes new group dicts, so an entry never serves another group.
    - The entry holds every tensor whose identity it vouches for: the buffers hold their
      views, and ``known`` holds the velocities that stay separate tensors (not eligible).
      So an ``id`` in the cache always names a live tensor it holds, never a reused address.
    - The buffers' views *are* the state tensors: the cache copies no value, and the state
      (``state_dict``, a checkpoint) sees ordinary tensors. The flat tensor lives as long as
      one of its views does.
    - An entry is rebuilt when a stepping velocity is not among ``known``: on the first
      step, when a parameter gets its first gradient later, after a load (new tensors) or a
      hand-made replacement. A rebuild copies the current values, so nothing is lost.
    - A fused group's memo is used only while it is for the same group object, the same
      velocity tensors in the same order (weak references: a memo keeps nothing alive),
      each at the version counter it had after the fused kernel: any in-place write to a
      velocity (``zero_()``, ``copy_()``, a load into it) bumps the counter and the norm is
      taken afresh; a fused step with every gate off (no norm taken first) forgets it. (A
      write through ``.data`` does not bump the counter: edit optimizer state in place, not
      through ``.data``.)
    - Nothing here is saved or copied: torch's ``Optimizer.__getstate__`` leaves it out, so
      a pickle or ``copy.deepcopy`` starts with an empty cache that fills at the next step.
    """

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._norms: dict[int, tuple[dict[str, Any], Any]] = {}  # index → (group, NormMemo)

    def clear(self) -> None:
        self._entries.clear()
        self._norms.clear()

    def norm_memo(self, index: int, group: dict[str, Any]):
        """The fused group's last memo (a :class:`vradam.kernels.fused.NormMemo`), or None."""
        entry = self._norms.get(index)
        return entry[1] if entry is not None and entry[0] is group else None

    def keep_norm_memo(self, index: int, group: dict[str, Any], memo) -> None:
        """Keep ``memo`` for the group's next step (None forgets it)."""
        if memo is None:
            self._norms.pop(index, None)
        else:
            self._norms[index] = (group, memo)

    def buffers(self, index: int) -> list[VelocityBuffer]:
        """The buffers of param group ``index`` as last built (none before its first step)."""
        entry = self._entries.get(index)
        return [] if entry is None else entry.buffers

    def group_buffers(
        self,
        index: int,
        group: dict[str, Any],
        state: dict,
        keys: Sequence[str],
        state_lists: list[list[Tensor]],
    ) -> tuple[list[VelocityBuffer], VelocityBuffer | None]:
        """The buffers of param group ``index`` (rebuilt when needed, see the class), and the
        one buffer whose views are exactly the stepping velocities when there is one.

        ``keys`` are the state names of the moments, the velocity first; ``state_lists``
        the gathered moments of the stepping parameters in that order. A rebuild points the
        state and ``state_lists`` at the new views.
        """
        velocities = state_lists[0]
        entry = self._entries.get(index)
        if (
            entry is None
            or entry.group is not group
            or not entry.known_ids.issuperset(map(id, velocities))
        ):
            entry = self._entries[index] = _rebuild(group, state, keys, state_lists)
        buffers = entry.buffers
        if len(buffers) == 1 and buffers[0].is_all_of(velocities):
            return buffers, buffers[0]
        return buffers, None


def _rebuild(
    group: dict[str, Any], state: dict, keys: Sequence[str], state_lists: list[list[Tensor]]
) -> _Entry:
    """Copy every velocity of the group (and, where they all can follow, its other moments)
    into new flat buffers, one per dtype, and point the state and ``state_lists`` at their
    views."""
    by_dtype: dict[torch.dtype, list[dict]] = {}
    apart: list[Tensor] = []  # velocities that stay separate tensors (not eligible)
    for p in group["params"]:
        p_state = state.get(p)
        if p_state and keys[0] in p_state:
            v = p_state[keys[0]]
            if VelocityBuffer.eligible(v):
                by_dtype.setdefault(v.dtype, []).append(p_state)
            else:
                apart.append(v)
    buffers, moved = [], {}
    for states in by_dtype.values():
        velocities = [s[keys[0]] for s in states]
        others = {key: [s.get(key) for s in states] for key in keys[1:]}
        if not all(
            isinstance(t, Tensor) and VelocityBuffer.eligible(t) and t.dtype == v.dtype
            and t.shape == v.shape
            for key in keys[1:] for t, v in zip(others[key], velocities)
        ):  # fmt: skip
            others = {}
        buffer = VelocityBuffer(velocities, others)
        pairs = [(keys[0], buffer.views)] + [(k, buffer.moments[k][1]) for k in others]
        for key, views in pairs:
            for p_state, view in zip(states, views, strict=True):
                moved[id(p_state[key])] = view
                p_state[key] = view
        buffers.append(buffer)
    for values in state_lists:
        values[:] = [moved.get(id(t), t) for t in values]
    known = (*apart, *(v for b in buffers for v in b.views))
    return _Entry(group, known, frozenset(map(id, known)), buffers)


def steps_flat(buffer: VelocityBuffer, others: Sequence[Sequence[Tensor]], keys, grads) -> bool:
    """Whether a group whose velocities are exactly ``buffer``'s views steps on flat tensors:
    small tensors only, every other moment (``others``, named ``keys``) a view of the buffer
    too, in order, and gradients of the buffer's dtype."""
    if not buffer.steps_flat_possible:
        return False
    for key, values in zip(keys, others, strict=True):
        if key not in buffer.moments or not all(map(operator.is_, values, buffer.moments[key][1])):
            return False
    dtype = buffer.flat.dtype
    return all(g.dtype == dtype for g in grads)


# ----------------------------------------------------------------------------- kernels


def _flat_grads(buffer: VelocityBuffer, grads: list[Tensor], maximize: bool) -> Tensor:
    """The gradients copied into the buffer's zero-padded layout (one call), negated for
    ``maximize``."""
    (g, views), _ = buffer.scratch()
    torch._foreach_copy_(views, grads)
    return g.neg_() if maximize else g


def adam_flat_moments_(
    buffer: VelocityBuffer,
    grads: list[Tensor],
    state_steps: list[Tensor],
    *,
    beta1: float,
    beta2: float,
    maximize: bool,
) -> None:
    """``adam_moments_`` for a group whose ``exp_avg`` and ``exp_avg_sq`` are exactly the
    views of ``buffer`` (in order): each update is one operation on the whole flat tensors,
    elementwise the same operations, so the same numbers, as tensor by tensor."""
    increment_steps(state_steps, True)
    g = _flat_grads(buffer, grads, maximize)
    buffer.flat.lerp_(g, 1 - beta1)
    buffer.moments["exp_avg_sq"][0].mul_(beta2).addcmul_(g, g, value=1 - beta2)


def adam_flat_apply_(
    buffer: VelocityBuffer,
    params: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    adamw_ops: bool = True,
) -> bool:
    """``adam_apply_`` on ``buffer`` (see :func:`adam_flat_moments_`) when every tensor
    has the same step count, with the same operations elementwise; returns False, having
    done nothing, when the step counts differ."""
    steps = step_values(state_steps)
    if steps.count(steps[0]) != len(steps):
        return False
    bias_correction1 = 1 - beta1 ** steps[0]
    bias_correction2_sqrt = (1 - beta2 ** steps[0]) ** 0.5
    if weight_decay != 0:
        torch._foreach_mul_(params, 1 - lr * weight_decay)
    _, (denom, denom_views) = buffer.scratch()
    torch.sqrt(buffer.moments["exp_avg_sq"][0], out=denom)
    if adamw_ops:
        denom.div_(bias_correction2_sqrt).add_(eps)
        value = to_number(-(lr / bias_correction1))
    else:
        denom.add_(eps * bias_correction2_sqrt)
        value = -lr * bias_correction2_sqrt / bias_correction1
    torch._foreach_addcdiv_(params, buffer.views, denom_views, value)
    return True


def momentum_flat_moments_(
    buffer: VelocityBuffer,
    grads: list[Tensor],
    state_steps: list[Tensor],
    *,
    beta1: float,
    maximize: bool,
) -> None:
    """``momentum_moments_`` for a group whose ``exp_avg`` are exactly the views of
    ``buffer``: one operation on the flat tensor."""
    increment_steps(state_steps, True)
    buffer.flat.lerp_(_flat_grads(buffer, grads, maximize), 1 - beta1)


def momentum_flat_apply_(
    buffer: VelocityBuffer, params: list[Tensor], *, lr: float | Tensor, weight_decay: float
) -> bool:
    """``momentum_apply_`` with the velocities of ``buffer``, the same operations
    elementwise; always done (True)."""
    if weight_decay != 0:
        torch._foreach_mul_(params, 1 - lr * weight_decay)
    if isinstance(lr, Tensor):
        _, (scaled, views) = buffer.scratch()
        torch.mul(buffer.flat, -lr, out=scaled)
        torch._foreach_add_(params, views)
    else:
        torch._foreach_add_(params, buffer.views, alpha=-lr)
    return True
