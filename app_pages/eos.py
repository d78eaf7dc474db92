"""Edge of stability: sharpness against each optimizer's threshold, full batch."""

from vradam.app.ui import eos as ui

ui.show()
