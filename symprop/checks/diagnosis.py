"""Why a claimed gradient differs from the engine's: the first cheap explanation of its values.

Each candidate mistake says what the claim would be at every point: the
gradient itself, the gradient without or with an extra local-derivative
factor (``sigmoid'(net_o1)``), with a sibling symbol for one of its own
(``i2`` for ``i1``, ``w6`` for ``w5``), a sibling parameter's gradient, without
one chain-rule path or term, or one path only. A candidate explains the claim when ``claim / candidate`` is the
same constant ``k`` at every point; ``k`` is then described (a sign, a
square's 2, the 1/n of a mean).
"""
from __future__ import annotations

import re
from fractions import Fraction
from itertools import islice
from typing import Iterator, Sequence

import sympy
from sympy import Expr, Integer, Symbol

from symprop.engine.records import Gradient, Path
from symprop.model.graph import Graph
from symprop.model.losses import LOSS_RECORDS
from symprop.checks.random_points import Context, close, gradient_value, sample_points, value_at
from symprop.printing.numbers import plain_number


#: A diagnosis compares ratios at this many points at least, however few decided the verdict.
DIAGNOSIS_POINTS = 8


def diagnose(context, gradient, claim, samples, seed, digits) -> str | None:
    """:func:`_diagnose_values` at the verdict's points, topped up to :data:`DIAGNOSIS_POINTS`
    (the same seed draws the same first points, so the verdict's points stay among them)."""
    if len(samples) < DIAGNOSIS_POINTS:
        samples = sample_points(context, DIAGNOSIS_POINTS, seed, digits)
    expected = [gradient_value(gradient, p.env, digits) for p in samples]
    claimed = [value_at(claim, p.env, digits) for p in samples]
    return _diagnose_values(context, gradient, samples, claimed, expected, digits)


def _diagnose_values(context: Context, gradient: Gradient, points, claimed, expected, digits: int) -> str | None:
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
        values = [value_at(factor, p.env, digits) for p in points]
        yield f"missing the factor {label}", [_divide(t, f) for t, f in zip(expected, values)]
        yield f"an extra factor {label}", [_times(t, f) for t, f in zip(expected, values)]
    yield from _term_mistakes(context, gradient, points, expected, digits)
    yield from _sibling_mistakes(context, gradient, points, digits)
    if gradient.path_count < 2 or not gradient.paths_listed:
        return
    products = [[value_at(path.product, p.env, digits) for p in points] for path in gradient.paths]
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
    terms = [(t.consumer, [value_at(t.adjoint * t.local, p.env, digits) for p in points]) for t in gradient.terms]
    for user, values in terms:
        yield (f"missing the term through {user} ({gradient.symbol} also feeds {user})",
               [_minus(t, v) for t, v in zip(expected, values)])
    for user, values in terms:
        yield f"only the term through {user}, missing the other uses of {gradient.symbol}", values


#: Largest closed form (tree nodes) whose symbols are swapped for their siblings one by one.
SIBLING_FORM_LIMIT = 2000
#: Sibling swaps tried at most: each costs an evaluation at every point.
SIBLING_SWAPS = 48


def _sibling_mistakes(context: Context, gradient: Gradient, points, digits) -> Iterator[tuple[str, list]]:
    """A claim that took a sibling for the right name: the gradient with one of its symbols
    replaced by a sibling of the same family (``i2`` for ``i1``, ``out_h2`` for ``out_h1``,
    ``w6`` for ``w5``), said to be a sibling parameter's gradient when it is; then the
    gradient of a sibling parameter (``w7``'s for ``w5``)."""
    graph, gradients = context.graph, context.derivation.gradients
    others = _siblings(gradient.symbol, graph.parameters)
    form = gradient.closed_form
    if sum(1 for _ in islice(sympy.preorder_traversal(form), SIBLING_FORM_LIMIT + 1)) <= SIBLING_FORM_LIMIT:
        theirs = {gradients[q].closed_form: q for q in others}
        known = (*graph.inputs, *graph.parameters, *graph.nodes)
        swaps = [(s, sib) for s in sorted(form.free_symbols, key=lambda s: s.name) for sib in _siblings(s, known)]
        for symbol, sibling in islice(swaps, SIBLING_SWAPS):
            swapped = form.xreplace({symbol: sibling})
            if swapped == form:
                continue
            whose = f" (the gradient of {theirs[swapped]})" if swapped in theirs else ""
            yield (f"uses {sibling} where the gradient has {symbol}{whose}",
                   [value_at(swapped, p.env, digits) for p in points])
    for other in others:
        yield (f"the gradient of {other}, not of {gradient.symbol}",
               [gradient_value(gradients[other], p.env, digits) for p in points])


