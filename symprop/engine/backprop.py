r"""The chain-rule engine: one reverse walk over the graph.

For a graph ``v_i = f_i(parents)`` with output ``E``:

* local derivatives ``dv/du = sympy.diff(f_v, u)`` for every parent ``u``,
  written in forward quantities (``sigma(net)`` becomes ``out``);
* adjoints ``delta_E = 1``, ``delta_u = sum_{v uses u} delta_v dv/du``, in
  reverse order;
* per parameter ``dE/dw = sum_{v uses w} delta_v dv/dw`` (the delta form),
  its closed form (deltas written out, kept factored as the walk nests
  them), and every path from ``E`` to ``w`` as a product of Leibniz factors,
  listed up to a bound.

The whole loss is never expanded unless asked for, and nothing here calls
``sympy.simplify`` (it does not finish on a 2-2-2 sigmoid network's
gradient): the only rewrite is ``factor_terms`` on each small local
derivative, so that ``2a - 2y`` reads ``2(a - y)``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from functools import cached_property, partial
from collections.abc import Iterable, Mapping

import sympy
from sympy.functions.elementary.miscellaneous import MinMaxBase
from sympy import Expr, Symbol

from symprop.engine.canonical import times, total
from symprop.model.collection import in_bulk
from symprop.engine.records import Adjoint, Derivation, Factor, Gradient, Path, Term, UnknownNameError
from symprop.engine.matrix_gradients import matrix_gradients
from symprop.errors import SympropError, WrongArgument
from symprop.model.graph import Graph, adjoint_symbol
from symprop.model.nn import Network
from symprop.model.stack import LayerStack

#: Paths listed per symbol before the derivation gives only their count.
DEFAULT_MAX_PATHS = 64


@in_bulk
def derive(
    network, *, parameters=None, inputs=None, wrt="parameters", max_paths: int = DEFAULT_MAX_PATHS,
    expand: bool = False, backend: str = "auto",
) -> Derivation:
    """Backpropagate through ``network`` (a :class:`~symprop.model.graph.Graph`, a
    :class:`~symprop.model.nn.Network`, a loaded file, or a bare SymPy expression) and
    return every parameter's gradient.

    A SymPy expression is taken apart by :meth:`Graph.from_expression
    <symprop.model.graph.Graph.from_expression>`: ``parameters`` (Symbols or names) are
    what gradients are taken for, ``inputs`` the data (any other symbol is an input).
    A Graph or a Network declares its own, so these two are for expressions only.

    ``wrt`` says which inputs get gradients too: ``"parameters"`` (none),
    ``"all"`` (every input, targets included) or a list of input names; they
    are in ``Derivation.input_gradients``. ``max_paths`` bounds how many
    chain-rule paths are listed per parameter (the count is always given);
    ``expand=True`` also writes each gradient in inputs and parameters only,
    which grows quickly with depth. ``backend`` ``"symengine"``
    differentiates large sums with SymEngine (same results, about 20x faster
    on wide layers), ``"sympy"`` never does, ``"auto"`` uses SymEngine when it
    is installed.
    """
    network = _network_or_graph(network, parameters, inputs)
    graph = network if isinstance(network, Graph) else network.graph
    refuse_absent_parameters(graph)
    wanted = inputs_wanted(graph, wrt)
    local = local_derivatives(graph, backend=backend, inputs=wanted)
    adjoints = adjoint_walk(graph, local)
    counts = path_counts(graph)
    expanded_nodes = graph.expanded_nodes if expand else None

    def gradient_of(symbol):
        return gradient(graph, local, adjoints, counts, symbol, max_paths, expanded_nodes)

    gradients = {p: gradient_of(p) for p in graph.parameters}
    input_gradients = {x: gradient_of(x) for x in wanted}
    matrices = matrix_gradients(graph, gradients) if graph.arrays else {}
    return Derivation(graph, local, adjoints, gradients, max_paths, None if network is graph else network,
                      input_gradients=input_gradients, matrix_gradients=matrices)


class UndifferentiableError(SympropError, ValueError):
    """What symprop cannot differentiate (a parameter the graph never uses, an
    expression SymPy leaves unevaluated), said in one line rather than given a zero."""


def refuse_absent_parameters(graph: Graph) -> None:
    """A parameter that no equation uses has no gradient to give: refused, naming it, rather
    than reported as 0. (One that is used, but only off the output's paths, gets its true
    zero; so does an entry of a matrix the graph uses, such as ``W[1, 0]`` when only row 0
    is read.)"""
    consumers = graph.consumers
    used = {p for p in graph.parameters if consumers[p] or p == graph.output}
    owner = graph.arrays.entry_owner if graph.arrays else {}
    used_matrices = {owner[s] for s in used if s in owner}
    for p in graph.parameters:
        if p not in used and (p not in owner or owner[p] not in used_matrices):
            name = owner.get(p, p)
            raise UndifferentiableError(f"parameter {name} occurs in no node: it does not reach the output {graph.output}"
                                        "; remove it from the parameters or use it")


def inputs_wanted(graph: Graph, wrt) -> tuple[Symbol, ...]:
    """The inputs ``wrt`` asks gradients for, in the graph's input order."""
    if isinstance(wrt, str):
        if wrt == "parameters":
            return ()
        if wrt == "all":
            return graph.inputs
        raise WrongArgument("derive", 'wrt as "parameters", "all" or a list of input names', wrt)
    names = [getattr(w, "name", w) for w in wrt]
    by_name = {x.name: x for x in graph.inputs}
    for name in names:
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            raise UnknownNameError(f"wrt: {name} is not an input of the graph (inputs: {known}); parameters always "
                                   "get gradients")
    wanted = set(names)
    return tuple(x for x in graph.inputs if x.name in wanted)


