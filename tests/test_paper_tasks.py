"""The paper's experiments in miniature: a character-level language model, a GFlowNet on an
8×8 grid trained by trajectory balance, and flow matching on the 8×8 digits."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import math
import sys
from importlib import resources

import numpy as np
import pytest
import torch
from conftest import ROOT, slow_params

from vradam.cli import main
from vradam.studies import evidence as ev
from vradam.studies import gflownet, imagegen, lm
from vradam.studies.networks import get_task
from vradam.studies.training import TrainConfig, final_records, step_generator, train_steps

PAPER_TASKS = ("lm", "gflownet", "imagegen")


def _config(task: str, steps: int, *optimizers: str, seed: int = 0, **kw) -> TrainConfig:
    t = get_task(task)
    optimizers = optimizers or (f"adamw:lr={t.default_lr}",)
    kw.setdefault("sharpness_every", 0)
    kw.setdefault("eval_every", steps)
    return TrainConfig(task=task, optimizers=optimizers, steps=steps, seed=seed, **kw)


def _losses(records: list[dict]) -> list[float]:
    return [r["loss"] for r in records if "loss" in r]


# ----------------------------------------------------------------------------- every task


@pytest.mark.parametrize("task", slow_params(PAPER_TASKS, {"lm"}))  # lm: 3 s
def test_data_and_runs_are_deterministic_from_a_seed(task):
    t = get_task(task)
    a, b, other = t.make_data(0), t.make_data(0), t.make_data(1)
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not all(torch.equal(getattr(a, n), getattr(other, n)) for n in ("x_train", "x_val"))
    config = _config(task, 4, eval_every=2)
    first, second = list(train_steps(config)), list(train_steps(config))
    assert _losses(first) == _losses(second) and len(_losses(first)) == 4
    assert [r.get("val_loss") for r in first] == [r.get("val_loss") for r in second]
    assert _losses(list(train_steps(_config(task, 4, seed=1)))) != _losses(first)


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_every_optimizer_gets_the_same_draws_at_a_step(task):
    """With α0 = 0 nothing moves, so equal losses mean equal batches, noise and trajectories."""
    config = _config(task, 3, "adamw:lr=0", "gd:lr=0")
    by_step: dict[int, list[float]] = {}
    for r in train_steps(config):
        if "loss" in r:
            by_step.setdefault(r["step"], []).append(r["loss"])
    assert all(a == b for a, b in by_step.values())
    assert len({v[0] for v in by_step.values()}) == 3  # the draws change from step to step
    g1, g2 = step_generator(0, 5), step_generator(0, 5)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


# Short AdamW runs at the task's α0: (steps, the validation metric must fall to this
# fraction of its value at step 0).
SHORT = {"lm": (60, 0.75), "gflownet": (150, 0.3), "imagegen": (80, 0.6)}


@pytest.mark.parametrize("task", slow_params(PAPER_TASKS, {"lm"}))  # lm: 3-7 s
def test_adamw_lowers_the_validation_loss_and_the_metric_is_recorded(task):
    t = get_task(task)
    steps, fraction = SHORT[task]
    records = list(train_steps(_config(task, steps, eval_every=steps)))
    start = next(r for r in records if r["step"] == 0)
    last = final_records(records)[0]
    assert not last["diverged"]
    assert set(t.evaluation_keys) <= set(last) and t.metric in last
    assert math.isfinite(last[t.metric])  # what a tuning study minimises
    assert last["val_loss"] <= fraction * start["val_loss"], (start["val_loss"], last["val_loss"])


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_a_huge_rate_is_flagged_diverged_not_raised(task):
    t = get_task(task)
    records = list(train_steps(_config(task, 6, "adamw:lr=1e6", "gd:lr=1e6")))
    for last in final_records(records).values():
        assert last["diverged"] is True
        assert set(t.evaluation_keys) <= set(last) and math.isnan(last[t.metric])


def test_tasks_without_sharpness_say_why_and_record_none():
    t = get_task("gflownet")
    assert not t.sharpness and "trajectories" in t.sharpness_note
    records = list(train_steps(_config("gflownet", 4, sharpness_every=2)))
    assert not any("sharpness" in r for r in records)


@pytest.mark.slow  # 10 s: Lanczos
def test_language_model_sharpness_uses_double_backward_through_attention():
    records = list(train_steps(_config("lm", 2, "adamw:lr=0.003", "gd:lr=0.3",
                                       sharpness_every=2, sharpness_samples=2)))  # fmt: skip
    last = [r for r in records if r["step"] == 2]
    assert {r["sharpness_kind"] for r in last} == {"preconditioned", "hessian"}
    assert all(r["sharpness"] > 0 and math.isfinite(r["sharpness"]) for r in last)


# ----------------------------------------------------------------------------- language model


def test_corpus_ships_inside_the_package():
    raw = resources.files("vradam").joinpath("assets/corpus.txt.gz").read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    assert text == lm.corpus() and 100_000 <= len(text) <= 300_000
    assert set(text) <= set(lm.vocabulary()) and len(lm.vocabulary()) == lm.VOCAB_SIZE
    assert text.startswith("argparse:\nCommand-line parsing library")
    if sys.version_info[:3] == (3, 11, 7):  # the Python it was extracted from
        assert gzip.compress(lm.extract_corpus().encode("ascii"), mtime=0) == raw


def test_language_model_data_are_next_character_windows():
    x, y, xv, yv = lm.make_split(3)
    assert x.shape[1] == lm.CONTEXT and torch.equal(x[:, 1:], y[:, :-1])
    assert torch.equal(xv[:, 1:], yv[:, :-1]) and xv.shape[0] == lm.VAL_WINDOWS
    text = lm.decode(x[0])
    assert text == lm.corpus()[3 : 3 + lm.CONTEXT]  # seed 3: windows start at offset 3


def test_the_language_models_bigram_baseline_is_counted_from_the_training_text():
    """The Networks page's bigram reference, recomputed from the corpus with plain counts:
    the training text's character pairs, add-0.1, scored on the validation windows."""
    from collections import Counter

    from vradam.app.networks import results_caption

    text = lm.corpus()
    vocab = lm.vocabulary()
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in text]
    cut = round((1 - lm.VAL_FRACTION) * len(ids))
    pairs = Counter(itertools.pairwise(ids[:cut]))
    rows = Counter(ids[: cut - 1])
    *_, x_val, y_val = lm.make_split(3)
    a, V = lm.BIGRAM_SMOOTHING, len(vocab)
    scored = zip(x_val.flatten().tolist(), y_val.flatten().tolist())
    nll = -np.mean([math.log((pairs[(p, n)] + a) / (rows[p] + a * V)) for p, n in scored])
    assert lm.bigram_val_loss() == pytest.approx(nll, rel=1e-12)
    task = get_task("lm")
    caption = results_caption(task, TrainConfig(task="lm", steps=1, sharpness_every=0))
    assert f"validation loss {nll:.3f}" in caption and f"perplexity {math.exp(nll):.2f}" in caption
    assert get_task("digits").reference is None
    # README: the bigram's perplexity, and AdamW's at the task's defaults (the shipped
    # robustness runs: 5 seeds, exp of the mean validation loss)
    rows = csv.DictReader((ev.SHIPPED / "robustness-lm.csv").read_text().splitlines())
    losses = [
        float(r["value"])
        for r in rows
        if r["optimizer"] == "adamw"
        and float(r["lr"]) == task.default_lr
        and int(r["steps"]) == task.default_steps
    ]
    assert len(losses) >= 5
    ppl = math.exp(np.mean(losses))
    readme = (ROOT / "README.md").read_text()
    below = round(100 * (1 - ppl / math.exp(nll)))
    # the task's defaults must put AdamW ≥ 15 % below the bigram, in every seed
    assert math.exp(max(losses)) <= 0.85 * math.exp(nll), (losses, nll)
    assert (
        f"character bigram's {math.exp(nll):.2f} on the same text" in readme
        and f"AdamW reaches {ppl:.1f}, {below} % below the bigram" in readme
    )


