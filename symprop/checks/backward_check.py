"""A hand-written backward pass against the engine, at random points.

:func:`check_backward` takes a user's numeric gradients, from a function or
from "Deep Learning from Scratch" layers (the protocol is in its docstring),
and reports each parameter's worst relative error; :func:`assert_backward`
raises a readable ``AssertionError`` for pytest suites.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from sympy import Expr, Symbol

from symprop.checks.backward_diagnosis import LayerDiagnosis, diagnose_layers
from symprop.model.nn import Network
from symprop.checks.random_points import ClaimError, Context, Point, context_of, gradient_value, sample_points, show_point
from symprop.printing.numbers import plain_number
from symprop.printing.notebook import mark, markdown_table, number, text

__all__ = ["BackwardReport", "ParameterCheck", "assert_backward", "check_backward"]


@dataclass(frozen=True)
class ParameterCheck:
    """One parameter's worst disagreement over the points: ``|got - expected| / max(|got|, |expected|)``
    (``inf`` when the backward gave no value)."""

    parameter: str
    relative_error: float
    expected: float
    got: float | None
    point: int  # 0-based index of the point where it is worst

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the worst relative error and the values there."""
        return (f"`{self.parameter}`: worst relative error {number(self.relative_error, 3)} at point {self.point + 1} "
                f"(expected {number(self.expected)}, got {number(self.got)})\n")


