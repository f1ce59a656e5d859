r"""Worked numeric examples: numbers on every line of a derivation, and proof they are right.

For given inputs, targets and parameters this evaluates, node by node in
graph order, exactly what a derivation document prints: every forward value
``v = f_v(parents)``, the loss, every local derivative ``dv/du``, every
adjoint ``delta_u = sum_v delta_v dv/du`` (output first), every gradient
``dE/dw = sum_v delta_v dv/dw``, the update ``w^+ = w - eta dE/dw``, the
forward pass again, and ``steps`` steps of batch gradient descent. Several
examples combine by ``reduction``: ``E = (1/n) sum_i E_i`` (mean) or
``sum_i E_i`` (sum), and the gradients alike.

Arithmetic: ``"float"`` (float64, generated straight-line code), ``"exact"``
(SymPy Rationals; activations stay exact, ``sigma(151/400)``), or an int, the
number of significant digits (mpmath). The float path falls back to mpmath at
:data:`FALLBACK_DIGITS` digits when float64 cannot hold an intermediate
(``1/sigma(-1000)``), so saturated units still give the right gradient.

Every gradient is checked against central finite differences of the loss
(:func:`gradient_check`); a disagreement raises :class:`GradientCheckError`.
"""
from __future__ import annotations

import contextlib
import math
import weakref
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Callable, Mapping, Sequence

import mpmath
import sympy
from sympy import Symbol
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from . import codegen, functions

Number = object  # float in float mode, a SymPy number or expression in exact mode, sympy.Float with digits

#: Central-difference step, relative to max(1, |w|): about the cube root of float64's
#: epsilon, which balances the truncation error (~h^2) against rounding (~eps/h).
STEP = 2.0 ** -17
#: A symbolic and a finite-difference gradient agree when
#: |s - n| <= RELATIVE_TOLERANCE max(|s|, |n|) + ABSOLUTE_TOLERANCE max(1, |E|);
#: the absolute part covers near-zero gradients, where rounding of E/h dominates.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-8
#: Digits of the mpmath fallback for float64 over- and underflow (mpmath's exponent is unbounded).
FALLBACK_DIGITS = 50
#: Extra working digits behind a requested precision.
GUARD_DIGITS = 10
REDUCTIONS = ("mean", "sum")


class GradientCheckError(ValueError):
    """A symbolic gradient that disagrees with central finite differences."""


class NumericError(ValueError):
    """A value that has no finite real number at the given point (a division by zero, say)."""


@dataclass(frozen=True)
class GradientCheck:
    """One parameter's symbolic gradient beside its finite-difference estimate."""

    parameter: Symbol
    symbolic: float
    numeric: float
    relative_error: float
    ok: bool


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


