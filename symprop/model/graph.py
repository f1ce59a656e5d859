"""A network as an ordered list of equations ``node = expression``.

Like a jaxpr, each node is assigned once, from inputs, parameters and nodes
assigned before it. Any SymPy expression graph is a network: ``q = x + y;
f = q z`` as much as a deep MLP, and one node may feed several others.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Iterable, Mapping

import sympy
from sympy import Expr, Symbol

from symprop.errors import SympropError
from symprop.model import matrices
from symprop.model.decompose import ExpressionNetworkError, expression_network
from symprop.model.tex_names import distinct_names, first_clash, symbol_tex


class GraphError(SympropError, ValueError):
    """A graph that breaks the rules above: said in one line, naming the culprit."""


@dataclass(frozen=True)
class Equation:
    """``node = expr``."""

    node: Symbol
    expr: Expr

    def __iter__(self):
        return iter((self.node, self.expr))


@dataclass(frozen=True)
class Graph:
    """Equations in evaluation order, over ``inputs`` (data) and ``parameters``.

    ``output`` is the node whose gradient is taken: a loss, or any output.
    Construction checks that every name is assigned once and only refers to
    what came before it. An input that is also a parameter is a parameter:
    gradients are taken for it. Matrix inputs, parameters and nodes (``MatrixSymbol``,
    ``Matrix``) are split into their scalar entries (``W[0, 1]``, set as ``W_{0,1}``);
    ``arrays`` records which entries form which matrix (:mod:`symprop.model.matrices`).
    """

    inputs: tuple[Symbol, ...]
    parameters: tuple[Symbol, ...]
    equations: tuple[Equation, ...]
    output: Symbol
    latex_names: Mapping[Symbol, str] = field(default_factory=dict, compare=False)
    arrays: matrices.Arrays = field(default_factory=matrices.Arrays, compare=False)

    def __post_init__(self):
        _split_matrices(self)
        object.__setattr__(self, "parameters", tuple(self.parameters))
        parameters = set(self.parameters)  # a set: a 784-16-10 network has 12,730 of them
        object.__setattr__(self, "inputs", tuple(s for s in self.inputs if s not in parameters))
        equations = (e if isinstance(e, Equation) else Equation(*e) for e in self.equations)
        object.__setattr__(
            self, "equations", tuple(Equation(e.node, sympy.sympify(e.expr, strict=True)) for e in equations)
        )
        _check_graph(self)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Symbol, Expr]], *, inputs=(), parameters=(), output=None, latex_names=None):
        """A graph from ``(node, expression)`` pairs; the output defaults to the last node."""
        equations = tuple(Equation(node, sympy.sympify(expr)) for node, expr in pairs)
        if output is None:
            if not equations:
                raise GraphError("the graph has no nodes: give at least one equation")
            output = equations[-1].node
        return cls(tuple(inputs), tuple(parameters), equations, output, dict(latex_names or {}))

    @classmethod
    def from_expression(cls, expr, *, parameters=None, inputs=None, output=None) -> "Graph":
        """The computational graph of a bare scalar SymPy expression: one node per sum,
        product, power and function application, shared sub-expressions one node, common
        spellings of activations (``1/(1 + exp(-z))``) as symprop's activations.

        ``parameters`` (required) are what gradients are taken for and ``inputs`` the
        data, as Symbols or names; any other symbol of ``expr`` is an input.
        ``output`` names the output node (default ``f``, or ``f1``, ... when ``expr``
        has a symbol ``f``). See :mod:`symprop.model.decompose`.

        An expression over matrices (``MatrixSymbol``, ``Matrix``: ``(W*x + b - y).T*(W*x + b - y)``,
        ``Trace(A*X*B)``) is first written out over their entries (:func:`matrices.explicit_entries`),
        a matrix declared by itself or its name; its gradient then has its matrix form too.
        """
        if matrices.has_matrices(expr):
            return cls._from_matrix_expression(expr, parameters, inputs, output)
        try:
            network = expression_network(expr, parameters=parameters, inputs=inputs, output=output)
        except ExpressionNetworkError as error:
            raise GraphError(str(error)) from None
        return cls.from_pairs(network.pairs, inputs=network.inputs, parameters=network.parameters,
                              output=network.output, latex_names=network.latex_names)

    @classmethod
    def _from_matrix_expression(cls, expr, parameters, inputs, output) -> "Graph":
        """:meth:`from_expression` of an expression holding matrices: decomposed over the
        entries, each matrix then declared as a whole, the expression kept for the output."""
        try:
            scalar, arrays = matrices.explicit_entries(expr)
        except matrices.MatrixError as error:
            raise GraphError(str(error)) from None
        if isinstance(scalar, sympy.MatrixBase):
            raise GraphError(f"the expression is a {scalar.rows}x{scalar.cols} matrix: expected a scalar (a loss, a "
                             "trace, a 1x1 product or one entry)")
        owners = {r.name: r for r in arrays.records.values()}
        used = scalar.free_symbols

        def entries(declared):
            """The declared names with each matrix (or its name) stood for by the entries the
            expression reads (an entry it never reads keeps its true gradient, 0)."""
            found = []
            for item in declared or ():
                record = owners.get(getattr(item, "name", item))
                if record is None:
                    found.append(item)
                    continue
                read = [e for e in record.entries if e in used]
                if not read:
                    raise GraphError(f"{record.name} is declared but the expression reads none of its entries")
                found += read
            return found

        try:
            network = expression_network(scalar, parameters=None if parameters is None else entries(parameters),
                                         inputs=entries(inputs), output=output)
        except ExpressionNetworkError as error:
            raise GraphError(str(error)) from None
        owner = arrays.entry_owner

        def as_matrices(symbols):
            wholes = [owners[owner[s]].written if s in owner else s for s in symbols]
            return list(dict.fromkeys(wholes))

        graph = cls.from_pairs(network.pairs, inputs=as_matrices(network.inputs),
                               parameters=as_matrices(network.parameters), output=network.output,
                               latex_names=network.latex_names)
        return replace(graph, arrays=graph.arrays.with_written({graph.output: expr}))

    @cached_property
    def nodes(self) -> tuple[Symbol, ...]:
        return tuple(e.node for e in self.equations)

    @cached_property
    def definition(self) -> dict[Symbol, Expr]:
        """node -> its expression."""
        return {e.node: e.expr for e in self.equations}

    @cached_property
    def parents(self) -> dict[Symbol, tuple[Symbol, ...]]:
        """node -> the nodes and parameters its expression uses, in a stable order."""
        known = set(self.nodes) | set(self.parameters)
        return {e.node: _ordered_free(e.expr, known) for e in self.equations}

    @cached_property
    def applied_functions(self) -> tuple[Expr, ...]:
        """Every function application of the definitions (``sigma(net_{h1})``), each once, in graph order."""
        return tuple(dict.fromkeys(sub for e in self.equations for sub in preorder(e.expr)
                                   if isinstance(sub, sympy.Function)))

    @cached_property
    def consumers(self) -> dict[Symbol, tuple[Symbol, ...]]:
        """node or parameter -> the nodes whose expressions use it, in graph order."""
        users: dict[Symbol, list[Symbol]] = {s: [] for s in (*self.parameters, *self.nodes)}
        for node in self.nodes:
            for parent in self.parents[node]:
                users[parent].append(node)
        return {s: tuple(u) for s, u in users.items()}

    @cached_property
    def input_consumers(self) -> dict[Symbol, tuple[Symbol, ...]]:
        """input -> the nodes whose expressions use it, in graph order: for gradients with
        respect to inputs, which :attr:`parents` and :attr:`consumers` leave out."""
        inputs = set(self.inputs)
        users: dict[Symbol, list[Symbol]] = {s: [] for s in self.inputs}
        for eq in self.equations:
            for symbol in _ordered_free(eq.expr, inputs):
                users[symbol].append(eq.node)
        return {s: tuple(u) for s, u in users.items()}

    def users(self, symbol: Symbol) -> tuple[Symbol, ...]:
        """The nodes that use ``symbol`` (a node, parameter or input), in graph order."""
        if symbol in self.consumers:
            return self.consumers[symbol]
        return self.input_consumers.get(symbol, ())

    @cached_property
    def reachable(self) -> frozenset[Symbol]:
        """Nodes and parameters the output depends on."""
        seen = {self.output}
        for node in reversed(self.nodes):
            if node in seen:
                seen.update(self.parents[node])
        return frozenset(seen)

    @cached_property
    def expanded_nodes(self) -> dict[Symbol, Expr]:
        """node -> the node written in inputs and parameters only (a tree that can grow
        exponentially with depth: ask for it only where that is cheap)."""
        values: dict[Symbol, Expr] = {}
        for eq in self.equations:
            values[eq.node] = eq.expr.xreplace(values)
        return values

    @cached_property
    def forward_names(self) -> dict[Expr, Symbol]:
        """Each node's expression -> the node, so ``sigma(net_o1)(1 - sigma(net_o1))``
        can read ``out_o1 (1 - out_o1)``."""
        return {eq.expr: eq.node for eq in self.equations if not (eq.expr.is_Symbol or eq.expr.is_Number)}

    def expanded(self, node: Symbol | None = None) -> Expr:
        """The node (default: the output) written in inputs and parameters only."""
        node = self.output if node is None else node
        if node not in self.definition:
            raise GraphError(f"{node} is not a node of the graph")
        return self.expanded_nodes[node]

    def latex_name(self, symbol: Symbol) -> str:
        """How ``symbol`` prints: its name in :attr:`printed_names`, else :func:`symbol_tex`."""
        printed = self.printed_names.get(symbol)
        return printed if printed is not None else self.latex_names.get(symbol) or symbol_tex(symbol.name)

    @cached_property
    def printed_names(self) -> dict[Symbol, str]:
        r"""Every input, parameter and node -> its LaTeX: its name in :attr:`latex_names`,
        else :func:`~symprop.model.tex_names.symbol_tex` of its name (escaped, whatever it
        holds). No two symbols print alike: those that would (``w1`` and ``w_1`` both read
        ``w_{1}``) are printed upright from their names (``\mathrm{w1}``, ``\mathrm{w\_1}``)."""
        symbols = dict.fromkeys((*self.inputs, *self.parameters, *self.nodes))
        names = {s: self.latex_names.get(s) or symbol_tex(s.name) for s in symbols}
        names = distinct_names(names, {s: s.name for s in symbols})
        clash = first_clash(names)
        if clash is not None:
            first, second = clash
            raise GraphError(f"{first} and {second} would print alike ({names[first]}): give one of them another name")
        return names

    @cached_property
    def symbol_latex(self) -> dict[Symbol, str]:
        r"""The LaTeX names of :attr:`printed_names` and :attr:`latex_names`, plus
        ``\frac{\partial E}{\partial v}`` for every adjoint symbol ``delta_v`` that has no name of its own."""
        names = {**self.latex_names, **self.printed_names}
        output = self.latex_name(self.output)
        for node in self.nodes:
            names.setdefault(adjoint_symbol(node), rf"\frac{{\partial {output}}}{{\partial {self.latex_name(node)}}}")
        return names


def _split_matrices(graph: Graph) -> None:
    """Every matrix of ``graph``'s declarations and equations replaced by its entries."""
    pairs = tuple(tuple(e) for e in graph.equations)
    if not matrices.needs_splitting(graph.inputs, graph.parameters, pairs, graph.output):
        return
    split = matrices.split_into_entries(graph.inputs, graph.parameters, pairs, graph.output)
    for name in ("inputs", "parameters", "equations", "output", "arrays"):
        object.__setattr__(graph, name, getattr(split, name))
    object.__setattr__(graph, "latex_names", {**split.latex_names, **graph.latex_names})


