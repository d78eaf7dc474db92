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

from vradam.app.figures.landscape import (
    landscape_figure,
    slice_figure,
    static_figure,
    surface3d_figure,
)
from vradam.studies.landscape import (
    Landscape,
    LandscapeConfig,
    SurfaceLoss,
    choose_grid,
    collect_snapshots,
    filter_normalized_directions,
    landscape,
    pca_plane,
    plane_range,
)
from vradam.studies.landscape_views import line_slice, sharpness_marks, to_record
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
        heads, cursor, sharp_cursor = (fig["data"][k] for k in fig["frames"][-1]["traces"])
        assert heads["name"] == "now" and cursor["xaxis"] == "x2"
        assert sharp_cursor["xaxis"] == "x3" and len(fig["frames"][-1]["data"]) == 3
        # the sharpness panel: λmax with ◆ per optimizer, and its threshold dotted
        panel = [t for t in fig["data"] if t.get("yaxis") == "y3" and t["name"] != "step"]
        assert [t["name"].split(": ")[1] for t in panel] == ["sharpness", "threshold"] * 3
        assert panel[1]["line"]["dash"] == "dot" and panel[1]["y"] == [8.0, 8.0]
        assert fig["layout"]["yaxis3"]["type"] == "log"
        last = fig["frames"][-1]["data"][0]
        np.testing.assert_allclose(last["x"], [c[-1, 0] for c in ls.coords])
        assert fig["layout"]["sliders"][0]["active"] == len(fig["frames"]) - 1
        diamonds = [t for t in fig["data"] if "sharpness" in t.get("name", "")
                    and t["yaxis"] == "y"]  # fmt: skip
        assert len(diamonds) == 3 and diamonds[0]["marker"]["symbol"] == ["diamond-open", "diamond"]
        assert fig["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
        assert "PC1" in fig["layout"]["xaxis"]["title"]["text"]
        plain = landscape_figure(ls, COLORS, log_color=log)  # no marks: no third panel
        assert "yaxis3" not in plain["layout"] and len(plain["frames"][-1]["traces"]) == 2
        go.Figure(plain)
        still = static_figure(fig)
        assert "sliders" not in still["layout"] and "frames" not in still
        go.Figure(still)
    sl = line_slice(SurfaceLoss(RUN), ls, 0, 1)
    fig = slice_figure(sl, list(ls.labels), COLORS, notes=["λmax(H) 2, threshold 8", "x"])
    assert "λmax(H) 2, threshold 8" in fig["data"][1]["hovertemplate"]
    go.Figure(fig)
    go.Figure(surface3d_figure(ls, COLORS, log_color=True))


# ----------------------------------------------------------------------------- the view


@pytest.mark.slow  # 20-40 s: the Networks page trains, then draws the landscape
def test_networks_page_landscape_view():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=300)
    # a link: a valid colour scale, a garbage grid and view (their defaults, one warning each)
    for key, value in dict(nt_steps="20", nt_ls_scale="linear", nt_ls_grid="1e308",
                           nt_ls_view="**bold** <b>").items():  # fmt: skip
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.session_state["nt_ls_scale"] == "linear" and at.session_state["nt_ls_grid"] == 41
    assert at.session_state["nt_ls_view"] == "map"
    assert sorted(w.value.split("=")[0] for w in at.warning) == ["Ignored nt_ls_grid",
                                                                 "Ignored nt_ls_view"]  # fmt: skip
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
    assert specs[2]["layout"]["yaxis3"]["type"] == "log"  # the run's sharpness, step 20
    summaries = [c.value for c in at.caption if c.value.startswith("Summary: PC1")]
    assert summaries and "explain" in summaries[0]
    ends = [c.value for c in at.caption if c.value.startswith("Sharpness at the ends")]
    assert ends and "λmax" in ends[0] and "curvature along this line" in ends[0]
    labels = [b.label for b in at.get("download_button")]
    assert "CSV (every point)" in labels and "JSON (with settings)" in labels
    assert any(b.label == "Render PNG" for b in at.button)
    # the view's controls go to the URL, also from the fragment's own reruns
    at.segmented_control(key="nt_ls_view").set_value("3d").run()
    assert not at.exception
    assert json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]["type"] == "surface"
    assert at.query_params["nt_ls_view"] == ["3d"] or at.query_params["nt_ls_view"] == "3d"
    at.selectbox(key="nt_ls_plane").set_value("random").run()
    assert any("previous settings" in c.value for c in at.caption)
    assert "random" in str(at.query_params["nt_ls_plane"])
    # garbage in every view field of a link, on a page with a landscape: defaults, no crash
    for key in ("nt_ls_plane", "nt_ls_reference", "nt_ls_split", "nt_ls_grid", "nt_ls_scale",
                "nt_ls_view"):  # fmt: skip
        at.query_params[key] = "nan"
    at.run()
    assert not at.exception
    # (an open session keeps what it had; a fresh one takes the defaults, as above)
    assert at.session_state["nt_ls_plane"] == "random" and at.session_state["nt_ls_view"] == "3d"
    assert any(w.value.startswith("Ignored nt_ls_split") for w in at.warning)


