"""The optimizer records: one row each in tests/optimizer_table.py, generic thresholds
checked against the closed forms, torch twins, bad inputs, functional forms, and a toy
optimizer that is one record away from working everywhere."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from optimizer_table import CLAIMS, COMPILE, GATE_OFF, LOADS, ROWS

import landscapes
from vradam.sim import formulas
from vradam.sim.engine import simulate
from vradam.sim.optimizers import (
    REGISTRY,
    HyperParam,
    OptimizerInfo,
    OptimizerSpec,
    make_optimizer,
    register,
    stability_threshold,
    threshold_at,
)
from vradam.sim.unified import Coefficients, linear_threshold

ROOT = Path(__file__).resolve().parents[1]


_LITERALS = (ast.Tuple, ast.List, ast.Set)


def _key_branches(tree: ast.AST, keys: set[str]) -> list[tuple[int, str]]:
    """(line, function) of every comparison of a value with an optimizer key (``== "adam"``,
    ``in ("gd", …)``), outside functions whose docstring names them a named exception."""
    out = []

    def visit(node, func, exempt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node) or ""
            func, exempt = node.name, exempt or "named exception" in doc
        if isinstance(node, ast.Compare) and not exempt:
            for op, right in zip(node.ops, node.comparators):
                sides = [node.left, right] if isinstance(op, (ast.Eq, ast.NotEq)) else []
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, _LITERALS):
                    sides = list(right.elts)  # ("momentum" in group: a hyperparameter's name)
                if any(isinstance(x, ast.Constant) and x.value in keys for x in sides):
                    out.append((node.lineno, func))
        for child in ast.iter_child_nodes(node):
            visit(child, func, exempt)

    visit(tree, "<module>", False)
    return out


def test_no_code_outside_the_records_branches_on_an_optimizer_key():
    """Optimizer facts live in their records: outside vradam/sim/optimizers.py (and the
    step-through's formulas), no code compares a value with an optimizer's key, except in
    a function whose docstring calls it a named exception and says why."""
    keys = set(REGISTRY)
    skip = {ROOT / "vradam/sim/optimizers.py", ROOT / "vradam/sim/formulas.py"}
    found = []
    for path in sorted([*(ROOT / "vradam").rglob("*.py"), *(ROOT / "landscapes").rglob("*.py")]):
        if path in skip:
            continue
        for line, func in _key_branches(ast.parse(path.read_text()), keys):
            found.append(f"{path.relative_to(ROOT)}:{line} in {func}")
    assert not found, "take the fact from the optimizer's record:\n" + "\n".join(found)


def test_the_key_branch_check_finds_a_branch():
    code = (
        'def f(spec):\n    if spec.key == "adam":\n        return 1\n'
        '    return spec.key in ("gd", "x")'
    )
    assert [line for line, _ in _key_branches(ast.parse(code), set(REGISTRY))] == [2, 4]
    exempt = 'def f(spec):\n    """A named exception: because."""\n    return spec.key == "adam"'
    assert _key_branches(ast.parse(exempt), set(REGISTRY)) == []


def test_every_record_has_a_row_and_every_row_a_record():
    assert [r.key for r in ROWS] == list(REGISTRY)


# ----------------------------------------------------------------------------- thresholds


def _matrix(c: Coefficients, k: int, eta: float, h: float) -> np.ndarray:
    """The frozen linear update of step k on f = ½·h·x², state (x, v)."""
    return np.array([[1 - eta * c.c2[k] * h, -eta * c.c1[k]], [c.b1[k] * h, c.a1[k]]])


def _radius(c, k, eta, h) -> float:
    return float(np.abs(np.linalg.eigvals(_matrix(c, k, eta, h))).max())


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.key)
@pytest.mark.parametrize("t", [1, 2, 10, 100, 1000])
def test_generic_threshold_equals_the_closed_form(row, t):
    spec = OptimizerSpec(row.key, dict(lr=0.01))
    eta = 0.01
    value = threshold_at(spec, t, eta)
    if row.threshold is None:
        assert np.isnan(value)
        return
    assert value == pytest.approx(row.threshold(spec.hyperparams, t, eta), rel=1e-9)


@pytest.mark.parametrize("row", [r for r in ROWS if r.threshold is not None], ids=lambda r: r.key)
def test_threshold_is_where_the_spectral_radius_crosses_one(row):
    spec = OptimizerSpec(row.key, dict(lr=0.05))
    c = spec.coefficients(np.full(300, 0.05))
    for k in (0, 4, 299):
        h = threshold_at(spec, k + 1, 0.05)
        assert _radius(c, k, 0.05, 0.999 * h) < 1 < _radius(c, k, 0.05, 1.001 * h)


def test_closed_forms_of_the_spec():
    """docs/theory.md §2: NAdam's line is near 3.5/η at ψ = 0.004, not 38/η (the approximation
    "≈ 3.5/η for t ≤ 1000" holds at t ≈ 100; by t = 1000 it is 3.93/η as μ_t falls), RAdam
    176/η at t = 100 and 59/η at t = 1000, Adam's early line 38(1 − β1^t)/η."""
    eta = 1.0
    nadam = OptimizerSpec("nadam")
    assert threshold_at(nadam, 100, eta) == pytest.approx(3.53, rel=0.01)
    assert threshold_at(nadam, 1000, eta) == pytest.approx(3.93, rel=0.01)
    radam = OptimizerSpec("radam")
    assert threshold_at(radam, 100, eta) == pytest.approx(176, rel=0.01)
    assert threshold_at(radam, 1000, eta) == pytest.approx(59, rel=0.01)
    assert threshold_at(OptimizerSpec("adam"), 1, eta) == pytest.approx(38 * 0.1)
    assert threshold_at(OptimizerSpec("adam"), 5000, eta) == pytest.approx(38)


