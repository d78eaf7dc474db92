"""The Evidence page: "should I use VRAdam?" from the stored measurements.

Reads the shipped evidence folder (``vradam/assets/evidence/``, computed by ``python -m
vradam evidence``); every sentence comes from :mod:`vradam.app.evidence`, the figures from
:mod:`vradam.app.figures.evidence` and :mod:`vradam.app.figures.robustness`. One control,
the task whose robustness curve is shown, lives in the URL (``?ev_task=digits``).
"""

from __future__ import annotations

import streamlit as st

from vradam.app import evidence as ae
from vradam.app.figures.colors import assign_colors
from vradam.app.figures.evidence import difference_figure, widths_figure
from vradam.app.figures.robustness import robustness_figure
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.links import page_link
from vradam.app.ui.markdown import md_escape
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies import evidence as ev
from vradam.studies import robustness as rb

__all__ = ["show"]

FIELDS = [UrlField("ev_task", "digits", ae.TASK_ORDER)]


def _bullets(lines: list[str]) -> None:
    st.markdown("\n".join(f"- {md_escape(line)}" for line in lines))


@st.cache_data(show_spinner=False)
def _result(task: str) -> rb.RobustnessResult:
    return ev.load_robustness(task)


def _findings(findings: list[tuple[str, str, str]]) -> None:
    """Each (title, sentence, command): the sentence, then the command that reproduces it."""
    for _title, sentence, command in findings:
        st.markdown(md_escape(sentence))
        st.code(command, language="bash", wrap_lines=True)


@st.cache_data(show_spinner=False)
def _stored() -> tuple[list, list, list, list]:
    """(frontier findings, tuned findings, gate sentences, open items): the shipped
    folder's."""
    gate = ae.gate_sentences(ae.gate_counts())
    return ae.frontier_findings(), ae.tuned_findings(), gate, ae.open_items()


@st.cache_data(show_spinner=False)
def _landscapes() -> list[dict]:
    """One entry per stored 2-D preset: its name, VRAdam's β3, and per optimizer (AdamW,
    VRAdam) the good α0 range in decades, whether it is a lower bound, the divergence rate."""
    out = []
    for key in rb.landscape_keys():
        result = ev.load_robustness(key)
        if result.runs == 0:
            continue
        a, v = ae.curves(result)
        beta3 = dict(OptimizerSpec.parse(v.spec).params).get("beta3", float("nan"))
        out.append(dict(title=result.title, beta3=float(beta3), seeds=len(result.seeds),
                        width=(a.width.decades, v.width.decades),
                        censored=(a.width.censored, v.width.censored),
                        diverged=(a.divergence_rate, v.divergence_rate)))  # fmt: skip
    return out


def _landscape_table(entries: list[dict]) -> list[dict]:
    def width(e: dict, i: int) -> str:
        w = e["width"][i]
        return "—" if w != w else f"{'≥ ' if e['censored'][i] else ''}{w:.2f}"

    return [{"landscape": e["title"], "VRAdam β₃": f"{e['beta3']:.3g}",
             "AdamW: decades": width(e, 0), "VRAdam: decades": width(e, 1),
             "AdamW: diverged": f"{100 * e['diverged'][0]:.0f} %",
             "VRAdam: diverged": f"{100 * e['diverged'][1]:.0f} %"} for e in entries]  # fmt: skip


def _landscape_sentence(entries: list[dict]) -> str:
    if not entries:
        return "No 2-D preset is stored."
    nan = float("nan")
    a = [e["width"][0] if e["width"][0] == e["width"][0] else nan for e in entries]
    v = [e["width"][1] for e in entries]
    seeds = "/".join(str(n) for n in sorted({e["seeds"] for e in entries}))
    wider = sum(y > x + 0.005 for x, y in zip(a, v))
    narrower = sum(y < x - 0.005 for x, y in zip(a, v))
    return (f"On the {len(entries)} 2-D presets (VRAdam at each one's suggested β₃, its "
            f"suggested steps, {seeds} starts moved by up to 5 % of the domain, no noise), "
            f"VRAdam's good α₀ range is wider than AdamW's on {wider}, narrower on "
            f"{narrower}, and neither (as wide, or no range) on "
            f"{len(entries) - wider - narrower}.")  # fmt: skip


