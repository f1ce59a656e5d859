"""Backpropagation rules read off the engine, rather than stated.

The layer view of "Deep Learning from Scratch" (chapter 5): every layer of a
network as DLfS's layer classes, Affine then its activation (or
Softmax-with-Loss, or the loss as a last layer), each with its forward
formulas and the backward formulas the engine derives for a small probe graph
(``dL/dX = dL/dY W^T``, ``dL/dx = dout y(1 - y)``, ``dL/dx = (y - t)/N``...).

The node rules of a computational graph: how the upstream gradient crosses
each edge (an add passes it unchanged, a multiply scales it by the other
input, any other function by its derivative) and how a branch sums what comes
back along each of its edges, classified from a derivation's local derivatives.
"""
from __future__ import annotations

import itertools
import operator
import random
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Any

import sympy
from sympy import Eq, Expr, Idx, ImmutableMatrix, IndexedBase, Integer, Lambda, MatrixSymbol, Piecewise, Sum, Symbol

from symprop.model import functions
from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.losses import LOSS_RECORDS
from symprop.engine.backprop import derive
from symprop.engine.records import Derivation
from symprop.model.graph import Graph
from symprop.layers.layer_symbols import fused_softmax_loss, layer_activation, layer_superscript, width_symbol
from symprop.layers.matrix_expressions import MatrixPartial, Ones, Partial, work_out


# ---------------------------------------------------------------------------
# The layer view ("Deep Learning from Scratch", chapter 5), read off the engine.


@dataclass(frozen=True)
class LayerRule:
    """One layer's forward and backward formulas, as DLfS's layer classes compute them.

    ``layer`` is the network layer the rule belongs to (0 when it stands alone).
    Elementwise rules are written for one entry (``x``, ``y``); the Affine rule
    for a batch ``X`` of ``N`` rows (examples), with DLfS's ``W`` of shape
    (inputs, units), the transpose of the matrix form's ``W^l``.
    """

    name: str
    forward: tuple[Eq, ...]
    backward: tuple[Eq, ...]
    layer: int = 0


#: The loss every layer-view rule differentiates, and the batch size.
LOSS = Symbol("L", real=True)
BATCH = Symbol("N", integer=True, positive=True)

#: Probe sizes (examples, inputs, units): all different, so that only one product fits each shape.
_PROBE_SIZES = (2, 3, 4)


def _rule_name(records, name: str, default: str) -> str:
    """A layer's DLfS name from its activation's or loss's record (``Sigmoid``, ``Cross-Entropy-Loss``)."""
    record = records.get(name)
    return default if record is None else record.layer_name


def _symbol_matrix(prefix: str, rows: int, cols: int) -> ImmutableMatrix:
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(f"{prefix}_{i + 1}_{j + 1}", real=True))


def _probe_gradients(outputs: ImmutableMatrix, parameters: list[ImmutableMatrix]):
    """Backpropagate ``L = sum_ij dout_ij out_ij`` (``dout`` an upstream gradient given as data)
    through a small graph whose nodes are the entries of ``outputs``; return dL/dP for each
    parameter matrix P, as the engine writes it, and the matrix of ``dout`` symbols."""
    dout = _symbol_matrix("dout", *outputs.shape)
    nodes = _symbol_matrix("y", *outputs.shape)
    pairs = [(nodes[i, j], outputs[i, j]) for i in range(outputs.rows) for j in range(outputs.cols)]
    pairs.append((LOSS, sum(dout[i, j] * nodes[i, j] for i in range(outputs.rows) for j in range(outputs.cols))))
    symbols = [s for matrix in parameters for s in matrix if isinstance(s, Symbol)]
    graph = Graph.from_pairs(pairs, inputs=list(dout), parameters=list(dict.fromkeys(symbols)), output=LOSS)
    derivation = derive(graph)
    return [matrix.applyfunc(lambda s: derivation.gradients[s].closed_form) for matrix in parameters], dout


def read_off_product(target: ImmutableMatrix, atoms: list[tuple[Any, ImmutableMatrix]], max_factors: int = 3):
    """The shortest product of the atoms (each possibly transposed) whose concrete value is
    ``target``: how a matrix of derived entries is recognised as ``dout W^T``.
    ``atoms`` pairs each symbolic matrix with its concrete value at the probe size."""
    choice = read_off_choice(target, [concrete for _, concrete in atoms], max_factors)
    return _product([symbolic for symbolic, _ in atoms], choice)