def test_linear_threshold_edge_cases():
    # every curvature unstable (the x–v coupling has the wrong sign), none (no step), NaN rate
    assert linear_threshold(1.0, c1=-1.0, c2=0.0, a1=0.5, b1=1.0) == 0.0
    assert linear_threshold(0.0, c1=0.0, c2=1.0, a1=0.0, b1=1.0) == np.inf
    assert np.isnan(linear_threshold(np.nan, c1=0.0, c2=1.0, a1=0.0, b1=1.0))


def test_engine_threshold_moves_with_the_gate():
    (tr,) = simulate("rosenbrock", ["vradam:lr=0.05,beta3=1"], [(-1.5, 2.0)], 200)
    bc1 = 1 - 0.9 ** np.arange(1, 201)
    np.testing.assert_allclose(tr.stability_threshold[0], 38 * bc1 / tr.effective_lr[0])
    assert np.ptp(tr.effective_lr[0]) > 0


# ----------------------------------------------------------------------------- torch twins


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.key)
def test_torch_twin_class_state_and_values(row):
    for flat, torch_kwargs in row.cases:
        spec = OptimizerSpec(row.key, flat)
        p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
        twin = make_optimizer(spec, [p])
        assert type(twin) is row.torch_class
        ref = row.torch_class([torch.nn.Parameter(torch.ones(3))], **torch_kwargs)
        for name, value in ref.param_groups[0].items():
            if (
                name not in ("params", "effective_lr", "velocity_sq_norm")
                and name in twin.param_groups[0]
            ):
                assert twin.param_groups[0][name] == value, (row.key, name)
        p.grad = torch.full_like(p, 0.5)
        twin.step()
        assert set(row.state) <= set(twin.state[p]), row.key
        info = REGISTRY[row.key]
        if info.velocity_state is not None and not info.velocity_regularized:
            assert info.velocity_state in twin.state[p]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.key)
def test_spec_refuses_bad_values(row):
    for values, message in row.bad_spec:
        with pytest.raises(ValueError, match=message):
            OptimizerSpec(row.key, values)


