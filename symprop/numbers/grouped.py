r"""Vectorised float64 numbers for any derivation: each step computed for all its nodes of one shape at once.

A layer of a network repeats one expression over its units: every output of a
convolution is ``sum_k w_k x_(i+k) + b``, every unit of a ReLU layer ``relu(z)``, every
adjoint of a pooling window ``delta_p H(a - max(others))``. :func:`shape_of` reads an
expression's shape, its tree with each symbol replaced by the position of its first
appearance, so that two expressions of one shape differ only in which symbols fill
those positions. A straight-line program ``v_i = f_i(...)`` (the forward pass, the
adjoints ``delta_u = sum_c delta_c dc/du`` and gradients, the local derivatives) is then
run as :class:`Steps`: the assignments of each shape and depth evaluated by one
compiled NumPy function over an array of values, whose last axis holds every symbol
and whose leading axes run over examples and, in the gradient check, over perturbed
copies of the parameters.

The expressions are the engine's own (passed through :func:`stable_form`, as the scalar
program's are); only the order of float64 additions may differ from the scalar
program's. A derivation whose expressions use a symbol the program does not know, or
a function without a NumPy form, gets None, and the caller uses the scalar program.

:func:`numpy_function` (SymPy's NumPy printer, symprop's functions as their NumPy forms)
compiles every group, and the dense plan's columns (:mod:`symprop.numbers.vectorised`).
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy
import sympy
from sympy import Expr, Symbol
from sympy.printing.numpy import NumPyPrinter

from symprop.errors import SympropError
from symprop.model import functions
from symprop.model.per_object import per_object
from symprop.numbers.straight_line import StraightLineMixin, stable_form, straight_line_function


class _NumPyPrinter(StraightLineMixin, NumPyPrinter):
    """NumPy code; symprop's functions print as calls to their NumPy forms."""


def _numpy_helpers() -> dict[str, Callable]:
    """Each record's NumPy form (elementwise over arrays), and the stable logarithms and
    step that :func:`stable_form` and the derivatives write."""
    helpers = {record.name: record.numpy for record in functions.FUNCTION_RECORDS if record.numpy}
    softplus = helpers["softplus"]

    def log_softmax(k, *z):
        """log softmax_k(z) = z_k - m - log sum_j e^(z_j - m), m = max_j z_j."""
        top = numpy.maximum.reduce(numpy.broadcast_arrays(*z))
        return z[int(k) - 1] - top - numpy.log(sum(numpy.exp(zj - top) for zj in z))

    return dict(
        helpers, numpy=numpy, functools=functools, log_softmax=log_softmax,  # functools: Max and Min
        log_sigmoid=lambda z: -softplus(-z),
        heaviside=lambda z, h0: numpy.where(numpy.greater(z, 0), 1.0, numpy.where(numpy.less(z, 0), 0.0, h0)),
    )


_PRINTER = _NumPyPrinter({"allow_unknown_functions": True})
_HELPERS = _numpy_helpers()


def numpy_function(symbols: Sequence[Symbol], expressions: Sequence[sympy.Expr]) -> Callable[..., tuple]:
    """``(values of symbols) -> tuple(expressions)``, compiled for NumPy arrays (elementwise)."""
    return straight_line_function(tuple(symbols), [], tuple(expressions), _PRINTER, _HELPERS)


class NotCovered(SympropError):
    """An expression the grouped program cannot evaluate; caught by :func:`grouped_program`."""


def shape_of(expr: Expr) -> tuple[object, tuple[Symbol, ...]]:
    """``(shape, symbols)``: ``expr``'s tree with the k-th distinct symbol (in preorder) written
    as ``k``, and those symbols in that order. Two expressions of equal shape are one
    function of their symbols: ``e1 = F(symbols1)`` and ``e2 = F(symbols2)``."""
    order: dict[Symbol, int] = {}

    def shape(e):
        if e.is_Symbol:
            return order.setdefault(e, len(order))
        if not e.args:
            return e          # a number or constant: part of the shape
        return (e.func, *map(shape, e.args))

    return shape(expr), tuple(order)


@dataclass(frozen=True)
class Group:
    """Assignments ``values[..., targets[m]] = F(values[..., arguments[:, m]])`` of one shape ``F``."""

    function: Callable[..., tuple]
    targets: numpy.ndarray      # (members,) slots
    arguments: numpy.ndarray    # (arity, members) slots
    depth: int

    def run(self, values: numpy.ndarray) -> None:
        (result,) = self.function(*(values[..., slots] for slots in self.arguments))
        values[..., self.targets] = result


@dataclass(frozen=True)
class Steps:
    """A straight-line program as groups, in an order where each reads only what is known."""

    groups: tuple[Group, ...]   # by depth

    def run(self, values: numpy.ndarray, start: int = 0) -> None:
        """Fill the targets' slots of ``values`` (leading axes: any batch) in place, from the
        groups of depth ``start`` on (those below it already hold their values)."""
        for group in self.groups:
            if group.depth >= start:
                group.run(values)

    def first_reads(self, slots: numpy.ndarray) -> numpy.ndarray:
        """For each slot, the depth of the first group that reads it (past the last group if none):
        every target that depends on the slot is computed from that depth on."""
        first = numpy.full(len(slots), max((g.depth for g in self.groups), default=0) + 1)
        for group in self.groups:
            reads = numpy.isin(slots, group.arguments)
            first[reads] = numpy.minimum(first[reads], group.depth)
        return first


