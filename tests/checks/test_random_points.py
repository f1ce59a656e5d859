"""Random points for the checks: drawn reproducibly where the forward pass is finite, values at a precision."""
from __future__ import annotations

import pytest
import sympy
from sympy import Float, Rational, Symbol

from symprop.engine import backprop
from symprop.checks.claims import check_claim
from symprop.model.graph import Graph
from symprop.model.nn import Dense, mlp
from symprop.checks.random_points import (
    ClaimError, close, context_of, gradient_value, sample_points, show_point, value_at,
)

from tests.conftest import mazur_network

MAZUR = mazur_network()
MAZUR_DERIVATION = backprop.derive(MAZUR)


# ---------------------------------------------------------------- the target


def test_the_context_of_a_network_a_graph_and_a_derivation():
    of_network = context_of(MAZUR)
    assert of_network.graph is MAZUR.graph and of_network.network is MAZUR
    assert list(of_network.derivation.gradients) == list(MAZUR.graph.parameters)
    of_derivation = context_of(MAZUR_DERIVATION)
    assert of_derivation.derivation is MAZUR_DERIVATION and of_derivation.network is MAZUR
    assert context_of(MAZUR.graph).network is None


def test_anything_else_is_a_claim_error():
    with pytest.raises(ClaimError) as error:
        context_of(3)
    assert str(error.value) == "expected a Network, Graph or Derivation to check against, got int"


# ---------------------------------------------------------------- points


def test_points_are_4_decimal_fractions_with_targets_in_0_1():
    point = sample_points(context_of(MAZUR_DERIVATION), 1, 0, 30)[0]
    assert show_point(point.values) == (
        "i1 = 0.2623, i2 = 0.3781, t1 = 0.0664, t2 = 0.4243, w1 = 0.6753, w2 = 0.5922, w3 = 0.3268, "
        "w4 = -0.0062, b1 = 0.5617, w5 = 0.1732, w6 = 0.9116, w7 = -0.2843, w8 = 0.6537, b2 = -0.5437"
    )
    assert all((v * 10000).is_Integer for v in point.values.values())


def test_a_point_carries_every_forward_value_and_adjoint():
    point = sample_points(context_of(MAZUR_DERIVATION), 1, 0, 30)[0]
    for adjoint in MAZUR_DERIVATION.adjoints.values():
        assert adjoint.symbol in point.env and adjoint.node in point.env
    expected = MAZUR_DERIVATION["w5"].closed_form.xreplace(point.env)
    assert abs(gradient_value(MAZUR_DERIVATION["w5"], point.env, 30) - expected) < Float("1e-30", 40)


def test_softmax_cross_entropy_targets_form_a_probability_vector():
    network = mlp(2, [Dense(3, "identity")], "softmax_cross_entropy")
    point = sample_points(context_of(network), 1, 0, 30)[0]
    targets = [point.values[t] for t in network.targets]
    assert sum(targets) == 1 and all(t > 0 for t in targets)
    assert targets == [Rational(1, 2), Rational(3, 10), Rational(1, 5)]


def test_a_graph_never_finite_is_refused():
    y, f = Symbol("y", real=True), Symbol("f", real=True)
    graph = Graph.from_pairs([(f, sympy.log(-y**2 - 1))], inputs=(), parameters=(y,))
    with pytest.raises(ClaimError) as error:
        sample_points(context_of(graph), 1, 0, 15)
    assert str(error.value) == "found no random points where the network's forward pass is real and finite"


def test_the_seed_chooses_the_points_reproducibly():
    first = check_claim(MAZUR, "w5", "out_h1", seed=7)
    assert first.point == check_claim(MAZUR, "w5", "out_h1", seed=7).point
    assert first.point != check_claim(MAZUR, "w5", "out_h1", seed=8).point


def test_softmax_cross_entropy_targets_are_drawn_as_probabilities():
    network = mlp(2, [Dense(2, "identity")], "softmax_cross_entropy")
    # dL/dz_1 = softmax_1 - y1 holds only when y1 + y2 = 1.
    assert check_claim(network, "b1_1", "exp(z1_1)/(exp(z1_1) + exp(z1_2)) - y1", points=4).equal


# ---------------------------------------------------------------- values


def test_value_at_evaluates_with_guard_digits_and_refuses_non_real_values():
    x = Symbol("x", real=True)
    assert str(value_at(x**2, {x: Rational(1, 3)}, 5)) == "0.111111111111111"
    assert value_at(sympy.log(x), {x: -1}, 5) is None
    assert value_at(1 / x, {x: 0}, 5) is None


@pytest.mark.parametrize(
    "a, b, digits, agree",
    [(1, 1 + Float("1e-16", 30), 30, True), (1, Float("1.001"), 30, False), (1, Float("1.001"), 4, True),
     (None, 1, 30, False), (0, Float("1e-16", 30), 30, False), (0, 0, 30, True)],
)
def test_close_agrees_to_half_the_digits(a, b, digits, agree):
    assert bool(close(a, b, digits)) is agree


def test_show_point_cuts_a_long_point_short():
    point = {Symbol(f"x{i}"): Rational(i, 4) for i in range(5)}
    assert show_point(point, 2) == "x0 = 0, x1 = 0.25, ... (3 more)"
    assert show_point(point) == "x0 = 0, x1 = 0.25, x2 = 0.5, x3 = 0.75, x4 = 1"


def test_show_point_writes_exponents_as_the_documents_do():
    assert show_point({Symbol("x"): 1.5e-8, Symbol("y"): 2.5e20}) == "x = 1.5e-8, y = 2.5e20"
