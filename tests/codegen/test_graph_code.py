"""Generated graph code: one line per node, its values read from a mapping of numbers or arrays."""
import warnings

import numpy
import pytest
from sympy import Symbol

from symprop.codegen.graph_code import graph_source
from symprop.engine.backprop import derive
from symprop.model import nn
from symprop.model.graph import Graph
from symprop.numbers.worked_example import worked_example
from tests.codegen.test_numpy_code import random_point, run
from tests.conftest import mazur_network


def test_graph_source_of_a_small_graph_reads_as_the_recurrence():
    x, y, z, q, f = (Symbol(n, real=True) for n in "xyzqf")
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], parameters=[x, y, z])
    assert graph_source(derive(graph)) == '''import numpy


def gradient(values):
    """f and its gradient by each parameter.

    values maps every input and parameter name to a number, or to NumPy arrays of one shape
    (a batch of points, evaluated elementwise). Returns
    (f, {parameter name: df/dparameter}).
    """
    x = values['x']
    y = values['y']
    z = values['z']
    q = x + y
    f = q*z
    delta_f = 1
    delta_q = z
    df_dx = delta_q
    df_dy = delta_q
    df_dz = q
    return f, {'x': df_dx, 'y': df_dy, 'z': df_dz}
'''
    gradient = run(graph_source(derive(graph)), "gradient")
    assert gradient({"x": -2.0, "y": 5.0, "z": -4.0}) == (-12.0, {"x": -4.0, "y": -4.0, "z": 3.0})


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
        loss, gradients = gradient({**parameters, **example})
        assert loss == pytest.approx(expected.loss, rel=1e-13)
        assert gradients == pytest.approx({p.name: g for p, g in expected.gradients.items()}, rel=1e-12, abs=1e-15)


def test_arrays_evaluate_a_batch_of_points_elementwise():
    network = mazur_network()
    derivation = derive(network)
    gradient = run(graph_source(derivation), "gradient")
    rng = numpy.random.default_rng(8)
    points = [{**p, **e} for p, (e,) in (random_point(network, rng, examples=1) for _ in range(5))]
    loss, gradients = gradient({name: numpy.array([p[name] for p in points]) for name in points[0]})
    assert loss.shape == (5,) and all(g.shape == (5,) for g in gradients.values())
    for i, point in enumerate(points):
        expected = worked_example(derivation, point)
        assert loss[i] == pytest.approx(expected.loss, rel=1e-13)
        assert {k: g[i] for k, g in gradients.items()} == pytest.approx(
            {p.name: g for p, g in expected.gradients.items()}, rel=1e-12, abs=1e-15)


def test_a_gradient_the_same_at_every_point_is_repeated_to_their_shape():
    x, y, f = (Symbol(n, real=True) for n in "xyf")
    gradient = run(graph_source(derive(Graph.from_pairs([(f, x + 3 * y)], parameters=[x, y]))), "gradient")
    assert gradient({"x": 1.0, "y": 2.0}) == (7.0, {"x": 1, "y": 3})
    value, gradients = gradient({"x": numpy.arange(4.0), "y": numpy.ones(4)})
    assert value.tolist() == [3.0, 4.0, 5.0, 6.0]
    assert gradients["x"].tolist() == [1.0] * 4 and gradients["y"].tolist() == [3.0] * 4


def test_graph_source_reads_batched_nodes_by_their_names():
    network = nn.mlp(["x"], [nn.Dense(1, "sigmoid")], "cross_entropy", targets=["y"])
    graph = nn.batched(network.graph, 2)
    source = graph_source(derive(graph))
    assert "def gradient(values):" in source and "    x_1 = values['x[1]']\n" in source
    assert "    L_1 = -y_1*log_sigmoid(z1_1) - (1 - y_1)*log_sigmoid(-z1_1)\n" in source
    values = {"x[1]": 0.5, "y[1]": 1.0, "x[2]": -1.5, "y[2]": 0.0, "w1": 0.7, "b1": -0.2}
    loss, gradients = run(source, "gradient")(values)
    expected = worked_example(derive(graph), values)
    assert loss == pytest.approx(expected.loss, rel=1e-14)
    assert gradients == pytest.approx({p.name: g for p, g in expected.gradients.items()}, rel=1e-13)


@pytest.mark.parametrize("activation, loss, expected_loss", [
    ("sigmoid", "half_sse", 1.0), ("softmax", "softmax_cross_entropy", 2000.0), ("tanh", "sse", 5.0),
])
def test_graph_source_is_stable_at_large_logits(activation, loss, expected_loss):
    network = nn.mlp(["x"], [nn.Dense(2, activation)], loss, targets=["y1", "y2"])
    gradient = run(graph_source(derive(network)), "gradient")
    values = dict(zip([s.name for s in (*network.graph.inputs, *network.parameters)],
                      (1.0, 0.0, 1.0, 1000.0, -1000.0, 0.0, 0.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, gradients = gradient(values)
    assert float(value) == pytest.approx(expected_loss, rel=1e-12)
    assert all(numpy.isfinite(list(gradients.values())))
