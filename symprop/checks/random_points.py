"""Random points at which the checks compare a target's values with the engine's.

The target (a Network, Graph or Derivation) is read as its graph and
derivation; points are drawn reproducibly from a seed where its forward pass
is real and finite, and expressions are evaluated there with a given number
of significant digits. :class:`ClaimError` is the one error of the checks
(:mod:`symprop.check`, :mod:`symprop.backward_check`).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any, Mapping

import sympy
from sympy import Expr, Rational, Symbol

from symprop.errors import SympropError
from symprop.model import functions
from symprop.engine.backprop import derive
from symprop.engine.records import Derivation, Gradient
from symprop.model.graph import Graph
from symprop.printing.numbers import plain_number


class ClaimError(SympropError, ValueError):
    """A claim or a backward that cannot be checked (unsafe text, unknown name, wrong shape), in one line."""


# ---------------------------------------------------------------- the target


@dataclass(frozen=True)
class Context:
    """What a check runs against: a graph, its derivation and the layered network it came from, if any."""

    graph: Graph
    derivation: Derivation
    network: Any  # a symprop.model.nn.Network, or None for a plain graph


def context_of(target) -> Context:
    """The graph, derivation and (if any) layered network behind a Network, Graph or Derivation."""
    if isinstance(target, Derivation):
        return Context(target.graph, target, target.network)
    if isinstance(target, Graph):
        return Context(target, derive(target), None)
    if isinstance(getattr(target, "graph", None), Graph):
        return Context(target.graph, derive(target), target)
    raise ClaimError(f"expected a Network, Graph or Derivation to check against, got {type(target).__name__}")


# ---------------------------------------------------------------- random points


@dataclass(frozen=True)
class Point:
    """A random point: the values drawn, and every quantity of the graph evaluated there."""

    values: dict[Symbol, Expr]  # drawn: inputs, targets, parameters (exact decimals)
    env: dict[Symbol, Expr]  # the drawn values, every node's forward value and every adjoint's value


def sample_points(context: Context, count: int, seed: int, digits: int) -> list[Point]:
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
            points.append(Point(values, env))
            if len(points) == count:
                return points
    raise ClaimError("found no random points where the network's forward pass is real and finite")


def _draw(context: Context, rng: random.Random) -> dict[Symbol, Expr]:
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
    return [tuple(t for t in loss.targets if t in inputs)
            for loss in graph.applied_functions if isinstance(loss, functions.softmax_cross_entropy)]


def _evaluate_point(context: Context, values: Mapping[Symbol, Expr], digits: int) -> dict[Symbol, Expr] | None:
    """Forward values in graph order, then adjoints output first; None if any is not real and finite."""
    env: dict[Symbol, Expr] = dict(values)
    for eq in context.graph.equations:
        env[eq.node] = value_at(eq.expr, env, digits)
        if env[eq.node] is None:
            return None
    for adjoint in context.derivation.adjoints.values():
        env[adjoint.symbol] = value_at(adjoint.definition, env, digits)
        if env[adjoint.symbol] is None:
            return None
    return env


def value_at(expr: Expr, env: Mapping[Symbol, Expr], digits: int) -> Expr | None:
    """``expr`` evaluated at ``env`` with ``digits`` significant digits (plus guard digits);
    None when the value is not a real, finite number."""
    value = _elementary(sympy.sympify(expr)).evalf(digits + 10, subs=dict(env))
    return value if value.is_Number and value.is_finite else None


@lru_cache(maxsize=4096)
def _elementary(expr: Expr) -> Expr:
    """``functions.elementary``, once per expression: points evaluate the same expressions again."""
    return functions.elementary(expr)


def gradient_value(gradient: Gradient, env: Mapping[Symbol, Expr], digits: int) -> Expr:
    """The gradient at a point, from its delta form ``sum delta_c dc/dp`` (cheap at any depth)."""
    return value_at(gradient.delta_form, env, digits)


def close(a, b, digits: int) -> bool:
    """Agreement to about half the working digits: far above round-off, far below any real difference."""
    if a is None or b is None:
        return False
    tolerance = sympy.Float(10) ** (-(digits // 2))
    return bool(abs(a - b) <= tolerance * max(abs(a), abs(b), tolerance))


def show_point(point: Mapping, limit: int = 24) -> str:
    """``name = value, ...``: the first ``limit`` values (``to_dict`` has them all)."""
    shown = [f"{symbol} = {plain_number(float(value), 6)}" for symbol, value in islice(point.items(), limit)]
    more = f", ... ({len(point) - limit} more)" if len(point) > limit else ""
    return ", ".join(shown) + more
