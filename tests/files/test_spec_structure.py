"""What a network file asks to derive: [network] as a layered network, [graph] as an expression graph."""
from __future__ import annotations

import textwrap

import pytest
import sympy
from sympy import Rational, Symbol

from symprop.files import spec

from symprop.files import spec_structure
from symprop.model import functions
from symprop.model.functions import leaky_relu
from symprop.files.spec_file import SpecFile
from tests.spec_files import GRAPH, NETWORK, drawn_network, refusal


def names(symbols) -> list[str]:
    return [s.name for s in symbols]


# ---------------------------------------------------------------- [graph]


def test_a_graph_declares_its_parameters_among_its_inputs_and_may_pick_its_output():
    text = GRAPH.replace("nodes", 'parameters = ["x", "z"]\noutput = "f"\nnodes').replace(
        '["f", "q*z"]', '["f", "q*z"], ["r", "f**2"]')
    network, graph = spec_structure.structure(SpecFile(text, "g.toml"), "plain")
    x, y, z, q, f, r = (Symbol(n, real=True) for n in "xyzqfr")
    assert network is None
    assert (graph.inputs, graph.parameters, graph.output, graph.nodes) == ((y,), (x, z), f, (q, f, r))
    assert [(eq.node, eq.expr) for eq in graph.equations] == [(q, x + y), (f, q * z), (r, f**2)]


def test_a_parameter_need_not_be_an_input_and_one_listed_as_both_is_a_parameter():
    x, y, z = (Symbol(n, real=True) for n in "xyz")
    apart = GRAPH.replace('inputs = ["x", "y", "z"]', 'inputs = ["y"]\nparameters = ["x", "z"]')
    both = GRAPH.replace("nodes", 'parameters = ["x", "z"]\nnodes')
    only = GRAPH.replace('inputs = ["x", "y", "z"]', 'parameters = ["x", "y", "z"]')
    for text, data in ((apart, (y,)), (both, (y,)), (only, ())):
        graph = spec_structure.build_graph(SpecFile(text, "g.toml"))
        assert (graph.inputs, graph.parameters) == (data, (x, z) if data else (x, y, z))


def test_a_graph_without_parameters_differentiates_every_input_and_ends_at_its_last_node():
    graph = spec_structure.build_graph(SpecFile(GRAPH, "g.toml"))
    assert (graph.inputs, names(graph.parameters), graph.output.name) == ((), ["x", "y", "z"], "f")


# ---------------------------------------------------------------- [network]


def test_a_network_table_builds_the_layers_it_describes_in_the_notation_given():
    text = textwrap.dedent("""\
        [network]
        inputs = ["i1", "i2"]
        loss = "sse"
        targets = ["t1"]
        layers = [
          { units = 2, activation = "tanh", bias = "shared", names = ["h1", "h2"] },
          { units = 1, activation = "leaky_relu", alpha = 0.2 },
        ]
        """)
    network, graph = spec_structure.structure(SpecFile(text, "n.toml"), "mazur", "My title")
    assert graph is network.graph
    assert (network.title, network.loss, names(network.inputs), names(network.targets)) == (
        "My title", "sse", ["i1", "i2"], ["t1"])
    assert [layer.activation for layer in network.layers] == ["tanh", "leaky_relu"]
    assert names(graph.parameters) == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "b2"]
    out_o1, net_o1 = (Symbol(n, real=True) for n in ("out_o1", "net_o1"))
    assert graph.definition[out_o1] == leaky_relu(net_o1, Rational(1, 5))
    assert graph.definition[Symbol("out_h1", real=True)] == sympy.tanh(Symbol("net_h1", real=True))


