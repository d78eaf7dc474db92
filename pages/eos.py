"""Edge of stability: sharpness against each optimizer's threshold, full batch."""

from vradam.app.ui import eos as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()
ui.show()
