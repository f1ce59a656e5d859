r"""Backpropagation through time for the recurrent layers, as the tutorials write it.

Elman (``z_t = W_x x_t + W_h h_{t-1} + b``, ``h_t = f(z_t)``), from the last step back, with
``e_t`` the gradient the layers above send to ``h_t``::

    dL/dh_t = e_t + W_h^T delta_{t+1}            (delta_T = 0: nothing after the last step)
    delta_t = dL/dh_t ⊙ f'(z_t)
    dL/dW_x = sum_t delta_t x_t^T    dL/dW_h = sum_t delta_t h_{t-1}^T    dL/db = sum_t delta_t
    dL/dx_t = W_x^T delta_t          dL/dh_{-1} = W_h^T delta_0 (a given initial state)

The weights are shared by every step, so each one's gradient sums its use at every step.
The LSTM and GRU run the same way gate by gate (:func:`lstm_form`, :func:`gru_form`), their
gradients stacked by gate as PyTorch stacks the weights.
"""
from __future__ import annotations

import numpy
import sympy
from sympy import BlockMatrix, HadamardProduct, ImmutableMatrix, Lambda, MatrixSymbol, Symbol, ZeroMatrix

from symprop.layers.backward_forms import BackwardForm, FormEquation, column
from symprop.layers.matrix_expressions import Elementwise, MatrixPartial, Ones
from symprop.model.layer_parts import activation_record, elementwise
from symprop.model.layer_types import ArrayLayer

__all__ = ["gru_form", "lstm_form", "rnn_form"]

L = Symbol("L", real=True)
n, m = Symbol("n", integer=True, positive=True), Symbol("m", integer=True, positive=True)
_u = Symbol("u", real=True)


class _Symbols:
    """The form's matrix symbols, each with its LaTeX (``names``)."""

    def __init__(self, **spec):
        self.names = {}
        for key, (rows, cols, tex) in spec.items():
            symbol = MatrixSymbol(key, rows, cols)
            setattr(self, key, symbol)
            self.names[symbol] = tex


def _partial(tex: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {tex}}}"


def _one_minus(a):
    return Ones(*a.shape) - a


def _steps(layer: ArrayLayer):
    return range(layer.outputs.shape[0] - 1, -1, -1)


def _previous(layer: ArrayLayer, name: str, t: int) -> ImmutableMatrix:
    """``h_{t-1}`` (``name`` ``h`` or ``c``): the state of the step before, the given initial
    state, or zero."""
    if t > 0:
        return column(layer.nodes[f"{name}{layer.index}"][t - 1])
    given = getattr(layer, "states", {}).get(f"{name}x{layer.index}")
    return column(given) if given is not None else ImmutableMatrix.zeros(layer.outputs.shape[1], 1)


def _read_off(layer: ArrayLayer, sums: dict, per_step: dict, input_key: str, state_keys: dict) -> dict:
    """Each parameter entry from its summed gradient, each input entry from its step's
    ``dL/dx_t``, each given initial state from step 0's hand-over."""
    claimed = {}
    for name, array in layer.parameters.items():
        role = name.removesuffix(str(layer.index))
        for position, symbol in numpy.ndenumerate(array):
            claimed[symbol] = sums[f"d{role}"][position if len(position) == 2 else (position[0], 0)]
    for (t, k), entry in numpy.ndenumerate(layer.inputs):
        if isinstance(entry, Symbol):
            claimed[entry] = per_step[t][input_key][k, 0]
    for state, key in state_keys.items():
        given = getattr(layer, "states", {}).get(f"{state}x{layer.index}")
        if given is not None:
            claimed.update({s: per_step[0][key][j, 0] for j, s in enumerate(given)})
    return claimed


def _weight_sums(S, pairs) -> list[FormEquation]:
    """``dL/dW = sum_t delta v^T`` for each (role, weight symbol, delta, v) of ``pairs``."""
    return [FormEquation(f"d{role}", MatrixPartial(L, weight), delta * v.T, summed=True)
            for role, weight, delta, v in pairs]


def _bias_sums(layer: ArrayLayer, pairs) -> list[FormEquation]:
    """``dL/db = sum_t delta`` for each (role, bias symbol, delta) the layer has."""
    return [FormEquation(f"d{role}", MatrixPartial(L, bias), delta, summed=True)
            for role, bias, delta in pairs if f"{role}{layer.index}" in layer.parameters]


