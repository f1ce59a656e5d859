r"""Products and sums the reverse walk builds by the thousand, made directly in SymPy's
canonical form where that form is known without SymPy's general flattening.

A dense layer's gradients are ``delta_j a_k`` and ``C_j a_k`` (``C_j`` the closed form of
``delta_j``): a product of an expression and one plain symbol that is none of its
factors' bases. ``Mul.flatten`` of such a pair only merges the two factor lists and sorts
them by ``Basic.compare`` (a numeric coefficient first), but it pays for collecting
powers, numbers and signs on the way: 12,730 of them were most of the time of building
every form of a 784-16-10 network. :func:`times` does the merge and the sort itself when
the pair is of that kind and calls ``sympy.Mul`` otherwise, so its result is always
``sympy.Mul(a, b)`` (the tests compare the two on random networks and expressions).
"""
from __future__ import annotations

from functools import cmp_to_key
from collections.abc import Sequence

import sympy
from sympy import Expr

#: SymPy's own order of a product's commutative factors (``Mul.flatten`` sorts by it).
CANONICAL = cmp_to_key(sympy.Basic.compare)


def times(a: Expr, b: Expr) -> Expr:
    """``sympy.Mul(a, b)``; built directly when one of the two is a plain commutative
    symbol that no factor of the other has as its base (or the other is 1)."""
    if a is sympy.S.One:
        return b
    if b is sympy.S.One:
        return a
    if b.is_Symbol and b.is_commutative:
        factors = _factors_beside(a, b)
    elif a.is_Symbol and a.is_commutative:
        factors = _factors_beside(b, a)
    else:
        factors = None
    return sympy.Mul(a, b) if factors is None else sympy.Mul._from_args(factors)


def total(terms: Sequence[Expr]) -> Expr:
    """``sympy.Add(*terms)``; one term is itself (what ``Add`` returns for it)."""
    return terms[0] if len(terms) == 1 else sympy.Add(*terms)


def _factors_beside(expr: Expr, symbol: Expr) -> tuple[Expr, ...] | None:
    """The arguments of ``sympy.Mul(expr, symbol)`` when ``Mul.flatten`` would only sort
    ``symbol`` in among ``expr``'s factors: ``expr`` commutative, its factors neither
    numbers (but a finite rational or float coefficient, which stays first) nor powers
    of anything holding ``symbol``, nor ``symbol`` itself. None otherwise."""
    if not expr.is_commutative:
        return None
    if expr.is_Mul:
        args = expr.args
        coefficient = args[:1] if args[0].is_Number else ()
        if coefficient and not (coefficient[0].is_finite and (coefficient[0].is_Rational or coefficient[0].is_Float)):
            return None
        others = args[len(coefficient):]
    else:
        coefficient, others = (), (expr,)
    for factor in others:
        if factor == symbol or factor.is_number or factor.is_Order or (factor.is_Pow or isinstance(factor, sympy.exp)) and (
                symbol in factor.free_symbols):
            return None
    return (*coefficient, *sorted((*others, symbol), key=CANONICAL))
