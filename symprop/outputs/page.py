r"""The printed page of the LaTeX writer: what it sets more compactly than a screen, with
every row and every number kept.

* Consecutive displays of one equation each (``Each factor:`` and its two factors) are set
  side by side when they fit on a line (:func:`side_by_side`), and so are the rows of one
  display that are each an equation (:func:`display`).
* A long, narrow table (the worked example's values) is set as column groups side by side,
  read down each group, then across (:func:`table_groups`).
* A table too wide for the line wraps its widest column of words (:func:`table_columns`).

Widths are estimated in points (:mod:`symprop.printing.widths`) against the paper's text width."""
from __future__ import annotations

import dataclasses

from symprop.document.model import Document, Equation, Math, Mark, Section, Table
from symprop.printing import widths
from symprop.printing.rows import chains_on_one_line, in_columns, matrix_rows, page_width, without_alignment


def display(rows, paper: str) -> str:
    r"""``\[ ... \]`` for one equation, ``align*`` for aligned rows: each chain that fits set
    on one line, and equations side by side when they fit (two on one line joined by a
    ``\qquad``)."""
    limit = page_width(paper)
    rows = [r for r in ([rows] if isinstance(rows, str) else rows) if r.strip()]
    rows = chains_on_one_line([piece for r in rows for piece in matrix_rows(r, limit)], limit)
    if not rows:
        return ""  # an empty align* is a LaTeX error
    packed = in_columns(rows, limit)
    if packed is not None and len(packed) == 1:
        return "\\[\n" + " \\qquad ".join(without_alignment(r).strip() for r in rows) + "\n\\]"
    rows = packed or rows
    if len(rows) == 1:
        return "\\[\n" + without_alignment(rows[0]).strip() + "\n\\]"
    return "\\begin{align*}\n" + " \\\\\n".join(r.strip() for r in rows) + "\n\\end{align*}"


def for_the_page(document: Document) -> Document:
    """``document`` with each section's runs of displays merged where they fit side by side."""
    limit = page_width(document.paper)
    sections = tuple(dataclasses.replace(s, blocks=side_by_side(s.blocks, limit)) for s in document.sections)
    return dataclasses.replace(document, sections=sections)


def side_by_side(blocks, limit: float) -> tuple:
    """``blocks`` with each run of two or more consecutive equations whose rows are all set
    side by side in ``limit`` points (:func:`~symprop.printing.rows.in_columns`) made one
    equation of all their rows; a run that does not fit stays as it was."""
    out, run = [], []

    def flush():
        rows = [r for b in run for r in chains_on_one_line(b.rows, limit)]
        if len(run) > 1 and in_columns(rows, limit) is not None:
            out.append(Equation(tuple(r for b in run for r in b.rows)))
        else:
            out.extend(run)
        run.clear()

    for block in blocks:
        if isinstance(block, Equation):
            run.append(block)
            continue
        flush()
        out.append(block)
    flush()
    return tuple(out)


#: A table of more rows than this may be set as column groups side by side.
LONG_TABLE = 8
_PADDING = 12.0  # \tabcolsep on either side of a cell
_GROUP_GAP = 20.0


def cell_width(cell) -> float:
    """About how many points a table cell is wide (its padding excluded)."""
    if isinstance(cell, Math):
        return widths.row_width(cell.tex) * 0.98  # in-line math: a little narrower than displayed
    if isinstance(cell, Mark):
        return 8.0
    return widths.text_width(str(cell))


def _column_widths(table: Table, header: list[str]) -> list[float]:
    return [max([cell_width(r[k]) for r in table.rows if k < len(r)] + [widths.text_width(header[k])])
            for k in range(len(header))]


def table_groups(table: Table, header: list[str], paper: str) -> int:
    """How many column groups a long table is set in: as many as fit on the line (at most 3)
    while each keeps more than half of :data:`LONG_TABLE` rows; 1 for a short or wide table.
    ``header``: the column titles as printed."""
    if len(table.rows) <= LONG_TABLE:
        return 1
    group = sum(_column_widths(table, header)) + _PADDING * len(header)
    fits = int((widths.TEXT_WIDTH[paper] * widths.MARGIN + _GROUP_GAP) // (group + _GROUP_GAP))
    return max(1, min(3, fits, len(table.rows) // (LONG_TABLE // 2 + 1)))


def grouped_rows(table: Table, groups: int) -> list[list]:
    """The lines of a table set in ``groups`` column groups: line ``i`` holds rows ``i``,
    ``i + h``, ... (``h`` lines in all), a group without a row left empty (None cells)."""
    height = -(-len(table.rows) // groups)
    width = len(table.header)
    lines = []
    for i in range(height):
        cells = []
        for g in range(groups):
            at = g * height + i
            cells += list(table.rows[at]) if at < len(table.rows) else [None] * width
        lines.append(cells)
    return lines


#: A column of words that may wrap: its cells ragged right in a paragraph of the width given.
WRAPPED = r">{\raggedright\arraybackslash}p{%.0fpt}"


def column_spec(table: Table, header: list[str], groups: int, paper: str) -> str:
    r"""The tabular's column specification: ``table.align`` once per group (a 2 em gap
    between groups); a one-group table too wide for the line has its widest left-aligned
    column wrap (:data:`WRAPPED`) in the width the other columns leave."""
    if groups > 1:
        return "@{\\hspace{2em}}".join([table.align] * groups)
    columns = _column_widths(table, header)
    available = widths.TEXT_WIDTH[paper] * widths.MARGIN - _PADDING * len(columns)
    if sum(columns) <= available:
        return table.align
    widest = max((k for k, a in enumerate(table.align) if a == "l"), key=lambda k: columns[k], default=None)
    rest = sum(columns) - columns[widest] if widest is not None else sum(columns)
    if widest is None or available - rest < 60:
        return table.align
    spec = list(table.align)
    spec[widest] = WRAPPED % (available - rest)
    return "".join(spec)


@dataclasses.dataclass(frozen=True)
class PageTable:
    """A table as the page sets it: its column specification, its header (once per group) and its lines."""

    spec: str
    header: tuple
    lines: list


def page_table(table: Table, header: list[str], paper: str) -> PageTable:
    """``table`` laid out for ``paper`` (``header``: its column titles as printed)."""
    groups = table_groups(table, header, paper)
    return PageTable(column_spec(table, header, groups, paper), table.header * groups, grouped_rows(table, groups))
