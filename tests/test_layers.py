"""The layering contract, checked on the source (AST only, nothing is imported).

Layers, each importing only lower ones (imports inside functions count too):

0. ``vradam`` core (``optim``, ``functional``, ``norm``): torch and the standard library.
1. ``vradam.sim`` and the top-level ``landscapes``: + numpy (``landscapes`` imports no vradam).
2. ``vradam.studies``: + scipy, scikit-learn.
3. ``vradam.app.figures``: + plotly, PIL, kaleido, and the only layer importing them.
4. ``vradam.app`` modules (page state without streamlit): may import the figures.
5. ``vradam.app.ui``: + streamlit, and the only package importing it.
6. Entry points: ``app_pages/*.py``, ``app.py``, ``vradam.cli``, ``vradam.__main__``: anything
   but plotly/PIL/kaleido, which stay behind the figures layer.

A package's ``__init__`` runs whenever any module under it is imported, so it is held to
the lowest layer found under it (``vradam/__init__.py`` to layer 0).

No private name crosses modules: ``from m import _x`` and ``m._x`` on an imported project
module fail (dunder names are fine), as does importing a private module from outside its
package.

A second test imports the torch-only and numpy-only layers, and runs ``python -m vradam
simulate``, in a subprocess where the web and science stacks cannot be imported.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("vradam", "landscapes")  # importable top-level project packages
ENTRY = 6
# Most specific prefix first.
LAYERS = (
    ("vradam.app.ui", 5),
    ("vradam.app.figures", 3),
    ("vradam.app", 4),
    ("vradam.studies", 2),
    ("vradam.sim", 1),
    ("landscapes", 1),
    ("vradam", 0),
)
ENTRY_POINTS = {
    "app",
    "vradam.cli",
    "vradam.__main__",
}
ENTRY_PACKAGES = ("app_pages", "vradam.commands")  # and every module inside them
# Third-party top-level modules: the layers allowed to import each one.
THIRD_PARTY = {
    "torch": range(0, 7),
    "numpy": range(1, 7),
    "scipy": range(2, 7),
    "sklearn": range(2, 7),
    "optuna": range(2, 7),  # tuning studies (vradam.studies.tuning) and their figures
    "sqlalchemy": range(2, 7),  # optuna's storage URLs
    "plotly": (3,),
    "PIL": (3,),
    "kaleido": (3,),
    "streamlit": (5, 6),
}
LAYER_NAMES = {
    0: "core",
    1: "sim/landscapes",
    2: "studies",
    3: "app.figures",
    4: "app",
    5: "app.ui",
    6: "entry point",
}


# ---------------------------------------------------------------- the project's modules


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    """Every .py file of vradam/, landscapes/, app_pages/, and app.py."""
    files = [ROOT / "app.py"]
    for top in ("vradam", "landscapes", "app_pages"):
        files += sorted((ROOT / top).rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


@functools.cache
def is_project_module(name: str) -> bool:
    """``name`` is a module (file or package) of vradam/ or landscapes/."""
    if name.split(".")[0] not in PROJECT:
        return False
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _name_layer(module: str) -> int:
    if module in ENTRY_POINTS or module.startswith(tuple(p + "." for p in ENTRY_PACKAGES)):
        return ENTRY
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module}: in no layer; add it to LAYERS in {__file__}")


@functools.cache
def layer_of(module: str) -> int:
    """The layer ``module`` is held to: for a package, the lowest layer under it."""
    base = ROOT.joinpath(*module.split("."))
    if module.split(".")[0] in PROJECT and (base / "__init__.py").is_file():
        under = [_module_name(p) for p in base.rglob("*.py") if "__pycache__" not in p.parts]
        return min(_name_layer(m) for m in under)
    return _name_layer(module)


def _describe(layer: int) -> str:
    return f"layer {layer} {LAYER_NAMES[layer]}"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# ---------------------------------------------------------------- the checker


@dataclass(frozen=True)
class _Import:
    line: int
    target: str  # absolute dotted name of what is imported
    names: tuple[str, ...] = ()  # for ``from target import names``


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[_Import]:
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [_Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append(_Import(node.lineno, target, tuple(a.name for a in node.names)))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append(_Import(node.lineno, node.args[0].value))
    return found


def _check_third_party(where: str, layer: int, target: str) -> list[str]:
    top = target.split(".")[0]
    if top in sys.stdlib_module_names or top in PROJECT:
        return []
    allowed = THIRD_PARTY.get(top)
    if allowed is None:
        return [f"{where}: imports {target}, which is not a declared dependency"]
    if layer not in allowed:
        return [f"{where}: ({_describe(layer)}) imports {target} (allowed only in layers "
                f"{', '.join(map(str, allowed))})"]  # fmt: skip
    return []


def _check_project(where: str, module: str, layer: int, target: str) -> list[str]:
    problems = []
    to = layer_of(target)
    # Importing a.b.c runs a/__init__ and a/b/__init__ too: each is held to its lowest layer.
    if to > layer:
        problems.append(f"{where}: ({_describe(layer)}) imports {target} ({_describe(to)})")
    if module.split(".")[0] == "landscapes" and target.split(".")[0] == "vradam":
        problems.append(f"{where}: landscapes imports {target} (it imports nothing of vradam)")
    parts = target.split(".")
    for i, part in enumerate(parts):
        owner = ".".join(parts[:i])  # the package a private module belongs to
        if _is_private(part) and not (module == owner or module.startswith(owner + ".")):
            problems.append(f"{where}: imports the private module {'.'.join(parts[: i + 1])}")
            break
    return problems


def check_source(
    source: str, module: str, *, is_package: bool = False, path: str = ""
) -> list[str]:
    """Every layering and private-name violation of one module's ``source``, one per line.

    ``module`` is its dotted name (``app_pages.playground`` for a page script).
    """
    tree = ast.parse(source, filename=path or module)
    layer = layer_of(module) if is_package else _name_layer(module)
    problems: list[str] = []
    bound: dict[str, str] = {}  # local name -> project module it refers to
    for imp in _imports(tree, module, is_package):
        where = f"{path or module}:{imp.line}"
        if not imp.target:
            continue
        targets = [imp.target]
        if imp.names and is_project_module(imp.target):
            # ``from pkg import sub`` imports the submodule pkg.sub, which is held to at least
            # pkg's layer: check the submodules, and pkg only for the names that are not.
            subs = [f"{imp.target}.{n}" for n in imp.names]
            modules = [s for s in subs if is_project_module(s)]
            targets = modules + ([imp.target] if len(modules) < len(subs) else [])
        for target in targets:
            if target.split(".")[0] in PROJECT:
                problems += _check_project(where, module, layer, target)
            else:
                problems += _check_third_party(where, layer, target)
        if imp.target.split(".")[0] not in PROJECT:
            continue
        for name in imp.names:
            sub = f"{imp.target}.{name}"
            if _is_private(name) and not is_project_module(sub):
                problems.append(f"{where}: imports the private name {name} from {imp.target}")
    # Names bound to project modules, to catch ``module._x``.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROJECT:
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            (imp,) = _imports(ast.Module(body=[node], type_ignores=[]), module, is_package)
            for alias in node.names:
                sub = f"{imp.target}.{alias.name}"
                if imp.target.split(".")[0] in PROJECT and is_project_module(sub):
                    bound[alias.asname or alias.name] = sub

    def resolve(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return bound.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = resolve(node.value)
            if owner and is_project_module(f"{owner}.{node.attr}"):
                return f"{owner}.{node.attr}"
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = resolve(node.value)
            if owner and owner != module:
                where = f"{path or module}:{node.lineno}"
                problems.append(f"{where}: uses the private name {owner}.{node.attr}")
    return problems


def project_violations() -> list[str]:
    problems = []
    for path in source_files():
        module = _module_name(path)
        problems += check_source(
            path.read_text(encoding="utf-8"),
            module,
            is_package=path.name == "__init__.py",
            path=str(path.relative_to(ROOT)),
        )
    return problems


# ---------------------------------------------------------------- the tests


def test_every_source_file_is_in_a_layer():
    files = source_files()
    assert len(files) > 40, files  # the walk finds the project
    for path in files:
        layer_of(_module_name(path))  # raises for a module in no layer


def test_no_upward_import_and_no_private_name_crosses_modules():
    problems = project_violations()
    assert not problems, "layering violations:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        # upward project imports, at module level, inside functions, relative
        ("vradam.sim.engine", "from vradam.app.ui import style", "imports vradam.app.ui.style"),
        ("vradam.sim.engine", "def f():\n    import vradam.studies.eos", "vradam.studies.eos"),
        ("vradam.optim", "from .sim import engine", "imports vradam.sim.engine"),
        ("vradam.app.figures.eos", "from .. import playground", "imports vradam.app.playground"),
        ("vradam.studies.eos", "from vradam import app", "imports vradam.app (layer 3"),
        ("vradam.app.playground", "from vradam.app import ui", "imports vradam.app.ui"),
        ("landscapes.core", "import vradam", "landscapes imports vradam"),
        # third-party packages outside their layers
        ("vradam.functional", "import numpy as np", "imports numpy"),
        ("vradam.sim.replay", "from scipy.sparse import linalg", "imports scipy.sparse"),
        ("vradam.app.ui.charts", "import plotly.io as pio", "imports plotly.io"),
        (
            "app_pages.playground",
            "import plotly.graph_objects as go",
            "imports plotly.graph_objects",
        ),
        ("vradam.app.summaries", "def f():\n    import streamlit as st", "imports streamlit"),
        ("vradam.studies.eos", "import importlib\nimportlib.import_module('PIL')", "imports PIL"),
        ("vradam.sim.export", "import pandas", "not a declared dependency"),
        # private names across modules
        ("vradam.app.ui.playground", "from vradam.app.playground import _floats", "_floats"),
        ("vradam.app.ui.charts", "from ..summaries import _fmt as fmt", "private name _fmt"),
        (
            "app_pages.about",
            "from vradam.app import playground as pg\npg._floats('1')",
            "playground._floats",
        ),
        ("app", "import vradam.app.playground\nvradam.app.playground._x", "playground._x"),
        ("vradam.cli", "from vradam import _norm", "private name _norm from vradam"),
        ("app_pages.about", "import vradam._norm", "private module vradam._norm"),
    ],
)
def test_the_checker_reports(module, source, expected):
    problems = check_source(source, module)
    assert len(problems) == 1, problems
    assert expected in problems[0], problems


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("vradam.sim.engine", "import numpy as np\nimport torch\nfrom vradam.optim import VRAdam"),
        ("vradam.sim.engine", "import landscapes\nfrom . import schedules\nfrom .lion import Lion"),
        ("vradam.app.ui.charts", "import streamlit as st\nfrom vradam.app.figures import colors"),
        ("vradam.app.playground", "from vradam.app.summaries import fmt_value as _fmt"),
        ("vradam.app.figures.eos", "from PIL import Image\nimport plotly.io as pio"),
        ("vradam.cli", "def f():\n    from vradam.app.ui import style"),
        ("vradam.__main__", "from vradam.cli import main"),
        ("vradam.sim.engine", "import vradam\nvradam.__version__\nfrom typing import _T"),
    ],
)
def test_the_checker_accepts(module, source):
    assert check_source(source, module) == []


def test_a_package_init_is_held_to_the_lowest_layer_under_it():
    # vradam/app/__init__.py runs on every import of vradam.app.figures.*
    problems = check_source("import streamlit", "vradam.app", is_package=True)
    assert problems and "layer 3" in problems[0], problems
    assert check_source("import numpy", "vradam", is_package=True)  # the core: torch only


# ---------------------------------------------------------------- without the heavy stacks

BLOCKED = ("streamlit", "plotly", "PIL", "kaleido", "scipy", "sklearn", "pandas")
BLOCKER = f"""
import sys

