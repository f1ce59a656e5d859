"""Straight-line code: the rewriting that keeps saturated units finite."""
import sympy

from symprop.model import nn
from symprop.model.functions import sigmoid
from symprop.numbers.straight_line import stable_form


def test_stable_form_writes_logs_of_sigmoids_through_the_logits():
    network = nn.mlp(["x"], [nn.Dense(1, "sigmoid")], "cross_entropy", targets=["y"])
    graph = network.graph
    (z,), (a,), (y,) = network.layers[0].nets, network.layers[0].outs, network.targets
    log_sigmoid = sympy.Function("log_sigmoid")
    assert stable_form(graph.definition[graph.output], graph) == -y * log_sigmoid(z) - (1 - y) * log_sigmoid(-z)
    assert stable_form(a * (1 - a), graph) == a * sigmoid(-z)
    assert stable_form(a * (1 - a), graph, complements=False) == a * (1 - a)
