"""The Playground's state, without Streamlit: config, URL round trip, runs, table, matched rate.

A :class:`PlaygroundConfig` is a frozen record of primitives (it pickles, compares,
prints and round-trips through the URL). :func:`run` turns it into trajectories;
:func:`results_table` into the rows of the results table.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

import landscapes
from vradam.calibrate import SUGGEST_STEPS, SUGGEST_TARGET, beta3_from_peak
from vradam.sim import schedules
from vradam.sim.engine import Trajectory, simulate
from vradam.sim.measures import loss_increases, percent
from vradam.sim.optimizers import OptimizerSpec, gate_activity_of

SCHEMA_VERSION = "1"
START_MODES = ("single", "cloud", "grid")
MAX_OPTIMIZERS = 8
MAX_STEPS = 2000
MAX_STARTS = 100
DEFAULT_DOMAIN = (-3.0, 3.0, -3.0, 3.0)
# The Playground widgets' ranges. A link's value outside one is refused with a warning
# (vradam.app.ui.playground gives each widget the same range), so a link cannot set a
# value its widget would reject.
STEPS_RANGE = (10, MAX_STEPS)
N_STARTS_RANGE = (2, MAX_STARTS)
SAME_LR_RANGE = (1e-4, 50.0)
NOISE_RANGE = (0.0, 1000.0)
SEED_RANGE = (0, 2**31 - 1)
COORD_LIMIT = 1e6  # |x|, |y| of a start point or a custom domain's edge


def default_optimizers(ls: landscapes.Landscape | str) -> tuple[str, ...]:
    """Adam and VRAdam at the landscape's suggested α0 (and β3 for VRAdam)."""
    if isinstance(ls, str):
        ls = landscapes.get(ls)
    lr = ls.suggested_lr
    return (f"adam:lr={lr:g}", f"vradam:lr={lr:g},beta3={ls.suggested_beta3:g},weight_decay=0")


# The default race (also the first scenario): Rosenbrock at the suggested α0 = 0.3.
DEFAULT_OPTIMIZERS = (
    "adam:lr=0.3",
    "vradam:lr=0.3,beta3=0.005,weight_decay=0",
    "momentum:lr=0.002",
    "rmsprop:lr=0.01",
)


def canonical(text: str | OptimizerSpec) -> OptimizerSpec:
    """``"vradam:lr=0.3,beta1=0.9"`` → the spec ``vradam:lr=0.3``: defaults dropped (a
    spec is taken as it is, not parsed again)."""
    spec = text if isinstance(text, OptimizerSpec) else OptimizerSpec.parse(text)
    defaults = spec.info.defaults
    if all(v != defaults[k] for k, v in spec.params):
        return spec
    return OptimizerSpec(spec.key, {k: v for k, v in spec.params if v != defaults[k]}, spec.label)


def canonical_spec(text: str) -> str:
    """``"vradam:lr=0.3,beta1=0.9"`` → ``"vradam:lr=0.3"``: sorted, defaults dropped."""
    return str(canonical(text))


