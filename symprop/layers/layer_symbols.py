"""The matrix symbols of a network's layers, named in its notation.

Per layer ``l``: the width ``n_l`` (a symbol, so one formula serves every
width), ``W^l``, ``b^l`` (a vector, one shared scalar, or none), ``a^{l-1}``,
``z^l``, ``a^l``, ``delta^l`` for one example and ``A``, ``Z``, ``Delta`` for a
batch of ``m`` (one column per example), and the activation read off the graph
(``a_j = f(z_j)`` with one ``f``, softmax, or the identity). Superscripts and
letters follow the preset: ``(l)`` in most, ``l`` in Nielsen's, ``(L-1)`` in
3Blue1Brown's; "Deep Learning from Scratch" swaps ``a`` and ``z``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Idx, IndexedBase, Lambda, MatrixSymbol, Symbol

from symprop.model import functions
from symprop.model.graph import Graph
from symprop.model.notation import layer_label


@dataclass(frozen=True)
class Activation:
    """How a layer's outputs come from its pre-activations: ``kind`` is
    ``elementwise`` (with ``function`` x -> f(x)), ``softmax`` or ``identity``."""

    kind: str
    function: Lambda | None = None


@dataclass(frozen=True)
class LayerSymbols:
    """The matrix symbols of one layer (single example and batch) and its index-form bases."""

    index: int
    n: Symbol
    n_prev: Symbol
    W: MatrixSymbol
    b: MatrixSymbol | Symbol | None
    bias_mode: str
    a_prev: MatrixSymbol
    z: MatrixSymbol
    a: MatrixSymbol
    delta: MatrixSymbol
    A_prev: MatrixSymbol
    Z: MatrixSymbol
    A: MatrixSymbol
    Delta: MatrixSymbol
    w_indexed: IndexedBase
    a_prev_indexed: IndexedBase
    delta_indexed: IndexedBase
    Delta_indexed: IndexedBase
    activation: Activation


@dataclass(frozen=True)
class NetworkSymbols:
    """Every layer's symbols, the loss, the batch size ``m``, the targets (``t``, ``T``),
    the loss gradient at the output (``nabla_a C``, batch ``nabla_A C``) and the indices."""

    layers: tuple[LayerSymbols, ...]
    loss: Symbol
    m: Symbol
    t: MatrixSymbol
    T: MatrixSymbol
    grad_a: MatrixSymbol
    grad_A: MatrixSymbol
    j: Idx
    k: Idx
    i: Idx


#: The bound variable of every activation Lambda: one Dummy, so that equal layers give equal forms.
_ACTIVATION_VARIABLE = sympy.Dummy("x", real=True)


def layer_activation(graph: Graph, layer) -> Activation:
    """Read the activation off the graph: ``out_j = f(net_j)`` for every unit, one ``f``."""
    definitions = [graph.definition[out] for out in layer.outs]
    if all(d == net for d, net in zip(definitions, layer.nets)):
        return Activation("identity")
    if all(isinstance(d, functions.softmax) for d in definitions):
        return Activation("softmax")
    x = _ACTIVATION_VARIABLE
    candidates = {d.xreplace({net: x}) for d, net in zip(definitions, layer.nets)}
    if len(candidates) != 1 or next(iter(candidates)).free_symbols & set(layer.nets):
        raise ValueError(f"layer {layer.index} is not elementwise, softmax or identity: cannot write its matrix form")
    return Activation("elementwise", Lambda(x, candidates.pop()))


def layer_superscript(network, layer: int) -> str:
    """``(l)`` in most presets, ``l`` in Nielsen's, ``(L-1)`` in 3Blue1Brown's."""
    key = network.notation.key
    if key == "nielsen":
        return str(layer)
    if key == "3b1b":
        return f"({layer_label(layer, len(network.layers))})"
    return f"({layer})"


def _letters(network) -> tuple[str, str, str]:
    """(pre-activation, activation, target) letters: DLfS names them the other way round."""
    key = network.notation.key
    if key == "dlfs":
        return "a", "z", "t"
    return "z", "a", "t" if key == "mazur" else "y"


def width_symbol(network, layer: int) -> Symbol:
    """``n_l``, the width of layer ``l``, as a positive integer symbol."""
    return Symbol("n_{%s}" % layer_superscript(network, layer).strip("()"), integer=True, positive=True)


def network_symbols(network) -> NetworkSymbols:
    """The matrix symbols of every layer, named in the network's notation."""
    net, out, target = _letters(network)
    m = Symbol("m", integer=True, positive=True)
    layers = []
    for layer in network.layers:
        l = layer.index
        sup, sup_prev = layer_superscript(network, l), layer_superscript(network, l - 1)
        n, n_prev = width_symbol(network, l), width_symbol(network, l - 1)
        mode = layer.bias_mode
        bias = {"none": None, "shared": Symbol(f"b^{{{sup}}}"), "per_unit": MatrixSymbol(f"b^{{{sup}}}", n, 1)}[mode]
        layers.append(LayerSymbols(
            l, n, n_prev, MatrixSymbol(f"W^{{{sup}}}", n, n_prev), bias, mode,
            MatrixSymbol(f"{out}^{{{sup_prev}}}", n_prev, 1), MatrixSymbol(f"{net}^{{{sup}}}", n, 1),
            MatrixSymbol(f"{out}^{{{sup}}}", n, 1), MatrixSymbol(rf"\delta^{{{sup}}}", n, 1),
            MatrixSymbol(f"{out.upper()}^{{{sup_prev}}}", n_prev, m), MatrixSymbol(f"{net.upper()}^{{{sup}}}", n, m),
            MatrixSymbol(f"{out.upper()}^{{{sup}}}", n, m), MatrixSymbol(rf"\Delta^{{{sup}}}", n, m),
            IndexedBase(f"w^{{{sup}}}"), IndexedBase(f"{out}^{{{sup_prev}}}"), IndexedBase(rf"\delta^{{{sup}}}"),
            IndexedBase(rf"\Delta^{{{sup}}}"), layer_activation(network.graph, layer),
        ))
    last = layers[-1]
    loss = network.output
    loss_tex = network.graph.latex_name(loss)  # the loss as the document names it (E_{\mathrm{total}})
    return NetworkSymbols(
        tuple(layers), loss, m, MatrixSymbol(target, last.n, 1), MatrixSymbol(target.upper(), last.n, m),
        MatrixSymbol(r"\nabla_{%s} %s" % (last.a.name, loss_tex), last.n, 1),
        MatrixSymbol(r"\nabla_{%s} %s" % (last.A.name, loss_tex), last.n, m),
        Idx("j"), Idx("k"), Idx("i"),
    )


def fused_softmax_loss(network) -> bool:
    """True for softmax with cross-entropy as one loss, whose ``dC/dz`` is ``softmax(z) - t``."""
    return network.loss == "softmax_cross_entropy"
