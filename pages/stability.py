"""Stability maps: where each optimizer converges, oscillates or diverges, and why."""

from vradam.app.ui import stability as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()
ui.show()
