"""f, ∂f/∂x and ∂f/∂y of a landscape in one numpy pass: forward-mode dual numbers.

A landscape's ``fn(x, y)`` is written with torch operations so that autograd gives
its gradients and Hessians. For the optimizers' per-step gradient on a handful of
points, autograd's fixed cost (building a graph, running the backward engine, about
0.1-0.2 ms per call) dwarfs the arithmetic. :func:`value_and_grad` instead calls the
same ``fn`` with :class:`Dual` numbers, which carry a value and its two partial
derivatives as numpy arrays: Python's operators and the torch functions the
landscapes use (through torch's ``__torch_function__`` protocol, which torch honours
for any argument type that defines it) are implemented here with the derivative
formulas torch's autograd uses. No landscape code changes.

The result equals autograd's up to floating-point rounding (numpy and torch round a
few transcendental functions differently in the last bit). Where this path cannot
answer, :func:`value_and_grad` returns None and the caller uses autograd:

* ``fn`` does something a dual number cannot (a torch function not implemented here,
  keyword arguments other than softplus's, a comparison, a shape): it is remembered
  per function, so only the first call pays;
* a value or partial derivative is not finite (poles, 0·∞, overflow), where forward
  and reverse mode may legitimately disagree about NaN versus ±∞.
"""

from __future__ import annotations

import contextlib
import math
import weakref

import numpy as np
import torch

__all__ = ["Dual", "Unsupported", "value_and_grad"]


class Unsupported(TypeError):
    """``fn`` used an operation this module does not implement."""


def _plain(a):
    """A number or array from a non-dual operand (0-d torch constants become floats)."""
    if isinstance(a, torch.Tensor):
        if a.dim() != 0:
            raise Unsupported("a tensor with dimensions inside the landscape function")
        return float(a)
    if isinstance(a, (int, float, np.ndarray, np.floating)):
        return a
    raise Unsupported(f"operand of type {type(a).__name__}")


class Dual:
    """A value v with its partial derivatives (dx, dy), numpy arrays or numbers."""

    __slots__ = ("dx", "dy", "v")

    def __init__(self, v, dx, dy) -> None:
        self.v, self.dx, self.dy = v, dx, dy

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        handler = _TORCH.get(func)
        if handler is None:
            raise Unsupported(f"torch function {getattr(func, '__name__', func)}")
        return handler(*args, **(kwargs or {}))

    # Python operators (x**2, 2 * x, 1 - x, ...) dispatch here, not to __torch_function__.
    def __add__(self, other):
        return _add(self, other)

    def __radd__(self, other):
        return _add(other, self)

    def __sub__(self, other):
        return _sub(self, other)

    def __rsub__(self, other):
        return _sub(other, self)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(other, self)

    def __truediv__(self, other):
        return _div(self, other)

    def __rtruediv__(self, other):
        return _div(other, self)

    def __pow__(self, other):
        return _pow(self, other)

    def __rpow__(self, other):
        return _pow(other, self)

    def __neg__(self):
        return Dual(-self.v, -self.dx, -self.dy)

    def __pos__(self):
        return self


def _lift(a) -> Dual:
    return a if isinstance(a, Dual) else Dual(_plain(a), 0.0, 0.0)


def _add(a, b):
    if not isinstance(b, Dual):
        b = _plain(b)
        return Dual(a.v + b, a.dx, a.dy)
    if not isinstance(a, Dual):
        a = _plain(a)
        return Dual(a + b.v, b.dx, b.dy)
    return Dual(a.v + b.v, a.dx + b.dx, a.dy + b.dy)


def _sub(a, b):
    if not isinstance(b, Dual):
        b = _plain(b)
        return Dual(a.v - b, a.dx, a.dy)
    if not isinstance(a, Dual):
        a = _plain(a)
        return Dual(a - b.v, -b.dx, -b.dy)
    return Dual(a.v - b.v, a.dx - b.dx, a.dy - b.dy)


def _mul(a, b):
    if not isinstance(b, Dual):
        b = _plain(b)
        return Dual(a.v * b, a.dx * b, a.dy * b)
    if not isinstance(a, Dual):
        a = _plain(a)
        return Dual(a * b.v, a * b.dx, a * b.dy)
    return Dual(a.v * b.v, a.dx * b.v + a.v * b.dx, a.dy * b.v + a.v * b.dy)


def _div(a, b):
    if not isinstance(b, Dual):
        b = _plain(b)
        return Dual(a.v / b, a.dx / b, a.dy / b)
    a = _lift(a)
    # torch: ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
    q = -a.v / (b.v * b.v)
    return Dual(a.v / b.v, a.dx / b.v + q * b.dx, a.dy / b.v + q * b.dy)


