"""Misspelt keys and tables, wrong case, wrong types and names used twice: each refused in one
line that names the key and, for a misspelling, the nearest valid name."""
from __future__ import annotations

import pytest

from tests.hostile.corpus import MAZUR, graph_file, refused

GRAPH = graph_file([("q", "x + y"), ("f", "q*x")])


def replaced(old: str, new: str, text: str = MAZUR) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


#: (old text, misspelt text, fragment of the refusal): one misspelling per key and table.
TYPOS = [
    ("activation =", "activaton =", "did you mean 'activation'"),
    ("activation =", "Activation =", "did you mean 'activation'"),
    ("activation =", "ACTIVATION =", "did you mean 'activation'"),
    ("units =", "unit =", "did you mean 'units'"),
    ("units =", "Units =", "did you mean 'units'"),
    ("names =", "name =", "did you mean 'names'"),
    ("bias =", "biases =", "did you mean 'bias'"),
    ("bias =", "bais =", "did you mean 'bias'"),
    ("[network]", "[netwrok]", "netwrok"),
    ("[network]", "[Network]", "Network"),
    ("[network]", "[networks]", "networks"),
    ("inputs =", "input =", "did you mean 'inputs'"),
    ("inputs =", "Inputs =", "did you mean 'inputs'"),
    ("targets =", "target =", "did you mean 'targets'"),
    ("targets =", "tragets =", "did you mean 'targets'"),
    ("loss =", "los =", "did you mean 'loss'"),
    ("loss =", "Loss =", "did you mean 'loss'"),
    ("layers =", "layer =", "did you mean 'layers'"),
    ("layers =", "lyaers =", "did you mean 'layers'"),
    ("[values]", "[value]", "value"),
    ("[values]", "[Values]", "Values"),
    ("[values]", "[vaules]", "vaules"),
    ("[train]", "[trian]", "did you mean [train]"),
    ("[train]", "[training]", "training"),
    ("[train]", "[Train]", "Train"),
    ("learning_rate =", "learning_rte =", "did you mean 'learning_rate'"),
    ("learning_rate =", "learningrate =", "did you mean 'learning_rate'"),
    ("learning_rate =", "Learning_Rate =", "did you mean 'learning_rate'"),
    ("learning_rate =", "lr =", "'lr'"),
    ("update =", "updates =", "did you mean 'update'"),
    ("steps =", "step =", "did you mean 'steps'"),
    ("steps =", "epochs =", "'epochs'"),
    ("title =", "titel =", "did you mean 'title'"),
    ("notation =", "notaton =", "did you mean 'notation'"),
    ("notation =", "Notation =", "did you mean 'notation'"),
]


@pytest.mark.parametrize("old, new, fragment", TYPOS, ids=[t[1].strip("[] =") + f"-{i}" for i, t in enumerate(TYPOS)])
def test_a_misspelt_key_or_table_is_refused_with_the_nearest_name(old, new, fragment):
    refused(replaced(old, new), fragment)


