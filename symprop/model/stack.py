"""A network of layer types over arrays: an array-shaped input, a sequence of layers
(convolution, pooling, flatten, dense, and every other :class:`~symprop.model.layer_types.LayerType`),
a loss, targets shaped like the output.

:func:`stack` builds it as one :class:`~symprop.model.graph.Graph` of scalar equations (the
engine's reverse walk differentiates it like any other) and a :class:`LayerStack` beside it,
which knows each layer's arrays. A dense layer (:class:`symprop.model.nn.Dense`) acts on the
last axis of its input: after flatten on the whole vector, on a ``(steps, features)`` input at
every step. Layered dense networks built by :func:`symprop.model.nn.mlp` stay
:class:`~symprop.model.nn.Network`\\ s; a ``LayerStack`` answers the same questions a
``Network`` does (``graph``, ``inputs``, ``targets``, ``loss``, ``weights``, ``layer_of``) so
the numbers and checks treat both alike, and its ``layers`` are
:class:`~symprop.model.layer_types.ArrayLayer`\\ s.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import product
from typing import Sequence

import numpy
import sympy
from sympy import Symbol

from symprop.model.graph import Graph
from symprop.model.layer_types import ArrayLayer, LayerType, LayerTypeError, Names, activate_array
from symprop.model.losses import LOSS_RECORDS
from symprop.model.nn import Dense, OfGraph, affine
from symprop.model.notation import Notation, get_notation
from symprop.model.tex_names import symbol_tex

__all__ = ["DenseLayer", "LayerStack", "STACK_LOSSES", "as_layer_type", "stack"]

#: The losses of a stack: every loss, and ``sum`` (the sum of the outputs: an upstream gradient of ones).
STACK_LOSSES = tuple(LOSS_RECORDS)


@dataclass(frozen=True)
class DenseLayer:
    """:class:`~symprop.model.nn.Dense` as a layer type: ``z_{..., j} = sum_k W_{j,k} x_{..., k} + b_j``
    over the last axis of its input, then ``a = f(z)``; ``W`` is ``(units, features)`` as in
    PyTorch's ``Linear``. A ``shared`` bias is one ``b`` of shape ``(1,)``."""

    spec: Dense
    kind = "dense"

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if not input_shape:
            raise LayerTypeError("dense takes an input with at least one axis")
        return (*input_shape[:-1], self.spec.units)

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        spec, place = self.spec, f"layer {index} (dense)"
        if not isinstance(spec.activation, str):
            raise LayerTypeError("a dense layer of a stack takes an activation by name")
        W = names.array(f"W{index}", (spec.units, x.shape[-1]), f"W^{{({index})}}", f"the weights of {place}")
        b_shape = {"per_unit": (spec.units,), "shared": (1,), "none": None}[spec.bias]
        b = names.array(f"b{index}", b_shape, f"b^{{({index})}}", f"the bias of {place}") if b_shape else None
        z = names.array(f"z{index}", self.output_shape(x.shape), f"z^{{({index})}}", f"the pre-activations of {place}")
        equations = []
        for row in product(*(range(n) for n in x.shape[:-1])):
            for j in range(spec.units):
                bias = None if b is None else b[j if spec.bias == "per_unit" else 0]
                equations.append((z[(*row, j)], affine(tuple(W[j]), tuple(x[row]), bias)))
        a, activations = activate_array(spec.activation, z, names, index, place, sympy.nsimplify(spec.alpha))
        parameters = {name: array for name, array in ((f"W{index}", W), (f"b{index}", b)) if array is not None}
        settings = {"units": spec.units, "bias": spec.bias, "activation": spec.activation}
        nodes = {f"z{index}": z, **({f"a{index}": a} if a is not z else {})}
        return ArrayLayer(index, self.kind, x, a, parameters, (*equations, *activations), settings, nodes)


def as_layer_type(spec) -> LayerType:
    """``spec`` as a layer type: a :class:`Dense` wrapped, any other taken as it is."""
    if isinstance(spec, Dense):
        return DenseLayer(spec)
    if not (hasattr(spec, "output_shape") and hasattr(spec, "build")):
        raise LayerTypeError(f"not a layer type: {spec!r} (expected Conv2d, Pool2d, Flatten, Dense, ...)")
    return spec


