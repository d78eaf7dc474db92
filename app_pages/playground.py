"""Playground: optimizers racing side by side on a 2-D landscape."""

from vradam.app.ui import playground as ui

config, error = ui.playground_controls()
ui.show_playground(config, error)