def test_the_limits_are_the_documented_ones():
    assert (spec_structure.MAX_PARAMETERS, spec_structure.MAX_LAYERS, spec_structure.MAX_NODES) == (50_000, 200, 400)
    assert spec_structure.LOSSES == ("half_sse", "sse", "mse", "half_mse", "cross_entropy", "softmax_cross_entropy",
                                    "upstream")


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "change, expected",
    [
        (("sigmoid\" },\n  { units = 1", "sigmod\" },\n  { units = 1"),
         "network.layers[0].activation (line 4): unknown activation 'sigmod': expected one of sigmoid, tanh, relu, "
         "leaky_relu, softplus, identity, softmax, silu"),
        (("[network]\n", '[network]\nloss = "hinge"\n'),
         "network.loss (line 2): unknown loss 'hinge': expected one of half_sse, sse, mse, half_mse, cross_entropy, "
         "softmax_cross_entropy, upstream"),
        (("{ units = 1,", '{ units = 1, bias = "both",'),
         "network.layers[1].bias (line 5): unknown bias 'both': expected one of per_unit, shared, none"),
        (("{ units = 1,", "{ units = 0,"),
         "network.layers[1].units (line 5): expected a positive whole number of units, got 0"),
        (("{ units = 1,", "{ units = 1.5,"),
         "network.layers[1].units (line 5): expected a positive whole number of units, got 1.5"),
        (("{ units = 1,", '{ units = "1",'),
         "network.layers[1].units (line 5): expected a positive whole number of units, got '1'"),
        (("{ units = 1,", "{ units = true,"),
         "network.layers[1].units (line 5): expected a positive whole number of units, got true"),
        (("{ units = 1,", '{ names = ["o1"],'),
         "network.layers[1].units (line 5): missing: expected a positive whole number of units"),
        (("{ units = 2,", '{ units = 2, names = ["h1"],'),
         "network.layers[0].names (line 4): 1 names for 2 units: expected one name per unit"),
        (("{ units = 2,", '{ units = 2, names = ["h1", "h 2"],'),
         "network.layers[0].names (line 4): 'h 2' is not a usable name: expected a letter, then letters, digits or _ "
         "(64 at most)"),
        (("layers = [", 'targets = ["t1", "t2"]\nlayers = ['),
         "network.targets (line 3): 2 targets named, but the output layer has 1 units: expected one target per "
         "output unit"),
        (('"i2"]', '"i1"]'), "network.inputs (line 2): duplicate name 'i1': each name is used once"),
        (('"i2"]', '"w1_1_1"]'),
         "network.inputs (line 2): the name 'w1_1_1' is both input 2 and the weight from i1 to unit h1 in layer 1: "
         "use distinct names"),
        (("layers = [", 'targets = ["L"]\nlayers = ['),
         "network.targets (line 3): the name 'L' is both target 1 and the loss: use distinct names"),
        (("layers = [", 'targets = ["i1"]\nlayers = ['),
         "network.targets (line 3): the name 'i1' is both input 1 and target 1: use distinct names"),
        (("{ units = 2,", '{ units = 2, names = ["i1", "h2"],'),
         "network.layers[0].names (line 4): the name 'i1' is both input 1 and unit 1 of layer 1: use distinct names"),
        (("{ units = 1,", '{ units = 1, names = ["i2"],'),
         "network.layers[1].names (line 5): the name 'i2' is both input 2 and unit 1 of layer 2: use distinct names"),
        (("layers = [", 'targets = ["o"]\nlayers = [', "{ units = 1,", '{ units = 1, names = ["o"],'),
         "network.targets (line 3): the name 'o' is both unit 1 of layer 2 and target 1: use distinct names"),
        (('"i2"]', '"net_h1"]', "[network]", 'notation = "mazur"\n[network]', "{ units = 2,",
          '{ units = 2, names = ["h1", "h2"],'),
         "network.inputs (line 3): the name 'net_h1' is both input 2 and the net input of unit h1 in layer 1: use "
         "distinct names"),
        (('inputs = ["i1", "i2"]', "inputs = 0"),
         "network.inputs (line 2): expected a positive count of inputs, got 0"),
        (('inputs = ["i1", "i2"]', 'inputs = "i1"'),
         "network.inputs (line 2): expected a list of input names or their count, got 'i1'"),
        (("[network]\n", '[network]\nloss = "cross_entropy"\n'), None),
        (("[network]\n", '[network]\nloss = "softmax_cross_entropy"\n'),
         "network.loss (line 2): softmax_cross_entropy takes the logits: expected a last layer with activation "
         "softmax or identity, not sigmoid"),
    ],
)
def test_layered_network_refusals(change, expected):
    text = drawn_network()
    for old, new in zip(change[::2], change[1::2]):
        text = text.replace(old, new)
    text += '[train]\ninit = "uniform"\n'
    if expected is None:
        assert spec.loads(text).network.loss == "cross_entropy"
        return
    assert refusal(text) == f"f.toml: {expected}"