#: (old text, wrong value, fragment): values of the wrong kind or outside their choices.
WRONG_VALUES = [
    ('activation = "sigmoid", names = ["h1"', 'activation = "Sigmoid", names = ["h1"', "Sigmoid"),
    ('activation = "sigmoid", names = ["h1"', 'activation = "sigmiod", names = ["h1"', "sigmiod"),
    ('activation = "sigmoid", names = ["h1"', 'activation = 1, names = ["h1"', "activation"),
    ('activation = "sigmoid", names = ["h1"', 'activation = ["sigmoid"], names = ["h1"', "activation"),
    ("units = 2, activation = \"sigmoid\", names = [\"h1\"", "units = \"2\", activation = \"sigmoid\", names = [\"h1\"",
     "units"),
    ("units = 2, activation = \"sigmoid\", names = [\"h1\"", "units = 2.0, activation = \"sigmoid\", names = [\"h1\"",
     "units"),
    ("units = 2, activation = \"sigmoid\", names = [\"h1\"", "units = 0, activation = \"sigmoid\", names = [\"h1\"",
     "units"),
    ("units = 2, activation = \"sigmoid\", names = [\"h1\"", "units = -2, activation = \"sigmoid\", names = [\"h1\"",
     "units"),
    ("units = 2, activation = \"sigmoid\", names = [\"h1\"", "units = true, activation = \"sigmoid\", names = [\"h1\"",
     "units"),
    ('bias = "shared" },\n  { units = 2', 'bias = "Shared" },\n  { units = 2', "Shared"),
    ('bias = "shared" },\n  { units = 2', 'bias = true },\n  { units = 2', "bias"),
    ('loss = "half_sse"', 'loss = "MSE"', "MSE"),
    ('loss = "half_sse"', 'loss = "half-sse"', "half-sse"),
    ('loss = "half_sse"', "loss = 2", "loss"),
    ('inputs = ["i1", "i2"]', 'inputs = "i1, i2"', "inputs"),
    ('inputs = ["i1", "i2"]', "inputs = 0", "inputs"),
    ('inputs = ["i1", "i2"]', "inputs = -3", "inputs"),
    ('inputs = ["i1", "i2"]', "inputs = []", "inputs"),
    ('inputs = ["i1", "i2"]', 'inputs = ["i1", 2]', "inputs"),
    ('inputs = ["i1", "i2"]', 'inputs = ["i 1", "i2"]', "i 1"),
    ('inputs = ["i1", "i2"]', 'inputs = ["1i", "i2"]', "1i"),
    ('targets = ["t1", "t2"]', 'targets = ["t1"]', "one target per output unit"),
    ('targets = ["t1", "t2"]', 'targets = "t1"', "targets"),
    ("layers = [", "layers = 3\nunused = [", "layers"),
    ('names = ["h1", "h2"]', 'names = ["h1"]', "one name per unit"),
    ('names = ["h1", "h2"]', 'names = "h1"', "names"),
    ("learning_rate = 0.5", 'learning_rate = "0.5"', "learning_rate"),
    ("learning_rate = 0.5", "learning_rate = 0", "learning_rate"),
    ("learning_rate = 0.5", "learning_rate = -0.5", "learning_rate"),
    ("learning_rate = 0.5", "learning_rate = true", "learning_rate"),
    ('update = "weights"', 'update = "Weights"', "Weights"),
    ('update = "weights"', 'update = "biases"', "biases"),
    ("steps = 1", "steps = -1", "steps"),
    ("steps = 1", "steps = 1.5", "steps"),
    ("steps = 1", 'steps = "1"', "steps"),
    ('notation = "mazur"', 'notation = "Mazur"', "Mazur"),
    ('notation = "mazur"', 'notation = "karpathy"', "karpathy"),
    ('title = "Mazur"', "title = 3", "title"),
    ("w1 = 0.15", 'w1 = "0.15"', "w1"),
    ("w1 = 0.15", "w1 = true", "w1"),
    ("w1 = 0.15", "w1 = [0.15]", "w1"),
    ("w1 = 0.15", "w1 = {}", "w1"),
    ("w1 = 0.15", "W1 = 0.15", "W1"),
    ("w1 = 0.15", "w9 = 0.15", "w9"),
    ("i1 = 0.05", "i3 = 0.05", "i3"),
]


@pytest.mark.parametrize("old, new, fragment", WRONG_VALUES, ids=[f"{t[2]}-{i}" for i, t in enumerate(WRONG_VALUES)])
def test_a_value_of_the_wrong_kind_is_refused_naming_its_key(old, new, fragment):
    refused(replaced(old, new), fragment)


