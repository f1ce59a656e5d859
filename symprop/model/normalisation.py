r"""Layer normalisation and batch normalisation, written as their forward equations.

Both normalise each group of ``n`` entries of the input by its own mean and variance, then
scale and shift them by learned ``gamma<l>`` and ``beta<l>``::

    mu = (1/n) sum_k x_k                 var = (1/n) sum_k (x_k - mu)^2   (biased, as PyTorch)
    rstd = (var + epsilon)^(-1/2)         norm_k = (x_k - mu) rstd
    y_k = gamma norm_k + beta

They differ only in the groups. Layer normalisation (``torch.nn.LayerNorm`` over the last
axis) takes each row of features of one example: an input ``[features]`` or ``[rows,
features]``, ``gamma`` and ``beta`` one per feature. Batch normalisation (``torch.nn.BatchNorm1d``
and ``BatchNorm2d`` in training mode) takes one feature, or one channel, across the examples
of a batch: an input ``[batch, features]`` or ``[batch, channels, height, width]``, ``gamma`` and
``beta`` one per feature or channel.

So batch normalisation couples the examples: each example's output depends on every other
example through ``mu`` and ``var``. The batch is therefore one graph, the leading axis of the
input, and never copies of one example's graph as :func:`symprop.model.nn.batched` makes them
(copies share only the parameters, so each copy would normalise by its own statistics).

``epsilon`` (default ``1e-5``, PyTorch's) is kept as an exact decimal, so exact arithmetic
stays exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy
import sympy
from sympy import Rational

from symprop.model.layer_types import ArrayLayer, LayerTypeError, Names
from symprop.model.layer_parts import input_shape, node_array, tex_array_name

__all__ = ["BatchNorm", "LayerNorm", "epsilon_value"]


def epsilon_value(kind: str, epsilon) -> Rational:
    """``epsilon`` as an exact positive decimal (``1e-5`` -> ``1/100000``), or a one-line refusal."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < 1:
        raise LayerTypeError(f"{kind}: epsilon must be a number between 0 and 1, got {epsilon!r}")
    return Rational(repr(float(epsilon)))


@dataclass(frozen=True)
class _Normalisation:
    epsilon: float = 1e-5

    kind = "normalisation"

    def __post_init__(self):
        epsilon_value(self.kind, self.epsilon)

    def parameter_count(self, input_shape_: tuple[int, ...]) -> int:
        return 2 * input_shape_[self.feature_axis(len(input_shape_))]

    def node_count(self, input_shape_: tuple[int, ...]) -> int:
        return 2 * int(numpy.prod(input_shape_)) + 3 * int(numpy.prod(self.group_shape(tuple(input_shape_))))

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        shape = self.output_shape(x.shape)
        axis = self.feature_axis(len(shape))
        features = shape[axis]
        groups = self.group_shape(shape)
        parameters = {
            f"gamma{index}": names.array(f"gamma{index}", (features,), tex_array_name(r"\gamma", index),
                                         f"the scale of layer {index}"),
            f"beta{index}": names.array(f"beta{index}", (features,), tex_array_name(r"\beta", index),
                                        f"the shift of layer {index}"),
        }
        arrays = {name: node_array(names, f"{name}{index}", groups if name in _STATISTICS else shape, tex, f"{what} of "
                                   f"layer {index}") for name, tex, what in self._node_names(index)}
        equations = []
        for group in product(*(range(n) for n in groups)):
            equations += self._group_equations(x, arrays, group, shape)
        for position in product(*(range(n) for n in shape)):
            feature = position[axis]
            equations.append((arrays["y"][position], parameters[f"gamma{index}"][feature] * arrays["norm"][position]
                              + parameters[f"beta{index}"][feature]))
        settings = {"epsilon": self.epsilon, "groups": self.groups_text, "shape": shape}
        nodes = {f"{name}{index}": array for name, array in arrays.items()}
        return ArrayLayer(index, self.kind, x, arrays["y"], parameters, tuple(equations), settings, nodes)

    def _node_names(self, index: int):
        return (("mean", tex_array_name(r"\mu", index), "the means"),
                ("var", tex_array_name(r"\mathrm{var}", index), "the variances"),
                ("rstd", tex_array_name(r"\mathrm{rstd}", index), "the reciprocal standard deviations"),
                ("norm", tex_array_name(r"\hat{x}", index), "the normalised inputs"),
                ("y", tex_array_name("y", index), "the outputs"))

    def _group_equations(self, x, nodes, group, shape):
        """mean, var, rstd of one group, and its entries' ``norm``."""
        members = self.members(group, shape)
        n = Rational(1, len(members))
        mean, var, rstd = (nodes[name][group] for name in _STATISTICS)
        equations = [(mean, n * sympy.Add(*[x[m] for m in members])),
                     (var, n * sympy.Add(*[(x[m] - mean) ** 2 for m in members])),
                     (rstd, 1 / sympy.sqrt(var + epsilon_value(self.kind, self.epsilon)))]
        return equations + [(nodes["norm"][m], (x[m] - mean) * rstd) for m in members]


_STATISTICS = ("mean", "var", "rstd")


@dataclass(frozen=True)
class LayerNorm(_Normalisation):
    """Each row of features normalised by its own mean and variance (input ``[features]`` or
    ``[rows, features]``); ``gamma<l>``, ``beta<l>`` one per feature."""

    kind = "layernorm"
    groups_text = "each row of features"

    def output_shape(self, input_shape_: tuple[int, ...]) -> tuple[int, ...]:
        shape = input_shape(self.kind, input_shape_, (1, 2), "[features] or [rows, features]")
        if shape[-1] < 2:
            raise LayerTypeError("layernorm: one feature is always normalised to 0: give two or more")
        return shape

    @staticmethod
    def feature_axis(rank: int) -> int:
        return rank - 1

    @staticmethod
    def group_shape(shape):
        return shape[:-1]

    @staticmethod
    def members(group, shape):
        return [(*group, k) for k in range(shape[-1])]


@dataclass(frozen=True)
class BatchNorm(_Normalisation):
    """Each feature (or channel) normalised across the batch, the input's leading axis
    (input ``[batch, features]`` or ``[batch, channels, height, width]``); ``gamma<l>``,
    ``beta<l>`` one per feature or channel."""

    kind = "batchnorm"
    groups_text = "each feature across the batch"

    def output_shape(self, input_shape_: tuple[int, ...]) -> tuple[int, ...]:
        shape = input_shape(self.kind, input_shape_, (2, 4), "[batch, features] or [batch, channels, height, width]")
        if shape[0] * int(numpy.prod(shape[2:])) < 2:
            raise LayerTypeError("batchnorm: a batch of one example is always normalised to 0: give two or more "
                                 "examples (the input's leading axis)")
        return shape

    @staticmethod
    def feature_axis(rank: int) -> int:
        return 1

    @staticmethod
    def group_shape(shape):
        return (shape[1],)

    @staticmethod
    def members(group, shape):
        (feature,) = group
        rest = [shape[0], *shape[2:]]
        return [(m[0], feature, *m[1:]) for m in product(*(range(n) for n in rest))]