def adjoint_symbol(node: Symbol) -> Symbol:
    """The symbol ``delta_v`` standing for ``dE/dv``."""
    return Symbol(f"delta_{node.name}", real=True)


def _ordered_free(expr: Expr, known: set[Symbol]) -> tuple[Symbol, ...]:
    """The known symbols of ``expr`` in first-appearance (preorder) order."""
    return tuple(dict.fromkeys(s for s in preorder(expr) if isinstance(s, Symbol) and s in known))


def preorder(expr: Expr):
    """Every subexpression of ``expr``, in ``sympy.preorder_traversal``'s order (a ``Max``'s
    arguments in their printed order), walked with one stack: SymPy's generator per node
    costs a second over the 25,000 products of a 784-16-10 network."""
    stack = [expr]
    while stack:
        sub = stack.pop()
        yield sub
        stack.extend(reversed(sub.args))


def _check_graph(graph: Graph) -> None:
    places = _declared_places(graph)
    defined = set((*graph.inputs, *graph.parameters))
    for number, eq in enumerate(graph.equations, 1):
        if not isinstance(eq.node, Symbol):
            raise GraphError(f"node {eq.node!r} must be a Symbol")
        if eq.node.name in places:
            first = places[eq.node.name]
            if first.startswith("node"):
                raise GraphError(f"node {eq.node} is assigned twice ({first} and node {number}): each name is "
                                 "assigned once")
            raise GraphError(f"node {eq.node} (node {number}) has the name of {first}: each name is assigned once")
        unknown = sorted(str(s) for s in eq.expr.free_symbols - defined)
        if unknown:
            raise GraphError(
                f"node {eq.node} uses {', '.join(unknown)}, which is not an input, a parameter or an earlier node"
            )
        places[eq.node.name] = f"node {number}"
        defined.add(eq.node)
    _check_adjoint_names(graph, places)
    if graph.output not in set(graph.nodes) | set(graph.parameters):
        raise GraphError(f"output {graph.output} is not a node of the graph")


def _declared_places(graph: Graph) -> dict[str, str]:
    """Each input's and parameter's name -> ``input 1``, ``parameter 2``; a name given
    twice (even to symbols that differ only in their assumptions) is refused, naming both."""
    places: dict[str, str] = {}
    for kind, symbols in (("input", graph.inputs), ("parameter", graph.parameters)):
        for number, symbol in enumerate(symbols, 1):
            name = getattr(symbol, "name", None)
            if not isinstance(symbol, Symbol):
                raise GraphError(f"{kind} {number} ({symbol!r}) must be a Symbol")
            if name in places:
                raise GraphError(f"the name {name} is both {places[name]} and {kind} {number}: each name is "
                                 "declared once")
            places[name] = f"{kind} {number}"
    return places


def _check_adjoint_names(graph: Graph, places: dict[str, str]) -> None:
    """``delta_q`` names the adjoint of node ``q``: no input, parameter or node may have it."""
    for node in graph.nodes:
        taken = places.get(adjoint_symbol(node).name)
        if taken is not None:
            raise GraphError(f"the name delta_{node} ({taken}) is reserved for the adjoint of node {node}: choose "
                             "another name")


def first_repeated(names):
    """The first name that occurs a second time, or None."""
    seen = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None
