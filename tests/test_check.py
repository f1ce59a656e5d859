"""Checks for users: claimed formulas and hand-written backward passes against the engine."""
from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest
import sympy
from sympy import Rational, Symbol

from symprop import backprop, check
from symprop.check import ClaimError, assert_backward, assert_gradient, check_backward, check_claim, parse_claim
from symprop.graph import Graph
from symprop.nn import Dense, batched, mlp

from .conftest import chain_network, mazur_network

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


# ---------------------------------------------------------------- classic mistakes


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
    assert data["expected_latex"] == r"out_{h1} out_{o1} \left(1 - out_{o1}\right) \left(out_{o1} - t_{1}\right)"
    assert data["point"]["w5"] == 0.1732
    assert data["claimed_value"] == pytest.approx(-data["expected_value"], rel=1e-15)
    assert data["diagnosis"] == "sign error: the claim has the opposite sign"


def test_the_seed_chooses_the_points_reproducibly():
    first = check_claim(MAZUR, "w5", "out_h1", seed=7)
    assert first.point == check_claim(MAZUR, "w5", "out_h1", seed=7).point
    assert first.point != check_claim(MAZUR, "w5", "out_h1", seed=8).point


def test_softmax_cross_entropy_targets_are_drawn_as_probabilities():
    network = mlp(2, [Dense(2, "identity")], "softmax_cross_entropy")
    # dL/dz_1 = softmax_1 - y1 holds only when y1 + y2 = 1.
    assert check_claim(network, "b1_1", "exp(z1_1)/(exp(z1_1) + exp(z1_2)) - y1", points=4).equal


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


# ---------------------------------------------------------------- hand-written backward passes


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def mazur_gradients(values, *, only_first_path=False):
    """Mazur's gradients by hand, in NumPy, from the values by name."""
    v = values
    x = np.array([v["i1"], v["i2"]])
    t = np.array([v["t1"], v["t2"]])
    w_hidden = np.array([[v["w1"], v["w2"]], [v["w3"], v["w4"]]])
    w_out = np.array([[v["w5"], v["w6"]], [v["w7"], v["w8"]]])
    h = sigmoid(w_hidden @ x + v["b1"])
    o = sigmoid(w_out @ h + v["b2"])
    delta_out = (o - t) * o * (1 - o)
    back = w_out.T @ delta_out if not only_first_path else w_out[0] * delta_out[0]
    delta_hidden = back * h * (1 - h)
    grads = {"b1": delta_hidden.sum(), "b2": delta_out.sum()}
    grads.update(zip(["w1", "w2", "w3", "w4"], np.outer(delta_hidden, x).ravel()))
    grads.update(zip(["w5", "w6", "w7", "w8"], np.outer(delta_out, h).ravel()))
    return grads


def test_a_right_gradient_function_passes():
    report = check_backward(MAZUR, mazur_gradients)
    assert report.ok
    assert set(report.worst) == {"w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"}
    assert max(report.worst.values()) < 1e-12
    assert report.summary().startswith("backward: OK, worst relative error ")


def test_a_gradient_function_missing_a_path_fails_on_the_hidden_parameters():
    report = check_backward(MAZUR, lambda values: mazur_gradients(values, only_first_path=True))
    assert not report.ok
    assert {c.parameter for c in report.failing()} == {"w1", "w2", "w3", "w4", "b1"}
    assert report.worst["w5"] < 1e-12
    assert report.summary().splitlines()[0] == "backward: WRONG for w1, w2, w3, w4, b1 at 5 random points (rtol 1e-06)"


def test_a_missing_gradient_is_an_infinite_error_shown_as_missing():
    report = check_backward(MAZUR, lambda values: {k: g for k, g in mazur_gradients(values).items() if k != "b2"})
    assert report.worst["b2"] == float("inf")
    b2_line = next(line for line in report.summary().splitlines() if line.startswith("  b2 "))
    assert b2_line.split()[1:2] == ["inf"] and "missing" in b2_line and b2_line.endswith("<- differs")
    assert report.to_dict()["parameters"][-1]["relative_error"] is None


class Affine:
    """A "Deep Learning from Scratch" affine layer, x @ W + b, optionally with a classic bug."""

    def __init__(self, n_in, n_out, bug=None):
        self.W, self.b, self.bug = np.zeros((n_in, n_out)), np.zeros(n_out), bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout if self.bug != "dW transposed" else (self.x.T @ dout).T
        self.db = dout.sum(axis=0)
        return dout @ (self.W if self.bug == "dx without transpose" else self.W.T)


class Sigmoid:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class HalfSSE:
    def forward(self, y, t):
        self.y, self.t = y, t
        return 0.5 * np.sum((t - y) ** 2)

    def backward(self, dout=1):
        return dout * (self.y - self.t)


def mazur_layers(bug=None, loss=True):
    layers = [Affine(2, 2), Sigmoid(), Affine(2, 2, bug), Sigmoid()]
    return layers + [HalfSSE()] if loss else layers


@pytest.mark.parametrize("loss", [True, False])
def test_right_layers_pass_with_or_without_a_loss_layer(loss):
    report = assert_backward(MAZUR, mazur_layers(loss=loss))
    assert report.ok and max(report.worst.values()) < 1e-12


def test_a_wrong_transpose_in_the_backward_of_dx_is_caught_below_it():
    report = check_backward(MAZUR, mazur_layers("dx without transpose"))
    assert {c.parameter for c in report.failing()} == {"w1", "w2", "w3", "w4", "b1"}
    assert all(report.worst[p] < 1e-12 for p in ("w5", "w6", "w7", "w8", "b2"))


