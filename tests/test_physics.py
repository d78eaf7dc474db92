"""The quartic-kinetic-energy mechanics (docs/theory.md §3) and the gate, as numbers."""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import landscapes
from vradam.app.figures import physics as physplots
from vradam.app.figures.maps import background
from vradam.studies.physics import acceleration, gate_curves, integrate

ROOT = Path(__file__).resolve().parents[1]
HIMMELBLAU = landscapes.get("himmelblau")
DT = 0.002


@functools.cache
def _motions(dt=DT, friction=0.0, t_end=4.0):
    return integrate(HIMMELBLAU, (0.0, 0.0), (2.0, 1.0), beta3s=(0.0, 1.0), dt=dt,
                     steps=round(t_end / dt), friction=friction)  # fmt: skip


def _pdot(p: np.ndarray, dt: float) -> np.ndarray:
    """4th-order central differences, for indices 2 … T−2."""
    return (-p[4:] + 8 * p[3:-1] - 8 * p[1:-3] + p[:-4]) / (12 * dt)


def _jacobian_times(v: np.ndarray, a: np.ndarray, beta3: float, mass: float = 1.0):
    """(∂p/∂v)·a with ∂p/∂v = (M + β3‖v‖²)I + 2β3 v vᵀ: the ṗ that v̇ = a implies."""
    s = np.sum(v * v, axis=-1, keepdims=True)
    return (mass + beta3 * s) * a + 2 * beta3 * np.sum(v * a, axis=-1, keepdims=True) * v


@pytest.mark.slow  # 1.5 s
def test_path_satisfies_newtons_law_for_the_quartic_momentum():
    """ṗ = −∇V along the integrated path, p = (M + β3‖v‖²)v, to 1e-5 of max‖∇V‖."""
    for m in _motions():
        assert m.escaped_at == -1
        residual = _pdot(m.p, DT) + m.grad[2:-2]
        assert np.max(np.abs(residual)) < 1e-5 * np.max(np.abs(m.grad))
    fast = _motions()[1]
    assert np.max(np.linalg.norm(fast.v, axis=-1)) > 3  # the quartic term matters here


def test_acceleration_inverts_the_momentum_jacobian():
    rng = np.random.default_rng(0)
    F, v = rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) * 3
    for beta3 in (0.0, 0.3, 5.0):
        a = acceleration(F, v, 1.7, beta3)
        np.testing.assert_allclose(_jacobian_times(v, a, beta3, 1.7), F, rtol=1e-12, atol=1e-12)


def test_papers_one_dimensional_form_is_only_right_when_force_is_along_velocity():
    """v̇ = F/(M + 3β3‖v‖²) matches the full equation for F ∥ v and violates ṗ = F in 2-D."""
    rng = np.random.default_rng(1)
    v = rng.normal(size=(200, 2)) * 2
    along = v * rng.normal(size=(200, 1))
    s = np.sum(v * v, axis=-1, keepdims=True)
    np.testing.assert_allclose(acceleration(along, v, 1.0, 1.0), along / (1 + 3 * s), rtol=1e-12)
    m = _motions()[1]
    F = -m.grad
    naive = F / (1 + 3 * np.sum(m.v * m.v, axis=-1, keepdims=True))
    implied = _jacobian_times(m.v, naive, 1.0)
    assert np.max(np.abs(implied - F)) > 0.3 * np.max(np.abs(F))


def test_energy_is_conserved_without_friction_to_stated_tolerance():
    """Relative energy drift below 1e-7 at dt = 0.002 over t = 4, and RK4's 4th order."""
    coarse = _motions(dt=2 * DT)
    fine = _motions()
    for c, f in zip(coarse, fine):
        drift_fine = np.max(np.abs(f.energy - f.energy[0])) / abs(f.energy[0])
        drift_coarse = np.max(np.abs(c.energy - c.energy[0])) / abs(c.energy[0])
        assert drift_fine < 1e-7
        assert drift_coarse / drift_fine > 8  # ≈ 16 for a 4th-order method
    # E includes the quartic term: without it the "energy" is not conserved
    m = fine[1]
    s = np.sum(m.v * m.v, axis=-1)
    wrong = m.potential + 0.5 * s
    assert np.max(np.abs(wrong - wrong[0])) > 1e3 * np.max(np.abs(m.energy - m.energy[0]))


