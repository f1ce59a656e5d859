"""The cycle collector is paused inside bulk work and restored after, nested or not."""
from __future__ import annotations

import gc

import pytest

from symprop.model.collection import bulk, in_bulk


def test_bulk_pauses_the_collector_and_restores_it_even_on_an_error():
    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        with bulk():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one leaves it as the outer one found it
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with bulk():
            raise ValueError("inside")
    assert gc.isenabled()


def test_bulk_leaves_a_collector_paused_outside_paused():
    gc.disable()
    try:
        with bulk():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_in_bulk_runs_the_function_paused_and_keeps_its_name():
    seen = in_bulk(lambda: gc.isenabled())
    assert seen() is False and gc.isenabled()
    assert in_bulk(test_bulk_leaves_a_collector_paused_outside_paused).__name__ == "test_bulk_leaves_a_collector_paused_outside_paused"
