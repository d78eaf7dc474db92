"""The Networks page's "Landscape of this run": every optimizer's path on one plane of the
network's real loss surface (vradam.studies.landscape), under a finished run's results.

Computing it trains the run again with snapshots of the weights (same seed and batches:
the same paths), so it waits for a button; the result stays in session state for the run
it was drawn from. The view lives in a fragment: changing its colour scale, 3-D view or
slice reruns the view only, not the page. Its settings live in the URL (:data:`FIELDS`,
read and written with the page's own fields, and written again when the fragment reruns).
"""

from __future__ import annotations

import json
import math

import numpy as np
import streamlit as st

from vradam.app.figures.export import to_png
from vradam.app.figures.landscape import (
    cost_text,
    landscape_figure,
    number,
    reference_name,
    slice_figure,
    static_figure,
    surface3d_figure,
)
from vradam.app.networks import labels_colors
from vradam.app.ui.charts import chart_summary, trusted
from vradam.app.ui.url_state import UrlField, write_url
from vradam.sim.export import versions
from vradam.studies import landscape_views as views
from vradam.studies.landscape import GRID, Landscape, LandscapeConfig, SurfaceLoss, landscape
from vradam.studies.networks import get_task
from vradam.studies.training import TrainConfig

KEY = "nt_ls"  # session state: the computed landscape, its settings and records
SLICE_KEY = "nt_ls_slice"
PNG_KEY = "nt_ls_png"
GRIDS = [21, 31, GRID, 51]
PLANES = {"pca": "principal directions of the paths (PCA)",
          "random": "random, filter-normalised (Li et al.)"}  # fmt: skip
REFERENCES = {"best": "lowest final loss", "init": "shared initial weights"}
SPLITS = {"train": "training set", "val": "validation set"}
SCALES = {"log": "log colours", "linear": "linear colours"}
VIEWS = {"map": "map and paths", "3d": "3-D surface"}
FIELDS = [
    UrlField("nt_ls_plane", "pca", tuple(PLANES)),
    UrlField("nt_ls_reference", "best", tuple(REFERENCES)),
    UrlField("nt_ls_split", "train", tuple(SPLITS)),
    UrlField("nt_ls_grid", GRID, tuple(GRIDS)),
    UrlField("nt_ls_scale", "log", tuple(SCALES)),
    UrlField("nt_ls_view", "map", tuple(VIEWS)),
]
DEFAULTS = {f.key: f.default for f in FIELDS}


def landscape_controls() -> LandscapeConfig:
    """The view's settings (plane, centre, loss, grid) → a LandscapeConfig."""
    ss = st.session_state
    for key, value in DEFAULTS.items():
        ss.setdefault(key, value)
    c = st.columns(4)
    c[0].selectbox("plane", list(PLANES), key="nt_ls_plane", format_func=PLANES.get,
                   persist_state="session",
                   help="PCA: the two directions along which all optimizers' snapshots "
                   "spread most. Random: Li et al.'s directions, each filter scaled to the "
                   "reference's (biases left out); they usually miss the paths.")  # fmt: skip
    c[1].selectbox("centre", list(REFERENCES), key="nt_ls_reference",
                   format_func=REFERENCES.get, persist_state="session",
                   help="The plane's origin: the final weights of the optimizer with the "
                   "lowest final loss, or the initial weights all optimizers share.")  # fmt: skip
    c[2].selectbox("loss on the", list(SPLITS), key="nt_ls_split", format_func=SPLITS.get,
                   persist_state="session")  # fmt: skip
    c[3].selectbox("grid", GRIDS, key="nt_ls_grid", format_func=lambda n: f"{n}×{n}",
                   persist_state="session",
                   help="Points per axis asked for; a bigger model gets a coarser grid "
                   "when this one would take over 10 s (the cost is shown).")  # fmt: skip
    return LandscapeConfig(plane=ss["nt_ls_plane"], reference=ss["nt_ls_reference"],
                           split=ss["nt_ls_split"], grid=int(ss["nt_ls_grid"]))  # fmt: skip


