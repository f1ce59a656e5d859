"""Network files of layer types: the type registry, nested values, and one-line refusals."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from symprop.cli import main
from symprop.files import spec
from symprop.files.spec_file import SpecError
from symprop.files.spec_layers import LAYER_TYPES
from symprop.model.stack import LayerStack

HEAD = '''[network]
inputs = { name = "x", shape = [1, 3, 3] }
loss = "sum"
'''
LAYERS = 'layers = [{ type = "conv2d", filters = 1, kernel = [2, 2] }]\n'
VALUES = '''[values]
x = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]]
W1 = [[[[0.08, -0.07], [-0.28, 0.33]]]]
b1 = [0.1]
'''


def test_the_registry_names_every_layer_type():
    assert list(LAYER_TYPES) == ["conv2d", "maxpool", "avgpool", "flatten", "dense", "rnn", "lstm", "gru", "layernorm",
                                 "batchnorm", "attention"]
    assert LAYER_TYPES["rnn"].keys == ("units", "activation", "bias", "h0")
    assert LAYER_TYPES["conv2d"].keys == ("filters", "kernel", "stride", "padding", "bias", "activation")


def test_a_stack_file_reads_nested_values_by_parameter_name():
    problem = spec.loads(HEAD + LAYERS + VALUES, "f.toml")
    assert isinstance(problem.network, LayerStack)
    W = problem.network.layers[0].parameters["W1"]
    assert problem.values[W[0, 0, 1, 0]] == -0.28
    assert problem.values[problem.network.input[0, 2, 1]] == 0.8
    assert [r["name"] for r in spec.required_names(HEAD + LAYERS + VALUES)][:2] == ["x[0, 0, 0]", "x[0, 0, 1]"]


def test_the_built_in_examples_load_as_stacks():
    for name in ("conv", "cnn"):
        assert isinstance(spec.load_builtin(name).network, LayerStack)


def test_examples_give_nested_inputs_and_targets():
    text = HEAD.replace('"sum"', '"half_sse"') + LAYERS + VALUES.split("x = ")[0] + VALUES.split("\n", 2)[2] + '''
[[examples]]
x = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]]
t = [[[0.1, 0.2], [0.3, 0.4]]]
[[examples]]
x = [[[0.0, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]]
t = [[[0.1, 0.2], [0.3, 0.5]]]
'''
    problem = spec.loads(text, "f.toml")
    t = problem.network.target
    assert len(problem.examples) == 2 and problem.examples[1][t[0, 1, 1]] == 0.5


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as error:
        spec.loads(text, "f.toml")
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("text, expected", [
    (HEAD + LAYERS + VALUES.replace("W1 = [[[[0.08, -0.07], [-0.28, 0.33]]]]", "W1 = [[[0.08, -0.07], [-0.28, 0.33]]]"),
     "values.W1 (line 7): expected an array of shape [1, 1, 2, 2] (nested lists), got"),
    (HEAD + LAYERS + VALUES.replace("b1 = [0.1]", "b1 = [0.1, 0.2]"),
     "values.b1 (line 8): expected an array of shape [1] (nested lists), got a list of 2 at the top"),
    (HEAD + 'layers = [{ type = "conv2d", filters = 1, kernal = [2, 2] }]\n' + VALUES,
     "network.layers[0].kernal (line 4): unknown key 'kernal' in layer 1 (conv2d): did you mean 'kernel'?"),
    (HEAD + 'layers = [{ type = "conv", filters = 1 }]\n' + VALUES,
     "network.layers[0].type (line 4): unknown type 'conv': expected one of conv2d, maxpool, avgpool, flatten, dense"),
    (HEAD + 'layers = [{ type = "conv2d", filters = 1, kernel = [4, 4] }]\n' + VALUES,
     "network.layers[0] (line 4): conv2d: the height of the window (4) is larger than the input's height (3)"),
    (HEAD + 'layers = [{ type = "conv2d", filters = 1, kernel = [2, 2], stride = 0 }]\n' + VALUES,
     "network.layers[0].stride (line 4): expected a stride of at least 1, got 0"),
    (HEAD + 'layers = [{ type = "maxpool", size = 2, stride = [1, 0] }]\n',
     "network.layers[0].stride[1] (line 4): expected a stride of at least 1, got 0"),
    (HEAD.replace("shape = [1, 3, 3]", "shape = [1, 3]") + LAYERS,
     "network.layers[0] (line 4): conv2d takes an input of shape [channels, height, width], got [1, 3]"),
    (HEAD.replace('name = "x", ', 'name = "x", colour = 1, ') + LAYERS,
     "network.inputs.colour (line 2): unknown key 'colour' in [network] inputs"),
    ('[network]\ninputs = 2\nlayers = [{ type = "flatten" }]\n',
     "network.inputs (line 2): a layer type takes an array-shaped input"),
    (HEAD + LAYERS + VALUES + "V = [1.0]\n", "values.V (line 9): V: not a name of the network"),
])
def test_hostile_files_are_refused_in_one_line_naming_the_key(text, expected):
    assert refusal(text).startswith(f"f.toml: {expected}")


def test_the_command_line_refuses_a_bad_stack_with_exit_code_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + 'layers = [{ type = "conv2d", filters = 1, kernel = [4, 4] }]\n' + VALUES)
    result = CliRunner().invoke(main, ["derive", str(path), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "larger than the input's height (3)" in result.output and len(result.output.strip().splitlines()) == 1


def test_xavier_draws_kernels_from_pytorchs_fan_in_and_out_and_zero_biases():
    text = HEAD + LAYERS + '[values]\nx = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]]\n' + \
        '[train]\ninit = "xavier"\n'
    problem = spec.loads(text, "f.toml")
    layer = problem.network.layers[0]
    limit = (6 / (1 * 4 + 1 * 4)) ** 0.5  # a 1x1x2x2 kernel: fan-in C kh kw = 4, fan-out F kh kw = 4
    kernel = [problem.values[w] for w in layer.parameters["W1"].flat]
    assert all(-limit <= v <= limit for v in kernel) and len(set(kernel)) == 4
    assert problem.values[layer.parameters["b1"][0]] == 0.0
    assert set(problem.drawn) == set(problem.network.parameters)


def test_a_stack_too_large_to_derive_is_refused_before_it_is_built():
    text = ('[network]\ninputs = { name = "x", shape = [3, 200, 200] }\nloss = "sum"\n'
            'layers = [{ type = "conv2d", filters = 8, kernel = [3, 3] }]\n')
    assert "nodes: at most 50000 and 20000, as more would take very long" in refusal(text)
