"""vradam: Velocity-Regularized Adam (arXiv:2505.13196) for PyTorch.

>>> from vradam import VRAdam
>>> opt = VRAdam(model.parameters(), lr=1e-3, beta3=1.0, alpha1=10.0)  # doctest: +SKIP

Importing this package loads nothing heavy: the names below load torch and their module
on first use (``from vradam import VRAdam`` does), so ``python -m vradam`` checks its
arguments before torch loads. The web app lives in ``app.py`` and ``app_pages/`` and is
installed with the ``app`` extra.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name → the module that defines it (loaded on first use)
_WHERE = {
    "VRAdam": "vradam.optim",
    "VRMomentum": "vradam.optim",
    "effective_lr": "vradam.functional",
    "vradam": "vradam.functional",
    "vrmomentum": "vradam.functional",
}

__all__ = ["VRAdam", "VRMomentum", "__version__", "effective_lr", "vradam", "vrmomentum"]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
