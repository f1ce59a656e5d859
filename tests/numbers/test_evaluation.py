"""The arithmetics of a worked example: many digits agree with exact; an unknown precision
is refused; float64 falls back to mpmath where a saturated unit would overflow.

References are independent of the programs: ``sympy.diff`` of the expanded, elementary
loss (``tests/reference.py``) evaluated with many digits, hand-worked rationals, or
closed forms worked out with mpmath.
"""
import gc
import math
import random
import warnings
import weakref
from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
import sympy
from sympy import Rational, Symbol

from symprop.model import functions, nn
from symprop.model.graph import Graph
from symprop.engine.backprop import derive
from symprop.numbers import evaluation
from symprop.numbers.digits import numeric_value
from symprop.numbers.evaluation import (
    EXACT, FLOAT, NumericError, arithmetic_of, check_options, first_example, given_values,
    loss_and_gradients, program_of, to_float,
)
from symprop.numbers.worked_example import worked_example
from tests.numbers.test_worked_example import MAZUR_VALUES, mazur_network
from tests.reference import reference_gradients, reference_loss


@pytest.fixture(scope="module")
def mazur():
    """Mazur's derivation (conftest's ``mazur`` is the network)."""
    return derive(mazur_network())


def evaluate(derivation, arithmetic, values, examples=None, reduction="mean", gradients=True):
    """``(E, gradients)`` as the worked example computes them, exported."""
    rows, parameters = given_values(derivation.graph, values, examples)
    with arithmetic.context():
        rows = [tuple(arithmetic.number(x) for x in row) for row in rows]
        parameters = tuple(arithmetic.number(x) for x in parameters)
        program = program_of(derivation, arithmetic)
        loss, grads = loss_and_gradients(program, arithmetic, rows, parameters, reduction, gradients=gradients)
        export = arithmetic.export
        return export(loss), None if grads is None else tuple(export(g) for g in grads)


def by_symbol(graph, values):
    known = {s.name: s for s in (*graph.inputs, *graph.parameters)}
    return {known[k] if isinstance(k, str) else k: v for k, v in values.items()}


def reference_at(graph, values, digits=30, rational=False):
    """The reference loss and gradients at ``values`` with ``digits`` digits: ``sympy.diff``
    of the expanded, elementary loss (values as rationals when ``rational``)."""
    point = {s: (Rational(str(v)) if rational else sympy.Float(v, digits)) for s, v in by_symbol(graph, values).items()}
    loss = reference_loss(graph).xreplace(point).evalf(digits)
    grads = reference_gradients(graph)
    return loss, tuple(grads[p].xreplace(point).evalf(digits) for p in graph.parameters)


def assert_relatively_close(value, reference, tolerance, what=""):
    with mpmath.workdps(60):
        value, reference = mpmath.mpf(str(value)), mpmath.mpf(str(reference))
        assert abs(value - reference) <= mpmath.mpf(tolerance) * max(1, abs(reference)), f"{what}: {value} != {reference}"


# --- given values ---

def test_given_values_orders_inputs_and_parameters_as_the_graph_does(mazur):
    graph = mazur.graph
    values = {Symbol("w1"): 0.15, **{k: v for k, v in MAZUR_VALUES.items() if k != "w1"}}  # a Symbol key too
    rows, parameters = given_values(graph, dict(reversed(list(values.items()))))
    assert rows == [tuple(MAZUR_VALUES[s.name] for s in graph.inputs)]
    assert parameters == tuple(MAZUR_VALUES[p.name] for p in graph.parameters)
    assert [s.name for s in graph.inputs] == ["i1", "i2", "t1", "t2"]


def test_examples_give_one_row_each_and_values_give_the_parameters(mazur):
    graph = mazur.graph
    parameters_only = {k: v for k, v in MAZUR_VALUES.items() if not k.startswith(("i", "t"))}
    examples = [dict(i1=1, i2=2, t1=3, t2=4), dict(i1=5, i2=6, t1=7, t2=8)]
    rows, parameters = given_values(graph, parameters_only, examples)
    assert rows == [(1, 2, 3, 4), (5, 6, 7, 8)]
    assert parameters == tuple(MAZUR_VALUES[p.name] for p in graph.parameters)


