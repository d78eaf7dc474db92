"""Networks: train small networks live with VRAdam and baselines (CPU or GPU)."""

from vradam.app.ui import networks as ui
from vradam.app.ui.common import ensure_navigation

ensure_navigation()

config, mode, seeds, error = ui.networks_controls()
ui.show_networks(config, mode, seeds, error)
