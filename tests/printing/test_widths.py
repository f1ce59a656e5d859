"""The width estimate of display rows against TeX's own boxes: every display row of four
built-in documents typeset in one LaTeX run, each box's width read back from the log."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from symprop.outputs import export
from symprop.printing import widths
from symprop.printing.rows import ALIGNMENT, CONTINUATION
from tests.pictures import solution

PREAMBLE = r"\documentclass[10pt]{article}\usepackage[T1]{fontenc}\usepackage{lmodern}\usepackage{amsmath,amssymb}"


def display_rows() -> list[str]:
    """Every display row of the documents of four built-in examples, alignment points and continuations removed."""
    from symprop.document.model import Equation
    from symprop.document.options import document_options
    from symprop.outputs.render import document_of

    rows = set()
    for name in ("mazur", "softmax", "3b1b", "layernorm"):
        s = solution(name)
        for block in document_of(s.derivation, s.example, document_options()).blocks:
            if isinstance(block, Equation):
                rows.update(r.replace(CONTINUATION, "").strip() for r in block.rows if "\\begin" not in r)
    return sorted(ALIGNMENT.sub(r"\1", r) for r in rows if r and "\\tag" not in r)


def tex_widths(tmp_path, rows) -> list[float]:
    body = "\n".join(rf"\setbox0\hbox{{$\displaystyle {r}$}}\typeout{{W:\the\wd0}}" for r in rows)
    (tmp_path / "w.tex").write_text(f"{PREAMBLE}\\begin{{document}}\n{body}\n\\end{{document}}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "w.tex"], cwd=tmp_path,
                   capture_output=True, timeout=120, check=True)
    return [float(w) for w in re.findall(r"^W:([\d.]+)pt", (tmp_path / "w.log").read_text(), re.M)]


@pytest.mark.skipif(not export.tex_available() and not os.environ.get("CI"), reason="TeX is not installed")
def test_the_estimate_is_within_the_margin_of_what_tex_sets(tmp_path):
    rows = display_rows()
    measured = tex_widths(tmp_path, rows)
    assert len(measured) == len(rows) > 300
    ratios = [(tex / widths.row_width(r), r) for r, tex in zip(rows, measured) if tex > 100]
    # never so short that a row estimated to fit (MARGIN of the line) would not
    assert max(ratios)[0] < 1 / widths.MARGIN, max(ratios)
    # and for the long rows that decide a line, not so wide that it wastes one
    assert min(ratio for (ratio, r), tex in zip(ratios, measured) if widths.row_width(r) > 250) > 0.85


def test_scripts_fractions_and_spacing_are_measured_as_tex_sets_them():
    assert widths.row_width("x_{1}") < widths.row_width("x1")  # a subscript is set at 7 pt
    assert widths.row_width("a^{(1)}_{2}") == widths.row_width("a^{(1)}")  # stacked scripts: the wider
    assert widths.row_width(r"\frac{abc}{d}") == pytest.approx(widths.row_width("abc") + 2.4)
    assert widths.row_width("a = b") > widths.row_width("a + b") > widths.row_width("ab") + 7.8
    assert widths.row_width("-1") < widths.row_width("0 - 1") - widths.row_width("0")  # unary minus: no space
    assert widths.row_width(r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}") == pytest.approx(2 * 5 + 20 + 8)
    assert widths.text_width("ab 한") == 5 + 5 + 3.3 + 10
