"""The independent reference every gradient is checked against.

The reference for ``d output / d p`` is ``sympy.diff`` of the whole output
written in inputs and parameters only, with every symprop function rewritten
into elementary functions (``functions.elementary``), so it never sees the
derivative identities nor the reverse walk.

Two ways to compare:

* exactly, when cheap: ``sympy.expand(a - b) == 0`` (:func:`exactly_equal`);
* numerically, at random points with 30-digit arithmetic
  (:func:`assert_equal_at_random_points`), for everything else.

Expressions from a derivation are in forward quantities (node symbols) and
adjoint symbols; :func:`in_leaves` and :func:`resolved_adjoints` write them
in inputs and parameters only.
"""
from __future__ import annotations

import random
from typing import Iterable, Mapping, Sequence

import sympy
from sympy import Expr, Float, Symbol

from symprop.model import functions
from symprop.model.graph import Graph

DIGITS = 30
#: Relative tolerance of a numeric comparison, far above 30-digit round-off
#: and far below any real disagreement.
TOLERANCE = sympy.Float("1e-20", DIGITS)


def reference_loss(graph: Graph) -> Expr:
    """The output in inputs and parameters, in elementary functions only."""
    return functions.elementary(graph.expanded())


def reference_gradient(graph: Graph, parameter: Symbol) -> Expr:
    """``sympy.diff`` of the fully expanded, elementary output."""
    return sympy.diff(reference_loss(graph), parameter)


def reference_gradients(graph: Graph, parameters: Iterable[Symbol] | None = None) -> dict[Symbol, Expr]:
    """:func:`reference_gradient` for every parameter (or those given), expanding the output once."""
    loss = reference_loss(graph)
    return {p: sympy.diff(loss, p) for p in (graph.parameters if parameters is None else parameters)}


def in_leaves(graph: Graph, expr: Expr) -> Expr:
    """``expr`` with every node replaced by its expression in inputs and parameters."""
    values: dict[Symbol, Expr] = {}
    for eq in graph.equations:
        values[eq.node] = eq.expr.xreplace(values)
    return expr.xreplace(values)


def resolved_adjoints(derivation) -> dict[Symbol, Expr]:
    """Adjoint symbol -> its definition with every adjoint symbol in it replaced in turn
    (the recurrence ``delta_u = sum delta_v dv/du`` unrolled, output first)."""
    resolved: dict[Symbol, Expr] = {}
    for adjoint in derivation.adjoints.values():  # output first: consumers come before
        resolved[adjoint.symbol] = adjoint.definition.xreplace(resolved)
    return resolved


def delta_form_resolved(derivation, gradient) -> Expr:
    """A gradient's delta form with the adjoint definitions substituted."""
    return gradient.delta_form.xreplace(resolved_adjoints(derivation))


def exactly_equal(expr_a: Expr, expr_b: Expr) -> bool:
    """True when ``a - b`` expands to 0 (no ``simplify``: it may not finish)."""
    return sympy.expand(expr_a - expr_b) == 0


def exactly_equal_in_exponentials(expr_a: Expr, expr_b: Expr) -> bool:
    """True when ``a - b``, both written in elementary functions, cancels to 0 as a
    rational function of its exponentials (``sympy.cancel``; slow beyond small nets)."""
    return sympy.cancel(functions.elementary(expr_a) - functions.elementary(expr_b)) == 0


def identity_gradient(graph: Graph, parameter: Symbol) -> Expr:
    """``sympy.diff`` of the expanded output using the functions' own derivative
    identities (``fdiff``): what the engine's sum over paths must match term for term."""
    return sympy.diff(graph.expanded(), parameter)


def assert_gradients_exact(derivation, parameters: Iterable[Symbol] | None = None) -> None:
    """For every parameter, the closed form, the delta form (adjoints substituted) and
    the sum over listed paths, written in inputs and parameters, minus
    :func:`identity_gradient` expands to exactly 0.

    Together with each identity checked against its elementary definition
    (tests/test_functions.py) this proves the gradients exactly."""
    graph = derivation.graph
    loss = graph.expanded()
    resolved = resolved_adjoints(derivation)
    for p in graph.parameters if parameters is None else parameters:
        gradient = derivation.gradients[p]
        expected = sympy.diff(loss, p)
        forms = {"closed form": gradient.closed_form, "delta form": gradient.delta_form.xreplace(resolved)}
        if gradient.paths_listed:
            forms["sum over paths"] = gradient.sum_over_paths
        for name, form in forms.items():
            assert exactly_equal(in_leaves(graph, form), expected), f"{p} {name}: {form} != {expected}"


