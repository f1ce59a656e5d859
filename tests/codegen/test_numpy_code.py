"""Generated layer code: executed over batches, and compared with the engine's worked example."""
import warnings

import numpy
import pytest
import sympy

from symprop.model import nn
from symprop.engine.backprop import derive
from symprop.codegen.numpy_code import backward_source, gradients_by_name, numpy_functions, parameter_arrays
from symprop.files import spec
from symprop.outputs.pipeline import backward_code
from symprop.model.functions import sigmoid
from symprop.numbers.worked_example import worked_example
from tests.conftest import mazur_network


def run(source: str, name: str):
    scope: dict = {}
    exec(compile(source, "<test>", "exec"), scope)
    return scope[name]


def random_point(network, rng, examples=4):
    """Parameters and per-example data; targets in (0, 1), normalised for softmax losses."""
    parameters = {p.name: float(rng.normal(0, 0.8)) for p in network.parameters}
    data = []
    for _ in range(examples):
        x = rng.normal(0, 1, len(network.inputs))
        t = rng.uniform(0.05, 0.95, len(network.targets))
        if network.loss == "softmax_cross_entropy" or network.layers[-1].activation == "softmax":
            t = t / t.sum()
        data.append({**{s.name: float(v) for s, v in zip(network.inputs, x)},
                     **{s.name: float(v) for s, v in zip(network.targets, t)}})
    return parameters, data


def arrays_of(network, data):
    x = numpy.array([[e[s.name] for s in network.inputs] for e in data])
    t = numpy.array([[e[s.name] for s in network.targets] for e in data])
    return x, t


# --- backward_source: the layer form, over a batch ---

MAZUR_BACKWARD = '''import numpy


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^(-z)), from e^(-|z|) so that no exponential overflows."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(numpy.greater_equal(z, 0), 1 / (1 + e), e / (1 + e))


def backward(x, t, W1, b1, W2, b2):
    """half_sse and its gradient over a batch of examples, layer by layer.

    x: (batch, 2) or (2,), one row of inputs per example: i1, i2
    t: (batch, 2) or (2,), the examples' targets: t1, t2
    W1: (2, 2), rows are the units of layer 1, columns its inputs: [w1, w2; w3, w4]
    b1: a number, one bias shared by the units of layer 1: b1
    W2: (2, 2), rows are the units of layer 2, columns its inputs: [w5, w6; w7, w8]
    b2: a number, one bias shared by the units of layer 2: b2

    Returns (loss, gradients): the loss, the mean over the examples, and each parameter's
    gradient in its shape ({'W1': dE/dW1, ...}), the mean of the examples' gradients.
    One example given as 1-D vectors is a batch of one.
    """
    x, t = numpy.atleast_2d(x, t)
    z1 = x @ W1.T + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2.T + b2
    a2 = sigmoid(z2)
    loss = numpy.mean(1/2 * numpy.sum((-a2 + t)**2, axis=-1))
    delta2 = (a2 - t) * (a2*(1 - a2))
    delta1 = (delta2 @ W2) * (a1*(1 - a1))
    return loss, {'W1': delta1.T @ x / len(x), 'b1': numpy.sum(delta1) / len(x), 'W2': delta2.T @ a1 / len(x), 'b2': numpy.sum(delta2) / len(x)}


def forward(x, t, W1, b1, W2, b2):
    """half_sse (the batch mean) and the output layer's activations, one row per example;
    the arguments are backward's.
    """
    x, t = numpy.atleast_2d(x, t)
    z1 = x @ W1.T + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2.T + b2
    a2 = sigmoid(z2)
    loss = numpy.mean(1/2 * numpy.sum((-a2 + t)**2, axis=-1))
    return loss, a2
'''

MAZUR_VALUES = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b1=0.35, b2=0.60)


