"""Diagnoses: why a claimed gradient differs from the engine's, in words."""
from __future__ import annotations

from fractions import Fraction

import sympy
from sympy import Float, Rational, Symbol

from symprop.engine import backprop
from symprop.checks.claims import check_claim
from symprop.checks.diagnosis import (
    DIAGNOSIS_POINTS, _constant_ratio, _describe_constant, _describe_size, _known_counts, _path_label,
    _simple_fraction, diagnose,
)
from symprop.model.graph import Graph
from symprop.model.nn import Dense, batched, mlp
from symprop.checks.random_points import context_of, sample_points

from tests.conftest import chain_network, mazur_network

MAZUR = mazur_network()
MAZUR_DERIVATION = backprop.derive(MAZUR)

W5_TRUE = "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1"


# ---------------------------------------------------------------- classic mistakes, through check_claim


def diagnosis(target, parameter, claim) -> str:
    verdict = check_claim(target, parameter, claim)
    assert not verdict.equal
    assert verdict.method == "numeric"
    return verdict.diagnosis


def test_a_lost_activation_derivative_is_named():
    assert diagnosis(MAZUR, "w5", "(out_o1 - t1)*out_h1") == (
        "missing the factor sigmoid'(net_o1) = out_o1*(1 - out_o1)"
    )


def test_a_lost_hidden_activation_derivative_is_named():
    assert diagnosis(MAZUR, "w1", "(delta_net_o1*w5 + delta_net_o2*w7)*i1") == (
        "missing the factor sigmoid'(net_h1) = out_h1*(1 - out_h1)"
    )


def test_an_extra_activation_derivative_is_named():
    assert diagnosis(MAZUR, "w5", f"{W5_TRUE}*out_h1*(1 - out_h1)") == (
        "an extra factor sigmoid'(net_h1) = out_h1*(1 - out_h1)"
    )


def test_the_squares_2_kept_against_a_half_sse_loss_is_a_factor_2():
    assert diagnosis(MAZUR, "w5", f"2*{W5_TRUE}") == (
        "off by a factor 2: the claim is 2 times the gradient "
        "(a square's 2 kept although the half_sse loss's 1/2 cancels it)"
    )


def test_the_squares_2_dropped_from_3blue1browns_cost_is_a_factor_one_half():
    chain = chain_network()
    assert check_claim(chain, "w3", "a2*a3*(1 - a3)*2*(a3 - y)").equal
    assert diagnosis(chain, "w3", "a2*a3*(1 - a3)*(a3 - y)") == (
        "off by a factor 1/2: the claim is half the gradient "
        "(a square's 2 dropped although the sse loss has no 1/2 to cancel it)"
    )


def test_a_batch_mean_without_its_1_over_n_is_named():
    graph = batched(MAZUR.graph, 3, "mean")
    summed = " + ".join(f"(out_o1[{i}] - t1[{i}])*out_o1[{i}]*(1 - out_o1[{i}])*out_h1[{i}]" for i in (1, 2, 3))
    assert check_claim(graph, "w5", f"({summed})/3").equal
    assert diagnosis(graph, "w5", summed) == (
        "off by a factor 3: the claim is 3 times the gradient (the 1/n of the mean over n = 3 examples is missing)"
    )


def test_a_sign_error_is_named():
    assert diagnosis(MAZUR, "w5", "(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1") == (
        "sign error: the claim has the opposite sign"
    )


def test_a_sign_error_with_a_lost_derivative_names_both():
    assert diagnosis(MAZUR, "w5", "(t1 - out_o1)*out_h1") == (
        "missing the factor sigmoid'(net_o1) = out_o1*(1 - out_o1); sign error: the claim has the opposite sign"
    )


def test_a_hidden_weight_through_one_output_only_misses_the_other_path():
    assert diagnosis(MAZUR, "w1", "(out_o1 - t1)*out_o1*(1 - out_o1)*w5*out_h1*(1 - out_h1)*i1") == (
        "missing the path through out_o2 (E_total -> out_o2 -> net_o2 -> out_h1 -> net_h1 -> w1)"
    )


