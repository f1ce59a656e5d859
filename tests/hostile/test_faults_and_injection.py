"""Hostile cases of faults and injection: kills mid-write, full disks, read-only folders,
pipes and devices, awkward paths, and names that try to inject TeX, Markdown or HTML
through every source (Graph symbols, nn.Dense unit names, nn.mlp inputs, titles, files)
and every format and flavor. Each case is derived, or refused in one line with exit 2.
"""
from __future__ import annotations

import errno
import functools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from symprop import Graph, derive, nn
from symprop.cli import main
from symprop.outputs import export, render
from symprop.printing.latex import SympropLatexPrinter
from tests.deadlines import time_bound

ROOT = Path(__file__).resolve().parents[2]

GRAPH_FILE = """\
title = "hostile"
[graph]
inputs = ["x", "w"]
parameters = ["w"]
nodes = [["f", "w*x"]]
output = "f"
[values]
x = 2
w = 3
"""

#: Names that would each inject something if printed raw.
HOSTILE_NAMES = [
    r"\input{/etc/passwd}", r"\write18{touch pwned}", "a$b", "c#d", "e%f", "g&h", "k{l", "m}n",
    "<script>alert(1)</script>", "{::nomarkdown}<b>x</b>{:/}", "```", "^^5c", "a|b*c", "x\ny",
]
#: The characters whose raw appearance in an output would mean the name was not escaped.
FORMATS = ["latex", "github", "kramdown", "dollar", "html"]


def one_line_refusal(result, *words):
    assert result.exit_code == 2, result.output
    lines = result.output.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("symprop: error: "), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


# --- injection: every name source, every format ---------------------------------

@functools.lru_cache(maxsize=None)
def derived(source: str, name: str):
    if source == "graph":
        p, x, f = sympy.Symbol(name, real=True), sympy.Symbol("x", real=True), sympy.Symbol("f", real=True)
        return derive(Graph.from_pairs([(f, p * x)], inputs=[x], parameters=[p]))
    if source == "units":
        return derive(nn.mlp(["i1"], [nn.Dense(1, "sigmoid", names=[name])], "half_sse", notation="mazur"))
    return derive(nn.mlp([name], [nn.Dense(1, "sigmoid")], "half_sse", notation="mazur"))


def rendered(fmt: str, derivation, **settings) -> str:
    if fmt == "latex":
        return render.render_latex(derivation, **settings)
    if fmt == "html":
        return render.render_html(derivation, **settings)
    return render.render_markdown(derivation, flavor=fmt, **settings)


#: What each format must never see raw: the characters that mean something to it.
SPECIALS = {"latex": set("\\{}$&#^_%~<>|\n"), "markdown": set("\\`*_[]<>|$~&{}\n"), "html": set("<>&\"")}


def assert_inert(fmt: str, text: str, name: str, *, in_math: bool = True) -> None:
    """``name`` appears nowhere raw when it holds a character special to the format (a
    name in math: special to TeX as well), and nothing it holds became markup. A Mermaid
    block is code, literal in Markdown: it is looked at only for a fence the name could close."""
    kind = fmt if fmt in ("latex", "html") else "markdown"
    if kind == "markdown":
        blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.M | re.S)
        assert all("`" not in block for block in blocks)
        text = re.sub(r"^```mermaid\n.*?^```$", "", text, flags=re.M | re.S)
    special = SPECIALS[kind] | (SPECIALS["latex"] if in_math and kind == "markdown" else set())
    if special & set(name):
        assert name not in text
    if kind == "latex" or (kind == "markdown" and in_math):
        assert r"\input{/etc" not in text and r"\write18{" not in text and "^^5c" not in text
    if kind == "html":
        assert "<script>alert" not in text and "<b>x</b>" not in text
    else:
        assert not re.search(r"(?<!\\)<(script|b>)", text)
    if fmt == "kramdown":
        assert not re.search(r"(?<!\\)\{:", text)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("source", ["graph", "units", "inputs"])
@pytest.mark.parametrize("name", HOSTILE_NAMES[:8] + HOSTILE_NAMES[8:10])
def test_a_hostile_name_is_shown_not_obeyed(source, name, fmt):
    assert_inert(fmt, rendered(fmt, derived(source, name)), name)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("title", HOSTILE_NAMES)
def test_a_hostile_title_is_shown_not_obeyed(title, fmt):
    text = rendered(fmt, derived("graph", "w"), title=title)
    if fmt in ("github", "kramdown", "dollar"):
        text = text.split("\n", 1)[0]  # the title line: the fences of math blocks are the document's own
    assert_inert(fmt, text, title, in_math=False)