def test_cross_entropy_needs_probabilities():
    text = drawn_network().replace('activation = "sigmoid" },\n]', 'activation = "relu" },\n]')
    assert refusal(text.replace("[network]\n", '[network]\nloss = "cross_entropy"\n')) == (
        "f.toml: network.loss (line 2): cross_entropy takes probabilities: expected a last layer with activation "
        "sigmoid or softmax, not relu"
    )


@pytest.mark.parametrize(
    "graph, expected",
    [
        ('nodes = [["q", "x + y"], ["q", "q*z"]]',
         "graph.nodes[1] (line 3): node 'q' has the name of an earlier node: each name is assigned once"),
        ('nodes = [["x", "y*z"]]', "graph.nodes[0] (line 3): node 'x' has the name of an input: each name is "
                                   "assigned once"),
        ('nodes = [["q", "f + y"], ["f", "q*z"]]',
         "graph.nodes[0] (line 3): node 'q': it uses 'f', which is defined later (graph.nodes[1]): a node may use "
         "only inputs and earlier nodes"),
        ('nodes = [["q", "q + y"], ["f", "q*z"]]',
         "graph.nodes[0] (line 3): node 'q': it uses itself (a cycle): a node may use only inputs and earlier nodes"),
        ('nodes = [["q", "x + w"]]', "graph.nodes[0] (line 3): node 'q': unknown name 'w': declare it in graph.inputs "
                                     "or define it as an earlier node"),
        ('nodes = [["q", "pi*x"]]', "graph.nodes[0] (line 3): node 'q': unknown name 'pi': declare it in graph.inputs "
                                    "or define it as an earlier node (pi is a plain symbol here, never the number pi)"),
        ('nodes = [["q", "I*x"]]', "graph.nodes[0] (line 3): node 'q': unknown name 'I': declare it in graph.inputs "
                                   "or define it as an earlier node (I is a plain symbol here, never the imaginary "
                                   "unit)"),
        ("nodes = []", "graph.nodes (line 3): the graph is empty: expected at least one node"),
        ('nodes = [["q", "x + y"]]\noutput = "f"', "graph.output (line 4): 'f' is not a node: expected one of q"),
        ('nodes = [["q", "x + y"]]\noutput = "x"', "graph.output (line 4): 'x' is not a node: expected one of q"),
        ('nodes = [["q", "x +"]]', "graph.nodes[0] (line 3): node 'q': 'x +' is not a valid expression (invalid "
                                   "syntax)"),
        ('nodes = [["q", ""]]', "graph.nodes[0] (line 3): node 'q': expected an expression, got an empty string"),
        ('nodes = [["q"]]', 'graph.nodes[0] (line 3): expected a pair ["name", "expression"], got a list of 1'),
        ('nodes = [["q", 3]]', 'graph.nodes[0] (line 3): expected a pair ["name", "expression"], got a list of 2'),
        ('nodes = [["exp", "x"]]', "graph.nodes[0] (line 3): 'exp' is the name of a function: choose another name"),
        ('nodes = [["q", "x"], ["delta_q", "q"]]',
         "graph (line 1): the name 'delta_q' is reserved for the adjoint of 'q': choose another name"),
        ('parameters = []\nnodes = [["q", "x"]]', "graph.parameters (line 3): no parameters: expected at least one "
                                                  "name to take gradients for"),
        ('nodes = "q = x + y"', 'graph.nodes (line 3): expected a list of [name, expression] pairs, got '
                                "'q = x + y'"),
        ("", "graph.nodes (line 1): missing: expected a list of [name, expression] pairs like "
             '[["q", "x + y"], ["f", "q*z"]]'),
    ],
)
def test_graph_refusals(graph, expected):
    text = '[graph]\ninputs = ["x", "y", "z"]\n' + graph + "\n[values]\nx = 1\ny = 2\nz = 3\n"
    assert refusal(text) == f"f.toml: {expected}"


