"""Showing a figure: :func:`trusted` prepares every vradam.app.figures figure for
``st.plotly_chart`` (text escaped, marked as schema-checked, styled for the presenter
view), and :func:`chart_summary` writes the one-line summary under it.
"""

from __future__ import annotations

import streamlit as st

from vradam.app.figures.export import PRESENTER, TRUSTED, finish, trust_marked_figures
from vradam.app.ui.presenter import for_projector, presenter_on


def chart_summary(text: str) -> None:
    """The one-line text summary under a chart (screen readers, printouts)."""
    st.caption(f"Summary: {text}")


def trusted(fig: dict) -> dict:
    """Mark a vradam.app.figures figure as schema-checked (and style it for the presenter view).

    Every string in it is escaped first, so user text cannot be markup, and each optimizer's
    lines get its dash pattern (:func:`vradam.app.figures.export.finish`). A marked figure
    skips Plotly's second validation in ``st.plotly_chart``: the fast path is installed here,
    where marked figures come from, not when a module is imported, so a page opened on its
    own (AppTest, a deep link) gets it as well as one opened through app.py."""
    trust_marked_figures()
    finish(fig)
    if presenter_on():
        if fig["layout"].get("meta") != PRESENTER:
            for_projector(fig)
        return fig
    fig["layout"]["meta"] = TRUSTED
    return fig
