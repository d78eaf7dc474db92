"""Stability maps: where each optimizer converges, oscillates or diverges, and why."""

from vradam.app.ui import stability as ui

ui.show()
