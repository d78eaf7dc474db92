"""Plotly's side of showing and exporting figures, so that the ui layer never imports plotly.

* ``trust_marked_figures()``: ``st.plotly_chart`` turns a dict into a validated
  ``go.Figure`` (~0.5 s for an animated race). The figures built here follow Plotly's
  schema (a test validates them), so a figure whose ``layout.meta`` is ``TRUSTED`` or
  ``PRESENTER`` skips that second validation.
* ``plain_text``: Plotly renders a subset of HTML in every text it draws (legend names,
  titles, hover text, annotations), links and styles included, so a user's label could
  plant a link or big red text. Every string of a figure is passed through
  :func:`escape_markup` before it is shown or exported: only the attribute-free tags the
  figures use themselves survive.
* ``to_html`` and ``to_png``: a figure as a standalone HTML page or a PNG (Kaleido).
"""

from __future__ import annotations

import re

import plotly.io as pio
import plotly.tools

from vradam.app.figures.colors import optimizer_dashes
from vradam.app.figures.fonts import readable

TRUSTED = "vradam.app.figures"  # layout.meta of a schema-checked figure
PRESENTER = TRUSTED + " presenter"  # the same, styled for the presenter view

_original_return_figure = plotly.tools.return_figure_from_figure_or_data


def _return_figure(figure_or_data, validate_figure):
    layout = figure_or_data.get("layout", {}) if isinstance(figure_or_data, dict) else {}
    if layout.get("meta") in (TRUSTED, PRESENTER):
        return figure_or_data
    return _original_return_figure(figure_or_data, validate_figure)


# The tags the figures write themselves, without attributes: nothing else is markup.
_ALLOWED_TAG = re.compile(r"</?(?:br|b|i|em|sub|sup|extra)\s*/?>", re.IGNORECASE)
_ANGLE = re.compile(r"[<>]")


def escape_markup(text: str) -> str:
    """``text`` with every ``<`` or ``>`` that is not an allowed tag as an entity (idempotent).

    >>> escape_markup('<a href="https://x">here</a> and <br> <span style="x">big</span>')
    '&lt;a href="https://x"&gt;here&lt;/a&gt; and <br> &lt;span style="x"&gt;big&lt;/span&gt;'
    """
    if "<" not in text and ">" not in text:
        return text
    out, last = [], 0
    for m in _ALLOWED_TAG.finditer(text):
        out.append(_ANGLE.sub(_entity, text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_ANGLE.sub(_entity, text[last:]))
    return "".join(out)


def _entity(m: re.Match) -> str:
    return "&lt;" if m.group(0) == "<" else "&gt;"


def finish(fig: dict) -> dict:
    """What every figure gets before it is shown or exported (in place): its strings
    escaped (:func:`plain_text`), each optimizer's line pattern
    (:func:`~vradam.app.figures.colors.optimizer_dashes`) and text no smaller than
    :data:`~vradam.app.figures.fonts.MIN_TEXT` (:func:`~vradam.app.figures.fonts.readable`)."""
    return readable(optimizer_dashes(plain_text(fig)))


def plain_text(node):
    """Escape (in place) every string in a figure dict, list or string; returns ``node``.

    A list whose first item is a number (the data) is skipped, so a large animated figure
    costs milliseconds; a list that starts with None (a gap) or text is read through.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                node[key] = escape_markup(value)
            elif isinstance(value, dict | list | tuple):
                node[key] = plain_text(value)
    elif isinstance(node, list):
        if node and isinstance(node[0], int | float):
            return node
        for i, value in enumerate(node):
            node[i] = escape_markup(value) if isinstance(value, str) else plain_text(value)
    elif isinstance(node, tuple):
        return plain_text(list(node)) if node and isinstance(node[0], str | dict) else node
    return node


def trust_marked_figures() -> None:
    """Let figures marked ``TRUSTED``/``PRESENTER`` skip Plotly's validation (idempotent)."""
    plotly.tools.return_figure_from_figure_or_data = _return_figure


def to_html(fig: dict, *, auto_play: bool = False) -> str:
    """A full HTML page that plays offline (plotly.js inlined)."""
    finish(fig)
    return pio.to_html(
        fig, include_plotlyjs=True, full_html=True, validate=False, auto_play=auto_play
    )


def to_png(fig: dict, *, width: int, height: int, scale: float = 1) -> bytes:
    """A PNG rendered by Kaleido (needs a Chromium browser)."""
    finish(fig)
    return pio.to_image(fig, format="png", width=width, height=height, scale=scale, validate=False)
