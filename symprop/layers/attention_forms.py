r"""The backward equations of single-head scaled dot-product self-attention.

With ``dY`` the gradient from above, ``S = Q K^T / sqrt(d)``, ``A = softmax(S)`` row by row and
``Y = A V``::

    dV = A^T dY                 dA = dY V^T
    dS = A ⊙ (dA - (dA ⊙ A) 1 1^T)       (each row through the softmax Jacobian diag(a) - a a^T)
    dQ = dS K / sqrt(d)         dK = dS^T Q / sqrt(d)
    dW_q = dQ^T X     dW_k = dK^T X     dW_v = dV^T X
    dX = dQ W_q + dK W_k + dV W_v        (X reaches the loss through all three projections)
"""
from __future__ import annotations

import numpy
import sympy
from sympy import HadamardProduct, ImmutableMatrix, MatrixSymbol, Symbol

from symprop.layers.backward_forms import BackwardForm, FormEquation
from symprop.layers.matrix_expressions import MatrixPartial, Ones
from symprop.model.layer_types import ArrayLayer

__all__ = ["attention_form"]

L = Symbol("L", real=True)
T, F, d = (Symbol(name, integer=True, positive=True) for name in ("T", "F", "d"))
X = MatrixSymbol("X", T, F)
Wq, Wk, Wv = (MatrixSymbol(name, d, F) for name in ("W_q", "W_k", "W_v"))
Q, K, V, dY, dQ, dK, dV = (MatrixSymbol(name, T, d) for name in ("Q", "K", "V", "dY", "dQ", "dK", "dV"))
A, dA, dS = (MatrixSymbol(name, T, T) for name in ("A", "dA", "dS"))
dX = MatrixSymbol("dX", T, F)

#: ``dQ`` stands for ``dL/dQ`` (CS231n's spelling), so that a transpose reads ``dS^T``.
NAMES = {X: "X", Wq: "W_{q}", Wk: "W_{k}", Wv: "W_{v}", Q: "Q", K: "K", V: "V", A: "A",
         dX: r"\frac{\partial L}{\partial X}",
         **{s: rf"\mathrm{{d}}{tex}" for s, tex in ((dY, "Y"), (dQ, "Q"), (dK, "K"), (dV, "V"), (dA, "A"), (dS, "S"))}}


def attention_form(layer: ArrayLayer) -> BackwardForm:
    """Self-attention's backward equations, the whole layer in one iteration."""
    scale = 1 / sympy.sqrt(d)
    rows = Ones(T, 1) * Ones(1, T)
    equations = (FormEquation("dV", dV, A.T * dY),
                 FormEquation("dA", dA, dY * V.T),
                 FormEquation("dS", dS, HadamardProduct(A, dA - HadamardProduct(dA, A) * rows)),
                 FormEquation("dQ", dQ, scale * dS * K),
                 FormEquation("dK", dK, scale * dS.T * Q),
                 *(FormEquation(f"dW{p}", MatrixPartial(L, W), gradient.T * X)
                   for p, W, gradient in (("q", Wq, dQ), ("k", Wk, dK), ("v", Wv, dV))),
                 FormEquation("dX", dX, dQ * Wq + dK * Wk + dV * Wv))
    i = layer.index

    def bind(layer, upstream, _):
        tokens, features = layer.inputs.shape
        mapping = {T: tokens, F: features, d: layer.settings["dim"], X: ImmutableMatrix(layer.inputs),
                   dY: ImmutableMatrix(upstream)}
        mapping.update({symbol: ImmutableMatrix(layer.nodes[f"{name}{i}"]) for symbol, name in
                        ((Q, "Q"), (K, "K"), (V, "V"), (A, "A"))})
        mapping.update({W: ImmutableMatrix(layer.parameters[f"W{p}{i}"]) for W, p in ((Wq, "q"), (Wk, "k"), (Wv, "v"))})
        return mapping

    def gradients(layer, per_iteration, _):
        values = per_iteration[0]
        claimed = {}
        for W, p in ((Wq, "q"), (Wk, "k"), (Wv, "v")):
            gradient = values[MatrixPartial(L, W)]
            claimed.update({s: gradient[position] for position, s in numpy.ndenumerate(layer.parameters[f"W{p}{i}"])})
        claimed.update({s: values[dX][position] for position, s in numpy.ndenumerate(layer.inputs)
                        if isinstance(s, Symbol)})
        return claimed

    return BackwardForm("attention", equations, lambda layer: (0,), bind, gradients, (), NAMES)
