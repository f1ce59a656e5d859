r"""The worked example and the gradient check of a dense network, vectorised.

:func:`vectorised_numbers` gives the same fields as the scalar program's
worked example (forward values, loss, local derivatives, adjoints, gradients,
the update ``w^+ = w - eta dE/dw`` and ``steps`` steps of batch gradient descent),
computed by :mod:`symprop.numbers.vectorised`. :func:`vectorised_check` compares
given gradients with central differences ``(E(w + h) - E(w - h)) / 2h``,
``h = STEP max(1, |w|)``, evaluating the loss for every perturbed copy of a
layer's parameters at once: perturbing ``w_jk`` by ``d`` changes only
``z_j`` of that layer, by ``d a_k`` (a bias: by ``d``, every ``z`` of the layer for
a shared one), and the layers above are run on the batch of perturbed ``Z``.
Both return None where a number is not finite, so that the scalar program
(which falls back to mpmath) decides.
"""
from __future__ import annotations

import math

import numpy

from symprop.numbers.evaluation import to_float
from symprop.numbers.gradcheck import STEP, checks_from_central
from symprop.numbers.vectorised import LayeredPlan, Pass, backward, combine, forward

#: Perturbed copies evaluated in one batch, times the examples and units: bounds the memory used.
BATCH_NUMBERS = 1 << 21


def float_arrays(rows, parameters) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``(data, theta)``: the graph's inputs (and targets) per example, and the parameter vector, in float64."""
    return (numpy.array([[to_float(v) for v in row] for row in rows], dtype=float).reshape(len(rows), -1),
            numpy.array([to_float(p) for p in parameters], dtype=float))


def _arrays(plan: LayeredPlan, rows, parameters):
    """``(X, T, theta)``: inputs and targets per example, and the parameter vector."""
    data, theta = float_arrays(rows, parameters)
    inputs = plan.layers[0].weights.shape[1]
    return data[:, :inputs], data[:, inputs:], theta


def _flat(run: Pass, example: int = 0) -> numpy.ndarray:
    """``[Z_1, A_1, ..., Z_L, A_L, E]`` of one example."""
    parts = [part[example] for _, z, out in run.layers for part in (z, out)]
    return numpy.concatenate([*parts, run.losses[example:example + 1]])


def _loss_and_gradients(plan, theta, x, t, reduction, gradients=True):
    """``(E, dE/dw)`` combined over the examples, and the forward and backward passes."""
    run = forward(plan, theta, x, t)
    loss = float(combine(run.losses, reduction))
    if not gradients:
        return loss, None, run, None
    deltas, per_example = backward(plan, theta, t, run)
    return loss, combine(per_example, reduction), run, (deltas, per_example[0])


def vectorised_numbers(derivation, plan: LayeredPlan, raw_rows, raw_parameters, learning_rate, chosen, reduction,
                       steps) -> dict | None:
    """The worked example's number fields (as the scalar ``_worked_numbers`` gives them), or None."""
    with numpy.errstate(all="ignore"):
        numbers = _numbers(derivation, plan, raw_rows, raw_parameters, learning_rate, chosen, reduction, steps)
    fields = example_fields(derivation, numbers)
    if fields is None or not _agrees_with_engine(derivation, fields["adjoints"], fields["local"],
                                                 numbers["first_gradients"]):
        return None
    return fields


def example_fields(derivation, numbers: dict) -> dict | None:
    """The worked example's number fields, by symbol and in Python floats, from arrays of them in
    the derivation's orders (``numbers``); None when one of them is not finite."""
    if not all(numpy.all(numpy.isfinite(v)) for v in numbers.values()):
        return None
    graph = derivation.graph
    return dict(
        values=_named((*graph.inputs, *graph.parameters), numbers["values"]),
        forward=_named(graph.nodes, numbers["forward"]),
        loss=float(numbers["loss"]),
        local=_named(derivation.local, numbers["local"]),
        adjoints=_named(derivation.adjoints, numbers["adjoints"]),
        gradients=_named(graph.parameters, numbers["gradients"]),
        learning_rate=float(numbers["learning_rate"]),
        updated=_named(graph.parameters, numbers["updated"]),
        forward_after=_named(graph.nodes, numbers["forward_after"]),
        loss_after=float(numbers["loss_after"]),
        loss_history=tuple(float(x) for x in numbers["loss_history"]),
    )


def _numbers(derivation, plan, raw_rows, raw_parameters, learning_rate, chosen, reduction, steps) -> dict:
    """The numbers as arrays: the point, one step of the chosen parameters, and training."""
    graph = derivation.graph
    x, t, theta = _arrays(plan, raw_rows, raw_parameters)
    rate = to_float(learning_rate)
    chosen_set = set(chosen)
    mask = numpy.array([p in chosen_set for p in graph.parameters], dtype=bool)
    loss, gradients, run, (deltas, first_gradients) = _loss_and_gradients(plan, theta, x, t, reduction)
    nodes = _flat(run)
    adjoint_layout = numpy.concatenate([*(part[0] for pair in deltas for part in pair), [1.0]])
    after = numpy.where(mask, theta - rate * gradients, theta)
    history = [loss]
    current = after
    for step in range(steps):
        more = step + 1 < steps
        step_loss, step_gradients, _, _ = _loss_and_gradients(plan, current, x, t, reduction, gradients=more)
        history.append(step_loss)
        if more:
            current = numpy.where(mask, current - rate * step_gradients, current)
    after_run = forward(plan, after, x[:1], t[:1])
    loss_after = history[1] if steps else _loss_and_gradients(plan, after, x, t, reduction, gradients=False)[0]
    return dict(
        values=numpy.concatenate([x[0], t[0], theta]),
        forward=nodes[plan.node_positions],
        loss=loss,
        local=plan.local.values(numpy.concatenate([theta, nodes, x[0], t[0]])),
        adjoints=adjoint_layout[plan.adjoint_positions],
        gradients=gradients,
        learning_rate=rate,
        updated=after,
        forward_after=_flat(after_run)[plan.node_positions],
        loss_after=loss_after,
        loss_history=numpy.array(history),
        first_gradients=first_gradients,
    )


