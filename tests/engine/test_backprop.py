"""Proof that the chain-rule engine is right.

For every network below, every parameter's gradient from ``backprop.derive``
(its closed form, its delta form with the adjoint definitions substituted, and
the sum over its listed paths) equals ``sympy.diff`` of the fully expanded
loss: exactly (``expand`` of the difference is 0, using the functions' own
derivative identities, each proved in test_functions.py), and at random
points with 30-digit arithmetic against the loss written in elementary
functions only.
"""
from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Heaviside, Integer, Rational, Symbol, cos, exp, sin

from symprop.model import functions
from symprop.engine.backprop import adjoint_symbol, derive, node_gradient
from symprop.engine.records import Factor, UnknownNameError
from symprop.errors import SympropError
from symprop.model.graph import Graph
from symprop.model.nn import Dense, batched, mlp
from tests.reference import (
    assert_gradients_exact,
    assert_gradients_match_reference,
    exactly_equal,
    exactly_equal_in_exponentials,
    in_leaves,
    numeric_value,
    reference_gradient,
    resolved_adjoints,
    with_forward_values,
)


def symbols(names: str):
    return sympy.symbols(names, real=True)


def derived_targets_summing_to_one(network) -> dict[Symbol, sympy.Expr]:
    """The last target set from the others so the targets form a distribution."""
    *rest, last = network.targets
    return {last: 1 - sympy.Add(*rest)}


def consumers_and_locals(gradient):
    """Each term's consumer c and local derivative dc/du."""
    return [(t.consumer, t.local) for t in gradient.terms]


def downstream_value(graph, node, target):
    """``target`` written in ``node`` and the symbols the later equations use."""
    values = {}
    started = False
    for eq in graph.equations:
        if started:
            values[eq.node] = eq.expr.xreplace(values)
        started = started or eq.node == node
    return values[target]


def output_in_terms_of(graph, node):
    return downstream_value(graph, node, graph.output)


# --- 3Blue1Brown: one neuron per layer, three layers, C0 = (a - y)^2 ---------------------------

def test_chain_last_weight_gradient_is_a_prev_times_sigma_prime_times_two_a_minus_y(chain_derivation):
    a2, a3, y = symbols("a2 a3 y")
    gradient = chain_derivation["w3"]
    assert gradient.closed_form == a2 * a3 * (1 - a3) * 2 * (a3 - y)
    assert gradient.delta_form == a2 * adjoint_symbol(Symbol("z3", real=True))
    assert gradient.path_count == 1
    (path,) = gradient.paths
    two_a_minus_y = sympy.factor_terms(2 * a3 - 2 * y)  # 2*(a3 - y); plain 2*(a3 - y) distributes
    assert two_a_minus_y.args == (2, a3 - y)
    assert [f.derivative for f in path.factors] == [two_a_minus_y, a3 * (1 - a3), a2]
    assert path.nodes == symbols("C0 a3 z3 w3")


def test_chain_every_closed_form_is_the_product_along_the_chain(chain_derivation):
    a0, a1, a2, a3, y, w2, w3 = symbols("a0 a1 a2 a3 y w2 w3")
    tail = a3 * (1 - a3) * 2 * (a3 - y)
    assert chain_derivation["b3"].closed_form == tail
    assert chain_derivation["w2"].closed_form == a1 * a2 * (1 - a2) * w3 * tail
    assert chain_derivation["b2"].closed_form == a2 * (1 - a2) * w3 * tail
    assert chain_derivation["w1"].closed_form == a0 * a1 * (1 - a1) * w2 * a2 * (1 - a2) * w3 * tail


def test_chain_node_gradient_of_previous_activation(chain_derivation):
    a3, y, w3, z3, a2 = symbols("a3 y w3 z3 a2")
    gradient = node_gradient(chain_derivation, "a2")
    assert gradient.symbol == a2
    assert gradient.closed_form == w3 * a3 * (1 - a3) * 2 * (a3 - y)
    assert gradient.delta_form == w3 * adjoint_symbol(z3)
    assert consumers_and_locals(gradient) == [(z3, w3)]
    assert [(f.of, f.wrt) for f in gradient.paths[0].factors] == [(Symbol("C0", real=True), a3), (a3, z3), (z3, a2)]
    # Against diff of C0 written in a2: C0 = (sigmoid(w3 a2 + b3) - y)^2.
    downstream = output_in_terms_of(chain_derivation.graph, a2)
    assert exactly_equal(
        gradient.closed_form.xreplace({a3: downstream_value(chain_derivation.graph, a2, a3)}), sympy.diff(downstream, a2)
    )


