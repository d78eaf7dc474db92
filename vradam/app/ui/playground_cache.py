"""The Playground's cached work: runs, landscape backgrounds, figures and step replays.

``st.cache_data`` keeps each per config (a frozen record of primitives); a page rerun
that changes nothing recomputes nothing.
"""

from __future__ import annotations

import streamlit as st

from vradam.app import playground, stepthrough
from vradam.app.figures import playground as plots
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.maps import background
from vradam.app.playground import PlaygroundConfig

# A config is a frozen record of primitives: its repr is its identity, and hashing that
# one string is ~10× cheaper than Streamlit's generic hashing of the dataclass.
_BY_REPR = {PlaygroundConfig: repr}


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_BY_REPR)
def cached_run(config: PlaygroundConfig):
    return playground.run(config)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_background(landscape_key, params, expression, domain) -> dict:
    config = PlaygroundConfig(
        landscape=landscape_key, landscape_params=params, expression=expression, domain=domain
    )
    return background(config.landscape_obj())


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_REPR)
def cached_race_figure(
    config: PlaygroundConfig,
    panels: tuple[str, ...] = plots.PANEL_NAMES,
    layout: plots.RaceLayout | None = None,
) -> dict:
    ls = config.landscape_obj()
    bg = cached_background(config.landscape, config.landscape_params, config.expression,
                           config.domain)  # fmt: skip
    trajectories = cached_run(config)
    colors = assign_colors(config.specs())
    return plots.race_figure(ls, trajectories, colors, bg, panels=panels, layout=layout)


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_REPR)
def cached_surface_figure(config: PlaygroundConfig, height: int, narrow: bool = False) -> dict:
    trajectories = cached_run(config)
    colors = assign_colors(config.specs())
    return plots.surface_figure(config.landscape_obj(), trajectories, colors, height=height,
                                narrow=narrow)  # fmt: skip


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_REPR)
def cached_replay(config: PlaygroundConfig, index: int):
    return stepthrough.replay(config, index)
