"""Matrix expressions worked out entry by entry once their matrices are concrete."""
from __future__ import annotations

import pytest
import sympy
from sympy import ImmutableMatrix, IndexedBase, Lambda, MatrixSymbol, Rational, Symbol

from symprop.model import functions
from symprop.layers.layer_view import BATCH
from symprop.layers.matrix_expressions import (
    Elementwise, MatrixPartial, Ones, Partial, Softmax, function_latex, work_out,
)

S = lambda name: Symbol(name, real=True)  # noqa: E731
x = sympy.Dummy("x")
SIGMA = Lambda(x, functions.sigmoid(x))


def entries(matrix):
    return [[matrix[i, j] for j in range(matrix.shape[1])] for i in range(matrix.shape[0])]


# --- Partial and MatrixPartial ---

def test_partial_prints_as_a_fraction_of_partials_and_commutes():
    C, w = Symbol("C"), Symbol("w_{11}")
    d = Partial(C, w)
    assert d.args == (C, w)
    assert sympy.latex(d) == r"\frac{\partial C}{\partial w_{11}}"
    assert str(d) == "dC/dw_{11}"
    assert d.is_commutative
    assert 2 * d * Symbol("a") == Symbol("a") * d * 2      # a scalar: it moves freely in products
    assert Partial("C", "b").args == (C, Symbol("b"))     # names are sympified


def test_matrix_partial_is_shaped_like_its_matrix():
    C, W = Symbol("C"), MatrixSymbol("W", 3, 2)
    d = MatrixPartial(C, W)
    assert d.shape == (3, 2)
    assert sympy.latex(d) == r"\frac{\partial C}{\partial W}"
    assert str(d) == "dC/dW"
    assert MatrixPartial(C, MatrixSymbol("b", 3, 1)).shape == (3, 1)
    assert (d.T * MatrixSymbol("X", 3, 4)).shape == (2, 4)


# --- Elementwise ---

def test_elementwise_value_and_derivative_entry_by_entry():
    z = ImmutableMatrix([S("u"), S("v")])
    u, v = S("u"), S("v")
    assert Elementwise(SIGMA, z).doit() == ImmutableMatrix([functions.sigmoid(u), functions.sigmoid(v)])
    assert Elementwise(SIGMA, z, 1).doit() == ImmutableMatrix(
        [functions.sigmoid(u) * (1 - functions.sigmoid(u)), functions.sigmoid(v) * (1 - functions.sigmoid(v))]
    )
    square = Elementwise(Lambda(x, x ** 3), ImmutableMatrix([[1, 2], [3, 4]]), 1).doit()
    assert square == ImmutableMatrix([[3, 12], [27, 48]])                # 3 x^2
    assert isinstance(square, ImmutableMatrix)


def test_elementwise_scalar_entries_and_properties():
    Z = MatrixSymbol("Z", 2, 3)
    f = Elementwise(Lambda(x, sympy.tanh(x)), Z, 1)
    assert (f.shape, f.order, f.matrix, f.function) == ((2, 3), 1, Z, Lambda(x, sympy.tanh(x)))
    assert f.scalar(Symbol("t")) == 1 - sympy.tanh(Symbol("t")) ** 2
    assert f[1, 2] == 1 - sympy.tanh(Z[1, 2]) ** 2
    assert Elementwise(SIGMA, Z)[0, 1] == functions.sigmoid(Z[0, 1])


def test_elementwise_of_a_symbolic_matrix_stays_unevaluated():
    Z = MatrixSymbol("Z", 2, 2)
    result = Elementwise(SIGMA, Z, 1).doit()
    assert isinstance(result, Elementwise) and result.matrix == Z and result.order == 1
    assert Elementwise(SIGMA, Z).as_explicit() == ImmutableMatrix(2, 2, lambda i, j: functions.sigmoid(Z[i, j]))


