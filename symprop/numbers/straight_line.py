"""Straight-line code from a sequence of assignments, and the rewriting that keeps it finite.

:func:`straight_line_source` prints ``def f(arguments): target = expr ...;
return results`` with any SymPy code printer; :func:`straight_line_function`
compiles it. :mod:`symprop.codegen` prints readable NumPy this way, and
:mod:`symprop.evaluation` compiles its float and arbitrary-precision programs.

:func:`stable_form` rewrites ``log`` of a sigmoid or softmax node as
``log_sigmoid`` / ``log_softmax`` of the logits, so that saturated units give
finite numbers.
"""
from __future__ import annotations

import builtins
import keyword
import re
from typing import Callable, Iterable, Mapping, Sequence

import sympy
from sympy import Expr, Symbol

from symprop.model import functions
from symprop.model.graph import Graph, preorder
from symprop.model.per_object import per_object

#: ``log sigma(z)`` and ``log softmax_k(z)`` as functions of the logits: what
#: :func:`stable_form` writes in place of ``log`` of a sigmoid or softmax node.
log_sigmoid_function = sympy.Function("log_sigmoid")
log_softmax_function = sympy.Function("log_softmax")


# --- rewriting for numerical stability ---

def stable_form(expr: Expr, graph: Graph, *, complements: bool = True) -> Expr:
    r"""``expr`` with the logarithms and complements of sigmoid and softmax nodes written
    through their logits, so that saturated units (``|z| = 1000``) give finite numbers.

    ``log a -> log_sigmoid(z)``, ``log(1 - a) -> log_sigmoid(-z)`` and ``1 - a -> sigma(-z)``
    where ``a = sigma(z)``; ``log a_k -> log_softmax(k, z)`` where ``a_k = softmax(k, z)``.
    Each is an identity, so the value is unchanged; only the rounding improves.
    ``complements=False`` keeps ``1 - a`` as written (for readable code: in float64
    ``sigma(-1000)`` underflows to 0 all the same; it helps arbitrary precision).
    """
    sigmoids, softmaxes = _logits(graph)
    if not (sigmoids or softmaxes) or not _has_log_or_complement(expr):
        return expr

    def logit_of_complement(e):
        """z when ``e`` is ``1 - sigma(z)`` (as a node or written out), else None."""
        if e.is_Add and len(e.args) == 2 and sympy.S.One in e.args:
            other = -(e - 1)
            if other in sigmoids:
                return sigmoids[other]
            if isinstance(other, functions.sigmoid):
                return other.args[0]
        return None

    def stable_log(e):
        (argument,) = e.args
        if argument in sigmoids:
            return log_sigmoid_function(sigmoids[argument])
        if isinstance(argument, functions.sigmoid):
            return log_sigmoid_function(argument.args[0])
        if argument in softmaxes:
            return log_softmax_function(*softmaxes[argument].args)
        complement = logit_of_complement(argument)
        return e if complement is None else log_sigmoid_function(-complement)

    def stable_complement(e):
        z = logit_of_complement(e)
        return e if z is None else functions.sigmoid(-z)

    expr = expr.replace(lambda e: isinstance(e, sympy.log), stable_log)
    return expr.replace(lambda e: e.is_Add, stable_complement) if complements else expr


def _has_log_or_complement(expr: Expr) -> bool:
    """Whether ``expr`` has a ``log`` or a ``1 + x``, the only places :func:`stable_form` rewrites:
    one walk, where each of its two ``replace`` passes walks and rebuilds the whole tree."""
    one = sympy.S.One
    return any(isinstance(e, sympy.log) or (e.is_Add and len(e.args) == 2 and one in e.args) for e in preorder(expr))


@per_object
def _logits(graph: Graph) -> tuple[dict, dict]:
    """``(sigmoid node -> its logit, softmax node -> its definition)``, read once per graph:
    :func:`stable_form` is asked for every local derivative of a network, and reading the
    whole graph each time made a deep network's plan quadratic in its depth."""
    return (
        {node: d.args[0] for node, d in graph.definition.items() if isinstance(d, functions.sigmoid)},
        {node: d for node, d in graph.definition.items() if isinstance(d, functions.softmax)},
    )


# --- straight-line code from a sequence of assignments ---

def python_identifiers(symbols: Iterable[Symbol], reserved: Iterable[str] = ()) -> dict[Symbol, str]:
    """A distinct Python identifier for each symbol, as close to its name as possible
    (``E_total[1]`` -> ``E_total_1``)."""
    taken = set(reserved) | set(dir(builtins))
    names: dict[Symbol, str] = {}
    for symbol in symbols:
        if symbol in names:
            continue
        base = re.sub(r"\W+", "_", symbol.name).strip("_") or "v"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"v_{base}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names[symbol] = name
    return names


