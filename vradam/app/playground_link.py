"""Reading a Playground link: query parameters → a :class:`PlaygroundConfig`, each bad
value replaced by its default with a warning that quotes it (at a bounded length), so that
a link cannot set a value the page's widgets would reject (vradam.app.playground holds the
widgets' ranges; vradam.app.ui.playground gives each widget the same one)."""

from __future__ import annotations

import math
from dataclasses import replace

import landscapes
from vradam.app.playground import (
    COORD_LIMIT,
    MAX_OPTIMIZERS,
    N_STARTS_RANGE,
    NOISE_RANGE,
    SAME_LR_RANGE,
    SCHEMA_VERSION,
    SEED_RANGE,
    START_MODES,
    STEPS_RANGE,
    PlaygroundConfig,
    check_widget_values,
    default_optimizers,
    domain_ok,
    parse_floats,
)
from vradam.app.quoting import quote, shorten
from vradam.sim import schedules
from vradam.sim.optimizers import OptimizerSpec

__all__ = ["read_link"]


def read_link(query) -> tuple[PlaygroundConfig, list[str]]:
    """A config from query parameters; bad values fall back to defaults, with warnings.

    ``query`` maps names to a string or a list of strings (repeated keys).
    """
    q, warnings = _Query(query), []
    version = q.get("v")
    if version is not None and version != SCHEMA_VERSION:
        warnings.append(
            f"link version {quote(version)} is not {SCHEMA_VERSION}; read as well as possible"
        )
    default = PlaygroundConfig()
    fields = _landscape_fields(q, default, warnings)
    key = fields.get("landscape", default.landscape)
    fields.update(_start_fields(q, warnings))
    opts = _optimizer_fields(q, warnings)
    if opts:
        fields["optimizers"] = opts
    elif "landscape" in fields and key != "custom":
        fields["optimizers"] = default_optimizers(
            landscapes.get(key, **dict(fields.get("landscape_params", ())))
        )
    fields.update(_scalar_fields(q, default, warnings))
    try:
        config = PlaygroundConfig(**fields)
        if key == "custom" and not opts:
            config = replace(config, optimizers=default_optimizers(config.landscape_obj()))
    except ValueError as exc:
        warnings.append(
            f"the link's settings could not be used ({shorten(str(exc))}); showing the defaults"
        )
        config = default
    return config, warnings


class _Query:
    """Read a query mapping whose values are strings or lists of strings (repeated keys)."""

    def __init__(self, query) -> None:
        self.query = query

    def get(self, name):
        """The last value of ``name``, or None."""
        value = self.query.get(name)
        if isinstance(value, (list, tuple)):
            return value[-1] if value else None
        return value

    def get_all(self, name) -> list:
        value = self.query.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]


def _landscape_fields(q: _Query, default: PlaygroundConfig, warnings: list[str]) -> dict:
    """landscape, landscape_params, expression and domain from the link."""
    fields: dict = {}
    landscape = q.get("ls")
    if landscape is not None:
        if landscape == "custom" or landscape in landscapes.REGISTRY:
            fields["landscape"] = landscape
        else:
            warnings.append(f"unknown landscape {quote(landscape)} in the link; showing Rosenbrock")
    key = fields.get("landscape", default.landscape)
    if key in landscapes.FACTORIES:
        params = []
        ranges = landscapes.PARAM_RANGES.get(key, {})
        for name, _ in landscapes.get(key).params:
            raw = q.get(f"lp_{name}")
            if raw is None:
                continue
            value = _number(raw)
            lo, hi, _step = ranges.get(name, (-math.inf, math.inf, None))
            if value is None:
                warnings.append(f"ignored {name}={quote(raw)}: not a number")
            elif not lo <= value <= hi:
                warnings.append(f"ignored {name}={quote(raw)}: must be between {lo:g} and {hi:g}")
            else:
                params.append((name, value))
        if params:
            try:
                landscapes.get(key, **dict(params))
                fields["landscape_params"] = tuple(params)
            except ValueError as exc:
                warnings.append(f"ignored the landscape parameters: {shorten(str(exc))}")
    if key == "custom":
        fields["expression"] = q.get("expr") or ""
        dom = parse_floats(q.get("dom"), 4)
        if dom is not None and domain_ok(dom):
            fields["domain"] = tuple(dom)
        elif q.get("dom") is not None:
            warnings.append(
                "ignored the domain in the link: expected xmin,xmax,ymin,ymax with "
                f"xmin < xmax, ymin < ymax, each within ±{COORD_LIMIT:g}"
            )
    return fields


def _start_fields(q: _Query, warnings: list[str]) -> dict:
    fields: dict = {}
    start = q.get("start")
    if start is not None:
        pt = parse_floats(start, 2)
        if pt is None or max(abs(v) for v in pt) > COORD_LIMIT:
            warnings.append(f"ignored start={quote(start)}: expected x,y within ±{COORD_LIMIT:g}")
        else:
            fields["start"] = tuple(pt)
    mode = q.get("starts")
    if mode is not None:
        if mode in START_MODES:
            fields["start_mode"] = mode
        else:
            warnings.append(
                f"ignored starts={quote(mode)}: expected one of {', '.join(START_MODES)}"
            )
    return fields


def _optimizer_fields(q: _Query, warnings: list[str]) -> tuple[str, ...]:
    """The link's valid optimizer specs (at most MAX_OPTIMIZERS)."""
    opts = []
    for text in q.get_all("opt"):
        try:
            spec = OptimizerSpec.parse(text)
            check_widget_values(spec)
            opts.append(text)
        except ValueError as exc:
            warnings.append(f"ignored optimizer {quote(text)}: {shorten(str(exc))}")
    if len(opts) > MAX_OPTIMIZERS:
        warnings.append(f"kept the first {MAX_OPTIMIZERS} optimizers of the link")
    return tuple(opts[:MAX_OPTIMIZERS])


_SCALARS = [  # config field, query name, whole number?, the widget's range
    ("n_starts", "n", True, N_STARTS_RANGE),
    ("same_lr", "lr", False, SAME_LR_RANGE),  # (written as plain numbers in warnings)
    ("steps", "steps", True, STEPS_RANGE),
    ("noise", "noise", False, NOISE_RANGE),
    ("seed", "seed", True, SEED_RANGE),
]


def _number(raw) -> float | None:
    """A finite number from a link's text, or None."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _scalar_fields(q: _Query, default: PlaygroundConfig, warnings: list[str]) -> dict:
    fields: dict = {}
    for name, qname, whole, (lo, hi) in _SCALARS:
        raw = q.get(qname)
        if raw is None:
            continue
        value = _number(raw)
        if value is None:
            warnings.append(f"ignored {qname}={quote(raw)}: not a number")
        elif whole and value != int(value):
            warnings.append(f"ignored {qname}={quote(raw)}: not a whole number")
        elif not lo <= value <= hi:
            warnings.append(f"ignored {qname}={quote(raw)}: must be between {lo} and {hi}")
        else:
            fields[name] = int(value) if whole else value
    raw = q.get("sched")
    if raw is not None:
        if raw in schedules.SCHEDULES:
            fields["schedule"] = raw
        else:
            known = ", ".join(schedules.SCHEDULES)
            warnings.append(f"ignored sched={quote(raw)}: expected one of {known}")
    return fields
