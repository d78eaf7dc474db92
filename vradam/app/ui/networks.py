"""The Networks page: train small networks live, sweep learning rates, export.

The URL holds the page's settings (task, mode, steps, batch, seed, seeds, sharpness,
device, up to eight optimizers as ``nt_o1`` … ``nt_o8``, and the Robustness and Landscape
views' controls), so a link reproduces a run; values a widget cannot take are dropped with
one short warning each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from vradam.app.figures import networks as netplots
from vradam.app.figures.colors import assign_colors
from vradam.app.networks import (
    labels_colors,
    metric_summary,
    records_csv,
    records_json,
    results_caption,
    results_figure,
    summary_rows,
)
from vradam.app.playground import check_widget_values
from vradam.app.summaries import sweep_summary, training_summary
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.landscape import FIELDS as LANDSCAPE_FIELDS
from vradam.app.ui.landscape import show_landscape
from vradam.app.ui.markdown import md_escape, quote
from vradam.app.ui.network_outputs import OUTPUT_VIEWS
from vradam.app.ui.optimizer_editor import (
    apply_suggestions,
    load_optimizers,
    optimizer_editor,
    page_values,
)
from vradam.app.ui.robustness import FIELDS as ROBUSTNESS_FIELDS
from vradam.app.ui.robustness import show_robustness
from vradam.app.ui.screen import narrow_screen
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.sim.optimizers import REGISTRY, OptimizerSpec
from vradam.studies import figure2, training
from vradam.studies.networks import TASKS, Task, default_optimizers, get_task
from vradam.studies.training import TrainConfig, final_records

P = "nt"
BATCHES = ["default", "full", "32", "64", "128", "256"]
BATCH_NAMES = {"default": "task default", "full": "full batch"}
SHARPNESS_EVERY = [0, 10, 25, 50, 100]
STEPS_BOUNDS = (20, 3000)
SEED_BOUNDS = (0, 2**31 - 1)
MAX_OPTIMIZERS = 8
TASK_FIELD = UrlField("nt_task", "moons", tuple(TASKS))


def _fields(task: Task) -> list[UrlField]:
    """The URL fields after the task; their defaults are the task's (a link lists only what
    differs). ``nt_o1`` … ``nt_o8`` hold the optimizers' spec strings ("" for none)."""
    defaults = [str(OptimizerSpec.parse(t)) for t in default_optimizers(task)]  # canonical
    return [
        TASK_FIELD,  # again, so that a link naming only some fields resets the others
        UrlField("nt_mode", "train", ("train", "sweep", "robustness")),
        UrlField("nt_steps", task.default_steps, bounds=STEPS_BOUNDS),
        UrlField("nt_batch", "default", tuple(BATCHES)),
        UrlField("nt_seed", 0, bounds=SEED_BOUNDS),
        UrlField("nt_seeds", 1, (1, 3)),
        UrlField("nt_sharp", task.default_sharpness_every, tuple(SHARPNESS_EVERY)),
        UrlField("nt_device", "auto", ("auto", "cpu", "cuda")),
        *(UrlField(_slot(k), defaults[k] if k < len(defaults) else "")
          for k in range(MAX_OPTIMIZERS)),
        *ROBUSTNESS_FIELDS,  # the views' own controls
        *LANDSCAPE_FIELDS,
    ]  # fmt: skip


def _slot(k: int) -> str:
    return f"nt_o{k + 1}"


URL_KEYS = tuple(f.key for f in _fields(get_task(TASK_FIELD.default)))  # what a link can set


def _reason(exc: ValueError) -> str:
    """The parser's message, short (its first clause; a long one may echo the value)."""
    text = str(exc).split(";")[0]
    return md_escape(text) if len(text) <= 100 else "not an optimizer (key\\:name=value,…)"


def _editable(spec: OptimizerSpec) -> OptimizerSpec:
    """``spec``, or ValueError for a value the optimizer editor cannot show (β3 may also be
    auto here)."""
    check_widget_values(spec)
    return spec


