r"""What result records show in a notebook: short Markdown, never a dump of their fields.

Records that hold numbers per parameter (a worked example, a backward check) show
a table of at most :data:`TABLE_ROWS` rows; formulas are inline math, a formula
too long to read at a glance is named by its length instead.
"""
from __future__ import annotations

from typing import Sequence

from symprop.printing.latex import latex, markdown_safe
from symprop.printing.numbers import plain_number

#: Rows of a notebook table at most: a large network has thousands of parameters.
TABLE_ROWS = 12
#: Characters of LaTeX a notebook shows of one formula at most.
FORMULA_CHARACTERS = 1500


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], limit: int = TABLE_ROWS) -> str:
    """A Markdown table of the first ``limit`` rows, and a line saying how many more there are."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n... and {len(rows) - limit} more rows")
    return "\n".join(lines) + "\n"


def inline_math(expr, graph=None) -> str:
    """``$expr$``, or the formula's length when it is too long to read in a notebook."""
    tex = markdown_safe(latex(expr, graph))
    if len(tex) > FORMULA_CHARACTERS:
        return f"(a formula of {len(tex)} characters of LaTeX)"
    return f"${tex}$"


def number(value, digits: int = 9) -> str:
    """A number as plain text (``missing`` for None), whatever its arithmetic (float, exact, mpmath)."""
    if value is None:
        return "missing"
    try:
        return plain_number(value, digits)
    except (TypeError, ValueError):
        return plain_number(float(value), digits)


#: Characters that Markdown reads as markup in running text: each is written with a backslash.
_MARKUP = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def text(words: str) -> str:
    """Plain ``words`` (a diagnosis, a point's values) that Markdown shows as written:
    ``out_o1*(1 - out_o1)`` keeps its ``*`` and ``_``."""
    return str(words).translate(_MARKUP)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"
