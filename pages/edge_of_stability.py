"""Edge of stability: sharpness against each optimizer's threshold, full batch."""

from vradam.ui import eos as ui
from vradam.ui.common import ensure_navigation

ensure_navigation()
ui.show()
