"""Layer builders: the equations and names they emit, losses, batches, and NetworkError."""
from __future__ import annotations

import pytest
import sympy
from sympy import Integer, Rational, Symbol, log, tanh

from symprop.model import functions

from symprop.model import nn
from symprop.model.functions import leaky_relu, relu, sigmoid, softmax, softmax_cross_entropy, softplus
from symprop.model.graph import Graph
from symprop.model.nn import Dense, NetworkError, batched, loss_expression, mlp
from tests.conftest import chain_network


def symbols(names: str):
    return sympy.symbols(names, real=True)


def test_mazur_equations_match_the_article(mazur):
    i1, i2, t1, t2, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2 = symbols("i1 i2 t1 t2 w1:9 b1 b2")
    net_h1, net_h2, out_h1, out_h2, net_o1, net_o2, out_o1, out_o2, E_total = symbols(
        "net_h1 net_h2 out_h1 out_h2 net_o1 net_o2 out_o1 out_o2 E_total"
    )
    assert mazur.graph.definition == {
        net_h1: w1 * i1 + w2 * i2 + b1,
        net_h2: w3 * i1 + w4 * i2 + b1,
        out_h1: sigmoid(net_h1),
        out_h2: sigmoid(net_h2),
        net_o1: w5 * out_h1 + w6 * out_h2 + b2,
        net_o2: w7 * out_h1 + w8 * out_h2 + b2,
        out_o1: sigmoid(net_o1),
        out_o2: sigmoid(net_o2),
        E_total: Rational(1, 2) * (t1 - out_o1) ** 2 + Rational(1, 2) * (t2 - out_o2) ** 2,
    }
    assert mazur.graph.nodes == (net_h1, net_h2, out_h1, out_h2, net_o1, net_o2, out_o1, out_o2, E_total)
    assert mazur.parameters == (w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)
    assert mazur.weights == (w1, w2, w3, w4, w5, w6, w7, w8)
    assert mazur.biases == (b1, b2)
    assert mazur.inputs == (i1, i2) and mazur.targets == (t1, t2)
    assert mazur.graph.inputs == (i1, i2, t1, t2)
    assert mazur.output == E_total


def test_mazur_layers_record_weights_row_per_unit_and_shared_bias(mazur):
    hidden, output = mazur.layers
    w1, w2, w3, w4, b1, w5 = symbols("w1 w2 w3 w4 b1 w5")
    assert hidden.weights == ((w1, w2), (w3, w4))
    assert hidden.biases == (b1, b1) and hidden.bias_parameters == (b1,)
    assert hidden.units == ("h1", "h2") and output.units == ("o1", "o2")
    assert hidden.activation == "sigmoid" and output.index == 2
    assert output.inputs == hidden.outs
    assert mazur.layer_of(w5) is output and mazur.layer_of(b1) is hidden
    with pytest.raises(KeyError):
        mazur.layer_of(Symbol("i1", real=True))


def test_mazur_latex_names(mazur):
    names = {str(s): tex for s, tex in mazur.graph.latex_names.items()}
    assert names["w5"] == "w_{5}"
    assert names["net_o1"] == r"\mathrm{net}_{o1}"
    assert names["out_h2"] == r"\mathrm{out}_{h2}"
    assert names["E_total"] == r"E_{\mathrm{total}}"
    assert names["delta_net_o1"] == r"\delta_{o1}"
    assert names["i1"] == "i_{1}"


def test_three_blue_one_brown_chain_drops_indices_and_labels_layers_from_the_end(chain):
    a0, y, w1, b1, w3, a2, a3, z3, C0 = symbols("a0 y w1 b1 w3 a2 a3 z3 C0")
    assert chain.graph.inputs == (a0, y)
    assert chain.graph.definition[z3] == a2 * w3 + symbols("b3")
    assert chain.graph.definition[a3] == sigmoid(z3)
    assert chain.graph.definition[C0] == (a3 - y) ** 2
    tex = chain.graph.latex_names
    assert (tex[w3], tex[a2], tex[a0], tex[C0]) == ("w^{(L)}", "a^{(L-1)}", "a^{(L-3)}", "C_{0}")
    assert chain.notation.chain_order == "parameter_first"


