r"""Worked numeric examples: numbers on every line of a derivation, and proof they are right.

For given inputs, targets and parameters this evaluates, node by node in
graph order, exactly what a derivation document prints: every forward value
``v = f_v(parents)``, the loss, every local derivative ``dv/du``, every
adjoint ``delta_u = sum_v delta_v dv/du`` (output first), every gradient
``dE/dw = sum_v delta_v dv/dw``, the update ``w^+ = w - eta dE/dw``, the
forward pass again, and ``steps`` steps of batch gradient descent. Several
examples combine by ``reduction``: ``E = (1/n) sum_i E_i`` (mean) or
``sum_i E_i`` (sum), and the gradients alike.

The arithmetic (float64, exact, or a number of significant digits) is that of
:mod:`symprop.evaluation`; from VECTORISED_PARAMETERS parameters, a float64 derivation is worked in
NumPy arrays instead, with the same numbers: a dense network by :mod:`symprop.numbers.vectorised`,
any other by shape (:mod:`symprop.numbers.grouped`). Every gradient is checked against central finite
differences of the loss (:func:`~symprop.numbers.gradcheck.gradient_check`); a
disagreement raises :class:`~symprop.numbers.gradcheck.GradientCheckError`. The check,
:class:`~symprop.numbers.evaluation.NumericError` and the number formatting of
:mod:`symprop.digits` are importable from here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Mapping, NamedTuple

from sympy import Symbol

from symprop.engine.records import Derivation
from symprop.errors import WrongArgument

from symprop.numbers.evaluation import (
    NumericError, arithmetic_of, check_options, first_example, given_values, loss_and_gradients, program_of,
)
from symprop.numbers.checked import positive_learning_rate, softmax_targets_sum_to_one
from symprop.numbers.gradcheck import GradientCheck, gradient_check, input_gradient_check
from symprop.numbers.grouped import grouped_program
from symprop.numbers.grouped_example import grouped_check, grouped_numbers
from symprop.numbers.vectorised import layered_plan
from symprop.numbers.vectorised_example import vectorised_check, vectorised_numbers
from symprop.printing.notebook import inline_math, mark, markdown_table, number

Number = object  # float in float mode, a SymPy number or expression in exact mode, sympy.Float with digits


@dataclass(frozen=True)
class WorkedExample:
    """Numbers for every line of a derivation document (see :func:`worked_example`)."""

    values: Mapping[Symbol, Number]
    forward: Mapping[Symbol, Number]
    loss: Number
    local: Mapping[tuple[Symbol, Symbol], Number]
    adjoints: Mapping[Symbol, Number]
    gradients: Mapping[Symbol, Number]
    learning_rate: Number
    updated: Mapping[Symbol, Number]
    updated_parameters: tuple[Symbol, ...]
    forward_after: Mapping[Symbol, Number]
    loss_after: Number
    loss_history: tuple[Number, ...]
    checks: tuple[GradientCheck, ...]
    examples: int
    reduction: str
    #: input -> dE_1/dx, the first example's loss by each input ``derive(..., wrt=...)``
    #: asked for, and its finite-difference checks
    input_gradients: Mapping[Symbol, Number] = field(default_factory=dict)
    input_checks: tuple[GradientCheck, ...] = ()

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the loss before and after training, then per parameter its
        value, gradient, value after the step and whether finite differences agree."""
        return example_markdown(self)


def example_markdown(example: WorkedExample) -> str:
    """The loss line and the table of :meth:`WorkedExample._repr_markdown_`."""
    steps = len(example.loss_history) - 1
    trained = (f"{number(example.loss)} before, {number(example.loss_after)} after {steps} "
               f"step{'s' * (steps != 1)} at learning rate {number(example.learning_rate)}") if steps else (
        f"{number(example.loss)} (no step taken)")
    count = f"{example.examples} examples, {example.reduction}" if example.examples > 1 else "1 example"
    agrees = {c.parameter: mark(c.ok) for c in example.checks}
    updated = set(example.updated_parameters) if steps else set()
    rows = [(inline_math(p), number(example.values[p]), number(g),
             number(example.updated[p]) if p in updated else "kept", agrees.get(p, ""))
            for p, g in example.gradients.items()]
    header = ("parameter", "value", "gradient", "after the step", "finite differences agree")
    return f"**Worked example** ({count}): loss {trained}\n\n" + markdown_table(header, rows)


# --- the public entry points ---

#: Parameters from which a dense network is worked in arrays when ``vectorised`` is None. Below it the
#: scalar program is quick, and it keeps small documents' finite differences to the last digit: any
#: other order of the same float64 operations moves their rounding noise (~1e-9 relative), which
#: documents print.
VECTORISED_PARAMETERS = 1000

