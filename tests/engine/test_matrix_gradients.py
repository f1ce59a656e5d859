"""Matrix parameters: every entry's gradient against ``sympy.diff`` of the loss SymPy writes
out itself (``as_explicit``), and each matrix form against the entries."""
from __future__ import annotations

import pytest
import sympy
from sympy import ImmutableMatrix, Matrix, MatrixSymbol, Symbol, Trace
from sympy.matrices.expressions.matexpr import MatrixElement

from symprop.engine.backprop import derive
from symprop.engine.matrix_gradients import equal_at_random_points
from symprop.engine.records import Gradient, MatrixGradient
from symprop.errors import SympropError
from symprop.model.activations import sigmoid
from symprop.model.graph import Graph, GraphError
from tests.reference import exactly_equal, reference_gradient, assert_equal_at_random_points

L = Symbol("L", real=True)


def entries_of(expr):
    """``expr`` (a scalar or 1x1 matrix expression) written out by SymPy alone, each
    ``W[i, j]`` as the real symbol of that name."""
    explicit = expr.xreplace({m: m.as_explicit() for m in expr.atoms(MatrixSymbol)}).doit()
    explicit = explicit.as_explicit() if isinstance(explicit, sympy.MatrixExpr) else explicit
    explicit = explicit[0, 0] if isinstance(explicit, sympy.MatrixBase) else explicit
    elements = explicit.atoms(MatrixElement)
    return explicit.xreplace({e: Symbol(str(e), real=True) for e in elements})


def assert_entries_are_sympy_diff(derivation, matrix, loss, exact=True):
    """Each entry's closed form (nodes written out) equals ``sympy.diff`` of ``loss``."""
    graph = derivation.graph
    explicit = entries_of(loss)
    gradient = derivation[matrix]
    assert isinstance(gradient, MatrixGradient) and gradient.shape == matrix.shape
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            symbol = Symbol(f"{matrix.name}[{i}, {j}]", real=True)
            closed = gradient.entry(i, j).closed_form.xreplace(graph.expanded_nodes)
            reference = sympy.diff(explicit, symbol)
            if exact:
                assert exactly_equal(closed, reference), (symbol, closed, reference)
            else:
                assert_equal_at_random_points(closed, reference, sorted(explicit.free_symbols, key=str))
            assert gradient.closed_form[i, j] == gradient.entry(i, j).closed_form


def same_matrix(form, expected) -> bool:
    """Two matrix expressions with the same entries once SymPy writes them out."""
    return (form.as_explicit() - expected.as_explicit()).expand() == sympy.zeros(*expected.shape)


def assert_form_is_the_entries(derivation, matrix):
    """The matrix form, written out by SymPy, equals the Matrix of closed forms."""
    gradient = derivation[matrix]
    form = gradient.matrix_form
    assert form is not None, gradient.matrix_form_note
    explicit = form.xreplace({m: m.as_explicit() for m in form.atoms(MatrixSymbol)}).doit()
    explicit = explicit.as_explicit() if isinstance(explicit, sympy.MatrixExpr) else explicit
    written = explicit.xreplace({e: Symbol(str(e), real=True) for e in explicit.atoms(MatrixElement)})
    closed = gradient.closed_form.xreplace(derivation.graph.expanded_nodes)
    graph = derivation.graph
    assert equal_at_random_points(graph, list(written), list(closed), points=2, seed=7)
    assert gradient.matrix_form_note.startswith("equal to every entry's gradient at 3 random points")


W, x, b, y = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("b", 2, 1), MatrixSymbol("y", 2, 1)
z = MatrixSymbol("z", 2, 1)


@pytest.fixture
def linear():
    graph = Graph.from_pairs([(z, W * x + b), (L, (z - y).T * (z - y))], parameters=[W, b], inputs=[x, y])
    return derive(graph)


def test_a_linear_layer_with_squared_error(linear):
    loss = (W * x + b - y).T * (W * x + b - y)
    for matrix in (W, b):
        assert_entries_are_sympy_diff(linear, matrix, loss)
        assert_form_is_the_entries(linear, matrix)
    assert same_matrix(linear[W].matrix_form, 2 * (W * x + b - y) * x.T)
    assert same_matrix(linear["b"].matrix_form, 2 * (W * x + b - y))


def test_entries_keep_their_scalar_lookups_and_iteration_is_over_entries(linear):
    assert isinstance(linear["W[0, 1]"], Gradient)
    assert linear["W[0, 1]"].closed_form == linear[W].entry(0, 1).closed_form
    assert linear["W"] is linear[W] is linear.matrix_gradient(W)
    assert linear.matrix_gradient("W[0, 1]") is None
    assert len(linear) == 8 and [g.symbol.name for g in linear][:2] == ["W[0, 0]", "W[0, 1]"]
    assert linear[W].entries == tuple(linear[f"W[{i}, {j}]"] for i in range(2) for j in range(3))


