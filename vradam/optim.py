"""VRAdam and VRMomentum as drop-in ``torch.optim.Optimizer`` classes.

Velocity-Regularized Adam (Vaidhyanathan, Schorling, Ares, Osborne,
arXiv:2505.13196) is AdamW whose learning rate is divided by
``1 + min(β3·‖v‖², α1)``, where ``v`` is the first moment ("velocity") and the
norm is one global norm over every parameter the optimizer holds.

This module imports torch only: no web stack, nothing else from the project.
The update maths lives in :mod:`vradam.functional`.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
import warnings
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import (
    _get_capturable_supported_devices,
    _get_fused_kernels_supported_devices,
)

from vradam import calibrate
from vradam.functional import (
    adam_apply_,
    adam_flat_apply_,
    adam_flat_moments_,
    adam_moments_,
    adamw_fused_,
    compiling,
    default_foreach,
    gate_lr,
    momentum_apply_,
    momentum_flat_apply_,
    momentum_flat_moments_,
    momentum_moments_,
    next_velocity_sq_norm,
    on_device,
    tensor_buckets,
)
from vradam.norm import SqNormAccumulator, VelocityBuffer

__all__ = ["VRAdam", "VRMomentum"]

# Written into every group by step(); never options.
_DIAGNOSTICS = ("effective_lr", "velocity_sq_norm")


def _scalar_dtype(fused: bool = False) -> torch.dtype:
    # As torch.optim: the step counter is a float32/64 tensor (float32 for the fused kernel).
    if fused:
        return torch.float32
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


# ----------------------------------------------------------------------------- validation
# The same checks, with the constructor's wording, run when a param group is added and at
# every step() (so a value edited into param_groups later is refused as the constructor
# would refuse it). Each returns the value as a Python number for the kernels.


def _number(name: str, value, what: str | None = None) -> float:
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


def _nonnegative(name: str, value, what: str | None = None) -> float:
    number = _number(name, value, what)
    if not number >= 0.0:  # also refuses NaN
        raise ValueError(f"Invalid {what or name + ' value'}: {value}")
    return number


def _beta(name: str, value, what: str) -> float:
    number = _number(name, value, what)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"Invalid {what}: {value}")
    return number


def _checked_lr(lr, read: bool = True):
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


def _checked_beta3(beta3) -> float:
    if isinstance(beta3, str):
        raise ValueError(f'Invalid beta3 value: {beta3!r}; a number ≥ 0 or "auto"')
    return _nonnegative("beta3", beta3)


def _is_auto(beta3) -> bool:
    if isinstance(beta3, str):
        if beta3 != "auto":
            raise ValueError(f'Invalid beta3 value: {beta3!r}; a number ≥ 0 or "auto"')
        return True
    return False


class _Options(NamedTuple):
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


def _set_diagnostic(group: dict[str, Any], key: str, value: Tensor) -> None:
    """Under torch.compile (eager steps store a new 0-dim tensor each step): the group's own
    tensor is overwritten in place, so the group dict is never written (a write makes
    torch.compile store its traced copy back, with the "capturable" it sets, which
    forces a recompile on the next step)."""
    current = group.get(key)
    if isinstance(current, Tensor) and current.device == value.device:
        current.copy_(value)
    else:
        group[key] = value


# A group of small tensors up to this many elements in all steps on flat tensors: a few
# operations per step instead of a few per tensor, for two scratch buffers of its size.
_FLAT_STEP_MAX = 1 << 20


def _steps_flat(buffer: VelocityBuffer, lists: list[list[Tensor]], keys) -> bool:
    """Whether a group whose velocities are exactly ``buffer``'s views steps on flat tensors:
    small tensors only, every other moment a view of the buffer too (in order), gradients of
    the buffer's dtype."""
    if not buffer.all_small or buffer.flat.numel() > _FLAT_STEP_MAX:
        return False
    for key, values in zip(keys[1:], lists[3 : 2 + len(keys)], strict=True):
        if key not in buffer.moments or not all(map(operator.is_, values, buffer.moments[key][1])):
            return False
    dtype = buffer.flat.dtype
    return all(g.dtype == dtype for g in lists[1])


