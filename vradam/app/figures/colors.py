"""Colours and line patterns: one of each per optimizer (colour-blind safe), colours for
text on white, translucent fills, and the map's and panels' fixed colours.
"""

from __future__ import annotations

# Okabe–Ito (colour-blind safe), one fixed colour per optimizer, extended with
# Paul Tol's muted scheme for the rest and for repeated optimizers.
KEY_COLORS = {
    "vradam": "#D55E00",  # vermillion
    "adam": "#0072B2",  # blue
    "momentum": "#009E73",  # bluish green
    "rmsprop": "#CC79A7",  # reddish purple
    "gd": "#000000",  # black
    "nesterov": "#E69F00",  # orange
    "adamw": "#56B4E9",  # sky blue
    "vrmomentum": "#882255",  # wine
    "adagrad": "#117733",  # green
    "nadam": "#332288",  # indigo
    "radam": "#44AA99",  # teal
    "lion": "#AA4499",  # purple
}
EXTRA_COLORS = ["#999933", "#CC6677", "#88CCEE", "#DDCC77", "#661100", "#6699CC", "#888888"]
# A line pattern per optimizer as well as a colour: with deuteranopia Momentum and RMSprop
# look alike, with tritanopia Adam and Momentum. VRAdam, Adam and GD stay solid; "dot" is
# left to the stability thresholds and "dash" to guides, which set their own.
KEY_DASHES = {
    "momentum": "longdash",
    "rmsprop": "dashdot",
    "nesterov": "longdashdot",
    "adamw": "8px,3px,2px,3px",
    "vrmomentum": "6px,2px",
    "adagrad": "12px,4px",
    "nadam": "2px,4px,8px,4px",
    "radam": "8px,3px,2px,3px,2px,3px",
    "lion": "10px,2px,2px,2px,2px,2px",
}
EXTRA_DASHES = ["longdash", "dashdot", "longdashdot", "8px,3px,2px,3px", "6px,2px", "12px,4px",
                "2px,4px,8px,4px"]  # fmt: skip
_DASH_OF_COLOR = {
    **{KEY_COLORS[k]: d for k, d in KEY_DASHES.items()},
    **dict(zip(EXTRA_COLORS, EXTRA_DASHES, strict=True)),
}
# scatter3d takes named patterns only
_NAMED_DASHES = {"solid", "dot", "dash", "longdash", "dashdot", "longdashdot"}
MINIMUM_STAR = "#FFD700"
CURSOR_COLOR = "rgba(0,0,0,0.45)"
GRID_COLOR = "#eeeeee"


def assign_colors(specs) -> list[str]:
    """A colour per spec: the optimizer's own colour first, free ones for repeats."""
    used: set[str] = set()
    colors = []
    pool = [*KEY_COLORS.values(), *EXTRA_COLORS]
    for spec in specs:
        color = KEY_COLORS.get(spec.key)
        if color is None or color in used:
            color = next((c for c in pool if c not in used), EXTRA_COLORS[len(colors) % 7])
        used.add(color)
        colors.append(color)
    return colors


def dash_of(color: str) -> str:
    """The line pattern of the optimizer drawn in ``color`` ("solid" for the others)."""
    return _DASH_OF_COLOR.get(color, "solid")


def optimizer_dashes(fig: dict) -> dict:
    """Give every line drawn in an optimizer's colour that optimizer's pattern (in place),
    unless the trace sets its own (a dashed threshold keeps its dashes); frames too."""
    traces = [*fig.get("data", ()), *(t for f in fig.get("frames", ()) for t in f.get("data", ()))]
    for trace in traces:
        line = trace.get("line")
        if not isinstance(line, dict) or "dash" in line or "lines" not in trace.get("mode", ""):
            continue
        dash = _DASH_OF_COLOR.get(line.get("color"))
        if dash is None or (trace.get("type") == "scatter3d" and dash not in _NAMED_DASHES):
            continue
        trace["line"] = {**line, "dash": dash}
    return fig


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    c = [int(h[k : k + 2], 16) / 255 for k in (0, 2, 4)]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def contrast(hex_color: str, background: str = "#FFFFFF") -> float:
    """WCAG contrast ratio of two ``#RRGGBB`` colours."""
    a, b = sorted((_luminance(hex_color), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_color(hex_color: str, ratio: float = 4.5) -> str:
    """``hex_color`` darkened just enough for text on white (WCAG AA: 4.5:1)."""
    h = hex_color.lstrip("#")
    rgb = [int(h[k : k + 2], 16) for k in (0, 2, 4)]
    for step in range(101):
        f = 1 - step / 100
        out = "#" + "".join(f"{round(c * f):02X}" for c in rgb)
        if contrast(out) >= ratio:
            return out
    return "#000000"


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` → ``rgba(r,g,b,alpha)`` (for translucent fills)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