def grouped_steps(assignments: Sequence[tuple[int, Expr]], slot: dict[Symbol, int]) -> Steps:
    """The assignments ``(target slot, expression)``, in a valid order, as :class:`Steps`:
    grouped by depth (1 + the deepest target an expression reads; given slots are depth 0)
    and shape. Raises :class:`NotCovered` for a symbol without a slot."""
    depth_of_slot: dict[int, int] = {}
    members: dict[tuple, list] = defaultdict(list)
    for target, expr in assignments:
        shape, symbols = shape_of(expr)
        try:
            arguments = [slot[s] for s in symbols]
        except KeyError as missing:
            raise NotCovered(f"no value for {missing.args[0]}") from None
        depth = 1 + max((depth_of_slot.get(a, 0) for a in arguments), default=0)
        depth_of_slot[target] = depth
        members[(depth, shape)].append((target, arguments, expr, symbols))
    # The templates are the same trees, not evaluated again; one switch of SymPy's evaluate
    # for all of them, since each switch clears SymPy's whole cache.
    with sympy.evaluate(False):
        return Steps(tuple(_group(members[key], key[0]) for key in sorted(members, key=lambda key: key[0])))


def _group(members: list, depth: int) -> Group:
    """One compiled function for members of one shape, from the first member's expression
    (with SymPy's evaluation off)."""
    _, _, expr, symbols = members[0]
    placeholders = [Symbol(f"p{i}") for i in range(len(symbols))]
    template = expr.xreplace(dict(zip(symbols, placeholders)))
    arguments = numpy.array([m[1] for m in members], dtype=int).reshape(len(members), len(symbols)).T
    return Group(numpy_function(placeholders, [template]), numpy.array([m[0] for m in members], dtype=int),
                 arguments, depth)


@dataclass(frozen=True)
class GroupedProgram:
    """A derivation's forward pass, backward pass and local derivatives as :class:`Steps` over one
    array of slots ``[inputs, parameters, nodes, adjoints, gradients, local derivatives]``."""

    forward: Steps
    backward: Steps
    local: Steps
    inputs: numpy.ndarray
    parameters: numpy.ndarray
    nodes: numpy.ndarray
    output: int
    adjoints: numpy.ndarray
    gradients: numpy.ndarray
    locals: numpy.ndarray
    forward_width: int          # inputs, parameters and nodes: what the forward pass reads and writes
    backward_width: int         # those, the adjoints and the gradients
    width: int                  # every slot

    def values(self, rows: numpy.ndarray, theta: numpy.ndarray, width: int) -> numpy.ndarray:
        """``(..., examples, width)`` values with the inputs ``rows`` and the parameters ``theta``
        set (``theta``'s leading axes, if any, are copies of the parameters), every other slot 0."""
        values = numpy.zeros((*theta.shape[:-1], rows.shape[0], width))
        values[..., self.inputs] = rows
        values[..., self.parameters] = theta[..., None, :]
        return values


@per_object
def grouped_program(derivation) -> GroupedProgram | None:
    """The derivation's :class:`GroupedProgram`, or None when an expression is not covered."""
    try:
        return _program(derivation)
    except NotCovered:
        return None


def _program(derivation) -> GroupedProgram:
    graph = derivation.graph
    if graph.output not in graph.nodes:
        raise NotCovered("the output is not a node")
    adjoints = list(derivation.adjoints.values())
    gradients = [sympy.Dummy(f"g_{p.name}") for p in graph.parameters]
    symbols = [*graph.inputs, *graph.parameters, *graph.nodes, *(a.symbol for a in adjoints), *gradients]
    slot = {s: i for i, s in enumerate(symbols)}
    if len(slot) != len(symbols):
        raise NotCovered("a symbol is both a node and an adjoint")

    def stable(expr):
        return stable_form(sympy.sympify(expr), graph)

    local_base = len(symbols)
    forward = [(slot[e.node], stable(e.expr)) for e in graph.equations]
    backward = [(slot[a.symbol], stable(a.definition)) for a in adjoints]
    backward += [(slot[g], stable(derivation.gradients[p].delta_form)) for g, p in zip(gradients, graph.parameters)]
    local = [(local_base + i, stable(d)) for i, d in enumerate(derivation.local.values())]
    positions = lambda items: numpy.array([slot[s] for s in items], dtype=int)  # noqa: E731
    return GroupedProgram(
        grouped_steps(forward, slot), grouped_steps(backward, slot), grouped_steps(local, slot),
        positions(graph.inputs), positions(graph.parameters), positions(graph.nodes), slot[graph.output],
        positions([a.symbol for a in adjoints]), positions(gradients),
        numpy.arange(local_base, local_base + len(local), dtype=int),
        len(graph.inputs) + len(graph.parameters) + len(graph.nodes), local_base, local_base + len(local),
    )
