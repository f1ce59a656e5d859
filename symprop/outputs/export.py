"""Writing results: a set of documents written all or nothing inside the output
folder, PDF through latexmk, and the JSON document for other tools.

What a write guarantees:

* every file of a set is written to a hidden temporary name in the output folder
  (``.<name>.XXXXXXXX.tmp``), flushed to disk, and only then are all of them renamed
  into place; any failure removes the temporaries and leaves the earlier set as it was;
* a process killed mid-write leaves at most hidden temporaries, which the next write
  into that folder removes;
* two writers never interleave their sets in one folder: the folder itself is locked
  (``fcntl.flock`` on the folder, so no lock file is left behind) while a set is written;
* a full disk, a read-only folder or a folder under a file is refused in one line.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from symprop.errors import SympropError

FORMATS = ("md", "tex", "pdf", "json", "html")

#: The Debian packages a PDF needs (shared/DOCUMENT.md lists what was measured).
TEX_PACKAGES = (
    "texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures "
    "texlive-lang-korean lmodern latexmk"
)
LATEXMK = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "-file-line-error")
PDF_TIMEOUT_SECONDS = 180
#: The date stamped into a PDF when the caller sets no ``SOURCE_DATE_EPOCH``
#: (2024-01-01 00:00 UTC): the same source gives the same bytes on every run.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"
#: Scratch folders of PDF builds live in the temporary folder under this prefix; one
#: older than :data:`STALE_SCRATCH_SECONDS` (far longer than a build may run) was left by
#: a killed run and is removed by the next build.
SCRATCH_PREFIX = "symprop-pdf-"
STALE_SCRATCH_SECONDS = 15 * 60
#: The longest file name stem: a longer one is cut and given a short hash of the whole,
#: so that distinct long titles still give distinct names, well under the 255 bytes a
#: file name may have (tags and suffixes are added to the stem).
MAX_STEM = 80
#: A temporary file of :func:`write_set`: ``.<name>.<suffix>.XXXXXXXX.tmp``, a suffix symprop
#: writes and ``tempfile.mkstemp``'s eight random characters (no other hidden file matches).
TEMPORARY_NAME = re.compile(r"\..+\.(md|svg|tex|pdf|json|html|toml)\.[A-Za-z0-9_]{8}\.tmp\Z")


class ExportError(SympropError, ValueError):
    """A file that could not be written, said in one line."""


def safe_stem(name: str) -> str:
    """A file name stem from a title or file name that cannot leave the output folder:
    letters, digits, ``-`` and ``_`` only (``../../x`` becomes ``x``), at most
    :data:`MAX_STEM` characters (a longer one ends in a hash of the whole name)."""
    last = re.split(r"[/\\]", name)[-1]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", last).strip("-_")
    if len(stem) > MAX_STEM:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[:MAX_STEM - 9].rstrip('-_')}-{digest}"
    return stem or "derivation"


def output_path(output_dir: Path, stem: str, suffix: str) -> Path:
    """``output_dir/stem.suffix``, refusing anything that would resolve outside ``output_dir``."""
    folder = Path(output_dir).resolve()
    path = (folder / f"{safe_stem(stem)}{suffix}").resolve()
    if path.parent != folder:
        raise ExportError(f"{path}: refusing to write outside the output folder {folder}")
    return path


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a
    rename, so a failed or interrupted write leaves the earlier file intact."""
    [written] = write_set({Path(path): data})
    return written


def write_set(files: Mapping[Path, str | bytes]) -> list[Path]:
    """Write every file of ``files`` (path -> text or bytes, all in one folder) or none.

    Each file goes to a temporary name beside its target and is flushed to disk; once
    all are written they are renamed into place. A failure (a full disk, a read-only
    folder) removes the temporaries, keeps the earlier files and is an
    :class:`ExportError` in one line. The folder is locked meanwhile, and temporaries
    a killed writer left there are removed first.
    """
    paths = [Path(p) for p in files]
    if not paths:
        return []
    folders = {p.parent for p in paths}
    if len(folders) != 1:
        raise ExportError(f"a set of documents is written into one folder, not {len(folders)}")
    [folder] = folders
    with _as_export_error(folder):
        _make_folder(folder)
        with folder_lock(folder):
            remove_temporaries(folder)
            written: list[tuple[str, Path]] = []
            try:
                for path, data in files.items():
                    written.append((_write_temporary(Path(path), data), Path(path)))
                for temporary, path in written:
                    os.replace(temporary, path)
            except BaseException:
                for temporary, _ in written:
                    Path(temporary).unlink(missing_ok=True)
                raise
            _sync_folder(folder)
    return paths


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ExportError(f"{folder}: cannot write there: a file of that name is in the way") from None
    except NotADirectoryError:
        raise ExportError(f"{folder}: cannot write there: part of the path is a file, not a folder") from None