def compute(config: TrainConfig, settings: LandscapeConfig) -> Landscape:
    """The landscape, with a progress bar while the run trains again and the grid fills."""
    bar = st.progress(0.0, text="training again with snapshots…")

    def progress(fraction: float, text: str) -> None:
        bar.progress(min(1.0, max(0.0, fraction)), text=text)

    try:
        return landscape(config, settings, progress)
    finally:
        bar.empty()


def show_landscape(result: dict) -> None:
    """The expander under a finished run's results (nothing for a stopped run)."""
    runs = [r for r in result.get("runs", []) if r]
    if not result.get("done") or not runs:
        return
    stored = st.session_state.get(KEY)
    shown = bool(stored) and stored["config"] == result["config"]
    with st.expander("Landscape of this run", expanded=shown):
        landscape_view(result["config"], runs[0])


@st.fragment
def landscape_view(config: TrainConfig, records: list[dict]) -> None:
    ss = st.session_state
    st.caption(
        "Every optimizer's path on one plane of this network's real loss surface: the run "
        f"is trained again (seed {config.seed}, same batches, so the same paths) with its "
        "weights saved about 50 times, the plane is fitted to all of them, and the loss is "
        "evaluated on a grid over it."
    )
    settings = landscape_controls()
    write_url(FIELDS)  # a fragment rerun does not reach the page's own write
    if st.button("Compute the landscape", key="nt_ls_go", type="primary"):
        try:
            ls = compute(config, settings)
        except ValueError as exc:
            st.error(str(exc))
            return
        ss[KEY] = dict(config=config, settings=settings, landscape=ls, records=records)
        ss.pop(SLICE_KEY, None)
    stored = ss.get(KEY)
    if not stored or stored["config"] != config:
        st.info("Press **Compute the landscape**: it takes about as long as the run itself "
                "(sharpness off) plus the grid.")  # fmt: skip
        return
    if stored["settings"] != settings:
        st.caption("Shown: the previous settings; press **Compute the landscape** to update.")
    show_surface(stored["landscape"], stored["records"], config)


def show_surface(ls: Landscape, records: list[dict], config: TrainConfig) -> None:
    ss = st.session_state
    labels, colors = labels_colors(config)
    c = st.columns(2)
    c[0].segmented_control("colours", list(SCALES), key="nt_ls_scale", format_func=SCALES.get,
                           persist_state="session", label_visibility="collapsed")  # fmt: skip
    c[1].segmented_control("view", list(VIEWS), key="nt_ls_view", format_func=VIEWS.get,
                           persist_state="session", label_visibility="collapsed")  # fmt: skip
    log = ss.get("nt_ls_scale") != "linear"
    marks = views.sharpness_marks(records, ls)
    if ss.get("nt_ls_view") == "3d":
        fig = surface3d_figure(ls, colors, log_color=log)
        st.plotly_chart(trusted(fig), key="nt_ls_surface")
    else:
        fig = landscape_figure(ls, colors, log_color=log, marks=marks)
        st.plotly_chart(trusted(fig), key="nt_ls_map")
    chart_summary(landscape_summary(ls))
    st.caption(landscape_caption(ls, any(m is not None for m in marks)))
    sl = show_slice(ls, config, labels, colors, records)
    show_exports(ls, config, marks, sl, fig)


