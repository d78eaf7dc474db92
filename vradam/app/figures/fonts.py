"""The text sizes of every chart: a floor applied once, where every figure is finished.

Streamlit's Plotly theme draws chart text at 12 px (axis titles 14 px), but a figure's own
sizes win over the theme, and several figures set 8–11 px to fit tick labels, legends or
notes into a panel. At 1024 px wide that is too small to read. :func:`readable` raises every
size below the floor, and writes the floor into the figure itself (each axis's tick labels
and title, the legend, each annotation), so that the chart does not depend on the theme and
the presenter view, which scales every written size, enlarges all of them.

Text written in a font of colour ``rgba(…, 0)`` is invisible (e.g. an animation slider's
hidden step labels) and keeps its size.
"""

from __future__ import annotations

MIN_TEXT = 12  # px: tick labels, legends, annotations, colour bars, hover, slider text
MIN_AXIS_TITLE = 14  # px: axis titles (larger than their tick labels)


def _transparent(font: dict) -> bool:
    color = str(font.get("color", "")).replace(" ", "")
    return color.startswith("rgba(") and color.endswith(",0)")


def _floor(font: dict | None, size: float) -> dict:
    """``font`` (a copy) with its size at least ``size``, unless it is invisible."""
    font = dict(font or {})
    current = font.get("size")
    if not _transparent(font) and (current is None or isinstance(current, int | float)):
        font["size"] = max(current or 0, size)  # (a size per point, a list, is kept)
    return font


def _raise_sizes(node) -> None:
    """Every explicit ``*font`` size in a figure tree raised to MIN_TEXT (in place)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict):
                size = value.get("size")
                if isinstance(size, int | float) and size < MIN_TEXT and not _transparent(value):
                    value["size"] = MIN_TEXT
            if isinstance(value, dict | list):
                _raise_sizes(value)
    elif isinstance(node, list) and node and not _data(node):
        for item in node:
            if isinstance(item, dict | list):
                _raise_sizes(item)


def _data(node: list) -> bool:
    """Whether a list is data (numbers, or rows of numbers, or None gaps): no fonts in it."""
    first = node[0]
    if isinstance(first, list):
        first = first[0] if first else None
    return first is None or isinstance(first, int | float | str)


def _axis(axis: dict) -> None:
    axis["tickfont"] = _floor(axis.get("tickfont"), MIN_TEXT)
    title = axis.get("title")
    if isinstance(title, dict) and title.get("text"):
        title["font"] = _floor(title.get("font"), MIN_AXIS_TITLE)


_NOT_CARTESIAN = {"surface", "scatter3d", "mesh3d", "cone", "pie", "table", "sankey"}


def _used_axes(data: list) -> set[str]:
    """The layout keys of the x/y axes the traces draw on ("xaxis", "yaxis2" …)."""
    keys = set()
    for trace in data:
        if trace.get("type", "scatter") not in _NOT_CARTESIAN:
            for ax in ("x", "y"):
                ref = trace.get(f"{ax}axis") or ax
                keys.add(f"{ax}axis{ref[1:]}")
    return keys


def readable(fig: dict) -> dict:
    """Chart text at least MIN_TEXT px (axis titles MIN_AXIS_TITLE px), written into the
    figure (in place; returns ``fig``): also on the axes and legend the figure leaves to the
    theme, whose 12 px would otherwise stay 12 px in the presenter view."""
    layout = fig.setdefault("layout", {})
    layout["font"] = _floor(layout.get("font"), MIN_TEXT)
    for key in _used_axes(fig.get("data", [])):
        layout.setdefault(key, {})
    layout.setdefault("legend", {})
    _raise_sizes(layout)
    for trace in fig.get("data", []):
        _raise_sizes(trace)
    for frame in fig.get("frames") or []:
        _raise_sizes(frame.get("data", []))
    for key, value in layout.items():
        if key[1:5] == "axis" and key[0] in "xyz" and isinstance(value, dict):
            _axis(value)
    for key in [k for k in layout if k.startswith("legend")]:
        if isinstance(layout[key], dict):
            layout[key]["font"] = _floor(layout[key].get("font"), MIN_TEXT)
    for note in layout.get("annotations") or []:
        note["font"] = _floor(note.get("font"), MIN_TEXT)
    return fig