def _siblings(symbol: Symbol, symbols) -> list[Symbol]:
    """The symbols named like ``symbol`` but for one number (``i2`` and ``i1``, ``w2_1_2`` and ``w2_2_2``)."""
    parts = re.split(r"(\d+)", symbol.name)
    siblings = []
    for other in symbols:
        others = re.split(r"(\d+)", other.name)
        if other == symbol or len(others) != len(parts):
            continue
        differing = [i for i, (a, b) in enumerate(zip(parts, others)) if a != b]
        if len(differing) == 1 and differing[0] % 2 == 1:  # the odd pieces are the numbers
            siblings.append(other)
    return siblings


def _factor_candidates(context: Context, gradient: Gradient, limit: int = 64) -> list[tuple[str, Expr]]:
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
    if len(ratios) < 2 or any(w == 0 and not close(c, 0, digits) for c, w in known):
        return None
    first = ratios[0]
    if close(first, 0, digits) and not all(close(c, 0, digits) for c, _ in known):
        return None  # a ratio that only looks like 0 (the gradient is astronomically large), not a zero claim
    return first if all(close(r, first, digits) for r in ratios) else None


def _simple_fraction(k, digits: int) -> Fraction | None:
    """``k`` as a fraction with a small denominator, if it is one."""
    fraction = Fraction(float(k)).limit_denominator(1000)
    return fraction if close(k, sympy.Rational(fraction.numerator, fraction.denominator), digits) else None


def _known_counts(context: Context) -> list[tuple[int, str]]:
    """Counts a gradient is commonly divided by: the examples of a batch, the outputs of an MSE."""
    counts = []
    indices = [int(m.group(1)) for s in context.graph.inputs if (m := re.search(r"\[(\d+)\]$", s.name))]
    if indices and max(indices) > 1:
        counts.append((max(indices), "examples"))
    network = context.network
    if network is not None and _averages_outputs(network.loss) and len(network.targets) > 1:
        counts.append((len(network.targets), "outputs"))
    return counts


def _gradient_scale(loss: str | None, outputs) -> Expr | None:
    """The loss record's ``dC/da = scale (a - t)`` multiple for ``outputs`` outputs, or None."""
    record = LOSS_RECORDS.get(loss)
    return None if record is None or record.gradient_scale is None else record.gradient_scale(outputs)


def _averages_outputs(loss: str | None) -> bool:
    """Whether the loss is a mean over the outputs: its gradient's multiple depends on their number."""
    n = Symbol("n", positive=True)
    scale = _gradient_scale(loss, n)
    return scale is not None and scale.has(n)


def _describe_constant(k, counts, loss: str | None, digits: int) -> str:
    """Words for ``claim = k * (what it was compared with)``; empty when ``k = 1``."""
    fraction = _simple_fraction(k, digits)
    if fraction is None:
        factor = plain_number(float(k), 9)
        return f"off by a constant factor {factor}: the claim is {factor} times the gradient"
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
    # per output, a halved square's gradient is 1 (a - t); a plain square's is 2 (a - t)
    one_output = _gradient_scale(loss, Integer(1))
    if size == 2 and one_output == 1:
        hints.append(f"a square's 2 kept although the {loss} loss's 1/2 cancels it")
    if size == Fraction(1, 2) and one_output == 2:
        hints.append(f"a square's 2 dropped although the {loss} loss has no 1/2 to cancel it")
    times = "half" if size == Fraction(1, 2) else f"{size} times"
    hint = f" ({'; or '.join(hints)})" if hints else ""
    return f"off by a factor {size}: the claim is {times} the gradient{hint}"
