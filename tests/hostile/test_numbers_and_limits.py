"""Nesting, huge numbers, overflow and expressions that swell: each derived quickly or refused in
one line saying what is too large, before SymPy or mpmath can run away with it."""
from __future__ import annotations

import json
import math

import pytest

from symprop import derive, worked_example
from symprop.errors import SympropError
from tests.conftest import mazur_network
from tests.hostile.corpus import MAZUR, dense_file, derived, graph_file, refused, run


def one_node(expression: str, x: float = 1.0, **options) -> str:
    return graph_file([("f", expression)], inputs=("x",), values={"x": x}, **options)


NESTING = [
    ("-" * 3000 + "x", "3001 characters: an expression is at most 2000"),
    ("(" * 10000 + "x" + ")" * 10000, "20001 characters: an expression is at most 2000"),
    ("-" * 1990 + "x", "nested 1991 levels deep: at most 30"),
    ("(" * 990 + "x" + ")" * 990, "too many nested parentheses"),
    ("exp(" * 40 + "x" + ")" * 40, "nested 41 levels deep: at most 30"),
    ("sigmoid(" * 31 + "x" + ")" * 31, "nested 32 levels deep: at most 30"),
    ("x" + "**x" * 40, "nested 41 levels deep"),
    ("+" * 1500 + "x", "nested 1501 levels deep"),
    ("x" + "*(x" * 31 + ")" * 31, "nested"),
]


@pytest.mark.parametrize("text, fragment", NESTING, ids=[f"nesting-{i}" for i in range(len(NESTING))])
def test_deep_nesting_is_refused_before_sympy_reads_it(text, fragment):
    refused(one_node(text), fragment, seconds=5)


DEEP_BUT_ALLOWED = [
    ("-" * 28 + "x", 0.5),
    ("(" * 29 + "x" + ")" * 29, 0.5),
    ("sigmoid(" * 29 + "x" + ")" * 29, 0.5),
    ("tanh(" * 29 + "x" + ")" * 29, 0.5),   # three times slower per level until straight-line code stopped re-evaluating
    ("sqrt(" * 29 + "x" + ")" * 29, 0.5),
    ("exp(exp(exp(exp(exp(x)))))", -10.0),
]


@pytest.mark.parametrize("text, x", DEEP_BUT_ALLOWED, ids=[f"deep-{i}" for i in range(len(DEEP_BUT_ALLOWED))])
def test_nesting_within_the_bound_is_derived_in_seconds(text, x):
    derived(one_node(text, x), seconds=20)


HUGE_NUMBERS = [
    ("x*1e999999", "gives inf, not a finite real number"),
    ("x*10**(10**8)", "overflows"),
    ("x*((10**10000)**10000)**10000", "overflows"),
    ("x + ((10**10000)**10000)**10000", "overflows"),
    ("x*10**400", "overflows"),
    ("x*" + "9" * 1990, "overflows"),
    ("(2*x)**10**12", "past 20000 digits"),
    ("x**1e300", "past 20000 digits"),
    ("x**(10**6)", "past 20000 digits"),
    ("(x + 1)**(2**15)", "past 20000 digits"),
    ("exp(x)**(10**9)", "past 20000 digits"),
    ("x**(-10**6)", "past 20000 digits"),
    ("2**2**2**2**2**2", "overflows"),
    ("x/0", "it is infinite or undefined (zoo*x)"),
    ("x*0**-1", "divides a number by zero"),
    ("x*log(0)", "infinite or undefined"),
    ("x*sqrt(-1)", "complex number"),
    ("x*(-8)**(1/3)", "gives (1.0000000000000002+1.7320508075688772j), not a finite real number"),
    ("x*log(-1)", "complex number"),
    ("x*1e308*10", "the loss is inf in float64"),  # not numbers alone: the worked example finds it
]


@pytest.mark.parametrize("text, fragment", HUGE_NUMBERS, ids=[f"huge-{i}" for i in range(len(HUGE_NUMBERS))])
def test_huge_numbers_in_expressions_are_refused_before_they_are_computed(text, fragment):
    refused(one_node(text), fragment, seconds=5)


def test_small_exact_numbers_are_fine():
    derived(one_node("x*10**300 + x**(2**10)", 0.5))


