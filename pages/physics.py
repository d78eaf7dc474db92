"""Physics: the quartic kinetic energy behind VRAdam, its motion and its gate."""

from vradam.ui import physics as ui
from vradam.ui.common import ensure_navigation

ensure_navigation()
ui.show()
