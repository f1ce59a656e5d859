r"""Laying out equations as rows: a chain ``lhs = a = b`` as aligned rows, a row too
long for a line broken before a top-level sign, and the body of display math that
Markdown cannot misread."""
from __future__ import annotations

import itertools
import re

from symprop.printing import widths


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
        lines = [tag_as_column(line) for line in lines]
        lines = [r"\begin{aligned}", *(line + r" \\" for line in lines[:-1]), lines[-1], r"\end{aligned}"]
    # A row break inside a row (``cases``, ``matrix``) ends its line too.
    lines = [part.strip() for line in lines for part in split_after_row_breaks(line)]
    return "\n".join("{}" + line if _UNSAFE_LINE_START.match(line) else line for line in lines)


_BACKSLASHES = re.compile(r"\\+")
#: An alignment point ``&``: not ``\&`` (an ampersand a name prints), but after ``\\`` it is one.
ALIGNMENT = re.compile(r"(?<!\\)((?:\\\\)*)&")


def without_alignment(row: str) -> str:
    r"""``row`` with its alignment points removed, its ``\&`` kept, and the column
    separators of an environment inside it (``\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise}
    \end{cases}``) kept too: they belong to the environment, not to the row."""
    out, position = [], 0
    for environment in _ENVIRONMENT.finditer(row):
        out += [ALIGNMENT.sub(r"\1", row[position:environment.start()]), environment.group()]
        position = environment.end()
    return "".join([*out, ALIGNMENT.sub(r"\1", row[position:])])


#: An environment with no environment inside it (``cases``, ``matrix``), whole.
_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_TAG = re.compile(r"\s*\\tag\{([^{}]*)\}\s*$")


def tag_as_column(row: str) -> str:
    r"""An aligned row's equation tag ``\tag{BP1}`` as a label in a column of its own
    (``&& \text{(BP1)}``): KaTeX sets one tag per display and MathJax none inside
    ``aligned``, but both line the labels of such a column up. LaTeX's ``align*`` keeps the
    real tags (:func:`symprop.outputs.render`'s LaTeX writer does not call this)."""
    if "\\tag" not in row:  # most rows: no search at all
        return row
    return _TAG.sub(lambda m: rf" && \text{{({m.group(1)})}}", row)


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
    if len(row) <= limit or visible_width(row) <= limit:  # most rows: measured for free, or in three C passes
        return [row]
    end = len(row)
    breaks = _top_level_breaks(row)
    ranks = nesting_ranks(row, breaks)
    # a break stands at the space before its sign: both sides of that space are token boundaries
    widths = widths_at(row, [0, end, *(b for b, _ in breaks), *(b + 1 for b, _ in breaks)])
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
        position, depth = min(window, key=lambda b: (ranks[b[0]], -b[0]))
        rows.append((start, position, open_lefts, depth))
        start, open_lefts = position + 1, depth
    pieces = []
    for begin, end, opened, closing in rows:
        prefix = continuation(opened) if begin else ""
        pieces.append(prefix + row[begin:end] + " \\right." * closing)
    pieces.append((continuation(open_lefts) if start else "") + row[start:])
    return pieces


#: The start of a continuation row: an invisible ``=`` after the alignment point, so that
#: its sign stands under the first term of the row it continues (a new step starts ``&=``).
CONTINUATION = r"&\hphantom{{}={}} "


def continuation(open_lefts: int) -> str:
    r"""The prefix of a continuation row: :data:`CONTINUATION`, then one ``\left.`` per
    sized delimiter still open, and an empty group, so that the sign that follows is a
    binary operator (spaced as in the row it continues), not a unary one."""
    return CONTINUATION + "\\left. " * open_lefts + "{} "


def nesting_ranks(row: str, breaks) -> dict[int, int]:
    """position -> how deep each break of ``breaks`` lies: its open ``\\left`` count plus
    the plain parentheses open there (``(a + b)`` is plain since the printer keeps
    ``\\left`` for tall content), so a long row breaks where its sum is outermost. The
    parentheses between two breaks are counted by ``str.count``, not one by one."""
    ranks, depth, last = {}, 0, 0
    for position, lefts in breaks:
        between = row[last:position]
        depth += between.count("(") - between.count(")")
        ranks[position] = lefts + max(depth, 0)
        last = position
    return ranks


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


#: The width (points) a row of the page may fill: the narrower paper's text width, less the
#: estimate's margin (:mod:`symprop.printing.widths`).
PAGE_WIDTH = widths.MARGIN * widths.TEXT_WIDTH["a4"]


def page_width(paper: str) -> float:
    """The width (points) a display row may fill on ``paper`` (``a4`` or ``letter``)."""
    return widths.MARGIN * widths.TEXT_WIDTH[paper]


