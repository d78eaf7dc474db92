"""The evidence set: every stored measurement behind "should I use VRAdam?", in one folder.

One **unit** is one study on one problem and one file in the folder:

* ``robustness-<task>.csv``: learning-rate robustness (:mod:`vradam.studies.robustness`) on a
  network task, AdamW and VRAdam at the task's β3 over one log grid of α0, 5 seeds;
* ``robustness-landscapes.csv``: the same on every 2-D preset with a known minimum;
* ``frontier-<problem>.csv``: the damping–cost frontier (:mod:`vradam.studies.frontier`);
* ``tuning-<task>-<arm>.json``: the tuned comparison, one ``tune`` run per arm
  (:mod:`vradam.studies.evidence_tuning`), its studies in a tuning storage.

:func:`run_evidence` computes what is missing of the chosen units (a rerun skips every
finished run, so it resumes). Any number of workers, on one machine or several, share the
units through one storage (the tuning storage: ``--storage``, ``$VRADAM_STORAGE`` or
``DIR/tuning.db``): a robustness or frontier unit through claims, batch by batch
(:mod:`vradam.studies.evidence_claims`: each run is trained by one worker, a dead worker's
batch is taken over after its heartbeat's grace period, and every worker's folder ends with
every row), a tuning unit through the tuning protocol's own claims.
:func:`load_robustness` and :func:`load_frontier` read a folder back (the app reads the
shipped one, :data:`SHIPPED`). No Streamlit here; the command is ``python -m vradam
evidence``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vradam.studies import evidence_tuning as et
from vradam.studies import frontier as fr
from vradam.studies import robustness as rb

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "evidence"
NETWORK_TASKS = ("moons", "digits", "lm", "imagegen", "gflownet")
LANDSCAPES = "landscapes"
TUNING = et.TUNING  # the tuned comparison's units, and the --tasks name of them all
# The default run's grids: α0 every half decade from 1 decade below the task's α0 to 1.5
# above (6 values; the robustness command's default has 11, every quarter decade, and
# costs twice as much), 5 seeds; digits reaches 2.5 decades above (its AdamW breaks down at
# α0 = 0.3-1: 8 values).
GRIDS: dict[str, dict] = {task: dict(points=6) for task in NETWORK_TASKS}
GRIDS["digits"] = dict(above=2.5, points=8)
SMALL = dict(points=2, seeds=2, steps=10)  # --small: a CI-sized robustness study
SMALL_LANDSCAPES = ("quadratic", "rosenbrock")
SMALL_UNITS = (("robustness", "moons"), ("robustness", LANDSCAPES), ("frontier", "quadratic"),
               (TUNING, "moons-full"))  # fmt: skip
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    """One study on one problem: ``study`` "robustness", "frontier" or "tuning"; ``name`` a
    network task, :data:`LANDSCAPES`, a frontier problem, or a tuning arm ``<task>-<arm>``
    (:mod:`vradam.studies.evidence_tuning`)."""

    study: str
    name: str
    small: bool = False

    @property
    def file(self) -> str:
        return f"{self.study}-{self.name}.{'json' if self.study == TUNING else 'csv'}"

    @property
    def rows_module(self):
        """The module of the study's rows (a robustness or frontier unit): its ``ROW_FIELDS``,
        ``parse_row``, ``rows_csv`` and ``run_key``."""
        return rb if self.study == "robustness" else fr

    @property
    def fields(self) -> list[str]:
        return self.rows_module.ROW_FIELDS

    def configs(self) -> list:
        """The unit's study configs (a robustness unit of the landscapes has one a preset;
        a tuning unit its :class:`~vradam.studies.evidence_tuning.TuningPlan`)."""
        if self.study == TUNING:
            return [et.plan(self.name, self.small)]
        if self.study == "frontier":
            return [fr.FrontierConfig.small(self.name) if self.small
                    else fr.FrontierConfig(problem=self.name)]  # fmt: skip
        if self.name == LANDSCAPES:
            keys = SMALL_LANDSCAPES if self.small else rb.landscape_keys()
            return [robustness_config(k, "landscape", self.small) for k in keys]
        return [robustness_config(self.name, "network", self.small)]

    def run_keys(self) -> set[tuple]:
        return set() if self.study == TUNING else {k for c in self.configs() for k in c.run_keys()}

    def total_runs(self) -> int:
        return sum(c.total_runs() for c in self.configs())

    def command(self) -> str:
        """The command that computes (or resumes) this unit."""
        small = " --small" if self.small else ""
        return f"python -m vradam evidence --out DIR --tasks {self.name}{small}"


def check_set(name: str) -> str:
    """``name`` if it can name an evidence set in a storage (letters, digits, - _ .), else
    ValueError in one line."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"--set must be letters, digits, '-', '_' or '.', got {name!r}")
    return name


