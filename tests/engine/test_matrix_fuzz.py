"""Generated graphs mixing scalars, Matrices of symbols and MatrixSymbols: every gradient
is ``sympy.diff`` of the loss SymPy writes out itself, or the graph is refused in one line."""
from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Matrix, MatrixSymbol, Symbol, Trace
from sympy.matrices.expressions.matexpr import MatrixElement

from symprop.engine.backprop import derive
from symprop.errors import SympropError
from symprop.model.activations import sigmoid
from symprop.model.graph import Graph
from tests.reference import assert_equal_at_random_points

L, c = Symbol("L", real=True), Symbol("c", real=True)
ELEMENTWISE = (None, sympy.sin, sigmoid, lambda e: e ** 2)


@st.composite
def matrix_graphs(draw):
    """``u = f(A v + k M)`` (A a MatrixSymbol parameter, M a Matrix of symbols, v an input,
    k a scalar), an optional matrix node, and a scalar loss of ``u``; sometimes an
    operation symprop refuses (an inverse)."""
    rows, columns = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    A, v = MatrixSymbol("A", rows, columns), MatrixSymbol("v", columns, 1)
    M = Matrix(rows, 1, sympy.symbols(f"m0:{rows}", real=True))
    pre, refusal = A * v + draw(st.sampled_from((sympy.S.One, c))) * M, None
    if draw(st.booleans()) and rows == columns:
        kind = draw(st.sampled_from(("inverse", "power", "unused")))
        pre = {"inverse": A.inv() * v, "power": A * A * v + M, "unused": A * v}[kind]
        refusal = {"inverse": "uses the matrix inverse", "unused": "occurs in no node"}.get(kind)
    function = draw(st.sampled_from(ELEMENTWISE))
    u = MatrixSymbol("u", rows, 1)
    value = pre.applyfunc(function) if function is not None else pre
    loss = draw(st.sampled_from(("square", "trace", "entry", "scaled")))
    losses = {"square": u.T * u, "trace": Trace(u * u.T), "entry": u[0, 0] * c + u[rows - 1, 0],
              "scaled": c * (u.T * u)}
    pairs = [(u, value), (L, losses[loss])]
    in_matrices = losses[loss].xreplace({u: value})
    parameters = [A, M] + ([c] if in_matrices.has(c) else [])
    return pairs, parameters, [v], in_matrices, refusal


def written_out_by_sympy(expr):
    """``expr`` with each MatrixSymbol written out by SymPy and each entry a real symbol."""
    explicit = expr.xreplace({m: m.as_explicit() for m in expr.atoms(MatrixSymbol)}).doit()
    explicit = explicit.as_explicit() if isinstance(explicit, sympy.MatrixExpr) else explicit
    explicit = explicit[0, 0] if isinstance(explicit, sympy.MatrixBase) else explicit
    return explicit.xreplace({e: Symbol(str(e), real=True) for e in explicit.atoms(MatrixElement)})


@settings(max_examples=20, deadline=None)
@given(matrix_graphs())
def test_generated_matrix_graphs_are_derived_exactly_or_refused_in_one_line(case):
    pairs, parameters, inputs, in_matrices, refusal = case
    try:
        graph = Graph.from_pairs(pairs, parameters=parameters, inputs=inputs)
        derivation = derive(graph)
    except SympropError as error:
        message = str(error)
        assert refusal is not None and "\n" not in message and refusal in message, message
        return
    assert refusal is None
    loss = written_out_by_sympy(in_matrices)
    symbols = sorted(loss.free_symbols | set(graph.parameters), key=str)
    assert len(derivation) == len(graph.parameters)
    for gradient in derivation:
        closed = gradient.closed_form.xreplace(graph.expanded_nodes)
        assert_equal_at_random_points(closed, sympy.diff(loss, gradient.symbol), symbols, points=2)
    matrix = derivation["A"]
    assert matrix.closed_form.shape == parameters[0].shape
    assert matrix.matrix_form is not None or matrix.matrix_form_note
