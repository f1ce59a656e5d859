"""Generated code: straight-line Python for any graph, and vectorised NumPy for layered networks.

Three products, all generated from what the engine derived, never from an
expanded loss:

* :func:`graph_source`: readable Python for any :class:`~symprop.model.graph.Graph`,
  one line per node forward and one per adjoint backward (the reverse-mode
  recurrence ``delta_u = sum_v delta_v dv/du`` as the derivation states it);
* :func:`backward_source`: the textbook layer form for a layered network,
  one line per layer (``delta^l = (W^{l+1})^T delta^{l+1} * f'(z^l)``,
  ``dE/dW^l = delta^l (a^{l-1})^T``), to paste into a project;
* :func:`numpy_functions`: forward and gradient over a batch, one matrix
  product per layer.

Every activation is evaluated so that ``|z| = 1000`` raises no overflow (the
helpers of :mod:`symprop.numpy_helpers`), and ``log`` of a sigmoid or softmax
node is rewritten as ``log_sigmoid`` / ``log_softmax`` of the logits
(:func:`~symprop.numbers.straight_line.stable_form`). The straight-line code itself is
printed by :mod:`symprop.straight_line`.
"""
from __future__ import annotations

from typing import Mapping

import numpy
import sympy
from sympy import Symbol

from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.losses import LOSS_RECORDS
from symprop.codegen.numpy_helpers import NODE_HELPERS, NodePrinter, module_source
from symprop.numbers.straight_line import python_identifiers, stable_form, straight_line_source


# --- graph_source: any graph, one line per node and per adjoint ---

def graph_source(derivation, *, name: str = "gradient") -> str:
    """Python source (NumPy) of the forward and backward pass of any graph.

    ``def gradient(<inputs>, <parameters>)`` assigns every node in graph order,
    then every adjoint ``delta_u = sum_v delta_v dv/du`` from the output down,
    then every parameter's ``dE/dw = sum_v delta_v dv/dw``, and returns
    ``(output value, {parameter name: gradient})``. Arguments may be numbers or
    arrays of a batch (every line is elementwise).

    The forward pass is stable at any logit (logs of sigmoid and softmax nodes go
    through the logits); the backward lines are the derivation's own, so a
    sigmoid followed by a separate log-loss keeps its factor ``1/(1 - a)``, which
    divides by zero once ``a`` rounds to 1 (``z`` above about 37). The fused losses, and
    :func:`backward_source` / :func:`numpy_functions`, avoid that factor.
    """
    graph = derivation.graph
    adjoints = list(derivation.adjoints.values())
    gradients = list(derivation.gradients.values())
    gradient_symbols = [Symbol(f"d{graph.output.name}_d{g.symbol.name}") for g in gradients]
    identifiers = python_identifiers(
        [*graph.inputs, *graph.parameters, *graph.nodes, *(a.symbol for a in adjoints), *gradient_symbols],
        reserved=(name, "numpy", "functools", *NODE_HELPERS),
    )
    def readable(expr):
        return stable_form(expr, graph, complements=False)

    forward = [(e.node, readable(e.expr)) for e in graph.equations]
    backward = [(a.symbol, readable(a.definition)) for a in adjoints]
    backward += [(s, readable(g.delta_form)) for s, g in zip(gradient_symbols, gradients)]
    printer = NodePrinter()
    mapping = ", ".join(f"{p.name!r}: {identifiers[s]}" for p, s in zip(graph.parameters, gradient_symbols))
    body = straight_line_source(
        name, [*graph.inputs, *graph.parameters], [*forward, *backward], [], printer, identifiers,
        returns=f"{identifiers[graph.output]}, {{{mapping}}}",
        docstring=f"{graph.output.name} and its gradient: forward pass, adjoints from the output down, gradients.",
    )
    return module_source(body)


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
    """The names and formulas of one layer in generated code (``z2``, ``a2``, ``W2``...)."""

    def __init__(self, network, index: int, single: bool):
        layer = network.layers[index - 1]
        self.layer, self.index, self.single = layer, index, single
        self.z, self.a, self.delta = f"z{index}", f"a{index}", f"delta{index}"
        self.W, self.b = f"W{index}", f"b{index}"
        self.source = "x" if index == 1 else f"a{index - 1}"
        self.bias = layer.bias_mode
        self.activation = layer.activation
        record = ACTIVATION_RECORDS.get(layer.activation)
        self.kind = record.kind if record is not None else "elementwise"  # a custom f is elementwise
        self.unit = network.graph.definition[layer.outs[0]]

    def forward_lines(self) -> list[str]:
        product = f"{self.W} @ {self.source}" if self.single else f"{self.source} @ {self.W}.T"
        bias = "" if self.bias == "none" else f" + {self.b}"
        return [f"{self.z} = {product}{bias}", f"{self.a} = {self.activate()}"]

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
        """``delta = upstream * f'(z)`` (for softmax, its Jacobian times ``upstream``)."""
        if self.kind == "softmax":
            g = f"g{self.index}"
            return [f"{g} = {upstream}",
                    f"{self.delta} = {self.a} * ({g} - numpy.sum({g} * {self.a}, axis=-1, keepdims=True))"]
        factor = self.factor()
        return [f"{self.delta} = {upstream}" if factor is None else f"{self.delta} = {upstream} * {factor}"]

    def backpropagated(self) -> str:
        """``(W^l)^T delta^l``: what this layer's delta sends to the layer below."""
        return f"({self.W}.T @ {self.delta})" if self.single else f"({self.delta} @ {self.W})"

    def gradient_items(self, scale: str) -> list[tuple[str, str]]:
        if self.single:
            weights = f"numpy.outer({self.delta}, {self.source})"
            bias = self.delta if self.bias == "per_unit" else f"numpy.sum({self.delta})"
        else:
            weights = f"{self.delta}.T @ {self.source}{scale}"
            bias = (f"numpy.sum({self.delta}, axis=0){scale}" if self.bias == "per_unit"
                    else f"numpy.sum({self.delta}){scale}")
        items = [(self.W, weights)]
        if self.bias != "none":
            items.append((self.b, bias))
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


