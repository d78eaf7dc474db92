"""A network's own landscape (vradam.studies.landscape, its figures and the Networks view):
the PCA plane and the projections on it, Li et al.'s filter normalisation, the batched
loss against direct forward passes, the true-vs-surface gap, the figures, and the view."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from vradam.app.figures.landscape import landscape_figure, slice_figure, surface3d_figure
from vradam.studies.landscape import (
    Landscape,
    LandscapeConfig,
    SurfaceLoss,
    choose_grid,
    collect_snapshots,
    filter_normalized_directions,
    landscape,
    line_slice,
    pca_plane,
    plane_range,
    sharpness_marks,
    to_record,
)
from vradam.studies.networks import get_task
from vradam.studies.training import TrainConfig, final_records, train_steps

ROOT = Path(__file__).resolve().parents[1]
COLORS = ["#000000", "#0072B2", "#D55E00"]


def _orthonormal(rng, n: int, p: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((p, n)))
    return q.T  # (n, p)


def _direct_loss(config: TrainConfig, theta: np.ndarray, split: str = "train") -> float:
    """The loss at ``theta`` the plain way: weights into a fresh model, one forward pass."""
    task = get_task(config.task)
    data = task.make_data(config.seed)
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_val, data.y_val)
    model = task.make_model()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(theta, dtype=torch.float32),
                                        model.parameters())  # fmt: skip
    with torch.no_grad():
        return float(task.loss_fn(model(x), y))


# ----------------------------------------------------------------------------- the plane


def test_pca_plane_finds_the_known_axes_and_their_shares():
    rng = np.random.default_rng(0)
    P, T = 60, 24
    center = rng.standard_normal(P)
    E = _orthonormal(rng, 3, P)  # three orthonormal directions
    C, _ = np.linalg.qr(rng.standard_normal((T, 3)))  # orthonormal columns: no mixing
    C = C * np.array([3.0, 1.0, 0.1])  # spread 3 along E[0], 1 along E[1], 0.1 along E[2]
    weights = center + C @ E
    plane = pca_plane(weights, center)
    assert abs(plane.directions[0] @ E[0]) == pytest.approx(1.0, abs=1e-9)
    assert abs(plane.directions[1] @ E[1]) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    total = 9 + 1 + 0.01
    np.testing.assert_allclose(plane.explained, [9 / total, 1 / total], rtol=1e-9)
    # coordinates: the dot products with the axes, and (up to sign) the known ones
    coords = plane.coordinates(weights)
    np.testing.assert_allclose(coords, (weights - center) @ plane.directions.T, atol=1e-10)
    signs = np.sign(np.sum(plane.directions * E[:2], axis=1))
    np.testing.assert_allclose(coords, C[:, :2] * signs, atol=1e-10)
    # what is left off the plane is the third component
    np.testing.assert_allclose(plane.off_plane(weights), np.abs(C[:, 2]), atol=1e-10)


def test_snapshots_in_the_plane_project_back_onto_themselves():
    rng = np.random.default_rng(1)
    P = 40
    center = rng.standard_normal(P)
    E = _orthonormal(rng, 2, P)
    C = rng.standard_normal((15, 2)) * [2.0, 0.5]
    weights = center + C @ E
    plane = pca_plane(weights, center)
    coords = plane.coordinates(weights)
    np.testing.assert_allclose(plane.points(coords), weights, atol=1e-10)
    np.testing.assert_allclose(plane.off_plane(weights), 0.0, atol=1e-10)
    assert plane.explained.sum() == pytest.approx(1.0)
    # each axis points where the farthest snapshot along it lies
    for k in range(2):
        assert coords[np.argmax(np.abs(coords[:, k])), k] > 0


def test_pca_plane_of_snapshots_on_a_line_adds_an_orthogonal_axis():
    rng = np.random.default_rng(2)
    center, e = rng.standard_normal(30), _orthonormal(rng, 1, 30)[0]
    weights = center + np.linspace(0, 2, 7)[:, None] * e
    plane = pca_plane(weights, center)
    np.testing.assert_allclose(plane.explained, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.coordinates(weights)[:, 1], 0.0, atol=1e-12)


def test_plane_range_covers_every_path_and_the_reference_with_margin():
    paths = [np.array([[1.0, 0.0], [3.0, 1.0]]), np.array([[2.0, -2.0], [np.nan, np.nan]])]
    (a0, a1), (b0, b1) = plane_range(paths, margin=0.25)
    assert (a0, a1) == pytest.approx((0.0 - 0.75, 3.0 + 0.75))  # the origin is in it
    assert (b0, b1) == pytest.approx((-2.0 - 0.75, 1.0 + 0.75))
    (a0, a1), (b0, b1) = plane_range([np.array([[0.0, 0.0], [4.0, 0.0]])], margin=0.0)
    assert (a0, a1) == (0.0, 4.0) and b1 - b0 == pytest.approx(4.0)  # a flat axis: the other's span


def test_choose_grid_keeps_the_asked_grid_within_budget_and_shrinks_it_beyond():
    assert choose_grid(41, 1e-4, 10.0) == 41
    assert choose_grid(41, 0.02, 10.0) == 22  # 22² × 20 ms ≈ 9.7 s
    assert choose_grid(41, 10.0, 10.0) == 11  # never coarser than 11
    assert choose_grid(41, 10.0, None) == 41


def test_landscape_config_rejects_bad_values():
    for bad in (dict(plane="tsne"), dict(reference="last"), dict(split="test"), dict(grid=2),
                dict(budget_s=0), dict(snapshot_every=-1), dict(margin=-0.1)):  # fmt: skip
        with pytest.raises(ValueError):
            LandscapeConfig(**bad)
    with pytest.raises(ValueError, match="snapshot_every"):
        TrainConfig(snapshot_every=-1)


# ----------------------------------------------------------------------------- Li et al.


def test_filter_normalised_directions_match_each_filter_and_skip_biases_and_norms():
    model = get_task("modadd").make_model()  # embeddings, attention, LayerNorm, biases
    center = torch.nn.utils.parameters_to_vector(model.parameters()).detach().double().numpy()
    D = filter_normalized_directions(model, center, seed=3)
    assert D.shape == (2, center.size)
    at = 0
    for p in model.parameters():
        for d in D:
            block = d[at : at + p.numel()].reshape(p.shape)
            w = center[at : at + p.numel()].reshape(p.shape)
            if p.dim() <= 1:
                assert not block.any()  # biases and LayerNorm weights: left out
            else:
                np.testing.assert_allclose(np.linalg.norm(block.reshape(p.shape[0], -1), axis=1),
                                           np.linalg.norm(w.reshape(p.shape[0], -1), axis=1),
                                           rtol=1e-9)  # fmt: skip
        at += p.numel()
    assert abs(D[0] @ D[1]) < 0.2 * np.linalg.norm(D[0]) * np.linalg.norm(D[1])  # two draws
    np.testing.assert_array_equal(D, filter_normalized_directions(model, center, seed=3))
    assert not np.allclose(D, filter_normalized_directions(model, center, seed=4))


def test_filter_normalisation_of_a_convolution_is_per_output_channel():
    model = get_task("digits").make_model()
    center = torch.nn.utils.parameters_to_vector(model.parameters()).detach().double().numpy()
    d = filter_normalized_directions(model, center, seed=0, n=1)[0]
    conv = model.features[0].weight  # (8, 1, 3, 3): 8 filters
    block, w = d[: conv.numel()].reshape(8, -1), center[: conv.numel()].reshape(8, -1)
    np.testing.assert_allclose(np.linalg.norm(block, axis=1), np.linalg.norm(w, axis=1))


# ----------------------------------------------------------------------------- the loss


@pytest.mark.parametrize(
    ("task", "method"),
    [("moons", "vmap"), ("teacher", "vmap"), ("digits", "loop"), ("modadd", "vmap")],
)
def test_batched_loss_equals_direct_forward_passes(task, method):
    config = TrainConfig(task=task, device="cpu")
    for split in ("train", "val"):
        loss = SurfaceLoss(config, split)
        assert loss.method == method
        model = get_task(task).make_model()
        base = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
        rng = np.random.default_rng(0)
        thetas = base + 0.05 * rng.standard_normal((3, base.size)).astype(np.float32)
        got = loss.at(thetas)
        want = [_direct_loss(config, t, split) for t in thetas]
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_batched_loss_of_a_task_with_its_own_objective():
    config = TrainConfig(task="lm", device="cpu")
    loss = SurfaceLoss(config)
    assert loss.method == "loop" and loss.n_examples == 64
    task = get_task("lm")
    model = task.make_model()
    base = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
    got = loss.at(np.stack([base, base * 0.9]))
    with torch.no_grad():
        direct = float(task.batch_loss(model, loss.x, loss.y, torch.Generator().manual_seed(0)))
    assert got[0] == pytest.approx(direct, rel=1e-5)
    assert got[1] != pytest.approx(got[0])


# ----------------------------------------------------------------------------- a real run

RUN = TrainConfig(task="moons", optimizers=("gd:lr=0.3", "adam:lr=0.01", "vradam:lr=0.01,beta3=86"),
                  steps=20, sharpness_every=0, device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def run_landscape() -> Landscape:
    return landscape(RUN, LandscapeConfig(grid=9, budget_s=None, snapshot_every=4))


def test_snapshots_come_every_k_steps_and_at_the_last(run_landscape):
    ls = run_landscape
    for steps in ls.steps:
        assert steps.tolist() == [0, 4, 8, 12, 16, 20]
    assert not any("flat_params" in r for r in train_steps(replace(RUN, steps=3)))
    snaps = collect_snapshots(replace(RUN, steps=5), every=2)
    assert snaps.steps[0].tolist() == [0, 2, 4, 5]
    np.testing.assert_array_equal(snaps.weights[0][0], snaps.weights[1][0])  # same start


def test_the_grid_equals_direct_losses_and_the_reference_its_loss(run_landscape):
    ls = run_landscape
    assert ls.Z.shape == (9, 9) and ls.grid == 9
    for r, c in ((0, 0), (4, 7), (8, 3)):
        theta = ls.plane.points(np.array([[ls.xs[c], ls.ys[r]]]))[0]
        assert ls.Z[r, c] == pytest.approx(_direct_loss(RUN, theta), rel=1e-5)
    assert ls.reference_loss == pytest.approx(_direct_loss(RUN, ls.plane.center), rel=1e-6)
    best = ls.reference_index
    assert best == int(np.argmin([t[-1] for t in ls.true_loss]))
    assert ls.reference_loss == pytest.approx(ls.true_loss[best][-1], rel=1e-6)
    np.testing.assert_allclose(ls.coords[best][-1], 0.0, atol=1e-9)  # the centre
    # every projected path lies inside the grid's range
    for c in ls.coords:
        assert (c[:, 0] >= ls.xs[0]).all() and (c[:, 0] <= ls.xs[-1]).all()
        assert (c[:, 1] >= ls.ys[0]).all() and (c[:, 1] <= ls.ys[-1]).all()


def test_true_loss_along_a_path_is_the_run_s_own(run_landscape):
    """The snapshots come from a second run without sharpness: the same trajectories as
    the page's run with it (sharpness and evaluation never move the weights)."""
    records = list(train_steps(replace(RUN, sharpness_every=10, eval_every=4)))
    for i, final in final_records(records).items():
        assert run_landscape.true_loss[i][-1] == pytest.approx(final["train_loss"], rel=1e-6)
    at_8 = {r["optimizer"]: r["train_loss"] for r in records
            if r["step"] == 8 and "train_loss" in r}  # fmt: skip
    for i, value in at_8.items():
        assert run_landscape.true_loss[i][2] == pytest.approx(value, rel=1e-6)


