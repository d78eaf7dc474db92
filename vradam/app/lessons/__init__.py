"""Guided lessons for the classroom: a question, a preset, what to look for, an exercise.

Each lesson opens one page of the app with the right settings through that page's
shareable URL (``page`` and ``query``), and carries two functions:

* ``check()`` measures the lesson's claim over a neighbourhood of its preset, not on one
  run, and returns a :class:`Claim` with the frequency (the tests assert ``holds``: the
  claim held in at least 80 % of the neighbourhood, and on the preset's own run).
  Playground lessons use :func:`vradam.app.claims.measure` (7×7 starts around the preset
  start × half, once and twice its steps × noise seeds when noise is on); the edge of
  stability lesson varies the data/initialisation seed, the step size and the horizon;
  the physics lesson the start and the horizon;
* ``explore(value)`` runs the "try this" exercise for one value of its slider and
  returns a small figure and a one-line result, shown on the lesson's own screen.

Oscillation, where a lesson compares it, is measured as the loss's *climb*: the sum of
its rises in decades, Σ max(0, Δ log₁₀ loss), which a steady descent does not add to
(vradam.sim.measures.upward_movement with base 10).
Where a lesson compares VRAdam with Adam it also runs Adam at VRAdam's mean effective
rate over the same steps (the matched-rate control), so that a difference is not just
"a smaller step".

One module per lesson, named by its key (``?lesson=<key>`` in the app's URL); what a
lesson is, and the pieces the Playground lessons share, in :mod:`.lesson`. No streamlit
here: the Lessons page (``vradam.app.ui.lessons``) renders these.
"""

from __future__ import annotations

from vradam.app.lessons.adam_scaling import ADAM
from vradam.app.lessons.edge_of_stability import EOS
from vradam.app.lessons.landscape_basins import LANDSCAPE
from vradam.app.lessons.lesson import HOLDS_AT, PAGES, Claim, Exercise, Lesson
from vradam.app.lessons.momentum import MOMENTUM
from vradam.app.lessons.noise import NOISE
from vradam.app.lessons.physics import PHYSICS
from vradam.app.lessons.step_size import STEP_SIZE
from vradam.app.lessons.tuning_beta3_alpha1 import CLIP
from vradam.app.lessons.velocity_penalty import VR_PENALTY

__all__ = ["ADAM", "CLIP", "EOS", "HOLDS_AT", "LANDSCAPE", "LESSONS", "MOMENTUM", "NOISE",
           "PAGES", "PHYSICS", "STEP_SIZE", "VR_PENALTY", "Claim", "Exercise",
           "Lesson"]  # fmt: skip


LESSONS: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in (STEP_SIZE, MOMENTUM, ADAM, EOS, VR_PENALTY, PHYSICS, CLIP, NOISE, LANDSCAPE)
}
