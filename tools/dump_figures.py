"""Dump every page's charts and text (AppTest, no browser) to compare two versions of the code.

A refactor that claims "behaviour unchanged" runs this before and after and diffs the folders::

    python tools/dump_figures.py /tmp/before      # on the old commit
    python tools/dump_figures.py /tmp/after       # on the new one
    diff -r /tmp/before /tmp/after

Each page is opened with its defaults and with a few shared links; every Plotly figure's JSON
and every text element is written, one file per page and link.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
# page file, the page to switch to from app.py (None: open the file itself), shared links
PAGES = {
    "playground": ("app.py", None, [{}, {"ls": "rosenbrock"}, {"ls": "beale", "steps": "80"}]),
    "lessons": ("app.py", "app_pages/lessons.py", [{}, {"lesson": "4"}, {"lesson": "7"}]),
    "networks": (
        "app_pages/networks.py",
        None,
        [{}, {"nt_steps": "30"}, {"nt_task": "digits", "nt_steps": "20"}],
    ),
    "eos": ("app_pages/eos.py", None, [{}]),
    "physics": ("app_pages/physics.py", None, [{}]),
    "stability": ("app_pages/stability.py", None, [{}]),
    "tuning": ("app_pages/tuning.py", None, [{}]),
    "about": ("app_pages/about.py", None, [{}]),
}


def _elements(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _elements(child)


def _rounded(x):
    """Floats to 6 significant digits: a network's sharpness (power iteration in float32 on
    threads) varies in its 8th digit from run to run; anything a refactor breaks shows at 6."""
    if isinstance(x, float):
        return float(f"{x:.6g}")
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    return x


def dump(page: str, query: dict) -> dict:
    path, switch, _ = PAGES[page]
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    if switch:
        at.switch_page(switch)
    at.run()
    if page == "networks" and "nt_steps" in query:  # train, then draw the curves
        next(b for b in at.button if b.label == "Train").click()
        at.run()
    out = {"exceptions": [e.value for e in at.exception], "charts": [], "text": []}
    for el in at.get("plotly_chart"):
        out["charts"].append(_rounded(json.loads(el.proto.spec)))
    for kind in ("markdown", "caption", "warning", "info", "error", "latex", "title", "header",
                 "subheader"):  # fmt: skip
        out["text"] += [f"{kind}: {e.value}" for e in at.get(kind)]
    return out


def main(folder: str) -> None:
    dest = Path(folder)
    dest.mkdir(parents=True, exist_ok=True)
    for page, (_, _, queries) in PAGES.items():
        for query in queries:
            name = page + "".join(f"_{k}-{v}" for k, v in query.items())
            data = dump(page, query)
            text = json.dumps(data, indent=1, sort_keys=True)
            (dest / f"{name}.json").write_text(text)
            print(name, len(data["charts"]), "charts", hashlib.sha1(text.encode()).hexdigest()[:10])


if __name__ == "__main__":
    main(sys.argv[1])
