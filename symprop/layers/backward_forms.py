r"""The backward equations of a layer type, worked with its concrete arrays and proven
equal, entry by entry, to the engine's per-entry gradients.

A :class:`BackwardForm` is what a tutorial writes for a layer (backpropagation through time,
the LSTM's gate-by-gate equations, ``dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm))``,
the softmax Jacobian): equations over matrix symbols, in order, within one *iteration*
(a time step, a row, a feature, or the whole layer). Some define a quantity of the
iteration (``\delta_t``); the ``summed`` ones add a term to a gradient, summed over the
iterations (``dC/dW_h = sum_t \delta_t h_{t-1}^T``). The very equations a document prints
are the ones :func:`work_backward` instantiates, with each symbol bound to the layer's
nodes at that iteration (:meth:`BackwardForm.bind`) and the upstream gradient
``dC/d(output)`` taken from the engine: the part of each output's adjoint that comes from
outside the layer (:func:`upstream_gradient`), so the layer's own recurrences are the
form's to work out.

:func:`prove_form` compares every parameter entry's gradient and every input entry's
gradient (the part through this layer) with the engine's at random points with 40 digits,
and raises :class:`~symprop.layers.matrix_proof.MatrixFormError` naming the first entry
that differs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy
import sympy
from sympy import Expr, ImmutableMatrix, Symbol
from sympy.matrices.expressions import MatrixExpr

from symprop.engine.backprop import node_gradient
from symprop.engine.records import Derivation
from symprop.layers.matrix_expressions import work_out
from symprop.layers.matrix_proof import MatrixFormError, _Comparer, value_at
from symprop.model.layer_types import ArrayLayer
from symprop.printing.latex import latex

__all__ = ["BackwardForm", "FormEquation", "Mean", "column", "form_latex", "prove_form", "prove_forward",
           "upstream_gradient",
           "within_layer_gradient", "work_backward"]


class Mean(MatrixExpr):
    r"""``mean(v)``: a matrix shaped like ``v`` whose every entry is the mean of ``v``'s entries
    (the broadcast a tutorial writes as ``dnorm - mean(dnorm)``)."""

    def __new__(cls, matrix):
        return MatrixExpr.__new__(cls, matrix)

    matrix = property(lambda self: self.args[0])
    shape = property(lambda self: self.matrix.shape)

    def doit(self, **hints):
        matrix = self.matrix.doit(**hints)
        if not isinstance(matrix, sympy.MatrixBase):
            return self.func(matrix)
        mean = sympy.Add(*matrix) / len(matrix)
        return ImmutableMatrix(*matrix.shape, [mean] * len(matrix))

    def _latex(self, printer):
        return r"\operatorname{mean}\left(%s\right)" % printer._print(self.matrix)


@dataclass(frozen=True)
class FormEquation:
    """``lhs = rhs`` within one iteration; ``summed``: ``lhs = sum over the iterations of rhs``;
    ``at_end``: worked out at the last iteration only (a given initial state's gradient, at
    ``t = 0``)."""

    key: str
    lhs: Expr
    rhs: Expr
    summed: bool = False
    at_end: bool = False


@dataclass(frozen=True)
class BackwardForm:
    r"""A layer type's backward equations and how they meet a built layer.

    ``iterations(layer)`` lists the iterations in the order the equations run (a recurrence
    runs from the last step back); ``bind(layer, upstream, iteration)`` maps the form's
    forward symbols to concrete matrices; ``carry`` maps a symbol of the next iteration
    (``\delta_{t+1}``) to the one of this iteration it takes (``\delta_t``), zero before the
    first; ``gradients(layer, per_iteration, sums)`` reads off each parameter and input entry's
    gradient. ``names`` gives the symbols' LaTeX; ``over`` names the sum (``t``) and
    ``sum_text`` says in words what it runs over."""

    kind: str
    equations: tuple[FormEquation, ...]
    iterations: Callable[[ArrayLayer], Iterable]
    bind: Callable[[ArrayLayer, numpy.ndarray, object], dict]
    gradients: Callable[[ArrayLayer, dict, dict], dict]
    carry: tuple[tuple[MatrixExpr, MatrixExpr], ...] = ()
    names: Mapping[Expr, str] = field(default_factory=dict)
    over: str = "t"
    end: str = "t = 0"
    #: The forward equations of one iteration (``z_t = W_x x_t + W_h h_{t-1} + b``), each ``lhs``
    #: bound to the layer's nodes, proven equal to the graph's definitions (:func:`prove_forward`).
    forward: tuple[FormEquation, ...] = ()

    def forward_rows(self) -> list[str]:
        """The forward equations as rows aligned at their ``=``."""
        return [form_latex(eq, self.names, self.over).replace(" = ", " &= ", 1) for eq in self.forward]

    def latex_rows(self) -> tuple[tuple[str, str], ...]:
        """``(key, "lhs = rhs")`` per equation, a summed one with ``\\sum_{t}``, one worked out at the
        end with its iteration (``\\quad (t = 0)``)."""
        return tuple((eq.key, form_latex(eq, self.names, self.over, self.end)) for eq in self.equations)


    def aligned_rows(self) -> list[str]:
        """The equations as rows aligned at their ``=`` (``lhs &= rhs``)."""
        return [row.replace(" = ", " &= ", 1) for _, row in self.latex_rows()]


def form_latex(equation: FormEquation, names: Mapping[Expr, str], over: str, end: str = "") -> str:
    """One equation of a form as LaTeX, its symbols named by ``names``."""
    total = rf"\sum_{{{over}}} " if equation.summed else ""
    lhs, rhs = (latex(side, symbol_names=dict(names)) for side in (equation.lhs, equation.rhs))
    tail = rf" \quad ({end})" if equation.at_end and end else ""
    return f"{lhs} = {total}{rhs}{tail}"


def column(entries) -> ImmutableMatrix:
    """A column of the given entries (an array row, a time step's units)."""
    entries = list(numpy.asarray(entries, dtype=object).flat)
    return ImmutableMatrix(len(entries), 1, entries)


def work_backward(form: BackwardForm, layer: ArrayLayer, upstream: numpy.ndarray,
                  definitions: list | None = None) -> tuple[dict, dict]:
    """Every iteration's quantities (iteration -> symbol -> matrix) and the sums, by the form's
    own equations with the layer's arrays bound. With ``definitions`` (a list), each entry of a
    quantity is stood for by a new symbol, its ``(symbol, value)`` appended in order: a recurrence
    over many steps then stays a chain of small expressions, as the engine's deltas do, instead
    of one tree that grows with every step."""
    per_iteration, sums, carried = {}, {}, None
    iterations = list(form.iterations(layer))
    for iteration in iterations:
        mapping = form.bind(layer, upstream, iteration)
        for later, now in form.carry:
            mapping[later] = carried[now] if carried is not None else ImmutableMatrix.zeros(*_shape(later, mapping))
        for eq in form.equations:
            if eq.at_end and iteration != iterations[-1]:
                continue
            value = work_out(eq.rhs, mapping)
            if eq.summed:
                sums[eq.key] = value if eq.key not in sums else sums[eq.key] + value
            else:
                mapping[eq.lhs] = value if definitions is None else _stood_for(value, definitions)
        per_iteration[iteration] = mapping
        carried = mapping
    return per_iteration, sums


def _stood_for(value: ImmutableMatrix, definitions: list) -> ImmutableMatrix:
    """``value`` with each entry that is not a symbol or number replaced by a new symbol."""
    entries = []
    for entry in value:
        if not entry.is_Atom:
            standin = sympy.Dummy("q")
            definitions.append((standin, entry))
            entry = standin
        entries.append(entry)
    return ImmutableMatrix(*value.shape, entries)


def _shape(symbol: MatrixExpr, mapping: dict) -> tuple[int, int]:
    return tuple(int(sympy.sympify(n).xreplace(mapping)) for n in symbol.shape)


def upstream_gradient(derivation: Derivation, layer: ArrayLayer) -> numpy.ndarray:
    """``dC/d(output)`` entry by entry, as the layers above hand it down: the terms of each
    output's adjoint whose consumer is not a node of this layer, in forward quantities."""
    inside = _layer_nodes(layer)
    adjoints = derivation.adjoints
    values = numpy.empty(layer.outputs.shape, dtype=object)
    for position, node in numpy.ndenumerate(layer.outputs):
        adjoint = adjoints.get(node)
        if adjoint is None or not adjoint.terms:
            values[position] = sympy.S.One if adjoint is not None else sympy.S.Zero
            continue
        values[position] = sympy.Add(*[t.adjoint_closed * t.local for t in adjoint.terms if t.consumer not in inside])
    return values


def within_layer_gradient(derivation: Derivation, layer: ArrayLayer, symbol: Symbol) -> Expr:
    """The engine's ``dC/dsymbol`` through this layer's nodes only: the whole gradient of a
    parameter, the part of an input's that flows through this layer."""
    inside = _layer_nodes(layer)
    gradient = derivation.gradients.get(symbol) or derivation.input_gradients.get(symbol)
    if gradient is None:
        gradient = node_gradient(derivation, symbol, max_paths=0)
    return sympy.Add(*[t.adjoint_closed * t.local for t in gradient.terms if t.consumer in inside])


def _layer_nodes(layer: ArrayLayer) -> frozenset[Symbol]:
    return frozenset(node for node, _ in layer.equations)


def prove_forward(form: BackwardForm, graph, layer: ArrayLayer) -> int:
    """Every entry of the form's forward equations, worked at each iteration, against the graph's
    definition of the node it names (equal when their difference expands to 0); the number of
    entries proven. A difference raises :class:`MatrixFormError`."""
    compared = 0
    zeros = numpy.full(layer.outputs.shape, sympy.S.Zero, dtype=object)
    for iteration in form.iterations(layer):
        mapping = form.bind(layer, zeros, iteration)
        for eq in form.forward:
            nodes, values = work_out(eq.lhs, mapping), work_out(eq.rhs, mapping)
            for node, value in zip(nodes, values):
                if sympy.expand(graph.definition[node] - value) != 0:
                    raise MatrixFormError(f"layer {layer.index} ({layer.kind}): the forward equation {eq.key} gives "
                                          f"{node} = {value}, the graph says {graph.definition[node]}")
                compared += 1
    return compared


def prove_form(form: BackwardForm, derivation: Derivation, layer: ArrayLayer, *, points: int = 2, digits: int = 40,
               seed: int = 0) -> int:
    """Every entry the form gives (parameters, then inputs and given states) against the
    engine at ``points`` random points; the number of entries proven. A difference raises
    :class:`MatrixFormError` naming the entry."""
    upstream = upstream_gradient(derivation, layer)
    # The upstream entries are stood for by symbols while the equations are worked out: written
    # out, a deep network's would be trees far larger than their DAGs (SymPy's doit walks trees).
    standins = numpy.vectorize(lambda _: sympy.Dummy("e"), otypes=[object])(upstream)
    definitions: list = []
    per_iteration, sums = work_backward(form, layer, standins, definitions)
    claimed = form.gradients(layer, per_iteration, sums)
    comparer = _Comparer(derivation, "points", points, digits, seed)
    for environment in comparer.environments():
        for standin, expr in (*zip(standins.flat, upstream.flat), *definitions):
            environment[standin] = value_at(sympy.sympify(expr), environment, digits)
    for symbol, value in claimed.items():
        engine = within_layer_gradient(derivation, layer, symbol)
        if not comparer.equal(value, engine, False):
            raise MatrixFormError(f"layer {layer.index} ({layer.kind}): d{derivation.graph.output}/d{symbol}: the "
                                  f"backward equations give {value}, the per-entry gradient is {engine}")
    return len(claimed)
