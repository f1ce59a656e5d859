"""Matrices in networks: split into entries, written out by SymPy's arithmetic, refused in one line."""
from __future__ import annotations

import pytest
import sympy
from sympy import ImmutableMatrix, Matrix, MatrixSymbol, Symbol, Trace

from symprop.errors import SympropError
from symprop.model.graph import Graph
from symprop.model.matrices import MatrixError, entry_latex, entry_matrix, explicit_entries, needs_splitting

W, x, b, y = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("b", 2, 1), MatrixSymbol("y", 2, 1)
z = MatrixSymbol("z", 2, 1)
L = Symbol("L", real=True)


def entry(name: str) -> Symbol:
    return Symbol(name, real=True)


@pytest.fixture
def linear():
    """z = W x + b, L = (z - y)^T (z - y)."""
    return Graph.from_pairs([(z, W * x + b), (L, (z - y).T * (z - y))], parameters=[W, b], inputs=[x, y])


def test_entries_are_named_as_sympy_prints_them_and_set_as_subscripts():
    entries = entry_matrix(W)
    assert entries.shape == (2, 3)
    assert entries[0, 1] == entry("W[0, 1]") and str(entries[0, 1]) == str(W[0, 1])
    assert entry_latex("W", 0, 1) == "W_{0,1}" == sympy.latex(W[0, 1]).replace("{W}", "W")


def test_a_linear_layer_is_split_into_one_equation_per_entry(linear):
    assert linear.parameters == tuple(entry_matrix(W)) + tuple(entry_matrix(b))
    assert linear.inputs == tuple(entry_matrix(x)) + tuple(entry_matrix(y))
    assert linear.nodes == (entry("z[0, 0]"), entry("z[1, 0]"), L)
    row = sum((entry(f"W[1, {k}]") * entry(f"x[{k}, 0]") for k in range(3)), entry("b[1, 0]"))
    assert linear.definition[entry("z[1, 0]")] == row
    assert linear.definition[L] == sum((entry(f"z[{i}, 0]") - entry(f"y[{i}, 0]")) ** 2 for i in range(2))
    assert linear.output == L
    assert linear.latex_name(entry("W[1, 2]")) == "W_{1,2}"
    assert linear.latex_name(entry("z[0, 0]")) == "z_{0,0}"


def test_arrays_record_which_entries_form_which_matrix(linear):
    arrays = linear.arrays
    assert set(arrays) == {"W", "b", "x", "y", "z"}
    assert arrays["W"] == entry_matrix(W)
    assert {n: r.role for n, r in arrays.records.items()} == {
        "x": "input", "y": "input", "W": "parameter", "b": "parameter", "z": "node"}
    assert arrays.record_of(W).name == "W" and arrays.record_of("b").written == b
    assert arrays.written[z] == W * x + b and arrays.written[L] == (z - y).T * (z - y)
    assert arrays.entry_owner[entry("W[0, 2]")] == "W"


def test_a_scalar_graph_is_not_split():
    p, q = Symbol("p", real=True), Symbol("q", real=True)
    graph = Graph.from_pairs([(q, p ** 2)], parameters=[p])
    assert not graph.arrays and graph.latex_names == {}
    assert not needs_splitting([p], [], [(q, p ** 2)], q)


def test_a_1x1_matrix_node_as_output_is_its_entry():
    loss = MatrixSymbol("loss", 1, 1)
    graph = Graph.from_pairs([(z, W * x), (loss, z.T * z)], parameters=[W], inputs=[x])
    assert graph.output == entry("loss[0, 0]")


def test_a_matrix_of_symbols_is_a_parameter_of_its_entries():
    p, r = Symbol("p", real=True), Symbol("r", real=True)
    v = Matrix([[p], [r]])
    graph = Graph.from_pairs([(L, (v.T * v)[0, 0])], parameters=[v])
    assert graph.parameters == (p, r)
    assert graph.arrays.record_of(v).entries == ImmutableMatrix([[p], [r]])
    assert graph.definition[L] == p ** 2 + r ** 2


def test_trace_entries_elementwise_functions_and_hadamard_products_are_written_out():
    X = MatrixSymbol("X", 2, 2)
    s = Symbol("s", real=True)
    graph = Graph.from_pairs([(s, Trace(X * X.T) + X[0, 1]), (L, sympy.Trace(X.applyfunc(sympy.sin)))], parameters=[X])
    e = {(i, j): entry(f"X[{i}, {j}]") for i in range(2) for j in range(2)}
    assert graph.definition[s] == sum(v ** 2 for v in e.values()) + e[0, 1]
    assert graph.definition[L] == sympy.sin(e[0, 0]) + sympy.sin(e[1, 1])
    hadamard = Graph.from_pairs([(L, sympy.HadamardProduct(X, X)[1, 0])], parameters=[X])
    assert hadamard.definition[L] == e[1, 0] ** 2


