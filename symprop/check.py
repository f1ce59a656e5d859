r"""Checks for users: a claimed gradient formula, or a hand-written backward pass, against the engine.

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

:func:`check_backward` compares a user's numeric gradients (a function, or
"Deep Learning from Scratch" layers) with the engine at random points.
:func:`assert_gradient` and :func:`assert_backward` raise readable
``AssertionError``\ s for pytest suites.
"""
from __future__ import annotations

import inspect
import math
import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import islice
from tokenize import ENDMARKER, NAME, NEWLINE, NL, NUMBER, OP, TokenError
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import sympy
from sympy import Expr, Rational, Symbol
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr, rationalize

from . import functions
from .backprop import derive, node_gradient
from .derivation import Derivation, Gradient, Path
from .graph import Graph


__all__ = [
    "BackwardReport", "ClaimError", "ParameterCheck", "Verdict", "assert_backward", "assert_gradient",
    "check_backward", "check_claim", "claim_names", "parse_claim",
]


class ClaimError(ValueError):
    """A claim or a backward that cannot be checked (unsafe text, unknown name, wrong shape), in one line."""


# ---------------------------------------------------------------- the target


@dataclass(frozen=True)
class _Context:
    graph: Graph
    derivation: Derivation
    network: Any  # a symprop.nn.Network, or None for a plain graph


def _context(target) -> _Context:
    """The graph, derivation and (if any) layered network behind a Network, Graph or Derivation."""
    if isinstance(target, Derivation):
        return _Context(target.graph, target, target.network)
    if isinstance(target, Graph):
        return _Context(target, derive(target), None)
    if isinstance(getattr(target, "graph", None), Graph):
        return _Context(target.graph, derive(target), target)
    raise ClaimError(f"expected a Network, Graph or Derivation to check against, got {type(target).__name__}")


def _expected_gradient(context: _Context, parameter) -> Gradient:
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

#: Functions a claim may call, by name.
CLAIM_FUNCTIONS: dict[str, Any] = {
    "sigmoid": functions.sigmoid, "relu": functions.relu, "leaky_relu": functions.leaky_relu,
    "softplus": functions.softplus, "softmax": functions.softmax,
    "softmax_cross_entropy": functions.softmax_cross_entropy,
    "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh, "exp": sympy.exp, "log": sympy.log,
    "sqrt": sympy.sqrt, "Abs": sympy.Abs, "Max": sympy.Max, "Min": sympy.Min, "Heaviside": sympy.Heaviside,
}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
#: The only names the parser's own rewrites emit (``auto_number``, ``rationalize``); no builtins.
#: ``Add``, ``Mul``, ``Pow`` for the unevaluated parse (see :func:`_evaluated`).
_PARSER_GLOBALS = {
    "Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational,
    "Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow, "__builtins__": {},
}
#: A power of numbers beyond this exponent is refused: ``9**9**9**9`` would never finish.
MAX_NUMBER_EXPONENT = 10_000
_ARITHMETIC = {"+", "-", "*", "/", "**", "^", "(", ")", ","}
_LAYOUT_TOKENS = {NEWLINE, NL, ENDMARKER}


def claim_names(target) -> dict[str, Any]:
    """Every name a claim may use: inputs, targets, parameters, nodes, the engine's
    adjoint symbols (``delta_net_o1``), functions and ``pi``, ``E``."""
    context = target if isinstance(target, _Context) else _context(target)
    graph = context.graph
    names: dict[str, Any] = {**_CONSTANTS, **CLAIM_FUNCTIONS}
    names.update({s.name: s for s in (*graph.inputs, *graph.parameters, *graph.nodes)})
    for adjoint in context.derivation.adjoints.values():
        names.setdefault(adjoint.symbol.name, adjoint.symbol)
    return names


