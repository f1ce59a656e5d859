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

from functools import lru_cache
from collections.abc import Sequence

import sympy
from sympy import Expr, Symbol
from sympy.core.basic import _cmp_name

def times(a: Expr, b: Expr) -> Expr:
    """``sympy.Mul(a, b)``; built directly when one of the two is a plain commutative
    symbol that no factor of the other has as its base (or the other is 1)."""
    if a is sympy.S.One:
        return b
    if b is sympy.S.One:
        return a
    if b.is_Symbol and b.is_commutative:
        product = _inserted(a, b)
    elif a.is_Symbol and a.is_commutative:
        product = _inserted(b, a)
    else:
        product = None
    return sympy.Mul(a, b) if product is None else product


def total(terms: Sequence[Expr]) -> Expr:
    """``sympy.Add(*terms)``; one term is itself (what ``Add`` returns for it)."""
    return terms[0] if len(terms) == 1 else sympy.Add(*terms)


def _inserted(expr: Expr, symbol: Expr) -> Expr | None:
    """``sympy.Mul(expr, symbol)`` as ``symbol`` sorted in among ``expr``'s factors, when
    that is all ``Mul.flatten`` would do (:func:`_product_parts`); None otherwise."""
    parts = _product_parts(expr)
    if parts is None or symbol in parts[2]:
        return None
    coefficient, others, _ = parts
    at = 0  # a product has few factors: a scan, fewer calls than a bisection's key objects
    while at < len(others) and _compare(symbol, others[at]) > 0:
        at += 1
    return sympy.Mul._from_args((*coefficient, *others[:at], symbol, *others[at:]), is_commutative=True)


def _compare(a: Expr, b: Expr) -> int:
    """``a.compare(b)`` without its general walk where the answer is known: objects of
    classes of different names are in the order of their classes (looked up once per pair);
    for two objects of one class ``Basic.compare`` compares the lengths of their hashable
    contents, then the contents item by item, which for two Symbols (a name, then
    assumptions as pairs) is Python's order of the two tuples."""
    first, second = type(a), type(b)
    if first is Symbol and second is Symbol:
        left, right = a._hashable_content(), b._hashable_content()
        left, right = (len(left), left), (len(right), right)
        return (left > right) - (left < right)
    if first.__name__ != second.__name__:
        return _class_order(first, second)
    return a.compare(b)


#: The order of two classes of different names, the first thing ``Basic.compare`` decides.
_class_order = lru_cache(maxsize=1024)(_cmp_name)


@lru_cache(maxsize=4096)
def _product_parts(expr: Expr) -> tuple[tuple[Expr, ...], tuple[Expr, ...], frozenset] | None:
    """``expr`` as a product: its coefficient (a finite rational or float, first, or none),
    its other factors in canonical order, and the symbols a plain symbol multiplied in
    must not be (a factor itself, or inside a power's or exponential's base or exponent,
    where ``Mul.flatten`` would combine them). None when ``expr`` is not commutative, is a
    product that flattening its own factors again would change (one built unevaluated), has
    another number or numeric factor (whose combining this does not follow), or an order
    term. Then ``Mul.flatten`` of its factors and the symbol gives back each factor and
    only sorts the symbol in. Cached: one closed form is multiplied by every input of its layer."""
    if not expr.is_commutative:
        return None
    if expr.is_Mul:
        args = expr.args
        if sympy.Mul(*args) != expr:  # built unevaluated: flattening its factors again changes them
            return None
        coefficient = args[:1] if args[0].is_Number else ()
        if coefficient and not (coefficient[0].is_finite and (coefficient[0].is_Rational or coefficient[0].is_Float)):
            return None
        others = args[len(coefficient):]
    else:
        coefficient, others = (), (expr,)
    blocked = set()
    for factor in others:
        if factor.is_number or factor.is_Order:
            return None
        if factor.is_Symbol:
            blocked.add(factor)
        elif factor.is_Pow or isinstance(factor, sympy.exp):
            blocked |= factor.free_symbols
    return coefficient, others, frozenset(blocked)
