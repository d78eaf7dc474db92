"""What is drawn from a network's landscape (:mod:`vradam.studies.landscape`) besides the
map: its JSON record and CSV rows, the 1-D slice between two optimizers' final weights
(with the curvature along it at both ends), and the run's sharpness measurements placed on
the projected paths. No Streamlit here.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from vradam.studies.landscape import Landscape, SurfaceLoss

__all__ = [
    "CSV_COLUMNS",
    "EndSharpness",
    "Marks",
    "Slice",
    "end_sharpness",
    "line_slice",
    "sharpness_marks",
    "slice_pair",
    "slice_record",
    "to_csv",
    "to_record",
]

SLICE_POINTS = 61
SLICE_RANGE = (-0.25, 1.25)  # t of θ = (1 − t)·θ_A + t·θ_B


# ----------------------------------------------------------------------------- sharpness


@dataclass(frozen=True)
class Marks:
    """Where the run measured its sharpness, on the plane (one optimizer)."""

    steps: np.ndarray  # (m,)
    coords: np.ndarray  # (m, 2) the path's projection there (linear between snapshots)
    sharpness: np.ndarray  # (m,) λmax (of P^-½HP^-½ for adaptive methods)
    threshold: np.ndarray  # (m,) the optimizer's stability threshold (NaN: none)
    kind: str  # "hessian" or "preconditioned"

    @property
    def over(self) -> np.ndarray:
        """(m,) bool: at or over the threshold (the edge of stability)."""
        return np.isfinite(self.threshold) & (self.sharpness >= self.threshold)


def _rows(records, i: int) -> list[dict]:
    return [r for r in records if r["optimizer"] == i and "sharpness" in r
            and r["sharpness"] is not None and math.isfinite(r["sharpness"])]  # fmt: skip


def sharpness_marks(records, ls: Landscape) -> list[Marks | None]:
    """Each optimizer's sharpness measurements in ``records`` (the run ``ls`` was drawn
    from, one seed: the page's records or ``ls.sharpness_rows``) placed on its projected
    path; None without any."""
    out: list[Marks | None] = []
    for i in range(len(ls.labels)):
        s, c = ls.steps[i], ls.coords[i]
        rows = [r for r in _rows(records, i) if s.size and s[0] <= r["step"] <= s[-1]]
        if not rows:
            out.append(None)
            continue
        at = np.array([r["step"] for r in rows], dtype=float)
        coords = np.stack([np.interp(at, s, c[:, 0]), np.interp(at, s, c[:, 1])], axis=1)
        out.append(
            Marks(
                steps=at.astype(int),
                coords=coords,
                sharpness=np.array([r["sharpness"] for r in rows], dtype=float),
                threshold=np.array([r.get("threshold", math.nan) for r in rows], dtype=float),
                kind=str(rows[-1].get("sharpness_kind", "hessian")),
            )
        )
    return out


@dataclass(frozen=True)
class EndSharpness:
    """The run's last sharpness measurement of one optimizer (at its final weights when
    ``step`` is its last step)."""

    step: int
    sharpness: float
    threshold: float  # NaN: none
    kind: str
    final: bool  # measured at the weights the slice passes through


def end_sharpness(records, ls: Landscape, i: int) -> EndSharpness | None:
    """Optimizer i's last sharpness measurement in ``records``, or None (not measured)."""
    rows = _rows(records, i)
    if not rows:
        return None
    r = max(rows, key=lambda r: r["step"])
    last = int(ls.steps[i][-1]) if ls.steps[i].size else -1
    threshold = r.get("threshold")
    return EndSharpness(
        step=int(r["step"]),
        sharpness=float(r["sharpness"]),
        threshold=math.nan if threshold is None else float(threshold),
        kind=str(r.get("sharpness_kind", "hessian")),
        final=int(r["step"]) == last,
    )


# ----------------------------------------------------------------------------- the slice