def without(mapping, *names):
    return {k: v for k, v in mapping.items() if k not in names}


@pytest.mark.parametrize("values, examples, message", [
    ({**MAZUR_VALUES, "w9": 1.0}, None,
     "values: w9 is not an input, target or parameter of the graph "
     "(expected some of i1, i2, t1, t2, w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"),
    (without(MAZUR_VALUES, "w2", "b2"), None, "no value given for parameter w2, b2"),
    (without(MAZUR_VALUES, "t1"), None, "values has no value for input t1"),
    (MAZUR_VALUES, [], "examples is empty: give at least one example, or None"),
    (MAZUR_VALUES, [dict(i1=0, i2=0, t1=0, t2=0), dict(i1=0, i2=0, t1=0, t2=0, w1=0.5)],
     "example 2 gives parameter w1: parameters belong in values"),
    (MAZUR_VALUES, [dict(i1=0, t1=0, t2=0)], "example 1 has no value for input i2"),
    (MAZUR_VALUES, [dict(i1=0, i2=0, t1=0, t2=0), dict(x=1)],
     "example 2: x is not an input, target or parameter of the graph "
     "(expected some of i1, i2, t1, t2, w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"),
])
def test_given_values_mistakes_are_said_in_one_line(mazur, values, examples, message):
    with pytest.raises(ValueError) as error:
        given_values(mazur.graph, values, examples)
    assert str(error.value) == message


# --- options ---

@pytest.mark.parametrize("reduction, steps", [("mean", 0), ("sum", 3)])
def test_check_options_accepts_the_reductions_and_whole_steps(reduction, steps):
    assert check_options(reduction, steps) is None


@pytest.mark.parametrize("reduction, steps, message", [
    ("max", 0, "unknown reduction 'max': expected mean or sum"),
    (None, 0, "unknown reduction None: expected mean or sum"),
    ("mean", -1, "steps must be a whole number >= 0, got -1"),
    ("mean", 1.0, "steps must be a whole number >= 0, got 1.0"),
    ("mean", True, "steps must be a whole number >= 0, got True"),
])
def test_check_options_refuses_in_one_line(reduction, steps, message):
    with pytest.raises(ValueError) as error:
        check_options(reduction, steps)
    assert str(error.value) == message


def test_arithmetic_of_each_precision():
    assert arithmetic_of("float") is FLOAT
    assert arithmetic_of("exact") is EXACT
    precise = arithmetic_of(7)
    assert precise.digits == 7 and precise.key == "mpmath"
    with precise.context():
        assert mpmath.mp.dps == 7 + evaluation.GUARD_DIGITS


@pytest.mark.parametrize("precision", [0, -3, True, 2.5, "double", None])
def test_arithmetic_of_refuses_other_precisions(precision):
    with pytest.raises(ValueError) as error:
        arithmetic_of(precision)
    assert str(error.value) == (
        f"precision must be 'float', 'exact' or a number of significant digits, got {precision!r}")


# --- numbers as each arithmetic reads them ---

def test_to_float_reads_numbers_and_numeric_expressions():
    assert to_float(Fraction(1, 4)) == 0.25
    assert to_float("0.1") == 0.1
    assert to_float(sympy.Rational(1, 3)) == 1 / 3
    assert to_float(sympy.sqrt(2)) == math.sqrt(2)
    assert to_float(functions.sigmoid(sympy.Integer(0))) == 0.5
    assert to_float(sympy.exp(1)) == math.e


@pytest.mark.parametrize("value, message", [
    (True, "True is not a number"),
    ("abc", "'abc' is not a real number"),
    (None, "None is not a real number"),
    (Symbol("q"), "q is not a real number"),
])
def test_to_float_refuses_what_is_not_a_real_number(value, message):
    with pytest.raises(ValueError) as error:
        to_float(value)
    assert str(error.value) == message


def test_to_float_refuses_a_complex_number():
    with pytest.raises(ValueError, match="is not a real number"):
        to_float(sympy.I)


