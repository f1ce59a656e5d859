"""The index forms of array layers equal the engine's per-entry gradients, and a wrong one is caught."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sympy

from symprop.engine.backprop import derive
from symprop.files import spec
from symprop.layers.array_forms import IndexFormError, index_forms, prove, stack_layers_json
from symprop.model.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from symprop.model.nn import Dense
from symprop.model.stack import stack
from symprop.outputs import pipeline
from symprop.printing.latex import SympropLatexPrinter


@pytest.mark.parametrize("shape, layers", [
    ([1, 3, 3], [Conv2d(1, 2, activation="relu"), Flatten(), Dense(1, "identity")]),
    ([2, 4, 4], [Conv2d(2, 2, stride=2, padding=2, activation="tanh"), MaxPool2d(2, 1), Flatten(), Dense(2, "softmax")]),
    ([2, 5, 4], [Conv2d(3, (3, 2), stride=(2, 1), padding=(1, 0)), AvgPool2d(2, 1), Flatten(), Dense(2, "sigmoid")]),
    ([3, 2], [Dense(2, "tanh", bias="shared")]),
], ids=["conv", "stride2-pad2-maxpool", "rectangular-avgpool", "dense-at-every-step"])
def test_every_index_form_equals_the_engines_gradient_at_every_entry(shape, layers):
    network = stack(shape, layers, "softmax_cross_entropy" if layers[-1].activation == "softmax" else "sum")
    derivation = derive(network, wrt="all")
    for layer in network.layers:
        forms = index_forms(layer)
        for form in forms:
            assert prove(derivation, form) == len(form.entries) > 0, (layer.kind, form.gradient)
    assert index_forms(network.layers[-1])  # the last layer always has forms


def test_the_forms_of_each_kind():
    network = stack([1, 3, 3], [Conv2d(1, 2), MaxPool2d(2, 1), Flatten(), Dense(1, "identity", bias="none")], "sum")
    kinds = {layer.kind: [f.gradient for f in index_forms(layer)] for layer in network.layers}
    assert kinds == {"conv2d": ["dW", "db", "dX"], "maxpool": ["dX"], "flatten": [], "dense": ["dW", "dX"]}


def test_a_wrong_form_is_caught_naming_the_entry():
    network = stack([1, 3, 3], [Conv2d(1, 2)], "sum")
    derivation = derive(network)
    dW = index_forms(network.layers[0])[0]
    first = next(iter(dW.entries))
    x = network.input
    wrong = replace(dW, entries={**dW.entries, first: (*dW.entries[first], (x[0, 2, 2], sympy.S.One))})
    with pytest.raises(IndexFormError, match=r"dW differs from the engine's gradient at W1\[0, 0, 0, 0\]"):
        prove(derivation, wrong)


def test_the_maxpool_form_uses_max_and_is_proven_at_random_points_when_not_alike_in_form():
    network = stack([1, 2, 3], [MaxPool2d(2, 1)], "sum")
    derivation = derive(network, wrt="all")
    (form,) = index_forms(network.layers[0])
    assert prove(derivation, form) == 6


def test_a_form_with_other_products_of_the_same_sum_is_proven_by_its_sum():
    network = stack([1, 3, 3], [Conv2d(1, 2)], "sum")
    derivation = derive(network)
    dW = index_forms(network.layers[0])[0]
    first = next(iter(dW.entries))
    doubled = tuple((2 * a, b / 2) for a, b in dW.entries[first])   # other factors, the same products
    assert prove(derivation, replace(dW, entries={first: doubled})) == 1


def test_json_arrays_are_nested_like_the_parameters_with_their_gradients():
    solution = pipeline.solve(replace(spec.load_builtin("conv"), input_gradients=True))
    latex = SympropLatexPrinter({"graph": solution.derivation.graph}).doprint
    layers = stack_layers_json(solution.derivation, solution.example, latex)
    conv, flatten, dense = layers
    assert [layer["type"] for layer in layers] == ["conv2d", "flatten", "dense"]
    assert conv["arrays"]["W"] == [[[[0.3, -0.2], [0.5, 0.4]]]]
    W1 = solution.problem.network.layers[0].parameters["W1"]
    assert conv["arrays"]["dW"][0][0][1][0] == solution.example.gradients[W1[0, 0, 1, 0]]
    assert set(conv["arrays"]) == {"W", "dW", "b", "db", "dX"}
    assert set(flatten["arrays"]) == {"dX"} and len(flatten["arrays"]["dX"][0][0]) == 2  # its input is 1x2x2
    assert len(conv["arrays"]["dX"][0]) == 3 and set(conv["formulas"]) == {"forward", "dW", "db", "dX"}
    assert dense["output_shape"] == [1] and dense["settings"]["activation"] == "identity"
    json.dumps(layers, allow_nan=False)
