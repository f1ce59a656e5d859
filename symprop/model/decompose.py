r"""A bare scalar SymPy expression taken apart into a computational graph.

``(1/(1 + exp(-(w x + b))) - y)^2`` becomes, as in chapter 5 of "Deep
Learning from Scratch", one node per operation::

    p = w x,  s = b + p,  a = sigma(s),  f = (a - y)^2

so that the engine's chain rule reads ``df/dw = 2 (a - y) a (1 - a) x``. The
steps, in :func:`expression_network`'s order:

1. :func:`scalar_expression`: a SymPy scalar expression (matrices refused; a
   step splitting a matrix expression into entry symbols goes here);
2. :func:`refuse_what_has_no_derivative`: unevaluated derivatives and
   integrals, undefined functions ``g(x)``, ``Piecewise``, ``I``, ``oo``, ...
   are refused, naming the culprit, rather than differentiated to a silent 0;
3. :func:`with_real_symbols`: a symbol with no assumptions is the real
   symbol of its name (a network's quantities are real);
4. :func:`~symprop.model.spellings.recognise_activations`: ``1/(1 + exp(-z))``
   becomes ``sigmoid(z)``, and so on;
5. :func:`operations` and :func:`node_pairs`: one node per sum, product,
   power and function application; a sub-expression used several times is
   one node feeding them all. Numbers stay inside their node (``-2 p``), and
   a sum used once, by something other than a function, is written inside
   its consumer: its local derivatives are its coefficients, so a node of its
   own would only add factors of 1, and ``(a - y)^2`` keeps its tutorial form.

This module hands back plain pairs and names
(:class:`ExpressionNetwork`); :meth:`symprop.model.graph.Graph.from_expression`
builds the graph from them.
"""
from __future__ import annotations

import builtins
import itertools
import keyword
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping

import sympy
from sympy import Add, Expr, Function, Mul, Pow, Symbol
from sympy.core.function import AppliedUndef, Application
from sympy.matrices import MatrixBase
from sympy.matrices.expressions import MatrixExpr

from symprop.errors import SympropError
from symprop.model.functions import FUNCTION_RECORDS
from symprop.model.records import Activation
from symprop.model.spellings import recognise_activations

#: The output's name when none is given (``f1``, ``f2``, ... when the expression has a symbol ``f``).
DEFAULT_OUTPUT = "f"
#: How an expression is shown in a one-line refusal, at most.
SHOWN_LENGTH = 60


class ExpressionNetworkError(SympropError, ValueError):
    """An expression that cannot be a network, or declarations that do not fit it, in one line."""


@dataclass(frozen=True)
class ExpressionNetwork:
    """What a graph is built from: ``(node, expression)`` pairs in evaluation order, the
    inputs (data) and parameters, the output node and the nodes' LaTeX names."""

    pairs: tuple[tuple[Symbol, Expr], ...]
    inputs: tuple[Symbol, ...]
    parameters: tuple[Symbol, ...]
    output: Symbol
    latex_names: Mapping[Symbol, str]


def expression_network(expr, *, parameters=None, inputs=None, output: str | Symbol | None = None
                       ) -> ExpressionNetwork:
    """The computational graph of the scalar expression ``expr``, in the steps of the module's docstring.

    ``parameters`` are what gradients are taken for, ``inputs`` the data (Symbols or
    names); a symbol of ``expr`` declared as neither is an input, one declared as both
    is a parameter. ``output`` names the output node (default ``f``).
    """
    expr = scalar_expression(expr)
    refuse_what_has_no_derivative(expr)
    expr = recognise_activations(with_real_symbols(expr))
    data, declared = declarations(expr, parameters, inputs)
    root = _output_symbol(expr, output)
    pairs, latex = node_pairs(expr, root)
    return ExpressionNetwork(pairs, data, declared, root, latex)


# ---------------------------------------------------------------- what can be differentiated


def scalar_expression(expr) -> Expr:
    """``expr`` when it is a SymPy scalar expression; matrices and anything else refused in one line."""
    matrix = _matrix_in(expr)
    if matrix is not None:
        raise ExpressionNetworkError(f"matrices: {_shown(matrix)} is a matrix, and an expression network takes a "
                                     "scalar expression: write the entries as symbols")
    if not isinstance(expr, Expr):
        raise ExpressionNetworkError(f"{_shown(expr)} ({_kind_of(expr)}) is not a scalar expression: expected "
                                     "sums, products, powers and functions of symbols")
    return expr