#: How the errors of a write are worded (the rest say their ``strerror``).
_WRITE_FAILURES = {
    errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the folder is on a read-only file system", errno.EACCES: "permission denied",
    errno.EPERM: "permission denied", errno.ENAMETOOLONG: "the file name is too long",
    errno.ENOTDIR: "part of the path is a file, not a folder",
}


@contextmanager
def _as_export_error(folder: Path) -> Iterator[None]:
    """An ``OSError`` of writing into ``folder`` as one :class:`ExportError` line."""
    try:
        yield
    except OSError as error:
        why = _WRITE_FAILURES.get(error.errno) or error.strerror or str(error)
        raise ExportError(f"{folder}: cannot write there: {why}; the earlier files are left as they were") from None


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the folder itself, held while a set is written: a second
    writer waits rather than interleave its files (a lock dies with its process)."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def remove_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries (:data:`TEMPORARY_NAME`) a killed writer left in ``folder``.
    Called with the folder locked, so none of them belongs to a live writer."""
    removed = []
    for entry in os.scandir(folder):
        if TEMPORARY_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def _write_temporary(path: Path, data: str | bytes) -> str:
    """``data`` in a new hidden temporary beside ``path``, flushed to disk; its name."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; a document is an ordinary file
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def _sync_folder(folder: Path) -> None:
    """Flush the renames themselves to disk (best effort: not every file system can)."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def tex_available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def build_pdf(tex_source: str, path: Path, *, timeout: float | None = None) -> Path:
    """Compile ``tex_source`` and write the PDF to ``path`` (atomically)."""
    return write_atomic(path, compile_pdf(tex_source, name=Path(path).name, timeout=timeout))


def compile_pdf(tex_source: str, *, name: str = "document.pdf", timeout: float | None = None) -> bytes:
    """The PDF of ``tex_source``, compiled with latexmk/pdflatex in a scratch folder.

    Shell escape is off; a LaTeX error is reported with the offending lines of the log.
    latexmk runs in a process group of its own, killed whole when it overruns
    ``timeout`` (default :data:`PDF_TIMEOUT_SECONDS`) or when this call ends any other
    way; the scratch folder is removed on every exit, and scratch folders that killed
    runs left behind are removed first. The bytes are the same on every run: a fixed
    ``SOURCE_DATE_EPOCH`` (with ``FORCE_SOURCE_DATE=1``) unless the caller sets one.
    """
    require_tex()
    remove_stale_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    try:
        return _run_latexmk(tex_source, scratch, name, PDF_TIMEOUT_SECONDS if timeout is None else timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def reproducible_environment() -> dict[str, str]:
    """The environment of latexmk: the caller's, with a fixed date when none is set."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    env.setdefault("FORCE_SOURCE_DATE", "1")
    return env


def _run_latexmk(tex_source: str, scratch: Path, name: str, timeout: float) -> bytes:
    source = scratch / "document.tex"
    source.write_text(tex_source, encoding="utf-8")
    # The output goes to a file, not a pipe: a child latexmk left running would hold a pipe open.
    with open(scratch / "latexmk.out", "wb") as output:
        process = subprocess.Popen(
            [*LATEXMK, source.name], cwd=scratch, env=reproducible_environment(),
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ExportError(f"{name}: LaTeX did not finish within {timeout:g} s") from None
        finally:
            kill_group(process)
    if code != 0:
        raise ExportError(f"{name}: LaTeX failed: {latex_errors(scratch / 'document.log')}")
    pdf = scratch / "document.pdf"
    if not pdf.is_file():
        raise ExportError(f"{name}: latexmk finished but wrote no PDF ({_last_line(scratch / 'latexmk.out')})")
    return pdf.read_bytes()


def kill_group(process: subprocess.Popen) -> None:
    """Kill ``process``'s whole process group (latexmk, pdflatex and anything they
    started) and reap ``process``; a group that has already ended is fine."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def remove_stale_scratch(now: float | None = None) -> list[Path]:
    """Remove this user's PDF scratch folders older than :data:`STALE_SCRATCH_SECONDS`:
    a run killed before its cleanup left them (a live build is never that old)."""
    now = time.time() if now is None else now
    removed = []
    for entry in Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        try:
            info = entry.lstat()
        except OSError:
            continue
        if entry.is_dir() and not entry.is_symlink() and info.st_uid == os.getuid() \
                and now - info.st_mtime > STALE_SCRATCH_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n") if path.exists() else []
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return f"its last words: {last[:200]}" if last else "it printed nothing"


def require_tex() -> None:
    if not tex_available():
        raise ExportError(f"PDF needs latexmk and pdflatex: install them with  apt-get install {TEX_PACKAGES}")


def latex_errors(log: Path) -> str:
    """The error lines of a LaTeX log (``! ...`` or ``file:line: ...`` and the ``l.N`` line), joined."""
    if not log.exists():
        return "no log was written"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            picked.append(line.strip())
            picked += [following.strip() for following in lines[i + 1:i + 4] if following.startswith("l.")]
    return " | ".join(picked[:6]) or "see the LaTeX log"