# --- the public entry points ---

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
    """
    _check_options(reduction, steps)
    arithmetic = _arithmetic(precision)
    graph = derivation.graph
    raw_rows, raw_parameters = given_values(graph, values, examples)
    chosen = parameters_to_update(derivation, update)
    with arithmetic.context():
        rows = [tuple(arithmetic.number(x) for x in row) for row in raw_rows]
        parameters = tuple(arithmetic.number(x) for x in raw_parameters)
        rate = arithmetic.number(learning_rate)
        program = _program(derivation, arithmetic)
        first = _first_example(program, rows[0], parameters)
        loss, gradients = _loss_and_gradients(program, arithmetic, rows, parameters, reduction, first)
        mask = tuple(p in set(chosen) for p in graph.parameters)
        after = _descend(parameters, gradients, rate, mask)
        history = _train(program, arithmetic, rows, after, rate, mask, reduction, steps, loss)
        loss_after = history[1] if steps else _loss_and_gradients(
            program, arithmetic, rows, after, reduction, gradients=False)[0]
        nodes_after = program.forward(*rows[0], *after)
        export = arithmetic.export
        report = dict(
            values=_named((*graph.inputs, *graph.parameters), (*rows[0], *parameters), export),
            forward=_named(graph.nodes, first.nodes, export),
            loss=export(loss),
            local=_named(tuple(derivation.local), first.local, export),
            adjoints=_named(tuple(derivation.adjoints), first.adjoints, export),
            gradients=_named(graph.parameters, gradients, export),
            learning_rate=export(rate),
            updated=_named(graph.parameters, after, export),
            forward_after=_named(graph.nodes, nodes_after, export),
            loss_after=export(loss_after),
            loss_history=tuple(export(x) for x in history),
        )
    checks = gradient_check(derivation, values, examples=examples, reduction=reduction, gradients=report["gradients"])
    return WorkedExample(
        **report, updated_parameters=chosen, checks=checks, examples=len(rows), reduction=reduction
    )


def gradient_check(derivation, values, *, examples=None, reduction="mean", gradients=None) -> tuple[GradientCheck, ...]:
    r"""Compare each parameter's gradient with central differences of the loss, in float64.

    ``n = (E(w + h) - E(w - h)) / 2h`` with ``h = STEP max(1, |w|)``; they agree when
    ``|s - n| <= RELATIVE_TOLERANCE max(|s|, |n|) + ABSOLUTE_TOLERANCE max(1, |E|)``.
    At a kink (ReLU at ``z = 0``) the central quotient averages the two one-sided
    slopes while the derivation takes the one-sided derivative of the convention
    ``relu'(0) = H(0) = 0``; so a gradient that disagrees with the central quotient
    is accepted when it matches a second-order one-sided quotient
    ``(-3E(w) + 4E(w +- h) - E(w +- 2h)) / (+-2h)``, which is then reported.
    ``gradients`` (parameter -> value) defaults to the derivation's, evaluated here.
    Raises :class:`GradientCheckError` naming the first parameter that disagrees.
    """
    _check_options(reduction, 0)
    graph = derivation.graph
    raw_rows, raw_parameters = given_values(graph, values, examples)
    rows = [tuple(FLOAT.number(x) for x in row) for row in raw_rows]
    parameters = tuple(FLOAT.number(x) for x in raw_parameters)
    program = _program(derivation, FLOAT)
    if gradients is None:
        symbolic = _loss_and_gradients(program, FLOAT, rows, parameters, reduction)[1]
    else:
        symbolic = tuple(_to_float(gradients[p]) for p in graph.parameters)

    def loss(point):
        return _loss_and_gradients(program, FLOAT, rows, point, reduction, gradients=False)[0]

    at_point = loss(parameters)
    checks = tuple(
        _check_parameter(loss, parameters, i, p, s, at_point)
        for i, (p, s) in enumerate(zip(graph.parameters, symbolic))
    )
    failures = [c for c in checks if not c.ok]
    if failures:
        raise GradientCheckError(_failure_message(failures))
    return checks


def significant(x, digits: int = 9) -> str:
    """``x`` rounded half up to ``digits`` significant digits, trailing zeros dropped.

    Fixed point while the leading digit is between 10^-7 and 10^(digits-1)
    (``0.75136507``, ``0.3775``, ``0.0000351085``), else ``1.5e-08``.
    Accepts floats, ints, SymPy numbers and exact expressions, and mpmath numbers.
    """
    if not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive whole number, got {digits!r}")
    value = _decimal(x, digits)
    if not value.is_finite():
        return "nan" if value.is_nan() else ("-inf" if value < 0 else "inf")
    if value.is_zero():
        return "0"
    with localcontext() as context:
        context.prec, context.rounding = digits, ROUND_HALF_UP
        rounded = +value
    exponent = rounded.adjusted()
    if -7 <= exponent < digits:
        return _strip_zeros(format(rounded, "f"))
    mantissa = _strip_zeros(format(rounded.scaleb(-exponent), "f"))
    return f"{mantissa}e{exponent:+03d}"


# --- what the caller gave ---

def given_values(graph, values, examples=None) -> tuple[list[tuple], tuple]:
    """``(rows, parameters)``: per example the raw numbers of ``graph.inputs`` in order,
    and the raw numbers of ``graph.parameters``. Names are checked here, one line each."""
    known = {s.name: s for s in (*graph.inputs, *graph.parameters)}
    given = _by_symbol(values, known, "values")
    missing = [p.name for p in graph.parameters if p not in given]
    if missing:
        raise ValueError(f"no value given for parameter {', '.join(missing)}")
    if examples is None:
        data = [given]
    else:
        data = [_by_symbol(e, known, f"example {i}") for i, e in enumerate(examples, start=1)]
        if not data:
            raise ValueError("examples is empty: give at least one example, or None")
        for i, example in enumerate(data, start=1):
            stray = [s.name for s in example if s in set(graph.parameters)]
            if stray:
                raise ValueError(f"example {i} gives parameter {', '.join(stray)}: parameters belong in values")
    rows = []
    for i, example in enumerate(data, start=1):
        absent = [s.name for s in graph.inputs if s not in example]
        if absent:
            where = "values" if examples is None else f"example {i}"
            raise ValueError(f"{where} has no value for input {', '.join(absent)}")
        rows.append(tuple(example[s] for s in graph.inputs))
    return rows, tuple(given[p] for p in graph.parameters)


def parameters_to_update(derivation, update="weights") -> tuple[Symbol, ...]:
    """The parameters one step changes, in graph order: ``"weights"`` (a network's
    weights, every parameter of a plain graph), ``"all"``, or names."""
    graph, network = derivation.graph, derivation.network
    if update == "all" or (update == "weights" and network is None):
        return graph.parameters
    if update == "weights":
        return tuple(p for p in graph.parameters if p in set(network.weights))
    if isinstance(update, str):
        raise ValueError(f"update must be 'weights', 'all' or a list of parameter names, got {update!r}")
    chosen = set()
    for name in update:
        try:
            chosen.add(derivation.symbol(name))
        except KeyError as error:
            raise ValueError(error.args[0]) from None
    return tuple(p for p in graph.parameters if p in chosen)


def _by_symbol(mapping, known: Mapping[str, Symbol], where: str) -> dict[Symbol, object]:
    result = {}
    for key, value in dict(mapping).items():
        name = key.name if isinstance(key, Symbol) else str(key)
        if name not in known:
            raise ValueError(
                f"{where}: {name} is not an input, target or parameter of the graph "
                f"(expected some of {', '.join(known)})"
            )
        result[known[name]] = value
    return result


def _check_options(reduction, steps):
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}: expected mean or sum")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")


# --- evaluation in graph order ---

@dataclass(frozen=True)
class _Program:
    """Straight-line evaluation of one derivation in one arithmetic.

    ``forward(*data, *parameters)`` -> node values in graph order;
    ``backward(*data, *parameters, *nodes)`` -> adjoints (derivation order), then gradients
    (parameter order); ``local(*data, *parameters, *nodes)`` -> local derivatives (derivation order).
    """

    forward: Callable[..., tuple]
    backward: Callable[..., tuple]
    local: Callable[..., tuple]
    adjoint_count: int
    output_index: int


@dataclass(frozen=True)
class _FirstExample:
    nodes: tuple
    adjoints: tuple
    gradients: tuple
    local: tuple


def _first_example(program: _Program, row, parameters) -> _FirstExample:
    nodes = program.forward(*row, *parameters)
    backward = program.backward(*row, *parameters, *nodes)
    local = program.local(*row, *parameters, *nodes)
    count = program.adjoint_count
    return _FirstExample(nodes, backward[:count], backward[count:], local)


def _loss_and_gradients(program, arithmetic, rows, parameters, reduction, first=None, gradients=True):
    """``(E, dE/dw per parameter)`` combined over the examples: mean or sum."""
    losses, per_example = [], []
    for i, row in enumerate(rows):
        if i == 0 and first is not None:
            losses.append(first.nodes[program.output_index])
            per_example.append(first.gradients)
            continue
        nodes = program.forward(*row, *parameters)
        losses.append(nodes[program.output_index])
        if gradients:
            per_example.append(program.backward(*row, *parameters, *nodes)[program.adjoint_count:])
    combine = _combiner(arithmetic, reduction, len(rows))
    loss = combine(losses)
    if not gradients:
        return loss, None
    return loss, tuple(combine(column) for column in zip(*per_example))


def _combiner(arithmetic, reduction, count):
    """The combination of per-example numbers: their mean or their sum."""
    if reduction == "sum" or count == 1:
        return arithmetic.total
    return lambda xs: arithmetic.divide(arithmetic.total(xs), count)


def _descend(parameters, gradients, rate, mask) -> tuple:
    """``w^+ = w - eta dE/dw`` where the mask says so."""
    return tuple(w - rate * g if chosen else w for w, g, chosen in zip(parameters, gradients, mask))


def _train(program, arithmetic, rows, after_first, rate, mask, reduction, steps, loss) -> tuple:
    """Loss before the first step, then after each of ``steps`` steps of batch gradient descent.

    The first step is the one already taken (``after_first``)."""
    history = [loss]
    parameters = after_first
    for step in range(steps):
        loss, gradients = _loss_and_gradients(program, arithmetic, rows, parameters, reduction,
                                              gradients=step + 1 < steps)
        history.append(loss)
        if step + 1 < steps:
            parameters = _descend(parameters, gradients, rate, mask)
    return tuple(history)


def _named(symbols, numbers, export) -> dict:
    return {s: export(x) for s, x in zip(symbols, numbers)}


# --- arithmetics ---

def _scalar_helpers(lib) -> dict[str, Callable]:
    """symprop's functions for scalars of ``lib`` (``math`` or ``mpmath``), each written so
    that no exponential overflows: sigma from e^{-|z|}, softmax shifted by its largest logit."""
    exp, log, log1p = lib.exp, lib.log, lib.log1p

    def sigmoid(z):
        if z >= 0:
            return 1 / (1 + exp(-z))
        e = exp(z)
        return e / (1 + e)

    def softplus(z):
        return max(z, 0) + log1p(exp(-abs(z)))

    def log_sum_exp(zs):
        top = max(zs)
        return top + log(sum(exp(z - top) for z in zs))

    def softmax(k, *z):
        top = max(z)
        e = [exp(zj - top) for zj in z]
        return e[int(k) - 1] / sum(e)

    def softmax_cross_entropy(*logits_and_targets):
        n = len(logits_and_targets) // 2
        z, t = logits_and_targets[:n], logits_and_targets[n:]
        total = log_sum_exp(z)
        return sum(tk * (total - zk) for zk, tk in zip(z, t))

    return dict(
        sigmoid=sigmoid,
        softplus=softplus,
        log_sigmoid=lambda z: -softplus(-z),
        relu=lambda z: z if z > 0 else 0 * z,
        leaky_relu=lambda z, alpha: z if z > 0 else alpha * z,
        heaviside=lambda z, h0: 1 if z > 0 else (0 if z < 0 else h0),
        softmax=softmax,
        log_softmax=lambda k, *z: z[int(k) - 1] - log_sum_exp(z),
        softmax_cross_entropy=softmax_cross_entropy,
    )


class _FloatPrinter(codegen.HeavisideMixin, PythonCodePrinter):
    """Python code over ``math``; symprop's functions print as calls to the scalar helpers."""