#: Training steps exact arithmetic is asked to take at most (see worked_example).
EXACT_STEPS = 1


def worked_example(
    derivation,
    values,
    *,
    learning_rate=0.5,
    update="weights",
    steps=1,
    examples=None,
    reduction="mean",
    precision="float",
    vectorised=None,
    on_phase=lambda phase: None,
) -> WorkedExample:
    """Every number of a derivation at the given point, and ``steps`` steps of training.

    ``values`` maps names or symbols to numbers: every input, target and parameter
    (with ``examples``, a list of mappings of the inputs and targets per example,
    only the parameters). ``update``: ``"weights"`` (a layered network's weights,
    as Mazur does; every parameter of a plain graph), ``"all"``, or parameter
    names. Per-example quantities (forward, local, adjoints) are the first
    example's; the loss and gradients are combined over the examples by
    ``reduction``. Raises :class:`GradientCheckError` if any gradient disagrees
    with finite differences.

    A dense network is worked in NumPy arrays, one matrix product per layer
    (:mod:`symprop.numbers.vectorised`), and any other derivation in arrays by shape, each
    layer's units at once (:mod:`symprop.numbers.grouped`): its numbers in float precision,
    and its gradient check (float64) in any precision. ``vectorised``: None does so from
    VECTORISED_PARAMETERS parameters, True whenever the derivation is covered,
    False never (the scalar program for everything). ``on_phase`` is told ``"numbers"``
    and then ``"check"`` as each phase ends (for a progress bar).
    """
    _expect_arguments(derivation, values)
    check_options(reduction, steps)
    positive_learning_rate(learning_rate)
    _refuse_long_exact_training(precision, steps)
    arithmetic = arithmetic_of(precision)
    raw_rows, raw_parameters = _given_numbers(derivation, values, examples)
    chosen = parameters_to_update(derivation, update)
    arrays = _arrays_to_use(derivation, vectorised)
    report = None
    if arrays is not None and precision == "float":
        report = arrays.numbers(raw_rows, raw_parameters, learning_rate, chosen, reduction, steps)
    if report is None:
        with arithmetic.context():
            report = _worked_numbers(derivation, arithmetic, raw_rows, raw_parameters, learning_rate, chosen,
                                     reduction, steps)
    on_phase("numbers")
    checks = None if arrays is None else arrays.check(raw_rows, raw_parameters, reduction, report["gradients"])
    if checks is None:
        checks = gradient_check(derivation, values, examples=examples, reduction=reduction,
                                gradients=report["gradients"])
    inputs = input_gradient_values(derivation, report["local"], report["adjoints"])
    input_checks = input_gradient_check(derivation, values, inputs, examples=examples) if inputs else ()
    on_phase("check")
    return WorkedExample(
        **report, updated_parameters=chosen, checks=checks, examples=len(raw_rows), reduction=reduction,
        input_gradients=inputs, input_checks=input_checks,
    )


def input_gradient_values(derivation, local, adjoints) -> dict:
    """``dE_1/dx = sum_c delta_c dc/dx`` for each input gradient of the derivation, from
    the first example's local derivatives and adjoints (``delta`` of the output is 1)."""
    output = derivation.graph.output
    values = {}
    for x, gradient in derivation.input_gradients.items():
        terms = [(1 if t.consumer == output else adjoints[t.consumer]) * local[(t.consumer, x)] for t in gradient.terms]
        values[x] = sum(terms[1:], terms[0]) if terms else 0
    return values


def _given_numbers(derivation, values, examples) -> tuple[list[tuple], tuple]:
    """Per example the raw numbers of the graph's inputs, and those of its parameters
    (:func:`~symprop.numbers.evaluation.given_values`), softmax targets summing to 1."""
    rows, parameters = given_values(derivation.graph, values, examples)
    softmax_targets_sum_to_one(derivation, rows)
    return rows, parameters


def _expect_arguments(derivation, values) -> None:
    """A one-line WrongArgument for a derivation or values of the wrong kind."""
    if not isinstance(derivation, Derivation):
        raise WrongArgument("worked_example", "a Derivation", derivation, "make one with symprop.derive(network)")
    if not isinstance(values, Mapping):
        raise WrongArgument("worked_example", "values as a mapping of names to numbers", values)


class _Arrays(NamedTuple):
    """The worked numbers and the gradient check in NumPy arrays, each None where the scalar program must decide."""

    numbers: Callable[..., dict | None]
    check: Callable[..., tuple | None]