def _network_or_graph(value, parameters=None, inputs=None):
    """``value`` when it is a Graph or a Network; a loaded file (a Problem) gives its own; a
    SymPy expression becomes its graph, with ``parameters`` and ``inputs`` (for expressions
    only); anything else is refused in one line."""
    if isinstance(value, (sympy.Basic, sympy.MatrixBase)):
        return Graph.from_expression(value, parameters=parameters, inputs=inputs)
    if parameters is not None or inputs is not None:
        given = "parameters" if parameters is not None else "inputs"
        raise WrongArgument("derive", f"{given}= only with a SymPy expression", value,
                            "a Graph, a Network or a loaded file declares its own parameters and inputs")
    if isinstance(value, (Graph, Network, LayerStack)):
        return value
    if isinstance(getattr(value, "graph", None), Graph) and hasattr(value, "values"):  # a Problem (symprop.load)
        return value.network or value.graph
    hint = ("a string is not parsed: build a Graph, or load a network file with symprop.loads"
            if isinstance(value, str) else "build one with symprop.nn.mlp or symprop.Graph, or load a file with "
            "symprop.load")
    raise WrongArgument("derive", "a Graph, a Network or a SymPy expression", value, hint)


def local_derivatives(
    graph: Graph, backend: str = "auto", inputs: Iterable[Symbol] = ()
) -> dict[tuple[Symbol, Symbol], Expr]:
    """``(v, u) -> dv/du`` for every node ``v`` and every node or parameter ``u`` it uses
    (and every one of ``inputs`` it uses), in forward quantities."""
    forward_names = graph.forward_names
    diff_each = _differentiator(graph, backend)
    wanted = set(inputs)
    local = {}
    for eq in graph.equations:
        parents = graph.parents[eq.node]
        if wanted:
            used = eq.expr.free_symbols & wanted
            parents = (*parents, *(x for x in graph.inputs if x in used))
        for parent, derivative in diff_each(eq.expr, parents).items():
            if not derivative.is_Atom and derivative.has(sympy.Derivative, sympy.Subs):
                left = min(derivative.atoms(sympy.Derivative, sympy.Subs), key=sympy.count_ops)
                raise UndifferentiableError(f"node {eq.node} has no closed-form derivative by {parent}: SymPy leaves "
                                            f"{left} unevaluated; use functions SymPy or symprop differentiates")
            local[(eq.node, parent)] = _in_forward_quantities(derivative, forward_names)
    return local