def test_an_unknown_name_lists_the_matrices_too(linear):
    with pytest.raises(SympropError, match=r"^V is not a parameter of this network \(parameters: W, b, W\[0, 0\]"):
        linear["V"]


def test_a_two_layer_mlp_with_elementwise_sigmoid():
    W1, b1, W2, b2 = MatrixSymbol("W1", 3, 2), MatrixSymbol("b1", 3, 1), MatrixSymbol("W2", 1, 3), MatrixSymbol("b2", 1, 1)
    v, t = MatrixSymbol("v", 2, 1), MatrixSymbol("t", 1, 1)
    h, out = MatrixSymbol("h", 3, 1), MatrixSymbol("out", 1, 1)
    graph = Graph.from_pairs(
        [(h, (W1 * v + b1).applyfunc(sigmoid)), (out, W2 * h + b2), (L, (out - t).T * (out - t))],
        parameters=[W1, b1, W2, b2], inputs=[v, t],
    )
    derivation = derive(graph)
    hidden = (W1 * v + b1).applyfunc(sigmoid)
    loss = (W2 * hidden + b2 - t).T * (W2 * hidden + b2 - t)
    for matrix in (W1, b1, W2, b2):
        assert_entries_are_sympy_diff(derivation, matrix, loss, exact=False)
        gradient = derivation[matrix]
        if gradient.matrix_form is not None:
            assert_form_is_the_entries(derivation, matrix)
        else:
            assert gradient.matrix_form_note
    assert derivation[W2].matrix_form is not None
    assert derivation[W2].closed_form.shape == (1, 3)


def test_a_quadratic_form_by_the_vector_and_by_the_matrix():
    v, B = MatrixSymbol("v", 2, 1), MatrixSymbol("B", 2, 2)
    derivation = derive(Graph.from_pairs([(L, v.T * B * v)], parameters=[v, B]))
    for matrix in (v, B):
        assert_entries_are_sympy_diff(derivation, matrix, v.T * B * v)
        assert_form_is_the_entries(derivation, matrix)
    assert same_matrix(derivation[v].matrix_form, (B + B.T) * v)
    assert same_matrix(derivation[B].matrix_form, v * v.T)


def test_the_trace_of_a_product():
    A, X, B = (MatrixSymbol(n, 2, 2) for n in "AXB")
    derivation = derive(Graph.from_pairs([(L, Trace(A * X * B))], parameters=[X], inputs=[A, B]))
    assert_entries_are_sympy_diff(derivation, X, Trace(A * X * B))
    assert_form_is_the_entries(derivation, X)
    assert same_matrix(derivation[X].matrix_form, A.T * B.T)


def test_a_determinant_has_entries_but_no_matrix_form_from_sympy():
    X = MatrixSymbol("X", 2, 2)
    derivation = derive(Graph.from_pairs([(L, sympy.Determinant(X))], parameters=[X]))
    e = {(i, j): Symbol(f"X[{i}, {j}]", real=True) for i in range(2) for j in range(2)}
    assert derivation[X].closed_form == ImmutableMatrix([[e[1, 1], -e[1, 0]], [-e[0, 1], e[0, 0]]])
    assert derivation[X].matrix_form is None
    assert derivation[X].matrix_form_note == "SymPy's matrix calculus gives no matrix expression for the derivative by X"


def test_a_matrix_of_symbols_has_entries_but_no_matrix_form():
    p, r = Symbol("p", real=True), Symbol("r", real=True)
    M = Matrix([[p], [r]])
    derivation = derive(Graph.from_pairs([(L, (M.T * M)[0, 0] * p)], parameters=[M]))
    gradient = derivation[M]
    assert sympy.expand(gradient.closed_form - Matrix([[3 * p ** 2 + r ** 2], [2 * p * r]])) == sympy.zeros(2, 1)
    assert gradient.matrix_form is None and "given entry by entry" in gradient.matrix_form_note
    assert derivation["p"].closed_form == gradient.entry(0, 0).closed_form


def test_scalar_nodes_read_from_matrices():
    s = Symbol("s", real=True)
    graph = Graph.from_pairs([(z, W * x), (s, Trace(z.T * z)), (L, 3 * s)], parameters=[W], inputs=[x])
    derivation = derive(graph)
    assert_entries_are_sympy_diff(derivation, W, 3 * Trace((W * x).T * (W * x)))
    assert_form_is_the_entries(derivation, W)
    assert same_matrix(derivation[W].matrix_form, 6 * W * x * x.T)
    # SymPy's matrix calculus gives 0 for d sin(tr(...))/dW: refuted by the entries, so not taken.
    wrapped = derive(Graph.from_pairs([(z, W * x), (s, Trace(z.T * z)), (L, sympy.sin(s))], parameters=[W],
                                      inputs=[x]))
    assert_entries_are_sympy_diff(wrapped, W, sympy.sin(Trace((W * x).T * (W * x))), exact=False)
    assert wrapped[W].matrix_form is None and wrapped[W].matrix_form_note.startswith("SymPy's matrix")


