"""Plotly figure builders: arrays in, figure dicts out. The only package that imports
plotly or PIL."""