def test_plain_names_and_bias_modes():
    network = mlp(2, [Dense(2, "tanh"), Dense(1, "identity", bias="none")], "mse")
    x1, x2, y1 = symbols("x1 x2 y1")
    w111, w112, b11, z11, a11, a12, w211, w212, z21, a21, L = symbols(
        "w1_1_1 w1_1_2 b1_1 z1_1 a1_1 a1_2 w2_1_1 w2_1_2 z2_1 a2_1 L"
    )
    definition = network.graph.definition
    assert definition[z11] == w111 * x1 + w112 * x2 + b11
    assert definition[a11] == tanh(z11)
    assert definition[z21] == w211 * a11 + w212 * a12  # no bias
    assert definition[a21] == z21  # identity
    assert definition[L] == (a21 - y1) ** 2
    assert network.biases == symbols("b1_1 b1_2")
    assert network.layers[1].biases == (None,)
    assert network.graph.latex_names[w112] == "w^{(1)}_{12}"


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("sigmoid", lambda z: sigmoid(z)),
        ("tanh", lambda z: tanh(z)),
        ("relu", lambda z: relu(z)),
        ("leaky_relu", lambda z: leaky_relu(z, Rational(1, 100))),
        ("softplus", lambda z: softplus(z)),
        ("identity", lambda z: z),
        (lambda z: z ** 3, lambda z: z ** 3),
    ],
)
def test_each_activation_is_applied_to_the_pre_activation(activation, expected):
    network = mlp(1, [Dense(1, activation)], "sse")
    (z,), (a,) = network.layers[0].nets, network.layers[0].outs
    assert network.graph.definition[a] == expected(z)


def test_custom_activation_is_named_custom_and_leaky_slope_is_exact():
    assert Dense(1, lambda z: z ** 3).activation_name == "custom"
    network = mlp(1, [Dense(1, "leaky_relu", alpha=0.2)], "sse")
    (z,), (a,) = network.layers[0].nets, network.layers[0].outs
    assert network.graph.definition[a] == leaky_relu(z, Rational(1, 5))


def test_softmax_layer_outputs_share_the_logits():
    network = mlp(2, [Dense(3, "softmax")], "cross_entropy")
    layer = network.layers[0]
    for j, out in enumerate(layer.outs, start=1):
        assert network.graph.definition[out] == softmax(Integer(j), *layer.nets)


o1, o2, t1, t2, z1, z2 = symbols("o1 o2 t1 t2 z1 z2")


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("half_sse", Rational(1, 2) * (t1 - o1) ** 2 + Rational(1, 2) * (t2 - o2) ** 2),
        ("sse", (o1 - t1) ** 2 + (o2 - t2) ** 2),
        ("mse", ((o1 - t1) ** 2 + (o2 - t2) ** 2) / 2),
        ("half_mse", ((o1 - t1) ** 2 + (o2 - t2) ** 2) / 4),
        ("cross_entropy", -(t1 * log(o1) + t2 * log(o2))),
        ("softmax_cross_entropy", softmax_cross_entropy(z1, z2, t1, t2)),
    ],
)
def test_loss_expressions(loss, expected):
    assert loss_expression(loss, (o1, o2), (t1, t2), (z1, z2)) == expected


def test_binary_cross_entropy_for_one_output():
    assert loss_expression("cross_entropy", (o1,), (t1,)) == -(t1 * log(o1) + (1 - t1) * log(1 - o1))


def test_fused_loss_takes_the_last_layers_logits():
    network = mlp(2, [Dense(2, "softmax")], "softmax_cross_entropy")
    layer = network.layers[0]
    assert network.graph.definition[network.output] == softmax_cross_entropy(*layer.nets, *network.targets)


