"""Writing results: files written atomically inside the output folder, PDF through
latexmk, and the JSON document for other tools."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from symprop.errors import SympropError

FORMATS = ("md", "tex", "pdf", "json", "html")

#: The Debian packages a PDF needs (shared/DOCUMENT.md lists what was measured).
TEX_PACKAGES = (
    "texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures "
    "texlive-lang-korean lmodern latexmk"
)
LATEXMK = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "-file-line-error")
PDF_TIMEOUT_SECONDS = 180


class ExportError(SympropError, ValueError):
    """A file that could not be written, said in one line."""


def safe_stem(name: str) -> str:
    """A file name stem from a title or file name that cannot leave the output folder:
    letters, digits, ``-`` and ``_`` only (``../../x`` becomes ``x``)."""
    last = re.split(r"[/\\]", name)[-1]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", last).strip("-_")[:80]
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; a document is an ordinary file
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def tex_available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def build_pdf(tex_source: str, path: Path, *, timeout: int = PDF_TIMEOUT_SECONDS) -> Path:
    """Compile ``tex_source`` and write the PDF to ``path`` (atomically)."""
    return write_atomic(path, compile_pdf(tex_source, name=Path(path).name, timeout=timeout))


def compile_pdf(tex_source: str, *, name: str = "document.pdf", timeout: int = PDF_TIMEOUT_SECONDS) -> bytes:
    """The PDF of ``tex_source``, compiled with latexmk/pdflatex in a scratch folder.

    Shell escape is off; a LaTeX error is reported with the offending lines of the log.
    ``SOURCE_DATE_EPOCH`` (with ``FORCE_SOURCE_DATE=1``) makes the bytes reproducible.
    """
    require_tex()
    with tempfile.TemporaryDirectory(prefix="symprop-pdf-") as scratch:
        source = Path(scratch) / "document.tex"
        source.write_text(tex_source, encoding="utf-8")
        env = dict(os.environ)
        if "SOURCE_DATE_EPOCH" in env:
            env.setdefault("FORCE_SOURCE_DATE", "1")
        try:
            subprocess.run(
                [*LATEXMK, source.name], cwd=scratch, env=env, timeout=timeout,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True,
            )
        except subprocess.TimeoutExpired:
            raise ExportError(f"{name}: LaTeX did not finish within {timeout} s") from None
        except subprocess.CalledProcessError:
            log = Path(scratch) / "document.log"
            raise ExportError(f"{name}: LaTeX failed: {latex_errors(log)}") from None
        return (Path(scratch) / "document.pdf").read_bytes()


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