@pytest.mark.parametrize("row", [r for r in ROWS if r.functional], ids=lambda r: r.key)
@pytest.mark.parametrize("foreach", [False, True])
def test_functional_form_equals_the_class(row, foreach):
    """One param group: the public functional form is the class's step."""
    gen = torch.Generator().manual_seed(0)
    shapes = [(4, 3), (3,)]
    a = [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=torch.float64)) for s in shapes]
    b = [p.detach().clone() for p in a]
    hp = OptimizerSpec(row.key, dict(lr=0.05, beta3=0.5, alpha1=3.0)).hyperparams
    opt = make_optimizer(OptimizerSpec(row.key, dict(lr=0.05, beta3=0.5, alpha1=3.0)), a)
    state = {name: [torch.zeros_like(p) for p in b] for name in row.state}
    steps = [torch.tensor(0.0, dtype=torch.float64) for _ in b]
    for _ in range(8):
        grads = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
        for p, g in zip(a, grads):
            p.grad = g.clone()
        opt.step()
        eta, sq = row.functional(b, grads, state, steps, hp, foreach)
        for p, q in zip(a, b):
            torch.testing.assert_close(p.detach(), q, rtol=1e-13, atol=1e-15)
        assert float(opt.param_groups[0]["effective_lr"]) == pytest.approx(float(eta), rel=1e-13)
        assert float(opt.param_groups[0]["velocity_sq_norm"]) == pytest.approx(float(sq))


# ----------------------------------------------------------------------------- a toy optimizer


def _toy_coefficients(hp, lr):
    """Damped momentum: v ← β·v + g, steps along v (heavy ball with its own name)."""
    beta = hp["beta"]
    c = Coefficients.plain(lr, a1=beta, b1=1.0)
    return Coefficients(lr=c.lr, c1=c.e * beta, c2=c.e, c3=c.c3, e=c.e, a1=beta, b1=1.0)


def _toy_torch(params, *, lr, beta):
    return torch.optim.SGD(params, lr=lr, momentum=beta)


TOY = OptimizerInfo(
    key="toy", name="Toy",
    hyperparams=(
        HyperParam(name="lr", symbol="α", default=0.01, slider=(1e-4, 1.0), domain=(0.0, 10.0),
                   log=True, help="Step size."),
        HyperParam(name="beta", symbol="β", default=0.5, slider=(0.0, 0.99), domain=(0.0, 1.0),
                   log=False, help="Momentum.", open_high=True)),
    description="A toy record for the tests.",
    coefficients=_toy_coefficients, torch_class=_toy_torch,
    formulas=lambda s: formulas.gd_lines(s), stability="sharpness", suggested_lr=False,
    velocity_state="momentum_buffer",
)  # fmt: skip


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(REGISTRY, "toy", TOY)
    return TOY


def test_toy_record_parses_and_refuses(toy):
    spec = OptimizerSpec.parse("toy:lr=0.02,beta=0.3@mine")
    assert spec.hyperparams == {"lr": 0.02, "beta": 0.3} and spec.display_name == "mine"
    with pytest.raises(ValueError, match="outside its valid range"):
        OptimizerSpec.parse("toy:beta=1")
    with pytest.raises(ValueError, match="already registered"):
        register(TOY)


def test_toy_record_runs_in_the_engine_like_its_torch_twin(toy):
    ls = landscapes.get("himmelblau")
    (tr,) = simulate(ls, ["toy:lr=0.002,beta=0.5"], [ls.start], 100)
    p = torch.nn.Parameter(torch.tensor(ls.start, dtype=torch.float64))
    opt = make_optimizer(OptimizerSpec("toy", dict(lr=0.002, beta=0.5)), [p])
    for k in range(100):
        opt.zero_grad()
        ls.fn(p[0], p[1]).backward()
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), tr.xy[0, k + 1], atol=1e-9)
    # its threshold is heavy ball's, derived from the record alone
    np.testing.assert_allclose(tr.stability_threshold, 2 * 1.5 / 0.002)
    c = OptimizerSpec("toy", dict(lr=0.002, beta=0.5)).coefficients(np.full(3, 0.002))
    np.testing.assert_allclose(stability_threshold(OptimizerSpec("toy"), c, c.lr), 1500.0)


def test_toy_record_in_the_cli(toy, tmp_path, capsys):
    from vradam.cli import main

    out = tmp_path / "toy.json"
    code = main(["simulate", "--landscape", "himmelblau", "--optimizer", "toy:lr=0.002",
                 "--steps", "20", "--out", str(out)])  # fmt: skip
    assert code in (0, None)
    data = json.loads(out.read_text())
    assert "toy" in json.dumps(data)