#: How closely the matrix products must reproduce the engine's per-parameter sums, relative to
#: the sum of the terms' magnitudes (float64 in another order: ~1e-16 per term).
ENGINE_AGREEMENT = 1e-12


def _agrees_with_engine(derivation, adjoints, local, first_gradients) -> bool:
    """Each parameter's gradient, the engine's ``dE/dw = sum_c delta_c dc/dw`` over its own terms
    with the first example's adjoints and locals, equals the vectorised one (``first_gradients``)."""
    for parameter, vectorised in zip(derivation.graph.parameters, first_gradients.tolist()):
        terms = [adjoints[t.consumer] * local[(t.consumer, parameter)] for t in derivation.gradients[parameter].terms]
        if abs(math.fsum(terms) - vectorised) > ENGINE_AGREEMENT * math.fsum(map(abs, terms)):
            return False
    return True


def _named(symbols, numbers) -> dict:
    return dict(zip(symbols, numbers.tolist()))


# --- the gradient check ---

def vectorised_check(derivation, plan: LayeredPlan, raw_rows, raw_parameters, reduction, gradients):
    """:class:`~symprop.numbers.gradcheck.GradientCheck` rows for every parameter (as
    :func:`~symprop.numbers.gradcheck.gradient_check` gives them), or None where a
    number is not finite. Raises :class:`GradientCheckError` on a disagreement."""
    graph = derivation.graph
    x, t, theta = _arrays(plan, raw_rows, raw_parameters)
    symbolic = [to_float(gradients[p]) for p in graph.parameters]
    with numpy.errstate(all="ignore"):
        run = forward(plan, theta, x, t)
        at_point = float(combine(run.losses, reduction))
        central = _central_differences(plan, theta, x, t, run, reduction)
    if not (math.isfinite(at_point) and numpy.all(numpy.isfinite(central))):
        return None

    def loss(point):
        with numpy.errstate(all="ignore"):
            return float(combine(forward(plan, numpy.array(point), x, t).losses, reduction))

    return checks_from_central(graph.parameters, symbolic, central.tolist(), at_point, loss, tuple(theta.tolist()))


def _central_differences(plan, theta, x, t, run: Pass, reduction) -> numpy.ndarray:
    """``(E(w + h) - E(w - h)) / ((w + h) - (w - h))`` for every parameter, layer by layer:
    ``w_jk`` moves ``z_j`` by ``(w' - w) a_k``, ``b_j`` moves ``z_j`` by ``b' - b``, a shared bias every ``z``."""
    central = numpy.empty_like(theta)
    for index, layer in enumerate(plan.layers):
        units, inputs = layer.weights.shape
        groups = [(layer.weights.ravel(), numpy.repeat(numpy.arange(units), inputs),
                   numpy.tile(numpy.arange(inputs), units))]
        if layer.biases is not None:
            if layer.shared_bias:
                groups.append((layer.biases[:1], numpy.array([-1]), numpy.array([-1])))
            else:
                groups.append((layer.biases, numpy.arange(units), numpy.full(units, -1)))
        for positions, unit, column in groups:
            w = theta[positions]
            h = STEP * numpy.maximum(1.0, numpy.abs(w))
            up, down = w + h, w - h
            losses = [_perturbed_losses(plan, theta, t, run, index, (unit, column, value - w), reduction)
                      for value in (up, down)]
            central[positions] = (losses[0] - losses[1]) / (up - down)
    return central


def _perturbed_losses(plan, theta, t, run: Pass, index, perturbations, reduction) -> numpy.ndarray:
    """The combined loss for each perturbed copy ``b`` of ``(unit, column, change)``:
    ``Z_index[:, unit_b] += change_b A_{index-1}[:, column_b]`` (``1`` for column -1; every
    unit for unit -1), the layers above run on the batch, a chunk of copies at a time."""
    a_in, z = run.layers[index][0], run.layers[index][1]
    units, columns, changes = perturbations
    sources = numpy.concatenate([a_in, numpy.ones((a_in.shape[0], 1))], axis=-1)
    count = max(1, BATCH_NUMBERS // (z.shape[0] * z.shape[1]))
    result = numpy.empty(len(units))
    for start in range(0, len(units), count):
        part = slice(start, start + count)
        unit = units[part]
        extra = changes[part, None] * sources[:, columns[part]].T
        batch = numpy.repeat(z[None], len(unit), axis=0)
        if unit[0] < 0:
            batch += extra[:, :, None]
        else:
            batch[numpy.arange(len(unit)), :, unit] += extra
        losses = forward(plan, theta, None, t, start=index, z=batch).losses
        result[part] = combine(losses.T, reduction) if losses.shape[1] > 1 else losses[:, 0]
    return result
