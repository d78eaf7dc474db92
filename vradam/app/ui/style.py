"""The house style of every page (app.py calls :func:`apply_style`): CSS, the scripts run
once per browser tab (history entries, keyboard and screen-reader access) and the
presenter view's toggle.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vradam.app.ui.presenter import presenter_on

_STYLE = """
<style>
/* Less empty space above the content: the figures should fit a 1280×720 projector. */
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 2rem; }
/* Phones: the header bar stays over the page, so the title starts below it; Plotly's mode
   bar would cover legends and titles (pinch zoom does its job there). */
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 4.2rem; }
  .js-plotly-plot .modebar-container { display: none !important; }
}
</style>
"""


_PRESENTER_STYLE = """
<style>
/* Presenter view: no sidebar, larger type, the full width for the content. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] { display: none !important; }
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2.5rem;
  padding-right: 2.5rem; padding-top: 1.2rem; }
</style>
"""


# Streamlit pushes a browser history entry whenever the server changes the query string
# (its frontend calls history.pushState), so every setting a page writes to the URL adds
# one and Back only steps through the page's own settings. This script, run once per
# browser tab, turns a push that keeps the path (same page, new settings) into a
# replace; a push to another path (another page) stays a push, so Back leaves the page.
HISTORY_SCRIPT = """
<script>
(() => {
  if (window.__vradamHistory) return;
  window.__vradamHistory = true;
  const push = window.history.pushState.bind(window.history);
  window.history.pushState = function (state, title, url) {
    try {
      const next = new URL(url, window.location.href);
      if (next.pathname === window.location.pathname) {
        return window.history.replaceState(state, title, url);
      }
    } catch (err) {
      /* an unparsable URL: let the browser decide, as before */
    }
    return push(state, title, url);
  };
})();
</script>
"""


# Charts for keyboards and screen readers: names, summaries, Play/Pause and the step
# slider by keyboard (vradam/assets/a11y.js; run once per browser tab, like the above).
A11Y_SCRIPT = f"<script>{(Path(__file__).parents[2] / 'assets' / 'a11y.js').read_text()}</script>"


def _exit_presenter() -> None:
    st.session_state["presenter"] = False


def apply_style() -> None:
    """The house style, and the presenter view when its toggle is on (app.py, every page)."""
    st.html(_STYLE)
    st.sidebar.html(HISTORY_SCRIPT, unsafe_allow_javascript=True)
    st.sidebar.html(A11Y_SCRIPT, unsafe_allow_javascript=True)
    st.sidebar.toggle(
        "Presenter view", key="presenter", persist_state="session",
        help="Hides this sidebar and enlarges text and lines for a projector. The page "
        "keeps its settings; a button at the top brings the sidebar back.",
    )  # fmt: skip
    if presenter_on():
        st.html(_PRESENTER_STYLE)
        st.button("Exit presenter view", on_click=_exit_presenter, icon=":material/close:",
                  key="presenter_exit", type="tertiary")  # fmt: skip