def parse_claim(text: str, target) -> Expr:
    """Read a claim written in the network's own names, safely.

    Only known names (see :func:`claim_names`), numbers, ``+ - * / ** ^``,
    parentheses and commas are let through, before anything is evaluated;
    attribute access, strings, keywords and builtins such as ``__import__``
    are refused with a :class:`ClaimError`. The text is parsed unevaluated,
    then evaluated bottom-up, refusing powers of numbers too large to compute.
    A batch copy ``out_o1[2]`` may be written as it is named. Decimals are
    read as exact fractions.
    """
    known = claim_names(target)
    local_dict = {name: value for name, value in known.items() if name.isidentifier()}
    transformations = (_guard(known), convert_xor, auto_number, rationalize)
    try:
        return _evaluated(parse_expr(text, local_dict, transformations, dict(_PARSER_GLOBALS), evaluate=False))
    except ClaimError:
        raise
    except TokenError:
        raise ClaimError(f"cannot read the claim {text!r}: unbalanced parentheses or an unfinished expression") from None
    except SyntaxError as error:
        raise ClaimError(f"cannot read the claim {text!r}: {error.msg}") from None
    except (TypeError, ValueError, ZeroDivisionError) as error:
        raise ClaimError(f"cannot read the claim {text!r}: {error}") from None


def _evaluated(expr: Expr) -> Expr:
    """``expr`` rebuilt with evaluation, innermost first; a power of numbers with a huge exponent is refused."""
    if not expr.args:
        return expr
    args = [_evaluated(arg) for arg in expr.args]
    if isinstance(expr, sympy.Pow) and all(a.is_Number for a in args) and abs(args[1]) > MAX_NUMBER_EXPONENT \
            and abs(args[0]) not in (0, 1):
        raise ClaimError(f"the claim raises {args[0]} to the power {sympy.sstr(args[1])[:20]}: too large to compute")
    return expr.func(*args)


def _guard(known: Mapping[str, Any]) -> Callable:
    """A parser transformation letting through only known names, numbers and arithmetic."""

    def transform(tokens, local_dict, global_dict):
        kept, i = [], 0
        while i < len(tokens):
            kind, text = tokens[i]
            copy = _batch_copy_name(tokens, i)
            if copy in known:  # ``out_o1[2]``: one name, aliased to a plain identifier
                alias = f"{tokens[i][1]}__example{tokens[i + 2][1]}"
                local_dict[alias] = known[copy]
                kept.append((NAME, alias))
                i += 4
                continue
            if kind == NAME and (text not in known or not text.isidentifier() or "__" in text):
                raise ClaimError(f"unknown name {text!r} in the claim (known: {_short_list(known)})")
            if kind not in (NAME, NUMBER, OP) and kind not in _LAYOUT_TOKENS or kind == OP and text not in _ARITHMETIC:
                raise ClaimError(
                    f"the claim may only use names, numbers, + - * / ** ^, parentheses and commas; found {text!r}"
                )
            kept.append(tokens[i])
            i += 1
        return kept

    return transform


def _batch_copy_name(tokens, i: int) -> str | None:
    """``name[k]`` when tokens ``i..i+3`` spell it."""
    window = tokens[i:i + 4]
    if len(window) == 4 and window[0][0] == NAME and window[1] == (OP, "[") and window[2][0] == NUMBER \
            and window[3] == (OP, "]"):
        return f"{window[0][1]}[{window[2][1]}]"
    return None


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
    expr = expr.replace(lambda e: isinstance(e, AppliedUndef), lambda e: CLAIM_FUNCTIONS[e.func.__name__](*e.args))
    return expr.xreplace(renamed)


def _read_claim(claim, context: _Context) -> Expr:
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
    folds = {}
    for eq in graph.equations:
        if not (eq.expr.is_Symbol or eq.expr.is_Number):
            folds[functions.elementary(eq.expr)] = eq.node
            folds[eq.expr] = eq.node
    return expr.xreplace(folds)


def _in_leaves(expr: Expr, graph: Graph) -> Expr:
    values: dict[Symbol, Expr] = {}
    for eq in graph.equations:
        values[eq.node] = eq.expr.xreplace(values)
    return expr.xreplace(values)


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


# ---------------------------------------------------------------- random points


@dataclass(frozen=True)
class _Point:
    values: dict[Symbol, Expr]  # drawn: inputs, targets, parameters (exact decimals)
    env: dict[Symbol, Expr]  # the drawn values, every node's forward value and every adjoint's value


def _sample_points(context: _Context, count: int, seed: int, digits: int) -> list[_Point]:
    """``count`` points where the forward pass is real and finite, drawn reproducibly from ``seed``.

    Inputs and parameters are uniform in [-1, 1], a network's targets in (0, 1],
    and the targets of a softmax cross-entropy form a probability vector (its
    derivative ``softmax - t`` assumes they sum to 1); all are 4-decimal fractions.
    """
    rng = random.Random(seed)
    points = []
    for _ in range(20 * count):
        values = _draw(context, rng)
        env = _evaluate_point(context, values, digits)
        if env is not None:
            points.append(_Point(values, env))
            if len(points) == count:
                return points
    raise ClaimError("found no random points where the network's forward pass is real and finite")


