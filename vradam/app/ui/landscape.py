"""The Networks page's "Landscape of this run": every optimizer's path on one plane of the
network's real loss surface (vradam.studies.landscape), under a finished run's results.

Computing it trains the run again with snapshots of the weights (same seed and batches:
the same paths), so it waits for a button; the result stays in session state for the run
it was drawn from. The view lives in a fragment: changing its colour scale, 3-D view or
slice reruns the view only, not the page.
"""

from __future__ import annotations

import json
import math

import numpy as np
import streamlit as st

from vradam.app.figures.landscape import (
    cost_text,
    landscape_figure,
    number,
    reference_name,
    slice_figure,
    surface3d_figure,
)
from vradam.app.networks import labels_colors
from vradam.app.ui.charts import chart_summary, trusted
from vradam.studies.landscape import (
    GRID,
    Landscape,
    LandscapeConfig,
    SurfaceLoss,
    landscape,
    line_slice,
    sharpness_marks,
    to_record,
)
from vradam.studies.training import TrainConfig

KEY = "nt_ls"  # session state: the computed landscape, its settings and records
SLICE_KEY = "nt_ls_slice"
GRIDS = [21, 31, GRID, 51]
PLANES = {"pca": "principal directions of the paths (PCA)",
          "random": "random, filter-normalised (Li et al.)"}  # fmt: skip
REFERENCES = {"best": "lowest final loss", "init": "shared initial weights"}
SPLITS = {"train": "training set", "val": "validation set"}
DEFAULTS = dict(nt_ls_plane="pca", nt_ls_reference="best", nt_ls_split="train",
                nt_ls_grid=GRID, nt_ls_log=True, nt_ls_3d=False)  # fmt: skip


def landscape_controls() -> LandscapeConfig:
    """The view's settings (plane, centre, loss, grid) → a LandscapeConfig."""
    ss = st.session_state
    for key, value in DEFAULTS.items():
        ss.setdefault(key, value)
    c = st.columns(4)
    c[0].selectbox("plane", list(PLANES), key="nt_ls_plane", format_func=PLANES.get,
                   help="PCA: the two directions along which all optimizers' snapshots "
                   "spread most. Random: Li et al.'s directions, each filter scaled to the "
                   "reference's (biases left out); they usually miss the paths.")  # fmt: skip
    c[1].selectbox("centre", list(REFERENCES), key="nt_ls_reference",
                   format_func=REFERENCES.get,
                   help="The plane's origin: the final weights of the optimizer with the "
                   "lowest final loss, or the initial weights all optimizers share.")  # fmt: skip
    c[2].selectbox("loss on the", list(SPLITS), key="nt_ls_split", format_func=SPLITS.get)
    c[3].selectbox("grid", GRIDS, key="nt_ls_grid", format_func=lambda n: f"{n}×{n}",
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
    c[0].toggle("log colour scale", key="nt_ls_log")
    c[1].toggle("3-D surface", key="nt_ls_3d")
    marks = sharpness_marks(records, ls)
    if ss["nt_ls_3d"]:
        fig = surface3d_figure(ls, colors, log_color=ss["nt_ls_log"])
        st.plotly_chart(trusted(fig), key="nt_ls_surface")
    else:
        fig = landscape_figure(ls, colors, log_color=ss["nt_ls_log"], marks=marks)
        st.plotly_chart(trusted(fig), key="nt_ls_map")
    chart_summary(landscape_summary(ls))
    st.caption(landscape_caption(ls, any(m is not None for m in marks)))
    show_slice(ls, config, labels, colors)
    st.download_button("JSON (plane, grid and projected paths)",
                       lambda: json.dumps(to_record(ls)),
                       file_name=f"vradam-landscape-{config.task}.json",
                       mime="application/json", on_click="ignore", key="nt_ls_json")  # fmt: skip


def show_slice(ls: Landscape, config: TrainConfig, labels, colors) -> None:
    """The 1-D slice between two optimizers' final weights (the two lowest by default)."""
    ss = st.session_state
    usable = [i for i in range(len(ls.labels)) if np.isfinite(ls.finals[i]).all()
              and not ls.diverged[i]]  # fmt: skip
    if len(usable) < 2:
        st.caption("The slice between two optimizers' final weights needs two runs that did "
                   "not diverge.")  # fmt: skip
        return
    best = sorted(usable, key=lambda i: float(np.nan_to_num(ls.true_loss[i][-1], nan=np.inf)))
    st.markdown("**Between two final points**: the loss on the straight line through two "
                "optimizers' final weights. A bump between them says they ended in "
                "different basins.")  # fmt: skip
    c = st.columns(2)
    name = lambda i: labels[i]  # noqa: E731
    for key, default in (("nt_ls_a", best[0]), ("nt_ls_b", best[1])):
        if ss.get(key) not in usable:
            ss[key] = default
    a = c[0].selectbox("A (t = 0)", usable, key="nt_ls_a", format_func=name)
    b = c[1].selectbox("B (t = 1)", usable, key="nt_ls_b", format_func=name)
    if a == b:
        st.caption("Choose two different optimizers.")
        return
    cached = ss.get(SLICE_KEY)
    if not cached or cached["key"] != (id(ls), a, b):
        sl = line_slice(SurfaceLoss(config, ls.split), ls, a, b)
        cached = ss[SLICE_KEY] = dict(key=(id(ls), a, b), slice=sl)
    sl = cached["slice"]
    st.plotly_chart(trusted(slice_figure(sl, labels, colors, ls.split)), key="nt_ls_slice_chart")
    chart_summary(slice_summary(sl, labels))


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
    if ls.n_examples and ls.method == "loop" and ls.task in ("lm", "gflownet", "imagegen"):
        text += (f" The loss is the task's objective on {ls.n_examples} examples with fixed "
                 "random draws.")  # fmt: skip
    if with_marks:
        text += (" ◆: where the run measured its sharpness: filled at or over the "
                 "optimizer's stability threshold (the edge of stability), open "
                 "below.")  # fmt: skip
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