def test_the_gap_is_zero_for_paths_in_the_plane():
    # three snapshots from the shared start span at most two directions: all in the plane
    config = TrainConfig(task="teacher", optimizers=("adam:lr=0.01",), steps=2, sharpness_every=0)
    ls = landscape(config, LandscapeConfig(reference="init", snapshot_every=1, grid=5,
                                           budget_s=None))  # fmt: skip
    assert ls.reference_index is None
    np.testing.assert_allclose(ls.off_plane[0], 0.0, atol=1e-5)
    np.testing.assert_allclose(ls.gap(0), 0.0, atol=1e-6 * ls.true_loss[0].max())
    assert ls.plane.explained.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ls.coords[0][0], 0.0, atol=1e-12)  # the start is the centre


def test_off_the_plane_the_gap_is_true_minus_surface(run_landscape):
    ls = run_landscape
    for i in range(len(ls.labels)):
        np.testing.assert_allclose(ls.gap(i), ls.true_loss[i] - ls.surface_loss[i])
        surface = [_direct_loss(RUN, t) for t in ls.plane.points(ls.coords[i][[0, -1]])]
        np.testing.assert_allclose(ls.surface_loss[i][[0, -1]], surface, rtol=1e-5)
    assert max(float(np.abs(ls.gap(i)).max()) for i in range(3)) > 0  # the plane is not all


