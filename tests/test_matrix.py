"""The matrix (delta) form, the layer view and the node rules.

The matrix form is proven, not asserted: ``verify_matrix_form`` instantiates
each layer's equations for a concrete network and compares every entry of
dC/dW^l and dC/db^l with the engine's per-weight gradient. These tests run it
on several architectures, show it catches a wrong equation, and check the
textbook rules the layer view reads off the engine.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sympy
from sympy import Eq, HadamardProduct, ImmutableMatrix, MatrixSymbol, Piecewise, Rational, Symbol

from symprop import backprop, functions
from symprop.graph import Graph
from symprop.matrix import (
    BATCH, LOSS, Elementwise, LayerForm, MatrixFormError, MatrixPartial, Ones, Partial, Softmax, affine_rule,
    edge_kind, elementwise_rule, layer_view, layers_json, matrix_form, node_rules, read_off_product, step_mask,
    verify_matrix_form,
)
from symprop.nn import Dense, batched, mlp
from tests.conftest import chain_network, mazur_network

S = lambda name: Symbol(name, real=True)  # noqa: E731


def tanh_342():
    return mlp(3, [Dense(4, "tanh"), Dense(2, "tanh")], "mse", notation="nielsen")


def relu_net():
    return mlp(2, [Dense(3, "relu"), Dense(2, "relu"), Dense(1, "sigmoid")], "half_sse")


def softmax_net():
    return mlp(3, [Dense(2, "relu"), Dense(3, "softmax")], "softmax_cross_entropy", notation="dlfs")


ARCHITECTURES = {
    "mazur sigmoid 2-2-2 shared biases": mazur_network,
    "tanh 3-4-2 per-unit biases": tanh_342,
    "relu 2-3-2-1": relu_net,
    "relu then softmax with fused cross-entropy": softmax_net,
    "3b1b one-neuron chain": chain_network,
    "softmax without fused loss": lambda: mlp(2, [Dense(3, "tanh"), Dense(3, "softmax")], "cross_entropy"),
    "identity logits with fused cross-entropy": lambda: mlp(
        2, [Dense(2, "softplus"), Dense(3, "identity")], "softmax_cross_entropy"
    ),
    "leaky relu without biases, binary cross-entropy": lambda: mlp(
        2, [Dense(3, "leaky_relu", bias="none"), Dense(1, "sigmoid")], "cross_entropy"
    ),
    "custom cube activation": lambda: mlp(2, [Dense(2, lambda z: z**3), Dense(2, "sigmoid")], "half_mse"),
}


# --- the symbolic form -------------------------------------------------------------


def test_mazur_layers_have_every_equation_in_order(mazur):
    hidden, output = matrix_form(mazur)
    common = ("weight_gradient", "bias_gradient", "index_form", "batch_delta", "batch_weight_gradient",
              "batch_bias_gradient")
    assert hidden.keys == ("forward_net", "forward_out", "delta", *common)
    assert output.keys == ("forward_net", "forward_out", "loss_gradient", "delta", *common)


def test_nielsen_equations_print_as_bp1_to_bp4():
    hidden, output = matrix_form(tanh_342())
    printed = {key: sympy.latex(eq) for key, eq in output.equations}
    assert printed["forward_net"] == "z^{2} = W^{2} a^{1} + b^{2}"
    assert printed["forward_out"] == r"a^{2} = \tanh\left(z^{2}\right)"
    assert printed["loss_gradient"] == r"\nabla_{a^{2}} C = \frac{2}{n_{2}} \left(a^{2} - y\right)"
    assert printed["delta"] == r"\delta^{2} = \nabla_{a^{2}} C \circ \tanh'\left(z^{2}\right)"
    assert printed["weight_gradient"] == r"\frac{\partial C}{\partial W^{2}} = \delta^{2} \left(a^{1}\right)^{T}"
    assert printed["bias_gradient"] == r"\frac{\partial C}{\partial b^{2}} = \delta^{2}"
    assert printed["batch_weight_gradient"] == (
        r"\frac{\partial C}{\partial W^{2}} = \frac{1}{m} \Delta^{2} \left(A^{1}\right)^{T}"
    )
    assert sympy.latex(hidden["delta"]) == (
        r"\delta^{1} = \left(\left(W^{2}\right)^{T} \delta^{2}\right) \circ \tanh'\left(z^{1}\right)"
    )


def test_hidden_delta_is_the_transpose_rule_with_symbolic_widths():
    hidden, _ = matrix_form(tanh_342())
    n0, n1, n2 = (Symbol(f"n_{{{l}}}", integer=True, positive=True) for l in range(3))
    W2, d1, d2 = MatrixSymbol("W^{2}", n2, n1), MatrixSymbol(r"\delta^{1}", n1, 1), MatrixSymbol(r"\delta^{2}", n2, 1)
    z1 = MatrixSymbol("z^{1}", n1, 1)
    tanh = hidden["forward_out"].rhs.function
    assert tanh.expr == sympy.tanh(tanh.variables[0])
    assert hidden["delta"] == Eq(d1, HadamardProduct(W2.T * d2, Elementwise(tanh, z1, 1)), evaluate=False)
    assert hidden["weight_gradient"].rhs == d1 * MatrixSymbol("a^{0}", n0, 1).T
    assert hidden["weight_gradient"].lhs.shape == (n1, n0)


def test_any_width_is_the_same_formula_per_layer():
    narrow = mlp(2, [Dense(2, "sigmoid"), Dense(2, "sigmoid")], "half_sse")
    wide = mlp(7, [Dense(5, "sigmoid"), Dense(3, "sigmoid")], "half_sse")
    assert matrix_form(narrow) == matrix_form(wide)
    for form in matrix_form(wide):
        for _, equation in form.equations:
            assert not equation.free_symbols & set(wide.graph.parameters)


def test_shared_bias_gradient_is_the_sum_of_the_deltas(mazur):
    hidden, _ = matrix_form(mazur)
    assert sympy.latex(hidden["bias_gradient"]) == (
        r"\frac{\partial E_{total}}{\partial b^{(1)}} = \sum_{j=1}^{n_{1}} {\delta^{(1)}}_{j}"
    )
    assert sympy.latex(hidden["forward_net"]) == r"z^{(1)} = b^{(1)} \mathbf{1} + W^{(1)} a^{(0)}"


def test_softmax_with_fused_cross_entropy_has_delta_a_minus_t():
    _, output = matrix_form(softmax_net())
    # DLfS names the activation z; the difference keeps its order for a printer that does not sort.
    assert sympy.latex(output["delta"], order="none") == r"\delta^{(2)} = z^{(2)} - t"
    assert sympy.latex(output["batch_delta"], order="none") == r"\Delta^{(2)} = Z^{(2)} - T"
    assert "loss_gradient" not in output


def test_softmax_without_fused_loss_uses_its_jacobian_and_has_no_batch_delta():
    _, output = matrix_form(ARCHITECTURES["softmax without fused loss"]())
    assert sympy.latex(output["delta"].rhs) == (
        r"\nabla_{a^{(2)}} L \circ a^{(2)} - a^{(2)} \left(a^{(2)}\right)^{T} \nabla_{a^{(2)}} L"
    )
    assert "batch_delta" not in output


def test_sum_reduction_drops_the_one_over_m(mazur):
    _, output = matrix_form(mazur, reduction="sum")
    assert sympy.latex(output["batch_weight_gradient"].rhs) == r"\Delta^{(2)} \left(A^{(1)}\right)^{T}"
    with pytest.raises(ValueError, match="unknown reduction 'max'"):
        matrix_form(mazur, reduction="max")


def test_layer_form_lookup_names_what_exists(mazur):
    hidden = matrix_form(mazur)[0]
    with pytest.raises(KeyError, match="layer 1 has no 'loss_gradient' equation"):
        hidden["loss_gradient"]


def test_matrix_expressions_work_out_entry_by_entry():
    z = ImmutableMatrix([S("u"), S("v")])
    x = sympy.Dummy("x")
    assert Elementwise(sympy.Lambda(x, functions.sigmoid(x)), z, 1).doit() == ImmutableMatrix(
        [functions.sigmoid(S("u")) * (1 - functions.sigmoid(S("u"))),
         functions.sigmoid(S("v")) * (1 - functions.sigmoid(S("v")))]
    )
    assert Softmax(z).doit() == ImmutableMatrix(
        [functions.softmax(1, S("u"), S("v")), functions.softmax(2, S("u"), S("v"))]
    )
    assert Ones(2, 1).T.doit() == ImmutableMatrix([[1, 1]])
    assert sympy.latex(Ones(1, BATCH)) == r"\mathbf{1}^{T}"


# --- the proof: every entry against the engine ---------------------------------------


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("method", ["exact", "numeric"])
def test_every_matrix_entry_equals_the_per_weight_gradient(name, method):
    network = ARCHITECTURES[name]()
    verify_matrix_form(network, backprop.derive(network), method=method)


@pytest.mark.parametrize("name", ["mazur sigmoid 2-2-2 shared biases", "tanh 3-4-2 per-unit biases",
                                  "relu then softmax with fused cross-entropy", "softmax without fused loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_gradient_over_examples_equals_the_engine(name, reduction):
    network = ARCHITECTURES[name]()
    verify_matrix_form(network, backprop.derive(batched(network.graph, 3, reduction)))


def test_the_instantiated_output_weight_entry_is_mazurs_product(mazur, mazur_derivation):
    """dE/dw5 = out_h1 * out_o1 (1 - out_o1) * (out_o1 - t1), the first entry of delta^2 (a^1)^T."""
    _, output = matrix_form(mazur)
    n1, n2 = (Symbol(f"n_{{{l}}}", integer=True, positive=True) for l in (1, 2))
    x = sympy.Dummy("x")
    delta = ImmutableMatrix([S("out_o1") - S("t1"), S("out_o2") - S("t2")]).multiply_elementwise(
        Elementwise(sympy.Lambda(x, functions.sigmoid(x)), ImmutableMatrix([S("net_o1"), S("net_o2")]), 1).doit()
    ).xreplace({functions.sigmoid(S("net_o1")): S("out_o1"), functions.sigmoid(S("net_o2")): S("out_o2")})
    weights = output["weight_gradient"].rhs.xreplace({
        MatrixSymbol(r"\delta^{(2)}", n2, 1): delta,
        MatrixSymbol("a^{(1)}", n1, 1): ImmutableMatrix([S("out_h1"), S("out_h2")]),
    }).doit()
    assert weights[0, 0] == S("out_h1") * S("out_o1") * (1 - S("out_o1")) * (S("out_o1") - S("t1"))
    assert sympy.expand(weights[0, 0] - mazur_derivation["w5"].closed_form) == 0


def _with_wrong_hidden_derivative(forms):
    """The hidden delta with f(z) in place of f'(z): a plausible slip."""
    hidden = forms[0]
    wrong = hidden["delta"].rhs.replace(
        lambda e: isinstance(e, Elementwise), lambda e: Elementwise(e.function, e.matrix, 0)
    )
    equations = tuple((k, Eq(e.lhs, wrong, evaluate=False) if k == "delta" else e) for k, e in hidden.equations)
    return (LayerForm(hidden.index, equations), *forms[1:])