@dataclass(frozen=True)
class LayerStack(OfGraph):
    """A built stack: its graph, its layers' arrays, the input and target arrays, the loss."""

    graph: Graph
    layers: tuple[ArrayLayer, ...]
    input: numpy.ndarray
    target: numpy.ndarray
    loss: str
    notation: Notation
    title: str = ""

    @cached_property
    def states(self) -> tuple[numpy.ndarray, ...]:
        """The given initial states of recurrent layers (``hx1``, ``cx1``): data, like the input."""
        return tuple(array for layer in self.layers for array in getattr(layer, "states", {}).values())

    @cached_property
    def inputs(self) -> tuple[Symbol, ...]:
        """The input's entries, then those of the given initial states."""
        return (*self.input.flat, *(s for array in self.states for s in array.flat))

    @cached_property
    def targets(self) -> tuple[Symbol, ...]:
        return tuple(self.target.flat)

    @cached_property
    def weights(self) -> tuple[Symbol, ...]:
        """Every entry of a parameter array other than a bias (kernels, weight matrices)."""
        return tuple(s for layer in self.layers for name, role in layer.roles.items() if not role.startswith("b")
                     for s in layer.parameters[name].flat)

    @cached_property
    def biases(self) -> tuple[Symbol, ...]:
        weights = set(self.weights)
        return tuple(p for p in self.parameters if p not in weights)

    @property
    def output_array(self) -> numpy.ndarray:
        return self.layers[-1].outputs

    def layer_of(self, parameter: Symbol) -> ArrayLayer:
        return next(layer for layer in self.layers if parameter in layer.parameter_symbols)

    def array_of(self, parameter: Symbol) -> str:
        """The name of the parameter array ``parameter`` is an entry of (``W1``)."""
        layer = self.layer_of(parameter)
        return next(name for name, array in layer.parameters.items() if parameter in set(array.flat))

    def describe(self) -> str:
        """One line: ``input 1x3x3 -> conv2d 1x2x2 -> flatten 4 -> dense 1, loss half_sse; 6 parameters``."""
        shapes = " -> ".join([f"input {_shape(self.input.shape)}",
                              *(f"{layer.kind} {_shape(layer.output_shape)}" for layer in self.layers)])
        return f"{shapes}, loss {self.loss}; {len(self.parameters)} parameters"

    def _repr_markdown_(self) -> str:
        return f"**Layer stack**: {self.describe()}\n"


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def stack(
    shape: Sequence[int], layers: Sequence, loss: str = "half_sse", *, input_name: str = "x",
    target_name: str | None = None, notation: str | Notation = "plain", title: str = "",
) -> LayerStack:
    """The network taking an input of ``shape`` (``[channels, height, width]``, ``[steps, features]``,
    ...) through ``layers`` to ``loss``; the targets (named ``t``, or ``g`` for an upstream
    gradient) are shaped like the last layer's output, and the ``sum`` loss takes none."""
    shape = _input_shape(shape)
    if not layers:
        raise LayerTypeError("the network has no layers: give at least one")
    if loss not in STACK_LOSSES:
        raise LayerTypeError(f"unknown loss {loss!r}: expected one of {', '.join(STACK_LOSSES)}")
    names = Names()
    x = names.array(input_name, shape, symbol_tex(input_name), "the input")
    built, equations, previous = [], [], x
    for index, spec in enumerate(layers, start=1):
        layer = as_layer_type(spec).build(previous, index, names)
        built.append(layer)
        equations += layer.equations
        previous = layer.outputs
    record = LOSS_RECORDS[loss]
    _check_loss_fits(loss, built[-1])
    t = _targets(names, record, previous.shape, target_name)
    loss_symbol = Symbol("L", real=True)
    names.claimed.setdefault("L", "the loss")
    names.latex[loss_symbol] = "L"
    logits = built[-1].pre_activations
    logits = tuple(logits.flat) if logits is not None else ()
    expression = record.expression(tuple(previous.flat), tuple(t.flat), logits)
    equations.append((loss_symbol, expression))
    parameters = [s for layer in built for s in layer.parameter_symbols]
    states = [s for layer in built for array in getattr(layer, "states", {}).values() for s in array.flat]
    graph = Graph.from_pairs(equations, inputs=(*x.flat, *states, *t.flat), parameters=parameters,
                             output=loss_symbol, latex_names=names.latex)
    return LayerStack(graph, tuple(built), x, t, loss, get_notation(notation), title)


def _input_shape(shape) -> tuple[int, ...]:
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else ()
    if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
        raise LayerTypeError(f"the input shape must be a list of positive whole numbers, got {shape!r}")
    return shape


def _check_loss_fits(loss: str, last: ArrayLayer) -> None:
    if loss == "softmax_cross_entropy" and (last.kind != "dense" or last.settings.get("activation") not in (
            "softmax", "identity")):
        raise LayerTypeError("softmax_cross_entropy takes the logits: expected a last dense layer with activation "
                             "softmax or identity")


def _targets(names: Names, record, shape, target_name) -> numpy.ndarray:
    """The targets shaped like the output (``t``), the upstream gradient in their place (``g``),
    or none for a loss that takes none (``sum``)."""
    if not record.takes_targets:
        return numpy.empty((0,), dtype=object)
    name = target_name or (record.given_vector or "t")
    return names.array(name, shape, symbol_tex(name), "the upstream gradient" if record.given else "the targets")
