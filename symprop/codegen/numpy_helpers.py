"""NumPy helpers that generated code calls, stable at any logit, and the printer that calls them.

Each helper is used by symprop and pasted, by its source, into the code it
generates (:func:`module_source`), so that generated code runs on NumPy alone.
Sigmoid is evaluated from ``e^{-|z|}``, softplus as ``max(z, 0) + log(1 + e^{-|z|})``
and softmax shifted by its largest logit, so ``|z| = 1000`` raises no overflow.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Callable

import numpy
from sympy.printing.numpy import NumPyPrinter

from symprop.numbers.straight_line import HeavisideMixin


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^(-z)), from e^(-|z|) so that no exponential overflows."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(numpy.greater_equal(z, 0), 1 / (1 + e), e / (1 + e))


def softplus(z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^(-|z|))."""
    return numpy.maximum(z, 0) + numpy.log1p(numpy.exp(-numpy.abs(z)))


def log_sigmoid(z):
    """log sigma(z) = -softplus(-z)."""
    return -softplus(-z)


def relu(z):
    """max(0, z)."""
    return numpy.maximum(z, 0)


def leaky_relu(z, alpha):
    """z for z > 0, alpha z otherwise."""
    return numpy.where(numpy.greater(z, 0), z, alpha * z)


def softmax(k, *z):
    """e^(z_k) / sum_j e^(z_j) (k counts from 1), shifted by max_j z_j so that no exponential overflows."""
    top = functools.reduce(numpy.maximum, z)
    e = [numpy.exp(zj - top) for zj in z]
    return e[int(k) - 1] / sum(e)


def log_softmax(k, *z):
    """log softmax_k(z) = z_k - max z - log sum_j e^(z_j - max z)."""
    top = functools.reduce(numpy.maximum, z)
    return z[int(k) - 1] - top - numpy.log(sum(numpy.exp(zj - top) for zj in z))


def softmax_cross_entropy(*logits_and_targets):
    """-sum_k t_k log softmax_k(z), given z_1..z_n, t_1..t_n."""
    n = len(logits_and_targets) // 2
    z, t = logits_and_targets[:n], logits_and_targets[n:]
    return -sum(tk * log_softmax(k, *z) for k, tk in enumerate(t, start=1))


def softmax_rows(z):
    """softmax along the last axis (one row per example), shifted by the row maximum."""
    e = numpy.exp(z - numpy.max(z, axis=-1, keepdims=True))
    return e / numpy.sum(e, axis=-1, keepdims=True)


def log_softmax_rows(z):
    """log softmax along the last axis: z - max z - log sum e^(z - max z)."""
    top = numpy.max(z, axis=-1, keepdims=True)
    return z - top - numpy.log(numpy.sum(numpy.exp(z - top), axis=-1, keepdims=True))


#: Helper name -> (function, helpers it calls), for pasting into generated source.
NODE_HELPERS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "softmax_rows": (softmax_rows, ()),
    "log_softmax_rows": (log_softmax_rows, ()),
    "sigmoid": (sigmoid, ()),
    "softplus": (softplus, ()),
    "log_sigmoid": (log_sigmoid, ("softplus",)),
    "relu": (relu, ()),
    "leaky_relu": (leaky_relu, ()),
    "softmax": (softmax, ()),
    "log_softmax": (log_softmax, ()),
    "softmax_cross_entropy": (softmax_cross_entropy, ("log_softmax",)),
}


def helper_source(code: str) -> str:
    """The source of the helpers that ``code`` calls, and of the helpers they call."""
    wanted: set[str] = set()

    def add(name):
        wanted.add(name)
        for dependency in NODE_HELPERS[name][1]:
            add(dependency)

    for name in NODE_HELPERS:
        if re.search(rf"\b{name}\(", code):
            add(name)
    return "\n\n".join(inspect.getsource(NODE_HELPERS[n][0]) for n in NODE_HELPERS if n in wanted)


def module_source(*functions_source: str) -> str:
    """A pasteable module: imports, the helpers the functions call, then the functions."""
    body = "\n\n".join(f.rstrip("\n") + "\n" for f in functions_source)
    helpers = helper_source(body)
    header = "import functools\n\nimport numpy\n" if "functools." in helpers + body else "import numpy\n"
    return "\n\n".join(p.rstrip("\n") + "\n" for p in (header, helpers, body) if p)


class NodePrinter(HeavisideMixin, NumPyPrinter):
    """NumPy code for one node's expression; symprop's functions print as calls to
    the helpers of :data:`NODE_HELPERS`."""

    heaviside_name = "numpy.heaviside"

    def __init__(self, settings=None):
        super().__init__({"allow_unknown_functions": True, **(settings or {})})

    def _print_Max(self, expr):
        return functools.reduce(lambda a, b: f"numpy.maximum({a}, {b})", [self._print(a) for a in expr.args])

    def _print_Min(self, expr):
        return functools.reduce(lambda a, b: f"numpy.minimum({a}, {b})", [self._print(a) for a in expr.args])
