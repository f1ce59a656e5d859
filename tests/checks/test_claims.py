"""Checks for users: claimed formulas against the engine, with a diagnosis when they differ."""
from __future__ import annotations

import json

import pytest
import sympy
from sympy import Rational, Symbol

from symprop.engine import backprop


from symprop.checks import claims as check

from symprop.checks.claims import assert_gradient, check_claim, parse_claim
from symprop.checks.random_points import ClaimError
from symprop.model.nn import batched

from tests.conftest import mazur_network

MAZUR = mazur_network()
MAZUR_DERIVATION = backprop.derive(MAZUR)
S = {s.name: s for s in (*MAZUR.graph.inputs, *MAZUR.graph.parameters, *MAZUR.graph.nodes)}

W5_TRUE = "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1"
W1_TRUE = "(w5*out_o1*(1 - out_o1)*(out_o1 - t1) + w7*out_o2*(1 - out_o2)*(out_o2 - t2))*out_h1*(1 - out_h1)*i1"


def sigmoid_text(x: str) -> str:
    return f"1/(1 + exp(-({x})))"


def w5_in_inputs(sigmoid=sigmoid_text) -> str:
    """dE/dw5 written out in i1, i2, t1 and the parameters only."""
    h1 = sigmoid("w1*i1 + w2*i2 + b1")
    h2 = sigmoid("w3*i1 + w4*i2 + b1")
    o1 = sigmoid(f"w5*{h1} + w6*{h2} + b2")
    return f"({o1} - t1)*{o1}*(1 - {o1})*{h1}"


# ---------------------------------------------------------------- reading claims


def test_a_claim_string_is_read_in_the_networks_own_symbols():
    assert parse_claim("out_o1*(1-out_o1)*(out_o1-t1)*out_h1", MAZUR) == (
        S["out_o1"] * (1 - S["out_o1"]) * (S["out_o1"] - S["t1"]) * S["out_h1"]
    )


def test_decimals_are_read_as_fractions_and_caret_as_power():
    assert parse_claim("out_o1^2 - 0.5*t1", MAZUR) == S["out_o1"] ** 2 - Rational(1, 2) * S["t1"]


def test_functions_and_adjoint_symbols_may_be_used():
    claim = parse_claim("sigmoid(net_o1) + delta_net_o1", MAZUR)
    assert claim == check.functions.sigmoid(S["net_o1"]) + Symbol("delta_net_o1", real=True)


def test_a_batch_copy_is_written_as_it_is_named():
    graph = batched(MAZUR.graph, 2)
    claim = parse_claim("out_o1[2] - t1[1]", graph)
    assert claim == Symbol("out_o1[2]", real=True) - Symbol("t1[1]", real=True)


def test_import_in_a_claim_is_refused_before_anything_runs(tmp_path):
    victim = tmp_path / "keep.txt"
    victim.write_text("still here")
    with pytest.raises(ClaimError, match=r"^unknown name '__import__' in the claim"):
        check_claim(MAZUR, "w5", f'__import__("os").remove({str(victim)!r})')
    assert victim.read_text() == "still here"


@pytest.mark.parametrize(
    "text, found",
    [
        ("().__class__.__bases__", "'.'"),
        ("out_o1.func", "'.'"),
        ('"out_o1"', "'\"out_o1\"'"),
        ("out_o1; t1", "';'"),
        ("out_o1 == t1", "'=='"),
        ("[out_o1]", "'['"),
    ],
)
def test_attribute_access_strings_and_statements_are_refused(text, found):
    with pytest.raises(ClaimError) as error:
        parse_claim(text, MAZUR)
    assert str(error.value) == (
        f"the claim may only use names, numbers, + - * / ** ^, parentheses and commas; found {found}"
    )


@pytest.mark.parametrize("text, name", [("lambda: 1", "lambda"), ("exec(t1)", "exec"), ("Integer(3)", "Integer"),
                                        ("out_o1 if t1 else t2", "if"), ("foo*out_o1", "foo")])
