"""Lessons: eight guided lessons, each opening a page of the app with a preset."""

from vradam.app.ui import lessons as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()
ui.show()
