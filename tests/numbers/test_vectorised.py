"""The vectorised numbers of dense networks agree with the scalar program, number for number.

Every built-in layered example and random architectures (activations, losses,
bias modes, reductions, examples, steps) are worked both ways; every number
agrees to about 1e-12 relative, and the finite differences of the gradient
check to the check's own tolerance. What the vectorised path does not cover
gets no plan, and the scalar program decides.
"""
import dataclasses
import math
import random

import pytest
from sympy import Symbol

from symprop.engine.backprop import derive
from symprop.files.spec import builtin_examples, load_builtin
from symprop.model import nn
from symprop.model.graph import Graph
from symprop.numbers import worked_example as worked
from symprop.numbers.evaluation import NumericError, given_values
from symprop.numbers.gradcheck import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE, GradientCheckError, gradient_check
from symprop.numbers.vectorised import layered_plan
from symprop.numbers.vectorised_example import vectorised_check
from symprop.numbers.worked_example import worked_example

RELATIVE = 1e-12
NUMBER_FIELDS = ("loss", "learning_rate", "loss_after")
MAPPING_FIELDS = ("values", "forward", "local", "adjoints", "gradients", "updated", "forward_after")


def close(a: float, b: float, scale: float = 1.0) -> bool:
    """Equal to RELATIVE of the larger, or of ``scale`` for numbers that cancel to near 0."""
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b), 1e-3 * scale)


def assert_same_example(fast, slow) -> None:
    for name in NUMBER_FIELDS:
        assert close(getattr(fast, name), getattr(slow, name)), name
    for name in MAPPING_FIELDS:
        a, b = getattr(fast, name), getattr(slow, name)
        assert list(a) == list(b), name
        scale = max((abs(v) for v in b.values()), default=1.0)
        wrong = [k for k in a if not close(a[k], b[k], scale)]
        assert not wrong, f"{name}: {wrong[:3]} {[(a[k], b[k]) for k in wrong[:3]]}"
        assert all(type(v) is float for v in a.values()), name
    assert len(fast.loss_history) == len(slow.loss_history)
    assert all(close(x, y) for x, y in zip(fast.loss_history, slow.loss_history))
    assert (fast.updated_parameters, fast.examples, fast.reduction) == (
        slow.updated_parameters, slow.examples, slow.reduction)
    assert_same_checks(fast.checks, slow.checks, slow.loss)


def assert_same_checks(fast, slow, loss) -> None:
    assert [c.parameter for c in fast] == [c.parameter for c in slow]
    for a, b in zip(fast, slow):
        assert close(a.symbolic, b.symbolic), a.parameter
        tolerance = RELATIVE_TOLERANCE * max(abs(a.numeric), abs(b.numeric)) + ABSOLUTE_TOLERANCE * max(1, abs(loss))
        assert abs(a.numeric - b.numeric) <= tolerance, a.parameter
        assert a.ok == b.ok


def both_ways(derivation, values, **options):
    fast = worked_example(derivation, values, vectorised=True, **options)
    slow = worked_example(derivation, values, vectorised=False, **options)
    return fast, slow


def check_both_ways(derivation, values, examples=None, reduction="mean", gradients=None):
    rows, parameters = given_values(derivation.graph, values, examples)
    scalar = gradient_check(derivation, values, examples=examples, reduction=reduction, gradients=gradients)
    fast = vectorised_check(derivation, layered_plan(derivation), rows, parameters, reduction,
                            gradients or {c.parameter: c.symbolic for c in scalar})
    return fast, scalar


def problem_options(problem):
    return dict(learning_rate=problem.learning_rate, update=problem.update, steps=problem.steps,
                examples=list(problem.examples) or None, reduction=problem.reduction)


LAYERED = [name for name in builtin_examples() if isinstance(load_builtin(name).network, nn.Network)]  # dense


def test_the_layered_builtins_are_all_covered():
    assert {"mazur", "3b1b", "nielsen", "softmax"} <= set(LAYERED)
    for name in LAYERED:
        assert layered_plan(derive(load_builtin(name).network)) is not None, name


@pytest.mark.parametrize("name", LAYERED)
def test_builtin_examples_agree_with_the_scalar_program(name):
    problem = load_builtin(name)
    derivation = derive(problem.network)
    fast, slow = both_ways(derivation, problem.values, **problem_options(problem))
    assert_same_example(fast, slow)
    vector, scalar = check_both_ways(derivation, problem.values, list(problem.examples) or None, problem.reduction,
                                     slow.gradients)
    assert_same_checks(vector, scalar, slow.loss)