def _url_optimizers() -> list[str]:
    """Load the optimizers the URL names when they changed (a link, the Back button);
    returns a warning per spec that could not be used."""
    ss = st.session_state
    slots = tuple(str(ss.get(_slot(k), "")) for k in range(MAX_OPTIMIZERS))
    if slots == ss.get("nt_slots"):
        return []
    ss["nt_slots"] = slots
    warnings, texts = [], []
    for k, text in enumerate(slots):
        if not text.strip():
            continue
        try:
            texts.append(str(_editable(OptimizerSpec.parse(text))))
        except ValueError as exc:
            warnings.append(f"Ignored {_slot(k)}={md_escape(quote(text))} from the link: "
                            f"{_reason(exc)}.")  # fmt: skip
    if not texts:
        texts = list(default_optimizers(get_task(ss["nt_task"])))
        warnings.append("No usable optimizer in the link: using the task's defaults.")
    load_optimizers(P, texts)
    return warnings


def _from_url() -> list[str]:
    """Session values from the URL (the task first: the other fields' defaults are its)."""
    ss = st.session_state
    warnings = url_state([TASK_FIELD])
    written = ss.setdefault("_url_written", {})
    others = [f.key for f in _fields(get_task(ss["nt_task"]))[1:]]
    if ("nt_task" not in st.query_params and written.get("nt_task") is not None
            and any(k in st.query_params for k in others)):  # fmt: skip
        ss["nt_task"], written["nt_task"] = TASK_FIELD.default, None  # a link to the default
    warnings += url_state(_fields(get_task(ss["nt_task"])))
    return warnings + _url_optimizers()


def _to_url(task: Task, texts: list[str]) -> None:
    ss = st.session_state
    slots = tuple(texts[k] if k < len(texts) else "" for k in range(MAX_OPTIMIZERS))
    for k, text in enumerate(slots):
        ss[_slot(k)] = text
    ss["nt_slots"] = slots
    write_url(_fields(task))


def _on_task_change() -> None:
    ss = st.session_state
    task = get_task(ss["nt_task"])
    ss["nt_steps"] = task.default_steps
    ss["nt_sharp"] = task.default_sharpness_every
    apply_suggestions(P, task.default_lr, task.default_beta3)


def _new_values(key: str) -> dict:
    """An added optimizer starts at the task's α0 (if its record takes a suggested rate),
    at its record's network rate (SGD's scale), or at its defaults."""
    task, info = get_task(st.session_state["nt_task"]), REGISTRY[key]
    values = page_values(info, task.default_lr, task.default_beta3)
    if info.network_lr is not None:
        values["lr"] = info.network_lr
    return values


def _suggest(index: int) -> float:
    config = st.session_state.get("nt_config")
    if config is None:
        raise ValueError("no configuration yet")
    return training.suggest_beta3(config, index)


def _device_caption(choice: str) -> str:
    cuda = torch.cuda.is_available()
    if choice == "cuda" and not cuda:
        return "No CUDA device here: choose auto or cpu."
    name = torch.cuda.get_device_name(0) if cuda and choice != "cpu" else "CPU"
    return f"in use: {name}"


