"""Graphs of one layer type for the tests: an input array through the layer to a loss.

``layer_graph(spec, shape)`` builds ``x`` (shape ``shape``) -> ``spec`` -> ``L = 1/2 sum (y - t)^2``
over every output entry, with ``t`` shaped like the output; the given initial states of a
recurrent layer are inputs too. ``random_values`` draws a number for every input and parameter.
"""
from __future__ import annotations

import numpy
import sympy
from sympy import Rational, Symbol

from symprop.model.graph import Graph
from symprop.model.layer_types import Names


def layer_graph(spec, shape, *, index: int = 1):
    """``(graph, layer)`` for ``spec`` over an input of ``shape`` and the half squared error."""
    names = Names()
    x = names.array("x", tuple(shape), "x", "the input")
    layer = spec.build(x, index, names)
    t = names.array("t", layer.outputs.shape, "t", "the targets")
    loss = Symbol("L", real=True)
    error = Rational(1, 2) * sympy.Add(*[(y - target) ** 2 for y, target in zip(layer.outputs.flat, t.flat)])
    states = [s for array in getattr(layer, "states", {}).values() for s in array.flat]
    graph = Graph.from_pairs([*layer.equations, (loss, error)], inputs=[*x.flat, *states, *t.flat],
                             parameters=layer.parameter_symbols, output=loss, latex_names=names.latex)
    return graph, layer


def random_values(graph: Graph, seed: int = 0, scale: float = 0.8) -> dict[str, float]:
    """A value in ``[-scale, scale]`` for every input and parameter, by name."""
    rng = numpy.random.default_rng(seed)
    return {s.name: float(rng.uniform(-scale, scale)) for s in (*graph.inputs, *graph.parameters)}


def array_values(values: dict[str, float], array: numpy.ndarray) -> numpy.ndarray:
    """The numbers of ``values`` laid out as ``array`` (an array of symbols)."""
    return numpy.vectorize(lambda s: values[s.name], otypes=[float])(array)
