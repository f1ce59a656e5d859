r"""Numbers as text: one rule for the terminal and the documents.

:func:`plain_number` rounds a value half up to a number of significant
digits and writes it in fixed point while its leading digit is between
10^-4 and 10^(digits-1) (``0.593269992``, ``0.000438567734``), else with an
exponent (``1.5e-8``, ``2.5e20``), as Python's ``g`` format chooses.
:func:`latex_number` is the same text with the exponent as
``1.5 \times 10^{-8}``; :func:`number_names` gives the LaTeX of many values
for plugging them into a printed formula.
"""
from __future__ import annotations

import functools
import numbers
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from typing import Mapping

import mpmath
import sympy

__all__ = ["NumberNames", "latex_number", "number_names", "plain_number"]

#: Fixed point down to this decimal exponent of the leading digit (0.0001234); 1.234e-5 below it.
SMALLEST_FIXED_EXPONENT = -4
#: Digits worked out beyond the printed ones when a value has no short exact decimal.
GUARD_DIGITS = 15


def plain_number(value, digits: int = 9) -> str:
    """``value`` rounded half up to ``digits`` significant digits, as plain text.

    Trailing zeros are dropped (``2``, ``0.5``); fixed point while the leading
    digit is between 10^-4 and 10^(digits-1), else ``1.5e-8`` style (no plus
    sign, no leading zero in the exponent); ``inf``, ``-inf``, ``nan``.
    Accepts ints, floats, Decimals, Fractions, SymPy numbers and closed SymPy
    expressions, and mpmath numbers. A float rounds as the decimal it prints
    as (its ``repr``: 0.125 is a tie and gives 0.13 at two digits); a binary
    number of more precision (mpmath, a SymPy Float) rounds on its exact value.
    Raises TypeError for a boolean or a non-number, ValueError for a value with
    no real number (a symbol, a complex number) or ``digits`` below 1.
    """
    if not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive whole number, got {digits!r}")
    value = _decimal(value, digits)
    if not value.is_finite():
        return "nan" if value.is_nan() else ("-inf" if value < 0 else "inf")
    if value.is_zero():
        return "0"
    context = _half_up(digits)
    rounded = context.plus(value)
    exponent = rounded.adjusted()
    if SMALLEST_FIXED_EXPONENT <= exponent < digits:
        return _strip_zeros(format(rounded, "f"))
    return f"{_strip_zeros(format(rounded.scaleb(-exponent, context), 'f'))}e{exponent}"


@functools.lru_cache(maxsize=None)
def _half_up(digits: int) -> Context:
    """The arithmetic that rounds half up to ``digits`` significant digits: one context per
    number of digits, made once (a document prints tens of thousands of numbers)."""
    return Context(prec=digits, rounding=ROUND_HALF_UP)


def latex_number(value, digits: int = 9) -> str:
    r""":func:`plain_number` as LaTeX: ``0.593269992``, ``1.5 \times 10^{-11}``, ``\infty``."""
    text = plain_number(value, digits)
    if text in _LATEX_SPECIAL:
        return _LATEX_SPECIAL[text]
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa} \times 10^{{{exponent}}}"


_LATEX_SPECIAL = {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}


class NumberNames(Mapping):
    r"""Key -> the LaTeX :func:`number_names` gives its value, formatted on first use (a
    large network's line of numbers prints a handful of its tens of thousands of
    values), else the name in ``fallback``; ``negative=True`` keeps only the negative
    values' magnitudes (``0.5`` for -0.5), without parentheses."""

    def __init__(self, values: Mapping, digits: int = 9, fallback: Mapping | None = None, negative: bool = False):
        self.values, self.digits, self.fallback, self.negative = values, digits, fallback or {}, negative
        self._texts: dict = {}

    def _has_value(self, key) -> bool:
        return key in self.values and (not self.negative or self.values[key] < 0)

    def __contains__(self, key) -> bool:
        return self._has_value(key) or key in self.fallback

    def __getitem__(self, key):
        if not self._has_value(key):
            return self.fallback[key]
        if key not in self._texts:
            value = self.values[key]
            if self.negative:
                self._texts[key] = latex_number(-value, self.digits)
            else:
                text = latex_number(value, self.digits)
                self._texts[key] = rf"\left({text}\right)" if text.startswith("-") else text
        return self._texts[key]

    def __iter__(self):
        yield from (k for k in self.values if self._has_value(k))
        yield from (k for k in self.fallback if not self._has_value(k))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # asked by the printer before every sum: not a count
        if not hasattr(self, "_any"):
            self._any = bool(self.fallback) or any(True for _ in self)
        return self._any


def number_names(values: Mapping[object, object], digits: int = 9) -> dict:
    r"""Key -> :func:`latex_number` of its value, negative values in parentheses
    (``\left(-0.5\right)``), for substituting numbers into a printed formula
    without letting SymPy evaluate it."""
    names = {}
    for key, value in values.items():
        text = latex_number(value, digits)
        names[key] = rf"\left({text}\right)" if text.startswith("-") else text
    return names


def _decimal(x, digits: int) -> Decimal:
    """``x`` as a Decimal: exact, or truncated towards zero after ``digits`` + GUARD_DIGITS
    digits (which rounds half up the same as the exact value)."""
    if type(x) is float:  # most numbers printed: their repr, before the checks of every other kind
        return Decimal(repr(x))
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number to print")
    if isinstance(x, sympy.Basic):
        return _sympy_decimal(x, digits)
    if isinstance(x, Decimal):
        return x
    if isinstance(x, numbers.Integral):
        return Decimal(int(x))
    if isinstance(x, Fraction):
        return _quotient(x.numerator, x.denominator, digits)
    if isinstance(x, mpmath.mpc) or isinstance(x, complex):
        raise ValueError(f"{x} is not a real number")
    if isinstance(x, mpmath.mpf):
        return _binary_decimal(x._mpf_, digits)
    if isinstance(x, numbers.Real):
        return Decimal(repr(float(x)))  # float() first: NumPy 2 writes np.float64(0.5) as its repr
    raise TypeError(f"{x!r} is not a number to print")


def _sympy_decimal(x: sympy.Basic, digits: int) -> Decimal:
    number = sympy.N(x, digits + GUARD_DIGITS) if not x.is_Number and not x.free_symbols else x
    if number.is_Rational:
        return _quotient(int(number.p), int(number.q), digits)
    if number.is_Float:
        return _binary_decimal(number._mpf_, digits)
    if number in (sympy.oo, -sympy.oo, sympy.nan):
        return Decimal(str(float(number)))
    raise ValueError(f"{x} has no numeric value")


def _binary_decimal(mpf: tuple, digits: int) -> Decimal:
    """The value of mpmath's ``(sign, mantissa, exponent, bits)``, taken as is: ``mpmath.mpf(...)``
    would round it to the working precision."""
    sign, mantissa, exponent, _ = mpf
    if not mantissa:  # zero, or an infinity or nan
        return Decimal(str(float(mpmath.mpf(mpf))))
    signed = -int(mantissa) if sign else int(mantissa)
    if exponent >= 0:
        return Decimal(signed << int(exponent))
    return _quotient(signed, 1 << -int(exponent), digits)


def _quotient(numerator: int, denominator: int, digits: int) -> Decimal:
    # Truncating (never rounding up) keeps a value just below a tie below it, so rounding
    # the result half up gives what rounding the exact quotient half up would.
    with localcontext() as context:
        context.prec, context.rounding = digits + GUARD_DIGITS, ROUND_DOWN
        return Decimal(numerator) / Decimal(denominator)


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
