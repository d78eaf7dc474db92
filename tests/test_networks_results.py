"""The Networks page's results without Streamlit (vradam.app.networks): the table, the CSV and
JSON exports and the figure, from one short training run."""

from __future__ import annotations

import csv
import io
import itertools
import json

import numpy as np
import pytest

from vradam.app.networks import (
    final_values,
    labels_colors,
    records_csv,
    records_json,
    results_caption,
    results_figure,
    summary_rows,
)
from vradam.studies.networks import get_task
from vradam.studies.training import TrainConfig, final_records, train_steps

OPTIMIZERS = ("adam:lr=0.05", "vradam:lr=0.05@VR")


@pytest.fixture(scope="module")
def result() -> dict:
    config = TrainConfig(optimizers=OPTIMIZERS, steps=20, sharpness_every=0, eval_every=10)
    runs = [list(train_steps(config))]
    return dict(config=config, seeds=[config.seed], runs=runs, done=True)


def test_summary_rows_one_per_optimizer_with_its_finals(result):
    rows = summary_rows(result)
    labels, colors = labels_colors(result["config"])
    assert [r["optimizer"] for r in rows] == labels and len(colors) == len(labels)
    finals = final_records(result["runs"][0])
    assert rows[0]["final train loss"] == f"{finals[0]['train_loss']:.4g}"
    assert rows[0]["diverged"] == "no" and rows[1]["clip active"].endswith("% of steps")
    assert rows[0]["clip active"] == "—"  # Adam has no clip


def test_csv_and_json_exports_hold_every_record(result):
    records = result["runs"][0]
    rows = list(csv.DictReader(io.StringIO(records_csv(result))))
    assert len(rows) == len(records) and {r["seed"] for r in rows} == {"0"}
    data = json.loads(records_json(result))  # NaN and inf as null: strict JSON
    assert data["meta"]["optimizers"] == list(OPTIMIZERS) and data["meta"]["complete"]
    assert len(data["runs"][0]) == len(records)


def test_figure_caption_and_final_values(result):
    config = result["config"]
    labels, colors = labels_colors(config)
    fig = results_figure(result["runs"], labels, colors, config)
    assert fig["data"] and fig["layout"]
    assert "Sharpness is off" in results_caption(get_task(config.task), config)
    losses = final_values(result["runs"][0], "train_loss", len(labels))
    assert all(np.isfinite(losses))
    diverged = [{"optimizer": 0, "step": 5, "val_loss": 1.0, "train_loss": 0.5},
                {"optimizer": 1, "step": 3, "diverged": True}]  # fmt: skip
    assert final_values(diverged, "train_loss", 2) == [0.5, None]


def test_narrow_screens_get_one_column_of_panels(result):
    """On a phone the panels stack: each panel's x domain spans the width, no two overlap."""
    config = result["config"]
    labels, colors = labels_colors(config)
    wide = results_figure(result["runs"], labels, colors, config)
    narrow = results_figure(result["runs"], labels, colors, config, narrow=True)

    def domains(fig, axis):
        return [v["domain"] for k, v in fig["layout"].items() if k.startswith(axis)]

    assert len({tuple(d) for d in domains(wide, "xaxis")}) > 1  # side by side
    assert {tuple(d) for d in domains(narrow, "xaxis")} == {tuple(domains(narrow, "xaxis")[0])}
    rows = sorted(domains(narrow, "yaxis"))
    assert all(a[1] < b[0] for a, b in itertools.pairwise(rows))  # stacked, with gaps
    assert narrow["layout"]["height"] > wide["layout"]["height"]