@pytest.mark.slow  # 1.6 s
def test_friction_dissipates_energy_at_the_rate_gamma_v_squared():
    gamma = 0.5
    for m in _motions(friction=gamma):
        assert np.all(np.diff(m.energy) <= 1e-12)
        dE = _pdot(m.energy[:, None], DT)[:, 0]
        expected = -gamma * np.sum(m.v * m.v, axis=-1)[2:-2]
        np.testing.assert_allclose(dE, expected, atol=1e-4 * np.max(np.abs(expected)))


def test_quartic_term_slows_the_particle():
    ordinary, quartic = _motions()
    top = [np.max(np.linalg.norm(m.v, axis=-1)) for m in (ordinary, quartic)]
    assert top[1] < 0.5 * top[0]


def test_integrate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="β3"):
        integrate(HIMMELBLAU, (0, 0), (1, 0), beta3s=(-1.0,))
    with pytest.raises(ValueError, match="dt"):
        integrate(HIMMELBLAU, (0, 0), (1, 0), dt=0)


def test_escape_is_reported():
    (m,) = integrate(HIMMELBLAU, (0.0, 0.0), (1e5, 0.0), beta3s=(0.0,), dt=0.01, steps=200)
    assert m.escaped_at > 0


def test_gate_curve_bound_peak_floor_and_linear_growth():
    alpha0, beta3, alpha1 = 0.1, 2.0, 10.0
    clip = math.sqrt(alpha1 / beta3)
    speeds = np.linspace(0, 3 * clip, 30001)
    c = gate_curves(alpha0, beta3, alpha1, speeds)
    inactive = speeds < clip
    assert np.max(c["step"][inactive]) <= c["bound"] * (1 + 1e-12)
    assert c["bound"] == pytest.approx(alpha0 / (2 * math.sqrt(beta3)))
    peak = speeds[np.argmax(np.where(inactive, c["step"], 0))]
    assert peak == pytest.approx(1 / math.sqrt(beta3), rel=1e-3)
    assert np.max(c["step"][inactive]) == pytest.approx(c["bound"], rel=1e-6)
    active = speeds >= clip
    np.testing.assert_allclose(c["eta"][active], alpha0 / (1 + alpha1))
    np.testing.assert_allclose(c["step"][active], speeds[active] * c["floor"])
    assert c["step"][-1] > c["bound"]  # past the clip the step grows again


def _ys(trace) -> np.ndarray:
    return np.array(trace["y"], dtype=float)  # None (a gap) → NaN


def test_motion_figure_shows_the_paths_energies_and_speeds_it_was_given():
    motions = _motions(t_end=1.0)
    T = motions[0].t.size - 1
    bg = background(HIMMELBLAU, n_image=60, n_contour=30)
    fig = physplots.motion_figure(HIMMELBLAU, motions, ["a", "b"], bg)
    go.Figure(fig)

    def on(axis: str) -> list[dict]:  # the traces of the two balls "a" and "b" on an axis
        return [t for t in fig["data"] if t.get("yaxis") == axis and t.get("name") in ("a", "b")]

    paths = [t for t in on("y") if t["mode"] == "lines"]
    for m, path, energy, speed in zip(motions, paths, on("y2"), on("y3"), strict=True):
        # the whole path (500 steps are not thinned), at map precision
        np.testing.assert_allclose(np.array(path["x"]), m.x[:, 0], atol=1e-5)
        np.testing.assert_allclose(np.array(path["y"]), m.x[:, 1], atol=1e-5)
        rel = np.abs(m.energy - m.energy[0]) / abs(m.energy[0])
        np.testing.assert_allclose(_ys(energy), np.where(rel > 0, rel, np.nan), rtol=1e-12)
        assert np.nanmax(_ys(energy)) < 1e-3  # what the physics lesson tells the class
        np.testing.assert_allclose(_ys(speed), np.linalg.norm(m.v, axis=-1), rtol=1e-12)
        np.testing.assert_allclose(np.array(speed["x"]), m.t, rtol=1e-12)
    # the frames move the balls from the start to where the paths end, as the slider says
    frames, steps = fig["frames"], fig["layout"]["sliders"][0]["steps"]
    assert [f["name"] for f in frames] == [s["args"][0][0] for s in steps]
    assert frames[0]["name"] == "0" and frames[-1]["name"] == str(T)
    for i, m in enumerate(motions):
        for frame, k in ((frames[0], 0), (frames[-1], T)):
            ball = frame["data"][i]
            assert (ball["x"], ball["y"]) == ([m.x[k, 0]], [m.x[k, 1]])


