"""A bare SymPy expression taken apart into a computational graph: nodes, names, activation
spellings, declarations, refusals, and gradients equal to ``sympy.diff`` of the expression."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sympy import Integral, Max, Rational, Symbol, exp, log, sin

from symprop.engine.backprop import derive
from symprop.model.activations import relu, sigmoid, softplus
from symprop.model.decompose import ExpressionNetworkError, expression_network
from symprop.model.graph import Graph, GraphError
from symprop.model.spellings import recognise_activations
from tests.reference import assert_close, numeric_value, random_points, with_forward_values

w, b, x, y, z = sympy.symbols("w b x y z", real=True)
LINEAR = w * x + b


def named(*names):
    return tuple(Symbol(n, real=True) for n in names)


# ---------------------------------------------------------------- the worked example


def test_sigmoid_of_a_linear_map_squared_error_is_one_node_per_operation():
    network = expression_network((1 / (1 + exp(-(w * x + b))) - y) ** 2, parameters=[w, b])
    p, s, a, f = named("p", "s", "a", "f")
    assert network.pairs == ((p, w * x), (s, b + p), (a, sigmoid(s)), (f, (a - y) ** 2))
    assert (network.inputs, network.parameters, network.output) == ((x, y), (w, b), f)
    assert network.latex_names == {p: "p", s: "s", a: "a"}


def test_its_gradients_are_written_in_forward_quantities():
    derivation = derive(Graph.from_expression((1 / (1 + exp(-(w * x + b))) - y) ** 2, parameters=[w, b]))
    a = Symbol("a", real=True)
    assert derivation["w"].closed_form == 2 * x * a * (1 - a) * (a - y)
    assert derivation["b"].closed_form == 2 * a * (1 - a) * (a - y)


def test_a_shared_sub_expression_is_one_node_feeding_several():
    graph = Graph.from_expression(sin(w * x) + exp(w * x) * y, parameters=[w])
    product = [eq.node for eq in graph.equations if eq.expr == w * x]
    assert len(product) == 1
    assert len(graph.consumers[product[0]]) == 2
    assert [eq.expr for eq in graph.equations].count(w * x) == 1


def test_numbers_stay_inside_their_node_and_a_sum_used_once_inside_its_consumer():
    network = expression_network(3 * (w * x - 2 * y) ** 2 / 5, parameters=[w])
    p, sq, f = named("p", "sq", "f")
    assert network.pairs == ((p, w * x), (sq, (p - 2 * y) ** 2), (f, Rational(3, 5) * sq))


def test_a_sum_used_as_a_functions_argument_or_twice_is_a_node():
    network = expression_network(sin(w + x) * (w + x), parameters=[w])
    s = Symbol("s", real=True)
    assert network.pairs[0] == (s, w + x)
    assert [node.name for node, _ in network.pairs] == ["s", "sin1", "f"]


# ---------------------------------------------------------------- names


def test_names_avoid_the_expressions_symbols_their_adjoints_and_sympys_names():
    s, p, a, delta_r = sympy.symbols("s p a delta_r", real=True)
    network = expression_network(sigmoid(s * p + a) / (1 + delta_r ** 2) + sin(a), parameters=[s])
    names = [node.name for node, _ in network.pairs]
    assert {"s", "p", "a", "r", "sin"}.isdisjoint(names)
    assert len(set(names)) == len(names)
    assert not any(n.startswith("delta_") for n in names)
    assert "sin1" in names and network.latex_names[Symbol("sin1", real=True)] == r"\mathrm{sin}_{1}"


def test_names_python_or_symprop_already_use_are_numbered():
    network = expression_network(sympy.Abs(w * x) + Max(w, x), parameters=[w])
    assert [node.name for node, _ in network.pairs] == ["p", "abs1", "max1", "f"]


def test_nodes_of_one_kind_are_numbered_in_graph_order():
    network = expression_network(sigmoid(w * x) + sigmoid(w * y), parameters=[w])
    assert [node.name for node, _ in network.pairs] == ["p1", "a1", "p2", "a2", "f"]
    assert network.latex_names[Symbol("a2", real=True)] == "a_{2}"


def test_the_output_is_f_or_the_name_given():
    assert expression_network(w * x, parameters=[w]).output == Symbol("f", real=True)
    f = Symbol("f", real=True)
    assert expression_network(w * f, parameters=[w]).output.name == "f1"
    assert expression_network(w * x, parameters=[w], output="E").output.name == "E"
    assert expression_network(w, parameters=[w]).pairs == ((f, w),)


def test_symbols_without_assumptions_become_real_symbols_of_their_name():
    plain_w, plain_x = sympy.symbols("w x")
    network = expression_network(sympy.Abs(plain_w * plain_x), parameters=[plain_w])
    assert network.parameters == (w,) and network.inputs == (x,)
    assert derive(Graph.from_expression(sympy.Abs(plain_w * plain_x), parameters=["w"]))["w"].closed_form.has(
        sympy.sign)


# ---------------------------------------------------------------- activation spellings

SPELLINGS = [
    (1 / (1 + exp(-z)), sigmoid(z)),
    (exp(z) / (exp(z) + 1), sigmoid(z)),
    (1 / (1 + exp(-w * x - b)), sigmoid(LINEAR)),
    (exp(LINEAR) / (1 + exp(LINEAR)), sigmoid(LINEAR)),
    ((exp(z) - exp(-z)) / (exp(z) + exp(-z)), sympy.tanh(z)),
    ((exp(LINEAR) - exp(-LINEAR)) / (exp(LINEAR) + exp(-LINEAR)), sympy.tanh(LINEAR)),
    (log(1 + exp(z)), softplus(z)),
    (Max(0, z), relu(z)),
    (Max(LINEAR, 0), relu(LINEAR)),
]


@pytest.mark.parametrize("spelling, activation", SPELLINGS)
def test_each_spelling_is_recognised_as_its_activation(spelling, activation):
    assert recognise_activations(spelling) == activation
    assert recognise_activations(3 * x * spelling + y) == 3 * x * activation + y


@pytest.mark.parametrize("spelling, activation", SPELLINGS)
def test_each_spelling_has_a_closed_form_with_no_exponential(spelling, activation):
    derivation = derive(((spelling - y) ** 2).subs(z, LINEAR), parameters=[w, b])
    for gradient in derivation:
        assert not gradient.closed_form.has(exp), gradient.closed_form
        assert gradient.closed_form.has(Symbol("a", real=True))  # written in the activation's node


def test_sympys_own_tanh_stays_tanh_and_its_derivative_is_in_the_forward_quantity():
    a = Symbol("a", real=True)
    assert derive(sympy.tanh(w * x) * y, parameters=[w])["w"].closed_form == x * y * (1 - a ** 2)


@pytest.mark.parametrize("near_miss", [1 / (2 + exp(-z)), exp(z) / (exp(z) + 2), log(2 + exp(z)), Max(1, z),
                                       (exp(z) - exp(-z)) / (exp(z) + exp(-2 * z)), (1 + exp(z)) ** 2])
def test_what_only_looks_like_an_activation_is_left_as_it_is(near_miss):
    assert recognise_activations(near_miss) == near_miss


def test_a_negative_power_of_the_sigmoids_denominator_is_a_power_of_the_sigmoid():
    assert recognise_activations((1 + exp(-z)) ** -3) == sigmoid(z) ** 3
    assert recognise_activations(1 / (1 + exp(z))) == sigmoid(-z)


# ---------------------------------------------------------------- declarations


def test_parameters_and_inputs_may_be_names_or_symbols_and_the_rest_are_inputs():
    network = expression_network(w * x + b * y + z, parameters=["b", w], inputs=[z])
    assert network.parameters == (b, w) and network.inputs == (z, x, y)
    single = expression_network(w * x, parameters="w")
    assert single.parameters == (w,) and single.inputs == (x,)


def test_a_name_declared_both_ways_is_a_parameter():
    network = expression_network(w * x, parameters=[w], inputs=[w, x])
    assert (network.parameters, network.inputs) == ((w,), (x,))


def one_line(build) -> str:
    with pytest.raises(GraphError) as raised:
        build()
    message = str(raised.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize(
    "declared, message",
    [
        ({}, "no parameters declared: say which symbols gradients are taken for, as parameters=[...] (the "
             "expression's symbols: b, w, x)"),
        ({"parameters": []}, "no parameters declared: say which symbols gradients are taken for, as parameters=[...] "
                             "(the expression's symbols: b, w, x)"),
        ({"parameters": ["v"]}, "parameter v is not a symbol of the expression (its symbols: b, w, x)"),
        ({"parameters": ["w"], "inputs": ["t", "u"]}, "inputs t, u are not symbols of the expression (its symbols: "
                                                      "b, w, x)"),
        ({"parameters": [3]}, "parameters: expected Symbols or names, got 3 (an int)"),
        ({"parameters": 3}, "parameters: expected Symbols or names, got an int"),
        ({"parameters": ["w"], "output": "x"}, "output x is taken by a symbol of the expression: choose another name "
                                               "for the output node"),
        ({"parameters": ["w"], "output": "2f"}, "output: expected a name for the output node, got 2f"),
    ],
)
def test_declarations_that_do_not_fit_are_refused_in_one_line(declared, message):
    assert one_line(lambda: Graph.from_expression(w * x + b, **declared)) == message


def test_an_expression_without_symbols_says_so():
    assert one_line(lambda: Graph.from_expression(sympy.Integer(3))) == (
        "no parameters declared: say which symbols gradients are taken for, as parameters=[...] (the expression's "
        "symbols: none)")


# ---------------------------------------------------------------- refusals

g = sympy.Function("g")
X = sympy.MatrixSymbol("X", 2, 2)


@pytest.mark.parametrize(
    "expr, message",
    [
        (sympy.Derivative(w * g(x), x), "Derivative(w*g(x), x) is an unevaluated derivative: call .doit() first, or "
                                        "write out what it stands for"),
        (w * g(x), "g(x) is an undefined function: g has no derivative rule (write out what it stands for)"),
        (Integral(w * x, x), "Integral(w*x, x) is an unevaluated integral: call .doit() first, or write out what it "
                             "stands for"),
        (sympy.Piecewise((w, x > 0), (0, True)), "Piecewise((w, x > 0), (0, True)) is a Piecewise: piecewise "
                                                 "expressions are not supported (write Max(0, z) for a ReLU)"),
        (w * x + sympy.I, "I is not a real number: a network's quantities are real"),
        (w * sympy.oo, "oo is not a finite number"),
        (sympy.floor(w * x), "floor(w*x) has no derivative rule (floor is not differentiable)"),
        (Symbol("w", real=False) * x, "w is declared not real: a network's quantities are real"),
        (sympy.Eq(w, x), "Eq(w, x) (an Equality) is not a scalar expression: expected sums, products, powers and "
                         "functions of symbols"),
        (w * sympy.Wild("k"), "k_ is a pattern symbol (Wild): expected plain symbols"),
        (sympy.Matrix([w, x]), "the expression is a 2x1 matrix: expected a scalar (a loss, a trace, a 1x1 product "
                               "or one entry)"),
        (Symbol("w") * Symbol("w", positive=True), "two different symbols are named w (their assumptions differ): "
                                                   "give each its own name"),
    ],
)
def test_what_cannot_be_differentiated_is_refused_in_one_line_naming_it(expr, message):
    assert one_line(lambda: Graph.from_expression(expr, parameters=["w"])) == message


def test_an_entry_of_a_matrix_input_is_read_as_that_entry():
    graph = Graph.from_expression(X[0, 0] * w, parameters=["w"])
    assert [s.name for s in graph.inputs] == [f"X[{i}, {j}]" for i in range(X.rows) for j in range(X.cols)]
    assert str(derive(graph)["w"].closed_form) == "X[0, 0]"


def test_the_refusals_are_expression_network_errors_below_the_graph():
    with pytest.raises(ExpressionNetworkError):
        expression_network(w * g(x), parameters=[w])


# ---------------------------------------------------------------- random expressions

LEAVES = (w, b, x, y)
PARAMETERS = (w, b)


def _unary(u):
    """Functions of one expression that are real and smooth wherever ``u`` is."""
    return st.sampled_from([
        exp(u), log(1 + u ** 2), sin(u), sympy.tanh(u), (1 + u ** 2) ** Rational(1, 2), (1 + u ** 2) ** Rational(-3, 2),
        1 / (1 + exp(-u)), exp(u) / (exp(u) + 1), (exp(u) - exp(-u)) / (exp(u) + exp(-u)), log(1 + exp(u)),
        u ** 2, u ** 3, 1 / (1 + u ** 2), Max(0, u),
    ])


def _expressions():
    leaves = st.sampled_from(LEAVES) | st.sampled_from([sympy.Integer(2), Rational(1, 2), sympy.Integer(-3)])

    def extend(children):
        pairs = st.tuples(children, children)
        return (pairs.map(lambda p: p[0] + p[1]) | pairs.map(lambda p: p[0] * p[1])
                | children.flatmap(_unary) | pairs.map(lambda p: p[0] * p[1] + p[0]))

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions(), st.integers(0, 10_000))
def test_random_expressions_gradients_equal_sympy_diff_of_the_expression(expr, seed):
    parameters = [p for p in PARAMETERS if p in expr.free_symbols]
    assume(parameters and 0 < sympy.count_ops(expr) < 40)
    graph = Graph.from_expression(expr, parameters=parameters)
    assert len(set(graph.expanded_nodes.values())) == len(graph.nodes)  # each operation is one node
    derivation = derive(graph)
    leaves = (*graph.inputs, *graph.parameters)
    point = random_points(leaves, 1, seed, -1.5, 1.5)[0]
    values = with_forward_values(graph, point)
    for p in parameters:
        expected = numeric_value(sympy.diff(expr, p), point)
        assert_close(numeric_value(derivation[p].closed_form, values), expected, f"d/d{p} of {expr}")


@settings(max_examples=30, deadline=None)
@given(_expressions())
def test_random_shared_sub_expressions_are_one_node(u):
    u = recognise_activations(u)
    assume(not u.is_Atom and u.free_symbols & set(PARAMETERS))
    graph = Graph.from_expression(sigmoid(u) * relu(u), parameters=[p for p in PARAMETERS if p in u.free_symbols])
    shared = [eq.node for eq in graph.equations if graph.expanded_nodes[eq.node] == u]
    assert len(shared) == 1
    assert len(graph.consumers[shared[0]]) == 2
