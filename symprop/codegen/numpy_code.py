"""Generated code for layered networks: NumPy over a batch, one matrix product per layer.

* :func:`backward_source`: the textbook layer form to paste into a project,
  ``backward(x, t, W1, b1, ...)`` over a batch (one row of ``x`` and ``t`` per example, or one
  example as a 1-D vector): ``z^l = a^{l-1} (W^l)^T + b^l``, ``a^l = f(z^l)``, then
  ``delta^l = (delta^{l+1} W^{l+1}) * f'(z^l)`` and ``dE/dW^l = (delta^l)^T a^{l-1}`` (one
  product over the whole batch), the loss and gradients the batch mean or sum; and
  ``forward(x, t, W1, b1, ...)``, the same forward pass alone;
* :func:`numpy_functions`: that forward and gradient compiled, taking parameters by name.

Any graph gets one line per node instead (:mod:`symprop.codegen.graph_code`).

Every activation is evaluated so that ``|z| = 1000`` raises no overflow (the helpers of
:mod:`symprop.codegen.numpy_helpers`), and a sigmoid or softmax output fused with its
cross-entropy gives the logits' delta directly.
"""
from __future__ import annotations

from typing import Mapping

import numpy
import sympy
from sympy import Symbol

from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.losses import LOSS_RECORDS
from symprop.codegen.numpy_helpers import NodePrinter, module_source

#: Networks with at most this many parameters have their names listed in the docstring too;
#: beyond it the docstring states shapes only (784-16-10 would list 12,730 names).
NAMED_PARAMETERS = 20

REDUCTIONS = ("mean", "sum")


# --- layered networks: one matrix product per layer ---

def _separable_loss_code(loss: str, m: int, a: str) -> tuple[str, str]:
    """(loss per example from the output ``a`` and targets ``t``, dE/da), printed from the loss's
    record: every loss not fused with its activation is ``sum_j c g(o_j, t_j)`` over the m outputs.

    The value sums the term ``c g(a, t)`` over the last axis (the loss with every output ``a``
    and every target ``t``, over m); dE/da is ``sympy.diff`` of the loss by its first output.
    """
    outputs = [Symbol(f"o{j}", real=True) for j in range(m)]
    targets = [Symbol(f"t{j}", real=True) for j in range(m)]
    expression = LOSS_RECORDS[loss].expression
    entry = {outputs[0]: Symbol(a, real=True), targets[0]: Symbol("t", real=True)}
    gradient = sympy.diff(expression(outputs, targets, ()), outputs[0])
    if gradient.free_symbols - set(entry):
        raise ValueError(f"the {loss} loss is not a sum over the outputs: no entrywise code for it")
    term = expression([entry[outputs[0]]] * m, [entry[targets[0]]] * m, ()) / m
    printer = NodePrinter()
    coefficient, rest = term.as_coeff_Mul()
    total = f"numpy.sum({printer.doprint(rest)}, axis=-1)"
    if coefficient != 1:
        total = f"-{total}" if coefficient == -1 else f"{printer.doprint(coefficient)} * {total}"
    return total, f"({printer.doprint(gradient.xreplace(entry))})"


