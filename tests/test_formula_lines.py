"""The Playground's formula header: a long formula is cut into lines outside its brackets,
so that it fits its column at 1024 px (vradam.app.playground.formula_latex)."""

from __future__ import annotations

import re

import pytest

import landscapes
from vradam.app.playground import FORMULA_LINE, _top_level_breaks, formula_latex

LONG: set[str] = set()  # presets allowed a line over the limit: none (Goldstein–Price names
# its two long factors A and B on lines of their own)


def _lines(latex: str) -> list[str]:
    body = re.sub(r"\\(begin|end)\{(aligned|gathered)\}", "", latex)
    return [re.sub(r"^\s*(f\(x, y\) = (\{\} )?)?(& ?)?(\{\})?", "", line).strip()
            for line in body.split(r"\\")]  # fmt: skip


def _balanced(text: str) -> bool:
    depth = 0
    for c in re.sub(r"\\(left|right)", "", text):
        depth += c in "([{"
        depth -= c in ")]}"
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("key", list(landscapes.REGISTRY))
def test_every_presets_formula_keeps_its_content_in_balanced_short_lines(key):
    formula = landscapes.get(key).formula
    latex = formula_latex(formula)
    lines = _lines(latex)
    assert all(_balanced(line) for line in lines), lines
    if r"\quad" not in formula and r",\;" not in formula:  # cut at + and − only
        joined = re.sub(r"\s", "", "".join(lines)).removeprefix("f(x,y)=")
        assert joined == re.sub(r"\s", "", formula)
    if key not in LONG:
        assert max(len(line) for line in lines) <= FORMULA_LINE + 16, lines


def test_breaks_fall_outside_brackets_only():
    formula = r"(a + b)^2 + \left(c - d\right) - e + \left[f\right]\left[g + h\right]"
    cuts = _top_level_breaks(formula)
    assert [formula[i] for i in cuts] == ["+", "-", "+", "\\"]
    assert formula[cuts[3] :].startswith(r"\left[g")
    assert formula_latex("x^2 + y^2") == "f(x, y) = x^2 + y^2"  # short: one line
