"""Fair tuning: the same Optuna budget for every optimizer, then paired seeds at each one's best.

The protocol:

1. One Optuna study per (run, optimizer), named ``{study}-{optimizer}``, in one storage.
   Every optimizer gets the same number of trials, a TPE sampler with the same seed, and
   the same training seed (``seed``: the same data split, initial weights and batches).
   A trial trains the task for ``steps`` updates (by default the task's own
   ``default_steps``) and reports the task's metric (``Task.metric``, e.g. ``val_loss``;
   lower is better). Tasks whose metric does not reward learning are left out, with the
   reason (:data:`~.config.UNSUITABLE`: modadd only memorises in its default run).
2. A trial that diverges (a non-finite loss, weights or metric) is recorded as FAILED with
   ``user_attrs["outcome"] == "diverged"`` and its reason in ``user_attrs["reason"]``;
   the study goes on. It counts toward the budget: the setting was tried.
3. Each optimizer's best setting then trains on ``seeds`` fresh seeds (``seed + 1`` …,
   the same for every optimizer; 5 by default, fewer than 3 warned). The table's headline
   is each optimizer's paired difference from the baseline (AdamW, the record with
   ``Tuning(baseline=True)``) over the seeds both ran, with its 95 % t-interval, beside
   each optimizer's own mean ± 95 % t-interval (:mod:`.paired`, which also says how a
   diverged seed counts). Each seed run is claimed by one worker and trained once
   (:mod:`.seeds`), and records its metric's curve, from which :mod:`.target` gives each
   optimizer's time to the baseline's final metric (AlgoPerf's view) and, over the tuned
   tasks of a storage (:mod:`.profile`), the performance profile. The paper's Table 1 is
   printed apart: other models and data.

Search spaces (:func:`search_space`). The paper gives its tuned CIFAR-10 values (α0 = 0.0846,
β1 = 0.9, β2 = 0.999, β3 = 1.015, α1 = 29 for VRAdam) but no sweep ranges, so the ranges
here are this project's choice: log-uniform, wide enough to hold both the paper's values
and the task's own defaults (``Task.default_lr``, ``Task.default_beta3``). β3 is not scale
invariant (‖v‖² grows with the loss scale and the parameter count), so it is searched
around the task's β3, ×[0.01, 100]. β1, β2, ε, weight decay and momentum stay at each
optimizer's defaults (the paper's β1, β2; AdamW's and VRAdam's weight decay 0.01).
VRAdam's full search has three dimensions (α0, β3, α1) against AdamW's one, on the same
trial count; ``lr_only`` (``--space vradam=lr``) searches its α0 alone, with β3 at the
task's and α1 at its default, so the two compare on equal dimensions. The table states
each optimizer's searched dimensions and which comparison ran.

Many workers: a study lives in a storage URL (default: a SQLite file in the user's data
directory, :func:`default_storage_url`); any number of processes, on one machine or many
(PostgreSQL: ``postgresql+psycopg://user@host/db``, the password in ``PGPASSWORD`` or
``~/.pgpass``), run :func:`tune` with the same settings and study name and share the
budget; a worker with another budget (trials) or other settings is refused. Each trial
checks, when it starts, the trials already evaluated plus those still running with a
smaller trial number (Optuna numbers trials atomically), so the budget holds exactly
without a scheduler; a trial over budget is pruned before it trains. A worker killed
mid-trial loses only that trial: its heartbeat stops, it is marked FAILED without an
outcome (not counted) and another trial takes its place. The TPE sampler is seeded per
trial from (sampler seed, trial number), so one worker reproduces a study exactly, a
resumed worker does not repeat the settings already tried, and concurrent workers propose
different ones.

The package, one concept per module: :mod:`.limits` (the numbers' limits, checked without
torch), :mod:`.space` (what is searched, from the optimizer records), :mod:`.config` (one
run's settings and the tasks left out), :mod:`.storage` (where studies live),
:mod:`.protocol` (the sampler, the budget, trials, studies, which ran in parallel),
:mod:`.seeds` (the shared seed phase), :mod:`.paired` (the paired comparison),
:mod:`.target` (time to target, the performance profile), :mod:`.budget` (best-so-far curves
over sampler seeds), :mod:`.results` (the table, stored runs, export), :mod:`.profile` (time
to target across a storage's tasks) and :mod:`.paper` (the paper's Table 1). The names
below load their module on first use, so ``vradam.studies.tuning.limits`` (what the CLI
checks its numbers with, before torch) and ``.config`` (the names, with torch) import
without Optuna.
"""

from __future__ import annotations

import importlib

# name → the submodule that defines it
_WHERE = {
    "budget": ("BudgetCurve", "best_so_far", "budget_curves", "budget_note", "budget_points",
               "budget_text", "sampler_group"),
    "config": ("UNSUITABLE", "TuneConfig", "check_task"),
    "heldout": ("NO_SPLIT", "SOURCES", "TEST_SEED", "has_split", "split_note", "test_data",
                "test_metric"),
    "limits": ("DEVICES", "MAX_SAMPLER_SEEDS", "MAX_SEEDS", "MAX_TRIALS", "MIN_SEEDS", "PROTOCOL",
               "SPACES", "check_numbers"),
    "paper": ("PAPER_ALPHA0", "PAPER_ALPHA1", "PAPER_NAMES", "PAPER_NOTE", "PAPER_TABLE1",
              "PaperRow", "paper_row", "paper_rows"),
    "paired": ("Paired", "paired_difference", "paired_text", "t_interval", "wins_text"),
    "profile": ("Profile", "tuned_profile"),
    "protocol": ("WORKER", "Progress", "RunOutcome", "TrialSeededTPE", "best_trial",
                 "evaluated_trials", "fail_stale_trials", "make_objective", "open_studies",
                 "parallel_note", "parallel_trials", "startup_trials", "study_name",
                 "train_once", "tune"),
    "seeds": ("claims_study", "evaluate_best", "evaluation", "evaluation_curves",
              "evaluation_gates", "evaluation_tests", "stored_runs", "trainings"),
    "target": ("CURVE_POINTS", "LOOSE", "TAUS", "TARGETS", "TimeToTarget", "curve_every",
               "of_rows", "performance_profile", "steps_to", "target_note", "target_table",
               "target_values", "targets_of", "time_to_target"),
    "results": ("GATE_FLAG", "GATE_NOTE", "ResultRow", "RunSummary", "comparison_note",
                "fmt_mean", "format_table", "gate_text", "history_summary", "list_runs",
                "load_run", "results_csv", "results_json", "results_table", "run_meta",
                "run_record", "setting_text", "table_rows", "trial_rows", "versions",
                "with_paired"),
    "space": ("SIG_DIGITS", "TUNABLE", "Range", "baseline", "check_optimizer",
              "fixed_values", "search_space", "spec_text", "symbols", "tunable", "widens"),
    "storage": ("ENV_HEARTBEAT", "ENV_STORAGE", "HEARTBEAT", "data_dir", "default_storage_url",
                "normalise_url", "open_storage", "redact"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """A name of a submodule (loaded on first use), or a submodule itself."""
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    if name in _WHERE:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF, *_WHERE})
