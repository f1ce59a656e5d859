r"""Convolution, pooling and flatten: layer types over ``(channels, height, width)`` arrays.

Each writes its forward equations only (the gradients come from the engine's reverse walk):

- :class:`Conv2d`: ``z_{f,i,j} = b_f + sum_{c,u,v} W_{f,c,u,v} x_{c, i s + u - p, j s + v - p}``
  (a cross-correlation, as PyTorch computes it), an entry outside the input (padding) being 0,
  then ``a = f(z)``; the kernel ``W`` is ``(filters, channels, kh, kw)`` and ``b`` is ``(filters,)``;
- :class:`Pool2d`: ``y_{c,i,j} = max`` (or the mean) of the window ``x_{c, i s + u, j s + v}``,
  ``0 <= u < kh``, ``0 <= v < kw``. A maximum is SymPy's ``Max``, whose derivative by its
  argument ``x_k`` is ``H(x_k - max of the others)`` with ``H(0) = 1/2``: at a tie of two
  entries each receives half the upstream gradient (and so does each of three or more tied
  entries, whose shares then add up to more than the whole: the maximum has no derivative there);
- :class:`Flatten`: the same entries in C order (channel, then row, then column), no equation.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy
import sympy
from sympy import Expr, Rational, Symbol

from symprop.model.layer_types import ArrayLayer, LayerTypeError, Names, activate_array, check_activation, pair
from symprop.model.nn import affine

__all__ = ["Conv2d", "Flatten", "Pool2d", "MaxPool2d", "AvgPool2d", "POOL_MODES", "WindowMax", "window_origin"]

POOL_MODES = ("max", "avg")


def _image_shape(input_shape: tuple[int, ...], kind: str) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise LayerTypeError(f"{kind} takes an input of shape [channels, height, width], got "
                             f"{list(input_shape)}")
    return input_shape


def _positions(size: int, kernel: int, stride: int, padding: int, kind: str, axis: str) -> int:
    """How many windows of ``kernel`` fit along an axis of ``size`` padded by ``padding``."""
    if kernel > size + 2 * padding:
        raise LayerTypeError(f"{kind}: the {axis} of the window ({kernel}) is larger than the input's {axis} "
                             f"({size}{f' + 2 x {padding} padding' if padding else ''})")
    return (size + 2 * padding - kernel) // stride + 1


def window_origin(i: int, stride: int, padding: int) -> int:
    """Where window ``i`` starts on the unpadded input: ``i s - p``."""
    return i * stride - padding


@dataclass(frozen=True)
class Conv2d:
    """A 2-D convolution with ``filters`` kernels of ``kernel`` over every input channel,
    moved by ``stride`` over the input padded by ``padding`` zeros, an optional bias per
    filter, then ``activation`` entry by entry."""

    filters: int
    kernel: tuple[int, int] | int = (2, 2)
    stride: tuple[int, int] | int = 1
    padding: tuple[int, int] | int = 0
    bias: bool = True
    activation: str = "identity"
    kind = "conv2d"

    def __post_init__(self):
        if not isinstance(self.filters, int) or isinstance(self.filters, bool) or self.filters < 1:
            raise LayerTypeError(f"conv2d filters must be a positive whole number, got {self.filters!r}")
        object.__setattr__(self, "kernel", pair(self.kernel, "conv2d kernel"))
        object.__setattr__(self, "stride", pair(self.stride, "conv2d stride"))
        object.__setattr__(self, "padding", pair(self.padding, "conv2d padding"))
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise LayerTypeError("conv2d: kernel and stride must be at least 1 and padding at least 0, got kernel "
                                 f"{list(self.kernel)}, stride {list(self.stride)}, padding {list(self.padding)}")
        check_activation(self.activation)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        _, height, width = _image_shape(input_shape, self.kind)
        rows = _positions(height, self.kernel[0], self.stride[0], self.padding[0], self.kind, "height")
        columns = _positions(width, self.kernel[1], self.stride[1], self.padding[1], self.kind, "width")
        return (self.filters, rows, columns)

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        filters, rows, columns = self.output_shape(x.shape)
        place = f"layer {index} (conv2d)"
        W = names.array(f"W{index}", (filters, x.shape[0], *self.kernel), f"W^{{({index})}}", f"the kernel of {place}")
        b = names.array(f"b{index}", (filters,), f"b^{{({index})}}", f"the bias of {place}") if self.bias else None
        z = names.array(f"z{index}", (filters, rows, columns), f"z^{{({index})}}", f"the pre-activations of {place}")
        equations = [(z[f, i, j], self._entry(x, W, b, f, i, j)) for f, i, j in numpy.ndindex(z.shape)]
        a, activations = activate_array(self.activation, z, names, index, place)
        parameters = {W_name: array for W_name, array in ((f"W{index}", W), (f"b{index}", b)) if array is not None}
        settings = {"filters": filters, "kernel": list(self.kernel), "stride": list(self.stride),
                    "padding": list(self.padding), "bias": self.bias, "activation": self.activation}
        nodes = {f"z{index}": z, **({f"a{index}": a} if a is not z else {})}
        return ArrayLayer(index, self.kind, x, a, parameters, (*equations, *activations), settings, nodes)

    def _entry(self, x, W, b, f: int, i: int, j: int) -> Expr:
        """``b_f + sum_{c,u,v} W_{f,c,u,v} x_{c, i s + u - p, j s + v - p}`` over the entries inside the input."""
        top, left = window_origin(i, self.stride[0], self.padding[0]), window_origin(j, self.stride[1], self.padding[1])
        weights, inputs = [], []
        for c, u, v in product(range(x.shape[0]), range(self.kernel[0]), range(self.kernel[1])):
            r, s = top + u, left + v
            if 0 <= r < x.shape[1] and 0 <= s < x.shape[2]:
                weights.append(W[f, c, u, v])
                inputs.append(x[c, r, s])
        bias = b[f] if b is not None else None
        if not weights:  # a window wholly in the padding sees only zeros
            return bias if bias is not None else sympy.Integer(0)
        return affine(weights, inputs, bias)


class WindowMax(sympy.Max):
    """The maximum of a pooling window, built unevaluated: SymPy's ``Max`` compares its arguments
    pairwise under their assumptions when it is built, which for distinct symbols decides nothing
    and costs about a tenth of a second per window and per derivative. It is ``Max`` in every
    other respect (built evaluated, it is SymPy's ``Max``): its class is named ``Max``, so every
    printer (LaTeX ``\\max``, Python ``max``, NumPy) writes it as SymPy's, and ``isinstance`` sees
    a ``Max``; its derivative is Max's, ``d max / d x_k = H(x_k - max of the others)``, the others'
    maximum built unevaluated too."""

    def __new__(cls, *args, evaluate=None, **options):
        # Built evaluated (a number put in by xreplace, or a caller's default) it is SymPy's
        # Max itself: Max's simplifications compare against the class Max, not a subclass.
        if evaluate or (evaluate is None and sympy.core.parameters.global_parameters.evaluate):
            return sympy.Max(*args, **options)
        return super().__new__(cls, *args, evaluate=False, **options)

    def fdiff(self, argindex=1):
        args = self.args
        if not 0 < argindex <= len(args):
            return super().fdiff(argindex)
        return window_step(args[argindex - 1], args[:argindex - 1] + args[argindex:])


WindowMax.__name__ = WindowMax.__qualname__ = "Max"  # printed by name, as SymPy's Max

def window_max(entries) -> Expr:
    """``max`` of a window's entries (the entry itself for a window of one)."""
    return entries[0] if len(entries) == 1 else WindowMax(*entries, evaluate=False)


def window_step(entry: Expr, others) -> Expr:
    """``H(entry - max(others))``: 1 where ``entry`` is its window's maximum. Of distinct
    symbols it is built unevaluated, as it would evaluate to itself (the sign of a
    difference of free symbols is unknown), at a fifth of the cost of asking."""
    symbols = (entry, *others)
    plain = all(s.is_Symbol for s in symbols) and len(set(symbols)) == len(symbols)
    return sympy.Heaviside(entry - window_max(list(others)), evaluate=not plain)


@dataclass(frozen=True)
class Pool2d:
    """Max (``mode = "max"``) or average (``"avg"``) pooling over windows of ``size``, moved
    by ``stride`` (the size when not given), channel by channel."""

    mode: str
    size: tuple[int, int] | int = 2
    stride: tuple[int, int] | int | None = None

    def __post_init__(self):
        if self.mode not in POOL_MODES:
            raise LayerTypeError(f"unknown pooling {self.mode!r}: expected one of {', '.join(POOL_MODES)}")
        object.__setattr__(self, "size", pair(self.size, f"{self.kind} size"))
        stride = self.size if self.stride is None else self.stride
        object.__setattr__(self, "stride", pair(stride, f"{self.kind} stride"))
        if min(self.size) < 1 or min(self.stride) < 1:
            raise LayerTypeError(f"{self.kind}: size and stride must be at least 1, got size {list(self.size)}, "
                                 f"stride {list(self.stride)}")

    @property
    def kind(self) -> str:
        return f"{self.mode}pool"

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        channels, height, width = _image_shape(input_shape, self.kind)
        rows = _positions(height, self.size[0], self.stride[0], 0, self.kind, "height")
        return (channels, rows, _positions(width, self.size[1], self.stride[1], 0, self.kind, "width"))

    def window(self, x: numpy.ndarray, c: int, i: int, j: int) -> list[Symbol]:
        """The entries of window ``(i, j)`` of channel ``c``, row by row."""
        top, left = i * self.stride[0], j * self.stride[1]
        return [x[c, top + u, left + v] for u, v in product(range(self.size[0]), range(self.size[1]))]

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        shape = self.output_shape(x.shape)
        place = f"layer {index} ({self.kind})"
        y = names.array(f"p{index}", shape, f"p^{{({index})}}", f"the outputs of {place}")
        count = Rational(1, self.size[0] * self.size[1])
        equations = []
        for c, i, j in numpy.ndindex(shape):
            window = self.window(x, c, i, j)
            equations.append((y[c, i, j], window_max(window) if self.mode == "max" else count * sympy.Add(*window)))
        settings = {"size": list(self.size), "stride": list(self.stride)}
        return ArrayLayer(index, self.kind, x, y, {}, tuple(equations), settings, {f"p{index}": y})


def MaxPool2d(size=2, stride=None) -> Pool2d:
    """Max pooling (PyTorch's name)."""
    return Pool2d("max", size, stride)


def AvgPool2d(size=2, stride=None) -> Pool2d:
    """Average pooling (PyTorch's name)."""
    return Pool2d("avg", size, stride)


@dataclass(frozen=True)
class Flatten:
    """The input's entries as one vector, in C order: reshaping only, no equation."""

    kind = "flatten"

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(numpy.prod(input_shape)),)

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        return ArrayLayer(index, self.kind, x, x.reshape(-1), {}, (), {})
