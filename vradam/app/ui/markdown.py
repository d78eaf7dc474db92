"""A user's text in Streamlit's Markdown (st.markdown, st.warning, st.caption …): escaped
so that it shows as itself, and quoted at a bounded length in messages.
"""

from __future__ import annotations

import re

from vradam.app.quoting import QUOTE_LIMIT, quote

__all__ = ["QUOTE_LIMIT", "md_escape", "quote"]  # quote: one definition, in vradam.app.quoting

# Characters that Streamlit's Markdown reads as formatting anywhere (bold, code, links,
# HTML, tables, strike-through, LaTeX; a colon before a word: emoji/colour/icon short
# codes), and those that
# start a list or heading at the beginning of a line.
_MD_SPECIAL = frozenset("\\`*_[]<>|~$")
_MD_LINE_START = frozenset("#+-=>0123456789")


def md_escape(text: object) -> str:
    """``text`` shown as itself in st.markdown/st.warning/st.caption…, never as Markdown.

    >>> md_escape("x*y + x**2")
    'x\\*y + x\\*\\*2'
    """
    lines = []
    for line in str(text).split("\n"):
        out = "".join("\\" + c if c in _MD_SPECIAL else c for c in line)
        out = re.sub(r":(?=\S)", r"\:", out)  # :smile:, :material/…:, :red[…]
        stripped = out.lstrip()
        if stripped[:1] in _MD_LINE_START and not stripped[:1].isdigit():
            out = out[: len(out) - len(stripped)] + "\\" + stripped
        elif stripped[:1].isdigit():  # "1. text" would start a numbered list
            head = stripped.split(" ", 1)[0]
            if head.rstrip(".)").isdigit() and head[-1:] in ".)":
                out = out.replace(head, head[:-1] + "\\" + head[-1], 1)
        lines.append(out)
    return "\n".join(lines)
