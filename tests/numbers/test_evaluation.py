"""The arithmetics of a worked example: many digits agree with exact; an unknown precision
is refused; float64 falls back to mpmath where a saturated unit would overflow."""
import math
import warnings

import mpmath
import pytest
import sympy

from symprop.model import nn
from symprop.engine.backprop import derive
from symprop.numbers.digits import numeric_value
from symprop.numbers.worked_example import worked_example
from tests.numbers.test_worked_example import MAZUR_VALUES, mazur_network


@pytest.fixture(scope="module")
def mazur():
    """Mazur's derivation (conftest's ``mazur`` is the network)."""
    return derive(mazur_network())


# --- arithmetics ---

def test_thirty_digits_agree_with_exact_to_twenty_five(mazur):
    exact = worked_example(mazur, MAZUR_VALUES, precision="exact")
    precise = worked_example(mazur, MAZUR_VALUES, precision=30)
    assert isinstance(precise.loss, sympy.Float)
    quantities = [(precise.loss, exact.loss), (precise.loss_after, exact.loss_after)]
    quantities += [(precise.gradients[p], exact.gradients[p]) for p in mazur.graph.parameters]
    with mpmath.workdps(50):
        for value, reference in quantities:
            reference = numeric_value(reference, 40)
            assert abs(mpmath.mpf(value) - reference) <= mpmath.mpf("1e-25") * abs(reference)
    assert str(precise.loss) == "0.298371108760002688607381947666"


def test_unknown_precision_is_refused(mazur):
    with pytest.raises(ValueError, match="precision must be 'float', 'exact' or a number of significant digits, got 'double'"):
        worked_example(mazur, MAZUR_VALUES, precision="double")


# --- numbers at |z| = 1000 ---

SATURATED = [
    ("sigmoid", "cross_entropy", [1000.0], [0.0], 1000.0, 1.0),
    ("sigmoid", "cross_entropy", [-1000.0], [1.0], 1000.0, -1.0),
    ("sigmoid", "cross_entropy", [1000.0], [1.0], 0.0, 0.0),
    ("sigmoid", "half_sse", [1000.0], [0.0], 0.5, 0.0),
    ("tanh", "half_sse", [-1000.0], [0.0], 0.5, 0.0),
    ("softplus", "half_sse", [-1000.0], [0.0], 0.0, 0.0),
    ("softmax", "cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0, 1.0),
    ("softmax", "softmax_cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0, 1.0),
]


@pytest.mark.parametrize("activation, loss, weights, targets, expected_loss, expected_w1", SATURATED)
def test_saturated_units_give_finite_numbers_without_warnings(activation, loss, weights, targets, expected_loss,
                                                              expected_w1):
    network = nn.mlp(["x"], [nn.Dense(len(weights), activation)], loss)
    values = {"x": 1.0, **{w.name: v for w, v in zip(network.weights, weights)},
              **{b.name: 0.0 for b in network.biases}, **{t.name: v for t, v in zip(network.targets, targets)}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        example = worked_example(derive(network), values, update="all")
    assert example.loss == pytest.approx(expected_loss, abs=1e-12)
    assert example.gradients[network.weights[0]] == pytest.approx(expected_w1, abs=1e-12)
    assert all(math.isfinite(v) for v in example.gradients.values())


def test_derivatives_with_real_and_imaginary_parts_evaluate():
    from symprop.files import spec
    from symprop.engine.backprop import derive
    from symprop.numbers.worked_example import worked_example

    problem = spec.loads('[graph]\ninputs = ["x", "y"]\nnodes = [["n0", "Abs(x**y)"]]\nparameters = ["x"]\n'
                         '[values]\nx = 0.5\ny = 2.0\n')
    example = worked_example(derive(problem.graph), problem.values)
    assert abs(example.gradients[problem.graph.parameters[0]] - 1.0) < 1e-12  # d|x^2|/dx = 2x
