"""Trajectories to long-format CSV and JSON, with the metadata that reproduces them."""

from __future__ import annotations

import csv
import io
import json
import math
import platform
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # a type only: the CSV helpers load without torch
    from vradam.sim.engine import Trajectory

# (column, attribute, component) — component None for scalars, 0/1 for x/y.
STEP_COLUMNS = [
    ("grad_x", "grad", 0), ("grad_y", "grad", 1),
    ("velocity_x", "velocity", 0), ("velocity_y", "velocity", 1),
    ("velocity_sq_norm", "velocity_sq_norm", None),
    ("effective_lr", "effective_lr", None),
    ("coord_lr_x", "coord_lr", 0), ("coord_lr_y", "coord_lr", 1),
    ("step_norm", "step_norm", None),
    ("precond_sharpness", "precond_sharpness", None),
    ("stability_threshold", "stability_threshold", None),
]  # fmt: skip
COLUMNS = [
    "optimizer", "label", "run", "start_x", "start_y", "step", "x", "y", "loss", "sharpness",
    *(c for c, _, _ in STEP_COLUMNS), "diverged_at", "converged_at",
]  # fmt: skip


# The versions a stored result carries (the studies' CSV columns, in this order).
VERSION_KEYS = ("vradam", "torch", "numpy", "python")


def versions() -> dict[str, str]:
    import torch

    import vradam

    found = (vradam.__version__, torch.__version__, np.__version__, platform.python_version())
    return dict(zip(VERSION_KEYS, found, strict=True))


def _num(v) -> float | str:
    v = float(v)
    return "" if math.isnan(v) else v


def rows(trajectories: Sequence[Trajectory]):
    """One dict per (optimizer, run, step); step-wise values are empty on the last row."""
    for tr in trajectories:
        N, T1, _ = tr.xy.shape
        for i in range(N):
            for t in range(T1):
                row = {
                    "optimizer": str(tr.spec),
                    "label": tr.label,
                    "run": i,
                    "start_x": tr.xy[i, 0, 0],
                    "start_y": tr.xy[i, 0, 1],
                    "step": t,
                    "x": tr.xy[i, t, 0],
                    "y": tr.xy[i, t, 1],
                    "loss": _num(tr.loss[i, t]),
                    "sharpness": "" if tr.sharpness is None else _num(tr.sharpness[i, t]),
                    "diverged_at": int(tr.diverged_at[i]),
                    "converged_at": int(tr.converged_at[i]),
                }
                for col, attr, comp in STEP_COLUMNS:
                    arr = getattr(tr, attr)
                    if arr is None or t >= T1 - 1:
                        row[col] = ""
                    else:
                        row[col] = _num(arr[i, t] if comp is None else arr[i, t, comp])
                yield row


META_COLUMNS = ["landscape", "seed", "noise_std", "schedule", "versions"]


def to_csv(trajectories: Sequence[Trajectory], out=None, meta: dict | None = None) -> str | None:
    """Write long-format CSV to the file object ``out``, or return it as text.

    With ``meta`` (landscape, seed, noise_std, schedule) every row also carries those
    settings and the package versions, so a CSV file alone says how it was made.
    """
    buffer = io.StringIO() if out is None else out
    extra = {}
    if meta is not None:
        extra = {k: meta.get(k, "") for k in META_COLUMNS[:-1]}
        extra["versions"] = "; ".join(f"{k} {v}" for k, v in versions().items())
    writer = csv.DictWriter(
        buffer, fieldnames=COLUMNS + (META_COLUMNS if extra else []), lineterminator="\n"
    )
    writer.writeheader()
    for row in rows(trajectories):
        writer.writerow({**row, **extra})
    return buffer.getvalue() if out is None else None


def _jsonable(a):
    """Nested lists with None for NaN/inf (JSON has no NaN)."""
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    out = arr.astype(object)
    out[~np.isfinite(arr.astype(np.float64))] = None
    return out.tolist()


def to_json(trajectories: Sequence[Trajectory], meta: dict) -> str:
    """JSON with ``meta`` (landscape, seed, …, versions) and every array per optimizer.

    Non-finite numbers become null.
    """
    fields = ["xy", "loss", "lr", "diverged_at", "converged_at", "sharpness",
              *(attr for _, attr, _ in STEP_COLUMNS)]  # fmt: skip
    payload = {
        "meta": {**meta, "versions": versions()},
        "optimizers": [
            {
                "spec": str(tr.spec),
                "label": tr.label,
                **{f: _jsonable(getattr(tr, f)) for f in dict.fromkeys(fields)},
            }
            for tr in trajectories
        ],
    }
    return json.dumps(payload, allow_nan=False)


def _cell(value):
    """A CSV cell: empty for None and NaN (floats are written exactly: csv uses repr)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def dicts_csv(rows: Iterable[dict], fields: Sequence[str], header: bool = True) -> str:
    """Row dicts as CSV text with columns ``fields`` (other keys ignored; empty cells for
    None and NaN): the studies' resumable files append one such row per finished run."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore",
                            lineterminator="\n")  # fmt: skip
    if header:
        writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(r.get(k)) for k in fields})
    return buffer.getvalue()