def test_exact_numbers_are_the_decimals_as_written():
    assert EXACT.number(0.05) == Rational(1, 20)            # not the binary 0.05000000000000000277...
    assert EXACT.number(0.1) == Rational(1, 10)
    assert EXACT.number("0.35") == Rational(7, 20)
    assert EXACT.number(Decimal("1.25")) == Rational(5, 4)
    assert EXACT.number(sympy.Float("0.375")) == Rational(3, 8)
    assert EXACT.number(Fraction(2, 3)) == Rational(2, 3)
    assert EXACT.number(mpmath.mpf(0.75)) == Rational(3, 4)
    assert EXACT.number(mpmath.mpf(2) ** -70) == Rational(1, 2 ** 70)
    assert EXACT.number(7) == 7 and isinstance(EXACT.number(7), sympy.Integer)


@pytest.mark.parametrize("value, message", [
    (True, "True is not a number"), (math.inf, "inf has no exact value"), (math.nan, "nan has no exact value"),
])
def test_exact_numbers_refuse_booleans_and_non_finite_floats(value, message):
    with pytest.raises(ValueError) as error:
        EXACT.number(value)
    assert str(error.value) == message


def test_precise_numbers_are_read_to_the_working_precision():
    precise = arithmetic_of(40)
    with precise.context():
        third = mpmath.mpf(1) / 3
        assert precise.number(Fraction(1, 3)) == third
        assert precise.number(sympy.Rational(1, 3)) == third
        assert precise.number(0.1) == mpmath.mpf("0.1")       # the decimal, not the binary float
        assert precise.number(0.1) != mpmath.mpf(0.1)
        assert precise.number(Decimal("0.7")) == mpmath.mpf("0.7")
        assert precise.number(5) == 5
        exported = precise.export(mpmath.mpf(2) / 3)
    assert isinstance(exported, sympy.Float)
    assert str(exported) == "0." + "6" * 39 + "7"


# --- float64 against the reference ---

def test_float_forward_adjoints_gradients_and_local_derivatives_match_the_reference(mazur):
    graph = mazur.graph
    rows, parameters = given_values(graph, MAZUR_VALUES)
    program = program_of(mazur, FLOAT)
    first = first_example(program, rows[0], parameters)
    point = {s: sympy.Float(v, 30) for s, v in by_symbol(graph, MAZUR_VALUES).items()}
    nodes = {}
    for eq in graph.equations:
        nodes[eq.node] = eq.expr.xreplace(nodes)
    for node, value in zip(graph.nodes, first.nodes):
        assert_relatively_close(value, functions.elementary(nodes[node]).xreplace(point).evalf(30), "1e-14", node)
    at_nodes = {**point, **{n: sympy.Float(value, 30) for n, value in zip(graph.nodes, first.nodes)}}
    for (v, u), value in zip(mazur.local, first.local):
        expected = sympy.diff(graph.definition[v], u)   # the local derivative at the float64 node values
        assert_relatively_close(value, functions.elementary(expected).xreplace(at_nodes).evalf(30), "1e-14", (v, u))
    references = reference_gradients(graph)
    for p, value in zip(graph.parameters, first.gradients):
        assert_relatively_close(value, references[p].xreplace(point).evalf(30), "1e-13", p)
    assert first.adjoints[0] == 1   # the output's own adjoint, dE/dE
    assert list(mazur.adjoints)[0] == graph.output


NETWORKS = [
    ("sigmoid", "sigmoid", "half_sse"),
    ("tanh", "identity", "mse"),
    ("relu", "sigmoid", "cross_entropy"),
    ("leaky_relu", "softmax", "cross_entropy"),
    ("softplus", "softmax", "softmax_cross_entropy"),
]


def network_values(network, seed):
    rng = random.Random(seed)
    values = {s.name: rng.uniform(-1.5, 1.5) for s in (*network.inputs, *network.parameters)}
    # the softmax cross-entropy's dL/dz = a - y holds when the targets sum to 1: exactly,
    # in binary and in decimal, with eighths
    first = rng.choice([0.125, 0.25, 0.375, 0.625, 0.875])
    targets = [first, 1 - first] if len(network.targets) == 2 else [first]
    values.update({t.name: v for t, v in zip(network.targets, targets)})
    return values


