"""Lessons: nine guided lessons, each opening a page of the app with a preset."""

from vradam.app.ui import lessons as ui

ui.show()
