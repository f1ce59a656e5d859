"""Layer and batch normalisation: their equations, PyTorch's forward pass reproduced, gradients
against sympy.diff of the expanded loss and central differences, and what they refuse."""
from __future__ import annotations

import re

import numpy
import pytest
import sympy
from sympy import Rational, Symbol

from symprop.engine.backprop import derive
from symprop.model.layer_types import LayerTypeError
from symprop.model.normalisation import BatchNorm, LayerNorm, epsilon_value
from symprop.numbers.worked_example import worked_example
from tests.layer_graphs import array_values, layer_graph, random_values
from tests.reference import assert_gradients_match_reference, with_forward_values


def _forward(graph, layer, values):
    point = {s: sympy.Float(values[s.name], 30) for s in (*graph.inputs, *graph.parameters)}
    forward = {s.name: float(v) for s, v in with_forward_values(graph, point).items()}
    return array_values(forward, layer.outputs)


def _normalised(x, axes, gamma, beta, epsilon=1e-5):
    """PyTorch's training-mode normalisation: biased variance over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return gamma * (x - mean) / numpy.sqrt(var + epsilon) + beta


def test_layernorm_writes_mean_var_rstd_norm_and_output_per_row():
    graph, layer = layer_graph(LayerNorm(), (2, 3))
    definition = graph.definition
    mean, var, rstd = (Symbol(f"{name}1[1]", real=True) for name in ("mean", "var", "rstd"))
    x = [Symbol(f"x[1, {k}]", real=True) for k in range(3)]
    assert definition[mean] == sum(x) / 3
    assert sympy.expand(definition[var] - sum((xk - mean) ** 2 for xk in x) / 3) == 0
    assert definition[rstd] == 1 / sympy.sqrt(var + Rational(1, 100000))
    norm = Symbol("norm1[1, 2]", real=True)
    assert definition[norm] == (x[2] - mean) * rstd
    assert definition[Symbol("y1[1, 2]", real=True)] == Symbol("gamma1[2]", real=True) * norm + Symbol("beta1[2]", real=True)
    assert graph.latex_names[rstd] == r"\mathrm{rstd}^{(1)}_{1}"
    assert list(layer.parameters) == ["gamma1", "beta1"]


def test_a_vector_has_one_mean_named_without_an_index():
    graph, layer = layer_graph(LayerNorm(epsilon=0.001), (3,))
    assert Symbol("mean1", real=True) in graph.definition
    assert graph.latex_names[Symbol("mean1", real=True)] == r"\mu^{(1)}"
    assert graph.definition[Symbol("rstd1", real=True)] == 1 / sympy.sqrt(Symbol("var1", real=True) + Rational(1, 1000))


@pytest.mark.parametrize("spec, shape, axes", [(LayerNorm(), (2, 3), (1,)), (BatchNorm(), (3, 2), (0,)),
                                               (BatchNorm(), (2, 2, 2, 1), (0, 2, 3))],
                         ids=["layernorm", "batchnorm1d", "batchnorm2d"])
def test_forward_pass_is_pytorchs(spec, shape, axes):
    graph, layer = layer_graph(spec, shape)
    values = random_values(graph, seed=4)
    gamma, beta = (array_values(values, layer.parameters[f"{name}1"]) for name in ("gamma", "beta"))
    if spec.kind == "batchnorm":
        gamma, beta = (v.reshape((1, -1) + (1,) * (len(shape) - 2)) for v in (gamma, beta))
    expected = _normalised(array_values(values, layer.inputs), axes, gamma, beta)
    assert numpy.allclose(_forward(graph, layer, values), expected, atol=1e-12)


def test_batchnorm_over_a_batch_of_three_matches_sympy_diff():
    graph, _ = layer_graph(BatchNorm(), (3, 2))
    assert_gradients_match_reference(derive(graph), points=2)


def test_batchnorm_couples_the_examples_of_its_batch():
    """Each example's output depends on the other examples' inputs: the batch is one graph."""
    graph, layer = layer_graph(BatchNorm(), (3, 2))
    y00 = graph.expanded(layer.outputs[0, 0])
    assert Symbol("x[2, 0]", real=True) in y00.free_symbols
    assert Symbol("x[2, 1]", real=True) not in y00.free_symbols


def test_layernorm_matches_sympy_diff_for_inputs_too():
    graph, layer = layer_graph(LayerNorm(), (3,))
    derivation = derive(graph, wrt=[s.name for s in layer.inputs])
    assert_gradients_match_reference(derivation, points=2)
    loss = graph.expanded()
    for x, gradient in derivation.input_gradients.items():
        point = {s: sympy.Float(0.1 * k - 0.35, 30) for k, s in enumerate((*graph.inputs, *graph.parameters))}
        values = with_forward_values(graph, point)
        assert abs(gradient.closed_form.xreplace(values).evalf(30) - sympy.diff(loss, x).xreplace(point).evalf(30)) < 1e-20


@pytest.mark.parametrize("spec, shape", [(LayerNorm(), (4, 5)), (BatchNorm(), (6, 3)), (BatchNorm(), (3, 2, 2, 2))],
                         ids=["layernorm", "batchnorm1d", "batchnorm2d"])
def test_larger_normalisations_match_central_differences(spec, shape):
    graph, layer = layer_graph(spec, shape)
    inputs = [s.name for s in layer.inputs.flat]
    example = worked_example(derive(graph, wrt=inputs), random_values(graph, seed=5))
    assert len(example.checks) == len(graph.parameters) and all(c.ok for c in example.checks)
    assert len(example.input_checks) == len(inputs) and all(c.ok for c in example.input_checks)


def test_epsilon_is_an_exact_decimal():
    assert epsilon_value("layernorm", 1e-5) == Rational(1, 100000)
    assert epsilon_value("layernorm", 0.25) == Rational(1, 4)


@pytest.mark.parametrize("make, message", [
    (lambda: LayerNorm(epsilon=0), "layernorm: epsilon must be a number between 0 and 1, got 0"),
    (lambda: BatchNorm(epsilon="small"), "batchnorm: epsilon must be a number between 0 and 1, got 'small'"),
    (lambda: LayerNorm().output_shape((2, 3, 4)), "layernorm: the input has shape [2, 3, 4], expected [features] or "
                                                  "[rows, features]"),
    (lambda: LayerNorm().output_shape((3, 1)), "layernorm: one feature is always normalised to 0"),
    (lambda: BatchNorm().output_shape((1, 3)), "batchnorm: a batch of one example is always normalised to 0"),
    (lambda: BatchNorm().output_shape((4,)), "batchnorm: the input has shape [4], expected [batch, features]"),
])
def test_bad_settings_and_shapes_are_refused_in_one_line(make, message):
    with pytest.raises(LayerTypeError, match=re.escape(message)) as error:
        make()
    assert "\n" not in str(error.value)
