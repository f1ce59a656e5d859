"""Derivations run by shape in NumPy agree with the scalar program, number for number.

Every layer family (convolution, pooling, recurrent cells, normalisation, attention),
the built-in stacks and a plain graph are worked both ways: every number agrees to
about 1e-12 relative, and the finite differences to the check's own tolerance. The
gradients are also checked against ``sympy.diff`` of the written-out loss.
"""
import math
import re

import numpy
import pytest
import sympy
from sympy import Symbol

from symprop.engine.backprop import derive
from symprop.files.spec import builtin_examples, load_builtin
from symprop.model import functions
from symprop.model.attention import Attention
from symprop.model.conv import Conv2d, Flatten, Pool2d
from symprop.model.graph import Graph
from symprop.model.nn import Dense
from symprop.model.normalisation import BatchNorm, LayerNorm
from symprop.model.recurrent import GRU, LSTM, RNN
from symprop.model.stack import stack
from symprop.numbers import grouped_example
from symprop.numbers.evaluation import given_values
from symprop.numbers.gradcheck import GradientCheckError
from symprop.numbers.grouped import grouped_program, shape_of
from symprop.numbers.grouped_example import grouped_check
from symprop.numbers.vectorised import layered_plan
from symprop.numbers.worked_example import worked_example
from tests.layer_graphs import layer_graph, random_values
from tests.numbers.test_vectorised import assert_same_example, both_ways, problem_options
from tests.reference import reference_gradient

x1, x2, x3, w1, w2 = sympy.symbols("x1 x2 x3 w1 w2")


def test_expressions_of_one_shape_differ_only_in_their_symbols():
    first, symbols = shape_of(w1 * x1 + sympy.sin(x1))
    second, others = shape_of(w2 * x2 + sympy.sin(x2))
    assert first == second and symbols == (w1, x1) and others == (w2, x2)
    assert shape_of(w1 * x1 + sympy.cos(x1))[0] != first          # another function
    assert shape_of(w1 * x1 + sympy.sin(w1))[0] != first          # another symbol in that place
    assert shape_of(2 * w1 * x1 + sympy.sin(x1))[0] != first      # another number


