"""Matrix expressions worked out entry by entry once their matrices are concrete."""
from __future__ import annotations

import sympy
from sympy import ImmutableMatrix, Symbol

from symprop.model import functions
from symprop.layers.layer_view import BATCH
from symprop.layers.matrix_expressions import Elementwise, Ones, Softmax

S = lambda name: Symbol(name, real=True)  # noqa: E731


def test_matrix_expressions_work_out_entry_by_entry():
    z = ImmutableMatrix([S("u"), S("v")])
    x = sympy.Dummy("x")
    assert Elementwise(sympy.Lambda(x, functions.sigmoid(x)), z, 1).doit() == ImmutableMatrix(
        [functions.sigmoid(S("u")) * (1 - functions.sigmoid(S("u"))),
         functions.sigmoid(S("v")) * (1 - functions.sigmoid(S("v")))]
    )
    assert Softmax(z).doit() == ImmutableMatrix(
        [functions.softmax(1, S("u"), S("v")), functions.softmax(2, S("u"), S("v"))]
    )
    assert Ones(2, 1).T.doit() == ImmutableMatrix([[1, 1]])
    assert sympy.latex(Ones(1, BATCH)) == r"\mathbf{1}^{T}"
