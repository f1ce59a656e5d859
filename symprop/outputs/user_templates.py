"""A user's own templates (``--templates DIR``): their mistakes said in one line.

The packaged templates are symprop's own, so an error in them is a bug and stays
one. A template from the user's folder with a syntax error, an undefined name, a
missing include, bytes that are not UTF-8 or a macro that calls itself forever is
the user's input, and is refused as a :class:`UserTemplateError` naming the
template, its line when Jinja2 knows it, and the problem.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import jinja2

from symprop.errors import SympropError


class UserTemplateError(SympropError, ValueError):
    """A template in the user's folder that cannot be rendered, said in one line."""


@contextlib.contextmanager
def reported_template_errors(template_dir):
    """Turn what goes wrong in a template of ``template_dir`` into a :class:`UserTemplateError`
    (nothing changes without a user's folder: the packaged templates' errors are bugs)."""
    if template_dir is None:
        yield
        return
    folder = Path(template_dir).resolve()
    try:
        yield
    except jinja2.TemplateSyntaxError as error:
        where = _named(folder, error.filename or error.name, error.lineno)
        raise UserTemplateError(f"{where}: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        raise UserTemplateError(f"a template in {folder} asks for {error.name!r}, which is in neither that folder "
                                "nor the packaged templates") from None
    except jinja2.UndefinedError as error:
        raise UserTemplateError(f"{_where_raised(folder, error)}: {error.message}") from None
    except UnicodeDecodeError as error:
        raise UserTemplateError(f"{_where_raised(folder, error)}: not UTF-8 text (byte {error.start})") from None
    except RecursionError:
        raise UserTemplateError(f"a template in {folder} calls itself without end (a macro or include that "
                                "reaches itself?)") from None


def _named(folder: Path, filename, line=None) -> str:
    """``template markdown/blocks.md.j2, line 3``, relative to the user's folder when inside it."""
    path = Path(filename) if filename else None
    if path is not None and path.is_absolute() and path.is_relative_to(folder):
        path = path.relative_to(folder)
    name = f"template {path}" if path is not None else f"a template in {folder}"
    return f"{name}, line {line}" if line else name


def _where_raised(folder: Path, error: BaseException) -> str:
    """The user's template (and line) deepest in the traceback of ``error``: Jinja2 puts each
    template's own file and line in the frames it runs, and a loader's ``filename`` in its locals."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code.co_filename
        loading = tb.tb_frame.f_locals.get("filename") if code.endswith("loaders.py") else None
        for candidate, line in ((code, tb.tb_lineno), (loading, None)):
            if isinstance(candidate, str) and Path(candidate).is_relative_to(folder):
                found = _named(folder, candidate, line)
        tb = tb.tb_next
    return found or f"a template in {folder}"
