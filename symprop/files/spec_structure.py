"""What a network file asks to derive: ``[network]`` as a layered :class:`~symprop.model.nn.Network`,
or ``[graph]`` as an expression :class:`~symprop.model.graph.Graph`.

Both are checked against the schema before they are built, and networks or
graphs that would take very long to derive (more than ``MAX_PARAMETERS``
parameters, ``MAX_LAYERS`` layers or ``MAX_NODES`` nodes) are refused up
front with that reason.
"""
from __future__ import annotations

import io
import re
import tokenize

from sympy import Expr, Symbol

from symprop.model import functions

from symprop.model import nn
from symprop.files.expressions import EXPRESSION_FUNCTIONS, SYMPY_MEANINGS, ExpressionError, parse_expression
from symprop.model.graph import Graph, GraphError
from symprop.files.spec_file import NAME, UNIT_NAME, SpecFile, check_name, refuse_unknown_keys
from symprop.files.spec_layers import build_stack, is_stack
from symprop.model.stack import LayerStack
from symprop.files.toml_text import MISSING, Key, describe

#: Beyond these a derivation (or its document) would take very long: refused up front.
MAX_PARAMETERS = 50_000  # building 50,000 takes 15 s, and time grows faster than the count
MAX_LAYERS = 200  # the closed forms nest one level per layer: time grows with depth squared
MAX_NODES = 400  # like MAX_LAYERS: a chain of 400 nodes takes seconds, of 1000 most of a minute
LOSSES = nn.LOSSES
#: The keys each table may have; any other is refused with the nearest of these.
NETWORK_KEYS = ("inputs", "targets", "loss", "layers")
LAYER_KEYS = ("units", "activation", "bias", "names", "alpha", "type")
GRAPH_KEYS = ("inputs", "parameters", "nodes", "expression", "output", "loss")


def structure(spec: SpecFile, notation: str, title: str = "") -> tuple[nn.Network | LayerStack | None, Graph]:
    """The file's network and its graph, or (for a ``[graph]``) None and the graph; exactly one of the two tables."""
    has_network, has_graph = "network" in spec.data, "graph" in spec.data
    if has_network and has_graph:
        raise spec.error(("graph",), "give either [network] (a layered network) or [graph] (an expression graph), "
                         "not both")
    if has_network:
        network = build_network(spec, notation, title)
        return network, network.graph
    if has_graph:
        return None, build_graph(spec)
    raise spec.error(("network",), "missing: give a [network] table (layers) or a [graph] table (nodes)"
                     + (spec.misspelling(("network",)) or spec.misspelling(("graph",))))


# ---------------------------------------------------------------- [network]


def build_network(spec: SpecFile, notation: str, title: str = "") -> nn.Network | LayerStack:
    """The layered network of ``[network]``, named by ``notation``: dense layers, or a stack of
    layer types over an array-shaped input (:mod:`symprop.files.spec_layers`)."""
    spec.table(("network",), required="a table")
    if is_stack(spec):
        return build_stack(spec, notation, title)
    refuse_unknown_keys(spec, ("network",), NETWORK_KEYS, "in [network]")
    inputs = _network_inputs(spec)
    layers = _layers(spec)
    _check_size(spec, inputs, layers)
    loss = spec.choice(("network", "loss"), LOSSES, "half_sse")
    _check_loss_fits(spec, loss, layers)
    targets = spec.names(("network", "targets"), None, what="target names")
    if targets is not None and len(targets) != layers[-1].units:
        raise spec.error(("network", "targets"), f"{len(targets)} targets named, but the output layer has "
                         f"{layers[-1].units} units: expected one target per output unit")
    try:
        return nn.mlp(inputs, layers, loss, targets=targets, notation=notation, title=title)
    except nn.NameClash as error:
        raise spec.error(_clash_key(error.name, inputs, layers, targets), str(error)) from None
    except (nn.NetworkError, GraphError) as error:
        raise spec.error(("network",), str(error)) from None


def _clash_key(name: str, inputs, layers: list[nn.Dense], targets) -> Key:
    """The key of the later of two places that share ``name``: the targets, else the last
    layer naming it, else the inputs (a name the notation gives clashed with it)."""
    if name in (targets or ()):
        return ("network", "targets")
    for i in reversed(range(len(layers))):
        if name in (layers[i].names or ()):
            return ("network", "layers", i, "names")
    return ("network", "inputs") if isinstance(inputs, list) and name in inputs else ("network",)


