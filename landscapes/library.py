"""The registry of 2-D test functions (standard definitions: Jamil & Yang 2013, SFU library).

Each record's numbers (domain, minimisers, minimum value) are the truth that one
parametrised test checks: f(minimiser) = min_value and ∇f(minimiser) = 0.
Minimisers without a closed form were found by Newton's method in float64.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from landscapes.core import Landscape

PI = math.pi


def _quadratic(x: Tensor, y: Tensor) -> Tensor:
    return x**2 + y**2


def ill_conditioned(condition: float = 25.0, angle: float = 30.0) -> Landscape:
    """A rotated elongated quadratic ravine f = ½(u² + κ·w²), (u, w) = R(θ)·(x, y).

    Args:
        condition: κ ≥ 1, the ratio of the largest to the smallest curvature.
        angle: θ in degrees, the direction of the ravine's floor.
    """
    if not (math.isfinite(condition) and condition >= 1.0):
        raise ValueError(f"condition must be a finite number ≥ 1, got {condition}")
    if not math.isfinite(angle):
        raise ValueError(f"angle must be finite, got {angle}")
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    kappa = float(condition)

    def fn(x: Tensor, y: Tensor) -> Tensor:
        u = c * x + s * y
        w = -s * x + c * y
        return 0.5 * (u**2 + kappa * w**2)

    x0, y0 = -2.5, 2.0
    u0, w0 = c * x0 + s * y0, -s * x0 + c * y0
    start_grad_sq = (u0 * c - kappa * w0 * s) ** 2 + (u0 * s + kappa * w0 * c) ** 2

    return Landscape(
        key="ill_conditioned",
        name=f"Ill-conditioned ravine (κ = {kappa:g}, θ = {angle:g}°)",
        formula=(
            r"\tfrac12\left(u^2 + \kappa w^2\right),\quad "
            r"u = x\cos\theta + y\sin\theta,\; w = -x\sin\theta + y\cos\theta,\quad "
            rf"\kappa = {kappa:g},\ \theta = {angle:g}^\circ"
        ),
        fn=fn,
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(x0, y0),
        lesson=(
            "Curvature differs by a factor κ between directions: a step that is safe along "
            "the floor makes plain methods bounce across the walls."
        ),
        suggested_lr=0.2,
        # Adam's early ‖v‖² peaks near 0.13·‖∇f(start)‖² here; β3·peak ≈ 1.5.
        suggested_beta3=float(f"{1.5 / (0.13 * start_grad_sq):.2g}"),
        suggested_steps=200,
        params=(("condition", kappa), ("angle", float(angle))),
    )


def _saddle(x: Tensor, y: Tensor) -> Tensor:
    return x**2 - y**2


def _rosenbrock(x: Tensor, y: Tensor) -> Tensor:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x: Tensor, y: Tensor) -> Tensor:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x: Tensor, y: Tensor) -> Tensor:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _rastrigin(x: Tensor, y: Tensor) -> Tensor:
    return 20 + x**2 - 10 * torch.cos(2 * PI * x) + y**2 - 10 * torch.cos(2 * PI * y)


# sqrt(r² + δ²) − δ with δ = 2⁻²⁷: equals r to within 1e-8, is exactly 0 at the origin,
# and (unlike sqrt(x² + y²), whose autograd gradient is NaN at 0) has a finite gradient
# and Hessian everywhere. The cone tip of Ackley keeps a very large but finite curvature.
_ACKLEY_DELTA = 2.0**-27


def _ackley(x: Tensor, y: Tensor) -> Tensor:
    r = torch.sqrt(0.5 * (x**2 + y**2) + _ACKLEY_DELTA**2) - _ACKLEY_DELTA
    return (
        -20 * torch.exp(-0.2 * r)
        - torch.exp(0.5 * (torch.cos(2 * PI * x) + torch.cos(2 * PI * y)))
        + math.e
        + 20
    )


def _goldstein_price(x: Tensor, y: Tensor) -> Tensor:
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def _booth(x: Tensor, y: Tensor) -> Tensor:
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _matyas(x: Tensor, y: Tensor) -> Tensor:
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def _three_hump_camel(x: Tensor, y: Tensor) -> Tensor:
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2


def _six_hump_camel(x: Tensor, y: Tensor) -> Tensor:
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _styblinski_tang(x: Tensor, y: Tensor) -> Tensor:
    return 0.5 * ((x**4 - 16 * x**2 + 5 * x) + (y**4 - 16 * y**2 + 5 * y))


def _levi_n13(x: Tensor, y: Tensor) -> Tensor:
    return (
        torch.sin(3 * PI * x) ** 2
        + (x - 1) ** 2 * (1 + torch.sin(3 * PI * y) ** 2)
        + (y - 1) ** 2 * (1 + torch.sin(2 * PI * y) ** 2)
    )


def _mccormick(x: Tensor, y: Tensor) -> Tensor:
    return torch.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1


# McCormick's minimiser in closed form: x − y = 1 and x + y = −2π/3.
_MCCORMICK_X = (1 - 2 * PI / 3) / 2
_MCCORMICK_MIN = (_MCCORMICK_X, _MCCORMICK_X - 1)
_SIX_HUMP = (0.08984201310031806, -0.7126564030207396)
_STYBLINSKI = -2.903534027771177

_LANDSCAPES = [
    Landscape(
        key="quadratic",
        name="Quadratic bowl",
        formula=r"x^2 + y^2",
        fn=_quadratic,
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-2.5, 2.0),
        lesson="Every direction has the same curvature: the baseline against which the others are read.",
        suggested_lr=0.1,
        suggested_beta3=0.15,
        suggested_steps=150,
    ),
    ill_conditioned(),
    Landscape(
        key="saddle",
        name="Saddle",
        formula=r"x^2 - y^2",
        fn=_saddle,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(),
        min_value=None,
        start=(-1.8, 0.01),
        lesson=(
            "A saddle point is a minimum in one direction and a maximum in the other: "
            "how fast an optimizer escapes it depends on how it amplifies a tiny push."
        ),
        suggested_lr=0.05,
        suggested_beta3=1.0,
        suggested_steps=150,
    ),
    Landscape(
        key="rosenbrock",
        name="Rosenbrock",
        formula=r"(1 - x)^2 + 100\,(y - x^2)^2",
        fn=_rosenbrock,
        domain=((-2.0, 2.0), (-1.0, 3.0)),
        minima=((1.0, 1.0),),
        min_value=0.0,
        start=(-1.5, 2.0),
        lesson="A narrow curved valley: finding it is easy, following its floor to (1, 1) is hard.",
        log_scale=True,
        suggested_lr=0.3,
        suggested_beta3=0.005,
        suggested_steps=500,
    ),
    Landscape(
        key="beale",
        name="Beale",
        formula=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        fn=_beale,
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        minima=((3.0, 0.5),),
        min_value=0.0,
        start=(1.0, 1.4),
        lesson="Flat plateaus next to steep walls: gradient sizes vary by orders of magnitude.",
        log_scale=True,
        suggested_lr=0.1,
        suggested_beta3=0.006,
        suggested_steps=500,
    ),
    Landscape(
        key="himmelblau",
        name="Himmelblau",
        formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        fn=_himmelblau,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(
            (3.0, 2.0),
            (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.283185991286169),
            (3.5844283403304917, -1.8481265269644034),
        ),
        min_value=0.0,
        start=(-0.5, -0.5),
        lesson="Four equally good minima: which one a run reaches depends on the optimizer.",
        log_scale=True,
        suggested_lr=0.1,
        suggested_beta3=0.0008,
        suggested_steps=300,
    ),
    Landscape(
        key="rastrigin",
        name="Rastrigin",
        formula=r"20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
        fn=_rastrigin,
        domain=((-5.12, 5.12), (-5.12, 5.12)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-4.3, 3.7),
        lesson="A bowl covered in a regular grid of local minima: momentum and noise decide how far a run gets.",
        suggested_lr=0.1,
        suggested_beta3=0.004,
        suggested_steps=300,
    ),
    Landscape(
        key="ackley",
        name="Ackley",
        formula=(r"-20\,e^{-0.2\sqrt{(x^2 + y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20"),
        fn=_ackley,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-3.3, 2.6),
        lesson="A nearly flat outer region with a deep funnel at the centre and ripples everywhere.",
        suggested_lr=0.1,
        suggested_beta3=0.7,
        suggested_steps=300,
    ),
    Landscape(
        key="goldstein_price",
        name="Goldstein–Price",
        formula=(
            r"P\,Q,\; P = 1 + (x + y + 1)^2 A,\; Q = 30 + (2x - 3y)^2 B,\;"
            r"A = 19 - 14x + 3x^2 - 14y + 6xy + 3y^2,\;"
            r"B = 18 - 32x + 12x^2 + 48y - 36xy + 27y^2"
        ),
        fn=_goldstein_price,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=((0.0, -1.0),),
        min_value=3.0,
        start=(-1.5, 1.5),
        lesson="Values span six orders of magnitude: gradient scale alone says little about distance.",
        log_scale=True,
        suggested_lr=0.05,
        suggested_beta3=1.2e-11,
        suggested_steps=300,
    ),
    Landscape(
        key="booth",
        name="Booth",
        formula=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        fn=_booth,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=((1.0, 3.0),),
        min_value=0.0,
        start=(-8.0, -6.0),
        lesson="A tilted, mildly ill-conditioned quadratic: the simplest test of a step size.",
        suggested_lr=0.2,
        suggested_beta3=7e-05,
        suggested_steps=200,
    ),
    Landscape(
        key="matyas",
        name="Matyas",
        formula=r"0.26\,(x^2 + y^2) - 0.48\,xy",
        fn=_matyas,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-8.0, 6.0),
        lesson="A quadratic whose curvatures differ 25-fold along the diagonals: slow along the valley.",
        suggested_lr=0.5,
        suggested_beta3=0.09,
        suggested_steps=300,
    ),
    Landscape(
        key="three_hump_camel",
        name="Three-hump camel",
        formula=r"2x^2 - 1.05x^4 + \tfrac{x^6}{6} + xy + y^2",
        fn=_three_hump_camel,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-2.0, 2.5),
        lesson="One global minimum between two local ones: large steps decide which basin wins.",
        log_scale=True,
        suggested_lr=0.1,
        suggested_beta3=0.7,
        suggested_steps=300,
    ),
    Landscape(
        key="six_hump_camel",
        name="Six-hump camel",
        formula=r"\left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
        fn=_six_hump_camel,
        domain=((-3.0, 3.0), (-2.0, 2.0)),
        minima=(_SIX_HUMP, (-_SIX_HUMP[0], -_SIX_HUMP[1])),
        min_value=-1.0316284534898774,
        start=(-2.0, -1.5),
        lesson="Six local minima, two of them global: a map of basins shows each optimizer's choices.",
        suggested_lr=0.1,
        suggested_beta3=0.012,
        suggested_steps=300,
    ),
    Landscape(
        key="styblinski_tang",
        name="Styblinski–Tang",
        formula=r"\tfrac12(x^4 - 16x^2 + 5x) + \tfrac12(y^4 - 16y^2 + 5y)",
        fn=_styblinski_tang,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=((_STYBLINSKI, _STYBLINSKI),),
        min_value=-78.33233140754282,
        start=(4.5, 4.5),
        lesson="Four basins of different depths: the nearest minimum is not the best one.",
        suggested_lr=0.1,
        suggested_beta3=0.0004,
        suggested_steps=300,
    ),
    Landscape(
        key="levi_n13",
        name="Lévi N.13",
        formula=(
            r"\sin^2(3\pi x) + (x - 1)^2\left(1 + \sin^2(3\pi y)\right)"
            r" + (y - 1)^2\left(1 + \sin^2(2\pi y)\right)"
        ),
        fn=_levi_n13,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=((1.0, 1.0),),
        min_value=0.0,
        start=(-4.0, 5.0),
        lesson="Ripples on a bowl: gradient directions change every few tenths of a unit.",
        log_scale=True,
        suggested_lr=0.05,
        suggested_beta3=1.0,
        suggested_steps=300,
    ),
    Landscape(
        key="mccormick",
        name="McCormick",
        formula=r"\sin(x + y) + (x - y)^2 - 1.5x + 2.5y + 1",
        fn=_mccormick,
        domain=((-1.5, 4.0), (-3.0, 4.0)),
        minima=(_MCCORMICK_MIN,),
        min_value=math.sin(-2 * PI / 3) + 1 - 1.5 * _MCCORMICK_MIN[0] + 2.5 * _MCCORMICK_MIN[1] + 1,
        start=(3.5, 3.5),
        lesson="A gently curved valley with a second, shallower minimum: the start decides.",
        suggested_lr=0.1,
        suggested_beta3=0.6,
        suggested_steps=300,
    ),
]

REGISTRY: dict[str, Landscape] = {ls.key: ls for ls in _LANDSCAPES}

# Landscapes with parameters: key → factory(**params) returning a Landscape.
FACTORIES = {"ill_conditioned": ill_conditioned}

# The app's range for each parameter, (low, high, step): the slider offers this range and
# a link's value is clamped to it (the factory itself accepts any valid value).
PARAM_RANGES: dict[str, dict[str, tuple[float, float, float]]] = {
    "ill_conditioned": {"condition": (1.0, 200.0, 1.0), "angle": (0.0, 90.0, 5.0)},
}


def get(key: str, **params) -> Landscape:
    """The registry landscape ``key``; parametrised ones accept their parameters.

    Raises:
        ValueError: for an unknown key (the message lists the valid ones) or
            parameters the landscape does not take.
    """
    if key not in REGISTRY:
        valid = ", ".join(sorted(REGISTRY))
        raise ValueError(f"unknown landscape {key!r}; valid keys: {valid}")
    if not params:
        return REGISTRY[key]
    if key not in FACTORIES:
        raise ValueError(f"landscape {key!r} takes no parameters (got {sorted(params)})")
    try:
        return FACTORIES[key](**params)
    except TypeError as exc:
        names = ", ".join(name for name, _ in REGISTRY[key].params)
        raise ValueError(f"landscape {key!r} takes the parameters {names}") from exc