@pytest.mark.parametrize("reduction, scale", [("mean", Rational(1, 3)), ("sum", Integer(1))])
def test_batched_copies_every_node_per_example_and_shares_parameters(chain, reduction, scale):
    graph = batched(chain.graph, 3, reduction)
    assert graph.parameters == chain.graph.parameters
    assert graph.inputs == symbols("a0[1] y[1] a0[2] y[2] a0[3] y[3]")
    assert len(graph.nodes) == 3 * len(chain.graph.nodes) + 1
    a0_2, w1, b1, z1_2 = symbols("a0[2] w1 b1 z1[2]")
    assert graph.definition[z1_2] == a0_2 * w1 + b1
    assert graph.output == Symbol("C0_batch", real=True)
    assert graph.definition[graph.output] == scale * sum(symbols("C0[1] C0[2] C0[3]"), Integer(0))
    assert graph.latex_name(z1_2) == "{z^{(L-2)}}^{[2]}"


def test_batched_loss_is_the_mean_of_the_example_losses(chain):
    graph = batched(chain.graph, 2, "mean")
    one = chain.graph.expanded()
    copies = [one.xreplace({s: Symbol(f"{s.name}[{i}]", real=True) for s in chain.graph.inputs}) for i in (1, 2)]
    assert graph.expanded() == (copies[0] + copies[1]) / 2


def one_line_network_error(build, message):
    with pytest.raises(NetworkError) as raised:
        build()
    assert "\n" not in str(raised.value)
    assert str(raised.value) == message


@pytest.mark.parametrize("units", [0, -1, True, 2.5, "3"])
def test_bad_units(units):
    one_line_network_error(lambda: Dense(units), f"layer units must be a positive whole number, got {units!r}")


def test_unknown_activation():
    one_line_network_error(
        lambda: Dense(2, "gelu"),
        "unknown activation 'gelu': expected one of sigmoid, tanh, relu, leaky_relu, softplus, identity, softmax, silu",
    )


def test_unknown_bias_mode():
    one_line_network_error(lambda: Dense(2, bias="each"), "unknown bias mode 'each': expected one of per_unit, shared, none")


def test_names_count_mismatch():
    one_line_network_error(lambda: Dense(2, names=["h1"]), "layer has 2 units but 1 names")


def test_duplicate_unit_names_in_one_layer():
    # Rejected whatever the notation, even where unit names do not appear in symbols.
    one_line_network_error(
        lambda: Dense(2, names=["h", "h"]), "unit name 'h' is given twice in one layer: give distinct unit names"
    )


def test_unit_names_reused_across_layers():
    one_line_network_error(
        lambda: mlp(1, [Dense(1, names=["h"]), Dense(1, names=["h"])], notation="mazur"),
        "the name 'h' is both unit 1 of layer 1 and unit 1 of layer 2: use distinct names",
    )


def test_duplicate_input_names():
    one_line_network_error(lambda: mlp(["x", "x"], [Dense(1)]), "the name 'x' is both input 1 and input 2: use distinct names")


def test_target_clashing_with_an_input():
    one_line_network_error(lambda: mlp(["x"], [Dense(1)], targets=["x"]), "the name 'x' is both input 1 and target 1: use distinct names")


def test_targets_count_mismatch():
    one_line_network_error(
        lambda: mlp(1, [Dense(2)], targets=["t"]), "the output layer has 2 units but 1 targets are named"
    )


def test_unknown_loss():
    one_line_network_error(
        lambda: mlp(1, [Dense(1)], "hinge"),
        "unknown loss 'hinge': expected one of half_sse, sse, mse, half_mse, cross_entropy, softmax_cross_entropy, "
        "upstream",
    )


def test_no_layers_and_no_inputs():
    one_line_network_error(lambda: mlp(1, []), "the network has no layers: give at least one")
    one_line_network_error(lambda: mlp(0, [Dense(1)]), "the network has no inputs: give at least one")


def test_fused_loss_needs_softmax_or_identity_last_layer():
    one_line_network_error(
        lambda: mlp(2, [Dense(2, "sigmoid")], "softmax_cross_entropy"),
        "softmax_cross_entropy needs a last layer with activation softmax or identity",
    )