class _LayerCode:
    """The names and formulas of one layer in generated code (``z2``, ``a2``, ``W2``...), over a
    batch: ``x`` and every ``a`` and ``z`` hold one row per example."""

    def __init__(self, network, index: int):
        layer = network.layers[index - 1]
        self.layer, self.index = layer, index
        self.z, self.a, self.delta = f"z{index}", f"a{index}", f"delta{index}"
        self.W, self.b = f"W{index}", f"b{index}"
        self.source = "x" if index == 1 else f"a{index - 1}"
        self.bias = layer.bias_mode
        self.activation = layer.activation
        record = ACTIVATION_RECORDS.get(layer.activation)
        self.kind = record.kind if record is not None else "elementwise"  # a custom f is elementwise
        self.unit = network.graph.definition[layer.outs[0]]

    def forward_lines(self) -> list[str]:
        """``z = a_below W^T + b`` (one product for the batch) and ``a = f(z)``."""
        bias = "" if self.bias == "none" else f" + {self.b}"
        return [f"{self.z} = {self.source} @ {self.W}.T{bias}", f"{self.a} = {self.activate()}"]

    def _entry(self, expr) -> str:
        """``expr`` of the layer's first unit as NumPy code for the whole layer: its activation
        ``a`` and pre-activation ``z`` by their array names; symprop's functions call the helpers."""
        net = self.layer.nets[0]
        arrays = expr.xreplace({self.unit: Symbol(self.a)}).xreplace({net: Symbol(self.z)})
        return NodePrinter().doprint(arrays)

    def activate(self) -> str:
        if self.kind == "softmax":
            return f"softmax_rows({self.z})"
        return NodePrinter().doprint(self.unit.xreplace({self.layer.nets[0]: Symbol(self.z)}))

    def factor(self) -> str | None:
        """f'(z) as code, or None when it is 1: ``sympy.diff`` of the first unit's activation
        (the function's ``fdiff``, ``sigma (1 - sigma)``), written in ``a`` where it can be."""
        derivative = sympy.diff(self.unit, self.layer.nets[0])
        return None if derivative == 1 else f"({self._entry(derivative)})"

    def delta_lines(self, upstream: str) -> list[str]:
        """``delta = upstream * f'(z)`` (for softmax, its Jacobian times ``upstream``, row by row)."""
        if self.kind == "softmax":
            g = f"g{self.index}"
            return [f"{g} = {upstream}",
                    f"{self.delta} = {self.a} * ({g} - numpy.sum({g} * {self.a}, axis=-1, keepdims=True))"]
        factor = self.factor()
        return [f"{self.delta} = {upstream}" if factor is None else f"{self.delta} = {upstream} * {factor}"]

    def backpropagated(self) -> str:
        """``delta^l W^l``: what this layer's delta sends to the layer below, one row per example."""
        return f"({self.delta} @ {self.W})"

    def gradient_items(self, scale: str) -> list[tuple[str, str]]:
        """``dE/dW = delta^T a_below`` (the examples' outer products summed by one product), and
        the bias's: per unit, summed over the examples; shared, over the units as well."""
        items = [(self.W, f"{self.delta}.T @ {self.source}{scale}")]
        if self.bias == "per_unit":
            items.append((self.b, f"numpy.sum({self.delta}, axis=0){scale}"))
        elif self.bias == "shared":
            items.append((self.b, f"numpy.sum({self.delta}){scale}"))
        return items


def _output_terms(network, last: _LayerCode) -> tuple[str, str | None, str | None]:
    """(loss per example, delta of the last layer if fused with the loss, else None, dE/da or None).

    Fused pairs give the logits' delta directly, so that saturated units stay finite:
    sigmoid with cross-entropy: ``a - t`` (one output) or ``-t sigma(-z)``;
    softmax with cross-entropy: ``a sum(t) - t``; softmax_cross_entropy: ``softmax(z) - t``
    (the targets form a distribution, as for :class:`~symprop.model.functions.softmax_cross_entropy`).
    """
    loss, a, z = network.loss, last.a, last.z
    m = len(network.targets)
    if LOSS_RECORDS[loss].fused:
        return f"-numpy.sum(t * log_softmax_rows({z}), axis=-1)", f"softmax_rows({z}) - t", None
    if loss == "cross_entropy" and last.activation == "sigmoid":
        if m == 1:
            return f"numpy.sum(t * softplus(-{z}) + (1 - t) * softplus({z}), axis=-1)", f"{a} - t", None
        return f"numpy.sum(t * softplus(-{z}), axis=-1)", f"-t * sigmoid(-{z})", None
    if loss == "cross_entropy" and last.kind == "softmax":
        return (f"-numpy.sum(t * log_softmax_rows({z}), axis=-1)",
                f"{a} * numpy.sum(t, axis=-1, keepdims=True) - t", None)
    value, gradient = _separable_loss_code(loss, m, a)
    return value, None, gradient


#: The first line of both generated functions: one example, a 1-D vector, is a batch of one.
AS_BATCH = "x, t = numpy.atleast_2d(x, t)"