@dataclass(frozen=True)
class BackwardReport:
    """A backward pass against the engine at ``points`` random points (``values``: their inputs,
    targets and parameters). ``problems`` lists what went wrong besides the gradients (a forward
    pass or loss that disagrees, a missing value). ``diagnosis``: for a layered network, the
    first dense layer from the output whose gradients disagree and what kind of error it
    looks like (:mod:`symprop.checks.backward_diagnosis`)."""

    checks: tuple[ParameterCheck, ...]
    problems: tuple[str, ...]
    points: int
    rtol: float
    values: tuple[Mapping[str, float], ...] = ()
    diagnosis: LayerDiagnosis | None = None

    @property
    def worst(self) -> dict[str, float]:
        """Parameter name -> worst relative error over the points."""
        return {c.parameter: c.relative_error for c in self.checks}

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.relative_error <= self.rtol for c in self.checks)

    def failing(self) -> tuple[ParameterCheck, ...]:
        return tuple(c for c in self.checks if not c.relative_error <= self.rtol)

    def summary(self) -> str:
        """The verdict, then one line per parameter (worst relative error, expected and got there)."""
        where = f"at {self.points} random points (rtol {plain_number(self.rtol, 6)})"
        if self.ok:
            worst = max((c.relative_error for c in self.checks), default=0.0)
            head = f"backward: OK, worst relative error {plain_number(worst, 2)} {where}"
        else:
            names = ", ".join(c.parameter for c in self.failing()) or "none"
            head = f"backward: WRONG for {names} {where}"
            if self.diagnosis is not None:
                head += f"; {self.diagnosis.head()}"
        lines = [head, f"  {'parameter':<12} {'worst rel. error':>16}   {'expected':>16}   {'got':>16}   point"]
        for c in self.checks:
            mark = "" if c.relative_error <= self.rtol else "   <- differs"
            lines.append(f"  {c.parameter:<12} {plain_number(c.relative_error, 3):>16}   "
                         f"{plain_number(c.expected, 9):>16}   {_show_float(c.got):>16}   {c.point + 1}{mark}")
        lines += [f"  problem: {p}" for p in self.problems]
        if not self.ok and self.diagnosis is not None:
            lines.append(f"  diagnosis: {self.diagnosis.sentence()}")
        if not self.ok and self.values:
            lines += [f"  point {i + 1}: {show_point(point)}"
                      for i, point in enumerate(self.values) if i in {c.point for c in self.failing()}]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the verdict, the diagnosis, then per parameter its worst relative
        error with the expected and given values there, and the problems met."""
        verdict = "**OK**" if self.ok else "**WRONG**"
        head = f"Backward pass: {verdict} at {self.points} random points (rtol {number(self.rtol, 6)})"
        if not self.ok and self.diagnosis is not None:
            head += f"; {text(self.diagnosis.sentence())}"
        rows = [(text(c.parameter), number(c.relative_error, 3), number(c.expected), number(c.got), str(c.point + 1),
                 mark(c.relative_error <= self.rtol)) for c in self.checks]
        table = markdown_table(("parameter", "worst relative error", "expected", "got", "point", "agrees"), rows)
        problems = "".join(f"- {text(p)}\n" for p in self.problems)
        return f"{head}\n\n{table}" + (f"\n{problems}" if problems else "")

    def to_dict(self) -> dict:
        return {
            "ok": self.ok, "points": self.points, "rtol": self.rtol, "problems": list(self.problems),
            "parameters": [
                {"parameter": c.parameter, "relative_error": None if math.isinf(c.relative_error) else c.relative_error,
                 "expected": c.expected, "got": c.got, "point": c.point}
                for c in self.checks
            ],
            "values": [dict(v) for v in self.values],
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
        }


def _show_float(value) -> str:
    return "missing" if value is None else plain_number(value, 9)


def check_backward(target, backward, *, points: int = 5, seed: int = 0, rtol: float = 1e-6) -> BackwardReport:
    """Compare a user's numeric gradients with the engine's at ``points`` random points.

    ``backward`` is one of:

    * a function ``f(values) -> gradients``: ``values`` maps every input, target
      and parameter name to a float; it returns a mapping from parameter name to
      ``d output / d parameter`` (other keys are ignored);
    * "Deep Learning from Scratch" layers, for a layered Network of L dense
      layers: a list of layer objects in forward order, one layer object, or an
      object whose ``layers`` (a list or dict) and optional ``lastLayer`` (or
      ``last_layer``) give them. The protocol:

      - every layer has ``forward(x)`` and ``backward(dout)`` on row arrays of
        shape ``(1, width)``;
      - exactly L layers have attributes ``W`` and ``b`` (affine layers),
        matched in order with the dense layers: ``W`` of shape
        ``(inputs, units)``, ``W[k, j]`` the weight from input ``k`` to unit
        ``j`` (``y = x @ W + b``), ``b`` of shape ``(units,)``. Before each point
        the checker writes the point's parameters into them, in place when the
        arrays fit (a shared bias into every entry, no bias as zeros). After
        ``backward`` it reads ``dW`` (same layout as ``W``) and ``db``: a
        per-unit bias's gradient is ``db[j]``, a shared bias's ``db.sum()``;
      - the other layers (Sigmoid, Relu, ...) are the user's own;
      - the last layer may be a loss layer, recognised by a ``forward(y, t)``
        that requires two arguments: it gets the targets as a ``(1, n)`` row
        and returns the loss, and its backward is called as ``backward(1)``.
        Without one, the last layer's backward receives the engine's ``dE/dy``,
        ``y`` being the network's last activations, or its last
        pre-activations when the list ends with an affine layer.

      The forward output (or the loss) is compared with the engine too; a
      disagreement is listed in ``problems``.

    A parameter's relative error is ``|got - expected| / max(|got|, |expected|)``
    (``inf`` when no value was given); the report is ok when every worst error is
    at most ``rtol`` and there are no problems; a wrong one names the first dense layer
    from the output that disagrees and its kind of error (:mod:`~symprop.checks.backward_diagnosis`). Raises :class:`ClaimError` when
    the layers do not fit the network.
    """
    context = context_of(target)
    run = _layer_runner(context, backward, rtol) if _is_layered(backward) else _function_runner(backward)
    samples = sample_points(context, points, seed, digits=20)
    worst: dict[Symbol, ParameterCheck] = {}
    problems: list[str] = []
    runs = []
    for index, sample in enumerate(samples):
        got, trouble, arrays = run(sample)
        problems += [f"point {index + 1}: {t}" for t in trouble]
        expected = {p.name: float(gradient_value(g, sample.env, 20)) for p, g in context.derivation.gradients.items()}
        runs.append((expected, got, arrays))
        for parameter in context.derivation.gradients:
            check = _compare(parameter.name, expected[parameter.name], got.get(parameter.name), index)
            if parameter not in worst or check.relative_error > worst[parameter].relative_error:
                worst[parameter] = check
    values = tuple({s.name: float(v) for s, v in p.values.items()} for p in samples)
    if len(problems) > 5:  # the same trouble at every point says nothing new
        problems[5:] = [f"... and {len(problems) - 5} more"]
    diagnosis = diagnose_layers(context, samples, *zip(*runs), rtol) if runs else None
    return BackwardReport(tuple(worst.values()), tuple(problems), points, rtol, values, diagnosis)


def _compare(name: str, expected: float, got, index: int) -> ParameterCheck:
    if got is None:
        return ParameterCheck(name, math.inf, expected, None, index)
    got = float(got)
    scale = max(abs(got), abs(expected))
    error = 0.0 if scale == 0 else abs(got - expected) / scale
    return ParameterCheck(name, error if math.isfinite(error) else math.inf, expected, got, index)


def _function_runner(backward) -> Callable:
    if not callable(backward):
        raise ClaimError(
            f"a backward is a function values -> gradients or a list of layers, got {type(backward).__name__}"
        )

    def run(sample: Point):
        result = backward({s.name: float(v) for s, v in sample.values.items()})
        if not isinstance(result, Mapping):
            raise ClaimError(f"the backward function returned {type(result).__name__}, not a mapping name -> gradient")
        return {str(k): v for k, v in result.items()}, [], {}

    return run


def _is_layered(backward) -> bool:
    return isinstance(backward, (list, tuple)) or hasattr(backward, "forward") or hasattr(backward, "layers")


def _layer_list(backward) -> list:
    """The layers in forward order: a list as given, or an object's ``layers`` plus its ``lastLayer``."""
    if isinstance(backward, (list, tuple)):
        return list(backward)
    if hasattr(backward, "layers"):
        layers = backward.layers
        layers = list(layers.values()) if isinstance(layers, Mapping) else list(layers)
        last = getattr(backward, "lastLayer", None) or getattr(backward, "last_layer", None)
        return layers + ([last] if last is not None else [])
    return [backward]


