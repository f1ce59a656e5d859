"""The gradient check bites: a wrong gradient or adjoint is caught by finite differences,
and a kink takes the one-sided derivative."""
import dataclasses

import pytest
from sympy import Symbol

from symprop.model import nn
from symprop.engine.backprop import derive
from symprop.numbers.evaluation import NumericError
from symprop.numbers.gradcheck import GradientCheckError, gradient_check
from symprop.numbers.worked_example import worked_example
from tests.numbers.test_worked_example import MAZUR_VALUES, by_name, mazur_network


@pytest.fixture(scope="module")
def mazur():
    """Mazur's derivation (conftest's ``mazur`` is the network)."""
    return derive(mazur_network())


# --- the gradient check bites ---

def with_gradient(derivation, name, factor):
    symbol, gradient = derivation.symbol(name), derivation[name]
    terms = tuple(dataclasses.replace(t, local=factor * t.local) for t in gradient.terms)
    wrong = dataclasses.replace(gradient, terms=terms)
    return dataclasses.replace(derivation, gradients={**derivation.gradients, symbol: wrong})


def test_a_wrong_gradient_stops_the_example(mazur):
    with pytest.raises(GradientCheckError) as error:
        worked_example(with_gradient(mazur, "w5", 2), MAZUR_VALUES)
    assert str(error.value) == (
        "gradient check failed for w5: the derivation gives 0.164334081, "
        "central finite differences give 0.0821670406 (relative error 0.5)"
    )


def test_a_small_relative_error_is_written_in_the_documents_style(mazur):
    with pytest.raises(GradientCheckError) as error:
        worked_example(with_gradient(mazur, "w5", 1.00002), MAZUR_VALUES)
    assert str(error.value) == (
        "gradient check failed for w5: the derivation gives 0.0821686839, "
        "central finite differences give 0.0821670406 (relative error 2e-5)"
    )


def test_a_wrong_adjoint_fails_every_parameter_below_it(mazur):
    node = Symbol("net_o1", real=True)
    adjoint = mazur.adjoints[node]
    terms = tuple(dataclasses.replace(t, local=-t.local) for t in adjoint.terms)
    wrong = dataclasses.replace(adjoint, terms=terms)
    derivation = dataclasses.replace(mazur, adjoints={**mazur.adjoints, node: wrong})
    with pytest.raises(GradientCheckError, match=r"^gradient check failed for w1: .*; also for w2, w3, w4, b1, w5, w6, b2$"):
        gradient_check(derivation, MAZUR_VALUES)


def test_relu_kink_takes_the_one_sided_derivative():
    network = nn.mlp(["x"], [nn.Dense(1, "relu")], "half_sse", targets=["y"])
    example = worked_example(derive(network), {"x": 1.0, "y": 2.0, "w1": 0.0, "b1": 0.0}, update="all")
    # z = 0: relu'(0) = H(0) = 0 is the left derivative; the central quotient would be -1.
    assert by_name(example.gradients) == {"w1": 0.0, "b1": 0.0}
    assert all(c.ok and abs(c.numeric) < 1e-9 for c in example.checks)


def _graph_problem(text):
    from symprop.files import spec

    problem = spec.loads(text)
    return derive(problem.graph), problem.values


def test_a_subgradient_between_the_one_sided_slopes_passes():
    derivation, values = _graph_problem(
        '[graph]\ninputs = ["x", "y"]\nnodes = [["n0", "exp(Max(x, y))"]]\n[values]\nx = 0.0\ny = 0.0\n'
    )
    checks = gradient_check(derivation, values)
    assert [c.ok for c in checks] == [True, True]
    assert [c.symbolic for c in checks] == [0.5, 0.5]


def test_a_loss_undefined_on_one_side_cannot_be_checked():
    derivation, values = _graph_problem('[graph]\ninputs = ["x"]\nnodes = [["n0", "sqrt(x)*x"]]\n[values]\nx = 0.0\n')
    with pytest.raises(NumericError, match="leaves the real numbers"):
        gradient_check(derivation, values)