def robustness_config(task: str, kind: str = "network", small: bool = False,
                      device: str = "cpu") -> rb.RobustnessConfig:  # fmt: skip
    """The evidence set's robustness study of one task or landscape (AdamW and VRAdam at the
    task's β3, the grid of :data:`GRIDS` or the command's default; ``small``: 2 α0 × 2
    seeds × 10 steps, 50 on a landscape)."""
    extra = dict(SMALL) if small else dict(GRIDS.get(task, {}))
    if small and kind == "landscape":
        extra["steps"] = 50
    return rb.RobustnessConfig(task=task, kind=kind, device=device, **extra)


def all_units(small: bool = False) -> list[Unit]:
    """Every unit, cheapest first within each study (network tasks, landscapes, frontier,
    then the tuned comparison's arms)."""
    names = [*NETWORK_TASKS, LANDSCAPES]
    units = [Unit("robustness", n, small) for n in names]
    units += [Unit("frontier", p, small) for p in fr.PROBLEMS]
    units += [Unit(TUNING, n, small) for n in et.names(small)]
    return units


def choose_units(tasks: Iterable[str] = (), small: bool = False) -> list[Unit]:
    """The units naming one of ``tasks`` (a task names its robustness study and, if it is a
    frontier problem, its frontier too; "tuning" every tuning arm, an arm's name that one);
    none given: every unit (``small``: the robustness of the moons and two landscapes, the
    quadratic's frontier and the moons' tuning with each full search)."""
    tasks, units = list(tasks), all_units(small)
    if not tasks:
        return [u for u in units if (u.study, u.name) in SMALL_UNITS] if small else units
    known = {u.name for u in units} | {TUNING}
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise ValueError(f"unknown evidence task(s) {', '.join(unknown)}; valid: "
                         f"{', '.join(sorted(known))}")  # fmt: skip
    return [u for u in units if u.name in tasks or (u.study == TUNING and TUNING in tasks)]


# ----------------------------------------------------------------------------- storage


def read_text(path: Path) -> str | None:
    """A results file's text: ``path``, else its gzipped copy ``path.gz`` (how the package
    ships the larger files), else None."""
    if path.exists():
        return path.read_text()
    packed = path.with_name(path.name + ".gz")
    if packed.exists():
        return gzip.decompress(packed.read_bytes()).decode()
    return None


_CACHE: dict[tuple, list[dict]] = {}


def _stamp(path: Path) -> tuple | None:
    for p in (path, path.with_name(path.name + ".gz")):
        try:
            st = p.stat()
        except OSError:
            continue
        return str(p), st.st_mtime_ns, st.st_size
    return None


def read_rows(path: Path, unit: Unit) -> list[dict]:
    """The unit's rows in ``path`` (or ``path.gz``; none if neither exists). A last line
    cut short by a process still writing is skipped; other columns are a ValueError.
    Parsed once per version of the file (do not change the rows returned). A tuning unit
    has no rows (its JSON: :func:`vradam.studies.evidence_tuning.read_result`)."""
    stamp = None if unit.study == TUNING else _stamp(path)
    if stamp is None:
        return []
    key = (*stamp, unit.study)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = _parse(path, unit)
    return _CACHE[key]


def _parse(path: Path, unit: Unit) -> list[dict]:
    text = read_text(path)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames and reader.fieldnames != unit.fields:
        raise ValueError(f"{path} is not a {unit.study} results file of this version "
                         "(other columns): remove it or choose another folder")  # fmt: skip
    parse = unit.rows_module.parse_row
    rows, complete = [], text.endswith("\n")
    lines = text.count("\n")
    for n, raw in enumerate(reader, start=2):
        if n > lines and not complete:
            break  # the line being written
        try:
            rows.append(parse(raw))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}, line {n}: unreadable row ({exc})") from None
    return rows


def run_key(unit: Unit, row: dict) -> tuple:
    """What makes two of the unit's rows the same run."""
    return unit.rows_module.run_key(row)


def missing(folder: Path, unit: Unit) -> int:
    """How many of the unit's runs its CSV in ``folder`` does not hold yet (a tuning unit:
    none once its JSON is there, else all: its progress is in the storage)."""
    if unit.study == TUNING:
        return 0 if et.done(folder, unit.name, unit.small) else unit.total_runs()
    have = {run_key(unit, r) for r in read_rows(folder / unit.file, unit)}
    return len(unit.run_keys() - have)


