"""Compiled templates kept between processes: Jinja2's bytecode cache, made safe to fail.

Compiling the Markdown and LaTeX templates (parsing them, generating Python, compiling
that) takes about 70 ms, a quarter of a fresh process's first render of Mazur's document,
and gives the same code every time. Jinja2's :class:`~jinja2.FileSystemBytecodeCache`
keeps the compiled code in a folder of the user's own in the system's temporary folder
(made private, refused when someone else owns it), writes each file whole (a temporary
name, then a rename) and uses it only for the same source (a checksum of the template)
and the same Jinja2 and Python. What else changes the compiled code, the environment's
settings (delimiters, whitespace control), names the cache files, so that settings
changed in a new release never read code compiled under the old ones.

A cache that cannot be made, read or written is no cache: the template is compiled as it
would be without one.
"""
from __future__ import annotations

import hashlib

import jinja2


class _CacheOrNothing(jinja2.FileSystemBytecodeCache):
    """A file-system bytecode cache whose failures to read or write mean "not cached"."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:  # unreadable: compiled afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full disk or a read-only folder: the next process compiles again
            pass


def bytecode_cache(settings: dict, directory: str | None = None) -> jinja2.BytecodeCache | None:
    """The cache for an environment made with ``settings`` (in ``directory``, by default
    the user's folder in the temporary folder), or None when no folder can be had."""
    fingerprint = hashlib.sha256(repr(sorted(settings.items())).encode()).hexdigest()[:16]
    try:
        return _CacheOrNothing(directory, pattern=f"__symprop_{fingerprint}_%s.cache")
    except (OSError, RuntimeError):  # no safe folder (another user's, or none can be made)
        return None
