"""What result records show in a notebook: tables cut short, formulas as math, plain text kept as written."""
from __future__ import annotations

import sympy

from symprop.printing import notebook


def test_a_table_shows_its_first_rows_and_counts_the_rest():
    rows = [(str(i), "x|y") for i in range(15)]
    table = notebook.markdown_table(("n", "cell"), rows, limit=3)
    lines = table.splitlines()
    assert lines[:3] == ["| n | cell |", "|---|---|", r"| 0 | x\|y |"]
    assert lines[-1] == "... and 12 more rows" and len([line for line in lines if line.startswith("| ")]) == 4


def test_a_formula_is_math_unless_too_long():
    x = sympy.Symbol("out_h1")
    assert notebook.inline_math(x * 2) == r"$2 \cdot \mathrm{out}_{h1}$"
    huge = sympy.Add(*sympy.symbols("a0:600"))
    assert notebook.inline_math(huge).startswith("(a formula of ") and "characters of LaTeX)" in notebook.inline_math(huge)


def test_plain_text_keeps_its_stars_and_underscores():
    assert notebook.text("out_o1*(1 - out_o1)") == r"out\_o1\*(1 - out\_o1)"
    assert notebook.number(None) == "missing" and notebook.number(sympy.Rational(1, 4)) == "0.25"
    assert (notebook.mark(True), notebook.mark(False)) == ("✓", "✗")