def _network_inputs(spec: SpecFile) -> int | list[str]:
    key = ("network", "inputs")
    value = spec.require(key, "the inputs' names, or their count")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise spec.error(key, f"expected a positive count of inputs, got {value}")
        if value > MAX_PARAMETERS:
            raise spec.error(key, f"{value} inputs: at most {MAX_PARAMETERS}, as more would take very long")
        return value
    if not isinstance(value, list):
        raise spec.error(key, f"expected a list of input names or their count, got {describe(value)}")
    names = spec.names(key, what="input names")
    if not names:
        raise spec.error(key, "no inputs: expected at least one name")
    return names


def _layers(spec: SpecFile) -> list[nn.Dense]:
    key = ("network", "layers")
    layers = spec.require(key, 'a list of layers like { units = 2, activation = "sigmoid" }')
    if not isinstance(layers, list):
        raise spec.error(key, 'expected a list of layers like { units = 2, activation = "sigmoid" }, got '
                         + describe(layers))
    if not layers:
        raise spec.error(key, "the network is empty: expected at least one layer")
    if len(layers) > MAX_LAYERS:
        raise spec.error(key, f"{len(layers)} layers: at most {MAX_LAYERS}, as deeper networks would take very long")
    return [_dense(spec, (*key, i)) for i in range(len(layers))]


def _dense(spec: SpecFile, key: Key) -> nn.Dense:
    spec.table(key, required="a layer")
    refuse_unknown_keys(spec, key, LAYER_KEYS, f"in layer {key[-1] + 1}")
    spec.choice((*key, "type"), ("dense",), "dense")  # any other type makes the network a stack
    units = spec.integer((*key, "units"), low=1, high=MAX_PARAMETERS, what="a positive whole number of units")
    activation = spec.choice((*key, "activation"), tuple(functions.ACTIVATIONS), "sigmoid")
    bias = spec.choice((*key, "bias"), nn.BIAS_MODES, "per_unit")
    names = spec.names((*key, "names"), None, pattern=UNIT_NAME, what="unit names")
    if names is not None and len(names) != units:
        raise spec.error((*key, "names"), f"{len(names)} names for {units} units: expected one name per unit")
    alpha = spec.number((*key, "alpha"), 0.01, what="a leaky ReLU slope between 0 and 1")
    if not 0 < alpha < 1:
        raise spec.error((*key, "alpha"), f"expected a leaky ReLU slope between 0 and 1, got {alpha!r}")
    return nn.Dense(units, activation, bias, names, alpha)


def _check_size(spec: SpecFile, inputs, layers: list[nn.Dense]) -> None:
    width = inputs if isinstance(inputs, int) else len(inputs)
    total = 0
    for layer in layers:
        total += width * layer.units + {"per_unit": layer.units, "shared": 1, "none": 0}[layer.bias]
        width = layer.units
    if total > MAX_PARAMETERS:
        raise spec.error(("network", "layers"), f"{total} parameters: deriving more than {MAX_PARAMETERS} would take "
                         "very long; use fewer or narrower layers")


def _check_loss_fits(spec: SpecFile, loss: str, layers: list[nn.Dense]) -> None:
    last = layers[-1].activation
    if loss == "softmax_cross_entropy" and last not in ("softmax", "identity"):
        raise spec.error(("network", "loss"), f"softmax_cross_entropy takes the logits: expected a last layer with "
                         f"activation softmax or identity, not {last}")
    if loss == "cross_entropy" and last not in ("sigmoid", "softmax"):
        raise spec.error(("network", "loss"), f"cross_entropy takes probabilities: expected a last layer with "
                         f"activation sigmoid or softmax, not {last}")


# ---------------------------------------------------------------- [graph]