def _given(layer: ArrayLayer, state: str) -> bool:
    return f"{state}x{layer.index}" in getattr(layer, "states", {})


def _sizes(layer: ArrayLayer) -> dict:
    return {n: layer.outputs.shape[1], m: layer.inputs.shape[1]}


def rnn_form(layer: ArrayLayer) -> BackwardForm:
    """Backpropagation through time for an Elman layer (the module docstring's equations)."""
    S = _Symbols(e=(n, 1, "e_{t}"), dh=(n, 1, _partial("h_{t}")), delta=(n, 1, r"\delta_{t}"),
                 delta_next=(n, 1, r"\delta_{t+1}"), z=(n, 1, "z_{t}"), x=(m, 1, "x_{t}"), h_prev=(n, 1, "h_{t-1}"),
                 Wx=(n, m, "W_{x}"), Wh=(n, n, "W_{h}"), b=(n, 1, "b"), dx=(m, 1, _partial("x_{t}")),
                 dh0=(n, 1, _partial("h_{-1}")), h=(n, 1, "h_{t}"))
    f = Lambda(_u, elementwise(activation_record("rnn", layer.settings["activation"]), _u))
    equations = [FormEquation("dh", S.dh, S.e + S.Wh.T * S.delta_next),
                 FormEquation("delta", S.delta, HadamardProduct(S.dh, Elementwise(f, S.z, 1))),
                 *_weight_sums(S, (("Wx", S.Wx, S.delta, S.x), ("Wh", S.Wh, S.delta, S.h_prev))),
                 *_bias_sums(layer, (("b", S.b, S.delta),)),
                 FormEquation("dx", S.dx, S.Wx.T * S.delta)]
    if _given(layer, "h"):
        equations.append(FormEquation("dh0", S.dh0, S.Wh.T * S.delta, at_end=True))
    i = layer.index
    biased = f"b{i}" in layer.parameters
    forward = (FormEquation("z", S.z, S.Wx * S.x + S.Wh * S.h_prev + (S.b if biased else ZeroMatrix(n, 1))),
               FormEquation("h", S.h, Elementwise(f, S.z)))

    def bind(layer, upstream, t):
        mapping = {**_sizes(layer), S.e: column(upstream[t]), S.z: column(layer.nodes[f"z{i}"][t]),
                   S.h: column(layer.nodes[f"h{i}"][t]), S.x: column(layer.inputs[t]), S.h_prev: _previous(layer, "h", t),
                   S.Wx: ImmutableMatrix(layer.parameters[f"Wx{i}"]), S.Wh: ImmutableMatrix(layer.parameters[f"Wh{i}"])}
        if biased:
            mapping[S.b] = column(layer.parameters[f"b{i}"])
        return mapping

    def gradients(layer, per_step, sums):
        return _read_off(layer, sums, per_step, S.dx, {"h": S.dh0})

    return BackwardForm("rnn", tuple(equations), _steps, bind, gradients, ((S.delta_next, S.delta),), S.names,
                        forward=forward)


def _gate_symbols(gates: str, extra: dict) -> _Symbols:
    """Each gate's value, pre-activation gradient and gradient (``i_t``, ``da_i``, ``di``), and ``extra``."""
    spec = {}
    for g in gates:
        spec[g] = (n, 1, f"{g}_{{t}}")
        spec[f"d{g}"] = (n, 1, _partial(f"{g}_{{t}}"))
        spec[f"da{g}"] = (n, 1, _partial(f"a_{{{g},t}}"))
    return _Symbols(**spec, **extra)