def read_off_choice(target: ImmutableMatrix, concretes: list[ImmutableMatrix], max_factors: int = 3):
    """The shortest sequence of (atom index, transposed) whose product of ``concretes`` is
    ``target`` (see :func:`read_off_product`). Each candidate is first compared at one
    random integer point, exactly; only the one that agrees there is expanded and proven."""
    free = sorted(set().union(target.free_symbols, *(c.free_symbols for c in concretes)), key=str)
    point = dict(zip(free, (Integer(v) for v in random.Random(0).sample(range(2, 10 * len(free) + 12), len(free)))))
    at_point = [c.xreplace(point) for c in concretes]
    target_at_point = target.xreplace(point)
    choices = [(i, transposed) for transposed in (False, True) for i in range(len(concretes))]
    for length in range(1, max_factors + 1):
        for combination in itertools.product(choices, repeat=length):
            shapes = [at_point[i].T.shape if t else at_point[i].shape for i, t in combination]
            if any(a[1] != b[0] for a, b in zip(shapes, shapes[1:])) or (shapes[0][0], shapes[-1][1]) != target.shape:
                continue
            if _product(at_point, combination) != target_at_point:
                continue
            if (_product(concretes, combination) - target).expand().is_zero_matrix:
                return combination
    raise ValueError(f"no product of at most {max_factors} of the layer's matrices gives {target}")


def _product(matrices, combination):
    """The product of ``matrices[i]`` (transposed where asked) for each (i, transposed) in ``combination``."""
    return reduce(operator.mul, [matrices[i].T if transposed else matrices[i] for i, transposed in combination])


@dataclass(frozen=True)
class _Affine:
    """The symbols of one Affine layer ``Y = X W + b`` and the atoms its backward is read off from."""

    X: MatrixSymbol
    Y: MatrixSymbol
    W: MatrixSymbol
    b: Any
    forward: Expr
    #: X, W, dL/dY, then the vectors of ones of length N, inputs and units
    atoms: tuple


def _affine(n_in: Symbol, n_out: Symbol, bias: str, sup: str) -> _Affine:
    X, Y = MatrixSymbol("X", BATCH, n_in), MatrixSymbol("Y", BATCH, n_out)
    W = MatrixSymbol(f"W^{{{sup}}}", n_in, n_out)
    b = {"per_unit": MatrixSymbol(f"b^{{{sup}}}", 1, n_out), "shared": Symbol(f"b^{{{sup}}}"), "none": None}[bias]
    forward = X * W
    if bias == "per_unit":
        forward += Ones(BATCH, 1) * b
    elif bias == "shared":
        forward += b * Ones(BATCH, n_out)
    ones = tuple(Ones(size, 1) for size in (BATCH, n_in, n_out))
    return _Affine(X, Y, W, b, forward, (X, W, MatrixPartial(LOSS, Y), *ones))


@lru_cache(maxsize=None)
def _affine_read_off(bias: str) -> tuple:
    """For ``dL/dX``, ``dL/dW`` (and ``dL/db``): the (atom index, transposed) sequence of
    :class:`_Affine`'s atoms whose product is what the engine derives at the probe sizes.
    The same for every layer with this kind of bias, so probed once."""
    n_in, n_out = Symbol("n_in", integer=True, positive=True), Symbol("n_out", integer=True, positive=True)
    layer = _affine(n_in, n_out, bias, "probe")
    sizes = dict(zip((BATCH, n_in, n_out), map(Integer, _PROBE_SIZES)))
    concrete = {layer.X: _symbol_matrix("x", *_PROBE_SIZES[:2]), layer.W: _symbol_matrix("w", *_PROBE_SIZES[1:])}
    if bias == "per_unit":
        concrete[layer.b] = _symbol_matrix("b", 1, _PROBE_SIZES[2])
    elif bias == "shared":
        concrete[layer.b] = Symbol("b", real=True)
    outputs = work_out(layer.forward, {**concrete, **sizes})
    wanted = [layer.X, layer.W] + ([layer.b] if layer.b is not None else [])
    # A shared bias is one symbol; as a 1x1 matrix it is read off like the others.
    as_matrix = {layer.b: ImmutableMatrix([[concrete[layer.b]]])} if bias == "shared" else {}
    gradients, dout = _probe_gradients(outputs, [as_matrix.get(s, concrete.get(s)) for s in wanted])
    concretes = [concrete[layer.X], concrete[layer.W], dout, *(ImmutableMatrix.ones(n, 1) for n in _PROBE_SIZES)]
    return tuple(read_off_choice(derived, concretes) for derived in gradients)


