"""Streamlit helpers: the only package here that imports streamlit.

Pages stay thin: they call a ``*_controls()`` helper that reads widgets and returns
a frozen config, a cached pure computation, and a ``show_*`` helper.
"""

from vradam.app.ui.style import apply_style

__all__ = ["apply_style"]
