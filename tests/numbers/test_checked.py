from __future__ import annotations

import pytest
import sympy

from symprop.engine.backprop import derive
from symprop.model.graph import Graph
from symprop.model.losses import softmax_cross_entropy
from symprop.model.nn import Dense, mlp
from symprop.numbers.checked import TargetsNotADistribution
from symprop.numbers.worked_example import worked_example


def classifier_values(t1, t2):
    network = mlp(["x1", "x2"], [Dense(2, "identity")], "softmax_cross_entropy", targets=["t1", "t2"])
    values = {"x1": 0.5, "x2": -0.3, "t1": t1, "t2": t2}
    values.update({p.name: 0.1 * (i + 1) for i, p in enumerate(network.parameters)})
    return derive(network), values


def test_softmax_targets_that_do_not_sum_to_one_are_refused_in_one_line():
    derivation, values = classifier_values(1.0, 1.0)
    with pytest.raises(TargetsNotADistribution, match=r"^the targets t1, t2 sum to 2: softmax_cross_entropy expects "
                                                      r"a one-hot label or probabilities summing to 1$"):
        worked_example(derivation, values)


def test_probabilities_summing_to_one_are_worked_and_checked():
    """Soft labels are fine: the gradient is that of the loss written out, at the point."""
    derivation, values = classifier_values(0.25, 0.75)
    example = worked_example(derivation, values)
    graph = derivation.graph
    loss = graph.expanded(graph.output).rewrite(sympy.exp)
    point = {s: sympy.Float(values[s.name], 30) for s in (*graph.inputs, *graph.parameters)}
    for p in graph.parameters:
        reference = sympy.diff(loss, p).xreplace(point)
        assert abs(float(example.gradients[p]) - float(reference)) < 1e-12
    assert len(example.checks) == len(graph.parameters)


def test_each_example_of_a_graph_is_checked():
    z1, z2, t1, t2, L = sympy.symbols("z1 z2 t1 t2 L", real=True)
    graph = Graph.from_pairs([(L, softmax_cross_entropy(z1, z2, t1, t2))], inputs=[t1, t2], parameters=[z1, z2])
    derivation = derive(graph)
    examples = [{"t1": 1, "t2": 0}, {"t1": 0.5, "t2": 0.6}]
    with pytest.raises(TargetsNotADistribution, match=r"^the targets t1, t2 sum to 1\.1 in example 2: "):
        worked_example(derivation, {"z1": 0.2, "z2": 0.1}, examples=examples)