def networks_controls() -> tuple[TrainConfig, str, int, str | None]:
    """Sidebar → (config, mode, number of seeds, error); URL warnings go to ``nt_warnings``."""
    ss = st.session_state
    ss["nt_warnings"] = _from_url()
    if "nt_fig2_opts" in ss:  # the Figure 2 preset has run: show its optimizers
        load_optimizers(P, ss.pop("nt_fig2_opts"))
    sb = st.sidebar
    sb.header("Task")
    sb.selectbox(
        "Task",
        list(TASKS),
        key="nt_task",
        persist_state="session",
        format_func=lambda k: TASKS[k].name,
        on_change=_on_task_change,
        label_visibility="collapsed",
    )
    task = get_task(ss["nt_task"])
    sb.caption(task.description)
    sb.header("Optimizers")
    texts = optimizer_editor(P, beta3_center=task.default_beta3, same_lr=None, suggest=_suggest,
                             new_values=_new_values, auto_beta3=True)  # fmt: skip
    sb.header("Training")
    sb.radio("Mode", ["train", "sweep", "robustness"], key="nt_mode", persist_state="session",
             horizontal=True, format_func={"train": "train and compare", "sweep": "LR sweep",
                                           "robustness": "robustness"}.get)  # fmt: skip
    sb.slider("steps", *STEPS_BOUNDS, key="nt_steps", persist_state="session", step=10)
    sb.selectbox(
        "batch",
        BATCHES,
        key="nt_batch",
        persist_state="session",
        format_func=lambda b: BATCH_NAMES.get(b, b),
        help=f"Task default: {task.default_batch or 'full batch'}. {task.batch_note}".strip(),
    )
    sb.number_input("seed", *SEED_BOUNDS, key="nt_seed", persist_state="session", step=1)
    sb.radio("seeds", [1, 3], key="nt_seeds", persist_state="session", horizontal=True,
             help="3 seeds: curves show the mean with a ±1 sd band.")  # fmt: skip
    sb.selectbox(
        "sharpness every",
        SHARPNESS_EVERY,
        key="nt_sharp",
        persist_state="session",
        disabled=not task.sharpness,
        format_func=lambda k: f"{k} steps" if k and task.sharpness else "off",
    )
    if not task.sharpness:
        sb.caption(f"No sharpness for this task: {task.sharpness_note}.")
    elif task.default_sharpness_every == 0:
        sb.caption("Off by default here: one measurement costs as much as many steps.")
    sb.selectbox("device", ["auto", "cpu", "cuda"], key="nt_device", persist_state="session")
    sb.caption(_device_caption(ss["nt_device"]))
    _to_url(task, texts)
    batch = ss.get("nt_batch", "default")
    batch = batch if batch in BATCHES else "default"
    batch_size = None if batch == "default" else (10**9 if batch == "full" else int(batch))
    error = None
    try:
        config = TrainConfig(
            task=task.key, optimizers=tuple(texts), steps=int(ss["nt_steps"]),
            batch_size=batch_size,
            seed=int(ss.get("nt_seed", 0)), device=ss["nt_device"],
            sharpness_every=int(ss.get("nt_sharp", 25)) if task.sharpness else 0,
            boundary_every=max(1, int(ss["nt_steps"]) // 12) if task.input_2d else 0,
        )  # fmt: skip
        training.resolve_device(config.device)
    except ValueError as exc:
        error = str(exc)
        config = ss.get("nt_config") or TrainConfig()
    ss["nt_config"] = config
    return config, ss.get("nt_mode", "train"), int(ss.get("nt_seeds", 1)), error


# --------------------------------------------------------------------------- training


def run_training(config: TrainConfig, n_seeds: int, narrow: bool = False) -> None:
    """Train with live updates; results go to session state as they arrive (Stop keeps them)."""
    seeds = [config.seed + k for k in range(n_seeds)]
    runs: list[list[dict]] = []
    result = dict(config=config, seeds=seeds, runs=runs, done=False)
    st.session_state["nt_results"] = result
    labels, colors = labels_colors(config)
    K = len(labels)
    status = st.empty()
    bar = st.progress(0.0)
    chart = st.empty()
    total = config.steps * len(seeds)
    every = max(10, config.steps // 20)
    for s_index, seed in enumerate(seeds):
        records: list[dict] = []
        runs.append(records)
        for r in training.train_steps(replace(config, seed=seed)):
            records.append(r)
            if r["optimizer"] != K - 1 or (r["step"] % every and r["step"] != config.steps):
                continue
            done = s_index * config.steps + r["step"]
            bar.progress(min(1.0, done / total))
            status.caption(f"seed {seed}: step {r['step']} of {config.steps}")
            fig = results_figure(runs, labels, colors, config, narrow)
            chart.plotly_chart(trusted(fig), key=f"nt_live_{s_index}_{r['step']}")
    result["done"] = True
    status.empty()
    bar.empty()
    chart.empty()


def show_results(result: dict, narrow: bool = False) -> None:
    config: TrainConfig = result["config"]
    labels, colors = labels_colors(config)
    runs = [r for r in result["runs"] if r]
    if not runs:
        return
    if not result["done"]:
        last = max(r["step"] for r in runs[-1])
        st.warning(f"Stopped at step {last} of seed {result['seeds'][len(runs) - 1]}: "
                   "showing what was trained.")  # fmt: skip
    for i, label in enumerate(labels):
        bad = [run for run in runs if final_records(run).get(i, {}).get("diverged")]
        if bad:
            first = min(next(r["step"] for r in run if r["optimizer"] == i and r.get("diverged"))
                        for run in bad)  # fmt: skip
            st.warning(f"{label} diverged at step {first} (non-finite loss or weights). "
                       "Try a smaller α₀.", icon="⚠️")  # fmt: skip
    task = get_task(config.task)
    fig = results_figure(runs, labels, colors, config, narrow)
    st.plotly_chart(trusted(fig), key="nt_result_chart")
    chart_summary(training_summary(runs[0], labels) + metric_summary(runs[0], labels, task)
                  + (" (seed 0 of several)" if len(runs) > 1 else ""))  # fmt: skip
    st.caption(results_caption(task, config))
    st.dataframe(summary_rows(result), hide_index=True, width="stretch")
    if task.output_view is not None:
        if any(r["step"] == config.steps for r in runs[0]):
            OUTPUT_VIEWS[task.output_view](result, runs[0], labels, colors)
        else:
            st.caption("Stopped before the end of the first seed: the final samples, "
                       "distributions or text come with a finished run.")  # fmt: skip
    if task.input_2d and config.boundary_every:
        data = task.make_data(config.seed)
        grid = training.boundary_grid(data)
        fig = netplots.boundary_figure(runs[0], grid, data, labels, colors, task.n_classes,
                                       per_row=2 if narrow else None)  # fmt: skip
        if fig:
            st.markdown(
                f"**Decision boundaries** (seed {config.seed}): press ▶ to watch them form."
            )
            st.plotly_chart(trusted(fig), key="nt_boundary")
            chart_summary("Final boundaries of seed 0: " + training_summary(runs[0], labels))
    show_landscape(result)
    with st.expander("Export"):
        c1, c2 = st.columns(2)
        c1.download_button("CSV (every step)", lambda: records_csv(result),
                           file_name=f"vradam-train-{config.task}.csv", mime="text/csv",
                           on_click="ignore")  # fmt: skip
        c2.download_button("JSON (with versions and settings)", lambda: records_json(result),
                           file_name=f"vradam-train-{config.task}.json",
                           mime="application/json", on_click="ignore")  # fmt: skip
        args = " ".join(f"--optimizer {o}" for o in config.optimizers)
        st.code(f"python -m vradam train --task {config.task} {args} --steps {config.steps} "
                f"--seed {config.seed} --device {config.device} --sharpness-every "
                f"{config.sharpness_every} --out metrics.csv", language="bash")  # fmt: skip


# --------------------------------------------------------------------------- Figure 2


FIG2 = figure2.FIGURE2
_FIG2_CACHE: dict = {}  # setup → result: the preset is deterministic, later loads are instant


def _load_figure2() -> None:
    """The button: the preset's task and training settings in the sidebar, then a run."""
    ss = st.session_state
    task = get_task(FIG2.task)
    ss.update(nt_task=task.key, nt_steps=FIG2.steps, nt_seed=FIG2.seeds[0],
              nt_seeds=len(FIG2.seeds), nt_mode="train", nt_batch="default",
              nt_view="figure2", nt_fig2_go=True)  # fmt: skip
    load_optimizers(P, default_optimizers(task)[2:])  # AdamW and VRAdam until β₃ is known


def _preset_texts(result: dict) -> list[str]:
    """The preset's optimizers for the sidebar (the control at its mean rate over seeds)."""
    lr, m = FIG2.alpha0, result["measures"]
    texts = list(figure2.figure2_config(FIG2, result["beta3"]).optimizers)
    rate = lr * float(np.mean([s.matched_ratio for s in m.seeds]))
    return [*texts, f"adamw:lr={rate:.3g}@{figure2.LABELS[figure2.MATCHED]} (seed mean)"]


def run_figure2() -> None:
    """Train the preset (or take it from the cache) with a progress bar and a live chart."""
    ss = st.session_state
    result = _FIG2_CACHE.get(FIG2)
    if result is None:
        status, bar, chart = st.empty(), st.progress(0.0), st.empty()
        status.caption("Suggesting β₃ from AdamW's early velocity (60 steps)…")
        beta3 = figure2.choose_beta3(FIG2)
        labels = list(figure2.LABELS)
        colors = assign_colors([OptimizerSpec.parse(t) for t in _spec_texts(beta3)])
        status.caption(f"β₃ = {beta3:g}; each seed trains AdamW and VRAdam, then the control.")
        shown, draws = 0.0, 0
        for frac, text, runs in figure2.figure2_runs(FIG2, beta3):
            bar.progress(min(1.0, frac), text=f"Figure 2 in miniature: {text}")
            if frac - shown >= 0.1:
                shown, draws = frac, draws + 1
                fig = netplots.figure2_figure(runs, labels, colors, FIG2.steps)
                chart.plotly_chart(trusted(fig), key=f"nt_fig2_live_{draws}")
        measures = figure2.measure(runs, FIG2, beta3)
        result = dict(beta3=beta3, runs=runs, measures=measures, colors=colors)
        _FIG2_CACHE[FIG2] = result
        status.empty()
        bar.empty()
        chart.empty()
    ss["nt_fig2"] = result
    ss["nt_fig2_opts"] = _preset_texts(result)
    st.rerun()  # the sidebar now shows the preset's optimizers


def _spec_texts(beta3: float) -> list[str]:
    texts = list(figure2.figure2_config(FIG2, beta3).optimizers)
    return [*texts, f"adamw:lr={FIG2.alpha0:g}@{figure2.LABELS[figure2.MATCHED]}"]


def show_figure2(result: dict) -> None:
    m: figure2.Figure2Measures = result["measures"]
    task = get_task(FIG2.task)
    st.markdown("#### Figure 2 in miniature, measured")
    st.caption(
        f"The paper's Figure 2 (ResNet-32 on CIFAR-10) here: {task.name}, {FIG2.steps} steps, "
        f"batch {task.default_batch}, seeds {', '.join(map(str, FIG2.seeds))}. AdamW and VRAdam "
        f"at the same α₀ = {FIG2.alpha0:g} (the task's α₀ for Adam) and weight decay, so the "
        f"gate is the only difference; β₃ = {result['beta3']:g} from this project's suggestion "
        "(β₃·‖v‖² ≈ 1.5 at the early peak of ‖v‖² with the gate off, first seed). The control "
        "is AdamW at VRAdam's mean η over the compared steps, per seed. Bands: ±1 sd over seeds."
    )
    fig = netplots.figure2_figure(result["runs"], list(figure2.LABELS), result["colors"],
                                  FIG2.steps)  # fmt: skip
    st.plotly_chart(trusted(fig), key="nt_fig2_chart")
    lines = figure2.statement(m)
    st.markdown("\n".join(f"- {line}" for line in lines))
    chart_summary(figure2.summary(m))
    with st.expander("Per seed"):
        st.dataframe(figure2.seed_rows(m), hide_index=True, width="stretch")
    st.caption(
        "λmax(H) is the top eigenvalue of the plain loss Hessian (the paper's quantity) on "
        f"{FIG2.sharpness_samples} training examples, every {FIG2.sharpness_every} steps; "
        "the sidebar now holds the preset's optimizers: press **Train** to see "
        "them in the usual panels (preconditioned sharpness against each threshold)."
    )


def run_sweep(config: TrainConfig) -> None:
    steps = max(50, config.steps // 2)
    n = len(config.optimizers) * len(training.SWEEP_FACTORS)
    bar = st.progress(0.0, text="sweeping learning rates…")
    rows = []
    for k, row in enumerate(training.sweep_rows(config, steps=steps)):
        rows.append(row)
        bar.progress((k + 1) / n, text=f"{row['label']} at α₀ = {row['lr']:.3g}")
    bar.empty()
    st.session_state["nt_sweep"] = dict(config=config, rows=rows, steps=steps)


def _use_best_rates() -> None:
    sweep = st.session_state.get("nt_sweep")
    if not sweep:
        return
    config: TrainConfig = sweep["config"]
    best = training.best_lrs(sweep["rows"])
    texts = list(config.optimizers)
    for i, spec in enumerate(config.specs()):
        if i in best and not spec.info.velocity_regularized:
            one = OptimizerSpec(spec.key, {**dict(spec.params), "lr": best[i]},
                                f"{spec.info.name} at its best α₀ ({best[i]:.3g})")  # fmt: skip
            texts.append(str(one))
    load_optimizers(P, texts[:8])
    st.session_state["nt_mode"] = "train"


def show_sweep(sweep: dict) -> None:
    config: TrainConfig = sweep["config"]
    labels, colors = labels_colors(config)
    st.plotly_chart(trusted(netplots.sweep_figure(sweep["rows"], labels, colors)),
                    key="nt_sweep_chart")  # fmt: skip
    chart_summary(sweep_summary(sweep["rows"], labels))
    best = training.best_lrs(sweep["rows"])
    st.caption(
        f"{sweep['steps']} steps per run at α₀ × 1/8 … 8 of each optimizer's setting. "
        "Best α₀ (lowest final training loss): "
        + ", ".join(f"{labels[i]}: {lr:.3g}" for i, lr in sorted(best.items()))
    )
    st.button("Compare: add each baseline at its best α₀", on_click=_use_best_rates,
              help="Adds every non-VR optimizer again at its best α₀ from this sweep, "
              "so VRAdam is compared both at equal α₀ and against tuned baselines.")  # fmt: skip


def show_networks(config: TrainConfig, mode: str, n_seeds: int, error: str | None) -> None:
    ss = st.session_state
    st.subheader(f"Networks: {get_task(config.task).name}")
    for warning in ss.get("nt_warnings", []):
        st.warning(warning)
    notice = ss.pop(f"{P}_notice", None)
    if notice:
        st.info(notice)
    if error:
        st.error(f"{error} Showing the last valid setup.")
    if mode == "robustness":  # its own controls, Run and Stop: vradam.app.ui.robustness
        return show_robustness(config)
    c1, c2, c3, _ = st.columns([1, 1, 2, 2])
    label = "Train" if mode == "train" else "Run sweep"
    go = c1.button(label, type="primary", width="stretch")
    c2.button("Stop", width="stretch", help="Stops the run; what was trained is kept.")
    c3.button("Figure 2 in miniature", on_click=_load_figure2, width="stretch",
              help="The paper's Figure 2 on the digits CNN: AdamW vs VRAdam (β₃ suggested), "
              f"{len(FIG2.seeds)} seeds, sharpness tracked, with a matched-rate control; "
              "the page then states what was measured.")  # fmt: skip
    if ss.pop("nt_fig2_go", False):
        run_figure2()
    if go:
        ss["nt_view"] = mode
    narrow = narrow_screen()  # a phone: the training panels in one column
    if mode == "train" and ss.get("nt_view") == "figure2" and ss.get("nt_fig2"):
        show_figure2(ss["nt_fig2"])
    elif mode == "train":
        if go:
            run_training(config, n_seeds, narrow)
        result = ss.get("nt_results")
        if result:
            if result["config"] != config or len(result["seeds"]) != n_seeds:
                st.caption("Results below are from the previous settings; press Train to rerun.")
            show_results(result, narrow)
        else:
            st.info("Press **Train** to train every optimizer from the same initial weights on "
                    "the same batches and watch the curves live.")  # fmt: skip
    else:
        if go:
            run_sweep(config)
        sweep = ss.get("nt_sweep")
        if sweep:
            show_sweep(sweep)
        else:
            st.info("Press **Run sweep**: short runs of each optimizer at 7 learning rates "
                    "show which ones keep working as α₀ grows.")  # fmt: skip