def _draw(context: _Context, rng: random.Random) -> dict[Symbol, Expr]:
    graph = context.graph
    targets = set(context.network.targets) if context.network is not None else set()
    values = {}
    for symbol in (*graph.inputs, *graph.parameters):
        low = 1 if symbol in targets else -10000
        values[symbol] = Rational(rng.randint(low, 10000), 10000)
    for group in _probability_targets(graph):
        weights = [rng.randint(1, 9) for _ in group]
        values.update({t: Rational(w, sum(weights)) for t, w in zip(group, weights)})
    return values


def _probability_targets(graph: Graph) -> list[tuple[Symbol, ...]]:
    """The target inputs of each softmax cross-entropy in the graph."""
    inputs = set(graph.inputs)
    groups = []
    for eq in graph.equations:
        for loss in eq.expr.atoms(functions.softmax_cross_entropy):
            groups.append(tuple(t for t in loss.targets if t in inputs))
    return groups


def _evaluate_point(context: _Context, values: Mapping[Symbol, Expr], digits: int) -> dict[Symbol, Expr] | None:
    """Forward values in graph order, then adjoints output first; None if any is not real and finite."""
    env: dict[Symbol, Expr] = dict(values)
    for eq in context.graph.equations:
        env[eq.node] = _number(eq.expr, env, digits)
        if env[eq.node] is None:
            return None
    for adjoint in context.derivation.adjoints.values():
        env[adjoint.symbol] = _number(adjoint.definition, env, digits)
        if env[adjoint.symbol] is None:
            return None
    return env


def _number(expr: Expr, env: Mapping[Symbol, Expr], digits: int) -> Expr | None:
    """``expr`` evaluated at ``env`` with ``digits`` significant digits (plus guard digits);
    None when the value is not a real, finite number."""
    value = _elementary(sympy.sympify(expr)).evalf(digits + 10, subs=dict(env))
    return value if value.is_Number and value.is_finite else None


@lru_cache(maxsize=4096)
def _elementary(expr: Expr) -> Expr:
    """``functions.elementary``, once per expression: points evaluate the same expressions again."""
    return functions.elementary(expr)


def _gradient_value(gradient: Gradient, env: Mapping[Symbol, Expr], digits: int) -> Expr:
    """The gradient at a point, from its delta form ``sum delta_c dc/dp`` (cheap at any depth)."""
    return _number(gradient.delta_form, env, digits)