def _in_forward_quantities(derivative: Expr, forward_names: dict[Expr, Symbol]) -> Expr:
    if derivative.is_Atom:  # the common case in wide layers: a weight or an activation
        return derivative
    named = derivative.xreplace(forward_names)
    # SymPy distributes a number over a sum (2a - 2y); factor it back out: 2(a - y).
    return sympy.factor_terms(named) if named.is_Add else named


#: Sums with more terms than this are differentiated with SymEngine when it is used.
SYMENGINE_MIN_TERMS = 16


def _differentiator(graph: Graph, backend: str):
    """The ``_diff_each`` to use: SymPy's, or SymEngine's for wide sums."""
    if backend not in ("auto", "sympy", "symengine"):
        raise ValueError(f"unknown backend {backend!r}: expected auto, sympy or symengine")
    if backend == "sympy":
        return _diff_each
    if backend == "symengine":
        import symengine  # noqa: F401  (asked for by name: its absence is the caller's error)
    # "auto" reads a dense layer's sums off directly (faster than either library) and imports
    # SymEngine only for another wide sum; an explicit "symengine" differentiates every wide sum
    # in SymEngine, so that the two can be compared.
    read_off = _affine_derivatives if backend == "auto" else lambda expr, symbols: None
    by_name: dict[str, Symbol] = {}

    def diff_each(expr, symbols):
        # Only function-free sums (a dense layer's affine map): SymEngine differentiates
        # our activations, Heaviside, Max, Abs, sign, ... to 0 or leaves them unevaluated.
        if expr.is_Add and len(expr.args) > SYMENGINE_MIN_TERMS and not expr.has(sympy.core.function.Application):
            direct = read_off(expr, symbols)
            if direct is not None:
                return direct
            symengine = _symengine()
            if symengine is not None:
                if not by_name:
                    by_name.update({s.name: s for s in (*graph.inputs, *graph.parameters, *graph.nodes)})
                return _diff_each_symengine(symengine, expr, symbols, by_name)
        return _diff_each(expr, symbols)

    return diff_each


def _symengine():
    """The symengine module, or None when it is not installed."""
    try:
        import symengine
    except ImportError:
        return None
    return symengine


def _diff_each_symengine(symengine, expr: Expr, symbols, by_name) -> dict[Symbol, Expr]:
    """As :func:`_diff_each`, term by term in SymEngine, results mapped back to the
    graph's own SymPy symbols (SymEngine drops their ``real`` assumption)."""
    wanted = {symengine.Symbol(s.name): s for s in symbols}
    parts: dict[Symbol, list[Expr]] = defaultdict(list)
    for term in symengine.sympify(expr).args:
        for s in term.free_symbols & wanted.keys():
            parts[wanted[s]].append(_to_sympy(term.diff(s), by_name))
    return {s: sympy.Add(*parts[s]) for s in symbols}


def _to_sympy(expr, by_name: dict[str, Symbol]) -> Expr:
    if expr.is_Symbol:
        return by_name[expr.name]
    if expr.is_Number:
        return sympy.sympify(expr)
    return sympy.sympify(expr).xreplace({sympy.Symbol(n): s for n, s in by_name.items()})


def _diff_each(expr: Expr, symbols: tuple[Symbol, ...]) -> dict[Symbol, Expr]:
    """``{s: d expr/ds}`` in one pass over ``expr``.

    A sum is differentiated term by term, each term only by the symbols it
    holds: a dense layer's ``sum_k w_k a_k`` costs one small ``diff`` per term
    instead of one walk over the whole sum per symbol.
    """
    if _applied_to_symbols(expr):
        # The chain rule with d(arg)/d(arg) = 1: the function's own derivative rule.
        position = {arg: i for i, arg in enumerate(expr.args, start=1)}
        return {s: expr.fdiff(position[s]) for s in symbols}
    if not expr.is_Add:
        return {s: expr.diff(s) for s in symbols}
    direct = _affine_derivatives(expr, symbols)
    if direct is not None:
        return direct
    wanted = set(symbols)
    parts: dict[Symbol, list[Expr]] = defaultdict(list)
    for term in expr.args:
        for s in term.free_symbols & wanted:
            parts[s].append(_term_derivative(term, s))
    return {s: sympy.Add(*parts[s]) for s in symbols}


