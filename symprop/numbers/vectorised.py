r"""Vectorised float64 numbers for dense layered networks: one matrix product per layer.

For a :class:`~symprop.model.nn.Network` whose graph is exactly its dense layers
and loss, the worked example's numbers are computed with NumPy arrays whose
leading axes run over examples (and, in the gradient check, over perturbed
copies of the parameters), instead of the scalar straight-line program:

* forward, layer ``l``: ``Z_l = A_{l-1} W_l^T + b_l``, ``A_l = f_l(Z_l)``, ``E = L(Z_L, A_L, T)``;
* adjoints: ``delta_{A_L} = dE/dA_L``, ``delta_{Z_l} = J_l^T delta_{A_l}`` (plus ``dE/dZ_L``
  for a fused loss), ``delta_{A_{l-1}} = W_l^T delta_{Z_l}``;
* gradients: ``dE/dW_l = delta_{Z_l} A_{l-1}^T`` (outer product), ``dE/db_l = delta_{Z_l}``
  (per unit) or ``sum_j delta_{Z_l, j}`` (a shared bias).

The engine stays authoritative. :func:`layered_plan` accepts a derivation only
after checking, symbol by symbol, that its equations, local derivatives and
every parameter's gradient terms are those of this affine structure
(``dz_j/dw_jk = a_k``, ``dz_j/da_k = w_jk``, ``dz_j/db_j = 1``, ``dE/dw_jk = delta_{z_j} dz_j/dw_jk``);
the nonlinear parts, ``f_l``, ``J_l = d out / d net`` and the loss with its
derivatives, are the engine's own expressions (in :func:`stable_form`), compiled
for NumPy. Anything else (a plain graph, a custom activation, a batched graph, a
non-finite number) gets ``None``, and the caller uses the scalar program.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy
import sympy
from sympy import Symbol

from symprop.errors import SympropError
from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.nn import Network
from symprop.model.per_object import per_object
from symprop.numbers.grouped import Steps, grouped_steps
from symprop.numbers.straight_line import stable_form


@dataclass(frozen=True)
class Columns:
    """Expressions in some symbols, compiled for NumPy: ``self(values)`` with ``values``
    an array whose last axis holds the symbols' values gives ``(..., len(expressions))``;
    expressions of one shape (a layer's units) are evaluated by one call (:mod:`symprop.numbers.grouped`)."""

    steps: Steps
    inputs: int
    count: int

    @classmethod
    def of(cls, expressions: Sequence[sympy.Expr], symbols: Sequence[Symbol]) -> "Columns":
        slot = {s: i for i, s in enumerate(symbols)}
        return cls(grouped_steps([(len(slot) + i, e) for i, e in enumerate(expressions)], slot), len(slot),
                   len(expressions))

    def __call__(self, values: numpy.ndarray) -> numpy.ndarray:
        work = numpy.empty((*values.shape[:-1], self.inputs + self.count))
        work[..., :self.inputs] = values
        self.steps.run(work)
        return work[..., self.inputs:]


@dataclass(frozen=True)
class LayerPlan:
    """One dense layer: where its parameters sit in the parameter vector, its activation
    ``A = f(Z)`` and its Jacobian entries ``d out_i / d net_j`` at ``(rows, cols)``."""

    weights: numpy.ndarray            # (units, inputs) positions in the parameter vector
    biases: numpy.ndarray | None      # (units,) positions; all equal for a shared bias
    shared_bias: bool
    activation: Columns               # of Z
    jacobian: Columns                 # of (Z, A)
    rows: numpy.ndarray
    cols: numpy.ndarray

    @property
    def units(self) -> int:
        return self.weights.shape[0]

    @property
    def diagonal(self) -> bool:
        return len(self.rows) == self.units and bool(numpy.all(self.rows == numpy.arange(self.units))) \
            and bool(numpy.all(self.cols == self.rows))


@dataclass(frozen=True)
class LayeredPlan:
    """A dense network's numbers as array operations (see the module's docstring)."""

    layers: tuple[LayerPlan, ...]
    loss: Columns                     # of (Z_L, A_L, T), one column
    by_outs: tuple[numpy.ndarray, Columns]   # dE/d out_j: positions j, and the values
    by_nets: tuple[numpy.ndarray, Columns]   # dE/d net_j (a fused loss)
    node_positions: numpy.ndarray     # graph.nodes in the flat [Z_1, A_1, ..., Z_L, A_L, E]
    adjoint_positions: numpy.ndarray  # derivation.adjoints in the same flat layout
    local: "LocalPlan"
    parameter_count: int


@dataclass(frozen=True)
class LocalPlan:
    """Every local derivative ``dv/du`` from the flat vector ``[parameters, nodes, inputs]``:
    atoms are read at ``positions``, numbers are ``constants``, the rest is ``other``."""

    atom_keys: numpy.ndarray
    positions: numpy.ndarray
    constant_keys: numpy.ndarray
    constants: numpy.ndarray
    other_keys: numpy.ndarray
    other_arguments: numpy.ndarray
    other: Columns | None
    count: int

    def values(self, point: numpy.ndarray) -> numpy.ndarray:
        """The local derivatives in derivation order at ``point = [parameters, nodes, inputs]``."""
        result = numpy.empty(self.count)
        result[self.atom_keys] = point[self.positions]
        result[self.constant_keys] = self.constants
        if self.other is not None:
            result[self.other_keys] = self.other(point[self.other_arguments])
        return result


# --- the plan: the derivation checked against the dense structure ---

@per_object
def layered_plan(derivation) -> LayeredPlan | None:
    """The derivation's :class:`LayeredPlan`, or None when it is not exactly a dense
    network with built-in activations (then the scalar program is used)."""
    return _build_plan(derivation)


class _NotCovered(SympropError):
    """The derivation is not one this module computes; caught by :func:`layered_plan`, never raised
    beyond it."""


def _build_plan(derivation) -> LayeredPlan | None:
    network = derivation.network
    if not isinstance(network, Network) or network.graph is not derivation.graph:
        return None
    try:
        return _plan(derivation, network)
    except (_NotCovered, KeyError):   # KeyError: a local derivative the dense structure needs is missing
        return None


def _require(condition: bool) -> None:
    if not condition:
        raise _NotCovered


def _plan(derivation, network: Network) -> LayeredPlan:
    """The plan, once the graph is exactly the layers in order (each feeding the next) and the loss."""
    graph = derivation.graph
    layers = network.layers
    _require(all(layer.activation in ACTIVATION_RECORDS for layer in layers))
    _require(graph.inputs == (*network.inputs, *network.targets) and layers[0].inputs == network.inputs)
    _require(all(above.inputs == below.outs for below, above in zip(layers, layers[1:])))
    nodes = [s for layer in layers for s in (*layer.nets, *layer.outs)] + [graph.output]
    _require(set(graph.nodes) == set(nodes) and len(graph.nodes) == len(nodes))
    parameters = [*network.weights, *network.biases]
    _require(set(graph.parameters) == set(parameters) and len(graph.parameters) == len(parameters))
    position = {p: i for i, p in enumerate(graph.parameters)}
    built = tuple(_layer_plan(derivation, layer, position, layer is layers[-1]) for layer in layers)
    flat = {s: i for i, s in enumerate(nodes)}
    _require(all(node in derivation.adjoints for layer in layers for node in layer.nets))
    _check_adjoints(derivation)
    last = layers[-1]
    loss, by_outs, by_nets = _loss_parts(derivation, last, network.targets)
    return LayeredPlan(
        built, loss, by_outs, by_nets,
        numpy.array([flat[n] for n in graph.nodes], dtype=int),
        numpy.array([flat[n] for n in derivation.adjoints], dtype=int),
        _local_plan(derivation, position, flat),
        len(graph.parameters),
    )


def _layer_plan(derivation, layer, position, is_last: bool) -> LayerPlan:
    """One layer, after checking ``z_j = sum_k w_jk a_k (+ b_j)`` through the engine's
    locals and each parameter's gradient terms, and that ``out`` depends on this layer's nets only."""
    graph, local = derivation.graph, derivation.local
    data = frozenset(graph.inputs)
    sources = [(a, a in data) for a in layer.inputs]
    consumers = graph.consumers
    for row, bias, net in zip(layer.weights, layer.biases, layer.nets):
        expected = {*row, *(a for a, given in sources if not given), *(() if bias is None else (bias,))}
        _require(set(graph.parents[net]) == expected)
        _require(not any(term.is_Number for term in sympy.Add.make_args(graph.definition[net])))
        for w, (a, given) in zip(row, sources):
            by_weight = local[(net, w)]
            _require(by_weight is a or by_weight == a)
            if not given:
                by_input = local[(net, a)]
                _require(by_input is w or by_input == w)
            users = consumers[w]
            _require(len(users) == 1 and users[0] is net)
        if bias is not None:
            _require(local[(net, bias)] == 1)
        _require(set(graph.consumers[net]) <= {*layer.outs, *((graph.output,) if is_last else ())})
    for bias in layer.bias_parameters:
        _require(set(graph.consumers[bias]) == {n for n, b in zip(layer.nets, layer.biases) if b == bias})
    _check_gradient_terms(derivation, layer)
    nets = layer.nets
    outs = [stable_form(graph.definition[out], graph) for out in layer.outs]
    _require(all(e.free_symbols <= set(nets) for e in outs))
    rows, cols, entries = [], [], []
    for i, out in enumerate(layer.outs):
        for j, net in enumerate(nets):
            if (out, net) in local:
                rows.append(i), cols.append(j), entries.append(stable_form(local[(out, net)], graph))
    _require(all(e.free_symbols <= {*nets, *layer.outs} for e in entries))
    weights = numpy.array([[position[w] for w in row] for row in layer.weights], dtype=int)
    biases = None if layer.bias_mode == "none" else numpy.array([position[b] for b in layer.biases], dtype=int)
    return LayerPlan(
        weights, biases, layer.bias_mode == "shared", Columns.of(outs, nets),
        Columns.of(entries, (*nets, *layer.outs)), numpy.array(rows, dtype=int), numpy.array(cols, dtype=int),
    )


def _check_gradient_terms(derivation, layer) -> None:
    """Each parameter's gradient is the engine's ``sum_c delta_c dc/dw`` over exactly the
    nets it feeds, with the locals checked above: ``dE/dw_jk = delta_{z_j} a_k``, ``dE/db = sum delta_z``."""
    for parameter in (*layer.weight_parameters, *layer.bias_parameters):
        _check_terms(derivation, parameter, derivation.gradients[parameter].terms)


def _check_terms(derivation, symbol, terms) -> None:
    """``terms`` are ``delta_c dc/dsymbol`` for exactly the consumers ``c`` of ``symbol`` that
    have adjoints, each with the derivation's local derivative and ``c``'s adjoint symbol."""
    graph, local, adjoints = derivation.graph, derivation.local, derivation.adjoints
    consumers = tuple(c for c in graph.consumers[symbol] if c in adjoints)
    _require(tuple(t.consumer for t in terms) == consumers)
    output = graph.output
    for term in terms:
        consumer = term.consumer
        expected = 1 if consumer == output else adjoints[consumer].symbol
        derivative = local[(consumer, symbol)]
        _require((term.local is derivative or term.local == derivative)
                 and (term.adjoint is expected or term.adjoint == expected))


def _check_adjoints(derivation) -> None:
    """Every adjoint is the engine's recurrence ``delta_u = sum_c delta_c dc/du`` over the
    derivation's local derivatives (the output's is 1), which the arrays evaluate."""
    for node, adjoint in derivation.adjoints.items():
        _require((node == derivation.graph.output) == (not adjoint.terms))
        _check_terms(derivation, node, adjoint.terms)


def _loss_parts(derivation, last, targets):
    """The loss ``E(Z_L, A_L, T)`` and its locals ``dE/d out_j``, ``dE/d net_j``."""
    graph, output = derivation.graph, derivation.graph.output
    symbols = (*last.nets, *last.outs, *targets)
    loss = stable_form(graph.definition[output], graph)
    _require(loss.free_symbols <= set(symbols) and set(graph.parents[output]) <= {*last.nets, *last.outs})
    parts = []
    for group in (last.outs, last.nets):
        keys = [j for j, s in enumerate(group) if (output, s) in derivation.local]
        exprs = [stable_form(derivation.local[(output, group[j])], graph) for j in keys]
        _require(all(e.free_symbols <= set(symbols) for e in exprs))
        parts.append((numpy.array(keys, dtype=int), Columns.of(exprs, symbols)))
    return Columns.of([loss], symbols), parts[0], parts[1]


def _local_plan(derivation, position, flat) -> LocalPlan:
    """Where each local derivative comes from in ``[parameters, nodes, inputs]``."""
    graph, count = derivation.graph, len(position)
    where = {**position, **{s: count + i for s, i in flat.items()}}
    where.update({s: count + len(flat) + i for i, s in enumerate(graph.inputs)})
    atoms, positions, constant_keys, constants, others = [], [], [], [], []
    derivatives = list(derivation.local.values())
    for index, expr in enumerate(derivatives):
        if expr.is_Symbol:
            _require(expr in where)
            atoms.append(index), positions.append(where[expr])
        elif expr.is_Number:
            constant_keys.append(index), constants.append(float(expr))
        else:
            others.append(index)
    exprs = [stable_form(derivatives[i], graph) for i in others]
    arguments = sorted({s for e in exprs for s in e.free_symbols}, key=lambda s: s.name)
    _require(all(s in where for s in arguments))
    ints = lambda xs: numpy.array(xs, dtype=int)  # noqa: E731
    return LocalPlan(
        ints(atoms), ints(positions), ints(constant_keys), numpy.array(constants, dtype=float), ints(others),
        ints([where[s] for s in arguments]), Columns.of(exprs, arguments) if exprs else None,
        len(derivation.local),
    )


# --- the arithmetic: forward, backward, over leading axes ---

@dataclass(frozen=True)
class Pass:
    """A forward pass: per layer ``(A_{l-1}, Z_l, A_l)``, and the loss of each example."""

    layers: tuple[tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray], ...]
    losses: numpy.ndarray