def _forward_body(network, layers: list[_LayerCode], reduction: str) -> list[str]:
    """The batch as rows, one product per layer, and the loss: the examples' losses combined
    by ``reduction`` (their mean or sum), as the gradients are."""
    lines = [AS_BATCH, *(line for layer in layers for line in layer.forward_lines())]
    per_example, _, _ = _output_terms(network, layers[-1])
    return [*lines, f"loss = numpy.{reduction}({per_example})"]


def _backward_body(network, layers: list[_LayerCode], reduction: str) -> list[str]:
    """The forward lines, then ``delta^L`` from the loss, ``delta^l = (delta^{l+1} W^{l+1}) * f'(z^l)``
    down the layers, and the gradients (divided by the batch size for a mean)."""
    lines = _forward_body(network, layers, reduction)
    last = layers[-1]
    _, fused, upstream = _output_terms(network, last)
    lines += [f"{last.delta} = {fused}"] if fused is not None else last.delta_lines(upstream)
    for upper, layer in zip(reversed(layers), list(reversed(layers))[1:]):
        lines += layer.delta_lines(upper.backpropagated())
    scale = " / len(x)" if reduction == "mean" else ""
    items = [item for layer in layers for item in layer.gradient_items(scale)]
    return [*lines, "return loss, {" + ", ".join(f"{name!r}: {code}" for name, code in items) + "}"]


def _arguments(network) -> list[str]:
    names = ["x", "t"]
    for i, layer in enumerate(network.layers, start=1):
        names.append(f"W{i}")
        if layer.bias_mode != "none":
            names.append(f"b{i}")
    return names


def _names(symbols, named: bool) -> str:
    return f": {', '.join(str(s) for s in symbols)}" if named else ""


def _shapes(network, reduction: str) -> list[str]:
    """Docstring lines: each argument's shape and what its rows and columns are; for a network of
    at most :data:`NAMED_PARAMETERS` parameters, which name sits where as well."""
    named = len(network.parameters) <= NAMED_PARAMETERS
    n, m = len(network.inputs), len(network.targets)
    target_kind = "upstream gradients" if network.loss == "upstream" else "targets"
    lines = [f"x: (batch, {n}) or ({n},), one row of inputs per example{_names(network.inputs, named)}",
             f"t: (batch, {m}) or ({m},), the examples' {target_kind}{_names(network.targets, named)}"]
    for i, layer in enumerate(network.layers, start=1):
        rows = "; ".join(", ".join(w.name for w in row) for row in layer.weights)
        lines.append(f"W{i}: ({len(layer.nets)}, {len(layer.inputs)}), rows are the units of layer {i}, "
                     f"columns its inputs" + (f": [{rows}]" if named else ""))
        if layer.bias_mode == "shared":
            lines.append(f"b{i}: a number, one bias shared by the units of layer {i}"
                         f"{_names(layer.bias_parameters, named)}")
        elif layer.bias_mode == "per_unit":
            lines.append(f"b{i}: ({len(layer.nets)},), one bias per unit of layer {i}{_names(layer.biases, named)}")
    return [*lines, "",
            f"Returns (loss, gradients): the loss, the {reduction} over the examples, and each parameter's",
            f"gradient in its shape ({{'W1': dE/dW1, ...}}), the {reduction} of the examples' gradients.",
            "One example given as 1-D vectors is a batch of one."]


def _function(name: str, arguments: list[str], doc: list[str], lines: list[str]) -> str:
    docstring = "\n".join(f"    {line}" if line else "" for line in doc).lstrip()
    body = "\n".join(f"    {line}" for line in lines)
    return f'def {name}({", ".join(arguments)}):\n    """{docstring}\n    """\n{body}\n'


