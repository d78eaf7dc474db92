"""A tuning run's limits and the checks of its numbers and names, without torch or Optuna:
the CLI answers a bad argument with these before the heavy imports.

The names are a snapshot of the records' (:data:`TASK_KEYS`, :data:`OPTIMIZER_KEYS`,
:data:`TUNABLE_KEYS`): a test compares them with ``networks.TASKS``, ``optimizers.REGISTRY``
and ``optimizers.tunable()``, so a new record that is not added here fails the suite.
Where the records are already loaded (a program that registered its own), :func:`check_names`
leaves the names to :mod:`.config`, which reads the live records.
"""

from __future__ import annotations

PROTOCOL = 1  # bump when what a trial means changes; studies of another protocol don't join
MAX_TRIALS = 1000
MAX_SEEDS = 50
MAX_SAMPLER_SEEDS = 20
# Fewer evaluation seeds than this give no paired interval worth reading: the CLI and the
# page warn, and the table says "not enough seeds" instead of a difference.
MIN_SEEDS = 3
SPACES = ("full", "lr")  # every searchable hyperparameter, or α0 alone
DEVICES = ("auto", "cpu", "cuda")

# The records' names (see the module's docstring).
TASK_KEYS = ("moons", "circles", "spirals", "blobs", "digits", "teacher", "modadd", "lm",
             "gflownet", "imagegen")  # fmt: skip
OPTIMIZER_KEYS = ("gd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw", "nadam",
                  "radam", "lion", "vradam", "vrmomentum")  # fmt: skip
TUNABLE_KEYS = ("adamw", "nesterov", "rmsprop", "radam", "lion", "vradam")

# Tasks whose metric does not reward learning in their default run, and why: a new study
# on them is refused with the reason (studies stored earlier still open).
UNSUITABLE = {
    "modadd": "modular addition (a + b mod p) only memorises its training pairs in its default "
    "run (measured with AdamW: train loss 0.001 while the validation loss rises from 3.05 to "
    "18.1, validation accuracy 0.26), so tuning on its validation loss would reward not "
    "training; it is left out of tuning (compare it on the Networks page as a training-loss "
    "race)",
}


def unknown_task(task: str) -> str:
    return f"unknown task {task!r}; valid: {', '.join(TASK_KEYS)}"


def untunable(key: str, tunable=TUNABLE_KEYS, known=OPTIMIZER_KEYS) -> str:
    hint = " (it is not one of the paper's baselines)" if key in known else ""
    return f"cannot tune optimizer {key!r}{hint}; choose from {', '.join(tunable)}"


def check_names(task: str, optimizers) -> None:
    """ValueError, in one line, for a task or optimizer that is unknown or not tuned,
    from the snapshot (nothing is imported); a no-op once the records are loaded."""
    import sys

    if "vradam.sim.optimizers" in sys.modules:  # the live records decide (config.py)
        return
    if task not in TASK_KEYS:
        raise ValueError(unknown_task(task))
    if task in UNSUITABLE:
        raise ValueError(f"task {task!r} is not tuned: {UNSUITABLE[task]}")
    for key in optimizers:
        if key not in TUNABLE_KEYS:
            raise ValueError(untunable(key))


def check_numbers(
    *, trials: int, seeds: int, steps: int | None, seed: int, sampler_seed: int, device: str
) -> None:
    """ValueError, in one line, for a number out of its range (``steps``' upper limit is
    the trainer's, checked with the names)."""
    if not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be between 1 and {MAX_TRIALS}, got {trials}")
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    if seed < 0 or sampler_seed < 0:
        raise ValueError("seed and sampler seed must be ≥ 0")
    if device not in DEVICES:
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