def test_network_and_graph_together_or_neither():
    assert refusal(NETWORK + GRAPH) == (
        "f.toml: graph (line 7): give either [network] (a layered network) or [graph] (an expression graph), not both"
    )
    assert refusal('title = "t"\n[values]\nx = 1\n') == (
        "f.toml: network: missing: give a [network] table (layers) or a [graph] table (nodes)"
    )
    assert refusal("[netwrk]\ninputs = 2\n") == (
        "f.toml: network: missing: give a [network] table (layers) or a [graph] table (nodes) (is 'netwrk' a "
        "misspelling of 'network'?)"
    )
    assert refusal("network = 3\n") == "f.toml: network (line 1): expected a table, got 3"


def test_empty_network_is_refused():
    assert refusal("[network]\ninputs = 2\nlayers = []\n") == (
        "f.toml: network.layers (line 3): the network is empty: expected at least one layer"
    )
    assert refusal("[network]\ninputs = 2\nlayers = [3]\n") == (
        "f.toml: network.layers[0] (line 3): expected a table, got 3"
    )


def test_networks_too_large_to_derive_are_refused_up_front():
    assert refusal("[network]\ninputs = 784\nlayers = [{ units = 300 }, { units = 10 }]\n") == (
        "f.toml: network.layers (line 3): 238510 parameters: deriving more than 50000 would take very long; use "
        "fewer or narrower layers"
    )
    deep = "[network]\ninputs = 1\nlayers = [" + "{ units = 1 }, " * 201 + "]\n"
    assert refusal(deep) == (
        "f.toml: network.layers (line 3): 201 layers: at most 200, as deeper networks would take very long"
    )
    many = '[graph]\ninputs = ["x"]\nnodes = [' + ", ".join(f'["n{i}", "x"]' for i in range(401)) + "]\n"
    assert refusal(many) == "f.toml: graph.nodes (line 3): 401 nodes: at most 400, as more would take very long"


@pytest.mark.parametrize(
    "text, expected",
    [
        (NETWORK.replace('{ units = 2, activation = "sigmoid" }', '{ units = 2, activaton = "relu" }'),
         "network.layers[0].activaton (line 4): unknown key 'activaton' in layer 1: did you mean 'activation'?"),
        (NETWORK.replace('{ units = 1, activation = "sigmoid" }', '{ units = 1, colour = "red" }'),
         "network.layers[1].colour (line 5): unknown key 'colour' in layer 2: expected one of units, activation, "
         "bias, names, alpha, type"),
        (NETWORK + 'los = "sse"\n', "network.los (line 7): unknown key 'los' in [network]: did you mean 'loss'?"),
        (GRAPH + 'outptu = "f"\n', "graph.outptu (line 4): unknown key 'outptu' in [graph]: did you mean 'output'?"),
    ],
)
def test_unknown_keys_in_network_layers_and_graph_are_refused(text, expected):
    assert refusal(text) == f"f.toml: {expected}"


# ---------------------------------------------------------------- [graph] expression

EXPRESSION = '[graph]\nexpression = "E = (1/(1 + exp(-(w*x + b))) - y)**2"\nparameters = ["w", "b"]\n'