class _MpmathPrinter(codegen.HeavisideMixin, MpmathPrinter):
    """Python code over ``mpmath``; symprop's functions print as calls to the scalar helpers."""


_PRINTER_SETTINGS = {"allow_unknown_functions": True}


class _Float:
    """float64 through generated code over ``math``, falling back to mpmath on overflow."""

    key = "float"

    def context(self):
        return contextlib.nullcontext()

    def number(self, x) -> float:
        return _to_float(x)

    def export(self, x) -> float:
        return float(x)

    def total(self, xs):
        return math.fsum(xs)

    def divide(self, x, n):
        return x / n

    def compile(self, derivation) -> _Program:
        fast = _compiled_program(derivation, _FloatPrinter(_PRINTER_SETTINGS), {"math": math, **_scalar_helpers(math)})
        precise = _Precise(FALLBACK_DIGITS)
        argument_count = len(derivation.graph.inputs) + len(derivation.graph.parameters)

        def fallback(name):
            """The precise program's ``name``; node values are recomputed precisely, since
            float64 may have rounded a saturated unit to exactly 0 or 1."""
            def run(*numbers):
                program = _program(derivation, precise)
                arguments = numbers[:argument_count]
                if name == "forward":
                    return program.forward(*arguments)
                return getattr(program, name)(*arguments, *program.forward(*arguments))
            return run

        return _Program(
            _guarded(fast.forward, fallback("forward"), "forward pass"),
            _guarded(fast.backward, fallback("backward"), "backward pass"),
            _guarded(fast.local, fallback("local"), "local derivatives"),
            fast.adjoint_count,
            fast.output_index,
        )


