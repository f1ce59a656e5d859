"""Bulk work without the cycle collector's passes.

Building a large network and deriving it create hundreds of thousands of small objects (SymPy
expressions, records, tuples) that hold no reference cycles: reference counting frees
them all. Python's cycle collector still runs a pass every 700 new container objects,
and its older generations walk everything built so far, so that on 784-16-10 about a
third of deriving and building every form was spent in collections that found nothing.
:func:`bulk` pauses the collector for the duration of such work and restores it after
(nested uses leave it as the outermost found it); cycles made meanwhile are collected by
the first pass after it. It lives at the bottom of the layers so that loading a file
(:mod:`symprop.files`) and building a network (:func:`symprop.model.nn.mlp`) use it too.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import wraps


@contextmanager
def bulk():
    """The cycle collector paused inside, as it was outside."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def in_bulk(function):
    """``function`` run inside :func:`bulk`."""
    @wraps(function)
    def run(*args, **kwargs):
        with bulk():
            return function(*args, **kwargs)
    return run
