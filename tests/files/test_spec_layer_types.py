"""Network files with recurrent, normalisation and attention layers: read through the type
registry, values as nested arrays by parameter name, a given initial state as data, and every
hostile case (a wrong shape, an unknown key, a bad setting) refused in one line naming the key."""
from __future__ import annotations

import pytest

from symprop.engine.backprop import derive
from symprop.files.spec import SpecError, load_builtin, loads
from symprop.model.attention import Attention
from symprop.model.layer_types import Names
from symprop.model.normalisation import BatchNorm, LayerNorm
from symprop.model.recurrent import GRU, LSTM, RNN
from symprop.numbers.worked_example import worked_example

RNN_FILE = """
[network]
inputs = {{ name = "x", shape = [2, 2] }}
layers = [{layer}, {{ type = "dense", units = 1, activation = "identity" }}]
[values]
x = [[0.5, -0.2], [0.1, 0.4]]
t = [[0.2], [-0.1]]
{values}
[train]
init = {{ method = "uniform", low = -0.5, high = 0.5, seed = 0 }}
"""


def _file(layer: str, values: str = "", shape: str = "[2, 2]") -> str:
    return RNN_FILE.format(layer=layer, values=values).replace("shape = [2, 2]", f"shape = {shape}")


@pytest.mark.parametrize("layer, expected", [
    ('{ type = "rnn", units = 3 }', RNN(3)),
    ('{ type = "rnn", units = 2, activation = "relu", bias = false, h0 = "given" }', RNN(2, "given", "relu", False)),
    ('{ type = "lstm", units = 2 }', LSTM(2)),
    ('{ type = "gru", units = 1, bias = false }', GRU(1, bias=False)),
    ('{ type = "layernorm", epsilon = 0.001 }', LayerNorm(0.001)),
    ('{ type = "batchnorm" }', BatchNorm()),
    ('{ type = "attention", dim = 2 }', Attention(2)),
], ids=["rnn", "rnn-settings", "lstm", "gru", "layernorm", "batchnorm", "attention"])
def test_each_type_is_read_into_its_spec(layer, expected):
    problem = loads(_file(layer, "hx1 = [0.1, 0.2]" if "given" in layer else ""))
    built = problem.network.layers[0]
    names = Names()
    reference = expected.build(names.array("x", (2, 2), "x", "the input"), 1, names)
    assert built.kind == expected.kind and built.settings == reference.settings
    assert {n: a.shape for n, a in built.parameters.items()} == {n: a.shape for n, a in reference.parameters.items()}


def test_values_are_nested_arrays_by_parameter_name_and_a_given_state_is_data():
    values = """Wx1 = [[0.3, -0.1], [0.2, 0.4]]
Wh1 = [[0.5, -0.3], [0.1, 0.2]]
b1 = [0.05, -0.05]
hx1 = [0.2, -0.3]
W2 = [[0.6, -0.4]]
b2 = [0.1]"""
    problem = loads(_file('{ type = "rnn", units = 2, h0 = "given" }', values))
    by_name = {s.name: v for s, v in problem.values.items()}
    assert by_name["Wh1[1, 0]"] == 0.1 and by_name["hx1[1]"] == -0.3
    hx = [s for s in problem.graph.inputs if s.name.startswith("hx1")]
    assert len(hx) == 2 and not set(hx) & set(problem.graph.parameters)
    example = worked_example(derive(problem.network), problem.values)
    assert all(c.ok for c in example.checks)


def test_the_built_in_examples_derive_and_check():
    for name, parameters in (("rnn", 2 * 2 + 2 * 2 + 2 + 2 + 1), ("layernorm", 3 + 3 + 3 + 1)):
        problem = load_builtin(name)
        assert len(problem.graph.parameters) == parameters
        example = worked_example(derive(problem.network), problem.values, learning_rate=problem.learning_rate)
        assert all(c.ok for c in example.checks) and example.loss_after < example.loss


@pytest.mark.parametrize("text, message", [
    (_file('{ type = "rnn", unit = 2 }'), "unit"),
    (_file('{ type = "rnn", units = 2, activation = "softmax" }'), "rnn: unknown activation 'softmax'"),
    (_file('{ type = "rnn", units = 0 }'), "expected a positive whole number of units, got 0"),
    (_file('{ type = "lstm", units = 2, h0 = "learned" }'), "unknown h0 'learned': expected one of zero, given"),
    (_file('{ type = "gru", units = 2, bias = "yes" }'), "expected true or false"),
    (_file('{ type = "rnn", units = 2 }', shape="[4]"), "rnn: the input has shape [4], expected [steps, features]"),
    (_file('{ type = "rnn", units = 2 }', shape="[1, 2]"), "one step from a zero state never uses the recurrent"),
    (_file('{ type = "layernorm", epsilon = -1 }'), "epsilon must be a number between 0 and 1"),
    (_file('{ type = "batchnorm", momentum = 0.1 }'), "momentum"),
    (_file('{ type = "attention" }'), "dim"),
    (_file('{ type = "attention", dim = 2.5 }'), "expected a positive whole number dim, got 2.5"),
    (_file('{ type = "rnn", units = 2 }', "Wh1 = [[0.5, -0.3, 0.0], [0.1, 0.2, 0.0]]"),
     "expected an array of shape [2, 2] (nested lists)"),
    (_file('{ type = "rnn", units = 2 }', "hx1 = [0.1, 0.2]"), "hx1"),
    (_file('{ type = "attention", dim = 2000 }'), "at most"),
], ids=["unknown-key", "softmax", "no-units", "bad-h0", "bad-bias", "rank", "one-step", "epsilon", "unknown-norm-key",
        "no-dim", "fractional-dim", "wrong-value-shape", "state-not-given", "too-large"])
def test_hostile_files_are_refused_in_one_line(text, message):
    with pytest.raises(SpecError) as error:
        problem = loads(text)
        worked_example(derive(problem.network), problem.values)
    assert message in str(error.value) and "\n" not in str(error.value)