def backward_source(network, *, reduction: str = "mean") -> str:
    """Readable NumPy source of backpropagation through a layered network, over a batch.

    ``backward(x, t, W1, b1, ...)`` takes one row of ``x`` and ``t`` per example (or one example
    as 1-D vectors) and returns ``(loss, {"W1": dE/dW1, "b1": dE/db1, ...})``, the loss and the
    gradients the batch ``mean`` or ``sum`` (``reduction``); one line per layer each way, each a
    matrix product over the whole batch. ``forward(x, t, W1, b1, ...)`` returns
    ``(loss, output)``, the output layer's activations one row per example.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}: expected mean or sum")
    layers = [_LayerCode(network, i) for i in range(1, len(network.layers) + 1)]
    arguments = _arguments(network)
    doc = [f"{network.loss} and its gradient over a batch of examples, layer by layer.", "",
           *_shapes(network, reduction)]
    backward = _function("backward", arguments, doc, _backward_body(network, layers, reduction))
    forward = _function("forward", arguments, [
        f"{network.loss} (the batch {reduction}) and the output layer's activations, one row per example;",
        "the arguments are backward's."], [*_forward_body(network, layers, reduction), f"return loss, {layers[-1].a}"])
    return module_source(backward, forward)


def numpy_functions(network, *, reduction: str = "mean"):
    """``(forward, gradient)`` over a batch, compiled from :func:`backward_source`.

    ``forward(values, inputs, targets) -> (loss, output)`` and
    ``gradient(values, inputs, targets) -> {parameter name: dE/dparameter}``, where
    ``values`` maps parameter names (or symbols) to numbers, and ``inputs`` and
    ``targets`` hold one row per example (a single example may be one flat row).
    For speed on wide layers, ``values`` may instead be the arrays of
    :func:`parameter_arrays`, and ``gradient(..., as_arrays=True)`` returns
    ``{"W1": dE/dW1, "b1": dE/db1, ...}`` without naming every weight.
    """
    scope: dict = {}
    exec(compile(backward_source(network, reduction=reduction), "<symprop batch>", "exec"), scope)

    def arrays_of(values):
        return parameter_arrays(network, values) if isinstance(values, Mapping) else list(values)

    def forward(values, inputs, targets):
        loss, output = scope["forward"](*_batch(network, inputs, targets), *arrays_of(values))
        return float(loss), output

    def gradient(values, inputs, targets, *, as_arrays: bool = False):
        _, arrays = scope["backward"](*_batch(network, inputs, targets), *arrays_of(values))
        return arrays if as_arrays else gradients_by_name(network, arrays)

    return forward, gradient


def parameter_arrays(network, values) -> list:
    """``[W1, b1, W2, ...]`` (biases only where the layer has them) from a name -> number mapping."""
    by_name = {(k.name if isinstance(k, Symbol) else str(k)): v for k, v in dict(values).items()}
    missing = [p.name for p in network.parameters if p.name not in by_name]
    if missing:
        raise ValueError(f"no value given for parameter {', '.join(missing)}")
    arrays = []
    for layer in network.layers:
        arrays.append(numpy.array([[float(by_name[w.name]) for w in row] for row in layer.weights]))
        mode = layer.bias_mode
        if mode == "shared":
            arrays.append(float(by_name[layer.bias_parameters[0].name]))
        elif mode == "per_unit":
            arrays.append(numpy.array([float(by_name[b.name]) for b in layer.biases]))
    return arrays


def _batch(network, inputs, targets):
    x = numpy.atleast_2d(numpy.asarray(inputs, dtype=float))
    t = numpy.atleast_2d(numpy.asarray(targets, dtype=float))
    if x.shape[1] != len(network.inputs) or t.shape[1] != len(network.targets) or len(x) != len(t):
        raise ValueError(
            f"expected inputs of shape (n, {len(network.inputs)}) and targets of shape (n, {len(network.targets)}), "
            f"got {x.shape} and {t.shape}"
        )
    return x, t


def gradients_by_name(network, arrays: Mapping[str, object]) -> dict[str, float]:
    """``{"W1": ..., "b1": ...}`` as generated code returns them -> ``{parameter name: float}``."""
    gradients = {}
    for i, layer in enumerate(network.layers, start=1):
        weights = arrays[f"W{i}"]
        for j, row in enumerate(layer.weights):
            for k, w in enumerate(row):
                gradients[w.name] = float(weights[j, k])
        mode = layer.bias_mode
        if mode == "shared":
            gradients[layer.bias_parameters[0].name] = float(arrays[f"b{i}"])
        elif mode == "per_unit":
            for j, b in enumerate(layer.biases):
                gradients[b.name] = float(arrays[f"b{i}"][j])
    return {p.name: gradients[p.name] for p in network.parameters}
