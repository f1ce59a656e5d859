"""The gradient check: each symbolic gradient against central finite differences of the loss.

``n = (E(w + h) - E(w - h)) / 2h`` with ``h = STEP max(1, |w|)``, in float64;
a disagreement raises :class:`GradientCheckError` naming the parameter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sympy import Symbol

from symprop.errors import FailedCheck
from symprop.printing.numbers import plain_number
from symprop.numbers.evaluation import FLOAT, NumericError, check_options, given_values, loss_and_gradients, program_of, to_float
from symprop.printing.notebook import inline_math, mark, number

#: Central-difference step, relative to max(1, |w|): about the cube root of float64's
#: epsilon, which balances the truncation error (~h^2) against rounding (~eps/h).
STEP = 2.0 ** -17
#: A symbolic and a finite-difference gradient agree when
#: |s - n| <= RELATIVE_TOLERANCE max(|s|, |n|) + ABSOLUTE_TOLERANCE max(1, |E|);
#: the absolute part covers near-zero gradients, where rounding of E/h dominates.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-8


class GradientCheckError(FailedCheck, ValueError):
    """A symbolic gradient that disagrees with central finite differences."""


@dataclass(frozen=True)
class GradientCheck:
    """One parameter's symbolic gradient beside its finite-difference estimate."""

    parameter: Symbol
    symbolic: float
    numeric: float
    relative_error: float
    ok: bool

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the gradient beside its finite-difference estimate."""
        return (f"{inline_math(self.parameter)}: gradient {number(self.symbolic)}, finite differences "
                f"{number(self.numeric)}, relative error {number(self.relative_error, 2)} {mark(self.ok)}\n")


def gradient_check(derivation, values, *, examples=None, reduction="mean", gradients=None) -> tuple[GradientCheck, ...]:
    r"""Compare each parameter's gradient with central differences of the loss, in float64.

    ``n = (E(w + h) - E(w - h)) / 2h`` with ``h = STEP max(1, |w|)``; they agree when
    ``|s - n| <= RELATIVE_TOLERANCE max(|s|, |n|) + ABSOLUTE_TOLERANCE max(1, |E|)``.
    At a kink (ReLU at ``z = 0``) the central quotient averages the two one-sided
    slopes while the derivation takes the one-sided derivative of the convention
    ``relu'(0) = H(0) = 0``; so a gradient that disagrees with the central quotient
    is accepted when it matches a second-order one-sided quotient
    ``(-3E(w) + 4E(w +- h) - E(w +- 2h)) / (+-2h)``, which is then reported, or
    lies between the two (any such value is a subgradient: ``Max`` at a tie).
    A loss undefined on one side (a log or root at 0) raises :class:`NumericError`.
    ``gradients`` (parameter -> value) defaults to the derivation's, evaluated here.
    Raises :class:`GradientCheckError` naming the first parameter that disagrees.
    """
    check_options(reduction, 0)
    graph = derivation.graph
    raw_rows, raw_parameters = given_values(graph, values, examples)
    rows = [tuple(FLOAT.number(x) for x in row) for row in raw_rows]
    parameters = tuple(FLOAT.number(x) for x in raw_parameters)
    program = program_of(derivation, FLOAT)
    if gradients is None:
        symbolic = loss_and_gradients(program, FLOAT, rows, parameters, reduction)[1]
    else:
        symbolic = tuple(to_float(gradients[p]) for p in graph.parameters)

    def loss(point):
        return loss_and_gradients(program, FLOAT, rows, point, reduction, gradients=False)[0]

    return central_checks(loss, parameters, [(i, p, s) for i, (p, s) in enumerate(zip(graph.parameters, symbolic))])


def input_gradient_check(derivation, values, gradients, *, examples=None) -> tuple[GradientCheck, ...]:
    r"""Each input gradient ``dE_1/dx`` (the first example's loss) against central
    differences of that loss in the input, with the parameters held fixed; the
    same quotients and tolerance as :func:`gradient_check`. ``gradients``: input ->
    value. Raises :class:`GradientCheckError` naming the first input that disagrees."""
    graph = derivation.graph
    raw_rows, raw_parameters = given_values(graph, values, examples)
    row = tuple(FLOAT.number(x) for x in raw_rows[0])
    parameters = tuple(FLOAT.number(x) for x in raw_parameters)
    program = program_of(derivation, FLOAT)

    def loss(point):
        return loss_and_gradients(program, FLOAT, [point], parameters, "sum", gradients=False)[0]

    position = {x: i for i, x in enumerate(graph.inputs)}
    return central_checks(loss, row, [(position[x], x, to_float(gradients[x])) for x in derivation.input_gradients])


# --- gradient check internals ---

def central_checks(loss, point, targets) -> tuple[GradientCheck, ...]:
    """A :func:`check_parameter` row for each ``(index, symbol, symbolic value)`` of ``targets``,
    ``loss`` taken at ``point`` with the index-th coordinate moved; a :class:`NumericError`
    when the loss overflows at ``point``, a :class:`GradientCheckError` naming the first
    symbol that disagrees."""
    at_point = loss(point)
    if not math.isfinite(at_point):
        raise NumericError(f"the loss is {at_point} in float64 at the given values (it overflows), so finite "
                           "differences cannot check the gradients: choose smaller values")
    checks = tuple(check_parameter(loss, point, i, symbol, value, at_point) for i, symbol, value in targets)
    failures = [c for c in checks if not c.ok]
    if failures:
        raise GradientCheckError(failure_message(failures))
    return checks


def checks_from_central(parameters, symbolic, central, at_point, loss, point) -> tuple[GradientCheck, ...]:
    """The rows of a check whose central quotients ``central`` were computed in one batch: a
    parameter that agrees is accepted as it is, one that does not gets :func:`check_parameter`'s
    one-sided quotients (``loss`` at a tuple of parameter values, ``point`` the given one).
    Raises :class:`GradientCheckError` naming the first parameter that still disagrees."""
    checks = tuple(
        check_result(p, s, n, True) if agree_within_tolerance(s, n, at_point)
        else check_parameter(loss, point, i, p, s, at_point)
        for i, (p, s, n) in enumerate(zip(parameters, symbolic, central))
    )
    failures = [c for c in checks if not c.ok]
    if failures:
        raise GradientCheckError(failure_message(failures))
    return checks


def check_parameter(loss, parameters, index, parameter, symbolic, at_point) -> GradientCheck:
    """One parameter's row: the central quotient, or at a kink a one-sided one (see gradient_check);
    ``loss(point)`` is the combined loss at a tuple of parameter values."""
    w = parameters[index]
    h = STEP * max(1.0, abs(w))

    def loss_at(x):
        return loss((*parameters[:index], x, *parameters[index + 1:]))

    up, down = w + h, w - h
    central = (loss_at(up) - loss_at(down)) / (up - down)
    if agree_within_tolerance(symbolic, central, at_point):
        return check_result(parameter, symbolic, central, True)
    one_sided = []
    for direction in (1.0, -1.0):   # a kink: the one-sided derivatives, to second order
        near, far = w + direction * h, w + 2 * direction * h
        one_sided.append((-3 * at_point + 4 * loss_at(near) - loss_at(far)) / (far - w))
        if agree_within_tolerance(symbolic, one_sided[-1], at_point):
            return check_result(parameter, symbolic, one_sided[-1], True)
    if not all(map(math.isfinite, (central, *one_sided))):
        raise NumericError(
            f"the loss is not defined on both sides of {parameter.name} = {plain_number(w)}, "
            "so finite differences cannot check its gradient there: choose values inside the domain"
        )
    # Any value between the one-sided slopes is a subgradient there (Max at a tie, H(0) = 1/2).
    low, high = sorted(one_sided)
    if low - _tolerance(symbolic, low, at_point) <= symbolic <= high + _tolerance(symbolic, high, at_point):
        return check_result(parameter, symbolic, central, True)
    return check_result(parameter, symbolic, central, False)


def agree_within_tolerance(symbolic, numeric, loss) -> bool:
    """|s - n| <= RELATIVE_TOLERANCE max(|s|, |n|) + ABSOLUTE_TOLERANCE max(1, |E|), both finite."""
    if not (math.isfinite(symbolic) and math.isfinite(numeric)):
        return False
    return abs(symbolic - numeric) <= _tolerance(symbolic, numeric, loss)


def _tolerance(symbolic, numeric, loss) -> float:
    return RELATIVE_TOLERANCE * max(abs(symbolic), abs(numeric)) + ABSOLUTE_TOLERANCE * max(1.0, abs(loss))


def check_result(parameter, symbolic, numeric, ok) -> GradientCheck:
    return GradientCheck(parameter, symbolic, numeric, _relative_error(symbolic, numeric), ok)


def _relative_error(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def failure_message(failures: Sequence[GradientCheck]) -> str:
    first = failures[0]
    message = (
        f"gradient check failed for {first.parameter.name}: the derivation gives {plain_number(first.symbolic)}, "
        f"central finite differences give {plain_number(first.numeric)} "
        f"(relative error {plain_number(first.relative_error, 3)})"
    )
    if len(failures) > 1:
        message += f"; also for {', '.join(c.parameter.name for c in failures[1:])}"
    return message