@pytest.mark.parametrize("method", ["exact", "numeric"])
def test_a_wrong_equation_is_caught_at_its_first_entry(monkeypatch, mazur, mazur_derivation, method):
    import symprop.matrix as matrix

    original = matrix.matrix_form
    monkeypatch.setattr(matrix, "matrix_form", lambda net, **kw: _with_wrong_hidden_derivative(original(net, **kw)))
    with pytest.raises(MatrixFormError, match=r"^layer 1: dE_total/dW\[1,1\] \(w1\): the matrix form gives"):
        verify_matrix_form(mazur, mazur_derivation, method=method)


def test_a_wrong_loss_gradient_is_caught(monkeypatch, mazur, mazur_derivation):
    import symprop.matrix as matrix

    original = matrix.matrix_form

    def doubled(net, **kw):
        forms = original(net, **kw)
        last = forms[-1]
        equations = tuple(
            (k, Eq(e.lhs, 2 * e.rhs, evaluate=False) if k == "loss_gradient" else e) for k, e in last.equations
        )
        return (*forms[:-1], LayerForm(last.index, equations))

    monkeypatch.setattr(matrix, "matrix_form", doubled)
    with pytest.raises(MatrixFormError, match="loss gradient entry 1"):
        verify_matrix_form(mazur, mazur_derivation)


