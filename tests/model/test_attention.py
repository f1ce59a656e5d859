"""Self-attention: its equations, the forward pass of softmax(Q K^T / sqrt(d)) V, gradients
against sympy.diff of the expanded loss and central differences, and what it refuses."""
from __future__ import annotations

import re

import numpy
import pytest
import sympy
from sympy import Integer, Symbol

from symprop.engine.backprop import derive
from symprop.model.attention import Attention
from symprop.model.functions import softmax
from symprop.model.layer_types import LayerTypeError
from symprop.numbers.worked_example import worked_example
from tests.layer_graphs import array_values, layer_graph, random_values
from tests.reference import assert_gradients_match_reference, with_forward_values


def test_attention_writes_projections_scores_weights_and_outputs():
    graph, layer = layer_graph(Attention(2), (3, 2))
    assert list(layer.parameters) == ["Wq1", "Wk1", "Wv1"]
    assert all(W.shape == (2, 2) for W in layer.parameters.values())
    definition = graph.definition
    S = [Symbol(f"S1[1, {s}]", real=True) for s in range(3)]
    assert definition[Symbol("A1[1, 2]", real=True)] == softmax(Integer(3), *S)
    q = [Symbol(f"Q1[1, {k}]", real=True) for k in range(2)]
    key = [Symbol(f"K1[2, {k}]", real=True) for k in range(2)]
    assert sympy.expand(definition[S[2]] - (q[0] * key[0] + q[1] * key[1]) / sympy.sqrt(2)) == 0
    assert graph.latex_names[Symbol("Wq1[0, 1]", real=True)] == "W^{(1)}_{q;0,1}"
    assert layer.outputs.shape == (3, 2)


def test_forward_pass_is_scaled_dot_product_attention():
    graph, layer = layer_graph(Attention(2), (3, 4))
    values = random_values(graph, seed=6)
    point = {s: sympy.Float(values[s.name], 30) for s in (*graph.inputs, *graph.parameters)}
    forward = {s.name: float(v) for s, v in with_forward_values(graph, point).items()}
    X = array_values(values, layer.inputs)
    Wq, Wk, Wv = (array_values(values, layer.parameters[f"W{p}1"]) for p in "qkv")
    scores = (X @ Wq.T) @ (X @ Wk.T).T / numpy.sqrt(2)
    weights = numpy.exp(scores) / numpy.exp(scores).sum(axis=1, keepdims=True)
    assert numpy.allclose(array_values(forward, layer.outputs), weights @ (X @ Wv.T), atol=1e-12)


def test_attention_over_three_tokens_matches_sympy_diff():
    graph, _ = layer_graph(Attention(1), (3, 1))
    assert_gradients_match_reference(derive(graph), points=1)


def test_attention_over_three_tokens_matches_central_differences():
    graph, layer = layer_graph(Attention(3), (3, 4))
    inputs = [s.name for s in layer.inputs.flat]
    example = worked_example(derive(graph, wrt=inputs), random_values(graph, seed=7))
    assert len(example.checks) == 36 and all(c.ok for c in example.checks)
    assert len(example.input_checks) == 12 and all(c.ok for c in example.input_checks)


@pytest.mark.parametrize("make, message", [
    (lambda: Attention(0), "attention: dim must be a positive whole number, got 0"),
    (lambda: Attention(2).output_shape((3,)), "attention: the input has shape [3], expected [tokens, features]"),
])
def test_bad_settings_and_shapes_are_refused_in_one_line(make, message):
    with pytest.raises(LayerTypeError, match=re.escape(message)):
        make()
