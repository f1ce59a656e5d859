"""Numbers as text: one rounding rule (half up on the decimal value), one exponent style."""
import math
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from sympy import Rational, Symbol

from symprop.printing.numbers import latex_number, number_names, plain_number


@pytest.mark.parametrize("value, digits, text", [
    (0.7513650695523157, 9, "0.75136507"),
    (0.3775, 9, "0.3775"),
    (0.593269992477, 9, "0.593269992"),
    (-0.0380982365, 4, "-0.0381"),
    (0.000438567734, 9, "0.000438567734"),
    (3.510854812251261e-05, 6, "3.51085e-5"),
    (1.5e-08, 9, "1.5e-8"),
    (2.5e20, 9, "2.5e20"),
    (123456789012.0, 9, "1.23456789e11"),
    (999999999.7, 9, "1e9"),
    (1234567.891, 9, "1234567.89"),
    (-0.5, 9, "-0.5"),
    (2.0, 9, "2"),
    (0.0, 9, "0"),
    (-0.0, 9, "0"),
    (7, 9, "7"),
    (123456789012, 9, "1.23456789e11"),
    (math.inf, 9, "inf"),
    (-math.inf, 9, "-inf"),
    (math.nan, 9, "nan"),
])
def test_plain_number_of_floats_and_ints(value, digits, text):
    assert plain_number(value, digits) == text


@pytest.mark.parametrize("value, digits, text", [
    (0.125, 2, "0.13"),              # 0.125 is exact in binary: a tie, rounded up
    (-0.125, 2, "-0.13"),            # half up is away from zero
    (0.15, 1, "0.2"),                # a float rounds as the decimal it prints as, not 0.1499999...
    (2.675, 3, "2.68"),
    (Rational(1, 8), 2, "0.13"),
    (Fraction(1, 8), 2, "0.13"),
    (Decimal("0.125"), 2, "0.13"),
    (mpmath.mpf("0.125"), 2, "0.13"),
    (sympy.Float("0.125", 30), 2, "0.13"),
    (Rational(124_999_999_999_999_999_999_999, 10**24), 2, "0.12"),  # just below the tie
    (Rational(125_000_000_000_000_000_000_001, 10**24), 2, "0.13"),
])
def test_ties_round_half_up_on_the_decimal_value(value, digits, text):
    assert plain_number(value, digits) == text


@pytest.mark.parametrize("value, digits, text", [
    (Rational(1, 3), 9, "0.333333333"),
    (Rational(-4, 5), 9, "-0.8"),
    (Rational(1, 3), 20, "0.33333333333333333333"),
    (Rational(1234, 10**7), 20, "0.0001234"),
    (Rational(1, 10**9), 20, "1e-9"),
    (sympy.Integer(10) ** 30 / 3, 5, "3.3333e29"),
    (sympy.Integer(7), 9, "7"),
    (sympy.log(5), 12, "1.60943791243"),
    (sympy.sin(sympy.pi), 9, "0"),
    (sympy.oo, 9, "inf"),
    (sympy.Float("0.298371108760002688607381947666", 30), 20, "0.29837110876000268861"),
    (sympy.Float("0.2983711087600026679", 25), 20, "0.2983711087600026679"),
    (mpmath.mpf("0.1"), 9, "0.1"),
    (mpmath.mpf(2) ** -1100, 5, "7.3622e-332"),
    (mpmath.inf, 9, "inf"),
    (np.float64(0.1), 9, "0.1"),
    (np.float32(0.1), 9, "0.100000001"),
    (np.int64(5), 9, "5"),
])
def test_plain_number_of_exact_mpmath_and_numpy_values(value, digits, text):
    assert plain_number(value, digits) == text


def test_mpmath_values_keep_their_digits_beyond_the_working_precision():
    with mpmath.workdps(40):
        third = mpmath.mpf(1) / 3
    assert plain_number(third, 35) == "0.33333333333333333333333333333333333"


def test_plain_number_refuses_what_is_not_a_real_number():
    with pytest.raises(ValueError, match="^digits must be a positive whole number, got 0$"):
        plain_number(1.0, 0)
    with pytest.raises(ValueError, match="^x has no numeric value$"):
        plain_number(Symbol("x"), 9)
    with pytest.raises(ValueError, match="^zoo has no numeric value$"):
        plain_number(sympy.zoo, 9)
    with pytest.raises(ValueError, match=r"^1j is not a real number$"):
        plain_number(1j, 9)
    with pytest.raises(TypeError, match="^a boolean is not a number to print$"):
        plain_number(True)
    with pytest.raises(TypeError, match="^'0.5' is not a number to print$"):
        plain_number("0.5")


@pytest.mark.parametrize("value, digits, tex", [
    (0.593269992477, 9, "0.593269992"),
    (0.5, 9, "0.5"),
    (3, 9, "3"),
    (-0.0380982365, 4, "-0.0381"),
    (1.5e-11, 9, r"1.5 \times 10^{-11}"),
    (2.5e20, 9, r"2.5 \times 10^{20}"),
    (999999999.7, 9, r"1 \times 10^{9}"),
    (Rational(1, 3), 9, "0.333333333"),
    (0.0, 9, "0"),
    (math.inf, 9, r"\infty"),
    (-math.inf, 9, r"-\infty"),
    (math.nan, 9, r"\mathrm{NaN}"),
])
def test_latex_number_is_the_plain_text_with_a_power_of_ten(value, digits, tex):
    assert latex_number(value, digits) == tex


def test_number_names_put_negative_values_in_parentheses():
    x, y = Symbol("x"), Symbol("y")
    assert number_names({x: -0.5, y: 1.5e-11}, 3) == {x: r"\left(-0.5\right)", y: r"1.5 \times 10^{-11}"}


def test_rounding_neither_depends_on_nor_changes_the_ambient_decimal_context():
    import decimal

    with decimal.localcontext() as ambient:
        ambient.prec, ambient.rounding = 3, decimal.ROUND_DOWN
        assert plain_number(0.125, 2) == "0.13" and plain_number(2.0 / 3.0, 9) == "0.666666667"
        assert plain_number(123456789.5, 9) == "123456790" and plain_number(6.02214076e23, 4) == "6.022e23"
        assert (ambient.prec, ambient.rounding) == (3, decimal.ROUND_DOWN)