def _layer_body(network, *, single: bool, reduction: str = "mean", gradients: bool = True) -> list[str]:
    """The lines of the forward pass, the loss and (with ``gradients``) the backward pass."""
    layers = [_LayerCode(network, i, single) for i in range(1, len(network.layers) + 1)]
    lines = [line for layer in layers for line in layer.forward_lines()]
    per_example, fused, upstream = _output_terms(network, layers[-1])
    if single:
        lines.append(f"loss = {per_example}")
    else:
        lines.append(f"loss = numpy.{'mean' if reduction == 'mean' else 'sum'}({per_example})")
    if not gradients:
        return lines
    last = layers[-1]
    lines += [f"{last.delta} = {fused}"] if fused is not None else last.delta_lines(upstream)
    for upper, layer in zip(reversed(layers), list(reversed(layers))[1:]):
        lines += layer.delta_lines(upper.backpropagated())
    scale = "" if single or reduction == "sum" else " / len(x)"
    items = [item for layer in layers for item in layer.gradient_items(scale)]
    lines.append("return loss, {" + ", ".join(f"{name!r}: {code}" for name, code in items) + "}")
    return lines


def _arguments(network) -> list[str]:
    names = ["x", "t"]
    for i, layer in enumerate(network.layers, start=1):
        names.append(f"W{i}")
        if layer.bias_mode != "none":
            names.append(f"b{i}")
    return names


