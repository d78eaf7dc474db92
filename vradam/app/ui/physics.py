"""The Physics page: the quartic kinetic energy, its motion, energy, phase portrait, gate."""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes
from vradam.app.figures import physics as physplots
from vradam.app.figures.maps import background
from vradam.app.summaries import gate_summary, motion_summary, phase_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.sliders import slider_row
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.studies.physics import gate_curves, integrate

LANDSCAPES = ["himmelblau", "rosenbrock", "six_hump_camel", "quadratic", "ill_conditioned",
              "three_hump_camel", "rastrigin", "styblinski_tang"]  # fmt: skip
OPTIONS = {
    "ph_b3": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0],
    "ph_gamma": [0.0, 0.1, 0.3, 1.0, 3.0],
    "ph_t": [2.0, 5.0, 10.0, 20.0],
    "ph_pp_b3": [0.01, 0.1, 0.3, 1.0, 3.0],
    "ph_pp_k": [0.25, 1.0, 4.0],
    "ph_g_a0": [0.01, 0.03, 0.1, 0.3, 1.0],
    "ph_g_b3": [0.1, 0.3, 1.0, 3.0, 10.0],
    "ph_g_a1": [1.0, 3.0, 10.0, 30.0],
}
DEFAULTS = {"ph_b3": 0.3, "ph_gamma": 0.0, "ph_t": 5.0, "ph_pp_b3": 0.3, "ph_pp_k": 1.0,
            "ph_g_a0": 0.1, "ph_g_b3": 1.0, "ph_g_a1": 10.0}  # fmt: skip
V_LIMIT = 20.0  # |initial velocity| the inputs and a link accept
# The URL holds the page's settings (not the start point, which depends on the landscape).
FIELDS = [
    UrlField("ph_ls", "himmelblau", tuple(LANDSCAPES)),
    *(UrlField(k, DEFAULTS[k], tuple(o)) for k, o in OPTIONS.items()),
    UrlField("ph_vx", 2.0, bounds=(-V_LIMIT, V_LIMIT)),
    UrlField("ph_vy", 0.0, bounds=(-V_LIMIT, V_LIMIT)),
]
VX, VY = FIELDS[-2:]


@st.cache_data(max_entries=16, show_spinner=False)
def _motion(key, x0, v0, beta3, mass, friction, t_end, dt, narrow=False):
    ls = landscapes.get(key)
    steps = max(1, round(t_end / dt))
    motions = integrate(ls, x0, v0, beta3s=(0.0, beta3), mass=mass, friction=friction, dt=dt,
                        steps=steps)  # fmt: skip
    bg = background(ls)
    labels = ["β₃ = 0 (ordinary kinetic energy)", f"β₃ = {beta3:g} (quartic term)"]
    return motions, physplots.motion_figure(ls, motions, labels, bg, narrow=narrow)


def lagrangian_section() -> None:
    st.markdown(
        "VRAdam's gate comes from a particle whose kinetic energy has a **quartic** term, as "
        "in classical time crystals and the NRQCD energy expansion. Write M for the mass:"
    )
    # Short aligned lines: each formula fits a phone's width.
    st.latex(
        r"\begin{aligned} L &= \underbrace{\tfrac{M}{2}\lVert v\rVert^2 + \tfrac{\beta_3}{4}"
        r"\lVert v\rVert^4}_{T(v)} - V(x), \\ p &= \frac{\partial L}{\partial v} = "
        r"(M + \beta_3\lVert v\rVert^2)\,v, \\ \dot p &= -\nabla V(x) - \gamma v \end{aligned}"
    )
    st.markdown("Solved for the acceleration in two dimensions (γ is optional friction):")
    st.latex(
        r"\begin{aligned} \dot x &= v, \qquad F = -\nabla V - \gamma v, \\ \dot v &= "
        r"\frac{1}{M_1}\left[F - \frac{2\beta_3\,(v\cdot F)}{M_3}\,v\right], \\ M_k &= "
        r"M + k\,\beta_3\lVert v\rVert^2 \end{aligned}"
    )
    st.markdown(
        "The paper writes v̇ = −∇V/(M + 3β₃‖v‖²): that is this equation in one dimension, "
        "or when the force is parallel to the velocity. On a 2-D landscape the full form is "
        "needed (a test checks that p above satisfies ṗ = −∇V along the computed path, which "
        "the 1-D form does not). The effective mass grows with speed, so fast motion is "
        "damped. Without friction the energy "
    )
    st.latex(r"E = V(x) + \tfrac{M}{2}\lVert v\rVert^2 + \tfrac{3\beta_3}{4}\lVert v\rVert^4")
    st.markdown(
        "is conserved. VRAdam does not integrate this equation: it keeps the factor "
        "1/(1 + β₃‖v‖²), clips it with α₁ and uses it to gate AdamW's learning rate."
    )


