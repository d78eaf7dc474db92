"""The Tuning page: equal-budget Optuna studies, run live or opened from the CLI."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

import streamlit as st
import torch

from vradam.app.figures import tuning as tplots
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.markdown import md_escape, quote
from vradam.app.ui.url_state import UrlField, url_state, write_url
from vradam.sim.optimizers import REGISTRY
from vradam.studies import tuning as T
from vradam.studies.networks import TASKS, Task, get_task
from vradam.studies.training import MAX_STEPS

TRIALS = (2, 3, 4, 6, 8, 12, 16, 20, 30, 50)
STEPS = (0, 20, 50, 100, 200, 300, 500, 1000)  # 0: the task's own length
SEEDS = (1, 2, 3, 5, 10)
SEARCH = {"full": "each optimizer's full space", "lr": "α₀ only (equal dimensions)"}
DEFAULT_OPTIMIZERS = ("adamw", "vradam")
STUDY_CHARS = 80  # a study name's length limit (letters, digits and - _ . only)
_STUDY_NAME = re.compile(r"[A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class PageLimits:
    """What a visitor may run from the page: the server operator's choice, from the
    environment (``VRADAM_PAGE_MAX_TRIALS``, ``_STEPS``, ``_SEEDS``). The storage is the
    operator's too (``VRADAM_STORAGE``, else a SQLite file in the data directory): a
    visitor never picks a path or a database host. ``python -m vradam tune`` has the
    package's own, larger limits."""

    trials: int = 50
    steps: int = 1000
    seeds: int = 10

    @classmethod
    def from_env(cls) -> PageLimits:
        values = {}
        for name, hard in (("trials", T.MAX_TRIALS), ("steps", MAX_STEPS),
                           ("seeds", T.MAX_SEEDS)):  # fmt: skip
            raw = os.environ.get(f"VRADAM_PAGE_MAX_{name.upper()}")
            if raw is not None and raw.strip().isdigit():  # else the default
                values[name] = min(max(int(raw), 1), hard)
        return cls(**values)


LIMITS = PageLimits.from_env()


# The URL holds the setup (never the storage: that is the server's).
FIELDS = [
    UrlField("tn_task", "digits", tuple(TASKS)),
    UrlField("tn_opts", ",".join(DEFAULT_OPTIMIZERS)),
    UrlField("tn_trials", min(6, LIMITS.trials), bounds=(1, LIMITS.trials)),
    UrlField("tn_steps", 0, bounds=(0, LIMITS.steps)),  # 0: the task's default_steps
    UrlField("tn_seeds", min(5, LIMITS.seeds), bounds=(1, LIMITS.seeds)),
    UrlField("tn_space", "full", tuple(SEARCH)),
    UrlField("tn_seed", 0, bounds=(0, 1_000_000)),
    UrlField("tn_sampler", 0, bounds=(0, 1_000_000)),
    UrlField("tn_study", ""),
]


def _with(options: tuple[int, ...], value, limit: int) -> list[int]:
    """A slider's options up to the page's limit, plus the current value (a stored run's
    or a link's, already within the limit)."""
    return sorted({*(o for o in options if o <= limit), min(int(value), limit)})


def _steps(ss) -> int | None:
    """The steps a run trains: the slider's, or the task's own (0), within the page's limit."""
    steps = int(ss["tn_steps"])
    if steps:
        return steps
    own = get_task(ss["tn_task"]).default_steps
    return None if own <= LIMITS.steps else LIMITS.steps


def _lr_only(ss, optimizers) -> tuple[str, ...]:
    """Search α₀ only: every chosen optimizer whose full space is wider."""
    return tuple(o for o in optimizers if T.widens(o)) if ss.get("tn_space") == "lr" else ()


def _study_problem(name: str) -> str | None:
    """Why ``name`` cannot be a study name (None when it can)."""
    if len(name) > STUDY_CHARS:
        return f"at most {STUDY_CHARS} characters"
    if not _STUDY_NAME.fullmatch(name):
        return "letters, digits and - _ . only"
    return None


def _load_run_settings(storage: str, group: str) -> None:
    """Set the sidebar to a stored run's settings (before the widgets are drawn)."""
    ss = st.session_state
    try:
        config, _ = T.load_run(storage, group)
    except ValueError as exc:
        ss["tn_notice"] = _private(exc, storage)
        return
    own = get_task(config.task).default_steps
    ss.update(tn_task=config.task, tn_opts=",".join(config.optimizers),
              tn_opt_list=list(config.optimizers), tn_trials=config.trials,
              tn_steps=0 if config.steps == own else config.steps, tn_seeds=config.seeds,
              tn_seed=config.seed, tn_sampler=config.sampler_seed,
              tn_space="lr" if config.lr_only else "full", tn_study=group, tn_loaded=group,
              tn_shown=(storage, group))  # fmt: skip