def affine(layer: LayerPlan, theta: numpy.ndarray, a: numpy.ndarray) -> numpy.ndarray:
    """``Z = A W^T + b`` over the leading axes of ``a``."""
    z = a @ theta[layer.weights].T
    return z if layer.biases is None else z + theta[layer.biases]


def forward(plan: LayeredPlan, theta, x, t, *, start: int = 0, z=None) -> Pass:
    """The forward pass from layer ``start`` (its ``Z`` given as ``z``, or computed from ``x``,
    the activations below it): ``A_l = f_l(Z_l)``, ``Z_{l+1} = A_l W^T + b``, ``E = L(Z_L, A_L, T)``."""
    layers, a = [], x
    for index in range(start, len(plan.layers)):
        layer = plan.layers[index]
        z = affine(layer, theta, a) if z is None or index > start else z
        out = layer.activation(z)
        layers.append((a, z, out))
        a = out
    t = numpy.broadcast_to(t, (*z.shape[:-1], t.shape[-1]))
    losses = plan.loss(numpy.concatenate([z, a, t], axis=-1))[..., 0]
    return Pass(tuple(layers), losses)


def _jacobian_transpose(layer: LayerPlan, z, out, delta_out) -> numpy.ndarray:
    """``delta_z_j = sum_i delta_out_i d out_i / d z_j``."""
    entries = layer.jacobian(numpy.concatenate([z, out], axis=-1))
    if layer.diagonal:
        return entries * delta_out
    jacobian = numpy.zeros((*z.shape, z.shape[-1]))
    jacobian[..., layer.rows, layer.cols] = entries
    return numpy.einsum("...ij,...i->...j", jacobian, delta_out)


