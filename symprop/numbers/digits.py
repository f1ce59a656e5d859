"""Numbers to a given number of digits: the value of a closed expression, and its text.

:func:`numeric_value` works out a closed SymPy expression (exact values after
a training step nest the forward and backward passes) with mpmath, each
distinct subexpression once; :func:`significant` prints any number, float,
SymPy or mpmath, rounded half up to a number of significant digits.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import mpmath
import sympy

from symprop.model import functions


def significant(x, digits: int = 9) -> str:
    """``x`` rounded half up to ``digits`` significant digits, trailing zeros dropped.

    Fixed point while the leading digit is between 10^-7 and 10^(digits-1)
    (``0.75136507``, ``0.3775``, ``0.0000351085``), else ``1.5e-08``.
    Accepts floats, ints, SymPy numbers and exact expressions, and mpmath numbers.
    """
    if not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive whole number, got {digits!r}")
    value = _decimal(x, digits)
    if not value.is_finite():
        return "nan" if value.is_nan() else ("-inf" if value < 0 else "inf")
    if value.is_zero():
        return "0"
    with localcontext() as context:
        context.prec, context.rounding = digits, ROUND_HALF_UP
        rounded = +value
    exponent = rounded.adjusted()
    if -7 <= exponent < digits:
        return _strip_zeros(format(rounded, "f"))
    mantissa = _strip_zeros(format(rounded.scaleb(-exponent), "f"))
    return f"{mantissa}e{exponent:+03d}"


def numeric_value(expr, digits: int = 17) -> mpmath.mpf:
    """The value of a closed SymPy expression to about ``digits`` digits, each distinct
    subexpression evaluated once.

    Exact values after an update nest the forward and backward passes
    (``sigma(2/5 sigma(151/400) + ...)``) and repeat subtrees many times;
    ``evalf`` walks the tree (seconds for Mazur's loss after one step), this
    walks the DAG (milliseconds). Works at ``digits`` + 20 working digits.
    """
    memo: dict = {}
    with mpmath.workdps(digits + 20):
        return +_subexpression_value(sympy.sympify(expr), memo, digits + 20)


def _subexpression_value(e, memo: dict, dps: int):
    if e in memo:
        return memo[e]
    if e.is_Rational:
        value = mpmath.mpf(int(e.p)) / int(e.q)
    elif e.is_Float:
        value = mpmath.mpf(e._mpf_)
    elif e.is_Add or e.is_Mul or e.is_Pow or isinstance(e, _NUMERIC_FUNCTIONS):
        args = [_subexpression_value(a, memo, dps) for a in e.args]
        value = _apply(e, args)
    else:   # anything else (pi, Piecewise, ...): SymPy's own evaluation
        value = mpmath.mpmathify(sympy.N(e, dps))
    memo[e] = value
    return value


def _apply(e, args):
    if e.is_Add:
        return mpmath.fsum(args)
    if e.is_Mul:
        return mpmath.fprod(args)
    if e.is_Pow:
        return args[0] ** args[1]
    record = functions.record_of(type(e))
    if record is not None:
        return record.mpmath()(*args)
    if isinstance(e, (sympy.Max, sympy.Min)):
        return (max if isinstance(e, sympy.Max) else min)(args)
    if isinstance(e, sympy.Abs):
        return abs(args[0])
    return getattr(mpmath, type(e).__name__)(*args)


#: Functions :func:`numeric_value` applies itself: mpmath has the elementary ones by the same name,
#: and symprop's by their records' mpmath forms.
_NUMERIC_FUNCTIONS = (sympy.exp, sympy.log, sympy.sinh, sympy.cosh, sympy.sin, sympy.cos, sympy.Max, sympy.Min,
                      sympy.Abs, *(record.function for record in functions.FUNCTION_RECORDS if record.scalar))


def _decimal(x, digits: int) -> Decimal:
    """``x`` as a Decimal with more digits than will be printed."""
    if isinstance(x, bool):
        raise ValueError(f"{x!r} is not a number")
    if isinstance(x, (int, Decimal)):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    if isinstance(x, Fraction):
        x = sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, (mpmath.mpf, mpmath.mpc)):
        if isinstance(x, mpmath.mpc):
            raise ValueError(f"{x} is not a real number")
        return Decimal(mpmath.nstr(x, digits + 15, strip_zeros=False))
    x = sympy.sympify(x)
    if not x.is_Number and not x.free_symbols:
        return Decimal(mpmath.nstr(numeric_value(x, digits + 15), digits + 15, strip_zeros=False))
    value = sympy.N(x, digits + 15)
    if not value.is_Number:
        raise ValueError(f"{x} has no numeric value")
    if value in (sympy.oo, -sympy.oo, sympy.nan):
        return Decimal(str(float(value)))
    return Decimal(str(value))


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
