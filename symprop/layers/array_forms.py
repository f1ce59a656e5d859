r"""The index forms of array layers, and their proof against the engine's per-entry gradients.

A layer type's backward pass is shown as index forms: for a convolution
``dW_{f,c,u,v} = sum_{p,q} delta_{f,p,q} x_{c, p s + u - pad, q s + v - pad}`` (the correlation of
the input with the upstream gradient), ``db_f = sum_{p,q} delta_{f,p,q}``, and ``dX`` the full
convolution of the upstream gradient with the flipped kernel. Each :class:`IndexForm` carries its
formula (LaTeX) and its instance for every entry, written in the engine's own symbols (the
adjoints ``delta_z``, the forward nodes, the parameters). :func:`prove` compares every instance
with the engine's per-entry gradient (a parameter's delta form, an input node's adjoint
recurrence, a graph input's gradient): they are equal as polynomials in those symbols, or at
random rational points when a maximum's Heaviside factors keep them apart in form. The forms are
never used to compute a gradient; they are checked against the reverse walk's.

:data:`FORMS` maps a layer's ``kind`` to the function giving its forms; a new layer type adds one entry.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import product
from typing import Callable, Mapping

import numpy
import sympy
from sympy import Expr, Rational, Symbol

from symprop.errors import SympropError
from symprop.model.conv import window_origin, window_step
from symprop.model.graph import adjoint_symbol
from symprop.layers.type_forms import backward_form
from symprop.model.layer_types import ArrayLayer
from symprop.model.per_object import per_object

__all__ = ["FORMS", "IndexForm", "IndexFormError", "index_forms", "prove", "upstream_array"]


class IndexFormError(SympropError, AssertionError):
    """An index form that differs from the engine's gradient at some entry (a bug, never a user's error)."""


@dataclass(frozen=True)
class IndexForm:
    """``gradient`` (``dW``, ``db``, ``dX``) of ``array`` (``W1``, or ``X`` for the layer's input)
    as the index formula ``tex``; ``entries`` maps each entry's symbol to the formula's instance
    there, a sum of products given by their factors ``((a, b), ...)`` (kept apart, so that a layer of
    thousands of entries needs no SymPy arithmetic to be proven); ``words``: the key of the sentence
    that says what it is."""

    gradient: str
    array: str
    tex: str
    entries: Mapping[Symbol, tuple[tuple[Expr, Expr], ...]]
    words: str

    def instance(self, symbol: Symbol) -> Expr:
        """The formula's instance at ``symbol``'s entry, as one SymPy sum."""
        return _sum_of_products(self.entries[symbol])


def upstream_array(layer: ArrayLayer) -> numpy.ndarray:
    """The adjoints ``delta`` the layer's parameters see: of its pre-activations (``z``) when
    it has them, else of its outputs."""
    target = layer.pre_activations if layer.pre_activations is not None else layer.outputs
    return _deltas(target)


def _deltas(array: numpy.ndarray) -> numpy.ndarray:
    result = numpy.empty(array.shape, dtype=object)
    for index in numpy.ndindex(array.shape):
        result[index] = adjoint_symbol(array[index])
    return result


def _input_gradient(layer: ArrayLayer, entry: Callable[[tuple], list[tuple]]) -> dict[Symbol, tuple]:
    """``dX`` over the layer's input entries, each the products ``entry(index)`` gives."""
    return {layer.inputs[index]: tuple(entry(index)) for index in numpy.ndindex(layer.inputs.shape)}


def _conv_forms(layer: ArrayLayer) -> list[IndexForm]:
    x, delta = layer.inputs, upstream_array(layer)
    (sh, sw), (ph, pw) = layer.settings["stride"], layer.settings["padding"]
    W = layer.parameters[f"W{layer.index}"]
    filters, rows, columns = delta.shape

    def dw(f, c, u, v):   # the input entries under the windows; the padding's zeros add nothing
        origins = ((p, q, window_origin(p, sh, ph) + u, window_origin(q, sw, pw) + v)
                   for p, q in product(range(rows), range(columns)))
        return tuple((delta[f, p, q], x[c, r, s]) for p, q, r, s in origins
                     if 0 <= r < x.shape[1] and 0 <= s < x.shape[2])

    dW = {W[index]: dw(*index) for index in numpy.ndindex(W.shape)}

    def dx(index):
        c, r, s = index
        terms = []
        for f, u, v in product(range(filters), range(W.shape[2]), range(W.shape[3])):
            p, rest_p = divmod(r + ph - u, sh)
            q, rest_q = divmod(s + pw - v, sw)
            if not rest_p and not rest_q and 0 <= p < rows and 0 <= q < columns:
                terms.append((delta[f, p, q], W[f, c, u, v]))
        return terms

    forms = [IndexForm("dW", f"W{layer.index}", _CONV_TEX["dW"], dW, "conv_dW")]
    if f"b{layer.index}" in layer.parameters:
        b = layer.parameters[f"b{layer.index}"]
        db = {b[f]: _times_one(delta[f].flat) for f in range(filters)}
        forms.append(IndexForm("db", f"b{layer.index}", _CONV_TEX["db"], db, "conv_db"))
    forms.append(IndexForm("dX", "X", _CONV_TEX["dX"], _input_gradient(layer, dx), "conv_dX"))
    return forms


_CONV_TEX = {
    "dW": r"\frac{\partial L}{\partial W_{f,c,u,v}} = \sum_{p,q} \delta_{f,p,q}\, x_{c,\, p s + u - P,\, q s + v - P}",
    "db": r"\frac{\partial L}{\partial b_{f}} = \sum_{p,q} \delta_{f,p,q}",
    "dX": r"\frac{\partial L}{\partial x_{c,r,k}} = \sum_{f} \sum_{u,v} W_{f,c,u,v}\, \delta_{f,\, (r + P - u)/s,\, "
          r"(k + P - v)/s}",
}


def _pool_forms(layer: ArrayLayer) -> list[IndexForm]:
    x, delta = layer.inputs, _deltas(layer.outputs)
    (kh, kw), (sh, sw) = layer.settings["size"], layer.settings["stride"]
    windows: dict[tuple, list[tuple]] = {}  # input entry -> the windows (c, i, j) it is in
    for c, i, j in numpy.ndindex(delta.shape):
        for u, v in product(range(kh), range(kw)):
            windows.setdefault((c, i * sh + u, j * sw + v), []).append((c, i, j))
    maximum = layer.kind == "maxpool"

    def route(index, window):
        c, i, j = window
        if not maximum:
            return delta[window], Rational(1, kh * kw)
        others = [x[c, i * sh + u, j * sw + v] for u, v in product(range(kh), range(kw))
                  if (i * sh + u, j * sw + v) != index[1:]]
        return delta[window], (window_step(x[index], others) if others else sympy.S.One)

    entries = _input_gradient(layer, lambda index: [route(index, w) for w in windows.get(index, ())])
    key = "maxpool_dX" if maximum else "avgpool_dX"
    return [IndexForm("dX", "X", _POOL_TEX[layer.kind], entries, key)]


_POOL_TEX = {
    "maxpool": r"\frac{\partial L}{\partial x_{c,r,k}} = \sum_{(i,j) \ni (r,k)} \delta_{c,i,j}\, "
               r"H\!\left(x_{c,r,k} - \max_{\text{rest of window } (i,j)} x\right)",
    "avgpool": r"\frac{\partial L}{\partial x_{c,r,k}} = \sum_{(i,j) \ni (r,k)} \frac{\delta_{c,i,j}}{k_h k_w}",
}


def _dense_forms(layer: ArrayLayer) -> list[IndexForm]:
    x, delta = layer.inputs, upstream_array(layer)
    W = layer.parameters[f"W{layer.index}"]
    lead = list(numpy.ndindex(x.shape[:-1]))
    dW = {W[j, k]: tuple((delta[(*t, j)], x[(*t, k)]) for t in lead) for j, k in numpy.ndindex(W.shape)}
    forms = [IndexForm("dW", f"W{layer.index}", r"\frac{\partial L}{\partial W_{j,k}} = \delta_{j}\, x_{k}",
                       dW, "dense_dW")]
    b = layer.parameters.get(f"b{layer.index}")
    if b is not None:
        groups = {b[0]: list(delta.flat)} if b.size == 1 else {b[j]: list(delta[..., j].flat) for j in range(b.size)}
        forms.append(IndexForm("db", f"b{layer.index}", r"\frac{\partial L}{\partial b_{j}} = \delta_{j}",
                               {s: _times_one(terms) for s, terms in groups.items()}, "dense_db"))
    dx = _input_gradient(layer, lambda index: [(W[j, index[-1]], delta[(*index[:-1], j)]) for j in range(W.shape[0])])
    forms.append(IndexForm("dX", "X", r"\frac{\partial L}{\partial x_{k}} = \sum_{j} W_{j,k}\, \delta_{j}", dx,
                           "dense_dX"))
    return forms


#: Layer kind -> its index forms. Flatten reshapes only: it has none.
FORMS: dict[str, Callable[[ArrayLayer], list[IndexForm]]] = {
    "conv2d": _conv_forms, "maxpool": _pool_forms, "avgpool": _pool_forms, "dense": _dense_forms,
}


def index_forms(layer: ArrayLayer) -> list[IndexForm]:
    """The layer's index forms (none for a kind without any, such as flatten)."""
    return list(_index_forms(layer))


@per_object
def _index_forms(layer: ArrayLayer) -> tuple[IndexForm, ...]:
    # worked out once per layer: the Markdown, the JSON and the HTML each show them
    forms = FORMS.get(layer.kind)
    return tuple(forms(layer)) if forms is not None else ()


def engine_terms(derivation, symbol: Symbol, layer: ArrayLayer | None = None) -> tuple[tuple[Expr, Expr], ...] | None:
    """The engine's gradient of ``symbol`` as the factors ``(delta_c, dc/dsymbol)`` of its terms: a
    parameter's delta form, a node's adjoint recurrence, an input's delta form when input gradients
    were asked for; else None. With ``layer``, a node's recurrence keeps only the terms of the layer's
    own nodes: the part of its gradient that flows through this layer (a recurrent state feeds the
    next step too)."""
    found = derivation.gradients.get(symbol) or derivation.input_gradients.get(symbol)
    if found is None and symbol in derivation.adjoints:
        found = derivation.adjoints[symbol]
        if layer is not None:
            inside = {node for node, _ in layer.equations}
            return tuple((t.adjoint, t.local) for t in found.terms if t.consumer in inside)
    return None if found is None else tuple((t.adjoint, t.local) for t in found.terms)


def prove(derivation, form: IndexForm, points: int = 2, seed: int = 0, layer: ArrayLayer | None = None) -> int:
    """How many entries of ``form`` (of ``layer``'s, when given) were compared with the engine's
    gradient, every one equal; an :class:`IndexFormError` naming the first that is not."""
    rng = random.Random(seed)
    compared = 0
    for symbol, products in form.entries.items():
        engine = engine_terms(derivation, symbol, layer)
        if engine is None:
            continue
        if not (_same_products(products, engine)
                or _equal(_sum_of_products(products), _sum_of_products(engine), rng, points)):
            raise IndexFormError(f"the index form of {form.gradient} differs from the engine's gradient at {symbol}: "
                                 f"{form.instance(symbol)} against {_sum_of_products(engine)}")
        compared += 1
    return compared


def _same_products(first, second) -> bool:
    """Whether two sums of products have the same products, each the same number of times
    (then they are equal): their factors compared as unordered pairs, with no arithmetic."""
    return len(first) == len(second) and Counter(map(frozenset, first)) == Counter(map(frozenset, second))


def _sum_of_products(products) -> Expr:
    return sympy.Add(*[a * b for a, b in products])


def _times_one(factors) -> tuple[tuple[Expr, Expr], ...]:
    return tuple((f, sympy.S.One) for f in factors)


def _equal(a: Expr, b: Expr, rng: random.Random, points: int) -> bool:
    """``a = b`` as polynomials, or at ``points`` random rationals (where a maximum's Heaviside
    factors keep two equal forms apart)."""
    difference = sympy.expand(a - b)
    if difference == 0:
        return True
    symbols = sorted(difference.free_symbols, key=lambda s: s.name)
    for _ in range(points):
        point = {s: Rational(rng.randint(-10**6, 10**6), 10**6) for s in symbols}
        if difference.xreplace(point) != 0:
            return False
    return True


def _nested(array: numpy.ndarray, lookup) -> list | None:
    """The numbers ``lookup`` gives the entries of ``array``, as nested lists shaped like it;
    None when one of them has none."""
    values = [lookup(s) for s in array.flat]
    if any(v is None for v in values):
        return None
    return numpy.array([float(v) for v in values], dtype=float).reshape(array.shape).tolist()


def _backward_formulas(layer: ArrayLayer) -> dict:
    """``{"backward": {key: "lhs = rhs"}}``: a layer type's backward equations (BPTT, the gates,
    normalisation, attention) by their keys, when it has them."""
    form = backward_form(layer)
    return {} if form is None else {"backward": dict(form.latex_rows())}


def stack_layers_json(derivation, example, latex: Callable[[Expr], str]) -> list[dict]:
    """Per layer of the derivation's :class:`~symprop.model.stack.LayerStack`: its ``type``,
    settings and shapes, its formulas (the forward equation of each node array's first entry,
    the index forms by gradient name) and its ``arrays``: each parameter by its role (``W``,
    ``b``) and its gradient (``dW``, ``db``) at the example, nested like the parameter, and
    ``dX``, the gradient by the layer's input (the first example's), when input gradients
    were asked for."""
    inputs_asked = bool(derivation.input_gradients)

    def gradient(s):
        return example.gradients.get(s, example.adjoints.get(s, example.input_gradients.get(s)))

    layers = []
    for layer in derivation.network.layers:
        forms = index_forms(layer)
        forward = [latex(sympy.Eq(node, expr, evaluate=False)) for array in layer.nodes.values()
                   for node, expr in layer.equations if node is array.flat[0]]
        arrays = {}
        for name, role in layer.roles.items():
            arrays[role] = _nested(layer.parameters[name], example.values.get)
            arrays[f"d{role}"] = _nested(layer.parameters[name], gradient)
        if inputs_asked:
            arrays["dX"] = _nested(layer.inputs, gradient)
        layers.append({"index": layer.index, "type": layer.kind, "settings": dict(layer.settings),
                       "input_shape": list(layer.input_shape), "output_shape": list(layer.output_shape),
                       "formulas": {"forward": forward, **{form.gradient: form.tex for form in forms},
                                    **_backward_formulas(layer)},
                       "arrays": arrays})
    return layers
