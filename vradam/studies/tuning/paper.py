"""The paper's Table 1 (its tuned results, other models and data) and its tuned values."""

from __future__ import annotations

from dataclasses import dataclass

from vradam.sim.optimizers import REGISTRY
from vradam.studies.tuning.space import TUNABLE

PAPER_ALPHA0 = 0.0846  # the paper's tuned CIFAR-10 values for VRAdam
PAPER_ALPHA1 = 29.0


# ----------------------------------------------------------------------------- the paper


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's Table 1: "validation / test" loss per optimizer, as printed."""

    setting: str
    task: str | None  # our task in the same family, if any
    values: dict[str, str]


PAPER_TABLE1 = (
    PaperRow("WikiText-2 language modelling (transformer)", "lm", {
        "vradam": "5.99 / 6.00", "adamw": "6.47 / 6.50", "radam": "7.51 / 7.55",
        "nesterov": "NaN", "rmsprop": "NaN"}),
    PaperRow("CIFAR-10 classification (ResNet)", "digits", {
        "vradam": "0.476 / 0.469", "adamw": "0.522 / 0.565", "radam": "2.300 / 4.005",
        "nesterov": "0.625 / 0.620", "rmsprop": "0.801 / 0.813"}),
    PaperRow("GridWorld GFlowNet flow matching", "gflownet", {
        "vradam": "1.25 / 1.33", "adamw": "2.41 / 3.60", "radam": "1.41 / 2.29",
        "nesterov": "2.71 / 2.61", "rmsprop": "25.0 / 25.0"}),
)  # fmt: skip
# the paper's Table 1 columns: its name for each optimizer it ran
PAPER_NAMES = {k: REGISTRY[k].tuning.paper_name for k in TUNABLE
               if k in PAPER_TABLE1[0].values}  # fmt: skip
PAPER_NOTE = (
    "The paper's Table 1 (validation / test loss; NaN = diverged) used other models and data "
    "(ResNet on CIFAR-10, a transformer on WikiText-2, a GFlowNet on a larger grid): compare "
    "the ranking, not the numbers."
)


def paper_row(task: str) -> PaperRow | None:
    """The paper's row for the same family as ``task`` (e.g. digits ↔ CIFAR-10), if any."""
    return next((r for r in PAPER_TABLE1 if r.task == task), None)


def paper_rows() -> list[dict]:
    """The paper's Table 1 as rows of text: setting, then 'val / test' per optimizer."""
    rows = []
    for r in PAPER_TABLE1:
        row = {"setting (the paper's)": r.setting}
        row.update({name: r.values[key] for key, name in PAPER_NAMES.items()})
        rows.append(row)
    return rows
