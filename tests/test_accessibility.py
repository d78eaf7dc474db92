"""Charts read without colour vision: each optimizer has a line pattern as well as a colour,
and text drawn in an optimizer's colour has WCAG AA contrast on white."""

from __future__ import annotations

import itertools

from vradam.app.figures.colors import (
    EXTRA_COLORS,
    KEY_COLORS,
    assign_colors,
    contrast,
    dash_of,
    optimizer_dashes,
    text_color,
)
from vradam.sim.optimizers import REGISTRY, OptimizerSpec

# Pairs that look alike with a colour-vision deficiency (found by simulating deuteranopia
# and tritanopia on the Okabe-Ito colours).
CONFUSED = [("momentum", "rmsprop"), ("adam", "momentum"), ("adam", "adamw")]


def test_every_optimizer_has_its_own_colour_and_pattern():
    styles = [(KEY_COLORS[k], dash_of(KEY_COLORS[k])) for k in REGISTRY if k in KEY_COLORS]
    assert len(set(styles)) == len(styles)
    for a, b in CONFUSED:
        assert dash_of(KEY_COLORS[a]) != dash_of(KEY_COLORS[b]), (a, b)
    # repeats of one optimizer get the extra colours, each with a pattern
    specs = [OptimizerSpec.parse("momentum")] * 3
    colors = assign_colors(specs)
    assert len({(c, dash_of(c)) for c in colors}) == 3
    assert all(dash_of(c) != "solid" for c in EXTRA_COLORS)
    # "dot" is the stability thresholds' (Playground and Networks sharpness panels)
    assert "dot" not in {dash_of(c) for c in [*KEY_COLORS.values(), *EXTRA_COLORS]}


def test_thresholds_are_dotted_where_the_panel_title_says_so():
    from vradam.app.figures import networks, playground

    assert ("sharpness", "sharpness vs threshold (dotted)") in playground.PANELS
    assert ("sharpness", "sharpness vs threshold (dotted)", "log") in networks.PANELS
    from vradam.app.playground import PlaygroundConfig
    from vradam.app.ui.playground import cached_race_figure

    fig = optimizer_dashes(cached_race_figure(PlaygroundConfig()))
    thresholds = [t for t in fig["data"] if str(t.get("name", "")).endswith(" threshold")]
    assert thresholds and all(t["line"]["dash"] == "dot" for t in thresholds)


def test_figures_draw_each_optimizer_with_its_pattern_and_keep_their_own_dashes():
    adam, momentum = KEY_COLORS["adam"], KEY_COLORS["momentum"]
    fig = {
        "data": [
            {"type": "scatter", "mode": "lines", "line": {"color": adam}},
            {"type": "scatter", "mode": "lines", "line": {"color": momentum, "width": 2}},
            {"type": "scatter", "mode": "lines", "line": {"color": momentum, "dash": "dash"}},
            {"type": "scatter", "mode": "markers", "marker": {"color": momentum}},
            {"type": "scatter3d", "mode": "lines", "line": {"color": KEY_COLORS["adamw"]}},
        ],
        "frames": [{"data": [{"type": "scatter", "mode": "lines", "line": {"color": momentum}}]}],
    }
    optimizer_dashes(fig)
    lines = [t.get("line", {}) for t in fig["data"]]
    assert "dash" not in lines[0]  # Adam is solid, Plotly's default
    assert lines[1] == {"color": momentum, "width": 2, "dash": "longdash"}
    assert lines[2]["dash"] == "dash"  # a threshold keeps its own
    assert "line" not in fig["data"][3]
    assert "dash" not in lines[4]  # scatter3d takes named patterns only
    assert fig["frames"][0]["data"][0]["line"]["dash"] == "longdash"


def test_text_in_an_optimizer_colour_is_readable_on_white():
    for color in itertools.chain(KEY_COLORS.values(), EXTRA_COLORS):
        shown = text_color(color)
        assert contrast(shown) >= 4.5, (color, shown)
        if contrast(color) >= 4.5:
            assert shown == color  # only the light ones change
    assert contrast(KEY_COLORS["adamw"]) < 3  # the sky blue that needed it
    assert round(contrast("#000000"), 1) == 21.0