@dataclass(frozen=True)
class PlaygroundConfig:
    landscape: str = "rosenbrock"  # a registry key, or "custom"
    landscape_params: tuple[tuple[str, float], ...] = ()  # e.g. (("condition", 25.0), ...)
    expression: str = ""  # f(x, y) when landscape == "custom"
    domain: tuple[float, float, float, float] = DEFAULT_DOMAIN  # custom only: xmin,xmax,ymin,ymax
    start: tuple[float, float] | None = None  # None: the landscape's default start
    start_mode: str = "single"  # single | cloud | grid
    n_starts: int = 16  # cloud size, or points of the grid (rounded to a square)
    # Given as specs (the editor) or spec strings (links, presets); kept as canonical text,
    # the URL's form, with the specs alongside (optimizer_specs(), specs()).
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    same_lr: float | None = None  # when set, every optimizer runs at this α0
    steps: int = 500
    noise: float = 0.0  # std of Gaussian gradient noise
    seed: int = 0
    schedule: str = "constant"
    _canonical: tuple[OptimizerSpec, ...] = field(default=(), init=False, repr=False,
                                                  compare=False)  # fmt: skip
    _specs: tuple[OptimizerSpec, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.landscape != "custom" and self.landscape not in landscapes.REGISTRY:
            valid = ", ".join(sorted(landscapes.REGISTRY))
            raise ValueError(f"unknown landscape {self.landscape!r}; valid: {valid}, custom")
        if self.landscape == "custom" and not self.expression.strip():
            raise ValueError("a custom landscape needs an expression f(x, y)")
        if self.start_mode not in START_MODES:
            raise ValueError(f"start mode must be one of {', '.join(START_MODES)}")
        if not 1 <= self.n_starts <= MAX_STARTS:
            raise ValueError(f"number of starts must be between 1 and {MAX_STARTS}")
        if not 1 <= len(self.optimizers) <= MAX_OPTIMIZERS:
            raise ValueError(f"choose between 1 and {MAX_OPTIMIZERS} optimizers")
        # Canonical spec strings (sorted, defaults dropped), so equal setups compare equal;
        # each text is parsed once here (a spec not at all) and the specs kept.
        parsed = [canonical(t) for t in self.optimizers]
        object.__setattr__(self, "optimizers", tuple(str(s) for s in parsed))
        object.__setattr__(self, "_canonical", tuple(parsed))
        if self.same_lr is not None and not (math.isfinite(self.same_lr) and self.same_lr >= 0):
            raise ValueError(f"α0 must be a finite number ≥ 0, got {self.same_lr}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"gradient noise must be ≥ 0, got {self.noise}")
        if self.schedule not in schedules.SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}")
        if self.start is not None and not all(math.isfinite(v) for v in self.start):
            raise ValueError("the start point must be finite")
        if self.same_lr is not None:
            parsed = [OptimizerSpec(s.key, {**dict(s.params), "lr": self.same_lr}, s.label)
                      for s in parsed]  # fmt: skip
        object.__setattr__(self, "_specs", tuple(parsed))

    # -- derived ---------------------------------------------------------------------

    def landscape_obj(self) -> landscapes.Landscape:
        return _landscape(self.landscape, self.landscape_params, self.expression, self.domain)

    def start_point(self) -> tuple[float, float]:
        return self.start if self.start is not None else self.landscape_obj().start

    def start_points(self) -> np.ndarray:
        """(N, 2): the chosen start first, then the cloud or grid."""
        ls = self.landscape_obj()
        x, y = self.start_point()
        (x0, x1), (y0, y1) = ls.domain
        if self.start_mode == "single" or self.n_starts == 1:
            return np.array([[x, y]])
        if self.start_mode == "cloud":
            rng = np.random.default_rng(self.seed + 12345)
            spread = 0.05 * np.array([x1 - x0, y1 - y0])
            cloud = np.array([x, y]) + spread * rng.standard_normal((self.n_starts - 1, 2))
            return np.vstack([[x, y], cloud])
        side = max(2, round(math.sqrt(self.n_starts)))
        X, Y = np.meshgrid(np.linspace(x0, x1, side + 2)[1:-1], np.linspace(y0, y1, side + 2)[1:-1])
        return np.vstack([[x, y], np.stack([X.ravel(), Y.ravel()], axis=1)])

    def specs(self) -> list[OptimizerSpec]:
        """The optimizers as they run (α0 replaced by ``same_lr`` when set); parsed once."""
        return list(self._specs)

    def optimizer_specs(self) -> list[OptimizerSpec]:
        """The optimizers as given (each its own α0), canonical: what the editor shows."""
        return list(self._canonical)

    # -- URL ---------------------------------------------------------------------------

    def to_query(self) -> dict[str, str | list[str]]:
        """Query-string parameters (schema version "v") that reproduce this config."""
        q: dict[str, str | list[str]] = {"v": SCHEMA_VERSION, "ls": self.landscape}
        for name, value in self.landscape_params:
            q[f"lp_{name}"] = f"{value:g}"
        if self.landscape == "custom":
            q["expr"] = self.expression
            q["dom"] = ",".join(f"{v:g}" for v in self.domain)
        if self.start is not None:
            q["start"] = f"{self.start[0]:.6g},{self.start[1]:.6g}"
        if self.start_mode != "single":
            q["starts"] = self.start_mode
            q["n"] = str(self.n_starts)
        q["opt"] = list(self.optimizers)
        if self.same_lr is not None:
            q["lr"] = f"{self.same_lr:.6g}"
        q["steps"] = str(self.steps)
        if self.noise:
            q["noise"] = f"{self.noise:g}"
        if self.seed:
            q["seed"] = str(self.seed)
        if self.schedule != "constant":
            q["sched"] = self.schedule
        return q

    @classmethod
    def from_query(cls, query) -> tuple[PlaygroundConfig, list[str]]:
        """A config from query parameters; bad values fall back to defaults, with warnings
        (:func:`vradam.app.playground_link.read_link`).

        ``query`` maps names to a string or a list of strings (repeated keys).
        """
        from vradam.app.playground_link import read_link  # it builds configs of this class

        return read_link(query)


def check_widget_values(spec: OptimizerSpec) -> None:
    """Raise ValueError for a value the optimizer editor cannot show: not finite, or
    not positive on a log-scale slider (β3 may be 0: its slider offers "0 (off)")."""
    for hp in spec.info.hyperparams:
        value = spec.hyperparams.get(hp.name)
        if not isinstance(value, float | int):
            continue
        if not math.isfinite(value):
            raise ValueError(f"{hp.name} must be a finite number")
        if hp.log and hp.name != "beta3" and value <= 0:
            raise ValueError(f"{hp.name} must be greater than 0")


def domain_ok(dom) -> bool:
    x0, x1, y0, y1 = dom
    return x0 < x1 and y0 < y1 and max(abs(v) for v in dom) <= COORD_LIMIT


def parse_floats(text, n):
    """``n`` finite numbers from comma-separated ``text``, or None if it is not that."""
    if text is None:
        return None
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        return None
    if len(values) != n or not all(math.isfinite(v) for v in values):
        return None
    return values


def landscape_of(key: str, params: tuple, expression: str, domain: tuple) -> landscapes.Landscape:
    """The landscape of these config fields (cached; ValueError for a bad expression)."""
    if key != "custom" and key not in landscapes.REGISTRY:
        raise ValueError(f"unknown landscape {key!r}")
    return _landscape(key, params, expression, domain)


@functools.cache
def default_config() -> PlaygroundConfig:
    """``PlaygroundConfig()``, built once (the page compares with it on every rerun)."""
    return PlaygroundConfig()


@lru_cache(maxsize=32)
def _landscape(key, params, expression, domain) -> landscapes.Landscape:
    if key == "custom":
        x0, x1, y0, y1 = domain
        return landscapes.from_expression(expression, domain=((x0, x1), (y0, y1)))
    return landscapes.get(key, **dict(params))


# ----------------------------------------------------------------------------- running


def run(config: PlaygroundConfig) -> list[Trajectory]:
    """Every optimizer from every start, full telemetry (pure; the page caches it)."""
    return simulate(
        config.landscape_obj(),
        config.specs(),
        config.start_points(),
        config.steps,
        noise_std=config.noise,
        seed=config.seed,
        schedule=config.schedule,
    )


GATE_COLUMNS = ("η/α₀ min · median · final", "clipped at α₁", "η ≥ 0.99·α₀", "gate")


def gate_cells(tr: Trajectory, run: int = 0) -> dict | None:
    """What the gate did in one run of a VR optimizer (vradam.sim.measures.gate_activity,
    against the schedule's base rate at each step), as the table's cells; None for an
    optimizer without the gate (or a run without telemetry)."""
    if tr.effective_lr is None:
        return None
    gate = gate_activity_of(tr.spec, tr.effective_lr[run], tr.lr)
    if gate is None:
        return None
    if not gate.steps:
        return {**dict.fromkeys(GATE_COLUMNS, "—"), GATE_COLUMNS[3]: gate.verdict}
    ratios = " · ".join(f"{v:.3g}" for v in (gate.minimum, gate.median, gate.final))
    clipped = f"{percent(gate.clipped_fraction)} of steps"
    ungated = f"{percent(gate.ungated_fraction)} of steps"
    return dict(zip(GATE_COLUMNS, (ratios, clipped, ungated, gate.verdict)))


def results_table(config: PlaygroundConfig, trajectories: list[Trajectory]) -> list[dict]:
    """One row per optimizer, for the chosen start (run 0), plus divergence over all runs;
    when a VR optimizer runs, its gate's activity (:func:`gate_cells`; None for the others)."""
    ls = config.landscape_obj()
    gates = [gate_cells(tr) for tr in trajectories]
    rows = []
    for tr, gate in zip(trajectories, gates):
        d = int(tr.diverged_at[0])
        last = tr.xy[0, -1]
        _, dist = ls.nearest_minimum(last)
        c = int(tr.converged_at[0])
        row = {
            "optimizer": tr.label,
            "final loss": float(tr.loss[0, -1]),
            "distance to nearest minimum": float(dist) if ls.minima else None,
            "converged": f"step {c}" if c >= 0 else "no",
            "diverged": f"step {d}" if d >= 0 else "no",
            "loss increases": loss_increases(tr.loss[0]),
        }
        if len(tr.diverged_at) > 1:
            row["runs diverged"] = f"{int((tr.diverged_at >= 0).sum())}/{len(tr.diverged_at)}"
        if any(g is not None for g in gates):
            row.update(gate or dict.fromkeys(GATE_COLUMNS))
        rows.append(row)
    return rows


def divergence_messages(trajectories: list[Trajectory]) -> list[str]:
    out = []
    for tr in trajectories:
        bad = np.flatnonzero(tr.diverged_at >= 0)
        if bad.size == 0:
            continue
        first = int(tr.diverged_at[bad].min())
        runs = "" if tr.diverged_at.size == 1 else f" ({bad.size} of {tr.diverged_at.size} runs)"
        out.append(
            f"{tr.label} diverged at step {first}{runs}: its loss or position stopped being "
            "finite or it left the domain enlarged 10×. Try a smaller α0."
        )
    return out


def suggest_beta3(config: PlaygroundConfig, index: int) -> float:
    """β3 by the optimizer's rule (vradam.calibrate.beta3_from_peak, as ``beta3="auto"``
    calibrates it) over the app's window: SUGGEST_TARGET over the largest ‖v‖² of this
    optimizer's first SUGGEST_STEPS steps with the gate off, from the chosen start. 1.0
    when there is no finite, positive ‖v‖² to measure."""
    spec = config.specs()[index]
    if "beta3" not in spec.hyperparams:
        raise ValueError(f"{spec.info.name} has no β3")
    probe = OptimizerSpec(spec.key, {**dict(spec.params), "beta3": 0.0})
    steps = min(SUGGEST_STEPS, config.steps)
    (tr,) = simulate(
        config.landscape_obj(), [probe], [config.start_point()], steps,
        noise_std=config.noise, seed=config.seed, schedule=config.schedule,
    )  # fmt: skip
    sq = tr.velocity_sq_norm[0]
    try:
        return beta3_from_peak(np.nanmax(sq) if np.isfinite(sq).any() else 0.0, SUGGEST_TARGET)
    except ValueError:
        return 1.0


def python_snippet(config: PlaygroundConfig) -> str:
    """Code that reproduces this run with `simulate` (for "copy as Python")."""
    if config.landscape == "custom":
        x0, x1, y0, y1 = config.domain
        ls = (
            f"landscapes.from_expression({config.expression!r}, "
            f"domain=(({x0:g}, {x1:g}), ({y0:g}, {y1:g})))"
        )
    elif config.landscape_params:
        args = ", ".join(f"{k}={v:g}" for k, v in config.landscape_params)
        ls = f"landscapes.get({config.landscape!r}, {args})"
    else:
        ls = f"landscapes.get({config.landscape!r})"
    specs = ",\n    ".join(repr(str(s)) for s in config.specs())
    starts = np.array2string(config.start_points(), separator=", ", threshold=10_000,
                             max_line_width=88, precision=6)  # fmt: skip
    extra = ""
    if config.noise:
        extra += f", noise_std={config.noise:g}, seed={config.seed}"
    if config.schedule != "constant":
        extra += f", schedule={config.schedule!r}"
    return (
        "import numpy as np\n\nimport landscapes\nfrom vradam.sim.engine import simulate\n\n"
        f"landscape = {ls}\n"
        f"optimizers = [\n    {specs},\n]\n"
        f"starts = np.array({starts})\n"
        f"runs = simulate(landscape, optimizers, starts, steps={config.steps}{extra})\n"
        "for tr in runs:\n"
        "    print(tr.label, tr.loss[0, -1], tr.diverged_at[0], tr.converged_at[0])\n"
    )


def config_dict(config: PlaygroundConfig) -> dict:
    """The config's fields as plain JSON-able data (for exports; not its parsed specs,
    which ``optimizers`` states as text)."""
    d = {f.name: getattr(config, f.name) for f in fields(config) if f.init}
    d["landscape_params"] = dict(config.landscape_params)
    return d


def export_meta(config: PlaygroundConfig) -> dict:
    """What the Playground's CSV and JSON downloads carry besides the runs."""
    return dict(
        landscape=config.landscape, seed=config.seed, noise_std=config.noise,
        schedule=config.schedule, optimizers=[str(s) for s in config.specs()],
        playground=config_dict(config), url_query=config.to_query(),
    )  # fmt: skip


def query_lists(config: PlaygroundConfig) -> dict[str, list[str]]:
    """``config.to_query()`` with every value a list, as ``st.query_params`` reads a URL."""
    return {k: (v if isinstance(v, list) else [v]) for k, v in config.to_query().items()}


def landscape_label(key: str, params: dict) -> str:
    """The picker's name of a landscape; a parametrised one (the ravine) with the κ and θ its
    sliders hold (``params``), not its record's defaults."""
    if key == "custom":
        return "Custom f(x, y)…"
    if key in landscapes.FACTORIES:
        try:
            return landscapes.get(key, **params).name
        except ValueError:
            pass
    return landscapes.REGISTRY[key].name


FORMULA_LINE = 32  # characters of LaTeX source a formula line may take before it breaks


def _top_level_breaks(formula: str) -> list[int]:
    r"""Where a formula may break outside every bracket: before a binary + or − (written
    with spaces around it) and between two \left…\right groups written side by side."""
    depth, out, i = 0, [], 0
    while i < len(formula):
        if formula.startswith(r"\left", i):
            depth, i = depth + 1, i + 6  # \left and its delimiter
            if depth == 1 and i - 6 > 0 and formula[i - 7] in ")]":
                out.append(i - 6)  # …\right]\left[…: a product of two groups
            continue
        if formula.startswith(r"\right", i):
            depth, i = depth - 1, i + 7
            continue
        c = formula[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c in "+-" and formula[i - 1 : i + 2 : 2] == "  ":
            out.append(i)  # " + " or " - ": a binary operator
        i += 1
    return out


def _formula_lines(formula: str, width: int = FORMULA_LINE) -> list[str]:
    """``formula`` cut at its top-level breaks into lines of about ``width`` characters."""
    lines, start, last = [], 0, 0
    for b in [*_top_level_breaks(formula), len(formula)]:
        if b - start > width and last > start:
            lines.append(formula[start:last].strip())
            start = last
        last = b
    lines.append(formula[start:].strip())
    return [line for line in lines if line]


def _halves(part: str) -> list[str]:
    """A part of a several-part formula, in two lines at the top-level break nearest its
    middle when it is longer than a line (Goldstein–Price's A and B)."""
    breaks = _top_level_breaks(part)
    if len(part) <= FORMULA_LINE + 4 or not breaks:
        return [part]
    cut = min(breaks, key=lambda i: abs(i - len(part) / 2))
    return [part[:cut].strip(), "{}" + part[cut:].strip()]  # {}: a binary − or +


def formula_latex(formula: str) -> str:
    r"""``f(x, y) = …``; a long formula's ``\quad``-separated parts go on their own lines,
    and a long part is cut outside its brackets (before a + or −, or between two bracketed
    factors), so that it fits its column on a 1024-pixel screen."""
    parts = [p.strip().strip(",") for p in re.split(r"\\quad|,\\;", formula)]
    if len(parts) > 1 and len(formula) > 80:
        lines = [line for part in parts for line in _halves(part)]
        return r"\begin{gathered} f(x, y) = " + r" \\ ".join(lines) + r" \end{gathered}"
    lines = _formula_lines(formula)
    if len(lines) == 1:
        return rf"f(x, y) = {formula}"
    rest = "".join(rf" \\ & {{}}{line}" for line in lines[1:])
    return rf"\begin{{aligned}} f(x, y) = {{}} & {lines[0]}{rest} \end{{aligned}}"


# ----------------------------------------------------------------------------- matched rate

MATCHED_LABEL = "Adam at VRAdam's η"


def mean_effective_rate(tr: Trajectory, window: int | None = None, run: int = 0) -> float:
    """VRAdam's mean η_t over its first ``window`` updates (all by default) of one run,
    divided by the schedule's mean factor, so that Adam at this α0 under the same
    schedule has the same mean effective rate. Steps after a divergence are skipped."""
    eta = tr.effective_lr[run, :window]
    factor = np.mean(tr.lr[: eta.size]) / tr.spec.hyperparams["lr"]
    finite = eta[np.isfinite(eta)]
    if finite.size == 0 or not factor > 0:
        raise ValueError(f"{tr.label} has no finite effective rate to match")
    return float(f"{finite.mean() / factor:.3g}")


def has_matched_control(spec: OptimizerSpec) -> bool:
    """Whether "Adam at VRAdam's η" applies: VRAdam only. A named exception to "no code
    branches on an optimizer's key": the control is defined as Adam (VRAdam with β3 = 0)
    at VRAdam's rate, the paper's comparison."""
    return spec.key == "vradam"


def matched_adam(config: PlaygroundConfig, trajectories: list[Trajectory], index: int) -> str:
    """The spec of "Adam at VRAdam's η" for optimizer ``index`` (a VRAdam) of this run:
    Adam at its mean effective rate over the run from the chosen start, with its β1, β2
    and ε (AdamW with its decoupled weight decay, when it has one)."""
    spec = config.specs()[index]
    if not has_matched_control(spec):
        raise ValueError(f"{spec.display_name} is not VRAdam")
    hp = spec.hyperparams
    rate = mean_effective_rate(trajectories[index])
    key, decay = ("adamw", f",weight_decay={hp['weight_decay']:g}") if hp["weight_decay"] else (
        "adam", "")  # fmt: skip
    params = f"lr={rate:g},beta1={hp['beta1']:g},beta2={hp['beta2']:g},eps={hp['eps']:g}{decay}"
    label = MATCHED_LABEL.replace("Adam", "AdamW", 1) if decay else MATCHED_LABEL
    return canonical_spec(f"{key}:{params}@{label}")
