"""Plotly's side of showing and exporting figures, so that the ui layer never imports plotly.

* ``trust_marked_figures()``: ``st.plotly_chart`` turns a dict into a validated
  ``go.Figure`` (~0.5 s for an animated race). The figures built here follow Plotly's
  schema (a test validates them), so a figure whose ``layout.meta`` is ``TRUSTED`` or
  ``PRESENTER`` skips that second validation.
* ``to_html`` and ``to_png``: a figure as a standalone HTML page or a PNG (Kaleido).
"""

from __future__ import annotations

import plotly.io as pio
import plotly.tools

TRUSTED = "vradam.app.figures"  # layout.meta of a schema-checked figure
PRESENTER = TRUSTED + " presenter"  # the same, styled for the presenter view

_original_return_figure = plotly.tools.return_figure_from_figure_or_data


def _return_figure(figure_or_data, validate_figure):
    layout = figure_or_data.get("layout", {}) if isinstance(figure_or_data, dict) else {}
    if layout.get("meta") in (TRUSTED, PRESENTER):
        return figure_or_data
    return _original_return_figure(figure_or_data, validate_figure)


def trust_marked_figures() -> None:
    """Let figures marked ``TRUSTED``/``PRESENTER`` skip Plotly's validation (idempotent)."""
    plotly.tools.return_figure_from_figure_or_data = _return_figure


def to_html(fig: dict, *, auto_play: bool = False) -> str:
    """A full HTML page that plays offline (plotly.js inlined)."""
    return pio.to_html(
        fig, include_plotlyjs=True, full_html=True, validate=False, auto_play=auto_play
    )


def to_png(fig: dict, *, width: int, height: int, scale: float = 1) -> bytes:
    """A PNG rendered by Kaleido (needs a Chromium browser)."""
    return pio.to_image(fig, format="png", width=width, height=height, scale=scale, validate=False)