def affine_rule(index: int, n_in: Symbol, n_out: Symbol, bias: str = "per_unit", superscript: str = "") -> LayerRule:
    r"""Affine: ``Y = X W + b`` (``b`` added to every row); backward read off the engine:
    ``dL/dX = dL/dY W^T``, ``dL/dW = X^T dL/dY``, ``dL/db = 1^T dL/dY`` (the sum over the batch)."""
    layer = _affine(n_in, n_out, bias, superscript or f"({index})")
    wanted = [layer.X, layer.W] + ([layer.b] if layer.b is not None else [])
    backward = []
    for symbol, choice in zip(wanted, _affine_read_off(bias)):
        lhs = Partial(LOSS, symbol) if bias == "shared" and symbol == layer.b else MatrixPartial(LOSS, symbol)
        backward.append(Eq(lhs, _product(layer.atoms, choice), evaluate=False))
    return LayerRule("Affine", (Eq(layer.Y, layer.forward, evaluate=False),), tuple(backward), index)


def step_mask(expr: Expr, x: Symbol) -> Expr:
    """``expr`` with its unit steps ``H(±x)`` resolved per region of ``x`` (x > 0, x < 0,
    x = 0), as a Piecewise: ReLU's ``dout H(x)`` reads "dout where x > 0, else 0"."""
    steps = expr.atoms(sympy.Heaviside)
    if not steps:
        return expr

    def at(sign: int) -> Expr:
        return expr.xreplace({h: h.func(h.args[0].subs(x, sign), *h.args[1:]) for h in steps})

    positive, negative, zero = at(1), at(-1), at(0)
    pieces = [(positive, x > 0)]
    if negative != zero:
        pieces.append((negative, x < 0))
    pieces.append((zero, True))
    return Piecewise(*pieces)


def elementwise_rule(name: str, function: Lambda, index: int = 0) -> LayerRule:
    """An activation layer ``y = f(x)``: ``dL/dx`` is what the engine gives for
    ``L = dout * y`` (``dout`` the upstream gradient dL/dy), steps written as a mask."""
    x, y, dout = Symbol("x", real=True), Symbol("y", real=True), Symbol("dout", real=True)
    graph = Graph.from_pairs([(y, function(x)), (LOSS, dout * y)], inputs=(dout,), parameters=(x,), output=LOSS)
    derived = derive(graph).gradients[x].closed_form
    backward = Eq(Partial(LOSS, x), step_mask(derived, x).xreplace({dout: Partial(LOSS, y)}), evaluate=False)
    return LayerRule(name, (Eq(y, function(x), evaluate=False),), (backward,), index)


def entrywise(derived: list[Expr], renames: list[dict]) -> Expr | None:
    """The one formula every entry has once its own symbols are renamed (``y_ik -> y``),
    or None when the entries differ in form (they mix entries)."""
    forms = {g.xreplace(r) for g, r in zip(derived, renames)}
    return forms.pop() if len(forms) == 1 else None


