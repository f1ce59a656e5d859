"""NumPy helpers of generated code: exact at ordinary logits, no overflow at |z| = 1000."""
from __future__ import annotations

import math

import numpy
import pytest
import sympy

from symprop.codegen import numpy_helpers as helpers
from symprop.model.functions import leaky_relu, sigmoid, softmax

EXTREME = numpy.array([-1000.0, 0.0, 1000.0])


@pytest.fixture(autouse=True)
def no_overflow():
    # exp(-2000) underflowing to 0 is the point of the shift; overflow or nan would be a bug
    with numpy.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        yield


def test_sigmoid_and_softplus_at_extreme_logits():
    assert helpers.helper("sigmoid")(EXTREME).tolist() == [0.0, 0.5, 1.0]
    assert helpers.helper("sigmoid")(2.0) == pytest.approx(1 / (1 + math.exp(-2.0)), rel=1e-15)
    assert helpers.helper("softplus")(EXTREME).tolist() == [0.0, math.log(2.0), 1000.0]
    assert helpers.helper("log_sigmoid")(numpy.array([-1000.0])).tolist() == [-1000.0]


def test_relu_and_leaky_relu():
    assert helpers.helper("relu")(numpy.array([-2.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 3.0]
    assert helpers.helper("leaky_relu")(numpy.array([-2.0, 0.0, 3.0]), 0.1).tolist() == [-0.2, 0.0, 3.0]


def test_softmax_counts_from_1_and_shifts_by_the_largest_logit():
    assert helpers.helper("softmax")(1, 0.0, math.log(3.0)) == pytest.approx(0.25, rel=1e-15)
    assert helpers.helper("softmax")(2, 0.0, math.log(3.0)) == pytest.approx(0.75, rel=1e-15)
    assert helpers.helper("softmax")(2, 1000.0, 1000.0) == 0.5
    assert helpers.helper("log_softmax")(1, 0.0, 0.0) == -math.log(2.0)


def test_softmax_cross_entropy_takes_logits_then_targets():
    assert helpers.helper("softmax_cross_entropy")(0.0, 0.0, 1.0, 0.0) == math.log(2.0)
    assert helpers.helper("softmax_cross_entropy")(1000.0, -1000.0, 1.0, 0.0) == 0.0


def test_row_softmax_normalises_each_row():
    rows = helpers.helper("softmax_rows")(numpy.array([[0.0, math.log(3.0)], [1000.0, 1000.0]]))
    assert rows.ravel().tolist() == pytest.approx([0.25, 0.75, 0.5, 0.5], rel=1e-15)
    assert helpers.helper("log_softmax_rows")(numpy.array([[0.0, 0.0]])).tolist() == [[-math.log(2.0), -math.log(2.0)]]


def test_helper_source_pastes_what_code_calls_and_what_that_calls():
    source = helpers.helper_source("loss = softmax_cross_entropy(z1, z2, t1, t2)")
    assert [line for line in source.splitlines() if line.startswith("def ")] == [
        "def softmax_cross_entropy(*logits_and_targets):",
    ]
    assert [line for line in helpers.helper_source("log_sigmoid(z)").splitlines() if line.startswith("def ")] == [
        "def softplus(z):", "def log_sigmoid(z):",
    ]
    assert helpers.helper_source("y = numpy.exp(x)") == ""
    assert helpers.helper_source("my_sigmoid(x)") == ""


def test_module_source_imports_only_what_it_needs():
    assert helpers.module_source("def f(z):\n    return relu(z)\n") == (
        'import numpy\n\n\ndef relu(z):\n    """max(0, z)."""\n    return numpy.maximum(z, 0)\n\n\n'
        "def f(z):\n    return relu(z)\n"
    )
    assert helpers.module_source("def f(*z):\n    return softmax(1, *z)\n").startswith(
        "import functools\n\nimport numpy\n\n\ndef softmax(k, *z):"
    )


def test_the_pasted_module_runs_on_numpy_alone():
    namespace: dict = {}
    exec(helpers.module_source("def f(z):\n    return log_sigmoid(z)\n"), namespace)
    assert namespace["f"](numpy.array([0.0])).tolist() == [-math.log(2.0)]


def test_node_printer_calls_the_helpers_and_numpy():
    x, y = sympy.symbols("x y", real=True)
    printer = helpers.NodePrinter()
    assert printer.doprint(sigmoid(x)) == "sigmoid(x)"
    assert printer.doprint(leaky_relu(x, sympy.Rational(1, 10))) == "leaky_relu(x, 1/10)"
    assert printer.doprint(softmax(1, x, y)) == "softmax(1, x, y)"
    assert printer.doprint(sympy.Max(x, y, 0)) == "numpy.maximum(numpy.maximum(0, x), y)"
    assert printer.doprint(sympy.Min(x, 1)) == "numpy.minimum(1, x)"
    assert printer.doprint(sympy.Heaviside(x, 0)) == "numpy.heaviside(x, 0)"