def _open(storage: str) -> None:
    _load_run_settings(storage, st.session_state["tn_pick"])


def _name(key: str) -> str:
    info = REGISTRY[key]
    return info.tuning.label or info.name


def _parse_optimizers(text: str) -> tuple[list[str], list[str]]:
    """(known keys, unknown names) of a comma-separated list from the URL."""
    parts = [p.strip().lower() for p in text.split(",") if p.strip()]
    return [p for p in parts if p in T.TUNABLE], [p for p in parts if p not in T.TUNABLE]


def _sync_optimizers() -> None:
    """The multiselect writes its list back to the URL field."""
    st.session_state["tn_opts"] = ",".join(st.session_state["tn_opt_list"])


def tuning_controls() -> tuple[T.TuneConfig | None, str, str, list[str]]:
    """Sidebar → (config or None, the server's storage URL, study name, warnings)."""
    ss = st.session_state
    storage = T.default_storage_url()
    problems = _read_link(ss, storage)
    sb = st.sidebar
    task = _task_and_optimizers(sb, ss)
    _budget_and_search(sb, ss, task)
    with sb.expander("Seeds, device, study name"):
        _seeds_device_study(ss)
    sb.caption(f"Studies are stored on this server (its operator's choice). Limits here: "
               f"{LIMITS.trials} trials, {LIMITS.steps} steps, {LIMITS.seeds} seeds; "
               "`python -m vradam tune` has no such limits.")  # fmt: skip
    config = _config(ss, task, problems)
    study = ss.get("tn_study", "").strip() or (config.default_study() if config else "")
    return config, storage, study, problems


def _read_link(ss, storage: str) -> list[str]:
    """The URL's settings into the session (a stored run's, when the link names one), and
    the warnings about what was ignored: a bad study name, unknown optimizers."""
    problems = url_state(FIELDS)
    study = ss.get("tn_study", "").strip()
    why = _study_problem(study)
    if why is not None:
        problems.append(f"Ignored study name {md_escape(quote(study))}: {why}.")
        ss["tn_study"] = study = ""
    if study and study != ss.get("tn_loaded"):
        ss["tn_loaded"] = study
        if study in {r.group for r in _safe_runs(storage)}:  # a link to a stored run
            _load_run_settings(storage, study)
    known, unknown = _parse_optimizers(ss["tn_opts"])
    if unknown:
        problems.append(f"Ignored optimizer {md_escape(quote(', '.join(unknown)))} from the "
                        f"link: choose from {', '.join(T.TUNABLE)}.")  # fmt: skip
        ss["tn_opts"] = ",".join(known)
    if ss.get("tn_opt_list") is None or ",".join(ss["tn_opt_list"]) != ",".join(known):
        ss["tn_opt_list"] = known
    return problems


def _task_and_optimizers(sb, ss) -> Task:
    """The sidebar's task (with its description) and optimizers; the chosen task."""
    sb.header("Task")
    sb.selectbox(
        "Task",
        list(TASKS),
        key="tn_task",
        persist_state="session",
        format_func=lambda k: TASKS[k].name + (" (not tuned)" if k in T.UNSUITABLE else ""),
        label_visibility="collapsed",
    )
    task = get_task(ss["tn_task"])
    sb.caption(f"{task.description} Metric: {task.metric} (lower is better); "
               f"{task.default_steps} steps by default.")  # fmt: skip
    sb.header("Optimizers")
    sb.multiselect(
        "Optimizers",
        list(T.TUNABLE),
        key="tn_opt_list",
        persist_state="session",
        format_func=_name,
        on_change=_sync_optimizers,
        label_visibility="collapsed",
        help="The paper's baselines. Each gets its own study with the same budget.",
    )
    return task


