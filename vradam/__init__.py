"""vradam: Velocity-Regularized Adam (arXiv:2505.13196) for PyTorch.

>>> from vradam import VRAdam
>>> opt = VRAdam(model.parameters(), lr=1e-3, beta3=1.0, alpha1=10.0)  # doctest: +SKIP

Importing this package loads torch only; the web app lives in ``app.py`` and
``app_pages/`` and is installed with the ``app`` extra.
"""

from vradam.functional import effective_lr, vradam, vrmomentum
from vradam.optim import VRAdam, VRMomentum

__version__ = "0.1.0"

__all__ = ["VRAdam", "VRMomentum", "__version__", "effective_lr", "vradam", "vrmomentum"]
