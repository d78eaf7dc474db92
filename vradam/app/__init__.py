"""The web app's state without Streamlit: page configs, lessons, step-through text, summaries.

``vradam.app.figures`` builds every Plotly figure; ``vradam.app.ui`` is the only package
that imports streamlit.
"""