def test_bad_batches():
    graph = chain_network().graph
    one_line_network_error(lambda: batched(graph, 2, "max"), "unknown reduction 'max': expected mean or sum")
    one_line_network_error(lambda: batched(graph, 0), "a batch needs at least one example")


def test_network_error_is_a_value_error_and_network_wraps_a_graph(mazur):
    assert issubclass(NetworkError, ValueError)
    assert isinstance(mazur.graph, Graph)
    assert nn.LOSSES == ("half_sse", "sse", "mse", "half_mse", "cross_entropy", "softmax_cross_entropy", "upstream")
    assert functions.ACTIVATIONS["identity"] is None


def test_a_layer_knows_its_bias_mode():
    network = mlp(2, [Dense(3, "sigmoid", bias="per_unit"), Dense(2, "sigmoid", bias="shared"), Dense(2, bias="none")], "sse")
    assert [layer.bias_mode for layer in network.layers] == ["per_unit", "shared", "none"]
    one_unit_shared = mlp(1, [Dense(1, "sigmoid", bias="shared")], "sse").layers[0]
    assert one_unit_shared.bias_mode == "per_unit"  # one unit: nothing to share


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: mlp(["i1", "i2"], [Dense(2, names=["i1", "h2"]), Dense(1)], notation="mazur"),
         "the name 'i1' is both input 1 and unit 1 of layer 1: use distinct names"),
        (lambda: mlp(["x"], [Dense(1, names=["o"])], targets=["o"]),
         "the name 'o' is both unit 1 of layer 1 and target 1: use distinct names"),
        (lambda: mlp(["net_h1", "i2"], [Dense(2, names=["h1", "h2"]), Dense(1)], notation="mazur"),
         "the name 'net_h1' is both input 1 and the net input of unit h1 in layer 1: use distinct names"),
        (lambda: mlp(["out_o1"], [Dense(1, names=["o1"])], notation="mazur"),
         "the name 'out_o1' is both input 1 and the output of unit o1 in layer 1: use distinct names"),
        (lambda: mlp(["w1", "i2"], [Dense(2), Dense(1)], notation="mazur"),
         "the name 'w1' is both input 1 and the weight from w1 to unit h1 in layer 1: use distinct names"),
        (lambda: mlp(["b1"], [Dense(2, bias="shared")], notation="mazur"),
         "the name 'b1' is both input 1 and the bias of layer 1: use distinct names"),
        (lambda: mlp(["x"], [Dense(1)], targets=["L"]), "the name 'L' is both target 1 and the loss: use distinct names"),
    ],
)
def test_a_name_two_parts_of_a_network_share_is_refused_naming_both(build, message):
    from symprop.model.nn import NameClash

    with pytest.raises(NameClash) as raised:
        build()
    assert str(raised.value) == message
    assert raised.value.name == message.split("'")[1]


def test_an_upstream_loss_takes_the_given_gradient_in_the_targets_place():
    network = mlp(["x1", "x2"], [Dense(2, "sigmoid")], "upstream")
    g1, g2 = network.targets
    assert (g1.name, g2.name) == ("g1", "g2")
    assert network.graph.latex_name(g1) == "g_{1}"
    outs = network.layers[-1].outs
    assert network.graph.definition[network.output] == g1 * outs[0] + g2 * outs[1]
    one = mlp(1, [Dense(1)], "upstream")
    assert [t.name for t in one.targets] == ["g"]


def test_a_graph_given_an_upstream_gradient_starts_its_walk_from_it():
    from symprop.engine.backprop import derive
    from symprop.model.graph import Graph
    from symprop.model.nn import with_upstream_gradient

    x, w, b, y1, y2 = sympy.symbols("x w b y1 y2", real=True)
    graph = with_upstream_gradient(
        Graph.from_pairs([(y1, w * x + b), (y2, sympy.tanh(y1))], inputs=[x], parameters=[w, b]), ["y1", "y2"])
    g1, g2 = graph.inputs[1:]
    assert (g1.name, g2.name, graph.latex_name(g2)) == ("g1", "g2", "g_{2}")
    loss = g1 * (w * x + b) + g2 * sympy.tanh(w * x + b)
    derivation = derive(graph)
    for p in (w, b):
        got = derivation[p].closed_form.xreplace({y2: sympy.tanh(w * x + b)})
        assert sympy.expand(got - sympy.diff(loss, p)) == 0
    with pytest.raises(NetworkError, match="^upstream gradient: q: expected nodes of the graph \\(y1, y2, L\\)$"):
        with_upstream_gradient(graph, ["q"])