def test_chain_node_gradient_of_output_and_unknown_node(chain_derivation):
    assert node_gradient(chain_derivation, "C0").closed_form == 1
    assert node_gradient(chain_derivation, "C0").path_count == 1
    with pytest.raises(UnknownNameError, match="^q is not a node, parameter or input of the graph$"):
        node_gradient(chain_derivation, "q")


def test_chain_gradients_exact(chain_derivation):
    assert_gradients_exact(chain_derivation)
    for p in chain_derivation.graph.parameters:
        closed = in_leaves(chain_derivation.graph, chain_derivation[p].closed_form)
        assert exactly_equal_in_exponentials(closed, reference_gradient(chain_derivation.graph, p)), p


def test_chain_gradients_match_reference(chain_derivation):
    assert_gradients_match_reference(chain_derivation, points=5)


# --- Mazur's 2-2-2 network, shared biases, E = 1/2 sum (t - o)^2 -------------------------------

def test_mazur_w5_path_is_the_articles_three_factors(mazur_derivation):
    out_o1, net_o1, out_h1, t1, w5, E = symbols("out_o1 net_o1 out_h1 t1 w5 E_total")
    gradient = mazur_derivation["w5"]
    (path,) = gradient.paths
    assert path.factors == (
        Factor(E, out_o1, out_o1 - t1),
        Factor(out_o1, net_o1, out_o1 * (1 - out_o1)),
        Factor(net_o1, w5, out_h1),
    )
    assert gradient.closed_form == (out_o1 - t1) * out_o1 * (1 - out_o1) * out_h1
    assert gradient.delta_form == out_h1 * adjoint_symbol(net_o1)
    assert consumers_and_locals(gradient) == [(net_o1, out_h1)]


def test_mazur_w1_has_one_path_per_output(mazur_derivation):
    E, out_o1, out_o2, net_o1, net_o2, out_h1, net_h1, w1 = symbols(
        "E_total out_o1 out_o2 net_o1 net_o2 out_h1 net_h1 w1"
    )
    gradient = mazur_derivation["w1"]
    assert gradient.path_count == 2 and gradient.paths_listed
    assert [p.nodes for p in gradient.paths] == [
        (E, out_o1, net_o1, out_h1, net_h1, w1),
        (E, out_o2, net_o2, out_h1, net_h1, w1),
    ]
    i1, t1, t2, w5, w7 = symbols("i1 t1 t2 w5 w7")
    assert gradient.closed_form == i1 * out_h1 * (1 - out_h1) * (
        (out_o1 - t1) * out_o1 * (1 - out_o1) * w5 + (out_o2 - t2) * out_o2 * (1 - out_o2) * w7
    )


def test_mazur_path_counts_with_shared_biases(mazur_derivation):
    counts = {g.symbol.name: g.path_count for g in mazur_derivation}
    assert counts == dict(w1=2, w2=2, w3=2, w4=2, b1=4, w5=1, w6=1, w7=1, w8=1, b2=2)


def test_mazur_shared_bias_sums_over_both_units(mazur_derivation):
    net_o1, net_o2 = symbols("net_o1 net_o2")
    gradient = mazur_derivation["b2"]
    assert consumers_and_locals(gradient) == [(net_o1, 1), (net_o2, 1)]
    assert gradient.delta_form == adjoint_symbol(net_o1) + adjoint_symbol(net_o2)


def test_mazur_numbers_match_the_article(mazur_derivation):
    """Mazur's own values; his rounded intermediate steps agree to the 9 digits he prints."""
    given_values = dict(i1=".05", i2=".10", w1=".15", w2=".20", w3=".25", w4=".30", b1=".35",
                        w5=".40", w6=".45", w7=".50", w8=".55", b2=".60", t1=".01", t2=".99")
    point = {Symbol(k, real=True): Rational(v) for k, v in given_values.items()}
    values = with_forward_values(mazur_derivation.graph, point)
    article = dict(w1=0.000438568, w2=0.000877135, w3=0.000497713, w4=0.000995425,
                   w5=0.082167041, w6=0.082667628, w7=-0.022602540, w8=-0.022740242)
    assert abs(values[mazur_derivation.output] - 0.298371109) < 1e-9
    for name, expected in article.items():
        assert abs(numeric_value(mazur_derivation[name].closed_form, values) - expected) < 1e-9, name


