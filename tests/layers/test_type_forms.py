"""The backward form of a built layer by its kind."""
from __future__ import annotations

from symprop.engine.backprop import derive
from symprop.layers.type_forms import FORMS, backward_form, prove_layer
from symprop.model.attention import Attention
from symprop.model.conv import Flatten
from symprop.model.normalisation import LayerNorm
from symprop.model.recurrent import GRU
from tests.layer_graphs import layer_graph


def test_every_new_kind_has_a_form_and_others_none():
    assert set(FORMS) == {"rnn", "lstm", "gru", "layernorm", "batchnorm", "attention"}
    _, flatten = layer_graph(Flatten(), (2, 2))
    assert backward_form(flatten) is None
    assert backward_form(layer_graph(Attention(1), (2, 1))[1]).kind == "attention"


def test_prove_layer_counts_the_entries_proven():
    graph, layer = layer_graph(GRU(1, h0="given"), (1, 1))
    assert prove_layer(derive(graph), layer) == 3 + 3 + 3 + 3 + 1 + 1
    graph, flatten = layer_graph(Flatten(), (2, 2))
    assert prove_layer(derive(graph), flatten) == 0
    graph, layer = layer_graph(LayerNorm(), (2,))
    assert prove_layer(derive(graph), layer) == 2 + 2 + 2