def random_points(
    symbols: Sequence[Symbol], points: int = 5, seed: int = 0, low: float = -2.0, high: float = 2.0
) -> list[dict[Symbol, Float]]:
    """``points`` assignments of 30-digit values drawn uniformly from ``[low, high]``."""
    rng = random.Random(seed)
    return [{s: Float(rng.uniform(low, high), DIGITS) for s in symbols} for _ in range(points)]


def with_derived_values(point: Mapping[Symbol, Float], derived: Mapping[Symbol, Expr] | None) -> dict[Symbol, Float]:
    """``point`` with each symbol of ``derived`` set from the others (``{t2: 1 - t1}``
    keeps targets summing to 1)."""
    values = dict(point)
    for symbol, expr in (derived or {}).items():
        values[symbol] = numeric_value(expr, values)
    return values


def with_forward_values(graph: Graph, point: Mapping[Symbol, Float]) -> dict[Symbol, Float]:
    """``point`` extended with the value of every node (the forward pass)."""
    values = dict(point)
    for eq in graph.equations:
        values[eq.node] = numeric_value(eq.expr, values)
    return values


def numeric_value(expr: Expr, point: Mapping[Symbol, Float]) -> Expr:
    """``expr`` at ``point`` with 30-digit arithmetic."""
    return functions.elementary(sympy.sympify(expr)).xreplace(dict(point)).evalf(DIGITS)


def assert_close(value_a: Expr, value_b: Expr, what: str = "") -> None:
    """``|a - b| <= 1e-20 max(1, |a|, |b|)``, and both are real numbers."""
    assert value_a.is_number and value_b.is_number, f"{what}: not numbers: {value_a} vs {value_b}"
    assert value_a.is_real and value_b.is_real, f"{what}: not real: {value_a} vs {value_b}"
    scale = max(1, abs(value_a), abs(value_b))
    assert abs(value_a - value_b) <= TOLERANCE * scale, f"{what}: {value_a} != {value_b}"


def assert_equal_at_random_points(
    expr_a: Expr,
    expr_b: Expr,
    symbols: Iterable[Symbol],
    points: int = 5,
    seed: int = 0,
    graph: Graph | None = None,
    low: float = -2.0,
    high: float = 2.0,
    derived: Mapping[Symbol, Expr] | None = None,
) -> None:
    """``expr_a == expr_b`` at ``points`` random values of ``symbols`` (30 digits).

    With ``graph``, node symbols in either expression take their forward-pass
    values at each point, so closed forms in forward quantities can be checked
    against a reference in inputs and parameters. ``derived`` sets some symbols
    from the others (see :func:`with_derived_values`).
    """
    symbols = tuple(symbols)
    for index, point in enumerate(random_points(symbols, points, seed, low, high)):
        point = with_derived_values(point, derived)
        if graph is not None:
            point = with_forward_values(graph, point)
        assert_close(numeric_value(expr_a, point), numeric_value(expr_b, point), f"point {index}")


def assert_gradients_match_reference(
    derivation, points: int = 3, seed: int = 0, parameters: Iterable[Symbol] | None = None,
    low: float = -2.0, high: float = 2.0, derived: Mapping[Symbol, Expr] | None = None,
) -> None:
    """For every parameter: its closed form, its delta form (adjoints substituted) and
    its sum over listed paths all equal the reference gradient at random points
    (``derived``: symbols set from the others, see :func:`with_derived_values`)."""
    graph = derivation.graph
    leaves = (*graph.inputs, *graph.parameters)
    chosen = tuple(graph.parameters if parameters is None else parameters)
    references = reference_gradients(graph, chosen)
    resolved = resolved_adjoints(derivation)
    for index, point in enumerate(random_points(leaves, points, seed, low, high)):
        values = with_forward_values(graph, with_derived_values(point, derived))
        for p in chosen:
            gradient = derivation.gradients[p]
            expected = numeric_value(references[p], values)
            forms = {"closed form": gradient.closed_form, "delta form": gradient.delta_form.xreplace(resolved)}
            if gradient.paths_listed:
                forms["sum over paths"] = gradient.sum_over_paths
            for name, form in forms.items():
                assert_close(numeric_value(form, values), expected, f"{p} {name} at point {index}")