def test_mazur_gradients_exact(mazur_derivation):
    assert_gradients_exact(mazur_derivation)
    graph = mazur_derivation.graph
    for name in ("w1", "w5", "b2"):  # cancel over exponentials is slow for b1
        p = mazur_derivation.symbol(name)
        closed = in_leaves(graph, mazur_derivation[p].closed_form)
        assert exactly_equal_in_exponentials(closed, reference_gradient(graph, p)), name


def test_mazur_gradients_match_reference(mazur_derivation):
    assert_gradients_match_reference(mazur_derivation, points=5)


# --- other activations --------------------------------------------------------------------------

def layer_network(activation, loss="mse", last="identity"):
    return mlp(2, [Dense(3, activation), Dense(2, last, bias="shared")], loss)


@pytest.mark.parametrize(
    "activation, local_of",
    [
        ("relu", lambda z, a: Heaviside(z, 0)),
        ("tanh", lambda z, a: 1 - a ** 2),
        ("leaky_relu", lambda z, a: Heaviside(z, 0) + Heaviside(-z, 1) / 100),
        ("softplus", lambda z, a: functions.sigmoid(z)),
        ("sigmoid", lambda z, a: a * (1 - a)),
    ],
)
def test_activation_networks(activation, local_of):
    network = layer_network(activation)
    derivation = derive(network)
    for z, a in zip(network.layers[0].nets, network.layers[0].outs):
        assert derivation.local[(a, z)] == local_of(z, a)
    assert_gradients_exact(derivation)
    # ReLU kinks: several points so that units are both on and off.
    assert_gradients_match_reference(derivation, points=4)


def test_tanh_derivative_stays_in_tanh():
    network = mlp(1, [Dense(1, "tanh"), Dense(1, "tanh")], "sse", notation="3b1b")
    derivation = derive(network)
    a1, z1, a2, z2 = symbols("a1 z1 a2 z2")
    assert derivation.local[(a1, z1)] == 1 - a1 ** 2
    assert derivation.local[(a2, z2)] == 1 - a2 ** 2
    assert_gradients_exact(derivation)
    assert_gradients_match_reference(derivation)


def test_relu_unit_switched_off_passes_no_gradient():
    network = mlp(1, [Dense(1, "relu"), Dense(1, "identity")], "sse", notation="3b1b")
    derivation = derive(network)
    point = {s: Integer(v) for s, v in zip((*network.graph.inputs, *network.parameters),
                                           (1, 0, -3, 1, 2, 0))}  # a0, y, w1, b1, w2, b2: z1 = -2
    values = with_forward_values(network.graph, point)
    assert numeric_value(derivation["w1"].closed_form, values) == 0
    assert numeric_value(derivation["w2"].closed_form, values) == 0  # a1 = 0


# --- softmax ------------------------------------------------------------------------------------

@pytest.mark.parametrize("last", ["softmax", "identity"])
def test_fused_softmax_cross_entropy_logit_gradient_is_y_minus_t(last):
    network = mlp(2, [Dense(3, last)], "softmax_cross_entropy")
    derivation = derive(network)
    layer = network.layers[0]
    for j, (z, a, t) in enumerate(zip(layer.nets, layer.outs, network.targets), start=1):
        y = a if last == "softmax" else functions.softmax(Integer(j), *layer.nets)
        gradient = node_gradient(derivation, z)
        assert gradient.closed_form == y - t
        assert gradient.path_count == 1
    assert_gradients_exact(derivation)
    assert_gradients_match_reference(derivation, points=4, derived=derived_targets_summing_to_one(network))


def test_fused_softmax_after_a_hidden_layer():
    network = mlp(2, [Dense(2, "tanh"), Dense(3, "softmax")], "softmax_cross_entropy")
    derivation = derive(network)
    assert_gradients_exact(derivation)
    assert_gradients_match_reference(derivation, points=3, derived=derived_targets_summing_to_one(network))


