r"""Matrix expressions the textbooks write and SymPy lacks (or prints badly).

``Partial`` and ``MatrixPartial`` are the unevaluated ``dC/dx`` and ``dC/dW``
(shaped like ``W``); ``Elementwise`` is ``f(Z)`` or ``f'(Z)`` entry by entry;
``Softmax`` works column by column; ``Ones`` is the all-ones matrix. Once its
matrices are concrete, each works out entry by entry (:func:`work_out`).
"""
from __future__ import annotations

from typing import Mapping

import sympy
from sympy import Expr, ImmutableMatrix, Integer, Lambda
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.matrixbase import MatrixBase

from symprop.model import functions


class Partial(Expr):
    r"""The unevaluated partial derivative ``\frac{\partial of}{\partial wrt}`` of a scalar."""

    is_commutative = True

    def __new__(cls, of, wrt):
        return Expr.__new__(cls, sympy.sympify(of), sympy.sympify(wrt))

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % tuple(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return "d%s/d%s" % tuple(printer._print(a) for a in self.args)


class MatrixPartial(MatrixExpr):
    r"""``\frac{\partial C}{\partial W}``: the matrix of ``dC/dW_{jk}``, shaped like ``W``."""

    def __new__(cls, of, wrt):
        return MatrixExpr.__new__(cls, sympy.sympify(of), wrt)

    @property
    def shape(self):
        return self.args[1].shape

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % tuple(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return "d%s/d%s" % tuple(printer._print(a) for a in self.args)


class Elementwise(MatrixExpr):
    r"""``f(Z)`` (``order`` 0) or ``f'(Z)`` (``order`` 1), applied entry by entry;
    prints ``\sigma\left(z\right)``, ``\sigma'\left(z\right)``."""

    def __new__(cls, function: Lambda, matrix, order=0):
        return MatrixExpr.__new__(cls, function, matrix, Integer(order))

    function = property(lambda self: self.args[0])
    matrix = property(lambda self: self.args[1])
    order = property(lambda self: int(self.args[2]))
    shape = property(lambda self: self.matrix.shape)

    def scalar(self, value: Expr) -> Expr:
        """``f(value)`` or ``f'(value)``."""
        (variable,), body = self.function.variables, self.function.expr
        if self.order:
            body = body.diff(variable)
        return body.xreplace({variable: value})

    def _entry(self, i, j, **kwargs):
        return self.scalar(self.matrix[i, j])

    def doit(self, **hints):
        matrix = self.matrix.doit(**hints)
        if isinstance(matrix, MatrixBase):
            return ImmutableMatrix(matrix.applyfunc(self.scalar))
        return self.func(self.function, matrix, self.order)

    def _latex(self, printer):
        name = function_latex(self.function) + ("'" if self.order else "")
        return r"%s\left(%s\right)" % (name, printer._print(self.matrix))


class Softmax(MatrixExpr):
    r"""``softmax(Z)``, column by column: ``e^{z_k} / \sum_j e^{z_j}``."""

    def __new__(cls, matrix):
        return MatrixExpr.__new__(cls, matrix)

    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        column = [self.args[0][r, j] for r in range(self.shape[0])]
        return functions.softmax(Integer(i + 1), *column)

    def doit(self, **hints):
        matrix = self.args[0].doit(**hints)
        if isinstance(matrix, MatrixBase):
            return self.func(matrix).as_explicit()
        return self.func(matrix)

    def _latex(self, printer):
        head = functions.record_of(functions.softmax).latex
        return r"%s\left(%s\right)" % (head, printer._print(self.args[0]))


class Ones(MatrixExpr):
    r"""The all-ones matrix ``\mathbf{1}`` (SymPy's ``OneMatrix`` prints as a bare 1)."""

    def __new__(cls, rows, cols):
        return MatrixExpr.__new__(cls, sympy.sympify(rows), sympy.sympify(cols))

    shape = property(lambda self: self.args)

    def _entry(self, i, j, **kwargs):
        return sympy.S.One

    def doit(self, **hints):
        rows, cols = self.args
        if rows.is_Integer and cols.is_Integer:
            return ImmutableMatrix.ones(int(rows), int(cols))
        return self

    def _eval_transpose(self):
        return Ones(self.args[1], self.args[0])

    def _latex(self, printer):
        rows, cols = self.args
        return r"\mathbf{1}^{T}" if rows == 1 and cols != 1 else r"\mathbf{1}"


def function_latex(function: Lambda) -> str:
    """How an activation ``x -> f(x)`` is named in print: its record's head (``\\sigma``,
    ``\\tanh``), ``\\exp``, or ``f``."""
    body = function.expr
    if isinstance(body, sympy.Function) and body.args[:1] == function.variables:
        cls = type(body)
        record = functions.record_of(cls)
        if record is not None:
            return record.latex
        return r"\exp" if cls is sympy.exp else r"\operatorname{%s}" % cls.__name__
    return "f"


def work_out(expr, mapping: Mapping, indexed: Mapping | None = None):
    """``expr`` with its symbols replaced by concrete matrices and numbers, worked out."""
    value = expr.xreplace(dict(mapping)).doit()
    if indexed:
        value = value.xreplace(dict(indexed))
    if isinstance(value, MatrixExpr) and not isinstance(value, MatrixBase):
        value = value.as_explicit()
    return ImmutableMatrix(value) if isinstance(value, MatrixBase) else value
