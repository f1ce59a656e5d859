"""What kind of error a hand-written backward pass makes, layer by layer.

Errors flow backwards: a layer whose backward is wrong spoils its own gradients and
those of every layer below it. So the layer to look at is the first one, from the
output down, whose gradients disagree with the engine's. Its gradients are then
compared, at every point, with common corruptions of the true ones:

* ``sign``: ``-dW``, ``-db``;
* ``transpose``: ``dW^T`` (``db`` right), for a square layer or a ``dW`` of the
  transposed shape;
* ``missing_derivative``: the layer's activation derivative left out,
  ``dW[k, j] / f'(z_j)`` and ``db_j / f'(z_j)`` (a Sigmoid whose backward returns
  ``dout``);
* ``swapped_rows`` / ``swapped_columns``: two rows (inputs) or two columns (units)
  of ``dW`` exchanged (and, for columns, of a per-unit ``db``).

``W[k, j]`` is the weight from input ``k`` to unit ``j``, "Deep Learning from
Scratch"'s layout (``y = x @ W + b``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from symprop.model.nn import Network
from symprop.checks.random_points import Context, Point, value_at
from symprop.printing.notebook import text

#: Candidate kinds, in the order they are tried.
KINDS = ("sign", "transpose", "missing_derivative", "swapped_rows", "swapped_columns")
#: Relative agreement a corruption must reach at every point to explain the gradients (far below any real difference).
MATCH_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LayerDiagnosis:
    """The first dense layer (``layer``, 1-based, counted from the input; found from the
    output down) whose gradients disagree, and what they look like: ``kind`` one of
    :data:`KINDS`, or ``unknown`` when none explains them; ``label`` says it in a few
    words (``dW transposed``), ``detail`` in a sentence."""

    layer: int
    kind: str
    label: str
    detail: str

    def head(self) -> str:
        """For a report's first line: ``dense layer 2 first wrong from the output: dW transposed``."""
        return f"dense layer {self.layer} first wrong from the output: {self.label}"

    def sentence(self) -> str:
        return f"dense layer {self.layer} is the first from the output to disagree: {self.detail}"

    def to_dict(self) -> dict:
        return {"layer": self.layer, "kind": self.kind, "label": self.label, "detail": self.detail}

    def _repr_markdown_(self) -> str:
        return f"**{text(self.label)}** in dense layer {self.layer}: {text(self.detail)}\n"


@dataclass(frozen=True)
class LayerPoint:
    """One dense layer's true and given gradients at one point: ``expected`` and ``got``
    dW (inputs x units; ``got`` None when not given), per-unit ``deltas`` (dE/dz_j),
    activation derivatives ``slopes`` f'(z_j) (None when the layer has no elementwise
    activation), and the biases by name."""

    expected: np.ndarray
    got: np.ndarray | None
    deltas: np.ndarray
    slopes: np.ndarray | None
    expected_biases: Mapping[str, float]
    got_biases: Mapping[str, float]


def diagnose_layers(context: Context, samples: Sequence[Point], expected: Sequence[Mapping[str, float]],
                    got: Sequence[Mapping[str, float]], arrays: Sequence[Mapping[int, np.ndarray]],
                    rtol: float) -> LayerDiagnosis | None:
    """The first dense layer from the output whose gradients differ by more than ``rtol``
    at some point, with the corruption of the true gradients that explains them; None for
    a plain graph, a layer stack (its conv or rnn layers have no dense weights to diagnose; its
    parameters are still checked one by one) or when every layer agrees. ``arrays``: per point,
    each layer's ``dW`` as given (its shape may be wrong), by layer index."""
    network = context.network
    if not isinstance(network, Network) or not network.layers:
        return None
    for dense in reversed(network.layers):
        names = [w.name for row in dense.weights for w in row] + [b.name for b in dense.bias_parameters]
        if all(_close(e.get(n), g.get(n), rtol) for e, g in zip(expected, got) for n in names):
            continue
        points = [_layer_point(context, dense, sample, e, g, a.get(dense.index))
                  for sample, e, g, a in zip(samples, expected, got, arrays)]
        return _explain(dense, points)
    return None


def _close(expected, got, rtol: float) -> bool:
    if expected is None or got is None:
        return False
    return abs(got - expected) <= rtol * max(abs(got), abs(expected))


def _layer_point(context: Context, dense, sample: Point, expected, got, given) -> LayerPoint:
    inputs, units = len(dense.inputs), len(dense.nets)
    true = np.array([[expected[dense.weights[j][k].name] for j in range(units)] for k in range(inputs)])
    names = [[dense.weights[j][k].name for j in range(units)] for k in range(inputs)]
    if all(n in got for row in names for n in row):
        mine = np.array([[float(got[n]) for n in row] for row in names])
    else:
        mine = None if given is None else np.asarray(given, dtype=float)
    adjoints = context.derivation.adjoints
    deltas = np.array([float(sample.env[adjoints[z].symbol]) if z in adjoints else 0.0 for z in dense.nets])
    biases = [b.name for b in dense.bias_parameters]
    return LayerPoint(true, mine, deltas, _slopes(context, dense, sample),
                      {n: expected[n] for n in biases}, {n: float(got[n]) for n in biases if n in got})


