"""Figures for the edge-of-stability page: sharpness against each optimizer's threshold."""

from __future__ import annotations

from vradam.app.figures.common import (
    GRID_COLOR,
    as_list,
    assign_colors,
    band_traces,
    line_trace,
    panel_label,
    sig_list,
)
from vradam.sim.optimizers import OptimizerSpec
from vradam.studies.eos import EDGE_TOLERANCE, MATCHED_LABEL, EoSResult, Series

TOP_ROW, BOTTOM_ROW = [0.62, 0.95], [0.0, 0.44]


def series_colors(result: EoSResult) -> list[str]:
    return assign_colors([OptimizerSpec.parse(s.spec) for s in result.series])


def short_title(s: Series) -> str:
    """A panel title that fits a fifth of a projector: the optimizer's name only."""
    return "matched Adam" if s.label == MATCHED_LABEL else OptimizerSpec.parse(s.spec).info.name


def _axis(layout, n, domain_x, domain_y, *, title, log=True, x_title=None):
    suffix = "" if n == 1 else str(n)
    layout[f"xaxis{suffix}"] = dict(
        domain=domain_x,
        anchor=f"y{suffix}",
        gridcolor=GRID_COLOR,
        title=dict(text=x_title) if x_title else None,
    )
    layout[f"yaxis{suffix}"] = dict(
        domain=domain_y,
        anchor=f"x{suffix}",
        gridcolor=GRID_COLOR,
        type="log" if log else "linear",
        exponentformat="power",
    )
    layout["annotations"].append(panel_label(f"<b>{title}</b>", domain_x[0], domain_y[1], 13))
    return dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")


def _row_domains(n: int, gap: float = 0.05) -> list[list[float]]:
    w = (1 - gap * (n - 1)) / n
    return [[round(i * (w + gap), 4), round(i * (w + gap) + w, 4)] for i in range(n)]


def _sharpness_row(result: EoSResult, colors, layout: dict) -> list[dict]:
    """One panel per optimizer: its sharpness (dots) against its threshold (dashed)."""
    data = []
    for i, (s, color, dx) in enumerate(
        zip(result.series, colors, _row_domains(len(result.series)))
    ):
        what = "λmax(P⁻¹H)" if s.sharpness_kind == "preconditioned" else "λmax(H)"
        ax = _axis(layout, i + 1, dx, TOP_ROW, title=f"{short_title(s)}<br>{what}")
        x = as_list(s.sharp_steps)
        sharpness = line_trace(
            x,
            sig_list(s.sharpness),
            "step %{x}<br>sharpness %{y:.4g}",
            mode="lines+markers",
            marker=dict(size=4),
            line=dict(color=color, width=1.5),
            name=s.label,
            legendgroup=s.label,
            showlegend=False,
            **ax,
        )
        threshold = line_trace(
            x,
            sig_list(s.threshold),
            "step %{x}<br>threshold %{y:.4g}",
            line=dict(color="#333333", width=1.5, dash="dash"),
            name="threshold",
            legendgroup="threshold",
            showlegend=i == 0,
            **ax,
        )
        data += [sharpness, threshold]
    return data


def _edge_band(result: EoSResult, ax: dict) -> list[dict]:
    """The grey band 1 ± EDGE_TOLERANCE on the ratio panel."""
    lo, hi = 1 - EDGE_TOLERANCE, 1 + EDGE_TOLERANCE
    last = float(max(s.sharp_steps[-1] for s in result.series))
    return band_traces(
        [0, last],
        [lo, lo],
        [hi, hi],
        "rgba(0,0,0,0.08)",
        closed=True,
        name=f"edge ±{EDGE_TOLERANCE:.0%}",
        **ax,
    )


WINDOW_FILL = "rgba(230,159,0,0.12)"


def _window_shade(result: EoSResult, ax: dict, layout: dict, *, label: bool) -> None:
    """Shade the comparison window (where the matched rate and the oscillation measures
    are taken) behind a bottom-row panel."""
    first, last = result.window
    layout.setdefault("shapes", []).append(
        dict(type="rect", xref=ax["xaxis"], yref=f"{ax['yaxis']} domain", x0=first, x1=last,
             y0=0, y1=1, fillcolor=WINDOW_FILL, line=dict(width=0), layer="below")
    )  # fmt: skip
    if label:
        layout["annotations"].append(
            dict(text=f"comparison window<br>steps {first}–{last}", xref=ax["xaxis"],
                 yref=f"{ax['yaxis']} domain", x=(first + last) / 2, y=0.98, yanchor="top",
                 showarrow=False, font=dict(size=10, color="#8a5a00"))
        )  # fmt: skip


def _shared_row(result: EoSResult, colors, layout: dict) -> list[dict]:
    """Three panels with every optimizer: the loss, sharpness ÷ threshold and η_t."""
    panels = [
        ("training loss", lambda s: (s.steps, s.loss), True),
        ("sharpness ÷ threshold<br>(1 = the edge)", lambda s: (s.sharp_steps, s.ratio), False),
        ("effective rate η_t", lambda s: (s.steps, s.eta), True),
    ]
    n, data = len(result.series), []
    for j, ((title, get, log), dx) in enumerate(zip(panels, _row_domains(3, 0.07))):
        ax = _axis(layout, n + j + 1, dx, BOTTOM_ROW, title=title, log=log, x_title="step")
        _window_shade(result, ax, layout, label=j == 0)
        if j == 1:
            data += _edge_band(result, ax)
        for s, color in zip(result.series, colors):
            x, y = get(s)
            data.append(
                line_trace(
                    as_list(x),
                    sig_list(y),
                    f"{s.label}<br>step %{{x}}<br>%{{y:.4g}}",
                    line=dict(color=color, width=1.5),
                    name=s.label,
                    legendgroup=s.label,
                    showlegend=j == 0,
                    **ax,
                )
            )
    return data


def eos_figure(result: EoSResult) -> dict:
    """Top row: each optimizer's sharpness (dots) and threshold (dashed). Bottom row: the
    loss, sharpness ÷ threshold (1 = the edge) and the effective rate η_t, all together,
    with the comparison window shaded."""
    colors = series_colors(result)
    layout = dict(
        height=760,
        margin=dict(l=60, r=20, t=40, b=50),
        plot_bgcolor="white",
        annotations=[],
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.07, yanchor="top"),
        hovermode="closest",
    )
    data = _sharpness_row(result, colors, layout) + _shared_row(result, colors, layout)
    return dict(data=data, layout=layout)