def test_backward_source_of_mazur():
    network = mazur_network()
    assert backward_source(network) == MAZUR_BACKWARD
    loss, arrays = run(MAZUR_BACKWARD, "backward")(numpy.array([0.05, 0.10]), numpy.array([0.01, 0.99]),
                                                   *parameter_arrays(network, MAZUR_VALUES))
    assert f"{loss:.9f}" == "0.298371109"
    assert f"{arrays['W2'][0, 0]:.9f}" == "0.082167041"     # dE/dw5
    assert gradients_by_name(network, arrays)["w1"] == pytest.approx(0.000438567734, rel=1e-9)


def test_one_example_as_vectors_is_a_batch_of_one():
    network = mazur_network()
    backward = run(MAZUR_BACKWARD, "backward")
    forward = run(MAZUR_BACKWARD, "forward")
    arrays = parameter_arrays(network, MAZUR_VALUES)
    x, t = numpy.array([0.05, 0.10]), numpy.array([0.01, 0.99])
    loss, gradients = backward(x, t, *arrays)
    batch_loss, batch_gradients = backward(x[None, :], t[None, :], *arrays)
    assert loss == batch_loss and gradients.keys() == batch_gradients.keys()
    assert all(numpy.array_equal(gradients[k], batch_gradients[k]) for k in gradients)
    assert gradients["W1"].shape == (2, 2) and numpy.ndim(gradients["b1"]) == 0
    forward_loss, output = forward(x, t, *arrays)
    assert forward_loss == loss and output == pytest.approx(numpy.array([[0.75136507, 0.77292847]]), rel=1e-8)


CONFIGURATIONS = {
    "tanh-sigmoid half_sse": (3, [nn.Dense(4, "tanh"), nn.Dense(2, "sigmoid")], "half_sse"),
    "relu-identity mse, no bias": (2, [nn.Dense(3, "relu", bias="none"), nn.Dense(2, "identity")], "mse"),
    "relu per unit, shared": (3, [nn.Dense(4, "relu"), nn.Dense(2, "sigmoid", bias="shared")], "half_sse"),
    "leaky-softplus sse, shared": (2, [nn.Dense(3, "leaky_relu", alpha=0.2, bias="shared"),
                                       nn.Dense(1, "softplus")], "sse"),
    "silu-identity half_mse": (2, [nn.Dense(3, "silu"), nn.Dense(2, "identity")], "half_mse"),
    "softmax hidden, half_mse": (3, [nn.Dense(3, "softmax"), nn.Dense(2, "sigmoid")], "half_mse"),
    "sigmoid binary cross-entropy": (3, [nn.Dense(3, "tanh"), nn.Dense(1, "sigmoid")], "cross_entropy"),
    "sigmoid multi cross-entropy": (2, [nn.Dense(2, "sigmoid")], "cross_entropy"),
    "softmax cross-entropy": (2, [nn.Dense(3, "relu"), nn.Dense(3, "softmax")], "cross_entropy"),
    "softmax_cross_entropy fused": (3, [nn.Dense(2, "sigmoid"), nn.Dense(3, "identity")], "softmax_cross_entropy"),
    "upstream gradient": (3, [nn.Dense(3, "tanh", bias="shared"), nn.Dense(2, "sigmoid")], "upstream"),
    "custom activations, binary cross-entropy": (
        2, [nn.Dense(3, lambda z: z * sigmoid(z)), nn.Dense(1, lambda z: 1 / (1 + sympy.exp(-z)))], "cross_entropy"),
    "custom output, multi cross-entropy": (2, [nn.Dense(2, lambda z: 1 / (1 + sympy.exp(-z)))], "cross_entropy"),
}


@pytest.fixture(scope="module", params=list(CONFIGURATIONS))
def configuration(request):
    inputs, layers, loss = CONFIGURATIONS[request.param]
    network = nn.mlp(inputs, layers, loss)
    rng = numpy.random.default_rng(sum(map(ord, request.param)))
    parameters, data = random_point(network, rng)
    derivation = derive(network)
    mean = worked_example(derivation, parameters, examples=data, reduction="mean")
    total = worked_example(derivation, parameters, examples=data, reduction="sum")
    first = worked_example(derivation, {**parameters, **data[0]})
    return network, parameters, data, {"mean": mean, "sum": total, "first": first}