def test_phase_portrait_draws_the_energy_level_sets_squashed_in_velocity():
    k, mass, beta3 = 1.0, 1.0, 0.3
    fig = physplots.phase_portrait_figure(k, mass, beta3)
    go.Figure(fig)
    orbits = {}
    for b, name in ((0.0, "β₃ = 0: ellipses"), (beta3, "β₃ = 0.3: squashed")):
        curves = [t for t in fig["data"] if t["legendgroup"] == name]
        assert [t.get("showlegend") for t in curves] == [False] * 4 + [None]  # 4 E, 1 legend
        orbits[b] = curves[:4]
        for e, t in zip([0.5, 2, 8, 32], curves[:4]):
            x, v = np.array(t["x"]), np.array(t["y"])
            energy = 0.5 * k * x**2 + 0.5 * mass * v**2 + 0.75 * b * v**4
            np.testing.assert_allclose(energy, e, rtol=1e-3)  # on its level set
    for ellipse, squashed in zip(orbits[0.0], orbits[beta3]):
        assert max(squashed["x"]) == pytest.approx(max(ellipse["x"]), rel=1e-4)  # same reach
        assert max(squashed["y"]) < 0.9 * max(ellipse["y"])  # slower at the same energy


def test_gate_figure_draws_the_gate_its_floor_bound_and_clip():
    alpha0, beta3, alpha1 = 0.1, 1.0, 10.0
    speeds = np.linspace(0, 5, 50)
    curves = gate_curves(alpha0, beta3, alpha1, speeds)
    fig = physplots.gate_figure(curves)
    go.Figure(fig)
    eta, floor, step, bound = fig["data"]
    assert eta["x"] == speeds.tolist() and eta["y"] == curves["eta"].tolist()
    assert floor["y"] == [alpha0 / (1 + alpha1)] * 2
    assert (step["xaxis"], step["yaxis"]) == ("x2", "y2")
    np.testing.assert_allclose(step["y"], curves["eta"] * speeds, rtol=1e-15)
    assert bound["y"] == [pytest.approx(alpha0 / (2 * math.sqrt(beta3)))] * 2
    assert max(step["y"][: int(np.argmax(speeds >= math.sqrt(alpha1 / beta3)))]) <= bound["y"][0]
    lines = sorted((s["xref"], s["x0"]) for s in fig["layout"]["shapes"])
    assert lines == [("x", pytest.approx(math.sqrt(10))), ("x2", 1.0),
                     ("x2", pytest.approx(math.sqrt(10)))]  # fmt: skip
    # the clip past the plotted speeds: no line for it; no β₃: no bound, no lines
    short = physplots.gate_figure(gate_curves(alpha0, beta3, alpha1, np.linspace(0, 2, 50)))
    assert [(s["xref"], s["x0"]) for s in short["layout"]["shapes"]] == [("x2", 1.0)]
    plain = physplots.gate_figure(gate_curves(alpha0, 0.0, alpha1, speeds))
    assert len(plain["data"]) == 3 and plain["layout"]["shapes"] == []
    assert plain["data"][0]["y"] == [alpha0] * speeds.size  # Adam's constant rate