def softmax_with_loss_rule(index: int = 0, classes: Symbol | None = None) -> LayerRule:
    r"""Softmax-with-Loss over a batch of N: ``y = softmax(x)``,
    ``L = -\frac{1}{N} \sum_i \sum_k t_{ik} \log y_{ik}``; the engine gives ``dL/dx = (y - t)/N``."""
    examples, width = _PROBE_SIZES[0], _PROBE_SIZES[1]
    x, y, t = (_symbol_matrix(p, examples, width) for p in ("x", "y", "t"))
    losses = [Symbol(f"L_{i + 1}", real=True) for i in range(examples)]
    pairs = [(y[i, k], functions.softmax(Integer(k + 1), *x.row(i))) for i in range(examples) for k in range(width)]
    pairs += [(losses[i], functions.softmax_cross_entropy(*x.row(i), *t.row(i))) for i in range(examples)]
    pairs.append((LOSS, sympy.Add(*losses) / BATCH))
    graph = Graph.from_pairs(pairs, inputs=(*t, BATCH), parameters=tuple(x), output=LOSS)
    derivation = derive(graph)
    xs, ys, ts = (Symbol(p, real=True) for p in ("x", "y", "t"))
    entries = [(i, k) for i in range(examples) for k in range(width)]
    derived = [derivation.gradients[x[i, k]].closed_form for i, k in entries]
    common = entrywise(derived, [{y[i, k]: ys, t[i, k]: ts} for i, k in entries])
    if common is None:
        raise ValueError("the engine's Softmax-with-Loss gradient is not one formula per entry")
    i, k, j = Idx("i"), Idx("k"), Idx("j")
    K = classes if classes is not None else Symbol("K", integer=True, positive=True)
    X, Yb, T = IndexedBase("x"), IndexedBase("y"), IndexedBase("t")
    forward = (
        Eq(Yb[i, k], sympy.exp(X[i, k]) / Sum(sympy.exp(X[i, j]), (j, 1, K)), evaluate=False),
        Eq(LOSS, -Sum(T[i, k] * sympy.log(Yb[i, k]), (k, 1, K), (i, 1, BATCH)) / BATCH, evaluate=False),
    )
    return LayerRule("Softmax-with-Loss", forward, (Eq(Partial(LOSS, xs), common, evaluate=False),), index)


def softmax_rule(width: int, index: int = 0) -> LayerRule:
    """A softmax layer on its own (no fused loss): per entry, what the engine gives for
    ``L = sum_k dout_k y_k``; every dL/dx_k mixes all the entries."""
    x = [Symbol(f"x_{k}", real=True) for k in range(1, width + 1)]
    y = [Symbol(f"y_{k}", real=True) for k in range(1, width + 1)]
    dout = [Symbol(f"dout_{k}", real=True) for k in range(1, width + 1)]
    outputs = [functions.softmax(Integer(k), *x) for k in range(1, width + 1)]
    pairs = [*zip(y, outputs), (LOSS, sympy.Add(*[d * v for d, v in zip(dout, y)]))]
    derivation = derive(Graph.from_pairs(pairs, inputs=dout, parameters=x, output=LOSS))
    upstream = {d: Partial(LOSS, v) for d, v in zip(dout, y)}
    backward = tuple(
        Eq(Partial(LOSS, xk), derivation.gradients[xk].closed_form.xreplace(upstream), evaluate=False) for xk in x
    )
    return LayerRule("Softmax", tuple(Eq(v, f, evaluate=False) for v, f in zip(y, outputs)), backward, index)


def loss_rule(network) -> LayerRule:
    """The network's own (non-fused) loss as a last layer: ``L`` in the outputs ``y_k``
    and targets ``t_k``; ``dL/dy`` read off the engine, one formula when every entry agrees."""
    last = network.layers[-1]
    letter = LOSS_RECORDS[network.loss].given_vector or "t"  # the upstream gradient g takes the targets' place
    y = [Symbol(f"y_{k}", real=True) for k in range(1, len(last.outs) + 1)]
    t = [Symbol(f"{letter}_{k}", real=True) for k in range(1, len(last.outs) + 1)]
    rename = {**dict(zip(last.outs, y)), **dict(zip(network.targets, t))}
    loss = network.graph.definition[network.output].xreplace(rename)
    derivation = derive(Graph.from_pairs([(LOSS, loss)], inputs=t, parameters=y, output=LOSS))
    derived = [derivation.gradients[v].closed_form for v in y]
    ys, ts = Symbol("y", real=True), Symbol(letter, real=True)
    common = entrywise(derived, [{v: ys, target: ts} for v, target in zip(y, t)])
    if common is not None:
        backward = (Eq(Partial(LOSS, ys), common, evaluate=False),)
    else:
        backward = tuple(Eq(Partial(LOSS, v), g, evaluate=False) for v, g in zip(y, derived))
    name = _rule_name(LOSS_RECORDS, network.loss, "Loss")
    return LayerRule(name, (Eq(LOSS, loss, evaluate=False),), backward, last.index)