@pytest.mark.slow  # 10 s: Kaleido starts Chromium
def test_the_landscape_png_renders(run_landscape):
    """The PNG export: the map without its animation controls, through Kaleido."""
    import shutil

    from vradam.app.ui.landscape import png_bytes

    if shutil.which("chromium") is None and shutil.which("google-chrome") is None:
        pytest.skip("no Chromium for Kaleido")
    png = png_bytes(landscape_figure(run_landscape, COLORS))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.slow  # 16 s on a loaded machine: a subprocess imports torch and the tasks
def test_bench_landscape_quick_run():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_landscape.py"),
                             "--quick", "--tasks", "moons,teacher"],
                            capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| moons |" in result.stdout and "| teacher |" in result.stdout


# ----------------------------------------------------------------------------- exports


def test_the_csv_has_every_grid_point_path_point_mark_and_slice_point(run_landscape):
    import csv
    import io

    from vradam.studies.landscape_views import CSV_COLUMNS, to_csv

    ls = run_landscape
    records = [dict(step=s, optimizer=i, sharpness=1.0 + s, threshold=10.0)
               for i in range(3) for s in (0, 12, 20)]  # fmt: skip
    marks = sharpness_marks(records, ls)
    sl = line_slice(SurfaceLoss(RUN), ls, 1, 2)
    rows = list(csv.DictReader(io.StringIO(to_csv(ls, marks, sl, "vradam test"))))
    assert list(rows[0]) == CSV_COLUMNS
    parts = [r["part"] for r in rows]
    assert parts.count("grid") == 81 and parts.count("path") == 18
    assert parts.count("sharpness") == 9 and parts.count("slice") == sl.t.size
    grid = [r for r in rows if r["part"] == "grid"]
    assert float(grid[9 * 4 + 7]["loss"]) == pytest.approx(ls.Z[4, 7])  # row b, column a
    assert float(grid[9 * 4 + 7]["a"]) == pytest.approx(ls.xs[7])
    path = [r for r in rows if r["part"] == "path" and r["optimizer"] == ls.labels[2]]
    assert [int(r["step"]) for r in path] == ls.steps[2].tolist()
    np.testing.assert_allclose([float(r["loss"]) for r in path], ls.true_loss[2])
    np.testing.assert_allclose([float(r["surface_loss"]) for r in path], ls.surface_loss[2])
    assert {r["versions"] for r in rows} == {"vradam test"} and {r["task"] for r in rows} == {
        "moons"}  # fmt: skip
    record = json.loads(json.dumps(to_record(ls, marks, {"seed": 0}, sl), allow_nan=False))
    assert record["meta"] == {"seed": 0} and record["slice"]["t"][0] == pytest.approx(-0.25)
    assert record["paths"][1]["sharpness"]["step"] == [0, 12, 20]


def test_the_slice_gives_the_curvature_along_it_at_both_ends(run_landscape):
    """uᵀHu from the Hessian-vector product equals the second difference of the loss along
    the line (float64 model), and is at most λmax(H) there."""
    ls = run_landscape
    loss = SurfaceLoss(RUN)
    sl = line_slice(loss, ls, 1, 2)
    A, B = ls.finals[1].astype(np.float64), ls.finals[2].astype(np.float64)
    u = (B - A) / np.linalg.norm(B - A)
    for theta, curvature in ((A, sl.curvature[0]), (B, sl.curvature[1])):
        h = 1e-2
        f = loss.at(np.stack([theta - h * u, theta, theta + h * u]))
        assert curvature == pytest.approx((f[0] - 2 * f[1] + f[2]) / h**2, rel=0.05, abs=1e-4)
    assert np.isnan(SurfaceLoss(TrainConfig(task="lm", device="cpu")).curvature(
        np.zeros(1), np.ones(1)))  # fmt: skip


def test_end_sharpness_is_the_run_s_last_measurement(run_landscape):
    from vradam.studies.landscape_views import end_sharpness

    ls = run_landscape
    records = [dict(step=s, optimizer=0, sharpness=float(s), threshold=6.0,
                    sharpness_kind="hessian") for s in (0, 10, 20)]  # fmt: skip
    e = end_sharpness(records, ls, 0)
    assert (e.step, e.sharpness, e.threshold, e.final) == (20, 20.0, 6.0, True)
    e = end_sharpness(records[:2], ls, 0)
    assert e.step == 10 and not e.final
    assert end_sharpness(records, ls, 1) is None


