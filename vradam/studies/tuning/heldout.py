"""A held-out test split: the tuned settings' metric on data that no selection saw.

Tuning selects on the tuning seed's validation split, and the table's seed runs report the
validation split of their own seeds. The test split here is a fresh draw from the task's
own data generator with a seed no run uses (:data:`TEST_SEED` + the run's seed), read
through the task's own evaluation, so the test number is the same quantity as the
validation one (``val_loss`` on the test draw). Only tasks whose generator draws new
examples from one fixed distribution have one (:data:`SOURCES`); the others say why not
(:data:`NO_SPLIT`), and their tables show no test column. No task's training or validation
data change.
"""

from __future__ import annotations

import torch

from vradam.studies.networks import Data, get_task

TEST_SEED = 1_000_000  # the test draw of a run with seed s uses TEST_SEED + s

# task → how its test split is drawn (every example of the fresh draw is a test example)
SOURCES = {
    "moons": "a fresh draw of 512 noisy half-moon points",
    "circles": "a fresh draw of 512 points on the two rings",
    "spirals": "a fresh draw of 512 points on the two spirals",
    "teacher": "256 fresh inputs through the same fixed teacher network",
    "gflownet": "256 fresh validation paths drawn ∝ R (the L1 is the policy's own)",
}
# task → why it has no held-out split here
NO_SPLIT = {
    "blobs": "its generator places the four centres by the seed, so a fresh draw is another "
    "problem",
    "digits": "the 1797 bundled images are all in its training and validation splits",
    "imagegen": "the 1797 bundled images are all in its training and validation splits",
    "lm": "its text is all in its training and validation splits",
    "modadd": "every pair a + b is in its training or validation split",
}


def has_split(task: str) -> bool:
    return task in SOURCES


def test_data(task: str, seed: int) -> Data:
    """The test split of a run with ``seed``: the fresh draw, all of it as the validation
    part (the training part is the draw's too, and unused)."""
    t = get_task(task)
    if not has_split(task):
        raise ValueError(f"task {task!r} has no held-out split: {NO_SPLIT.get(task, '')}")
    d = t.make_data(TEST_SEED + seed)
    if t.evaluate is not None:  # its own evaluation reads the validation part as is
        return d
    x, y = torch.cat([d.x_train, d.x_val]), torch.cat([d.y_train, d.y_val])
    return Data(d.x_train, d.y_train, x, y)


def test_metric(task: str, flat_params, seed: int) -> float:
    """The task's metric (its ``val_…`` key) of the weights ``flat_params`` on the test split."""
    t = get_task(task)
    data = test_data(task, seed)
    torch.manual_seed(0)  # the weights are overwritten; only the structure is used
    model = t.make_model()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat_params), model.parameters())
    model.eval()
    with torch.no_grad():
        if t.evaluate is not None:
            return float(t.evaluate(model, data)[t.metric])
        return float(t.loss_fn(model(data.x_val), data.y_val))


def split_note(task: str, metric: str, measured: bool = True) -> str:
    """Which split each of the table's numbers comes from (``measured``: the seed runs
    recorded the test metric; runs stored before it was measured did not)."""
    head = (f"Splits: the trials select on the tuning seed's validation split; the {metric} "
            "columns are each evaluation seed's own validation split")  # fmt: skip
    if has_split(task) and not measured:
        return (f"{head}. This run's seed runs were stored before the held-out test split "
                f"({SOURCES[task]} per seed) was measured: no test column.")  # fmt: skip
    if has_split(task):
        return (f"{head}; the held-out test columns are {SOURCES[task]} per seed (seed "
                f"{TEST_SEED:,} + s), never used for selection.")  # fmt: skip
    why = NO_SPLIT.get(task, "none is defined for it")
    return f"{head}. No held-out test split for {task}: {why}."