def test_unfused_softmax_layer_with_cross_entropy():
    network = mlp(2, [Dense(2, "sigmoid"), Dense(3, "softmax")], "cross_entropy")
    derivation = derive(network)
    layer = network.layers[1]
    a1, a2, a3 = layer.outs
    z1, z2, z3 = layer.nets
    assert derivation.local[(a1, z1)] == a1 * (1 - a1)
    assert derivation.local[(a1, z2)] == -a1 * a2
    assert derivation.local[(network.output, a3)] == -network.targets[2] / a3
    assert_gradients_exact(derivation)
    # Unfused: no assumption on the targets.
    assert_gradients_match_reference(derivation, points=4, low=0.1, high=0.9)


@pytest.mark.parametrize(
    "network",
    [
        pytest.param(lambda: mlp(2, [Dense(2, "sigmoid"), Dense(2, "sigmoid")]), id="sigmoid"),
        pytest.param(lambda: mlp(2, [Dense(2, "tanh"), Dense(1, "tanh")], "sse"), id="tanh"),
        pytest.param(lambda: mlp(2, [Dense(2, "sigmoid"), Dense(3, "softmax")], "cross_entropy"), id="softmax"),
        pytest.param(lambda: mlp(2, [Dense(3, "softmax")], "softmax_cross_entropy"), id="fused"),
    ],
)
def test_no_exponentials_in_any_derivative(network):
    derivation = derive(network())
    everything = [
        *derivation.local.values(),
        *(a.definition for a in derivation.adjoints.values()),
        *(a.closed_form for a in derivation.adjoints.values()),
        *(g.closed_form for g in derivation),
        *(g.delta_form for g in derivation),
    ]
    for expr in everything:
        assert not expr.has(exp), expr
        assert not expr.has(functions.sigmoid, sympy.tanh), expr  # written as a(1 - a), 1 - a^2


# --- a batch of examples --------------------------------------------------------------------------

@pytest.mark.parametrize("reduction, scale", [("mean", Rational(1, 3)), ("sum", Integer(1))])
def test_batch_gradients(mazur, reduction, scale):
    graph = batched(mazur.graph, 3, reduction)
    derivation = derive(graph)
    for i in (1, 2, 3):
        example_loss = Symbol(f"E_total[{i}]", real=True)
        assert derivation.adjoints[example_loss].definition == scale
    w5 = Symbol("w5", real=True)
    assert derivation[w5].path_count == 3
    assert derivation["b1"].path_count == 12
    assert_gradients_exact(derivation, parameters=symbols("w1 w5 b2"))
    assert_gradients_match_reference(derivation, points=2)


def test_batch_gradient_is_the_mean_of_example_gradients(chain_derivation, chain):
    derivation = derive(batched(chain.graph, 2, "mean"))
    w1 = Symbol("w1", real=True)
    one = in_leaves(chain.graph, chain_derivation[w1].closed_form)
    per_example = [one.xreplace({s: Symbol(f"{s.name}[{i}]", real=True) for s in chain.graph.inputs}) for i in (1, 2)]
    assert exactly_equal(in_leaves(derivation.graph, derivation[w1].closed_form), (per_example[0] + per_example[1]) / 2)


# --- any expression graph -------------------------------------------------------------------------

x, y, z, q, f, g = symbols("x y z q f g")


@pytest.fixture(scope="module")
def shared_derivation():
    """q = x + y, f = q z, g = f q + sin q: q feeds f and g."""
    graph = Graph.from_pairs([(q, x + y), (f, q * z), (g, f * q + sin(q))], parameters=[x, y, z])
    return derive(graph)


def test_shared_subexpression_local_derivatives_and_adjoints(shared_derivation):
    assert shared_derivation.local == {(q, x): 1, (q, y): 1, (f, q): z, (f, z): q, (g, f): q, (g, q): f + cos(q)}
    adjoints = shared_derivation.adjoints
    assert list(adjoints) == [g, f, q]
    assert adjoints[f].definition == q
    assert adjoints[q].definition == adjoint_symbol(f) * z + f + cos(q)
    assert adjoints[q].closed_form == q * z + f + cos(q)


def test_shared_subexpression_gradients(shared_derivation):
    gradient = shared_derivation["x"]
    assert gradient.path_count == 2
    assert [p.nodes for p in gradient.paths] == [(g, f, q, x), (g, q, x)]
    assert gradient.delta_form == adjoint_symbol(q)
    assert exactly_equal(in_leaves(shared_derivation.graph, gradient.closed_form), 2 * (x + y) * z + cos(x + y))
    assert shared_derivation["z"].closed_form == q ** 2
    assert_gradients_exact(shared_derivation)
    assert_gradients_match_reference(shared_derivation, points=5)