def test_a_shared_bias_taken_through_one_unit_misses_the_other_term():
    assert diagnosis(MAZUR, "b1", "delta_net_h1") == "missing the term through net_h2 (b1 also feeds net_h2)"


def test_one_path_of_four_is_named_as_the_only_one():
    assert diagnosis(MAZUR, "b1", "(out_o2 - t2)*out_o2*(1 - out_o2)*w8*out_h2*(1 - out_h2)") == (
        "only the path through out_o2 (E_total -> out_o2 -> net_o2 -> out_h2 -> net_h2 -> b1), missing the other 3 paths"
    )


def test_a_mean_over_outputs_without_its_1_over_m_is_named():
    network = mlp(2, [Dense(3, "sigmoid")], "mse")
    assert check_claim(network, "b1_1", "2*(a1_1 - y1)*a1_1*(1 - a1_1)/3").equal
    assert diagnosis(network, "b1_1", "2*(a1_1 - y1)*a1_1*(1 - a1_1)") == (
        "off by a factor 3: the claim is 3 times the gradient (the 1/n of the mean over n = 3 outputs is missing)"
    )


def test_a_factor_2_without_a_square_in_sight_gets_no_story():
    x, y, w = sympy.symbols("x y w", real=True)
    graph = Graph.from_pairs([(Symbol("f", real=True), w * x * y)], inputs=(x, y), parameters=(w,))
    assert diagnosis(graph, "w", "2*x*y") == "off by a factor 2: the claim is 2 times the gradient"


def test_a_relu_gradient_that_is_mostly_zero_is_still_diagnosed():
    network = mlp(2, [Dense(3, "relu"), Dense(3, "softmax")], "softmax_cross_entropy", notation="dlfs")
    derivation = backprop.derive(network)
    right = derivation["W1_1_1"].closed_form
    assert check_claim(derivation, "W1_1_1", right).equal
    assert diagnosis(derivation, "W1_1_1", -right) == "sign error: the claim has the opposite sign"


# ---------------------------------------------------------------- diagnose itself


def test_one_point_of_a_verdict_is_topped_up_to_the_diagnosis_points():
    context = context_of(MAZUR_DERIVATION)
    gradient = MAZUR_DERIVATION["w5"]
    one = sample_points(context, 1, 0, 30)
    assert DIAGNOSIS_POINTS == 8
    assert diagnose(context, gradient, -gradient.closed_form, one, 0, 30) == "sign error: the claim has the opposite sign"
    assert diagnose(context, gradient, gradient.closed_form, one, 0, 30) is None


def test_a_path_is_labelled_by_its_first_node_not_on_every_path():
    paths = MAZUR_DERIVATION["b1"].paths
    assert _path_label(paths[0], paths) == "out_o1 (E_total -> out_o1 -> net_o1 -> out_h1 -> net_h1 -> b1)"


def test_the_counts_a_gradient_is_commonly_divided_by():
    assert _known_counts(context_of(batched(MAZUR.graph, 3, "mean"))) == [(3, "examples")]
    assert _known_counts(context_of(mlp(2, [Dense(3, "sigmoid")], "mse"))) == [(3, "outputs")]
    assert _known_counts(context_of(MAZUR_DERIVATION)) == []


def test_a_constant_ratio_needs_two_nonzero_points_and_agreement_everywhere():
    assert _constant_ratio([2, 4, None], [1, 2, 3], 30) == 2
    assert _constant_ratio([2, 4, 0], [1, 2, 0], 30) == 2
    assert _constant_ratio([2, 5], [1, 2], 30) is None
    assert _constant_ratio([2], [1], 30) is None
    assert _constant_ratio([2, 4, 1], [1, 2, 0], 30) is None


