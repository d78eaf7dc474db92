"""Links between the app's pages that also work where a page runs alone.

Under ``app.py`` a link is Streamlit's page link (the page opens in the same session). A page
run by itself (``AppTest``, or ``streamlit run app_pages/<page>.py``) has no navigation, so
:func:`page_link` writes a plain link to the page's URL instead of raising.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

__all__ = ["URL_PATHS", "page_link", "page_url"]

# The pages whose URL is not their file's name (app.py's url_path= and default=; a test
# checks the two agree).
URL_PATHS = {"playground": "", "eos": "edge_of_stability", "stability": "stability_maps"}


def page_url(path: str, query: dict | None = None) -> str:
    """The relative URL of the page in ``app_pages/<name>.py``, with ``query``."""
    stem = PurePosixPath(path).stem
    url = f"./{URL_PATHS.get(stem, stem)}"
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def page_link(path: str, label: str, icon: str = ":material/open_in_new:",
              query: dict | None = None) -> None:  # fmt: skip
    """A link to the page in ``path`` (``app_pages/<name>.py``) with ``query``."""
    try:
        st.page_link(path, label=label, icon=icon, query_params=query)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}]({page_url(path, query)})")
