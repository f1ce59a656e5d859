"""Node expressions: plain arithmetic over declared names is read exactly; anything else is refused in one line."""
from __future__ import annotations

import pytest
import sympy
from sympy import Symbol

from symprop.files.expressions import ExpressionError, parse_expression


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("__import__('os')", "'__import__': names starting with _ are not allowed"),
        ("__import__('os').system('touch /tmp/symprop-pwned')", "'__import__': names starting with _ are not allowed"),
        ("x.__class__", "'__class__': names starting with _ are not allowed"),
        ("x.real", "attribute access (.) is not allowed"),
        ("_n_x", "'_n_x': names starting with _ are not allowed"),
        ("().real[0]", "indexing ([]) is not allowed"),
        ("().real", "attribute access (.) is not allowed"),
        ("open('/etc/passwd')", "calling open is not allowed"),
        ("eval('1')", "calling eval is not allowed"),
        ("x[0]", "indexing ([]) is not allowed"),
        ("(lambda: 1)()", "lambda is not allowed"),
        ("[a for a in x]", "comprehensions is not allowed"),
        ("x if y else z", "if/else is not allowed"),
        ("x < y", "comparisons is not allowed"),
        ("x ^ 2", "^ (write ** for a power) is not allowed"),
        ("x // 2", "// is not allowed"),
        ("'text'", "'text' is not allowed: only numbers and names"),
        ("True", "true is not allowed: only numbers and names"),
        ("1j*x", "1j is not allowed: only numbers and names"),
        ("sigmoid(x, alpha=2)", "sigmoid(...) takes no keyword arguments"),
        ("sigmoid(x, y)", "sigmoid takes 1 argument, got 2"),
        ("Max()", "Max takes 1 to 8 arguments, got 0"),
        ("sigmoid", "sigmoid is a function: call it, as in sigmoid(x)"),
        ("__builtins__", "'__builtins__': names starting with _ are not allowed"),
        ("exec('1')", "calling exec is not allowed: the functions are sigmoid, tanh, relu, leaky_relu, softplus, "
                      "silu, exp, log, sqrt, Abs, Max, Min"),
        ("x; y", "is not a valid expression"),
        ("x\ny", "is not a valid expression"),
        ("Integer(2)", "calling Integer is not allowed"),
        ("Symbol('x')", "calling Symbol is not allowed"),
        ("ｘ + 1", "expected ASCII characters only"),
        ("1e400*x", "a calculation on numbers alone gives inf, not a finite real number"),
        ("10**10**10*x", "a calculation on numbers alone overflows"),
        ("(1000001/1000000)**(10**7)*x", "its numbers would grow past 20000 digits"),
        ("(2*x)**10**12", "its numbers would grow past 20000 digits"),
        ("1/0 + x", "it divides a number by zero"),
        ("(-8)**(1/3)*x", "a calculation on numbers alone gives"),
        ("x/(y - y)", "it is infinite or undefined (zoo*x)"),
        ("log(0)*x", "it is infinite or undefined"),
        ("sqrt(-4)*x", "it holds the complex number I: every value must be real"),
        ("x" + " + x" * 700, "characters: an expression is at most 2000"),
        ("(" * 250 + "x" + ")" * 250, "is not a valid expression (too many nested parentheses)"),
        ("sigmoid(" * 31 + "x" + ")" * 31, "nested 32 levels deep: at most 30; split it into several nodes"),
        ("x" + "**x" * 40, "nested 41 levels deep: at most 30"),
    ],
)
def test_node_expressions_refuse_anything_but_arithmetic(expression, expected):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression, {n: Symbol(n, real=True) for n in "xyz"})
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_keywords_and_parser_names_may_be_declared():
    names = {n: Symbol(n, real=True) for n in ("lambda", "Integer", "Float", "if", "True")}
    expr = parse_expression("lambda*Integer + Float**2 - 2*if + True", names)
    assert expr == names["lambda"] * names["Integer"] + names["Float"] ** 2 - 2 * names["if"] + names["True"]


def test_numbers_stay_exact_and_small_powers_work():
    x = Symbol("x", real=True)
    assert parse_expression("1/2*x**(1/2) + 2**10", {"x": x}) == sympy.sqrt(x) / 2 + 1024
    assert parse_expression("x**-2 + 1e-3", {"x": x}) == x**-2 + sympy.Float("0.001")
