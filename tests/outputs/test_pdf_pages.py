"""The PDF of every built-in example, in English (Letter) and Korean (A4), and with the other
paper for the widest and the longest ones: no overfull box of more than 1 pt in its LaTeX log,
and Mazur's, Nielsen's and the softmax document in at most 9, 15 and 15 pages. Each document
is compiled once (two at a time) and its log and page count serve every assertion."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from symprop.outputs import export
from tests.pictures import EXAMPLES, LANGUAGES, solution

pytestmark = pytest.mark.skipif(
    not export.tex_available() and not os.environ.get("CI"), reason="TeX is not installed (CI always has it)"
)

#: The most pages each long document may take, on either paper.
MOST_PAGES = {"mazur": 9, "nielsen": 15, "softmax": 15}
#: The documents set on the other paper too: the widest tables and matrices on A4 (the narrower
#: text), the longest documents on Letter (the shorter page).
OTHER_PAPER = [("cnn", "en", "a4"), ("layernorm", "en", "a4"), ("softmax", "ko", "letter")]
BUILDS = [*((name, lang, None) for name in EXAMPLES for lang in LANGUAGES), *OTHER_PAPER]


def build(name: str, lang: str, paper: str | None) -> tuple[int, str]:
    """The page count and the LaTeX log of ``name``'s PDF, built as the PDF export builds it."""
    from symprop.outputs.render import render_latex

    s = solution(name)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "doc.tex").write_text(render_latex(s.derivation, s.example, lang=lang, paper=paper),
                                              encoding="utf-8")
        run = subprocess.run([*export.LATEXMK, "doc.tex"], cwd=folder, capture_output=True, text=True, timeout=300,
                             env=export.reproducible_environment())
        assert run.returncode == 0, run.stdout[-2000:]
        info = subprocess.run(["pdfinfo", "doc.pdf"], cwd=folder, capture_output=True, text=True, check=True).stdout
        log = (Path(folder) / "doc.log").read_text(encoding="utf-8", errors="replace")
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)), log


@pytest.fixture(scope="module")
def builds():
    for name in {name for name, _, _ in BUILDS}:
        solution(name)  # solved here, once: the threads below only render and compile
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(BUILDS, pool.map(lambda b: build(*b), BUILDS)))


def overfull(log: str, tolerance: float = 1.0) -> list[str]:
    """Every overfull box wider than ``tolerance`` points that ``log`` reports, with where."""
    found = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\) ([^\n]*)", log)
    return [f"{amount}pt {where}" for amount, where in found if float(amount) > tolerance]


def test_overfull_reads_the_logs_lines():
    log = ("Overfull \\hbox (7.6pt too wide) in paragraph at lines 32--41\n"
           "Overfull \\hbox (0.4pt too wide) detected at line 9\n")
    assert overfull(log) == ["7.6pt in paragraph at lines 32--41"]


@pytest.mark.parametrize("name, lang, paper", BUILDS)
def test_no_box_is_wider_than_the_text(builds, name, lang, paper):
    assert overfull(builds[name, lang, paper][1]) == []


@pytest.mark.parametrize("name, lang, paper", [b for b in BUILDS if b[0] in MOST_PAGES])
def test_the_long_documents_fit_their_pages(builds, name, lang, paper):
    assert builds[name, lang, paper][0] <= MOST_PAGES[name]
