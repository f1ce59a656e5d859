"""Results kept per object, for as long as the object lives.

A derivation's compiled programs, its vectorised plan, a graph's logits and a layer's
index forms are each worked out once and asked for again by every document written
from them; they are kept by the object's identity (derivations and layers hold arrays
and are not hashable) and forgotten when the object is collected.
"""
from __future__ import annotations

import weakref
from functools import wraps
from typing import Callable, TypeVar

Result = TypeVar("Result")


class PerObject:
    """A table of results for each live object, by identity; an object's entry goes with it."""

    def __init__(self) -> None:
        self._tables: dict[int, dict] = {}

    def of(self, thing) -> dict:
        """The results kept for ``thing`` (a new, empty table on first use)."""
        key = id(thing)
        if key not in self._tables:
            self._tables[key] = {}
            weakref.finalize(thing, self._tables.pop, key, None)
        return self._tables[key]

    def __contains__(self, thing) -> bool:
        return id(thing) in self._tables

    def __len__(self) -> int:
        return len(self._tables)


def per_object(function: Callable[..., Result]) -> Callable[..., Result]:
    """``function(thing, *rest)`` computed once per ``thing`` (by identity) and ``rest``
    (hashable), without keeping ``thing`` alive; ``cached.table`` is the :class:`PerObject`."""
    table = PerObject()

    @wraps(function)
    def cached(thing, *rest):
        results = table.of(thing)
        if rest not in results:
            results[rest] = function(thing, *rest)
        return results[rest]

    cached.table = table
    return cached
