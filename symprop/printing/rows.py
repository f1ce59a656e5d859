r"""Laying out equations as rows: a chain ``lhs = a = b`` as aligned rows, a row too
long for a line broken before a top-level sign, and the body of display math that
Markdown cannot misread."""
from __future__ import annotations

import itertools
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
        lines = [line if ALIGNMENT.search(line) else line.replace(" = ", " &= ", 1) for line in lines]
        lines = [r"\begin{aligned}", *(line + r" \\" for line in lines[:-1]), lines[-1], r"\end{aligned}"]
    # A row break inside a row (``cases``, ``matrix``) ends its line too.
    lines = [part.strip() for line in lines for part in split_after_row_breaks(line)]
    return "\n".join("{}" + line if _UNSAFE_LINE_START.match(line) else line for line in lines)


_BACKSLASHES = re.compile(r"\\+")
#: An alignment point ``&``: not ``\&`` (an ampersand a name prints), but after ``\\`` it is one.
ALIGNMENT = re.compile(r"(?<!\\)((?:\\\\)*)&")


def without_alignment(row: str) -> str:
    r"""``row`` with its alignment points removed, its ``\&`` kept."""
    return ALIGNMENT.sub(r"\1", row)


def split_after_row_breaks(line: str) -> list[str]:
    r"""``line`` cut after each row break ``\\`` that something follows. A run of
    backslashes is read in pairs from its start: in ``\\\frac`` the first two break
    the row and the third begins ``\frac``, which stays whole on the next line."""
    if not _may_break_inside(line):
        return [line]
    pieces, start = [], 0
    for run in _BACKSLASHES.finditer(line):
        cut = run.start() + 2 * (len(run.group()) // 2)
        if cut > run.start() and line[cut:].strip():
            pieces.append(line[start:cut])
            start = cut
    return [*pieces, line[start:]]


def _may_break_inside(line: str) -> bool:
    r"""Whether ``line`` has a run of two or more backslashes before its end: most lines have
    none but the row break ``\\`` they end with, which nothing follows (a quick test in C
    instead of a loop over every command's backslash)."""
    body = line.rstrip()
    head = body[:-2] if body.endswith("\\\\") else body
    return "\\\\" in head or head.endswith("\\")


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
    return len(_NO_WIDTH.sub("", _COMMAND.sub("x", _SIZERS.sub("", tex))))


#: What :func:`visible_width` removes or shortens, in this order: the delimiter sizers
#: (``\\left.`` whole, not ``\\leftarrow``), every other command to one character, then braces,
#: ``&`` and spaces; three passes of the regular-expression engine instead of a token loop.
_SIZERS = re.compile(r"\\(?:left|right)\b\.?")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_NO_WIDTH = re.compile(r"[{}&\s]")


def widths_at(tex: str, positions) -> dict[int, int]:
    """position -> :func:`visible_width` of ``tex[:position]``, for token boundaries
    ``positions`` (0 and ``len(tex)`` among them), each segment measured once."""
    cuts = sorted(set(positions))
    if "\0" in tex:  # the marker below would be ambiguous: measure segment by segment
        return dict(zip(cuts, itertools.accumulate(
            visible_width(tex[start:end]) for start, end in zip([0, *cuts], cuts))))
    # One pass of the three substitutions over the whole row: the segments joined by a NUL,
    # which no substitution touches (a cut stands between tokens, never inside a command).
    marked = "\0".join(tex[start:end] for start, end in zip(cuts, cuts[1:]))
    stripped = _NO_WIDTH.sub("", _COMMAND.sub("x", _SIZERS.sub("", marked)))
    widths, total = {cuts[0]: 0}, 0
    for position, segment in zip(cuts[1:], stripped.split("\0")):
        total += len(segment)
        widths[position] = total
    return widths


def break_long_row(row: str, limit: int = None) -> list[str]:
    r"""A row longer than ``limit`` characters split before top-level ``+``/``-`` signs
    (outside any braces) into rows of at most about ``limit``; a break inside
    ``\left( ... \right)`` closes the open delimiters with ``\right.`` and reopens
    them with ``\left.`` on the next row, which LaTeX and MathJax both accept.

    Each line ends at the shallowest break in reach, the latest of those: where the
    sum is outermost. The widths are measured once, so the cost is linear in the row.
    """
    limit = LONG_LINE if limit is None else limit
    if len(row) <= limit:  # no wider than its characters: most rows, measured for free
        return [row]
    end = len(row)
    breaks = _top_level_breaks(row)
    # a break stands at the space before its sign: both sides of that space are token boundaries
    widths = widths_at(row, [0, end, *(b for b, _ in breaks), *(b + 1 for b, _ in breaks)])
    if widths[end] <= limit:  # widths[end] is visible_width(row), measured in the same pass
        return [row]
    rows, start, open_lefts, first = [], 0, 0, 0
    while widths[end] - widths[start] > limit:
        while first < len(breaks) and breaks[first][0] <= start:
            first += 1
        last = first
        while last < len(breaks) and widths[breaks[last][0]] - widths[start] <= limit:
            last += 1
        window = breaks[first:last] or breaks[first:first + 1]
        if not window:
            break
        position, depth = min(window, key=lambda b: (b[1], -b[0]))
        rows.append((start, position, open_lefts, depth))
        start, open_lefts = position + 1, depth
    pieces = []
    for begin, end, opened, closing in rows:
        prefix = "&\\quad " + "\\left. " * opened if begin else ""
        pieces.append(prefix + row[begin:end] + " \\right." * closing)
    pieces.append(("&\\quad " + "\\left. " * open_lefts if start else "") + row[start:])
    return pieces


def _top_level_breaks(row: str) -> list[tuple[int, int]]:
    """``(position, open \\left count)`` of every `` + `` / `` - `` outside braces: the
    braces and ``\\left``/``\\right`` between two signs counted by ``str.count`` (none of
    them can contain a sign or straddle one), not token by token."""
    breaks, braces, lefts, last = [], 0, 0, 0
    for match in _SIGN.finditer(row):
        position = match.start()
        between = row[last:position]
        braces += between.count("{") - between.count("}")
        lefts += between.count("\\left") - between.count("\\right")
        if braces == 0:
            breaks.append((position, lefts))
        last = position
    return breaks


_SIGN = re.compile(r" [+-] ")
