"""Straight-line code: Python names for any symbol, the printed and compiled programs, and
the rewriting that keeps saturated units finite."""
import builtins
import keyword
import math

import mpmath
import pytest
import sympy
from sympy import Heaviside, Rational, Symbol
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from symprop.model import functions, nn
from symprop.model.functions import sigmoid
from symprop.model.graph import Graph
from symprop.numbers.straight_line import (
    StraightLineMixin, log_sigmoid_function, log_softmax_function, python_identifiers, stable_form,
    straight_line_function, straight_line_source,
)

log_sigmoid = sympy.Function("log_sigmoid")
log_softmax = sympy.Function("log_softmax")


class _Printer(StraightLineMixin, PythonCodePrinter):
    pass


def Printer():
    """Python over ``math``; unknown functions (sigmoid, log_sigmoid) print as calls."""
    return _Printer({"allow_unknown_functions": True})


def stable_log_sigmoid(z):
    """log sigma(z) = -log(1 + e^{-z}), written so that neither exponential overflows."""
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


def stable_log_softmax(k, *z):
    top = max(z)
    return z[int(k) - 1] - top - math.log(sum(math.exp(zj - top) for zj in z))


HELPERS = {"math": math, "log_sigmoid": stable_log_sigmoid, "log_softmax": stable_log_softmax,
           "sigmoid": lambda z: 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))}


# --- Python identifiers ---

@pytest.mark.parametrize("name, identifier", [
    ("E_total[1]", "E_total_1"),     # brackets
    ("a.b", "a_b"),                  # a dot
    ("w^{(2)}", "w_2"),              # LaTeX-ish punctuation
    ("lambda", "v_lambda"),          # a keyword
    ("None", "v_None"),
    ("1x", "v_1x"),                  # a leading digit
    ("_0", "v_0"),                   # only a digit once the underscores go
    ("+++", "v"),                    # nothing left at all
    ("sum", "sum_2"),                # a builtin stays usable
    ("print", "print_2"),
    ("x", "x"),
])
def test_python_identifiers_for_awkward_names(name, identifier):
    (result,) = python_identifiers([Symbol(name)]).values()
    assert result == identifier
    assert result.isidentifier() and not keyword.iskeyword(result) and not hasattr(builtins, result)


def test_python_identifiers_are_distinct_and_avoid_reserved_names():
    symbols = [Symbol("a.b"), Symbol("a_b"), Symbol("a[b]"), sympy.Dummy("a_b"), Symbol("f")]
    names = python_identifiers([*symbols, symbols[0]], reserved=["f", "np"])
    assert list(names) == symbols                          # each symbol once, in order
    assert list(names.values()) == ["a_b", "a_b_2", "a_b_3", "a_b_4", "f_2"]


def test_python_identifiers_of_nothing():
    assert python_identifiers([]) == {}


# --- printed source ---

def test_straight_line_source_prints_assignments_then_the_results():
    x, w, z, E = sympy.symbols("x w z E")
    identifiers = {x: "x", w: "w", z: "z_", E: "E"}
    source = straight_line_source("loss", [x, w], [(z, w * x), (E, z ** 2 / 2)], [E, 2 * z], Printer(), identifiers,
                                  docstring="E = (w x)^2 / 2")
    assert source == (
        "def loss(x, w):\n"
        '    """E = (w x)^2 / 2"""\n'
        "    z_ = w*x\n"
        "    E = (1/2)*z_**2\n"
        "    return (E, 2*z_,)\n"
    )
    scope = {}
    exec(source, scope)
    assert scope["loss"](3.0, 2.0) == (18.0, 12.0)


def test_straight_line_source_with_no_results_or_a_given_return():
    x = Symbol("x")
    assert straight_line_source("f", [x], [], [], Printer(), {x: "x"}) == "def f(x):\n    return ()\n"
    assert straight_line_source("f", [x], [], [x], Printer(), {x: "x"}, returns="x + 1") == (
        "def f(x):\n    return x + 1\n")


# --- compiled functions ---

def test_straight_line_function_matches_sympy_and_no_name_clashes_with_the_namespace():
    # symbols named like the namespace's helpers and modules, and a Python keyword
    x, m, s, k = Symbol("x"), Symbol("math"), Symbol("sigmoid"), Symbol("lambda")
    assignments = [(m, sigmoid(x) * 3), (s, sympy.exp(m) - x ** 2), (k, sympy.log(s + 10) / m)]
    function = straight_line_function([x], assignments, [k, m * s], Printer(), HELPERS)
    values = {}
    point = {x: Rational(7, 10)}
    for target, expr in assignments:
        values[target] = functions.elementary(expr).xreplace({**point, **values})
    expected = (values[k], values[m] * values[s])
    result = function(0.7)
    assert len(result) == 2
    for value, reference in zip(result, expected):
        assert value == pytest.approx(float(reference.evalf(30)), rel=1e-14)


def test_straight_line_function_in_mpmath_keeps_the_working_precision():
    x, y = sympy.symbols("x y")
    function = straight_line_function([x], [(y, sympy.sqrt(x) + Rational(1, 3))], [y], MpmathPrinter(),
                                      {"mpmath": mpmath})
    with mpmath.workdps(50):
        (value,) = function(mpmath.mpf(2))
        assert isinstance(value, mpmath.mpf)
        assert abs(value - (mpmath.sqrt(2) + mpmath.mpf(1) / 3)) < mpmath.mpf("1e-48")


def test_straight_line_function_returns_results_that_are_not_assigned():
    x, w = sympy.symbols("x w")
    function = straight_line_function([x, w], [], [x * w, sympy.Integer(5), x], Printer(), {"math": math})
    assert function(2.0, 3.0) == (6.0, 5, 2.0)