def motion_section(narrow: bool = False) -> None:
    st.markdown("#### Motion on a landscape")
    c = st.columns(4)
    key = c[0].selectbox("landscape", LANDSCAPES, key="ph_ls", persist_state="session",
                         format_func=lambda k: landscapes.REGISTRY[k].name)  # fmt: skip
    ls = landscapes.get(key)
    beta3, friction, t_end = slider_row(
        OPTIONS, {"ph_b3": "β₃", "ph_gamma": "friction γ", "ph_t": "duration"}, columns=c[1:]
    )
    c2 = st.columns(4)
    sx = c2[0].number_input(
        "start x", value=float(ls.start[0]), key=f"ph_x_{key}", persist_state="session"
    )
    sy = c2[1].number_input(
        "start y", value=float(ls.start[1]), key=f"ph_y_{key}", persist_state="session"
    )
    vx = c2[2].number_input("initial vₓ", *VX.bounds, key="ph_vx", persist_state="session")
    vy = c2[3].number_input("initial v_y", *VY.bounds, key="ph_vy", persist_state="session")
    with st.spinner("Integrating (RK4)…"):
        motions, fig = _motion(key, (sx, sy), (vx, vy), beta3, 1.0, friction, t_end, 0.005,
                               narrow)  # fmt: skip
    st.plotly_chart(trusted(fig), key="ph_motion")
    note = (
        "With γ = 0 the energy change is the integrator's error (RK4, dt = 0.005)."
        if friction == 0
        else "With friction the energy decreases: dE/dt = −γ‖v‖²."
    )
    chart_summary(motion_summary(motions, [f"β₃ = {m.beta3:g}" for m in motions]) + " " + note)


def phase_section() -> None:
    st.markdown("#### Phase portrait in one dimension")
    st.markdown(
        "A spring V = ½kx²: orbits of constant energy in the (x, v) plane. With the quartic "
        "term the high-energy orbits are squashed in v: at energy E the top speed grows like "
        "E^¼ instead of E^½."
    )
    beta3, k = slider_row(OPTIONS, {"ph_pp_b3": "β₃ ", "ph_pp_k": "spring constant k"})
    energies = [0.5, 2, 8, 32]
    fig = physplots.phase_portrait_figure(k, 1.0, beta3, energies)
    st.plotly_chart(trusted(fig), key="ph_phase")
    chart_summary(phase_summary(k, 1.0, beta3, energies))


def gate_section(narrow: bool = False) -> None:
    st.markdown("#### The gate itself")
    alpha0, beta3, alpha1 = slider_row(
        OPTIONS, {"ph_g_a0": "α₀", "ph_g_b3": "β₃  ", "ph_g_a1": "α₁"}
    )
    curves = gate_curves(alpha0, beta3, alpha1, np.linspace(0, 3 * (alpha1 / beta3) ** 0.5, 400))
    st.plotly_chart(trusted(physplots.gate_figure(curves, narrow)), key="ph_gate")
    chart_summary(gate_summary(curves))
    st.caption(
        f"η halves at ‖v‖ = 1/√β₃ = {curves['peak_speed']:.3g}, where the step η‖v‖ peaks at "
        f"α₀/(2√β₃) = {curves['bound']:.3g} (VRMomentum's step, no weight decay). Past "
        f"‖v‖ = √(α₁/β₃) = {curves['clip_speed']:.3g} the clip holds η at α₀/(1+α₁) = "
        f"{curves['floor']:.3g} and the step grows linearly again, so training never stalls."
    )


def show() -> None:
    st.subheader("Physics: a quartic kinetic energy")
    for warning in url_state(FIELDS):
        st.warning(warning)
    with st.sidebar:
        narrow = narrow_screen()
    lagrangian_section()
    motion_section(narrow)
    phase_section()
    gate_section(narrow)
    write_url(FIELDS)
