"""A network file read key by key: its TOML parsed, each value's type checked.

Everything wrong is a :class:`SpecError` whose message is one line,
``<file>: <key> (line N): <what was expected>``; :class:`SpecFile` builds
them for its keys, with the line found in the text and, for a missing key,
a near spelling the file has instead.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import stat
import tomllib
from functools import cached_property
from pathlib import Path

from symprop.errors import SympropError
from symprop.files.expressions import EXPRESSION_FUNCTIONS
from symprop.model.graph import first_repeated as repeated
from symprop.files.toml_text import MISSING, Key, Locator, describe, key_text

MAX_TEXT_LENGTH = 10_000_000

#: A declared name: a letter, then letters, digits and underscores.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
UNIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}\Z")


class SpecError(SympropError, ValueError):
    """A network file that cannot be used, in one line: ``<file>: <key> (line N): <what was expected>``.

    ``source``, ``key``, ``line`` (None when unknown) and ``expected`` are kept for tools.
    """

    def __init__(self, source: str, key: str, expected: str, line: int | None = None, column: int | None = None):
        self.source, self.key, self.expected, self.line, self.column = source, key, expected, line, column
        where = key
        if line is not None:
            where += f" (line {line}, column {column})" if column is not None else f" (line {line})"
        super().__init__(_one_line(f"{source}: {where}: {expected}"))

    def __reduce__(self):
        return (type(self), (self.source, self.key, self.expected, self.line, self.column))


def _one_line(text: str) -> str:
    """Control characters (newlines above all) written as escapes, so a message stays one line."""
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", lambda m: repr(m.group())[1:-1], text)


def read_text(path) -> str:
    """The text of the file at ``path``, refused in one line when it is not a regular
    file (a pipe, a device, a folder), too large, not UTF-8 or unreadable."""
    try:
        return decoded(read_bytes(path), str(path))
    except OSError as error:
        raise SpecError(str(path), "file", f"cannot be read: {error.strerror or error}") from None


#: What a path that is not a regular file is, by its ``stat`` mode.
_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_bytes(path) -> bytes:
    """The bytes of the regular file at ``path``, at most :data:`MAX_TEXT_LENGTH`.

    The path is looked at before it is opened, so a pipe with no writer or a device
    (``/dev/zero``) is refused without reading, never waited on; it is opened without
    blocking and looked at again (it may have been swapped meanwhile), and no more
    than the bound and one byte is ever read, whatever its size claims."""
    _refuse_unless_regular(path, os.stat(path).st_mode)
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(handle, "rb") as stream:
        _refuse_unless_regular(path, os.fstat(handle).st_mode)
        data = stream.read(MAX_TEXT_LENGTH + 1)
    if len(data) > MAX_TEXT_LENGTH:
        raise SpecError(str(path), "file", f"more than {MAX_TEXT_LENGTH} bytes: a network file is at most "
                        f"{MAX_TEXT_LENGTH} bytes")
    return data


def _refuse_unless_regular(path, mode: int) -> None:
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise SpecError(str(path), "file", f"is {kind}: expected a network file (a regular file), or - for "
                            "standard input")


def read_stream(stream, source: str) -> str:
    """The text of a binary stream (standard input), refused in one line like :func:`read_text`."""
    data = stream.read(MAX_TEXT_LENGTH + 1)
    if len(data) > MAX_TEXT_LENGTH:
        raise SpecError(source, "file", f"more than {MAX_TEXT_LENGTH} bytes: a network file is at most "
                        f"{MAX_TEXT_LENGTH} bytes")
    return decoded(data, source)


def decoded(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text, a byte-order mark (Windows editors) dropped. A NUL byte is
    refused first: UTF-16 text without a byte-order mark decodes as UTF-8, one NUL
    after each letter, and would otherwise be reported as broken TOML."""
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = "UTF-16 or UTF-32 text? save it as UTF-8" if nul < 4 else "a binary file?"
        raise SpecError(source, "file", f"not UTF-8 text (a NUL byte at byte {nul}: {hint})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpecError(source, "file", f"not UTF-8 text (byte {error.start})") from None


class SpecFile:
    """A parsed network file: typed access to its keys, and errors that point at them."""

    def __init__(self, text: str, source: str):
        self.text, self.source = text, source
        self.data = self._parse()

    def _parse(self) -> dict:
        if not isinstance(self.text, str):
            raise SpecError(self.source, "file", f"expected TOML text, got {type(self.text).__name__}")
        if len(self.text) > MAX_TEXT_LENGTH:
            raise SpecError(self.source, "file", f"a network file is at most {MAX_TEXT_LENGTH} characters")
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            raise _syntax_error(self.source, error) from None
        except RecursionError:
            raise SpecError(self.source, "TOML syntax", "arrays or tables nested too deeply") from None

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.text)

    def error(self, key: Key, expected: str) -> SpecError:
        return SpecError(self.source, key_text(key), expected, self.locator.line(key))

    def get(self, key: Key, default=MISSING):
        node = self.data
        for part in key:
            found = (isinstance(node, list) and 0 <= part < len(node)) if isinstance(part, int) else (
                isinstance(node, dict) and part in node
            )
            if not found:
                return default
            node = node[part]
        return node

    def require(self, key: Key, what: str):
        value = self.get(key)
        if value is MISSING:
            raise self.error(key, f"missing: expected {what}{self.misspelling(key)}")
        return value

    def misspelling(self, key: Key) -> str:
        """`` (is 'netwrk' a misspelling of 'network'?)`` when the key's table has a close spelling, else empty."""
        parent = self.get(key[:-1])
        if not isinstance(parent, dict) or not isinstance(key[-1], str):
            return ""
        close = nearest(key[-1], [k for k in parent if isinstance(k, str)], cutoff=0.6)
        return f" (is {close!r} a misspelling of {key[-1]!r}?)" if close else ""

    def table(self, key: Key, *, required: str | None = None) -> dict:
        value = self.require(key, required) if required else self.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {describe(value)}")
        return value

    def string(self, key: Key, default=MISSING, *, what: str = "a string") -> str:
        value = self.require(key, what) if default is MISSING else self.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"expected {what}, got {describe(value)}")
        return value

    def flag(self, key: Key, default: bool = False) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {describe(value)}")
        return value

    def choice(self, key: Key, choices, default=MISSING) -> str:
        options = ", ".join(choices)
        value = self.string(key, default, what=f"one of {options}")
        if value not in choices:
            raise self.error(key, f"unknown {key[-1]} {value!r}: expected one of {options}")
        return value

    def integer(self, key: Key, default=MISSING, *, low: int, high: int, what: str,
                too_large: str = "is too many: at most {high}, as more would take very long") -> int:
        value = self.require(key, what) if default is MISSING else self.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.error(key, f"expected {what}, got {describe(value)}")
        if value > high:
            raise self.error(key, f"{describe(value)} " + too_large.format(high=high))
        return value

    def number(self, key: Key, default=MISSING, *, what: str = "a finite number") -> float:
        value = self.require(key, what) if default is MISSING else self.get(key, default)
        number = finite_number(value)
        if number is None:
            raise self.error(key, f"expected {what}, got {describe(value)}")
        return number

    def names(self, key: Key, default=MISSING, *, pattern=NAME, what: str = "names",
              in_expressions: bool = False) -> list[str] | None:
        value = self.require(key, f"a list of {what}") if default is MISSING else self.get(key, default)
        if value is default and default is not MISSING:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of {what} (strings), got {describe(value)}")
        for name in value:
            check_name(self, key, name, pattern, in_expressions=in_expressions)
        duplicate = repeated(value)
        if duplicate:
            raise self.error(key, f"duplicate name {duplicate!r}: each name is used once")
        return value


