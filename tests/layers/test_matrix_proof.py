"""The matrix form is proven, not asserted: ``verify_matrix_form`` instantiates
each layer's equations for a concrete network and compares every entry of
dC/dW^l and dC/db^l with the engine's per-weight gradient. These tests run it
on several architectures and show it catches a wrong equation.
"""
from __future__ import annotations

import pytest
import sympy
from sympy import Eq, ImmutableMatrix, MatrixSymbol, Symbol

from symprop.engine import backprop

from symprop.model import functions
from symprop.layers.matrix import LayerForm, MatrixFormError, matrix_form, verify_matrix_form
from symprop.layers.matrix_expressions import Elementwise
from symprop.model.nn import batched
from tests.layers.test_matrix import ARCHITECTURES, tanh_342

S = lambda name: Symbol(name, real=True)  # noqa: E731


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("method", ["exact", "numeric"])
def test_every_matrix_entry_equals_the_per_weight_gradient(name, method):
    network = ARCHITECTURES[name]()
    verify_matrix_form(network, backprop.derive(network), method=method)


@pytest.mark.parametrize("name", ["mazur sigmoid 2-2-2 shared biases", "tanh 3-4-2 per-unit biases",
                                  "relu then softmax with fused cross-entropy", "softmax without fused loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_gradient_over_examples_equals_the_engine(name, reduction):
    network = ARCHITECTURES[name]()
    verify_matrix_form(network, backprop.derive(batched(network.graph, 3, reduction)))


def test_the_instantiated_output_weight_entry_is_mazurs_product(mazur, mazur_derivation):
    """dE/dw5 = out_h1 * out_o1 (1 - out_o1) * (out_o1 - t1), the first entry of delta^2 (a^1)^T."""
    _, output = matrix_form(mazur)
    n1, n2 = (Symbol(f"n_{{{l}}}", integer=True, positive=True) for l in (1, 2))
    x = sympy.Dummy("x")
    delta = ImmutableMatrix([S("out_o1") - S("t1"), S("out_o2") - S("t2")]).multiply_elementwise(
        Elementwise(sympy.Lambda(x, functions.sigmoid(x)), ImmutableMatrix([S("net_o1"), S("net_o2")]), 1).doit()
    ).xreplace({functions.sigmoid(S("net_o1")): S("out_o1"), functions.sigmoid(S("net_o2")): S("out_o2")})
    weights = output["weight_gradient"].rhs.xreplace({
        MatrixSymbol(r"\delta^{(2)}", n2, 1): delta,
        MatrixSymbol("a^{(1)}", n1, 1): ImmutableMatrix([S("out_h1"), S("out_h2")]),
    }).doit()
    assert weights[0, 0] == S("out_h1") * S("out_o1") * (1 - S("out_o1")) * (S("out_o1") - S("t1"))
    assert sympy.expand(weights[0, 0] - mazur_derivation["w5"].closed_form) == 0


def _with_wrong_hidden_derivative(forms):
    """The hidden delta with f(z) in place of f'(z): a plausible slip."""
    hidden = forms[0]
    wrong = hidden["delta"].rhs.replace(
        lambda e: isinstance(e, Elementwise), lambda e: Elementwise(e.function, e.matrix, 0)
    )
    equations = tuple((k, Eq(e.lhs, wrong, evaluate=False) if k == "delta" else e) for k, e in hidden.equations)
    return (LayerForm(hidden.index, equations), *forms[1:])


@pytest.mark.parametrize("method", ["exact", "numeric"])
def test_a_wrong_equation_is_caught_at_its_first_entry(monkeypatch, mazur, mazur_derivation, method):
    import symprop.layers.matrix as matrix

    original = matrix.matrix_form
    monkeypatch.setattr(matrix, "matrix_form", lambda net, **kw: _with_wrong_hidden_derivative(original(net, **kw)))
    with pytest.raises(MatrixFormError, match=r"^layer 1: dE_total/dW\[1,1\] \(w1\): the matrix form gives"):
        verify_matrix_form(mazur, mazur_derivation, method=method)


def test_a_wrong_loss_gradient_is_caught(monkeypatch, mazur, mazur_derivation):
    import symprop.layers.matrix as matrix

    original = matrix.matrix_form

    def doubled(net, **kw):
        forms = original(net, **kw)
        last = forms[-1]
        equations = tuple(
            (k, Eq(e.lhs, 2 * e.rhs, evaluate=False) if k == "loss_gradient" else e) for k, e in last.equations
        )
        return (*forms[:-1], LayerForm(last.index, equations))

    monkeypatch.setattr(matrix, "matrix_form", doubled)
    with pytest.raises(MatrixFormError, match="loss gradient entry 1"):
        verify_matrix_form(mazur, mazur_derivation)


def test_a_derivation_of_another_graph_is_refused(mazur):
    other = backprop.derive(tanh_342())
    with pytest.raises(ValueError, match="neither of this network's graph nor of a batch of it"):
        verify_matrix_form(mazur, other)