def _is_loss_layer(layer) -> bool:
    """A loss layer's ``forward(y, t)`` needs two arguments (DLfS ``SoftmaxWithLoss``)."""
    try:
        parameters = inspect.signature(layer.forward).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in positional and p.default is p.empty) >= 2


def _layer_runner(context: Context, backward, rtol: float) -> Callable:
    """A function running the layers at a point, by the protocol in :func:`check_backward`'s docstring:
    it returns the gradients read from the affine layers, and the problems met."""
    network = context.network
    if not isinstance(network, Network):  # a layer stack's conv or rnn layers have no W and b to match
        raise ClaimError("layers can only be checked against a layered Network of dense layers (built by nn.mlp), "
                         f"not {'a layer stack' if network is not None else 'a graph'}: give a function values -> gradients")
    layers = _layer_list(backward)
    loss_layer = layers.pop() if layers and _is_loss_layer(layers[-1]) else None
    for layer in layers:
        if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
            raise ClaimError(f"layer {type(layer).__name__} has no forward and backward methods")
    affine = [layer for layer in layers if hasattr(layer, "W") and hasattr(layer, "b")]
    if len(affine) != len(network.layers):
        raise ClaimError(f"the backward has {len(affine)} layers with W and b; the network has "
                         f"{len(network.layers)} dense layers")
    last = network.layers[-1]
    fed = last.nets if layers[-1] is affine[-1] else last.outs
    if loss_layer is None and any(n not in context.derivation.adjoints for n in fed):
        raise ClaimError("the loss does not depend on the last layer's outputs here: give a loss layer last")

    def run(sample: Point):
        env = sample.env
        for layer, dense in zip(affine, network.layers):
            _load_parameters(layer, dense, sample.values)
        y = _row(sample.values, network.inputs)
        for layer in layers:
            y = layer.forward(y)
        if loss_layer is not None:
            loss = loss_layer.forward(y, _row(sample.values, network.targets))
            trouble = _disagreement("the loss", loss, [env[network.output]], rtol)
            dout = loss_layer.backward(1)
        else:
            trouble = _disagreement("the forward output", y, [env[n] for n in fed], rtol)
            dout = _row(env, [context.derivation.adjoints[n].symbol for n in fed])
        for layer in reversed(layers):
            dout = layer.backward(dout)
        got: dict[str, float] = {}
        for layer, dense in zip(affine, network.layers):
            trouble += _read_gradients(layer, dense, got)
        arrays = {dense.index: np.array(getattr(layer, "dW", None), dtype=float)
                  for layer, dense in zip(affine, network.layers) if getattr(layer, "dW", None) is not None}
        return got, trouble, arrays

    return run