def named(mapping):
    return {p.name: v for p, v in mapping.items()}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_backward_source_over_a_batch_matches_the_worked_example(configuration, reduction):
    network, parameters, data, expected = configuration
    backward = run(backward_source(network, reduction=reduction), "backward")
    x, t = arrays_of(network, data)
    loss, arrays = backward(x, t, *parameter_arrays(network, parameters))
    assert loss == pytest.approx(expected[reduction].loss, rel=1e-12)
    assert gradients_by_name(network, arrays) == pytest.approx(named(expected[reduction].gradients),
                                                               rel=1e-10, abs=1e-13)


def test_backward_source_of_one_example_as_vectors_matches_the_worked_example(configuration):
    network, parameters, data, expected = configuration
    backward = run(backward_source(network), "backward")
    x, t = arrays_of(network, data)
    loss, arrays = backward(x[0], t[0], *parameter_arrays(network, parameters))
    assert loss == pytest.approx(expected["first"].loss, rel=1e-12)
    assert gradients_by_name(network, arrays) == pytest.approx(named(expected["first"].gradients),
                                                               rel=1e-10, abs=1e-13)


def test_numpy_functions_match_the_engine_over_a_batch(configuration):
    network, parameters, data, expected = configuration
    x, t = arrays_of(network, data)
    for reduction in ("mean", "sum"):
        forward, gradient = numpy_functions(network, reduction=reduction)
        loss, output = forward(parameters, x, t)
        assert loss == pytest.approx(expected[reduction].loss, rel=1e-12)
        assert gradient(parameters, x, t) == pytest.approx(named(expected[reduction].gradients), rel=1e-10, abs=1e-13)
    assert output.shape == (len(data), len(network.targets))
    last = network.layers[-1].outs
    assert output[0] == pytest.approx([expected["mean"].forward[a] for a in last], rel=1e-12)
    arrays = gradient(parameter_arrays(network, parameters), x, t, as_arrays=True)
    assert gradients_by_name(network, arrays) == gradient(parameters, x, t)


def test_a_shared_bias_sums_over_units_and_examples():
    network = nn.mlp(2, [nn.Dense(3, "relu", bias="shared"), nn.Dense(2, "identity", bias="shared")], "sse")
    rng = numpy.random.default_rng(5)
    parameters, data = random_point(network, rng, examples=6)
    x, t = arrays_of(network, data)
    W1, b1, W2, b2 = parameter_arrays(network, parameters)
    _, arrays = run(backward_source(network, reduction="sum"), "backward")(x, t, W1, b1, W2, b2)
    a2 = numpy.maximum(x @ W1.T + b1, 0) @ W2.T + b2
    assert numpy.ndim(arrays["b2"]) == 0 and numpy.ndim(b2) == 0
    assert arrays["b2"] == pytest.approx(numpy.sum(2 * (a2 - t)), rel=1e-12)   # dE/dz2 = 2 (a2 - t), every entry


def test_one_matrix_product_per_layer():
    network = nn.mlp(4, [nn.Dense(5, "relu"), nn.Dense(5, "tanh"), nn.Dense(3, "softmax")], "cross_entropy")
    source = backward_source(network)
    gradient, forward = source.split("def forward(")
    assert forward.count(" @ ") == 3            # z^l = a^{l-1} W^T + b
    assert gradient.count(" @ ") == 3 + 2 + 3   # forward, delta^l = delta^{l+1} W^{l+1}, dW^l = delta^T a
    assert "for " not in source.split("def backward(")[1].split('"""')[2]   # no loop over the examples
    assert "    delta2 = (delta3 @ W3) * (1 - a2**2)\n" in gradient
    assert "'W1': delta1.T @ x / len(x), 'b1': numpy.sum(delta1, axis=0) / len(x)" in gradient


