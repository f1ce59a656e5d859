"""Products built directly are SymPy's own: ``times(a, b)`` is ``sympy.Mul(a, b)``, argument
for argument, on random expressions and on every form of random networks."""
from __future__ import annotations

import sympy
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from sympy import Symbol

from symprop.engine.backprop import derive
from symprop.engine.canonical import times, total
from symprop.model import functions
from tests.engine.test_backprop import architectures

x, y, z, w = (Symbol(n, real=True) for n in "xyzw")
plain = Symbol("p")  # no assumptions: SymPy orders it by name alone
LEAVES = (x, y, z, w, plain, sympy.Integer(2), sympy.Rational(-1, 3), sympy.Float(0.25), sympy.S.NegativeOne,
          sympy.S.Zero, sympy.S.One, sympy.I, sympy.pi, sympy.sqrt(2), sympy.E)


def identical(a, b) -> bool:
    """The same tree: the same classes with the same arguments in the same order."""
    return sympy.srepr(a) == sympy.srepr(b) and a == b


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(LEAVES))
    kind = draw(st.sampled_from(("mul", "add", "pow", "exp", "sigmoid")))
    if kind in ("mul", "add"):
        args = draw(st.lists(expressions(depth - 1), min_size=2, max_size=4))
        try:
            return sympy.Mul(*args) if kind == "mul" else sympy.Add(*args)
        except (ValueError, TypeError, AttributeError, KeyError):  # SymPy's own construction fails on a few
            reject()
    if kind == "pow":
        return sympy.Pow(draw(expressions(depth - 1)), draw(st.sampled_from((2, -1, sympy.Rational(1, 2), y))))
    inner = draw(expressions(depth - 1))
    return sympy.exp(inner) if kind == "exp" else functions.ACTIVATIONS["sigmoid"](inner)


@settings(max_examples=250, deadline=None)
@given(a=expressions(), b=st.sampled_from((x, y, z, w, plain)), first=st.booleans())
def test_a_product_with_a_plain_symbol_is_sympys_own(a, b, first):
    pair = (b, a) if first else (a, b)
    assert identical(times(*pair), sympy.Mul(*pair))


@settings(max_examples=200, deadline=None)
@given(a=expressions(), b=expressions())
def test_any_other_product_is_sympys_own(a, b):
    assert identical(times(a, b), sympy.Mul(a, b))


def test_a_symbol_times_itself_or_its_power_is_left_to_sympy():
    assert times(x, x) == x**2
    assert times(2 * x**2 * y, x) == 2 * x**3 * y
    assert times(sympy.exp(x) * y, x) == x * y * sympy.exp(x)
    assert times(sympy.Integer(3), x) == 3 * x and times(sympy.S.Zero, x) == 0


def test_a_product_built_unevaluated_is_flattened_as_sympy_flattens_it():
    for unevaluated in (sympy.Mul(x, x, evaluate=False), sympy.Mul(y, 2, x, evaluate=False),
                        sympy.Mul(z**2, z, evaluate=False), sympy.factor_terms(2 * x - 2 * y)):
        for symbol in (x, w):
            assert identical(times(unevaluated, symbol), sympy.Mul(unevaluated, symbol))
            assert identical(times(symbol, unevaluated), sympy.Mul(symbol, unevaluated))


def test_a_sum_of_one_term_is_the_term_and_of_none_is_zero():
    assert total([x * y]) is not None and identical(total([x * y]), x * y)
    assert total([]) == 0
    assert identical(total([x, y * z, x]), sympy.Add(x, y * z, x))


@settings(max_examples=25, deadline=None)
@given(network=architectures())
def test_every_form_of_a_random_network_is_the_general_construction(network):
    derivation = derive(network, max_paths=0)
    forms = derivation.adjoints[derivation.output].closed_forms
    for node, adjoint in derivation.adjoints.items():
        if node != derivation.output:
            general = sympy.Add(*[sympy.Mul(forms[t.consumer], t.local) for t in adjoint.terms])
            assert identical(adjoint.closed_form, general)
    for gradient in derivation:
        assert identical(gradient.delta_form, sympy.Add(*[sympy.Mul(t.adjoint, t.local) for t in gradient.terms]))
        assert identical(gradient.closed_form, sympy.Add(*[sympy.Mul(t.adjoint_closed, t.local) for t in gradient.terms]))


def test_the_order_of_two_symbols_or_classes_is_basic_compare():
    from symprop.engine.canonical import _compare

    named = [Symbol("a"), Symbol("a", real=True), Symbol("a", positive=True), Symbol("b"), Symbol("a_1", real=True),
             Symbol("a1", real=True), Symbol("A", real=True), sympy.Dummy("a"), x + y, x * y, x**2, sympy.Integer(3),
             sympy.exp(x), functions.ACTIVATIONS["sigmoid"](x)]
    for left in named:
        for right in named:
            assert _compare(left, right) == left.compare(right), (left, right)