def layer_view(network) -> tuple[LayerRule, ...]:
    """Every layer as DLfS's layers: Affine, then its activation (or Softmax-with-Loss
    for a softmax output with fused cross-entropy, else the loss as a last layer)."""
    rules, last = [], network.layers[-1]
    for layer in network.layers:
        sup = layer_superscript(network, layer.index)
        n_in, n_out = width_symbol(network, layer.index - 1), width_symbol(network, layer.index)
        rules.append(affine_rule(layer.index, n_in, n_out, layer.bias_mode, sup))
        if layer is last and fused_softmax_loss(network):
            rules.append(softmax_with_loss_rule(layer.index, n_out))
            break
        activation = layer_activation(network.graph, layer)
        if activation.kind == "elementwise":
            name = _rule_name(ACTIVATION_RECORDS, layer.activation, "Activation")
            rules.append(elementwise_rule(name, activation.function, layer.index))
        elif activation.kind == "softmax":
            rules.append(softmax_rule(len(layer.outs), layer.index))
        if layer is last:
            rules.append(loss_rule(network))
    return tuple(rules)


# ---------------------------------------------------------------------------
# The computational graph's node rules, as observed in a derivation.


@dataclass(frozen=True)
class NodeRule:
    r"""How the upstream gradient crosses one edge ``parent -> node`` (or gathers at a branch).

    ``kind``: ``add`` (the parent is a bare term of a sum: local factor 1, the
    upstream gradient passes unchanged), ``multiply`` (the parent is a factor of
    a product: the local factor is the product of the other inputs), ``identity``
    (``node = parent``), ``function`` (anything else: ``f'``), or ``branch``
    (``node`` feeds several ``consumers``; ``parent`` is None and what comes back
    along each edge is summed).
    ``passed``: what reaches the parent, ``delta_node * local``; for a branch the
    sum ``sum_c delta_c dc/dnode``.
    """

    node: Symbol
    kind: str
    parent: Symbol | None
    local: Expr
    passed: Expr
    consumers: tuple[Symbol, ...] = ()


def edge_kind(expression: Expr, parent: Symbol, local: Expr) -> str:
    """Classify the edge from ``parent`` into a node defined by ``expression``, given the
    engine's local derivative: ``add``, ``multiply``, ``identity`` or ``function``."""
    if expression == parent:
        return "identity" if local == 1 else "function"
    terms = expression.args if expression.is_Add else (expression,)
    holding = [term for term in terms if term.has(parent)]
    if len(holding) != 1:
        return "function"
    term = holding[0]
    if term == parent:
        return "add" if local == 1 else "function"
    if term.is_Mul and parent in term.args:
        others = term / parent
        if not others.has(parent) and sympy.expand(others - local) == 0:
            return "multiply"
    return "function"


def node_rules(derivation: Derivation) -> tuple[NodeRule, ...]:
    """Every edge of the graph the output depends on, in graph order, classified from
    ``derivation.local``; then one ``branch`` rule per node or parameter with several consumers."""
    graph, adjoints = derivation.graph, derivation.adjoints
    rules = []
    for node in graph.nodes:
        if node not in adjoints:
            continue
        upstream = sympy.S.One if node == graph.output else adjoints[node].symbol
        inputs = [x for x in derivation.input_gradients if x in graph.definition[node].free_symbols]
        for parent in (*graph.parents[node], *inputs):
            local = derivation.local[(node, parent)]
            kind = edge_kind(graph.definition[node], parent, local)
            rules.append(NodeRule(node, kind, parent, local, upstream * local))
    for symbol in (*graph.parameters, *graph.nodes, *derivation.input_gradients):
        users = tuple(c for c in graph.users(symbol) if c in adjoints)
        if len(users) < 2:
            continue
        gathered = adjoints[symbol].definition if symbol in adjoints else derivation[symbol].delta_form
        rules.append(NodeRule(symbol, "branch", None, sympy.S.One, gathered, users))
    return tuple(rules)
