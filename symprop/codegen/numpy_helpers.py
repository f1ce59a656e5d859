"""NumPy helpers that generated code calls, stable at any logit, and the printer that calls them.

Each helper is pasted, by its source, into the code symprop generates
(:func:`module_source`), so that generated code runs on NumPy alone. The
functions' own helpers are the NumPy forms of their records
(:mod:`symprop.model.activations`, :mod:`symprop.model.losses`): sigmoid from
``e^{-|z|}``, softplus as ``max(z, 0) + log(1 + e^{-|z|})``, softmax shifted by
its largest logit, so ``|z| = 1000`` raises no overflow.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Callable

import numpy
from sympy.printing.numpy import NumPyPrinter

from symprop.model import functions
from symprop.numbers.straight_line import StraightLineMixin


#: log_sigmoid calls softplus by that name, here as in generated code (where it is pasted beside it).
softplus = functions.ACTIVATION_RECORDS["softplus"].numpy


def log_sigmoid(z):
    """log sigma(z) = -softplus(-z)."""
    return -softplus(-z)


def log_softmax(k, *z):
    """log softmax_k(z) = z_k - max z - log sum_j e^(z_j - max z)."""
    top = functools.reduce(numpy.maximum, z)
    return z[int(k) - 1] - top - numpy.log(sum(numpy.exp(zj - top) for zj in z))


def softmax_rows(z):
    """softmax along the last axis (one row per example), shifted by the row maximum."""
    e = numpy.exp(z - numpy.max(z, axis=-1, keepdims=True))
    return e / numpy.sum(e, axis=-1, keepdims=True)


def log_softmax_rows(z):
    """log softmax along the last axis: z - max z - log sum e^(z - max z)."""
    top = numpy.max(z, axis=-1, keepdims=True)
    return z - top - numpy.log(numpy.sum(numpy.exp(z - top), axis=-1, keepdims=True))


#: Helper name -> (function, helpers it calls), for pasting into generated source: each record's
#: NumPy form under the function's name, then the stable logarithms and the row-wise softmax.
NODE_HELPERS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    **{record.name: (record.numpy, ()) for record in functions.FUNCTION_RECORDS if record.numpy},
    "softmax_rows": (softmax_rows, ()),
    "log_softmax_rows": (log_softmax_rows, ()),
    "log_sigmoid": (log_sigmoid, ("softplus",)),
    "log_softmax": (log_softmax, ()),
}


def helper(name: str) -> Callable:
    """The helper generated code calls as ``name`` (``sigmoid``, ``softmax_rows``)."""
    return NODE_HELPERS[name][0]


def helper_source(code: str) -> str:
    """The source of the helpers that ``code`` calls, and of the helpers they call, each
    defined under the name the code calls it by."""
    wanted: set[str] = set()

    def add(name):
        wanted.add(name)
        for dependency in NODE_HELPERS[name][1]:
            add(dependency)

    for name in NODE_HELPERS:
        if re.search(rf"\b{name}\(", code):
            add(name)
    return "\n\n".join(_source_as(n, NODE_HELPERS[n][0]) for n in NODE_HELPERS if n in wanted)


def _source_as(name: str, function: Callable) -> str:
    """``function``'s source with its ``def`` line naming it ``name`` (records name theirs ``_sigmoid_numpy``)."""
    source = inspect.getsource(function)
    return re.sub(rf"^def {function.__name__}\(", f"def {name}(", source, count=1, flags=re.MULTILINE)


def module_source(*functions_source: str) -> str:
    """A pasteable module: imports, the helpers the functions call, then the functions."""
    body = "\n\n".join(f.rstrip("\n") + "\n" for f in functions_source)
    helpers = helper_source(body)
    header = "import functools\n\nimport numpy\n" if "functools." in helpers + body else "import numpy\n"
    return "\n\n".join(p.rstrip("\n") + "\n" for p in (header, helpers, body) if p)


class NodePrinter(StraightLineMixin, NumPyPrinter):
    """NumPy code for one node's expression; symprop's functions print as calls to
    the helpers of :data:`NODE_HELPERS`."""

    heaviside_name = "numpy.heaviside"

    def __init__(self, settings=None):
        super().__init__({"allow_unknown_functions": True, **(settings or {})})

    def _print_Max(self, expr):
        return functools.reduce(lambda a, b: f"numpy.maximum({a}, {b})", [self._print(a) for a in expr.args])

    def _print_Min(self, expr):
        return functools.reduce(lambda a, b: f"numpy.minimum({a}, {b})", [self._print(a) for a in expr.args])
