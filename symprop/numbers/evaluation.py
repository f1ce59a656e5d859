"""Evaluating a derivation at given values: straight-line programs in one arithmetic.

A program runs, in graph order, every forward value ``v = f_v(parents)``,
then every adjoint ``delta_u = sum_v delta_v dv/du`` (output first) and every
gradient ``dE/dw = sum_v delta_v dv/dw``, and every local derivative
``dv/du``; it is compiled once per derivation and arithmetic. Several
examples combine by ``reduction``: ``E = (1/n) sum_i E_i`` (mean) or
``sum_i E_i`` (sum), and the gradients alike.

Arithmetics: ``"float"`` (float64, generated straight-line code), ``"exact"``
(SymPy Rationals; activations stay exact, ``sigma(151/400)``), or an int, the
number of significant digits (mpmath). The float path falls back to mpmath at
:data:`FALLBACK_DIGITS` digits when float64 cannot hold an intermediate
(``1/sigma(-1000)``), so saturated units still give the right gradient.
"""
from __future__ import annotations

import contextlib
import math
import weakref
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Mapping

import mpmath
import sympy
from sympy import Symbol
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from symprop.errors import SympropError
from symprop.model import functions
from symprop.model.per_object import PerObject
from symprop.numbers.checked import finite_real
from symprop.numbers.bounded import BOUNDED_MPMATH, NumberTooLarge
from symprop.numbers.digits import numeric_value
from symprop.numbers.straight_line import StraightLineMixin, stable_form, straight_line_function

#: Digits of the mpmath fallback for float64 over- and underflow (mpmath's exponent is unbounded).
FALLBACK_DIGITS = 50
#: Extra working digits behind a requested precision.
GUARD_DIGITS = 10
REDUCTIONS = ("mean", "sum")


class NumericError(SympropError, ValueError):
    """A value that has no finite real number at the given point (a division by zero, say)."""


# --- what the caller gave ---

def given_values(graph, values, examples=None) -> tuple[list[tuple], tuple]:
    """``(rows, parameters)``: per example the raw numbers of ``graph.inputs`` in order,
    and the raw numbers of ``graph.parameters``. Names are checked here, one line each."""
    known = {s.name: s for s in (*graph.inputs, *graph.parameters)}
    given = _by_symbol(values, known, "values")
    missing = [p.name for p in graph.parameters if p not in given]
    if missing:
        raise NumericError(f"no value given for parameter {', '.join(missing)}")
    if examples is None:
        data = [given]
    else:
        data = [_by_symbol(e, known, f"example {i}") for i, e in enumerate(examples, start=1)]
        if not data:
            raise NumericError("examples is empty: give at least one example, or None")
        parameters = set(graph.parameters)
        for i, example in enumerate(data, start=1):
            stray = [s.name for s in example if s in parameters]
            if stray:
                raise NumericError(f"example {i} gives parameter {', '.join(stray)}: parameters belong in values")
    rows = []
    for i, example in enumerate(data, start=1):
        absent = [s.name for s in graph.inputs if s not in example]
        if absent:
            where = "values" if examples is None else f"example {i}"
            raise NumericError(f"{where} has no value for input {', '.join(absent)}")
        rows.append(tuple(example[s] for s in graph.inputs))
    return rows, tuple(given[p] for p in graph.parameters)


def _by_symbol(mapping, known: Mapping[str, Symbol], where: str) -> dict[Symbol, object]:
    result = {}
    for key, value in dict(mapping).items():
        name = key.name if isinstance(key, Symbol) else str(key)
        if name not in known:
            raise NumericError(
                f"{where}: {name} is not an input, target or parameter of the graph "
                f"(expected some of {', '.join(known)})"
            )
        finite_real(value, f"{where}: {name}")  # None, NaN or text would spread through every number
        result[known[name]] = value
    return result


def check_options(reduction, steps):
    if reduction not in REDUCTIONS:
        raise NumericError(f"unknown reduction {reduction!r}: expected mean or sum")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise NumericError(f"steps must be a whole number >= 0, got {steps!r}")


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


def first_example(program: _Program, row, parameters) -> _FirstExample:
    nodes = program.forward(*row, *parameters)
    backward = program.backward(*row, *parameters, *nodes)
    local = program.local(*row, *parameters, *nodes)
    count = program.adjoint_count
    return _FirstExample(nodes, backward[:count], backward[count:], local)


def loss_and_gradients(program, arithmetic, rows, parameters, reduction, first=None, gradients=True):
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


# --- arithmetics ---

