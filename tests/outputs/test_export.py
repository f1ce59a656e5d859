"""Atomic writes, the output folder's fence, and PDF through latexmk."""
import os
import subprocess

import pytest

from symprop.outputs import export


@pytest.mark.parametrize(
    "name, stem",
    [("A step by step example", "A-step-by-step-example"), ("../../x", "x"), ("/etc/passwd", "passwd"),
     ("..", "derivation"), ("mazur", "mazur"), ("a\\b", "b")],
)
def test_safe_stem_keeps_only_plain_characters(name, stem):
    assert export.safe_stem(name) == stem


def test_output_path_stays_inside_the_folder(tmp_path):
    assert export.output_path(tmp_path, "../../escape", ".md") == (tmp_path / "escape.md").resolve()


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "doc.md"
    export.write_atomic(target, "first")
    export.write_atomic(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.md"]


def test_write_atomic_keeps_the_earlier_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "doc.md"
    export.write_atomic(target, "earlier")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        export.write_atomic(target, "later")
    assert target.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.md"]


def test_pdf_without_tex_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    with pytest.raises(export.ExportError, match="apt-get install .*latexmk"):
        export.build_pdf(r"\documentclass{article}\begin{document}x\end{document}", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_latex_error_is_reported_with_its_lines(tmp_path):
    source = "\\documentclass{article}\n\\begin{document}\n\\undefinedmacro\n\\end{document}\n"
    with pytest.raises(export.ExportError) as error:
        export.build_pdf(source, tmp_path / "bad.pdf")
    message = str(error.value)
    assert "Undefined control sequence" in message and "\n" not in message
    assert not (tmp_path / "bad.pdf").exists()


def test_shell_escape_is_off(tmp_path):
    marker = tmp_path / "pwned"
    source = (
        "\\documentclass{article}\n\\begin{document}\n"
        f"\\immediate\\write18{{touch {marker}}}\nok\n\\end{{document}}\n"
    )
    export.build_pdf(source, tmp_path / "doc.pdf")
    assert not marker.exists()
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_is_byte_identical_with_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    source = "\\documentclass{article}\n\\begin{document}\nSame bytes.\n\\end{document}\n"
    first = export.build_pdf(source, tmp_path / "a.pdf").read_bytes()
    second = export.build_pdf(source, tmp_path / "b.pdf").read_bytes()
    assert first == second
    text = subprocess.run(["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Same bytes." in text
