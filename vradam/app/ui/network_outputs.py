"""The Networks page's task outputs after a run: GFlowNet's learned distribution, the image
generator's samples and the language model's generated text (a task names its view in
``Task.output_view``; :data:`OUTPUT_VIEWS` maps the name to the function that shows it)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vradam.app.figures import networks as netplots
from vradam.app.networks import final_values
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape
from vradam.studies import gflownet, imagegen, lm
from vradam.studies.training import TrainConfig

__all__ = ["OUTPUT_VIEWS"]


def _in_columns(figures: list[dict], per_row: int, key: str) -> None:
    """Small figures side by side, ``per_row`` a row (Streamlit stacks them on a phone)."""
    for start in range(0, len(figures), per_row):
        columns = st.columns(per_row)
        for k, fig in enumerate(figures[start : start + per_row]):
            columns[k].plotly_chart(trusted(fig), key=f"{key}_{start + k}",
                                    config={"displayModeBar": False})  # fmt: skip


def show_distribution(result: dict, records: list[dict], labels, colors) -> None:
    """GFlowNet: the true distribution over the cells beside each optimizer's learned one."""
    config: TrainConfig = result["config"]
    learned = final_values(records, "terminal_dist", len(labels))
    true = gflownet.true_distribution()
    st.markdown(f"**Where each policy ends** (seed {config.seed}): the probability of "
                "stopping at each cell, exact by dynamic programming over the grid.")  # fmt: skip
    _in_columns(netplots.distribution_panels(true, learned, labels, colors), 3, "nt_gfn")
    parts = [f"{label} L1 {np.abs(d - true).sum():.3f}"
             for d, label in zip(learned, labels) if d is not None]  # fmt: skip
    chart_summary("True distribution R/Z with four modes of p = "
                  f"{true.max():.3f} at (1, 1), (1, 6), (6, 1) and (6, 6); learned: "
                  + ("; ".join(parts) or "every run diverged") + ".")  # fmt: skip
    top = max([float(true.max())] + [float(d.max()) for d in learned if d is not None])
    st.caption("x grows to the right and y upwards from the start (0, 0) at the bottom left; "
               "actions x+1, y+1, x+2, y+2 and stop. Colour: probability, one scale for all, "
               f"from 0 (dark blue) to {top:.3f} (yellow). L1 = Σ|P_learned − R/Z| "
               "(0 … 2).")  # fmt: skip


def show_samples(result: dict, records: list[dict], labels, colors) -> None:
    """Image generation: each optimizer's digits, drawn from the same noise."""
    config: TrainConfig = result["config"]
    samples = final_values(records, "samples", len(labels))
    per = imagegen.SAMPLES_PER_CLASS
    st.markdown(f"**Samples** (seed {config.seed}): {per} per digit, one digit per column "
                f"(0 … 9), {imagegen.EULER_STEPS} Euler steps from the same noise for every "
                "optimizer.")  # fmt: skip
    _in_columns(netplots.samples_panels(samples, labels, colors, per), 2, "nt_ig")
    drawn = [label for grid, label in zip(samples, labels) if grid is not None]
    chart_summary(f"{per * imagegen.N_CLASSES} generated 8×8 digits for each of "
                  + (", ".join(drawn) or "no optimizer (every run diverged)") + ".")  # fmt: skip


GENERATE_DEFAULTS = dict(nt_prompt="def ", nt_gen_chars=300, nt_temperature=0.8)


def _generate(result: dict, records: list[dict], labels: list[str]) -> None:
    ss = st.session_state
    weights = final_values(records, "weights", len(labels))
    prompt, seed = str(ss["nt_prompt"]), result["config"].seed
    n, temperature = int(ss["nt_gen_chars"]), float(ss["nt_temperature"])
    texts = []
    with st.spinner("Generating…"):
        for w, label in zip(weights, labels):
            text = None
            if w is not None:
                model = lm.from_weights(w)
                text = lm.generate(model, prompt, n, temperature, seed=seed)
            texts.append((label, text))
    ss["nt_generated"] = dict(config=result["config"], prompt=prompt, texts=texts)


def show_generation(result: dict, records: list[dict], labels, colors) -> None:
    """Language model: continue a prompt with each optimizer's trained model."""
    ss = st.session_state
    for key, value in GENERATE_DEFAULTS.items():
        ss.setdefault(key, value)
    config: TrainConfig = result["config"]
    st.markdown(f"**Generate text** with each optimizer's trained model (seed {config.seed}).")
    c1, c2, c3 = st.columns([3, 1, 1])
    c1.text_input("prompt", key="nt_prompt", persist_state="session", max_chars=200)
    c2.number_input("characters", 10, 2000, key="nt_gen_chars", persist_state="session", step=50)
    c3.selectbox(
        "temperature",
        [0.0, 0.5, 0.8, 1.0, 1.2],
        key="nt_temperature",
        persist_state="session",
        help="0: the likeliest next character; higher: more varied.",
    )
    if st.button("Generate", key="nt_generate", disabled=not result["done"],
                 help="Samples from each model with the run's seed, so the same settings "
                 "give the same text."):  # fmt: skip
        _generate(result, records, labels)
    shown = ss.get("nt_generated")
    if not shown or shown["config"] != config:
        return
    for label, text in shown["texts"]:
        st.markdown(f"**{md_escape(label)}**")
        if text is None:
            st.caption("Diverged: no model to sample from.")
        else:
            st.code(shown["prompt"] + text, language=None, wrap_lines=True)


# how each task's ``output_view`` (vradam.studies.networks.Task) is drawn
OUTPUT_VIEWS = {"distribution": show_distribution, "samples": show_samples,
                "generation": show_generation}  # fmt: skip
