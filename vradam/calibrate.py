"""Choosing β3 in your own training code: calibrate it from the first steps' ‖v‖².

The gate η = α0 / (1 + min(β3‖v‖², α1)) is not scale invariant: ‖v‖² grows with the
loss scale and the number of parameters, so a β3 that damps one model clips another
on every step. :class:`Beta3Calibration` runs the first ``steps`` updates with the
gate off (β3 = 0, i.e. AdamW or EMA momentum), records the largest ‖v‖² seen, then
sets ``β3 = target / peak`` in every param group: from then on the gate acts while the
velocity is near its early peak (η ≈ α0/(1 + target) there) and releases as it decays.

This is this project's heuristic (the rule of the app's "suggest β₃" button, which aims at
1.5 rather than 2), not
part of the paper, which tunes β3 by search. ``VRAdam(params, beta3="auto")`` attaches
one with the defaults below.

>>> opt = VRAdam(model.parameters(), lr=1e-3, beta3="auto")  # doctest: +SKIP
>>> # … train as usual; after 10 steps opt.param_groups[0]["beta3"] holds the value
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["AUTO_STEPS", "AUTO_TARGET", "Beta3Calibration"]

AUTO_STEPS = 10  # gate-off steps that measure the early ‖v‖² (the velocity is still building)
AUTO_TARGET = 2.0  # β3·peak: η ≈ α0/3 at the measured peak velocity


class Beta3Calibration:
    """Set β3 = target / max ‖v_t‖² over the optimizer's first ``steps`` steps.

    Works with any optimizer that writes ``group["velocity_sq_norm"]`` and reads
    ``group["beta3"]`` (VRAdam, VRMomentum). Until it fires every group's β3 is 0; the
    peak is kept on the device and read once, at the last calibration step. After it
    fires, ``value`` holds β3 and the hook is removed; ``state_dict()`` of the optimizer
    carries the calibrated β3, so a resumed run does not calibrate again.
    """

    def __init__(
        self, optimizer: Optimizer, steps: int = AUTO_STEPS, target: float = AUTO_TARGET
    ) -> None:
        if not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"calibration steps must be an integer ≥ 1, got {steps!r}")
        if not (math.isfinite(target) and target > 0):
            raise ValueError(f"calibration target must be a positive number, got {target!r}")
        self.optimizer, self.steps, self.target = optimizer, steps, target
        self.value: float | None = None
        self._seen = 0
        self._peak: Tensor | None = None
        for group in optimizer.param_groups:
            group["beta3"] = 0.0
        self._handle = optimizer.register_step_post_hook(self._after_step)

    @property
    def done(self) -> bool:
        return self.value is not None

    def _after_step(self, optimizer: Optimizer, args, kwargs) -> None:
        norm = optimizer.param_groups[0].get("velocity_sq_norm")
        if norm is None:
            return
        norm = norm.detach()
        self._peak = norm if self._peak is None else torch.maximum(self._peak, norm)
        self._seen += 1
        if self._seen >= self.steps:
            self._finish()

    def _finish(self) -> None:
        peak = float(self._peak)  # the one host read
        value = self.target / peak if math.isfinite(peak) and peak > 0 else 0.0
        self.value = float(f"{value:.2g}")
        for group in self.optimizer.param_groups:
            group["beta3"] = self.value
        self._handle.remove()