def _affine_derivatives(expr: Expr, symbols: tuple[Symbol, ...]) -> dict[Symbol, Expr] | None:
    """``{s: d expr/ds}`` for a sum of plain symbols and products of two plain symbols (a
    dense layer's ``sum_k w_k a_k + b``), read off term by term: ``d(w a)/dw = a``,
    ``db/db = 1``, a symbol in several terms the sum of their parts (as ``diff`` gives
    them). None for any other sum."""
    wanted = set(symbols)
    parts: dict[Symbol, list[Expr]] = defaultdict(list)
    for term in expr.args:
        if term.is_Symbol and term.is_commutative:
            if term in wanted:
                parts[term].append(sympy.S.One)
        elif term.is_Mul and len(term.args) == 2 and term.is_commutative:
            a, b = term.args
            if not (a.is_Symbol and b.is_Symbol):
                return None
            if a in wanted:
                parts[a].append(b)
            if b in wanted:
                parts[b].append(a)
        else:
            return None
    return {s: total(parts[s]) if s in parts else sympy.S.Zero for s in symbols}


def _term_derivative(term: Expr, symbol: Symbol) -> Expr:
    """``d term / d symbol``; for a product holding ``symbol`` once as a plain factor and
    nowhere else (a dense layer's ``w a``), the other factors, read off without SymPy's
    general product rule: in their canonical order, as ``diff`` would give them."""
    if term.is_Mul and term.is_commutative:
        args = term.args
        others = tuple(a for a in args if a != symbol)
        if len(others) == len(args) - 1 and not any(a.has(symbol) for a in others):
            return others[0] if len(others) == 1 else sympy.Mul._from_args(others)
    return term.diff(symbol)


def _applied_to_symbols(expr: Expr) -> bool:
    """``f(u_1, ..., u_n)`` with distinct symbols (and constants) as its arguments; ``Max``
    and ``Min`` too, whose derivative SymPy also takes argument by argument from ``fdiff``."""
    if not isinstance(expr, (sympy.Function, MinMaxBase)):
        return False
    symbols = [a for a in expr.args if not a.is_Number]
    return all(a.is_Symbol for a in symbols) and len(set(symbols)) == len(symbols)


def adjoint_walk(graph: Graph, local: Mapping[tuple[Symbol, Symbol], Expr]) -> dict[Symbol, Adjoint]:
    """Adjoints of every node the output depends on, output first (reverse order).

    ``delta_E = 1``; ``delta_u = sum_{v uses u} delta_v * dv/du``, one
    :class:`Term` per consumer ``v``.
    """
    adjoints: dict[Symbol, Adjoint] = {}
    closed_forms = ClosedForms(graph, local)
    for node in reversed(graph.nodes):
        if node not in graph.reachable:
            continue
        terms = () if node == graph.output else consumer_terms(graph, local, adjoints, node)
        adjoints[node] = Adjoint(node, adjoint_symbol(node), terms, closed_forms)
    return adjoints


def consumer_terms(graph: Graph, local, adjoints: Mapping[Symbol, Adjoint], symbol: Symbol) -> tuple[Term, ...]:
    """``delta_c * dc/dsymbol`` for every consumer ``c`` of ``symbol`` that leads to the
    output, in graph order; ``delta_c`` is 1 when ``c`` is the output."""
    return tuple(
        Term(c, local[(c, symbol)], sympy.S.One if c == graph.output else adjoints[c].symbol, adjoints[c].closed_forms)
        for c in graph.users(symbol)
        if c in adjoints
    )