def test_the_slice_runs_through_both_final_weights(run_landscape):
    ls = run_landscape
    sl = line_slice(SurfaceLoss(RUN), ls, 1, 2)
    assert sl.t[0] == pytest.approx(-0.25) and sl.t[-1] == pytest.approx(1.25)
    assert sl.loss[sl.t == 0][0] == pytest.approx(ls.true_loss[1][-1], rel=1e-5)
    assert sl.loss[sl.t == 1][0] == pytest.approx(ls.true_loss[2][-1], rel=1e-5)
    assert sl.barrier >= 0 and sl.distance > 0
    assert sl.distance == pytest.approx(float(np.linalg.norm(ls.finals[2] - ls.finals[1])))


def test_a_random_plane_explains_little_and_still_projects_exactly(run_landscape):
    ls = landscape(RUN, LandscapeConfig(plane="random", grid=5, budget_s=None, snapshot_every=4))
    assert ls.plane.kind == "random" and (ls.plane.explained < 0.5).all()
    w = ls.plane.points(ls.coords[0])
    np.testing.assert_allclose(ls.plane.coordinates(w), ls.coords[0], atol=1e-8)


def test_sharpness_marks_sit_on_the_projected_paths(run_landscape):
    ls = run_landscape
    records = [dict(step=s, optimizer=i, sharpness=2.0 + s, threshold=10.0,
                    sharpness_kind="hessian") for i in range(3) for s in (0, 6, 20)]  # fmt: skip
    marks = sharpness_marks(records, ls)
    m = marks[1]
    assert m.steps.tolist() == [0, 6, 20]
    np.testing.assert_allclose(m.coords[0], ls.coords[1][0])
    np.testing.assert_allclose(m.coords[1], (ls.coords[1][1] + ls.coords[1][2]) / 2)  # 4 … 8
    np.testing.assert_allclose(m.coords[2], ls.coords[1][-1])
    assert sharpness_marks([], ls) == [None, None, None]