GRAPH_TYPOS = [
    ("[graph]", "[grpah]", "is 'grpah' a misspelling of 'graph'"),
    ("[graph]", "[Graph]", "Graph"),
    ("inputs =", "inptus =", "did you mean 'inputs'"),
    ("nodes =", "node =", "did you mean 'nodes'"),
    ("nodes =", "Nodes =", "did you mean 'nodes'"),
    ("[graph]", "[graph]\nparameter = [\"x\"]", "did you mean 'parameters'"),
    ("[graph]", "[graph]\noutputs = \"f\"", "did you mean 'output'"),
    ("[graph]", "[graph]\noutput = \"g\"", "'g' is not a node"),
    ("[graph]", "[graph]\noutput = 3", "output"),
    ("[graph]", "[graph]\nparameters = [\"z\"]", "missing values for z"),  # a parameter need not be an input
    ("[graph]", "[graph]\nparameters = []", "no parameters"),
    ('[["q", "x + y"], ["f", "q*x"]]', "[]", "the graph is empty"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y", "z"]]', "expected a pair"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q"]]', "expected a pair"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", 3]]', "expected a pair"),
    ('[["q", "x + y"], ["f", "q*x"]]', '"q = x + y"', "expected a list of [name, expression] pairs"),
    ('[["q", "x + y"], ["f", "q*x"]]', '{ q = "x + y" }', "expected a list of [name, expression] pairs"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q*X"]]', "unknown name 'X'"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "Q*x"]]', "unknown name 'Q'"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "sigmod(q)"]]', "calling sigmod is not allowed"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "Exp(q)"]]', "calling Exp is not allowed"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "exp q"]]', "not a valid expression"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "exp"]]', "exp is a function"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "exp(q, x)"]]', "exp takes 1 argument"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q^2"]]', "^ (write ** for a power)"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q*f"]]', "it uses itself"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "f + y"], ["f", "q*x"]]', "defined later"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", ""]]', "empty"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q x"]]', "not a valid expression"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "(q*x"]]', "q*x"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q*x)"]]', "q*x)"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q // x"]]', "//"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q % x"]]', "%"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q if x else y"]]', "if/else"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "q < x"]]', "comparisons"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "[q, x]"]]', "lists"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "\\"q\\""]]', "only numbers and names"),
    ('[["q", "x + y"], ["f", "q*x"]]', '[["q", "x + y"], ["f", "exp(x=q)"]]', "keyword"),
    ("x = 1.0", 'x = "one"', "x"),
    ("x = 1.0", "X = 1.0", "X"),
]


@pytest.mark.parametrize("old, new, fragment", GRAPH_TYPOS, ids=[f"{t[2][:20]}-{i}" for i, t in enumerate(GRAPH_TYPOS)])
def test_a_wrong_graph_is_refused_naming_its_key(old, new, fragment):
    refused(replaced(old, new, GRAPH), fragment)


#: Two parts of a network sharing a name: each refused naming both.
COLLISIONS = [
    ('names = ["h1", "h2"]', 'names = ["i1", "h2"]', "'i1'"),
    ('names = ["h1", "h2"]', 'names = ["h1", "h1"]', "'h1'"),
    ('names = ["o1", "o2"]', 'names = ["h1", "o2"]', "'h1'"),
    ('names = ["o1", "o2"]', 'names = ["t1", "o2"]', "'t1'"),
    ('targets = ["t1", "t2"]', 'targets = ["i1", "t2"]', "'i1'"),
    ('targets = ["t1", "t2"]', 'targets = ["t1", "t1"]', "'t1'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["i1", "i1"]', "'i1'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["w1", "i2"]', "'w1'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["b1", "i2"]', "'b1'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["E_total", "i2"]', "'E_total'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["net_h1", "i2"]', "'net_h1'"),
    ('inputs = ["i1", "i2"]', 'inputs = ["out_o1", "i2"]', "'out_o1'"),
    ('targets = ["t1", "t2"]', 'targets = ["w5", "t2"]', "'w5'"),
    ('targets = ["t1", "t2"]', 'targets = ["out_h1", "t2"]', "'out_h1'"),
]


@pytest.mark.parametrize("old, new, fragment", COLLISIONS, ids=[f"{t[2]}-{i}" for i, t in enumerate(COLLISIONS)])
def test_two_parts_of_a_network_never_share_a_name(old, new, fragment):
    refused(replaced(old, new), fragment)


GRAPH_COLLISIONS = [
    ([("x", "y + 1"), ("f", "x*y")], "has the name of an input"),
    ([("q", "x + y"), ("q", "q*x")], "has the name of an earlier node"),
    ([("q", "x + y"), ("delta_q", "q*x")], "reserved for the adjoint"),
    ([("q", "x + y"), ("Q", "q*x")], None),  # names are case-sensitive: q and Q are two nodes
]


@pytest.mark.parametrize("nodes, fragment", GRAPH_COLLISIONS)
def test_a_graph_assigns_each_name_once(nodes, fragment):
    from tests.hostile.corpus import derived

    text = graph_file(nodes)
    if fragment is None:
        derived(text)
    else:
        refused(text, fragment)


def test_graph_inputs_named_twice_are_refused():
    refused(graph_file([("f", "x*y")], inputs=("x", "x")).replace("x = 1.0\nx = 1.0", "x = 1.0"), "'x'")