@pytest.mark.slow  # an AppTest, ~2 s
def test_toy_record_in_the_playground_picker(toy):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60).run()
    assert not at.exception
    picker = at.selectbox(key="pg_add_key")
    assert "toy" in picker.options or "Toy" in picker.options
    picker.set_value("toy").run()
    next(b for b in at.button if b.key == "pg_add").click().run()
    assert not at.exception
    assert any("Toy" in e.label for e in at.expander)
    assert any("toy" in v for v in at.query_params.get("opt", []))


def test_toy_record_in_the_step_through(toy):
    from vradam.sim.replay import replay

    r = replay("himmelblau", "toy:lr=0.002", [(0.0, 0.0)], 5)
    assert r.theta.shape == (6, 2) and np.isfinite(r.theta).all()
    assert r.spec.info.formulas is TOY.formulas


@pytest.mark.parametrize("row", [r for r in ROWS if r.threshold is not None], ids=lambda r: r.key)
def test_torch_optimizer_grows_above_its_line_and_shrinks_below(row):
    """torch.optim itself on f = ½·h·x², late in the run (t ≈ 300–450; RAdam 2000–2150):
    |x| grows just above the derived threshold and shrinks just below. |x| starts at 1e-200,
    so g² underflows to 0: the second moment stays 0, the preconditioner is exactly its ε
    term e_t (h/e_t is the preconditioned curvature), the VR gate stays open (η = α0), and
    the linear growth never reaches a scale where the dynamics change."""
    # RAdam's rectification still moves ~20% between t = 300 and 450: look later for it
    lr, t0, window = 0.01, 2000 if row.key == "radam" else 300, 150
    info = REGISTRY[row.key]
    values = dict(lr=lr, eps=1e3) if "eps" in info.defaults else dict(lr=lr)
    if "weight_decay" in info.defaults:
        values["weight_decay"] = 0.0
    spec = OptimizerSpec(row.key, values)
    c = spec.coefficients(np.full(t0 + window, lr))
    line = threshold_at(spec, t0 + window // 2, lr) * c.e[t0 + window // 2]
    for factor, grows in ((1.1, True), (0.9, False)):
        h = factor * line
        x = torch.nn.Parameter(torch.tensor([1e-200], dtype=torch.float64))
        opt = make_optimizer(spec, [x])
        path = []
        for _ in range(t0 + window):
            opt.zero_grad()
            (0.5 * h * x.square()).sum().backward()
            opt.step()
            path.append(abs(float(x)))
        before = max(path[t0 - 20 : t0])
        after = max(path[-20:])
        if grows:
            assert after > 3 * before, (row.key, factor, before, after)
        else:
            assert after < before / 3, (row.key, factor, before, after)


# ----------------------------------------------------------------------------- beta3="auto"


def test_beta3_auto_in_specs_training_and_the_engine():
    spec = OptimizerSpec.parse("vradam:lr=0.05,beta3=auto")
    assert spec.hyperparams["beta3"] == "auto" and str(spec) == "vradam:beta3=auto,lr=0.05"
    assert OptimizerSpec.parse(str(spec)) == spec and "β₃=auto" in spec.display_name
    with pytest.raises(ValueError, match="must be a number"):
        OptimizerSpec.parse("adam:lr=auto")
    opt = make_optimizer(spec, [torch.nn.Parameter(torch.ones(3))])
    assert opt.beta3_calibration is not None and opt.param_groups[0]["beta3"] == 0.0
    assert threshold_at(spec, 5, 0.05) == threshold_at(OptimizerSpec("vradam", dict(lr=0.05)),
                                                       5, 0.05)  # fmt: skip
    with pytest.raises(ValueError, match="calibrates during training"):
        simulate("rosenbrock", [spec], [(0.0, 0.0)], 5)


@pytest.mark.slow  # an AppTest, ~5 s
def test_beta3_auto_from_the_cli_and_the_networks_page(tmp_path):
    from streamlit.testing.v1 import AppTest

    from vradam.cli import main

    out = tmp_path / "auto.csv"
    argv = ["train", "--task", "moons", "--optimizer", "vradam:lr=0.05,beta3=auto",
            "--steps", "15", "--sharpness-every", "0", "--out", str(out)]  # fmt: skip
    assert main(argv) in (0, None)
    assert "beta3=auto" in out.read_text()
    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=120).run()
    boxes = [c for c in at.checkbox if c.key.endswith("_beta3_auto")]
    assert boxes and not at.exception
    boxes[0].check().run()
    assert not at.exception
    assert any("beta3=auto" in text for text in at.session_state["nt_config"].optimizers)


