"""Worked numeric examples: published numbers reproduced, several examples, updates and training.

The arithmetics are tested in ``tests/test_evaluation.py``, the gradient check
in ``tests/test_gradcheck.py`` and number formatting in ``tests/test_digits.py``;
they share the Mazur values and helpers defined here.
"""
import math

import pytest
import sympy
from sympy import Rational, Symbol

from symprop.model import nn
from symprop.engine.backprop import derive
from symprop.numbers.digits import numeric_value
from symprop.model.functions import sigmoid, softmax_cross_entropy
from symprop.model.graph import Graph
from symprop.numbers.worked_example import WorkedExample, parameters_to_update, worked_example
from symprop.printing.numbers import plain_number
from tests.conftest import mazur_network

MAZUR_VALUES = dict(
    i1=0.05, i2=0.10, t1=0.01, t2=0.99,
    w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b1=0.35, b2=0.60,
)


@pytest.fixture(scope="module")
def mazur():
    return derive(mazur_network())


@pytest.fixture(scope="module")
def mazur_example(mazur):
    return worked_example(mazur, MAZUR_VALUES, learning_rate=0.5)


def by_name(mapping):
    return {(k.name if isinstance(k, Symbol) else k): v for k, v in mapping.items()}


def as_published(value, published: str) -> bool:
    """``value`` printed with as many decimals as the published figure shows equals it."""
    decimals = len(published.split(".")[1])
    return f"{value:.{decimals}f}" == published


# --- Mazur, "A Step by Step Backpropagation Example" ---

@pytest.mark.parametrize("node, published", [
    ("net_h1", "0.3775"), ("out_h1", "0.593269992"), ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"), ("out_o1", "0.75136507"), ("out_o2", "0.772928465"),
    ("E_total", "0.298371109"),
])
def test_mazur_forward_pass_as_published(mazur_example, node, published):
    assert as_published(by_name(mazur_example.forward)[node], published)


def test_mazur_loss_and_chain_factors_for_w5(mazur_example):
    forward, local = by_name(mazur_example.forward), {(v.name, u.name): x for (v, u), x in mazur_example.local.items()}
    assert as_published(mazur_example.loss, "0.298371109")
    assert as_published(local[("E_total", "out_o1")], "0.74136507")      # dE/dout_o1
    assert as_published(local[("out_o1", "net_o1")], "0.186815602")     # dout_o1/dnet_o1
    assert as_published(local[("net_o1", "w5")], "0.593269992")         # dnet_o1/dw5
    assert as_published(by_name(mazur_example.adjoints)["net_o1"], "0.138498562")
    assert forward["out_h1"] == local[("net_o1", "w5")]


@pytest.mark.parametrize("parameter, published", [
    ("w5", "0.082167041"), ("w1", "0.000438568"),
])
def test_mazur_gradients_as_published(mazur_example, parameter, published):
    assert as_published(by_name(mazur_example.gradients)[parameter], published)


@pytest.mark.parametrize("parameter, published", [
    ("w5", "0.35891648"), ("w6", "0.408666186"), ("w7", "0.511301270"), ("w8", "0.561370121"),
    ("w1", "0.149780716"), ("w2", "0.19956143"), ("w3", "0.24975114"), ("w4", "0.29950229"),
])
def test_mazur_updated_weights_as_published(mazur_example, parameter, published):
    assert as_published(by_name(mazur_example.updated)[parameter], published)


def test_mazur_updates_weights_only(mazur_example):
    assert [p.name for p in mazur_example.updated_parameters] == ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]
    assert by_name(mazur_example.updated)["b1"] == 0.35 and by_name(mazur_example.updated)["b2"] == 0.60
    assert mazur_example.learning_rate == 0.5


