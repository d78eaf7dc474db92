"""A grid of values as a PNG image (a data URI), on the light slate ramp of the maps."""

from __future__ import annotations

import base64
import io

import numpy as np

_RAMP = np.array([[255, 255, 255], [222, 228, 236], [150, 162, 182]], dtype=np.float64)


def _colorize(V: np.ndarray) -> np.ndarray:
    """Light slate ramp (low = white), NaN in pale rose; returns uint8 RGB."""
    finite = V[np.isfinite(V)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    t = np.clip((V - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    t = np.where(np.isfinite(t), t, 0.0)
    pos = t * (len(_RAMP) - 1)
    i = np.minimum(pos.astype(int), len(_RAMP) - 2)
    f = (pos - i)[..., None]
    rgb = _RAMP[i] * (1 - f) + _RAMP[i + 1] * f
    rgb[~np.isfinite(V)] = (250, 225, 225)
    return rgb.astype(np.uint8)


def png_data_uri(rgb: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def palette_png_uri(V: np.ndarray, levels: int = 32) -> str:
    """The light slate ramp in ``levels`` shades as an indexed PNG (a third to a sixth of the
    bytes of the RGB image; steps of ~3/255 on this pale ramp do not show as bands)."""
    from PIL import Image

    finite = V[np.isfinite(V)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    t = np.clip((V - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    index = np.where(np.isfinite(t), np.rint(np.nan_to_num(t) * (levels - 1)), levels)
    shades = _colorize(np.linspace(0.0, 1.0, levels)[None, :])[0]  # (levels, 3)
    palette = np.vstack([shades, [[250, 225, 225]]]).astype(np.uint8)  # NaN: pale rose
    image = Image.frombytes("P", index.shape[::-1], index.astype(np.uint8).tobytes())
    image.putpalette(palette.ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
