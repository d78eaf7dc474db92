"""Tuning: equal-budget Optuna studies per optimizer, then seeds at each best setting."""

from vradam.app.ui import tuning as ui

ui.show()
