"""User-typed f(x, y) turned into torch ops, safely.

The text is parsed with :mod:`ast` and walked with a whitelist: numbers, the
names x, y, pi and e, the operators + − × ÷ and ** (``^`` is accepted as power),
unary ±, and a fixed set of one-argument functions. Each node becomes a torch
operation directly, so autograd gives gradients and Hessians. Nothing is ever
evaluated as Python: no eval, exec, sympify, numexpr or similar.

Constants are float64 tensors, so ``9**9**9`` is ``inf`` rather than a hang or a
huge Python integer. Length, node count and nesting depth are capped.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

from landscapes.core import Box, Landscape, Point

MAX_LENGTH = 500
MAX_NODES = 300
MAX_DEPTH = 100

Op = Callable[[Tensor, Tensor], Tensor]

FUNCTIONS: dict[str, tuple[Callable[[Tensor], Tensor], str]] = {
    # name: (torch op, LaTeX command); the LaTeX is used by to_latex
    "sin": (torch.sin, r"\sin"),
    "cos": (torch.cos, r"\cos"),
    "tan": (torch.tan, r"\tan"),
    "exp": (torch.exp, r"\exp"),
    "log": (torch.log, r"\log"),
    "ln": (torch.log, r"\ln"),
    "log10": (torch.log10, r"\log_{10}"),
    "log2": (torch.log2, r"\log_{2}"),
    "log1p": (torch.log1p, r"\operatorname{log1p}"),
    "sqrt": (torch.sqrt, r"\sqrt"),
    "abs": (torch.abs, r"\operatorname{abs}"),
    "tanh": (torch.tanh, r"\tanh"),
    "sinh": (torch.sinh, r"\sinh"),
    "cosh": (torch.cosh, r"\cosh"),
    "arctan": (torch.atan, r"\arctan"),
    "atan": (torch.atan, r"\arctan"),
    "arcsin": (torch.asin, r"\arcsin"),
    "asin": (torch.asin, r"\arcsin"),
    "arccos": (torch.acos, r"\arccos"),
    "acos": (torch.acos, r"\arccos"),
    "sigmoid": (torch.sigmoid, r"\sigma"),
    "softplus": (torch.nn.functional.softplus, r"\operatorname{softplus}"),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")

_BINARY = {
    ast.Add: torch.add,
    ast.Sub: torch.sub,
    ast.Mult: torch.mul,
    ast.Div: torch.div,
    ast.Pow: torch.pow,
}
_NAMES_OF_NODES = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "indexing is",
    ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "and/or are",
    ast.IfExp: "if/else is",
    ast.NamedExpr: "assignment (:=) is",
    ast.Starred: "star arguments are",
    ast.List: "lists are",
    ast.Tuple: "tuples are (use * for multiplication)",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.JoinedStr: "strings are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
}


def _where(text: str, node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    if col is None:
        return ""
    segment = ast.get_source_segment(text, node) or ""
    if len(segment) > 30:
        segment = segment[:27] + "..."
    return f" at column {col + 1}: {segment!r}"


def _describe(node: ast.AST) -> str:
    for kind, words in _NAMES_OF_NODES.items():
        if isinstance(node, kind):
            return words
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__} is"
    if isinstance(node, ast.UnaryOp):
        return f"the unary operator {type(node.op).__name__} is"
    return f"{type(node).__name__} is"


def parse(text: str) -> ast.Expression:
    """Parse and check ``text``; raise ValueError saying what is not allowed and where."""
    if not isinstance(text, str):
        raise ValueError("the expression must be text")
    if len(text) > MAX_LENGTH:
        raise ValueError(
            f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})"
        )
    source = text.replace("^", "**").strip()
    if not source:
        raise ValueError("the expression is empty; type a function of x and y, e.g. x**2 + y**2")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        hint = " (use * for multiplication, e.g. 2*x)" if _looks_implicit(source) else ""
        raise ValueError(f"syntax error{col}: {exc.msg}{hint}") from None
    except (MemoryError, RecursionError, ValueError):
        raise ValueError("the expression is too deeply nested or too large to parse") from None
    if sum(isinstance(n, ast.expr) for n in ast.walk(tree)) > MAX_NODES:
        raise ValueError(f"the expression is too large (more than {MAX_NODES} parts)")
    stack = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
        _check_node(source, node)
        # A call's function name was checked with the call; walk its argument only.
        children = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
        for child in children:
            if isinstance(child, (ast.operator, ast.unaryop, ast.expr_context)):
                continue
            stack.append((child, depth + 1))
    return tree


def _looks_implicit(source: str) -> bool:
    return any(a.isdigit() and (b.isalpha() or b == "(") for a, b in itertools.pairwise(source))


def _check_node(text: str, node: ast.AST) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ValueError(f"only real numbers are allowed as constants{_where(text, node)}")
        return
    if isinstance(node, ast.Name):
        if node.id not in VARIABLES and node.id not in CONSTANTS:
            allowed = ", ".join((*VARIABLES, *CONSTANTS))
            raise ValueError(f"unknown name {node.id!r}{_where(text, node)}; allowed: {allowed}")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ValueError(f"{_describe(node)} not allowed{_where(text, node)}")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ValueError(f"{_describe(node)} not allowed{_where(text, node)}")
        return
    if isinstance(node, ast.Call):
        func = node.func
        allowed = ", ".join(sorted(FUNCTIONS))
        if not isinstance(func, ast.Name):
            raise ValueError(
                f"calling {ast.get_source_segment(text, func)!r} is not allowed"
                f"{_where(text, node)}; the functions are: {allowed}"
            )
        if func.id not in FUNCTIONS:
            raise ValueError(
                f"function {func.id!r} is not allowed{_where(text, node)}; allowed: {allowed}"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ValueError(
                f"{func.id}() takes exactly one argument, without keywords{_where(text, node)}"
            )
        return
    raise ValueError(f"{_describe(node)} not allowed{_where(text, node)}")


def compile_expression(tree: ast.Expression) -> Op:
    """Build f(x, y) from a checked tree: a closure over torch operations."""

    def build(node: ast.AST) -> Op:
        if isinstance(node, ast.Constant):
            try:
                value = torch.tensor(float(node.value), dtype=torch.float64)
            except OverflowError:  # an integer literal beyond float64
                value = torch.tensor(math.inf, dtype=torch.float64)
            return lambda x, y: value
        if isinstance(node, ast.Name):
            if node.id == "x":
                return lambda x, y: x
            if node.id == "y":
                return lambda x, y: y
            value = torch.tensor(CONSTANTS[node.id], dtype=torch.float64)
            return lambda x, y: value
        if isinstance(node, ast.BinOp):
            op = _BINARY[type(node.op)]
            left, right = build(node.left), build(node.right)
            return lambda x, y: op(left(x, y), right(x, y))
        if isinstance(node, ast.UnaryOp):
            operand = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda x, y: torch.neg(operand(x, y))
            return operand
        if isinstance(node, ast.Call):
            func = FUNCTIONS[node.func.id][0]
            arg = build(node.args[0])
            return lambda x, y: func(arg(x, y))
        raise ValueError(f"{_describe(node)} not allowed")  # unreachable after parse()

    body = build(tree.body)

    def fn(x: Tensor, y: Tensor) -> Tensor:
        # `0*x + 0*y` gives every result the inputs' shape and a gradient path,
        # even for constant expressions such as "3".
        return body(x, y) + 0 * x + 0 * y

    return fn


def to_latex(tree: ast.Expression) -> str:
    """LaTeX for a checked tree, for st.latex."""
    precedence = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}

    def prec(node: ast.AST) -> int:
        if isinstance(node, ast.BinOp):
            return precedence[type(node.op)]
        if isinstance(node, ast.UnaryOp):
            return 3
        return 5

    def wrap(node: ast.AST, limit: int) -> str:
        inner = tex(node)
        return rf"\left({inner}\right)" if prec(node) < limit else inner

    def tex(node: ast.AST) -> str:
        if isinstance(node, ast.Constant):
            return f"{float(node.value):g}" if isinstance(node.value, float) else str(node.value)
        if isinstance(node, ast.Name):
            return r"\pi" if node.id == "pi" else node.id
        if isinstance(node, ast.UnaryOp):
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            return sign + wrap(node.operand, 3)
        if isinstance(node, ast.Call):
            name, command = node.func.id, FUNCTIONS[node.func.id][1]
            arg = tex(node.args[0])
            if name == "sqrt":
                return rf"\sqrt{{{arg}}}"
            if name == "abs":
                return rf"\left|{arg}\right|"
            return rf"{command}\left({arg}\right)"
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op is ast.Div:
                return rf"\frac{{{tex(node.left)}}}{{{tex(node.right)}}}"
            if op is ast.Pow:
                return rf"{{{wrap(node.left, 5)}}}^{{{tex(node.right)}}}"
            if op is ast.Mult:
                return rf"{wrap(node.left, 2)} \cdot {wrap(node.right, 2)}"
            symbol = " + " if op is ast.Add else " - "
            right_limit = 1 if op is ast.Add else 2
            return wrap(node.left, 1) + symbol + wrap(node.right, right_limit)
        return "?"

    return tex(tree.body)


def from_expression(
    text: str,
    *,
    domain: Box = ((-3.0, 3.0), (-3.0, 3.0)),
    start: Point | None = None,
) -> Landscape:
    """A :class:`Landscape` from a user-typed f(x, y).

    Args:
        text: ordinary maths in x and y, e.g. ``x**2 + 10*sin(y)`` or ``x^2 + y^2``.
        domain: ((xmin, xmax), (ymin, ymax)) shown and used for the divergence box.
        start: the default start; by default a point near the top-left of the domain.

    Raises:
        ValueError: saying what is not allowed and where, or that f or its gradient
            is not finite at the start point.
    """
    try:
        (x0, x1), (y0, y1) = domain
        x0, x1, y0, y1 = (float(v) for v in (x0, x1, y0, y1))
    except (TypeError, ValueError):
        raise ValueError("domain must be ((xmin, xmax), (ymin, ymax))") from None
    if start is None:
        start = (round(x0 + 0.2 * (x1 - x0), 6), round(y1 - 0.2 * (y1 - y0), 6))
    tree = parse(text)
    fn = compile_expression(tree)
    landscape = Landscape(
        key="custom",
        name=f"Custom: {text.strip()}",
        formula=to_latex(tree),
        fn=fn,
        domain=((x0, x1), (y0, y1)),
        minima=(),
        min_value=None,
        start=(float(start[0]), float(start[1])),
        lesson="Your own function: see how each optimizer copes with it.",
        log_scale=False,
        suggested_steps=300,
    )
    try:
        value = float(landscape.value(landscape.start))
        grad = landscape.gradient(landscape.start)
    except (RuntimeError, ValueError, OverflowError, ZeroDivisionError) as exc:
        raise ValueError(f"the expression cannot be evaluated: {exc}") from None
    if not math.isfinite(value) or not all(math.isfinite(g) for g in grad):
        raise ValueError(
            f"f or its gradient is not finite at the start point {landscape.start}; "
            "choose another start or domain"
        )
    return _with_suggestions(landscape)


def _with_suggestions(landscape: Landscape) -> Landscape:
    """α0 a small fraction of the domain; β3 so the gate halves at the typical gradient."""
    from dataclasses import replace

    (x0, x1), (y0, y1) = landscape.domain
    lr = 0.01 * max(x1 - x0, y1 - y0)
    beta3 = 1.0 / landscape.grad_scale**2
    return replace(
        landscape, suggested_lr=float(f"{lr:.3g}"), suggested_beta3=float(f"{beta3:.3g}")
    )