def test_an_expression_is_taken_apart_into_nodes_and_its_other_names_are_inputs():
    graph = spec_structure.build_graph(SpecFile(EXPRESSION, "g.toml"))
    w, x, b, y, p, s, a, E = (Symbol(n, real=True) for n in ("w", "x", "b", "y", "p", "s", "a", "E"))
    assert (graph.inputs, graph.parameters, graph.output) == ((x, y), (w, b), E)
    assert [(eq.node, eq.expr) for eq in graph.equations] == [
        (p, w * x), (s, b + p), (a, functions.sigmoid(s)), (E, (a - y) ** 2)]


def test_an_expression_may_leave_its_output_unnamed_or_name_it_in_output_and_declare_inputs():
    unnamed = '[graph]\nexpression = "w*x + y"\nparameters = ["w"]\ninputs = ["y", "x", "w"]\n'
    graph = spec_structure.build_graph(SpecFile(unnamed, "g.toml"))
    assert (names(graph.inputs), names(graph.parameters), graph.output.name) == (["y", "x"], ["w"], "f")
    graph = spec_structure.build_graph(SpecFile(unnamed + 'output = "L"\n', "g.toml"))
    assert graph.output.name == "L"


def test_a_file_with_an_expression_is_derived_and_worked():
    from symprop.engine.backprop import derive

    problem = spec.loads(EXPRESSION + "[values]\nw = 0.5\nb = 0.1\nx = 1.0\ny = 0.0\n", source="g.toml")
    a, x, y = (Symbol(n, real=True) for n in "axy")
    assert derive(problem)["w"].closed_form == 2 * x * a * (1 - a) * (a - y)


@pytest.mark.parametrize(
    "text, expected",
    [
        (EXPRESSION + 'nodes = [["q", "x"]]', "graph.expression (line 2): give either expression (one formula) or nodes "
                                              "(named equations), not both"),
        ('[graph]\nexpression = "f = w*x"\n', "graph.parameters (line 1): missing: expected the names gradients are "
                                              "taken for (an expression's other names are inputs)"),
        ('[graph]\nexpression = "f = w*x"\nparameters = []\n', "graph.parameters (line 3): no parameters: expected "
                                                               "the names gradients are taken for (an expression's "
                                                               "other names are inputs)"),
        ('[graph]\nexpression = "f = w*x"\nparameters = ["v"]\n', "graph.expression (line 2): parameter v is not a "
                                                                  "symbol of the expression (its symbols: w, x)"),
        ('[graph]\nexpression = "f = w*x"\nparameters = ["w"]\noutput = "E"\n',
         "graph.output (line 4): the output is named twice ('f' in graph.expression and here): name it once"),
        ('[graph]\nexpression = "f = w*"\nparameters = ["w"]\n',
         "graph.expression (line 2): 'w*' is not a valid expression (invalid syntax)"),
        ('[graph]\nexpression = "f = g(w)"\nparameters = ["w"]\n',
         "graph.expression (line 2): calling g is not allowed: the functions are sigmoid, tanh, relu, leaky_relu, "
         "softplus, silu, exp, log, sqrt, Abs, Max, Min"),
        ('[graph]\nexpression = 3\nparameters = ["w"]\n',
         'graph.expression (line 2): expected a formula like "f = (x*w - y)**2", got 3'),
        ('[graph]\nexpression = "exp = w"\nparameters = ["w"]\n',
         "graph.expression (line 2): 'exp' is the name of a function: choose another name"),
        ('[graph]\nexpression = "w = w*x"\nparameters = ["w"]\n', "graph.expression (line 2): output w is taken by a "
                                                                  "symbol of the expression: choose another name for "
                                                                  "the output node"),
        (EXPRESSION + "expresion = 2\n", "graph.expresion (line 4): unknown key 'expresion' in [graph]: did you mean "
                                         "'expression'?"),
    ],
)
def test_expression_refusals(text, expected):
    assert refusal(text) == f"f.toml: {expected}"
