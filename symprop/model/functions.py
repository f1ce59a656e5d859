"""symprop's functions, and the tables every other module derives from their records.

The functions and their records are written once, in
:mod:`symprop.model.activations` (activations) and :mod:`symprop.model.losses`
(losses); this module gathers them: :data:`ACTIVATIONS` (file name ->
function), :data:`FUNCTION_RECORDS` (every record with a function, for
parsers, printers and numerics), :func:`record_of` and :func:`elementary`.
"""
from __future__ import annotations

from sympy import exp

from symprop.model.activations import (ACTIVATION_RECORDS, leaky_relu, relu, sigmoid, silu, softmax,
                                       softplus)
from symprop.model.losses import LOSS_RECORDS, softmax_cross_entropy
from symprop.model.records import Activation, ActivationRecord, FunctionNumerics, LossRecord, SympropFunction

__all__ = [
    "ACTIVATIONS", "ACTIVATION_RECORDS", "Activation", "ActivationRecord", "FUNCTION_CLASSES", "FUNCTION_RECORDS",
    "FunctionNumerics", "LOSS_RECORDS", "LossRecord", "SympropFunction", "elementary", "leaky_relu", "record_of",
    "relu", "sigmoid", "silu", "softmax", "softmax_cross_entropy", "softplus",
]

#: Activations a network file may name, by their file name (identity: None).
ACTIVATIONS = {name: record.function for name, record in ACTIVATION_RECORDS.items()}

#: Every record with a function (activations, then fused losses), in that order.
FUNCTION_RECORDS: tuple[FunctionNumerics, ...] = tuple(
    record for record in (*ACTIVATION_RECORDS.values(), *LOSS_RECORDS.values()) if record.function is not None
)

#: Our own function classes, for parsing and for rewriting to elementary form.
FUNCTION_CLASSES = tuple(
    record.function for record in FUNCTION_RECORDS
    if isinstance(record.function, type) and issubclass(record.function, SympropFunction)
)

_BY_FUNCTION = {record.function: record for record in FUNCTION_RECORDS}


def record_of(function) -> FunctionNumerics | None:
    """The record of a function class (``sigmoid``, ``sympy.tanh``), or None when symprop has none."""
    return _BY_FUNCTION.get(function)


def elementary(expr):
    """``expr`` with every symprop function written out in elementary functions.

    This is the independent reference: ``sympy.diff`` of the result never sees
    the derivative identities declared above.
    """
    return expr.replace(
        lambda e: isinstance(e, FUNCTION_CLASSES),
        lambda e: e.rewrite(exp),
    )