def test_node_feeding_several_nodes_and_a_parameter_used_twice():
    w, u, v, out = symbols("w u v out")
    graph = Graph.from_pairs(
        [(u, w * x), (v, w * u), (out, u * v + exp(w * v))], inputs=[x], parameters=[w]
    )
    derivation = derive(graph)
    assert consumers_and_locals(derivation["w"]) == [(u, x), (v, u), (out, v * exp(v * w))]
    # out reaches u directly and through v, v directly, w directly: 2 + 1 + 1 routes.
    assert derivation["w"].path_count == 4
    # Consumers in graph order, each one's own routes likewise: u (via v, then direct), v, out.
    assert [p.nodes for p in derivation["w"].paths] == [(out, v, u, w), (out, u, w), (out, v, w), (out, w)]
    assert_gradients_exact(derivation)
    assert_gradients_match_reference(derivation, points=5, low=-1, high=1)


def test_expand_true_gives_gradients_in_inputs_and_parameters(chain):
    derivation = derive(chain, expand=True)
    for gradient in derivation:
        assert gradient.expanded == in_leaves(chain.graph, gradient.closed_form)
        assert not gradient.expanded.free_symbols & set(chain.graph.nodes)
    assert derive(chain)["w1"].expanded is None


# --- wide sums (differentiated by SymEngine when it is installed) ----------------------------------

WIDE = 18  # more terms than backprop.SYMENGINE_MIN_TERMS


@pytest.mark.parametrize(
    "activation",
    [functions.sigmoid, functions.relu, functions.softplus, lambda z: functions.softmax(Integer(1), z, z ** 2),
     lambda z: sympy.Max(0, z), sympy.Abs, sympy.tanh, lambda z: (z - 1) ** 2],
    ids=["sigmoid", "relu", "softplus", "softmax", "Max", "Abs", "tanh", "square"],
)
def test_wide_sum_of_functions_is_differentiated_alike_by_every_backend(activation):
    weights = sympy.symbols(f"w1:{WIDE + 1}", real=True)
    inputs = sympy.symbols(f"x1:{WIDE + 1}", real=True)
    total = Symbol("s", real=True)
    graph = Graph.from_pairs(
        [(total, sympy.Add(*[activation(w * xk) for w, xk in zip(weights, inputs)]))], inputs=inputs, parameters=weights
    )
    assert derive(graph, backend="symengine").local == derive(graph, backend="sympy").local
    assert_gradients_exact(derive(graph), parameters=weights[:2])


def test_wide_layer_matches_reference_with_every_backend():
    network = mlp(WIDE, [Dense(2, "sigmoid")], "half_sse")
    for backend in ("sympy", "symengine", "auto"):
        derivation = derive(network, backend=backend)
        assert_gradients_match_reference(derivation, points=1, parameters=network.parameters[::7])
    assert derive(network, backend="symengine").local == derive(network, backend="sympy").local


# --- edge cases -----------------------------------------------------------------------------------

def test_parameter_that_never_reaches_the_output():
    p, r, dead, used = symbols("p r dead used")
    graph = Graph.from_pairs([(dead, p * x), (used, r * x), (g, used ** 2)], inputs=[x], parameters=[p, r])
    derivation = derive(graph)
    for name in ("p",):  # p feeds a dead node: its gradient is truly 0
        gradient = derivation[name]
        assert gradient.closed_form == 0 and gradient.delta_form == 0
        assert gradient.path_count == 0 and gradient.paths == () and gradient.terms == ()
        assert not gradient.reaches_output and gradient.paths_listed
        assert gradient.sum_over_paths == 0
    assert dead not in derivation.adjoints
    assert node_gradient(derivation, dead).closed_form == 0
    assert derivation["r"].closed_form == 2 * used * x
    assert_gradients_exact(derivation)
    assert_gradients_match_reference(derivation)


def test_a_parameter_no_node_uses_is_refused_rather_than_given_zero():
    used = Symbol("used", real=True)
    graph = Graph.from_pairs([(used, x * z), (g, used ** 2)], inputs=[x], parameters=[z, y])
    with pytest.raises(SympropError) as raised:
        derive(graph)
    assert str(raised.value) == ("parameter y occurs in no node: it does not reach the output g; remove it from the "
                                 "parameters or use it")


