"""How several workers share the evidence set's robustness and frontier units: claims in
the tuning storage, batch by batch, as the tuning protocol's seed phase shares its seeds
(:mod:`vradam.studies.tuning.seeds`).

Each unit has one claims study in the storage, ``evidence-<set>-<file>`` (``--set``, default
:data:`DEFAULT_SET`, so two evidence sets can share one database). Its runs fall into
**batches** (:func:`batches`, a stable order): one run of a network; one seed of the
frontier's lockstep MLP or ravine (those runs train together); every run of one 2-D preset
(one engine call a seed). A worker claims a batch by starting a trial of the claims study:
trial numbers are atomic, so "a claim takes the first batch that no finished claim, no
stored row and no running claim numbered below it holds" gives every batch to exactly one
worker (a claim first waits until every running claim numbered below it has named its
batch). It trains the batch's runs its folder lacks, stores every row of the batch in the
claim (``user_attrs["rows"]``: one CSV line each), then appends them to its CSV. A worker
killed mid-batch stops its heartbeat: its claim fails a grace period later
(:func:`vradam.studies.tuning.protocol.fail_stale_trials`) and the batch is free again.
When no batch is free, the worker waits for those others hold; once every batch is done it
appends each finished claim's rows its CSV lacks, so every worker's folder ends complete
(each on its own machine, or one folder shared). Rows already in the folder's CSV (the
shipped folder, a folder computed earlier) count as done and are not claimed.

Each run is a function of its key alone (its seed, α0, optimizer and settings), so the
rows do not depend on how many workers ran them; a CSV's rows may come in another order,
which no reader depends on (``study_rows`` puts them in the runs' order).
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.trial import TrialState

from vradam.studies import evidence as ev
from vradam.studies import frontier as fr
from vradam.studies import robustness as rb
from vradam.studies.tuning import protocol

try:
    import fcntl
except ImportError:  # Windows: one process per folder there
    fcntl = None

DEFAULT_SET = "evidence"
Progress = Callable[[str], None]


def study_name(unit: ev.Unit, set_name: str = DEFAULT_SET) -> str:
    """The unit's claims study in the storage."""
    return f"evidence-{ev.check_set(set_name)}-{unit.file}"


def claims_study(storage, unit: ev.Unit, set_name: str = DEFAULT_SET) -> optuna.Study:
    """The unit's claims (created on first use)."""
    protocol.quiet_optuna()
    return optuna.create_study(storage=storage, study_name=study_name(unit, set_name),
                               sampler=optuna.samplers.RandomSampler(seed=0),
                               load_if_exists=True)  # fmt: skip


# ----------------------------------------------------------------------------- batches


class Batch:
    """Runs that train together: their config, their keys (the runs' order) and an id
    that names them in a claim (a hash of the keys: other settings, other ids)."""

    def __init__(self, config, keys: list[tuple]):
        self.config, self.keys = config, keys
        self.id = hashlib.sha1(repr(tuple(keys)).encode()).hexdigest()[:16]


def batches(unit: ev.Unit) -> list[Batch]:
    """The unit's batches in a stable order (every worker computes the same)."""
    out = []
    for config in unit.configs():
        keys = list(config.run_keys())
        if unit.study == "robustness":
            together = config.kind == "landscape"  # one preset: an engine call a seed
            out += [Batch(config, keys)] if together else [Batch(config, [k]) for k in keys]
        elif config.spec.kind == "network":
            out += [Batch(config, [k]) for k in keys]
        else:  # the lockstep MLP, the ravine: a seed's runs train together
            seeds: dict[int, list[tuple]] = {}
            for k in keys:
                seeds.setdefault(k[-1], []).append(k)
            out += [Batch(config, ks) for ks in seeds.values()]
    return out


def _train(unit: ev.Unit, batch: Batch, todo: set[tuple]) -> list[dict]:
    """The rows of the batch's runs in ``todo`` (the code a single process runs)."""
    skip = set(batch.config.run_keys()) - todo
    if unit.study == "robustness":
        return list(rb.robustness_runs(batch.config, skip))
    return list(fr.run_frontier(batch.config, done_keys=skip))


# ----------------------------------------------------------------------------- rows


def _line(unit: ev.Unit, row: dict) -> str:
    return unit.rows_module.rows_csv([row], header=False)


def parse_line(unit: ev.Unit, line: str) -> dict:
    """A row from one of the unit's CSV lines (no header)."""
    (raw,) = list(csv.DictReader(io.StringIO(line), fieldnames=unit.fields))
    return unit.rows_module.parse_row(raw)


def _local_keys(folder: Path, unit: ev.Unit) -> set[tuple]:
    return {ev.run_key(unit, r) for r in ev.read_rows(folder / unit.file, unit)}


@contextmanager
def _exclusive(fh):
    """Hold an advisory lock on an open file (processes sharing a folder append in turn;
    it goes with its process, so a dead one leaves nothing behind)."""
    if fcntl is None:
        yield
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def append(folder: Path, unit: ev.Unit, lines: Iterable[str]) -> int:
    """Append the CSV ``lines`` (one row each) whose runs the unit's CSV lacks; returns
    how many. The file is created with its header, unpacked from a shipped ``.gz``, or
    cut back to its last whole line (a process killed while writing) first."""
    path = folder / unit.file
    with open(path, "a", newline="") as fh, _exclusive(fh):
        text = stored = path.read_text()
        if not text:
            packed = path.with_name(path.name + ".gz")
            text = ev.read_text(packed) if packed.exists() else None
            text = text or unit.rows_module.rows_csv([])
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        if stored != text:
            path.write_text(text)
        have = _local_keys(folder, unit)
        new = []
        for line in lines:
            key = ev.run_key(unit, parse_line(unit, line))
            if key not in have:
                have.add(key)
                new.append(line)
        if new:
            fh.write("".join(new))
            fh.flush()
    return len(new)


