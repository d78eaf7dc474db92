"""Evidence: should I use VRAdam? Robustness, the damping–cost frontier and the gate, measured."""

from vradam.app.ui import evidence as ui

ui.show()
