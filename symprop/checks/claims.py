r"""Checks for users: a claimed gradient formula against the engine.

:func:`check_claim` decides whether ``claim == d output / d parameter``:

1. symbolically, when the difference ``claim - expected`` becomes exactly 0
   after cheap, targeted rewrites (``expand``, then ``together`` and
   ``expand`` of the numerator), first in forward quantities (node symbols
   such as ``out_o1``), then with every node written in inputs and
   parameters and every symprop function written in ``exp``/``log``
   (``functions.elementary``); ``sympy.simplify`` is never called (it does
   not finish on a 2-2-2 network's gradient);
2. otherwise numerically, at ``points`` random points evaluated with
   ``digits`` significant digits, the forward quantities at each point
   computed from its inputs, targets and parameters in graph order.

When they differ it reports a point with both values and, when one is cheap
to find, a diagnosis: the claim is ``k`` times the gradient (sign, 2, 1/n),
lacks or has an extra local-derivative factor (``sigmoid'(net_o1)``), or
misses, or keeps only, one chain-rule path.

:func:`assert_gradient` raises a readable ``AssertionError`` for pytest
suites. The diagnosis is :mod:`symprop.diagnosis`; the random points are
:mod:`symprop.random_points`. :func:`check_backward` and
:func:`assert_backward` (a hand-written backward pass) are
:mod:`symprop.backward_check`'s, imported from here as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Mapping

import sympy
from sympy import Expr, Symbol
from sympy.core.function import AppliedUndef

from symprop.model import functions
from symprop.files.expressions import ELEMENTARY_FUNCTIONS, Grammar, Messages, parse, record_functions
from symprop.engine.backprop import node_gradient
from symprop.engine.records import Gradient
from symprop.checks.diagnosis import diagnose
from symprop.model.graph import Graph
from symprop.checks.random_points import ClaimError, Context, close, context_of, gradient_value, sample_points, show_point, value_at
from symprop.printing.numbers import plain_number
from symprop.printing.notebook import inline_math, text
from symprop.printing.latex import partial



# ---------------------------------------------------------------- the claimed gradient


def _expected_gradient(context: Context, parameter) -> Gradient:
    """The engine's ``d output / d parameter`` (a node is accepted too)."""
    name = parameter.name if isinstance(parameter, Symbol) else str(parameter)
    derivation = context.derivation
    if any(p.name == name for p in derivation.gradients):
        return derivation[name]
    if any(n.name == name for n in context.graph.nodes):
        return node_gradient(derivation, name)
    names = ", ".join(p.name for p in derivation.gradients)
    raise ClaimError(f"{name} is not a parameter or node of this network (parameters: {names})")


# ---------------------------------------------------------------- reading a claim

#: Functions a claim may call: name -> (callable, fewest, most arguments); symprop's from their records.
CLAIM_FUNCTIONS: dict[str, tuple] = {
    **record_functions(node_files=False), **ELEMENTARY_FUNCTIONS,
    "sinh": (sympy.sinh, 1, 1), "cosh": (sympy.cosh, 1, 1), "Heaviside": (sympy.Heaviside, 1, 2),
}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
#: A claim may be longer and deeper than a node expression: it may write a whole gradient in the inputs.
MAX_CLAIM_LENGTH = 50_000
MAX_CLAIM_NESTING = 100


def claim_names(target) -> dict[str, Any]:
    """Every name a claim may use: inputs, targets, parameters, nodes, the engine's
    adjoint symbols (``delta_net_o1``), functions and ``pi``, ``E``."""
    context = target if isinstance(target, Context) else context_of(target)
    graph = context.graph
    names: dict[str, Any] = {**_CONSTANTS, **{name: entry[0] for name, entry in CLAIM_FUNCTIONS.items()}}
    names.update({s.name: s for s in (*graph.inputs, *graph.parameters, *graph.nodes)})
    for adjoint in context.derivation.adjoints.values():
        names.setdefault(adjoint.symbol.name, adjoint.symbol)
    return names


