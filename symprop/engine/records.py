"""The results of a derivation, as frozen data: factors, paths, adjoints, gradients.

Nothing here computes; :mod:`symprop.engine.backprop` fills these in and the
document layer reads them. Each record shows itself in a notebook as the math
it holds (printed by :mod:`symprop.printing`), never as a whole document.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Mapping

import sympy
from sympy import Expr, Symbol

from symprop.engine.canonical import times, total
from symprop.errors import SympropError
from symprop.model.graph import Graph
from symprop.printing.latex import latex, partial
from symprop.printing.rows import math_lines


class UnknownNameError(SympropError, KeyError):
    """A name that is not a parameter or node of the derivation, said in one line.
    A KeyError too, as a lookup by a missing name."""

    def __str__(self) -> str:
        # KeyError's own str is the repr of the missing key: the message in quotes.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Factor:
    """One Leibniz factor ``d(of)/d(wrt)`` and its closed form in forward quantities."""

    of: Symbol
    wrt: Symbol
    derivative: Expr


@dataclass(frozen=True)
class Path:
    """One route from the output down to a symbol: the chain rule's product of factors,
    output first (``dE/dout * dout/dnet * dnet/dw``)."""

    factors: tuple[Factor, ...]

    @property
    def product(self) -> Expr:
        return sympy.Mul(*[f.derivative for f in self.factors])

    @property
    def nodes(self) -> tuple[Symbol, ...]:
        """The symbols along the path, output first, the differentiated symbol last."""
        return (self.factors[0].of, *(f.wrt for f in self.factors)) if self.factors else ()


@dataclass(frozen=True)
class Term:
    """One consumer ``c`` of a symbol ``u``: its contribution ``delta_c * dc/du``.

    ``adjoint`` is the symbol ``delta_c`` (1 when ``c`` is the output) and
    ``adjoint_closed`` the same adjoint written in forward quantities.
    """

    consumer: Symbol
    local: Expr
    adjoint: Expr
    closed_forms: Mapping[Symbol, Expr] = field(repr=False, compare=False)

    @property
    def adjoint_closed(self) -> Expr:
        return self.closed_forms[self.consumer]


@dataclass(frozen=True)
class Adjoint:
    r"""The adjoint (delta) of a node, ``delta_v = dE/dv``.

    ``terms``: one :class:`Term` per consumer ``c`` of the node, in graph order,
    so that ``definition`` is the reverse-mode recurrence
    ``delta_v = sum over consumers c of delta_c * dc/dv`` in the consumers' delta
    symbols (1 for the output itself, which has no terms); ``closed_form`` is the
    same with every delta written out in forward quantities (looked up in
    ``closed_forms``, which builds them all on first use).
    """

    node: Symbol
    symbol: Symbol
    terms: tuple[Term, ...]
    closed_forms: Mapping[Symbol, Expr] = field(repr=False, compare=False)

    @cached_property
    def definition(self) -> Expr:
        # once: the scalar and the grouped programs, the checks and the documents each read it
        if not self.terms:
            return sympy.S.One
        return sympy.Add(*[sympy.Mul(t.adjoint, t.local) for t in self.terms])

    @property
    def closed_form(self) -> Expr:
        return self.closed_forms[self.node]


@dataclass(frozen=True)
class Gradient:
    r"""Everything about ``d output / d symbol``.

    ``terms``: one :class:`Term` per node that uses the symbol, so that
    ``delta_form = sum_c delta_c * dc/dsymbol`` (Nielsen's ``a_k delta_j``);
    ``closed_form``: the same with each delta written out in forward
    quantities, factored as the reverse walk nests it (equal to the sum over
    paths of their products);
    ``paths``: each chain-rule path from the output, all ``path_count`` of
    them, unless there are more than ``max_paths``: then none are listed;
    ``expanded``: in inputs and parameters only, when asked for.

    The forms are built on first use, so a derivation of a large network
    costs only its local derivatives and adjoints until a gradient is read.
    """

    symbol: Symbol
    output: Symbol
    terms: tuple[Term, ...]
    path_count: int
    max_paths: int
    expanded: Expr | None = None
    list_paths: Callable[[], Iterable[Path]] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def delta_form(self) -> Expr:
        if self.symbol == self.output:
            return sympy.S.One
        return total([times(t.adjoint, t.local) for t in self.terms])

    @cached_property
    def closed_form(self) -> Expr:
        if self.symbol == self.output:
            return sympy.S.One
        return total([times(t.adjoint_closed, t.local) for t in self.terms])

    @cached_property
    def paths(self) -> tuple[Path, ...]:
        if self.path_count > self.max_paths or self.list_paths is None:
            return ()
        return tuple(self.list_paths())

    @property
    def paths_listed(self) -> bool:
        """True when ``paths`` holds every path (False beyond the bound)."""
        return len(self.paths) == self.path_count

    @property
    def sum_over_paths(self) -> Expr:
        """The sum of the listed paths' products (equal to ``closed_form`` when all are listed)."""
        return sympy.Add(*[p.product for p in self.paths])

    @property
    def reaches_output(self) -> bool:
        return self.path_count > 0

    def latex(self, graph: Graph | None = None) -> str:
        r"""``\frac{\partial E}{\partial w} = closed form``, named by ``graph`` when given."""
        return f"{latex(partial(self.output, self.symbol), graph)} = {latex(self.closed_form, graph)}"

    def _repr_latex_(self) -> str:
        """Shown as math in a notebook."""
        return f"$$ {self.latex()} $$"

    def _repr_markdown_(self) -> str:
        return f"$$\n{self.latex()}\n$$\n"


@dataclass(frozen=True)
class MatrixGradient:
    r"""``d output / d M`` for a matrix parameter ``M`` (a ``MatrixSymbol``, or a Matrix of symbols).

    ``entries``: the :class:`Gradient` of each entry, row by row (``shape`` rows and
    columns); ``closed_form``: the Matrix of their closed forms. ``matrix_form``: a
    matrix expression of the whole gradient from SymPy's matrix calculus
    (``2 (W x + b - y) x^T``), given only once it has been proven equal to the entries;
    otherwise None, and ``matrix_form_note`` says why (it also says how the form was proven).
    """

    name: str
    matrix: Any
    output: Symbol
    shape: tuple[int, int]
    entries: tuple[Gradient, ...]
    find_matrix_form: Callable[[], tuple[Any, str]] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def closed_form(self) -> sympy.ImmutableMatrix:
        return sympy.ImmutableMatrix(*self.shape, [g.closed_form for g in self.entries])

    @cached_property
    def _matrix_form(self) -> tuple[Any, str]:
        if self.find_matrix_form is None:
            return None, "no matrix form was asked for"
        return self.find_matrix_form()

    @property
    def matrix_form(self):
        return self._matrix_form[0]

    @property
    def matrix_form_note(self) -> str:
        return self._matrix_form[1]

    def entry(self, row: int, column: int) -> Gradient:
        return self.entries[row * self.shape[1] + column]

    def latex(self, graph: Graph | None = None) -> str:
        r"""``\frac{\partial E}{\partial W} = matrix form``, or the Matrix of closed forms."""
        form = self.matrix_form
        body = sympy.latex(form) if form is not None else latex(self.closed_form, graph)
        return rf"\frac{{\partial {latex(self.output, graph)}}}{{\partial {sympy.latex(self.matrix)}}} = {body}"

    def _repr_latex_(self) -> str:
        return f"$$ {self.latex()} $$"


@dataclass(frozen=True)
class Derivation:
    """A whole derivation: the graph, every local derivative, every adjoint, every gradient.

    ``gradients`` holds one :class:`Gradient` per parameter, in the graph's
    parameter order (a matrix parameter's entries, ``W[0, 1]``, each count as one);
    index the derivation by a parameter (or its name). ``matrix_gradients`` holds a
    :class:`MatrixGradient` per matrix parameter: ``derivation[W]`` or ``derivation["W"]``.
    """

    graph: Graph
    local: Mapping[tuple[Symbol, Symbol], Expr]
    adjoints: Mapping[Symbol, Adjoint]
    gradients: Mapping[Symbol, Gradient]
    max_paths: int
    network: Any = field(default=None, compare=False)
    #: input -> its Gradient, for the inputs ``derive(..., wrt=...)`` asked for.
    input_gradients: Mapping[Symbol, Gradient] = field(default_factory=dict)
    matrix_gradients: Mapping[str, MatrixGradient] = field(default_factory=dict, compare=False)

    def __getitem__(self, key) -> Gradient | MatrixGradient:
        for symbol, found in self.input_gradients.items():
            if symbol == key or symbol.name == key:
                return found
        matrix = self.matrix_gradient(key)
        return matrix if matrix is not None else self.gradients[self.symbol(key)]

    def matrix_gradient(self, key) -> MatrixGradient | None:
        """The :class:`MatrixGradient` of the matrix parameter ``key`` (its name, its
        MatrixSymbol or its Matrix of symbols), or None when ``key`` is no matrix parameter."""
        if isinstance(key, str):
            return self.matrix_gradients.get(key)
        record = self.graph.arrays.record_of(key) if isinstance(key, (sympy.MatrixBase, sympy.MatrixExpr)) else None
        return self.matrix_gradients.get(record.name) if record is not None else None

    def __iter__(self):
        return iter(self.gradients.values())

    def __len__(self):
        return len(self.gradients)

    def symbol(self, key: Symbol | str) -> Symbol:
        """The parameter called ``key``; an :class:`UnknownNameError` that lists the parameters otherwise."""
        for symbol in self.gradients:
            if symbol == key or symbol.name == key:
                return symbol
        names = ", ".join([*self.matrix_gradients, *(s.name for s in self.gradients)])
        raise UnknownNameError(f"{key} is not a parameter of this network (parameters: {names})")

    @property
    def output(self) -> Symbol:
        return self.graph.output

    def delta_rows(self) -> list[str]:
        r"""Aligned rows: each adjoint's recurrence ``\delta_v &= \sum_c \delta_c \, dc/dv``,
        output first, then each gradient in delta form."""
        graph = self.graph
        deltas = [
            f"{latex(a.symbol, graph)} &= {latex(a.definition, graph)}"
            for node, a in self.adjoints.items() if node != graph.output
        ]
        gradients = [f"{latex(partial(g.output, g.symbol), graph)} &= {latex(g.delta_form, graph)}" for g in self]
        return deltas + gradients

    def _repr_latex_(self) -> str:
        """Shown as math in a notebook: every delta and every gradient in delta form."""
        return "$$ " + math_lines(self.delta_rows()) + " $$"

    def _repr_markdown_(self) -> str:
        return "$$\n" + math_lines(self.delta_rows()) + "\n$$\n"
