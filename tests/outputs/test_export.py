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
    with pytest.raises(export.ExportError, match="cannot write there: disk full"):
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


# --- a set of documents, all or nothing -----------------------------------------

import errno
import signal
import sys
import textwrap
import time
from pathlib import Path


def _set(folder, text):
    return {folder / "doc.md": text, folder / "doc.tex": text, folder / "doc.json": text}


def _contents(folder):
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_write_set_writes_every_file_and_no_temporary(tmp_path):
    written = export.write_set(_set(tmp_path, "one"))
    assert [p.name for p in written] == ["doc.md", "doc.tex", "doc.json"]
    assert _contents(tmp_path) == {"doc.json": "one", "doc.md": "one", "doc.tex": "one"}


def test_a_full_disk_halfway_through_a_set_keeps_the_earlier_set(tmp_path, monkeypatch):
    export.write_set(_set(tmp_path, "earlier"))
    real_fsync, calls = os.fsync, []

    def fsync(handle):
        calls.append(handle)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(handle)

    monkeypatch.setattr(export.os, "fsync", fsync)
    with pytest.raises(export.ExportError) as error:
        export.write_set(_set(tmp_path, "later"))
    assert "the disk is full" in str(error.value) and "\n" not in str(error.value)
    monkeypatch.undo()
    assert _contents(tmp_path) == {"doc.json": "earlier", "doc.md": "earlier", "doc.tex": "earlier"}


@pytest.mark.parametrize("code, words", [(errno.EACCES, "permission denied"),
                                         (errno.EROFS, "read-only file system")])
def test_a_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, code, words):
    export.write_set(_set(tmp_path, "earlier"))

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)
    with pytest.raises(export.ExportError, match=words):
        export.write_set(_set(tmp_path, "later"))
    assert set(_contents(tmp_path).values()) == {"earlier"}


def test_an_output_folder_under_a_file_is_one_line(tmp_path):
    (tmp_path / "plain").write_text("a file")
    with pytest.raises(export.ExportError, match="part of the path is a file"):
        export.write_set(_set(tmp_path / "plain" / "out", "x"))
    with pytest.raises(export.ExportError, match="a file of that name is in the way"):
        export.write_set(_set(tmp_path / "plain", "x"))
    assert (tmp_path / "plain").read_text() == "a file"


def test_temporaries_of_a_killed_writer_are_removed_by_the_next(tmp_path):
    """A writer killed between writing its temporaries and renaming them leaves the
    earlier set and hidden temporaries; the next write removes the temporaries."""
    export.write_set(_set(tmp_path, "earlier"))
    child = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from symprop.outputs import export
        os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
        export.write_set({{Path({str(tmp_path)!r}) / n: "later" for n in ("doc.md", "doc.tex")}})
    """)
    run = subprocess.run([sys.executable, "-c", child], cwd=Path(export.__file__).parents[2])
    assert run.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(left) == 2 and all(export.TEMPORARY_NAME.match(n) for n in left)
    assert set(_contents(tmp_path)[n] for n in ("doc.md", "doc.tex", "doc.json")) == {"earlier"}
    export.write_set({tmp_path / "other.md": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json", "doc.md", "doc.tex", "other.md"]


def test_a_second_writer_waits_for_the_folder_lock(tmp_path):
    child = textwrap.dedent(f"""
        from pathlib import Path
        from symprop.outputs import export
        export.write_set({{Path({str(tmp_path)!r}) / "doc.md": "second"}})
    """)
    export.write_set({tmp_path / "doc.md": "first"})
    with export.folder_lock(tmp_path):
        process = subprocess.Popen([sys.executable, "-c", child], cwd=Path(export.__file__).parents[2])
        time.sleep(1.5)
        assert process.poll() is None and (tmp_path / "doc.md").read_text() == "first"
    assert process.wait(timeout=30) == 0
    assert (tmp_path / "doc.md").read_text() == "second"


def test_two_writers_never_interleave_their_sets(tmp_path):
    child = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from symprop.outputs import export
        folder = Path({str(tmp_path)!r})
        for _ in range(40):
            export.write_set({{folder / n: sys.argv[1] * 2000 for n in ("a.md", "b.md", "c.md")}})
    """)
    root = Path(export.__file__).parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", child, tag], cwd=root) for tag in "XY"]
    seen = set()
    while any(w.poll() is None for w in writers):
        with export.folder_lock(tmp_path):
            texts = {p.read_text() for p in tmp_path.glob("*.md")}
        assert len(texts) <= 1
        seen |= texts
    assert all(w.returncode == 0 for w in writers)
    assert len({p.read_text() for p in tmp_path.glob("*.md")}) == 1