def show_exports(ls: Landscape, config: TrainConfig, marks, sl, fig: dict) -> None:
    """CSV and JSON of the plane, grid, paths, sharpness marks and slice; a PNG of the
    figure shown (rendered on request: Kaleido starts a browser)."""
    stem = f"vradam-landscape-{config.task}"
    tag = "; ".join(f"{k} {v}" for k, v in versions().items())
    meta = dict(task=config.task, optimizers=list(config.optimizers), steps=config.steps,
                batch_size=config.batch_size, seed=config.seed, device=config.device,
                plane=ls.plane.kind, centre=ls.reference, split=ls.split, grid=ls.grid,
                grid_asked=ls.grid_asked, versions=versions())  # fmt: skip
    st.caption(
        "Export: the grid, every path point with its true and surface loss, the "
        "sharpness marks and the slice; the JSON adds the run's settings and versions."
    )
    c = st.columns(3)
    c[0].download_button("CSV (every point)",
                         lambda: views.to_csv(ls, marks, sl, tag), file_name=f"{stem}.csv",
                         mime="text/csv", on_click="ignore", key="nt_ls_csv")  # fmt: skip
    c[1].download_button("JSON (with settings)",
                         lambda: json.dumps(views.to_record(ls, marks, meta, sl),
                                            allow_nan=False),
                         file_name=f"{stem}.json", mime="application/json",
                         on_click="ignore", key="nt_ls_json")  # fmt: skip
    shown = (id(ls), st.session_state.get("nt_ls_view"), st.session_state.get("nt_ls_scale"))
    if c[2].button("Render PNG", key="nt_ls_png_go",
                   help="A static image of the chart above (uses Chromium)."):  # fmt: skip
        with st.spinner("Rendering with Kaleido…"):
            try:
                st.session_state[PNG_KEY] = (shown, png_bytes(fig))
            except Exception as exc:  # any Kaleido or Chromium failure is reported, not raised
                st.error("PNG export needs Kaleido and a Chromium browser; it failed with: "
                         f"{type(exc).__name__}")  # fmt: skip
    png = st.session_state.get(PNG_KEY)
    if png is not None and png[0] == shown:
        c[2].download_button("Download PNG", png[1], file_name=f"{stem}.png", mime="image/png",
                             on_click="ignore", key="nt_ls_png_dl")  # fmt: skip


def png_bytes(fig: dict) -> bytes:
    """The figure as a PNG: the map at its last step without the animation controls."""
    static = static_figure(json.loads(json.dumps(fig)))
    height = int(static["layout"].get("height", 700))
    return to_png(static, width=900, height=height, scale=1)


def show_slice(ls: Landscape, config: TrainConfig, labels, colors, records) -> views.Slice | None:
    """The 1-D slice between two optimizers' final weights (the two lowest by default), with
    the sharpness at both ends (or why there is none)."""
    ss = st.session_state
    usable = views.slice_ends(ls)
    if len(usable) < 2:
        st.caption("The slice between two optimizers' final weights needs two runs that did "
                   "not diverge.")  # fmt: skip
        return None
    st.markdown("**Between two final points**: the loss on the straight line through two "
                "optimizers' final weights. A bump between them says they ended in "
                "different basins.")  # fmt: skip
    c = st.columns(2)
    name = lambda i: labels[i]  # noqa: E731
    for key, default in (("nt_ls_a", usable[0]), ("nt_ls_b", usable[1])):
        if ss.get(key) not in usable:
            ss[key] = default
    a = c[0].selectbox("A (t = 0)", usable, key="nt_ls_a", format_func=name)
    b = c[1].selectbox("B (t = 1)", usable, key="nt_ls_b", format_func=name)
    if a == b:
        st.caption("Choose two different optimizers.")
        return None
    cached = ss.get(SLICE_KEY)
    if not cached or cached["key"] != (id(ls), a, b):
        sl = views.line_slice(SurfaceLoss(config, ls.split), ls, a, b)
        cached = ss[SLICE_KEY] = dict(key=(id(ls), a, b), slice=sl)
    sl = cached["slice"]
    ends = [views.end_sharpness(records, ls, i) for i in (a, b)]
    fig = slice_figure(sl, labels, colors, ls.split, notes=[end_note(e) for e in ends])
    st.plotly_chart(trusted(fig), key="nt_ls_slice_chart")
    chart_summary(slice_summary(sl, labels))
    st.caption(slice_sharpness_text(sl, labels, ends, config))
    return sl


def end_note(e: views.EndSharpness | None) -> str:
    """The hover line of a slice end: the run's λmax there."""
    if e is None:
        return "sharpness not measured"
    what = "λmax(P^-½HP^-½)" if e.kind == "preconditioned" else "λmax(H)"
    where = "" if e.final else f" (step {e.step})"
    return f"{what} {number(e.sharpness)}{where}, threshold {number(e.threshold)}"


