"""The charts' fast path: a figure that ``vradam.app.ui.charts.trusted`` marks skips Plotly's
second validation in ``st.plotly_chart`` (``vradam.app.figures.export.trust_marked_figures``).

That function replaces ``plotly.tools.return_figure_from_figure_or_data``, which Streamlit's
``st.plotly_chart`` calls on a dict figure: the first test fails when Streamlit (or Plotly)
stops building charts through it, the second when importing the app installs it (it is
installed by the first ``trusted`` figure, never as a side effect of an import).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _two_charts():
    import streamlit as st

    from vradam.app.ui.charts import trusted

    def figure(title):
        return {"data": [{"type": "scatter", "x": [0, 1], "y": [1, 0]}], "layout": {"title": title}}

    st.plotly_chart(trusted(figure("marked")), key="marked")
    st.plotly_chart(figure("plain"), key="plain")


def test_st_plotly_chart_skips_validation_for_marked_figures_only():
    at = AppTest.from_function(_two_charts, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    marked, plain = (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
    # Plotly's validation turns a title string into {"text": …} and adds its template.
    assert plain["layout"]["title"] == {"text": "plain"} and "template" in plain["layout"], (
        "st.plotly_chart no longer validates a dict figure through Plotly: see whether "
        "vradam.app.figures.export.trust_marked_figures is still needed"
    )
    assert marked["layout"]["title"] == "marked" and "template" not in marked["layout"], (
        "st.plotly_chart validated a marked figure: Streamlit no longer builds charts through "
        "plotly.tools.return_figure_from_figure_or_data, so trust_marked_figures() does "
        "nothing and every chart is validated twice (~0.5 s for an animated race)"
    )


def test_importing_the_app_changes_nothing_in_plotly():
    code = """
import importlib, pkgutil
import plotly.tools
original = plotly.tools.return_figure_from_figure_or_data
import vradam.app, vradam.app.ui
for m in pkgutil.walk_packages(vradam.app.__path__, "vradam.app."):
    importlib.import_module(m.name)
assert plotly.tools.return_figure_from_figure_or_data is original, "patched on import"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