def _matrix_in(expr):
    """``expr`` when it is a matrix, else its first matrix symbol, else None."""
    if isinstance(expr, (MatrixBase, MatrixExpr)):
        return expr
    found = sorted(expr.atoms(sympy.MatrixSymbol), key=str) if isinstance(expr, sympy.Basic) else []
    return found[0] if found else None


def refuse_what_has_no_derivative(expr: Expr) -> None:
    """Every part of ``expr`` is a real symbol or number, a sum, product or power, or a function
    with a derivative rule; the first part that is not is refused in one line, naming it."""
    for part in sympy.preorder_traversal(expr):
        problem = _why_not_differentiable(part)
        if problem:
            raise ExpressionNetworkError(f"{_shown(part)} {problem}")


def _why_not_differentiable(part) -> str | None:
    """What keeps ``part`` out of a network, or None when it may be in one."""
    if isinstance(part, sympy.Wild):
        return "is a pattern symbol (Wild): expected plain symbols"
    if isinstance(part, Symbol):
        return "is declared not real: a network's quantities are real" if part.is_real is False else None
    if part.is_Atom:
        return _why_not_a_number(part)
    if isinstance(part, (Add, Mul, Pow)):
        return None
    if isinstance(part, sympy.Piecewise):
        return "is a Piecewise: piecewise expressions are not supported (write Max(0, z) for a ReLU)"
    if isinstance(part, AppliedUndef):
        return f"is an undefined function: {part.func} has no derivative rule (write out what it stands for)"
    if isinstance(part, Application):
        return None if _has_derivative_rule(type(part)) else f"has no derivative rule ({part.func} is not " \
                                                              "differentiable)"
    return _why_not_an_operation(part)


def _why_not_a_number(atom) -> str | None:
    if not atom.is_number:
        return f"({_kind_of(atom)}) is not a symbol or a number"
    if atom.is_finite is not True:
        return "is not a finite number"
    return None if atom.is_real else "is not a real number: a network's quantities are real"


def _why_not_an_operation(part) -> str:
    if isinstance(part, sympy.Derivative):
        return "is an unevaluated derivative: call .doit() first, or write out what it stands for"
    if isinstance(part, sympy.Integral):
        return "is an unevaluated integral: call .doit() first, or write out what it stands for"
    return f"({_kind_of(part)}) is not differentiable here: expected sums, products, powers and functions"


def _has_derivative_rule(cls) -> bool:
    """A function class that says its own derivative (``fdiff`` or ``_eval_derivative``); one that
    does not would leave ``Derivative(g(x), x)`` unevaluated."""
    return getattr(cls, "fdiff", Function.fdiff) is not Function.fdiff or (
        cls._eval_derivative is not Function._eval_derivative)


def with_real_symbols(expr: Expr) -> Expr:
    """``expr`` with each symbol that has no ``real`` assumption replaced by the real symbol of its
    name; two different symbols with one name are refused (they would be one name in every document)."""
    by_name: dict[str, Symbol] = {}
    for symbol in sorted(expr.free_symbols, key=sympy.default_sort_key):
        if symbol.name in by_name:
            raise ExpressionNetworkError(f"two different symbols are named {symbol.name} (their assumptions "
                                         "differ): give each its own name")
        by_name[symbol.name] = symbol
    real = {s: Symbol(s.name, real=True) for s in by_name.values() if s.is_real is None}
    return expr.xreplace(real) if real else expr


# ---------------------------------------------------------------- declarations


def declarations(expr: Expr, parameters, inputs) -> tuple[tuple[Symbol, ...], tuple[Symbol, ...]]:
    """``(inputs, parameters)`` of ``expr`` from what was declared (Symbols or names).

    Parameters keep their declared order; inputs are the declared ones, then every
    other symbol of ``expr`` in sorted order. A name declared as both is a parameter.
    """
    symbols = {s.name: s for s in expr.free_symbols}
    listed = ", ".join(sorted(symbols)) or "none"
    wanted = _declared_names(parameters, "parameters")
    if not wanted:
        raise ExpressionNetworkError(f"no parameters declared: say which symbols gradients are taken for, as "
                                     f"parameters=[...] (the expression's symbols: {listed})")
    data_names = _declared_names(inputs, "inputs")
    for kind, names in (("parameter", wanted), ("input", data_names)):
        strangers = [n for n in names if n not in symbols]
        if strangers:
            said = f"{kind} {strangers[0]} is not a symbol" if len(strangers) == 1 else \
                f"{kind}s {', '.join(strangers)} are not symbols"
            raise ExpressionNetworkError(f"{said} of the expression (its symbols: {listed})")
    declared = tuple(symbols[n] for n in wanted)
    data = [n for n in data_names if n not in wanted]
    data += sorted(n for n in symbols if n not in wanted and n not in data)
    return tuple(symbols[n] for n in data), declared