def test_elementwise_of_a_product_works_out_once_the_factors_are_concrete():
    W = ImmutableMatrix([[1, 2], [0, -1]])
    a = ImmutableMatrix([Rational(1, 2), 3])
    relu = Lambda(x, functions.relu(x))
    # W a = (1/2 + 6, -3) = (13/2, -3)
    assert Elementwise(relu, sympy.MatMul(W, a)).doit() == ImmutableMatrix([Rational(13, 2), 0])
    assert Elementwise(relu, sympy.MatMul(W, a), 1).doit() == ImmutableMatrix([1, 0])   # H(z, 0)


@pytest.mark.parametrize("function, order, latex", [
    (SIGMA, 0, r"\sigma\left(Z\right)"),
    (SIGMA, 1, r"\sigma'\left(Z\right)"),
    (Lambda(x, sympy.tanh(x)), 0, r"\tanh\left(Z\right)"),
    (Lambda(x, sympy.exp(x)), 1, r"\exp'\left(Z\right)"),
    (Lambda(x, functions.relu(x)), 1, r"\operatorname{ReLU}'\left(Z\right)"),
    (Lambda(x, sympy.sin(x)), 0, r"\operatorname{sin}\left(Z\right)"),
    (Lambda(x, x ** 2), 0, r"f\left(Z\right)"),
    (Lambda(x, functions.sigmoid(2 * x)), 0, r"f\left(Z\right)"),   # not sigma of the variable itself
])
def test_elementwise_prints_the_function_by_name(function, order, latex):
    assert sympy.latex(Elementwise(function, MatrixSymbol("Z", 2, 1), order)) == latex


def test_function_latex_names():
    assert function_latex(SIGMA) == r"\sigma"
    assert function_latex(Lambda(x, functions.softplus(x))) == r"\operatorname{softplus}"
    assert function_latex(Lambda(x, sympy.cos(x))) == r"\operatorname{cos}"
    assert function_latex(Lambda(x, 1 / (1 + sympy.exp(-x)))) == "f"
    assert function_latex(Lambda(x, functions.leaky_relu(x, Rational(1, 100)))) == r"\operatorname{LeakyReLU}"


# --- Softmax ---

def test_softmax_works_column_by_column():
    z = ImmutableMatrix([[S("a"), S("c")], [S("b"), S("d")]])
    a, b, c, d = (S(n) for n in "abcd")
    result = Softmax(z).doit()
    assert entries(result) == [
        [functions.softmax(1, a, b), functions.softmax(1, c, d)],
        [functions.softmax(2, a, b), functions.softmax(2, c, d)],
    ]
    assert Softmax(ImmutableMatrix([S("u"), S("v")])).doit() == ImmutableMatrix(
        [functions.softmax(1, S("u"), S("v")), functions.softmax(2, S("u"), S("v"))]
    )


def test_softmax_columns_are_distributions():
    z = ImmutableMatrix([[0, 1], [sympy.log(3), 1]])
    result = functions.elementary(Softmax(z).doit())
    # column 1: e^0, e^{log 3} = 1, 3 -> 1/4, 3/4; column 2: equal logits -> 1/2, 1/2
    assert sympy.simplify(result - ImmutableMatrix([[Rational(1, 4), Rational(1, 2)], [Rational(3, 4), Rational(1, 2)]])) \
        == sympy.zeros(2, 2)


def test_softmax_of_a_symbolic_matrix_stays_unevaluated_and_prints():
    Z = MatrixSymbol("Z", 3, 2)
    s = Softmax(Z)
    assert s.shape == (3, 2)
    assert s.doit() == s and isinstance(s.doit(), Softmax)
    assert s[2, 1] == functions.softmax(3, Z[0, 1], Z[1, 1], Z[2, 1])
    assert sympy.latex(s) == r"\operatorname{softmax}\left(Z\right)"


# --- Ones ---

