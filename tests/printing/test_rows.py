"""Equations as rows: chains, long rows broken at their outermost signs, display bodies."""
from __future__ import annotations

import re

from symprop.printing.rows import (
    CONTINUATION, break_long_row, chain_rows, chains_on_one_line, in_columns, math_lines, matrix_rows, sides, tag_as_column, visible_width,
    widths_at, without_alignment,
)


def test_chains_drop_repeats_and_empty_sides():
    assert chain_rows(["a", "a", "", "b"]) == ["a = b"]
    assert chain_rows(["a", "b", "c"]) == ["a &= b", "&= c"]


def test_visible_width_counts_what_prints():
    assert visible_width(r"\left(a + b\right)") == 5  # ( a + b ): \left and \right print nothing themselves
    assert visible_width(r"\frac{\partial E}{\partial w_{5}}") == 7
    assert visible_width(r"\leftarrow x") == 2  # a command that only starts like \left
    assert visible_width("a & b") == 2


def test_widths_at_agree_with_the_width_of_every_prefix_at_a_token_boundary():
    tex = r"\frac{\partial L}{\partial w} &= \left(a^{(2)} - y\right) \sigma'\left(z\right) + \left. \dots"
    boundaries = {0, len(tex)} | {m.start() for m in re.finditer(r"\\|\s|[{}&()+^_]", tex)}
    widths = widths_at(tex, boundaries)
    for i in boundaries:
        assert widths[i] == visible_width(tex[:i]), tex[:i]
    assert visible_width(r"\left. x \right.") == 1 and visible_width(r"\\\left(") == 3


def test_long_rows_break_before_outermost_signs():
    row = r"L &= \left(a + b\right) + c + d"
    assert break_long_row(row, limit=100) == [row]
    assert break_long_row(row, limit=10) == [r"L &= \left(a + b\right) + c", r"&\hphantom{{}={}} {} + d"]
    assert break_long_row(r"x &= \left(a + b + c\right) y", limit=8) == [
        r"x &= \left(a + b \right.", r"&\hphantom{{}={}} \left. {} + c\right) y",
    ]


def test_a_very_long_sum_breaks_into_rows_that_each_fit():
    row = "L &= " + " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(5000))
    pieces = break_long_row(row, limit=120)
    assert len(pieces) > 100
    assert all(visible_width(p.removeprefix(CONTINUATION + "{} ")) <= 120 for p in pieces)
    assert all(p.startswith(CONTINUATION + "{} + w_") for p in pieces[1:])
    assert sum(p.count("w_") for p in pieces) == 5000


def test_row_breaks_inside_a_row_end_their_line():
    body = math_lines(r"y = \begin{cases} x & x > 0 \\-x & \text{otherwise} \end{cases}")
    assert body.split("\n") == [r"y = \begin{cases} x & x > 0 \\", r"{}-x & \text{otherwise} \end{cases}"]


def test_a_row_break_before_a_command_keeps_the_command_whole():
    body = math_lines(r"y = \begin{cases} z & z > 0 \\\frac{z}{100} & \text{otherwise} \end{cases}")
    assert body.split("\n") == [r"y = \begin{cases} z & z > 0 \\", r"\frac{z}{100} & \text{otherwise} \end{cases}"]
    assert math_lines(r"a \, b") == r"a \, b"  # a lone backslash is a command, not a row break


def test_an_escaped_ampersand_is_not_an_alignment_point():
    from symprop.printing.rows import without_alignment

    assert without_alignment(r"\mathrm{g\&h} &= 3") == r"\mathrm{g\&h} = 3"
    assert without_alignment(r"a \\&= b") == r"a \\= b"
    assert math_lines([r"\mathrm{g\&h} = 1", "x = 2"]).splitlines()[1] == r"\mathrm{g\&h} &= 1 \\"


def test_widths_at_measure_a_row_holding_a_nul_segment_by_segment():
    tex = "\\frac{a}{b} + \\left( x \\right) + c\x00d + e"
    cuts = [0, 12, 13, len(tex)]
    assert widths_at(tex, cuts) == {c: visible_width(tex[:c]) for c in cuts}


def test_a_tag_becomes_a_label_column_in_aligned_rows_and_stays_a_tag_alone():
    assert tag_as_column(r"a &= b \tag{BP1}") == r"a &= b && \text{(BP1)}"
    assert math_lines([r"a = b \tag{BP1}", r"c = d \tag{BP2}"]) == (
        "\\begin{aligned}\na &= b && \\text{(BP1)} \\\\\nc &= d && \\text{(BP2)}\n\\end{aligned}"
    )
    assert math_lines(r"a = b \tag{BP1}") == r"a = b \tag{BP1}"


def test_removing_the_alignment_keeps_the_columns_of_cases():
    row = r"\frac{\partial L}{\partial x} &= \begin{cases} y & \text{for}\: x > 0 \\ 0 & \text{otherwise} \end{cases}"
    assert without_alignment(row) == (
        r"\frac{\partial L}{\partial x} = \begin{cases} y & \text{for}\: x > 0 \\ 0 & \text{otherwise} \end{cases}"
    )


def test_a_long_row_breaks_outside_plain_parentheses_first():
    row = "L &= (a_{1} + a_{2} + a_{3}) + (b_{1} + b_{2} + b_{3})"
    assert break_long_row(row, limit=20) == [
        "L &= (a_{1} + a_{2} + a_{3})", CONTINUATION + "{} + (b_{1} + b_{2} + b_{3})",
    ]