def _row(values: Mapping[Symbol, Expr], symbols) -> np.ndarray:
    return np.array([[float(values[s]) for s in symbols]])


def _load_parameters(layer, dense, values: Mapping[Symbol, Expr]) -> None:
    weights = np.array([[float(values[row[k]]) for row in dense.weights] for k in range(len(dense.inputs))])
    biases = np.array([0.0 if b is None else float(values[b]) for b in dense.biases])
    _assign(layer, "W", weights, dense.index)
    _assign(layer, "b", biases, dense.index)


def _assign(layer, name: str, value: np.ndarray, index: int) -> None:
    """Write ``value`` into the layer's array in place (so shared references see it), or set it."""
    current = getattr(layer, name, None)
    if isinstance(current, np.ndarray) and current.size == value.size and current.dtype.kind == "f":
        current[...] = value.reshape(current.shape)
    elif isinstance(current, np.ndarray) and current.size != value.size:
        raise ClaimError(f"dense layer {index}: {name} has shape {current.shape}, expected {value.shape} "
                         f"({'inputs x units' if name == 'W' else 'units'})")
    else:
        setattr(layer, name, value)


def _read_gradients(layer, dense, got: dict[str, float]) -> list[str]:
    """Read ``dW`` and ``db`` into ``got`` by parameter name; the shape problems found."""
    dW = np.asarray(getattr(layer, "dW", None), dtype=float)
    db = np.asarray(getattr(layer, "db", None), dtype=float).ravel()
    shape = (len(dense.inputs), len(dense.nets))
    if dW.shape != shape:
        return [f"dense layer {dense.index}: dW has shape {dW.shape}, expected {shape} (inputs x units)"]
    got.update({w.name: dW[k, j] for j, row in enumerate(dense.weights) for k, w in enumerate(row)})
    biases = dense.bias_parameters
    if len(biases) == 1 and len(dense.biases) > 1:  # shared: the sum over the units it feeds
        got[biases[0].name] = db.sum()
    elif biases and db.shape == (len(biases),):
        got.update({b.name: db[j] for j, b in enumerate(biases)})
    elif biases:
        return [f"dense layer {dense.index}: db has shape {db.shape}, expected ({len(biases)},)"]
    return []


def _disagreement(what: str, got, expected, rtol: float) -> list[str]:
    got = np.asarray(got, dtype=float).ravel()
    expected = np.array([float(e) for e in expected])
    if got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=0):
        return []
    return [f"{what} is {np.array2string(got, precision=9)} but the network gives "
            f"{np.array2string(expected, precision=9)}"]


def assert_backward(target, backward, **options) -> BackwardReport:
    """For pytest: raise ``AssertionError`` with :meth:`BackwardReport.summary` unless the backward
    agrees with the engine. ``options`` go to :func:`check_backward`. Returns the report when ok."""
    report = check_backward(target, backward, **options)
    if not report.ok:
        raise AssertionError("\n" + report.summary())
    return report