def test_an_injected_input_is_typeset_literally_and_reads_no_file(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_text("LEAKED")
    name = rf"\input{{{secret}}}"
    tex = render.render_latex(derived("graph", name), title=rf"T \input{{{secret}}} 100% $x$ #1 &")
    pdf = export.build_pdf(tex, tmp_path / "doc.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "LEAKED" not in text and "input" in text and "secret.tex" in text.replace("\n", "")


# --- distinct names print distinctly -----------------------------------------------

@pytest.mark.parametrize("names", [
    ("w1", "w_1"), ("x__2", "x^2"), ("x__2", "x^{2}"), ("a1", "a_1", "a_{1}"), ("alpha", r"\alpha"),
    ("x_1_2", "x_1 2"), ("w1", "w_1", "w__1"),
])
def test_symbols_that_would_print_alike_print_distinctly(names):
    symbols = [sympy.Symbol(n, real=True) for n in names]
    f = sympy.Symbol("f", real=True)
    graph = Graph.from_pairs([(f, sum(s * (k + 2) for k, s in enumerate(symbols)))], parameters=symbols)
    printer = SympropLatexPrinter({"graph": graph})
    printed = [printer.doprint(s) for s in (*symbols, f)]
    assert len(set(printed)) == len(printed), printed
    assert render.render_markdown(derive(graph))


# --- one node, titles the PDF cannot set ---------------------------------------------

def test_a_one_node_graph_compiles(tmp_path):
    x, f = sympy.symbols("x f", real=True)
    derivation = derive(Graph.from_pairs([(f, 3 * x)], parameters=[x]))
    tex = render.render_latex(derivation)
    assert not re.search(r"\\begin\{align\*\}\s*\\end\{align\*\}", tex)
    assert export.build_pdf(tex, tmp_path / "one.pdf").read_bytes().startswith(b"%PDF")
    for flavor in ("github", "kramdown", "dollar"):
        markdown = render.render_markdown(derivation, flavor=flavor)
        assert "```math\n\n```" not in markdown and "$$\n\n$$" not in markdown


TYPESETS = None
CANNOT = "cannot typeset"


@pytest.mark.parametrize("title, refused", [
    ("역전파 예제", TYPESETS), ("Ünïcödé – “quotes” …", TYPESETS), ("Ärger über Öl", TYPESETS),
    ("שלום", CANNOT), ("مرحبا", CANNOT), ("zero\u200bwidth", CANNOT), ("rtl\u202eoverride", CANNOT),
    ("emoji 🙂", CANNOT), ("漢字 only", CANNOT), ("Ελληνικά", CANNOT), ("Кириллица", CANNOT),
    ("bell\x07", "a title of one line"),
])
def test_a_title_is_typeset_or_refused_in_one_line(tmp_path, title, refused):
    path = tmp_path / "net.toml"
    path.write_text(GRAPH_FILE.replace('"hostile"', json.dumps(title, ensure_ascii=False)), encoding="utf-8")
    result = CliRunner().invoke(main, ["derive", str(path), "-f", "tex", "-o", str(tmp_path / "out")])
    if refused:
        one_line_refusal(result, refused)
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
        if refused == CANNOT:
            result = CliRunner().invoke(main, ["derive", str(path), "-f", "md,html,json", "-o", str(tmp_path / "md")])
            assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 0, result.output


def test_a_korean_title_in_an_english_pdf_loads_kotex(tmp_path):
    tex = render.render_latex(derived("graph", "w"), title="역전파 예제")
    assert "\\usepackage{kotex}" in tex
    assert export.build_pdf(tex, tmp_path / "ko.pdf").read_bytes().startswith(b"%PDF")


# --- writes: full disks, read-only folders, paths -------------------------------------

@pytest.fixture
def graph_file(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(GRAPH_FILE)
    return path


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


@pytest.mark.parametrize("where", ["mkstemp", "fsync", "replace"])
@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "quota"),
                                         (errno.EACCES, "permission denied"), (errno.EROFS, "read-only"),
                                         (errno.EIO, "Input/output error")])
def test_a_failed_write_is_one_line_and_keeps_the_earlier_set(graph_file, tmp_path, monkeypatch, where, code, words):
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md,json", "-o", str(out)]).exit_code == 0
    earlier = _files(out)

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    target = {"mkstemp": (export.tempfile, "mkstemp"), "fsync": (export.os, "fsync"),
              "replace": (export.os, "replace")}[where]
    monkeypatch.setattr(*target, fail)
    result = CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md,json,tex", "--digits", "3", "-o", str(out)])
    monkeypatch.undo()
    one_line_refusal(result, words)
    assert _files(out) == earlier


@pytest.mark.parametrize("layout, words", [
    (lambda t: t / "file" / "sub", "part of the path is a file"),
    (lambda t: t / "file" / "a" / "b", "part of the path is a file"),
    (lambda t: t / ("a" * 300), "the file name is too long"),
    (lambda t: t / ("b" * 300) / "c", "the file name is too long"),
])
def test_an_output_folder_that_cannot_be_is_one_line(graph_file, tmp_path, layout, words):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md", "-o", str(layout(tmp_path))])
    one_line_refusal(result, words)
    assert (tmp_path / "file").read_text() == "x"


