r"""Backpropagation for whole layers: the matrix (delta) form, proven equal to
the per-weight gradients.

For layer ``l`` of ``L`` (column vectors, one example; Nielsen's BP1-BP4)::

    z^l = W^l a^{l-1} + b^l                a^l = f(z^l)
    delta^L = nabla_a C ⊙ f'(z^L)           (a^L - t for softmax with cross-entropy)
    delta^l = ((W^{l+1})^T delta^{l+1}) ⊙ f'(z^l)
    dC/dW^l = delta^l (a^{l-1})^T           dC/db^l = delta^l
    dC/dw^l_{jk} = a^{l-1}_k delta^l_j

For a batch whose columns are the ``m`` examples and ``C`` the mean of their
losses: ``dC/dW^l = (1/m) Delta^l (A^{l-1})^T`` and ``dC/db^l = (1/m) Delta^l 1``.
A softmax layer's ``f'(z) ⊙`` is its Jacobian ``diag(a) - a a^T``:
``a ⊙ g - a a^T g``.

Widths are symbols (``n_l``), so a network of any width is one formula per
layer. :func:`verify_matrix_form` instantiates these very equations for a
concrete network and compares every entry with the engine's per-weight
gradient (:mod:`symprop.matrix_proof`). :func:`layers_json` gives each layer's
formulas as LaTeX and, with a worked example, its arrays.

The layer view of "Deep Learning from Scratch" and the node rules of a
computational graph live in :mod:`symprop.layer_view`; they are importable
from here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Eq, HadamardProduct, Sum, Symbol

from symprop.engine.records import Derivation
from symprop.printing.latex import SympropLatexPrinter
from symprop.model.losses import LOSS_RECORDS
from symprop.layers.layer_symbols import Activation, LayerSymbols, NetworkSymbols, fused_softmax_loss, network_symbols
from symprop.layers.layer_view import LayerRule, NodeRule, layer_view, node_rules
from symprop.layers.matrix_expressions import Elementwise, MatrixPartial, Ones, Partial, Softmax
from symprop.layers.matrix_proof import MatrixFormError, batch_layout, check_forms

__all__ = [
    "EQUATION_KEYS", "LayerForm", "LayerRule", "MatrixFormError", "NodeRule", "layer_arrays", "layer_view",
    "layers_json", "matrix_form", "node_rules", "verify_matrix_form",
]


@dataclass(frozen=True)
class LayerForm:
    """One layer's vectorised equations, keyed as in :data:`EQUATION_KEYS`."""

    index: int
    equations: tuple[tuple[str, Eq], ...]

    def __getitem__(self, key: str) -> Eq:
        for name, equation in self.equations:
            if name == key:
                return equation
        raise KeyError(f"layer {self.index} has no {key!r} equation (it has {', '.join(self.keys)})")

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.equations)


#: Equation keys, in display order (a layer holds those that apply to it).
EQUATION_KEYS = (
    "forward_net", "forward_out", "loss_gradient", "delta", "weight_gradient", "bias_gradient",
    "index_form", "batch_delta", "batch_weight_gradient", "batch_bias_gradient",
)



def _activated(activation: Activation, matrix):
    if activation.kind == "identity":
        return matrix
    if activation.kind == "softmax":
        return Softmax(matrix)
    return Elementwise(activation.function, matrix)


def _through_activation(activation: Activation, upstream, z, a):
    """The delta of a layer given dC/da: ``upstream ⊙ f'(z)``, or the softmax Jacobian
    ``a ⊙ g - a a^T g`` (``diag(a) - a a^T`` times ``g``), or ``upstream`` for the identity."""
    if activation.kind == "identity":
        return upstream
    if activation.kind == "softmax":
        return HadamardProduct(a, upstream) - a * a.T * upstream
    return HadamardProduct(upstream, Elementwise(activation.function, z, 1))


