"""A tuning run's limits and the checks of its numbers, without torch or Optuna: the CLI
checks a bad number with these before the heavy imports (:mod:`.config` checks the names,
which need the records)."""

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
