r"""The backward equations of layer and batch normalisation, as Karpathy's notes write them.

With ``dout`` the gradient from above, ``norm = (x - mu) rstd`` and ``y = gamma norm + beta``,
over one group of ``n`` entries::

    dnorm = dout ⊙ gamma
    dx    = rstd (dnorm - mean(dnorm) - norm ⊙ mean(dnorm ⊙ norm))

``mean`` averages over the group, so every ``x`` of a group gets a share of every other's
gradient: through ``mu`` (the ``mean(dnorm)`` term) and through ``var`` (the last term).
Layer normalisation's groups are rows of features and ``gamma``, ``beta`` are per feature,
so their gradients sum over the rows: ``dgamma = sum_r dout ⊙ norm``, ``dbeta = sum_r dout``.
Batch normalisation's groups are one feature across the batch and ``gamma_f`` is one number,
so its gradient sums over the batch: ``dgamma_f = 1^T (dout ⊙ norm)``, ``dbeta_f = 1^T dout``.
"""
from __future__ import annotations

import numpy
from sympy import HadamardProduct, ImmutableMatrix, MatrixSymbol, Symbol

from symprop.layers.backward_forms import BackwardForm, FormEquation, Mean, column
from symprop.layers.matrix_expressions import MatrixPartial, Ones
from symprop.model.layer_types import ArrayLayer

__all__ = ["batchnorm_form", "layernorm_form"]

L = Symbol("L", real=True)
n = Symbol("n", integer=True, positive=True)
rstd, gamma_f = Symbol("rstd", positive=True), Symbol("gamma_f", real=True)
dout, norm, dnorm, dx = (MatrixSymbol(name, n, 1) for name in ("dout", "norm", "dnorm", "dx"))
gamma, beta = MatrixSymbol("gamma", n, 1), MatrixSymbol("beta", n, 1)
dgamma_f, dbeta_f = MatrixSymbol("dgamma_f", 1, 1), MatrixSymbol("dbeta_f", 1, 1)

NAMES = {dout: r"\frac{\partial L}{\partial y}", norm: r"\hat{x}", dnorm: r"\frac{\partial L}{\partial \hat{x}}",
         dx: r"\frac{\partial L}{\partial x}", gamma: r"\gamma", beta: r"\beta", rstd: r"\mathrm{rstd}",
         gamma_f: r"\gamma_{f}", dgamma_f: r"\frac{\partial L}{\partial \gamma_{f}}",
         dbeta_f: r"\frac{\partial L}{\partial \beta_{f}}"}

#: dx = rstd (dnorm - mean(dnorm) - norm ⊙ mean(dnorm ⊙ norm)): one home for both layer types.
INPUT_GRADIENT = rstd * (dnorm - Mean(dnorm) - HadamardProduct(norm, Mean(HadamardProduct(dnorm, norm))))


def _arrays(layer: ArrayLayer):
    i = layer.index
    return layer.nodes[f"norm{i}"], layer.nodes[f"rstd{i}"], layer.parameters[f"gamma{i}"]


def layernorm_form(layer: ArrayLayer) -> BackwardForm:
    """Layer normalisation, one row (one group) per iteration; ``gamma``, ``beta`` summed over the rows."""
    equations = (FormEquation("dnorm", dnorm, HadamardProduct(dout, gamma)),
                 FormEquation("dx", dx, INPUT_GRADIENT),
                 FormEquation("dgamma", MatrixPartial(L, gamma), HadamardProduct(dout, norm), summed=True),
                 FormEquation("dbeta", MatrixPartial(L, beta), dout, summed=True))

    def rows(layer):
        return list(numpy.ndindex(*layer.outputs.shape[:-1]))

    def bind(layer, upstream, row):
        norms, rstds, gammas = _arrays(layer)
        return {n: layer.outputs.shape[-1], dout: column(upstream[row]), norm: column(norms[row]),
                rstd: rstds[row], gamma: column(gammas)}

    def gradients(layer, per_row, sums):
        _, _, gammas = _arrays(layer)
        claimed = {g: sums["dgamma"][k, 0] for k, g in enumerate(gammas)}
        claimed.update({b: sums["dbeta"][k, 0] for k, b in enumerate(layer.parameters[f"beta{layer.index}"])})
        for row in rows(layer):
            claimed.update(_inputs(layer.inputs[row].flat, per_row[row][dx]))
        return claimed

    return BackwardForm("layernorm", equations, rows, bind, gradients, (), NAMES, over="r")


def _members(shape, feature: int) -> list[tuple[int, ...]]:
    """The positions of feature (channel) ``feature`` across the batch, in C order."""
    return [p for p in numpy.ndindex(*shape) if p[1] == feature]


def _inputs(entries, gradient: ImmutableMatrix) -> dict:
    """Each input entry that is a symbol (a node or an input) -> its entry of ``gradient``."""
    return {entry: gradient[k, 0] for k, entry in enumerate(entries) if isinstance(entry, Symbol)}


def batchnorm_form(layer: ArrayLayer) -> BackwardForm:
    """Batch normalisation, one feature (or channel) across the batch per iteration."""
    ones = Ones(n, 1)
    equations = (FormEquation("dnorm", dnorm, gamma_f * dout),
                 FormEquation("dx", dx, INPUT_GRADIENT),
                 FormEquation("dgamma", dgamma_f, ones.T * HadamardProduct(dout, norm)),
                 FormEquation("dbeta", dbeta_f, ones.T * dout))

    def features(layer):
        return range(layer.outputs.shape[1])

    def bind(layer, upstream, f):
        norms, rstds, gammas = _arrays(layer)
        members = _members(layer.outputs.shape, f)
        return {n: len(members), dout: column([upstream[p] for p in members]),
                norm: column([norms[p] for p in members]), rstd: rstds[f], gamma_f: gammas[f]}

    def gradients(layer, per_feature, sums):
        _, _, gammas = _arrays(layer)
        betas, claimed = layer.parameters[f"beta{layer.index}"], {}
        for f in features(layer):
            values = per_feature[f]
            claimed.update({gammas[f]: values[dgamma_f][0, 0], betas[f]: values[dbeta_f][0, 0]})
            members = _members(layer.outputs.shape, f)
            claimed.update(_inputs([layer.inputs[p] for p in members], values[dx]))
        return claimed

    return BackwardForm("batchnorm", equations, features, bind, gradients, (), NAMES, over="f")
