"""The textbook rules the layer view and the node rules read off the engine: DLfS's
Affine, activation and Softmax-with-Loss layers, and the add, multiply and
branch rules of a computational graph.
"""
from __future__ import annotations

import pytest
import sympy
from sympy import Eq, ImmutableMatrix, MatrixSymbol, Piecewise, Rational, Symbol

from symprop.engine import backprop

from symprop.model import functions
from symprop.model.graph import Graph
from symprop.layers.layer_view import (
    BATCH, LOSS, affine_rule, edge_kind, elementwise_rule, layer_view, node_rules, read_off_product, step_mask,
)
from symprop.layers.matrix_expressions import MatrixPartial, Ones, Partial
from tests.layers.test_matrix import ARCHITECTURES, softmax_net

S = lambda name: Symbol(name, real=True)  # noqa: E731


# --- the layer view --------------------------------------------------------------------


def test_mazur_layer_view_lists_affine_sigmoid_and_the_loss(mazur):
    rules = layer_view(mazur)
    assert [(r.layer, r.name) for r in rules] == [
        (1, "Affine"), (1, "Sigmoid"), (2, "Affine"), (2, "Sigmoid"), (2, "Half-Squared-Error-Loss"),
    ]
    y, t = S("y"), S("t")
    assert rules[-1].backward == (Eq(Partial(LOSS, y), y - t, evaluate=False),)


def _affine_symbols(bias_shape):
    n_in, n_out = Symbol("n_in", integer=True, positive=True), Symbol("n_out", integer=True, positive=True)
    X, Y, W = MatrixSymbol("X", BATCH, n_in), MatrixSymbol("Y", BATCH, n_out), MatrixSymbol("W^{(1)}", n_in, n_out)
    b = MatrixSymbol("b^{(1)}", 1, n_out) if bias_shape else Symbol("b^{(1)}")
    return n_in, n_out, X, Y, W, b


def test_affine_backward_is_the_textbook_rule():
    n_in, n_out, X, Y, W, b = _affine_symbols(True)
    rule = affine_rule(1, n_in, n_out, "per_unit")
    dout = MatrixPartial(LOSS, Y)
    assert rule.forward == (Eq(Y, X * W + Ones(BATCH, 1) * b, evaluate=False),)
    assert rule.backward == (
        Eq(MatrixPartial(LOSS, X), dout * W.T, evaluate=False),
        Eq(MatrixPartial(LOSS, W), X.T * dout, evaluate=False),
        Eq(MatrixPartial(LOSS, b), Ones(1, BATCH) * dout, evaluate=False),  # the sum over the batch axis
    )


def test_affine_with_a_shared_bias_sums_over_batch_and_units():
    n_in, n_out, X, Y, W, b = _affine_symbols(False)
    rule = affine_rule(1, n_in, n_out, "shared")
    assert rule.backward[2] == Eq(Partial(LOSS, b), Ones(1, BATCH) * MatrixPartial(LOSS, Y) * Ones(n_out, 1),
                                  evaluate=False)
    assert len(affine_rule(1, n_in, n_out, "none").backward) == 2


def test_sigmoid_backward_is_dout_y_one_minus_y():
    x, y = S("x"), S("y")
    rule = elementwise_rule("Sigmoid", sympy.Lambda(x, functions.sigmoid(x)))
    assert rule.forward == (Eq(y, functions.sigmoid(x), evaluate=False),)
    assert rule.backward == (Eq(Partial(LOSS, x), Partial(LOSS, y) * y * (1 - y), evaluate=False),)


def test_tanh_backward_is_dout_one_minus_y_squared():
    x, y = S("x"), S("y")
    rule = elementwise_rule("Tanh", sympy.Lambda(x, sympy.tanh(x)))
    assert rule.backward == (Eq(Partial(LOSS, x), Partial(LOSS, y) * (1 - y**2), evaluate=False),)


def test_relu_backward_is_a_mask():
    x, y = S("x"), S("y")
    rule = elementwise_rule("ReLU", sympy.Lambda(x, functions.relu(x)))
    dout = Partial(LOSS, y)
    textbook = Piecewise((dout, x > 0), (0, True))  # DLfS: dout[x <= 0] = 0
    assert rule.backward == (Eq(Partial(LOSS, x), textbook, evaluate=False),)
    for point in (2, -2, 0):
        assert rule.backward[0].rhs.subs(x, point) == textbook.subs(x, point)


def test_leaky_relu_mask_has_three_regions():
    x, dout = S("x"), S("dout")
    derived = dout * (sympy.Heaviside(x, 0) + Rational(1, 10) * sympy.Heaviside(-x, 0))
    assert step_mask(derived, x) == Piecewise((dout, x > 0), (dout / 10, x < 0), (0, True))
    assert step_mask(dout * x, x) == dout * x