@pytest.mark.parametrize("name", LAYERED)
def test_small_networks_keep_the_scalar_program_to_the_last_digit(name):
    problem = load_builtin(name)
    derivation = derive(problem.network)
    assert len(derivation.graph.parameters) < worked.VECTORISED_PARAMETERS
    options = problem_options(problem)
    assert worked_example(derivation, problem.values, **options) == worked_example(
        derivation, problem.values, vectorised=False, **options)


def test_from_the_threshold_the_arrays_are_used(monkeypatch):
    problem = load_builtin("mazur")
    derivation = derive(problem.network)
    slow = worked_example(derivation, problem.values, vectorised=False, **problem_options(problem))
    monkeypatch.setattr(worked, "VECTORISED_PARAMETERS", 10)
    fast = worked_example(derivation, problem.values, **problem_options(problem))
    # the finite differences' rounding noise (~1e-9 relative) moves; within the check's tolerance
    assert [c.numeric for c in fast.checks] != [c.numeric for c in slow.checks]
    assert_same_example(fast, slow)


# --- random architectures ---

OUTPUT_ACTIVATIONS = {
    "cross_entropy": ("sigmoid", "softmax"),
    "softmax_cross_entropy": ("softmax", "identity"),
}
HIDDEN = ("sigmoid", "relu", "leaky_relu", "softplus", "identity", "silu", "softmax")


def random_case(seed: int):
    rng = random.Random(seed)
    loss = rng.choice(nn.LOSSES)
    widths = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
    if loss == "softmax_cross_entropy":
        widths[-1] = max(widths[-1], 2)
    last = rng.choice(OUTPUT_ACTIVATIONS.get(loss, HIDDEN))
    if last == "softmax":
        widths[-1] = max(widths[-1], 2)   # a softmax of one unit is 1: cross-entropy's 1/(1 - a) has no value
    activations = [rng.choice(HIDDEN) for _ in widths[:-1]] + [last]
    layers = [nn.Dense(w, a, bias=rng.choice(nn.BIAS_MODES)) for w, a in zip(widths, activations)]
    network = nn.mlp(rng.randint(1, 4), layers, loss)
    parameters = {p.name: rng.uniform(-1, 1) for p in network.parameters}
    count = rng.choice((None, 1, 3))
    rows = [example_data(rng, network, loss) for _ in range(count or 1)]
    options = dict(learning_rate=rng.choice((0.1, 0.5)), steps=rng.randint(0, 3), reduction=rng.choice(("mean", "sum")),
                   update=rng.choice(("weights", "all")))
    if count is None:
        return network, {**parameters, **rows[0]}, options
    return network, parameters, dict(options, examples=rows)


def example_data(rng, network, loss) -> dict:
    data = {x.name: rng.uniform(-1, 1) for x in network.inputs}
    if loss in ("cross_entropy", "softmax_cross_entropy") and len(network.targets) > 1:
        weights = [rng.uniform(0.1, 1) for _ in network.targets]
        targets = [w / sum(weights) for w in weights]
    else:
        targets = [rng.uniform(0.05, 0.95) for _ in network.targets]
    return {**data, **{t.name: v for t, v in zip(network.targets, targets)}}


@pytest.mark.parametrize("seed", range(40))
def test_random_networks_agree_with_the_scalar_program(seed):
    network, values, options = random_case(seed)
    derivation = derive(network)
    assert layered_plan(derivation) is not None
    fast, slow = both_ways(derivation, values, **options)
    assert_same_example(fast, slow)
    vector, scalar = check_both_ways(derivation, values, options.get("examples"), options["reduction"],
                                     slow.gradients)
    assert_same_checks(vector, scalar, slow.loss)


def test_a_wider_network_with_a_shared_bias_and_three_examples():
    network = nn.mlp(30, [nn.Dense(12, "sigmoid", bias="shared"), nn.Dense(5, "softmax")], "cross_entropy")
    rng = random.Random(7)
    parameters = {p.name: rng.uniform(-0.5, 0.5) for p in network.parameters}
    examples = [example_data(rng, network, "cross_entropy") for _ in range(3)]
    derivation = derive(network)
    fast, slow = both_ways(derivation, parameters, examples=examples, steps=2, update="all")
    assert_same_example(fast, slow)
    vector, scalar = check_both_ways(derivation, parameters, examples, "mean", slow.gradients)
    assert_same_checks(vector, scalar, slow.loss)


# --- what is not covered falls back ---