_BLOCKED = {BLOCKED!r}

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None

sys.meta_path.insert(0, _Blocked())
"""


def _run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang fails; a loaded machine's slow imports do not
    )


def test_the_blocker_blocks():
    proc = _run_blocked("import plotly")
    assert proc.returncode != 0 and "(blocked)" in proc.stderr


@pytest.mark.slow  # 5 s
def test_core_sim_and_landscapes_import_without_the_web_and_science_stacks():
    proc = _run_blocked(
        """
        import vradam
        import vradam.sim.engine, vradam.sim.optimizers, vradam.sim.replay, vradam.sim.export
        import landscapes
        heavy = sorted({m.split(".")[0] for m in sys.modules} & set(_BLOCKED))
        assert not heavy, heavy
        print("ok")
        """
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.slow  # 4.5 s
def test_cli_simulate_runs_without_the_web_and_science_stacks():
    proc = _run_blocked(
        """
        import runpy
        sys.argv = ["vradam", "simulate", "--landscape", "rosenbrock",
                    "--optimizer", "vradam:lr=0.05", "--optimizer", "adam:lr=0.05",
                    "--start", "-1.5,2", "--steps", "5", "--format", "csv"]
        runpy.run_module("vradam", run_name="__main__", alter_sys=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.strip().splitlines()
    assert "optimizer" in rows[0].split(","), rows[:2]
    assert len(rows) == 1 + 2 * 6  # header + optimizers × (steps + 1)


# ---------------------------------------------------------------- sizes

MODULE_LINES = 600  # a module over this holds more than one concept: split it
FUNCTION_LINES = 80
# Open items, each capped at its size today so that it cannot grow: the argparse entry
# point, and a module not yet split.
MODULE_CAPS = {"vradam/cli.py": 650}
FUNCTION_CAPS = {("vradam/cli.py", "build_parser"): 110}  # argparse


def _exempt(path: str, function: str) -> bool:
    """A figure builder (``*_figure`` in vradam/app/figures): mostly one figure dict literal."""
    return path.startswith("vradam/app/figures/") and function.endswith("_figure")


def oversized(path: str, source: str) -> list[str]:
    """The module (over MODULE_LINES) and functions (over FUNCTION_LINES) of one file that
    are too long, beyond their caps."""
    out = []
    lines = len(source.splitlines())
    if lines > MODULE_CAPS.get(path, MODULE_LINES):
        out.append(f"{path}: {lines} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = node.end_lineno - node.lineno + 1
            cap = FUNCTION_CAPS.get((path, node.name), FUNCTION_LINES)
            if size > cap and not _exempt(path, node.name):
                out.append(f"{path}:{node.lineno} {node.name}: {size} lines")
    return out


def test_modules_and_functions_stay_small():
    found = []
    for path in source_files():
        found += oversized(str(path.relative_to(ROOT)), path.read_text())
    assert not found, "split by concept:\n" + "\n".join(found)


def test_the_size_check_finds_a_long_function_and_module():
    body = "".join(f"    x{i} = {i}\n" for i in range(FUNCTION_LINES))
    assert oversized("vradam/x.py", f"def f():\n{body}") == ["vradam/x.py:1 f: 81 lines"]
    assert oversized("vradam/app/figures/x.py", f"def f_figure():\n{body}") == []
    long = "x = 1\n" * (MODULE_LINES + 1)
    assert oversized("vradam/x.py", long) == [f"vradam/x.py: {MODULE_LINES + 1} lines"]