def test_softmax_with_loss_backward_is_y_minus_t_over_n(softmax_layer_view):
    rule = softmax_layer_view[-1]
    assert (rule.layer, rule.name) == (2, "Softmax-with-Loss")
    y, t = S("y"), S("t")
    assert rule.backward == (Eq(Partial(LOSS, S("x")), (y - t) / BATCH, evaluate=False),)


@pytest.fixture(scope="module")
def softmax_layer_view():
    return layer_view(softmax_net())


def test_softmax_network_layer_view(softmax_layer_view):
    assert [(r.layer, r.name) for r in softmax_layer_view] == [
        (1, "Affine"), (1, "ReLU"), (2, "Affine"), (2, "Softmax-with-Loss"),
    ]


def test_a_softmax_layer_on_its_own_mixes_every_entry():
    network = ARCHITECTURES["softmax without fused loss"]()
    rules = layer_view(network)
    assert [r.name for r in rules] == ["Affine", "Tanh", "Affine", "Softmax", "Cross-Entropy-Loss"]
    softmax = rules[3]
    y1, y2, y3 = S("y_1"), S("y_2"), S("y_3")
    d1, d2, d3 = (Partial(LOSS, v) for v in (y1, y2, y3))
    assert softmax.backward[0] == Eq(
        Partial(LOSS, S("x_1")), d1 * y1 * (1 - y1) - d2 * y1 * y2 - d3 * y1 * y3, evaluate=False
    )
    y, t = S("y"), S("t")
    assert rules[4].backward == (Eq(Partial(LOSS, y), -t / y, evaluate=False),)


def test_read_off_fails_when_no_product_fits():
    A = MatrixSymbol("A", 2, 2)
    concrete = ImmutableMatrix([[S("p"), S("q")], [S("r"), S("s")]])
    assert read_off_product(concrete * concrete.T, [(A, concrete)]) == A * A.T
    with pytest.raises(ValueError, match="no product of at most 3"):
        read_off_product(concrete + concrete.T, [(A, concrete)])


# --- node rules ----------------------------------------------------------------------


def test_add_passes_the_gradient_and_multiply_takes_the_other_input():
    x, y, z, q, f = (S(n) for n in "xyzqf")
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], parameters=(x, y, z))
    rules = {(r.node, r.parent): r for r in node_rules(backprop.derive(graph))}
    assert len(rules) == 4
    delta_q = backprop.adjoint_symbol(q)
    assert (rules[(q, x)].kind, rules[(q, x)].local, rules[(q, x)].passed) == ("add", 1, delta_q)
    assert (rules[(q, y)].kind, rules[(q, y)].local, rules[(q, y)].passed) == ("add", 1, delta_q)
    assert (rules[(f, q)].kind, rules[(f, q)].local, rules[(f, q)].passed) == ("multiply", z, z)
    assert (rules[(f, z)].kind, rules[(f, z)].local) == ("multiply", q)


def test_a_branch_sums_what_comes_back():
    x, w, c, e, a, b, d, out = (S(n) for n in ("x", "w", "c", "e", "a", "b", "d", "L"))
    graph = Graph.from_pairs([(a, x * w), (b, a + c), (d, a * e), (out, b + d)], parameters=(x, w, c, e))
    rules = node_rules(backprop.derive(graph))
    branches = [r for r in rules if r.kind == "branch"]
    assert len(branches) == 1
    branch = branches[0]
    assert (branch.node, branch.parent, branch.consumers) == (a, None, (b, d))
    assert branch.passed == backprop.adjoint_symbol(b) + backprop.adjoint_symbol(d) * e
    coming_back = [r.passed for r in rules if r.parent == a]
    assert branch.passed == sympy.Add(*coming_back)


def test_mazur_edges_are_multiply_add_and_function(mazur, mazur_derivation):
    rules = node_rules(mazur_derivation)
    kinds = {(r.node.name, r.parent.name): r.kind for r in rules if r.parent is not None}
    assert kinds[("net_o1", "w5")] == "multiply"
    assert kinds[("net_o1", "out_h1")] == "multiply"
    assert kinds[("net_o1", "b2")] == "add"
    assert kinds[("out_o1", "net_o1")] == "function"
    assert kinds[("E_total", "out_o1")] == "function"
    shared = next(r for r in rules if r.kind == "branch" and r.node.name == "b1")
    assert shared.consumers == (S("net_h1"), S("net_h2"))
    assert shared.passed == S("delta_net_h1") + S("delta_net_h2")
    hidden_branches = {r.node.name for r in rules if r.kind == "branch"}
    assert hidden_branches == {"b1", "b2", "out_h1", "out_h2"}


def test_edge_kind_of_identity_and_of_scaled_products():
    u, v = S("u"), S("v")
    assert edge_kind(u, u, sympy.S.One) == "identity"
    assert edge_kind(2 * u * v, u, 2 * v) == "multiply"
    assert edge_kind(u**2, u, 2 * u) == "function"
