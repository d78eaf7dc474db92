"""Optuna's own Plotly figures of a tuning run, in the house style.

:func:`history_figure` is ``optuna.visualization.plot_optimization_history`` over every
optimizer's study (each optimizer in its own colour, diverged trials added as ✕ at the
top), :func:`contour_figure` is ``plot_contour`` of VRAdam's β₃ × α₀ and
:func:`importance_figure` is ``plot_param_importances`` (fANOVA), and
:func:`budget_figure` draws the budget curves (best after 1, 2, 4, … trials over several
sampler seeds). Each returns a plain figure dict, or None when the study has too few
completed trials for it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import optuna
from optuna.trial import TrialState

from vradam.app.figures.colors import GRID_COLOR, KEY_COLORS, rgba
from vradam.app.figures.ticks import log_range, log_ticks
from vradam.sim.optimizers import REGISTRY

SYMBOLS = {"lr": "α₀", "beta3": "β₃", "alpha1": "α₁", "momentum": "μ"}


def _label(param: str) -> str:
    return f"{SYMBOLS[param]} ({param})" if param in SYMBOLS else param


def _style(fig, title: str, height: int) -> dict:
    """A figure dict without Optuna's template, with the pages' margins and fonts."""
    d = fig.to_dict()
    layout = d["layout"]
    layout.pop("template", None)
    layout.update(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(size=13),
    )
    for axis in ("xaxis", "yaxis"):
        layout.setdefault(axis, {}).update(gridcolor=GRID_COLOR, zeroline=False)
    return d


@contextmanager
def _quiet() -> Iterator[None]:
    """Optuna's figures warn about experimental options and sparse studies: not for users."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def history_figure(studies: dict[str, optuna.Study], metric: str) -> dict:
    """Every trial's metric and the best so far, per optimizer; ✕: a diverged trial."""
    with _quiet():
        fig = optuna.visualization.plot_optimization_history(
            list(studies.values()), target_name=metric
        )
    d = _style(fig, f"Optimization history: {metric} per trial", 420)
    names = {s.study_name: key for key, s in studies.items()}
    data = []
    finite: list[float] = []
    for trace in d["data"]:
        if trace.get("name") == "Infeasible Trial":
            continue
        key = next((k for n, k in names.items() if trace.get("name", "").endswith(n)), None)
        if key is None:
            continue
        name, color = REGISTRY[key].name, KEY_COLORS.get(key, "#444444")
        best = trace.get("mode") == "lines"
        trace["name"] = f"{name}: best so far" if best else f"{name}: trial"
        trace["legendgroup"] = key
        if best:
            trace["line"] = dict(color=color, width=2)
        else:
            trace["marker"] = dict(color=color, size=8, opacity=0.8)
            finite += [y for y in trace.get("y", []) if y is not None and math.isfinite(y)]
        trace["hovertemplate"] = f"{name} trial %{{x}}: %{{y:.4g}}<extra></extra>"
        data.append(trace)
    top = max(finite, default=1.0)
    diverged = 0
    for key, study in studies.items():
        failed = [t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
                  if t.user_attrs.get("outcome") == "diverged"]  # fmt: skip
        if not failed:
            continue
        diverged += len(failed)
        name, color = REGISTRY[key].name, KEY_COLORS.get(key, "#444444")
        data.append(dict(
            type="scatter", mode="markers", name=f"{name}: diverged", legendgroup=key,
            x=[t.number for t in failed], y=[top] * len(failed),
            text=[t.user_attrs.get("reason", "diverged") for t in failed],
            marker=dict(symbol="x-thin", size=12, color=color, line=dict(width=2, color=color)),
            hovertemplate=f"{name} trial %{{x}}: %{{text}}<extra></extra>",
        ))  # fmt: skip
    d["data"] = data
    layout = d["layout"]
    layout["xaxis"]["title"] = dict(text="trial (each optimizer's own study)")
    layout["yaxis"]["title"] = dict(text=metric + (" (✕ at the top: diverged)" if diverged else ""))
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        span = log_range([finite])
        layout["yaxis"].update(type="log", range=span, **log_ticks(*span))
    layout["legend"] = dict(orientation="h", x=0, y=-0.2, yanchor="top")
    layout["margin"]["b"] = 40
    return d


def _completed(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def contour_figure(
    study: optuna.Study, metric: str, x: str = "lr", y: str = "beta3"
) -> dict | None:
    """Optuna's contour of the metric over two parameters (log axes for log ranges)."""
    if _completed(study) < 3:
        return None
    with _quiet():
        fig = optuna.visualization.plot_contour(study, params=[x, y], target_name=metric)
    name = study.user_attrs.get("vradam", {}).get("optimizer", "")
    who = REGISTRY[name].name if name in REGISTRY else study.study_name
    d = _style(fig, f"{who}: {metric} over {SYMBOLS.get(x, x)} and {SYMBOLS.get(y, y)}", 420)
    layout = d["layout"]
    for axis in ("xaxis", "yaxis"):  # Optuna orders the two parameters itself
        name = layout[axis].get("title", {}).get("text", "")
        layout[axis]["title"] = dict(text=_label(name))
        if layout[axis].get("type") == "log":
            layout[axis]["exponentformat"] = "power"
    for trace in d["data"]:
        if trace.get("type") == "contour":
            trace["colorbar"] = dict(title=dict(text=metric), thickness=14)
    return d


def importance_figure(study: optuna.Study, metric: str) -> dict | None:
    """Optuna's fANOVA importances of the searched parameters (needs ≥ 3 completed trials)."""
    if _completed(study) < 3 or len(study.best_trial.params) < 2:
        return None
    with _quiet():
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)  # the same bars each time
        fig = optuna.visualization.plot_param_importances(
            study, evaluator=evaluator, target_name=metric
        )
    name = study.user_attrs.get("vradam", {}).get("optimizer", "")
    who = REGISTRY[name].name if name in REGISTRY else study.study_name
    d = _style(fig, f"{who}: importances (fANOVA)", 300)
    color = KEY_COLORS.get(name, "#444444")
    for trace in d["data"]:
        trace["y"] = [_label(p) for p in trace.get("y", [])]
        trace["marker"] = dict(color=color)
        trace["hovertemplate"] = "%{y}: %{x:.2f}<extra></extra>"
    top = max((x for trace in d["data"] for x in trace.get("x", [])), default=1.0)
    d["layout"]["xaxis"].update(title=dict(text="importance (sums to 1)"), range=[0, 1.3 * top])
    d["layout"]["yaxis"]["title"] = dict(text="")
    d["layout"]["margin"]["r"] = 30
    return d


