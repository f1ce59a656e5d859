"""The printed page: equations side by side, tables in column groups, a wide column wrapped;
and for every built-in document, the page keeps every number and every step of every display."""
from __future__ import annotations

import collections
import re

import pytest

from symprop.document.model import Document, Equation, Math, Paragraph, Prose, Section, Table
from symprop.outputs import page
from symprop.printing.rows import CONTINUATION
from tests.pictures import EXAMPLES, LANGUAGES, solution

_NUMBER = re.compile(r"(?<![\w{])-?\d+(?:\.\d+)?")


def content(tex: str) -> collections.Counter:
    """What a display says, whatever its layout: its numbers, its relations and its fractions."""
    tex = tex.replace(CONTINUATION, "")  # the invisible = that indents a continued row
    return collections.Counter(_NUMBER.findall(tex)) + collections.Counter(re.findall(r"=|\\frac", tex))


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_keeps_every_number_and_step_of_every_display(name, lang):
    from symprop.document.options import document_options
    from symprop.outputs.render import document_of

    s = solution(name)
    document = document_of(s.derivation, s.example, document_options(lang=lang))
    paged = page.for_the_page(document)
    before = [b for b in document.blocks if isinstance(b, Equation)]
    after = [b for b in paged.blocks if isinstance(b, Equation)]
    assert len(after) <= len(before)
    assert sum((content("\n".join(b.rows)) for b in before), collections.Counter()) == sum(
        (content(page.display(b.rows, paged.paper)) for b in after), collections.Counter())


def test_two_short_displays_in_a_row_stand_on_one_line():
    blocks = (Paragraph(Prose("each_factor")), Equation((r"\frac{\partial L}{\partial a} = z - t = 0.29",)),
              Equation((r"\frac{\partial a}{\partial w} = x = 0.15",)), Paragraph(Prose("x")))
    merged = page.side_by_side(blocks, page.page_width("letter"))
    assert [b.kind for b in merged] == ["paragraph", "equation", "paragraph"]
    assert page.display(merged[1].rows, "letter") == (
        "\\[\n\\frac{\\partial L}{\\partial a} = z - t = 0.29 \\qquad \\frac{\\partial a}{\\partial w} = x = 0.15\n\\]")
    wide = Equation(("x = " + " + ".join(["y_{1}"] * 40),))
    assert page.side_by_side((blocks[1], wide), page.page_width("letter")) == (blocks[1], wide)


def test_a_long_narrow_table_is_set_in_column_groups_read_down_each():
    rows = tuple((Math(f"w_{{{k}}}"), Math(f"0.{k}")) for k in range(1, 24))
    table = Table((Prose("col_symbol"), Prose("col_value")), "lr", rows)
    laid = page.page_table(table, ["Symbol", "Value"], "letter")
    assert laid.spec == "lr@{\\hspace{2em}}lr@{\\hspace{2em}}lr" and len(laid.header) == 6
    assert [line[0].tex for line in laid.lines] == [f"w_{{{k}}}" for k in range(1, 9)]  # 23 rows: 8, 8 and 7
    assert laid.lines[0][2].tex == "w_{9}" and laid.lines[7][4] is None and laid.lines[6][4].tex == "w_{23}"
    assert sorted(c.tex for line in laid.lines for c in line[::2] if c) == sorted(r[0].tex for r in rows)
    fourteen = page.page_table(Table(table.header, "lr", rows[:14]), ["Symbol", "Value"], "letter")
    assert fourteen.spec == "lr@{\\hspace{2em}}lr" and len(fourteen.lines) == 7  # groups of more than 4 rows
    short = Table(table.header, "lr", rows[:6])
    assert page.page_table(short, ["Symbol", "Value"], "letter").spec == "lr"


def test_a_table_wider_than_the_line_wraps_its_widest_column_of_words():
    words = "epsilon 1e-05, groups each row of features, shape (3,) and a good many more words than fit"
    table = Table(tuple(Prose(k) for k in "abc"), "rll", ((Math("1"), words, "gamma1: 3, beta1: 3"),))
    spec = page.column_spec(table, ["Layer", "Settings", "Parameters"], 1, "a4")
    assert spec.startswith("r>{\\raggedright\\arraybackslash}p{") and spec.endswith("pt}l")
    width = float(re.search(r"p\{(\d+)pt\}", spec).group(1))
    assert 200 < width < 440


def test_the_paper_sets_the_width_a_chain_may_fill():
    from symprop.printing.widths import row_width

    assert page.page_width("a4") < page.page_width("letter")
    steps = next(s for s in ([f"x_{{{k}}}" for k in range(n)] for n in range(10, 80))
                 if page.page_width("a4") < row_width("y = " + " = ".join(s)) < page.page_width("letter"))
    rows = ["y &= " + steps[0], *(f"&= {s}" for s in steps[1:])]
    assert page.display(rows, "letter") == "\\[\ny = " + " = ".join(steps) + "\n\\]"
    assert page.display(rows, "a4").startswith("\\begin{align*}")
    document = Document("t", "en", (Section("s", (Equation(tuple(rows)),)),), paper="a4")
    assert page.for_the_page(document).blocks == document.blocks
