"""Streamlit entry point: page config and navigation only (see app_pages/).

The folder is not called ``pages/``: that name switches Streamlit to its legacy
multipage mode until app.py first runs, so a cold server's first deep link to a page
whose URL differs from its file name got a "Page not found" modal.
"""

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
        "app_pages/playground.py", title="Playground", icon=":material/sports_score:", default=True
    ),
    st.Page("app_pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("app_pages/networks.py", title="Networks", icon=":material/hub:"),
    st.Page("app_pages/tuning.py", title="Tuning", icon=":material/tune:"),
    st.Page(
        "app_pages/eos.py",
        title="Edge of stability",
        icon=":material/ssid_chart:",
        url_path="edge_of_stability",
    ),
    st.Page("app_pages/physics.py", title="Physics", icon=":material/science:"),
    st.Page(
        "app_pages/stability.py",
        title="Stability maps",
        icon=":material/grid_on:",
        url_path="stability_maps",
    ),
    st.Page("app_pages/evidence.py", title="Evidence", icon=":material/fact_check:"),
    st.Page("app_pages/about.py", title="About VRAdam", icon=":material/info:"),
]
st.navigation(pages).run()