def budget_figure(curves, metric: str) -> dict:
    """Each optimizer's best metric after 1, 2, 4, … trials: the median over the studies
    (sampler seeds) as a line, their min–max as a band (``curves``: BudgetCurve each)."""
    data: list[dict] = []
    for c in curves:
        color = KEY_COLORS.get(c.optimizer, "#444444")
        ks = [k for k, n in zip(c.trials, c.studies) if n]
        lo = [v for v, n in zip(c.low, c.studies) if n]
        hi = [v for v, n in zip(c.high, c.studies) if n]
        med = [v for v, n in zip(c.median, c.studies) if n]
        counts = [n for n in c.studies if n]
        data.append(dict(
            type="scatter", mode="lines", x=[*ks, *ks[::-1]], y=[*hi, *lo[::-1]],
            fill="toself", fillcolor=rgba(color, 0.15), line=dict(width=0),
            name=f"{c.name}: min – max", legendgroup=c.optimizer, hoverinfo="skip",
            showlegend=False,
        ))  # fmt: skip
        data.append(dict(
            type="scatter", mode="lines+markers", x=ks, y=med, name=f"{c.name}: median",
            legendgroup=c.optimizer, line=dict(color=color, width=2),
            marker=dict(color=color, size=7),
            customdata=[[a, b, n] for a, b, n in zip(lo, hi, counts)],
            hovertemplate=f"{c.name} after %{{x}} trials: median %{{y:.4g}} "
            "(min %{customdata[0]:.4g}, max %{customdata[1]:.4g}, %{customdata[2]} studies)"
            "<extra></extra>",
        ))  # fmt: skip
    seeds = len(curves[0].sampler_seeds) if curves else 0
    ks = list(curves[0].trials) if curves else []
    layout = dict(
        title=dict(text=f"Budget: best {metric} after k trials,<br>median and min – max over "
                   f"{seeds} sampler seeds", x=0, xanchor="left", font=dict(size=14)),
        height=380, margin=dict(l=60, r=20, t=70, b=40), plot_bgcolor="white",
        paper_bgcolor="white", font=dict(size=13),
        xaxis=dict(title=dict(text="trials (the budget)"), type="log", tickvals=ks,
                   ticktext=[str(k) for k in ks], gridcolor=GRID_COLOR, zeroline=False),
        yaxis=dict(title=dict(text=f"best {metric} (tuning seed)"), gridcolor=GRID_COLOR,
                   zeroline=False),
        legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"),
    )  # fmt: skip
    finite = [v for c in curves for v, n in zip(c.low, c.studies) if n and v > 0]
    tops = [v for c in curves for v, n in zip(c.high, c.studies) if n]
    if finite and tops and max(tops) / min(finite) > 20:
        span = log_range([finite, tops])
        layout["yaxis"].update(type="log", range=span, **log_ticks(*span))
    return dict(data=data, layout=layout)


def profile_figure(profile: dict[str, list[float]], taus, tasks: int) -> dict:
    """The performance profile: per optimizer, the fraction of the tuned tasks on which it
    reached the baseline's final metric within τ× the fewest steps any optimizer took
    (``profile``: optimizer → ρ at each τ of ``taus``, from
    :func:`vradam.studies.tuning.performance_profile`)."""
    data = [
        dict(type="scatter", mode="lines", x=list(taus), y=list(rho), name=REGISTRY[o].name,
             line=dict(color=KEY_COLORS.get(o, "#444444"), width=2.5, shape="hv"),
             hovertemplate=f"{REGISTRY[o].name}: within %{{x:.2f}}× the fastest on "
             "%{y:.0%} of the tasks<extra></extra>")
        for o, rho in profile.items()
    ]  # fmt: skip
    layout = dict(
        title=dict(text=f"Performance profile over {tasks} tuned task(s):<br>steps to "
                   "AdamW's final metric", x=0, xanchor="left", font=dict(size=14)),
        height=380, margin=dict(l=60, r=20, t=70, b=40), plot_bgcolor="white",
        paper_bgcolor="white", font=dict(size=13),
        xaxis=dict(title=dict(text="τ: steps ÷ the fastest optimizer's on that task"),
                   range=[1, max(taus)], gridcolor=GRID_COLOR, zeroline=False),
        yaxis=dict(title=dict(text="share of tasks within τ"), range=[-0.02, 1.02],
                   tickformat=".0%", gridcolor=GRID_COLOR, zeroline=False),
        legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"),
    )  # fmt: skip
    return dict(data=data, layout=layout)
