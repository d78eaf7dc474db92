"""The options of VRAdam and VRMomentum: the checks, with the constructor's wording, that run
when a param group is added and at every ``step()``, the checked options of one step, and the
warnings and refusals that depend on where the parameters live (ZeRO shards, fused and
capturable devices). Torch only."""

from __future__ import annotations

import numbers
import sys
import warnings
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import (
    _get_capturable_supported_devices,
    _get_fused_kernels_supported_devices,
)

__all__ = [
    "DIAGNOSTICS",
    "Options",
    "as_number",
    "check_beta",
    "check_capturable",
    "check_fused",
    "checked_beta3",
    "checked_lr",
    "is_auto",
    "nonnegative",
    "scalar_dtype",
    "set_diagnostic",
    "zero_shard_warning",
]

# Written into every group by step(); never options.
DIAGNOSTICS = ("effective_lr", "velocity_sq_norm")


def scalar_dtype(fused: bool = False) -> torch.dtype:
    # As torch.optim: the step counter is a float32/64 tensor (float32 for the fused kernel).
    if fused:
        return torch.float32
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


# ----------------------------------------------------------------------------- validation
# The same checks, with the constructor's wording, run when a param group is added and at
# every step() (so a value edited into param_groups later is refused as the constructor
# would refuse it). Each returns the value as a Python number for the kernels.


def as_number(name: str, value, what: str | None = None) -> float:
    """A Python number from a number or a 1-element CPU tensor (whose value is read on the
    host: free on the CPU; a tensor on an accelerator would cost a synchronisation per step,
    so it is refused)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element")
        if value.device.type != "cpu":
            raise ValueError(
                f"Tensor {name} must be on the CPU: its value is read on the host at every "
                f"step, which on {value.device} would synchronise or fail"
            )
        return value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"Invalid {what or name + ' value'}: {value!r}; expected a number")


def nonnegative(name: str, value, what: str | None = None) -> float:
    x = as_number(name, value, what)
    if not x >= 0.0:  # also refuses NaN
        raise ValueError(f"Invalid {what or name + ' value'}: {value}")
    return x


def check_beta(name: str, value, what: str) -> float:
    x = as_number(name, value, what)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"Invalid {what}: {value}")
    return x


def checked_lr(lr, read: bool = True):
    """lr as the kernels take it: a number, or a 0-dim view of a 1-element Tensor (one or two
    dimensions included; a view, so a scheduler's in-place update is seen). ``read=False``
    checks a Tensor's size only (its value would be a host read: traced, or on a GPU)."""
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if read and not lr.item() >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        return lr.reshape(()) if lr.dim() else lr
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool) and lr >= 0.0:
        return lr
    raise ValueError(f"Invalid learning rate: {lr}")


def checked_beta3(beta3) -> float:
    if isinstance(beta3, str):
        raise ValueError(f'Invalid beta3 value: {beta3!r}; a number ≥ 0 or "auto"')
    return nonnegative("beta3", beta3)


def is_auto(beta3) -> bool:
    if isinstance(beta3, str):
        if beta3 != "auto":
            raise ValueError(f'Invalid beta3 value: {beta3!r}; a number ≥ 0 or "auto"')
        return True
    return False


class Options(NamedTuple):
    """One group's options for one step, checked, as the kernels take them."""

    lr: float | Tensor  # α0: a number or a 0-dim tensor
    beta1: float
    beta2: float  # VRAdam only (0.0 for VRMomentum)
    beta3: float
    alpha1: float
    eps: float  # VRAdam only
    weight_decay: float
    maximize: bool
    foreach: bool | None
    capturable: bool
    fused: bool


def set_diagnostic(group: dict[str, Any], key: str, value: Tensor) -> None:
    """Under torch.compile (eager steps store a new 0-dim tensor each step): the group's own
    tensor is overwritten in place, so the group dict is never written (a write makes
    torch.compile store its traced copy back, with the "capturable" it sets, which
    forces a recompile on the next step)."""
    current = group.get(key)
    if isinstance(current, Tensor) and current.device == value.device:
        current.copy_(value)
    else:
        group[key] = value


def zero_shard_warning(optimizer: Optimizer, process_group) -> None:
    """Warn when this optimizer is the local optimizer of a ZeroRedundancyOptimizer (it then
    holds one rank's shard of the parameters) without ``process_group``: each rank would gate
    on the norm of its own shard. Found by the constructing frame; costs nothing otherwise."""
    if process_group is not None:
        return
    try:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return
        from torch.distributed.optim import ZeroRedundancyOptimizer
    except (ImportError, RuntimeError):
        return
    frame = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return
        if isinstance(frame.f_locals.get("self"), ZeroRedundancyOptimizer):
            name = type(optimizer).__name__
            warnings.warn(
                f"{name} is the local optimizer of a ZeroRedundancyOptimizer, which gives each "
                f"rank a shard of the parameters, but has no process_group: each rank would "
                f"gate on the ‖v‖² of its own shard. Pass optimizer_class="
                f"functools.partial({name}, process_group=...) (the group ZeRO shards over, "
                "e.g. torch.distributed.group.WORLD) so the squared norm is summed across ranks.",
                UserWarning,
                stacklevel=3,
            )
            return
        frame = frame.f_back


def check_fused(p: Tensor) -> None:
    devices = _get_fused_kernels_supported_devices()
    if p.device.type not in devices or not torch.is_floating_point(p):
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            f"devices: {devices} but {p.dtype} and {p.device.type}"
        )


def check_capturable(name: str, p: Tensor) -> None:
    devices = _get_capturable_supported_devices()
    if p.device.type not in devices:
        raise RuntimeError(
            f"{name}(capturable=True) steps parameters on a device that can capture the step "
            f"in a graph ({devices}; CUDA graphs on a GPU); got a parameter on "
            f"{p.device.type}. Use capturable=False on the CPU"
        )
