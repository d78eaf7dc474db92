"""The About page's measured section: what VRAdam does on this package's tasks, each
sentence generated from the shipped evidence (:func:`vradam.app.evidence.headlines`) with
the measurement it rests on, and a link to the Evidence page."""

from __future__ import annotations

import streamlit as st

from vradam.app import evidence as ae
from vradam.app.ui.links import page_link
from vradam.app.ui.markdown import md_escape

__all__ = ["measured_section"]


@st.cache_data(show_spinner=False)
def _claims() -> list[tuple[str, str, str]]:
    return [(c.text, c.rests_on, c.command) for c in ae.headlines()]


def measured_section() -> None:
    st.subheader("What it does, measured")
    claims = _claims()
    if not claims:
        st.info("No measurement is stored in this installation (vradam/assets/evidence/).")
    for text, rests_on, command in claims:
        st.markdown(f"- {md_escape(text)}  \n  *Rests on:* {md_escape(rests_on)}; "
                    f"`{command}`")  # fmt: skip
    st.markdown("Every number, and where VRAdam loses, is on the Evidence page:")
    page_link("app_pages/evidence.py", "Evidence", icon=":material/fact_check:")