def test_an_undefined_function_is_refused_rather_than_left_as_a_derivative():
    f_undefined = sympy.Function("f")
    graph = Graph.from_pairs([(g, f_undefined(x) * z)], inputs=[z], parameters=[x])
    with pytest.raises(SympropError) as raised:
        derive(graph)
    assert str(raised.value) == ("node g has no closed-form derivative by x: SymPy leaves Derivative(f(x), x) "
                                 "unevaluated; use functions SymPy or symprop differentiates")


def test_output_may_be_an_inner_node_or_a_parameter():
    later = Symbol("later", real=True)
    inner = derive(Graph.from_pairs([(q, x * y), (later, q * z)], inputs=[z], parameters=[x, y], output=q))
    assert (inner["x"].closed_form, inner["x"].path_count) == (y, 1)
    assert list(inner.adjoints) == [q]  # the node after the output has no adjoint
    itself = derive(Graph.from_pairs([(q, x * y)], parameters=[x, y], output=x))
    assert itself["x"].closed_form == 1 and itself["x"].path_count == 1 and itself["x"].paths_listed
    assert itself["y"].closed_form == 0 and itself["y"].path_count == 0


def test_fused_softmax_outputs_are_not_on_any_path():
    network = mlp(2, [Dense(2, "softmax")], "softmax_cross_entropy")
    derivation = derive(network)
    for out in network.layers[0].outs:
        assert out not in derivation.adjoints
        assert node_gradient(derivation, out).path_count == 0


def test_path_bound_gives_the_count_and_keeps_the_closed_form():
    network = mlp(2, [Dense(3, "sigmoid"), Dense(3, "sigmoid"), Dense(2, "sigmoid")], "half_sse")
    derivation = derive(network, max_paths=5)
    first = derivation["w1_1_1"]
    assert first.path_count == 3 * 2  # through 3 units of layer 2, then 2 outputs
    assert first.paths == () and not first.paths_listed
    assert derivation["w3_1_1"].path_count == 1 and derivation["w3_1_1"].paths_listed
    assert derivation["b1_1"].path_count == 6 and derivation.max_paths == 5
    assert_gradients_exact(derivation, parameters=symbols("w1_1_1 b1_2"))
    assert_gradients_match_reference(derivation, points=2)
    assert len(derive(network)["w1_1_1"].paths) == 6


def test_path_bound_is_inclusive(mazur):
    derivation = derive(mazur, max_paths=2)
    assert len(derivation["w1"].paths) == 2
    assert derivation["b1"].paths == () and derivation["b1"].path_count == 4


def test_derivation_indexing(mazur_derivation):
    w5 = Symbol("w5", real=True)
    assert mazur_derivation["w5"] is mazur_derivation.gradients[w5]
    assert mazur_derivation[w5].symbol == w5
    assert len(mazur_derivation) == 10
    assert mazur_derivation.output == Symbol("E_total", real=True)
    assert mazur_derivation.network is not None
    with pytest.raises(KeyError, match="w9 is not a parameter"):
        mazur_derivation["w9"]


def test_resolved_adjoints_of_the_chain_are_the_closed_forms(chain_derivation):
    resolved = resolved_adjoints(chain_derivation)
    for adjoint in chain_derivation.adjoints.values():
        assert sympy.expand(resolved[adjoint.symbol] - adjoint.closed_form) == 0


# --- property: random small architectures ----------------------------------------------------------

HIDDEN = ("sigmoid", "tanh", "relu", "softplus", "identity", "leaky_relu")


@st.composite
def architectures(draw):
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(depth)]
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth)]
    loss = draw(st.sampled_from(("half_sse", "sse", "mse", "half_mse", "cross_entropy", "softmax_cross_entropy")))
    if loss == "cross_entropy":  # outputs in (0, 1); a one-unit softmax is constantly 1
        activations[-1] = draw(st.sampled_from(("sigmoid", "softmax") if widths[-1] > 1 else ("sigmoid",)))
    if loss == "softmax_cross_entropy":
        activations[-1] = draw(st.sampled_from(("identity", "softmax")))
    layers = [Dense(w, a, bias=draw(st.sampled_from(("per_unit", "shared", "none")))) for w, a in zip(widths, activations)]
    notation = draw(st.sampled_from(("plain", "mazur", "3b1b", "nielsen", "dlfs")))
    return mlp(draw(st.integers(1, 3)), layers, loss, notation=notation)