def build_graph(spec: SpecFile) -> Graph:
    """The expression graph of ``[graph]``: every name a real symbol, nodes in file order.

    ``inputs`` are data and ``parameters`` what gradients are taken for; a parameter
    need not be listed among the inputs, and a name listed in both counts once, as a
    parameter. Without ``parameters``, every input is one. The graph is either ``nodes``
    (named equations) or one ``expression``, taken apart into nodes.
    """
    spec.table(("graph",), required="a table")
    refuse_unknown_keys(spec, ("graph",), GRAPH_KEYS, "in [graph]")
    if spec.get(("graph", "expression")) is not MISSING:
        return _expression_graph(spec)
    inputs = spec.names(("graph", "inputs"), [] if spec.get(("graph", "parameters")) is not MISSING else MISSING,
                        what="input names", in_expressions=True)
    parameters = spec.names(("graph", "parameters"), inputs, what="parameter names", in_expressions=True)
    if not parameters:
        raise spec.error(("graph", "parameters"), "no parameters: expected at least one name to take gradients for")
    declared = [*parameters, *(n for n in inputs if n not in parameters)]
    pairs = _nodes(spec, {name: Symbol(name, real=True) for name in declared})
    if upstream_loss(spec):
        return _upstream_graph(spec, pairs, inputs, parameters)
    output = _graph_output(spec, [node.name for node, _ in pairs])
    data = [Symbol(n, real=True) for n in inputs if n not in parameters]
    try:
        return Graph.from_pairs(pairs, inputs=data, parameters=[Symbol(p, real=True) for p in parameters],
                                output=Symbol(output, real=True))
    except GraphError as error:
        raise spec.error(("graph",), str(error)) from None


def upstream_loss(spec: SpecFile) -> bool:
    """``[graph] loss = "upstream"``: the graph's outputs get a given upstream gradient."""
    if spec.get(("graph", "loss")) is MISSING:
        return False
    spec.choice(("graph", "loss"), ("upstream",))
    return True


def _upstream_graph(spec: SpecFile, pairs, inputs, parameters) -> Graph:
    """The graph ending in ``L = sum_k g_k y_k`` over the nodes ``output`` lists (one name or
    several), the upstream gradient ``g`` given in ``[values]`` as one number per output."""
    key = ("graph", "output")
    nodes = [node.name for node, _ in pairs]
    given = spec.get(key, nodes[-1])
    outputs = [given] if isinstance(given, str) else spec.names(key, what="node names", in_expressions=True)
    for name in outputs:
        if name not in nodes:
            raise spec.error(key, f"{name!r} is not a node: expected nodes whose upstream gradient is given")
    data = [Symbol(n, real=True) for n in inputs if n not in parameters]
    try:
        graph = Graph.from_pairs(pairs, inputs=data, parameters=[Symbol(p, real=True) for p in parameters])
        return nn.with_upstream_gradient(graph, outputs, name=_free_name(nodes + inputs + parameters, "L"))
    except (GraphError, nn.NetworkError) as error:
        raise spec.error(("graph",), str(error)) from None


def _free_name(taken: list[str], name: str) -> str:
    """``name``, or ``name_1``, ``name_2``, ... when a file already uses it."""
    candidates = (name, *(f"{name}_{i}" for i in range(1, len(taken) + 2)))
    return next(c for c in candidates if c not in taken)


def _expression_graph(spec: SpecFile) -> Graph:
    """``expression = "f = ..."`` (or just ``"..."``) with its ``parameters``: the graph
    :meth:`Graph.from_expression` takes it apart into; a name not declared is an input."""
    key = ("graph", "expression")
    if spec.get(("graph", "nodes")) is not MISSING:
        raise spec.error(key, "give either expression (one formula) or nodes (named equations), not both")
    parameters = spec.names(("graph", "parameters"), [], what="parameter names", in_expressions=True)
    if not parameters:
        missing = "missing" if spec.get(("graph", "parameters")) is MISSING else "no parameters"
        raise spec.error(("graph", "parameters"), f"{missing}: expected the names gradients are taken for (an "
                         "expression's other names are inputs)")
    inputs = spec.names(("graph", "inputs"), [], what="input names", in_expressions=True)
    output, text = _named_expression(spec, key)
    names = [*parameters, *inputs, *(n for n in _names_used(text) if n not in parameters and n not in inputs)]
    try:
        expr = parse_expression(text, {n: Symbol(n, real=True) for n in names}, node=output or "")
        graph = Graph.from_expression(expr, parameters=parameters, inputs=inputs, output=output)
    except (ExpressionError, GraphError) as error:
        raise spec.error(key, str(error)) from None
    if len(graph.nodes) > MAX_NODES:
        raise spec.error(key, f"{len(graph.nodes)} nodes: at most {MAX_NODES}, as more would take very long")
    return graph


