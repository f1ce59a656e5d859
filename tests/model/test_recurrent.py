"""Recurrent layers: their equations and names, PyTorch's forward pass reproduced, gradients
against sympy.diff of the expanded loss (small sizes) and central differences (larger ones),
and the settings and shapes they refuse."""
from __future__ import annotations

import re

import numpy
import pytest
import sympy
from sympy import Symbol

from symprop.engine.backprop import derive
from symprop.model.layer_types import LayerTypeError, Names
from symprop.model.nn import batched
from symprop.model.recurrent import GRU, LSTM, RNN
from symprop.numbers.gradcheck import gradient_check
from symprop.numbers.worked_example import worked_example
from tests.layer_graphs import array_values, layer_graph, random_values
from tests.reference import assert_gradients_match_reference, with_forward_values


def _sigmoid(z):
    return 1 / (1 + numpy.exp(-z))


def _forward_values(graph, values):
    point = {s: sympy.Float(values[s.name], 30) for s in (*graph.inputs, *graph.parameters)}
    return {s.name: float(v) for s, v in with_forward_values(graph, point).items()}


def _numbers(values, layer, name):
    return array_values(values, layer.parameters[name] if name in layer.parameters else layer.nodes[name])


def test_rnn_names_its_arrays_and_writes_one_equation_per_entry_and_step():
    names = Names()
    x = names.array("x", (2, 3), "x", "the input")
    layer = RNN(2).build(x, 1, names)
    assert list(layer.parameters) == ["Wx1", "Wh1", "b1"]
    assert layer.parameters["Wx1"].shape == (2, 3) and layer.parameters["Wh1"].shape == (2, 2)
    Wx01 = Symbol("Wx1[0, 1]", real=True)
    assert names.latex[Wx01] == "W^{(1)}_{x;0,1}"
    assert names.latex[Symbol("h1[1, 0]", real=True)] == "h^{(1)}_{1,0}"
    definition = dict(layer.equations)
    z10 = Symbol("z1[1, 0]", real=True)
    wx = [Symbol(f"Wx1[0, {k}]", real=True) for k in range(3)]
    wh = [Symbol(f"Wh1[0, {k}]", real=True) for k in range(2)]
    h0 = [Symbol(f"h1[0, {k}]", real=True) for k in range(2)]
    expected = sum(w * x[1, k] for k, w in enumerate(wx)) + sum(w * h for w, h in zip(wh, h0)) + Symbol("b1[0]", real=True)
    assert sympy.expand(definition[z10] - expected) == 0
    assert definition[Symbol("h1[1, 0]", real=True)] == sympy.tanh(z10)
    # the first step from a zero state has no recurrent term
    assert not definition[Symbol("z1[0, 0]", real=True)].has(*wh)
    assert layer.outputs.shape == (2, 2) and layer.settings["steps"] == 2


def test_a_given_initial_state_is_an_input_set_as_step_minus_one():
    graph, layer = layer_graph(RNN(2, h0="given"), (1, 2))
    hx = layer.states["hx1"]
    assert set(hx) <= set(graph.inputs)
    assert graph.latex_names[hx[1]] == "h^{(1)}_{-1,1}"
    assert hx[0] in dict(layer.equations)[Symbol("z1[0, 0]", real=True)].free_symbols


def test_rnn_of_four_steps_with_a_batch_matches_sympy_diff():
    graph, _ = layer_graph(RNN(2), (4, 1))
    assert_gradients_match_reference(derive(batched(graph, 2)), points=1)


def test_rnn_of_four_steps_with_a_batch_matches_central_differences():
    graph, _ = layer_graph(RNN(3, activation="sigmoid"), (4, 2))
    examples = [{s.name: v for s, v in zip(graph.inputs, numpy.random.default_rng(i).uniform(-1, 1, len(graph.inputs)))}
                for i in range(3)]
    parameters = {p.name: v for p, v in zip(graph.parameters, numpy.random.default_rng(9).uniform(-1, 1, 99))}
    checks = gradient_check(derive(graph), parameters, examples=examples)
    assert len(checks) == len(graph.parameters) and all(c.ok for c in checks)


