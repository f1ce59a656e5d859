"""The value of a closed expression to a given number of digits.

:func:`numeric_value` works out a closed SymPy expression (exact values after
a training step nest the forward and backward passes) with mpmath, each
distinct subexpression once. Numbers are written as text by
:mod:`symprop.printing.numbers`.
"""
from __future__ import annotations

import mpmath
import sympy

from symprop.model import functions


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