def test_keywords_builtins_and_unknown_names_are_refused_by_name(text, name):
    with pytest.raises(ClaimError, match=rf"^unknown name '{name}' in the claim \(known: i1, i2, t1, t2, w1,"):
        parse_claim(text, MAZUR)


def test_an_unfinished_claim_is_a_claim_error():
    with pytest.raises(ClaimError) as error:
        parse_claim("out_o1*(", MAZUR)
    assert str(error.value) == "cannot read the claim 'out_o1*(': unbalanced parentheses or an unfinished expression"


def test_a_sympy_claim_is_matched_by_name_whatever_its_assumptions():
    out_o1, t1, out_h1 = sympy.symbols("out_o1 t1 out_h1")  # no real=True
    sigmoid = sympy.Function("sigmoid")
    verdict = check_claim(MAZUR, "w5", (sigmoid(Symbol("net_o1")) - t1) * out_o1 * (1 - out_o1) * out_h1)
    assert verdict.equal and verdict.method == "symbolic"


def test_a_sympy_claim_with_an_unknown_symbol_is_refused():
    with pytest.raises(ClaimError, match=r"^unknown name 'x' in the claim"):
        check_claim(MAZUR, "w5", Symbol("x") * S["out_h1"])


def test_an_unknown_parameter_lists_the_parameters():
    with pytest.raises(ClaimError) as error:
        check_claim(MAZUR, "w9", "out_h1")
    assert str(error.value) == (
        "w9 is not a parameter or node of this network (parameters: w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"
    )


# ---------------------------------------------------------------- right claims in other forms


@pytest.mark.parametrize(
    "claim",
    [
        W5_TRUE,
        "-(t1-out_o1)*out_h1*out_o1*(1-out_o1)",
        "out_h1*out_o1*(out_o1 - t1) - out_h1*out_o1^2*(out_o1 - t1)",
        "delta_net_o1*out_h1",
        "(sigmoid(net_o1) - t1)*sigmoid(net_o1)*(1 - sigmoid(net_o1))*out_h1",
        "(1/(1 + exp(-net_o1)) - t1)*out_o1*(1 - out_o1)*out_h1",
    ],
)
def test_right_claims_in_forward_quantities_are_proved_symbolically(claim):
    verdict = check_claim(MAZUR, "w5", claim)
    assert verdict.equal
    assert verdict.method == "symbolic"
    assert verdict.detail.startswith("claim - expected is 0 in forward quantities (")
    assert verdict.points == 0 and verdict.point is None and verdict.diagnosis is None


def test_the_fully_expanded_form_in_inputs_and_weights_is_proved_symbolically():
    verdict = check_claim(MAZUR, "w5", w5_in_inputs())
    assert verdict.equal
    assert verdict.detail == "claim - expected is 0 in inputs and parameters, activations in exp (as written)"


def test_sigma_prime_written_in_exp_needs_together_and_expand():
    verdict = check_claim(MAZUR, "w5", "(out_o1 - t1)*exp(-net_o1)/(1 + exp(-net_o1))^2*out_h1")
    assert verdict.equal
    assert verdict.detail == (
        "claim - expected is 0 in inputs and parameters, activations in exp (together, then expand of the numerator)"
    )


def test_a_form_the_rewrites_miss_is_proved_at_random_points_and_says_how_many():
    verdict = check_claim(MAZUR, "w5", w5_in_inputs(lambda x: f"exp({x})/(1 + exp({x}))"), points=4)
    assert verdict.equal
    assert verdict.method == "numeric"
    assert verdict.detail == "agree at all 4 random points at 30 significant digits"
    assert verdict.points == 4 and verdict.digits == 30 and verdict.differing == 0


def test_hidden_weight_claims_with_both_paths_are_right():
    assert check_claim(MAZUR, "w1", W1_TRUE).equal
    assert check_claim(MAZUR_DERIVATION, Symbol("w1", real=True), "(delta_net_o1*w5 + delta_net_o2*w7)*out_h1*(1 - out_h1)*i1").equal


def test_a_node_may_be_checked_like_a_parameter():
    assert check_claim(MAZUR, "out_h1", "w5*delta_net_o1 + w7*delta_net_o2").equal


