"""Fair tuning: the same Optuna budget for every optimizer, then seeds at each one's best.

The protocol, as the paper's (equal-budget tuning, then several seeds at the tuned setting):

1. One Optuna study per (run, optimizer), named ``{study}-{optimizer}``, in one storage.
   Every optimizer gets the same number of trials, a TPE sampler with the same seed, and
   the same training seed (``seed``: the same data split, initial weights and batches).
   A trial trains the task for ``steps`` updates and reports the task's metric
   (``Task.metric``, e.g. ``val_loss``; lower is better).
2. A trial that diverges (a non-finite loss, weights or metric) is recorded as FAILED with
   ``user_attrs["outcome"] == "diverged"`` and its reason in ``user_attrs["reason"]``;
   the study goes on. It counts toward the budget: the setting was tried.
3. Each optimizer's best setting then trains on ``seeds`` fresh seeds (``seed + 1`` …,
   the same for every optimizer); the table reports the metric's mean ± the half-width of
   its 95 % t-interval, beside the paper's Table 1 (other models and data).

Search spaces (:func:`search_space`). The paper gives its tuned CIFAR-10 values (α0 = 0.0846,
β1 = 0.9, β2 = 0.999, β3 = 1.015, α1 = 29 for VRAdam) but no sweep ranges, so the ranges
here are this project's choice: log-uniform, wide enough to hold both the paper's values
and the task's own defaults (``Task.default_lr``, ``Task.default_beta3``). β3 is not scale
invariant (‖v‖² grows with the loss scale and the parameter count), so it is searched
around the task's β3, ×[0.01, 100]. β1, β2, ε, weight decay and momentum stay at each
optimizer's defaults (the paper's β1, β2; AdamW's and VRAdam's weight decay 0.01).

Many workers: a study lives in a storage URL (default: a SQLite file in the user's data
directory, :func:`default_storage_url`); any number of processes, on one machine or many
(PostgreSQL: ``postgresql+psycopg://user@host/db``), run :func:`tune` with the same
settings and study name and share the budget. Each trial checks, when it starts, the
trials already evaluated plus those still running with a smaller trial number (Optuna
numbers trials atomically), so the budget holds exactly without a scheduler; a trial
over budget is pruned before it trains. A worker killed mid-trial loses only that trial:
its heartbeat stops, it is marked FAILED without an outcome (not counted) and another
trial takes its place. The TPE sampler is seeded per trial from (sampler seed, trial
number), so one worker reproduces a study exactly, a resumed worker does not repeat the
settings already tried, and concurrent workers propose different ones.

The package, one concept per module: :mod:`.space` (what is searched, from the optimizer
records), :mod:`.config` (one run's settings), :mod:`.storage` (where studies live),
:mod:`.protocol` (the sampler, the budget, trials, studies and seed evaluations),
:mod:`.results` (the table, stored runs, export) and :mod:`.paper` (the paper's Table 1).
"""

from vradam.studies.tuning.config import MAX_SEEDS, MAX_TRIALS, PROTOCOL, TuneConfig
from vradam.studies.tuning.paper import (
    PAPER_ALPHA0,
    PAPER_ALPHA1,
    PAPER_NAMES,
    PAPER_NOTE,
    PAPER_TABLE1,
    PaperRow,
    paper_row,
    paper_rows,
)
from vradam.studies.tuning.protocol import (
    WORKER,
    Progress,
    RunOutcome,
    TrialSeededTPE,
    best_trial,
    evaluate_best,
    evaluated_trials,
    evaluation,
    evaluation_gates,
    fail_stale_trials,
    make_objective,
    open_studies,
    startup_trials,
    study_name,
    train_once,
    tune,
)
from vradam.studies.tuning.results import (
    GATE_FLAG,
    GATE_NOTE,
    ResultRow,
    RunSummary,
    fmt_mean,
    format_table,
    gate_text,
    history_summary,
    list_runs,
    load_run,
    results_csv,
    results_json,
    results_table,
    run_meta,
    setting_text,
    t_interval,
    table_rows,
    trial_rows,
    versions,
)
from vradam.studies.tuning.space import (
    SIG_DIGITS,
    TUNABLE,
    Range,
    check_optimizer,
    search_space,
    spec_text,
    tunable,
)
from vradam.studies.tuning.storage import (
    ENV_HEARTBEAT,
    ENV_STORAGE,
    HEARTBEAT,
    data_dir,
    default_storage_url,
    normalise_url,
    open_storage,
    redact,
)

__all__ = [
    "ENV_HEARTBEAT", "ENV_STORAGE", "GATE_FLAG", "GATE_NOTE", "HEARTBEAT", "MAX_SEEDS",
    "MAX_TRIALS", "PAPER_ALPHA0", "PAPER_ALPHA1", "PAPER_NAMES", "PAPER_NOTE", "PAPER_TABLE1",
    "PROTOCOL", "SIG_DIGITS", "TUNABLE", "WORKER", "PaperRow", "Progress", "Range", "ResultRow",
    "RunOutcome", "RunSummary", "TrialSeededTPE", "TuneConfig", "best_trial", "check_optimizer",
    "data_dir", "default_storage_url", "evaluate_best", "evaluated_trials", "evaluation",
    "evaluation_gates", "fail_stale_trials", "fmt_mean", "format_table", "gate_text",
    "history_summary", "list_runs", "load_run", "make_objective", "normalise_url", "open_storage",
    "open_studies", "paper_row", "paper_rows", "redact", "results_csv", "results_json",
    "results_table", "run_meta", "search_space", "setting_text", "spec_text", "startup_trials",
    "study_name", "t_interval", "table_rows", "train_once", "trial_rows", "tunable", "tune",
    "versions",
]  # fmt: skip
