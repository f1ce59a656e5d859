"""Generated code: executed, and compared with the engine's gradients."""
import warnings

import numpy
import pytest
import sympy
from sympy import Symbol

from symprop.model import nn
from symprop.engine.backprop import derive
from symprop.codegen.numpy_code import (
    backward_source,
    batch_source,
    graph_source,
    gradients_by_name,
    numpy_functions,
    parameter_arrays,
)
from symprop.model.functions import sigmoid
from symprop.model.graph import Graph
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


# --- graph_source: any graph ---

def test_graph_source_of_a_small_graph_reads_as_the_recurrence():
    x, y, z, q, f = (Symbol(n, real=True) for n in "xyzqf")
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], parameters=[x, y, z])
    assert graph_source(derive(graph)) == '''import numpy


def gradient(x, y, z):
    """f and its gradient: forward pass, adjoints from the output down, gradients."""
    q = x + y
    f = q*z
    delta_f = 1
    delta_q = z
    df_dx = delta_q
    df_dy = delta_q
    df_dz = q
    return f, {'x': df_dx, 'y': df_dy, 'z': df_dz}
'''
    assert run(graph_source(derive(graph)), "gradient")(-2.0, 5.0, -4.0) == (-12.0, {"x": -4.0, "y": -4.0, "z": 3.0})


def test_graph_source_of_mazur_matches_the_engine_at_random_points():
    network = mazur_network()
    derivation = derive(network)
    source = graph_source(derivation)
    assert "    delta_out_h1 = delta_net_o1*w5 + delta_net_o2*w7\n" in source
    assert "    delta_net_h1 = delta_out_h1*out_h1*(1 - out_h1)\n" in source
    assert "    dE_total_dw1 = delta_net_h1*i1\n" in source
    gradient = run(source, "gradient")
    rng = numpy.random.default_rng(3)
    for _ in range(3):
        parameters, (example,) = random_point(network, rng, examples=1)
        expected = worked_example(derivation, {**parameters, **example})
        arguments = [{**parameters, **example}[s.name] for s in (*network.graph.inputs, *network.parameters)]
        loss, gradients = gradient(*arguments)
        assert loss == pytest.approx(expected.loss, rel=1e-13)
        assert gradients == pytest.approx({p.name: g for p, g in expected.gradients.items()}, rel=1e-12, abs=1e-15)


def test_graph_source_names_batched_nodes_as_python_identifiers():
    network = nn.mlp(["x"], [nn.Dense(1, "sigmoid")], "cross_entropy", targets=["y"])
    graph = nn.batched(network.graph, 2)
    source = graph_source(derive(graph))
    assert "def gradient(x_1, y_1, x_2, y_2, w1, b1):" in source
    assert "    L_1 = -y_1*log_sigmoid(z1_1) - (1 - y_1)*log_sigmoid(-z1_1)\n" in source
    loss, gradients = run(source, "gradient")(0.5, 1.0, -1.5, 0.0, 0.7, -0.2)
    expected = worked_example(derive(graph), {"x[1]": 0.5, "y[1]": 1.0, "x[2]": -1.5, "y[2]": 0.0, "w1": 0.7, "b1": -0.2})
    assert loss == pytest.approx(expected.loss, rel=1e-14)
    assert gradients == pytest.approx({p.name: g for p, g in expected.gradients.items()}, rel=1e-13)


@pytest.mark.parametrize("activation, loss, expected_loss", [
    ("sigmoid", "half_sse", 1.0), ("softmax", "softmax_cross_entropy", 2000.0), ("tanh", "sse", 5.0),
])
def test_graph_source_is_stable_at_large_logits(activation, loss, expected_loss):
    network = nn.mlp(["x"], [nn.Dense(2, activation)], loss, targets=["y1", "y2"])
    gradient = run(graph_source(derive(network)), "gradient")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, gradients = gradient(1.0, 0.0, 1.0, 1000.0, -1000.0, 0.0, 0.0)
    assert float(value) == pytest.approx(expected_loss, rel=1e-12)
    assert all(numpy.isfinite(list(gradients.values())))


# --- backward_source: the layer form, for one example ---

MAZUR_BACKWARD = '''import numpy


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^(-z)), from e^(-|z|) so that no exponential overflows."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(numpy.greater_equal(z, 0), 1 / (1 + e), e / (1 + e))


def backward(x, t, W1, b1, W2, b2):
    """half_sse of one example and its gradient, layer by layer.

    x = (i1, i2); t = (t1, t2)
    W1 = [w1, w2; w3, w4] (rows: units h1, h2; columns: i1, i2)
    b1 = b1 (one bias shared by the layer)
    W2 = [w5, w6; w7, w8] (rows: units o1, o2; columns: out_h1, out_h2)
    b2 = b2 (one bias shared by the layer)
    """
    z1 = W1 @ x + b1
    a1 = sigmoid(z1)
    z2 = W2 @ a1 + b2
    a2 = sigmoid(z2)
    loss = 1/2 * numpy.sum((-a2 + t)**2, axis=-1)
    delta2 = (a2 - t) * (a2*(1 - a2))
    delta1 = (W2.T @ delta2) * (a1*(1 - a1))
    return loss, {'W1': numpy.outer(delta1, x), 'b1': numpy.sum(delta1), 'W2': numpy.outer(delta2, a1), 'b2': numpy.sum(delta2)}
'''