# ---------------------------------------------------------------- no diagnosis (the diagnoses: test_diagnosis.py)


def test_an_unexplained_difference_says_so():
    verdict = check_claim(MAZUR, "w5", "out_o1*t1")
    assert verdict.diagnosis is None
    assert verdict.summary().endswith(
        "diagnosis: none found (not a constant factor, a local factor or a path away)"
    )


# ---------------------------------------------------------------- the verdict


def test_a_wrong_verdict_reads_as_a_few_lines():
    verdict = check_claim(MAZUR, "w5", "(out_o1 - t1)*out_h1", points=3)
    assert verdict.summary() == "\n".join([
        "dE_total/dw5: the claim is NOT equal to the gradient",
        "  expected:  out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)",
        "  claimed:   out_h1*(out_o1 - t1)",
        "  method:    numeric, differ at 3 of 3 random points at 30 significant digits",
        "  at:        i1 = 0.2623, i2 = 0.3781, t1 = 0.0664, t2 = 0.4243, w1 = 0.6753, w2 = 0.5922, w3 = 0.3268, "
        "w4 = -0.0062, b1 = 0.5617, w5 = 0.1732, w6 = 0.9116, w7 = -0.2843, w8 = 0.6537, b2 = -0.5437",
        "  values:    expected 0.0858515833704, claimed 0.346181726888",
        "  diagnosis: missing the factor sigmoid'(net_o1) = out_o1*(1 - out_o1)",
    ])


def test_the_differing_values_are_the_formulas_at_the_reported_point():
    verdict = check_claim(MAZUR, "w5", "(out_o1 - t1)*out_h1")
    env = dict(verdict.point)  # exact fractions: every node below is exact until evalf
    for eq in MAZUR.graph.equations:
        env[eq.node] = check.functions.elementary(eq.expr).xreplace(env)
    truth = verdict.expected.xreplace(env).evalf(30)
    claimed = verdict.claim.xreplace(env).evalf(30)
    assert abs(truth - verdict.expected_value) < 1e-25
    assert abs(claimed - verdict.claimed_value) < 1e-25


def test_a_right_verdict_reads_as_a_few_lines():
    assert check_claim(MAZUR, "w5", W5_TRUE).summary() == "\n".join([
        "dE_total/dw5: the claim is equal to the gradient",
        "  expected:  out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)",
        "  claimed:   out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)",
        "  method:    symbolic, claim - expected is 0 in forward quantities (as written)",
    ])


def test_the_verdict_as_json():
    data = check_claim(MAZUR, "w5", "(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1", points=2).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["equal"] is False and data["method"] == "numeric" and data["points"] == 2
    assert data["expected_latex"] == r"\mathrm{out}_{h1} \cdot \mathrm{out}_{o1} (1 - \mathrm{out}_{o1}) (\mathrm{out}_{o1} - t_{1})"
    assert data["point"]["w5"] == 0.1732
    assert data["claimed_value"] == pytest.approx(-data["expected_value"], rel=1e-15)
    assert data["diagnosis"] == "sign error: the claim has the opposite sign"


# ---------------------------------------------------------------- pytest helper for claims


def test_assert_gradient_passes_quietly_and_returns_the_verdict():
    assert assert_gradient(MAZUR, "w5", W5_TRUE).equal


def test_assert_gradient_fails_with_the_formulas_values_and_diagnosis():
    with pytest.raises(AssertionError) as error:
        assert_gradient(MAZUR, "w1", "(out_o1 - t1)*out_o1*(1 - out_o1)*w5*out_h1*(1 - out_h1)*i1", points=3)
    message = str(error.value)
    lines = message.splitlines()
    assert lines[1] == "dE_total/dw1: the claim is NOT equal to the gradient"
    assert lines[2] == (
        "  expected:  i1*out_h1*(1 - out_h1)*(out_o1*w5*(1 - out_o1)*(out_o1 - t1) + out_o2*w7*(1 - out_o2)*(out_o2 - t2))"
    )
    assert lines[3] == "  claimed:   i1*out_h1*out_o1*w5*(1 - out_h1)*(1 - out_o1)*(out_o1 - t1)"
    assert lines[6] == "  values:    expected 0.00109152948581, claimed 0.00107775933576"
    assert lines[7] == "  diagnosis: missing the path through out_o2 (E_total -> out_o2 -> net_o2 -> out_h1 -> net_h1 -> w1)"


