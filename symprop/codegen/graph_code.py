"""Generated code for any graph: one line per node forward and one per adjoint backward.

:func:`graph_source` prints ``def gradient(values)``: the inputs and parameters are read from
one mapping by name, never passed as thousands of positional arguments, so that the same
function serves a graph of three nodes and a 784-16-10 network written out node by node.
"""
from __future__ import annotations

from sympy import Symbol

from symprop.codegen.numpy_helpers import NODE_HELPERS, NodePrinter, module_source
from symprop.numbers.straight_line import python_identifiers, stable_form


def graph_source(derivation, *, name: str = "gradient") -> str:
    """Python source (NumPy) of the forward and backward pass of any graph.

    ``def gradient(values)`` reads every input and parameter from the mapping ``values`` by its
    name (``values["w1"]``), assigns every node in graph order, then every adjoint
    ``delta_u = sum_v delta_v dv/du`` from the output down, then every parameter's
    ``dE/dw = sum_v delta_v dv/dw``, and returns ``(output value, {parameter name: gradient})``.
    The values may be numbers or NumPy arrays of one shape (every line is elementwise, so a batch
    of points is evaluated at once); a gradient that is the same at every point is then repeated
    to that shape, so that a sum over the points counts it at each.

    The forward pass is stable at any logit (logs of sigmoid and softmax nodes go through the
    logits); the backward lines are the derivation's own, so a sigmoid followed by a separate
    log-loss keeps its factor ``1/(1 - a)``, which divides by zero once ``a`` rounds to 1 (``z``
    above about 37). The fused losses, and the layer code of
    :mod:`symprop.codegen.numpy_code`, avoid that factor.
    """
    graph = derivation.graph
    adjoints = list(derivation.adjoints.values())
    gradients = list(derivation.gradients.values())
    gradient_symbols = [Symbol(f"d{graph.output.name}_d{g.symbol.name}") for g in gradients]
    identifiers = python_identifiers(
        [*graph.inputs, *graph.parameters, *graph.nodes, *(a.symbol for a in adjoints), *gradient_symbols],
        reserved=(name, "values", "numpy", "functools", *NODE_HELPERS),
    )

    def readable(expr):
        return stable_form(expr, graph, complements=False)

    forward = [(e.node, readable(e.expr)) for e in graph.equations]
    backward = [(a.symbol, readable(a.definition)) for a in adjoints]
    backward += [(s, readable(g.delta_form)) for s, g in zip(gradient_symbols, gradients)]
    constant = _constants([*forward, *backward])
    printer = _RenamingPrinter(identifiers)
    output = identifiers[graph.output]
    mapping = ", ".join(
        f"{p.name!r}: {_every_point(identifiers[s], output) if s in constant else identifiers[s]}"
        for p, s in zip(graph.parameters, gradient_symbols)
    )
    lines = [f"def {name}(values):", _docstring(graph)]
    lines += [f"    {identifiers[s]} = values[{s.name!r}]" for s in (*graph.inputs, *graph.parameters)]
    lines += [f"    {identifiers[target]} = {printer.doprint(expr)}" for target, expr in [*forward, *backward]]
    lines.append(f"    return {output}, {{{mapping}}}")
    return module_source("\n".join(lines))


class _RenamingPrinter(NodePrinter):
    """The node printer with every symbol printed as its Python identifier (``x[1]`` as ``x_1``)."""

    def __init__(self, identifiers):
        super().__init__()
        self._identifiers = identifiers

    def _print_Symbol(self, expr):
        return self._identifiers[expr]


def _docstring(graph) -> str:
    output = graph.output.name
    return (f'    """{output} and its gradient by each parameter.\n\n'
            "    values maps every input and parameter name to a number, or to NumPy arrays of one shape\n"
            "    (a batch of points, evaluated elementwise). Returns\n"
            f'    ({output}, {{parameter name: d{output}/dparameter}}).\n    """')


def _constants(assignments) -> set[Symbol]:
    """The targets whose value is the same at every point: their expression has no symbol but
    earlier constants (``delta_f = 1``, and a gradient equal to it)."""
    constant: set[Symbol] = set()
    for target, expr in assignments:
        if expr.free_symbols <= constant:
            constant.add(target)
    return constant


def _every_point(name: str, output: str) -> str:
    """``name`` repeated to the output's shape: one entry per point, as the other gradients have."""
    return f"numpy.full(numpy.shape({output}), {name}) if numpy.ndim({output}) else {name}"
