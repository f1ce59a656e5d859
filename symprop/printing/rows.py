r"""Laying out equations as rows: a chain ``lhs = a = b`` as aligned rows, a row too
long for a line broken before a top-level sign, and the body of display math that
Markdown cannot misread."""
from __future__ import annotations

import re


_UNSAFE_LINE_START = re.compile(r"^(?:[#\-+>]| {4})")


def math_lines(rows) -> str:
    r"""One equation (a string) or aligned rows (a list) as the body of display math:
    each row on its own line ending with ``\\``, no line starting with ``#``, ``-``,
    ``+``, ``>`` or four spaces (Markdown would read those as markup)."""
    if isinstance(rows, str):
        rows = [rows]
    lines = [r.strip() for r in rows]
    if len(lines) > 1:
        lines = [line if "&" in line else line.replace(" = ", " &= ", 1) for line in lines]
        lines = [r"\begin{aligned}", *(line + r" \\" for line in lines[:-1]), lines[-1], r"\end{aligned}"]
    # A row break inside a row (``cases``, ``matrix``) ends its line too.
    lines = [part.strip() for line in lines for part in re.split(r"(?<=\\\\)\s*(?=\S)", line)]
    return "\n".join("{}" + line if _UNSAFE_LINE_START.match(line) else line for line in lines)



#: Rows wider than this (see :func:`visible_width`) continue on rows of their own.
LONG_LINE = 120


def chain_rows(sides) -> list[str]:
    """``lhs = a = b`` as aligned rows, consecutive repeats and empty sides dropped;
    two sides make one unaligned row; a row too long for a line is broken (see
    :func:`break_long_row`)."""
    kept = []
    for side in sides:
        if side and (not kept or kept[-1] != side):
            kept.append(side)
    if len(kept) <= 2:
        pieces = break_long_row(" &= ".join(kept))
        return pieces if len(pieces) > 1 else [" = ".join(kept)]
    rows = [f"{kept[0]} &= {kept[1]}", *(f"&= {s}" for s in kept[2:])]
    return [piece for row in rows for piece in break_long_row(row)]


def visible_width(tex: str) -> int:
    """About how many characters wide ``tex`` prints: each command one character,
    ``\\left``/``\\right``, braces, ``&`` and spaces none (a fraction counts both parts)."""
    tex = re.sub(r"\\(left|right)\b\.?", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}&\s]", "", tex))


_TOKEN = re.compile(r"\\left|\\right|[{}]| [+-] ")


def break_long_row(row: str, limit: int = None) -> list[str]:
    r"""A row longer than ``limit`` characters split before top-level ``+``/``-`` signs
    (outside any braces) into rows of at most about ``limit``; a break inside
    ``\left( ... \right)`` closes the open delimiters with ``\right.`` and reopens
    them with ``\left.`` on the next row, which LaTeX and MathJax both accept."""
    limit = LONG_LINE if limit is None else limit
    if visible_width(row) <= limit:
        return [row]
    breaks, braces, lefts = [], 0, 0
    for match in _TOKEN.finditer(row):
        token = match.group()
        if token == "{":
            braces += 1
        elif token == "}":
            braces -= 1
        elif token == "\\left":
            lefts += 1
        elif token == "\\right":
            lefts -= 1
        elif braces == 0:
            breaks.append((match.start(), lefts))
    rows, start, open_lefts = [], 0, 0
    while visible_width(row[start:]) > limit:
        later = [(p, d) for p, d in breaks if p > start]
        window = [(p, d) for p, d in later if visible_width(row[start:p]) <= limit] or later[:1]
        if not window:
            break
        # the shallowest break in reach, the latest of those: a line ends where the sum is outermost
        position, depth = min(window, key=lambda b: (b[1], -b[0]))
        rows.append((start, position, open_lefts, depth))
        start, open_lefts = position + 1, depth
    pieces = []
    for begin, end, opened, closing in rows:
        prefix = "&\\quad " + "\\left. " * opened if begin else ""
        pieces.append(prefix + row[begin:end] + " \\right." * closing)
    pieces.append(("&\\quad " + "\\left. " * open_lefts if start else "") + row[start:])
    return pieces
