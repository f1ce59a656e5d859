"""Activation and loss records: each table is derived from them, and SiLU, added as one
record, works through every product: derivation, documents, claims, code, worked example, files."""
from __future__ import annotations

import math

import mpmath
import numpy
import pytest
import sympy
from sympy import Float, Integer, Symbol

from symprop.checks.claims import CLAIM_FUNCTIONS, check_claim, parse_claim
from symprop.codegen import numpy_helpers
from symprop.codegen.numpy_code import backward_source, gradients_by_name, numpy_functions, parameter_arrays
from symprop.engine.backprop import derive
from symprop.files.expressions import EXPRESSION_FUNCTIONS, parse_expression
from symprop.files.spec import loads
from symprop.layers.layer_view import layer_view
from symprop.model import functions, nn
from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.functions import sigmoid, silu
from symprop.model.losses import LOSS_RECORDS
from symprop.numbers.worked_example import worked_example
from symprop.outputs.render import render_latex, render_markdown
from symprop.printing.latex import latex, prime
from tests.reference import assert_gradients_match_reference

z = Symbol("z", real=True)
ELEMENTWISE = [r for r in ACTIVATION_RECORDS.values() if r.kind == "elementwise"]
POINTS = (-3.25, -0.5, 0.75, 2.5)


def applied(record, argument):
    return record.apply([argument], 1, sympy.Rational(1, 10))


# ---------------------------------------------------------------- every record


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
def test_each_derivative_identity_is_the_derivative_of_its_definition(record):
    # fdiff (the identity) against diff of the elementary definition, at points away from kinks
    identity = sympy.diff(applied(record, z), z)
    reference = sympy.diff(functions.elementary(applied(record, z)).rewrite(sympy.exp), z)
    for x in POINTS:
        value = functions.elementary(identity).subs(z, Float(x, 30)).evalf(30)
        assert abs(value - reference.subs(z, Float(x, 30)).evalf(30)) < 1e-25, (record.name, x)


@pytest.mark.parametrize("record", [r for r in ELEMENTWISE if r.scalar], ids=lambda r: r.name)
def test_float_mpmath_and_numpy_numerics_agree_with_the_definition(record):
    arguments = (sympy.Rational(1, 10),) if record.arity[1] == 2 else ()
    for x in POINTS:
        exact = functions.elementary(applied(record, Float(x, 40))).evalf(40)
        assert record.float64()(x, *map(float, arguments)) == pytest.approx(float(exact), rel=1e-14)
        with mpmath.workdps(40):
            assert abs(record.mpmath()(mpmath.mpf(x), *map(mpmath.mpf, arguments)) - mpmath.mpf(str(exact))) < 1e-35
        if record.numpy is not None:
            assert float(record.numpy(numpy.float64(x), *map(float, arguments))) == pytest.approx(float(exact),
                                                                                                  rel=1e-14)


@pytest.mark.parametrize("record", [r for r in ELEMENTWISE if r.numpy], ids=lambda r: r.name)
def test_numpy_forms_do_not_overflow_at_extreme_arguments(record):
    arguments = (0.1,) if record.arity[1] == 2 else ()
    with numpy.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        values = record.numpy(numpy.array([-1000.0, 1000.0]), *arguments)
    assert numpy.all(numpy.isfinite(values))


def test_every_table_is_derived_from_the_records():
    named = [r for r in functions.FUNCTION_RECORDS]
    assert set(functions.ACTIVATIONS) == set(ACTIVATION_RECORDS)
    assert set(nn.LOSSES) == {name for name, record in LOSS_RECORDS.items() if record.takes_targets}
    assert set(LOSS_RECORDS) - set(nn.LOSSES) == {"sum"}  # the loss of the outputs alone, for layer stacks
    assert {r.name for r in named if r.in_node_files} <= set(EXPRESSION_FUNCTIONS)
    assert {r.name for r in named} <= set(CLAIM_FUNCTIONS)
    assert {r.name for r in named if r.numpy} <= set(numpy_helpers.NODE_HELPERS)
    for record in named:
        assert record.function is sympy.tanh or record.function.__name__ == record.name  # printers call it by name
        assert functions.record_of(record.function) is record


def test_pasted_numpy_helpers_are_named_as_generated_code_calls_them():
    source = numpy_helpers.helper_source("a = silu(z) + sigmoid(z)")
    assert [line for line in source.splitlines() if line.startswith("def ")] == ["def sigmoid(z):", "def silu(z):"]
    scope: dict = {"numpy": numpy}
    exec(compile(source, "<helpers>", "exec"), scope)
    assert scope["silu"](2.0) == pytest.approx(2.0 / (1 + math.exp(-2.0)), rel=1e-15)


# ---------------------------------------------------------------- SiLU, one record


def test_silu_is_z_sigma_and_its_derivative_is_in_the_forward_sigmoid():
    assert sympy.diff(silu(z), z) == sigmoid(z) * (1 + z * (1 - sigmoid(z)))
    assert functions.elementary(silu(z)) == z / (1 + sympy.exp(-z))
    assert silu(Integer(0)) == 0
    assert silu(Integer(1)).evalf(30) == (1 / (1 + sympy.exp(-1))).evalf(30)