def chains_on_one_line(rows, limit: float = PAGE_WIDTH) -> list[str]:
    r"""Aligned rows with the steps of each chain (a row ``lhs &= a``, then its steps ``&= b``)
    set on as few rows as fit in ``limit`` points: a chain that fits becomes one row
    ``lhs &= a = b``, a longer one fills each row with the steps that follow while they fit.
    A sum broken over continuation rows is first joined again where it fits (see
    :func:`rejoined`); a chain with a tag or another alignment is kept as it was. For the
    page, where a column of short steps wastes lines; a screen keeps one step per row."""
    out = []
    for chain in _chains(rejoined(rows, limit)):
        simple = len(chain) > 1 and len(ALIGNMENT.findall(chain[0])) == 1 and not any(
            ALIGNMENT.search(step) or "\\tag" in step for step in chain[1:])
        if not simple:
            out += [chain[0], *(f"&= {step}" for step in chain[1:])]
            continue
        out += _fewest_rows(chain, limit)
    return out


def _fewest_rows(chain: list[str], limit: float) -> list[str]:
    """A chain's steps on as few rows as fit in ``limit`` points, the widest row as narrow as
    it can be among those (so a value is not left alone on the last row); a step too wide for
    a row has one of its own. Every way of cutting the chain is tried: a chain has few steps."""
    count = len(chain)
    # a row of steps stands right of the left side's column: it is as wide as that column and its steps
    left = widths.row_width(chain[0].split("&=", 1)[0])
    # a row's width is its steps' widths and the spaced "=" between them: each step measured once
    steps, equals = [widths.row_width(step) for step in chain], widths.row_width(" = ")
    width = {(i, j): sum(steps[i:j]) + (j - i - 1) * equals + (left + equals if i else 0.0)
             for i in range(count) for j in range(i + 1, count + 1)}
    best: dict[int, tuple[int, float, tuple]] = {0: (0, 0.0, ())}  # steps set -> (rows, widest, cuts)
    for end in range(1, count + 1):
        options = [(best[start][0] + 1, max(best[start][1], width[start, end]), best[start][2] + (end,))
                   for start in range(end) if width[start, end] <= limit or end - start == 1]
        best[end] = min(options)
    cuts = (0, *best[count][2])
    return [("" if a == 0 else "&= ") + " = ".join(chain[a:b]) for a, b in zip(cuts, cuts[1:])]


_CLOSED = re.compile(r"(?: \\right\.)+$")
_REOPENED = re.compile(r"^" + re.escape("&\\hphantom{{}={}} ") + r"((?:\\left\. )*)\{\} ")


def rejoined(rows, limit: float = PAGE_WIDTH) -> list[str]:
    r"""``rows`` with each continuation row (:func:`continuation`, made by :func:`break_long_row`)
    joined back to the row it continues when the two fit in ``limit`` points together: the
    ``\right.`` that closed the first and the ``\left.`` that reopened the second dropped."""
    rows = [rows] if isinstance(rows, str) else list(rows)
    out: list[str] = []
    left = 0.0  # the width of the left side's column, right of which a row of steps stands
    for row in rows:
        reopened = _REOPENED.match(row.strip())
        if not row.strip().startswith("&"):
            left = widths.row_width(row.split("&", 1)[0]) if "&" in row else 0.0
        if out and reopened:
            closed = _CLOSED.search(out[-1])
            closing = closed.group().count("\\right.") if closed else 0
            if closing == reopened.group(1).count("\\left."):
                joined = f"{out[-1][:closed.start()] if closed else out[-1]} {row.strip()[reopened.end():]}"
                if widths.row_width(joined) + (left if joined.lstrip().startswith("&") else 0.0) <= limit:
                    out[-1] = joined
                    continue
        out.append(row)
    return out


def _chains(rows) -> list[list[str]]:
    """``rows`` grouped into chains: a first row, then the right sides of its ``&= `` steps."""
    rows = [rows] if isinstance(rows, str) else list(rows)
    chains: list[list[str]] = []
    for row in rows:
        step = row.strip()
        if step.startswith("&= ") and chains:
            chains[-1].append(step[3:])
        else:
            chains.append([step])
    return chains


#: At most this many equations stand side by side on a line of the page.
MOST_COLUMNS = 3
#: The least space (points) between two equations side by side (2 em).
COLUMN_GAP = 20.0
_FIRST_RELATION = re.compile(r" &?= ")


def sides(row: str) -> tuple[str, str] | None:
    """``(lhs, "= rhs")`` of a row that is one equation (``lhs &= rhs`` or ``lhs = rhs``,
    at its first top-level ``=``), or None for a row that is not (a continuation, a step,
    a tag, a second alignment point, no ``=`` outside braces)."""
    row = row.strip()
    outside = _ENVIRONMENT.sub("", row)  # a matrix's or a case's own columns are not the row's
    points = ALIGNMENT.findall(outside)
    if row.startswith("&") or "\\tag" in row or len(points) > 1 or (points and "&=" not in outside):
        return None
    for match in _FIRST_RELATION.finditer(row):
        head = row[:match.start()]
        if head.count("{") == head.count("}") and "\\begin" not in head:
            return head, "= " + row[match.end():]
    return None