@settings(max_examples=30, deadline=None)
@given(network=architectures(), seed=st.integers(0, 2 ** 32 - 1))
def test_random_architectures_match_reference(network, seed):
    derivation = derive(network, max_paths=8)
    derived = derived_targets_summing_to_one(network) if network.loss == "softmax_cross_entropy" else None
    bounds = (0.1, 0.9) if network.loss == "cross_entropy" else (-2.0, 2.0)
    # A sample of the parameters keeps each example cheap; 30 examples still reach every kind.
    checked = random.Random(seed).sample(network.parameters, min(6, len(network.parameters)))
    assert_gradients_match_reference(
        derivation, points=1, seed=seed, parameters=checked, derived=derived, low=bounds[0], high=bounds[1]
    )
    for gradient in derivation:
        assert gradient.paths_listed == (gradient.path_count <= 8)
        assert not gradient.closed_form.has(exp)


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "derive expects a Graph, a Network or a SymPy expression, got None: build one with symprop.nn.mlp or symprop.Graph, or "
               "load a file with symprop.load"),
        ([1, 2], "derive expects a Graph, a Network or a SymPy expression, got a list: build one with symprop.nn.mlp or symprop.Graph, "
                 "or load a file with symprop.load"),
        ("x+y", "derive expects a Graph, a Network or a SymPy expression, got the string 'x+y': a string is not parsed: build a Graph, "
                "or load a network file with symprop.loads"),
    ],
)
def test_derive_refuses_what_is_not_a_network_in_one_line(value, message):
    from symprop.errors import SympropError, WrongArgument

    with pytest.raises(WrongArgument) as raised:
        derive(value)
    assert isinstance(raised.value, (SympropError, TypeError))
    assert str(raised.value) == message


def test_derive_takes_a_loaded_file_as_its_network():
    from symprop.files import spec

    problem = spec.load_builtin("mazur")
    derivation = derive(problem)
    assert derivation.network is problem.network
    assert derivation["w5"].closed_form == derive(problem.network)["w5"].closed_form
    assert derive(spec.load_builtin("graph")).network is None


# --- gradients with respect to inputs -----------------------------------------------------------

def test_input_gradients_equal_sympy_diff_of_the_expanded_loss(mazur):
    derivation = derive(mazur, wrt="all")
    graph = derivation.graph
    assert tuple(derivation.input_gradients) == graph.inputs
    loss, resolved = graph.expanded(), resolved_adjoints(derivation)
    for x, gradient in derivation.input_gradients.items():
        expected = sympy.diff(loss, x)
        assert exactly_equal(in_leaves(graph, gradient.closed_form), expected), x
        assert exactly_equal(in_leaves(graph, gradient.delta_form.xreplace(resolved)), expected), x
        assert exactly_equal(in_leaves(graph, gradient.sum_over_paths), expected), x
    # an input reaches the error through both hidden units and both outputs
    assert derivation["i1"].path_count == 4 and len(derivation["i1"].paths) == 4


def test_wrt_names_some_inputs_and_parameters_are_unchanged(mazur, mazur_derivation):
    derivation = derive(mazur, wrt=["i2"])
    assert [x.name for x in derivation.input_gradients] == ["i2"]
    assert {p: g.closed_form for p, g in derivation.gradients.items()} == {
        p: g.closed_form for p, g in mazur_derivation.gradients.items()}
    assert derive(mazur).input_gradients == {}


@pytest.mark.parametrize("wrt, message", [
    ("inputs", '^derive expects wrt as "parameters", "all" or a list of input names, got the string'),
    (["i3"], "^wrt: i3 is not an input of the graph \\(inputs: i1, i2, t1, t2\\)"),
    (["w1"], "^wrt: w1 is not an input of the graph"),
])
def test_wrt_refusals_are_one_line(mazur, wrt, message):
    with pytest.raises(SympropError, match=message) as caught:
        derive(mazur, wrt=wrt)
    assert "\n" not in str(caught.value)


def test_node_gradient_of_an_input_without_declaring_it(chain_derivation):
    # Saito's apples: price = (apple n) tax; d price / d apple = n tax without apple being a parameter
    apple, n, tax, p, price = symbols("apple n tax p price")
    derivation = derive(Graph.from_pairs([(p, apple * n), (price, p * tax)], inputs=[apple, n], parameters=[tax]))
    assert derivation.input_gradients == {}
    assert node_gradient(derivation, "apple").closed_form == n * tax
    assert node_gradient(derivation, "n").path_count == 1
    x = symbols("x")
    assert node_gradient(derive(Graph.from_pairs([(p, tax * 2)], inputs=[x], parameters=[tax])), "x").path_count == 0


