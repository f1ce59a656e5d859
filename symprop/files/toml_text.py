"""TOML text as a network file's error messages show it.

A key spelled as a dotted name (``network.layers[0].units``), a value in
TOML's own spelling (``true``, ``a table``, ``a list of 3``), and the line
a key stands on. tomllib gives no positions, so :class:`Locator` finds
them by scanning the text.
"""
from __future__ import annotations

import re
import tomllib
from bisect import bisect_left

Key = tuple[str | int, ...]
#: What a key the file does not have reads as.
MISSING = object()


def key_text(key: Key) -> str:
    """``("network", "layers", 0, "units")`` -> ``network.layers[0].units``."""
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "file"


def describe(value) -> str:
    """A value as the error message shows it (TOML spelling, cut short)."""
    if value is MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = repr(value) if isinstance(value, (str, int, float, complex)) else f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."



# ---------------------------------------------------------------- positions in the TOML text


class Locator:
    """Line numbers of tables, keys and array items in a TOML text that tomllib accepted.

    tomllib gives no positions, so this scans the text once for table
    headers and ``key =`` assignments, stepping over strings and comments.
    TOML inline tables fit on one line, so an array item's line is also the
    line of every key inside it. Any surprise ends the scan: a missing line
    number is better than a wrong one.
    """

    def __init__(self, text: str):
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.places: dict[tuple, int] = {}
        self.values: dict[tuple, int] = {}
        self.arrays: dict[tuple, int] = {}
        try:
            self._scan()
        except (ValueError, IndexError):
            pass

    def line(self, key: Key) -> int | None:
        """The line of ``key``, or of the nearest enclosing table or item the text shows."""
        try:
            for end in range(len(key), 0, -1):
                offset = self._offset(tuple(key[:end]))
                if offset is not None:
                    return bisect_left(self.newlines, offset) + 1
        except (ValueError, IndexError):
            pass
        return None

    def _offset(self, key: tuple) -> int | None:
        if key in self.places:
            return self.places[key]
        if isinstance(key[-1], int) and key[:-1] in self.values:
            items = _item_offsets(self.text, self.values[key[:-1]])
            return items[key[-1]] if key[-1] < len(items) else None
        return None

    def _scan(self) -> None:
        text, pos, table = self.text, 0, ()
        while True:
            pos = _skip_blank(text, pos)
            if pos >= len(text):
                return
            start = pos
            if text[pos] == "[":
                table, pos = self._header(pos, start)
            else:
                keys, pos = _read_key(text, pos)
                pos = _skip_blank(text, pos, lines=False)
                if text[pos] != "=":
                    return
                path = (*table, *keys)
                self.places.setdefault(path, start)
                self.values.setdefault(path, pos + 1)
                pos = _skip_value(text, pos + 1)
            if pos <= start:
                return

    def _header(self, pos: int, start: int) -> tuple[tuple, int]:
        array = self.text.startswith("[[", pos)
        names, pos = _read_key(self.text, pos + (2 if array else 1))
        pos = _skip_blank(self.text, pos, lines=False) + (2 if array else 1)
        parent = ()
        for name in names[:-1]:
            parent = (*parent, name)
            if parent in self.arrays:
                parent = (*parent, self.arrays[parent])
        table = (*parent, names[-1])
        if array:
            self.places.setdefault(table, start)  # the array as a whole: its first table
            self.arrays[table] = self.arrays.get(table, -1) + 1
            table = (*table, self.arrays[table])
        self.places.setdefault(table, start)
        return table, pos


def _skip_blank(text: str, pos: int, lines: bool = True) -> int:
    """Past spaces (and, with ``lines``, newlines and comments)."""
    while pos < len(text):
        char = text[pos]
        if char in " \t" or (lines and char in "\r\n"):
            pos += 1
        elif char == "#" and lines:
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        else:
            return pos
    return pos


def _read_key(text: str, pos: int) -> tuple[tuple[str, ...], int]:
    """A dotted key (bare or quoted parts) starting at ``pos``."""
    parts = []
    while True:
        pos = _skip_blank(text, pos, lines=False)
        if text[pos] in "\"'":
            end = _skip_string(text, pos)
            parts.append(tomllib.loads(f"k = {text[pos:end]}")["k"])
        else:
            end = re.compile(r"[A-Za-z0-9_-]*").match(text, pos).end()
            if end == pos:
                raise ValueError("no key")
            parts.append(text[pos:end])
        pos = _skip_blank(text, end, lines=False)
        if pos >= len(text) or text[pos] != ".":
            return tuple(parts), pos
        pos += 1


def _skip_string(text: str, pos: int) -> int:
    for quotes in ('"""', "'''"):
        if text.startswith(quotes, pos):
            end = pos + 3
            while not text.startswith(quotes, end):
                end += 2 if quotes == '"""' and text[end] == "\\" else 1
            end += 3
            for _ in range(2):  # up to two quotes may end the content right before the delimiter
                end += end < len(text) and text[end] == quotes[0]
            return end
    quote, end = text[pos], pos + 1
    while text[end] != quote:
        end += 2 if quote == '"' and text[end] == "\\" else 1
    return end + 1


def _skip_value(text: str, pos: int) -> int:
    pos = _skip_blank(text, pos, lines=False)
    char = text[pos]
    if char in "\"'":
        return _skip_string(text, pos)
    if char in "[{":
        close = "]" if char == "[" else "}"
        pos += 1
        while True:
            before, pos = pos, _skip_blank(text, pos)
            if text[pos] == close:
                return pos + 1
            if char == "{":
                _, pos = _read_key(text, pos)
                pos = _skip_blank(text, pos, lines=False) + 1  # past '='
            pos = _skip_blank(text, _skip_value(text, pos))
            if text[pos] == ",":
                pos += 1
            if pos <= before:
                raise ValueError("the scan made no progress")
    end = pos
    while end < len(text) and text[end] not in ",]}\r\n#":
        end += 1
    return end


def _item_offsets(text: str, pos: int) -> list[int]:
    """Where each item of the array starting at ``pos`` begins."""
    pos = _skip_blank(text, pos, lines=False)
    if text[pos] != "[":
        return []
    offsets, pos = [], pos + 1
    while True:
        before, pos = pos, _skip_blank(text, pos)
        if text[pos] == "]":
            return offsets
        offsets.append(pos)
        pos = _skip_blank(text, _skip_value(text, pos))
        if text[pos] == ",":
            pos += 1
        if pos <= before:
            raise ValueError("the scan made no progress")
