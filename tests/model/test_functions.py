"""Each activation's derivative identity against ``diff`` of its elementary definition."""
from __future__ import annotations

import pytest
import sympy
from sympy import Heaviside, Integer, Rational, Symbol, exp, log, tanh

from symprop.model import functions
from symprop.model.functions import leaky_relu, relu, sigmoid, silu, softmax, softmax_cross_entropy, softplus
from tests.reference import assert_equal_at_random_points, exactly_equal_in_exponentials

z, z1, z2, z3 = (Symbol(n, real=True) for n in ("z", "z1", "z2", "z3"))
t1, t2, t3 = (Symbol(n, real=True) for n in ("t1", "t2", "t3"))
alpha = Symbol("alpha", positive=True)
LOGITS = (z1, z2, z3)
TARGETS = (t1, t2, t3)


def elementary_derivative(expr, symbol):
    """The independent side: diff of the elementary definition."""
    return sympy.diff(functions.elementary(expr), symbol)


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    assert sympy.diff(sigmoid(z), z) == sigmoid(z) * (1 - sigmoid(z))
    assert exactly_equal_in_exponentials(sympy.diff(sigmoid(z), z), elementary_derivative(sigmoid(z), z))


def test_sigmoid_definition_and_value_at_zero():
    assert functions.elementary(sigmoid(z)) == 1 / (1 + exp(-z))
    assert sigmoid(Integer(0)) == Rational(1, 2)
    assert sigmoid(z).is_real


def test_tanh_derivative_is_one_minus_tanh_squared():
    assert sympy.diff(tanh(z), z) == 1 - tanh(z) ** 2
    assert_equal_at_random_points(sympy.diff(tanh(z), z), sympy.diff(tanh(z).rewrite(exp), z), [z])


def test_relu_derivative_is_unit_step_zero_at_the_kink():
    assert sympy.diff(relu(z), z) == Heaviside(z, 0)
    assert functions.elementary(relu(z)) == sympy.Max(0, z)
    assert_equal_at_random_points(sympy.diff(relu(z), z), elementary_derivative(relu(z), z), [z], points=8)
    assert sympy.diff(relu(z), z).subs(z, 0) == 0


def test_leaky_relu_derivatives_in_z_and_alpha():
    assert sympy.diff(leaky_relu(z, alpha), z) == Heaviside(z, 0) + alpha * Heaviside(-z, 1)
    assert sympy.diff(leaky_relu(z, alpha), alpha) == z * Heaviside(-z, 0)
    for symbol in (z, alpha):
        assert_equal_at_random_points(
            sympy.diff(leaky_relu(z, alpha), symbol), elementary_derivative(leaky_relu(z, alpha), symbol),
            [z, alpha], points=8, low=-2, high=2,
        )


def test_leaky_relu_definition_keeps_slope_alpha_below_zero():
    expr = functions.elementary(leaky_relu(z, Rational(1, 100)))
    assert expr.subs(z, 3) == 3
    assert expr.subs(z, -3) == Rational(-3, 100)


def test_softplus_derivative_is_sigmoid():
    assert sympy.diff(softplus(z), z) == sigmoid(z)
    assert functions.elementary(softplus(z)) == log(1 + exp(z))
    assert exactly_equal_in_exponentials(sympy.diff(softplus(z), z), elementary_derivative(softplus(z), z))


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("j", [1, 2, 3])
def test_softmax_jacobian_is_s_k_times_kronecker_minus_s_j(k, j):
    s_k, s_j = softmax(Integer(k), *LOGITS), softmax(Integer(j), *LOGITS)
    identity = s_k * (1 - s_k) if j == k else -s_k * s_j
    derivative = sympy.diff(s_k, LOGITS[j - 1])
    assert derivative == identity
    assert not derivative.has(exp)
    assert exactly_equal_in_exponentials(derivative, elementary_derivative(s_k, LOGITS[j - 1]))


def test_softmax_rewrites_to_exponentials_and_knows_its_index():
    s = softmax(Integer(2), *LOGITS)
    assert s.index == 2 and s.logits == LOGITS
    assert functions.elementary(s) == exp(z2) / (exp(z1) + exp(z2) + exp(z3))
    assert s.is_real


@pytest.mark.parametrize("j", [1, 2, 3])
def test_fused_softmax_cross_entropy_gradient_is_softmax_minus_target(j):
    loss = softmax_cross_entropy(*LOGITS, *TARGETS)
    derivative = sympy.diff(loss, LOGITS[j - 1])
    assert derivative == softmax(Integer(j), *LOGITS) - TARGETS[j - 1]
    # The identity holds because the targets are a distribution: sum t = 1.
    assert_equal_at_random_points(
        derivative, elementary_derivative(loss, LOGITS[j - 1]), [*LOGITS, t1, t2], derived={t3: 1 - t1 - t2}
    )


def test_fused_softmax_cross_entropy_identity_needs_targets_summing_to_one():
    loss = softmax_cross_entropy(*LOGITS, *TARGETS)
    with pytest.raises(AssertionError):
        assert_equal_at_random_points(sympy.diff(loss, z1), elementary_derivative(loss, z1), [*LOGITS, *TARGETS])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_fused_softmax_cross_entropy_derivative_in_target_is_minus_log_softmax(k):
    loss = softmax_cross_entropy(*LOGITS, *TARGETS)
    derivative = sympy.diff(loss, TARGETS[k - 1])
    assert derivative == -log(softmax(Integer(k), *LOGITS))
    assert_equal_at_random_points(derivative, elementary_derivative(loss, TARGETS[k - 1]), [*LOGITS, *TARGETS])


def test_fused_softmax_cross_entropy_splits_logits_and_targets():
    loss = softmax_cross_entropy(*LOGITS, *TARGETS)
    assert loss.width == 3 and loss.logits == LOGITS and loss.targets == TARGETS
    assert functions.elementary(loss) == -sum(
        (t * (zz - log(exp(z1) + exp(z2) + exp(z3))) for zz, t in zip(LOGITS, TARGETS)), Integer(0)
    )


def test_fused_softmax_cross_entropy_rejects_unpaired_arguments():
    with pytest.raises(ValueError, match="equal length"):
        softmax_cross_entropy(z1, z2, t1)


def test_elementary_leaves_no_symprop_function():
    expr = sigmoid(relu(z) + softplus(z)) * leaky_relu(z, alpha) + softmax(Integer(1), z, z2)
    written_out = functions.elementary(expr)
    assert not written_out.atoms(*functions.FUNCTION_CLASSES)
    assert written_out.has(exp) and written_out.has(sympy.Max) and written_out.has(sympy.Piecewise)


def test_activation_table_names_every_activation():
    assert functions.ACTIVATIONS == {
        "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu,
        "softplus": softplus, "identity": None, "softmax": softmax, "silu": silu,
    }


def test_leaky_relu_slope_at_the_kink_is_a_subgradient():
    slope = sympy.diff(leaky_relu(z, alpha), z).subs(z, 0)
    assert slope == alpha


def test_activations_evaluate_to_numbers():
    assert sigmoid(1).evalf(30) == (1 / (1 + exp(-1))).evalf(30)
    assert softplus(Integer(2)).evalf(20) == log(1 + exp(2)).evalf(20)
    assert relu(Integer(-1)) == 0 and relu(Rational(3, 2)) == Rational(3, 2)
    assert leaky_relu(Integer(-2), Rational(1, 10)) == Rational(-1, 5)
    assert sympy.Max(softplus(1), 2) == 2