def refuse_unknown_keys(spec: SpecFile, key: Key, allowed, where: str) -> None:
    """A :class:`SpecError` at the first key of the table at ``key`` that is not ``allowed``:
    ``unknown key 'activaton' in layer 1: did you mean 'activation'?``, else the keys it may have.
    A misspelled key is never ignored: a default standing in for it would go unnoticed."""
    table = spec.get(key)
    if not isinstance(table, dict):
        return
    for name in table:
        if name not in allowed:
            raise spec.error((*key, name), unknown_key_message(name, allowed, where))


def unknown_key_message(name: str, allowed, where: str, *, table: bool = False) -> str:
    """``unknown key 'x' in [train]: did you mean 'y'?`` (or ``expected one of ...`` when nothing is close)."""
    shown = (lambda k: f"[{k}]") if table else repr
    close = nearest(name, list(allowed), cutoff=0.6)
    head = f"unknown table [{name}]" if table else f"unknown key {name!r} {where}".rstrip()
    if close:
        return f"{head}: did you mean {shown(close)}?"
    return f"{head}: expected one of {', '.join(map(str, allowed))}"


def nearest(name: str, candidates: list[str], *, cutoff: float) -> str | None:
    """The candidate closest to ``name``, letter case aside (``ACTIVATION`` is near
    ``activation``), or None when none is close enough."""
    folded = {candidate.lower(): candidate for candidate in reversed(candidates)}
    close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def finite_number(value) -> float | None:
    """``value`` as a float when it is a finite TOML number (not a bool, nan or inf), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_name(spec: SpecFile, key: Key, name: str, pattern=NAME, *, in_expressions: bool = False) -> None:
    """A name a file declares: identifier-like (so it can be a TOML key and never
    TeX), and in a [graph] not the name of a function its expressions call."""
    if not pattern.match(name):
        raise spec.error(key, f"{name!r} is not a usable name: expected a letter, then letters, digits or _ "
                         "(64 at most)")
    if in_expressions and name in EXPRESSION_FUNCTIONS:
        raise spec.error(key, f"{name!r} is the name of a function: choose another name")


def _syntax_error(source: str, error: tomllib.TOMLDecodeError) -> SpecError:
    """tomllib's ``Invalid value (at line 3, column 9)`` as ``TOML syntax (line 3, column 9): invalid value``."""
    message = str(error)
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    end = re.search(r"\s*\(at end of document\)\s*$", message)
    what = message[: (where or end).start()] if (where or end) else message
    what = what[:1].lower() + what[1:]
    if where:
        return SpecError(source, "TOML syntax", what, int(where.group(1)), int(where.group(2)))
    return SpecError(source, "TOML syntax", what + (" (at the end of the file)" if end else ""))

