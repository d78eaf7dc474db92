"""Animation: the frames' steps and the Play/Pause buttons and step slider."""

from __future__ import annotations

import numpy as np

from vradam.app.figures.maps import MAP_DOMAIN


def frame_steps(last: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` evenly spread integer steps from 0 to ``last``, both included."""
    n = min(max_frames, last + 1)
    return np.unique(np.round(np.linspace(0, last, n)).astype(int)).tolist()


def animation_controls(
    names: list[str], labels: list, *, frame_ms: int, redraw: bool = False,
    buttons_y: float = -0.14, slider_y: float = -0.115, slider_len: float = MAP_DOMAIN[1],
    prefix: str = "step ", slider_x: float = 0.0, slider_pad_left: int = 180,
    step_labels: bool = True,
) -> dict:  # fmt: skip
    """Layout entries ``updatemenus`` and ``sliders``: Play/Pause buttons and one slider over
    the frames called ``names`` (shown as ``labels``). ``redraw`` must be True when frames
    replace heatmaps (they vanish otherwise), False for scatter-only frames (faster).

    ``slider_pad_left`` leaves room for the buttons left of the slider (0 when the slider
    has a row of its own; a rail narrower than the pad gets a negative width in Plotly);
    ``step_labels=False`` hides the labels under the rail (a hundred labels overlap) and
    keeps the current step above it."""
    still = dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                 transition=dict(duration=0))  # fmt: skip
    play = dict(mode="immediate", frame=dict(duration=frame_ms, redraw=redraw),
                transition=dict(duration=0), fromcurrent=True)  # fmt: skip
    pause = dict(mode="immediate", frame=dict(duration=0, redraw=False),
                 transition=dict(duration=0))  # fmt: skip
    hidden = {} if step_labels else dict(font=dict(size=8, color="rgba(0,0,0,0)"), ticklen=3,
                                         minorticklen=0, tickcolor="rgba(0,0,0,0.25)")  # fmt: skip
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=buttons_y, xanchor="left",
            yanchor="top", showactive=False, pad=dict(t=0, r=10),
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=slider_x, len=slider_len, y=slider_y, xanchor="left", yanchor="top",
            pad=dict(t=0, b=0, l=slider_pad_left),
            currentvalue=dict(prefix=prefix, font=dict(size=13, color="#333333")),
            transition=dict(duration=0), **hidden,
            steps=[dict(method="animate", label=str(label), args=[[name], still])
                   for name, label in zip(names, labels)],
        )],
    )  # fmt: skip
