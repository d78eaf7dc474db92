"""2-D test functions: a frozen `Landscape` record each, a registry, safe custom expressions.

>>> import landscapes
>>> landscapes.get("rosenbrock").minima
((1.0, 1.0),)
>>> custom = landscapes.from_expression("x^2 + 10*sin(y)", domain=((-3, 3), (-3, 3)))
"""

from landscapes.core import Box, Landscape, Point
from landscapes.expression import FUNCTIONS, from_expression
from landscapes.library import FACTORIES, PARAM_RANGES, REGISTRY, get, ill_conditioned

__all__ = [
    "FACTORIES",
    "FUNCTIONS",
    "PARAM_RANGES",
    "REGISTRY",
    "Box",
    "Landscape",
    "Point",
    "from_expression",
    "get",
    "ill_conditioned",
]