def slice_sharpness_text(sl, labels, ends, config: TrainConfig) -> str:
    """The sharpness at both ends of the slice in words, or why there is none."""
    task = get_task(config.task)
    parts = []
    for idx, e, curv in zip((sl.a, sl.b), ends, sl.curvature):
        line = f"{'AB'[(idx == sl.b)]}, {labels[idx]}: "
        if e is not None:
            line += end_note(e) + (" — at or over it" if e.sharpness >= e.threshold else "")
            if not e.final:
                line += f" (the last measurement, step {e.step}, not the final weights)"
        elif not task.sharpness:
            line += f"no sharpness for this task ({task.sharpness_note})"
        else:
            line += "sharpness was off in this run (sidebar: sharpness every)"
        if math.isfinite(curv):
            line += f"; curvature along this line {number(curv)} (a lower bound on λmax(H))"
        parts.append(line)
    text = "Sharpness at the ends: " + "; ".join(parts) + "."
    if not all(math.isfinite(c) for c in sl.curvature):
        text += " The curvature along the line needs a loss of the weights alone (this task's " \
                "objective draws noise)."  # fmt: skip
    return text


def landscape_summary(ls: Landscape) -> str:
    e = ls.plane.explained
    axes = "PC1 and PC2" if ls.plane.kind == "pca" else "the two random directions"
    parts = [f"{axes} explain {100 * e[0]:.3g} % and {100 * e[1]:.3g} % of the paths' spread "
             f"around {reference_name(ls).removeprefix('reference: ')}"]  # fmt: skip
    ends = []
    for i, label in enumerate(ls.labels):
        if ls.true_loss[i].size:
            ends.append(f"{label} {number(ls.true_loss[i][-1])} (surface "
                        f"{number(ls.surface_loss[i][-1])})")  # fmt: skip
    if ends:
        parts.append("final true loss: " + ", ".join(ends))
    gaps = [(float(np.nanmax(np.abs(ls.gap(i)))), i) for i in range(len(ls.labels))
            if np.isfinite(ls.gap(i)).any()]  # fmt: skip
    if gaps:
        worst, i = max(gaps)
        parts.append(f"largest gap between true and surface loss along a path: "
                     f"{number(worst)} ({ls.labels[i]})")  # fmt: skip
    a, b, z = ls.grid_minimum()
    if math.isfinite(z):
        parts.append(f"lowest grid point: loss {number(z)} at ({a:.3g}, {b:.3g})")
    return "; ".join(parts) + "."


def landscape_caption(ls: Landscape, with_marks: bool) -> str:
    split = "training" if ls.split == "train" else "validation"
    text = (
        f"The colours are the {split} loss on this plane only. Every optimizer's weights "
        "leave it (hover a point of a path: by how much), so the panel under the map shows, "
        "along each path, the true loss at the weights (solid) beside the surface's value "
        "where they project (dotted): only where the two agree is the map the loss the "
        f"optimizer saw. Weights saved {_every(ls.snapshot_every)}; the axes have their "
        f"own scales. Grid: {cost_text(ls)}; the run trained again in "
        f"{ls.train_seconds:.1f} s."
    )
    if ls.plane.kind == "random":
        text += (" The random plane's grid covers at least ±1 on both axes: one unit moves "
                 "every filter by its own norm at the reference (Li et al.'s range); the "
                 "paths usually sit near its centre (random directions miss them).")  # fmt: skip
    if get_task(ls.task).objective is not None:
        text += (f" The loss is the task's objective on {ls.n_examples} examples with fixed "
                 "random draws.")  # fmt: skip
    if with_marks:
        text += (" ◆: where the run measured its sharpness (on the map and in the bottom "
                 "panel, beside each optimizer's threshold, dotted): filled at or over the "
                 "threshold (the edge of stability), open below.")  # fmt: skip
    return text


def _every(k: int) -> str:
    return "at every step" if k == 1 else f"every {k} steps"


def slice_summary(sl, labels) -> str:
    ends = f"{labels[sl.a]} {number(sl.loss[sl.t == 0][0])} and {labels[sl.b]} " \
           f"{number(sl.loss[sl.t == 1][0])}"  # fmt: skip
    if not math.isfinite(sl.barrier):
        return f"Loss along the line between {ends}."
    verdict = ("no bump between them (one basin, as far as this line shows)"
               if sl.barrier <= 1e-3 * max(float(np.nanmax(sl.loss)), 1e-12)
               else f"a barrier {number(sl.barrier)} above the higher end")  # fmt: skip
    return f"Loss along the line between {ends} (distance {sl.distance:.3g}): {verdict}."
