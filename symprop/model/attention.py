r"""Single-head scaled dot-product self-attention, written as its forward equations.

Over an input of ``tokens`` rows of ``features`` (``X``, ``[tokens, features]``), with the
projections ``Wq<l>``, ``Wk<l>``, ``Wv<l>`` each ``dim x features`` (PyTorch's ``nn.Linear``
layout, without biases)::

    Q = X Wq^T      K = X Wk^T      V = X Wv^T              (each [tokens, dim])
    S = Q K^T / sqrt(dim)                                    (scores, [tokens, tokens])
    A_{t,s} = softmax_s(S_{t,0}, ..., S_{t,T-1})             (each query's row over the keys)
    Y = A V                                                  ([tokens, dim])

Every token attends to every token (no mask). The softmax is symprop's own, so the reverse
walk's local derivative is its Jacobian ``dA_{t,s}/dS_{t,r} = A_{t,s} (delta_{sr} - A_{t,r})``.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy
import sympy
from sympy import Integer

from symprop.model.activations import ACTIVATION_RECORDS
from symprop.model.layer_types import ArrayLayer, Names
from symprop.model.layer_parts import affine_row, count, input_shape, node_array, tex_array_name

__all__ = ["Attention"]


@dataclass(frozen=True)
class Attention:
    """Self-attention with projections of width ``dim`` (see the module docstring)."""

    dim: int

    kind = "attention"

    def __post_init__(self):
        count(self.kind, "dim", self.dim)

    def output_shape(self, input_shape_: tuple[int, ...]) -> tuple[int, ...]:
        tokens, _ = input_shape(self.kind, input_shape_, (2,), "[tokens, features]")
        return (tokens, self.dim)

    def parameter_count(self, input_shape_: tuple[int, ...]) -> int:
        return 3 * self.dim * input_shape_[-1]

    def node_count(self, input_shape_: tuple[int, ...]) -> int:
        tokens = input_shape_[0]
        return 4 * tokens * self.dim + 2 * tokens * tokens

    def build(self, x: numpy.ndarray, index: int, names: Names) -> ArrayLayer:
        tokens, dim = self.output_shape(x.shape)
        features = x.shape[1]
        parameters = {f"W{p}{index}": names.array(f"W{p}{index}", (dim, features), tex_array_name("W", index, p),
                                                  f"the {role} projection of layer {index}")
                      for p, role in (("q", "query"), ("k", "key"), ("v", "value"))}
        arrays = {}
        for name, shape, what in (("Q", (tokens, dim), "the queries"), ("K", (tokens, dim), "the keys"),
                                  ("V", (tokens, dim), "the values"), ("S", (tokens, tokens), "the scores"),
                                  ("A", (tokens, tokens), "the attention weights"), ("Y", (tokens, dim), "the outputs")):
            arrays[name] = node_array(names, f"{name}{index}", shape, tex_array_name(name, index), f"{what} of layer "
                                     f"{index}")
        equations = [(arrays[name.upper()][t, d], affine_row(parameters[f"W{name}{index}"][d], x[t]))
                     for name in "qkv" for t, d in product(range(tokens), range(dim))]
        Q, K, V, S, A, Y = (arrays[name] for name in "QKVSAY")
        scale = 1 / sympy.sqrt(Integer(dim))
        equations += [(S[t, s], scale * affine_row(Q[t], K[s])) for t, s in product(range(tokens), repeat=2)]
        softmax = ACTIVATION_RECORDS["softmax"].function
        equations += [(A[t, s], softmax(Integer(s + 1), *S[t])) for t, s in product(range(tokens), repeat=2)]
        equations += [(Y[t, d], affine_row(A[t], V[:, d])) for t, d in product(range(tokens), range(dim))]
        settings = {"dim": dim, "tokens": tokens}
        nodes = {f"{name}{index}": array for name, array in arrays.items()}
        return ArrayLayer(index, self.kind, x, Y, parameters, tuple(equations), settings, nodes)
