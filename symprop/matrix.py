r"""Backpropagation for whole layers: the matrix (delta) form, proven equal to
the per-weight gradients, and the layer view of "Deep Learning from Scratch".

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
gradient; :func:`layer_view` and :func:`node_rules` read their rules off the
engine's results for small graphs, rather than stating them.
"""
from __future__ import annotations

import itertools
import operator
import random
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable, Mapping

import sympy
from sympy import (
    Eq, Expr, HadamardProduct, Idx, ImmutableMatrix, IndexedBase, Integer, Lambda,
    MatrixSymbol, Piecewise, Sum, Symbol,
)
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.matrixbase import MatrixBase

from . import functions
from .backprop import derive
from .derivation import Derivation
from .graph import Graph
from .notation import layer_label


class MatrixFormError(AssertionError):
    """A matrix-form entry that differs from the engine's per-weight gradient."""


# ---------------------------------------------------------------------------
# Matrix expressions the textbooks write and SymPy lacks (or prints badly).


class Partial(Expr):
    r"""The unevaluated partial derivative ``\frac{\partial of}{\partial wrt}`` of a scalar."""

    is_commutative = True

    def __new__(cls, of, wrt):
        return Expr.__new__(cls, sympy.sympify(of), sympy.sympify(wrt))

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % tuple(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return "d%s/d%s" % tuple(printer._print(a) for a in self.args)


class MatrixPartial(MatrixExpr):
    r"""``\frac{\partial C}{\partial W}``: the matrix of ``dC/dW_{jk}``, shaped like ``W``."""

    def __new__(cls, of, wrt):
        return MatrixExpr.__new__(cls, sympy.sympify(of), wrt)

    @property
    def shape(self):
        return self.args[1].shape

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % tuple(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return "d%s/d%s" % tuple(printer._print(a) for a in self.args)


class Elementwise(MatrixExpr):
    r"""``f(Z)`` (``order`` 0) or ``f'(Z)`` (``order`` 1), applied entry by entry;
    prints ``\sigma\left(z\right)``, ``\sigma'\left(z\right)``."""

    def __new__(cls, function: Lambda, matrix, order=0):
        return MatrixExpr.__new__(cls, function, matrix, Integer(order))

    function = property(lambda self: self.args[0])
    matrix = property(lambda self: self.args[1])
    order = property(lambda self: int(self.args[2]))
    shape = property(lambda self: self.matrix.shape)

    def scalar(self, value: Expr) -> Expr:
        """``f(value)`` or ``f'(value)``."""
        (variable,), body = self.function.variables, self.function.expr
        if self.order:
            body = body.diff(variable)
        return body.xreplace({variable: value})

    def _entry(self, i, j, **kwargs):
        return self.scalar(self.matrix[i, j])

    def doit(self, **hints):
        matrix = self.matrix.doit(**hints)
        if isinstance(matrix, MatrixBase):
            return ImmutableMatrix(matrix.applyfunc(self.scalar))
        return self.func(self.function, matrix, self.order)

    def _latex(self, printer):
        name = function_latex(self.function) + ("'" if self.order else "")
        return r"%s\left(%s\right)" % (name, printer._print(self.matrix))


class Softmax(MatrixExpr):
    r"""``softmax(Z)``, column by column: ``e^{z_k} / \sum_j e^{z_j}``."""

    def __new__(cls, matrix):
        return MatrixExpr.__new__(cls, matrix)

    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        column = [self.args[0][r, j] for r in range(self.shape[0])]
        return functions.softmax(Integer(i + 1), *column)

    def doit(self, **hints):
        matrix = self.args[0].doit(**hints)
        if isinstance(matrix, MatrixBase):
            return self.func(matrix).as_explicit()
        return self.func(matrix)

    def _latex(self, printer):
        return r"\operatorname{softmax}\left(%s\right)" % printer._print(self.args[0])


class Ones(MatrixExpr):
    r"""The all-ones matrix ``\mathbf{1}`` (SymPy's ``OneMatrix`` prints as a bare 1)."""

    def __new__(cls, rows, cols):
        return MatrixExpr.__new__(cls, sympy.sympify(rows), sympy.sympify(cols))

    shape = property(lambda self: self.args)

    def _entry(self, i, j, **kwargs):
        return sympy.S.One

    def doit(self, **hints):
        rows, cols = self.args
        if rows.is_Integer and cols.is_Integer:
            return ImmutableMatrix.ones(int(rows), int(cols))
        return self

    def _eval_transpose(self):
        return Ones(self.args[1], self.args[0])

    def _latex(self, printer):
        rows, cols = self.args
        return r"\mathbf{1}^{T}" if rows == 1 and cols != 1 else r"\mathbf{1}"


_FUNCTION_LATEX = {sympy.tanh: r"\tanh", sympy.exp: r"\exp"}


def function_latex(function: Lambda) -> str:
    """How an activation ``x -> f(x)`` is named in print: ``\\sigma``, ``\\tanh``, or ``f``."""
    body = function.expr
    if isinstance(body, sympy.Function) and body.args[:1] == function.variables:
        cls = type(body)
        return _FUNCTION_LATEX.get(cls) or getattr(cls, "latex_name", None) or r"\operatorname{%s}" % cls.__name__
    return "f"


# ---------------------------------------------------------------------------
# The symbolic matrix form.


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

#: nabla_a C for losses with a closed vector form, as a multiple of (a^L - t) given the width n_L.
_LOSS_GRADIENT_SCALE: dict[str, Callable[[Expr], Expr]] = {
    "half_sse": lambda n: sympy.S.One,
    "sse": lambda n: Integer(2),
    "mse": lambda n: 2 / n,
    "half_mse": lambda n: 1 / n,
}


@dataclass(frozen=True)
class _Activation:
    """How a layer's outputs come from its pre-activations: ``kind`` is
    ``elementwise`` (with ``function`` x -> f(x)), ``softmax`` or ``identity``."""

    kind: str
    function: Lambda | None = None


@dataclass(frozen=True)
class _LayerSymbols:
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
    activation: _Activation


@dataclass(frozen=True)
class _NetworkSymbols:
    layers: tuple[_LayerSymbols, ...]
    loss: Symbol
    m: Symbol
    t: MatrixSymbol
    T: MatrixSymbol
    grad_a: MatrixSymbol
    grad_A: MatrixSymbol
    j: Idx
    k: Idx
    i: Idx


def bias_mode(layer) -> str:
    """``none``, ``shared`` (one bias symbol for every unit) or ``per_unit``."""
    present = [b for b in layer.biases if b is not None]
    if not present:
        return "none"
    return "shared" if len(present) > 1 and len(set(present)) == 1 else "per_unit"


#: The bound variable of every activation Lambda: one Dummy, so that equal layers give equal forms.
_ACTIVATION_VARIABLE = sympy.Dummy("x", real=True)


def layer_activation(graph: Graph, layer) -> _Activation:
    """Read the activation off the graph: ``out_j = f(net_j)`` for every unit, one ``f``."""
    definitions = [graph.definition[out] for out in layer.outs]
    if all(d == net for d, net in zip(definitions, layer.nets)):
        return _Activation("identity")
    if all(isinstance(d, functions.softmax) for d in definitions):
        return _Activation("softmax")
    x = _ACTIVATION_VARIABLE
    candidates = {d.xreplace({net: x}) for d, net in zip(definitions, layer.nets)}
    if len(candidates) != 1 or next(iter(candidates)).free_symbols & set(layer.nets):
        raise ValueError(f"layer {layer.index} is not elementwise, softmax or identity: cannot write its matrix form")
    return _Activation("elementwise", Lambda(x, candidates.pop()))


def _superscript(network, layer: int) -> str:
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


def _width(network, layer: int) -> Symbol:
    return Symbol("n_{%s}" % _superscript(network, layer).strip("()"), integer=True, positive=True)


def network_symbols(network) -> _NetworkSymbols:
    """The matrix symbols of every layer, named in the network's notation."""
    net, out, target = _letters(network)
    m = Symbol("m", integer=True, positive=True)
    layers = []
    for layer in network.layers:
        l = layer.index
        sup, sup_prev = _superscript(network, l), _superscript(network, l - 1)
        n, n_prev = _width(network, l), _width(network, l - 1)
        mode = bias_mode(layer)
        bias = {"none": None, "shared": Symbol(f"b^{{{sup}}}"), "per_unit": MatrixSymbol(f"b^{{{sup}}}", n, 1)}[mode]
        layers.append(_LayerSymbols(
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
    return _NetworkSymbols(
        tuple(layers), loss, m, MatrixSymbol(target, last.n, 1), MatrixSymbol(target.upper(), last.n, m),
        MatrixSymbol(r"\nabla_{%s} %s" % (last.a.name, sympy.latex(loss)), last.n, 1),
        MatrixSymbol(r"\nabla_{%s} %s" % (last.A.name, sympy.latex(loss)), last.n, m),
        Idx("j"), Idx("k"), Idx("i"),
    )


def _activated(activation: _Activation, matrix):
    if activation.kind == "identity":
        return matrix
    if activation.kind == "softmax":
        return Softmax(matrix)
    return Elementwise(activation.function, matrix)


def _through_activation(activation: _Activation, upstream, z, a):
    """The delta of a layer given dC/da: ``upstream ⊙ f'(z)``, or the softmax Jacobian
    ``a ⊙ g - a a^T g`` (``diag(a) - a a^T`` times ``g``), or ``upstream`` for the identity."""
    if activation.kind == "identity":
        return upstream
    if activation.kind == "softmax":
        return HadamardProduct(a, upstream) - a * a.T * upstream
    return HadamardProduct(upstream, Elementwise(activation.function, z, 1))


def _fused_softmax_loss(network) -> bool:
    return network.loss == "softmax_cross_entropy"


def _delta_rhs(network, symbols: _NetworkSymbols, position: int, batch: bool):
    """delta^l (or Delta^l with ``batch``): BP1 for the output layer, BP2 for the others."""
    layer = symbols.layers[position]
    z, a, delta = (layer.Z, layer.A, None) if batch else (layer.z, layer.a, None)
    if position == len(symbols.layers) - 1:
        t, grad = (symbols.T, symbols.grad_A) if batch else (symbols.t, symbols.grad_a)
        if _fused_softmax_loss(network):
            # d/dz of -sum t log softmax(z) is softmax(z) - t (targets summing to one).
            return _difference(a if layer.activation.kind == "softmax" else Softmax(z), t)
        return _through_activation(layer.activation, grad, z, a)
    after = symbols.layers[position + 1]
    upstream = after.W.T * (after.Delta if batch else after.delta)
    return _through_activation(layer.activation, upstream, z, a)


def _layer_form(network, symbols: _NetworkSymbols, position: int, reduction: str) -> LayerForm:
    s = symbols.layers[position]
    C, output = symbols.loss, position == len(symbols.layers) - 1
    j, k, i = symbols.j, symbols.k, symbols.i
    scale = 1 / symbols.m if reduction == "mean" else sympy.S.One
    equations = [("forward_net", Eq(s.z, s.W * s.a_prev + _bias_term(s), evaluate=False)),
                 ("forward_out", Eq(s.a, _activated(s.activation, s.z), evaluate=False))]
    if output and network.loss in _LOSS_GRADIENT_SCALE:
        factor = _LOSS_GRADIENT_SCALE[network.loss](s.n)
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


def _bias_term(s: _LayerSymbols):
    if s.bias_mode == "none":
        return sympy.ZeroMatrix(*s.z.shape)
    if s.bias_mode == "shared":
        return s.b * Ones(s.n, 1)
    return s.b


def _batch_delta_exists(network, symbols: _NetworkSymbols, position: int) -> bool:
    """A batch delta is one matrix formula unless a softmax Jacobian (one per example) is in it."""
    layer = symbols.layers[position]
    fused_output = position == len(symbols.layers) - 1 and _fused_softmax_loss(network)
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


# ---------------------------------------------------------------------------
# Proof: the matrix form, instantiated, against the engine's per-weight gradients.


@dataclass(frozen=True)
class _Batch:
    """How a derivation's graph holds the network: ``examples`` copies (``name[i]``)
    whose losses are combined by ``reduction`` (``batched``), or the network itself."""

    examples: int
    reduction: str
    batched: bool

    def copy(self, symbol: Symbol, example: int) -> Symbol:
        if not self.batched:
            return symbol
        return Symbol(f"{symbol.name}[{example}]", **symbol.assumptions0)


def _batch_layout(network, graph: Graph) -> _Batch:
    """Whether ``graph`` is ``network.graph`` or ``nn.batched(network.graph, m, reduction)``."""
    if graph.output == network.output:
        return _Batch(1, "mean", False)
    known = set(graph.nodes)
    m = 0
    while Symbol(f"{network.output.name}[{m + 1}]", real=True) in known:
        m += 1
    if m == 0:
        raise ValueError("the derivation is neither of this network's graph nor of a batch of it")
    copies = [Symbol(f"{network.output.name}[{i}]", real=True) for i in range(1, m + 1)]
    total = graph.definition[graph.output].xreplace({c: sympy.S.One for c in copies})
    return _Batch(m, "mean" if total == 1 else "sum", True)


def _forward_names(graph: Graph) -> dict[Expr, Symbol]:
    """Each node's expression -> the node, so ``sigma(z)(1 - sigma(z))`` reads ``a(1 - a)``."""
    return {e.expr: e.node for e in graph.equations if not (e.expr.is_Symbol or e.expr.is_Number)}


def _column(symbols) -> ImmutableMatrix:
    return ImmutableMatrix(len(symbols), 1, list(symbols))


def _columns(per_example: list[ImmutableMatrix]) -> ImmutableMatrix:
    return ImmutableMatrix.hstack(*per_example)


def _evaluate(expr, mapping: Mapping, indexed: Mapping | None = None):
    """``expr`` with its symbols replaced by concrete matrices and numbers, worked out."""
    value = expr.xreplace(dict(mapping)).doit()
    if indexed:
        value = value.xreplace(dict(indexed))
    if isinstance(value, MatrixExpr) and not isinstance(value, MatrixBase):
        value = value.as_explicit()
    return ImmutableMatrix(value) if isinstance(value, MatrixBase) else value


class _Instance:
    """The concrete matrices of one network inside a derivation's graph."""

    def __init__(self, network, graph: Graph, batch: _Batch):
        self.network, self.graph, self.batch = network, graph, batch
        self.symbols = network_symbols(network)
        self.names = _forward_names(graph)

    def example(self, symbols, i: int) -> ImmutableMatrix:
        return _column([self.batch.copy(s, i) for s in symbols])

    def stacked(self, symbols) -> ImmutableMatrix:
        return _columns([self.example(symbols, i) for i in range(1, self.batch.examples + 1)])

    def loss_gradient(self, i: int) -> ImmutableMatrix:
        """nabla_a C of example ``i``: ``sympy.diff`` of its loss by each output, in forward quantities."""
        loss = self.graph.definition[self.batch.copy(self.network.output, i)]
        outs = self.network.layers[-1].outs
        return _column([loss.diff(self.batch.copy(o, i)).xreplace(self.names) for o in outs])

    def widths(self) -> dict[Symbol, Integer]:
        sizes = {self.symbols.m: Integer(self.batch.examples)}
        for s, layer in zip(self.symbols.layers, self.network.layers):
            sizes[s.n], sizes[s.n_prev] = Integer(len(layer.outs)), Integer(len(layer.inputs))
        return sizes

    def mapping(self, position: int, i: int | None) -> dict:
        """Symbols of layer ``position`` -> concrete matrices, for example ``i`` or (``None``) the batch."""
        s, layer = self.symbols.layers[position], self.network.layers[position]
        vector = (lambda syms: self.example(syms, i)) if i is not None else self.stacked
        a_prev, z, a = (s.a_prev, s.z, s.a) if i is not None else (s.A_prev, s.Z, s.A)
        mapping = {s.W: ImmutableMatrix(layer.weights), a_prev: vector(layer.inputs), z: vector(layer.nets),
                   a: vector(layer.outs), **self.widths()}
        if s.bias_mode == "per_unit":
            mapping[s.b] = _column(layer.biases)
        elif s.bias_mode == "shared":
            mapping[s.b] = layer.biases[0]
        if position == len(self.symbols.layers) - 1:
            t, grad = (self.symbols.t, self.symbols.grad_a) if i is not None else (self.symbols.T, self.symbols.grad_A)
            mapping[t] = vector(self.network.targets)
            examples = [i] if i is not None else range(1, self.batch.examples + 1)
            mapping[grad] = _columns([self.loss_gradient(e) for e in examples])
        else:
            after = self.network.layers[position + 1]
            mapping[self.symbols.layers[position + 1].W] = ImmutableMatrix(after.weights)
        return mapping


def _deltas(forms, instance: _Instance, i: int | None) -> dict[int, ImmutableMatrix]:
    """delta^l (example ``i``) or Delta^l (batch) for every layer, by the ``delta`` /
    ``batch_delta`` equations worked from the output layer down."""
    key = "delta" if i is not None else "batch_delta"
    symbols, deltas = instance.symbols.layers, {}
    for position in reversed(range(len(symbols))):
        mapping = instance.mapping(position, i)
        if position + 1 < len(symbols):
            after = symbols[position + 1]
            mapping[after.delta if i is not None else after.Delta] = deltas[position + 1]
        deltas[position] = _evaluate(forms[position][key].rhs, mapping).xreplace(instance.names)
    return deltas


def _batch_deltas(forms, instance: _Instance) -> dict[int, ImmutableMatrix]:
    """Delta^l by the batch equations when every layer has one, else column by column."""
    if all("batch_delta" in form for form in forms):
        return _deltas(forms, instance, None)
    columns = [_deltas(forms, instance, i) for i in range(1, instance.batch.examples + 1)]
    return {p: _columns([c[p] for c in columns]) for p in range(len(forms))}


def identically_zero(expr: Expr) -> bool:
    """True when ``expr`` expands to 0 as a polynomial in its symbols and function
    applications (``H(z)``, ``softmax(1, z)``), each taken as an unknown.

    The expansion runs in SymEngine (about 100x faster than ``sympy.expand`` on
    a hidden gradient); a function application standing for an unknown can only
    make a true identity look false, never a false one true.
    """
    import symengine

    unknowns = {f: sympy.Dummy() for f in expr.atoms(sympy.Function)}
    return symengine.expand(symengine.sympify(expr.xreplace(unknowns))) == 0


@dataclass
class _Comparer:
    """Decides whether two expressions in forward quantities are equal: by
    expansion when the gradient has few chain paths, else at random points
    evaluated at ``digits`` significant digits (the nodes worked out in graph order)."""

    derivation: Derivation
    method: str = "auto"
    points: int = 2
    digits: int = 40
    seed: int = 0
    max_expand_paths: int = 1024
    _environments: list | None = None

    def exact(self, parameter: Symbol) -> bool:
        if self.method != "auto":
            return self.method == "exact"
        return self.derivation.gradients[parameter].path_count <= self.max_expand_paths

    def equal(self, left: Expr, right: Expr, exact: bool) -> bool:
        if exact:
            return identically_zero(left - right)
        return all(self._close(self._value(left, env), self._value(right, env)) for env in self.environments())

    def environments(self) -> list[dict]:
        if self._environments is None:
            rng = random.Random(self.seed)
            self._environments = [self._environment(rng) for _ in range(self.points)]
        return self._environments

    def _environment(self, rng: random.Random) -> dict:
        graph = self.derivation.graph
        env = {s: sympy.Float(rng.uniform(-1, 1), self.digits) for s in (*graph.inputs, *graph.parameters)}
        for eq in graph.equations:
            env[eq.node] = self._value(eq.expr, env)
        return env

    def _value(self, expr: Expr, env: dict):
        return functions.elementary(sympy.sympify(expr)).xreplace(env).evalf(self.digits)

    def _close(self, left, right) -> bool:
        scale = max(1, abs(left), abs(right))
        return bool(abs(left - right) <= scale * sympy.Float(10) ** (8 - self.digits))


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
    batch = _batch_layout(network, derivation.graph)
    instance = _Instance(network, derivation.graph, batch)
    forms = matrix_form(network, reduction=batch.reduction)
    comparer = _Comparer(derivation, method, points, digits, seed)
    if batch.batched:
        deltas = _batch_deltas(forms, instance)
        for position, form in enumerate(forms):
            _check_gradients(form, instance, comparer, position, None, deltas[position])
        return
    _check_forward(forms, instance)
    deltas = _deltas(forms, instance, 1)
    for position, form in enumerate(forms):
        _check_loss_gradient(form, instance, position)
        _check_gradients(form, instance, comparer, position, 1, deltas[position])
        _check_index_form(form, instance, comparer, position, deltas[position])


def _fail(what: str, parameter: Symbol, matrix_value: Expr, engine_value: Expr):
    raise MatrixFormError(
        f"{what} ({parameter}): the matrix form gives {matrix_value}, the per-weight gradient is {engine_value}"
    )


def _compare(comparer: _Comparer, what: str, parameter: Symbol, matrix_value: Expr) -> None:
    engine_value = comparer.derivation.gradients[parameter].closed_form
    if not comparer.equal(matrix_value, engine_value, comparer.exact(parameter)):
        _fail(what, parameter, matrix_value, engine_value)


def _check_gradients(form: LayerForm, instance: _Instance, comparer: _Comparer, position: int,
                     i: int | None, delta: ImmutableMatrix) -> None:
    """dC/dW^l and dC/db^l by the (batch) gradient equations, entry by entry."""
    prefix = "" if i is not None else "batch_"
    s, layer = instance.symbols.layers[position], instance.network.layers[position]
    mapping = instance.mapping(position, i)
    mapping[s.delta if i is not None else s.Delta] = delta
    weights = _evaluate(form[prefix + "weight_gradient"].rhs, mapping)
    for (j, k), weight in _entries(layer.weights):
        _compare(comparer, f"layer {layer.index}: d{instance.network.output}/dW[{j + 1},{k + 1}]", weight, weights[j, k])
    if s.bias_mode == "none":
        return
    indexed = _indexed_entries(s.delta_indexed if i is not None else s.Delta_indexed, delta)
    biases = _evaluate(form[prefix + "bias_gradient"].rhs, mapping, indexed)
    if s.bias_mode == "shared":
        _compare(comparer, f"layer {layer.index}: d{instance.network.output}/db", layer.biases[0], biases)
        return
    for j, bias in enumerate(layer.biases):
        _compare(comparer, f"layer {layer.index}: d{instance.network.output}/db[{j + 1}]", bias, biases[j, 0])


def _entries(rows):
    return [((j, k), value) for j, row in enumerate(rows) for k, value in enumerate(row)]


def _indexed_entries(base: IndexedBase, matrix: ImmutableMatrix) -> dict:
    """``base[j]`` (vector) or ``base[j, i]`` (matrix), 1-based, -> the matrix entry."""
    if matrix.cols == 1:
        return {base[j + 1]: matrix[j, 0] for j in range(matrix.rows)}
    return {base[j + 1, i + 1]: matrix[j, i] for j in range(matrix.rows) for i in range(matrix.cols)}


def _check_index_form(form: LayerForm, instance: _Instance, comparer: _Comparer, position: int,
                      delta: ImmutableMatrix) -> None:
    """dC/dw^l_{jk} = a^{l-1}_k delta^l_j for every concrete j, k."""
    s, layer = instance.symbols.layers[position], instance.network.layers[position]
    indexed = {**_indexed_entries(s.delta_indexed, delta),
               **_indexed_entries(s.a_prev_indexed, _column(layer.inputs))}
    j, k = instance.symbols.j, instance.symbols.k
    for (row, col), weight in _entries(layer.weights):
        value = form["index_form"].rhs.xreplace({j: Integer(row + 1), k: Integer(col + 1)}).xreplace(indexed)
        _compare(comparer, f"layer {layer.index}: index form w[{row + 1},{col + 1}]", weight, value)


def _check_forward(forms, instance: _Instance) -> None:
    """The forward equations, instantiated, are the graph's definitions of z^l and a^l."""
    for position, form in enumerate(forms):
        layer, mapping = instance.network.layers[position], instance.mapping(position, 1)
        for key, nodes in (("forward_net", layer.nets), ("forward_out", layer.outs)):
            value = _evaluate(form[key].rhs, mapping)
            for j, node in enumerate(nodes):
                definition = instance.graph.definition[node]
                if not identically_zero(value[j, 0] - definition):
                    raise MatrixFormError(
                        f"layer {layer.index}: {key} gives {node} = {value[j, 0]}, the graph says {definition}"
                    )


def _check_loss_gradient(form: LayerForm, instance: _Instance, position: int) -> None:
    """nabla_a C in closed vector form equals sympy.diff of the loss by each output."""
    if "loss_gradient" not in form:
        return
    value = _evaluate(form["loss_gradient"].rhs, instance.mapping(position, 1))
    expected = instance.loss_gradient(1)
    for j in range(expected.rows):
        if not identically_zero(value[j, 0] - expected[j, 0]):
            raise MatrixFormError(
                f"loss gradient entry {j + 1}: the matrix form gives {value[j, 0]}, diff of the loss gives {expected[j, 0]}"
            )


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

_RULE_NAMES = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
               "softplus": "Softplus"}
_LOSS_NAMES = {"half_sse": "Half-Squared-Error-Loss", "sse": "Squared-Error-Loss", "mse": "Mean-Squared-Error-Loss",
               "half_mse": "Half-Mean-Squared-Error-Loss", "cross_entropy": "Cross-Entropy-Loss"}


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
    choices = [(symbolic, concrete) for symbolic, concrete in atoms]
    choices += [(symbolic.T, concrete.T) for symbolic, concrete in atoms]
    for length in range(1, max_factors + 1):
        for combination in itertools.product(choices, repeat=length):
            concretes = [c for _, c in combination]
            if any(a.cols != b.rows for a, b in zip(concretes, concretes[1:])):
                continue
            if (concretes[0].rows, concretes[-1].cols) != target.shape:
                continue
            if (reduce(operator.mul, concretes) - target).expand().is_zero_matrix:
                return reduce(operator.mul, [s for s, _ in combination])
    raise ValueError(f"no product of at most {max_factors} of the layer's matrices gives {target}")


def affine_rule(index: int, n_in: Symbol, n_out: Symbol, bias: str = "per_unit", superscript: str = "") -> LayerRule:
    r"""Affine: ``Y = X W + b`` (``b`` added to every row); backward read off the engine:
    ``dL/dX = dL/dY W^T``, ``dL/dW = X^T dL/dY``, ``dL/db = 1^T dL/dY`` (the sum over the batch)."""
    sup = superscript or f"({index})"
    X, Y = MatrixSymbol("X", BATCH, n_in), MatrixSymbol("Y", BATCH, n_out)
    W = MatrixSymbol(f"W^{{{sup}}}", n_in, n_out)
    b = {"per_unit": MatrixSymbol(f"b^{{{sup}}}", 1, n_out), "shared": Symbol(f"b^{{{sup}}}"), "none": None}[bias]
    ones = {size: Ones(size, 1) for size in (BATCH, n_in, n_out)}
    forward_rhs = X * W
    if bias == "per_unit":
        forward_rhs += ones[BATCH] * b
    elif bias == "shared":
        forward_rhs += b * Ones(BATCH, n_out)
    upstream = MatrixPartial(LOSS, Y)
    sizes = dict(zip((BATCH, n_in, n_out), map(Integer, _PROBE_SIZES)))
    concrete = {X: _symbol_matrix("x", *_PROBE_SIZES[:2]), W: _symbol_matrix("w", *_PROBE_SIZES[1:])}
    if bias == "per_unit":
        concrete[b] = _symbol_matrix("b", 1, _PROBE_SIZES[2])
    elif bias == "shared":
        concrete[b] = Symbol("b", real=True)
    outputs = _evaluate(forward_rhs, {**concrete, **sizes})
    wanted = [X, W] + ([b] if b is not None else [])
    # A shared bias is one symbol; as a 1x1 matrix it is read off like the others.
    as_matrix = {b: ImmutableMatrix([[concrete[b]]])} if bias == "shared" else {}
    gradients, dout = _probe_gradients(outputs, [as_matrix.get(s, concrete.get(s)) for s in wanted])
    atoms = [(X, concrete[X]), (W, concrete[W]), (upstream, dout)]
    atoms += [(ones[size], ImmutableMatrix.ones(int(sizes[size]), 1)) for size in ones]
    backward = []
    for symbol, derived in zip(wanted, gradients):
        lhs = Partial(LOSS, symbol) if bias == "shared" and symbol == b else MatrixPartial(LOSS, symbol)
        backward.append(Eq(lhs, read_off_product(derived, atoms), evaluate=False))
    return LayerRule("Affine", (Eq(Y, forward_rhs, evaluate=False),), tuple(backward), index)


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
    y = [Symbol(f"y_{k}", real=True) for k in range(1, len(last.outs) + 1)]
    t = [Symbol(f"t_{k}", real=True) for k in range(1, len(last.outs) + 1)]
    rename = {**dict(zip(last.outs, y)), **dict(zip(network.targets, t))}
    loss = network.graph.definition[network.output].xreplace(rename)
    derivation = derive(Graph.from_pairs([(LOSS, loss)], inputs=t, parameters=y, output=LOSS))
    derived = [derivation.gradients[v].closed_form for v in y]
    ys, ts = Symbol("y", real=True), Symbol("t", real=True)
    common = entrywise(derived, [{v: ys, target: ts} for v, target in zip(y, t)])
    if common is not None:
        backward = (Eq(Partial(LOSS, ys), common, evaluate=False),)
    else:
        backward = tuple(Eq(Partial(LOSS, v), g, evaluate=False) for v, g in zip(y, derived))
    name = _LOSS_NAMES.get(network.loss, "Loss")
    return LayerRule(name, (Eq(LOSS, loss, evaluate=False),), backward, last.index)


def layer_view(network) -> tuple[LayerRule, ...]:
    """Every layer as DLfS's layers: Affine, then its activation (or Softmax-with-Loss
    for a softmax output with fused cross-entropy, else the loss as a last layer)."""
    rules, last = [], network.layers[-1]
    for layer in network.layers:
        sup = _superscript(network, layer.index)
        n_in, n_out = _width(network, layer.index - 1), _width(network, layer.index)
        rules.append(affine_rule(layer.index, n_in, n_out, bias_mode(layer), sup))
        if layer is last and _fused_softmax_loss(network):
            rules.append(softmax_with_loss_rule(layer.index, n_out))
            break
        activation = layer_activation(network.graph, layer)
        if activation.kind == "elementwise":
            name = _RULE_NAMES.get(layer.activation, "Activation")
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
        for parent in graph.parents[node]:
            local = derivation.local[(node, parent)]
            kind = edge_kind(graph.definition[node], parent, local)
            rules.append(NodeRule(node, kind, parent, local, upstream * local))
    for symbol in (*graph.parameters, *graph.nodes):
        users = tuple(c for c in graph.consumers.get(symbol, ()) if c in adjoints)
        if len(users) < 2:
            continue
        gathered = adjoints[symbol].definition if symbol in adjoints else derivation.gradients[symbol].delta_form
        rules.append(NodeRule(symbol, "branch", None, sympy.S.One, gathered, users))
    return tuple(rules)


# ---------------------------------------------------------------------------
# JSON: per layer, the formulas as LaTeX and, with a worked example, the arrays.


def _latex(expr, graph=None) -> str:
    try:
        from .printing import latex
    except ImportError:  # the project printer is optional here
        return sympy.latex(expr)
    return latex(expr, graph)


def _number(example, symbol: Symbol, *tables: str) -> float:
    """The value of ``symbol`` in the example's tables (a batch's first example as ``name[1]``)."""
    first = Symbol(f"{symbol.name}[1]", **symbol.assumptions0)
    for table in tables:
        values = getattr(example, table)
        for key in (symbol, first):
            if key in values:
                return float(values[key])
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
        "b": None if bias_mode(layer) == "none" else vector(layer.biases, "values"),
        "a_prev": vector(layer.inputs, "forward", "values"),
        "z": vector(layer.nets, "forward"),
        "a": vector(layer.outs, "forward"),
        "delta": vector(layer.nets, "adjoints"),
        "dW": [vector(row, "gradients") for row in layer.weights],
        "db": vector(layer.bias_parameters, "gradients"),
    }


def layers_json(network, example=None) -> list[dict]:
    """Per layer: its shape, the matrix-form equations and the layer-view rules as LaTeX
    strings, and with a :class:`~symprop.numeric.WorkedExample` the arrays of :func:`layer_arrays`."""
    forms, rules, graph = matrix_form(network), layer_view(network), network.graph
    layers = []
    for form, layer in zip(forms, network.layers):
        entry = {
            "index": layer.index,
            "activation": layer.activation,
            "inputs": len(layer.inputs),
            "units": len(layer.outs),
            "bias": bias_mode(layer),
            "formulas": {key: _latex(equation, graph) for key, equation in form.equations},
            "layer_view": [
                {"name": rule.name, "forward": [_latex(e, graph) for e in rule.forward],
                 "backward": [_latex(e, graph) for e in rule.backward]}
                for rule in rules if rule.layer == layer.index
            ],
        }
        if example is not None:
            entry["arrays"] = layer_arrays(layer, example)
        layers.append(entry)
    return layers