def _layout(network) -> list[str]:
    """Docstring lines: which parameter sits where in the arrays."""
    lines = [f"x = ({', '.join(s.name for s in network.inputs)}); t = ({', '.join(s.name for s in network.targets)})"]
    for i, layer in enumerate(network.layers, start=1):
        rows = "; ".join(", ".join(w.name for w in row) for row in layer.weights)
        sources = ", ".join(s.name for s in layer.inputs)
        lines.append(f"W{i} = [{rows}] (rows: units {', '.join(layer.units)}; columns: {sources})")
        mode = layer.bias_mode
        if mode == "shared":
            lines.append(f"b{i} = {layer.bias_parameters[0].name} (one bias shared by the layer)")
        elif mode == "per_unit":
            lines.append(f"b{i} = ({', '.join(b.name for b in layer.biases)})")
    return lines


def backward_source(network, *, name: str = "backward") -> str:
    """Readable NumPy source of backpropagation through a layered network, for one example.

    One line per layer each way: ``z^l = W^l a^{l-1} + b^l``, ``a^l = f(z^l)``; then
    ``delta^L`` from the loss, ``delta^l = ((W^{l+1})^T delta^{l+1}) * f'(z^l)`` (the
    transpose rule) and ``dE/dW^l = delta^l (a^{l-1})^T`` (an outer product). Returns
    ``def name(x, t, W1, b1, ...)`` giving ``(loss, {"W1": dE/dW1, "b1": dE/db1, ...})``.
    """
    lines = _layer_body(network, single=True)
    doc = [f"{network.loss} of one example and its gradient, layer by layer.", "", *_layout(network)]
    return module_source(_function(name, _arguments(network), doc, lines))


def _function(name: str, arguments: list[str], doc: list[str], lines: list[str]) -> str:
    docstring = "\n".join(f"    {line}" if line else "" for line in doc).lstrip()
    body = "\n".join(f"    {line}" for line in lines)
    return f'def {name}({", ".join(arguments)}):\n    """{docstring}\n    """\n{body}\n'


def batch_source(network, *, reduction: str = "mean") -> str:
    """NumPy source of ``forward`` and ``gradient`` over a batch (one row of ``x`` and ``t``
    per example), one matrix product per layer; the loss and gradients are the batch
    ``mean`` or ``sum``."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}: expected mean or sum")
    forward = _layer_body(network, single=False, reduction=reduction, gradients=False)
    outs = ", ".join(f"a{i}" for i in range(1, len(network.layers) + 1))
    forward.append(f"return loss, ({outs},)")
    gradient = _layer_body(network, single=False, reduction=reduction)
    arguments = _arguments(network)
    doc = [f"{network.loss}, the batch {reduction}: one row of x and t per example.", "", *_layout(network)]
    return module_source(_function("forward", arguments, doc, forward), _function("gradient", arguments, doc, gradient))


def numpy_functions(network, *, reduction: str = "mean"):
    """``(forward, gradient)`` over a batch, compiled from :func:`batch_source`.

    ``forward(values, inputs, targets) -> (loss, (a1, ..., aL))`` and
    ``gradient(values, inputs, targets) -> {parameter name: dE/dparameter}``, where
    ``values`` maps parameter names (or symbols) to numbers, and ``inputs`` and
    ``targets`` hold one row per example (a single example may be one flat row).
    For speed on wide layers, ``values`` may instead be the arrays of
    :func:`parameter_arrays`, and ``gradient(..., as_arrays=True)`` returns
    ``{"W1": dE/dW1, "b1": dE/db1, ...}`` without naming every weight.
    """
    scope: dict = {}
    exec(compile(batch_source(network, reduction=reduction), "<symprop batch>", "exec"), scope)

    def arrays_of(values):
        return parameter_arrays(network, values) if isinstance(values, Mapping) else list(values)

    def forward(values, inputs, targets):
        loss, outs = scope["forward"](*_batch(network, inputs, targets), *arrays_of(values))
        return float(loss), outs

    def gradient(values, inputs, targets, *, as_arrays: bool = False):
        _, arrays = scope["gradient"](*_batch(network, inputs, targets), *arrays_of(values))
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