def test_explicit_entries_writes_a_bare_matrix_expression_over_entry_symbols():
    A, X, B = (MatrixSymbol(n, 2, 2) for n in "AXB")
    scalar, arrays = explicit_entries(Trace(A * X * B))
    assert set(arrays) == {"A", "B", "X"}
    reference = (arrays["A"] * arrays["X"] * arrays["B"]).trace()
    assert sympy.expand(scalar - reference) == 0
    assert scalar.free_symbols == set(arrays["A"]) | set(arrays["X"]) | set(arrays["B"])
    one_by_one, _ = explicit_entries(x.T * x)  # a 1x1 matrix is its entry
    assert one_by_one == sum(entry(f"x[{k}, 0]") ** 2 for k in range(3))
    given = ImmutableMatrix(3, 1, sympy.symbols("u0:3", real=True))
    chosen, arrays = explicit_entries(x.T * x, {x: given})
    assert chosen == sum(u ** 2 for u in given) and arrays["x"] == given


def refused(build, message: str):
    with pytest.raises(SympropError) as raised:
        build()
    text = str(raised.value)
    assert "\n" not in text
    assert text == message, text


def test_a_symbolic_shape_is_refused():
    n = Symbol("n", integer=True, positive=True)
    V = MatrixSymbol("V", n, 2)
    refused(lambda: Graph.from_pairs([(L, Trace(V.T * V))], parameters=[V]),
            "the matrix V has the symbolic shape nx2: give its rows and columns as numbers")


def test_a_matrix_inverse_is_refused():
    X = MatrixSymbol("X", 2, 2)
    refused(lambda: Graph.from_pairs([(L, Trace(X.inv()))], parameters=[X]),
            "node L uses the matrix inverse X**(-1): its entries are ratios of cofactors that symprop does not "
            "write out; solve for it as a node instead")


def test_a_non_scalar_output_is_refused():
    refused(lambda: Graph.from_pairs([(z, W * x + b)], parameters=[W, b], inputs=[x]),
            "output z is a 2x1 matrix: the output must be a scalar, such as a loss (take its trace, an entry [i, j] "
            "or a loss of it)")


def test_a_matrix_value_for_a_scalar_node_is_refused():
    refused(lambda: Graph.from_pairs([(L, W * x)], parameters=[W], inputs=[x]),
            'node L is a 2x1 matrix: name it MatrixSymbol("L", 2, 1) so that later nodes can use it')


def test_a_matrix_node_of_the_wrong_shape_is_refused():
    wrong = MatrixSymbol("z", 3, 1)
    refused(lambda: Graph.from_pairs([(wrong, W * x), (L, Trace(wrong.T * wrong))], parameters=[W], inputs=[x]),
            "node z is a 3x1 matrix but its expression is 2x1")


def test_an_undeclared_matrix_is_refused():
    refused(lambda: Graph.from_pairs([(L, Trace(W.T * W) + (x.T * x)[0, 0])], parameters=[W]),
            "node L uses the matrix x, which is not an input, a parameter or an earlier node")


def test_an_entry_at_a_symbolic_index_is_refused():
    i = Symbol("i", integer=True)
    refused(lambda: Graph.from_pairs([(L, W[i, 0])], parameters=[W]),
            "node L takes the entry [i, 0] of W: give the row and column as numbers")


def test_undefined_functions_and_derivatives_in_matrices_are_refused():
    X = MatrixSymbol("X", 2, 2)
    f = sympy.Function("f")
    refused(lambda: Graph.from_pairs([(L, f(Trace(X)))], parameters=[X]),
            "node L uses the undefined function f: symprop cannot differentiate it; use a SymPy or symprop function")
    t = Symbol("t", real=True)
    refused(lambda: Graph.from_pairs([(L, sympy.Derivative(Trace(X) * t, t, evaluate=False))], parameters=[X],
                                     inputs=[t]),
            "node L holds the unevaluated Derivative Derivative(t*Trace(X), t): write it out (symprop differentiates "
            "closed forms only)")


def test_matrix_errors_are_value_errors_too():
    assert issubclass(MatrixError, ValueError) and issubclass(MatrixError, SympropError)


def test_graph_itself_splits_matrices_as_from_pairs_does(linear):
    direct = Graph((x, y), (W, b), ((z, W * x + b), (L, (z - y).T * (z - y))), L)
    assert direct == linear
    assert direct.arrays.records == linear.arrays.records