def test_heaviside_prints_as_the_helper_with_its_value_at_zero():
    z = Symbol("z")
    assert Printer().doprint(Heaviside(z)) == "heaviside(z, 1/2)"
    assert Printer().doprint(Heaviside(z, 0)) == "heaviside(z, 0)"

    class NumpyLike(StraightLineMixin, PythonCodePrinter):
        heaviside_name = "numpy.heaviside"

    assert NumpyLike().doprint(Heaviside(z - 1, 1)) == "numpy.heaviside(z - 1, 1)"
    step = straight_line_function([z], [], [Heaviside(z, 0), Heaviside(z)], Printer(),
                                  {"heaviside": lambda v, h0: 1.0 if v > 0 else (0.0 if v < 0 else h0)})
    assert step(2.0) == (1.0, 1.0) and step(-2.0) == (0.0, 0.0) and step(0.0) == (0, 0.5)


# --- stable form ---

@pytest.fixture(scope="module")
def one_sigmoid():
    network = nn.mlp(["x"], [nn.Dense(1, "sigmoid")], "cross_entropy", targets=["y"])
    (z,), (a,), (y,) = network.layers[0].nets, network.layers[0].outs, network.targets
    return network.graph, z, a, y


def test_stable_form_writes_logs_of_sigmoids_through_the_logits(one_sigmoid):
    graph, z, a, y = one_sigmoid
    assert stable_form(graph.definition[graph.output], graph) == -y * log_sigmoid(z) - (1 - y) * log_sigmoid(-z)
    assert stable_form(a * (1 - a), graph) == a * sigmoid(-z)
    assert stable_form(a * (1 - a), graph, complements=False) == a * (1 - a)


def test_stable_form_also_rewrites_sigmoids_written_out(one_sigmoid):
    graph, z, a, y = one_sigmoid
    u = Symbol("u")
    assert stable_form(sympy.log(sigmoid(u)), graph) == log_sigmoid(u)
    assert stable_form(sympy.log(1 - sigmoid(u)), graph) == log_sigmoid(-u)
    assert stable_form(y * (1 - sigmoid(u)), graph) == y * sigmoid(-u)
    assert log_sigmoid_function is log_sigmoid and log_softmax_function is log_softmax


def test_stable_form_leaves_everything_else_as_written(one_sigmoid):
    graph, z, a, y = one_sigmoid
    for expr in (sympy.log(y), sympy.log(2 * a), 1 + a, a - 1, 2 - a, sympy.log(z + 1), z * (1 - y)):
        assert stable_form(expr, graph) == expr, expr


def test_stable_form_without_sigmoids_or_softmaxes_is_the_expression_itself():
    x, w, z = sympy.symbols("x w z")
    graph = Graph.from_pairs([(z, sympy.tanh(w * x))], inputs=[x], parameters=[w])
    expr = sympy.log(1 - z) + sympy.log(z)
    assert stable_form(expr, graph) is expr


def test_stable_form_writes_logs_of_softmaxes_through_the_logits():
    network = nn.mlp(["x"], [nn.Dense(3, "softmax")], "cross_entropy")
    graph, (z1, z2, z3), outs = network.graph, network.layers[0].nets, network.layers[0].outs
    loss = stable_form(graph.definition[graph.output], graph)
    assert loss == -sum((t * log_softmax(k, z1, z2, z3) for k, t in enumerate(network.targets, start=1)),
                        sympy.S.Zero)
    assert stable_form(1 - outs[0], graph) == 1 - outs[0]   # only sigmoids have complements


def test_stable_form_keeps_the_value_and_stays_finite_where_the_written_form_does_not(one_sigmoid):
    graph, z, a, y = one_sigmoid
    loss = graph.definition[graph.output]              # -y log a - (1 - y) log(1 - a)
    stable = stable_form(loss, graph)
    written = straight_line_function([z, y], [(a, sigmoid(z))], [loss], Printer(), HELPERS)
    rewritten = straight_line_function([z, y], [(a, sigmoid(z))], [stable], Printer(), HELPERS)
    for zv, yv in [(0.3, 0.25), (-2.0, 0.75), (5.0, 1.0)]:
        with mpmath.workdps(40):
            av = 1 / (1 + mpmath.exp(-zv))
            expected = float(-yv * mpmath.log(av) - (1 - yv) * mpmath.log(1 - av))
        assert rewritten(zv, yv)[0] == pytest.approx(expected, rel=1e-13)
        assert written(zv, yv)[0] == pytest.approx(expected, rel=1e-9)
    # at z = 40, float64 rounds sigma(z) to 1: log(1 - a) is log 0, but log sigma(-40) is -40
    with pytest.raises(ValueError):
        written(40.0, 0.0)
    assert rewritten(40.0, 0.0)[0] == pytest.approx(40.0 + math.log1p(math.exp(-40.0)), rel=1e-15)
    assert rewritten(1000.0, 0.0) == (1000.0,)


@pytest.mark.parametrize("chain, count", [(256, 3), (256, 257), (256, 5000), (4, 100)])
def test_sums_of_any_length_compile_and_keep_their_value(chain, count, monkeypatch):
    from symprop.numbers import straight_line
    monkeypatch.setattr(straight_line, "SUM_CHAIN", chain)   # 4: chains of chains of chains
    x = sympy.symbols(f"x:{count}")
    total = sympy.Add(*[(i % 7 - 3) * s for i, s in enumerate(x)])
    function = straight_line_function(x, [], [total], _Printer({"allow_unknown_functions": True}), HELPERS)
    values = [float(i % 11) for i in range(count)]
    assert function(*values)[0] == pytest.approx(math.fsum((i % 7 - 3) * v for i, v in enumerate(values)))
