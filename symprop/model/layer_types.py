"""Layers beyond dense, as array-shaped blocks of scalar equations.

A layer type (convolution, pooling, flatten, recurrent, normalisation, attention) is a
frozen spec, like :class:`symprop.model.nn.Dense`, with two methods:

- ``output_shape(input_shape) -> tuple[int, ...]``: the shape it makes of an input's shape,
  refusing in one line (:class:`LayerTypeError`) a shape it cannot take;
- ``build(x, index, names) -> ArrayLayer``: its forward equations over the input array ``x``
  (an object array of SymPy symbols or expressions), as layer number ``index`` (from 1).

A builder writes the forward pass only. Every gradient still comes from the engine's one
reverse walk over the scalar equations, never from a hand-written backward rule; the
matrix or index form a document shows is proven against those gradients in ``layers/``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Mapping, Protocol

import numpy
from sympy import Expr, Symbol

from symprop.errors import SympropError

__all__ = ["ArrayLayer", "LayerType", "LayerTypeError", "Names", "entry_name", "entry_tex", "symbol_array"]


class LayerTypeError(SympropError, ValueError):
    """A layer type given settings or an input shape it cannot take, said in one line."""


def entry_name(name: str, index: tuple[int, ...]) -> str:
    """``W1[0, 2, 1, 1]``: the entry of array ``W1`` at ``index``, counted from 0 as SymPy
    and NumPy count (the spelling :mod:`symprop.model.matrices` gives a matrix entry)."""
    return f"{name}[{', '.join(map(str, index))}]"


def entry_tex(tex: str, index: tuple[int, ...]) -> str:
    """``W^{(1)}_{0,2,1,1}``: ``tex`` (the array's own LaTeX) with the index as a subscript."""
    return f"{tex}_{{{','.join(map(str, index))}}}"


@dataclass
class Names:
    """Hands out array names once per network and records each entry's LaTeX.

    ``claimed`` maps each array name to what it is ("the kernel of layer 1"), so that two
    layers asking for the same name are refused naming both, as :class:`nn.NameClash` does."""

    latex: dict[Symbol, str] = field(default_factory=dict)
    claimed: dict[str, str] = field(default_factory=dict)

    def array(self, name: str, shape: tuple[int, ...], tex: str, place: str) -> numpy.ndarray:
        if name in self.claimed:
            raise LayerTypeError(f"the name {name!r} is given to both {self.claimed[name]} and {place}")
        self.claimed[name] = place
        return symbol_array(name, shape, tex, self.latex)


def symbol_array(name: str, shape: tuple[int, ...], tex: str, latex: dict[Symbol, str]) -> numpy.ndarray:
    """An object array of real symbols ``name[i, j, ...]`` of ``shape``, their LaTeX
    ``tex_{i,j,...}`` recorded in ``latex``."""
    array = numpy.empty(shape, dtype=object)
    for index in product(*(range(n) for n in shape)):
        symbol = Symbol(entry_name(name, index), real=True)
        latex[symbol] = entry_tex(tex, index)
        array[index] = symbol
    return array


@dataclass(frozen=True)
class ArrayLayer:
    """A built layer of any type: ``outputs`` computed from ``inputs`` by ``equations``.

    ``parameters`` maps each parameter array's name (``W1``, ``b1``, ``Wx1``, ``gamma1``)
    to its object array of symbols, shaped as PyTorch shapes it (a kernel is
    ``(filters, channels, kh, kw)``); ``settings`` holds what the document states about
    the layer (kernel, stride, padding, activation, ...); ``nodes`` names the arrays of
    intermediate nodes a document may show (``z1``, ``h1``, gate arrays)."""

    index: int
    kind: str
    inputs: numpy.ndarray
    outputs: numpy.ndarray
    parameters: Mapping[str, numpy.ndarray]
    equations: tuple[tuple[Symbol, Expr], ...]
    settings: Mapping[str, object] = field(default_factory=dict)
    nodes: Mapping[str, numpy.ndarray] = field(default_factory=dict)

    @property
    def parameter_symbols(self) -> tuple[Symbol, ...]:
        """Every parameter entry, array by array, each array in C order."""
        return tuple(s for array in self.parameters.values() for s in array.flat)


class LayerType(Protocol):
    """What every layer spec provides (see the module docstring)."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]: ...

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer: ...
