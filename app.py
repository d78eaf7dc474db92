"""Streamlit entry point: page config and navigation only (see pages/)."""

import streamlit as st

st.set_page_config(
    page_title="VRAdam: see how optimizers move",
    page_icon=":material/speed:",
    layout="wide",
)

pages = [
    st.Page("pages/about.py", title="About VRAdam", icon=":material/info:", default=True),
]
st.navigation(pages).run()