@pytest.mark.parametrize("narrow", [False, True])
def test_physics_figures_stack_on_a_phone_with_readable_log_ticks(narrow):
    """Narrow: the map, then the energy and speed panels, each the full width, one under
    the other, and the Play buttons above a full-width slider; wide: the panels beside the
    map. Log ticks read as their values (no "2" above "10") and panel titles stay short."""
    motions = _motions(t_end=1.0)
    bg = background(HIMMELBLAU, n_image=60, n_contour=30)
    fig = physplots.motion_figure(HIMMELBLAU, motions, ["a", "b"], bg, frames=20, narrow=narrow)
    go.Figure(fig)
    layout = fig["layout"]
    boxes = [(layout[f"xaxis{s}"]["domain"], layout[f"yaxis{s}"]["domain"]) for s in ("", 2, 3)]
    if narrow:
        assert all(x == [0.0, 1.0] for x, _ in boxes)
        tops = [y[1] for _, y in boxes]
        assert tops == sorted(tops, reverse=True)
        assert all(a[0] >= b[1] for (_, a), (_, b) in itertools.pairwise(boxes))  # no overlap
        assert layout["sliders"][0]["pad"]["l"] == 0
        assert layout["sliders"][0]["y"] < layout["updatemenus"][0]["y"]
    else:
        assert boxes[0][0][1] < boxes[1][0][0] and boxes[1][0] == boxes[2][0]
    assert layout["sliders"][0]["len"] == 1.0  # never a rail shorter than its padding
    for axis in (layout["yaxis2"], layout["yaxis3"]):
        assert 2 <= len(axis["tickvals"]) <= 4
        for value, text in zip(axis["tickvals"], axis["ticktext"]):
            assert float(text) == pytest.approx(value, rel=1e-9)
    assert all(len(a["text"]) <= 30 for a in layout["annotations"])  # fits a phone's panel
    gate = physplots.gate_figure(gate_curves(0.1, 1.0, 10.0, np.linspace(0, 5, 50)), narrow)
    go.Figure(gate)
    g = gate["layout"]
    (x1, y1), (x2, y2) = (g["xaxis"]["domain"], g["yaxis"]["domain"]), (
        g["xaxis2"]["domain"], g["yaxis2"]["domain"])  # fmt: skip
    assert (y1[0] >= y2[1] and x1 == x2 == [0, 1]) if narrow else (x1[1] < x2[0] and y1 == y2)
    legends = {t.get("legend", "legend") for t in gate["data"]}
    assert legends == {"legend", "legend2"}  # each panel's lines in its own legend


def test_phase_portrait_curves_are_the_energy_level_sets_and_light():
    """Each curve of the phase portrait lies on ½kx² + (M/2)v² + (3β3/4)v⁴ = E (to the
    rounding sent to the browser), and the page's figures stay under 0.5 MB (the
    contours on 201×201 grids sent 6 MB per change)."""
    from streamlit.testing.v1 import AppTest

    k, mass, beta3 = 2.0, 1.0, 0.3
    fig = physplots.phase_portrait_figure(k, mass, beta3, energies=[0.5, 2, 8])
    curves = [t for t in fig["data"] if t.get("showlegend") is False]
    assert len(curves) == 6
    for trace in curves:
        b = 0.0 if "ellipses" in trace["name"] else beta3
        e = float(trace["hovertemplate"].split("E = ")[1].split("<")[0])
        x, v = np.array(trace["x"], dtype=float), np.array(trace["y"], dtype=float)
        energy = 0.5 * k * x**2 + 0.5 * mass * v**2 + 0.75 * b * v**4
        assert np.allclose(energy, e, rtol=5e-4, atol=5e-4 * e)
        assert x.max() > 0 > x.min() and v.max() > 0 > v.min()  # a closed orbit
    page = AppTest.from_file(str(ROOT / "app_pages" / "physics.py"), default_timeout=120).run()
    assert not page.exception
    sizes = [len(c.proto.spec) for c in page.get("plotly_chart")]
    assert len(sizes) == 3 and sum(sizes) < 500_000, sizes