def _pow(a, b):
    if not isinstance(b, Dual):  # constant exponent
        n = _plain(b)
        if n == 0:
            return Dual(np.ones_like(a.v) if isinstance(a.v, np.ndarray) else 1.0, 0.0, 0.0)
        k = 2 * a.v if n == 2 else n * a.v ** (n - 1)
        return Dual(a.v**n, k * a.dx, k * a.dy)
    if not isinstance(a, Dual):  # constant base: only the exponent's term
        a = _plain(a)
        r = a**b.v
        ke = np.where((a == 0) & (np.asarray(b.v) >= 0), 0.0, r * np.log(a))
        return Dual(r, ke * b.dx, ke * b.dy)
    r = a.v**b.v
    # torch masks ∂/∂base where the exponent is 0 and ∂/∂exponent where base = 0 ≤ exponent.
    kb = np.where(np.asarray(b.v) == 0, 0.0, b.v * a.v ** (b.v - 1))
    ke = np.where((np.asarray(a.v) == 0) & (np.asarray(b.v) >= 0), 0.0, r * np.log(a.v))
    return Dual(r, kb * a.dx + ke * b.dx, kb * a.dy + ke * b.dy)


def _unary(value, slope):
    """A one-argument function from its value and derivative (both of the value v)."""

    def f(a, **kwargs):
        if kwargs:
            raise Unsupported("keyword arguments")
        if not isinstance(a, Dual):
            raise Unsupported("a torch function of a constant")
        r = value(a.v)
        k = slope(a.v, r)
        return Dual(r, k * a.dx, k * a.dy)

    return f


def _softplus(a, beta=1.0, threshold=20.0):
    if not isinstance(a, Dual):
        raise Unsupported("softplus of a constant")
    bx = a.v * beta
    linear = bx > threshold
    z = np.exp(np.where(linear, 0.0, bx))
    r = np.where(linear, a.v, np.log1p(z) / beta)
    k = np.where(linear, 1.0, z / (z + 1))
    return Dual(r, k * a.dx, k * a.dy)


_LN10, _LN2 = math.log(10.0), math.log(2.0)

_TORCH = {
    torch.add: lambda a, b, **kw: _add(a, b) if not kw else _bad(),
    torch.sub: lambda a, b, **kw: _sub(a, b) if not kw else _bad(),
    torch.mul: lambda a, b, **kw: _mul(a, b) if not kw else _bad(),
    torch.div: lambda a, b, **kw: _div(_lift(a), b) if not kw else _bad(),
    torch.pow: lambda a, b, **kw: _pow(a, b) if not kw else _bad(),
    torch.neg: lambda a, **kw: -_lift(a) if not kw else _bad(),
    torch.sin: _unary(np.sin, lambda v, r: np.cos(v)),
    torch.cos: _unary(np.cos, lambda v, r: -np.sin(v)),
    torch.tan: _unary(np.tan, lambda v, r: 1 + r * r),
    torch.exp: _unary(np.exp, lambda v, r: r),
    torch.log: _unary(np.log, lambda v, r: 1 / v),
    torch.log10: _unary(np.log10, lambda v, r: 1 / (v * _LN10)),
    torch.log2: _unary(np.log2, lambda v, r: 1 / (v * _LN2)),
    torch.log1p: _unary(np.log1p, lambda v, r: 1 / (v + 1)),
    torch.sqrt: _unary(np.sqrt, lambda v, r: 1 / (2 * r)),
    torch.abs: _unary(np.abs, lambda v, r: np.sign(v)),
    torch.tanh: _unary(np.tanh, lambda v, r: 1 - r * r),
    torch.sinh: _unary(np.sinh, lambda v, r: np.cosh(v)),
    torch.cosh: _unary(np.cosh, lambda v, r: np.sinh(v)),
    torch.atan: _unary(np.arctan, lambda v, r: 1 / (v * v + 1)),
    torch.asin: _unary(np.arcsin, lambda v, r: 1 / np.sqrt(1 - v * v)),
    torch.acos: _unary(np.arccos, lambda v, r: -1 / np.sqrt(1 - v * v)),
    torch.sigmoid: _unary(lambda v: 1 / (1 + np.exp(-v)), lambda v, r: (1 - r) * r),
    torch.nn.functional.softplus: _softplus,
}


def _bad():
    raise Unsupported("keyword arguments")


# Functions found to use something unsupported; weak keys, so dropped landscapes go too.
_AUTOGRAD_ONLY: weakref.WeakSet = weakref.WeakSet()


def value_and_grad(fn, x: np.ndarray, y: np.ndarray):
    """(f, ∂f/∂x, ∂f/∂y) at the points (x, y), float64 arrays of one shape, or None.

    None means "use autograd": ``fn`` needs an operation not implemented here, or a
    result is not finite (see the module docstring).
    """
    try:
        if fn in _AUTOGRAD_ONLY:
            return None
    except TypeError:  # not weak-referenceable: just try
        pass
    try:
        with np.errstate(all="ignore"):  # poles and overflow: caught by the check below
            out = fn(Dual(x, 1.0, 0.0), Dual(y, 0.0, 1.0))
    except Exception:  # anything a Dual cannot do (x > 0, x.shape, ...)
        with contextlib.suppress(TypeError):  # not weak-referenceable: ask again next time
            _AUTOGRAD_ONLY.add(fn)
        return None
    if not isinstance(out, Dual):
        return None
    shape = np.shape(x)
    f, gx, gy = np.empty(shape), np.empty(shape), np.empty(shape)
    f[...], gx[...], gy[...] = out.v, out.dx, out.dy
    # One check for all three: a sum is finite only if every term is (an overflowing sum
    # of finite terms just sends this call to autograd).
    with np.errstate(all="ignore"):
        if not math.isfinite(f.sum() + gx.sum() + gy.sum()):
            return None
    return f, gx, gy