class ClaimMessages(Messages):
    """The safe parser's refusals worded for a claim, as :class:`ClaimError`."""

    def __init__(self, text: str, known: Mapping[str, Any]):
        super().__init__()
        self.text, self.known = text, known

    def refuse(self, message: str) -> Exception:
        return ClaimError(f"cannot read the claim {_quoted(self.text)}: {message}")

    def unreadable(self, text: str, detail: str) -> Exception:
        return self.refuse(detail)

    def unfinished(self, text: str, detail: str) -> Exception:
        return self.refuse("unbalanced parentheses or an unfinished expression")

    def unknown_name(self, name: str) -> Exception:
        return ClaimError(f"unknown name {_quoted(name)} in the claim (known: {_short_list(self.known)})")

    hidden_name = unknown_name

    def not_arithmetic(self, token: str) -> Exception:
        return ClaimError(f"the claim may only use names, numbers, + - * / ** ^, parentheses and commas; "
                          f"found {_quoted(token)}")

    def too_deep(self, depth: int, most: int) -> Exception:
        return self.refuse(f"nested {depth} levels deep (each + or * of a long sum is a level): at most {most}; "
                           "group the terms in parentheses or write a shorter claim")

    def power_too_large(self, base: float, exponent: float, reason: str) -> Exception:
        return ClaimError(f"the claim raises {_number(base)} to the power {_number(exponent)[:20]}: too large "
                          "to compute")


