"""The matrix symbols of a network's layers, named in each notation."""
from __future__ import annotations

import pytest
import sympy

from symprop.layers import layer_symbols
from symprop.model.functions import sigmoid
from symprop.layers.layer_symbols import fused_softmax_loss, layer_activation, network_symbols
from symprop.model.nn import Dense, mlp

from tests.conftest import chain_network


def two_layers(notation: str):
    return mlp(2, [Dense(2, "relu"), Dense(1, "identity", bias="none")], "sse", notation=notation)


def test_mazurs_first_layer(mazur):
    layer = network_symbols(mazur).layers[0]
    assert (str(layer.n), str(layer.n_prev), layer.W.shape) == ("n_{1}", "n_{0}", (layer.n, layer.n_prev))
    assert [str(s) for s in (layer.W, layer.b, layer.a_prev, layer.z, layer.a, layer.delta)] == [
        "W^{(1)}", "b^{(1)}", "a^{(0)}", "z^{(1)}", "a^{(1)}", r"\delta^{(1)}",
    ]
    assert [str(s) for s in (layer.A_prev, layer.Z, layer.A, layer.Delta)] == [
        "A^{(0)}", "Z^{(1)}", "A^{(1)}", r"\Delta^{(1)}",
    ]
    assert layer.bias_mode == "shared" and isinstance(layer.b, sympy.Symbol)
    assert layer.A.shape == (layer.n, sympy.Symbol("m", integer=True, positive=True))


def test_mazurs_loss_targets_and_output_gradient(mazur):
    symbols = network_symbols(mazur)
    assert (str(symbols.loss), str(symbols.t), str(symbols.T)) == ("E_total", "t", "T")
    assert (str(symbols.grad_a), str(symbols.grad_A)) == (r"\nabla_{a^{(2)}} E_{\mathrm{total}}", r"\nabla_{A^{(2)}} E_{\mathrm{total}}")
    assert symbols.t.shape == (symbols.layers[-1].n, 1)


@pytest.mark.parametrize(
    "notation, first, target",
    [
        ("nielsen", ["W^{1}", "b^{1}", "a^{0}", "z^{1}", "a^{1}", "n_{1}"], "y"),
        ("3b1b", ["W^{(L-1)}", "b^{(L-1)}", "a^{(L-2)}", "z^{(L-1)}", "a^{(L-1)}", "n_{L-1}"], "y"),
        ("dlfs", ["W^{(1)}", "b^{(1)}", "z^{(0)}", "a^{(1)}", "z^{(1)}", "n_{1}"], "t"),
        ("plain", ["W^{(1)}", "b^{(1)}", "a^{(0)}", "z^{(1)}", "a^{(1)}", "n_{1}"], "y"),
    ],
)
def test_each_notation_names_the_layer_its_own_way(notation, first, target):
    symbols = network_symbols(two_layers(notation))
    layer = symbols.layers[0]
    assert [str(s) for s in (layer.W, layer.b, layer.a_prev, layer.z, layer.a, layer.n)] == first
    assert str(symbols.t) == target
    assert symbols.layers[1].b is None and symbols.layers[1].bias_mode == "none"


def test_activations_are_read_off_the_graph(mazur):
    x = sympy.Dummy("x", real=True)
    activation = layer_activation(mazur.graph, mazur.layers[0])
    assert activation.kind == "elementwise"
    assert activation.function(x) == sigmoid(x)
    assert layer_activation(mazur.graph, mazur.layers[1]) == activation  # one bound variable: equal forms
    identity = two_layers("plain")
    assert layer_activation(identity.graph, identity.layers[1]).kind == "identity"
    classifier = mlp(2, [Dense(3, "softmax")], "cross_entropy")
    assert layer_activation(classifier.graph, classifier.layers[0]) == layer_symbols.Activation("softmax")


def test_width_and_superscript_of_a_chain_count_back_from_the_last_layer():
    chain = chain_network()
    assert layer_symbols.layer_superscript(chain, 1) == "(L-2)"
    assert layer_symbols.layer_superscript(chain, 3) == "(L)"
    width = layer_symbols.width_symbol(chain, 2)
    assert str(width) == "n_{L-1}" and width.is_integer and width.is_positive


def test_fused_softmax_loss_is_softmax_cross_entropy_only():
    assert fused_softmax_loss(mlp(2, [Dense(2, "identity")], "softmax_cross_entropy"))
    assert not fused_softmax_loss(mlp(2, [Dense(3, "softmax")], "cross_entropy"))
