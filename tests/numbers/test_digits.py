"""Values of exact expressions to a given number of digits."""
import mpmath
import pytest
import sympy
from sympy import Symbol

from symprop.engine.backprop import derive
from symprop.numbers.digits import numeric_value
from symprop.numbers.worked_example import worked_example
from symprop.printing.numbers import plain_number
from tests.numbers.test_worked_example import MAZUR_VALUES, mazur_network


@pytest.fixture(scope="module")
def mazur():
    """Mazur's derivation (conftest's ``mazur`` is the network)."""
    return derive(mazur_network())


def test_numeric_value_of_exact_expressions_agrees_with_evalf(mazur):
    exact = worked_example(mazur, MAZUR_VALUES, precision="exact")
    w1 = exact.updated[mazur.symbol("w1")]
    with mpmath.workdps(60):
        assert abs(numeric_value(w1, 45) - mpmath.mpf(sympy.N(w1, 50))) < mpmath.mpf("1e-45")
    assert plain_number(numeric_value(exact.loss_after), 9) == "0.291027774"
    assert plain_number(numeric_value(exact.forward[Symbol("out_h1", real=True)]), 9) == "0.593269992"