def run_evidence(folder: Path, units: list[Unit], progress: Progress = print,
                 poll: float = 2.0, storage: str | None = None,
                 set_name: str = "evidence") -> dict[str, float]:  # fmt: skip
    """Compute every missing run of ``units`` into ``folder``, sharing them with every
    worker of the same ``storage`` (:func:`vradam.studies.evidence_tuning.storage_url`) and
    evidence set ``set_name``: a robustness or frontier unit through claims, batch by batch
    (:mod:`vradam.studies.evidence_claims`), a tuning unit through the tuning protocol's own.
    Waits for the runs other workers hold, then completes the folder with their rows.
    Returns each unit's file → seconds this process spent on it (units the folder lacked)."""
    folder.mkdir(parents=True, exist_ok=True)
    spent: dict[str, float] = {}
    store, workers, said = None, {}, set()
    pending = [u for u in units if missing(folder, u)]
    while pending:
        waiting = []
        for unit in pending:
            began = time.perf_counter()
            if unit.study == TUNING:
                et.run_tuning(folder, unit.name, unit.small, storage, progress, min(poll, 1.0))
                spent[unit.file] = time.perf_counter() - began
                continue
            if unit.file not in workers:
                from vradam.studies import evidence_claims as ec
                from vradam.studies.tuning import open_storage

                if store is None:
                    store = open_storage(et.storage_url(folder, storage))
                progress(f"{unit.file}: {missing(folder, unit)} of {unit.total_runs()} runs "
                         "to do")  # fmt: skip
                workers[unit.file] = ec.Worker(folder, unit, store, set_name, progress, poll)
            while (state := workers[unit.file].step()) is None:
                pass
            spent[unit.file] = spent.get(unit.file, 0.0) + time.perf_counter() - began
            if not state:
                waiting.append(unit)
        new = {u.file for u in waiting} - said
        if new:
            progress(f"other workers hold the last runs of {', '.join(sorted(new))}; waiting")
            said |= new
        if waiting:
            time.sleep(poll)
        pending = waiting
    return spent


# ----------------------------------------------------------------------------- reading


def load_robustness(task: str, folder: Path = SHIPPED, small: bool = False) -> rb.RobustnessResult:
    """The robustness result of a network task or a 2-D preset from ``folder``'s CSV."""
    if task in NETWORK_TASKS:
        unit, config = Unit("robustness", task, small), robustness_config(task, small=small)
    else:
        unit = Unit("robustness", LANDSCAPES, small)
        config = robustness_config(task, "landscape", small)
    rows = read_rows(folder / unit.file, unit)
    return rb.summarize(config, rb.study_rows(config, rows))


def frontier_rows(problem: str, folder: Path = SHIPPED, small: bool = False) -> list[dict]:
    unit = Unit("frontier", problem, small)
    (config,) = unit.configs()
    return fr.study_rows(config, read_rows(folder / unit.file, unit))


def load_frontier(problem: str, folder: Path = SHIPPED, small: bool = False):
    """The frontier verdict of one problem from ``folder`` (None without rows)."""
    rows = frontier_rows(problem, folder, small)
    return fr.frontier_verdict(rows) if rows else None


def summary(folder: Path, units: list[Unit]) -> dict:
    """The evidence set's measures for JSON: each unit's file, runs, and its results (the
    robustness statements and measures, the frontier verdict)."""
    from vradam.sim import export

    out = []
    for unit in units:
        entry = dict(file=unit.file, study=unit.study, name=unit.name,
                     runs=unit.total_runs() - missing(folder, unit), expected=unit.total_runs(),
                     command=unit.command())  # fmt: skip
        if unit.study == TUNING:
            entry["results"] = et.summary(folder, unit.name)
        elif unit.study == "robustness":
            rows = read_rows(folder / unit.file, unit)
            entry["results"] = {c.task: rb.result_dict(rb.summarize(c, rb.study_rows(c, rows)))
                                for c in unit.configs()}  # fmt: skip
        else:
            verdict = load_frontier(unit.name, folder, unit.small)
            entry["verdict"] = None if verdict is None else dict(
                sentence=verdict.sentence, below=verdict.below,
                clearly_below=verdict.clearly_below, vradam_cells=verdict.vradam_cells,
                beyond=verdict.beyond, seeds=verdict.seeds,
            )  # fmt: skip
        out.append(entry)
    return dict(versions=export.versions(), units=out)


def write_summary(folder: Path, units: list[Unit], name: str = "evidence.json") -> Path:
    """:func:`summary` as JSON in ``folder`` (written to a temporary file, then moved into
    place, so a reader never sees half of it)."""
    path = folder / name
    tmp = folder / f".{name}.{os.getpid()}"
    tmp.write_text(json.dumps(_clean(summary(folder, units)), allow_nan=False, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    value = rb.json_ready(value)
    return None if isinstance(value, float) and not math.isfinite(value) else value


__all__ = [
    "GRIDS", "LANDSCAPES", "NETWORK_TASKS", "SHIPPED", "SMALL", "TUNING", "Unit", "all_units",
    "check_set", "choose_units", "frontier_rows", "load_frontier", "load_robustness", "missing",
    "read_rows", "robustness_config", "run_evidence", "run_key", "summary", "write_summary",
]  # fmt: skip
