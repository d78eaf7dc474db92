"""A figure's arrays: numbers for JSON (None for NaN, significant digits), Plotly's base64
typed arrays and their reading back, and thinning a long series to a point budget.
"""

from __future__ import annotations

import base64
import math

import numpy as np


def as_list(a: np.ndarray, digits: int | None = None) -> list:
    """numpy → list with None for NaN (JSON null breaks lines, as Plotly expects)."""
    a = np.asarray(a, dtype=np.float64)
    if digits is not None:
        a = np.round(a, digits)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def sig_list(a: np.ndarray, sig: int = 6) -> list:
    """Like :func:`as_list`, rounded to ``sig`` significant digits (for values on log axes,
    where rounding to decimals would turn small values into 0)."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a) & (a != 0)
    mag = np.floor(np.log10(np.abs(np.where(ok, a, 1.0))))
    scale = 10.0 ** (sig - 1 - mag)
    return as_list(np.where(ok, np.round(a * scale) / scale, a))


# Plotly.js (≥ 2.28) reads base64 typed arrays: {"dtype": "f4", "bdata": "…"}. A float32
# value takes 5⅓ characters against ~9–19 for a JSON decimal, and the JSON encoder copies
# one string instead of formatting thousands of floats (server CPU). NaN is a gap, as null.
_F4_SAFE = (1e-37, 1e37)  # |values| float32 keeps to 7 digits (finer or larger: float64)
PACK_MIN = 16  # shorter arrays stay JSON lists (the typed array's header costs ~40 characters)


def packed(a: np.ndarray, dtype: str | None = None) -> dict | list:
    """A numeric array as Plotly's base64 typed array (float32 unless a finite value needs
    float64, or ``dtype``: "f8", "i4", "u1" …; a 2-D array keeps its shape); arrays shorter
    than ``PACK_MIN`` stay lists (None for NaN). :func:`unpacked` reads either form back."""
    a = np.asarray(a)
    if a.size < PACK_MIN:
        return as_list(a) if dtype is None or dtype[0] == "f" else a.astype(int).tolist()
    if dtype is None:
        f = np.asarray(a, dtype=np.float64)
        mag = np.abs(f[np.isfinite(f) & (f != 0)])
        fits = mag.size == 0 or (mag.min() >= _F4_SAFE[0] and mag.max() <= _F4_SAFE[1])
        dtype = "f4" if fits else "f8"
    data = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    spec = {"dtype": dtype, "bdata": base64.b64encode(data.tobytes()).decode("ascii")}
    if a.ndim > 1:  # a grid (a surface's z): rows first
        spec["shape"] = ",".join(str(n) for n in a.shape)
    return spec


def unpacked(value) -> np.ndarray:
    """A figure's array (list, or base64 typed array from :func:`packed`) as float64."""
    if isinstance(value, dict) and "bdata" in value:
        dtype = np.dtype(value["dtype"]).newbyteorder("<")
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=dtype).astype(np.float64)
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def thinning_stride(n: int, budget: int) -> int:
    """The stride that keeps at most ``budget`` of ``n`` points."""
    return max(1, math.ceil(n / budget))