def _close(a, b, digits: int) -> bool:
    """Agreement to about half the working digits: far above round-off, far below any real difference."""
    if a is None or b is None:
        return False
    tolerance = sympy.Float(10) ** (-(digits // 2))
    return abs(a - b) <= tolerance * max(abs(a), abs(b), tolerance)


# ---------------------------------------------------------------- diagnosis


def _diagnose(context: _Context, gradient: Gradient, points, claimed, expected, digits: int) -> str | None:
    """The first cheap explanation of the claim's values in terms of the gradient's, or None.

    Each candidate mistake says what the claim would be at every point (the
    gradient, the gradient without or with an extra local factor, without one
    path, or one path only); it explains the claim when ``claim / that`` is
    the same constant ``k`` at every point, ``k`` itself described (sign, 2, 1/n).
    """
    counts, loss = _known_counts(context), getattr(context.network, "loss", None)
    for mistake, would_be in _candidate_mistakes(context, gradient, points, expected, digits):
        k = _constant_ratio(claimed, would_be, digits)
        if k is None or (not mistake and _simple_fraction(k, digits) == 1):
            continue
        return "; ".join(part for part in (mistake, _describe_constant(k, counts, loss, digits)) if part)
    return None


def _candidate_mistakes(context, gradient, points, expected, digits) -> Iterator[tuple[str, list]]:
    """(description, what the claim would be at each point), cheapest and most common first."""
    yield "", list(expected)
    for label, factor in _factor_candidates(context, gradient):
        values = [_number(factor, p.env, digits) for p in points]
        yield f"missing the factor {label}", [_divide(t, f) for t, f in zip(expected, values)]
        yield f"an extra factor {label}", [_times(t, f) for t, f in zip(expected, values)]
    yield from _term_mistakes(context, gradient, points, expected, digits)
    if gradient.path_count < 2 or not gradient.paths_listed:
        return
    products = [[_number(path.product, p.env, digits) for p in points] for path in gradient.paths]
    labels = [_path_label(path, gradient.paths) for path in gradient.paths]
    for label, values in zip(labels, products):
        yield f"missing the path through {label}", [_minus(t, v) for t, v in zip(expected, values)]
    others = gradient.path_count - 1
    for label, values in zip(labels, products):
        yield f"only the path through {label}, missing the other {others} path{'s' * (others > 1)}", values


def _term_mistakes(context, gradient, points, expected, digits) -> Iterator[tuple[str, list]]:
    """A symbol used by several nodes (a shared bias) gets one term per user: a claim missing one, or keeping one only."""
    if len(gradient.terms) < 2:
        return
    terms = [(t.consumer, [_number(t.adjoint * t.local, p.env, digits) for p in points]) for t in gradient.terms]
    for user, values in terms:
        yield (f"missing the term through {user} ({gradient.symbol} also feeds {user})",
               [_minus(t, v) for t, v in zip(expected, values)])
    for user, values in terms:
        yield f"only the term through {user}, missing the other uses of {gradient.symbol}", values


def _factor_candidates(context: _Context, gradient: Gradient, limit: int = 64) -> list[tuple[str, Expr]]:
    """Local derivatives a claim may have lost or gained: every activation derivative of the graph
    (``sigmoid'(net_o1) = out_o1*(1 - out_o1)``), the loss's, then the other factors on the gradient's paths."""
    graph, local = context.graph, context.derivation.local
    on_paths = [(f.of, f.wrt) for path in gradient.paths for f in path.factors]
    activations = [(v, u) for (v, u) in local if _activation_of(graph, v, u)]
    losses = [(v, u) for (v, u) in local if v == graph.output]
    candidates: dict[Expr, str] = {}
    for v, u in (*activations, *losses, *on_paths):
        derivative = local[(v, u)]
        if not derivative.is_Number and derivative not in candidates:
            candidates[derivative] = _factor_label(graph, v, u, derivative)
    return [(label, derivative) for derivative, label in islice(candidates.items(), limit)]


def _activation_of(graph: Graph, node: Symbol, parent: Symbol) -> bool:
    """Whether ``node = f(parent, ...)`` for an elementwise function ``f``."""
    definition = graph.definition[node]
    return isinstance(definition, sympy.Function) and definition.args[0] == parent and node != graph.output


def _factor_label(graph: Graph, node: Symbol, parent: Symbol, derivative: Expr) -> str:
    if _activation_of(graph, node, parent):
        return f"{graph.definition[node].func.__name__}'({parent}) = {sympy.sstr(derivative)}"
    return f"d{node}/d{parent} = {sympy.sstr(derivative)}"


def _path_label(path: Path, paths: Sequence[Path]) -> str:
    """``out_o2 (E_total -> out_o2 -> ... -> w1)``: the path's first node not shared by every path, and the path."""
    shared = set.intersection(*(set(p.nodes) for p in paths))
    through = next(node for node in path.nodes if node not in shared)
    return f"{through} ({' -> '.join(node.name for node in path.nodes)})"


def _divide(a, b):
    return None if a is None or b is None or b == 0 else a / b


def _times(a, b):
    return None if a is None or b is None else a * b


def _minus(a, b):
    return None if a is None or b is None else a - b


def _constant_ratio(claimed, would_be, digits: int):
    """``k`` when ``claimed = k * would_be`` at every point where both are known, with at least two
    points where ``would_be`` is not 0 (a ReLU network's gradient is 0 wherever its units are off)."""
    known = [(c, w) for c, w in zip(claimed, would_be) if c is not None and w is not None]
    ratios = [c / w for c, w in known if w != 0]
    if len(ratios) < 2 or any(w == 0 and not _close(c, 0, digits) for c, w in known):
        return None
    first = ratios[0]
    return first if all(_close(r, first, digits) for r in ratios) else None


def _simple_fraction(k, digits: int) -> Fraction | None:
    """``k`` as a fraction with a small denominator, if it is one."""
    fraction = Fraction(float(k)).limit_denominator(1000)
    return fraction if _close(k, sympy.Rational(fraction.numerator, fraction.denominator), digits) else None


def _known_counts(context: _Context) -> list[tuple[int, str]]:
    """Counts a gradient is commonly divided by: the examples of a batch, the outputs of an MSE."""
    counts = []
    indices = [int(m.group(1)) for s in context.graph.inputs if (m := re.search(r"\[(\d+)\]$", s.name))]
    if indices and max(indices) > 1:
        counts.append((max(indices), "examples"))
    network = context.network
    if network is not None and network.loss in ("mse", "half_mse") and len(network.targets) > 1:
        counts.append((len(network.targets), "outputs"))
    return counts


def _describe_constant(k, counts, loss: str | None, digits: int) -> str:
    """Words for ``claim = k * (what it was compared with)``; empty when ``k = 1``."""
    fraction = _simple_fraction(k, digits)
    if fraction is None:
        return f"off by a constant factor {float(k):.9g}: the claim is {float(k):.9g} times the gradient"
    if fraction == 0:
        return "the claim is 0 at every point"
    parts = ["sign error: the claim has the opposite sign"] if fraction < 0 else []
    if abs(fraction) != 1:
        parts.append(_describe_size(abs(fraction), counts, loss))
    return "; ".join(parts)


def _describe_size(size: Fraction, counts, loss: str | None) -> str:
    """Words for a claim ``size`` times the gradient, with the usual cause when the counts or the loss suggest one."""
    hints = [f"the 1/n of the mean over n = {n} {what} is missing" for n, what in counts if size == n]
    hints += [f"an extra 1/n for n = {n} {what}" for n, what in counts if size == Fraction(1, n)]
    if size == 2 and loss in ("half_sse", "half_mse"):
        hints.append(f"a square's 2 kept although the {loss} loss's 1/2 cancels it")
    if size == Fraction(1, 2) and loss in ("sse", "mse"):
        hints.append(f"a square's 2 dropped although the {loss} loss has no 1/2 to cancel it")
    times = "half" if size == Fraction(1, 2) else f"{size} times"
    hint = f" ({'; or '.join(hints)})" if hints else ""
    return f"off by a factor {size}: the claim is {times} the gradient{hint}"


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
            lines.append(f"  at:        {_show_point(self.point)}")
            lines.append(f"  values:    expected {_show(self.expected_value)}, claimed {_show(self.claimed_value)}")
        if not self.equal:
            lines.append(f"  diagnosis: {self.diagnosis or 'none found (not a constant factor, a local factor or a path away)'}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The verdict as JSON-ready data (formulas as text and LaTeX, numbers as floats)."""
        from .printing import latex

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
    return "not a real number" if value is None else f"{float(value):.12g}"


def _show_point(point: Mapping, limit: int = 24) -> str:
    """``name = value, ...``: the first ``limit`` values (``to_dict`` has them all)."""
    shown = [f"{symbol} = {float(value):g}" for symbol, value in islice(point.items(), limit)]
    more = f", ... ({len(point) - limit} more)" if len(point) > limit else ""
    return ", ".join(shown) + more


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
    context = _context(target)
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
    samples = _sample_points(context, points, seed, digits)
    expected = [_gradient_value(gradient, p.env, digits) for p in samples]
    claimed_values = [_number(resolved, p.env, digits) for p in samples]
    differ = [i for i, (e, c) in enumerate(zip(expected, claimed_values)) if not _close(e, c, digits)]
    detail = f"{points} random points at {digits} significant digits"
    if not differ:
        return Verdict(equal=True, method="numeric", detail=f"agree at all {detail}", points=points,
                       digits=digits, **common)
    first = differ[0]
    return Verdict(
        equal=False, method="numeric", detail=f"differ at {len(differ)} of {detail}", points=points,
        digits=digits, differing=len(differ), point=samples[first].values,
        expected_value=expected[first], claimed_value=claimed_values[first],
        diagnosis=_diagnose_at_enough_points(context, gradient, resolved, samples, seed, digits), **common,
    )


#: A diagnosis compares ratios at this many points at least, however few decided the verdict.
DIAGNOSIS_POINTS = 8


def _diagnose_at_enough_points(context, gradient, claim, samples, seed, digits) -> str | None:
    """:func:`_diagnose` at the verdict's points, topped up to :data:`DIAGNOSIS_POINTS`
    (the same seed draws the same first points, so the verdict's points stay among them)."""
    if len(samples) < DIAGNOSIS_POINTS:
        samples = _sample_points(context, DIAGNOSIS_POINTS, seed, digits)
    expected = [_gradient_value(gradient, p.env, digits) for p in samples]
    claimed = [_number(claim, p.env, digits) for p in samples]
    return _diagnose(context, gradient, samples, claimed, expected, digits)


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


# ---------------------------------------------------------------- a hand-written backward pass


@dataclass(frozen=True)
class ParameterCheck:
    """One parameter's worst disagreement over the points: ``|got - expected| / max(|got|, |expected|)``
    (``inf`` when the backward gave no value)."""

    parameter: str
    relative_error: float
    expected: float
    got: float | None
    point: int  # 0-based index of the point where it is worst


@dataclass(frozen=True)
class BackwardReport:
    """A backward pass against the engine at ``points`` random points (``values``: their inputs,
    targets and parameters). ``problems`` lists what went wrong besides the gradients (a forward
    pass or loss that disagrees, a missing value)."""

    checks: tuple[ParameterCheck, ...]
    problems: tuple[str, ...]
    points: int
    rtol: float
    values: tuple[Mapping[str, float], ...] = ()

    @property
    def worst(self) -> dict[str, float]:
        """Parameter name -> worst relative error over the points."""
        return {c.parameter: c.relative_error for c in self.checks}

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.relative_error <= self.rtol for c in self.checks)

    def failing(self) -> tuple[ParameterCheck, ...]:
        return tuple(c for c in self.checks if not c.relative_error <= self.rtol)

    def summary(self) -> str:
        """The verdict, then one line per parameter (worst relative error, expected and got there)."""
        if self.ok:
            worst = max((c.relative_error for c in self.checks), default=0.0)
            head = f"backward: OK, worst relative error {worst:.2g} at {self.points} random points (rtol {self.rtol:g})"
        else:
            names = ", ".join(c.parameter for c in self.failing()) or "none"
            head = f"backward: WRONG for {names} at {self.points} random points (rtol {self.rtol:g})"
        lines = [head, f"  {'parameter':<12} {'worst rel. error':>16}   {'expected':>16}   {'got':>16}   point"]
        for c in self.checks:
            mark = "" if c.relative_error <= self.rtol else "   <- differs"
            lines.append(f"  {c.parameter:<12} {c.relative_error:>16.3g}   {c.expected:>16.9g}   "
                         f"{_show_float(c.got):>16}   {c.point + 1}{mark}")
        lines += [f"  problem: {p}" for p in self.problems]
        if not self.ok and self.values:
            lines += [f"  point {i + 1}: {_show_point(point)}"
                      for i, point in enumerate(self.values) if i in {c.point for c in self.failing()}]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok, "points": self.points, "rtol": self.rtol, "problems": list(self.problems),
            "parameters": [
                {"parameter": c.parameter, "relative_error": None if math.isinf(c.relative_error) else c.relative_error,
                 "expected": c.expected, "got": c.got, "point": c.point}
                for c in self.checks
            ],
            "values": [dict(v) for v in self.values],
        }


def _show_float(value) -> str:
    return "missing" if value is None else f"{value:.9g}"


def check_backward(target, backward, *, points: int = 5, seed: int = 0, rtol: float = 1e-6) -> BackwardReport:
    """Compare a user's numeric gradients with the engine's at ``points`` random points.

    ``backward`` is one of:

    * a function ``f(values) -> gradients``: ``values`` maps every input, target
      and parameter name to a float; it returns a mapping from parameter name to
      ``d output / d parameter`` (other keys are ignored);
    * "Deep Learning from Scratch" layers, for a layered Network of L dense
      layers: a list of layer objects in forward order, one layer object, or an
      object whose ``layers`` (a list or dict) and optional ``lastLayer`` (or
      ``last_layer``) give them. The protocol:

      - every layer has ``forward(x)`` and ``backward(dout)`` on row arrays of
        shape ``(1, width)``;
      - exactly L layers have attributes ``W`` and ``b`` (affine layers),
        matched in order with the dense layers: ``W`` of shape
        ``(inputs, units)``, ``W[k, j]`` the weight from input ``k`` to unit
        ``j`` (``y = x @ W + b``), ``b`` of shape ``(units,)``. Before each point
        the checker writes the point's parameters into them, in place when the
        arrays fit (a shared bias into every entry, no bias as zeros). After
        ``backward`` it reads ``dW`` (same layout as ``W``) and ``db``: a
        per-unit bias's gradient is ``db[j]``, a shared bias's ``db.sum()``;
      - the other layers (Sigmoid, Relu, ...) are the user's own;
      - the last layer may be a loss layer, recognised by a ``forward(y, t)``
        that requires two arguments: it gets the targets as a ``(1, n)`` row
        and returns the loss, and its backward is called as ``backward(1)``.
        Without one, the last layer's backward receives the engine's ``dE/dy``,
        ``y`` being the network's last activations, or its last
        pre-activations when the list ends with an affine layer.

      The forward output (or the loss) is compared with the engine too; a
      disagreement is listed in ``problems``.

    A parameter's relative error is ``|got - expected| / max(|got|, |expected|)``
    (``inf`` when no value was given); the report is ok when every worst error is
    at most ``rtol`` and there are no problems. Raises :class:`ClaimError` when
    the layers do not fit the network.
    """
    context = _context(target)
    run = _layer_runner(context, backward, rtol) if _is_layered(backward) else _function_runner(backward)
    samples = _sample_points(context, points, seed, digits=20)
    worst: dict[Symbol, ParameterCheck] = {}
    problems: list[str] = []
    for index, sample in enumerate(samples):
        got, trouble = run(sample)
        problems += [f"point {index + 1}: {t}" for t in trouble]
        for parameter, gradient in context.derivation.gradients.items():
            check = _compare(parameter.name, float(_gradient_value(gradient, sample.env, 20)),
                             got.get(parameter.name), index)
            if parameter not in worst or check.relative_error > worst[parameter].relative_error:
                worst[parameter] = check
    values = tuple({s.name: float(v) for s, v in p.values.items()} for p in samples)
    if len(problems) > 5:  # the same trouble at every point says nothing new
        problems[5:] = [f"... and {len(problems) - 5} more"]
    return BackwardReport(tuple(worst.values()), tuple(problems), points, rtol, values)


def _compare(name: str, expected: float, got, index: int) -> ParameterCheck:
    if got is None:
        return ParameterCheck(name, math.inf, expected, None, index)
    got = float(got)
    scale = max(abs(got), abs(expected))
    error = 0.0 if scale == 0 else abs(got - expected) / scale
    return ParameterCheck(name, error if math.isfinite(error) else math.inf, expected, got, index)


def _function_runner(backward) -> Callable:
    if not callable(backward):
        raise ClaimError(
            f"a backward is a function values -> gradients or a list of layers, got {type(backward).__name__}"
        )

    def run(sample: _Point):
        result = backward({s.name: float(v) for s, v in sample.values.items()})
        if not isinstance(result, Mapping):
            raise ClaimError(f"the backward function returned {type(result).__name__}, not a mapping name -> gradient")
        return {str(k): v for k, v in result.items()}, []

    return run


def _is_layered(backward) -> bool:
    return isinstance(backward, (list, tuple)) or hasattr(backward, "forward") or hasattr(backward, "layers")


def _layer_list(backward) -> list:
    """The layers in forward order: a list as given, or an object's ``layers`` plus its ``lastLayer``."""
    if isinstance(backward, (list, tuple)):
        return list(backward)
    if hasattr(backward, "layers"):
        layers = backward.layers
        layers = list(layers.values()) if isinstance(layers, Mapping) else list(layers)
        last = getattr(backward, "lastLayer", None) or getattr(backward, "last_layer", None)
        return layers + ([last] if last is not None else [])
    return [backward]


def _is_loss_layer(layer) -> bool:
    """A loss layer's ``forward(y, t)`` needs two arguments (DLfS ``SoftmaxWithLoss``)."""
    try:
        parameters = inspect.signature(layer.forward).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in positional and p.default is p.empty) >= 2