def test_backward_source_of_mazur():
    network = mazur_network()
    assert backward_source(network) == MAZUR_BACKWARD
    values = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b1=0.35, b2=0.60)
    loss, arrays = run(MAZUR_BACKWARD, "backward")(numpy.array([0.05, 0.10]), numpy.array([0.01, 0.99]),
                                                   *parameter_arrays(network, values))
    assert f"{loss:.9f}" == "0.298371109"
    assert f"{arrays['W2'][0, 0]:.9f}" == "0.082167041"     # dE/dw5
    assert gradients_by_name(network, arrays)["w1"] == pytest.approx(0.000438567734, rel=1e-9)


CONFIGURATIONS = {
    "tanh-sigmoid half_sse": (3, [nn.Dense(4, "tanh"), nn.Dense(2, "sigmoid")], "half_sse"),
    "relu-identity mse, no bias": (2, [nn.Dense(3, "relu", bias="none"), nn.Dense(2, "identity")], "mse"),
    "leaky-softplus sse, shared": (2, [nn.Dense(3, "leaky_relu", alpha=0.2, bias="shared"),
                                       nn.Dense(1, "softplus")], "sse"),
    "softmax hidden, half_mse": (3, [nn.Dense(3, "softmax"), nn.Dense(2, "sigmoid")], "half_mse"),
    "sigmoid binary cross-entropy": (3, [nn.Dense(3, "tanh"), nn.Dense(1, "sigmoid")], "cross_entropy"),
    "sigmoid multi cross-entropy": (2, [nn.Dense(2, "sigmoid")], "cross_entropy"),
    "softmax cross-entropy": (2, [nn.Dense(3, "relu"), nn.Dense(3, "softmax")], "cross_entropy"),
    "softmax_cross_entropy fused": (3, [nn.Dense(2, "sigmoid"), nn.Dense(3, "identity")], "softmax_cross_entropy"),
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
    return network, parameters, data, mean, total


def named(mapping):
    return {p.name: v for p, v in mapping.items()}


def test_backward_source_matches_the_engine_example_by_example(configuration):
    network, parameters, data, mean, _ = configuration
    backward = run(backward_source(network), "backward")
    arrays = parameter_arrays(network, parameters)
    x, t = arrays_of(network, data)
    results = [backward(xi, ti, *arrays) for xi, ti in zip(x, t)]
    averaged = {name: numpy.mean([gradients_by_name(network, g)[name] for _, g in results]) for name in parameters}
    assert numpy.mean([loss for loss, _ in results]) == pytest.approx(mean.loss, rel=1e-12)
    assert averaged == pytest.approx(named(mean.gradients), rel=1e-10, abs=1e-13)


def test_numpy_functions_match_the_engine_over_a_batch(configuration):
    network, parameters, data, mean, total = configuration
    x, t = arrays_of(network, data)
    for reduction, expected in (("mean", mean), ("sum", total)):
        forward, gradient = numpy_functions(network, reduction=reduction)
        loss, outs = forward(parameters, x, t)
        assert loss == pytest.approx(expected.loss, rel=1e-12)
        assert gradient(parameters, x, t) == pytest.approx(named(expected.gradients), rel=1e-10, abs=1e-13)
    last = network.layers[-1].outs
    assert outs[-1][0] == pytest.approx([mean.forward[a] for a in last], rel=1e-12)
    arrays = gradient(parameter_arrays(network, parameters), x, t, as_arrays=True)
    assert gradients_by_name(network, arrays) == gradient(parameters, x, t)


def test_one_matrix_product_per_layer():
    network = nn.mlp(4, [nn.Dense(5, "relu"), nn.Dense(5, "tanh"), nn.Dense(3, "softmax")], "cross_entropy")
    source = batch_source(network)
    forward, gradient = source.split("def gradient(")
    assert forward.count(" @ ") == 3            # z^l = a^{l-1} W^T + b
    assert gradient.count(" @ ") == 3 + 2 + 3   # forward, delta^l = delta^{l+1} W^{l+1}, dW^l = delta^T a
    assert "    delta2 = (delta3 @ W3) * (1 - a2**2)\n" in gradient
    assert "'W1': delta1.T @ x / len(x), 'b1': numpy.sum(delta1, axis=0) / len(x)" in gradient


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
        batch_source(network, reduction="max")
