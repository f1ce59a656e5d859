"""Backpropagation through time and the LSTM's and GRU's gate-by-gate equations: their LaTeX,
and every entry they give equal to the engine's per-entry gradient at random 40-digit points."""
from __future__ import annotations

import dataclasses

import numpy

import pytest
from sympy import HadamardProduct

from symprop.engine.backprop import derive
from symprop.layers.backward_forms import prove_form, prove_forward, work_backward, upstream_gradient
from symprop.layers.matrix_proof import MatrixFormError
from symprop.layers.recurrent_forms import gru_form, lstm_form, rnn_form
from symprop.model.nn import batched
from symprop.model.recurrent import GRU, LSTM, RNN
from tests.layer_graphs import layer_graph


def test_bptt_is_written_as_the_tutorials_write_it():
    _, layer = layer_graph(RNN(2, h0="given"), (3, 2))
    assert dict(rnn_form(layer).latex_rows()) == {
        "dh": r"\frac{\partial L}{\partial h_{t}} = e_{t} + W_{h}^{T} \delta_{t+1}",
        "delta": r"\delta_{t} = \frac{\partial L}{\partial h_{t}} \odot \tanh'(z_{t})",
        "dWx": r"\frac{\partial L}{\partial W_{x}} = \sum_{t} \delta_{t} x_{t}^{T}",
        "dWh": r"\frac{\partial L}{\partial W_{h}} = \sum_{t} \delta_{t} h_{t-1}^{T}",
        "db": r"\frac{\partial L}{\partial b} = \sum_{t} \delta_{t}",
        "dx": r"\frac{\partial L}{\partial x_{t}} = W_{x}^{T} \delta_{t}",
        "dh0": r"\frac{\partial L}{\partial h_{-1}} = W_{h}^{T} \delta_{t} \quad (t = 0)",
    }


@pytest.mark.parametrize("spec, shape, entries", [
    (RNN(2), (4, 3), 6 + 4 + 2 + 12),
    (RNN(3, h0="given", bias=False, activation="sigmoid"), (2, 2), 6 + 9 + 4 + 3),
    (LSTM(2), (3, 2), 16 + 16 + 8 + 8 + 6),
    (LSTM(2, h0="given"), (1, 2), 16 + 16 + 8 + 8 + 2 + 2 + 2),
    (GRU(2), (3, 2), 12 + 12 + 6 + 6 + 6),
    (GRU(2, h0="given", bias=False), (2, 1), 6 + 12 + 2 + 2),
], ids=["rnn", "rnn-given-state", "lstm", "lstm-cell", "gru", "gru-given-state"])
def test_every_entry_equals_the_engines_gradient(spec, shape, entries):
    graph, layer = layer_graph(spec, shape)
    form = {"rnn": rnn_form, "lstm": lstm_form, "gru": gru_form}[spec.kind](layer)
    assert prove_form(form, derive(graph), layer) == entries


@pytest.mark.parametrize("spec, form, rows", [
    (RNN(2), rnn_form, [r"z_{t} &= W_{h} h_{t-1} + W_{x} x_{t} + b", r"h_{t} &= \tanh(z_{t})"]),
    (LSTM(1, bias=False, h0="given"), lstm_form, None), (GRU(2), gru_form, None),
], ids=["rnn", "lstm", "gru"])
def test_the_forward_equations_at_every_step_are_the_graphs(spec, form, rows):
    graph, layer = layer_graph(spec, (3, 2))
    built = form(layer)
    if rows is not None:
        assert built.forward_rows() == rows
    units = layer.outputs.shape[1]
    per_step = {"rnn": 2, "lstm": 10, "gru": 8}[spec.kind]
    assert prove_forward(built, graph, layer) == 3 * units * per_step


def test_a_wrong_forward_equation_is_caught():
    graph, layer = layer_graph(GRU(1), (2, 1))
    form = gru_form(layer)
    forward = tuple(dataclasses.replace(eq, rhs=eq.rhs.args[0]) if eq.key == "h" else eq for eq in form.forward)
    with pytest.raises(MatrixFormError, match="forward equation h"):
        prove_forward(dataclasses.replace(form, forward=forward), graph, layer)


def test_the_weights_sum_over_the_steps():
    """dWh is a sum of one term per step after the first (from a zero state h_{-1} = 0)."""
    graph, layer = layer_graph(RNN(1), (4, 1))
    derivation = derive(graph)
    _, sums = work_backward(rnn_form(layer), layer, upstream_gradient(derivation, layer))
    assert len(sums["dWh"][0, 0].args) == 3 and len(sums["dWx"][0, 0].args) == 4


def test_a_wrong_equation_is_caught():
    """dL/dc_t without the forget gate's path to the step before is not the LSTM's gradient."""
    graph, layer = layer_graph(LSTM(1), (2, 1))
    form = lstm_form(layer)
    equations = list(form.equations)
    position = next(i for i, eq in enumerate(equations) if eq.key == "dc")
    both_paths = equations[position].rhs
    assert len(both_paths.args) == 2 and all(isinstance(a, HadamardProduct) for a in both_paths.args)
    equations[position] = dataclasses.replace(equations[position], rhs=both_paths.args[0])
    with pytest.raises(MatrixFormError, match="layer 1 \\(lstm\\)"):
        prove_form(dataclasses.replace(form, equations=tuple(equations)), derive(graph), layer)


def test_a_batch_of_copies_is_proven_on_each_copy():
    """In a batch (``nn.batched``) each example is a copy of the layer: the first copy's entries
    (``Wh1`` shared, ``x[0, 0][1]`` its own) are proven against the batch's gradients."""
    graph, layer = layer_graph(RNN(2), (4, 1))
    derivation = derive(batched(graph, 2))
    copy = {s: s.func(f"{s.name}[1]", **s.assumptions0) for s in (*graph.inputs, *graph.nodes)}
    renamed = numpy.vectorize(lambda s: copy[s], otypes=[object])
    nodes = {name: renamed(array) for name, array in layer.nodes.items()}
    first = dataclasses.replace(layer, inputs=renamed(layer.inputs), outputs=nodes["h1"], nodes=nodes,
                                equations=tuple((copy[n], e.xreplace(copy)) for n, e in layer.equations))
    assert prove_form(rnn_form(first), derivation, first) == 2 + 4 + 2 + 4