def test_silu_prints_with_its_head_and_parses_by_its_name():
    assert latex(silu(z)) == r"\operatorname{SiLU}\left(z\right)"
    assert latex(prime(silu(z))) == r"\operatorname{SiLU}'\left(z\right)"
    assert parse_expression("silu(2*z)", {"z": z}) == silu(2 * z)


@pytest.fixture(scope="module")
def silu_network():
    return nn.mlp(2, [nn.Dense(2, "silu"), nn.Dense(1, "sigmoid")], "half_sse", notation="plain")


@pytest.fixture(scope="module")
def silu_derivation(silu_network):
    return derive(silu_network)


def test_silu_gradients_equal_diff_of_the_elementary_loss(silu_derivation):
    # closed forms, delta forms and path sums against sympy.diff of the loss written out in exp
    assert_gradients_match_reference(silu_derivation, points=3, seed=11)


def test_silu_documents_name_the_activation(silu_derivation):
    assert r"\operatorname{SiLU}" in render_markdown(silu_derivation)
    assert r"\operatorname{SiLU}" in render_latex(silu_derivation)


def test_silu_layer_is_named_as_in_deep_learning_from_scratch(silu_network):
    assert [rule.name for rule in layer_view(silu_network)] == [
        "Affine", "SiLU", "Affine", "Sigmoid", "Half-Squared-Error-Loss",
    ]


def test_a_claim_written_with_silu_is_checked(silu_network):
    hidden = silu_network.layers[0]
    net, out = hidden.nets[0].name, hidden.outs[0].name
    assert parse_claim(f"silu({net})", silu_network) == silu(hidden.nets[0])
    w = hidden.weights[0][0].name
    x = hidden.inputs[0].name
    delta_out = f"delta_{out}"
    right = f"{delta_out}*sigmoid({net})*(1 + {net}*(1 - sigmoid({net})))*{x}"
    verdict = check_claim(silu_network, w, right)
    assert verdict.equal, verdict.summary()
    wrong = check_claim(silu_network, w, f"{delta_out}*sigmoid({net})*{x}", points=3)
    assert not wrong.equal


SILU_VALUES = {"x1": 0.4, "x2": -1.3, "y1": 0.25, "w1_1_1": 0.3, "w1_1_2": -0.7, "w1_2_1": 1.1, "w1_2_2": 0.2,
               "b1_1": 0.05, "b1_2": -0.4, "w2_1_1": 0.9, "w2_1_2": -1.2, "b2_1": 0.15}


def test_silu_generated_code_matches_the_derivation(silu_network, silu_derivation):
    assert set(SILU_VALUES) == {s.name for s in (*silu_network.inputs, *silu_network.targets,
                                                 *silu_network.parameters)}
    example = worked_example(silu_derivation, SILU_VALUES)
    expected = {p.name: float(g) for p, g in example.gradients.items()}
    assert all(abs(g) > 1e-4 for g in expected.values())  # a gradient of 0 would prove nothing
    x, t = [SILU_VALUES["x1"], SILU_VALUES["x2"]], [SILU_VALUES["y1"]]
    _, gradient = numpy_functions(silu_network)
    assert gradient(SILU_VALUES, x, t) == pytest.approx(expected, rel=1e-12)
    source = backward_source(silu_network)
    assert "a1 = silu(z1)" in source and "sigmoid(z1)" in source.split("delta1 =")[1]
    scope: dict = {}
    exec(compile(source, "<silu>", "exec"), scope)
    _, arrays = scope["backward"](numpy.array(x), numpy.array(t), *parameter_arrays(silu_network, SILU_VALUES))
    assert gradients_by_name(silu_network, arrays) == pytest.approx(expected, rel=1e-12)


def test_silu_worked_example_passes_its_finite_difference_check(silu_derivation):
    example = worked_example(silu_derivation, SILU_VALUES)
    assert len(example.checks) == 9 and all(check.ok for check in example.checks)
    precise = worked_example(silu_derivation, SILU_VALUES, precision=40)
    for p, g in example.gradients.items():
        assert float(precise.gradients[p]) == pytest.approx(g, rel=1e-13)


def test_a_network_file_with_a_silu_layer_loads():
    problem = loads(
        '[network]\ninputs = 1\nloss = "half_sse"\nlayers = [{ units = 1, activation = "silu" }]\n'
        "[values]\nx = 0.5\ny = 0.1\nw1 = 0.3\nb1 = 0.2\n"
    )
    (layer,) = problem.network.layers
    assert layer.activation == "silu"
    assert problem.graph.definition[layer.outs[0]] == silu(layer.nets[0])


@pytest.mark.parametrize("record", [r for r in LOSS_RECORDS.values() if r.gradient_scale], ids=lambda r: r.name)
def test_a_losss_gradient_scale_is_its_derivative_over_a_minus_t(record):
    for m in (1, 2, 3):
        outputs = [Symbol(f"o{j}", real=True) for j in range(m)]
        targets = [Symbol(f"t{j}", real=True) for j in range(m)]
        derivative = sympy.diff(record.expression(outputs, targets, ()), outputs[0])
        assert sympy.expand(derivative - record.gradient_scale(Integer(m)) * (outputs[0] - targets[0])) == 0