def test_one_point_decides_but_the_diagnosis_still_compares_several():
    verdict = check_claim(MAZUR, "w5", f"-{W5_TRUE}", points=1)
    assert verdict.detail == "differ at 1 of 1 random points at 30 significant digits"
    assert verdict.point == check_claim(MAZUR, "w5", f"-{W5_TRUE}").point
    assert verdict.diagnosis == "sign error: the claim has the opposite sign"


def test_a_power_of_numbers_too_large_to_compute_is_refused():
    with pytest.raises(ClaimError) as error:
        parse_claim("9**9**9**9", MAZUR)
    assert str(error.value) == "the claim raises 9 to the power 387420489: too large to compute"


def test_a_high_symbolic_power_is_decided_at_points_not_expanded():
    # (x + 1)^20 = (x^2 + 2x + 1)^10, but expand would multiply out both sides.
    claim = f"{W5_TRUE} + (out_o1 + 1)**20 - (out_o1**2 + 2*out_o1 + 1)**10"
    verdict = check_claim(MAZUR, "w5", claim, points=2)
    assert verdict.equal and verdict.method == "numeric"


# ---------------------------------------------------------------- where users import the checks from


# ---------------------------------------------------------------- one safe parser for claims and node files


def test_a_claim_goes_through_the_node_parsers_checks_in_claim_wording():
    with pytest.raises(ClaimError) as error:
        parse_claim("1/0 + out_o1", MAZUR)
    assert str(error.value) == "cannot read the claim '1/0 + out_o1': it divides a number by zero"
    with pytest.raises(ClaimError) as error:
        parse_claim("out_o1/(t1 - t1)", MAZUR)
    assert str(error.value) == (
        "cannot read the claim 'out_o1/(t1 - t1)': it is infinite or undefined (zoo*out_o1): check divisions and "
        "logarithms"
    )
    with pytest.raises(ClaimError) as error:
        parse_claim("out_o1(2)", MAZUR)
    assert str(error.value).startswith("cannot read the claim 'out_o1(2)': calling out_o1 is not allowed")
    with pytest.raises(ClaimError, match=r"^cannot read the claim 'sigmoid\(out_o1, t1\)': sigmoid takes 1 argument"):
        parse_claim("sigmoid(out_o1, t1)", MAZUR)


def test_a_claim_may_call_every_function_with_a_record():
    claim = parse_claim("softplus(net_o1) + silu(net_o1) + leaky_relu(net_o1) + softmax(1, net_o1, net_o2)", MAZUR)
    net_o1, net_o2 = S["net_o1"], S["net_o2"]
    assert claim == (check.functions.softplus(net_o1) + check.functions.silu(net_o1)
                     + check.functions.leaky_relu(net_o1, Rational(1, 100))
                     + check.functions.softmax(sympy.Integer(1), net_o1, net_o2))


def test_a_verdict_shows_its_formulas_as_math_in_a_notebook():
    from symprop.checks.claims import check_claim
    from tests.conftest import mazur_network

    network = mazur_network()
    wrong = check_claim(network, "w5", "(out_o1-t1)*out_h1")._repr_markdown_()
    assert wrong.startswith(r"$\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}$: the claim is **not equal** to the gradient")
    assert r"- claimed: $\mathrm{out}_{h1} (\mathrm{out}_{o1} - t_{1})$" in wrong
    assert r"- diagnosis: missing the factor sigmoid'(net\_o1) = out\_o1\*(1 - out\_o1)" in wrong
    right = check_claim(network, "w5", "out_o1*(1-out_o1)*(out_o1-t1)*out_h1")._repr_markdown_()
    assert "the claim is equal to the gradient (symbolic" in right and "diagnosis" not in right
    assert "Verdict(" not in right