def test_an_output_folder_that_is_a_file_is_one_line(graph_file, tmp_path):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md", "-o", str(tmp_path / "file")])
    one_line_refusal(result)


@pytest.mark.parametrize("stem", ["a" * 240, "Ä" * 120, "x" * 80 + ".v1", "-" * 200 + "z", "a b" * 80])
def test_a_long_file_name_gives_a_short_document_name(tmp_path, stem):
    path = tmp_path / f"{stem}.toml"
    path.write_text(GRAPH_FILE)
    result = CliRunner().invoke(main, ["derive", str(path), "-f", "md", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "out").iterdir()
    assert len(written.name.encode()) <= export.MAX_STEM + 3


def test_a_writer_killed_mid_write_leaves_the_earlier_set_and_the_next_cleans_up(graph_file, tmp_path):
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md,json", "-o", str(out)]).exit_code == 0
    earlier = _files(out)
    child = textwrap.dedent(f"""
        import os, signal, sys
        os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
        from symprop.cli import main
        sys.argv = ["symprop", "derive", {str(graph_file)!r}, "-f", "md,json", "--digits", "3", "-o", {str(out)!r}]
        main()
    """)
    run = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, timeout=120)
    assert run.returncode == -signal.SIGKILL
    left = [n for n in os.listdir(out) if export.TEMPORARY_NAME.match(n)]
    assert len(left) == 2
    assert {n: b for n, b in _files(out).items() if n in earlier} == earlier
    assert CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md", "-o", str(out)]).exit_code == 0
    assert not [n for n in os.listdir(out) if export.TEMPORARY_NAME.match(n)]


# --- reads: pipes, devices, folders ---------------------------------------------------

def _special(tmp_path, kind):
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.toml")
        return str(tmp_path / "pipe.toml")
    if kind == "link":
        (tmp_path / "link.toml").symlink_to("/dev/zero")
        return str(tmp_path / "link.toml")
    return kind


COMMANDS = {"derive": [], "describe": [], "check": ["w", "x"], "grad": ["w"], "code": []}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind, words", [("fifo", "is a pipe (FIFO)"), ("/dev/zero", "character device"),
                                         ("/dev/urandom", "character device"), ("/dev/null", "character device"),
                                         ("link", "character device")])
def test_a_pipe_or_a_device_is_refused_without_blocking(tmp_path, command, kind, words):
    path = _special(tmp_path, kind)
    with time_bound(20, "the call"):
        result = CliRunner().invoke(main, [command, path, *COMMANDS[command]])
    one_line_refusal(result, words)


def test_a_fifo_with_no_writer_does_not_hang_a_process(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    run = subprocess.run([sys.executable, "-m", "symprop", "derive", str(tmp_path / "pipe.toml")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "pipe (FIFO)" in run.stderr


@pytest.mark.parametrize("data, words", [(b"\0" * 11, "more than 10 bytes"), (b"x = '\xff'", "not UTF-8")])
def test_standard_input_is_read_with_the_bound(monkeypatch, data, words):
    from symprop.files import spec_file

    monkeypatch.setattr(spec_file, "MAX_TEXT_LENGTH", 10)
    for command in ("derive", "describe"):
        one_line_refusal(CliRunner().invoke(main, [command, "-", *(["-o", "-", "-f", "md"] if command == "derive" else [])],
                                            input=data), words)


# --- latexmk that hangs, or succeeds without a PDF ------------------------------------

@pytest.mark.parametrize("body, words", [
    ("exec sleep 300", "did not finish within 2 s"),
    ("sleep 300 &\nexec sleep 300", "did not finish within 2 s"),
    ("exit 0", "latexmk finished but wrote no PDF"),
    ("echo boom; exit 12", "LaTeX failed"),
])
def test_a_misbehaving_latexmk_is_one_line(graph_file, tmp_path, monkeypatch, body, words):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "latexmk").write_text(f"#!/bin/sh\n{body}\n")
    (fake / "latexmk").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(export, "PDF_TIMEOUT_SECONDS", 2)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["derive", str(graph_file), "-f", "md,pdf", "-o", str(out)])
    one_line_refusal(result, words)
    assert _files(out) == {}


def test_every_hostile_name_at_once_compiles_to_a_pdf_that_shows_them(tmp_path):
    names = [*HOSTILE_NAMES, "é", "x\u200by", "a~b", "'q'", '"r"', "[s]", "가중치"]
    symbols = [sympy.Symbol(n, real=True) for n in names]
    f = sympy.Symbol("f", real=True)
    derivation = derive(Graph.from_pairs([(f, sum((k + 2) * s for k, s in enumerate(symbols)))], parameters=symbols))
    pdf = export.build_pdf(render.render_latex(derivation), tmp_path / "all.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "passwd" in text and "script" in text and "nomarkdown" in text