def test_a_transposed_weight_gradient_is_caught_on_the_off_diagonal_weights():
    report = check_backward(MAZUR, mazur_layers("dW transposed"))
    # W[k, j] holds the weight from input k to unit j: transposing swaps w6 and w7 only.
    assert {c.parameter for c in report.failing()} == {"w6", "w7"}


def test_assert_backward_names_the_parameters_and_values():
    with pytest.raises(AssertionError) as error:
        assert_backward(MAZUR, mazur_layers("dx without transpose"), points=2)
    lines = str(error.value).splitlines()
    assert lines[1] == "backward: WRONG for w1, w2, w3, w4, b1 at 2 random points (rtol 1e-06)"
    assert lines[2].split() == ["parameter", "worst", "rel.", "error", "expected", "got", "point"]
    w1 = lines[3].split()
    assert w1[0] == "w1" and w1[-2:] == ["<-", "differs"]
    assert float(w1[2]) == pytest.approx(mazur_gradients(check_backward(MAZUR, mazur_gradients, points=2)
                                                         .values[int(w1[4]) - 1])["w1"], rel=1e-8)


def test_a_wrong_forward_pass_is_reported_as_a_problem():
    layers = mazur_layers(loss=False)
    layers[1] = type("Tanh", (), {"forward": lambda self, x: np.tanh(x), "backward": lambda self, d: d})()
    report = check_backward(MAZUR, layers, points=1)
    assert not report.ok
    assert report.problems[0].startswith("point 1: the forward output is [")
    assert "but the network gives [" in report.problems[0]


def test_a_dlfs_network_object_with_layers_and_last_layer_is_accepted():
    class TwoLayerNet:
        def __init__(self):
            self.layers = OrderedDict(Affine1=Affine(2, 2), Sigmoid1=Sigmoid(), Affine2=Affine(2, 2), Sigmoid2=Sigmoid())
            self.lastLayer = HalfSSE()

    assert check_backward(MAZUR, TwoLayerNet(), points=2).ok


class SoftmaxWithLoss:
    """Deep Learning from Scratch's fused layer: backward gives (y - t) / batch."""

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


def test_per_unit_biases_and_softmax_with_loss_pass():
    network = mlp(2, [Dense(3, "relu"), Dense(2, "identity")], "softmax_cross_entropy")
    report = check_backward(network, [Affine(2, 3), Relu(), Affine(3, 2), SoftmaxWithLoss()], points=3)
    assert report.ok, report.summary()
    assert set(report.worst) >= {"b1_1", "b1_2", "b1_3", "b2_1", "b2_2"}


def test_a_weight_array_of_the_wrong_shape_is_refused():
    with pytest.raises(ClaimError, match=r"^dense layer 1: W has shape \(3, 2\), expected \(2, 2\) \(inputs x units\)$"):
        check_backward(MAZUR, [Affine(3, 2), Sigmoid(), Affine(2, 2), Sigmoid()])


def test_layers_need_a_layered_network():
    with pytest.raises(ClaimError, match="layered Network"):
        check_backward(MAZUR.graph, mazur_layers())


def test_one_point_decides_but_the_diagnosis_still_compares_several():
    verdict = check_claim(MAZUR, "w5", f"-{W5_TRUE}", points=1)
    assert verdict.detail == "differ at 1 of 1 random points at 30 significant digits"
    assert verdict.point == check_claim(MAZUR, "w5", f"-{W5_TRUE}").point
    assert verdict.diagnosis == "sign error: the claim has the opposite sign"


def test_a_mean_over_outputs_without_its_1_over_m_is_named():
    network = mlp(2, [Dense(3, "sigmoid")], "mse")
    assert check_claim(network, "b1_1", "2*(a1_1 - y1)*a1_1*(1 - a1_1)/3").equal
    assert diagnosis(network, "b1_1", "2*(a1_1 - y1)*a1_1*(1 - a1_1)") == (
        "off by a factor 3: the claim is 3 times the gradient (the 1/n of the mean over n = 3 outputs is missing)"
    )


def test_a_power_of_numbers_too_large_to_compute_is_refused():
    with pytest.raises(ClaimError) as error:
        parse_claim("9**9**9**9", MAZUR)
    assert str(error.value) == "the claim raises 9 to the power 387420489: too large to compute"


def test_a_high_symbolic_power_is_decided_at_points_not_expanded():
    # (x + 1)^20 = (x^2 + 2x + 1)^10, but expand would multiply out both sides.
    claim = f"{W5_TRUE} + (out_o1 + 1)**20 - (out_o1**2 + 2*out_o1 + 1)**10"
    verdict = check_claim(MAZUR, "w5", claim, points=2)
    assert verdict.equal and verdict.method == "numeric"


def test_one_affine_layer_alone_is_a_backward():
    network = mlp(2, [Dense(2, "identity")], "half_sse")
    assert check_backward(network, Affine(2, 2), points=2).ok


def test_a_loss_layer_for_another_loss_fails_with_the_loss_named():
    class SSE(HalfSSE):
        def forward(self, y, t):
            return 2 * super().forward(y, t)

        def backward(self, dout=1):
            return 2 * super().backward(dout)

    report = check_backward(MAZUR, mazur_layers(loss=False) + [SSE()], points=2)
    assert {c.parameter for c in report.failing()} == set(report.worst)
    assert len(report.problems) == 2
    assert all(p.startswith(f"point {i}: the loss is [") for i, p in enumerate(report.problems, 1))
    assert all(c.got == pytest.approx(2 * c.expected, rel=1e-12) for c in report.checks)


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