@pytest.mark.parametrize("hidden, last, loss", NETWORKS)
def test_float_and_digits_match_the_reference_for_each_activation(hidden, last, loss):
    network = nn.mlp(["x1", "x2"], [nn.Dense(2, hidden), nn.Dense(2, last)], loss)
    derivation = derive(network)
    values = network_values(network, seed=len(hidden))
    reference_loss_value, reference = reference_at(network.graph, values)
    loss_value, gradients = evaluate(derivation, FLOAT, values)
    assert isinstance(loss_value, float)
    assert_relatively_close(loss_value, reference_loss_value, "1e-13", "loss")
    for p, value, expected in zip(network.parameters, gradients, reference):
        assert_relatively_close(value, expected, "1e-12", p)
    # many digits read 0.1 as the decimal 1/10, as the rational reference does
    reference_loss_value, reference = reference_at(network.graph, values, rational=True)
    loss_value, gradients = evaluate(derivation, arithmetic_of(25), values)
    assert_relatively_close(loss_value, reference_loss_value, "1e-24", "loss")
    for p, value, expected in zip(network.parameters, gradients, reference):
        assert_relatively_close(value, expected, "1e-23", p)


def test_float_relu_gradient_is_the_step_on_either_side():
    x, w, z, E = sympy.symbols("x w z E")
    derivation = derive(Graph.from_pairs([(z, w * x), (E, functions.relu(z))], inputs=[x], parameters=[w]))
    assert evaluate(derivation, FLOAT, dict(x=2.0, w=1.5)) == (3.0, (2.0,))
    assert evaluate(derivation, FLOAT, dict(x=2.0, w=-1.5)) == (0.0, (0.0,))
    assert evaluate(derivation, FLOAT, dict(x=2.0, w=0.0))[1] == (0.0,)   # relu'(0) = H(0, 0) = 0


# --- float64 falls back to mpmath ---