def _delta_rhs(network, symbols: NetworkSymbols, position: int, batch: bool):
    """delta^l (or Delta^l with ``batch``): BP1 for the output layer, BP2 for the others."""
    layer = symbols.layers[position]
    z, a, delta = (layer.Z, layer.A, None) if batch else (layer.z, layer.a, None)
    if position == len(symbols.layers) - 1:
        t, grad = (symbols.T, symbols.grad_A) if batch else (symbols.t, symbols.grad_a)
        if fused_softmax_loss(network):
            # d/dz of -sum t log softmax(z) is softmax(z) - t (targets summing to one).
            return _difference(a if layer.activation.kind == "softmax" else Softmax(z), t)
        return _through_activation(layer.activation, grad, z, a)
    after = symbols.layers[position + 1]
    upstream = after.W.T * (after.Delta if batch else after.delta)
    return _through_activation(layer.activation, upstream, z, a)


def _layer_form(network, symbols: NetworkSymbols, position: int, reduction: str) -> LayerForm:
    s = symbols.layers[position]
    C, output = symbols.loss, position == len(symbols.layers) - 1
    j, k, i = symbols.j, symbols.k, symbols.i
    scale = 1 / symbols.m if reduction == "mean" else sympy.S.One
    equations = [("forward_net", Eq(s.z, s.W * s.a_prev + _bias_term(s), evaluate=False)),
                 ("forward_out", Eq(s.a, _activated(s.activation, s.z), evaluate=False))]
    # nabla_a C in closed vector form, for a loss whose record gives it as a multiple of (a^L - t)
    scale_of = LOSS_RECORDS[network.loss].gradient_scale
    if output and scale_of is not None:
        factor = scale_of(s.n)
        equations.append(("loss_gradient", Eq(symbols.grad_a, factor * _difference(s.a, symbols.t), evaluate=False)))
    equations += [
        ("delta", Eq(s.delta, _delta_rhs(network, symbols, position, False), evaluate=False)),
        ("weight_gradient", Eq(MatrixPartial(C, s.W), s.delta * s.a_prev.T, evaluate=False)),
    ]
    if s.bias_mode == "per_unit":
        equations.append(("bias_gradient", Eq(MatrixPartial(C, s.b), s.delta, evaluate=False)))
    elif s.bias_mode == "shared":
        equations.append(("bias_gradient", Eq(Partial(C, s.b), Sum(s.delta_indexed[j], (j, 1, s.n)), evaluate=False)))
    equations.append(
        ("index_form", Eq(Partial(C, s.w_indexed[j, k]), s.a_prev_indexed[k] * s.delta_indexed[j], evaluate=False))
    )
    if _batch_delta_exists(network, symbols, position):
        equations.append(("batch_delta", Eq(s.Delta, _delta_rhs(network, symbols, position, True), evaluate=False)))
    equations.append(("batch_weight_gradient", Eq(MatrixPartial(C, s.W), scale * s.Delta * s.A_prev.T, evaluate=False)))
    if s.bias_mode == "per_unit":
        equations.append(
            ("batch_bias_gradient", Eq(MatrixPartial(C, s.b), scale * s.Delta * Ones(symbols.m, 1), evaluate=False))
        )
    elif s.bias_mode == "shared":
        total = Sum(Sum(s.Delta_indexed[j, i], (j, 1, s.n)), (i, 1, symbols.m))
        equations.append(("batch_bias_gradient", Eq(Partial(C, s.b), scale * total, evaluate=False)))
    return LayerForm(s.index, tuple(equations))


def _difference(left, right):
    """``left - right`` kept in that order (a printer without sorting prints ``a - t``)."""
    return sympy.MatAdd(left, -right, evaluate=False)


def _bias_term(s: LayerSymbols):
    if s.bias_mode == "none":
        return sympy.ZeroMatrix(*s.z.shape)
    if s.bias_mode == "shared":
        return s.b * Ones(s.n, 1)
    return s.b


def _batch_delta_exists(network, symbols: NetworkSymbols, position: int) -> bool:
    """A batch delta is one matrix formula unless a softmax Jacobian (one per example) is in it."""
    layer = symbols.layers[position]
    fused_output = position == len(symbols.layers) - 1 and fused_softmax_loss(network)
    return fused_output or layer.activation.kind != "softmax"