def test_the_record_is_plain_json(run_landscape):
    record = json.loads(json.dumps(to_record(run_landscape), allow_nan=False))
    assert len(record["paths"]) == 3 and len(record["grid"]["loss"]) == 9
    path = record["paths"][0]
    assert len(path["a"]) == len(path["step"]) == len(path["true_loss"]) == 6
    assert record["plane"]["kind"] == "pca" and len(record["plane"]["explained"]) == 2


# ----------------------------------------------------------------------------- figures


def test_the_figures_are_valid_plotly(run_landscape):
    ls = run_landscape
    records = [dict(step=s, optimizer=i, sharpness=float(s), threshold=8.0)
               for i in range(3) for s in (4, 12)]  # fmt: skip
    for log in (False, True):
        fig = landscape_figure(ls, COLORS, log_color=log, marks=sharpness_marks(records, ls))
        go.Figure(fig)  # full schema validation (the app skips it)
        assert [f["name"] for f in fig["frames"]] == ["0", "4", "8", "12", "16", "20"]
        heads, cursor = (fig["data"][k] for k in fig["frames"][-1]["traces"])
        assert heads["name"] == "now" and cursor["xaxis"] == "x2"
        last = fig["frames"][-1]["data"][0]
        np.testing.assert_allclose(last["x"], [c[-1, 0] for c in ls.coords])
        assert fig["layout"]["sliders"][0]["active"] == len(fig["frames"]) - 1
        diamonds = [t for t in fig["data"] if "sharpness" in t.get("name", "")]
        assert len(diamonds) == 3 and diamonds[0]["marker"]["symbol"] == ["diamond-open", "diamond"]
        assert fig["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
        assert "PC1" in fig["layout"]["xaxis"]["title"]["text"]
    sl = line_slice(SurfaceLoss(RUN), ls, 0, 1)
    go.Figure(slice_figure(sl, list(ls.labels), COLORS))
    go.Figure(surface3d_figure(ls, COLORS, log_color=True))


# ----------------------------------------------------------------------------- the view


@pytest.mark.slow  # 20 s: the Networks page trains, then draws the landscape
def test_networks_page_landscape_view():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=300).run()
    at.slider(key="nt_steps").set_value(20).run()
    assert not any(b.label == "Compute the landscape" for b in at.button)  # no run yet
    next(b for b in at.button if b.label == "Train").click().run()
    assert len(at.get("plotly_chart")) == 2  # nothing drawn before it is asked for
    next(b for b in at.button if b.label == "Compute the landscape").click().run()
    assert not at.exception and not at.error
    ls = at.session_state["nt_ls"]["landscape"]
    assert ls.grid == 41 and len(ls.labels) == 4
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(specs) == 4  # results, boundaries, landscape, slice
    assert specs[2]["frames"] and specs[3]["data"][0]["name"] == "train loss on the line"
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: PC1")]
    assert summaries and "explain" in summaries[0]
    at.toggle(key="nt_ls_3d").set_value(True).run()
    assert not at.exception
    assert json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]["type"] == "surface"
    at.selectbox(key="nt_ls_plane").set_value("random").run()
    assert any("previous settings" in c.value for c in at.caption)


@pytest.mark.slow  # 16 s on a loaded machine: a subprocess imports torch and the tasks
def test_bench_landscape_quick_run():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_landscape.py"),
                             "--quick", "--tasks", "moons,teacher"],
                            capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| moons |" in result.stdout and "| teacher |" in result.stdout
