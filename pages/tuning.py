"""Tuning: equal-budget Optuna studies per optimizer, then seeds at each best setting."""

from vradam.app.ui import tuning as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()
ui.show()