def _arrays_to_use(derivation, vectorised) -> _Arrays | None:
    """The :class:`_Arrays` of the derivation when arrays are to be used (see :func:`worked_example`), else None.
    A dense network's :class:`~symprop.numbers.vectorised.LayeredPlan` is the faster; any other
    derivation is run by shape (:mod:`symprop.numbers.grouped`)."""
    if vectorised is False:
        return None
    if vectorised is None and len(derivation.graph.parameters) < VECTORISED_PARAMETERS:
        return None
    plan = layered_plan(derivation)
    if plan is not None:
        return _Arrays(partial(vectorised_numbers, derivation, plan), partial(vectorised_check, derivation, plan))
    program = grouped_program(derivation)
    if program is not None:
        return _Arrays(partial(grouped_numbers, derivation, program), partial(grouped_check, derivation, program))
    return None


def _refuse_long_exact_training(precision, steps: int) -> None:
    """A NumericError when exact arithmetic is asked for more than EXACT_STEPS steps."""
    if precision == "exact" and steps > EXACT_STEPS:
        # Each exact step nests the whole forward and backward pass again: the values
        # double in size every step, and a few steps of a small network take minutes.
        raise NumericError(
            f"exact arithmetic covers at most {EXACT_STEPS} training step, {steps} were asked for: "
            "use a number of digits instead (precision 30) or a single step"
        )


def _worked_numbers(derivation, arithmetic, raw_rows, raw_parameters, learning_rate, chosen, reduction,
                    steps) -> dict:
    """The :class:`WorkedExample` fields that are numbers, worked out in ``arithmetic``
    (inside its context) and exported: the point, one step of ``chosen``, and training."""
    graph, export = derivation.graph, arithmetic.export
    rows = [tuple(arithmetic.number(x) for x in row) for row in raw_rows]
    parameters = tuple(arithmetic.number(x) for x in raw_parameters)
    rate = arithmetic.number(learning_rate)
    program = program_of(derivation, arithmetic)
    first = first_example(program, rows[0], parameters)
    loss, gradients = loss_and_gradients(program, arithmetic, rows, parameters, reduction, first)
    chosen_set = set(chosen)
    mask = tuple(p in chosen_set for p in graph.parameters)
    after = _descend(parameters, gradients, rate, mask)
    history = _train(program, arithmetic, rows, after, rate, mask, reduction, steps, loss)
    loss_after = history[1] if steps else loss_and_gradients(
        program, arithmetic, rows, after, reduction, gradients=False)[0]
    return dict(
        values=_named((*graph.inputs, *graph.parameters), (*rows[0], *parameters), export),
        forward=_named(graph.nodes, first.nodes, export),
        loss=export(loss),
        local=_named(tuple(derivation.local), first.local, export),
        adjoints=_named(tuple(derivation.adjoints), first.adjoints, export),
        gradients=_named(graph.parameters, gradients, export),
        learning_rate=export(rate),
        updated=_named(graph.parameters, after, export),
        forward_after=_named(graph.nodes, program.forward(*rows[0], *after), export),
        loss_after=export(loss_after),
        loss_history=tuple(export(x) for x in history),
    )


def parameters_to_update(derivation, update="weights") -> tuple[Symbol, ...]:
    """The parameters one step changes, in graph order: ``"weights"`` (a network's
    weights, every parameter of a plain graph), ``"all"``, or names."""
    graph, network = derivation.graph, derivation.network
    if update == "all" or (update == "weights" and network is None):
        return graph.parameters
    if update == "weights":
        weights = set(network.weights)
        return tuple(p for p in graph.parameters if p in weights)
    if isinstance(update, str):
        raise ValueError(f"update must be 'weights', 'all' or a list of parameter names, got {update!r}")
    chosen = set()
    for name in update:
        try:
            chosen.add(derivation.symbol(name))
        except KeyError as error:
            raise ValueError(error.args[0]) from None
    return tuple(p for p in graph.parameters if p in chosen)


def _descend(parameters, gradients, rate, mask) -> tuple:
    """``w^+ = w - eta dE/dw`` where the mask says so."""
    return tuple(w - rate * g if chosen else w for w, g, chosen in zip(parameters, gradients, mask))


def _train(program, arithmetic, rows, after_first, rate, mask, reduction, steps, loss) -> tuple:
    """Loss before the first step, then after each of ``steps`` steps of batch gradient descent.

    The first step is the one already taken (``after_first``)."""
    history = [loss]
    parameters = after_first
    for step in range(steps):
        loss, gradients = loss_and_gradients(program, arithmetic, rows, parameters, reduction,
                                             gradients=step + 1 < steps)
        history.append(loss)
        if step + 1 < steps:
            parameters = _descend(parameters, gradients, rate, mask)
    return tuple(history)


def _named(symbols, numbers, export) -> dict:
    return {s: export(x) for s, x in zip(symbols, numbers)}