def _slopes(context: Context, dense, sample: Point) -> np.ndarray | None:
    """``f'(z_j)`` for each unit, when each output is an elementwise function of its own
    pre-activation (not softmax, not the identity)."""
    graph, local = context.graph, context.derivation.local
    if not all(graph.parents.get(a) == (z,) and (a, z) in local for a, z in zip(dense.outs, dense.nets)):
        return None
    if all(local[(a, z)] == 1 for a, z in zip(dense.outs, dense.nets)):
        return None
    values = [value_at(local[(a, z)], sample.env, 20) for a, z in zip(dense.outs, dense.nets)]
    if any(v is None or v == 0 for v in values):
        return None
    return np.array([float(v) for v in values])


Corruption = Callable[[LayerPoint], tuple[np.ndarray, dict]]


def _candidates(dense, activation: str) -> Iterator[tuple[str, str, str, Corruption]]:
    """(kind, label, sentence, the corrupted dW and biases at a point), in the order of :data:`KINDS`."""
    units_of = {b.name: [j for j, unit_bias in enumerate(dense.biases) if unit_bias == b] for b in dense.bias_parameters}

    def biases_from(deltas):
        return {name: float(sum(deltas[j] for j in units)) for name, units in units_of.items()}

    yield "sign", "a sign error", "its gradients have the opposite sign (dW and db negated)", \
        lambda p: (-p.expected, {n: -v for n, v in p.expected_biases.items()})
    yield "transpose", "dW transposed", "its dW is the true dW transposed", \
        lambda p: (p.expected.T, dict(p.expected_biases))
    yield ("missing_derivative", f"missing {activation}'(z)",
           f"its gradients lack the activation derivative {activation}'(z) of layer {dense.index} "
           "(the backward passed dout on without multiplying by it)",
           lambda p: (p.expected / p.slopes, biases_from(p.deltas / p.slopes)))
    inputs, units = len(dense.inputs), len(dense.nets)
    for a, b in combinations(range(inputs), 2):
        yield ("swapped_rows", f"rows {a + 1} and {b + 1} of dW swapped", f"rows {a + 1} and {b + 1} of its dW are swapped (the weights of inputs {a + 1} "
               f"and {b + 1})", lambda p, a=a, b=b: (_swap(p.expected, a, b, 0), dict(p.expected_biases)))
    for a, b in combinations(range(units), 2):
        yield ("swapped_columns", f"columns {a + 1} and {b + 1} of dW swapped",
               f"columns {a + 1} and {b + 1} of its dW are swapped (units {a + 1} and {b + 1})",
               lambda p, a=a, b=b: (_swap(p.expected, a, b, 1), biases_from(_swap(p.deltas, a, b, 0))))


def _swap(array: np.ndarray, a: int, b: int, axis: int) -> np.ndarray:
    order = list(range(array.shape[axis]))
    order[a], order[b] = b, a
    return np.take(array, order, axis=axis)


def _explain(dense, points: Sequence[LayerPoint]) -> LayerDiagnosis:
    for kind, label, detail, corrupt in _candidates(dense, dense.activation):
        if kind == "missing_derivative" and any(p.slopes is None for p in points):
            continue
        if all(_matches(p, *corrupt(p)) for p in points):
            return LayerDiagnosis(dense.index, kind, label, detail)
    return LayerDiagnosis(dense.index, "unknown", "not a common error", "its gradients differ, and no sign, transpose, "
                          "missing activation derivative or swap of two rows or columns explains them")


def _matches(point: LayerPoint, weights: np.ndarray, biases: Mapping[str, float]) -> bool:
    """Whether the given gradients are ``weights`` and ``biases`` (those given), and differ from the true ones."""
    if point.got is None or point.got.shape != weights.shape:
        return False
    given = [(point.got, weights)] + [(np.array([point.got_biases[n]]), np.array([v]))
                                      for n, v in biases.items() if n in point.got_biases]
    return all(_same(mine, theirs) for mine, theirs in given) and not _same_as_true(point)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return bool(np.all(np.abs(a - b) <= MATCH_TOLERANCE * scale))


def _same_as_true(point: LayerPoint) -> bool:
    return point.got.shape == point.expected.shape and _same(point.got, point.expected) and all(
        _same(np.array([v]), np.array([point.expected_biases[n]])) for n, v in point.got_biases.items())
