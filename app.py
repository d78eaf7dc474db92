"""Streamlit entry point: page config and navigation only (see pages/)."""

from pathlib import Path

import streamlit as st

from vradam.app import ui

# A local favicon: a material-icon favicon is fetched from Google, which fails offline.
FAVICON = Path(__file__).parent / "vradam" / "assets" / "favicon.png"

st.set_page_config(
    page_title="VRAdam: see how optimizers move",
    page_icon=str(FAVICON),
    layout="wide",
)

ui.apply_style()

pages = [
    st.Page(
        "pages/playground.py", title="Playground", icon=":material/sports_score:", default=True
    ),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("pages/networks.py", title="Networks", icon=":material/hub:"),
    st.Page("pages/tuning.py", title="Tuning", icon=":material/tune:"),
    st.Page(
        "pages/eos.py",
        title="Edge of stability",
        icon=":material/ssid_chart:",
        url_path="edge_of_stability",
    ),
    st.Page("pages/physics.py", title="Physics", icon=":material/science:"),
    st.Page(
        "pages/stability.py",
        title="Stability maps",
        icon=":material/grid_on:",
        url_path="stability_maps",
    ),
    st.Page("pages/about.py", title="About VRAdam", icon=":material/info:"),
]
st.navigation(pages).run()