def in_columns(rows, limit: float = PAGE_WIDTH) -> list[str] | None:
    r"""Rows that are each one equation set side by side, as many to a line as fit in
    ``limit`` points (at most :data:`MOST_COLUMNS`; read along the line, then down): aligned
    rows ``lhs &= rhs & lhs &= rhs``, each column of equations aligned at its ``=``. Of the
    counts that fit, the one whose lines hold equations of one kind (:func:`_kind`: the
    units of one layer) is taken, else the largest. None when they are fewer than two, a
    row is not one equation (:func:`sides`) or two do not fit."""
    rows = [r for r in ([rows] if isinstance(rows, str) else rows) if r.strip()]
    pairs = [sides(r) for r in rows]
    if len(rows) < 2 or None in pairs:
        return None
    measured = [(widths.row_width(lhs), widths.row_width(rhs)) for lhs, rhs in pairs]
    fitting = [count for count in range(min(MOST_COLUMNS, len(rows)), 1, -1)
               if _needed(measured, count) <= limit]
    if not fitting:
        return None
    kinds = [_kind(lhs) for lhs, _ in pairs]
    count = max(fitting, key=lambda c: (_lines_of_one_kind(kinds, c), c))
    lines = [pairs[at:at + count] for at in range(0, len(pairs), count)]
    return [" & ".join(f"{lhs} &{rhs}" for lhs, rhs in line) for line in lines]


def _needed(measured, count: int) -> float:
    """The width (points) of ``count`` columns of equations: each column's widest sides, and the gaps."""
    columns = [measured[k::count] for k in range(count)]
    return sum(max(w for w, _ in c) + max(w for _, w in c) for c in columns) + COLUMN_GAP * (count - 1)


_INDICES = re.compile(r"_\{[^{}]*\}|_\w|\d")


def _kind(lhs: str) -> str:
    """What a left side names, its indices and numbers left out: ``a^{(1)}_{2}`` and ``a^{(2)}_{3}`` are one kind."""
    return _INDICES.sub("", lhs)


def _lines_of_one_kind(kinds, count: int) -> int:
    """How many of the lines of ``count`` equations hold equations of a single kind."""
    return sum(len(set(kinds[at:at + count])) == 1 for at in range(0, len(kinds), count))


_SIGN = re.compile(r" [+-] ")


_WHOLE_MATRIX = re.compile(r"^(?P<lhs>.*?&= )\\begin\{bmatrix\}(?P<body>.*)\\end\{bmatrix\}(?P<tail>\s*)$", re.S)


def matrix_rows(row: str, limit: float = PAGE_WIDTH) -> list[str]:
    r"""A row ``lhs &= \begin{bmatrix} ... \end{bmatrix}`` wider than ``limit`` points as
    rows of its columns, each as many as fit: the bracket opened on the first row
    (``\left[\begin{matrix} ... \end{matrix}\right.``), continued on the next ones
    (``\left.`` ... ``\right.``) and closed on the last, every entry kept in its place."""
    match = _WHOLE_MATRIX.match(row.strip())
    if not match or widths.row_width(row) <= limit or "\\begin" in match["body"]:
        return [row]
    cells = [[c.strip() for c in ALIGNMENT.split(line.strip())[::2]] for line in _MATRIX_ROW_BREAK.split(match["body"])]
    columns = max(len(line) for line in cells)
    cells = [line + [""] * (columns - len(line)) for line in cells]
    column_widths = [max(widths.row_width(line[k]) for line in cells) + 10.0 for k in range(columns)]
    room = limit - widths.row_width(match["lhs"]) - 8.0
    pieces, start, used = [], 0, 0.0
    for k, width in enumerate(column_widths):
        if used + width > room and k > start:
            pieces.append((start, k))
            start, used = k, 0.0
        used += width
    pieces.append((start, columns))
    if len(pieces) == 1:
        return [row]
    even = -(-columns // len(pieces))  # as many columns on each row, when they fit so
    balanced = [(k, min(k + even, columns)) for k in range(0, columns, even)]
    if len(balanced) == len(pieces) and all(sum(column_widths[a:b]) <= room for a, b in balanced):
        pieces = balanced
    out = []
    for number, (first, last) in enumerate(pieces):
        body = r" \\ ".join(" & ".join(line[first:last]) for line in cells)
        opening = r"\left[" if number == 0 else r"\left."
        closing = r"\right]" if number == len(pieces) - 1 else r"\right."
        head = match["lhs"] if number == 0 else CONTINUATION
        out.append(f"{head}{opening}\\begin{{matrix}} {body} \\end{{matrix}}{closing}")
    return out


_MATRIX_ROW_BREAK = re.compile(r"(?<!\\)\\\\(?!\\)")