def test_a_long_title_gives_a_short_distinct_deterministic_stem():
    first, second = "a" * 300 + "one", "a" * 300 + "two"
    assert len(export.safe_stem(first)) <= export.MAX_STEM
    assert export.safe_stem(first) == export.safe_stem(first) != export.safe_stem(second)
    assert export.safe_stem("b" * export.MAX_STEM) == "b" * export.MAX_STEM


def test_a_long_title_can_be_written(tmp_path):
    path = export.output_path(tmp_path, "Ü" + "x" * 1000, ".md")
    export.write_set({path: "ok"})
    assert path.read_text() == "ok" and len(path.name) < 100


# --- latexmk in its own process group -------------------------------------------

def fake_latexmk(folder: Path, body: str) -> Path:
    """A ``latexmk`` on PATH that runs ``body`` (sh) in its scratch folder."""
    folder.mkdir(exist_ok=True)
    script = folder / "latexmk"
    script.write_text("#!/bin/sh\npwd > " + str(folder / "scratch") + "\n" + body + "\n")
    script.chmod(0o755)
    return folder


@pytest.fixture
def fake_tex(tmp_path, monkeypatch):
    def install(body):
        folder = fake_latexmk(tmp_path / "bin", body)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        return folder
    return install


def _gone(pid: int) -> bool:
    """True when ``pid`` has ended (a zombie no one reaped counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in ("Z", "X")


SOURCE = "\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n"


def test_a_hanging_latexmk_is_killed_with_its_children_and_its_scratch_removed(fake_tex):
    folder = fake_tex(f"sleep 300 & echo $! > {{}}/child\nexec sleep 300".format("$(dirname $0)"))
    started = time.monotonic()
    with pytest.raises(export.ExportError, match=r"did not finish within 1 s"):
        export.compile_pdf(SOURCE, timeout=1)
    assert time.monotonic() - started < 10
    child = int((folder / "child").read_text())
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)
    assert not Path((folder / "scratch").read_text().strip()).exists()


def test_a_child_left_by_a_finished_latexmk_is_killed(fake_tex):
    folder = fake_tex("sleep 300 & echo $! > $(dirname $0)/child\ncp /dev/null document.pdf")
    assert export.compile_pdf(SOURCE, timeout=30) == b""
    child = int((folder / "child").read_text())
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)


def test_latexmk_that_writes_no_pdf_is_one_clear_line(fake_tex):
    folder = fake_tex("echo 'all targets are up-to-date'\nexit 0")
    with pytest.raises(export.ExportError) as error:
        export.compile_pdf(SOURCE, name="doc.pdf", timeout=30)
    message = str(error.value)
    assert message.startswith("doc.pdf: latexmk finished but wrote no PDF") and "up-to-date" in message
    assert "Errno" not in message and "\n" not in message
    assert not Path((folder / "scratch").read_text().strip()).exists()


def test_stale_scratch_folders_are_removed_and_fresh_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(export.tempfile, "tempdir", str(tmp_path))
    stale, fresh = tmp_path / (export.SCRATCH_PREFIX + "old"), tmp_path / (export.SCRATCH_PREFIX + "new")
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "document.tex").write_text("x")
    old = time.time() - export.STALE_SCRATCH_SECONDS - 60
    os.utime(stale, (old, old))
    assert export.remove_stale_scratch() == [stale]
    assert not stale.exists() and fresh.exists()


def test_pdf_is_byte_identical_run_to_run_without_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("FORCE_SOURCE_DATE", raising=False)
    source = "\\documentclass{article}\n\\begin{document}\nSame bytes, no date set.\n\\end{document}\n"
    first = export.build_pdf(source, tmp_path / "a.pdf").read_bytes()
    time.sleep(1.1)  # a date taken from the clock would differ
    second = export.build_pdf(source, tmp_path / "b.pdf").read_bytes()
    assert first == second


def test_only_symprops_own_temporaries_are_removed(tmp_path):
    ours, theirs = tmp_path / ".doc.md.ab_cd123.tmp", tmp_path / ".notes.txt.abcdefgh.tmp"
    ours.write_text("half")
    theirs.write_text("keep")
    assert export.remove_temporaries(tmp_path) == [ours]
    assert theirs.exists()
