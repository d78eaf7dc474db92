"""Learning-rate robustness: the final metric against α0 on one log grid, per optimizer.

Every optimizer runs at every α0 of the same grid with the same seeds, so runs pair by
seed: on a network task (:data:`vradam.studies.networks.TASKS`, trained by
:func:`vradam.studies.training.train_steps`) seed s gives every optimizer the same data
split, initial weights and batches; on a 2-D landscape (:func:`vradam.sim.engine.simulate`)
the same start and gradient noise. No Streamlit here; the CLI (``python -m vradam
robustness``) and the Networks page's Robustness view both consume :func:`robustness_runs`
and :func:`summarize`.

One concept per module: :mod:`.config` (the settings, the grid, a run's identity),
:mod:`.runs` (running, rows to and from CSV), :mod:`.measures` (width, divergence rate,
paired difference), :mod:`.summary` (rows to arrays and measures) and :mod:`.report`
(tables, sentences, JSON).

Definitions (one each, tested):

* **Grid**: α0 = anchor·10^e, e evenly spaced from −``below`` to +``above`` decades
  (``points`` values, 6 significant digits). The anchor is AdamW's best α0 as the project
  knows it (the task's ``default_lr``, the landscape's ``suggested_lr``) unless given;
  :meth:`RobustnessResult.coverage` says how far the grid reaches around the best α0
  actually measured.
* **Metric**: the task's ``Task.metric`` (validation loss) after the last step; on a
  landscape the final gap f(θ_T) − f*, floored at :data:`GAP_FLOOR` of the start's gap (below
  it a run has solved the problem: the rest is rounding). Lower is better.
* **Diverged**: the run stopped by ``train_steps`` or ``simulate``'s rule, or a non-finite
  metric. Its value is +∞ in the arrays here (``value`` empty and ``diverged`` true in a
  row): it counts, it is never dropped.
* **Width** (:func:`robust_width`): how many decades of α0 keep the mean over seeds within
  ``tolerance`` (10 %) of the optimizer's own best mean. A point with any diverged seed
  never qualifies; each run of qualifying grid points is extended to the threshold's
  crossing by linear interpolation of the mean in log10 α0 when the next point out has a
  finite mean (not into a diverged or missing one), and the pieces' lengths add up (one
  piece, the usual case, is the range around the best). A piece that reaches the grid's
  end makes the width a lower bound (``censored``).
* **Divergence rate** (:func:`divergence_rate`): diverged runs / runs, over the whole grid.
* **Paired difference** (:func:`paired_difference`): at each α0, the optimizer's metric
  minus the reference's (AdamW's) seed by seed, its mean and 95 % t-interval over the seeds
  where both finished (:func:`vradam.sim.measures.t_interval`), and the seeds where each one
  was lower (a diverged run is worse than any finished one).
* **Gate**: for VRAdam and VRMomentum runs, :func:`vradam.sim.optimizers.gate_activity_of`
  over the run's η_t (columns as ``python -m vradam train`` writes them).
"""

from vradam.studies.robustness.config import (
    GAP_FLOOR,
    GATE_FIELDS,
    MIN_SEEDS,
    ROW_FIELDS,
    START_JITTER,
    TOLERANCE,
    RobustnessConfig,
    landscape_keys,
    round_lr,
    run_key,
    with_lr,
    without_lr,
)
from vradam.studies.robustness.measures import (
    PairedDifference,
    Width,
    divergence_rate,
    paired_difference,
    robust_width,
    seed_means,
)
from vradam.studies.robustness.report import (
    difference_rows,
    headline,
    json_ready,
    result_dict,
    statement,
    study_json,
    summary_rows,
)
from vradam.studies.robustness.runs import (
    device_name,
    landscape_start,
    parse_row,
    robustness_runs,
    rows_csv,
    study_rows,
)
from vradam.studies.robustness.summary import Curve, RobustnessResult, gate_words, summarize

__all__ = [
    "GAP_FLOOR", "GATE_FIELDS", "MIN_SEEDS", "ROW_FIELDS", "START_JITTER", "TOLERANCE", "Curve",
    "PairedDifference", "RobustnessConfig", "RobustnessResult", "Width", "device_name",
    "difference_rows", "divergence_rate", "gate_words", "headline", "json_ready",
    "landscape_keys", "landscape_start", "paired_difference", "parse_row", "result_dict",
    "robust_width", "robustness_runs", "round_lr", "rows_csv", "run_key", "seed_means",
    "statement", "study_json", "study_rows", "summarize", "summary_rows", "with_lr",
    "without_lr",
]  # fmt: skip