def _quoted(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, its first ``limit`` characters only: a claim may be
    thousands of characters long, and a refusal stays one readable line."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _number(value: float) -> str:
    """A number as the claim wrote it: ``9``, not ``9.0``."""
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def parse_claim(text: str, target) -> Expr:
    """Read a claim written in the network's own names, safely.

    The one safe parser (:func:`symprop.files.expressions.parse`) reads it,
    with the names of :func:`claim_names`: token by token, only known names,
    numbers, ``+ - * / ** ^``, parentheses and commas are let through, before
    anything is evaluated; attribute access, strings, keywords and builtins
    such as ``__import__`` are refused with a :class:`ClaimError`, and so are
    powers of numbers too large to compute. ``^`` is a power, a batch copy
    ``out_o1[2]`` may be written as it is named, and decimals are read as
    exact fractions.
    """
    known = claim_names(target)
    grammar = Grammar(
        symbols={name: value for name, value in known.items() if isinstance(value, sympy.Basic)},
        functions=CLAIM_FUNCTIONS, messages=ClaimMessages(text, known), screen_tokens=True,
        caret_is_power=True, exact_decimals=True, max_length=MAX_CLAIM_LENGTH, max_nesting=MAX_CLAIM_NESTING,
    )
    return parse(text, grammar)


def _short_list(known: Mapping[str, Any], limit: int = 16) -> str:
    """The first names of the graph, then a pointer to the functions."""
    symbols = [name for name, value in known.items() if isinstance(value, Symbol)]
    shown = ", ".join(symbols[:limit]) + (", ..." if len(symbols) > limit else "")
    return f"{shown}; and functions such as sigmoid, exp, log"


def _adopt(claim, known: Mapping[str, Any]) -> Expr:
    """A SymPy claim with its symbols (matched by name) and undefined functions (by name) made the graph's own."""
    try:
        expr = sympy.sympify(claim, strict=True)
    except sympy.SympifyError:
        raise ClaimError(f"a claim is a SymPy expression or a string, got {type(claim).__name__}") from None
    renamed = {}
    for symbol in expr.free_symbols:
        if not isinstance(known.get(symbol.name), Symbol):
            raise ClaimError(f"unknown name {symbol.name!r} in the claim (known: {_short_list(known)})")
        renamed[symbol] = known[symbol.name]
    for applied in expr.atoms(AppliedUndef):
        if applied.func.__name__ not in CLAIM_FUNCTIONS:
            raise ClaimError(f"unknown function {applied.func.__name__!r} in the claim")
    expr = expr.replace(lambda e: isinstance(e, AppliedUndef), lambda e: CLAIM_FUNCTIONS[e.func.__name__][0](*e.args))
    return expr.xreplace(renamed)


def _read_claim(claim, context: Context) -> Expr:
    if isinstance(claim, str):
        return parse_claim(claim, context)
    return _adopt(claim, claim_names(context))


# ---------------------------------------------------------------- symbolic decision

#: Largest difference (tree nodes) that ``expand``/``together`` are tried on: beyond it they can take minutes.
SYMBOLIC_SIZE_LIMIT = 600
MAX_EXPANDED_POWER = 12


def _at_most(expr: Expr, size: int) -> bool:
    """Whether ``expr`` has at most ``size`` tree nodes (stops counting early)."""
    return sum(1 for _ in islice(sympy.preorder_traversal(expr), size + 1)) <= size


def _cheap_to_rewrite(expr: Expr) -> bool:
    """Small, and no power high enough for ``expand`` to multiply out into thousands of terms."""
    return _at_most(expr, SYMBOLIC_SIZE_LIMIT) and all(
        not (p.exp.is_Integer and abs(p.exp) > MAX_EXPANDED_POWER) for p in expr.atoms(sympy.Pow)
    )


def _reduces_to_zero(difference: Expr) -> str | None:
    """The rewrite that takes ``difference`` to exactly 0, or None."""
    if difference == 0:
        return "as written"
    if not _cheap_to_rewrite(difference):
        return None
    if sympy.expand(difference) == 0:
        return "expand"
    numerator, _ = sympy.fraction(sympy.together(difference))
    if sympy.expand(numerator) == 0:
        return "together, then expand of the numerator"
    return None


def _forward_folded(expr: Expr, graph: Graph) -> Expr:
    """``expr`` with each node's definition, as written or in elementary functions,
    replaced by the node (``sigmoid(net_o1)`` and ``1/(1 + exp(-net_o1))`` become ``out_o1``)."""
    folds = {functions.elementary(definition): node for definition, node in graph.forward_names.items()}
    return expr.xreplace({**folds, **graph.forward_names})


def _in_leaves(expr: Expr, graph: Graph) -> Expr:
    return expr.xreplace(graph.expanded_nodes)


def _symbolic_decision(claim: Expr, expected: Expr, graph: Graph) -> str | None:
    """How ``claim - expected`` was brought to 0, or None when the cheap rewrites do not."""
    how = _reduces_to_zero(_forward_folded(claim, graph) - expected)
    if how:
        return f"claim - expected is 0 in forward quantities ({how})"
    difference = _in_leaves(claim, graph) - _in_leaves(expected, graph)
    if not _at_most(difference, SYMBOLIC_SIZE_LIMIT):
        return None
    how = _reduces_to_zero(functions.elementary(difference))
    if how:
        return f"claim - expected is 0 in inputs and parameters, activations in exp ({how})"
    return None


# ---------------------------------------------------------------- a claimed formula


@dataclass(frozen=True)
class Verdict:
    """Whether a claimed formula equals ``d output / d parameter``, and how that was decided.

    ``method`` is ``"symbolic"`` (``detail`` names the rewrite that took the
    difference to 0) or ``"numeric"`` (``points`` random points at ``digits``
    significant digits, ``differing`` of them disagreeing). When they differ,
    ``point`` holds the first differing point's inputs, targets and
    parameters, with ``expected_value`` and ``claimed_value`` there.
    """

    parameter: Symbol
    output: Symbol
    equal: bool
    method: str
    detail: str
    claim: Expr
    expected: Expr
    points: int = 0
    digits: int = 0
    differing: int = 0
    point: Mapping[Symbol, Expr] | None = None
    expected_value: Expr | None = None
    claimed_value: Expr | None = None
    diagnosis: str | None = None
    graph: Graph | None = field(default=None, compare=False, repr=False)  # for LaTeX names

    def summary(self) -> str:
        """A few readable lines: verdict, formulas, method, the differing point and values, diagnosis."""
        verdict = "equal" if self.equal else "NOT equal"
        lines = [
            f"d{self.output}/d{self.parameter}: the claim is {verdict} to the gradient",
            f"  expected:  {_clip(sympy.sstr(self.expected))}",
            f"  claimed:   {_clip(sympy.sstr(self.claim))}",
            f"  method:    {self.method}, {self.detail}",
        ]
        if self.point is not None:
            lines.append(f"  at:        {show_point(self.point)}")
            lines.append(f"  values:    expected {_show(self.expected_value)}, claimed {_show(self.claimed_value)}")
        if not self.equal:
            lines.append(f"  diagnosis: {self.diagnosis or 'none found (not a constant factor, a local factor or a path away)'}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the verdict, the expected and claimed formulas as math, how it
        was decided, and when they differ a point with both values and the diagnosis."""
        verdict = "equal" if self.equal else "**not equal**"
        lines = [
            f"{inline_math(partial(self.output, self.parameter), self.graph)}: the claim is {verdict} to the gradient "
            f"({self.method}: {text(self.detail)})",
            "", f"- expected: {inline_math(self.expected, self.graph)}", f"- claimed: {inline_math(self.claim, self.graph)}",
        ]
        if self.point is not None:
            lines.append(f"- at {text(show_point(self.point))}: expected {_show(self.expected_value)}, "
                         f"claimed {_show(self.claimed_value)}")
        if not self.equal:
            lines.append(f"- diagnosis: {text(self.diagnosis or 'none found')}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """The verdict as JSON-ready data (formulas as text and LaTeX, numbers as floats)."""
        from symprop.printing.latex import latex

        return {
            "parameter": self.parameter.name, "output": self.output.name, "equal": self.equal,
            "method": self.method, "detail": self.detail,
            "expected": sympy.sstr(self.expected), "claimed": sympy.sstr(self.claim),
            "expected_latex": latex(self.expected, self.graph),
            "claimed_latex": latex(self.claim, self.graph),
            "points": self.points, "digits": self.digits, "differing": self.differing,
            "point": None if self.point is None else {s.name: float(v) for s, v in self.point.items()},
            "expected_value": _float_or_none(self.expected_value),
            "claimed_value": _float_or_none(self.claimed_value),
            "diagnosis": self.diagnosis,
        }


def _show(value) -> str:
    return "not a real number" if value is None else plain_number(float(value), 12)


def _clip(text: str, limit: int = 600) -> str:
    """A formula as printed, cut after ``limit`` characters: a deep network's closed form runs to pages."""
    return text if len(text) <= limit else f"{text[:limit]} ... ({len(text)} characters in all)"


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


def check_claim(target, parameter, claim, *, points: int = 8, digits: int = 30, seed: int = 0) -> Verdict:
    """Decide whether ``claim`` equals ``d output / d parameter`` of ``target``.

    ``target``: a Network, Graph or Derivation. ``parameter``: a parameter (or
    node) name or Symbol. ``claim``: a SymPy expression or a string in the
    network's own names (read by :func:`parse_claim`), in forward
    quantities, adjoints, inputs and parameters, or any mix. Decided
    symbolically when cheap rewrites take the difference to 0, otherwise at
    ``points`` random points (from ``seed``) with ``digits`` digits.
    Raises :class:`ClaimError` for a claim that cannot be read.
    """
    context = context_of(target)
    gradient = _expected_gradient(context, parameter)
    claimed = _read_claim(claim, context)
    resolved = claimed.xreplace({a.symbol: a.closed_form for a in context.derivation.adjoints.values()})
    common = dict(parameter=gradient.symbol, output=gradient.output, claim=claimed,
                  expected=gradient.closed_form, graph=context.graph)
    how = _symbolic_decision(resolved, gradient.closed_form, context.graph)
    if how:
        return Verdict(equal=True, method="symbolic", detail=how, **common)
    if points < 1:
        raise ClaimError(f"points must be at least 1, got {points}")
    samples = sample_points(context, points, seed, digits)
    expected = [gradient_value(gradient, p.env, digits) for p in samples]
    claimed_values = [value_at(resolved, p.env, digits) for p in samples]
    differ = [i for i, (e, c) in enumerate(zip(expected, claimed_values)) if not close(e, c, digits)]
    detail = f"{points} random points at {digits} significant digits"
    if not differ:
        return Verdict(equal=True, method="numeric", detail=f"agree at all {detail}", points=points,
                       digits=digits, **common)
    first = differ[0]
    return Verdict(
        equal=False, method="numeric", detail=f"differ at {len(differ)} of {detail}", points=points,
        digits=digits, differing=len(differ), point=samples[first].values,
        expected_value=expected[first], claimed_value=claimed_values[first],
        diagnosis=diagnose(context, gradient, resolved, samples, seed, digits), **common,
    )


def assert_gradient(target, parameter, claim, **options) -> Verdict:
    """For pytest: raise ``AssertionError`` with :meth:`Verdict.summary` unless the claim is right.

    The message names the parameter, prints the expected and claimed formulas,
    a point where they differ with both values, and the diagnosis.
    ``options`` go to :func:`check_claim`. Returns the verdict when equal.
    """
    verdict = check_claim(target, parameter, claim, **options)
    if not verdict.equal:
        raise AssertionError("\n" + verdict.summary())
    return verdict