# ----------------------------------------------------------------------------- claims


def _claims(claims: optuna.Study) -> tuple[dict[str, list[str]], dict[int, str | None]]:
    """(batch id → the rows of its finished claim, running claim's number → its batch id,
    None while it has not named one)."""
    finished, running = {}, {}
    for t in claims.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        if t.state == TrialState.RUNNING:
            running[t.number] = t.user_attrs.get("batch")
        elif "rows" in t.user_attrs:
            finished.setdefault(t.user_attrs["batch"], t.user_attrs["rows"])
    return finished, running


def _open(all_: list[Batch], have: set[tuple], finished: dict) -> list[Batch]:
    """The batches neither a finished claim nor the folder's CSV holds."""
    return [b for b in all_ if b.id not in finished and not set(b.keys) <= have]


def _objective(folder: Path, unit: ev.Unit, claims: optuna.Study, all_: list[Batch],
               poll: float, out: list):  # fmt: skip
    nudged: set = set()

    def objective(trial: optuna.Trial) -> float:
        while True:
            finished, running = _claims(claims)
            if all(b is not None for n, b in running.items() if n < trial.number):
                break
            protocol.fail_stale_trials(claims, claims._storage, nudged)
            time.sleep(poll)  # an earlier claim is naming its batch: a moment
        have = _local_keys(folder, unit)
        taken = {b for n, b in running.items() if n < trial.number}
        free = [b for b in _open(all_, have, finished) if b.id not in taken]
        if not free:
            trial.set_user_attr("outcome", "nothing left to claim")
            raise optuna.TrialPruned("every batch is stored or held by another worker")
        batch = free[0]
        trial.set_user_attr("batch", batch.id)  # named: later claims now skip it
        trial.set_user_attr("worker", protocol.WORKER)
        todo = set(batch.keys) - have
        try:
            rows = _train(unit, batch, todo)
        except BaseException as exc:  # the app's Stop: Optuna lets it through, so fail the
            if not isinstance(exc, Exception | KeyboardInterrupt):  # claim (batch free again)
                claims.tell(trial, state=TrialState.FAIL)
            raise
        by_key = {ev.run_key(unit, r): r for r in ev.read_rows(folder / unit.file, unit)}
        by_key.update((ev.run_key(unit, r), r) for r in rows)
        lines = [_line(unit, by_key[k]) for k in batch.keys]  # every row of the batch
        trial.set_user_attr("rows", lines)
        trial.set_user_attr("trained", len(rows))
        out.append(lines)
        return 0.0

    return objective


def trained(storage, unit: ev.Unit, set_name: str = DEFAULT_SET) -> int:
    """How many runs the unit's finished claims trained (a test counts them)."""
    claims = claims_study(storage, unit, set_name)
    done = claims.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sum(t.user_attrs.get("trained", 0) for t in done)


class Worker:
    """One process's work on one unit: :meth:`step` claims and trains one free batch at a
    time; it returns True once every batch is done and the folder holds every row."""

    def __init__(self, folder: Path, unit: ev.Unit, storage, set_name: str = DEFAULT_SET,
                 progress: Progress = print, poll: float = 2.0):  # fmt: skip
        self.folder, self.unit, self.progress, self.poll = folder, unit, progress, poll
        self.claims = claims_study(storage, unit, set_name)
        self.batches = batches(unit)
        self.nudged: set = set()
        self.began, self.shown = time.perf_counter(), 0.0

    def step(self) -> bool | None:
        """One claim (None: more to do now), or True (the unit is complete here), or
        False (the rest is held by other workers: call again after a while)."""
        finished, running = _claims(self.claims)
        have = _local_keys(self.folder, self.unit)
        todo = _open(self.batches, have, finished)
        if not todo:
            mine = {b.id for b in self.batches}  # other workers' rows this folder lacks
            rows = [line for b, lines in finished.items() if b in mine for line in lines]
            append(self.folder, self.unit, rows)
            self._tell(True)
            return True
        taken = set(running.values())
        if None in taken or {b.id for b in todo} - taken:
            out: list = []
            objective = _objective(self.folder, self.unit, self.claims, self.batches,
                                   min(self.poll, 0.5), out)  # fmt: skip
            self.claims.optimize(objective, n_trials=1, catch=())
            for lines in out:
                append(self.folder, self.unit, lines)
            self._tell(False)
            return None
        protocol.fail_stale_trials(self.claims, self.claims._storage, self.nudged)
        return False

    def _tell(self, complete: bool) -> None:
        seconds = time.perf_counter() - self.began
        if complete or seconds - self.shown >= 30:
            self.shown = seconds
            left = ev.missing(self.folder, self.unit)
            total = self.unit.total_runs()
            self.progress(f"{self.unit.file}: {total - left} of {total} runs in the folder "
                          f"({seconds:.0f} s)")  # fmt: skip


__all__ = ["DEFAULT_SET", "Batch", "Worker", "append", "batches", "claims_study", "parse_line",
           "study_name", "trained"]  # fmt: skip