class ClosedForms(Mapping):
    """node -> its adjoint in forward quantities, ``delta_u = sum_v delta_v dv/du`` with
    every delta written out; all built in one reverse pass on first use, so a
    derivation that is never asked for them does not pay for them."""

    def __init__(self, graph: Graph, local: Mapping[tuple[Symbol, Symbol], Expr]):
        self.graph, self.local = graph, local

    @cached_property
    @in_bulk
    def forms(self) -> dict[Symbol, Expr]:
        graph, local = self.graph, self.local
        forms = {graph.output: sympy.S.One}
        for node in reversed(graph.nodes):
            if node in graph.reachable and node not in forms:
                users = [c for c in graph.consumers[node] if c in forms]
                forms[node] = total([times(forms[c], local[(c, node)]) for c in users])
        return forms

    def __getitem__(self, node: Symbol) -> Expr:
        return self.forms[node]

    def __iter__(self):
        return iter(self.forms)

    def __len__(self):
        return len(self.forms)


def path_counts(graph: Graph) -> dict[Symbol, int]:
    """Number of chain-rule paths from the output to each node and parameter."""
    counts: dict[Symbol, int] = defaultdict(int)
    counts[graph.output] = 1
    for node in reversed(graph.nodes):
        for parent in graph.parents[node]:
            counts[parent] += counts[node]
    return counts


def input_path_count(graph: Graph, counts: Mapping[Symbol, int], symbol: Symbol) -> int:
    """Paths from the output to an input: the paths to each node that uses it."""
    return sum(counts.get(c, 0) for c in graph.input_consumers.get(symbol, ()))


def gradient(graph, local, adjoints, counts, symbol, max_paths, expanded_nodes=None) -> Gradient:
    """The :class:`Gradient` of the output with respect to ``symbol`` (a parameter or a node)."""
    terms = consumer_terms(graph, local, adjoints, symbol)
    count = counts[symbol] if symbol in counts else input_path_count(graph, counts, symbol)
    result = Gradient(
        symbol, graph.output, terms, count, max_paths,
        list_paths=partial(chain_paths, graph, local, symbol),
    )
    if expanded_nodes is None:
        return result
    return replace(result, expanded=result.closed_form.xreplace(expanded_nodes))


def chain_paths(graph: Graph, local: Mapping[tuple[Symbol, Symbol], Expr], symbol: Symbol) -> Iterable[Path]:
    """Every path from the output down to ``symbol``, output first, in graph order."""
    if symbol == graph.output:
        yield Path(())
        return
    for consumer in graph.users(symbol):
        if consumer not in graph.reachable:
            continue
        step = Factor(consumer, symbol, local[(consumer, symbol)])
        for path in chain_paths(graph, local, consumer):
            yield Path((*path.factors, step))


def node_gradient(derivation: Derivation, node: Symbol | str, *, max_paths: int | None = None) -> Gradient:
    """``d output / d node`` for any node, parameter or input (3Blue1Brown's
    ``dC/da^{(L-1)}``, Saito's ``d price / d apple``), as a :class:`Gradient`."""
    graph = derivation.graph
    symbol = next((s for s in (*graph.nodes, *graph.parameters, *graph.inputs) if s == node or s.name == node), None)
    if symbol is None:
        raise UnknownNameError(f"{node} is not a node, parameter or input of the graph")
    bound = derivation.max_paths if max_paths is None else max_paths
    local = derivation.local
    if symbol in graph.inputs and symbol not in derivation.input_gradients:
        local = {**local, **_input_local(graph, symbol)}
    return gradient(graph, local, derivation.adjoints, path_counts(graph), symbol, bound)


def _input_local(graph: Graph, symbol: Symbol) -> dict[tuple[Symbol, Symbol], Expr]:
    """``(v, x) -> dv/dx`` for the nodes ``v`` that use the input ``x``."""
    return {(v, symbol): _in_forward_quantities(_diff_each(graph.definition[v], (symbol,))[symbol], graph.forward_names)
            for v in graph.input_consumers[symbol]}