def robustness_section(tasks: list[ae.TaskRobustness]) -> None:
    st.subheader("Learning-rate robustness")
    st.markdown(
        "Each optimizer at every α₀ of one log grid around the task's α₀, the same seeds "
        "for both"
        " (same data, initial weights and batches), VRAdam at the task's β₃. The *good range* "
        "is the α₀ span whose mean validation loss is within 10 % of the optimizer's own "
        "best; a point with a diverged seed never qualifies."
    )
    if not tasks:
        st.info("No robustness study is stored.")
        return
    specs = [OptimizerSpec.parse(c.spec) for c in _result(tasks[0].task).curves]
    st.plotly_chart(trusted(widths_figure(tasks, tuple(assign_colors(specs)))), key="ev_widths")
    widths = [f"{t.task}: AdamW {t.width[0]:.2f}, VRAdam {t.width[1]:.2f} decades" for t in tasks]
    chart_summary(md_escape("; ".join(widths)))
    names = [t.task for t in tasks]
    choices = [k for k in ae.TASK_ORDER if k in names]
    if st.session_state.get("ev_task") not in choices:
        st.session_state["ev_task"] = choices[0]
    task = st.radio("Task", choices, key="ev_task", horizontal=True, persist_state="session",
                    format_func=lambda k: next(t.title for t in tasks if t.task == k))  # fmt: skip
    t = next(t for t in tasks if t.task == task)
    result = _result(task)
    colors = assign_colors([OptimizerSpec.parse(c.spec) for c in result.curves])
    st.plotly_chart(trusted(robustness_figure(result, colors)), key="ev_curve")
    chart_summary(md_escape(rb.headline(result)))
    st.plotly_chart(trusted(difference_figure(result)), key="ev_difference")
    chart_summary(
        md_escape(
            f"VRAdam − AdamW at each α₀, paired by seed: lower at α₀ = "
            f"{ae.lr_list(t.lower_at)}, higher at {ae.lr_list(t.higher_at)}."
        )
    )
    _bullets(ae.task_sentences(t))
    with st.expander("Every measure of this study (table, sentences)"):
        st.dataframe(rb.summary_rows(result), hide_index=True, width="stretch")
        _bullets(rb.statement(result))
        st.dataframe(rb.difference_rows(result), hide_index=True, width="stretch")
    st.caption("Reproduce this study alone, or the whole evidence set:")
    st.code(
        f"{t.command} --out robustness-{task}.csv\n"
        f"python -m vradam evidence --out evidence/ --tasks {task}",
        language="bash",
        wrap_lines=True,
    )
    entries = _landscapes()
    st.markdown("**The 2-D presets**")
    st.markdown(md_escape(_landscape_sentence(entries)))
    with st.expander("Each preset's good α₀ range and divergence rate"):
        st.dataframe(_landscape_table(entries), hide_index=True, width="stretch")
        st.code("python -m vradam evidence --out evidence/ --tasks landscapes", language="bash",
                wrap_lines=True)  # fmt: skip


def show() -> None:
    st.title("Evidence: should I use VRAdam?")
    for warning in url_state(FIELDS):
        st.warning(warning)
    st.markdown(
        "Every sentence on this page is computed from the measurements shipped with the "
        "package (`vradam/assets/evidence/`), each with its condition (β₃, α₀, steps, "
        "seeds) and the command that reproduces it. One command computes the whole set, "
        "resumably: `python -m vradam evidence --out evidence/ --jobs 2`."
    )
    tasks = ae.tasks()
    st.subheader("The answer, in numbers")
    _bullets(ae.overall(tasks))
    robustness_section(tasks)
    findings, tuned, gate, missing = _stored()
    st.subheader("Is the damping more than a smaller step?")
    st.markdown(
        "The damping–cost frontier: each run's oscillation (upward movement of the loss in "
        "the second half) against its final loss, VRAdam over a grid of β₃ and α₀, Adam "
        "over a grid of α₀, constant and warmup-cosine. A VRAdam setting below Adam's "
        "lower-left envelope damps at a lower cost than any smaller step."
    )
    _findings(findings)
    page_link("app_pages/eos.py", "The frontier's figure: Edge of stability page",
              icon=":material/ssid_chart:")  # fmt: skip
    if tuned:
        st.subheader("Tuned on an equal budget")
        st.markdown(
            "Each optimizer tuned by the same Optuna search (TPE, the same trials and seeds), "
            "then trained again at its best setting on fresh seeds; the difference is paired "
            "by seed (the Tuning page runs and explains the protocol)."
        )
        _findings(tuned)
    st.subheader("What the gate did")
    st.markdown(
        "A VRAdam run whose η stayed ≥ 0.99·α₀ (on ≥ 99 % of its steps) was AdamW at α₀ in "
        "disguise; one clipped at α₁ on ≥ 99 % was AdamW at α₀/(1+α₁). Counted over the "
        "stored robustness runs:"
    )
    _bullets(gate)
    st.subheader("Not measured yet")
    _bullets(missing)
    write_url(FIELDS)