def _as_real(t: Tensor) -> Tensor:
    return torch.view_as_real(t) if torch.is_complex(t) else t


def _zero_shard_warning(optimizer: Optimizer, process_group) -> None:
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


def _check_fused(p: Tensor) -> None:
    devices = _get_fused_kernels_supported_devices()
    if p.device.type not in devices or not torch.is_floating_point(p):
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            f"devices: {devices} but {p.dtype} and {p.device.type}"
        )


def _check_capturable(name: str, p: Tensor) -> None:
    devices = _get_capturable_supported_devices()
    if p.device.type not in devices:
        raise RuntimeError(
            f"{name}(capturable=True) steps parameters on a device that can capture the step "
            f"in a graph ({devices}; CUDA graphs on a GPU); got a parameter on "
            f"{p.device.type}. Use capturable=False on the CPU"
        )


class _Buffers(NamedTuple):
    """A param group's flat velocity buffers (CPU, eager steps), cached by group index."""

    group: dict[str, Any]  # the group they were built for (a load replaces the groups)
    known: frozenset[int]  # ids of the velocities they hold, and of those that stay apart
    buffers: list[VelocityBuffer]  # one per dtype


class _VelocityGatedOptimizer(Optimizer):
    """Shared step logic: per-group moments, one global ‖v‖², per-group gated apply."""

    # Defaults for group options that older pickles may lack (see __setstate__).
    _group_defaults: ClassVar[dict[str, Any]] = {
        "maximize": False,
        "foreach": None,
        "beta3": 1.0,
        "alpha1": 10.0,
        "capturable": False,
        "differentiable": False,
        calibrate.KEY: None,
    }

    def __init__(self, params, defaults: dict[str, Any], process_group=None) -> None:
        super().__init__(params, defaults)
        # Not a param-group option: a process group cannot be copied or saved.
        self._process_group = process_group
        # group index → (group, ids of its known velocities, its flat buffers); see
        # _flat_velocities. Not saved: a checkpoint holds the views, a load rebuilds.
        self._velocity_buffers: dict[int, _Buffers] = {}
        _zero_shard_warning(self, process_group)

    # Beta3Calibration checks for this: step() advances the calibration records.
    _calibrates_beta3 = True

    @property
    def beta3_calibration(self) -> calibrate.Beta3Calibration | None:
        """The β3 calibration of ``beta3="auto"`` (its state is in the param groups, under
        ``"beta3_auto"``), or None when no group is calibrated."""
        return calibrate.Beta3Calibration.of(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_process_group", None)
        self._velocity_buffers = {}  # rebuilt from the state on the next step
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            for key in _DIAGNOSTICS:
                group.setdefault(key, torch.tensor(math.nan, dtype=torch.float64))
            fused = group.get("fused") or group["capturable"]
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(
                        float(p_state["step"]),
                        dtype=_scalar_dtype(bool(group.get("fused"))),
                        device=p.device if fused else None,
                    )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group as torch does, checking its options with the constructor's wording
        (nothing is added when one is refused). A group whose ``beta3`` is ``"auto"`` (given,
        or the constructor's default) joins the optimizer's β3 calibration, or takes its
        value once it is done; a group given a number keeps it."""
        if isinstance(param_group, dict):
            self._options({**self.defaults, **param_group}, read_lr=True)
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        if isinstance(group["beta3"], str):
            calibrate.join(group, self.param_groups[:-1])
        else:
            group.setdefault(calibrate.KEY, None)
        # The diagnostics exist from the start (NaN until the first step), so a group
        # never changes shape during training (torch.compile guards on it).
        params = group["params"]
        wide = any(p.dtype == torch.float64 for p in params)
        dtype = torch.float64 if wide else torch.float32  # the norm's accumulation dtype
        device = params[0].device if params else None
        for key in _DIAGNOSTICS:
            group.setdefault(key, torch.full((), math.nan, dtype=dtype, device=device))

    def _options(self, group: dict[str, Any], read_lr: bool = False) -> _Options:
        """The group's options, checked (ValueError with the constructor's wording)."""
        raise NotImplementedError

    def _common_options(self, group: dict[str, Any], read_lr: bool) -> dict[str, Any]:
        if group.get("differentiable"):
            raise ValueError(
                f"{type(self).__name__} does not support differentiable=True: its step runs "
                "under no_grad (the global gate and the CPU flat buffers are not built for "
                "autograd through the update); use differentiable=False"
            )
        if group.get("fused") and group.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        beta3 = group["beta3"]
        if not (isinstance(beta3, str) and beta3 == "auto"):  # "auto": resolved when added
            beta3 = _checked_beta3(beta3)
        return dict(
            lr=_checked_lr(group["lr"], read=read_lr),
            beta3=beta3,
            alpha1=_nonnegative("alpha1", group["alpha1"]),
            weight_decay=_nonnegative("weight_decay", group["weight_decay"]),
            maximize=bool(group.get("maximize", False)),
            foreach=group.get("foreach"),
            capturable=bool(group.get("capturable", False)),
            fused=bool(group.get("fused")),
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load as torch does; options the saved groups lack keep this optimizer's values.

        So an AdamW checkpoint loaded into ``VRAdam(params, beta3=b, alpha1=a)`` continues
        as that VRAdam (β3 = b, α1 = a), not with the class defaults.
        """
        self._refuse_foreign(state_dict)
        saved = state_dict.get("param_groups", [])
        if len(saved) == len(self.param_groups):
            mine = [{k: v for k, v in g.items() if k not in _DIAGNOSTICS and k != "params"}
                    for g in self.param_groups]  # fmt: skip
            state_dict = {**state_dict,
                          "param_groups": [{**m, **g} for m, g in zip(mine, saved)]}  # fmt: skip
        super().load_state_dict(state_dict)

    def _refuse_foreign(self, state_dict: dict[str, Any]) -> None:
        """A clear error, before anything is loaded, for a checkpoint of an algorithm this
        one cannot continue (instead of a KeyError or a silent change at the next step)."""
        name = type(self).__name__
        for group in state_dict.get("param_groups", []):
            if group.get("amsgrad"):
                raise ValueError(
                    f"{name} cannot continue an amsgrad checkpoint: it keeps no max_exp_avg_sq"
                )
            if group.get("decoupled_weight_decay") is False and group.get("weight_decay"):
                raise ValueError(
                    f"{name} cannot continue this checkpoint as it was: its weight decay "
                    f"({group['weight_decay']}) is Adam's L2 term in the gradient, {name}'s is "
                    "decoupled (AdamW's); load it with weight_decay=0 in its param groups, or "
                    "choose the decay anew"
                )
        needed = ("step", *self._state_keys)
        for state in state_dict.get("state", {}).values():
            missing = [key for key in needed if key not in state]
            if state and missing:
                hint = ""
                if "momentum_buffer" in state:
                    hint = (
                        "; an SGD momentum_buffer (b ← μ·b + g) is 1/(1−μ) times an EMA "
                        "velocity (v ← β1·v + (1−β1)·g) and its learning rate differs by the "
                        "same factor, so it is not taken as one"
                    )
                raise ValueError(
                    f"{name} cannot load this state dict: a parameter's state has "
                    f"{sorted(state)}, not {missing}{hint}"
                )

    # Per-parameter state tensors besides "step", created lazily as zeros.
    _state_keys: ClassVar[tuple[str, ...]] = ()

    def _init_group(self, group: dict[str, Any], params, grads, *rest) -> bool:
        """Fill the lists ``params, grads, *state lists, steps`` with the params that have a
        gradient (creating their state lazily); returns whether any is complex.

        The same protocol as torch's own optimizers: torch.compile runs this eagerly at
        trace time (the lists are arguments, the result a constant), so creating the
        state never costs a graph or a recompile.
        """
        *states, steps = rest
        has_complex = False
        fused, capturable = bool(group.get("fused")), bool(group.get("capturable"))
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            has_complex |= torch.is_complex(p)
            if fused:
                _check_fused(p)
            if capturable and not compiling():
                _check_capturable(type(self).__name__, p)
            state = self.state[p]
            if len(state) == 0:
                # As torch.optim: on the parameter's device for the fused and capturable
                # kernels, a CPU tensor otherwise (read on the host without a sync).
                state["step"] = (
                    torch.zeros((), dtype=_scalar_dtype(fused), device=p.device)
                    if fused or capturable
                    else torch.tensor(0.0, dtype=_scalar_dtype())
                )
                for key in self._state_keys:
                    state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            for key, values in zip(self._state_keys, states):
                values.append(state[key])
            steps.append(state["step"])
        return has_complex

    def _gather_group(self, group: dict[str, Any]) -> tuple[list[list[Tensor]], bool]:
        """[params, grads, *state tensors, steps] of the params that have a gradient
        (complex tensors viewed as real pairs), and whether any is complex."""
        params: list[Tensor] = []
        grads: list[Tensor] = []
        states: list[list[Tensor]] = [[] for _ in self._state_keys]
        steps: list[Tensor] = []
        has_complex = self._init_group(group, params, grads, *states, steps)
        if has_complex:
            params, grads = [_as_real(t) for t in params], [_as_real(t) for t in grads]
            states = [[_as_real(t) for t in values] for values in states]
        return [params, grads, *states, steps], has_complex

    def _flat_velocities(
        self, index: int, group: dict[str, Any], state_lists: list[list[Tensor]]
    ) -> tuple[list[VelocityBuffer], VelocityBuffer | None]:
        """The group's flat velocity buffers (CPU, eager steps), rebuilt when a stepping
        velocity is not known yet: new state, a loaded checkpoint, a replaced tensor.

        ``state_lists`` are the gathered state tensors of the stepping parameters, the
        velocities first. A rebuild copies every velocity the group has into one flat tensor
        per dtype and puts views of it into the state (and into ``state_lists``), so ‖v‖² of
        the group is one reduction. The state keeps its names, shapes and values; a rebuild
        happens on the first step, when a parameter gets its first gradient later, and after
        a load.

        Returns the buffers, and the one buffer whose views are exactly the stepping
        velocities when there is one (then the moment kernels need not feed the norm one
        tensor at a time, and a group of small tensors can step on flat tensors).
        """
        velocities = state_lists[0]
        entry = self._velocity_buffers.get(index)
        if (
            entry is None
            or entry.group is not group
            or not entry.known.issuperset(map(id, velocities))
        ):
            entry = self._rebuild_velocities(index, group, state_lists)
        buffers = entry.buffers
        if len(buffers) == 1 and len(buffers[0].views) == len(velocities):
            whole = buffers[0]
            return buffers, (whole if whole.ids.issuperset(map(id, velocities)) else None)
        return buffers, None

    def _rebuild_velocities(
        self, index: int, group: dict[str, Any], state_lists: list[list[Tensor]]
    ) -> _Buffers:
        """Copy every velocity of the group (and, where they all can follow, its other
        moments) into new flat buffers, one per dtype, and point the state and the gathered
        ``state_lists`` at their views; returns the new cache entry."""
        keys = self._state_keys  # the velocity ("exp_avg") first
        by_dtype: dict[torch.dtype, list[Tensor]] = {}
        known: set[int] = set()  # velocities that stay separate tensors (not eligible)
        for p in group["params"]:
            state = self.state.get(p)
            if state and keys[0] in state:
                v = state[keys[0]]
                if VelocityBuffer.eligible(v):
                    by_dtype.setdefault(v.dtype, []).append(p)
                else:
                    known.add(id(v))
        buffers, moved = [], {}
        for params in by_dtype.values():
            states = [self.state[p] for p in params]
            others = {key: [s.get(key) for s in states] for key in keys[1:]}
            if not all(
                isinstance(t, Tensor) and VelocityBuffer.eligible(t) and t.dtype == v.dtype
                and t.shape == v.shape
                for key in keys[1:] for t, v in zip(others[key], (s[keys[0]] for s in states))
            ):  # fmt: skip
                others = {}
            buffer = VelocityBuffer([s[keys[0]] for s in states], others)
            for key, views in [(keys[0], buffer.views)] + [
                (k, buffer.moments[k][1]) for k in others
            ]:
                for state, view in zip(states, views, strict=True):
                    moved[id(state[key])] = view
                    state[key] = view
            buffers.append(buffer)
            known |= buffer.ids
        for values in state_lists:
            values[:] = [moved.get(id(t), t) for t in values]
        entry = self._velocity_buffers[index] = _Buffers(group, frozenset(known), buffers)
        return entry

    # ------------------------------------------------------------------- kernels, per class
    # Each takes the group's checked options and its gathered lists
    # [params, grads, *moments, steps] (or one device/dtype bucket of them).

    def _moments(self, o: _Options, lists: list[list[Tensor]], foreach: bool, norms) -> None:
        """v_t (and the other moments) in place; ‖v_t‖² into ``norms`` when given."""
        raise NotImplementedError

    def _moments_flat(self, o: _Options, lists: list[list[Tensor]], buffer: VelocityBuffer):
        """:meth:`_moments` on the flat tensors of ``buffer`` (a group of small tensors)."""
        raise NotImplementedError

    def _apply(self, o: _Options, lists: list[list[Tensor]], lr, foreach: bool) -> None:
        """The parameter update with the gated rate ``lr`` (η_t)."""
        raise NotImplementedError

    def _apply_flat(self, o: _Options, lists, lr, buffer: VelocityBuffer) -> bool:
        """:meth:`_apply` on flat tensors; False (nothing done) when the steps differ."""
        raise NotImplementedError

    def _next_sq_norm(self, o: _Options, lists: list[list[Tensor]], norms) -> None:
        """The fused kernel's phase 1: ‖v_t‖² into ``norms`` without changing the state."""
        raise NotImplementedError

    def _step_fused(self, o: _Options, lists: list[list[Tensor]], lr) -> None:
        """The fused kernel: moments and update in one pass at the rate ``lr``."""
        raise NotImplementedError

    def _sync_options(self, group: dict[str, Any]) -> None:
        """Reconcile option mirrors before the options are read (VRMomentum's β1)."""

    # ------------------------------------------------------------------- step

    def _plan(self, index: int, group: dict[str, Any], buffers: list[VelocityBuffer]):
        """The group's checked options, stepping tensors and kernel for this step, or None
        when no parameter of the group has a gradient."""
        self._sync_options(group)
        eager = not compiling()
        lr = group["lr"]
        read_lr = eager and not (isinstance(lr, Tensor) and lr.device.type != "cpu")
        if isinstance(group["beta3"], str) and group["beta3"] == "auto":  # set by hand
            calibrate.join(group, self.param_groups)
        options = self._options(group, read_lr=read_lr)
        lists, has_complex = self._gather_group(group)
        if len(lists[0]) == 0:
            return None
        if options.fused:
            return _Plan(group, options, lists, "fused", True, tensor_buckets(lists, True), None)
        whole = None  # a flat buffer holding exactly this group's stepping velocities
        if eager and not has_complex and not options.capturable and lists[0][0].is_cpu:
            states = lists[2 : 2 + len(self._state_keys)]
            group_buffers, whole = self._flat_velocities(index, group, states)
            buffers += group_buffers
        foreach = options.foreach
        if foreach is None:
            foreach = default_foreach(lists[0])
        if whole is not None and _steps_flat(whole, lists, self._state_keys):
            kernel = "flat"
        else:
            kernel = "foreach" if foreach else "loop"
            # The for-loop kernel takes a large tensor's norm while it is in cache.
            if whole is not None and kernel == "loop" and not whole.all_small:
                whole = None
        return _Plan(group, options, lists, kernel, foreach, tensor_buckets(lists, foreach), whole)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform a single optimization step.

        Three phases, as the global gate needs every velocity before any parameter moves:
        moments (and ‖v_t‖²) for every group, the gate η_t per group, then the update.

        Args:
            closure (Callable, optional): A closure that reevaluates the model
                and returns the loss.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        buffers: list[VelocityBuffer] = []
        plans = [self._plan(i, g, buffers) for i, g in enumerate(self.param_groups)]
        plans = [plan for plan in plans if plan is not None]
        if not plans:
            return loss
        # The fused kernel updates moments and parameters in one pass, so while any gate is
        # on its phase 1 takes ‖v_t‖² without stepping; with every gate off it steps at
        # once (η_t = lr) and the norm, a diagnostic then, is taken after.
        gate_on = any(plan.options.beta3 != 0 for plan in plans)

        norms = SqNormAccumulator(buffers)
        for plan in plans:
            o, lists = plan.options, plan.lists
            if plan.kernel == "fused":
                if gate_on:
                    self._next_sq_norm(o, lists, norms)
                else:
                    self._step_fused(o, lists, o.lr)
                    for bucket in plan.buckets:
                        norms.add_bucket(bucket[2])
            elif plan.kernel == "flat":
                self._moments_flat(o, lists, plan.buffer)
            else:
                for bucket in plan.buckets:
                    self._moments(o, bucket, plan.foreach, norms if plan.buffer is None else None)
            if plan.buffer is not None:
                norms.add_buffer(plan.buffer)

        sq_norm = norms.total(self._process_group)
        for plan in plans:
            o, lists, group = plan.options, plan.lists, plan.group
            eta = gate_lr(o.lr, sq_norm, o.beta3, o.alpha1)
            if plan.kernel == "fused":
                if gate_on:
                    self._step_fused(o, lists, eta)
            elif plan.kernel != "flat" or not self._apply_flat(o, lists, eta, plan.buffer):
                cache: dict = {}
                for bucket in plan.buckets:
                    self._apply(o, bucket, on_device(eta, bucket[0][0].device, cache), plan.foreach)
            if not isinstance(eta, Tensor):
                eta = torch.tensor(eta, dtype=torch.float64)
            elif eta is o.lr or eta is group["lr"]:  # gate off: a copy, not the scheduler's lr
                eta = eta.detach().clone()
            if not compiling():
                group["effective_lr"], group["velocity_sq_norm"] = eta, sq_norm
            else:
                _set_diagnostic(group, "effective_lr", eta)
                _set_diagnostic(group, "velocity_sq_norm", sq_norm)
        if calibrate.in_progress(self.param_groups):
            calibrate.advance_groups(self.param_groups, sq_norm)
        return loss


class _Plan(NamedTuple):
    """One param group's step: what :meth:`_VelocityGatedOptimizer.step` runs for it."""

    group: dict[str, Any]
    options: _Options
    lists: list[list[Tensor]]  # [params, grads, *moments, steps] of the stepping params
    kernel: str  # "loop", "foreach", "flat" (small CPU tensors) or "fused"
    foreach: bool  # the kernel of the buckets (also the flat kernel's fallback apply)
    buckets: list[list[list[Tensor]]]  # ``lists`` by device and dtype (foreach), or [lists]
    buffer: VelocityBuffer | None  # the flat buffer holding exactly the group's velocities


class VRAdam(_VelocityGatedOptimizer):
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
    (:class:`vradam.norm.VelocityBuffer`), so ‖v‖² of many small tensors is one
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
        _is_auto(beta3)
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
        **_VelocityGatedOptimizer._group_defaults,
        "fused": None,
    }

    def _options(self, group, read_lr=False):
        betas = group["betas"]
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Invalid betas: {betas}; expected (beta1, beta2)") from None
        return _Options(
            beta1=_beta("betas[0]", beta1, "beta parameter at index 0"),
            beta2=_beta("betas[1]", beta2, "beta parameter at index 1"),
            eps=_nonnegative("eps", group["eps"], "epsilon value"),
            **self._common_options(group, read_lr),
        )

    def _moments(self, o, lists, foreach, norms):
        _, grads, exp_avgs, exp_avg_sqs, steps = lists
        adam_moments_(grads, exp_avgs, exp_avg_sqs, steps, beta1=o.beta1, beta2=o.beta2,
                      maximize=o.maximize, foreach=foreach, norms=norms)  # fmt: skip

    def _moments_flat(self, o, lists, buffer):
        adam_flat_moments_(buffer, lists[1], lists[-1], beta1=o.beta1, beta2=o.beta2,
                           maximize=o.maximize)  # fmt: skip

    def _apply_flat(self, o, lists, lr, buffer):
        return adam_flat_apply_(buffer, lists[0], lists[-1], lr=lr, beta1=o.beta1,
                                beta2=o.beta2, eps=o.eps, weight_decay=o.weight_decay,
                                adamw_ops=o.beta3 == 0)  # fmt: skip

    def _apply(self, o, lists, lr, foreach):
        params, _, exp_avgs, exp_avg_sqs, steps = lists
        adam_apply_(params, exp_avgs, exp_avg_sqs, steps, lr=lr, beta1=o.beta1, beta2=o.beta2,
                    eps=o.eps, weight_decay=o.weight_decay, foreach=foreach,
                    adamw_ops=o.beta3 == 0, capturable=o.capturable)  # fmt: skip

    def _next_sq_norm(self, o, lists, norms):
        next_velocity_sq_norm(lists[1], lists[2], beta1=o.beta1, maximize=o.maximize,
                              norms=norms)  # fmt: skip

    def _step_fused(self, o, lists, lr):
        params, grads, exp_avgs, exp_avg_sqs, steps = lists
        adamw_fused_(params, grads, exp_avgs, exp_avg_sqs, steps, lr=lr, beta1=o.beta1,
                     beta2=o.beta2, eps=o.eps, weight_decay=o.weight_decay,
                     maximize=o.maximize)  # fmt: skip


