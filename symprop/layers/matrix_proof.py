"""The proof of the matrix form: its equations, instantiated for a concrete network,
against the engine's per-weight gradients, entry by entry.

``W^l`` becomes the matrix of the layer's weight symbols, ``a^{l-1}``, ``z^l``
and ``a^l`` the columns of its nodes (one per example in a batch), ``f'(z)`` a
formula in forward quantities; the delta recurrence is worked out from the
output layer down, and every entry of ``dC/dW^l`` and ``dC/db^l`` is compared
with ``derivation[w].closed_form``: by expansion when the gradient has few
chain paths, else at random points with many digits.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
import sympy
from sympy import Expr, ImmutableMatrix, IndexedBase, Integer, Symbol

from symprop.errors import FailedCheck
from symprop.model import functions
from symprop.engine.records import Derivation
from symprop.model.graph import Graph
from symprop.layers.layer_symbols import network_symbols
from symprop.layers.matrix_expressions import work_out


class MatrixFormError(FailedCheck, AssertionError):
    """A matrix-form entry that differs from the engine's per-weight gradient."""


@dataclass(frozen=True)
class Batch:
    """How a derivation's graph holds the network: ``examples`` copies (``name[i]``)
    whose losses are combined by ``reduction`` (``batched``), or the network itself."""

    examples: int
    reduction: str
    batched: bool

    def copy(self, symbol: Symbol, example: int) -> Symbol:
        if not self.batched:
            return symbol
        return Symbol(f"{symbol.name}[{example}]", **symbol.assumptions0)


def batch_layout(network, graph: Graph) -> Batch:
    """Whether ``graph`` is ``network.graph`` or ``nn.batched(network.graph, m, reduction)``."""
    if graph.output == network.output:
        return Batch(1, "mean", False)
    known = set(graph.nodes)
    m = 0
    while Symbol(f"{network.output.name}[{m + 1}]", real=True) in known:
        m += 1
    if m == 0:
        raise ValueError("the derivation is neither of this network's graph nor of a batch of it")
    copies = [Symbol(f"{network.output.name}[{i}]", real=True) for i in range(1, m + 1)]
    total = graph.definition[graph.output].xreplace({c: sympy.S.One for c in copies})
    return Batch(m, "mean" if total == 1 else "sum", True)


def _column(symbols) -> ImmutableMatrix:
    return ImmutableMatrix(len(symbols), 1, list(symbols))


def _columns(per_example: list[ImmutableMatrix]) -> ImmutableMatrix:
    return ImmutableMatrix.hstack(*per_example)


class _Instance:
    """The concrete matrices of one network inside a derivation's graph."""

    def __init__(self, network, graph: Graph, batch: Batch):
        self.network, self.graph, self.batch = network, graph, batch
        self.symbols = network_symbols(network)
        self.names = graph.forward_names

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
        memo: dict = {}
        deltas[position] = work_out(forms[position][key].rhs, mapping).applyfunc(
            lambda entry: shared_xreplace(entry, instance.names, memo))
    return deltas


def _batch_deltas(forms, instance: _Instance) -> dict[int, ImmutableMatrix]:
    """Delta^l by the batch equations when every layer has one, else column by column."""
    if all("batch_delta" in form for form in forms):
        return _deltas(forms, instance, None)
    columns = [_deltas(forms, instance, i) for i in range(1, instance.batch.examples + 1)]
    return {p: _columns([c[p] for c in columns]) for p in range(len(forms))}


def shared_xreplace(expr: Expr, rule: dict, memo: dict) -> Expr:
    """``expr.xreplace(rule)`` visiting each distinct sub-expression once (``memo``).

    A deep network's closed forms are DAGs whose trees grow exponentially with
    depth; SymPy's ``xreplace`` walks the tree.
    """
    if expr in rule:
        return rule[expr]
    if expr in memo:
        return memo[expr]
    args = tuple(shared_xreplace(a, rule, memo) for a in expr.args)
    result = expr.func(*args) if args != expr.args else expr
    memo[expr] = result
    return result


def value_at(expr: Expr, values: dict, digits: int):
    """The value of ``expr`` with ``values`` (symbol -> Float) plugged in, each distinct
    sub-expression worked out once and kept in ``values``: each of symprop's functions
    from its elementary definition, at ``digits`` significant digits."""
    if expr in values:
        return values[expr]
    if not expr.args:
        return expr
    result = expr.func(*[value_at(a, values, digits) for a in expr.args])
    if isinstance(result, Expr) and not result.is_Number:
        result = functions.elementary(result).evalf(digits)  # a small node: its arguments are numbers
    values[expr] = result
    return result


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
        """``expr`` at the point ``env``, which also memoises every sub-expression's value."""
        return value_at(sympy.sympify(expr), env, self.digits)

    def _close(self, left, right) -> bool:
        scale = max(1, abs(left), abs(right))
        return bool(abs(left - right) <= scale * sympy.Float(10) ** (8 - self.digits))


def check_forms(forms, network, derivation: Derivation, batch: Batch, *, method: str = "auto", points: int = 2,
                digits: int = 40, seed: int = 0) -> None:
    """Compare every entry of the instantiated ``forms`` with the engine's gradients.

    One example: the forward equations, then per layer the loss gradient,
    dC/dW^l and dC/db^l through the delta recurrence, and the index form. A
    batch: dC/dW^l and dC/db^l by the batch equations. ``method`` as for
    :func:`symprop.layers.matrix.verify_matrix_form`. Raises :class:`MatrixFormError`
    naming the first entry that differs.
    """
    instance = _Instance(network, derivation.graph, batch)
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


def _check_gradients(form, instance: _Instance, comparer: _Comparer, position: int,
                     i: int | None, delta: ImmutableMatrix) -> None:
    """dC/dW^l and dC/db^l by the (batch) gradient equations, entry by entry."""
    prefix = "" if i is not None else "batch_"
    s, layer = instance.symbols.layers[position], instance.network.layers[position]
    mapping = instance.mapping(position, i)
    mapping[s.delta if i is not None else s.Delta] = delta
    weights = work_out(form[prefix + "weight_gradient"].rhs, mapping)
    for (j, k), weight in _entries(layer.weights):
        _compare(comparer, f"layer {layer.index}: d{instance.network.output}/dW[{j + 1},{k + 1}]", weight, weights[j, k])
    if s.bias_mode == "none":
        return
    indexed = _indexed_entries(s.delta_indexed if i is not None else s.Delta_indexed, delta)
    biases = work_out(form[prefix + "bias_gradient"].rhs, mapping, indexed)
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


def _check_index_form(form, instance: _Instance, comparer: _Comparer, position: int,
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
            value = work_out(form[key].rhs, mapping)
            for j, node in enumerate(nodes):
                definition = instance.graph.definition[node]
                if not identically_zero(value[j, 0] - definition):
                    raise MatrixFormError(
                        f"layer {layer.index}: {key} gives {node} = {value[j, 0]}, the graph says {definition}"
                    )


def _check_loss_gradient(form, instance: _Instance, position: int) -> None:
    """nabla_a C in closed vector form equals sympy.diff of the loss by each output."""
    if "loss_gradient" not in form:
        return
    value = work_out(form["loss_gradient"].rhs, instance.mapping(position, 1))
    expected = instance.loss_gradient(1)
    for j in range(expected.rows):
        if not identically_zero(value[j, 0] - expected[j, 0]):
            raise MatrixFormError(
                f"loss gradient entry {j + 1}: the matrix form gives {value[j, 0]}, diff of the loss gives {expected[j, 0]}"
            )
