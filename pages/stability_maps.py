"""Stability maps: where each optimizer converges, oscillates or diverges, and why."""

from vradam.ui import stability as ui
from vradam.ui.common import ensure_navigation

ensure_navigation()
ui.show()
