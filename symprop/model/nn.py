"""Builders that emit graph equations with textbook names: dense layers, losses, batches.

A layered network is still just a :class:`~symprop.model.graph.Graph`; the
:class:`Network` beside it remembers which symbol is which weight, bias,
pre-activation and activation of which layer, for the matrix form and the
documents.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Callable, Sequence

import sympy
from sympy import Expr, Integer, Rational, Symbol

from symprop.errors import SympropError
from symprop.model import functions
from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.collection import in_bulk
from symprop.model.losses import LOSS_RECORDS
from symprop.model.graph import Graph, first_repeated
from symprop.model.notation import Notation, get_notation, layer_label
from symprop.model.tex_names import symbol_tex

BIAS_MODES = ("per_unit", "shared", "none")


class NetworkError(SympropError, ValueError):
    """A layered network description that cannot be built, said in one line."""


class NameClash(NetworkError):
    """Two parts of a network given one name: ``name`` and both ``places`` are kept for tools."""

    def __init__(self, name: str, first: str, second: str):
        self.name, self.places = name, (first, second)
        super().__init__(f"the name {name!r} is both {first} and {second}: use distinct names")

    def __reduce__(self):
        return (type(self), (self.name, *self.places))


@dataclass(frozen=True)
class Dense:
    """A dense (affine) layer ``z_j = sum_k w_jk a_k + b_j`` followed by ``a_j = f(z_j)``.

    ``activation`` is a name from :data:`symprop.model.functions.ACTIVATIONS`, or a
    callable that maps the SymPy pre-activation ``z`` to ``f(z)``.
    ``bias`` is ``per_unit``, ``shared`` (one bias for the layer, as in
    Mazur's example) or ``none``.
    """

    units: int
    activation: str | Callable[[Expr], Expr] = "sigmoid"
    bias: str = "per_unit"
    names: Sequence[str] | None = None
    alpha: float = 0.01  # leaky ReLU slope

    def __post_init__(self):
        if not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 1:
            raise NetworkError(f"layer units must be a positive whole number, got {self.units!r}")
        if self.bias not in BIAS_MODES:
            raise NetworkError(f"unknown bias mode {self.bias!r}: expected one of {', '.join(BIAS_MODES)}")
        if isinstance(self.activation, str) and self.activation not in functions.ACTIVATIONS:
            raise NetworkError(
                f"unknown activation {self.activation!r}: expected one of {', '.join(functions.ACTIVATIONS)}"
            )
        if self.names is not None and len(self.names) != self.units:
            raise NetworkError(f"layer has {self.units} units but {len(self.names)} names")
        twice = first_repeated(self.names or ())
        if twice is not None:
            raise NetworkError(f"unit name {twice!r} is given twice in one layer: give distinct unit names")

    @property
    def activation_name(self) -> str:
        return self.activation if isinstance(self.activation, str) else "custom"


@dataclass(frozen=True)
class Layer:
    """A built dense layer: ``nets[j] = sum_k weights[j][k] inputs[k] + biases[j]``, ``outs[j] = f(nets[j])``."""

    index: int
    activation: str
    inputs: tuple[Symbol, ...]
    weights: tuple[tuple[Symbol, ...], ...]
    biases: tuple[Symbol | None, ...]
    nets: tuple[Symbol, ...]
    outs: tuple[Symbol, ...]
    units: tuple[str, ...]

    @cached_property
    def bias_parameters(self) -> tuple[Symbol, ...]:
        """The distinct bias symbols (one for a shared bias)."""
        return tuple(dict.fromkeys(b for b in self.biases if b is not None))

    @cached_property
    def weight_parameters(self) -> tuple[Symbol, ...]:
        return tuple(w for row in self.weights for w in row)

    @cached_property
    def bias_mode(self) -> str:
        """``none``, ``shared`` (one bias symbol for every unit) or ``per_unit``; a layer
        of one unit has a bias of its own, so it is ``per_unit``."""
        if not self.bias_parameters:
            return "none"
        return "shared" if len(self.bias_parameters) == 1 and len(self.biases) > 1 else "per_unit"

    @cached_property
    def weight_set(self) -> frozenset[Symbol]:
        return frozenset(self.weight_parameters)


#: Loss names of a layered dense network, in the order of their records
#: (:data:`symprop.model.losses.LOSS_RECORDS`); a loss without targets (``sum``) is for layer stacks.
LOSSES = tuple(name for name, record in LOSS_RECORDS.items() if record.takes_targets)


def loss_expression(loss: str, outputs: Sequence[Expr], targets: Sequence[Expr], logits: Sequence[Expr] = ()) -> Expr:
    """One example's loss, as its record builds it (see :mod:`symprop.model.losses`)."""
    if loss not in LOSS_RECORDS:
        raise NetworkError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
    return LOSS_RECORDS[loss].expression(outputs, targets, logits)


def activate(layer: Dense, j: int, nets: Sequence[Symbol]) -> Expr:
    """The activation of unit ``j`` (1-based) given the layer's pre-activations."""
    f = layer.activation
    if isinstance(f, str):
        return ACTIVATION_RECORDS[f].apply(nets, j, sympy.nsimplify(layer.alpha))
    return sympy.sympify(f(nets[j - 1]))


class OfGraph:
    """What a layered network (dense or a stack of layer types) reads off its ``graph``."""

    graph: Graph

    @property
    def output(self) -> Symbol:
        return self.graph.output

    @property
    def parameters(self) -> tuple[Symbol, ...]:
        return self.graph.parameters


@dataclass(frozen=True)
class Network(OfGraph):
    """A layered network: its graph, and which symbol plays which part."""

    graph: Graph
    layers: tuple[Layer, ...]
    inputs: tuple[Symbol, ...]
    targets: tuple[Symbol, ...]
    loss: str
    notation: Notation
    title: str = ""

    @cached_property
    def weights(self) -> tuple[Symbol, ...]:
        return tuple(w for layer in self.layers for w in layer.weight_parameters)

    @cached_property
    def biases(self) -> tuple[Symbol, ...]:
        return tuple(b for layer in self.layers for b in layer.bias_parameters)

    def layer_of(self, parameter: Symbol) -> Layer:
        return self._layer_of_parameter[parameter]

    def describe(self) -> str:
        """One line: ``2 inputs -> 2 sigmoid -> 2 sigmoid, loss half_sse; 10 parameters (8 weights, 2 biases)``."""
        widths = " -> ".join([f"{len(self.inputs)} inputs", *(f"{len(layer.nets)} {layer.activation}" for layer in self.layers)])
        counts = f"{len(self.parameters)} parameters ({len(self.weights)} weights, {len(self.biases)} biases)"
        return f"{widths}, loss {self.loss}; {counts}"

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the layers, the loss and the parameter count in one line."""
        return f"**Network** ({self.notation.key} notation): {self.describe()}\n"

    @cached_property
    def _layer_of_parameter(self) -> dict[Symbol, Layer]:
        return {p: layer for layer in self.layers for p in (*layer.weight_parameters, *layer.bias_parameters)}


@in_bulk  # tens of thousands of symbols and products: no cycle collection meanwhile
def mlp(
    inputs: int | Sequence[str],
    layers: Sequence[Dense],
    loss: str = "half_sse",
    *,
    targets: Sequence[str] | None = None,
    notation: str | Notation = "plain",
    title: str = "",
) -> Network:
    """A fully connected network with the given layers and loss, named by ``notation``."""
    if not layers:
        raise NetworkError("the network has no layers: give at least one")
    if loss not in LOSSES:
        raise NetworkError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
    notation = get_notation(notation)
    namer = _Namer(notation, _widths(inputs, layers))
    latex: dict[Symbol, str] = {}
    inputs_ = namer.inputs(inputs, latex)
    equations, built, parameters = [], [], []
    previous = inputs_
    for index, spec in enumerate(layers, start=1):
        layer = namer.layer(index, spec, previous, latex)
        equations += _layer_equations(spec, layer)
        parameters += [*layer.weight_parameters, *layer.bias_parameters]
        built.append(layer)
        previous = layer.outs
    last = built[-1]
    if loss == "softmax_cross_entropy" and layers[-1].activation not in ("softmax", "identity"):
        raise NetworkError("softmax_cross_entropy needs a last layer with activation softmax or identity")
    targets_ = namer.targets(targets, last, latex, LOSS_RECORDS[loss].given)
    loss_symbol = namer.symbol("loss", latex, "the loss")
    equations.append((loss_symbol, loss_expression(loss, last.outs, targets_, last.nets)))
    graph = Graph.from_pairs(
        equations, inputs=(*inputs_, *targets_), parameters=parameters, output=loss_symbol, latex_names=latex
    )
    return Network(graph, tuple(built), inputs_, targets_, loss, notation, title)


def _layer_equations(spec: Dense, layer: Layer) -> list[tuple[Symbol, Expr]]:
    equations = [(net, affine(row, layer.inputs, bias)) for row, bias, net in zip(layer.weights, layer.biases, layer.nets)]
    equations += [(out, activate(spec, j, layer.nets)) for j, out in enumerate(layer.outs, start=1)]
    return equations


def affine(weights: Sequence[Symbol], inputs: Sequence[Symbol], bias: Symbol | None = None) -> Expr:
    """``sum_k w_k a_k (+ b)``, the same expression ``sympy.Add(*[w * a ...]) + b`` builds.

    Every product is of two distinct symbols and every term is distinct, so SymPy's
    canonical form is just its arguments in ``Basic.compare`` order. For symbols of one set
    of assumptions that order is one of names (compare reads a symbol's name first, a
    product's arguments in order, and puts symbols before products): built directly, a
    784-wide layer costs milliseconds instead of a second of general flattening."""
    symbols = (*weights, *inputs, *((bias,) if bias is not None else ()))
    if not _plain_distinct(symbols):
        terms = sympy.Add(*[w * a for w, a in zip(weights, inputs)])
        return terms if bias is None else terms + bias
    keyed = [((1, w.name, a.name), (w, a)) if w.name < a.name else ((1, a.name, w.name), (a, w))
             for w, a in zip(weights, inputs)]
    terms = [(key, sympy.Mul._from_args(pair)) for key, pair in keyed]
    if bias is not None:
        terms.append(((0, bias.name), bias))
    if len(terms) == 1:
        return terms[0][1]
    return sympy.Add._from_args(tuple(term for _, term in sorted(terms, key=lambda keyed_term: keyed_term[0])))


def _plain_distinct(symbols: Sequence[Symbol]) -> bool:
    """Whether ``symbols`` are commutative symbols of one set of assumptions with distinct names."""
    if not all(type(s) is Symbol for s in symbols) or len({s.name for s in symbols}) != len(symbols):
        return False
    # a symbol's hashable content is its name, then its assumptions
    return len({s._hashable_content()[1:] for s in symbols}) == 1


def _widths(inputs, layers) -> tuple[int, ...]:
    n_inputs = inputs if isinstance(inputs, int) else len(inputs)
    if n_inputs < 1:
        raise NetworkError("the network has no inputs: give at least one")
    return (n_inputs, *(layer.units for layer in layers))


@dataclass
class _Namer:
    """Hands out symbols named by the notation, and records their LaTeX."""

    notation: Notation
    widths: tuple[int, ...]
    counters: dict[str, int] = field(default_factory=dict)
    #: symbol name -> what it names ("input 1", "the output of unit h1 in layer 1", ...)
    places: dict[str, str] = field(default_factory=dict)
    #: names a user gave (inputs, targets, units) -> where: all distinct, even where
    #: a unit name never becomes a symbol of its own
    given: dict[str, str] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def symbol(self, role: str, latex: dict, place: str, **fields) -> Symbol:
        if role in ("weight", "bias"):
            self.counters[role] = self.counters.get(role, 0) + 1
            fields["n"] = self.counters[role]
        plain, tex = self.notation.name(role, **fields)
        # One-neuron chains (3Blue1Brown) drop the empty index pair.
        plain, tex = plain.rstrip("_"), tex.replace("_{}", "")
        return self.claim(plain, place, latex, tex)

    def claim(self, name: str, place: str, latex: dict, tex: str) -> Symbol:
        """The symbol ``name`` for ``place``; a name something else has is refused, naming both."""
        if name in self.places:
            raise NameClash(name, self.places[name], place)
        self.places[name] = place
        symbol = Symbol(name, real=True)
        latex[symbol] = tex
        return symbol

    def give(self, name: str, place: str) -> None:
        """A name the user chose: no input, target or unit may share it."""
        if name in self.given:
            raise NameClash(name, self.given[name], place)
        self.given[name] = place

    @cached_property
    def scalar(self) -> bool:
        """One neuron per layer (3Blue1Brown's chain): names carry no unit index."""
        return all(w == 1 for w in self.widths)

    @cached_property
    def wide(self) -> bool:
        """A layer of 10 units or more: index pairs need a comma (``w_{12,3}``)."""
        return any(w > 9 for w in self.widths)

    def fields(self, layer: int, j: int = 1, k: int = 1, unit: str = "", src: str = "") -> dict:
        scalar = self.scalar
        pair = "" if scalar else (f"{j},{k}" if self.wide else f"{j}{k}")
        return dict(
            l=layer, L=layer_label(layer, self.depth), j="" if scalar else j, k="" if scalar else k,
            jk=pair, unit=unit, src=src,
        )

    def inputs(self, inputs, latex) -> tuple[Symbol, ...]:
        if isinstance(inputs, int):
            return tuple(self.symbol("input", latex, f"input {k}", **self.fields(0, k=k)) for k in range(1, inputs + 1))
        symbols = []
        for k, name in enumerate(inputs, 1):
            self.give(name, f"input {k}")
            symbols.append(self.claim(name, f"input {k}", latex, _plain_latex(name)))
        return tuple(symbols)

    def unit_names(self, index: int, spec: Dense) -> tuple[str, ...]:
        if spec.names is not None:
            for j, name in enumerate(spec.names, 1):
                self.give(name, f"unit {j} of layer {index}")
            return tuple(spec.names)
        pattern = (
            self.notation.output_unit if index == self.depth
            else self.notation.hidden_unit if self.depth == 2 else self.notation.deep_hidden_unit
        )
        return tuple(pattern.format(j=j, l=index) for j in range(1, spec.units + 1))

    def layer(self, index: int, spec: Dense, previous: tuple[Symbol, ...], latex) -> Layer:
        units = self.unit_names(index, spec)
        sources = [s.name for s in previous]
        weights = tuple(
            tuple(
                self.symbol("weight", latex, f"the weight from {sources[k - 1]} to unit {units[j - 1]} in layer {index}",
                            **self.fields(index, j, k, units[j - 1], sources[k - 1]))
                for k in range(1, len(previous) + 1)
            )
            for j in range(1, spec.units + 1)
        )
        biases = self.biases(index, spec, units, latex)
        nets = tuple(self.symbol("net", latex, f"the net input of unit {u} in layer {index}",
                                 **self.fields(index, j, unit=u)) for j, u in enumerate(units, 1))
        outs = tuple(self.symbol("out", latex, f"the output of unit {u} in layer {index}",
                                 **self.fields(index, j, unit=u)) for j, u in enumerate(units, 1))
        for j, (net, unit) in enumerate(zip(nets, units), 1):
            plain, tex = self.notation.name("delta", **self.fields(index, j, unit=unit))
            latex[Symbol(f"delta_{net.name}", real=True)] = tex.replace("_{}", "")
        return Layer(index, spec.activation_name, previous, weights, biases, nets, outs, units)

    def biases(self, index: int, spec: Dense, units, latex) -> tuple[Symbol | None, ...]:
        if spec.bias == "none":
            return (None,) * spec.units
        if spec.bias == "shared":
            shared = self.symbol("bias", latex, f"the bias of layer {index}", **self.fields(index, unit=f"layer {index}"))
            return (shared,) * spec.units
        return tuple(self.symbol("bias", latex, f"the bias of unit {u} in layer {index}", **self.fields(index, j, unit=u))
                     for j, u in enumerate(units, 1))

    def targets(self, names, last: Layer, latex, given: tuple[str, str] | None = None) -> tuple[Symbol, ...]:
        """The targets, or what a loss takes in their place (``given``: the pattern of its
        entries' names and LaTeX, the upstream gradient ``g_j``)."""
        if names is None and given is not None:
            j = (lambda j: "") if len(last.units) == 1 else (lambda j: j)
            return tuple(self.claim(given[0].format(j=j(k)), f"upstream gradient {k}", latex,
                                    given[1].format(j=j(k)).replace("_{}", ""))
                         for k in range(1, len(last.units) + 1))
        if names is None:
            return tuple(
                self.symbol("target", latex, f"target {j}", **self.fields(self.depth, j, unit=u))
                for j, u in enumerate(last.units, 1)
            )
        if len(names) != len(last.outs):
            raise NetworkError(f"the output layer has {len(last.outs)} units but {len(names)} targets are named")
        symbols = []
        for j, name in enumerate(names, 1):
            self.give(name, f"target {j}")
            symbols.append(self.claim(name, f"target {j}", latex, _plain_latex(name)))
        return tuple(symbols)


def _plain_latex(name: str) -> str:
    """LaTeX of a user's name: ``i1`` -> ``i_{1}``, ``out_h1`` -> ``out_{h1}``; any other
    name escaped (:func:`symprop.model.tex_names.symbol_tex`)."""
    return symbol_tex(name)


def batched(graph: Graph, examples: int, reduction: str = "mean") -> Graph:
    """The graph for a batch: one copy of every node per example, parameters shared,
    and the output ``L = (1/n) sum_i L^{[i]}`` (``mean``) or ``sum_i L^{[i]}`` (``sum``)."""
    if reduction not in ("mean", "sum"):
        raise NetworkError(f"unknown reduction {reduction!r}: expected mean or sum")
    if examples < 1:
        raise NetworkError("a batch needs at least one example")
    latex = dict(graph.latex_names)
    inputs, equations, outputs = [], [], []
    for i in range(1, examples + 1):
        copy = {s: _example_symbol(s, i, graph, latex) for s in (*graph.inputs, *graph.nodes)}
        inputs += [copy[s] for s in graph.inputs]
        equations += [(copy[e.node], e.expr.xreplace(copy)) for e in graph.equations]
        outputs.append(copy[graph.output])
    total = Symbol(f"{graph.output.name}_batch", real=True)
    latex[total] = graph.latex_name(graph.output)
    scale = Rational(1, examples) if reduction == "mean" else Integer(1)
    equations.append((total, scale * sympy.Add(*outputs)))
    return Graph.from_pairs(equations, inputs=inputs, parameters=graph.parameters, output=total, latex_names=latex)


def _example_symbol(symbol: Symbol, i: int, graph: Graph, latex: dict) -> Symbol:
    copy = Symbol(f"{symbol.name}[{i}]", **symbol.assumptions0)
    latex[copy] = "{%s}^{[%d]}" % (graph.latex_name(symbol), i)
    return copy


def with_upstream_gradient(graph: Graph, outputs, name: str = "L") -> Graph:
    r"""``graph`` ending in ``L = sum_k g_k y_k`` over the nodes ``outputs`` (``y_k``), with the
    upstream gradient ``g_k`` as new inputs: ``dL/dy_k = g_k``, so the reverse walk starts
    from a given ``dout`` as a layer's ``backward(dout)`` does. ``g_k`` is named ``g`` for one
    output and ``g1, g2, ...`` otherwise (LaTeX ``g_{k}``); a matrix node stands for its
    entries, row by row."""
    nodes = {s.name: s for s in graph.nodes}
    outputs = _with_matrix_entries(graph, outputs)
    chosen = [nodes.get(getattr(y, "name", y)) for y in outputs]
    missing = [str(getattr(y, "name", y)) for y, s in zip(outputs, chosen) if s is None]
    if missing or not chosen:
        raise NetworkError(f"upstream gradient: {', '.join(missing) or 'no outputs'}: expected nodes of the graph "
                           f"({', '.join(nodes)})")
    repeated = first_repeated(chosen)
    if repeated is not None:
        raise NetworkError(f"upstream gradient: {repeated} is listed twice among the outputs")
    record = LOSS_RECORDS["upstream"]
    pattern, tex = record.given
    index = (lambda k: "") if len(chosen) == 1 else (lambda k: k)
    gradients = [Symbol(pattern.format(j=index(k)), real=True) for k in range(1, len(chosen) + 1)]
    latex = dict(graph.latex_names)
    latex.update({g: tex.format(j=index(k)).replace("_{}", "") for k, g in enumerate(gradients, 1)})
    loss = Symbol(name, real=True)
    equations = [*((e.node, e.expr) for e in graph.equations), (loss, record.expression(chosen, gradients, ()))]
    result = Graph.from_pairs(equations, inputs=(*graph.inputs, *gradients), parameters=graph.parameters,
                              output=loss, latex_names=latex)
    return replace(result, arrays=graph.arrays)  # the matrices stay known: derivation[W] still gathers W


def _with_matrix_entries(graph: Graph, outputs) -> list:
    """``outputs`` with each matrix node (by itself or its name) replaced by its entries, row by
    row: the upstream gradient of a matrix-valued output is given entry by entry, nested like it."""
    records = graph.arrays.records if graph.arrays else {}
    expanded = []
    for y in outputs:
        record = records.get(getattr(y, "name", y))
        expanded += list(record.entries) if record is not None and record.role == "node" else [y]
    return expanded


def upstream_inputs(graph: Graph) -> tuple[Symbol, ...]:
    """The upstream gradient ``g_k`` when ``graph`` ends in :func:`with_upstream_gradient`'s
    ``L = sum_k g_k y_k`` (a ``[network]`` or ``[graph]`` with ``loss = "upstream"``): the
    inputs named ``g``, ``g1``, ... that multiply one term each; none otherwise."""
    definition = graph.definition.get(graph.output)
    if definition is None or not graph.inputs:
        return ()
    terms = definition.args if definition.is_Add else (definition,)
    letter = LOSS_RECORDS["upstream"].given_vector
    found = [x for x in graph.inputs if x.name.removeprefix(letter).isdigit() or x.name == letter]
    found = [x for x in found if any(t.is_Mul and len(t.args) == 2 and x in t.args for t in terms)]
    return tuple(found) if len(found) == len(terms) else ()
