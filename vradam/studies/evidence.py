"""The evidence set: every stored measurement behind "should I use VRAdam?", in one folder.

One **unit** is one study on one problem and one CSV in the folder:

* ``robustness-<task>.csv``: learning-rate robustness (:mod:`vradam.studies.robustness`) on a
  network task, AdamW and VRAdam at the task's β3 over one log grid of α0, 5 seeds;
* ``robustness-landscapes.csv``: the same on every 2-D preset with a known minimum;
* ``frontier-<problem>.csv``: the damping–cost frontier (:mod:`vradam.studies.frontier`).

:func:`run_evidence` computes what is missing of the chosen units (a rerun skips every
finished run, so it resumes). Several processes may share one folder: a process works on
a unit only while it holds the unit's claim (``<file>.lock``, created atomically; one left
by a process that died on this machine is taken over), appends each finished run to the
unit's CSV, and waits for units another process holds. :func:`load_robustness` and
:func:`load_frontier` read a folder back (the app reads the shipped one,
:data:`SHIPPED`). No Streamlit here; the command is ``python -m vradam evidence``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vradam.studies import frontier as fr
from vradam.studies import robustness as rb

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "evidence"
NETWORK_TASKS = ("moons", "digits", "lm", "imagegen", "gflownet")
LANDSCAPES = "landscapes"
# The default run's grids: α0 every half decade from 1 decade below the task's α0 to 1.5
# above (6 values; the robustness command's default has 11, every quarter decade, and
# costs twice as much), 5 seeds; digits reaches 2.5 decades above (its AdamW breaks down at
# α0 = 0.3-1: 8 values).
GRIDS: dict[str, dict] = {task: dict(points=6) for task in NETWORK_TASKS}
GRIDS["digits"] = dict(above=2.5, points=8)
SMALL = dict(points=2, seeds=2, steps=10)  # --small: a CI-sized robustness study
SMALL_LANDSCAPES = ("quadratic", "rosenbrock")
SMALL_UNITS = (("robustness", "moons"), ("robustness", LANDSCAPES), ("frontier", "quadratic"))
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    """One study on one problem: ``study`` "robustness" or "frontier"; ``name`` a network
    task, :data:`LANDSCAPES`, or a frontier problem."""

    study: str
    name: str
    small: bool = False

    @property
    def file(self) -> str:
        return f"{self.study}-{self.name}.csv"

    @property
    def fields(self) -> list[str]:
        return rb.ROW_FIELDS if self.study == "robustness" else fr.ROW_FIELDS

    def configs(self) -> list:
        """The unit's study configs (a robustness unit of the landscapes has one a preset)."""
        if self.study == "frontier":
            return [fr.FrontierConfig.small(self.name) if self.small
                    else fr.FrontierConfig(problem=self.name)]  # fmt: skip
        if self.name == LANDSCAPES:
            keys = SMALL_LANDSCAPES if self.small else rb.landscape_keys()
            return [robustness_config(k, "landscape", self.small) for k in keys]
        return [robustness_config(self.name, "network", self.small)]

    def run_keys(self) -> set[tuple]:
        return {k for c in self.configs() for k in c.run_keys()}

    def total_runs(self) -> int:
        return sum(c.total_runs() for c in self.configs())

    def command(self) -> str:
        """The command that computes (or resumes) this unit."""
        small = " --small" if self.small else ""
        return f"python -m vradam evidence --out DIR --tasks {self.name}{small}"


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
    """Every unit, cheapest first within each study (network tasks, landscapes, frontier)."""
    names = [*NETWORK_TASKS, LANDSCAPES]
    units = [Unit("robustness", n, small) for n in names]
    units += [Unit("frontier", p, small) for p in fr.PROBLEMS]
    return units


def choose_units(tasks: Iterable[str] = (), small: bool = False) -> list[Unit]:
    """The units naming one of ``tasks`` (a task names its robustness study and, if it is a
    frontier problem, its frontier too); none given: every unit (``small``: the robustness
    of the moons and two landscapes, and the quadratic's frontier)."""
    tasks, units = list(tasks), all_units(small)
    if not tasks:
        return [u for u in units if (u.study, u.name) in SMALL_UNITS] if small else units
    known = {u.name for u in units}
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise ValueError(f"unknown evidence task(s) {', '.join(unknown)}; valid: "
                         f"{', '.join(sorted(known))}")  # fmt: skip
    return [u for u in units if u.name in tasks]


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
    Parsed once per version of the file (do not change the rows returned)."""
    stamp = _stamp(path)
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
    parse = rb.parse_row if unit.study == "robustness" else fr.parse_row
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


def _key(unit: Unit, row: dict) -> tuple:
    return rb.run_key(row) if unit.study == "robustness" else fr.run_key(row)


def missing(folder: Path, unit: Unit) -> int:
    """How many of the unit's runs its CSV in ``folder`` does not hold yet."""
    have = {_key(unit, r) for r in read_rows(folder / unit.file, unit)}
    return len(unit.run_keys() - have)


