"""Choosing β3 in your own training code: calibrate it from the first steps' ‖v‖².

The gate η = α0 / (1 + min(β3‖v‖², α1)) is not scale invariant: ‖v‖² grows with the
loss scale and the number of parameters, so a β3 that damps one model clips another
on every step. A calibration runs the first ``steps`` updates with the gate off
(β3 = 0, i.e. AdamW or EMA momentum), records the largest ‖v‖² seen, then sets
``β3 = target / peak`` in the param groups it calibrates: from then on the gate acts while
the velocity is near its early peak (η ≈ α0/(1 + target) there) and releases as it decays.

This is this project's heuristic (:func:`beta3_from_peak`, also behind the app's "suggest
β₃" buttons), not part of the paper, which tunes β3 by search. ``VRAdam(params,
beta3="auto")`` calibrates with the defaults below.

>>> opt = VRAdam(model.parameters(), lr=1e-3, beta3="auto")  # doctest: +SKIP
>>> # … train as usual; after 10 steps opt.param_groups[0]["beta3"] holds the value

**Where the calibration lives.** Its whole state is a plain record in each calibrated param
group, ``group["beta3_auto"]`` (a dict of numbers and 0-dim tensors, see :func:`new_record`),
so ``state_dict()``/``load_state_dict()``, ``copy.deepcopy`` and pickling carry it: a run
resumed during the calibration finishes it where it stopped, one resumed after it keeps the
calibrated β3 and never calibrates again. The optimizer's own ``step()`` advances the record
(:func:`advance`); nothing is registered as a hook. Records are never changed in place (each
step stores a new one), so a state dict taken earlier keeps its values.

Rules, beyond the formula: a group given its own numeric ``beta3`` is not calibrated; a group
added later with ``beta3="auto"`` (or the optimizer's default "auto") joins the calibration in
progress, or takes the calibrated value once it is done; steps whose ‖v‖² is not finite (a
diverging window) do not count towards the peak, and a calibration that saw any is reported
with a ``RuntimeWarning`` (with no finite, positive ‖v‖² at all β3 stays 0, the gate off,
and the warning says so).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "AUTO_STEPS",
    "AUTO_TARGET",
    "SUGGEST_STEPS",
    "SUGGEST_TARGET",
    "Beta3Calibration",
    "advance",
    "beta3_from_peak",
    "new_record",
]

AUTO_STEPS = 10  # gate-off steps that measure the early ‖v‖² (the velocity is still building)
AUTO_TARGET = 2.0  # β3·peak: η ≈ α0/3 at the measured peak velocity
# The app's "suggest β₃" buttons (Playground, Networks) and Figure 2 in miniature use the
# same rule over a longer window and a gentler target. Measured on digits (Figure 2's
# setup, seed 1): AUTO_STEPS/AUTO_TARGET give β3 = 68 and the gate stays clipped at α1 to
# the last step (η = 0.09·α0: AdamW at α0/(1 + α1)), since ‖v‖² is still building up over
# the first 10 steps; SUGGEST_STEPS/SUGGEST_TARGET give 5.9, which dips early and releases.
SUGGEST_STEPS = 60
SUGGEST_TARGET = 1.5
KEY = "beta3_auto"  # the param-group key of the record


def beta3_from_peak(peak: float, target: float = AUTO_TARGET) -> float:
    """The β3 rule, the one every layer uses (this calibration, the app's "suggest β₃"
    buttons, Figure 2 in miniature): ``target / peak`` to two significant digits, where
    ``peak`` is the largest ‖v‖² of the first gate-off steps (AUTO_STEPS here,
    SUGGEST_STEPS for the app). ValueError without a finite, positive peak (the caller
    decides what the gate does then)."""
    peak = float(peak)
    if not (math.isfinite(peak) and peak > 0):
        raise ValueError(f"β3 needs a finite, positive peak ‖v‖², got {peak!r}")
    return float(f"{target / peak:.2g}")


def new_record(steps: int = AUTO_STEPS, target: float = AUTO_TARGET) -> dict[str, Any]:
    """A calibration that has seen nothing yet.

    Keys: ``steps`` and ``target`` (the rule), ``seen`` (steps counted so far), ``peak``
    (largest finite ‖v‖² seen, a 0-dim tensor on the norm's device, or None), ``non_finite``
    (how many steps had a NaN or infinite ‖v‖², a 0-dim tensor, or None) and ``value`` (the
    calibrated β3 once done, else None). Plain types only, so ``torch.load(...,
    weights_only=True)`` reads a checkpoint that holds one.
    """
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        raise ValueError(f"calibration steps must be an integer ≥ 1, got {steps!r}")
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise ValueError(f"calibration target must be a positive number, got {target!r}")
    return {"steps": steps, "target": float(target), "seen": 0, "peak": None,
            "non_finite": None, "value": None}  # fmt: skip


def advance(record: dict[str, Any], sq_norm: Tensor) -> tuple[dict[str, Any], str | None]:
    """The record after one more step whose global ‖v‖² is ``sq_norm``, and a warning text
    when this step ends a calibration that saw a non-finite ‖v‖² or no positive one.

    Until the last step nothing is read on the host (the peak stays on the device); the
    last step reads the peak and the count of non-finite steps once.
    """
    norm = sq_norm.detach()
    finite = torch.isfinite(norm)
    norm = torch.where(finite, norm, torch.zeros_like(norm))
    bad = (~finite).to(torch.int64)
    peak = norm if record["peak"] is None else torch.maximum(record["peak"].to(norm), norm)
    non_finite = bad if record["non_finite"] is None else record["non_finite"] + bad
    new = {**record, "seen": record["seen"] + 1, "peak": peak, "non_finite": non_finite}
    if new["seen"] < new["steps"]:
        return new, None
    peak_value, bad_steps = float(peak), int(non_finite)  # the one host read
    warning = None
    if peak_value > 0:
        value = beta3_from_peak(peak_value, new["target"])
        if bad_steps:
            warning = (
                f'beta3="auto": {bad_steps} of the {new["steps"]} calibration steps had a '
                f"non-finite ‖v‖² (a diverging start?); β3 = {value:g} comes from the finite "
                "ones. Check the run, or set beta3 by hand."
            )
    else:
        value = 0.0
        warning = (
            f'beta3="auto": no finite, positive ‖v‖² in the {new["steps"]} calibration steps '
            f"({bad_steps} non-finite); β3 stays 0, the gate is off (AdamW / EMA momentum). "
            "Set beta3 by hand."
        )
    return {**new, "value": value}, warning


def advance_groups(param_groups: list[dict[str, Any]], sq_norm: Tensor) -> None:
    """Advance every calibration in progress in ``param_groups`` by one step; groups that
    share a record keep sharing the new one. Where a calibration ends, its groups get
    β3 = the value (and a warning is issued when :func:`advance` returns one)."""
    advanced: dict[int, dict[str, Any]] = {}
    for group in param_groups:
        record = group.get(KEY)
        if record is None or record["value"] is not None:
            continue
        if id(record) not in advanced:
            new, warning = advance(record, sq_norm)
            advanced[id(record)] = new
            if warning is not None:
                warnings.warn(warning, RuntimeWarning, stacklevel=4)
        group[KEY] = advanced[id(record)]
        if group[KEY]["value"] is not None:
            group["beta3"] = group[KEY]["value"]


def in_progress(param_groups: list[dict[str, Any]]) -> bool:
    return any(g.get(KEY) is not None and g[KEY]["value"] is None for g in param_groups)


def join(group: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """Give a group whose β3 is "auto" the optimizer's calibration: the record of another
    calibrated group (in progress: it joins; done: it takes the value), or a new one."""
    record = next((g[KEY] for g in others if g is not group and g.get(KEY) is not None), None)
    if record is None:
        record = new_record()
    group[KEY] = record
    group["beta3"] = 0.0 if record["value"] is None else record["value"]


class Beta3Calibration:
    """The β3 calibration of a :class:`~vradam.VRAdam` or :class:`~vradam.VRMomentum`.

    ``Beta3Calibration(optimizer, steps=10, target=2.0)`` starts one in every param group
    (each group's β3 is 0 until it ends, then ``target / max ‖v_t‖²`` over those steps,
    rounded to two significant digits). ``optimizer.beta3_calibration`` returns the
    calibration an optimizer holds (``beta3="auto"``), or None. Either is a view of the
    record in the param groups (see the module docstring): ``steps``, ``target``, ``seen``,
    ``done`` and ``value`` read it there, so they follow a checkpoint loaded later.
    """

    def __init__(
        self, optimizer: Optimizer, steps: int = AUTO_STEPS, target: float = AUTO_TARGET
    ) -> None:
        if not hasattr(optimizer, "_calibrates_beta3"):
            raise TypeError(
                "Beta3Calibration calibrates VRAdam and VRMomentum (their step() advances it), "
                f"not {type(optimizer).__name__}"
            )
        record = new_record(steps, target)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group[KEY] = record
            group["beta3"] = 0.0

    @classmethod
    def of(cls, optimizer: Optimizer) -> Beta3Calibration | None:
        """The calibration ``optimizer`` holds, or None when no group is calibrated."""
        if not any(g.get(KEY) is not None for g in optimizer.param_groups):
            return None
        view = cls.__new__(cls)
        view.optimizer = optimizer
        return view

    @property
    def record(self) -> dict[str, Any]:
        return next(g[KEY] for g in self.optimizer.param_groups if g.get(KEY) is not None)

    @property
    def steps(self) -> int:
        return self.record["steps"]

    @property
    def target(self) -> float:
        return self.record["target"]

    @property
    def seen(self) -> int:
        return self.record["seen"]

    @property
    def value(self) -> float | None:
        return self.record["value"]

    @property
    def done(self) -> bool:
        return self.value is not None