@dataclass(frozen=True)
class Slice:
    a: int  # optimizer at t = 0
    b: int  # optimizer at t = 1
    t: np.ndarray  # (n,)
    loss: np.ndarray  # (n,)
    barrier: float  # max loss on 0 ≤ t ≤ 1 above the higher end (0: no bump between them)
    distance: float  # ‖θ_B − θ_A‖
    curvature: tuple[float, float] = (math.nan, math.nan)  # uᵀHu at A and at B, u along B − A


def slice_ends(ls: Landscape) -> list[int]:
    """The optimizers a slice can join: those with final weights that did not diverge,
    lowest final loss first."""
    usable = [i for i in range(len(ls.labels))
              if np.isfinite(ls.finals[i]).all() and not ls.diverged[i]]  # fmt: skip
    return sorted(usable, key=lambda i: float(np.nan_to_num(ls.true_loss[i][-1], nan=np.inf)))


def slice_pair(ls: Landscape) -> tuple[int, int] | None:
    """The default slice: between the two lowest final losses (None: fewer than two)."""
    ends = slice_ends(ls)
    return (ends[0], ends[1]) if len(ends) >= 2 else None


def line_slice(
    loss: SurfaceLoss, ls: Landscape, a: int, b: int, n: int = SLICE_POINTS,
    t_range: tuple[float, float] = SLICE_RANGE,
) -> Slice:  # fmt: skip
    """The loss along θ(t) = (1 − t)·θ_A + t·θ_B through optimizers a's and b's final
    weights (mode connectivity in miniature): a barrier above both ends says they ended in
    different basins. At both ends also the curvature along the line (uᵀHu, a lower bound
    on λmax(H) there; NaN for a task with its own objective)."""
    A, B = ls.finals[a].astype(np.float64), ls.finals[b].astype(np.float64)
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("both optimizers need final weights (one of them diverged)")
    t = np.linspace(*t_range, n)
    t = np.unique(np.r_[t, 0.0, 1.0])  # both ends exactly
    values = loss.at(A + t[:, None] * (B - A))
    inside = (t >= 0) & (t <= 1)
    ends = values[(t == 0) | (t == 1)]
    barrier = math.nan
    if np.isfinite(ends).all():
        barrier = max(float(np.nanmax(values[inside]) - np.nanmax(ends)), 0.0)
    distance = float(np.linalg.norm(B - A))
    curvature = (math.nan, math.nan)
    if distance > 0:
        curvature = (loss.curvature(A, B - A), loss.curvature(B, B - A))
    return Slice(a, b, t, values, barrier, distance, curvature)


# ----------------------------------------------------------------------------- export