def test_mazur_error_after_first_round(mazur_example):
    # Mazur publishes 0.291027924; the weights he publishes give 0.291027774 (see the next test).
    assert plain_number(mazur_example.loss_after, 9) == "0.291027774"
    assert mazur_example.loss_history == (mazur_example.loss, mazur_example.loss_after)
    assert as_published(by_name(mazur_example.forward_after)["E_total"], "0.291027774")
    published_weights = {**MAZUR_VALUES, "w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114,
                         "w4": 0.29950229, "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}
    again = worked_example(derive(mazur_network()), published_weights, steps=0)
    assert plain_number(again.loss, 9) == "0.291027774"


def test_mazur_published_first_round_error_comes_from_updated_output_weights(mazur, mazur_example):
    """0.291027924 appears when the hidden deltas are taken through the already-updated
    w5..w8, which Mazur's text says not to do: the engine's numbers are the textbook ones."""
    graph = mazur.graph
    known = {**mazur_example.values, **mazur_example.forward}
    known.update({p: v for p, v in mazur_example.updated.items() if p.name in ("w5", "w6", "w7", "w8")})
    known.update({a.symbol: mazur_example.adjoints[node] for node, a in mazur.adjoints.items()
                  if node.name in ("E_total", "out_o1", "out_o2", "net_o1", "net_o2")})
    for node in ("out_h1", "out_h2", "net_h1", "net_h2"):
        adjoint = mazur.adjoints[Symbol(node, real=True)]
        known[adjoint.symbol] = float(adjoint.definition.xreplace(known))
    sequential = dict(by_name(mazur_example.updated))
    for name in ("w1", "w2", "w3", "w4"):
        gradient = float(mazur[name].delta_form.xreplace(known))
        sequential[name] = MAZUR_VALUES[name] - 0.5 * gradient
    again = worked_example(mazur, {**MAZUR_VALUES, **sequential}, steps=0)
    assert plain_number(again.loss, 9) == "0.291027924"
    assert graph.output == Symbol("E_total", real=True)


def test_mazur_ten_thousand_rounds(mazur):
    example = worked_example(mazur, MAZUR_VALUES, learning_rate=0.5, steps=10_000)
    assert len(example.loss_history) == 10_001
    assert plain_number(example.loss_history[-1], 9) == "3.51018778e-5"
    # Mazur's "after repeating this process 10,000 times ... 0.0000351085" is the error
    # after the 9,999th update (the first of his 10,000 rounds is the initial forward pass).
    assert plain_number(example.loss_history[9_999], 6) == "3.51085e-5"
    assert all(later < earlier for earlier, later in zip(example.loss_history, example.loss_history[1:]))


def test_worked_example_fields_follow_the_derivation_order(mazur, mazur_example):
    graph = mazur.graph
    assert isinstance(mazur_example, WorkedExample)
    assert tuple(mazur_example.values) == (*graph.inputs, *graph.parameters)
    assert tuple(mazur_example.forward) == graph.nodes == tuple(mazur_example.forward_after)
    assert tuple(mazur_example.local) == tuple(mazur.local)
    assert tuple(mazur_example.adjoints) == tuple(mazur.adjoints)
    assert tuple(mazur_example.gradients) == graph.parameters == tuple(mazur_example.updated)
    assert (mazur_example.examples, mazur_example.reduction) == (1, "mean")
    numbers = [*mazur_example.forward.values(), *mazur_example.local.values(), *mazur_example.gradients.values()]
    assert all(type(x) is float for x in numbers)


def test_every_gradient_is_checked_against_finite_differences(mazur_example):
    checks = mazur_example.checks
    assert [c.parameter.name for c in checks] == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"]
    assert all(c.ok and c.relative_error < 1e-6 for c in checks)
    w5 = checks[5]
    assert w5.symbolic == by_name(mazur_example.gradients)["w5"]
    assert abs(w5.numeric - w5.symbolic) < 1e-10


# --- "Deep Learning from Scratch": Softmax-with-Loss sends back y - t ---

def softmax_with_loss():
    return nn.mlp(["x"], [nn.Dense(3, "softmax")], "softmax_cross_entropy", targets=["t1", "t2", "t3"])


def test_softmax_with_loss_sends_back_y_minus_t():
    network = softmax_with_loss()
    values = {"x": 0.0, "t1": 0, "t2": 1, "t3": 0, "w1_1_1": 0.0, "w1_2_1": 0.0, "w1_3_1": 0.0,
              "b1_1": math.log(0.3), "b1_2": math.log(0.2), "b1_3": math.log(0.5)}
    example = worked_example(derive(network), values, update="all")
    outputs = [by_name(example.forward)[f"a1_{k}"] for k in (1, 2, 3)]
    sent_back = [by_name(example.adjoints)[f"z1_{k}"] for k in (1, 2, 3)]
    assert outputs == pytest.approx([0.3, 0.2, 0.5], abs=1e-15)
    assert sent_back == pytest.approx([0.3, -0.8, 0.5], abs=1e-15)
    assert example.loss == pytest.approx(-math.log(0.2), rel=1e-15)


def test_softmax_with_loss_exact():
    z = {f"z{k}": Symbol(f"z{k}", real=True) for k in (1, 2, 3)}
    t = [Symbol(f"t{k}", real=True) for k in (1, 2, 3)]
    logits = [Symbol(f"s{k}", real=True) for k in (1, 2, 3)]
    loss = Symbol("L", real=True)
    graph = Graph.from_pairs(
        [*((z[f"z{k}"], logits[k - 1]) for k in (1, 2, 3)), (loss, softmax_cross_entropy(*z.values(), *t))],
        inputs=t, parameters=logits,
    )
    values = {"t1": 0, "t2": 1, "t3": 0, "s1": sympy.log(Rational(3, 10)), "s2": sympy.log(Rational(1, 5)),
              "s3": sympy.log(Rational(1, 2))}
    example = worked_example(derive(graph), values, precision="exact")
    assert [example.adjoints[z[f"z{k}"]] for k in (1, 2, 3)] == [Rational(3, 10), Rational(-4, 5), Rational(1, 2)]
    assert example.loss == sympy.log(5)


# --- exact arithmetic gives Mazur's float numbers ---

def test_exact_mazur_equals_the_float_path(mazur, mazur_example):
    exact = worked_example(mazur, MAZUR_VALUES, precision="exact")
    assert by_name(exact.forward)["net_h1"] == Rational(151, 400)
    assert by_name(exact.values)["i1"] == Rational(1, 20) and exact.learning_rate == Rational(1, 2)
    assert by_name(exact.forward)["out_h1"] == sigmoid(Rational(151, 400))
    pairs = [(exact.loss, mazur_example.loss), (exact.loss_after, mazur_example.loss_after)]
    pairs += [(exact.gradients[p], mazur_example.gradients[p]) for p in mazur.graph.parameters]
    pairs += [(exact.updated[p], mazur_example.updated[p]) for p in mazur.graph.parameters]
    for exact_value, float_value in pairs:
        assert float(numeric_value(exact_value)) == pytest.approx(float_value, rel=1e-14, abs=1e-17)


# --- several examples, updates, training ---

def small_network():
    return nn.mlp(["x1", "x2"], [nn.Dense(3, "tanh"), nn.Dense(1, "sigmoid")], "half_sse", targets=["y"])


EXAMPLES = [{"x1": 0.5, "x2": -1.0, "y": 1.0}, {"x1": -0.3, "x2": 0.8, "y": 0.0}, {"x1": 1.2, "x2": 0.1, "y": 1.0}]


def small_parameters(network):
    return {p.name: 0.1 * ((i * 7) % 11 - 5) for i, p in enumerate(network.parameters)}


@pytest.mark.parametrize("reduction, scale", [("mean", 1 / 3), ("sum", 1.0)])
def test_examples_combine_by_the_reduction(reduction, scale):
    network = small_network()
    derivation = derive(network)
    parameters = small_parameters(network)
    batch = worked_example(derivation, parameters, examples=EXAMPLES, reduction=reduction)
    singles = [worked_example(derivation, {**parameters, **e}) for e in EXAMPLES]
    assert batch.examples == 3 and batch.reduction == reduction
    assert batch.loss == pytest.approx(scale * sum(s.loss for s in singles), rel=1e-14)
    for p in network.parameters:
        assert batch.gradients[p] == pytest.approx(scale * sum(s.gradients[p] for s in singles), rel=1e-12, abs=1e-16)
    assert batch.forward == singles[0].forward


def test_examples_agree_with_the_batched_graph():
    network = small_network()
    parameters = small_parameters(network)
    batch = worked_example(derive(network), parameters, examples=EXAMPLES)
    graph = nn.batched(network.graph, 3)
    data = {f"{name}[{i}]": v for i, e in enumerate(EXAMPLES, start=1) for name, v in e.items()}
    whole = worked_example(derive(graph), {**parameters, **data})
    assert whole.loss == pytest.approx(batch.loss, rel=1e-14)
    for p in network.parameters:
        assert whole.gradients[p] == pytest.approx(batch.gradients[p], rel=1e-12, abs=1e-16)


def test_training_is_batch_gradient_descent():
    network = small_network()
    derivation = derive(network)
    parameters = small_parameters(network)
    trained = worked_example(derivation, parameters, examples=EXAMPLES, learning_rate=0.3, update="all", steps=3)
    point = parameters
    for step in range(3):
        once = worked_example(derivation, point, examples=EXAMPLES, learning_rate=0.3, update="all")
        assert trained.loss_history[step] == pytest.approx(once.loss, rel=1e-14)
        point = {p.name: v for p, v in once.updated.items()}
    assert len(trained.loss_history) == 4
    assert trained.loss_history[3] == pytest.approx(once.loss_after, rel=1e-14)


def test_update_choices(mazur):
    assert [p.name for p in parameters_to_update(mazur, "all")][-1] == "b2"
    assert [p.name for p in parameters_to_update(mazur, ["b2", "w1"])] == ["w1", "b2"]
    example = worked_example(mazur, MAZUR_VALUES, update=["b1"], steps=0)
    assert example.updated_parameters == (Symbol("b1", real=True),)
    assert by_name(example.updated)["b1"] == pytest.approx(0.35 - 0.5 * by_name(example.gradients)["b1"], rel=1e-15)
    assert by_name(example.updated)["w5"] == 0.40
    assert example.loss_history == (example.loss,)
    plain = derive(nn.mlp(["x"], [nn.Dense(1, "identity")], "sse").graph)
    assert parameters_to_update(plain, "weights") == plain.graph.parameters


@pytest.mark.parametrize("call, message", [
    (lambda d: worked_example(d, {**MAZUR_VALUES, "w9": 1.0}),
     "values: w9 is not an input, target or parameter of the graph "
     "(expected some of i1, i2, t1, t2, w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"),
    (lambda d: worked_example(d, {k: v for k, v in MAZUR_VALUES.items() if k not in ("w2", "b2")}),
     "no value given for parameter w2, b2"),
    (lambda d: worked_example(d, {k: v for k, v in MAZUR_VALUES.items() if k != "t2"}),
     "values has no value for input t2"),
    (lambda d: worked_example(d, MAZUR_VALUES, examples=[{"i1": 1, "i2": 2, "t1": 0, "t2": 1, "w1": 3}]),
     "example 1 gives parameter w1: parameters belong in values"),
    (lambda d: worked_example(d, MAZUR_VALUES, examples=[]),
     "examples is empty: give at least one example, or None"),
    (lambda d: worked_example(d, MAZUR_VALUES, update=["w5", "w10"]),
     "w10 is not a parameter of this network (parameters: w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"),
    (lambda d: worked_example(d, MAZUR_VALUES, update="biases"),
     "update must be 'weights', 'all' or a list of parameter names, got 'biases'"),
    (lambda d: worked_example(d, MAZUR_VALUES, reduction="max"), "unknown reduction 'max': expected mean or sum"),
    (lambda d: worked_example(d, MAZUR_VALUES, steps=-1), "steps must be a whole number >= 0, got -1"),
])
def test_mistakes_are_said_in_one_line(mazur, call, message):
    with pytest.raises(ValueError) as error:
        call(mazur)
    assert str(error.value) == message


def test_exact_arithmetic_refuses_many_training_steps_up_front(mazur):
    from symprop.numbers.evaluation import NumericError

    with pytest.raises(NumericError, match="exact arithmetic covers at most 1 training step, 3 were asked for"):
        worked_example(mazur, MAZUR_VALUES, precision="exact", steps=3)


def test_worked_example_refuses_arguments_of_the_wrong_kind(mazur):
    from symprop.errors import WrongArgument

    with pytest.raises(WrongArgument) as raised:
        worked_example(None, {"x": 1})
    assert str(raised.value) == "worked_example expects a Derivation, got None: make one with symprop.derive(network)"
    with pytest.raises(TypeError) as raised:
        worked_example(mazur, [0.05, 0.1])
    assert str(raised.value) == "worked_example expects values as a mapping of names to numbers, got a list"


# --- gradients with respect to inputs -----------------------------------------------------------

def test_input_gradients_of_the_first_example_agree_with_the_expanded_loss():
    derivation = derive(mazur_network(), wrt="all")
    values = dict(i1=0.05, i2=0.10, t1=0.01, t2=0.99, w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35,
                  w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60)
    example = worked_example(derivation, values)
    graph = derivation.graph
    at = {s: values[s.name] for s in (*graph.inputs, *graph.parameters)}
    loss = graph.expanded()
    for x in graph.inputs:
        expected = float(sympy.diff(loss, x).xreplace(at).evalf(30))
        assert float(example.input_gradients[x]) == pytest.approx(expected, rel=1e-12), x
    assert [c.parameter for c in example.input_checks] == list(graph.inputs)
    assert all(c.ok for c in example.input_checks)
    # dE/dt1 = t1 - out_o1 for E = 1/2 sum (t - o)^2
    assert float(example.input_gradients[graph.inputs[2]]) == pytest.approx(0.01 - 0.75136507, abs=1e-8)
    assert worked_example(derive(mazur_network()), values).input_gradients == {}


def test_input_gradients_in_exact_arithmetic_are_exact():
    network = nn.mlp(1, [nn.Dense(1, "sigmoid")] * 2, "sse", notation="3b1b")
    graph = network.graph
    symbols = (*graph.inputs, *graph.parameters)
    values = {s: Rational(1, 2 + i) for i, s in enumerate(symbols)}
    example = worked_example(derive(network, wrt="all"), {s.name: v for s, v in values.items()}, precision="exact",
                             steps=0)
    for x, value in example.input_gradients.items():
        expected = sympy.diff(graph.expanded(), x).xreplace(values)
        assert abs(sympy.N(value - expected, 40)) < sympy.Float("1e-35"), x


def test_a_worked_example_shows_the_loss_and_a_table_in_a_notebook(mazur_solution):
    shown = mazur_solution.example._repr_markdown_()
    assert shown.startswith("**Worked example** (1 example): loss 0.298371109 before, 0.291027774 after 1 step "
                            "at learning rate 0.5\n\n| parameter | value | gradient | after the step |")
    assert "| $w_{5}$ | 0.4 | 0.0821670406 | 0.35891648 | ✓ |" in shown
    assert "| $b_{1}$ | 0.35 | 0.0187256094 | kept | ✓ |" in shown
    assert "WorkedExample(" not in shown
    check = mazur_solution.example.checks[0]
    assert check._repr_markdown_().startswith("$w_{1}$: gradient 0.000438567734, finite differences ")
    assert check._repr_markdown_().rstrip().endswith("✓")