LAYERS = {
    "conv": (Conv2d(2, 2), (1, 4, 4)),
    "strided conv": (Conv2d(1, 2, stride=2, padding=1), (2, 3, 3)),
    "max pool": (Pool2d("max", 2), (1, 4, 4)),
    "avg pool": (Pool2d("avg", 2, 1), (2, 3, 3)),
    "rnn": (RNN(2), (4, 2)),
    "lstm": (LSTM(2, h0="given"), (3, 2)),
    "gru": (GRU(2), (3, 2)),
    "layer norm": (LayerNorm(), (2, 3)),
    "batch norm": (BatchNorm(), (3, 2)),
    "attention": (Attention(2), (3, 2)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_each_layer_family_agrees_with_the_scalar_program(name):
    spec, shape = LAYERS[name]
    graph, _ = layer_graph(spec, shape)
    derivation = derive(graph)
    assert layered_plan(derivation) is None and grouped_program(derivation) is not None
    values = random_values(graph, seed=len(name))
    fast, slow = both_ways(derivation, values, update="all", steps=2)
    assert_same_example(fast, slow)


@pytest.mark.parametrize("name", ["conv", "max pool", "layer norm"])
def test_the_gradients_equal_sympy_diff_of_the_written_out_loss(name):
    spec, shape = LAYERS[name]
    graph, _ = layer_graph(spec, shape)
    values = random_values(graph, seed=3)
    example = worked_example(derive(graph), values, vectorised=True)
    point = {s: values[s.name] for s in (*graph.inputs, *graph.parameters)}
    for parameter in graph.parameters:
        reference = float(reference_gradient(graph, parameter).evalf(30, subs=point))
        assert math.isclose(example.gradients[parameter], reference, rel_tol=1e-12, abs_tol=1e-14), parameter


def builtin_derivation(name):
    problem = load_builtin(name)
    return problem, derive(problem.network or problem.graph)


STACKS = ["cnn", "conv", "rnn", "layernorm", "graph"]


def test_every_builtin_is_a_dense_network_or_one_of_the_stacks_below():
    for name in builtin_examples():
        assert (layered_plan(builtin_derivation(name)[1]) is None) == (name in STACKS), name


@pytest.mark.parametrize("name", STACKS)
def test_builtin_stacks_and_graphs_agree_with_the_scalar_program(name):
    problem, derivation = builtin_derivation(name)
    assert grouped_program(derivation) is not None
    fast, slow = both_ways(derivation, problem.values, **problem_options(problem))
    assert_same_example(fast, slow)


def cnn():
    return stack([1, 5, 5], [Conv2d(2, 3, activation="relu"), Pool2d("max", 2, 1), Flatten(), Dense(3, "softmax")],
                 "softmax_cross_entropy")


def cnn_values(network, seed=1):
    rng = numpy.random.default_rng(seed)
    values = {s.name: float(rng.uniform(-0.5, 0.5)) for s in (*network.graph.inputs, *network.graph.parameters)}
    targets = [s.name for s in network.graph.inputs if s.name.startswith("t")]
    values.update({name: float(i == 1) for i, name in enumerate(targets)})
    return values


def test_several_examples_combine_as_the_scalar_program_does():
    network = cnn()
    derivation = derive(network)
    values = cnn_values(network)
    inputs = [s.name for s in network.graph.inputs]
    examples = [{name: values[name] * (1 + k / 3) if name.startswith("x") else values[name] for name in inputs}
                for k in range(3)]
    parameters = {s.name: values[s.name] for s in network.graph.parameters}
    for reduction in ("mean", "sum"):
        fast, slow = both_ways(derivation, parameters, examples=examples, reduction=reduction, steps=3)
        assert_same_example(fast, slow)


def test_small_batches_of_copies_give_the_same_check(monkeypatch):
    network = cnn()
    derivation = derive(network)
    values = cnn_values(network)
    whole = worked_example(derivation, values, vectorised=True)
    monkeypatch.setattr(grouped_example, "BATCH_NUMBERS", 100)
    assert worked_example(derivation, values, vectorised=True).checks == whole.checks


def test_the_grouped_check_bites_on_a_wrong_gradient():
    network = cnn()
    derivation = derive(network)
    values = cnn_values(network)
    rows, parameters = given_values(derivation.graph, values)
    example = worked_example(derivation, values, vectorised=True)
    gradients = dict(example.gradients)
    wrong = derivation.graph.parameters[4]
    gradients[wrong] += 1e-3
    with pytest.raises(GradientCheckError, match=re.escape(wrong.name)):
        grouped_check(derivation, grouped_program(derivation), rows, parameters, "mean", gradients)


class cube(sympy.Function):
    """A function SymPy differentiates but no NumPy code knows."""

    def fdiff(self, argindex=1):
        return 3 * self.args[0] ** 2


def test_a_function_without_a_numpy_form_is_left_to_the_scalar_program():
    x, w, y, loss = sympy.symbols("x w y L", real=True)
    graph = Graph.from_pairs([(y, cube(w * x)), (loss, y ** 2 + sympy.Abs(y))], inputs=[x], parameters=[w],
                             output=loss)
    derivation = derive(graph)
    values = {"x": 0.5, "w": -0.3}
    rows, parameters = given_values(graph, values)
    program = grouped_program(derivation)
    assert grouped_example.grouped_numbers(derivation, program, rows, parameters, 0.1, (w,), "mean", 1) is None
    assert grouped_check(derivation, program, rows, parameters, "mean", {w: 1.0}) is None
    with pytest.raises(NameError):       # what the scalar program is spared: the arrays cannot run cube
        program.forward.run(program.values(numpy.array([[0.5]]), numpy.array([-0.3]), program.width))


def test_a_saturated_unit_is_left_to_the_scalar_program():
    x, w, y, loss = (Symbol(n) for n in ("x", "w", "y", "L"))
    graph = Graph.from_pairs([(y, sympy.exp(w * x)), (loss, sympy.log(1 / y))], inputs=[x], parameters=[w],
                             output=loss)
    derivation = derive(graph)
    values = {"x": 800.0, "w": 1.0}    # exp(800) overflows float64
    rows, parameters = given_values(derivation.graph, values)
    assert grouped_example.grouped_numbers(derivation, grouped_program(derivation), rows, parameters, 0.1,
                                           (), "mean", 1) is None
    assert worked_example(derivation, values, vectorised=True).gradients[w] == pytest.approx(-800.0)