def test_a_random_plane_covers_plus_minus_one_in_filter_normalised_units():
    ls = landscape(RUN, LandscapeConfig(plane="random", grid=5, budget_s=None, snapshot_every=10))
    assert ls.xs[0] <= -1 and ls.xs[-1] >= 1 and ls.ys[0] <= -1 and ls.ys[-1] >= 1
    (a0, a1), _ = plane_range([np.array([[0.0, 0.0], [3.0, 0.1]])], margin=0.0, at_least=1.0)
    assert (a0, a1) == (-1.0, 3.0)


# ----------------------------------------------------------------------------- the CLI


def _cli(args, capsys):
    from vradam.cli import main

    code = main(["landscape", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow  # 2 runs of 20 steps on moons with sharpness: 3-6 s
def test_landscape_cli_writes_the_plane_grid_paths_and_slice(tmp_path, capsys):
    common = ["--task", "moons", "--optimizer", "adamw:lr=0.01", "--optimizer",
              "vradam:lr=0.01,beta3=86", "--steps", "20", "--grid", "7",
              "--sharpness-every", "10", "--device", "cpu"]  # fmt: skip
    code, out, err = _cli([*common, "--out", str(tmp_path / "s.json")], capsys)
    assert code == 0, err
    assert "[██████████████████████████████] 100 %" in err and "again" not in err
    record = json.loads((tmp_path / "s.json").read_text())
    assert record["meta"]["plane"] == "pca" and record["meta"]["versions"]["vradam"]
    assert len(record["grid"]["loss"]) == 7 and len(record["plane"]["explained"]) == 2
    assert [p["optimizer"] for p in record["paths"]] == ["AdamW (α₀=0.01)",
                                                         "VRAdam (β₃=86, α₀=0.01)"]  # fmt: skip
    assert record["paths"][0]["sharpness"]["step"][-2:] == [10, 20]
    assert record["slice"]["a"] == "AdamW (α₀=0.01)" and "barrier" in record["slice"]
    assert "plane: pca, PC1, PC2 explain" in out and "slice AdamW" in out
    # the same run as CSV, around the initial weights, on a random plane
    code, out, err = _cli([*common, "--plane", "random", "--centre", "init", "--out",
                           str(tmp_path / "s.csv")], capsys)  # fmt: skip
    assert code == 0, err
    text = (tmp_path / "s.csv").read_text().splitlines()
    assert text[0].startswith("part,optimizer,step,t,a,b,loss")
    assert sum(line.startswith("grid,") for line in text) == 49
    assert all(",random,init," in line for line in text[1:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plane", "tsne"], "--plane must be one of pca, random, got 'tsne'"),
        (["--centre", "last"], "--centre must be one of best, init"),
        (["--task", "mnist"], "--task must be one of moons"),
        (["--grid", "2"], "grid must be between 3 and 201"),
        (["--grid", "x"], "argument --grid: invalid int value: 'x'"),
        (["--steps", "0"], "--steps must be between 1 and 100000"),
        (["--budget", "nan"], "--budget must be a positive number"),
        (["--optimizer", "nope"], "unknown optimizer 'nope'"),
        (["--out", "surface.txt"], "--out must end in .json or .csv"),
        (["--out", "/no/such/folder/s.json"], "--out: no such folder"),
    ],
)
def test_landscape_cli_refuses_bad_input_in_one_line(args, message, capsys):
    from vradam.cli import main

    try:
        code = main(["landscape", *args])
    except SystemExit as stop:  # argparse's own checks
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith("python -m vradam landscape: error: ")


def test_the_slice_says_its_sharpness_or_why_there_is_none(run_landscape):
    from vradam.app.ui.landscape import slice_sharpness_text
    from vradam.studies.landscape_views import Slice, end_sharpness

    ls, labels = run_landscape, list(run_landscape.labels)
    sl = Slice(0, 1, np.array([0.0, 1.0]), np.array([0.3, 0.2]), 0.0, 1.0, (0.5, float("nan")))
    records = [dict(step=20, optimizer=0, sharpness=7.0, threshold=6.0 + 2 / 3,
                    sharpness_kind="hessian")]  # fmt: skip
    ends = [end_sharpness(records, ls, i) for i in (0, 1)]
    text = slice_sharpness_text(sl, labels, ends, RUN)
    assert f"A, {labels[0]}: λmax(H) 7, threshold 6.67 — at or over it" in text
    assert "curvature along this line 0.5 (a lower bound on λmax(H))" in text
    assert f"B, {labels[1]}: sharpness was off in this run" in text
    text = slice_sharpness_text(sl, labels, [None, None], replace(RUN, task="gflownet"))
    assert "no sharpness for this task (its loss is on" in text
    assert "needs a loss of the weights alone" in text
