"""Panel traces and labels: lines, shaded bands, a panel's label and a frame's cursor.

Every builder returns plain dicts in Plotly's schema; nothing here imports Streamlit.
"""

from __future__ import annotations

from vradam.app.figures.colors import CURSOR_COLOR


def line_trace(x, y, hover: str | None = None, **style) -> dict:
    """A scatter trace drawn as lines; ``style`` adds keys (or changes the mode), ``hover`` is
    the hovertemplate without its ``<extra></extra>``."""
    trace = {"type": "scatter", "x": x, "y": y, "mode": "lines", **style}
    if hover is not None:
        trace["hovertemplate"] = f"{hover}<extra></extra>"
    return trace


def band_traces(
    x: list, lo: list, hi: list, fillcolor: str, *, closed: bool = False, **extra
) -> list[dict]:
    """A shaded band between ``lo`` and ``hi`` over ``x``, with no outline or hover.

    Two traces by default (the upper edge, then the lower edge filled ``tonexty``), which
    follow gaps (None) in the data; ``closed`` draws one polygon (``toself``) instead.
    ``extra`` goes into every trace (axes, name, legend group).
    """

    def edge(**kw) -> dict:
        return dict(
            type="scatter",
            mode="lines",
            line=dict(width=0),
            hoverinfo="skip",
            showlegend=False,
            **kw,
            **extra,
        )

    if closed:
        outline_x, outline_y = [*x, *x[::-1], x[0]], [*lo, *hi[::-1], lo[0]]
        return [edge(x=outline_x, y=outline_y, fill="toself", fillcolor=fillcolor)]
    return [edge(x=list(x), y=hi), edge(x=list(x), y=lo, fill="tonexty", fillcolor=fillcolor)]


def panel_label(text: str, x: float, y: float, size: int = 12) -> dict:
    """An annotation above a panel's top-left corner (paper coordinates)."""
    return dict(
        text=text,
        xref="paper",
        yref="paper",
        x=x,
        y=y,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=size),
    )


def cursor_style(trace: dict, axis: int, **extra) -> dict:
    """A frame's vertical cursor line ``trace`` styled for panel axes x{axis}/y{axis}."""
    return dict(
        trace,
        mode="lines",
        line=dict(color=CURSOR_COLOR, width=1),
        hoverinfo="skip",
        showlegend=False,
        xaxis=f"x{axis}",
        yaxis=f"y{axis}",
        **extra,
    )