OVERFLOWING_VALUES = [
    (one_node("exp(exp(x))", 10.0), "the loss is inf in float64 at the given values (it overflows)"),
    (one_node("exp(exp(exp(exp(exp(x)))))", 10.0), "a value grows beyond 10^19728"),
    (one_node("exp(exp(exp(exp(exp(x)))))", 1.0), "a value grows beyond 10^19728"),
    (one_node("exp(exp(exp(exp(exp(x)))))", 0.0), "the loss is inf in float64"),
    (graph_file([("q", "exp(exp(x))"), ("f", "y**q")], values={"x": 3.0, "y": 2.0}), "the loss is inf in float64"),
    (one_node("exp(x)*exp(x)", 400.0), "the loss is inf in float64"),
    (MAZUR.replace("i1 = 0.05", "i1 = 1e999"), "values.i1 (line 14): expected a finite number, got inf"),
    (MAZUR.replace("i1 = 0.05", "i1 = -1e999"), "values.i1 (line 14): expected a finite number, got -inf"),
    (MAZUR.replace("i1 = 0.05", "i1 = nan"), "values.i1 (line 14): expected a finite number, got nan"),
    (MAZUR.replace("i1 = 0.05", "i1 = " + "9" * 400), "values.i1"),
    (MAZUR.replace("learning_rate = 0.5", "learning_rate = nan"), "train.learning_rate (line 30): expected a finite positive number, got nan"),
    (MAZUR.replace("learning_rate = 0.5", "learning_rate = inf"), "train.learning_rate (line 30): expected a finite positive number, got inf"),
    (MAZUR.replace("learning_rate = 0.5", "learning_rate = -inf"), "train.learning_rate"),
    (MAZUR.replace("learning_rate = 0.5", "learning_rate = 1e999"), "got inf"),
]


@pytest.mark.parametrize("text, fragment", OVERFLOWING_VALUES, ids=[f"overflow-{i}" for i in range(len(OVERFLOWING_VALUES))])
def test_values_that_overflow_are_refused_saying_so(text, fragment):
    refused(text, fragment, seconds=10)


@pytest.mark.parametrize("precision, fragment", [
    ("30", "a value grows beyond 10^19728"),
    ("exact", "exact arithmetic cannot compute f: its value is too large"),
])
def test_runaway_numbers_are_refused_in_every_precision(precision, fragment):
    refused(one_node("exp(exp(exp(exp(exp(x)))))", 10.0), fragment, after=("--precision", precision), seconds=10)


INIT_RANGES = [
    ('init = { method = "uniform", low = -1e308, high = 1e308, seed = 0 }', "train.init.low (line 10): -1e+308 is too large"),
    ('init = { method = "uniform", low = 0, high = 1e308, seed = 0 }', "train.init.high (line 10): 1e+308 is too large"),
    ('init = { method = "normal", mean = 0, std = 1e308, seed = 0 }', "train.init.std (line 10): 1e+308 is too large"),
    ('init = { method = "normal", mean = -1e308, std = 1, seed = 0 }', "train.init.mean (line 10): -1e+308 is too large"),
    ('init = { method = "uniform", low = -inf, high = 0, seed = 0 }', "train.init.low"),
    ('init = { method = "uniform", low = nan, high = 0, seed = 0 }', "train.init.low"),
    ('init = { method = "uniform", low = 1, high = 1, seed = 0 }', "expected high > low"),
    ('init = { method = "normal", mean = 0, std = 0, seed = 0 }', "positive standard deviation"),
    ('init = { method = "uniform", seed = -1 }', "train.init.seed"),
    ('init = { method = "uniform", seed = 99999999999999999999999 }', "a seed is at most"),
    ('init = { method = "uniform", decimals = 99 }', "decimals: at most 15"),
    ('init = { method = "unifrom" }', "unifrom"),
    ('init = { method = "uniform", lo = 0 }', "did you mean 'low'"),
    ('init = "Xavier"', "Xavier"),
    ("init = 3", "train.init"),
]


@pytest.mark.parametrize("init, fragment", INIT_RANGES, ids=[f"init-{i}" for i in range(len(INIT_RANGES))])
def test_init_ranges_that_overflow_or_make_no_sense_are_refused(init, fragment):
    refused(dense_file(2, [2, 1], train=f"[train]\n{init}"), fragment)


