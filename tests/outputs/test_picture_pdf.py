"""The picture in the PDF: on the first page, inside the page and the text width (no
overfull box from it), and no word printed over another (``pdftotext -bbox``), for every
built-in example in both languages and for graphs too large to draw as they are."""
from __future__ import annotations

import itertools
import os
import re
import subprocess

import pytest

from symprop.outputs import export
from tests.pictures import EXAMPLES, solution

pytestmark = pytest.mark.skipif(
    not export.tex_available() and not os.environ.get("CI"), reason="TeX is not installed (CI always has it)"
)


def compiled(tmp_path, tex: str):
    """The PDF's path and the LaTeX log of ``tex``, built as the PDF export builds it."""
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run([*export.LATEXMK, "doc.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=240,
                         env=export.reproducible_environment())
    assert run.returncode == 0, run.stdout[-2000:]
    return tmp_path / "doc.pdf", (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")


def first_page_words(pdf):
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    width, height = map(float, re.search(r'<page width="([\d.]+)" height="([\d.]+)"', out).groups())
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]
    return (width, height), words


def _delimiter_piece(word) -> bool:
    """A piece of a tall bracket (TeX stacks them by design; pdftotext reads them as private-use characters)."""
    return all("\ue000" <= c <= "\uf8ff" for c in word[4])


def overlapping_words(words, tolerance: float = 0.3):
    """Pairs of words whose boxes overlap by more than ``tolerance`` points both ways."""
    words = [w for w in words if not _delimiter_piece(w)]
    return [(a[4], b[4]) for a, b in itertools.combinations(words, 2)
            if min(a[2], b[2]) - max(a[0], b[0]) > tolerance and min(a[3], b[3]) - max(a[1], b[1]) > tolerance]


def picture_overfull(tex: str, log: str) -> list[str]:
    """The overfull boxes of more than 1 pt the log reports in the lines of the picture."""
    lines = tex.split("\n")
    start = next(k for k, line in enumerate(lines, 1) if line.startswith(r"\begin{tikzpicture}"))
    end = next(k for k, line in enumerate(lines, 1) if line.startswith(r"\end{tikzpicture}") and k > start)
    found = []
    for amount, first, last in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\).*?lines (\d+)--(\d+)", log):
        if float(amount) > 1 and int(first) <= end + 2 and int(last) >= start - 2:
            found.append(f"{amount}pt at lines {first}--{last}")
    return found


def check_first_page(tmp_path, tex: str, names) -> None:
    pdf, log = compiled(tmp_path, tex)
    assert picture_overfull(tex, log) == []
    (width, height), words = first_page_words(pdf)
    assert overlapping_words(words) == []
    assert all(0 <= w[0] and w[2] <= width and 0 <= w[1] and w[3] <= height for w in words)
    # the picture is on the first page, not pushed to the next one
    assert r"\begin{tikzpicture}" in tex and len(words) > 25
    assert any(w[4] in names for w in words)


# every example in English, and Korean (kotex's fonts, the Korean legend) for Mazur's: each PDF takes seconds
@pytest.mark.parametrize("name, lang", [*((name, "en") for name in EXAMPLES), ("mazur", "ko")])
def test_the_first_page_has_the_picture_and_no_word_over_another(tmp_path, name, lang):
    from symprop.outputs.render import render_latex

    s = solution(name)
    values = {f"{v:g}" for v in (*s.example.values.values(),) if isinstance(v, (int, float))}
    check_first_page(tmp_path, render_latex(s.derivation, s.example, lang=lang), values | {"0.05", "0.8", "−2"})


@pytest.mark.parametrize("which", ["CONV", "RNN"])
def test_a_graph_too_large_to_draw_as_it_is_fits_the_first_page(tmp_path, which):
    from symprop.files import spec
    from symprop.outputs.pipeline import solve
    from symprop.outputs.render import render_latex
    from tests import spec_pictures

    s = solve(spec.loads(getattr(spec_pictures, which)))
    check_first_page(tmp_path, render_latex(s.derivation, s.example), {"0.1", "0.2"})


@pytest.mark.parametrize("name", ["4x6", "8x4"])
def test_a_deep_networks_picture_by_layer_fits_the_first_page(tmp_path, name):
    from symprop.outputs.render import render_latex
    from tests.pictures import solved_file
    from tests.spec_pictures import DEEP

    s = solved_file(DEEP[name])
    check_first_page(tmp_path, render_latex(s.derivation, s.example), {"dense", "inputs"})


def test_the_picture_shrinks_to_a_text_width_narrower_than_the_layouts(tmp_path):
    """The layout fits :data:`~symprop.document.picture_layout.MAX_WIDTH`; TikZ shrinks it
    further to ``\\linewidth``, so a page with wider margins (a user's template, a Korean
    page) sets 3Blue1Brown's 14 cm picture with no overfull box."""
    from symprop.outputs.render import render_latex

    s = solution("3b1b")
    tex = render_latex(s.derivation, s.example, lang="ko")
    narrow = re.sub(r"margin=[\d.]+cm", "margin=4.5cm", tex, count=1)
    assert narrow != tex
    pdf, log = compiled(tmp_path, narrow)
    assert picture_overfull(narrow, log) == []