def _declared_names(declared, what: str) -> list[str]:
    """The names of ``declared`` (a Symbol, a name, or an iterable of them), each once, in order."""
    if declared is None:
        return []
    items = [declared] if isinstance(declared, (str, Symbol)) else declared
    try:
        items = list(items)
    except TypeError:
        raise ExpressionNetworkError(f"{what}: expected Symbols or names, got {_kind_of(declared)}") from None
    names: list[str] = []
    for item in items:
        if not isinstance(item, (str, Symbol)):
            raise ExpressionNetworkError(f"{what}: expected Symbols or names, got {_shown(item)} "
                                         f"({_kind_of(item)})")
        name = item if isinstance(item, str) else item.name
        if name not in names:
            names.append(name)
    return names


def _output_symbol(expr: Expr, output) -> Symbol:
    """The output node: ``output`` by name, or ``f`` (``f1``, ... if the expression has an ``f``)."""
    taken = _taken_names(expr)
    if output is None:
        name = next(n for n in itertools.chain((DEFAULT_OUTPUT,), _numbered(DEFAULT_OUTPUT)) if n not in taken)
    else:
        name = output.name if isinstance(output, Symbol) else output
        if not isinstance(name, str) or not name.isidentifier():
            raise ExpressionNetworkError(f"output: expected a name for the output node, got {_shown(output)}")
        if name in taken:
            raise ExpressionNetworkError(f"output {name} is taken by a symbol of the expression: choose another "
                                         "name for the output node")
    return Symbol(name, real=True)


# ---------------------------------------------------------------- nodes


def operations(expr: Expr) -> dict[Expr, tuple[Expr, ...]]:
    """Every operation of ``expr`` (sum, product, power, function application) -> its operands,
    each operation once however often it occurs, operands before the operations using them."""
    found: dict[Expr, tuple[Expr, ...]] = {}

    def visit(e: Expr) -> None:
        if e.is_Atom or e in found:
            return
        parts = _operands(e)
        for part in parts:
            visit(part)
        found[e] = parts

    visit(expr)
    return found


def _operands(e: Expr) -> tuple[Expr, ...]:
    """What the operation ``e`` applies to; numbers that scale a term or a product stay inside it."""
    if e.is_Add:
        return tuple(_unscaled(term) for term in e.args)
    if e.is_Mul:
        return Mul.make_args(_unscaled(e))
    return tuple(e.args)


def _unscaled(term: Expr) -> Expr:
    """``term`` without its number: ``u`` of ``-2 u``."""
    coefficient, rest = term.as_coeff_Mul()
    return rest if coefficient is not sympy.S.One and not rest.is_Number else term


def node_pairs(expr: Expr, output: Symbol) -> tuple[tuple[tuple[Symbol, Expr], ...], dict[Symbol, str]]:
    """``(node, expression)`` pairs of ``expr`` in evaluation order, the last one ``output``,
    and the LaTeX name of each generated node."""
    ops = operations(expr)
    if not ops:  # a symbol or a number: the output node is just that
        return ((output, expr),), {}
    inside = _written_inside_consumer(expr, ops)
    kept = [e for e in ops if e not in inside]
    names, latex = _node_names(kept[:-1], _taken_names(expr) | {output.name})
    names[expr] = output
    pairs = tuple((names[e], _rebuilt(e, names, inside)) for e in kept)
    return pairs, latex


def _written_inside_consumer(expr: Expr, ops: Mapping[Expr, tuple[Expr, ...]]) -> set[Expr]:
    """Sums used once, not as a function's argument (and not the output): written inside their consumer."""
    uses: Counter = Counter()
    by_function: set[Expr] = set()
    for e, parts in ops.items():
        uses.update(parts)
        if isinstance(e, Application):
            by_function.update(parts)
    return {e for e in ops if e.is_Add and e != expr and uses[e] == 1 and e not in by_function}