def test_ones_is_the_all_ones_matrix():
    assert Ones(2, 3).doit() == ImmutableMatrix([[1, 1, 1], [1, 1, 1]])
    assert Ones(2, 1).T.doit() == ImmutableMatrix([[1, 1]])
    assert Ones(2, 3).shape == (2, 3) and Ones(2, 3).T.shape == (3, 2)
    assert Ones(2, 3)[1, 2] == 1


def test_ones_times_a_matrix_sums_its_rows():
    m = ImmutableMatrix([[1, 2, 3], [4, 5, 6]])
    assert work_out(sympy.MatMul(MatrixSymbol("M", 2, 3), Ones(3, 1)), {MatrixSymbol("M", 2, 3): m}) == \
        ImmutableMatrix([6, 15])


def test_ones_of_a_symbolic_size_stays_and_prints_as_a_bold_one():
    n = Symbol("n")
    assert Ones(1, n).doit() == Ones(1, n)
    assert Ones(3, n).T == Ones(n, 3)
    assert sympy.latex(Ones(1, BATCH)) == r"\mathbf{1}^{T}"
    assert sympy.latex(Ones(BATCH, 1)) == r"\mathbf{1}"
    assert sympy.latex(Ones(1, 1)) == r"\mathbf{1}"
    assert sympy.latex(Ones(2, 3)) == r"\mathbf{1}"


# --- work_out ---

def test_work_out_a_dense_layer_over_a_batch():
    """f(W X + b 1^T), f(z) = z^2, at concrete matrices, entry by entry against the scalar formula."""
    m = Symbol("m")
    W, X, b = MatrixSymbol("W", 2, 2), MatrixSymbol("X", 2, m), MatrixSymbol("b", 2, 1)
    expr = Elementwise(Lambda(x, x ** 2), W * X + b * Ones(1, m))
    w, data, bias = ImmutableMatrix([[1, -1], [2, 0]]), ImmutableMatrix([[1, 2, 3], [0, 1, -1]]), ImmutableMatrix([5, -2])
    mapping = {W: w, X: data, b: bias, m: 3}
    result = work_out(expr, mapping)      # the batch size m and the matrices in one mapping
    assert isinstance(result, ImmutableMatrix) and result.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            z = sum(w[i, k] * data[k, j] for k in range(2)) + bias[i]
            assert result[i, j] == z ** 2


def test_work_out_a_weight_gradient_and_a_summed_bias_gradient():
    delta, a_prev = MatrixSymbol("delta", 2, 1), MatrixSymbol("a", 3, 1)
    d, av = ImmutableMatrix([Rational(1, 2), -1]), ImmutableMatrix([1, 2, 3])
    assert work_out(delta * a_prev.T, {delta: d, a_prev: av}) == ImmutableMatrix(
        [[Rational(1, 2), 1, Rational(3, 2)], [-1, -2, -3]])
    j, n = Symbol("j", integer=True), Symbol("n", integer=True)
    delta_j = IndexedBase("delta")
    total = sympy.Sum(delta_j[j], (j, 1, n))
    value = work_out(total, {n: 3}, {delta_j[1]: 4, delta_j[2]: -1, delta_j[3]: Rational(1, 2)})
    assert value == Rational(7, 2) and not isinstance(value, sympy.MatrixBase)
    assert work_out(total, {n: 2}) == delta_j[1] + delta_j[2]


def test_work_out_returns_immutable_matrices_and_scalars_as_they_are():
    Z = MatrixSymbol("Z", 2, 1)
    result = work_out(Softmax(Z), {Z: ImmutableMatrix([0, 0])})
    assert isinstance(result, ImmutableMatrix)
    assert entries(result) == [[functions.softmax(1, 0, 0)], [functions.softmax(2, 0, 0)]]
    assert functions.elementary(result[0, 0]) == Rational(1, 2)
    u = Symbol("u")
    assert work_out(Partial(Symbol("C"), u) * 2, {u: 3}) == 2 * Partial(Symbol("C"), 3)
    assert work_out(u ** 2 + 1, {u: 3}) == 10
