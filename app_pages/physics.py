"""Physics: the quartic kinetic energy behind VRAdam, its motion and its gate."""

from vradam.app.ui import physics as ui

ui.show()
