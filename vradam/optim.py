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
import operator
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer

from vradam.calibrate import Beta3Calibration
from vradam.functional import (
    adam_apply_,
    adam_flat_apply_,
    adam_flat_moments_,
    adam_moments_,
    compiling,
    default_foreach,
    gate_lr,
    momentum_apply_,
    momentum_flat_apply_,
    momentum_flat_moments_,
    momentum_moments_,
    on_device,
    tensor_buckets,
)
from vradam.norm import SqNormAccumulator, VelocityBuffer

__all__ = ["VRAdam", "VRMomentum"]

# Written into every group by step(); never options.
_DIAGNOSTICS = ("effective_lr", "velocity_sq_norm")


def _scalar_dtype() -> torch.dtype:
    # As torch.optim: the step counter is a CPU tensor of the default float type.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_nonnegative(what: str, value) -> None:
    # `not 0.0 <= value` also rejects NaN.
    if not value >= 0.0:
        raise ValueError(f"Invalid {what} value: {value}")


def _is_auto(beta3) -> bool:
    if isinstance(beta3, str):
        if beta3 != "auto":
            raise ValueError(f'Invalid beta3 value: {beta3!r}; a number ≥ 0 or "auto"')
        return True
    return False


def _check_beta(what: str, value) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {what}: {value}")


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