def test_a_derivation_of_another_graph_is_refused(mazur):
    other = backprop.derive(tanh_342())
    with pytest.raises(ValueError, match="neither of this network's graph nor of a batch of it"):
        verify_matrix_form(mazur, other)


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


# --- JSON ----------------------------------------------------------------------------

MAZUR_VALUES = dict(i1=0.05, i2=0.10, w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35,
                    w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60, t1=0.01, t2=0.99)


def _worked_example(derivation, values):
    """The fields of a WorkedExample that layers_json reads, computed here without numeric.py."""
    graph = derivation.graph
    given = {s: sympy.Float(values[s.name], 30) for s in (*graph.inputs, *graph.parameters)}
    forward = dict(given)
    for eq in graph.equations:
        forward[eq.node] = functions.elementary(eq.expr).xreplace(forward).evalf(30)
    adjoints = {node: a.closed_form.xreplace(forward).evalf(30) for node, a in derivation.adjoints.items()}
    gradients = {p: g.closed_form.xreplace(forward).evalf(30) for p, g in derivation.gradients.items()}
    nodes = {n: forward[n] for n in graph.nodes}
    return SimpleNamespace(values=given, forward=nodes, adjoints=adjoints, gradients=gradients)


def test_layers_json_carries_mazurs_numbers(mazur, mazur_derivation):
    layers = layers_json(mazur, _worked_example(mazur_derivation, MAZUR_VALUES))
    assert json.loads(json.dumps(layers)) == layers
    hidden, output = layers
    assert (hidden["index"], hidden["activation"], hidden["inputs"], hidden["units"], hidden["bias"]) == (
        1, "sigmoid", 2, 2, "shared")
    arrays = output["arrays"]
    assert arrays["W"] == [[0.40, 0.45], [0.50, 0.55]]
    assert arrays["b"] == [0.60, 0.60]
    assert arrays["a_prev"] == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert arrays["a"] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert arrays["delta"][0] == pytest.approx(0.138498562, abs=1e-9)
    assert arrays["dW"][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert len(arrays["db"]) == 1
    assert hidden["arrays"]["dW"][0][0] == pytest.approx(0.000438568, abs=1e-9)
    assert hidden["arrays"]["z"][0] == pytest.approx(0.3775, abs=1e-12)


def test_layers_json_formulas_are_latex_strings_without_an_example(mazur):
    hidden, output = layers_json(mazur)
    assert "arrays" not in hidden
    assert list(output["formulas"]) == [
        "forward_net", "forward_out", "loss_gradient", "delta", "weight_gradient", "bias_gradient", "index_form",
        "batch_delta", "batch_weight_gradient", "batch_bias_gradient",
    ]
    assert output["formulas"]["weight_gradient"] == (
        r"\frac{\partial E_{total}}{\partial W^{(2)}} = \delta^{(2)} \left(a^{(1)}\right)^{T}"
    )
    assert [rule["name"] for rule in output["layer_view"]] == ["Affine", "Sigmoid", "Half-Squared-Error-Loss"]
    assert output["layer_view"][0]["backward"][1] == r"\frac{\partial L}{\partial W^{(2)}} = X^{T} \frac{\partial L}{\partial Y}"


def test_layers_json_without_biases_has_no_b():
    network = ARCHITECTURES["leaky relu without biases, binary cross-entropy"]()
    derivation = backprop.derive(network)
    values = {s.name: 0.1 * (i + 1) for i, s in enumerate((*network.graph.inputs, *network.graph.parameters))}
    hidden = layers_json(network, _worked_example(derivation, values))[0]
    assert hidden["bias"] == "none"
    assert hidden["arrays"]["b"] is None and hidden["arrays"]["db"] == []
    assert "bias_gradient" not in hidden["formulas"]


def test_layers_json_reads_a_numeric_worked_example(mazur, mazur_derivation):
    from symprop.numeric import worked_example

    example = worked_example(mazur_derivation, MAZUR_VALUES)
    hidden, output = layers_json(mazur, example)
    assert output["arrays"]["dW"][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert hidden["arrays"]["delta"] == pytest.approx([0.008771354689486938, 0.009954254705217202], rel=1e-12)
    assert hidden["arrays"]["db"] == pytest.approx([0.01872560939470414], rel=1e-12)


def test_project_printer_keeps_the_parentheses_of_the_transpose_rule(mazur):
    from symprop.printing import latex

    hidden, _ = matrix_form(mazur)
    assert latex(hidden["delta"]) == (
        r"\delta^{(1)} = \left(\left(W^{(2)}\right)^{T} \delta^{(2)}\right) \odot \sigma'\left(z^{(1)}\right)"
    )