def _scalar_helpers(lib) -> dict[str, Callable]:
    """symprop's functions for scalars of ``lib`` (``math`` or ``mpmath``): each record's stable
    scalar form (no exponential overflows), and the stable logarithms :func:`stable_form` writes."""
    helpers = {record.name: record.scalar(lib) for record in functions.FUNCTION_RECORDS if record.scalar}
    softplus, exp, log = helpers["softplus"], lib.exp, lib.log

    def log_softmax(k, *z):
        top = max(z)
        return z[int(k) - 1] - top - log(sum(exp(zj - top) for zj in z))

    return dict(
        helpers,
        log_sigmoid=lambda z: -softplus(-z),
        heaviside=lambda z, h0: 1 if z > 0 else (0 if z < 0 else h0),
        log_softmax=log_softmax,
        # SymPy's derivatives of Abs and of powers with a symbolic base use these.
        re=lambda z: z.real,
        im=lambda z: z.imag,
    )


class _FloatPrinter(StraightLineMixin, PythonCodePrinter):
    """Python code over ``math``; symprop's functions print as calls to the scalar helpers."""


class _MpmathPrinter(StraightLineMixin, MpmathPrinter):
    """Python code over ``mpmath``; symprop's functions print as calls to the scalar helpers,
    a power with a symbolic exponent as ``mpmath.power`` (its size is checked there)."""

    def _print_Pow(self, expr, rational=False):
        if expr.exp.is_Number:
            return super()._print_Pow(expr, rational=rational)
        return f"mpmath.power({self._print(expr.base)}, {self._print(expr.exp)})"


_PRINTER_SETTINGS = {"allow_unknown_functions": True}


class _Float:
    """float64 through generated code over ``math``, falling back to mpmath on overflow."""

    key = "float"

    def context(self):
        return contextlib.nullcontext()

    def number(self, x) -> float:
        return to_float(x)

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
        # A weak reference: the cache of programs must not keep its derivation alive.
        derivation_ref = weakref.ref(derivation)

        def fallback(name):
            """The precise program's ``name``; node values are recomputed precisely, since
            float64 may have rounded a saturated unit to exactly 0 or 1."""
            def run(*numbers):
                program = program_of(derivation_ref(), precise)
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
        # Bounded: no argument so large that one function call would run for minutes.
        return _compiled_program(derivation, _MpmathPrinter(_PRINTER_SETTINGS),
                                 {"mpmath": BOUNDED_MPMATH, **_scalar_helpers(BOUNDED_MPMATH)})


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


def arithmetic_of(precision):
    if precision == "float":
        return FLOAT
    if precision == "exact":
        return EXACT
    if isinstance(precision, int) and not isinstance(precision, bool) and precision >= 1:
        return _Precise(precision)
    raise ValueError(f"precision must be 'float', 'exact' or a number of significant digits, got {precision!r}")


def to_float(x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{x!r} is not a number")
    try:
        if isinstance(x, sympy.Basic) and not x.is_Number:
            x = numeric_value(x, 17)
        return float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{x!r} is not a real number") from None


# --- programs: compiled once per derivation and arithmetic ---

_PROGRAMS = PerObject()


def program_of(derivation, arithmetic) -> _Program:
    """The derivation's program in ``arithmetic``, compiled on first use: one per kind of
    arithmetic (a precise one reads its digits from mpmath's context as it runs)."""
    programs = _PROGRAMS.of(derivation)
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
    arguments, forward, backward, results, local = _program_parts(derivation, lambda e: stable_form(e, graph))
    with_nodes = (*arguments, *graph.nodes)
    return _Program(
        straight_line_function(arguments, forward, graph.nodes, printer, namespace),
        straight_line_function(with_nodes, backward, results, printer, namespace),
        straight_line_function(with_nodes, [], local, printer, namespace),
        len(derivation.adjoints),
        _output_index(graph),
    )


#: Functions that exact arithmetic writes out (relu as Max, softmax with exp); sigmoid stays sigma(x).
_WRITTEN_OUT = tuple(record.function for record in functions.FUNCTION_RECORDS if record.written_out)


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
                try:
                    known[target] = expr.xreplace(known)
                except (OverflowError, ValueError) as error:  # SymPy compares huge exact numbers in floats
                    raise NumericError(f"exact arithmetic cannot compute {target}: its value is too large "
                                       f"({str(error)[:60]}); use a number of digits (precision 30)") from None
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
            except NumberTooLarge as error:
                raise NumericError(f"the {what} cannot be computed: {error}") from None
            except (ArithmeticError, ValueError, TypeError) as error:  # TypeError: a complex value was compared
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