def test_an_init_range_at_the_bound_is_drawn():
    derived(dense_file(2, [2, 1], train='[train]\ninit = { method = "uniform", low = -1e300, high = 1e300, seed = 0 }'))


def test_a_value_that_overflows_after_one_update_is_written_as_infinity():
    text = graph_file([("f", "x*x*y")], values={"x": 1e150, "y": 1.0}, train="[train]\nlearning_rate = 1e300")
    outcome = run(None, ("derive", "-", "-f", "json", "-o", "-"), formats=None, stdin=text.encode())
    assert outcome.code == 0, outcome.describe()
    document = json.loads(outcome.stdout)
    assert document["updated"]["x"] == "-Infinity" and math.isfinite(document["loss"])


def test_huge_but_finite_values_are_derived():
    derived(MAZUR.replace("w1 = 0.15", "w1 = 1e308").replace("i1 = 0.05", "i1 = 1.7e308"))


def test_a_learning_rate_of_1e308_is_derived():
    derived(MAZUR.replace("learning_rate = 0.5", "learning_rate = 1e308"))


# ---------------------------------------------------------------- the same refusals from Python

MAZUR_VALUES = dict(i1=0.05, i2=0.10, t1=0.01, t2=0.99, w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35,
                    w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60)


@pytest.fixture(scope="module")
def mazur_derivation():
    return derive(mazur_network())


@pytest.mark.parametrize("rate, fragment", [
    (math.nan, "learning_rate"), (math.inf, "learning_rate"), (-math.inf, "learning_rate"), (-0.5, "learning_rate"),
    (0.0, "learning_rate"), ("fast", "learning_rate"), (True, "learning_rate"), (None, "learning_rate"),
    (complex(1, 1), "learning_rate"), (10**400, "learning_rate"),
])
def test_a_learning_rate_that_is_not_a_finite_positive_number_is_refused_from_python(mazur_derivation, rate, fragment):
    with pytest.raises(SympropError) as caught:
        worked_example(mazur_derivation, MAZUR_VALUES, learning_rate=rate)
    message = str(caught.value)
    assert fragment in message and "\n" not in message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "x", None, 10**400])
def test_a_value_that_is_not_a_finite_number_is_refused_from_python(mazur_derivation, value):
    with pytest.raises(SympropError) as caught:
        worked_example(mazur_derivation, {**MAZUR_VALUES, "w1": value})
    assert "w1" in str(caught.value)


# ---------------------------------------------------------------- expressions that swell

def chain(length: int) -> str:
    nodes = [("q1", "x**2 + x")] + [(f"q{k}", f"q{k - 1}**2 + x") for k in range(2, length + 1)]
    return graph_file(nodes, inputs=("x",), values={"x": 0.1})


def test_a_400_node_chain_is_derived_and_written():
    """It overflowed the recursion limit in documents (closed adjoints were made node by node, recursively)."""
    derived(chain(400), seconds=60)


def test_a_401_node_chain_is_refused_up_front():
    refused(chain(401), "401 nodes: at most 400", seconds=5)


def test_a_max_of_64_arguments_is_refused():
    """Its derivatives never finished: each builds a Max of the 63 others, comparing every pair."""
    refused(one_node("Max(" + ", ".join(f"{k}*x" for k in range(64)) + ")"), "Max takes 1 to 8 arguments, got 64",
            seconds=5)


def test_nested_maxes_merged_by_sympy_are_refused():
    inner = "Max(" + ", ".join(f"{k}*x + {k}" for k in range(8)) + ")"
    other = "Max(" + ", ".join(f"{k}*x - {k}" for k in range(1, 9)) + ")"
    refused(one_node(f"Max({inner}, {other})"), "arguments (nested calls are merged): at most 8", seconds=10)


def test_a_max_of_8_arguments_is_derived():
    names = [f"a{k}" for k in range(8)]
    derived(graph_file([("f", "Max(" + ", ".join(names) + ")")], inputs=names,
                       values={n: float(k) for k, n in enumerate(names)}), seconds=20)


def test_a_min_of_9_arguments_is_refused():
    refused(one_node("Min(" + ", ".join(f"{k}*x" for k in range(9)) + ")"), "Min takes 1 to 8 arguments, got 9")
