"""Layer stacks: building, the losses (sum, upstream), dense at every step, the Network-like questions."""
from __future__ import annotations

import pytest
import sympy

from symprop.engine.backprop import derive
from symprop.model.conv import Conv2d, Flatten, MaxPool2d
from symprop.model.layer_types import LayerTypeError
from symprop.model.nn import Dense
from symprop.model.stack import DenseLayer, LayerStack, stack
from tests.reference import assert_gradients_exact


def test_a_stack_knows_its_arrays_and_answers_as_a_network_does():
    network = stack([1, 3, 3], [Conv2d(2, 2), Flatten(), Dense(1, "identity")], "half_sse")
    assert isinstance(network, LayerStack)
    assert network.describe() == "input 1x3x3 -> conv2d 2x2x2 -> flatten 8 -> dense 1, loss half_sse; 19 parameters"
    assert [layer.kind for layer in network.layers] == ["conv2d", "flatten", "dense"]
    assert network.layers[0].parameters["W1"].shape == (2, 1, 2, 2)
    assert network.layers[0].roles == {"W1": "W", "b1": "b"}
    assert len(network.weights) == 16 and len(network.biases) == 3
    assert network.targets == (sympy.Symbol("t[0]", real=True),)
    w = network.layers[2].parameters["W3"][0, 5]
    assert network.layer_of(w).index == 3 and network.array_of(w) == "W3"
    assert network.graph.latex_name(w) == "W^{(3)}_{0,5}"


def test_the_sum_loss_takes_no_targets_and_gives_every_output_the_gradient_one():
    network = stack([1, 2, 2], [Conv2d(1, 1, bias=False)], "sum")
    assert network.targets == () and network.graph.inputs == network.inputs
    derivation = derive(network)
    x = network.input
    assert derivation.gradients[network.parameters[0]].closed_form == sympy.Add(*x.flat)


def test_an_upstream_gradient_takes_the_targets_place_shaped_like_the_output():
    network = stack([1, 3, 3], [Conv2d(1, 2)], "upstream")
    assert network.target.shape == (1, 2, 2) and network.target[0, 1, 0].name == "g[0, 1, 0]"
    derivation = derive(network)
    z, g = network.layers[0].outputs, network.target
    assert derivation.adjoints[z[0, 1, 0]].definition == g[0, 1, 0]


def test_a_dense_layer_on_steps_applies_at_every_step_with_one_weight_matrix():
    network = stack([3, 2], [Dense(2, "tanh")], "sum")
    layer = network.layers[0]
    assert layer.outputs.shape == (3, 2) and layer.parameters["W1"].shape == (2, 2)
    assert_gradients_exact(derive(network))


def test_softmax_cross_entropy_needs_a_dense_softmax_last():
    with pytest.raises(LayerTypeError, match="softmax_cross_entropy takes the logits"):
        stack([1, 3, 3], [Conv2d(1, 2)], "softmax_cross_entropy")
    network = stack([1, 2, 2], [Flatten(), Dense(2, "softmax")], "softmax_cross_entropy")
    assert_gradients_exact(derive(network))


@pytest.mark.parametrize("call, message", [
    (lambda: stack([], [Flatten()]), "input shape must be a list of positive whole numbers"),
    (lambda: stack([1, 0, 2], [Flatten()]), "input shape"),
    (lambda: stack([1, 2, 2], []), "no layers"),
    (lambda: stack([1, 2, 2], [Flatten()], "hinge"), "unknown loss 'hinge'"),
    (lambda: stack([1, 2, 2], ["conv"]), "not a layer type"),
    (lambda: stack([1, 2, 2], [Flatten()], input_name="t"), "the name 't' is given to both"),
])
def test_bad_stacks_are_refused_in_one_line(call, message):
    with pytest.raises(LayerTypeError) as error:
        call()
    assert message in str(error.value)


def test_dense_wraps_as_a_layer_type_with_pytorch_shapes():
    layer = DenseLayer(Dense(3, "relu", bias="shared"))
    assert layer.output_shape((4,)) == (3,) and layer.output_shape((5, 4)) == (5, 3)
    network = stack([4], [Dense(3, "relu", bias="shared")], "sum")
    assert network.layers[0].parameters["b1"].shape == (1,)


def test_max_pooling_after_a_convolution_differentiates_exactly():
    network = stack([1, 3, 3], [Conv2d(1, 2), MaxPool2d(2)], "sum")
    assert_gradients_exact(derive(network))