def test_float_falls_back_to_mpmath_where_an_intermediate_overflows():
    """E = log(e^{wx}) = wx: float64 overflows at e^{1000}, the loss is 1000 and dE/dw = x."""
    x, w, n, E = sympy.symbols("x w n E")
    derivation = derive(Graph.from_pairs([(n, sympy.exp(w * x)), (E, sympy.log(n))], inputs=[x], parameters=[w]))
    with pytest.raises(OverflowError):
        math.exp(1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, (gradient,) = evaluate(derivation, FLOAT, dict(x=2.0, w=500.0))
    assert loss == 1000.0 and gradient == 2.0
    assert evaluate(derivation, FLOAT, dict(x=2.0, w=0.25)) == (0.5, (2.0,))   # no overflow: the fast path


def test_float_falls_back_to_mpmath_where_a_saturated_unit_underflows():
    """E = log(1 / sigma(wx)) = softplus(-wx): sigma(-1000) is 0 in float64, so 1/sigma divides by 0."""
    x, w, a, r, E = sympy.symbols("x w a r E")
    derivation = derive(Graph.from_pairs(
        [(a, functions.sigmoid(w * x)), (r, 1 / a), (E, sympy.log(r))], inputs=[x], parameters=[w]))
    assert math.exp(-1000.0) == 0.0   # float64's sigma(-1000) = e^{-1000} / (1 + e^{-1000}) is 0
    with mpmath.workdps(60):
        z = mpmath.mpf(-1000)
        expected_loss = float(mpmath.log1p(mpmath.exp(-z)))          # softplus(-z)
        expected_gradient = float(-mpmath.mpf(1) / (1 + mpmath.exp(z)))  # -x sigma(-z), x = 1
    loss, (gradient,) = evaluate(derivation, FLOAT, dict(x=1.0, w=-1000.0))
    assert loss == expected_loss == 1000.0
    assert gradient == expected_gradient == -1.0
    rows, parameters = given_values(derivation.graph, dict(x=1.0, w=-1000.0))
    first = first_example(program_of(derivation, FLOAT), rows[0], parameters)
    assert all(isinstance(v, float) for v in (*first.nodes, *first.adjoints, *first.local))
    assert first.nodes[-1] == 1000.0 and first.gradients == (-1.0,)


def test_huge_pre_activations_give_the_reference_gradient():
    """A 2-2-1 sigmoid network with pre-activations near 800: float64 alone says 0/0."""
    network = nn.mlp(["x1", "x2"], [nn.Dense(2, "sigmoid"), nn.Dense(1, "sigmoid")], "cross_entropy")
    derivation = derive(network)
    values = network_values(network, seed=1)
    values.update({p.name: 400.0 * values[p.name] for p in network.layers[1].weight_parameters})
    values.update({p.name: -800.0 for p in network.layers[1].bias_parameters})
    reference_loss_value, reference = reference_at(network.graph, values, digits=60)
    loss, gradients = evaluate(derivation, FLOAT, values)
    assert all(map(math.isfinite, (loss, *gradients)))
    assert_relatively_close(loss, reference_loss_value, "1e-12", "loss")
    for p, value, expected in zip(network.parameters, gradients, reference):
        assert abs(value - float(expected)) <= 1e-12 * max(1.0, abs(float(expected))), p


def test_a_division_by_zero_is_a_numeric_error_in_one_line():
    x, w, E = sympy.symbols("x w E")
    derivation = derive(Graph.from_pairs([(E, 1 / (w * x))], inputs=[x], parameters=[w]))
    with pytest.raises(NumericError) as error:
        evaluate(derivation, FLOAT, dict(x=1.0, w=0.0))
    assert str(error.value) == (
        "the forward pass has no finite value at the given values (ZeroDivisionError): "
        "a log, root or division at 0?")
    assert isinstance(error.value, ValueError)


def test_a_value_off_the_real_line_is_a_numeric_error():
    x, w, E = sympy.symbols("x w E")
    derivation = derive(Graph.from_pairs([(E, sympy.sqrt(w * x))], inputs=[x], parameters=[w]))
    with pytest.raises(NumericError, match=r"^the forward pass leaves the real numbers at this point \(\("):
        evaluate(derivation, FLOAT, dict(x=1.0, w=-4.0))
    assert evaluate(derivation, FLOAT, dict(x=1.0, w=4.0)) == (2.0, (0.25,))   # d sqrt(w)/dw = 1/(2 sqrt w)


# --- exact arithmetic ---

def test_exact_arithmetic_gives_the_rationals_worked_by_hand():
    """E = (wx - t)^2 / 2 at x = 0.1, w = 0.3, t = 0.05: wx - t = -1/50, E = 1/5000, dE/dw = (wx - t) x."""
    x, t, w, z, E = sympy.symbols("x t w z E")
    derivation = derive(Graph.from_pairs([(z, w * x), (E, (z - t) ** 2 / 2)], inputs=[x, t], parameters=[w]))
    values = dict(x=0.1, t=0.05, w=0.3)
    error = Fraction("0.3") * Fraction("0.1") - Fraction("0.05")
    loss, (gradient,) = evaluate(derivation, EXACT, values)
    assert loss == Rational(error ** 2 / 2) == Rational(1, 5000) and isinstance(loss, sympy.Rational)
    assert gradient == Rational(error * Fraction("0.1")) == Rational(-1, 500)
    float_loss, (float_gradient,) = evaluate(derivation, FLOAT, values)
    assert float_loss != 1 / 5000 or float_gradient != -1 / 500   # binary floats round; exact does not


def test_exact_mazur_keeps_sigmoids_exact_and_equals_the_exact_reference(mazur):
    graph = mazur.graph
    rows, parameters = given_values(graph, MAZUR_VALUES)
    rows = [tuple(EXACT.number(x) for x in row) for row in rows]
    parameters = tuple(EXACT.number(x) for x in parameters)
    first = first_example(program_of(mazur, EXACT), rows[0], parameters)
    nodes = {node.name: value for node, value in zip(graph.nodes, first.nodes)}
    # net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 = 0.3775 = 151/400
    assert nodes["net_h1"] == Rational(151, 400)
    assert nodes["out_h1"] == functions.sigmoid(Rational(151, 400))
    loss, gradients = evaluate(mazur, EXACT, MAZUR_VALUES)
    point = {s: Rational(str(v)) for s, v in by_symbol(graph, MAZUR_VALUES).items()}
    references = reference_gradients(graph)
    quantities = [(loss, reference_loss(graph).xreplace(point))]
    quantities += [(g, references[p].xreplace(point)) for p, g in zip(graph.parameters, gradients)]
    for value, reference in quantities:
        assert not value.atoms(sympy.Float)
        assert value.free_symbols == set()
        assert abs(sympy.N(functions.elementary(value) - reference, 80)) < sympy.Float("1e-70")
    assert sympy.expand(functions.elementary(loss) - reference_loss(graph).xreplace(point)) == 0


def test_exact_relu_is_written_out_and_works_out_to_rationals():
    x, w, z, E = sympy.symbols("x w z E")
    derivation = derive(Graph.from_pairs(
        [(z, w * x), (E, functions.relu(z) + functions.leaky_relu(z, Rational(1, 4)))],
        inputs=[x], parameters=[w]))
    # z = -3/2 * 1/2 = -3/4: relu 0, leaky -3/16; d/dw = x (0 + 1/4) = 1/8
    assert evaluate(derivation, EXACT, dict(x=0.5, w=-1.5)) == (Rational(-3, 16), (Rational(1, 8),))
    # z = 3/4: relu 3/4, leaky 3/4; d/dw = x (1 + 1) = 1
    assert evaluate(derivation, EXACT, dict(x=0.5, w=1.5)) == (Rational(3, 2), (1,))


def test_exact_mean_and_sum_over_examples():
    x, t, w, z, E = sympy.symbols("x t w z E")
    derivation = derive(Graph.from_pairs([(z, w * x), (E, (z - t) ** 2)], inputs=[x, t], parameters=[w]))
    examples = [dict(x=1, t=0), dict(x=2, t=1), dict(x=Fraction(1, 2), t=Fraction(1, 3))]
    w_value = Rational(3)
    per_example = [((w_value * e["x"] - e["t"]) ** 2, 2 * (w_value * e["x"] - e["t"]) * e["x"]) for e in examples]
    total_loss = sum(Rational(l) for l, _ in per_example)
    total_gradient = sum(Rational(g) for _, g in per_example)
    assert evaluate(derivation, EXACT, dict(w=3), examples, "sum") == (total_loss, (total_gradient,))
    assert evaluate(derivation, EXACT, dict(w=3), examples, "mean") == (total_loss / 3, (total_gradient / 3,))


# --- many digits ---

def test_forty_digits_agree_with_a_sixty_digit_reference(mazur):
    reference_loss_value, reference = reference_at(mazur.graph, MAZUR_VALUES, digits=60, rational=True)
    loss, gradients = evaluate(mazur, arithmetic_of(40), MAZUR_VALUES)
    assert isinstance(loss, sympy.Float)
    assert_relatively_close(loss, reference_loss_value, "1e-39", "loss")
    for p, value, expected in zip(mazur.graph.parameters, gradients, reference):
        assert_relatively_close(value, expected, "1e-38", p)
    # and float64 does not: it is off from the 40-digit value at about 1e-17
    float_loss, _ = evaluate(mazur, FLOAT, MAZUR_VALUES)
    with mpmath.workdps(60):
        assert abs(mpmath.mpf(float_loss) - mpmath.mpf(str(reference_loss_value))) > mpmath.mpf("1e-30")


def test_thirty_digits_agree_with_exact_to_twenty_five(mazur):
    exact = worked_example(mazur, MAZUR_VALUES, precision="exact")
    precise = worked_example(mazur, MAZUR_VALUES, precision=30)
    assert isinstance(precise.loss, sympy.Float)
    quantities = [(precise.loss, exact.loss), (precise.loss_after, exact.loss_after)]
    quantities += [(precise.gradients[p], exact.gradients[p]) for p in mazur.graph.parameters]
    with mpmath.workdps(50):
        for value, reference in quantities:
            reference = numeric_value(reference, 40)
            assert abs(mpmath.mpf(value) - reference) <= mpmath.mpf("1e-25") * abs(reference)
    assert str(precise.loss) == "0.298371108760002688607381947666"


def test_unknown_precision_is_refused(mazur):
    with pytest.raises(ValueError, match="precision must be 'float', 'exact' or a number of significant digits, got 'double'"):
        worked_example(mazur, MAZUR_VALUES, precision="double")


# --- several examples ---

def test_mean_and_sum_combine_the_reference_over_examples(mazur):
    graph = mazur.graph
    parameters_only = {k: v for k, v in MAZUR_VALUES.items() if not k.startswith(("i", "t"))}
    examples = [dict(i1=0.05, i2=0.10, t1=0.01, t2=0.99), dict(i1=-1.0, i2=0.5, t1=0.7, t2=0.2),
                dict(i1=2.0, i2=-0.25, t1=0.0, t2=1.0)]
    references = [reference_at(graph, {**parameters_only, **e}) for e in examples]
    total_loss = sum(r[0] for r in references)
    total = [sum(r[1][i] for r in references) for i in range(len(graph.parameters))]
    loss, gradients = evaluate(mazur, FLOAT, parameters_only, examples, "sum")
    assert_relatively_close(loss, total_loss, "1e-14", "sum")
    for value, expected in zip(gradients, total):
        assert_relatively_close(value, expected, "1e-13")
    loss, gradients = evaluate(mazur, FLOAT, parameters_only, examples, "mean")
    assert_relatively_close(loss, total_loss / 3, "1e-14", "mean")
    for value, expected in zip(gradients, total):
        assert_relatively_close(value, expected / 3, "1e-13")


def test_loss_and_gradients_reuses_the_first_example_and_can_skip_gradients(mazur):
    rows, parameters = given_values(mazur.graph, {k: v for k, v in MAZUR_VALUES.items() if k[0] not in "it"},
                                    [dict(i1=0.05, i2=0.10, t1=0.01, t2=0.99), dict(i1=1.0, i2=0.0, t1=0.0, t2=1.0)])
    program = program_of(mazur, FLOAT)
    first = first_example(program, rows[0], parameters)
    assert loss_and_gradients(program, FLOAT, rows, parameters, "sum", first) == \
        loss_and_gradients(program, FLOAT, rows, parameters, "sum")
    # the first example's numbers are taken from ``first``, not worked out again
    planted = evaluation._FirstExample(
        tuple(100.0 for _ in first.nodes), first.adjoints, tuple(10.0 for _ in first.gradients), first.local)
    second_loss, second_gradients = loss_and_gradients(program, FLOAT, rows[1:], parameters, "sum")
    loss, gradients = loss_and_gradients(program, FLOAT, rows, parameters, "sum", planted)
    assert loss == 100.0 + second_loss
    assert gradients == tuple(10.0 + g for g in second_gradients)
    assert loss_and_gradients(program, FLOAT, rows, parameters, "mean", gradients=False) == (
        (first.nodes[program.output_index] + second_loss) / 2, None)


def test_one_example_is_its_own_mean_and_sum(mazur):
    assert evaluate(mazur, FLOAT, MAZUR_VALUES, reduction="mean") == evaluate(mazur, FLOAT, MAZUR_VALUES, reduction="sum")


# --- programs, compiled once ---

def test_programs_are_compiled_once_per_derivation_and_arithmetic(mazur):
    assert program_of(mazur, FLOAT) is program_of(mazur, FLOAT)
    assert program_of(mazur, EXACT) is program_of(mazur, EXACT)
    assert program_of(mazur, EXACT) is not program_of(mazur, FLOAT)
    # the precise program reads its digits from mpmath's context: one program for every precision
    assert program_of(mazur, arithmetic_of(15)) is program_of(mazur, arithmetic_of(60))
    other = derive(mazur_network())
    assert program_of(other, FLOAT) is not program_of(mazur, FLOAT)


@pytest.mark.parametrize("arithmetic", [FLOAT, EXACT, arithmetic_of(20)], ids=["float", "exact", "digits"])
def test_the_cache_of_programs_does_not_keep_a_derivation_alive(arithmetic):
    x, w, z, E = sympy.symbols("x w z E")
    derivation = derive(Graph.from_pairs([(z, w * x), (E, z ** 2)], inputs=[x], parameters=[w]))
    program_of(derivation, arithmetic)
    assert derivation in evaluation._PROGRAMS
    kept, alive = len(evaluation._PROGRAMS), weakref.ref(derivation)
    del derivation
    gc.collect()
    assert alive() is None and len(evaluation._PROGRAMS) == kept - 1


def test_the_float_fallback_still_works_after_the_cache_is_filled():
    """The float program's fallback compiles the precise program of the same derivation on demand."""
    x, w, n, E = sympy.symbols("x w n E")
    derivation = derive(Graph.from_pairs([(n, sympy.exp(w * x)), (E, sympy.log(n))], inputs=[x], parameters=[w]))
    program = program_of(derivation, FLOAT)
    assert "mpmath" not in evaluation._PROGRAMS.of(derivation)
    # adjoints (delta_E = 1, delta_n = 1/e^{800}, which is below float64's smallest number), then dE/dw = x
    assert program.backward(1.0, 800.0, math.inf, 800.0) == (1.0, 0.0, 1.0)
    assert "mpmath" in evaluation._PROGRAMS.of(derivation)


def test_an_output_that_is_a_parameter_cannot_be_evaluated():
    x, w, z = sympy.symbols("x w z")
    graph = Graph((x,), (w,), [(z, w * x)], w)
    with pytest.raises(ValueError, match="^the output w is a parameter, not a node: nothing to evaluate$"):
        evaluation._output_index(graph)


# --- numbers at |z| = 1000 ---

SATURATED = [
    ("sigmoid", "cross_entropy", [1000.0], [0.0], 1000.0, 1.0),
    ("sigmoid", "cross_entropy", [-1000.0], [1.0], 1000.0, -1.0),
    ("sigmoid", "cross_entropy", [1000.0], [1.0], 0.0, 0.0),
    ("sigmoid", "half_sse", [1000.0], [0.0], 0.5, 0.0),
    ("tanh", "half_sse", [-1000.0], [0.0], 0.5, 0.0),
    ("softplus", "half_sse", [-1000.0], [0.0], 0.0, 0.0),
    ("softmax", "cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0, 1.0),
    ("softmax", "softmax_cross_entropy", [1000.0, -1000.0], [0.0, 1.0], 2000.0, 1.0),
]


@pytest.mark.parametrize("activation, loss, weights, targets, expected_loss, expected_w1", SATURATED)
def test_saturated_units_give_finite_numbers_without_warnings(activation, loss, weights, targets, expected_loss,
                                                              expected_w1):
    network = nn.mlp(["x"], [nn.Dense(len(weights), activation)], loss)
    values = {"x": 1.0, **{w.name: v for w, v in zip(network.weights, weights)},
              **{b.name: 0.0 for b in network.biases}, **{t.name: v for t, v in zip(network.targets, targets)}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        example = worked_example(derive(network), values, update="all")
    assert example.loss == pytest.approx(expected_loss, abs=1e-12)
    assert example.gradients[network.weights[0]] == pytest.approx(expected_w1, abs=1e-12)
    assert all(math.isfinite(v) for v in example.gradients.values())


def test_derivatives_with_real_and_imaginary_parts_evaluate():
    from symprop.files import spec

    problem = spec.loads('[graph]\ninputs = ["x", "y"]\nnodes = [["n0", "Abs(x**y)"]]\nparameters = ["x"]\n'
                         '[values]\nx = 0.5\ny = 2.0\n')
    example = worked_example(derive(problem.graph), problem.values)
    assert abs(example.gradients[problem.graph.parameters[0]] - 1.0) < 1e-12  # d|x^2|/dx = 2x