def _layer_runner(context: _Context, backward, rtol: float) -> Callable:
    """A function running the layers at a point, by the protocol in :func:`check_backward`'s docstring:
    it returns the gradients read from the affine layers, and the problems met."""
    network = context.network
    if network is None or not hasattr(network, "layers"):
        raise ClaimError("layers can only be checked against a layered Network (built by nn.mlp)")
    layers = _layer_list(backward)
    loss_layer = layers.pop() if layers and _is_loss_layer(layers[-1]) else None
    for layer in layers:
        if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
            raise ClaimError(f"layer {type(layer).__name__} has no forward and backward methods")
    affine = [layer for layer in layers if hasattr(layer, "W") and hasattr(layer, "b")]
    if len(affine) != len(network.layers):
        raise ClaimError(f"the backward has {len(affine)} layers with W and b; the network has "
                         f"{len(network.layers)} dense layers")
    last = network.layers[-1]
    fed = last.nets if layers[-1] is affine[-1] else last.outs
    if loss_layer is None and any(n not in context.derivation.adjoints for n in fed):
        raise ClaimError("the loss does not depend on the last layer's outputs here: give a loss layer last")

    def run(sample: _Point):
        env = sample.env
        for layer, dense in zip(affine, network.layers):
            _load_parameters(layer, dense, sample.values)
        y = _row(sample.values, network.inputs)
        for layer in layers:
            y = layer.forward(y)
        if loss_layer is not None:
            loss = loss_layer.forward(y, _row(sample.values, network.targets))
            trouble = _disagreement("the loss", loss, [env[network.output]], rtol)
            dout = loss_layer.backward(1)
        else:
            trouble = _disagreement("the forward output", y, [env[n] for n in fed], rtol)
            dout = _row(env, [context.derivation.adjoints[n].symbol for n in fed])
        for layer in reversed(layers):
            dout = layer.backward(dout)
        got: dict[str, float] = {}
        for layer, dense in zip(affine, network.layers):
            trouble += _read_gradients(layer, dense, got)
        return got, trouble

    return run


