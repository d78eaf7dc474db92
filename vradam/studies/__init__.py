"""Studies: small networks and their training, sharpness, edge of stability, physics,
stability maps. Imports the sim layer, scipy and scikit-learn; never plotly or streamlit.
"""
