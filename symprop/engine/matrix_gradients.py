r"""Matrix parameters' gradients: the entries' gradients gathered into a matrix, and a
matrix form from SymPy's matrix calculus, proven against them.

Each entry ``W[i, j]`` has its :class:`~symprop.engine.records.Gradient` from the one
reverse walk. For a MatrixSymbol ``W`` the loss is rebuilt in the network's matrices
(each node's expression as written, substituted into the later ones) and SymPy's matrix
derivative ``loss.diff(W)`` gives a compact form, as matrixcalculus.org prints it:
``dL/dW = 2 (W x + b - y) x^T`` for ``L = (W x + b - y)^T (W x + b - y)``. The form is kept
only if, written out entry by entry, it equals every entry's closed form at random
high-precision points (the same arithmetic for both sides, no ``simplify``); otherwise
the record has no matrix form and says why.
"""
from __future__ import annotations

import random
import warnings
from functools import partial

import sympy
from sympy import ImmutableMatrix, MatrixSymbol, Symbol
from sympy.matrices.expressions import MatrixExpr, Trace
from sympy.utilities.exceptions import SymPyDeprecationWarning

from symprop.engine.records import Gradient, MatrixGradient
from symprop.model.graph import Graph
from symprop.model.matrices import MatrixError, MatrixRecord, written_out

#: Random points at which a matrix form is compared with the entries, and their digits.
PROOF_POINTS = 3
PROOF_DIGITS = 30


def matrix_gradients(graph: Graph, gradients: dict[Symbol, Gradient]) -> dict[str, MatrixGradient]:
    """A :class:`MatrixGradient` per matrix parameter of ``graph``; each matrix form is
    found (and proven) on first use."""
    loss = _Loss(graph)
    return {
        name: MatrixGradient(
            name, record.written, graph.output, record.entries.shape, tuple(gradients[s] for s in record.entries),
            partial(_proven_matrix_form, graph, record, loss, tuple(gradients[s] for s in record.entries)),
        )
        for name, record in graph.arrays.of_role("parameter").items()
    }


class _Loss:
    """The output written in the network's matrices, built once on first use."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.done = False
        self.value: sympy.Expr | None = None
        self.note = ""

    def get(self) -> tuple[sympy.Expr | None, str]:
        if not self.done:
            self.value, self.note = output_in_matrices(self.graph)
            self.done = True
        return self.value, self.note


def output_in_matrices(graph: Graph) -> tuple[sympy.Expr | None, str]:
    """The output as a scalar expression in the inputs' and parameters' matrices (each
    node's expression as written, substituted into the later ones; a 1x1 matrix as its
    trace), or None and why."""
    written = graph.arrays.written
    original = _original_output(graph)
    if original not in written:
        return None, f"the output {graph.output} is not a node written in matrices"
    values: dict = {}
    for node, expr in written.items():
        value = sympy.sympify(expr).xreplace(values)
        values[node] = Trace(value) if isinstance(node, Symbol) and isinstance(value, MatrixExpr) else value
    loss = values[original]
    if isinstance(loss, MatrixExpr):  # a 1x1 matrix node
        loss = Trace(loss)
    return loss, ""


def _original_output(graph: Graph):
    """The output as the network wrote it: a 1x1 MatrixSymbol node for its entry ``L[0, 0]``."""
    for record in graph.arrays.of_role("node").values():
        if graph.output in record.entries:
            return record.written
    return graph.output


def _proven_matrix_form(graph: Graph, record: MatrixRecord, loss: _Loss, entries_gradients) -> tuple[object, str]:
    """``(form, how it was proven)``, or ``(None, why there is none)``."""
    if not isinstance(record.written, MatrixSymbol):
        return None, f"{record.name} is given entry by entry (a Matrix of symbols): there is no matrix to differentiate"
    expr, note = loss.get()
    if expr is None:
        return None, note
    if not expr.has(record.written):
        return None, f"the output is written in the entries of {record.name}, not in {record.name} itself"
    form = _sympy_matrix_derivative(expr, record.written)
    if form is None:
        return None, f"SymPy's matrix calculus gives no matrix expression for the derivative by {record.name}"
    try:
        entries = written_out(form, _entry_table(graph), f"the matrix form of d{graph.output}/d{record.name}")
    except MatrixError:
        return None, f"SymPy's matrix derivative by {record.name} cannot be written out entry by entry"
    if not isinstance(entries, ImmutableMatrix) or entries.shape != record.entries.shape:
        return None, f"SymPy's matrix derivative by {record.name} does not have the shape of {record.name}"
    closed = [g.closed_form for g in entries_gradients]
    if not equal_at_random_points(graph, list(entries), closed):
        return None, f"SymPy's matrix derivative by {record.name} differs from the entries' gradients"
    return form, f"equal to every entry's gradient at {PROOF_POINTS} random points ({PROOF_DIGITS} digits)"


def _sympy_matrix_derivative(expr, matrix: MatrixSymbol):
    """``d expr / d matrix`` from SymPy's matrix calculus as a matrix expression, or None."""
    try:
        with warnings.catch_warnings():  # SymPy's own array calculus warns about its internals
            warnings.simplefilter("ignore", SymPyDeprecationWarning)
            form = expr.diff(matrix)
    except Exception:  # SymPy raises many kinds of error on what its matrix calculus lacks
        return None
    if not isinstance(form, MatrixExpr):
        try:
            from sympy.tensor.array.expressions import convert_array_to_matrix
            form = convert_array_to_matrix(form)
        except Exception:
            return None
    if not isinstance(form, MatrixExpr) or form.has(sympy.Derivative):
        return None
    return form


def _entry_table(graph: Graph) -> dict[MatrixSymbol, ImmutableMatrix]:
    """Each MatrixSymbol of the network -> the Matrix of its entry symbols."""
    return {r.written: r.entries for r in graph.arrays.records.values() if isinstance(r.written, MatrixSymbol)}


def equal_at_random_points(graph: Graph, left, right, points: int = PROOF_POINTS, seed: int = 0) -> bool:
    """``left[k] == right[k]`` for every ``k`` at ``points`` random points: inputs and
    parameters drawn at random, the nodes computed forward, everything evaluated with
    :data:`PROOF_DIGITS` digits; a value that is not a finite number disproves."""
    rng = random.Random(seed)
    for _ in range(points):
        values = random_point(graph, rng)
        if not all(_close(sympy.sympify(a).xreplace(values), sympy.sympify(b).xreplace(values))
                   for a, b in zip(left, right, strict=True)):
            return False
    return True


def _close(a, b) -> bool:
    """``a`` and ``b`` agree to 20 of the :data:`PROOF_DIGITS` digits (relative to 1 + |b|)."""
    difference, size = sympy.N(a - b, PROOF_DIGITS), sympy.N(b, PROOF_DIGITS)
    if not (difference.is_number and size.is_number) or difference.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return False
    try:
        return abs(complex(difference)) <= 1e-20 * (1 + abs(complex(size)))
    except (TypeError, ValueError):
        return False


def random_point(graph: Graph, rng: random.Random) -> dict[Symbol, sympy.Expr]:
    """Inputs and parameters at random (magnitudes 0.1 to 0.9, either sign), then every node."""
    values: dict[Symbol, sympy.Expr] = {
        s: sympy.Rational(rng.choice((-1, 1)) * rng.randint(100, 900), 1000) for s in (*graph.inputs, *graph.parameters)
    }
    for eq in graph.equations:
        values[eq.node] = eq.expr.xreplace(values).evalf(PROOF_DIGITS)
    return values
