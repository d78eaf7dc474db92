"""What VRAdam and VRMomentum share: one optimizer base that gathers each param group,
takes one global ‖v‖² over every parameter, gates the rate and applies it per group, with one
kernel per path (for-loop, foreach, flat small-tensor, fused). The update maths is in
:mod:`vradam.functional`, the options' checks in :mod:`vradam.options`.

The flat path (:mod:`vradam.kernels.flat`): on the CPU each group's velocities (``exp_avg``) are
views of one buffer, so ‖v‖² is one reduction; a group of small tensors also steps as a few
operations on flat tensors. The optimizer's one cache, :class:`vradam.kernels.flat.VelocityCache`,
knows which buffers each group has (its invariants are written there). The fused path is
:mod:`vradam.kernels.fused`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor
from torch.optim import Optimizer

from vradam import calibrate
from vradam.functional import (
    GroupTensors,
    compiling,
    default_foreach,
    gate_lr,
    on_device,
)
from vradam.kernels.flat import VelocityBuffer, VelocityCache, steps_flat
from vradam.kernels.fused import NormMemo
from vradam.norm import SqNormAccumulator
from vradam.options import (
    DIAGNOSTICS,
    Options,
    check_capturable,
    check_fused,
    checked_beta3,
    checked_lr,
    nonnegative,
    scalar_dtype,
    set_diagnostic,
    zero_shard_warning,
)

__all__ = ["VelocityGatedOptimizer"]


def _as_real(t: Tensor) -> Tensor:
    return torch.view_as_real(t) if torch.is_complex(t) else t


class VelocityGatedOptimizer(Optimizer):
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
        # The flat velocity buffers per group (see vradam.kernels.flat.VelocityCache): never
        # saved, a checkpoint holds the views, a load or copy rebuilds.
        self._velocities = VelocityCache()
        zero_shard_warning(self, process_group)

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
        self._velocities = VelocityCache()  # rebuilt from the state on the next step
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            for key in DIAGNOSTICS:
                group.setdefault(key, torch.tensor(math.nan, dtype=torch.float64))
            fused = group.get("fused") or group["capturable"]
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(
                        float(p_state["step"]),
                        dtype=scalar_dtype(bool(group.get("fused"))),
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
        for key in DIAGNOSTICS:
            group.setdefault(key, torch.full((), math.nan, dtype=dtype, device=device))

    def _options(self, group: dict[str, Any], read_lr: bool = False) -> Options:
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
            beta3 = checked_beta3(beta3)
        return dict(
            lr=checked_lr(group["lr"], read=read_lr),
            beta3=beta3,
            alpha1=nonnegative("alpha1", group["alpha1"]),
            weight_decay=nonnegative("weight_decay", group["weight_decay"]),
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
            mine = [{k: v for k, v in g.items() if k not in DIAGNOSTICS and k != "params"}
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
            if capturable and not compiling():
                check_capturable(type(self).__name__, p)
            state = self.state[p]
            if len(state) == 0:
                if fused:  # once per parameter, as torch checks at construction
                    check_fused(p)
                # As torch.optim: on the parameter's device for the fused and capturable
                # kernels, a CPU tensor otherwise (read on the host without a sync).
                state["step"] = (
                    torch.zeros((), dtype=scalar_dtype(fused), device=p.device)
                    if fused or capturable
                    else torch.tensor(0.0, dtype=scalar_dtype())
                )
                for key in self._state_keys:
                    state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            for key, values in zip(self._state_keys, states):
                values.append(state[key])
            steps.append(state["step"])
        return has_complex

    def _gather_group(self, group: dict[str, Any]) -> tuple[GroupTensors, bool]:
        """The tensors of the params that have a gradient (complex tensors viewed as real
        pairs), and whether any is complex."""
        params: list[Tensor] = []
        grads: list[Tensor] = []
        states: list[list[Tensor]] = [[] for _ in self._state_keys]
        steps: list[Tensor] = []
        has_complex = self._init_group(group, params, grads, *states, steps)
        if has_complex:
            params, grads = [_as_real(t) for t in params], [_as_real(t) for t in grads]
            states = [[_as_real(t) for t in values] for values in states]
        return GroupTensors(params, grads, tuple(states), steps), has_complex

    # ------------------------------------------------------------------- kernels, per class
    # Each takes the group's checked options and its GroupTensors (or one device/dtype
    # bucket of them).

    def _moments(self, o: Options, t: GroupTensors, foreach: bool, norms) -> None:
        """v_t (and the other moments) in place; ‖v_t‖² into ``norms`` when given."""
        raise NotImplementedError

    def _moments_flat(self, o: Options, t: GroupTensors, buffer: VelocityBuffer):
        """:meth:`_moments` on the flat tensors of ``buffer`` (a group of small tensors)."""
        raise NotImplementedError

    def _apply(self, o: Options, t: GroupTensors, lr, foreach: bool) -> None:
        """The parameter update with the gated rate ``lr`` (η_t)."""
        raise NotImplementedError

    def _apply_flat(self, o: Options, t: GroupTensors, lr, buffer: VelocityBuffer) -> bool:
        """:meth:`_apply` on flat tensors; False (nothing done) when the steps differ."""
        raise NotImplementedError

    def _next_sq_norm(self, o: Options, t: GroupTensors, norms, memo):
        """The fused kernel's phase 1: ‖v_t‖² into ``norms`` without changing the state,
        starting from ``memo`` where valid; returns what the next step's memo is made of
        (see :func:`vradam.kernels.fused.next_velocity_sq_norm`)."""
        raise NotImplementedError

    def _step_fused(self, o: Options, t: GroupTensors, lr) -> None:
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
        tensors, has_complex = self._gather_group(group)
        if len(tensors.params) == 0:
            return None
        if options.fused:  # buckets only for the norm of a gate-off step (see step())
            return _Plan(index, group, options, tensors, "fused", True, [], None)
        whole = None  # a flat buffer holding exactly this group's stepping velocities
        if eager and not has_complex and not options.capturable and tensors.params[0].is_cpu:
            group_buffers, whole = self._velocities.group_buffers(
                index, group, self.state, self._state_keys, list(tensors.moments)
            )
            buffers += group_buffers
        foreach = options.foreach
        if foreach is None:
            foreach = default_foreach(tensors.params)
        if whole is not None and steps_flat(
            whole, tensors.moments[1:], self._state_keys[1:], tensors.grads
        ):
            kernel = "flat"
        else:
            kernel = "foreach" if foreach else "loop"
            # The for-loop kernel takes a large tensor's norm while it is in cache.
            if whole is not None and kernel == "loop" and not whole.all_small:
                whole = None
        buckets = tensors.buckets(foreach)
        return _Plan(index, group, options, tensors, kernel, foreach, buckets, whole)

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
        taken: dict[int, tuple] = {}  # fused groups: (large velocities, their ‖v_t‖²)
        for plan in plans:
            o, tensors = plan.options, plan.tensors
            if plan.kernel == "fused":
                if gate_on:
                    memo = self._velocities.norm_memo(plan.index, plan.group)
                    taken[plan.index] = self._next_sq_norm(o, tensors, norms, memo)
                else:
                    self._step_fused(o, tensors, o.lr)
                    self._velocities.keep_norm_memo(plan.index, plan.group, None)
                    for bucket in tensors.buckets(True):
                        norms.add_bucket(bucket.velocities)
            elif plan.kernel == "flat":
                self._moments_flat(o, tensors, plan.buffer)
            else:
                for bucket in plan.buckets:
                    self._moments(o, bucket, plan.foreach, norms if plan.buffer is None else None)
            if plan.buffer is not None:
                norms.add_buffer(plan.buffer)

        sq_norm = norms.total(self._process_group)
        for plan in plans:
            o, tensors, group = plan.options, plan.tensors, plan.group
            eta = gate_lr(o.lr, sq_norm, o.beta3, o.alpha1)
            if plan.kernel == "fused":
                if gate_on:
                    self._step_fused(o, tensors, eta)
                    large = taken[plan.index]  # the next step's norm starts from this one
                    memo = None if large is None else NormMemo.after_kernel(*large)
                    self._velocities.keep_norm_memo(plan.index, group, memo)
            elif plan.kernel != "flat" or not self._apply_flat(o, tensors, eta, plan.buffer):
                cache: dict = {}
                for bucket in plan.buckets:
                    device = bucket.params[0].device
                    self._apply(o, bucket, on_device(eta, device, cache), plan.foreach)
            if not isinstance(eta, Tensor):
                eta = torch.tensor(eta, dtype=torch.float64)
            elif eta is o.lr or eta is group["lr"]:  # gate off: a copy, not the scheduler's lr
                eta = eta.detach().clone()
            if not compiling():
                group["effective_lr"], group["velocity_sq_norm"] = eta, sq_norm
            else:
                set_diagnostic(group, "effective_lr", eta)
                set_diagnostic(group, "velocity_sq_norm", sq_norm)
        if calibrate.in_progress(self.param_groups):
            advance = _advance_outside_graph if compiling() else calibrate.advance_groups
            advance(self.param_groups, sq_norm)
        return loss


# The calibration's records are Python values (a new dict each step, a step count, one host
# read at the end): under torch.compile they run outside the graph, so the ten calibration
# steps cost one graph break each instead of a recompile each (a guard on every new record).
# torch's lazy form of torch.compiler.disable: importing torch._dynamo here would load it (and
# the science stack it pulls in) with the optimizer, in every eager program too.
_advance_outside_graph = torch._disable_dynamo(calibrate.advance_groups)


class _Plan(NamedTuple):
    """One param group's step: what :meth:`VelocityGatedOptimizer.step` runs for it."""

    index: int  # of the group in param_groups
    group: dict[str, Any]
    options: Options
    tensors: GroupTensors  # the stepping params, their gradients, moments and steps
    kernel: str  # "loop", "foreach", "flat" (small CPU tensors) or "fused"
    foreach: bool  # the kernel of the buckets (also the flat kernel's fallback apply)
    buckets: list[GroupTensors]  # ``tensors`` by device and dtype (foreach), or [tensors];
    # none for the fused kernel, which buckets its tensors itself
    buffer: VelocityBuffer | None  # the flat buffer holding exactly the group's velocities