class _GateBlocks:
    """Gate ``g``'s rows of the stacked arrays as symbols of their own (``W_{ig}``, ``W_{hg}``,
    ``b_{ig}``, ``b_{hg}``, PyTorch's names) and its pre-activation ``a_g``, for the forward equations."""

    def __init__(self, gates: str):
        self.gates, self.names, self.symbols = gates, {}, {}
        for g in gates:
            for key, rows, cols, tex in ((f"Wi{g}", n, m, f"W_{{i{g}}}"), (f"Wh{g}", n, n, f"W_{{h{g}}}"),
                                         (f"bi{g}", n, 1, f"b_{{i{g}}}"), (f"bh{g}", n, 1, f"b_{{h{g}}}"),
                                         (f"a{g}", n, 1, f"a_{{{g},t}}")):
                self.symbols[key] = MatrixSymbol(key, rows, cols)
                self.names[self.symbols[key]] = tex

    def __getitem__(self, key: str) -> MatrixSymbol:
        return self.symbols[key]

    def affine(self, g: str, S, layer: ArrayLayer, hidden: bool = True):
        """``W_{ig} x_t + b_{ig} (+ W_{hg} h_{t-1} + b_{hg})``, the biases the layer has."""
        total = self[f"Wi{g}"] * S.x + (self[f"Wh{g}"] * S.h_prev if hidden else ZeroMatrix(n, 1))
        if f"bi{layer.index}" in layer.parameters:
            total = total + self[f"bi{g}"] + (self[f"bh{g}"] if hidden else ZeroMatrix(n, 1))
        return total

    def bind(self, layer: ArrayLayer, t: int) -> dict:
        i, u, mapping = layer.index, layer.outputs.shape[1], {}
        for number, g in enumerate(self.gates):
            rows = slice(number * u, (number + 1) * u)
            for key in ("Wi", "Wh", "bi", "bh"):
                array = layer.parameters.get(f"{key}{i}")
                if array is not None:
                    value = array[rows]
                    mapping[self[f"{key}{g}"]] = ImmutableMatrix(value) if value.ndim == 2 else column(value)
            mapping[self[f"a{g}"]] = column(layer.nodes[f"a{g}{i}"][t])
        return mapping


def _stacked(*blocks) -> BlockMatrix:
    return BlockMatrix([[b] for b in blocks])


def _gate_bind(layer: ArrayLayer, S: _Symbols, gates: str, upstream, t: int, stacks: int) -> dict:
    """The symbols every gated cell binds at step ``t``: gates, states, input, weights."""
    i = layer.index
    mapping = {**_sizes(layer), S.e: column(upstream[t]), S.x: column(layer.inputs[t]),
               S.h_prev: _previous(layer, "h", t), S.Wi: ImmutableMatrix(layer.parameters[f"Wi{i}"]),
               S.Wh: ImmutableMatrix(layer.parameters[f"Wh{i}"]), sympy.Symbol("k"): stacks}
    mapping.update({getattr(S, g): column(layer.nodes[f"{g}{i}"][t]) for g in gates})
    return mapping


def _cell_extra(stacks: int) -> dict:
    k = stacks * n
    return dict(e=(n, 1, "e_{t}"), dh=(n, 1, _partial("h_{t}")), x=(m, 1, "x_{t}"), h_prev=(n, 1, "h_{t-1}"),
                h=(n, 1, "h_{t}"),
                Wi=(k, m, "W_{i}"), Wh=(k, n, "W_{h}"), bi=(k, 1, "b_{i}"), bh=(k, 1, "b_{h}"),
                dx=(m, 1, _partial("x_{t}")), dh0=(n, 1, _partial("h_{-1}")))


