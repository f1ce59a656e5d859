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

import re
from dataclasses import dataclass, field
from itertools import product
from typing import Mapping, Protocol

import numpy
import sympy
from sympy import Expr, Symbol

from symprop.errors import SympropError
from symprop.model import functions
from symprop.model.activations import ACTIVATION_RECORDS

__all__ = ["ArrayLayer", "LayerType", "LayerTypeError", "Names", "activate_array", "array_tex", "entry_name", "entry_tex",
           "pair", "symbol_array"]


class LayerTypeError(SympropError, ValueError):
    """A layer type given settings or an input shape it cannot take, said in one line."""


def entry_name(name: str, index: tuple[int, ...]) -> str:
    """``W1[0, 2, 1, 1]``: the entry of array ``W1`` at ``index``, counted from 0 as SymPy
    and NumPy count (the spelling :mod:`symprop.model.matrices` gives a matrix entry)."""
    return f"{name}[{', '.join(map(str, index))}]"


#: An array's LaTeX with a role under its layer number, ``W_{x}^{(1)}`` (the input weights of an RNN).
_ROLE = re.compile(r"(?P<head>.+)_\{(?P<role>[^{}]+)\}\^\{(?P<layer>\([^{}]*\))\}\Z")


def entry_tex(tex: str, index: tuple) -> str:
    """``W^{(1)}_{0,2,1,1}``: ``tex`` (the array's own LaTeX) with the index as a subscript. An array
    with a role (``W_{x}^{(1)}``) has its role and the index under the layer number, ``W^{(1)}_{x;0,1}``:
    one subscript stacked under the superscript, never a second one set after it."""
    where = ",".join(map(str, index))
    role = _ROLE.match(tex)
    if role:
        return f"{role['head']}^{{{role['layer']}}}_{{{role['role']};{where}}}"
    return f"{tex}_{{{where}}}"


def array_tex(entry: str) -> str:
    """The LaTeX of the array an entry belongs to, from the entry's (:func:`entry_tex` undone):
    ``W^{(1)}_{0,1}`` -> ``W^{(1)}``, ``W^{(1)}_{x;0,1}`` -> ``W_{x}^{(1)}``."""
    head, _, where = entry.rpartition("_{")
    role, semicolon, _ = where.partition(";")
    if not semicolon:
        return head
    name, _, layer = head.rpartition("^")
    return f"{name}_{{{role}}}^{layer}"


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

    @property
    def roles(self) -> dict[str, str]:
        """Each parameter array's name -> its role in the layer, the name without the layer's
        number (``W1`` -> ``W``, ``Wx2`` -> ``Wx``): the keys of the JSON's ``arrays``."""
        suffix = str(self.index)
        return {name: name.removesuffix(suffix) if name != suffix else name for name in self.parameters}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.inputs.shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.outputs.shape)

    @property
    def pre_activations(self) -> numpy.ndarray | None:
        """The array the layer's activation is applied to (``z1``), when it has one."""
        return self.nodes.get(f"z{self.index}")


def pair(value, what: str) -> tuple[int, int]:
    """``value`` (a whole number or two) as ``(rows, columns)``: a kernel ``2`` is ``(2, 2)``;
    anything else is refused in one line naming ``what``."""
    values = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise LayerTypeError(f"{what} must be a whole number or two, got {value!r}")
    return values


def check_activation(activation: str, elementwise: bool = True) -> None:
    """A known activation; ``elementwise``: one that acts on each entry by itself (not softmax)."""
    if activation not in functions.ACTIVATIONS:
        raise LayerTypeError(f"unknown activation {activation!r}: expected one of {', '.join(functions.ACTIVATIONS)}")
    if elementwise and ACTIVATION_RECORDS[activation].kind == "softmax":
        raise LayerTypeError("softmax acts on a whole vector: use it in a dense layer after flatten")


def activate_array(activation: str, z: numpy.ndarray, names: Names, index: int, place: str,
                   alpha: Expr = sympy.Rational(1, 100)) -> tuple[numpy.ndarray, list[tuple[Symbol, Expr]]]:
    """``a = f(z)``, entry by entry, as the array ``a<index>`` and its equations; the identity
    makes no node (``z`` is the output). A softmax acts along the last axis (each row of a
    ``(steps, units)`` array is one softmax)."""
    record = ACTIVATION_RECORDS[activation]
    if record.kind == "identity":
        return z, []
    a = names.array(f"a{index}", z.shape, f"a^{{({index})}}", f"the activations of {place}")
    equations = []
    for row in product(*(range(n) for n in z.shape[:-1])):
        nets = tuple(z[row])
        equations += [(a[(*row, j - 1)], record.apply(nets, j, alpha)) for j in range(1, len(nets) + 1)]
    return a, equations


class LayerType(Protocol):
    """What every layer spec provides (see the module docstring)."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]: ...

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer: ...