def backward(plan: LayeredPlan, theta, t, run: Pass) -> tuple[list, numpy.ndarray]:
    """Per layer ``(delta_Z, delta_A)`` and the per-example gradients ``(n, parameters)``:
    ``delta_A_L = dE/dA_L``, ``delta_Z = J^T delta_A (+ dE/dZ_L)``, ``delta_A_{l-1} = delta_Z W``,
    ``dE/dW = delta_Z A_{l-1}^T``, ``dE/db = delta_Z`` (summed over the units for a shared bias)."""
    _, z_last, a_last = run.layers[-1]
    given = numpy.concatenate([z_last, a_last, numpy.broadcast_to(t, (*z_last.shape[:-1], t.shape[-1]))], axis=-1)
    delta_out = numpy.zeros_like(a_last)
    extra = numpy.zeros_like(z_last)
    for (keys, columns), target in ((plan.by_outs, delta_out), (plan.by_nets, extra)):
        if len(keys):
            target[..., keys] = columns(given)
    deltas = [None] * len(plan.layers)
    gradients = numpy.zeros((*z_last.shape[:-1], plan.parameter_count))
    for index in reversed(range(len(plan.layers))):
        layer, (a_in, z, out) = plan.layers[index], run.layers[index]
        delta_z = _jacobian_transpose(layer, z, out, delta_out)
        if index == len(plan.layers) - 1:
            delta_z = delta_z + extra
        deltas[index] = (delta_z, delta_out)
        outer = delta_z[..., :, None] * a_in[..., None, :]
        gradients[..., layer.weights.ravel()] = outer.reshape(*outer.shape[:-2], -1)
        if layer.biases is not None:
            if layer.shared_bias:
                gradients[..., layer.biases[0]] = delta_z.sum(axis=-1)
            else:
                gradients[..., layer.biases] = delta_z
        delta_out = delta_z @ theta[layer.weights]
    return deltas, gradients


def combine(values: numpy.ndarray, reduction: str) -> numpy.ndarray:
    """Per-example numbers (first axis) combined as the scalar program does:
    ``fsum(x) / n`` (mean) or ``fsum(x)`` (sum)."""
    count = values.shape[0]
    if count == 1:
        return values[0]
    flat = values.reshape(count, -1).T
    total = numpy.array([math.fsum(column) for column in flat]).reshape(values.shape[1:])
    return total / count if reduction == "mean" else total
