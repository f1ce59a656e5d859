"""The record of one activation or one loss: everything symprop knows about it, in one place.

An activation's record (:class:`ActivationRecord`) and a loss's record
(:class:`LossRecord`) are written once, in :mod:`symprop.model.activations`
and :mod:`symprop.model.losses`; every table elsewhere (the printer's heads,
the parsers' functions, the numerics of each arithmetic, the layer names of
the layer view, the generated NumPy code) is derived from them.

The SymPy side lives in the function class the record names: its ``fdiff``
states the derivative identity (``sigma' = sigma (1 - sigma)``) and its
``definition`` the elementary form ``f(z)`` that independent checks
differentiate instead.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, Sequence

import mpmath
import sympy
from mpmath.libmp import prec_to_dps
from sympy import Expr, Function

#: ``scalar(lib)`` gives the function over scalars of ``lib``, ``math`` (float64) or ``mpmath``.
ScalarForm = Callable[[ModuleType], Callable]
#: ``unit(function, nets, j, alpha)``: unit ``j`` (1-based) of a layer given its pre-activations.
UnitForm = Callable[[Callable, Sequence[Expr], int, Expr], Expr]


class SympropFunction(Function):
    r"""A symprop function. It prints as its record's LaTeX head over :meth:`latex_parts`:
    ``head_{subscript}\left(a, b; c, d\right)``."""

    latex_name = r"f"

    def latex_parts(self) -> tuple[Expr | None, tuple[tuple[Expr, ...], ...]]:
        """``(subscript or None, groups of arguments)``; groups print separated by ``;``."""
        return None, (self.args,)


class Activation(SympropFunction):
    """An elementwise activation ``a = f(z)``.

    ``latex_name`` is how it prints; ``definition`` gives ``f(z)`` in
    elementary functions for the reference checks.
    """

    @classmethod
    def definition(cls, z):
        raise NotImplementedError

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return self.definition(*args)

    def _eval_evalf(self, prec):
        # Real numbers through the elementary definition, so sigmoid(1).evalf() is a Float;
        # anything else (a symbol, a complex value) stays as it is.
        args = [a.evalf(prec_to_dps(prec)) for a in self.args]
        if all(isinstance(a, sympy.Float) for a in args):
            return self.definition(*args)._eval_evalf(prec)
        return None

    def _eval_is_real(self):
        return self.args[0].is_real


@dataclass(frozen=True)
class FunctionNumerics:
    """How a function is called in files and claims, and computed in each arithmetic.

    ``name``: the function's name in node expressions, claims and generated code
    (the class's own name, so that SymPy's code printers call it by that name);
    ``arity``: fewest and most arguments (None: no limit) where a text calls it;
    ``call``: what a parsed call builds (the class, or one filling a default);
    ``scalar(lib)``: the function over ``math`` or ``mpmath`` scalars, stable at any argument;
    ``numpy``: the NumPy form, pasted by its source into generated code under ``name``;
    ``written_out``: exact arithmetic rewrites it in elementary functions (``relu`` as ``Max``);
    ``in_node_files``: whether a node expression of a network file may call it;
    ``latex``: the LaTeX head it prints with (``\\sigma``).
    """

    name: str
    function: Callable | None
    arity: tuple[int, int | None] = (1, 1)
    call: Callable | None = None
    scalar: ScalarForm | None = None
    numpy: Callable | None = None
    written_out: bool = False
    in_node_files: bool = True
    latex: str = "f"

    @property
    def caller(self) -> Callable | None:
        """What a parsed call of ``name`` builds."""
        return self.call or self.function

    def float64(self) -> Callable:
        """The scalar form over ``math`` (float64)."""
        return _scalar_form(self.scalar, math)

    def mpmath(self) -> Callable:
        """The scalar form over ``mpmath`` (its working precision)."""
        return _scalar_form(self.scalar, mpmath)


@functools.cache
def _scalar_form(scalar: ScalarForm, lib: ModuleType) -> Callable:
    # built once per record and library: digits.numeric_value calls it per subexpression
    return scalar(lib)


def elementwise_unit(function, nets, j, alpha):
    """``a_j = f(z_j)``."""
    return function(nets[j - 1])


@dataclass(frozen=True)
class ActivationRecord(FunctionNumerics):
    """One activation: its function and numerics, LaTeX head and layer name.

    ``layer_name``: its layer in
    "Deep Learning from Scratch" (``Sigmoid``); ``unit``: how a dense layer
    applies it to its pre-activations; ``kind``: ``elementwise``, ``softmax``
    (each output uses every input) or ``identity``.
    """

    layer_name: str = "Activation"
    unit: UnitForm = elementwise_unit
    kind: str = "elementwise"

    def apply(self, nets: Sequence[Expr], j: int, alpha: Expr) -> Expr:
        """Unit ``j`` (1-based) of a layer with pre-activations ``nets`` (``alpha``: a leaky slope)."""
        return self.unit(self.function, nets, j, alpha)


@dataclass(frozen=True)
class LossRecord(FunctionNumerics):
    """One loss: how one example's loss is built, and its layer name.

    ``expression(outputs, targets, logits)`` builds the loss of one example;
    ``layer_name``: its last layer in "Deep Learning from Scratch";
    ``fused``: it takes the logits, not the outputs (softmax with cross-entropy),
    and then ``function`` is its SymPy function, with ``dL/dz`` as its ``fdiff``;
    ``gradient_scale(n)``: for a loss whose gradient is a multiple of ``a - t``, that
    multiple over ``n`` outputs (``nabla_a C = scale(n) (a - t)``), else None;
    ``given``, ``given_vector``: see below.
    """

    expression: Callable[[Sequence[Expr], Sequence[Expr], Sequence[Expr]], Expr] | None = None
    layer_name: str = "Loss"
    fused: bool = False
    gradient_scale: Callable[[Expr], Expr] | None = None
    in_node_files: bool = False
    #: what takes the targets' place, when it is not targets: ``(name, LaTeX)`` of its k-th
    #: entry (the upstream gradient ``g_k``), and the name it goes by as a whole in files
    given: tuple[str, str] | None = None
    given_vector: str = ""
    #: False for a loss of the outputs alone (``sum``): no targets, and no layered dense network uses it
    takes_targets: bool = True
