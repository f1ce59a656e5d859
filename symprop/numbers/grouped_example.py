r"""The worked example and the gradient check of any derivation, vectorised by shape.

:func:`grouped_numbers` gives the same fields as the scalar program's worked example
(forward values, loss, local derivatives, adjoints, gradients, the update
``w^+ = w - eta dE/dw`` and ``steps`` steps of batch gradient descent), running the
derivation's :class:`~symprop.numbers.grouped.GroupedProgram` over all examples at once.
:func:`grouped_check` compares given gradients with central differences
``(E(w + h) - E(w - h)) / 2h``, ``h = STEP max(1, |w|)``, running the forward pass for a
batch of perturbed copies of the parameters at once. Both return None where a number is
not finite, so that the scalar program (which falls back to mpmath) decides.
"""
from __future__ import annotations

import numpy

from symprop.numbers.evaluation import to_float
from symprop.numbers.gradcheck import STEP, checks_from_central
from symprop.numbers.grouped import GroupedProgram
from symprop.numbers.vectorised import combine
from symprop.numbers.vectorised_example import BATCH_NUMBERS, example_fields, float_arrays

#: Errors a compiled group raises on a function it cannot apply to arrays (the scalar program then decides).
_NOT_ARRAYS = (TypeError, ValueError, NameError, ArithmeticError)


def _run(program: GroupedProgram, x, theta, reduction, gradients: bool):
    """``(E, dE/dw, values)``: the loss and gradients combined over the examples, and the slots of
    the forward and backward passes."""
    values = program.values(x, theta, program.backward_width)
    program.forward.run(values)
    if gradients:
        program.backward.run(values)
    loss = float(_combined_loss(program, values, reduction))
    return loss, combine(values[:, program.gradients], reduction) if gradients else None, values


def grouped_numbers(derivation, program: GroupedProgram, raw_rows, raw_parameters, learning_rate, chosen,
                    reduction, steps) -> dict | None:
    """The worked example's number fields (as the scalar ``_worked_numbers`` gives them), or None."""
    try:
        with numpy.errstate(all="ignore"):
            numbers = _numbers(derivation, program, raw_rows, raw_parameters, learning_rate, chosen, reduction, steps)
    except _NOT_ARRAYS:
        return None
    return example_fields(derivation, numbers)


def _numbers(derivation, program, raw_rows, raw_parameters, learning_rate, chosen, reduction, steps) -> dict:
    """The numbers as arrays: the point, one step of the chosen parameters, and training."""
    x, theta = float_arrays(raw_rows, raw_parameters)
    rate = to_float(learning_rate)
    chosen_set = set(chosen)
    mask = numpy.array([p in chosen_set for p in derivation.graph.parameters], dtype=bool)
    loss, gradients, values = _run(program, x, theta, reduction, gradients=True)
    first = numpy.concatenate([values[0], numpy.zeros(program.width - program.backward_width)])
    program.local.run(first)
    after = numpy.where(mask, theta - rate * gradients, theta)
    history, current = [loss], after
    for step in range(steps):
        more = step + 1 < steps
        step_loss, step_gradients, _ = _run(program, x, current, reduction, gradients=more)
        history.append(step_loss)
        if more:
            current = numpy.where(mask, current - rate * step_gradients, current)
    after_first = program.values(x[:1], after, program.forward_width)
    program.forward.run(after_first)
    loss_after = history[1] if steps else _run(program, x, after, reduction, gradients=False)[0]
    return dict(
        values=numpy.concatenate([first[program.inputs], theta]),
        forward=first[program.nodes],
        loss=loss,
        local=first[program.locals],
        adjoints=first[program.adjoints],
        gradients=gradients,
        learning_rate=rate,
        updated=after,
        forward_after=after_first[0, program.nodes],
        loss_after=loss_after,
        loss_history=numpy.array(history),
    )


# --- the gradient check ---

def grouped_check(derivation, program: GroupedProgram, raw_rows, raw_parameters, reduction, gradients):
    """:class:`~symprop.numbers.gradcheck.GradientCheck` rows for every parameter (as
    :func:`~symprop.numbers.gradcheck.gradient_check` gives them), or None where a number
    is not finite. Raises :class:`~symprop.numbers.gradcheck.GradientCheckError` on a disagreement."""
    x, theta = float_arrays(raw_rows, raw_parameters)
    parameters = derivation.graph.parameters
    symbolic = [to_float(gradients[p]) for p in parameters]
    try:
        with numpy.errstate(all="ignore"):
            base = program.values(x, theta, program.forward_width)
            program.forward.run(base)
            at_point = float(_combined_loss(program, base, reduction))
            central = _central_differences(program, base, theta, reduction)
    except _NOT_ARRAYS:
        return None
    if not (numpy.isfinite(at_point) and numpy.all(numpy.isfinite(central))):
        return None

    def loss(point) -> float:
        """The combined loss at a tuple of parameter values (for the one-sided quotients at a kink)."""
        point = numpy.array(point, dtype=float)
        with numpy.errstate(all="ignore"):
            return float(_losses(program, x, point[None], reduction)[0])

    return checks_from_central(parameters, symbolic, central.tolist(), at_point, loss, tuple(theta.tolist()))


def _central_differences(program, base, theta, reduction) -> numpy.ndarray:
    """``(E(w + h) - E(w - h)) / ((w + h) - (w - h))`` for every parameter: ``2 P`` copies of the
    forward pass ``base`` at ``theta``, each with one coordinate moved, evaluated in batches."""
    h = STEP * numpy.maximum(1.0, numpy.abs(theta))
    up, down = theta + h, theta - h
    first = program.forward.first_reads(program.parameters)
    central = numpy.empty_like(theta)
    for depth in numpy.unique(first):
        positions = numpy.flatnonzero(first == depth)
        moved = [_moved_losses(program, base, positions, value[positions], depth, reduction) for value in (up, down)]
        central[positions] = (moved[0] - moved[1]) / (up - down)[positions]
    return central


def _moved_losses(program, base, positions, values, depth, reduction) -> numpy.ndarray:
    """The combined loss of each copy ``c`` of the forward pass ``base`` with parameter ``positions[c]``
    set to ``values[c]``, the forward pass run again from ``depth`` (where those parameters are first
    read), on a batch of copies at a time (at most BATCH_NUMBERS numbers)."""
    count = max(1, BATCH_NUMBERS // base.size)
    result = numpy.empty(len(positions))
    for start in range(0, len(positions), count):
        part = slice(start, start + count)
        copies = numpy.repeat(base[None], len(positions[part]), axis=0)
        copies[numpy.arange(len(copies)), :, program.parameters[positions[part]]] = values[part, None]
        program.forward.run(copies, depth)
        result[part] = _combined_loss(program, copies, reduction)
    return result


def _losses(program, x, copies, reduction) -> numpy.ndarray:
    """The combined loss at each row of ``copies`` (parameter vectors)."""
    slots = program.values(x, copies, program.forward_width)
    program.forward.run(slots)
    return _combined_loss(program, slots, reduction)


def _combined_loss(program, slots, reduction):
    """The loss of slots ``(..., examples, width)`` combined over the examples: ``(...)``."""
    return combine(numpy.moveaxis(slots[..., program.output], -1, 0), reduction)