class _Precise:
    """``digits`` significant digits with mpmath (and GUARD_DIGITS more while working)."""

    def __init__(self, digits: int):
        self.digits = digits
        self.key = "mpmath"   # the generated code reads the working precision from mpmath's context

    def context(self):
        return mpmath.workdps(self.digits + GUARD_DIGITS)

    def number(self, x):
        if isinstance(x, float):
            return mpmath.mpf(repr(x))
        if isinstance(x, Fraction):
            return mpmath.mpf(x.numerator) / x.denominator
        if isinstance(x, (str, Decimal)):
            return mpmath.mpf(str(x))
        if isinstance(x, sympy.Basic):
            return mpmath.mpf(sympy.Float(x.evalf(mpmath.mp.dps), mpmath.mp.dps))
        return mpmath.mpf(x)

    def export(self, x):
        return sympy.Float(mpmath.mpf(x), self.digits)

    def total(self, xs):
        return mpmath.fsum(xs)

    def divide(self, x, n):
        return x / n

    def compile(self, derivation) -> _Program:
        return _compiled_program(derivation, _MpmathPrinter(_PRINTER_SETTINGS), {"mpmath": mpmath, **_scalar_helpers(mpmath)})


class _Exact:
    """SymPy Rationals: decimals as written (0.05 is 1/20), activations exact (sigma(151/400))."""

    key = "exact"

    def context(self):
        return contextlib.nullcontext()

    def number(self, x):
        if isinstance(x, bool):
            raise ValueError(f"{x!r} is not a number")
        if isinstance(x, float):
            if not math.isfinite(x):
                raise ValueError(f"{x!r} has no exact value")
            return sympy.Rational(repr(x))
        if isinstance(x, Fraction):
            return sympy.Rational(x.numerator, x.denominator)
        if isinstance(x, (str, Decimal, sympy.Float)):
            return sympy.Rational(str(x))
        if isinstance(x, mpmath.mpf):
            mantissa, exponent = x.man_exp
            return sympy.Integer(mantissa) * sympy.Integer(2) ** exponent
        return sympy.sympify(x)

    def export(self, x):
        return x

    def total(self, xs):
        return sympy.Add(*xs)

    def divide(self, x, n):
        return sympy.Rational(1, n) * x

    def compile(self, derivation) -> _Program:
        return _exact_program(derivation)