def _lock_path(folder: Path, unit: Unit) -> Path:
    return folder / f"{unit.file}.lock"


def _holder(lock: Path) -> tuple[str, int] | None:
    try:
        host, pid = lock.read_text().split()[:2]
        return host, int(pid)
    except (OSError, ValueError):
        return None


def _alive(holder: tuple[str, int] | None) -> bool:
    """A holder on another machine counts as alive; on this one, if its process is."""
    if holder is None:
        return True  # being written this instant
    host, pid = holder
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(folder: Path, unit: Unit) -> bool:
    """Take the unit's claim (True), or leave it to the live process holding it (False)."""
    lock = _lock_path(folder, unit)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if _alive(holder):
                return False
            # a dead holder's claim: move it aside atomically, then check it was that one
            aside = lock.with_name(f"{lock.name}.stale.{os.getpid()}")
            try:
                os.rename(lock, aside)
            except FileNotFoundError:
                continue
            if _holder(aside) != holder:
                os.rename(aside, lock)  # a fresh claim slipped in: give it back
                return False
            aside.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{socket.gethostname()} {os.getpid()}\n")
        return True
    return False


def release(folder: Path, unit: Unit) -> None:
    lock = _lock_path(folder, unit)
    if _holder(lock) == (socket.gethostname(), os.getpid()):
        lock.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- running


def _run_unit(folder: Path, unit: Unit, progress: Progress) -> int:
    """Compute the unit's missing runs, appending each to its CSV (the claim held)."""
    path = folder / unit.file
    write = rb.rows_csv if unit.study == "robustness" else fr.rows_csv
    rows = read_rows(path, unit)
    text = read_text(path) or write([])  # a shipped .gz is unpacked to be appended to
    if not text.endswith("\n"):  # a line cut short by a process that died: drop it
        text = text[: text.rfind("\n") + 1]
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    done = {_key(unit, r) for r in rows}
    todo = len(unit.run_keys() - done)
    total, new, began, shown = unit.total_runs(), 0, time.perf_counter(), 0.0
    with open(path, "a", newline="") as fh:
        for config in unit.configs():
            if unit.study == "robustness":
                runs = rb.robustness_runs(config, done)
            else:
                runs = fr.run_frontier(config, done_rows=rows)
            for row in runs:
                fh.write(write([row], header=False))
                fh.flush()  # a killed run keeps every finished row
                new += 1
                seconds = time.perf_counter() - began
                if new == todo or seconds - shown >= 30:
                    shown = seconds
                    progress(f"{unit.file}: {total - todo + new} of {total} runs "
                             f"({seconds:.0f} s)")  # fmt: skip
    return new


def run_evidence(folder: Path, units: list[Unit], progress: Progress = print,
                 poll: float = 2.0) -> dict[str, float]:  # fmt: skip
    """Compute every missing run of ``units`` into ``folder``; wait for the units another
    live process holds. Returns each unit's file → seconds this process spent on it."""
    folder.mkdir(parents=True, exist_ok=True)
    spent: dict[str, float] = {}
    pending, said = list(units), set()
    while pending:
        waiting = []
        for unit in pending:
            left = missing(folder, unit)
            if not left:
                continue
            if not claim(folder, unit):
                waiting.append(unit)
                continue
            try:
                left = missing(folder, unit)  # another process may have finished it
                if left:
                    progress(f"{unit.file}: {left} of {unit.total_runs()} runs to do")
                    began = time.perf_counter()
                    _run_unit(folder, unit, progress)
                    spent[unit.file] = time.perf_counter() - began
            finally:
                release(folder, unit)
        new = {u.file for u in waiting} - said
        if new:
            progress(f"another process is computing {', '.join(sorted(new))}; waiting")
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
        if unit.study == "robustness":
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
    "GRIDS", "LANDSCAPES", "NETWORK_TASKS", "SHIPPED", "SMALL", "Unit", "all_units",
    "choose_units", "claim", "frontier_rows", "load_frontier", "load_robustness", "missing",
    "read_rows", "release", "robustness_config", "run_evidence", "summary", "write_summary",
]  # fmt: skip