def _named_expression(spec: SpecFile, key: Key) -> tuple[str | None, str]:
    """``(output name or None, formula)`` of ``"f = formula"`` or ``"formula"``; the name may
    instead be given as ``output``, but not both ways."""
    text = spec.string(key, what='a formula like "f = (x*w - y)**2"')
    named = re.match(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)", text)
    output = spec.string(("graph", "output"), None, what="the name of the output node") if spec.get(
        ("graph", "output")) is not MISSING else None
    if named is None:
        return output, text
    if output is not None:
        raise spec.error(("graph", "output"), f"the output is named twice ({named.group(1)!r} in graph.expression "
                         "and here): name it once")
    check_name(spec, key, named.group(1), in_expressions=True)
    return named.group(1), text[named.end():]


def _names_used(text: str) -> list[str]:
    """The names ``text`` uses that a file could declare (not functions, not SymPy's ``pi``, ``E``,
    ... which the parser refuses by name), in order; none when it cannot be tokenized (the
    parser then says why)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    names = [t.string for t in tokens if t.type == tokenize.NAME and NAME.match(t.string)]
    usable = (n for n in names if n not in EXPRESSION_FUNCTIONS and n not in SYMPY_MEANINGS)
    return list(dict.fromkeys(usable))


def _nodes(spec: SpecFile, known: dict[str, Symbol]) -> list[tuple[Symbol, Expr]]:
    key = ("graph", "nodes")
    nodes = spec.require(key, 'a list of [name, expression] pairs like [["q", "x + y"], ["f", "q*z"]]')
    if not isinstance(nodes, list):
        raise spec.error(key, f'expected a list of [name, expression] pairs, got {describe(nodes)}')
    if not nodes:
        raise spec.error(key, "the graph is empty: expected at least one node")
    if len(nodes) > MAX_NODES:
        raise spec.error(key, f"{len(nodes)} nodes: at most {MAX_NODES}, as more would take very long")
    pairs = [_node_pair(spec, (*key, i)) for i in range(len(nodes))]
    later = {name: i for i, (name, _) in reversed(list(enumerate(pairs)))}
    symbols = dict(known)
    result = []
    for i, (name, text) in enumerate(pairs):
        if name in symbols:
            kind = "an input" if name in known else "an earlier node"
            raise spec.error((*key, i), f"node {name!r} has the name of {kind}: each name is assigned once")
        try:
            expr = parse_expression(text, symbols, later={n: j for n, j in later.items() if j >= i}, node=name)
        except ExpressionError as error:
            raise spec.error((*key, i), f"node {name!r}: {error}") from None
        symbols[name] = Symbol(name, real=True)
        result.append((symbols[name], expr))
    _check_reserved_names(spec, ("graph",), list(symbols))
    return result


def _node_pair(spec: SpecFile, key: Key) -> tuple[str, str]:
    pair = spec.get(key)
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise spec.error(key, f'expected a pair ["name", "expression"], got {describe(pair)}')
    check_name(spec, key, pair[0], in_expressions=True)
    return pair[0], pair[1]


def _check_reserved_names(spec: SpecFile, key: Key, names: list[str]) -> None:
    """``delta_q`` beside a node ``q`` would be mistaken for q's adjoint symbol."""
    present = set(names)
    for name in names:
        if name.startswith("delta_") and name.removeprefix("delta_") in present:
            raise spec.error(key, f"the name {name!r} is reserved for the adjoint of {name.removeprefix('delta_')!r}: "
                             "choose another name")


def _graph_output(spec: SpecFile, nodes: list[str]) -> str:
    key = ("graph", "output")
    output = spec.string(key, nodes[-1], what="the name of a node")
    if output not in nodes:
        raise spec.error(key, f"{output!r} is not a node: expected one of {', '.join(nodes[:10])}"
                         + (", ..." if len(nodes) > 10 else ""))
    return output