def test_derive_takes_a_bare_expression_with_its_parameters():
    w, x, b, y, a = symbols("w x b y a")
    derivation = derive((1 / (1 + exp(-(w * x + b))) - y) ** 2, parameters=[w, "b"])
    assert [g.symbol for g in derivation] == [w, b]
    assert derivation.network is None and derivation.graph.inputs == (x, y)
    assert derivation["w"].closed_form == 2 * x * a * (1 - a) * (a - y)
    assert_gradients_match_reference(derivation)


def test_derive_of_an_expression_with_inputs_declared_and_a_name_in_both():
    w, x = symbols("w x")
    derivation = derive(sin(w * x), parameters=["w"], inputs=["w", "x"])
    assert derivation.graph.parameters == (w,) and derivation.graph.inputs == (x,)
    assert derivation["w"].closed_form == x * cos(Symbol("p", real=True))


@pytest.mark.parametrize("declared", [{"parameters": ["x"]}, {"inputs": ["x"]}])
def test_derive_refuses_parameters_or_inputs_beside_a_graph_in_one_line(chain, declared):
    from symprop.errors import WrongArgument

    with pytest.raises(WrongArgument) as raised:
        derive(chain, **declared)
    given = next(iter(declared))
    assert str(raised.value) == (
        f"derive expects {given}= only with a SymPy expression, got a {type(chain).__name__}: a Graph, a Network or "
        "a loaded file declares its own parameters and inputs")


def test_derive_of_an_expression_without_parameters_says_what_to_declare():
    from symprop.model.graph import GraphError

    w, x = symbols("w x")
    with pytest.raises(GraphError, match=r"^no parameters declared: say which symbols gradients are taken for, as "
                                         r"parameters=\[\.\.\.\] \(the expression's symbols: w, x\)$"):
        derive(w * x)


def test_derive_of_a_1x1_matrix_is_its_entry_and_a_larger_one_is_refused():
    from symprop.model.graph import GraphError

    w, x = symbols("w x")
    assert derive(sympy.Matrix([[w * x]]), parameters=[w])["w"].closed_form == x
    with pytest.raises(GraphError, match=r"^the expression is a 2x1 matrix: expected a scalar"):
        derive(sympy.Matrix([[w * x], [w]]), parameters=[w])


def test_a_products_derivative_read_off_is_what_sympy_diff_gives():
    from symprop.engine.backprop import _term_derivative

    a, b, w, x = symbols("a b w x")
    rng = random.Random(0)
    for _ in range(500):
        factors = [rng.choice((a, b, w, x)) for _ in range(rng.randint(1, 4))]
        term = rng.choice((1, 2, -1, Rational(1, 2))) * sympy.Mul(*factors) * rng.choice((1, sympy.exp(a), sin(w)))
        for s in (a, b, w, x):
            assert _term_derivative(term, s) == term.diff(s) and _term_derivative(term, s).args == term.diff(s).args


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 5)), min_size=2, max_size=12))
def test_an_affine_sum_is_differentiated_as_diff_differentiates_it(pairs):
    from symprop.engine.backprop import _affine_derivatives

    pool = symbols("a b c d e f")
    expr = sympy.Add(*[pool[i] if j < 0 else pool[i] * pool[j] for i, j in pairs])
    read_off = _affine_derivatives(expr, pool) if expr.is_Add else None
    plain = expr.is_Add and all(t.is_Symbol or (t.is_Mul and len(t.args) == 2 and all(a.is_Symbol for a in t.args))
                                for t in expr.args)
    assert (read_off is not None) == plain
    if read_off is not None:
        for s in pool:
            assert sympy.srepr(read_off[s]) == sympy.srepr(expr.diff(s))


@pytest.mark.parametrize("make", [sympy.Max, sympy.Min])
def test_max_and_min_of_symbols_are_differentiated_as_diff_does(make):
    """Argument by argument from ``fdiff``, the same expression SymPy's ``diff`` builds."""
    from symprop.engine.backprop import _diff_each

    xs = sympy.symbols("x1:5", real=True)
    expr = make(*xs, sympy.Integer(0))
    got = _diff_each(expr, xs)
    assert all(sympy.srepr(got[x]) == sympy.srepr(expr.diff(x)) for x in xs)
