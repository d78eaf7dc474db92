"""Networks: train small networks live with VRAdam and baselines (CPU or GPU)."""

from vradam.app.ui import networks as ui

config, mode, seeds, error = ui.networks_controls()
ui.show_networks(config, mode, seeds, error)