def _budget_and_search(sb, ss, task: Task) -> None:
    """The sidebar's budget (trials, steps, seeds, within the page's limits) and search
    space."""
    sb.header("Budget")
    own = f"the task's ({min(task.default_steps, LIMITS.steps)})"
    for key, label, options, limit, fmt in (
        ("tn_trials", "trials per optimizer", TRIALS, LIMITS.trials, str),
        ("tn_steps", "steps per run", STEPS, LIMITS.steps, lambda v: str(v) if v else own),
        ("tn_seeds", "evaluation seeds (paired)", SEEDS, LIMITS.seeds, str),
    ):
        ss[key] = min(int(ss[key]), limit)
        sb.select_slider(label, _with(options, ss[key], limit), key=key, format_func=fmt,
                         persist_state="session")  # fmt: skip
    sb.radio("Search", list(SEARCH), key="tn_space", format_func=SEARCH.get,
             persist_state="session",
             help="VRAdam's full space has three dimensions (α₀, β₃, α₁) against one for "
             "the others, on the same trials. α₀ only runs β₃ = auto (calibrated in training) and "
             "α₁ at its default, so every optimizer searches one dimension.")  # fmt: skip


def _seeds_device_study(ss) -> None:
    """The expander's training and sampler seeds, device and study name."""
    lo, hi = next(f.bounds for f in FIELDS if f.key == "tn_seed")
    for key, label, text in (
        ("tn_seed", "training seed", "Every trial trains from this seed (data split, weights, "
         "batches); the best settings then train on the next seeds."),
        ("tn_sampler", "sampler seed", "The TPE sampler's seed, the same for every optimizer."),
    ):  # fmt: skip
        st.number_input(label, int(lo), int(hi), key=key, persist_state="session", step=1,
                        help=text)  # fmt: skip
    st.selectbox("device", ["auto", "cpu", "cuda"], key="tn_device", persist_state="session")
    st.text_input("study name", key="tn_study", persist_state="session", max_chars=STUDY_CHARS,
                  placeholder=_auto_name(ss),
                  help="Each optimizer's study is NAME-OPTIMIZER. Empty: a name made "
                  "from the task, steps and seeds, so the same setup resumes.")  # fmt: skip


def _config(ss, task: Task, problems: list[str]) -> T.TuneConfig | None:
    """The run the sidebar describes, or None (its problem appended to ``problems``)."""
    try:
        config = T.TuneConfig(
            task=task.key, optimizers=tuple(ss["tn_opt_list"]), trials=int(ss["tn_trials"]),
            seeds=int(ss["tn_seeds"]), steps=_steps(ss), seed=int(ss["tn_seed"]),
            sampler_seed=int(ss["tn_sampler"]), device=ss.get("tn_device", "auto"),
            lr_only=_lr_only(ss, ss["tn_opt_list"]),
        )  # fmt: skip
        T.check_task(config.task)
        if config.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("No CUDA device here: choose auto or cpu.")
    except ValueError as exc:
        problems.append(md_escape(exc))
        return None
    return config


def _auto_name(ss) -> str:
    try:
        optimizers = tuple(ss["tn_opt_list"])
        return T.TuneConfig(task=ss["tn_task"], optimizers=optimizers, steps=_steps(ss),
                            trials=int(ss["tn_trials"]), seed=int(ss["tn_seed"]),
                            sampler_seed=int(ss["tn_sampler"]),
                            lr_only=_lr_only(ss, optimizers)).default_study()  # fmt: skip
    except (KeyError, ValueError):
        return "automatic"


# --------------------------------------------------------------------------- running


def run_study(config: T.TuneConfig, storage: str, study: str) -> None:
    """Run (or resume) the studies with a progress bar; Stop keeps every finished trial."""
    ss = st.session_state
    ss["tn_shown"] = (storage, study)
    ss["tn_running"] = True
    bar = st.progress(0.0, text="opening the studies…")

    def update(p: T.Progress) -> None:
        bar.progress(min(1.0, p.done / max(p.total, 1)), text=md_escape(p.text))

    try:
        T.tune(config, storage, study, on_progress=update)
    except ValueError as exc:
        st.warning(_private(exc, storage))
    finally:
        ss["tn_running"] = False  # (not reached when Stop interrupts the script)
    bar.empty()


# --------------------------------------------------------------------------- showing a run


@st.cache_data(max_entries=16, show_spinner=False)
def _figures(storage: str, group: str, fingerprint: tuple) -> dict:
    """The run's figures; ``fingerprint`` (every trial's state and value) keys the cache."""
    config, studies = T.load_run(storage, group)
    out = {"history": tplots.history_figure(studies, config.metric)}
    wide = _widest(studies, config)
    if wide is not None:
        out["contour"] = tplots.contour_figure(studies[wide], config.metric)
        out["importance"] = tplots.importance_figure(studies[wide], config.metric)
    return out