@pytest.mark.parametrize("width, bias", [(1, None), (1, "b"), (3, None), (40, "b")])
def test_affine_builds_exactly_what_sympy_builds(width, bias):
    from symprop.model.nn import affine

    weights = sympy.symbols(f"w1:{width + 1}", real=True)
    inputs = sympy.symbols(f"a1:{width + 1}", real=True)
    b = Symbol(bias, real=True) if bias else None
    expected = sympy.Add(*[w * a for w, a in zip(weights, inputs)]) + (b if b is not None else 0)
    built = affine(weights, inputs, b)
    assert built == expected and built.args == expected.args and hash(built) == hash(expected)
    assert sympy.srepr(built) == sympy.srepr(expected)
    # a repeated symbol is not a plain affine map: SymPy's own rules apply (w a + w a = 2 w a)
    w, a = Symbol("w", real=True), Symbol("a", real=True)
    assert affine([w, w], [a, a]) == 2 * w * a


@pytest.mark.parametrize("seed", range(6))
def test_affine_orders_any_names_as_sympy_does(seed):
    """Names as every notation and user file writes them (scripts, braces, capitals, digits,
    non-ASCII), shuffled; and symbols of mixed assumptions, which SymPy's rules order."""
    import random

    from symprop.model.nn import affine

    rng = random.Random(seed)
    pool = ["w1_2", "w12", "W_{1}", "a0_3", "a^{(1)}_2", "z_10", "z_9", "Z", "é", "x", "b1", "out_h1", "h1", "w1_10"]
    names = rng.sample(pool, 2 * rng.randint(1, 6) + 1)
    assumptions = [dict(real=True)] * len(names) if seed % 2 else [rng.choice([{}, dict(real=True)]) for _ in names]
    symbols = [Symbol(n, **kw) for n, kw in zip(names, assumptions)]
    half = len(symbols) // 2
    weights, inputs, b = symbols[:half], symbols[half:2 * half], symbols[-1]
    expected = sympy.Add(*[w * a for w, a in zip(weights, inputs)]) + b
    built = affine(weights, inputs, b)
    assert sympy.srepr(built) == sympy.srepr(expected) and hash(built) == hash(expected)


def test_a_network_describes_itself_in_one_line_in_a_notebook():
    from symprop.model.nn import Dense, mlp

    network = mlp(["i1", "i2"], [Dense(2, "sigmoid"), Dense(2, "sigmoid", bias="shared")], "half_sse", notation="mazur")
    assert network._repr_markdown_() == ("**Network** (mazur notation): 2 inputs -> 2 sigmoid -> 2 sigmoid, loss "
                                         "half_sse; 11 parameters (8 weights, 3 biases)\n")


def test_an_upstream_gradient_for_a_matrix_node_is_given_entry_by_entry():
    from symprop.engine.backprop import derive
    from symprop.model.graph import Graph
    from symprop.model.nn import with_upstream_gradient

    W, x, z = sympy.MatrixSymbol("W", 2, 3), sympy.MatrixSymbol("x", 3, 1), sympy.MatrixSymbol("z", 2, 1)
    s = Symbol("s", real=True)
    graph = with_upstream_gradient(Graph.from_pairs([(z, W * x), (s, (z.T * z)[0, 0])], parameters=[W], inputs=[x]),
                                   ["z"])
    g1, g2 = graph.inputs[-2:]
    # L = g . (W x): dL/dW = g x^T, the layer's backward(dout) with dout = g
    expected = sympy.Matrix([[g, ] for g in (g1, g2)]) * sympy.Matrix(3, 1, lambda i, j: Symbol(f"x[{i}, 0]", real=True)).T
    assert derive(graph)[W].closed_form == expected
