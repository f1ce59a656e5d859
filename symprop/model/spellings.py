r"""The common spellings of activations, recognised in a bare SymPy expression.

A tutorial writes the sigmoid as ``1/(1 + exp(-z))``; written so, its
derivative is a fraction of exponentials. Rewritten as :class:`sigmoid`, the
derivative is the identity ``sigma(z)(1 - sigma(z))``, which the engine then
writes in the forward quantity ``a``. :func:`recognise_activations` rewrites

* ``1/(1 + exp(-z))`` (any negative whole power of ``1 + exp(u)``: ``sigma(-u)^k``)
  and ``exp(z)/(exp(z) + 1)`` as ``sigmoid(z)``;
* ``(exp(z) - exp(-z))/(exp(z) + exp(-z))`` as ``tanh(z)``;
* ``log(1 + exp(z))`` as ``softplus(z)``;
* ``Max(0, z)`` as ``relu(z)``.

Each is found by SymPy's pattern matching (``Wild``, ``match``) on the
expression as SymPy holds it, so its automatic rewritings count too:
``1/(1 + exp(-(w x + b)))`` is held as ``1/(exp(-b - w x) + 1)``. A match is
kept only when the pattern, filled in with what matched, is the expression
itself: the rewriting is an identity, never a guess.
"""
from __future__ import annotations

import sympy
from sympy import Expr, Max, Mul, Pow, Wild, exp, log

from symprop.model.activations import relu, sigmoid, softplus

_U, _V, _K = Wild("U"), Wild("V"), Wild("K")
#: (1 + e^u)^k; with k a negative whole number it is sigma(-u)^(-k).
_ONE_PLUS_EXP_POWER = Pow(1 + exp(_U), _K)
_SOFTPLUS = log(1 + exp(_U))
_RELU = Max(0, _U)
#: e^u + e^v, the denominator of tanh when v = -u.
_EXP_PAIR = exp(_U) + exp(_V)


def recognise_activations(expr: Expr) -> Expr:
    """``expr`` with every spelling above rewritten as symprop's activation (or SymPy's ``tanh``).

    Sub-expressions are rewritten before the expressions holding them
    (``replace`` works bottom-up), so a sigmoid inside a sigmoid is found too.
    """
    expr = expr.replace(lambda e: isinstance(e, log) and _exact_match(e, _SOFTPLUS) is not None,
                        lambda e: softplus(_exact_match(e, _SOFTPLUS)[_U]))
    expr = expr.replace(lambda e: e.is_Mul and _tanh_of(e) is not None, _tanh_of)
    expr = expr.replace(lambda e: _sigmoid_power(e) is not None, _sigmoid_power)
    expr = expr.replace(lambda e: e.is_Mul and _exp_times_sigmoid(e) is not None, _exp_times_sigmoid)
    return expr.replace(lambda e: isinstance(e, Max) and _exact_match(e, _RELU) is not None,
                        lambda e: relu(_exact_match(e, _RELU)[_U]))


def _exact_match(expr: Expr, pattern: Expr) -> dict | None:
    """``pattern``'s wilds matched in ``expr``, when filling them in gives ``expr`` back exactly."""
    if not isinstance(expr, Expr) or expr.is_Atom:
        return None
    found = expr.match(pattern)
    if not found or any(found.get(w) is None for w in pattern.atoms(Wild)):
        return None
    return found if pattern.xreplace(found) == expr else None


def _sigmoid_power(expr: Expr) -> Expr | None:
    """``(1 + e^u)^(-k)`` as ``sigma(-u)^k`` for a whole ``k >= 1``: ``1/(1 + e^u) = sigma(-u)``."""
    if not expr.is_Pow:
        return None
    found = _exact_match(expr, _ONE_PLUS_EXP_POWER)
    if found is None or not (found[_K].is_Integer and found[_K] < 0):
        return None
    return sigmoid(-found[_U]) ** -found[_K]


def _exp_times_sigmoid(product: Mul) -> Expr | None:
    """``e^u sigma(-u)`` (what ``e^u/(e^u + 1)`` became) as ``sigma(u)``: e^u/(1 + e^u) = 1/(e^(-u) + 1)."""
    factors = list(product.args)
    for i, factor in enumerate(factors):
        if not isinstance(factor, exp):
            continue
        partner = sigmoid(-factor.args[0])
        if partner in factors:
            factors[i] = sigmoid(factor.args[0])
            factors.remove(partner)
            return Mul(*factors)
    return None


def _tanh_of(product: Mul) -> Expr | None:
    """``(e^u - e^(-u)) / (e^u + e^(-u))`` inside a product, as ``tanh(u)`` (or ``tanh(-u)``,
    whichever the numerator's sign says)."""
    factors = list(product.args)
    for denominator in factors:
        if not (denominator.is_Pow and denominator.exp == -1):
            continue
        found = _exact_match(denominator.base, _EXP_PAIR)
        if found is None or found[_V] != -found[_U]:
            continue
        u = found[_U]
        for sign_of_u, numerator in ((u, exp(u) - exp(-u)), (-u, exp(-u) - exp(u))):
            if numerator in factors:
                factors.remove(numerator)
                factors.remove(denominator)
                return Mul(sympy.tanh(sign_of_u), *factors)
    return None

