"""Self-attention's backward equations: the softmax Jacobian and the three projections'
gradients, their LaTeX, and every entry equal to the engine's per-entry gradient."""
from __future__ import annotations

import dataclasses

import pytest

from symprop.engine.backprop import derive
from symprop.layers.attention_forms import A, dA, dS, attention_form
from symprop.layers.backward_forms import prove_form
from symprop.layers.matrix_proof import MatrixFormError
from symprop.model.attention import Attention
from tests.layer_graphs import layer_graph


def test_attention_backward_is_written_in_matrices():
    _, layer = layer_graph(Attention(2), (3, 2))
    rows = dict(attention_form(layer).latex_rows())
    assert rows["dS"] == r"\mathrm{d}S = A \odot (\mathrm{d}A - (A \odot \mathrm{d}A) \mathbf{1} \mathbf{1}^{T})"
    assert rows["dQ"] == r"\mathrm{d}Q = \frac{1}{\sqrt{d}} \mathrm{d}S K"
    assert rows["dWv"] == r"\frac{\partial L}{\partial W_{v}} = \mathrm{d}V^{T} X"
    assert list(rows) == ["dV", "dA", "dS", "dQ", "dK", "dWq", "dWk", "dWv", "dX"]


@pytest.mark.parametrize("dim, shape", [(2, (3, 2)), (1, (3, 4)), (3, (2, 2))])
def test_attention_over_tokens_equals_the_engines_gradient(dim, shape):
    graph, layer = layer_graph(Attention(dim), shape)
    tokens, features = shape
    assert prove_form(attention_form(layer), derive(graph), layer) == 3 * dim * features + tokens * features


def test_the_softmax_without_its_jacobian_is_caught():
    graph, layer = layer_graph(Attention(1), (3, 1))
    form = attention_form(layer)
    equations = tuple(dataclasses.replace(eq, rhs=dA) if eq.lhs == dS else eq for eq in form.equations)
    with pytest.raises(MatrixFormError, match="attention"):
        prove_form(dataclasses.replace(form, equations=equations), derive(graph), layer)
    assert A in form.names
