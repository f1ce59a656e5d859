"""The machinery of backward forms: mean broadcast, the upstream gradient a layer receives,
the part of a gradient that flows through a layer, and the LaTeX of an equation."""
from __future__ import annotations

import numpy
import sympy
from sympy import ImmutableMatrix, MatrixSymbol, Symbol

from symprop.engine.backprop import derive
from symprop.layers.backward_forms import FormEquation, Mean, column, form_latex, upstream_gradient, \
    within_layer_gradient
from symprop.model.recurrent import RNN
from tests.layer_graphs import layer_graph


def test_mean_broadcasts_the_mean_of_every_entry():
    a, b, c = sympy.symbols("a b c")
    assert Mean(ImmutableMatrix([a, b, c])).doit() == ImmutableMatrix([(a + b + c) / 3] * 3)
    v = MatrixSymbol("v", 3, 1)
    assert Mean(v).shape == (3, 1)
    assert form_latex(FormEquation("m", v, Mean(v)), {v: r"\hat{x}"}, "r") == \
        r"\hat{x} = \operatorname{mean}(\hat{x})"


def test_a_summed_and_a_final_equation_say_so():
    v, w = MatrixSymbol("v", 2, 1), MatrixSymbol("w", 2, 1)
    assert form_latex(FormEquation("s", v, w, summed=True), {}, "t") == r"v = \sum_{t} w"
    assert form_latex(FormEquation("e", v, w, at_end=True), {}, "t", "t = 0") == r"v = w \quad (t = 0)"


def test_column_lays_out_any_array_as_a_column():
    assert column(numpy.array([[1, 2], [3, 4]], dtype=object)) == ImmutableMatrix([1, 2, 3, 4])


def test_the_upstream_gradient_leaves_out_the_layers_own_recurrence():
    graph, layer = layer_graph(RNN(1), (2, 1))
    derivation = derive(graph)
    h0, h1 = layer.outputs[0, 0], layer.outputs[1, 0]
    e = upstream_gradient(derivation, layer)
    t0 = Symbol("t[0, 0]", real=True)
    assert e[0, 0] == h0 - t0                              # only the loss's term, not the step after's
    full = derivation.adjoints[h0].closed_form
    assert sympy.expand(full - e[0, 0]) != 0                # the full adjoint has the recurrence too
    x = layer.inputs[0, 0]
    with_inputs = derive(graph, wrt=[x.name])
    assert sympy.expand(within_layer_gradient(with_inputs, layer, x) - with_inputs.input_gradients[x].closed_form) == 0
    assert within_layer_gradient(derivation, layer, h1) == 0  # h1 feeds nothing inside the layer