FLOAT = _Float()
EXACT = _Exact()


def _arithmetic(precision):
    if precision == "float":
        return FLOAT
    if precision == "exact":
        return EXACT
    if isinstance(precision, int) and not isinstance(precision, bool) and precision >= 1:
        return _Precise(precision)
    raise ValueError(f"precision must be 'float', 'exact' or a number of significant digits, got {precision!r}")


def _to_float(x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{x!r} is not a number")
    if isinstance(x, sympy.Basic) and not x.is_Number:
        x = numeric_value(x, 17)
    try:
        return float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{x!r} is not a real number") from None


def numeric_value(expr, digits: int = 17) -> mpmath.mpf:
    """The value of a closed SymPy expression to about ``digits`` digits, each distinct
    subexpression evaluated once.

    Exact values after an update nest the forward and backward passes
    (``sigma(2/5 sigma(151/400) + ...)``) and repeat subtrees many times;
    ``evalf`` walks the tree (seconds for Mazur's loss after one step), this
    walks the DAG (milliseconds). Works at ``digits`` + 20 working digits.
    """
    memo: dict = {}
    with mpmath.workdps(digits + 20):
        return +_subexpression_value(sympy.sympify(expr), memo, digits + 20)


def _subexpression_value(e, memo: dict, dps: int):
    if e in memo:
        return memo[e]
    if e.is_Rational:
        value = mpmath.mpf(int(e.p)) / int(e.q)
    elif e.is_Float:
        value = mpmath.mpf(e._mpf_)
    elif e.is_Add or e.is_Mul or e.is_Pow or isinstance(e, _NUMERIC_FUNCTIONS):
        args = [_subexpression_value(a, memo, dps) for a in e.args]
        value = _apply(e, args)
    else:   # anything else (pi, Piecewise, ...): SymPy's own evaluation
        value = mpmath.mpmathify(sympy.N(e, dps))
    memo[e] = value
    return value


def _apply(e, args):
    if e.is_Add:
        return mpmath.fsum(args)
    if e.is_Mul:
        return mpmath.fprod(args)
    if e.is_Pow:
        return args[0] ** args[1]
    if isinstance(e, functions.sigmoid):
        return 1 / (1 + mpmath.exp(-args[0]))
    if isinstance(e, (sympy.Max, sympy.Min)):
        return (max if isinstance(e, sympy.Max) else min)(args)
    if isinstance(e, sympy.Abs):
        return abs(args[0])
    return getattr(mpmath, type(e).__name__)(*args)


#: Functions :func:`numeric_value` applies itself (mpmath has the elementary ones by the same name).
_NUMERIC_FUNCTIONS = (functions.sigmoid, sympy.exp, sympy.log, sympy.tanh, sympy.sinh, sympy.cosh,
                      sympy.sin, sympy.cos, sympy.Max, sympy.Min, sympy.Abs)


# --- programs: compiled once per derivation and arithmetic ---

_PROGRAMS: dict[int, dict] = {}


def _program(derivation, arithmetic) -> _Program:
    """The derivation's program in ``arithmetic``, compiled on first use."""
    key = id(derivation)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = {}
        weakref.finalize(derivation, _PROGRAMS.pop, key, None)
    programs = _PROGRAMS[key]
    if arithmetic.key not in programs:
        programs[arithmetic.key] = arithmetic.compile(derivation)
    return programs[arithmetic.key]


def _program_parts(derivation, form):
    """Arguments, forward assignments, backward assignments and results, and local
    derivatives, each expression passed through ``form``."""
    graph = derivation.graph
    arguments = (*graph.inputs, *graph.parameters)
    adjoints = list(derivation.adjoints.values())
    gradient_symbols = [sympy.Dummy(f"g_{p.name}") for p in graph.parameters]
    forward = [(e.node, form(e.expr)) for e in graph.equations]
    backward = [(a.symbol, form(a.definition)) for a in adjoints]
    backward += [(s, form(derivation.gradients[p].delta_form)) for s, p in zip(gradient_symbols, graph.parameters)]
    results = [*(a.symbol for a in adjoints), *gradient_symbols]
    local = [form(d) for d in derivation.local.values()]
    return arguments, forward, backward, results, local


def _output_index(graph) -> int:
    if graph.output not in graph.nodes:
        raise ValueError(f"the output {graph.output} is a parameter, not a node: nothing to evaluate")
    return graph.nodes.index(graph.output)


def _compiled_program(derivation, printer, namespace) -> _Program:
    graph = derivation.graph
    arguments, forward, backward, results, local = _program_parts(derivation, lambda e: codegen.stable_form(e, graph))
    with_nodes = (*arguments, *graph.nodes)
    return _Program(
        codegen.straight_line_function(arguments, forward, graph.nodes, printer, namespace),
        codegen.straight_line_function(with_nodes, backward, results, printer, namespace),
        codegen.straight_line_function(with_nodes, [], local, printer, namespace),
        len(derivation.adjoints),
        _output_index(graph),
    )


#: Functions that exact arithmetic writes out (relu as Max, softmax with exp); sigmoid stays sigma(x).
_WRITTEN_OUT = (functions.relu, functions.leaky_relu, functions.softplus, functions.softmax,
                functions.softmax_cross_entropy)


def _exact_form(expr):
    return expr.replace(lambda e: isinstance(e, _WRITTEN_OUT), lambda e: e.rewrite(sympy.exp))


def _exact_program(derivation) -> _Program:
    """Evaluation by substitution: each expression with exact numbers put in, in order."""
    graph = derivation.graph
    arguments, forward, backward, results, local = _program_parts(derivation, _exact_form)
    with_nodes = (*arguments, *graph.nodes)

    def run(names, assignments, outputs):
        def evaluate(*numbers):
            known = dict(zip(names, numbers))
            for target, expr in assignments:
                known[target] = expr.xreplace(known)
            return tuple(known[o] if o in known else sympy.sympify(o).xreplace(known) for o in outputs)
        return evaluate

    return _Program(
        run(arguments, forward, graph.nodes),
        run(with_nodes, backward, results),
        run(with_nodes, [], local),
        len(derivation.adjoints),
        _output_index(graph),
    )


def _guarded(fast, precise: Callable, what: str):
    """``fast`` in float64; where it divides by zero, overflows or leaves a non-finite
    number, the same program again in mpmath, whose exponent cannot overflow."""

    def run(*numbers):
        try:
            result = fast(*numbers)
            if all(map(math.isfinite, result)):
                return result
        except (ArithmeticError, ValueError, TypeError):
            pass
        with mpmath.workdps(FALLBACK_DIGITS):
            try:
                result = precise(*map(mpmath.mpf, numbers))
            except (ArithmeticError, ValueError) as error:
                reason = str(error) or type(error).__name__
                raise NumericError(
                    f"the {what} has no finite value at the given values ({reason}): a log, root or division at 0?"
                ) from None
        return tuple(_real_float(x, what) for x in result)

    return run


def _real_float(x, what: str) -> float:
    if isinstance(x, mpmath.mpc):
        raise NumericError(f"the {what} leaves the real numbers at this point ({x})")
    return float(x)


# --- gradient check internals ---

def _check_parameter(loss, parameters, index, parameter, symbolic, at_point) -> GradientCheck:
    w = parameters[index]
    h = STEP * max(1.0, abs(w))

    def loss_at(x):
        return loss((*parameters[:index], x, *parameters[index + 1:]))

    up, down = w + h, w - h
    central = (loss_at(up) - loss_at(down)) / (up - down)
    if _agree(symbolic, central, at_point):
        return _result(parameter, symbolic, central, True)
    for direction in (1.0, -1.0):   # a kink: the one-sided derivatives, to second order
        near, far = w + direction * h, w + 2 * direction * h
        one_sided = (-3 * at_point + 4 * loss_at(near) - loss_at(far)) / (far - w)
        if _agree(symbolic, one_sided, at_point):
            return _result(parameter, symbolic, one_sided, True)
    return _result(parameter, symbolic, central, False)


def _agree(symbolic, numeric, loss) -> bool:
    if not (math.isfinite(symbolic) and math.isfinite(numeric)):
        return False
    tolerance = RELATIVE_TOLERANCE * max(abs(symbolic), abs(numeric)) + ABSOLUTE_TOLERANCE * max(1.0, abs(loss))
    return abs(symbolic - numeric) <= tolerance


def _result(parameter, symbolic, numeric, ok) -> GradientCheck:
    return GradientCheck(parameter, symbolic, numeric, _relative_error(symbolic, numeric), ok)


def _relative_error(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def _failure_message(failures: Sequence[GradientCheck]) -> str:
    first = failures[0]
    message = (
        f"gradient check failed for {first.parameter.name}: the derivation gives {significant(first.symbolic)}, "
        f"central finite differences give {significant(first.numeric)} (relative error {first.relative_error:.3g})"
    )
    if len(failures) > 1:
        message += f"; also for {', '.join(c.parameter.name for c in failures[1:])}"
    return message


# --- number formatting internals ---

def _decimal(x, digits: int) -> Decimal:
    """``x`` as a Decimal with more digits than will be printed."""
    if isinstance(x, bool):
        raise ValueError(f"{x!r} is not a number")
    if isinstance(x, (int, Decimal)):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    if isinstance(x, Fraction):
        x = sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, (mpmath.mpf, mpmath.mpc)):
        if isinstance(x, mpmath.mpc):
            raise ValueError(f"{x} is not a real number")
        return Decimal(mpmath.nstr(x, digits + 15, strip_zeros=False))
    x = sympy.sympify(x)
    if not x.is_Number and not x.free_symbols:
        return Decimal(mpmath.nstr(numeric_value(x, digits + 15), digits + 15, strip_zeros=False))
    value = sympy.N(x, digits + 15)
    if not value.is_Number:
        raise ValueError(f"{x} has no numeric value")
    if value in (sympy.oo, -sympy.oo, sympy.nan):
        return Decimal(str(float(value)))
    return Decimal(str(value))


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