def test_simple_fractions_have_small_denominators():
    assert _simple_fraction(Rational(2, 3), 30) == Fraction(2, 3)
    assert _simple_fraction(sympy.pi.evalf(30), 30) is None


def test_describe_constant():
    assert _describe_constant(Rational(1), [], None, 30) == ""
    assert _describe_constant(0, [], None, 30) == "the claim is 0 at every point"
    assert _describe_constant(Rational(-2), [], "half_sse", 30) == (
        "sign error: the claim has the opposite sign; off by a factor 2: the claim is 2 times the gradient "
        "(a square's 2 kept although the half_sse loss's 1/2 cancels it)"
    )
    assert _describe_constant(Float("1.2345678912345", 30), [], None, 30) == (
        "off by a constant factor 1.23456789: the claim is 1.23456789 times the gradient"
    )


def test_describe_size_names_every_count_that_fits():
    assert _describe_size(Fraction(1, 3), [(3, "examples")], None) == (
        "off by a factor 1/3: the claim is 1/3 times the gradient (an extra 1/n for n = 3 examples)"
    )
    assert _describe_size(Fraction(3), [(3, "examples"), (3, "outputs")], None) == (
        "off by a factor 3: the claim is 3 times the gradient (the 1/n of the mean over n = 3 examples is missing; "
        "or the 1/n of the mean over n = 3 outputs is missing)"
    )
    assert _describe_size(Fraction(1, 2), [], "mse") == (
        "off by a factor 1/2: the claim is half the gradient "
        "(a square's 2 dropped although the mse loss has no 1/2 to cancel it)"
    )


# ---------------------------------------------------------------- a sibling taken for the right name


def test_a_wrong_index_is_named_with_the_parameter_whose_gradient_it_is():
    assert diagnosis(MAZUR, "w5", "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h2") == (
        "uses out_h2 where the gradient has out_h1 (the gradient of w6)")
    w1 = str(MAZUR_DERIVATION["w1"].closed_form)
    assert diagnosis(MAZUR, "w1", w1.replace("i1", "i2")) == "uses i2 where the gradient has i1 (the gradient of w2)"


def test_a_wrong_weight_in_a_hidden_gradient_is_named():
    w1 = str(MAZUR_DERIVATION["w1"].closed_form)
    assert "w5" in w1
    assert diagnosis(MAZUR, "w1", w1.replace("w5", "w6")) == "uses w6 where the gradient has w5"
    assert diagnosis(MAZUR, "w1", "-(" + w1.replace("w5", "w6") + ")") == (
        "uses w6 where the gradient has w5; sign error: the claim has the opposite sign")


def test_another_parameters_whole_gradient_is_named():
    assert diagnosis(MAZUR, "w5", "(out_o2 - t2)*out_o2*(1 - out_o2)*out_h1") == "the gradient of w7, not of w5"


def test_siblings_differ_in_one_number_only():
    from symprop.checks.diagnosis import _siblings

    names = sympy.symbols("i1 i2 t1 out_h1 out_o1 w2_1_2 w2_2_2 w1_2_2 w2_2_1", real=True)
    i1, i2, t1, out_h1, out_o1, a, b, c, d = names
    assert _siblings(i1, names) == [i2]
    assert _siblings(out_h1, names) == []
    assert _siblings(a, names) == [b]  # w1_2_2 and w2_2_1 differ from w2_1_2 in two numbers
    assert _siblings(b, names) == [a, c, d]


def test_a_nonzero_claim_against_an_astronomically_large_gradient_is_not_called_zero():
    w, x, f = (Symbol(n, real=True) for n in "wxf")
    graph = Graph.from_pairs([(f, sympy.exp(sympy.exp(sympy.exp(sympy.exp(sympy.exp(w * x))))))],
                             inputs=[x], parameters=[w])
    assert "0 at every point" not in (diagnosis(graph, "w", "-1") or "")
    assert diagnosis(graph, "w", "0") == "the claim is 0 at every point"