def matrix_form(network, *, reduction: str = "mean") -> tuple[LayerForm, ...]:
    """Every layer's vectorised equations (see the module docstring), widths symbolic.

    ``reduction`` says how the batch equations combine the examples' losses:
    ``mean`` (a factor ``1/m``) or ``sum``.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}: expected mean or sum")
    symbols = network_symbols(network)
    return tuple(_layer_form(network, symbols, p, reduction) for p in range(len(symbols.layers)))


def verify_matrix_form(network, derivation: Derivation, *, method: str = "auto", points: int = 2,
                       digits: int = 40, seed: int = 0) -> None:
    """Prove the matrix form for this network: instantiate every layer's equations
    (W^l as the matrix of the weight symbols, a^{l-1} as the layer's inputs, f'(z)
    in forward quantities), work out dC/dW^l and dC/db^l entry by entry through
    the delta recurrence, and compare each entry with the engine's per-weight
    gradient ``derivation[w].closed_form``.

    ``derivation`` is of ``network.graph`` (the single-example equations are
    checked, with the forward equations, the loss gradient and the index form)
    or of ``nn.batched(network.graph, m, reduction)`` (the batch equations).
    ``method``: ``exact`` (the difference expands to 0), ``numeric`` (random
    points at ``digits`` digits) or ``auto`` (exact up to 1024 chain paths per
    parameter, numeric beyond).
    Raises :class:`MatrixFormError` naming the first entry that differs.
    """
    batch = batch_layout(network, derivation.graph)
    forms = matrix_form(network, reduction=batch.reduction)
    check_forms(forms, network, derivation, batch, method=method, points=points, digits=digits, seed=seed)


# ---------------------------------------------------------------------------
# JSON: per layer, the formulas as LaTeX and, with a worked example, the arrays.


def _number(example, symbol: Symbol, *tables: str) -> float:
    """The value of ``symbol`` in the example's tables (a batch's first example as ``name[1]``)."""
    for table in tables:
        if symbol in getattr(example, table):
            return float(getattr(example, table)[symbol])
    first = Symbol(f"{symbol.name}[1]", **symbol.assumptions0)  # made only when needed: Symbols are not cheap
    for table in tables:
        if first in getattr(example, table):
            return float(getattr(example, table)[first])
    raise KeyError(f"the worked example has no value for {symbol}")


def layer_arrays(layer, example) -> dict[str, Any]:
    """W (units x inputs), b (per unit; a shared bias repeated; None without), the inputs
    a_prev, z, a, delta (dC/dz) and dW; db is one entry per bias parameter (one for a shared bias).

    With several examples, a_prev, z, a and delta are the first example's (as the
    worked example keeps them) and dW, db the gradient of the combined loss."""
    def vector(symbols, *tables):
        return [_number(example, s, *tables) for s in symbols]

    return {
        "W": [vector(row, "values") for row in layer.weights],
        "b": None if layer.bias_mode == "none" else vector(layer.biases, "values"),
        "a_prev": vector(layer.inputs, "forward", "values"),
        "z": vector(layer.nets, "forward"),
        "a": vector(layer.outs, "forward"),
        "delta": vector(layer.nets, "adjoints"),
        "dW": [vector(row, "gradients") for row in layer.weights],
        "db": vector(layer.bias_parameters, "gradients"),
    }


def layers_json(network, example=None) -> list[dict]:
    """Per layer: its shape, the matrix-form equations and the layer-view rules as LaTeX
    strings, and with a :class:`~symprop.numbers.worked_example.WorkedExample` the arrays of :func:`layer_arrays`."""
    forms, rules, graph = matrix_form(network), layer_view(network), network.graph
    # one printer for every formula: each new one copies the names of all the graph's symbols
    latex = SympropLatexPrinter({"graph": graph}).doprint
    layers = []
    for form, layer in zip(forms, network.layers):
        entry = {
            "index": layer.index,
            "activation": layer.activation,
            "inputs": len(layer.inputs),
            "units": len(layer.outs),
            "bias": layer.bias_mode,
            "formulas": {key: latex(equation) for key, equation in form.equations},
            "layer_view": [
                {"name": rule.name, "forward": [latex(e) for e in rule.forward],
                 "backward": [latex(e) for e in rule.backward]}
                for rule in rules if rule.layer == layer.index
            ],
        }
        if example is not None:
            entry["arrays"] = layer_arrays(layer, example)
        layers.append(entry)
    return layers