def _widest(studies: dict, config: T.TuneConfig) -> str | None:
    """The first optimizer whose search space has more than one dimension (VRAdam's α₀, β₃,
    α₁): its contour and importances are worth drawing."""
    return next((o for o in studies if len(T.search_space(o, config.task)) > 1), None)


def _fingerprint(studies) -> tuple:
    return tuple(
        (key, t.number, t.state.name, t.value, str(s.user_attrs.get("evaluation")))
        for key, s in studies.items()
        for t in s.get_trials(deepcopy=False)
    )


def show_run(storage: str, group: str) -> None:
    try:
        config, studies = T.load_run(storage, group)
    except ValueError as exc:
        st.warning(_private(exc, storage))
        return
    rows = T.results_table(config, studies)
    task = get_task(config.task)
    st.markdown(
        f"#### {md_escape(group)}\n{task.name}, {config.steps} steps per run, "
        f"{config.trials} trials per optimizer (training seed {config.seed}, sampler seed "
        f"{config.sampler_seed}), then {config.seeds} seed(s) at each best setting."
    )
    if config.task in T.UNSUITABLE:
        st.warning(md_escape(f"Not evidence: {T.UNSUITABLE[config.task]}."))
    short = [r.name for r in rows if r.trials < config.trials or len(r.values) < config.seeds]
    if short:
        st.warning(f"Incomplete for {', '.join(short)}: the table counts what is stored. "
                   "Run study with this setup resumes the budget.")  # fmt: skip
    figs = _figures(storage, group, _fingerprint(studies))
    st.plotly_chart(trusted(figs["history"]), key="tn_history")
    chart_summary(T.history_summary(studies, config.trials))
    st.markdown("**Results**: each optimizer's best setting on the same fresh seeds. The "
                "headline is its paired difference from AdamW, seed by seed, with the 95 % "
                "t-interval; its own mean ± 95 % interval is beside it.")  # fmt: skip
    st.markdown(md_escape(T.comparison_note(rows, config.trials)))
    st.dataframe(T.table_rows(rows), hide_index=True, width="stretch")
    st.caption(md_escape(T.split_note(config.task, config.metric, any(r.test for r in rows))))
    if any(r.gates for r in rows):
        st.caption(md_escape(T.GATE_NOTE))
    _target_section(rows, config)
    st.caption(md_escape(T.parallel_note(studies)))
    _budget_section(storage, group, config, studies)
    _profile_section(storage)
    st.markdown("**The paper's Table 1**: its own models and data, not these tasks.")
    st.caption(md_escape(T.PAPER_NOTE))
    st.dataframe(T.paper_rows(), hide_index=True, width="stretch")
    wide = _widest(studies, config)
    if wide is not None:
        _search_figures(figs, studies[wide], wide, config)
    with st.expander("Every trial"):
        trials = [{**r, "optimizer": REGISTRY[r["optimizer"]].name} for r in T.trial_rows(studies)]
        st.dataframe(trials, hide_index=True, width="stretch")
    with st.expander("Export, and more workers"):
        meta = {**T.run_meta(config, storage, group), "storage": "this server's (not shown)"}
        c1, c2 = st.columns(2)
        c1.download_button("JSON (settings, versions, trials)",
                           T.results_json(meta, rows, T.trial_rows(studies)),
                           file_name=f"{group}.json", mime="application/json",
                           on_click="ignore")  # fmt: skip
        c2.download_button("CSV (one row per optimizer)", T.results_csv(rows, meta["versions"]),
                           file_name=f"{group}.csv", mime="text/csv",
                           on_click="ignore")  # fmt: skip
        space = "".join(f" --space {o}=lr" for o in config.lr_only)
        st.code(
            f"python -m vradam tune --task {config.task} --optimizers "
            f"{','.join(config.optimizers)} --trials {config.trials} --seeds {config.seeds} "
            f"--steps {config.steps}{space} --seed {config.seed} --sampler-seed "
            f"{config.sampler_seed} --study {group}",
            language="bash",
        )
        st.caption("The same command on more processes or machines, with VRADAM_STORAGE set "
                   "to a shared storage (PostgreSQL: its password in PGPASSWORD or "
                   "~/.pgpass, never on the command line), joins the same studies and shares "
                   "the budget.")  # fmt: skip