def test_a_wrong_matrix_form_is_refuted():
    linear = derive(Graph.from_pairs([(z, W * x + b), (L, (z - y).T * (z - y))], parameters=[W, b], inputs=[x, y]))
    graph = linear.graph
    right = list((2 * (W * x + b - y) * x.T).as_explicit())
    wrong = list(((W * x + b - y) * x.T).as_explicit())
    as_entries = {e: Symbol(str(e), real=True) for m in (right, wrong) for v in m for e in v.atoms(MatrixElement)}
    closed = list(linear[W].closed_form)
    assert equal_at_random_points(graph, [v.xreplace(as_entries) for v in right], closed)
    assert not equal_at_random_points(graph, [v.xreplace(as_entries) for v in wrong], closed)


def test_a_matrix_no_node_uses_is_refused_but_unread_entries_are_a_true_zero():
    V = MatrixSymbol("V", 2, 2)
    with pytest.raises(SympropError) as raised:
        derive(Graph.from_pairs([(L, Trace(W * x * x.T * W.T))], parameters=[W, V], inputs=[x]))
    assert str(raised.value) == ("parameter V occurs in no node: it does not reach the output L; remove it from the "
                                 "parameters or use it")
    first_row = derive(Graph.from_pairs([(L, (W * x)[0, 0] ** 2)], parameters=[W], inputs=[x]))
    assert list(first_row[W].closed_form.row(1)) == [0, 0, 0]
    assert first_row[W].closed_form[0, 1] != 0
    # SymPy's matrix calculus gives 0 for d (W x)[0, 0]^2 / dW: not a matrix form, and not taken.
    assert first_row[W].matrix_form is None


def test_reference_agrees_on_the_split_graph(linear):
    for symbol in linear.graph.parameters:
        assert exactly_equal(linear[symbol].closed_form.xreplace(linear.graph.expanded_nodes),
                             reference_gradient(linear.graph, symbol))


def test_a_bare_matrix_expression_written_out_then_split_into_nodes_keeps_its_matrix_form():
    """The pre-step for a bare expression: explicit_entries, scalar nodes over the entries,
    the matrices declared as they are, and the expression remembered for the output."""
    import dataclasses

    from symprop.model.matrices import explicit_entries

    A, X, B = (MatrixSymbol(n, 2, 2) for n in "AXB")
    s = Symbol("s", real=True)
    expr = Trace(A * X * B) ** 2
    scalar, _ = explicit_entries(expr)
    graph = Graph.from_pairs([(s, scalar.base), (L, s ** 2)], parameters=[X], inputs=[A, B])
    assert derive(graph)[X].matrix_form is None
    assert derive(graph)[X].matrix_form_note == "the output is written in the entries of X, not in X itself"
    remembered = dataclasses.replace(graph, arrays=graph.arrays.with_written({L: expr}))
    derivation = derive(remembered)
    assert_entries_are_sympy_diff(derivation, X, expr)
    assert_form_is_the_entries(derivation, X)
    assert same_matrix(derivation[X].matrix_form, 2 * Trace(A * X * B) * A.T * B.T)


# --- bare expressions in matrices: derive(expr, parameters=[...]) ----------------------------------

@pytest.mark.parametrize("build, parameters, has_form", [
    (lambda W, x, b, y: ((W * x + b - y).T * (W * x + b - y)), ["W", "b"], True),
    (lambda W, x, b, y: Trace((W * x + b) * (W * x + b).T), ["W"], True),
    # SymPy's matrix derivative of an indexed entry is wrong here: the proof refuses the form
    (lambda W, x, b, y: (x.T * W.T * W * x)[0, 0] + sympy.sin(b[0, 0]), ["W", "b"], False),
])
def test_a_bare_matrix_expression_is_derived_entry_by_entry_with_its_matrix_form(build, parameters, has_form):
    W, x, b, y = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("b", 2, 1), MatrixSymbol("y", 2, 1)
    expr = build(W, x, b, y)
    derivation = derive(expr, parameters=parameters)
    for name in parameters:
        matrix = {"W": W, "b": b}[name]
        assert_entries_are_sympy_diff(derivation, matrix, expr)
        if derivation[matrix].matrix_form is not None:
            assert_form_is_the_entries(derivation, matrix)
    assert (derivation["W"].matrix_form is not None) == has_form


def test_a_bare_matrix_expression_that_is_not_a_scalar_is_refused_in_one_line():
    W, x = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1)
    with pytest.raises(GraphError, match=r"^the expression is a 2x1 matrix: expected a scalar") as caught:
        derive(W * x, parameters=[W])
    assert "\n" not in str(caught.value)
    with pytest.raises(SympropError, match="Inverse|inverse") as caught:
        derive(Trace(sympy.Inverse(MatrixSymbol("A", 2, 2))), parameters=["A"])
    assert "\n" not in str(caught.value)