# ----------------------------------------------------------------------------- table coverage


def test_the_package_optimizers_have_every_table_entry():
    """VRAdam and VRMomentum: bad inputs, functional form, gate-off twin, compile settings,
    state dicts of other optimizers; and AdamW's row loads a VRAdam checkpoint."""
    ours = [r for r in ROWS if r.torch_class.__module__.startswith("vradam.")
            and r.torch_class.__module__.count(".") == 1]  # fmt: skip
    assert [r.key for r in ours] == ["vradam", "vrmomentum"]
    for row in ours:
        assert row.bad_class and row.functional and row.gate_off and row.compile and row.loads
    assert [r.key for r in GATE_OFF] == [r.key for r in COMPILE] == ["vradam", "vrmomentum"]
    into = {(r.key, load.source.__name__) for r, load in LOADS}
    assert {("vradam", "AdamW"), ("vradam", "Adam"), ("adamw", "VRAdam"),
            ("vrmomentum", "SGD")} <= into  # fmt: skip


def _readme_optimizer_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Use VRAdam in your own training code")
    return text[start : text.index("\n## ", start)]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def test_every_claim_of_the_readme_optimizer_section_is_a_row():
    """Each CLAIMS quote is in the section, and every sentence of its prose overlaps one."""
    section = _readme_optimizer_section()
    whole = _collapse(section)
    missing = [c.quote for c in CLAIMS if c.quote not in whole]
    assert not missing, missing
    prose = _collapse(re.sub(r"```.*?```", " ", section.split("\n", 1)[1], flags=re.S))
    spans = [(prose.index(c.quote), prose.index(c.quote) + len(c.quote))
             for c in CLAIMS if c.quote in prose]  # fmt: skip
    start, uncovered = 0, []
    for end in [m.start() for m in re.finditer(r"(?<=[.;:])\s+(?=[-A-Z`*(\"])", prose)] + [
        len(prose)
    ]:
        if not any(a < end and start < b for a, b in spans):
            uncovered.append(prose[start:end])
        start = end
    assert not uncovered, uncovered


def test_every_claim_names_tests_that_exist():
    names: dict[str, set[str]] = {}
    for claim in CLAIMS:
        assert claim.tests
        for test in claim.tests:
            file, _, function = test.partition("::")
            if file not in names:
                tree = ast.parse((ROOT / "tests" / file).read_text())
                names[file] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert function.startswith("test_") and function in names[file], test


def test_gpu_script_runs_the_compile_tests_and_every_bench_shape():
    """benchmarks/gpu_check.sh compiles with inductor on the GPU and benchmarks every shape."""
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    assert re.search(r"VRADAM_COMPILE_BACKEND=inductor python3 -m pytest .*tests/test_compile\.py",
                     script)  # fmt: skip
    assert "tests/test_cuda.py" in script
    (bench,) = [
        line for line in script.splitlines() if line.startswith("python3 benchmarks/bench_optim")
    ]
    assert "--device cuda" in bench and "--sizes" not in bench and "--quick" not in bench


def test_readme_speed_names_every_bench_shape():
    """The README's speed statement quotes a ratio for every shape bench_optim.py measures."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench_optim.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    speed = _collapse(_readme_optimizer_section()).split("Speed (", 1)[1]
    for name, config in bench.SIZES.items():
        tensors = len(bench.transformer_shapes(**config))
        size = name.split("/")[0]
        assert re.search(rf"\b{re.escape(size)}\b[^×]*?\b{tensors} (smaller )?tensors", speed), name