def test_short_chains_are_set_on_one_line_for_the_page():
    rows = [r"\frac{\partial a}{\partial b} &= c", "&= 0.5 - 0.1", "&= 0.4", r"d &= e", "&= 1"]
    assert chains_on_one_line(rows) == [r"\frac{\partial a}{\partial b} &= c = 0.5 - 0.1 = 0.4", "d &= e = 1"]
    long = ["x &= " + " + ".join(["y"] * 60), "&= 1"]
    assert chains_on_one_line(long) == long
    tagged = [r"a &= b", r"&= c \tag{BP1}"]
    assert chains_on_one_line(tagged) == tagged
    assert chains_on_one_line(["x &= " + " + ".join(["y"] * 10), "&= 1"], limit=50) == ["x &= " + " + ".join(["y"] * 10), "&= 1"]


def test_a_row_that_is_one_equation_has_two_sides():
    assert sides(r"\frac{a}{b} &= c = 2") == (r"\frac{a}{b}", "= c = 2")
    assert sides("x = y") == ("x", "= y")
    assert sides(r"L = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}")[0] == "L"
    assert sides("&= 3") is None and sides(r"a &= b \tag{BP1}") is None and sides("a &= b & c &= d") is None
    assert sides(r"\sigma'(z)") is None


def test_short_equations_stand_side_by_side_as_many_as_fit():
    rows = [r"\frac{\partial L}{\partial a} = z - t = 0.29", r"\frac{\partial a}{\partial w} &= z = 0.15"]
    assert in_columns(rows) == [r"\frac{\partial L}{\partial a} &= z - t = 0.29 & \frac{\partial a}{\partial w} &= z = 0.15"]
    four = ["a &= 1", "b &= 2", "c &= 3", "d &= 4"]
    assert in_columns(four) == ["a &= 1 & b &= 2 & c &= 3", "d &= 4"]  # at most three a line, read along it
    assert in_columns(four, limit=80) == ["a &= 1 & b &= 2", "c &= 3 & d &= 4"]
    assert in_columns(four, limit=20) is None
    assert in_columns(["a &= 1", "&= 2"]) is None and in_columns(["a &= 1"]) is None


def test_a_matrix_wider_than_the_line_continues_on_rows_of_its_columns():
    entries = [[f"0.{k}{k}{k}{k}{k}{k}{k}{k}{sign}" for k in range(1, 7)] for sign in ("1", "2")]
    body = r" \\ ".join(" & ".join(line) for line in entries)
    row = rf"W &= \begin{{bmatrix}} {body} \end{{bmatrix}}"
    assert matrix_rows(row) == [row]
    pieces = matrix_rows(row, limit=250)
    assert len(pieces) == 2 and pieces[0].startswith(r"W &= \left[\begin{matrix} 0.111111111 & 0.222222221")
    assert pieces[0].endswith(r"\end{matrix}\right.") and pieces[1].endswith(r"\end{matrix}\right]")
    assert pieces[1].startswith(CONTINUATION + r"\left.\begin{matrix} 0.444444441")
    # every entry once, in its place: the first row of each piece, then the second
    found = [e for p in pieces for e in re.findall(r"0\.\d+", p)]
    assert sorted(found) == sorted(e for line in entries for e in line)


def _breaks_token_by_token(row):
    """The reference for ``_top_level_breaks``: every token read in turn."""
    breaks, braces, lefts = [], 0, 0
    for match in re.finditer(r"\\left|\\right|[{}]| [+-] ", row):
        token = match.group()
        if token in "{}":
            braces += 1 if token == "{" else -1
        elif token in ("\\left", "\\right"):
            lefts += 1 if token == "\\left" else -1
        elif braces == 0:
            breaks.append((match.start(), lefts))
    return breaks


def _split_backslash_by_backslash(line):
    """The reference for ``split_after_row_breaks``: every run of backslashes read in turn."""
    pieces, start = [], 0
    for run in re.finditer(r"\\+", line):
        cut = run.start() + 2 * (len(run.group()) // 2)
        if cut > run.start() and line[cut:].strip():
            pieces.append(line[start:cut])
            start = cut
    return [*pieces, line[start:]]


def test_the_quick_paths_of_row_breaking_agree_with_reading_token_by_token():
    import random

    from symprop.printing.rows import _top_level_breaks, split_after_row_breaks

    rng = random.Random(7)
    alphabet = ["\\", "\\\\", "{", "}", " + ", " - ", "\\left(", "\\right)", "\\leftarrow", "x", " ", "+", "-", "\\frac"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert _top_level_breaks(text) == _breaks_token_by_token(text), text
        for line in (text, text + " \\\\", text + "\\\\\\", text + " \\\\  "):
            assert split_after_row_breaks(line) == _split_backslash_by_backslash(line), line


def test_a_row_of_steps_counts_the_left_sides_column_it_stands_right_of():
    from symprop.printing.widths import row_width

    lhs, steps = r"\frac{\partial L}{\partial w^{(1)}_{22}}", ["a_{1} + b_{1}", "0.123456789 + 0.987654321", "1.11111111"]
    second = row_width("= " + " = ".join(steps[1:]))
    tight = chains_on_one_line([f"{lhs} &= {steps[0]}", *(f"&= {s}" for s in steps[1:])], limit=second + 1)
    assert tight == [f"{lhs} &= {steps[0]}", f"&= {steps[1]}", f"&= {steps[2]}"]  # the steps' row would not fit
    limit = second + row_width(lhs) + 1
    roomy = chains_on_one_line(tight, limit=limit)
    assert len(roomy) == 2 and roomy[0].startswith(f"{lhs} &= {steps[0]}")
    assert all(row_width(r) + (row_width(lhs) if r.startswith("&") else 0) <= limit for r in roomy)
