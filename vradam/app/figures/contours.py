"""Contour lines of a grid of values (marching squares): as segments with NaN gaps, or
joined into polylines.
"""

from __future__ import annotations

import numpy as np

# Marching squares: the segments drawn in a cell for each case (bit k set when corner k
# is above the level), as pairs of the edges they join.
_SEGMENTS = {
    1: ["LB"],
    2: ["BR"],
    3: ["LR"],
    4: ["RT"],
    5: ["LT", "BR"],
    6: ["BT"],
    7: ["LT"],
    8: ["LT"],
    9: ["BT"],
    10: ["LB", "RT"],
    11: ["RT"],
    12: ["LR"],
    13: ["BR"],
    14: ["LB"],
}


def _cell_segments(xs, ys, V, level):
    """Every contour segment of the grid: (edge ids (n, 2), x (n, 2), y (n, 2)).

    An edge id names the grid edge a crossing lies on, the same from both cells that
    share it (rows of V go up in y; horizontal edges first, then vertical ones).
    """
    ny, nx = V.shape
    a, b = V[:-1, :-1], V[:-1, 1:]  # corners of each cell: a b
    d, c = V[1:, :-1], V[1:, 1:]  # (rows go up in y)          d c
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    case = (a > level) * 1 + (b > level) * 2 + (c > level) * 4 + (d > level) * 8
    case = np.where(ok, case, 0)
    X0, Y0 = np.meshgrid(xs[:-1], ys[:-1])
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    row, col = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")

    def horizontal(i, j):
        return i * (nx - 1) + j

    def vertical(i, j):
        return ny * (nx - 1) + i * nx + j

    def frac(p, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip((level - p) / (q - p), 0, 1)

    # crossing points on the four edges: bottom (a-b), right (b-c), top (d-c), left (a-d)
    edges = {
        "B": (X0 + frac(a, b) * dx, Y0, horizontal(row, col)),
        "R": (X0 + dx, Y0 + frac(b, c) * dy, vertical(row, col + 1)),
        "T": (X0 + frac(d, c) * dx, Y0 + dy, horizontal(row + 1, col)),
        "L": (X0, Y0 + frac(a, d) * dy, vertical(row, col)),
    }
    ids, px, py = [], [], []
    for k, segments in _SEGMENTS.items():
        mask = case == k
        if not mask.any():
            continue
        for seg in segments:
            (x1, y1, e1), (x2, y2, e2) = edges[seg[0]], edges[seg[1]]
            ids.append(np.stack([e1[mask], e2[mask]], axis=1))
            px.append(np.stack([x1[mask], x2[mask]], axis=1))
            py.append(np.stack([y1[mask], y2[mask]], axis=1))
    if not ids:
        empty = np.zeros((0, 2))
        return empty.astype(int), empty, empty
    return np.concatenate(ids), np.concatenate(px), np.concatenate(py)


def marching_squares(xs, ys, V, level) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the contour V = level on a grid: x and y arrays with NaN gaps."""
    _, px, py = _cell_segments(xs, ys, V, level)
    gap = np.full((px.shape[0], 1), np.nan)
    return np.hstack([px, gap]).ravel(), np.hstack([py, gap]).ravel()


def contour_paths(xs, ys, V, level) -> list[tuple[np.ndarray, np.ndarray]]:
    """The contour V = level as polylines (x, y): the cells' segments joined where they
    share a crossing, so a line of n cells has n + 1 points instead of 3n."""
    ids, px, py = _cell_segments(xs, ys, V, level)
    pairs = ids.tolist()
    at: dict[int, list[int]] = {}
    for s, (e1, e2) in enumerate(pairs):
        at.setdefault(e1, []).append(s)
        at.setdefault(e2, []).append(s)
    used = bytearray(len(pairs))
    lines = []
    for first in range(len(pairs)):
        if used[first]:
            continue
        used[first] = 1
        # walk on from the segment's second end, then back from its first
        ahead, behind = [(first, 0), (first, 1)], []
        for chain, (seg, end) in ((ahead, (first, 1)), (behind, (first, 0))):
            while True:
                edge = pairs[seg][end]
                nxt = next((t for t in at[edge] if not used[t]), None)
                if nxt is None:
                    break
                used[nxt] = 1
                seg, end = nxt, 1 if pairs[nxt][0] == edge else 0
                chain.append((seg, end))
        segs, ends = np.array(behind[::-1] + ahead).T
        lines.append((px[segs, ends], py[segs, ends]))
    return lines
