"""The presenter view (a toggle in the sidebar): whether it is on, and a figure restyled
for a projector (larger fonts, thicker lines).
"""

from __future__ import annotations

import streamlit as st

from vradam.app.figures.export import PRESENTER


def presenter_on() -> bool:
    return bool(st.session_state.get("presenter", False))


PRESENTER_FONT = 16  # px, Plotly's default is 12
PRESENTER_LINE = 1.6  # line widths × this


def _scale_fonts(node, factor: float) -> None:
    """Scale every explicit font size (font, tickfont, title fonts …) in a figure's tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if (
                key.endswith("font")
                and isinstance(value, dict)
                and isinstance(value.get("size"), int | float)
            ):
                value["size"] = round(value["size"] * factor, 1)
            _scale_fonts(value, factor)
    elif isinstance(node, list) and node and not isinstance(node[0], int | float):
        for item in node:  # (a list that starts with a number is data: skipped)
            _scale_fonts(item, factor)


def for_projector(fig: dict) -> dict:
    """Larger fonts and thicker lines (the presenter view); colours unchanged."""
    layout = fig["layout"]
    _scale_fonts(layout, PRESENTER_FONT / 12)
    _scale_fonts(fig["data"], PRESENTER_FONT / 12)  # text on the traces (textfont)
    layout["font"] = {**layout.get("font", {}), "size": PRESENTER_FONT}
    for trace in fig["data"]:
        line = trace.get("line")
        if isinstance(line, dict) and trace.get("type", "scatter") == "scatter":
            trace["line"] = {**line, "width": round(PRESENTER_LINE * line.get("width", 2), 2)}
    layout["meta"] = PRESENTER
    return fig
