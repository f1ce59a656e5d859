"""784-16-10, the size of an MNIST classifier: both code styles over a batch of 8, against the
worked example, and the graph style without a parameter list of thousands of names."""
import ast

import numpy
import pytest

from symprop.codegen.graph_code import graph_source
from symprop.codegen.numpy_code import backward_source, gradients_by_name, parameter_arrays
from symprop.engine.backprop import derive
from symprop.model import nn
from symprop.numbers.worked_example import worked_example
from tests.codegen.test_numpy_code import run

BATCH = 8


@pytest.fixture(scope="module")
def wide():
    network = nn.mlp(784, [nn.Dense(16, "sigmoid"), nn.Dense(10, "softmax")], "cross_entropy")
    rng = numpy.random.default_rng(784)
    parameters = {p.name: float(rng.normal(0, 0.1)) for p in network.parameters}
    x = rng.normal(size=(BATCH, 784))
    t = numpy.eye(10)[rng.integers(10, size=BATCH)]
    data = [{**{s.name: float(v) for s, v in zip(network.inputs, xi)},
             **{s.name: float(v) for s, v in zip(network.targets, ti)}} for xi, ti in zip(x, t)]
    derivation = derive(network)
    expected = worked_example(derivation, parameters, examples=data, reduction="mean")
    return network, derivation, parameters, x, t, expected


def test_layer_code_over_a_batch_of_eight_is_the_mean_of_the_examples(wide):
    network, _, parameters, x, t, expected = wide
    loss, arrays = run(backward_source(network), "backward")(x, t, *parameter_arrays(network, parameters))
    assert arrays["W1"].shape == (16, 784) and arrays["b2"].shape == (10,)
    assert loss == pytest.approx(expected.loss, rel=1e-12)
    gradients = gradients_by_name(network, arrays)
    assert gradients == pytest.approx({p.name: g for p, g in expected.gradients.items()}, rel=1e-9, abs=1e-14)


def test_graph_code_takes_a_mapping_and_evaluates_the_batch_elementwise(wide):
    network, derivation, parameters, x, t, expected = wide
    source = graph_source(derivation)
    functions = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)]
    assert max(len(f.args.args) for f in functions) <= 2
    assert "def gradient(values):" in source
    inputs = {**{s.name: x[:, k] for k, s in enumerate(network.inputs)},
              **{s.name: t[:, k] for k, s in enumerate(network.targets)}}
    loss, gradients = run(source, "gradient")({**parameters, **inputs})
    assert loss.shape == (BATCH,) and numpy.mean(loss) == pytest.approx(expected.loss, rel=1e-12)
    assert {name: numpy.mean(g) for name, g in gradients.items()} == pytest.approx(
        {p.name: g for p, g in expected.gradients.items()}, rel=1e-9, abs=1e-14)
