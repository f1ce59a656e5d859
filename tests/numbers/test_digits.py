"""Numbers to a given number of digits: values of exact expressions and significant digits."""
import math

import mpmath
import pytest
import sympy
from sympy import Rational, Symbol

from symprop.engine.backprop import derive
from symprop.numbers.digits import numeric_value, significant
from symprop.numbers.worked_example import worked_example
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
    assert significant(exact.loss_after, 9) == "0.291027774"
    assert significant(exact.forward[Symbol("out_h1", real=True)], 9) == "0.593269992"


# --- significant digits ---

@pytest.mark.parametrize("value, digits, text", [
    (0.7513650695523157, 9, "0.75136507"),
    (0.3775, 9, "0.3775"),
    (3.510854812251261e-05, 6, "0.0000351085"),
    (1.5e-08, 9, "1.5e-08"),
    (123456789012.0, 9, "1.23456789e+11"),
    (999999999.7, 9, "1e+09"),
    (1234567.891, 9, "1234567.89"),
    (0.125, 2, "0.13"),
    (-0.5, 9, "-0.5"),
    (2.0, 9, "2"),
    (0.0, 9, "0"),
    (-0.0, 9, "0"),
    (7, 9, "7"),
    (math.inf, 9, "inf"),
    (Rational(1, 3), 9, "0.333333333"),
    (Rational(-4, 5), 9, "-0.8"),
    (sympy.log(5), 12, "1.60943791243"),
    (sympy.Float("0.298371108760002688607381947666", 30), 20, "0.29837110876000268861"),
    (mpmath.mpf("0.1"), 9, "0.1"),
])
def test_significant(value, digits, text):
    assert significant(value, digits) == text


def test_significant_refuses_what_has_no_number():
    with pytest.raises(ValueError, match="digits must be a positive whole number, got 0"):
        significant(1.0, 0)
    with pytest.raises(ValueError, match="x has no numeric value"):
        significant(Symbol("x"), 9)