def test_the_file_chooses_the_reduction():
    text = spec.builtin_examples()["mazur"].replace('notation = "mazur"', 'notation = "mazur"\nreduction = "sum"')
    source = backward_code(spec.loads(text))
    assert "loss = numpy.sum(" in source and "/ len(x)" not in source and "the sum over the examples" in source
    assert "loss = numpy.mean(" in backward_code(spec.loads(spec.builtin_examples()["mazur"]))


def test_the_docstring_of_a_wide_network_states_shapes_not_names():
    network = nn.mlp(784, [nn.Dense(16, "sigmoid"), nn.Dense(10, "softmax")], "cross_entropy")
    source = backward_source(network)
    docstring = source.split("def backward(")[1].split('"""')[1]
    assert len(docstring) < 3000 and len(source) < 6000
    assert "x: (batch, 784) or (784,), one row of inputs per example\n" in docstring
    assert "W1: (16, 784), rows are the units of layer 1, columns its inputs\n" in docstring
    assert "b2: (10,), one bias per unit of layer 2\n" in docstring
    assert "w1_1_1" not in source and "x1," not in source
    assert "def backward(x, t, W1, b1, W2, b2):" in source


# --- |z| = 1000 ---

SATURATED = [
    ("sigmoid", "cross_entropy", [1000.0], [0.0], 1000.0),
    ("sigmoid", "cross_entropy", [-1000.0], [1.0], 1000.0),
    ("sigmoid", "cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 1000.0),
    ("softmax", "cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0),
    ("identity", "softmax_cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0),
    ("softplus", "half_sse", [1000.0], [0.0], 500000.0),
    ("tanh", "sse", [-1000.0], [0.0], 1.0),
    ("sigmoid", "half_sse", [1000.0], [0.0], 0.5),
]


@pytest.mark.parametrize("activation, loss, weights, targets, expected_loss", SATURATED)
def test_generated_code_is_stable_at_large_logits(activation, loss, weights, targets, expected_loss):
    network = nn.mlp(["x"], [nn.Dense(len(weights), activation)], loss)
    values = {**{w.name: v for w, v in zip(network.weights, weights)}, **{b.name: 0.0 for b in network.biases}}
    engine = worked_example(derive(network), {**values, "x": 1.0, **{s.name: v for s, v in zip(network.targets, targets)}},
                            update="all")
    forward, gradient = numpy_functions(network)
    backward = run(backward_source(network), "backward")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_value, _ = forward(values, [[1.0]], [targets])
        gradients = gradient(values, [[1.0]], [targets])
        single_loss, arrays = backward(numpy.array([1.0]), numpy.array(targets), *parameter_arrays(network, values))
    assert loss_value == pytest.approx(expected_loss, rel=1e-12) and float(single_loss) == loss_value
    assert gradients == pytest.approx(named(engine.gradients), abs=1e-12)
    assert gradients_by_name(network, arrays) == gradients


# --- mistakes ---

def test_missing_parameters_and_bad_shapes_are_said_in_one_line():
    network = mazur_network()
    forward, gradient = numpy_functions(network)
    with pytest.raises(ValueError, match="^no value given for parameter w8, b2$"):
        parameter_arrays(network, dict(w1=0, w2=0, w3=0, w4=0, b1=0, w5=0, w6=0, w7=0))
    values = {p.name: 0.1 for p in network.parameters}
    with pytest.raises(ValueError, match=r"^expected inputs of shape \(n, 2\) and targets of shape \(n, 2\), "
                                         r"got \(1, 3\) and \(1, 2\)$"):
        forward(values, [1.0, 2.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="^unknown reduction 'max': expected mean or sum$"):
        backward_source(network, reduction="max")
