"""The damping–cost frontier: is VRAdam's damping more than a smaller step?

On one problem (:data:`PROBLEMS`: the Edge of stability MLP, the 2-D ravine, two network
tasks), VRAdam runs over a grid of β3 at several α0 and the baseline (Adam, or AdamW on
the networks) over a grid of α0, constant and with a warmup-cosine schedule, with the
same seeds (paired). Each run gives a point: its **oscillation**, the upward movement
Σ max(Δ ln loss, 0) of the loss over the second half of the run
(:func:`vradam.sim.measures.upward_movement`, the per-step loss before each update: the
full-batch training loss, or on digits the batch loss of the same batches for every
optimizer), against its **final loss** (the training loss after the last update).
:func:`frontier_verdict` says whether any VRAdam setting ends below the baseline's
lower-left envelope, by how much (paired by seed, 95 % t-interval) and where.

One concept per module: :mod:`.config` (the settings, the problems, a run's identity),
:mod:`.runs` (running, rows to and from CSV) and :mod:`.verdict` (cells, the frontier,
the verdict). No Streamlit here; the CLI (``python -m vradam frontier``) and the Edge of
stability page consume it.
"""

from vradam.studies.frontier.config import (
    GATE_FIELDS,
    MIN_SEEDS,
    PROBLEMS,
    ROW_FIELDS,
    FrontierConfig,
    Problem,
    run_key,
)
from vradam.studies.frontier.runs import (
    frontier_start,
    parse_row,
    read_rows,
    rows_csv,
    run_frontier,
    study_rows,
)
from vradam.studies.frontier.verdict import (
    OSCILLATION_FLOOR,
    Cell,
    Comparison,
    FrontierVerdict,
    cells,
    compare,
    frontier,
    frontier_verdict,
)

__all__ = [
    "GATE_FIELDS", "MIN_SEEDS", "OSCILLATION_FLOOR", "PROBLEMS", "ROW_FIELDS", "Cell", "Comparison",
    "FrontierConfig", "FrontierVerdict", "Problem", "cells", "compare", "frontier",
    "frontier_start", "frontier_verdict", "parse_row", "read_rows", "rows_csv",
    "run_frontier", "run_key", "study_rows",
]  # fmt: skip
