"""The numbers a caller gives the worked example, checked before any arithmetic.

From a file, ``[values]`` and ``[train]`` are checked as they are read; from
Python, ``worked_example(derivation, values, learning_rate=...)`` gets the
same refusal here, in one line, instead of a NaN that spreads through every
number of the document or a ``TypeError`` deep in generated code.
"""
from __future__ import annotations

import math

from symprop.errors import SympropError, given
from symprop.model.losses import a_distribution, softmax_cross_entropy


class NotAFiniteNumber(SympropError, ValueError):
    """A value or learning rate that is not a finite real number (or, for a learning rate, not positive)."""


def finite_real(value, what: str) -> float:
    """``value`` as a float, refused unless it is a finite real number: not a bool, None, a
    complex number, text that is not a number, NaN, an infinity, or an integer past float64."""
    if isinstance(value, (bool, complex)) or value is None:
        raise NotAFiniteNumber(f"{what} is {given(value)}: expected a finite real number")
    try:
        number = float(value)
    except OverflowError:
        raise NotAFiniteNumber(f"{what} is too large for float64: expected a finite real number") from None
    except (TypeError, ValueError):
        raise NotAFiniteNumber(f"{what} is {given(value)}: expected a finite real number") from None
    if not math.isfinite(number):
        raise NotAFiniteNumber(f"{what} is {number}: expected a finite real number")
    return number


def positive_learning_rate(rate) -> None:
    """A learning rate must be a finite positive number: a step of NaN, infinity or zero is no step."""
    number = finite_real(rate, "learning_rate")
    if number <= 0:
        raise NotAFiniteNumber(f"learning_rate is {number}: expected a finite positive number")


class TargetsNotADistribution(SympropError, ValueError):
    """Targets of softmax with cross-entropy that do not sum to 1."""


def softmax_targets_sum_to_one(derivation, rows) -> None:
    """The engine derives softmax with cross-entropy as ``dL/dz = softmax(z) - t``, which holds
    only when the targets sum to 1: given targets (``rows``, per example the numbers of the
    graph's inputs in order) that do not are refused, naming them and their sum, rather than
    worked with a gradient that is not theirs."""
    graph = derivation.graph
    position = {s: i for i, s in enumerate(graph.inputs)}
    for use in (f for f in graph.applied_functions if isinstance(f, softmax_cross_entropy)):
        if not all(t in position for t in use.targets):  # targets the graph computes are no given numbers
            continue
        for number, row in enumerate(rows, start=1):
            total = sum(finite_real(row[position[t]], t.name) for t in use.targets)
            if not a_distribution(total):
                where = f" in example {number}" if len(rows) > 1 else ""
                raise TargetsNotADistribution(
                    f"the targets {', '.join(t.name for t in use.targets)} sum to {total:g}{where}: "
                    "softmax_cross_entropy expects a one-hot label or probabilities summing to 1")