def _lstm_reference(x, Wi, Wh, bi, bh, h, c):
    """torch.nn.LSTM's equations in NumPy (gates stacked i, f, g, o)."""
    hs = []
    for x_t in x:
        i, f, g, o = numpy.split(Wi @ x_t + bi + Wh @ h + bh, 4)
        c = _sigmoid(f) * c + _sigmoid(i) * numpy.tanh(g)
        h = _sigmoid(o) * numpy.tanh(c)
        hs.append(h)
    return numpy.array(hs)


def _gru_reference(x, Wi, Wh, bi, bh, h):
    """torch.nn.GRU's equations in NumPy (gates stacked r, z, n)."""
    hs = []
    for x_t in x:
        xr, xz, xn = numpy.split(Wi @ x_t + bi, 3)
        hr, hz, hn = numpy.split(Wh @ h + bh, 3)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = numpy.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return numpy.array(hs)


def test_lstm_forward_pass_is_pytorchs():
    graph, layer = layer_graph(LSTM(2, h0="given"), (3, 2))
    values = random_values(graph, seed=1)
    forward = _forward_values(graph, values)
    arrays = [_numbers(values, layer, n) for n in ("Wi1", "Wh1", "bi1", "bh1")]
    expected = _lstm_reference(array_values(values, layer.inputs), *arrays,
                               array_values(values, layer.states["hx1"]), array_values(values, layer.states["cx1"]))
    assert numpy.allclose(array_values(forward, layer.outputs), expected, atol=1e-12)


def test_gru_forward_pass_is_pytorchs():
    graph, layer = layer_graph(GRU(2), (3, 2))
    values = random_values(graph, seed=2)
    forward = _forward_values(graph, values)
    arrays = [_numbers(values, layer, n) for n in ("Wi1", "Wh1", "bi1", "bh1")]
    expected = _gru_reference(array_values(values, layer.inputs), *arrays, numpy.zeros(2))
    assert numpy.allclose(array_values(forward, layer.outputs), expected, atol=1e-12)


@pytest.mark.parametrize("spec", [LSTM(2, h0="given"), GRU(2, h0="given")], ids=["lstm", "gru"])
def test_a_cell_of_two_units_matches_sympy_diff(spec):
    graph, layer = layer_graph(spec, (1, 1))
    assert len(layer.parameter_symbols) == (4 if spec.kind == "lstm" else 3) * 2 * (1 + 2 + 2)
    assert_gradients_match_reference(derive(graph), points=1)


@pytest.mark.parametrize("spec", [LSTM(3), GRU(3, bias=False, h0="given")], ids=["lstm", "gru"])
def test_gated_layers_over_steps_match_central_differences(spec):
    graph, layer = layer_graph(spec, (4, 2))
    inputs = [s.name for s in (*layer.inputs.flat, *(s for a in layer.states.values() for s in a))]
    example = worked_example(derive(graph, wrt=inputs), random_values(graph, seed=3))
    assert len(example.checks) == len(graph.parameters) and all(c.ok for c in example.checks)
    assert len(example.input_checks) == len(inputs) and all(c.ok for c in example.input_checks)


@pytest.mark.parametrize("make, message", [
    (lambda: RNN(0), "rnn: units must be a positive whole number, got 0"),
    (lambda: RNN(2, activation="softmax"), "rnn: unknown activation 'softmax'"),
    (lambda: RNN(2, h0="learned"), "rnn: h0 must be one of zero, given, got 'learned'"),
    (lambda: LSTM(2, bias="yes"), "lstm: bias must be true or false, got 'yes'"),
    (lambda: GRU(2).output_shape((3,)), "gru: the input has shape [3], expected [steps, features]"),
    (lambda: RNN(2).output_shape((1, 4)), "rnn: one step from a zero state never uses the recurrent weights Wh"),
])
def test_bad_settings_and_shapes_are_refused_in_one_line(make, message):
    with pytest.raises(LayerTypeError, match=re.escape(message)) as error:
        make()
    assert "\n" not in str(error.value)


def test_two_layers_asking_for_one_name_are_refused():
    names = Names()
    x = names.array("x", (2, 2), "x", "the input")
    RNN(2).build(x, 1, names)
    with pytest.raises(LayerTypeError, match="'Wx1' is given to both"):
        RNN(2).build(x, 1, names)
