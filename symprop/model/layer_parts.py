"""What the recurrent, normalisation and attention builders share: their settings checked
in one line, node arrays named once, an elementwise activation and an affine row.

Each builder (:mod:`symprop.model.recurrent`, :mod:`symprop.model.normalisation`,
:mod:`symprop.model.attention`) writes its forward equations with these, so that every
entry is a node of its own (``h1[2, 0]``, LaTeX ``h^{(1)}_{2,0}``) and the engine's one
reverse walk sees the textbook's quantities.
"""
from __future__ import annotations

from typing import Sequence

import numpy
import sympy
from sympy import Expr, Symbol

from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.layer_types import LayerTypeError, Names
from symprop.model.nn import affine

__all__ = ["activation_record", "affine_row", "count", "elementwise", "input_shape", "node_array", "tex_array_name"]


def count(kind: str, setting: str, value) -> int:
    """``value`` as a positive whole number, or a one-line refusal naming ``kind`` and ``setting``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LayerTypeError(f"{kind}: {setting} must be a positive whole number, got {value!r}")
    return value


def input_shape(kind: str, shape, ranks: Sequence[int], meaning: str) -> tuple[int, ...]:
    """``shape`` as a tuple of positive sizes of one of ``ranks``; else one line saying what
    the layer takes (``meaning``: ``[steps, features]``)."""
    shape = tuple(shape)
    if len(shape) not in ranks or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
        raise LayerTypeError(f"{kind}: the input has shape {list(shape)}, expected {meaning}")
    return shape


def activation_record(kind: str, name: str):
    """The record of an elementwise activation (``tanh``, ``sigmoid``, ``relu``, ...); softmax,
    which couples the units, and unknown names are refused in one line."""
    record = ACTIVATION_RECORDS.get(name) if isinstance(name, str) else None
    if record is None or record.kind == "softmax":
        known = ", ".join(n for n, r in ACTIVATION_RECORDS.items() if r.kind != "softmax")
        raise LayerTypeError(f"{kind}: unknown activation {name!r}: expected one of {known}")
    return record


def elementwise(record, z: Expr, alpha: Expr = sympy.Rational(1, 100)) -> Expr:
    """``f(z)`` by the activation's record (the identity gives ``z`` itself)."""
    return record.apply([z], 1, alpha)


def affine_row(weights: Sequence[Symbol], inputs: Sequence[Expr], bias: Sequence[Symbol] = ()) -> Expr:
    """``sum_k w_k a_k + sum(bias)``: one unit's pre-activation, in SymPy's canonical order
    (:func:`symprop.model.nn.affine`); inputs that are 0 (a zero initial state) drop out."""
    pairs = [(w, a) for w, a in zip(weights, inputs) if a != 0]
    extra = list(bias)
    if len(extra) <= 1:
        return affine([w for w, _ in pairs], [a for _, a in pairs], extra[0] if extra else None)
    return affine([w for w, _ in pairs], [a for _, a in pairs]) + sympy.Add(*extra)


def tex_array_name(letter: str, index: int, sub: str = "") -> str:
    r"""The LaTeX of layer ``index``'s array: ``W^{(1)}``, or with the role ``sub`` ``W_{x}^{(1)}``
    (its entries are ``W^{(1)}_{x;0,1}``: :func:`symprop.model.layer_types.entry_tex`)."""
    head = f"{letter}_{{{sub}}}" if sub else letter
    return f"{head}^{{({index})}}"


def node_array(names: Names, name: str, shape: tuple[int, ...], tex: str, place: str) -> numpy.ndarray:
    """An array of node symbols claimed through ``names``; a shape of ``()`` is one node named
    ``name`` itself (a statistic of a one-dimensional input), not ``name[]``."""
    if shape:
        return names.array(name, shape, tex, place)
    names.array(name, (1,), tex, place)  # claims the name
    symbol = Symbol(name, real=True)
    names.latex.pop(Symbol(f"{name}[0]", real=True), None)
    names.latex[symbol] = tex
    array = numpy.empty((), dtype=object)
    array[()] = symbol
    return array
