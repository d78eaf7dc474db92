"""The one global squared velocity norm ‖v_t‖² that gates every VRAdam step.

The norm covers every tensor the optimizer steps (all param groups) and is
accumulated in float32 or wider, whatever the parameter dtype. When parameters
are sharded across ranks the local sums are added with one all-reduce, so every
rank applies the same gate. Nothing here reads a device value on the host: the
result stays a 0-dim tensor on the device of the first tensor.

The moment kernels feed a :class:`SqNormAccumulator` while they update the
velocities, so on the CPU each tensor's norm is taken while it is still in cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def compiling() -> bool:
    return torch.compiler.is_compiling()


_BLAS_DTYPES = (torch.float32, torch.float64)
# Below this many elements a CPU tensor's norm waits for one batched reduction (total()).
_SMALL = 1 << 16
_PLAIN = (torch.Tensor, torch.nn.Parameter)


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; every other floating dtype accumulates in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _dtensor_type():
    try:
        from torch.distributed.tensor import DTensor
    except (ImportError, RuntimeError):  # torch built without distributed support
        return None
    return DTensor


_DTENSOR = _dtensor_type()


def _shard_reduce_key(t: Tensor):
    """(mesh, mesh dims to sum over) for a DTensor: its sharded dims only.

    A Replicate placement holds the same values on every rank of that mesh dim,
    so summing over it would count them twice.
    """
    from torch.distributed.tensor import Replicate, Shard

    dims = []
    for dim, placement in enumerate(t.placements):
        if isinstance(placement, Shard):
            dims.append(dim)
        elif not isinstance(placement, Replicate):
            raise NotImplementedError(
                f"VRAdam cannot take the velocity norm of a DTensor with placement "
                f"{placement!r}; expected Shard or Replicate placements"
            )
    return t.device_mesh, tuple(dims)


def _tensor_sq_norm(t: Tensor) -> Tensor:
    if t.is_cpu and t.dtype in _BLAS_DTYPES and t.is_contiguous():
        flat = t.view(-1)  # BLAS dot: faster than vector_norm on the CPU
        return torch.dot(flat, flat)
    return torch.linalg.vector_norm(t, dtype=accumulation_dtype(t.dtype)).square()


def _sum_parts(parts: list[Tensor], device: torch.device) -> Tensor:
    """Sum 0-dim tensors onto ``device``, in float64 if any part is float64."""
    dtype = torch.float64 if any(p.dtype == torch.float64 for p in parts) else torch.float32
    if any(p.device != device or p.dtype != dtype for p in parts):
        parts = [p.to(device=device, dtype=dtype, non_blocking=True) for p in parts]
    return parts[0] if len(parts) == 1 else torch.stack(parts).sum()


class SqNormAccumulator:
    """Collects local Σ‖v‖² parts during the moment updates; :meth:`total` reduces them.

    Plain tensors form one part list; DTensors are kept apart by (mesh, sharded
    dims) because their local sums are reduced over those mesh dimensions.
    """

    def __init__(self) -> None:
        self._parts: dict = {}
        self._device: torch.device | None = None
        self._small: list[Tensor] = []  # small CPU tensors, reduced together in total()
        self._batch_small = not compiling()  # traced: every norm in the graph as it comes

    def _local(self, t: Tensor):
        if _DTENSOR is not None and isinstance(t, _DTENSOR):
            return _shard_reduce_key(t), t.to_local()
        return None, t

    def add(self, t: Tensor) -> None:
        """Add one tensor's ‖t‖² (for-loop kernel).

        A large CPU tensor's norm is taken now, while it is still in cache; small ones
        wait and are reduced together by one ``_foreach_norm`` in :meth:`total`, which
        saves a dispatch per tensor on models made of many small tensors."""
        if type(t) in _PLAIN:  # the common case, kept short: this runs once per tensor
            if self._device is None:
                self._device = t.device
                self._parts[None] = []
            elif None not in self._parts:
                self._parts[None] = []
            if self._batch_small and t.numel() < _SMALL and t.is_cpu and t.dtype in _BLAS_DTYPES:
                self._small.append(t)
            else:
                self._parts[None].append(_tensor_sq_norm(t))
            return
        key, local = self._local(t)
        if self._device is None:
            self._device = local.device
        self._parts.setdefault(key, []).append(_tensor_sq_norm(local))

    def add_bucket(self, tensors: Sequence[Tensor]) -> None:
        """Add Σ‖t‖² of tensors sharing one device and dtype (foreach kernel)."""
        if len(tensors) == 0:
            return
        key, first = self._local(tensors[0])
        local = [first] + [self._local(t)[1] for t in tensors[1:]]
        if key is not None and any(self._local(t)[0] != key for t in tensors[1:]):
            for t in tensors:
                self.add(t)
            return
        if self._device is None:
            self._device = first.device
        norms = torch._foreach_norm(local, 2, dtype=accumulation_dtype(first.dtype))
        part = norms[0].square() if len(norms) == 1 else torch.stack(norms).square().sum()
        self._parts.setdefault(key, []).append(part)

    def total(self, process_group=None) -> Tensor:
        """‖v‖² over everything added, summed across ranks where sharded.

        Args:
            process_group: for hand-sharded plain tensors, the group whose ranks
                each hold a disjoint shard (one all-reduce of one scalar).

        Returns:
            A 0-dim tensor on the device of the first tensor added, float64 if
            any tensor is float64, float32 otherwise.
        """
        if self._device is None:
            raise ValueError("the velocity norm needs at least one tensor")
        if self._small:
            for dtype in {t.dtype for t in self._small}:
                same = [t for t in self._small if t.dtype == dtype]
                norms = torch._foreach_norm(same, 2)
                self._parts[None].append(torch.stack(norms).square().sum())
            self._small = []
        reduced = []
        for key, parts in self._parts.items():
            total = _sum_parts(parts, self._device)
            if key is None:
                groups = [process_group] if process_group is not None else []
            else:
                mesh, dims = key
                groups = [mesh.get_group(dim) for dim in dims]
            if groups:
                import torch.distributed as dist

                if total is parts[0]:
                    total = total.clone()
                for group in groups:
                    dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
            reduced.append(total)
        return _sum_parts(reduced, self._device)
