"""The matrix (delta) form: the vectorised BP1-BP4 equations per layer, with symbolic
widths, and the JSON of layers.

That the equations hold is proven in ``tests/test_matrix_proof.py``; the
network builders here serve it and ``tests/test_layer_view.py`` too.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sympy
from sympy import Eq, HadamardProduct, MatrixSymbol, Symbol

from symprop.engine import backprop

from symprop.model import functions
from symprop.layers.matrix import layers_json, matrix_form
from symprop.layers.matrix_expressions import Elementwise
from symprop.model.nn import Dense, mlp
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


def test_the_proof_the_layer_view_and_node_rules_are_importable_from_matrix():
    from symprop.layers import layer_view
    from symprop.layers import matrix
    from symprop.layers import matrix_proof

    assert (matrix.layer_view, matrix.LayerRule, matrix.node_rules, matrix.NodeRule) == (
        layer_view.layer_view, layer_view.LayerRule, layer_view.node_rules, layer_view.NodeRule)
    assert matrix.MatrixFormError is matrix_proof.MatrixFormError


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
        r"\frac{\partial E_{\mathrm{total}}}{\partial W^{(2)}} = \delta^{(2)} (a^{(1)})^{T}"
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
    from symprop.numbers.worked_example import worked_example

    example = worked_example(mazur_derivation, MAZUR_VALUES)
    hidden, output = layers_json(mazur, example)
    assert output["arrays"]["dW"][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert hidden["arrays"]["delta"] == pytest.approx([0.008771354689486938, 0.009954254705217202], rel=1e-12)
    assert hidden["arrays"]["db"] == pytest.approx([0.01872560939470414], rel=1e-12)


def test_project_printer_keeps_the_parentheses_of_the_transpose_rule(mazur):
    from symprop.printing.latex import latex

    hidden, _ = matrix_form(mazur)
    assert latex(hidden["delta"]) == (
        r"\delta^{(1)} = ((W^{(2)})^{T} \delta^{(2)}) \odot \sigma'(z^{(1)})"
    )