def test_generate_returns_characters_of_the_vocabulary():
    torch.manual_seed(0)
    model = lm.CharTransformer()
    text = lm.generate(model, "def f(x):", n_chars=50, temperature=1.0, seed=7)
    assert len(text) == 50 and set(text) <= set(lm.vocabulary())
    assert lm.generate(model, "def f(x):", 50, 1.0, seed=7) == text
    assert lm.generate(model, "def f(x):", 50, 1.0, seed=8) != text
    greedy = lm.generate(model, "é ünïcode", 20, temperature=0.0, seed=1)
    assert greedy == lm.generate(model, "é ünïcode", 20, temperature=0.0, seed=2)
    assert lm.generate(model, "", 0) == ""
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(model, "x", 5, temperature=math.nan)


def test_trained_weights_come_back_for_generation():
    records = list(train_steps(_config("lm", 2)))
    weights = final_records(records)[0]["weights"]
    model = lm.from_weights(weights)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())
    assert len(lm.generate(model, "import ", 10, seed=0)) == 10


def test_cli_generates_a_sample_per_optimizer(tmp_path, capsys):
    out = tmp_path / "lm.csv"
    argv = ["train", "--task", "lm", "--steps", "2", "--generate", "50", "--prompt", "def ",
            "--optimizer", "adamw:lr=0.003", "--optimizer", "vradam:lr=0.003,beta3=10",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("50 characters after 'def '") == 2 and "val ppl" in err
    header = out.read_text().splitlines()[0].split(",")
    assert "val_ppl" in header and "val_acc" not in header and "weights" not in header
    assert main(["train", "--task", "moons", "--steps", "2", "--generate", "5"]) == 2
    assert "--generate needs --task lm" in capsys.readouterr().err


# ----------------------------------------------------------------------------- GFlowNet


def _exact_policy() -> tuple[torch.Tensor, torch.Tensor]:
    """The P_F (and log Z) that samples cells ∝ R with the uniform P_B: from the state flows
    F(s) = R(s) + Σ_children F(s')·P_B(s | s'), P_F(s'|s) = F(s')P_B(s|s')/F(s),
    P_F(stop|s) = R(s)/F(s) and Z = F(start)."""
    reward = np.exp(gflownet.log_reward().double().numpy())
    pb = np.exp(gflownet.LOG_PB.double().numpy())
    flow = np.zeros(gflownet.N_STATES)
    for s in gflownet.ORDER[::-1]:  # children before parents
        children = [c for c in gflownet.CHILDREN[s, : gflownet.STOP] if c >= 0]
        flow[s] = reward[s] + sum(flow[c] * pb[c] for c in children)
    pf = np.zeros((gflownet.N_STATES, gflownet.STOP + 1))
    for s in range(gflownet.N_STATES):
        for a, c in enumerate(gflownet.CHILDREN[s, : gflownet.STOP]):
            if c >= 0:
                pf[s, a] = flow[c] * pb[c] / flow[s]
        pf[s, gflownet.STOP] = reward[s] / flow[s]
    with np.errstate(divide="ignore"):
        return torch.as_tensor(np.log(pf)), torch.tensor(math.log(flow[0]), dtype=torch.float64)


def test_true_distribution_is_the_normalised_reward_with_four_modes():
    p = gflownet.true_distribution()
    reward = np.exp(gflownet.log_reward().double().numpy()).reshape(8, 8)
    assert p.sum() == pytest.approx(1.0) and np.allclose(p / reward, p[0, 0] / reward[0, 0])
    modes = {tuple(int(v) for v in c) for c in np.argwhere(p == p.max())}
    assert modes == {(1, 1), (1, 6), (6, 1), (6, 6)}
    assert reward.max() == pytest.approx(2.6) and reward.min() == pytest.approx(0.1)


def test_the_exact_policy_has_zero_trajectory_balance_loss_and_the_true_distribution():
    log_pf, log_z = _exact_policy()
    data = get_task("gflownet").make_data(0)
    assert float(gflownet.trajectory_balance(log_pf, log_z, data.x_val, data.y_val)) < 1e-10
    states, actions = gflownet.sample_trajectories(log_pf, 64, torch.Generator().manual_seed(0))
    assert float(gflownet.trajectory_balance(log_pf, log_z, states, actions)) < 1e-10
    assert np.allclose(gflownet.terminal_distribution(log_pf), gflownet.true_distribution())
    # a wrong log Z is penalised by exactly its error squared, on every trajectory
    loss = gflownet.trajectory_balance(log_pf, log_z + 0.5, states, actions)
    assert float(loss) == pytest.approx(0.25)


def test_learned_distribution_sums_to_one_and_matches_sampling():
    torch.manual_seed(3)
    model = gflownet.GridPolicy()
    log_pf = model()
    dist = gflownet.terminal_distribution(log_pf)
    assert dist.shape == (8, 8) and dist.sum() == pytest.approx(1.0) and (dist >= 0).all()
    assert np.isneginf(log_pf[63, :4].detach()).all() and log_pf[63, 4] == 0  # (7, 7): stop
    states, actions = gflownet.sample_trajectories(log_pf, 4000, torch.Generator().manual_seed(1))
    last = (actions >= 0).sum(1) - 1
    cells = states.gather(1, last[:, None])[:, 0]
    assert (actions.gather(1, last[:, None]) == gflownet.STOP).all()
    freq = np.bincount(cells.numpy(), minlength=64).reshape(8, 8) / 4000
    assert np.abs(freq - dist).sum() < 0.12  # sampling noise of 4000 draws


def test_validation_paths_run_from_the_start_to_cells_drawn_by_reward():
    data = get_task("gflownet").make_data(0)
    states, actions = data.x_val, data.y_val
    assert (states[:, 0] == 0).all()
    for s, a in zip(states[:20], actions[:20]):
        n = int((a >= 0).sum())
        assert a[n - 1] == gflownet.STOP and (a[: n - 1] != gflownet.STOP).all()
        for t in range(n - 1):
            assert gflownet.CHILDREN[s[t], a[t]] == s[t + 1]


def test_gflownet_run_ends_with_its_learned_distribution():
    records = list(train_steps(_config("gflownet", 5)))
    last = final_records(records)[0]
    assert last["terminal_dist"].shape == (8, 8)
    assert last["terminal_dist"].sum() == pytest.approx(1.0)
    assert 0 <= last["val_l1"] <= 2


# ----------------------------------------------------------------------------- image generation


def test_image_generation_samples_a_grid_per_class():
    torch.manual_seed(0)
    model = imagegen.FlowMLP()
    grid = imagegen.sample(model, per_class=2, steps=4, seed=0)
    assert grid.shape == (20, 8, 8) and grid.min() >= 0 and grid.max() <= 1
    assert np.array_equal(grid, imagegen.sample(model, per_class=2, steps=4, seed=0))
    records = list(train_steps(_config("imagegen", 3)))
    samples = final_records(records)[0]["samples"]
    assert samples.shape == (imagegen.N_CLASSES * imagegen.SAMPLES_PER_CLASS, 8, 8)


def test_image_generation_validation_is_deterministic():
    torch.manual_seed(0)
    model = imagegen.FlowMLP()
    data = get_task("imagegen").make_data(0)
    assert imagegen.evaluate(model, data) == imagegen.evaluate(model, data)
    assert data.x_train.min() >= -1 and data.x_train.max() <= 1 and data.x_train.shape[1] == 64


# ----------------------------------------------------------------------------- the page


@pytest.mark.parametrize("task", PAPER_TASKS)
@pytest.mark.slow  # AppTests, 1-9 s
def test_networks_page_trains_a_paper_task_and_shows_its_outputs(task):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    page = Path(__file__).resolve().parents[1] / "app_pages" / "networks.py"
    at = AppTest.from_file(str(page), default_timeout=180)
    at.query_params.update(nt_task=task, nt_steps="20", nt_o1="adamw:lr=0.003",
                           nt_o2="vradam:lr=0.003,beta3=1", nt_o3="", nt_o4="")  # fmt: skip
    at.run()
    assert at.selectbox(key="nt_sharp").disabled == (task == "gflownet")
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    result = at.session_state["nt_results"]
    assert result["done"] and result["config"].task == task
    columns = list(at.dataframe[0].value.columns)
    assert "val accuracy" not in columns
    charts = at.get("plotly_chart")
    spec = json.loads(charts[0].proto.spec)
    titles = " ".join(a["text"] for a in spec["layout"]["annotations"])
    if task == "lm":
        assert "val perplexity" in columns and "validation perplexity" in titles
        assert len(charts) == 1
        next(b for b in at.button if b.label == "Generate").click().run()
        assert not at.exception
        texts = [c.value for c in at.code if c.value.startswith("def ")]
        assert len(texts) == 2 and all(len(t) == len("def ") + 300 for t in texts)
    elif task == "gflownet":
        assert "val L1 to the true distribution" in columns and "TB loss" in titles
        assert len(charts) == 1 + 3  # the curves, then the true and two learned heatmaps
        assert any("No sharpness" in c.value for c in at.caption)
    else:
        assert len(charts) == 1 + 2  # the curves, then each optimizer's samples


# ----------------------------------------------------------------------------- on a GPU


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("task", PAPER_TASKS)
def test_paper_tasks_train_on_cuda_like_on_the_cpu(task):
    """The same draws on every device: a short CUDA run follows the CPU run closely."""
    config = _config(task, 5, eval_every=5, sharpness_every=5 if task != "gflownet" else 0)
    cpu = final_records(list(train_steps(config)))[0]
    gpu = final_records(list(train_steps(TrainConfig(**{**config.__dict__, "device": "cuda"}))))[0]
    assert not gpu["diverged"]
    for key in get_task(task).evaluation_keys:
        assert gpu[key] == pytest.approx(cpu[key], rel=0.05), key
    if task == "lm":
        text = lm.generate(lm.from_weights(gpu["weights"]).cuda(), "def ", 20, seed=0)
        assert len(text) == 20