def _numbers(a) -> list:
    """numpy → nested lists with None for NaN (JSON has no NaN)."""
    a = np.asarray(a, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _marks_record(m: Marks | None) -> dict | None:
    if m is None:
        return None
    return dict(step=m.steps.tolist(), a=_numbers(m.coords[:, 0]), b=_numbers(m.coords[:, 1]),
                sharpness=_numbers(m.sharpness), threshold=_numbers(m.threshold), kind=m.kind,
                at_or_over_threshold=m.over.tolist())  # fmt: skip


def slice_record(sl: Slice, labels) -> dict:
    return dict(a=labels[sl.a], b=labels[sl.b], t=_numbers(sl.t), loss=_numbers(sl.loss),
                barrier=None if not math.isfinite(sl.barrier) else sl.barrier,
                distance=sl.distance, curvature_along_line=_numbers(sl.curvature))  # fmt: skip


def to_record(
    ls: Landscape, marks: list | None = None, meta: dict | None = None, sl: Slice | None = None
) -> dict:
    """The landscape as JSON-ready data: the plane (kind, reference, explained shares), the
    grid (axes and losses, rows along b), each projected path (steps, a, b, true loss,
    surface loss, distance off the plane, and its sharpness marks when given), the grid's
    cost, and the slice when given; ``meta`` (settings, versions) first when given. The
    directions themselves (2 × weights) are left out."""
    marks = marks or [None] * len(ls.labels)
    return dict(
        **({"meta": meta} if meta is not None else {}),
        task=ls.task, split=ls.split,
        plane=dict(kind=ls.plane.kind, reference=ls.reference,
                   reference_optimizer=None if ls.reference_index is None
                   else ls.labels[ls.reference_index],
                   reference_loss=ls.reference_loss, explained=_numbers(ls.plane.explained)),
        grid=dict(a=_numbers(ls.xs), b=_numbers(ls.ys), loss=_numbers(ls.Z),
                  asked=ls.grid_asked, seconds=ls.grid_seconds, method=ls.method,
                  examples=ls.n_examples, weights=ls.n_params),
        paths=[dict(optimizer=label, diverged=ls.diverged[i], step=ls.steps[i].tolist(),
                    a=_numbers(ls.coords[i][:, 0]), b=_numbers(ls.coords[i][:, 1]),
                    true_loss=_numbers(ls.true_loss[i]),
                    surface_loss=_numbers(ls.surface_loss[i]),
                    off_plane=_numbers(ls.off_plane[i]), sharpness=_marks_record(marks[i]))
               for i, label in enumerate(ls.labels)],
        snapshot_every=ls.snapshot_every,
        **({"slice": slice_record(sl, ls.labels)} if sl is not None else {}),
    )  # fmt: skip


CSV_COLUMNS = ["part", "optimizer", "step", "t", "a", "b", "loss", "surface_loss", "off_plane",
               "sharpness", "threshold", "task", "split", "plane", "reference",
               "explained_a", "explained_b", "versions"]  # fmt: skip


def _cell(v) -> object:
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def to_csv(
    ls: Landscape, marks: list | None = None, sl: Slice | None = None, versions: str = ""
) -> str:
    """Long-format CSV, one row per point: ``part`` grid (a, b, loss on the surface), path
    (a snapshot: step, a, b, its true loss, the surface at its projection, its distance
    off the plane), sharpness (a measurement on the path) or slice (t, loss on the line
    from optimizer A's final weights, t = 0, to B's, t = 1; ``optimizer`` names "A → B");
    every row also names the task, split, plane, reference, the shares explained and
    ``versions``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    e = ls.plane.explained
    ref = "init" if ls.reference_index is None else f"best: {ls.labels[ls.reference_index]}"
    common = dict(task=ls.task, split=ls.split, plane=ls.plane.kind, reference=ref,
                  explained_a=float(e[0]), explained_b=float(e[1]), versions=versions)  # fmt: skip

    def row(**values) -> None:
        writer.writerow({k: _cell(v) for k, v in {**values, **common}.items()})

    for r, b in enumerate(ls.ys):
        for c, a in enumerate(ls.xs):
            row(part="grid", a=float(a), b=float(b), loss=float(ls.Z[r, c]))
    for i, label in enumerate(ls.labels):
        for k, step in enumerate(ls.steps[i]):
            row(part="path", optimizer=label, step=int(step), a=float(ls.coords[i][k, 0]),
                b=float(ls.coords[i][k, 1]), loss=float(ls.true_loss[i][k]),
                surface_loss=float(ls.surface_loss[i][k]),
                off_plane=float(ls.off_plane[i][k]))  # fmt: skip
    for i, m in enumerate(marks or []):
        if m is None:
            continue
        for k, step in enumerate(m.steps):
            row(part="sharpness", optimizer=ls.labels[i], step=int(step),
                a=float(m.coords[k, 0]), b=float(m.coords[k, 1]),
                sharpness=float(m.sharpness[k]), threshold=float(m.threshold[k]))  # fmt: skip
    if sl is not None:
        pair = f"{ls.labels[sl.a]} → {ls.labels[sl.b]}"
        for t, value in zip(sl.t, sl.loss):
            row(part="slice", optimizer=pair, t=float(t), loss=float(value))
    return buffer.getvalue()
