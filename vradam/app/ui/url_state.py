"""Shareable pages: widgets whose values live in the URL (:class:`UrlField`), read from it
(:func:`url_state`) and written back (:func:`write_url`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from vradam.app.ui.markdown import md_escape, quote


@dataclass(frozen=True)
class UrlField:
    """A widget whose value lives in the URL under its session-state key.

    ``options`` lists the allowed values (select sliders, radios); without it the
    value is any number ``parse`` accepts, clamped to ``bounds`` (the same bounds the
    widget gets: pass ``field.bounds`` as its min and max). Widgets bound this way must
    not pass ``value=``: their session-state entry is the value.
    """

    key: str
    default: object
    options: tuple | None = None
    bounds: tuple[float, float] | None = None

    def parse(self, raw: str):
        """The value of ``raw``; ValueError (in plain words) when it cannot be used."""
        if isinstance(self.default, str):
            value = raw
        else:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ValueError("not a number") from None
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            if isinstance(self.default, int):
                if value != int(value):
                    raise ValueError("not a whole number")
                value = int(value)
        if self.options is not None:
            match = [o for o in self.options if o == value or _close(o, value)]
            if not match:
                shown = ", ".join(_url_text(o) for o in self.options)
                raise ValueError(f"not one of {shown}")
            value = match[0]
        return value

    def clamp(self, value):
        """``value`` within ``bounds`` (unchanged without bounds)."""
        if self.bounds is None or isinstance(value, str):
            return value
        lo, hi = self.bounds
        return type(value)(min(max(value, lo), hi))


def _close(a, b) -> bool:
    return isinstance(a, float | int) and isinstance(b, float | int) and math.isclose(a, b)


def _url_text(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def url_state(fields: Sequence[UrlField]) -> list[str]:
    """Seed each field's session value from the URL, else from its default.

    The URL wins when it differs from what this page last wrote there (a shared link,
    a lesson's preset, the Back button) or when the widget has no value yet. A URL that
    holds some of this page's fields means the default for the ones it leaves out (a
    preset lists only what differs). Returns one short warning per value that could not
    be used (that field keeps its value) or was clamped to its widget's range.
    """
    ss = st.session_state
    written = ss.setdefault("_url_written", {})
    ours = any(f.key in st.query_params for f in fields)
    warnings = []
    for f in fields:
        raw = st.query_params.get(f.key)
        if raw is None:
            if f.key not in ss or (ours and written.get(f.key) is not None):
                ss[f.key] = f.default
                written[f.key] = None
            continue
        if raw != written.get(f.key) or f.key not in ss:
            written[f.key] = raw
            try:
                value = f.parse(raw)
            except ValueError as exc:
                warnings.append(f"Ignored {f.key}={md_escape(quote(raw))} from the link: {exc}.")
            else:
                clamped = f.clamp(value)
                if clamped != value:
                    lo, hi = f.bounds
                    warnings.append(
                        f"{f.key}={md_escape(quote(raw))} from the link is outside "
                        f"{lo:g} … {hi:g}: using {clamped:g}."
                    )
                ss[f.key] = clamped
                continue
        if f.key not in ss:
            ss[f.key] = f.default
    return warnings


def write_url(fields: Sequence[UrlField]) -> None:
    """Put the fields' current values in the URL, so the address reproduces the page.

    A value equal to its default is left out unless the URL already names it. All
    changes go out as one update; it replaces the page's history entry (Streamlit would
    push one per update: see :data:`HISTORY_SCRIPT`), and an unchanged page writes none.
    """
    ss = st.session_state
    written = ss.setdefault("_url_written", {})
    changes = {}
    for f in fields:
        value = ss.get(f.key, f.default)
        text = _url_text(value)
        present = st.query_params.get(f.key)
        if present is not None:
            if present != text:
                changes[f.key] = text
        elif value != f.default:
            changes[f.key] = text
        written[f.key] = text if (present is not None or value != f.default) else None
    if changes:
        st.query_params.update(changes)