def straight_line_source(
    name: str,
    arguments: Sequence[Symbol],
    assignments: Sequence[tuple[Symbol, Expr]],
    results: Sequence[Expr],
    printer,
    identifiers: Mapping[Symbol, str],
    *,
    returns: str | None = None,
    docstring: str = "",
) -> str:
    """``def name(arguments): target = expr ...; return results``, each expression
    printed by ``printer`` with every symbol renamed by ``identifiers``."""
    rename = {s: Symbol(identifiers[s]) for s in identifiers}
    renamed = _renamed([e for _, e in assignments] + ([] if returns is not None else list(results)), rename)
    lines = [f"def {name}({', '.join(identifiers[a] for a in arguments)}):"]
    if docstring:
        lines.append(f'    """{docstring}"""')
    for (target, _), expr in zip(assignments, renamed):
        lines.append(f"    {identifiers[target]} = {printer.doprint(expr)}")
    if returns is None:
        printed = [printer.doprint(r) for r in renamed[len(assignments):]]
        returns = f"({', '.join(printed)},)" if printed else "()"
    lines.append(f"    return {returns}")
    return "\n".join(lines) + "\n"


def _renamed(exprs: Sequence, rename: Mapping[Symbol, Symbol]) -> list[Expr]:
    """``exprs`` with their symbols renamed, not evaluated again: the expressions are already
    evaluated, and SymPy re-evaluating nested functions of the new plain symbols asks their
    assumptions at every level (``tanh(tanh(...))``: three times the time per level). All in
    one switch of SymPy's ``evaluate``, which clears SymPy's whole cache each time it is set."""
    with sympy.evaluate(False):
        return [sympy.sympify(expr).xreplace(rename) for expr in exprs]


def straight_line_function(
    arguments: Sequence[Symbol],
    assignments: Sequence[tuple[Symbol, Expr]],
    results: Sequence[Expr],
    printer,
    namespace: Mapping[str, object],
) -> Callable[..., tuple]:
    """Compile ``(arguments) -> tuple(results)`` after the assignments, in order.

    Symbols are renamed ``_0, _1, ...`` so that no name can clash with the
    namespace; the functions of the expressions are looked up in ``namespace``.
    """
    symbols = dict.fromkeys([*arguments, *(t for t, _ in assignments)])
    for expr in (*(e for _, e in assignments), *results):
        new = [s for s in sympy.sympify(expr).free_symbols if s not in symbols]
        symbols.update(dict.fromkeys(sorted(new, key=str)))
    identifiers = {s: f"_{i}" for i, s in enumerate(symbols)}
    source = straight_line_source("generated", arguments, assignments, results, printer, identifiers)
    scope = dict(namespace)
    exec(compile(source, "<symprop generated>", "exec"), scope)
    return scope["generated"]


# --- printers ---

#: Terms of a sum printed in one chain of ``+``; longer sums are printed as sums of such chains.
SUM_CHAIN = 256


class StraightLineMixin:
    """What every printer of straight-line code adds to SymPy's: ``Heaviside(z, h0)`` as a call to
    the ``heaviside`` helper (or ``numpy.heaviside``), and sums of any length that Python compiles."""

    heaviside_name = "heaviside"

    def _print_Heaviside(self, expr):
        z = expr.args[0]
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"{self.heaviside_name}({self._print(z)}, {self._print(h0)})"

    def _print_Add(self, expr, order=None):
        """A sum of more than SUM_CHAIN terms as ``(t1 + ... + t256) + (t257 + ...) + ...``:
        Python's compiler recurses once per ``+`` of a chain, and fails past about 3,000 (a dense
        layer over a convolution's 4 x 28 x 28 outputs)."""
        terms = expr.args
        if len(terms) <= SUM_CHAIN:
            return super()._print_Add(expr, order=order)
        parts = [f"({super(StraightLineMixin, self)._print_Add(sympy.Add(*terms[i:i + SUM_CHAIN], evaluate=False))})"
                 for i in range(0, len(terms), SUM_CHAIN)]
        while len(parts) > SUM_CHAIN:
            parts = [f"({' + '.join(parts[i:i + SUM_CHAIN])})" for i in range(0, len(parts), SUM_CHAIN)]
        return " + ".join(parts)
