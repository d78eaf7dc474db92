"""Figures for the edge-of-stability page: sharpness against each optimizer's threshold."""

from __future__ import annotations

from vradam.eos import EDGE_TOLERANCE, MATCHED_LABEL, EoSResult, Series
from vradam.optimizers import OptimizerSpec
from vradam.plots import _list, _sig_list, assign_colors


def series_colors(result: EoSResult) -> list[str]:
    return assign_colors([OptimizerSpec.parse(s.spec) for s in result.series])


def short_title(s: Series) -> str:
    """A panel title that fits a fifth of a projector: the optimizer's name only."""
    return "Adam at mean η" if s.label == MATCHED_LABEL else OptimizerSpec.parse(s.spec).info.name


def _axis(layout, n, domain_x, domain_y, *, title, log=True, x_title=None):
    suffix = "" if n == 1 else str(n)
    layout[f"xaxis{suffix}"] = dict(
        domain=domain_x,
        anchor=f"y{suffix}",
        gridcolor="#eeeeee",
        title=dict(text=x_title) if x_title else None,
    )
    layout[f"yaxis{suffix}"] = dict(
        domain=domain_y,
        anchor=f"x{suffix}",
        gridcolor="#eeeeee",
        type="log" if log else "linear",
        exponentformat="power",
    )
    layout["annotations"].append(
        dict(
            text=f"<b>{title}</b>",
            x=domain_x[0],
            y=domain_y[1],
            xref="paper",
            yref="paper",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=13),
        )
    )
    return dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")


def _row_domains(n: int, gap: float = 0.05) -> list[list[float]]:
    w = (1 - gap * (n - 1)) / n
    return [[round(i * (w + gap), 4), round(i * (w + gap) + w, 4)] for i in range(n)]


def eos_figure(result: EoSResult) -> dict:
    """Top row: each optimizer's sharpness (dots) and threshold (dashed). Bottom row: the
    loss, sharpness ÷ threshold (1 = the edge) and the effective rate η_t, all together."""
    colors = series_colors(result)
    n = len(result.series)
    layout = dict(
        height=760,
        margin=dict(l=60, r=20, t=40, b=50),
        plot_bgcolor="white",
        annotations=[],
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.07, yanchor="top"),
        hovermode="closest",
    )
    data = []
    top, bottom = [0.62, 0.95], [0.0, 0.44]
    for i, (s, color, dx) in enumerate(zip(result.series, colors, _row_domains(n))):
        what = "λmax(P⁻¹H)" if s.sharpness_kind == "preconditioned" else "λmax(H)"
        ax = _axis(layout, i + 1, dx, top, title=f"{short_title(s)}<br>{what}")
        x = _list(s.sharp_steps)
        data.append(
            dict(
                type="scatter",
                x=x,
                y=_sig_list(s.sharpness),
                mode="lines+markers",
                marker=dict(size=4),
                line=dict(color=color, width=1.5),
                name=s.label,
                legendgroup=s.label,
                showlegend=False,
                hovertemplate="step %{x}<br>sharpness %{y:.4g}<extra></extra>",
                **ax,
            )
        )
        data.append(
            dict(
                type="scatter",
                x=x,
                y=_sig_list(s.threshold),
                mode="lines",
                line=dict(color="#333333", width=1.5, dash="dash"),
                name="threshold",
                legendgroup="threshold",
                showlegend=i == 0,
                hovertemplate="step %{x}<br>threshold %{y:.4g}<extra></extra>",
                **ax,
            )
        )
    panels = [
        ("training loss", lambda s: (s.steps, s.loss), True),
        ("sharpness ÷ threshold (1 = edge)", lambda s: (s.sharp_steps, s.ratio), False),
        ("effective learning rate η_t", lambda s: (s.steps, s.eta), True),
    ]
    for j, ((title, get, log), dx) in enumerate(zip(panels, _row_domains(3, 0.07))):
        ax = _axis(layout, n + j + 1, dx, bottom, title=title, log=log, x_title="step")
        if j == 1:
            lo, hi = 1 - EDGE_TOLERANCE, 1 + EDGE_TOLERANCE
            last = float(max(s.sharp_steps[-1] for s in result.series))
            data.append(
                dict(
                    type="scatter",
                    x=[0, last, last, 0, 0],
                    y=[lo, lo, hi, hi, lo],
                    fill="toself",
                    fillcolor="rgba(0,0,0,0.08)",
                    mode="lines",
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                    name=f"edge ±{EDGE_TOLERANCE:.0%}",
                    **ax,
                )
            )
        for s, color in zip(result.series, colors):
            x, y = get(s)
            data.append(
                dict(
                    type="scatter",
                    x=_list(x),
                    y=_sig_list(y),
                    mode="lines",
                    line=dict(color=color, width=1.5),
                    name=s.label,
                    legendgroup=s.label,
                    showlegend=j == 0,
                    hovertemplate=f"{s.label}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>",
                    **ax,
                )
            )
    return dict(data=data, layout=layout)
