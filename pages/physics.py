"""Physics: the quartic kinetic energy behind VRAdam, its motion and its gate."""

from vradam.app.ui import physics as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()
ui.show()