def lstm_form(layer: ArrayLayer) -> BackwardForm:
    r"""The LSTM's backward equations gate by gate, from the last step back::

        dL/dh_t = e_t + W_h^T da_{t+1}
        dL/do_t = dL/dh_t ⊙ tanh(c_t)
        dL/dc_t = dL/dh_t ⊙ o_t ⊙ tanh'(c_t) + dL/dc_{t+1} ⊙ f_{t+1}
        dL/di_t = dL/dc_t ⊙ g_t    dL/df_t = dL/dc_t ⊙ c_{t-1}    dL/dg_t = dL/dc_t ⊙ i_t
        dL/da_i = dL/di_t ⊙ i_t ⊙ (1 - i_t)  (f, o alike)    dL/da_g = dL/dg_t ⊙ (1 - g_t ⊙ g_t)
        da_t = [dL/da_i; dL/da_f; dL/da_g; dL/da_o]          (stacked as W_i's rows)
        dL/dW_i = sum_t da_t x_t^T    dL/dW_h = sum_t da_t h_{t-1}^T    dL/db_i = dL/db_h = sum_t da_t
        dL/dx_t = W_i^T da_t;   given states: dL/dh_{-1} = W_h^T da_0, dL/dc_{-1} = dL/dc_0 ⊙ f_0
    """
    k = 4 * n
    S = _gate_symbols("ifgo", {**_cell_extra(4), "c": (n, 1, "c_{t}"), "c_prev": (n, 1, "c_{t-1}"),
                               "dc": (n, 1, _partial("c_{t}")), "dc_next": (n, 1, _partial("c_{t+1}")),
                               "f_next": (n, 1, "f_{t+1}"), "da": (k, 1, r"\Delta a_{t}"),
                               "da_next": (k, 1, r"\Delta a_{t+1}"), "dc0": (n, 1, _partial("c_{-1}"))})
    tanh = Lambda(_u, sympy.tanh(_u))
    equations = [
        FormEquation("dh", S.dh, S.e + S.Wh.T * S.da_next),
        FormEquation("do", S.do, HadamardProduct(S.dh, Elementwise(tanh, S.c))),
        FormEquation("dc", S.dc, HadamardProduct(S.dh, S.o, Elementwise(tanh, S.c, 1))
                     + HadamardProduct(S.dc_next, S.f_next)),
        FormEquation("di", S.di, HadamardProduct(S.dc, S.g)),
        FormEquation("df", S.df, HadamardProduct(S.dc, S.c_prev)),
        FormEquation("dg", S.dg, HadamardProduct(S.dc, S.i)),
        *(FormEquation(f"da{g}", getattr(S, f"da{g}"),
                       HadamardProduct(getattr(S, f"d{g}"), getattr(S, g), _one_minus(getattr(S, g))))
          for g in "ifo"),
        FormEquation("dag", S.dag, HadamardProduct(S.dg, _one_minus(HadamardProduct(S.g, S.g)))),
        FormEquation("da", S.da, _stacked(S.dai, S.daf, S.dag, S.dao)),
        *_weight_sums(S, (("Wi", S.Wi, S.da, S.x), ("Wh", S.Wh, S.da, S.h_prev))),
        *_bias_sums(layer, (("bi", S.bi, S.da), ("bh", S.bh, S.da))),
        FormEquation("dx", S.dx, S.Wi.T * S.da)]
    if _given(layer, "h"):
        equations += [FormEquation("dh0", S.dh0, S.Wh.T * S.da, at_end=True),
                      FormEquation("dc0", S.dc0, HadamardProduct(S.dc, S.f), at_end=True)]

    G = _GateBlocks("ifgo")
    sigma = Lambda(_u, elementwise(activation_record("lstm", "sigmoid"), _u))
    forward = (*(FormEquation(f"a{g}", G[f"a{g}"], G.affine(g, S, layer)) for g in "ifgo"),
               *(FormEquation(g, getattr(S, g), Elementwise(tanh if g == "g" else sigma, G[f"a{g}"])) for g in "ifgo"),
               FormEquation("c", S.c, HadamardProduct(S.f, S.c_prev) + HadamardProduct(S.i, S.g)),
               FormEquation("h", S.h, HadamardProduct(S.o, Elementwise(tanh, S.c))))

    def bind(layer, upstream, t):
        mapping = _gate_bind(layer, S, "ifgo", upstream, t, 4)
        mapping.update({S.c: column(layer.nodes[f"c{layer.index}"][t]), S.c_prev: _previous(layer, "c", t),
                        S.h: column(layer.nodes[f"h{layer.index}"][t]), **G.bind(layer, t)})
        return mapping

    def gradients(layer, per_step, sums):
        return _read_off(layer, sums, per_step, S.dx, {"h": S.dh0, "c": S.dc0})

    carry = ((S.da_next, S.da), (S.dc_next, S.dc), (S.f_next, S.f))
    return BackwardForm("lstm", tuple(equations), _steps, bind, gradients, carry, {**S.names, **G.names},
                        forward=forward)