def _target_section(rows: list, config: T.TuneConfig) -> None:
    """Time to target: each optimizer's steps and seconds to AdamW's final metric."""
    base = next((r.name for r in rows if r.is_baseline), None)
    if base is None:
        return
    times = T.of_rows(rows)
    st.markdown("**Time to target**")
    st.markdown(md_escape(T.target_note(times, base, config.metric)))
    if times:
        names = {r.optimizer: r.name for r in rows}
        st.dataframe(T.target_table(times, names), hide_index=True, width="stretch")


def _profile_section(storage: str) -> None:
    """The performance profile over every tuned task in this storage."""
    try:
        profile = T.tuned_profile(storage)
    except ValueError as exc:
        st.warning(_private(exc, storage))
        return
    if not profile.steps:
        return
    st.markdown("**Across tasks**: the performance profile of time to target")
    st.plotly_chart(trusted(tplots.profile_figure(profile.rho, profile.taus,
                                                  len(profile.steps))),
                    key="tn_profile")  # fmt: skip
    at = {o: (rho[0], rho[-1]) for o, rho in profile.rho.items()}
    chart_summary(
        f"Over {len(profile.steps)} tuned task(s) in this storage (one run each, the largest "
        "budget), each optimizer's median steps to AdamW's mean final metric, divided by the "
        "fewest any optimizer took on that task. "
        + "; ".join(f"{REGISTRY[o].name}: fastest on {a:.0%} of the tasks, within 4× on "
                    f"{b:.0%}" for o, (a, b) in at.items())
        + ". With few tasks, read it as a count, not as a distribution."
    )  # fmt: skip
    st.dataframe(profile.text_rows(), hide_index=True, width="stretch")


def _budget_runs(storage: str, group: str, config: T.TuneConfig, studies: dict) -> dict:
    """sampler seed → studies: this run and the stored runs beside it that differ only in
    the sampler seed (named by :func:`~vradam.studies.tuning.sampler_group`)."""
    runs = {config.sampler_seed: studies}
    same = (config.task, config.steps, config.seed, config.lr_only)
    for r in _safe_runs(storage):
        if r.sampler_seed in runs or r.group != T.sampler_group(group, config, r.sampler_seed):
            continue
        if (r.task, r.steps, r.seed, r.lr_only) == same:
            runs[r.sampler_seed] = T.load_run(storage, r.group)[1]
    return runs


def _budget_section(storage: str, group: str, config: T.TuneConfig, studies: dict) -> None:
    runs = _budget_runs(storage, group, config, studies)
    if len(runs) < 2:
        st.caption(md_escape(
            "Budget curves (the best result after 1, 2, 4, … trials over several sampler "
            "seeds) appear here when this storage holds the same run with other sampler "
            f"seeds: python -m vradam tune … --study {group} --sampler-seeds 3."
        ))  # fmt: skip
        return
    curves = T.budget_curves(runs, config.trials)
    st.plotly_chart(trusted(tplots.budget_figure(curves, config.metric)), key="tn_budget")
    last = [f"{c.name} {c.median[-1]:.4g} [{c.low[-1]:.3g} – {c.high[-1]:.3g}]"
            for c in curves if c.studies[-1]]  # fmt: skip
    chart_summary(f"{T.budget_note(curves, config.metric)} After {config.trials} trials: "
                  + "; ".join(last) + ".")  # fmt: skip
    st.dataframe(T.budget_text(curves, config.metric), hide_index=True, width="stretch")


def _search_figures(figs: dict, study, key: str, config: T.TuneConfig) -> None:
    info = REGISTRY[key]
    contour, importance = figs.get("contour"), figs.get("importance")
    if contour is None:
        st.caption(f"{info.name}'s contour and importances need at least 3 completed trials.")
        return
    c1, c2 = st.columns([3, 2])
    with c1:
        st.plotly_chart(trusted(contour), key="tn_contour")
        best = T.best_trial(study.get_trials(deepcopy=False), config.trials)
        p = best.params
        st.caption("Optuna's contour, interpolated between the trials (dots); darker is "
                   "lower.")  # fmt: skip
        values = ", ".join(f"{info.param(n).symbol} = {v:.3g}" for n, v in p.items())
        chart_summary(f"{info.name}'s best trial ({best.number}): {values}, {config.metric} "
                      f"{best.value:.4g}.")  # fmt: skip
    with c2:
        if importance is not None:
            st.plotly_chart(trusted(importance), key="tn_importance")
            (bars,) = importance["data"]
            parts = [f"{y} {x:.2f}" for y, x in sorted(zip(bars["y"], bars["x"]),
                                                        key=lambda b: -b[1])]  # fmt: skip
            chart_summary("Importance of each parameter: " + ", ".join(parts) + ".")


