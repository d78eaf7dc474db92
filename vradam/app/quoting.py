"""A user's value in a message (a link's text, a typed name): quoted at a bounded length,
so that a pasted megabyte cannot flood a warning. Plain text; the UI escapes it for
Markdown (:mod:`vradam.app.ui.markdown`)."""

from __future__ import annotations

import re

__all__ = ["QUOTE_LIMIT", "quote", "shorten"]

QUOTE_LIMIT = 40  # characters of a user's value quoted in a message


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A user's value for a message: quoted, at most ``limit`` characters (then "…")."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text):,} characters)"
    return f"'{text}'"


_LONG_QUOTED = re.compile("'([^']{" + str(QUOTE_LIMIT + 1) + ",})'")


def shorten(message: str, limit: int = 120) -> str:
    """An error message for a warning: long quoted values in it shortened (:func:`quote`),
    the whole at most ``limit`` characters (then "…")."""
    message = _LONG_QUOTED.sub(lambda m: quote(m[1]), message)
    return message if len(message) <= limit else message[:limit] + "…"
