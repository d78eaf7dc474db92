"""Panel layouts that fit any width: panels stacked on a phone, legends and colour bars
placed in pixels.

A figure's height is fixed in pixels; its width is whatever the page gives it (about 820 px
of content at 1280×800, 650 at 1024×768, 360 on a phone). So the builders here place
everything that could collide in the vertical, which is known: on a narrow screen the
panels stack one under the other at full width; legends list one entry per row (a known
height) above or below the panels; colour bars lie flat under their panel. Side by side,
a wide layout only has to leave each panel's tick labels room, which it does in fractions
of the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Measured in Chromium at Plotly's default fonts (12 px, axis titles 14 px):
LEGEND_ROW = 19  # px per legend entry (a legend adds 10 px of padding)
TITLE_ROW = 18  # px per line of a panel title above its panel
TICKS = 26  # px from a panel's bottom edge to the bottom of its x tick labels
AXIS_TITLE = 28  # px more for an x axis title under the tick labels
COLORBAR = 56  # px of a flat colour bar: its title, the bar, its tick labels


@dataclass(frozen=True)
class Stack:
    """Panels stacked top to bottom in a plot area of ``plot`` px (paper y 1 → 0)."""

    plot: int  # px of the plot area (the figure's height less its top and bottom margins)
    tops: tuple[int, ...]  # px of each panel's top below the plot area's top
    heights: tuple[int, ...]

    def y(self, px: float) -> float:
        """Paper y of the point ``px`` below the plot area's top (negative below it)."""
        return round(1.0 - px / self.plot, 5)

    def domain(self, i: int) -> list[float]:
        return [self.y(self.tops[i] + self.heights[i]), self.y(self.tops[i])]

    def below(self, i: int, px: float) -> float:
        """Paper y ``px`` below panel ``i``'s bottom edge."""
        return self.y(self.tops[i] + self.heights[i] + px)


def stack(heights: Sequence[int], gaps: Sequence[int]) -> Stack:
    """Panels of ``heights`` px, ``gaps[i]`` px between panel i and i+1."""
    tops, at = [], 0
    for i, h in enumerate(heights):
        tops.append(at)
        at += h + (gaps[i] if i < len(gaps) else 0)
    return Stack(at, tuple(tops), tuple(heights))


LINE = 16  # px per further line of a legend entry broken with <br>
PHONE_CHARS = 34  # characters of a legend entry's line that fit beside its symbol on a phone


def legend_height(entries: int, extra_lines: int = 0) -> int:
    """px of a legend listing ``entries`` one per row, with ``extra_lines`` more lines in
    all from entries broken over several (see :func:`wrap`)."""
    return entries * LEGEND_ROW + extra_lines * LINE + 12


def wrap(text: str, chars: int = PHONE_CHARS) -> str:
    """``text`` broken with <br> at spaces into lines of at most ``chars`` characters (a
    longer word stays whole)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


# Streamlit's light theme colours the first legend's text, not a second legend's (legend2):
# both get this colour, so they look alike.
LEGEND_TEXT = "#31333F"


def column_legend(y: float, *, yanchor: str = "top", x: float = 0.0, **extra) -> dict:
    """A legend with one entry per row (its height is known) at paper (x, y)."""
    return dict(orientation="v", x=x, xanchor="left", y=y, yanchor=yanchor,
                bgcolor="rgba(255,255,255,0)", tracegroupgap=0,
                font=dict(color=LEGEND_TEXT), **extra)  # fmt: skip


def flat_colorbar(title: str, x0: float, x1: float, y: float) -> dict:
    """A horizontal colour bar under a panel spanning paper x0…x1, its title's top at paper
    y (COLORBAR px: title, bar, tick labels)."""
    return dict(
        orientation="h",
        x=x0,
        xanchor="left",
        len=max(x1 - x0, 0.05),
        lenmode="fraction",
        y=y,
        yanchor="top",
        thickness=12,
        title=dict(text=title, side="top"),
        xpad=0,
        ypad=0,
    )


def map_over_panel(fig: dict, map_px: int = 300, panel_px: int = 130) -> dict:
    """A map (axes x/y) and one panel (x2/y2) figure laid out for a column of the page: the
    legend one entry per row on top, the map, then the panel, each the column's width.
    Changes and returns ``fig`` (e.g. the Playground's path figure)."""
    entries = sum(1 for t in fig["data"] if t.get("showlegend", True) is not False)
    top = legend_height(entries) + 12  # and clear of the map's top tick label
    below = TICKS + AXIS_TITLE + 6
    st = stack([map_px, panel_px], [below])
    layout = fig["layout"]
    layout.update(height=top + st.plot + below, legend=column_legend(st.y(-(top - 2))))
    layout["margin"] = {**layout.get("margin", {}), "t": top, "b": below}
    layout["xaxis"]["domain"], layout["yaxis"]["domain"] = [0.0, 1.0], st.domain(0)
    layout["xaxis2"]["domain"], layout["yaxis2"]["domain"] = [0.0, 1.0], st.domain(1)
    return fig