class VRMomentum(_VelocityGatedOptimizer):
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
        _is_auto(beta3)
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
                _beta("momentum", momentum, "momentum (VRMomentum's beta1) value")
                group["beta1"] = momentum  # beta1 untouched: the mirror moved
            else:
                group["momentum"] = beta1
        synced[id(group)] = group["beta1"]

    def _options(self, group, read_lr=False):
        return _Options(
            beta1=_beta("beta1", group["beta1"], "beta1 value"),
            beta2=0.0,
            eps=0.0,
            **self._common_options(group, read_lr),
        )

    def _moments(self, o, lists, foreach, norms):
        _, grads, exp_avgs, steps = lists
        momentum_moments_(grads, exp_avgs, steps, beta1=o.beta1, maximize=o.maximize,
                          foreach=foreach, norms=norms)  # fmt: skip

    def _moments_flat(self, o, lists, buffer):
        momentum_flat_moments_(buffer, lists[1], lists[-1], beta1=o.beta1, maximize=o.maximize)

    def _apply_flat(self, o, lists, lr, buffer):
        momentum_flat_apply_(buffer, lists[0], lr=lr, weight_decay=o.weight_decay)
        return True

    def _apply(self, o, lists, lr, foreach):
        params, _, exp_avgs, _ = lists
        momentum_apply_(params, exp_avgs, lr=lr, weight_decay=o.weight_decay, foreach=foreach)