def gru_form(layer: ArrayLayer) -> BackwardForm:
    r"""The GRU's backward equations gate by gate, from the last step back (``hn_t = W_{hn} h_{t-1}
    + b_{hn}``, the candidate's recurrent part, which ``r_t`` scales)::

        dL/dh_t = e_t + dL/dh_{t+1} ⊙ z_{t+1} + W_h^T dh_{t+1}^a
        dL/dn_t = dL/dh_t ⊙ (1 - z_t)     dL/dz_t = dL/dh_t ⊙ (h_{t-1} - n_t)
        dL/da_n = dL/dn_t ⊙ (1 - n_t ⊙ n_t)
        dL/dr_t = dL/da_n ⊙ hn_t          dL/dhn_t = dL/da_n ⊙ r_t
        dL/da_r = dL/dr_t ⊙ r_t ⊙ (1 - r_t)    dL/da_z = dL/dz_t ⊙ z_t ⊙ (1 - z_t)
        dx^a_t = [dL/da_r; dL/da_z; dL/da_n]    dh^a_t = [dL/da_r; dL/da_z; dL/dhn_t]
        dL/dW_i = sum_t dx^a_t x_t^T    dL/dW_h = sum_t dh^a_t h_{t-1}^T
        dL/db_i = sum_t dx^a_t          dL/db_h = sum_t dh^a_t          dL/dx_t = W_i^T dx^a_t
    """
    k = 3 * n
    S = _gate_symbols("rzn", {**_cell_extra(3), "hn": (n, 1, "hn_{t}"), "dhn": (n, 1, _partial("hn_{t}")),
                              "dh_next": (n, 1, _partial("h_{t+1}")), "z_next": (n, 1, "z_{t+1}"),
                              "dai": (k, 1, r"\Delta a^{x}_{t}"), "dah": (k, 1, r"\Delta a^{h}_{t}"),
                              "dah_next": (k, 1, r"\Delta a^{h}_{t+1}")})
    equations = [
        FormEquation("dh", S.dh, S.e + HadamardProduct(S.dh_next, S.z_next) + S.Wh.T * S.dah_next),
        FormEquation("dn", S.dn, HadamardProduct(S.dh, _one_minus(S.z))),
        FormEquation("dz", S.dz, HadamardProduct(S.dh, S.h_prev - S.n)),
        FormEquation("dan", S.dan, HadamardProduct(S.dn, _one_minus(HadamardProduct(S.n, S.n)))),
        FormEquation("dr", S.dr, HadamardProduct(S.dan, S.hn)),
        FormEquation("dhn", S.dhn, HadamardProduct(S.dan, S.r)),
        *(FormEquation(f"da{g}", getattr(S, f"da{g}"),
                       HadamardProduct(getattr(S, f"d{g}"), getattr(S, g), _one_minus(getattr(S, g))))
          for g in "rz"),
        FormEquation("dai", S.dai, _stacked(S.dar, S.daz, S.dan)),
        FormEquation("dah", S.dah, _stacked(S.dar, S.daz, S.dhn)),
        *_weight_sums(S, (("Wi", S.Wi, S.dai, S.x), ("Wh", S.Wh, S.dah, S.h_prev))),
        *_bias_sums(layer, (("bi", S.bi, S.dai), ("bh", S.bh, S.dah))),
        FormEquation("dx", S.dx, S.Wi.T * S.dai)]
    if _given(layer, "h"):
        equations.append(FormEquation("dh0", S.dh0, HadamardProduct(S.dh, S.z) + S.Wh.T * S.dah, at_end=True))

    G = _GateBlocks("rzn")
    sigma, tanh = Lambda(_u, elementwise(activation_record("gru", "sigmoid"), _u)), Lambda(_u, sympy.tanh(_u))
    biased = f"bh{layer.index}" in layer.parameters
    forward = (*(FormEquation(f"a{g}", G[f"a{g}"], G.affine(g, S, layer)) for g in "rz"),
               *(FormEquation(g, getattr(S, g), Elementwise(sigma, G[f"a{g}"])) for g in "rz"),
               FormEquation("hn", S.hn, G["Whn"] * S.h_prev + (G["bhn"] if biased else ZeroMatrix(n, 1))),
               FormEquation("an", G["an"], G.affine("n", S, layer, hidden=False) + HadamardProduct(S.r, S.hn)),
               FormEquation("n", S.n, Elementwise(tanh, G["an"])),
               FormEquation("h", S.h, HadamardProduct(_one_minus(S.z), S.n) + HadamardProduct(S.z, S.h_prev)))

    def bind(layer, upstream, t):
        mapping = _gate_bind(layer, S, "rzn", upstream, t, 3)
        mapping.update({S.hn: column(layer.nodes[f"hn{layer.index}"][t]), S.h: column(layer.nodes[f"h{layer.index}"][t]),
                        **G.bind(layer, t)})
        return mapping

    def gradients(layer, per_step, sums):
        return _read_off(layer, sums, per_step, S.dx, {"h": S.dh0})

    carry = ((S.dh_next, S.dh), (S.z_next, S.z), (S.dah_next, S.dah))
    return BackwardForm("gru", tuple(equations), _steps, bind, gradients, carry, {**S.names, **G.names},
                        forward=forward)