class _VelocityGatedOptimizer(Optimizer):
    """Shared step logic: per-group moments, one global ‖v‖², per-group gated apply."""

    # Defaults for group options that older pickles may lack (see __setstate__).
    _group_defaults: ClassVar[dict[str, Any]] = {
        "maximize": False,
        "foreach": None,
        "beta3": 1.0,
        "alpha1": 10.0,
    }

    def __init__(self, params, defaults: dict[str, Any], process_group=None) -> None:
        super().__init__(params, defaults)
        # Not a param-group option: a process group cannot be copied or saved.
        self._process_group = process_group
        # group index → (group, ids of its known velocities, its flat buffers); see
        # _flat_velocities. Not saved: a checkpoint holds the views, a load rebuilds.
        self._velocity_buffers: dict[int, tuple] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_process_group", None)
        self._velocity_buffers = {}  # rebuilt from the state on the next step
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            for key in _DIAGNOSTICS:
                group.setdefault(key, torch.tensor(math.nan, dtype=torch.float64))
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(float(p_state["step"]), dtype=_scalar_dtype())

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        # The diagnostics exist from the start (NaN until the first step), so a group
        # never changes shape during training (torch.compile guards on it).
        group = self.param_groups[-1]
        params = group["params"]
        wide = any(p.dtype == torch.float64 for p in params)
        dtype = torch.float64 if wide else torch.float32  # the norm's accumulation dtype
        device = params[0].device if params else None
        for key in _DIAGNOSTICS:
            group.setdefault(key, torch.full((), math.nan, dtype=dtype, device=device))

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
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            has_complex |= torch.is_complex(p)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = torch.tensor(0.0, dtype=_scalar_dtype())
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
        if entry is None or entry[0] is not group or not entry[1].issuperset(map(id, velocities)):
            entry = self._rebuild_velocities(index, group, state_lists)
        buffers = entry[2]
        if len(buffers) == 1 and len(buffers[0].views) == len(velocities):
            whole = buffers[0]
            return buffers, (whole if whole.ids.issuperset(map(id, velocities)) else None)
        return buffers, None

    def _rebuild_velocities(
        self, index: int, group: dict[str, Any], state_lists: list[list[Tensor]]
    ) -> tuple:
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
        entry = self._velocity_buffers[index] = (group, frozenset(known), buffers)
        return entry

    def _moments(
        self, group: dict[str, Any], lists: list[list[Tensor]], foreach: bool, norms
    ) -> None:
        raise NotImplementedError

    def _moments_flat(
        self, group: dict[str, Any], lists: list[list[Tensor]], buffer: VelocityBuffer
    ) -> None:
        raise NotImplementedError

    def _apply_flat(self, group: dict[str, Any], lists, lr, buffer: VelocityBuffer) -> bool:
        raise NotImplementedError

    def _apply(self, group: dict[str, Any], lists: list[list[Tensor]], lr, foreach: bool) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (Callable, optional): A closure that reevaluates the model
                and returns the loss.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        plans = []
        buffers: list[VelocityBuffer] = []
        eager = not compiling()
        for index, group in enumerate(self.param_groups):
            lists, has_complex = self._gather_group(group)
            if len(lists[0]) == 0:
                continue
            whole = None  # a flat buffer holding exactly this group's stepping velocities
            if eager and not has_complex and lists[0][0].is_cpu:
                states = lists[2 : 2 + len(self._state_keys)]
                group_buffers, whole = self._flat_velocities(index, group, states)
                buffers += group_buffers
            foreach = group["foreach"]
            if foreach is None:
                foreach = default_foreach(lists[0])
            flat = (
                whole if whole is not None and _steps_flat(whole, lists, self._state_keys) else None
            )
            # The for-loop kernel takes a large tensor's norm while it is in cache.
            if whole is not None and not foreach and not whole.all_small:
                whole = None
            plans.append((group, foreach, lists, tensor_buckets(lists, foreach), whole, flat))
        if not plans:
            return loss

        norms = SqNormAccumulator(buffers)
        for group, foreach, lists, buckets, whole, flat in plans:
            if flat is not None:
                self._moments_flat(group, lists, flat)
            else:
                for bucket in buckets:
                    self._moments(group, bucket, foreach, norms if whole is None else None)
            if whole is not None:
                norms.add_buffer(whole)

        sq_norm = norms.total(self._process_group)
        for group, foreach, lists, buckets, _, flat in plans:
            eta = gate_lr(group["lr"], sq_norm, group["beta3"], group["alpha1"])
            if flat is None or not self._apply_flat(group, lists, eta, flat):
                cache: dict = {}
                for bucket in buckets:
                    self._apply(group, bucket, on_device(eta, bucket[0][0].device, cache), foreach)
            if not isinstance(eta, Tensor):
                eta = torch.tensor(eta, dtype=torch.float64)
            elif eta is group["lr"]:  # gate off: a copy, not the lr a scheduler updates
                eta = eta.detach().clone()
            if eager:
                group["effective_lr"], group["velocity_sq_norm"] = eta, sq_norm
            else:
                _set_diagnostic(group, "effective_lr", eta)
                _set_diagnostic(group, "velocity_sq_norm", sq_norm)
        return loss


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
            project's heuristic, see :class:`vradam.calibrate.Beta3Calibration`); the
            calibration is then ``optimizer.beta3_calibration``.
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
        process_group (optional): for parameters sharded by hand across ranks,
            the group whose local squared norms are summed (one all-reduce of one
            scalar per step). DTensor parameters (FSDP2) are reduced over their
            sharded mesh dimensions without it. Not needed under DDP.

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
        process_group=None,
    ) -> None:
        _check_lr(lr)
        _check_nonnegative("epsilon", eps)
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas}; expected (beta1, beta2)")
        _check_beta("beta parameter at index 0", betas[0])
        _check_beta("beta parameter at index 1", betas[1])
        auto = _is_auto(beta3)
        _check_nonnegative("beta3", 0.0 if auto else beta3)
        _check_nonnegative("alpha1", alpha1)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            beta3=0.0 if auto else beta3,
            alpha1=alpha1,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
        )
        super().__init__(params, defaults, process_group)
        self.beta3_calibration = Beta3Calibration(self) if auto else None

    _state_keys = ("exp_avg", "exp_avg_sq")

    def _moments(self, group, lists, foreach, norms):
        _, grads, exp_avgs, exp_avg_sqs, steps = lists
        beta1, beta2 = group["betas"]
        adam_moments_(
            grads,
            exp_avgs,
            exp_avg_sqs,
            steps,
            beta1=beta1,
            beta2=beta2,
            maximize=group["maximize"],
            foreach=foreach,
            norms=norms,
        )

    def _moments_flat(self, group, lists, buffer):
        beta1, beta2 = group["betas"]
        adam_flat_moments_(
            buffer, lists[1], lists[-1], beta1=beta1, beta2=beta2, maximize=group["maximize"]
        )

    def _apply_flat(self, group, lists, lr, buffer):
        beta1, beta2 = group["betas"]
        return adam_flat_apply_(
            buffer,
            lists[0],
            lists[-1],
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            adamw_ops=group["beta3"] == 0,
        )

    def _apply(self, group, lists, lr, foreach):
        params, _, exp_avgs, exp_avg_sqs, steps = lists
        beta1, beta2 = group["betas"]
        adam_apply_(
            params,
            exp_avgs,
            exp_avg_sqs,
            steps,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            foreach=foreach,
            adamw_ops=group["beta3"] == 0,
        )


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
            project's heuristic, see :class:`vradam.calibrate.Beta3Calibration`); the
            calibration is then ``optimizer.beta3_calibration``.
        alpha1 (float, optional): penalty cap α1 ≥ 0 (default: 10.0).
        weight_decay (float, optional): decoupled weight decay λ (default: 0).
        maximize (bool, optional): maximize the objective (default: False).
        foreach (bool, optional): multi-tensor kernel; ``None`` picks as torch does.
        process_group (optional): as for :class:`VRAdam`.

    State per parameter: ``step`` and ``exp_avg`` (the velocity; on the CPU views of one
    flat buffer per group, as for VRAdam). Diagnostics ``group["effective_lr"]`` and
    ``group["velocity_sq_norm"]`` as for VRAdam. ``load_state_dict`` refuses an SGD
    checkpoint's ``momentum_buffer``: it is 1/(1−μ) times an EMA velocity.
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
        process_group=None,
    ) -> None:
        _check_lr(lr)
        _check_beta("beta1 value", beta1)
        auto = _is_auto(beta3)
        _check_nonnegative("beta3", 0.0 if auto else beta3)
        _check_nonnegative("alpha1", alpha1)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = dict(
            lr=lr,
            beta1=beta1,
            momentum=beta1,  # a mirror of beta1 for torch's cyclic schedulers (see _beta1)
            beta3=0.0 if auto else beta3,
            alpha1=alpha1,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
        )
        super().__init__(params, defaults, process_group)
        self.beta3_calibration = Beta3Calibration(self) if auto else None

    _state_keys = ("exp_avg",)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # torch's cyclic schedulers (OneCycleLR, CyclicLR with cycle_momentum=True) find a
        # momentum under the name "momentum": it mirrors the group's beta1 (see _beta1).
        if "beta1" in param_group and "momentum" not in param_group:
            param_group = {**param_group, "momentum": param_group["beta1"]}
        super().add_param_group(param_group)

    def _beta1(self, group: dict[str, Any]) -> float:
        """β1, kept equal to the "momentum" mirror: whichever of the two changed since the
        last step wins (a scheduler writes "momentum", a user may write "beta1")."""
        synced = self.__dict__.setdefault("_beta1_synced", {})
        beta1, momentum = group["beta1"], group.setdefault("momentum", group["beta1"])
        if momentum != beta1:
            if beta1 == synced.get(id(group), beta1):  # beta1 untouched: momentum moved
                _check_beta("momentum (VRMomentum's beta1) value", momentum)
                group["beta1"] = beta1 = momentum
            else:
                group["momentum"] = beta1
        synced[id(group)] = beta1
        return beta1

    def _moments(self, group, lists, foreach, norms):
        _, grads, exp_avgs, steps = lists
        momentum_moments_(
            grads,
            exp_avgs,
            steps,
            beta1=self._beta1(group),
            maximize=group["maximize"],
            foreach=foreach,
            norms=norms,
        )

    def _moments_flat(self, group, lists, buffer):
        momentum_flat_moments_(
            buffer, lists[1], lists[-1], beta1=self._beta1(group), maximize=group["maximize"]
        )

    def _apply_flat(self, group, lists, lr, buffer):
        momentum_flat_apply_(buffer, lists[0], lr=lr, weight_decay=group["weight_decay"])
        return True

    def _apply(self, group, lists, lr, foreach):
        params, _, exp_avgs, _ = lists
        momentum_apply_(
            params, exp_avgs, lr=lr, weight_decay=group["weight_decay"], foreach=foreach
        )