def _open_section(storage: str) -> None:
    ss = st.session_state
    with st.expander("Open a study run earlier (here or with python -m vradam tune)",
                     expanded=not ss.get("tn_shown")):  # fmt: skip
        try:
            runs = T.list_runs(storage)
        except ValueError as exc:
            st.warning(_private(exc, storage))
            return
        if not runs:
            st.caption("No studies stored on this server yet.")
            return
        labels = {
            r.group: f"{r.group}: {TASKS[r.task].name if r.task in TASKS else r.task}, "
            + ", ".join(f"{REGISTRY[o].name} {r.trials[o]}" for o in r.optimizers)
            + " trials"
            for r in runs
        }
        c1, c2 = st.columns([4, 1])
        c1.selectbox(
            "Stored runs",
            list(labels),
            format_func=labels.get,
            key="tn_pick",
            persist_state="session",
            label_visibility="collapsed",
        )
        c2.button("Open", width="stretch", on_click=_open, args=(storage,),
                  help="Shows the run and sets the sidebar to its settings, so Run study "
                  "resumes or extends it.")  # fmt: skip


INTRO = (
    "A fair comparison tunes every optimizer with **the same budget**: one Optuna study each "
    "(TPE with the same seed, the same number of trials, every trial from the same training "
    "seed, each task at its own length), then each best setting trains on the same fresh "
    "seeds, and the table's headline is each optimizer's **paired difference from AdamW** "
    "over those seeds. The searched ranges hold the task's defaults and the paper's tuned "
    "values; VRAdam searches α₀, β₃ and α₁ (three dimensions against one) unless Search is "
    "α₀ only. A diverged trial is recorded as failed and the study goes on. **Stop** keeps "
    "every finished trial: running the same setup again resumes it."
)


def show() -> None:
    ss = st.session_state
    st.subheader("Tuning: the same budget for every optimizer")
    st.markdown(INTRO)
    config, storage, study, problems = tuning_controls()
    for problem in problems:
        st.warning(problem)
    if ss.get("tn_running"):  # the last run did not finish: Stop (or a closed tab)
        ss["tn_running"] = False
        st.info("Stopped: the finished trials are stored; **Run study** resumes the budget.")
    c1, c2, _ = st.columns([1, 1, 3])
    go = c1.button("Run study", type="primary", width="stretch",
                   disabled=config is None)  # fmt: skip
    c2.button("Stop", width="stretch", help="Stops after the current step; finished trials "
              "stay in the storage.")  # fmt: skip
    if config is not None and config.seeds < T.MIN_SEEDS:
        st.warning(f"{config.seeds} evaluation seed(s): fewer than {T.MIN_SEEDS} give no "
                   "paired interval (the table will say 'not enough seeds'); 5 is the "
                   "default.")  # fmt: skip
    if config is not None and not problems:
        runs = config.trials + config.seeds
        st.caption(f"{len(config.optimizers)} optimizers × ({config.trials} trials + "
                   f"{config.seeds} seeds) = {len(config.optimizers) * runs} runs of "
                   f"{config.steps} steps, study {md_escape(quote(study, 60))}.")  # fmt: skip
    if go and config is not None:
        run_study(config, storage, study)
    notice = ss.pop("tn_notice", None)
    if notice:
        st.warning(notice)
    _open_section(storage)
    shown = ss.get("tn_shown")
    if shown is not None:
        show_run(*shown)
    write_url(FIELDS)


def _private(exc: Exception, storage: str) -> str:
    """An error message for the page, without the server's storage path, URL or host (the
    full message goes to the server's log)."""
    text = str(exc)
    if text.startswith("cannot use the storage"):
        print(f"vradam tuning page: {text}", file=sys.stderr)  # the operator's log
        return ("Cannot use this server's storage for studies right now; its operator's log "
                "says why.")  # fmt: skip
    for secret in sorted({storage, T.redact(storage), storage.split("///", 1)[-1]}, key=len,
                         reverse=True):  # fmt: skip
        if secret:
            text = text.replace(secret, "the server's storage")
    return md_escape(text)


def _safe_runs(storage: str) -> list:
    try:
        return T.list_runs(storage)
    except ValueError:
        return []