def _rebuilt(e: Expr, names: Mapping[Expr, Symbol], inside: set[Expr]) -> Expr:
    """The operation ``e`` over its operands' nodes (a sum written inside it, over its own operands)."""

    def operand(part: Expr) -> Expr:
        if part.is_Atom:
            return part
        return _rebuilt(part, names, inside) if part in inside else names[part]

    if e.is_Add:
        return Add(*[_scaled(term, operand) for term in e.args])
    if e.is_Mul:
        return _scaled(e, lambda rest: Mul(*[operand(f) for f in Mul.make_args(rest)]))
    return e.func(*[operand(a) for a in e.args])


def _scaled(term: Expr, operand) -> Expr:
    """``c * operand(u)`` for the term ``c u``."""
    coefficient, rest = term.as_coeff_Mul()
    if coefficient is sympy.S.One or rest.is_Number:
        return operand(term)
    return coefficient * operand(rest)


# ---------------------------------------------------------------- names

#: A node's name by what it is: (name, LaTeX head).
_SUM, _PRODUCT, _ACTIVATION = ("s", "s"), ("p", "p"), ("a", "a")
_POWERS = {-1: ("r", "r"), 2: ("sq", r"\mathrm{sq}")}
_FUNCTIONS = {sympy.exp: ("ex", r"\mathrm{ex}"), sympy.log: ("lg", r"\mathrm{lg}")}


def _kind(e: Expr) -> tuple[str, str]:
    """``(name, LaTeX head)`` of the node computing ``e``: ``s`` a sum, ``p`` a product, ``r`` a
    reciprocal, ``sq`` a square, ``pw`` another power, ``a`` an activation, ``ex`` an exponential,
    ``lg`` a logarithm, the function's own name otherwise (``sin1``)."""
    if e.is_Add:
        return _SUM
    if e.is_Mul:
        return _PRODUCT
    if e.is_Pow:
        return _POWERS.get(e.exp, ("pw", r"\mathrm{pw}"))
    if isinstance(e, Activation) or e.func is sympy.tanh:
        return _ACTIVATION
    name = str(e.func).lower()
    return _FUNCTIONS.get(e.func, (name, rf"\mathrm{{{name}}}"))


def _node_names(ops: Iterable[Expr], taken: set[str]) -> tuple[dict[Expr, Symbol], dict[Symbol, str]]:
    """A name per operation: its kind's name alone when it is the only one of its kind, else numbered
    (``s1, s2``) in graph order; never a taken name, nor one that already means something
    (``sin``, ``E``, ``softmax``, ``abs``), which a claim, a document or generated code would
    read as that."""
    ops = list(ops)
    counts = Counter(_kind(e) for e in ops)
    names: dict[Expr, Symbol] = {}
    latex: dict[Symbol, str] = {}
    for e in ops:
        base, head = _kind(e)
        candidates = _numbered(base) if counts[(base, head)] > 1 else itertools.chain((base,), _numbered(base))
        for name in candidates:
            if name not in taken and not _means_something(name):
                break
        taken.add(name)
        names[e] = Symbol(name, real=True)
        latex[names[e]] = head if name == base else f"{head}_{{{name[len(base):]}}}"
    return names, latex


def _means_something(name: str) -> bool:
    """A name SymPy, symprop's functions or Python (in generated code) already give a meaning."""
    return hasattr(sympy, name) or name in _FUNCTION_NAMES or hasattr(builtins, name) or keyword.iskeyword(name)


_FUNCTION_NAMES = frozenset(record.name for record in FUNCTION_RECORDS)


def _numbered(base: str):
    """``base1``, ``base2``, ... without end."""
    i = 0
    while True:
        i += 1
        yield f"{base}{i}"


def _taken_names(expr: Expr) -> set[str]:
    """Names a node may not have: the expression's symbols, and ``q`` for a symbol ``delta_q``
    (the name of q's adjoint)."""
    names = {s.name for s in expr.free_symbols}
    return names | {n.removeprefix("delta_") for n in names if n.startswith("delta_")}


def _shown(value) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH - 3] + "..."


def _kind_of(value) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