def test_plain_graphs_custom_activations_and_batched_graphs_have_no_plan():
    x, w, y = Symbol("x", real=True), Symbol("w", real=True), Symbol("y", real=True)
    graph = Graph.from_pairs([(y, w * x)], inputs=[x], parameters=[w])
    assert layered_plan(derive(graph)) is None
    custom = nn.mlp(2, [nn.Dense(2, lambda z: z ** 3)], "half_sse")
    assert layered_plan(derive(custom)) is None
    batch = nn.batched(nn.mlp(2, [nn.Dense(1)], "half_sse").graph, 2)
    assert layered_plan(derive(batch)) is None


def test_a_wrong_engine_gradient_gets_no_plan_and_the_check_still_bites():
    problem = load_builtin("mazur")
    derivation = derive(problem.network)
    symbol = derivation.symbol("w5")
    gradient = derivation.gradients[symbol]
    terms = tuple(dataclasses.replace(t, local=2 * t.local) for t in gradient.terms)
    wrong = dataclasses.replace(derivation, gradients={**derivation.gradients,
                                                       symbol: dataclasses.replace(gradient, terms=terms)})
    assert layered_plan(wrong) is None
    with pytest.raises(GradientCheckError, match="w5"):
        worked_example(wrong, problem.values, vectorised=True)


def test_the_vectorised_check_bites_on_a_wrong_gradient():
    problem = load_builtin("mazur")
    derivation = derive(problem.network)
    example = worked_example(derivation, problem.values)
    gradients = dict(example.gradients)
    gradients[derivation.symbol("w5")] *= 2
    rows, parameters = given_values(derivation.graph, problem.values)
    with pytest.raises(GradientCheckError, match=r"^gradient check failed for w5: .*relative error 0\.5\)$"):
        vectorised_check(derivation, layered_plan(derivation), rows, parameters, "mean", gradients)


def test_exact_and_digit_precision_keep_the_scalar_program_with_the_vectorised_check():
    problem = load_builtin("mazur")
    derivation = derive(problem.network)
    exact = worked_example(derivation, problem.values, precision="exact", vectorised=True)
    assert not isinstance(exact.loss, float)
    scalar = worked_example(derivation, problem.values, precision="exact", vectorised=False)
    assert exact.gradients == scalar.gradients and exact.forward == scalar.forward
    assert_same_checks(exact.checks, scalar.checks, float(scalar.loss))
    digits = worked_example(derivation, problem.values, precision=30, vectorised=True)
    assert math.isclose(float(digits.loss), float(scalar.loss), rel_tol=1e-25)


def test_a_relu_kink_takes_the_one_sided_derivative_in_the_vectorised_check():
    network = nn.mlp(["x"], [nn.Dense(1, "relu")], "half_sse", targets=["y"])
    derivation = derive(network)
    (weight,), (bias,) = network.layers[0].weight_parameters, network.layers[0].bias_parameters
    values = {"x": 1.0, "y": 0.5, weight.name: 0.5, bias.name: -0.5}   # z = 0: the kink
    vector, scalar = check_both_ways(derivation, values)
    assert all(c.ok for c in vector)
    assert_same_checks(vector, scalar, 0.125)


def test_a_number_without_a_finite_value_is_left_to_the_scalar_program():
    # a softmax of one unit is exactly 1, and binary cross-entropy divides by 1 - a
    network = nn.mlp(1, [nn.Dense(1, "softmax")], "cross_entropy")
    values = {s.name: 0.3 for s in (*network.graph.inputs, *network.parameters)}
    derivation = derive(network)
    assert layered_plan(derivation) is not None
    with pytest.raises(NumericError) as fast:
        worked_example(derivation, values, vectorised=True)
    with pytest.raises(NumericError) as slow:
        worked_example(derivation, values, vectorised=False)
    assert str(fast.value) == str(slow.value)


def test_gradients_that_disagree_with_the_engines_terms_are_left_to_the_scalar_program(monkeypatch):
    from symprop.numbers import vectorised_example

    problem = load_builtin("mazur")
    derivation = derive(problem.network)
    rows, parameters = given_values(derivation.graph, problem.values)
    options = (rows, parameters, 0.5, derivation.graph.parameters, "mean", 1)
    assert vectorised_example.vectorised_numbers(derivation, layered_plan(derivation), *options) is not None
    real = vectorised_example.backward

    def swapped(*args):
        deltas, gradients = real(*args)
        return deltas, gradients[..., ::-1]

    monkeypatch.setattr(vectorised_example, "backward", swapped)
    assert vectorised_example.vectorised_numbers(derivation, layered_plan(derivation), *options) is None
    slow = worked_example(derivation, problem.values, vectorised=False)
    assert worked_example(derivation, problem.values, vectorised=True).gradients == slow.gradients
