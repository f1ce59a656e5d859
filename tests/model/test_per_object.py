from __future__ import annotations

import gc
import weakref

from symprop.model.per_object import PerObject, per_object


class Thing:
    """Unhashable, as a derivation holding arrays is."""

    __hash__ = None


def test_a_result_is_computed_once_per_object_and_arguments():
    calls = []

    @per_object
    def work(thing, n=1):
        calls.append((thing, n))
        return [n]

    a, b = Thing(), Thing()
    assert work(a) is work(a) and work(a, 2) is work(a, 2) and work(a) is not work(b)
    assert [n for _, n in calls] == [1, 2, 1]  # once each
    assert len(calls) == 3 and a in work.table and len(work.table) == 2


def test_a_kept_result_does_not_keep_its_object_alive():
    table = PerObject()
    thing = Thing()
    table.of(thing)["x"] = thing.__class__
    alive = weakref.ref(thing)
    del thing
    gc.collect()
    assert alive() is None and len(table) == 0


def test_a_new_object_at_a_reused_address_starts_empty():
    """ids are reused after collection: the finalizer clears the old entry first."""
    table = PerObject()
    for _ in range(50):
        thing = Thing()
        assert table.of(thing) == {}
        table.of(thing)["seen"] = True
        del thing
        gc.collect()
    assert len(table) == 0