def _row(values: Mapping[Symbol, Expr], symbols) -> np.ndarray:
    return np.array([[float(values[s]) for s in symbols]])


def _load_parameters(layer, dense, values: Mapping[Symbol, Expr]) -> None:
    weights = np.array([[float(values[row[k]]) for row in dense.weights] for k in range(len(dense.inputs))])
    biases = np.array([0.0 if b is None else float(values[b]) for b in dense.biases])
    _assign(layer, "W", weights, dense.index)
    _assign(layer, "b", biases, dense.index)


def _assign(layer, name: str, value: np.ndarray, index: int) -> None:
    """Write ``value`` into the layer's array in place (so shared references see it), or set it."""
    current = getattr(layer, name, None)
    if isinstance(current, np.ndarray) and current.size == value.size and current.dtype.kind == "f":
        current[...] = value.reshape(current.shape)
    elif isinstance(current, np.ndarray) and current.size != value.size:
        raise ClaimError(f"dense layer {index}: {name} has shape {current.shape}, expected {value.shape} "
                         f"({'inputs x units' if name == 'W' else 'units'})")
    else:
        setattr(layer, name, value)


def _read_gradients(layer, dense, got: dict[str, float]) -> list[str]:
    """Read ``dW`` and ``db`` into ``got`` by parameter name; the shape problems found."""
    dW = np.asarray(getattr(layer, "dW", None), dtype=float)
    db = np.asarray(getattr(layer, "db", None), dtype=float).ravel()
    shape = (len(dense.inputs), len(dense.nets))
    if dW.shape != shape:
        return [f"dense layer {dense.index}: dW has shape {dW.shape}, expected {shape} (inputs x units)"]
    got.update({w.name: dW[k, j] for j, row in enumerate(dense.weights) for k, w in enumerate(row)})
    biases = dense.bias_parameters
    if len(biases) == 1 and len(dense.biases) > 1:  # shared: the sum over the units it feeds
        got[biases[0].name] = db.sum()
    elif biases and db.shape == (len(biases),):
        got.update({b.name: db[j] for j, b in enumerate(biases)})
    elif biases:
        return [f"dense layer {dense.index}: db has shape {db.shape}, expected ({len(biases)},)"]
    return []


def _disagreement(what: str, got, expected, rtol: float) -> list[str]:
    got = np.asarray(got, dtype=float).ravel()
    expected = np.array([float(e) for e in expected])
    if got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=0):
        return []
    return [f"{what} is {np.array2string(got, precision=9)} but the network gives "
            f"{np.array2string(expected, precision=9)}"]


def assert_backward(target, backward, **options) -> BackwardReport:
    """For pytest: raise ``AssertionError`` with :meth:`BackwardReport.summary` unless the backward
    agrees with the engine. ``options`` go to :func:`check_backward`. Returns the report when ok."""
    report = check_backward(target, backward, **options)
    if not report.ok:
        raise AssertionError("\n" + report.summary())
    return report
