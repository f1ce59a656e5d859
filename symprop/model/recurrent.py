r"""Recurrent layers unrolled over the steps of their input: Elman RNN, LSTM, GRU.

The input is an array ``[steps, features]``; row ``t`` is ``x_t``. Each layer writes one node
per entry and step, so the reverse walk over the unrolled equations *is* backpropagation
through time: a weight used at every step collects one term per step.

Elman (``RNN``)::

    z_t = Wx x_t + Wh h_{t-1} + b          h_t = f(z_t)

LSTM and GRU follow PyTorch (``torch.nn.LSTM``, ``torch.nn.GRU``) in layout and order, so a
``state_dict`` can be copied entry for entry: ``Wi<l>`` is ``weight_ih_l0`` (``4u x features``
for the LSTM, stacked by gate ``i, f, g, o``; ``3u x features`` for the GRU, ``r, z, n``),
``Wh<l>`` is ``weight_hh_l0`` (``4u x u`` or ``3u x u``), ``bi<l>`` is ``bias_ih_l0`` and
``bh<l>`` is ``bias_hh_l0``. With ``W_{ii}`` the rows ``0..u-1`` of ``Wi``, ``W_{if}`` the next
``u`` rows, and so on::

    LSTM  i_t = sigma(a_i),  a_i = W_ii x_t + b_ii + W_hi h_{t-1} + b_hi   (f, o alike)
          g_t = tanh(a_g),   c_t = f_t c_{t-1} + i_t g_t,   h_t = o_t tanh(c_t)
    GRU   r_t = sigma(a_r),  z_t = sigma(a_z)   (a_r, a_z as a_i above)
          hn_t = W_hn h_{t-1} + b_hn,  n_t = tanh(a_n),  a_n = W_in x_t + b_in + r_t hn_t
          h_t = (1 - z_t) n_t + z_t h_{t-1}

The initial state is zero (``h0 = "zero"``) or given as data (``h0 = "given"``: the inputs
``hx<l>`` and, for the LSTM, ``cx<l>``, set as ``h^{(l)}_{-1,j}`` and ``c^{(l)}_{-1,j}``).
The output is ``h`` at every step, ``[steps, units]``; a dense layer after it applies at
every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy
import sympy
from sympy import Symbol

from symprop.model.layer_types import ArrayLayer, LayerTypeError, Names
from symprop.model.layer_parts import activation_record, affine_row, count, elementwise, input_shape, node_array, \
    tex_array_name

__all__ = ["GRU", "LSTM", "RNN", "RecurrentLayer", "STATES"]

#: How a recurrent layer starts: from zero, or from a state given as data.
STATES = ("zero", "given")


@dataclass(frozen=True)
class RecurrentLayer(ArrayLayer):
    """A built recurrent layer; ``states`` holds the given initial states (``hx1``, ``cx1``),
    which are inputs of the network (data, like ``x``), empty when the layer starts from zero."""

    states: Mapping[str, numpy.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class _Recurrent:
    """Settings every recurrent layer checks: ``units`` and where the state starts."""

    units: int
    h0: str = "zero"

    kind = "recurrent"

    def __post_init__(self):
        count(self.kind, "units", self.units)
        if self.h0 not in STATES:
            raise LayerTypeError(f"{self.kind}: h0 must be one of {', '.join(STATES)}, got {self.h0!r}")

    def output_shape(self, input_shape_: tuple[int, ...]) -> tuple[int, ...]:
        steps, _ = input_shape(self.kind, input_shape_, (2,), "[steps, features]")
        if steps == 1 and self.h0 == "zero":
            raise LayerTypeError(f"{self.kind}: one step from a zero state never uses the recurrent weights Wh: give "
                                 "two or more steps, or h0 = \"given\"")
        return (steps, self.units)

    #: Weight matrices stacked per gate (1 for Elman, 4 for the LSTM, 3 for the GRU), biases per step
    #: of the stack (Elman has one bias, the gated cells two), nodes per unit and step.
    stacks, bias_arrays, nodes_per_entry = 1, 1, 2

    def parameter_count(self, input_shape_: tuple[int, ...]) -> int:
        rows = self.stacks * self.units
        return rows * (input_shape_[-1] + self.units) + (self.bias_arrays * rows if self.bias else 0)

    def node_count(self, input_shape_: tuple[int, ...]) -> int:
        return self.nodes_per_entry * input_shape_[0] * self.units

    def _states(self, index: int, names: Names, letters: str) -> dict[str, numpy.ndarray]:
        """The given initial states (``hx<l>``, ``cx<l>``), each entry set as step ``-1``."""
        if self.h0 == "zero":
            return {}
        states = {}
        for letter in letters:
            array = names.array(f"{letter}x{index}", (self.units,), letter, f"the initial {letter} of layer {index}")
            for j, symbol in enumerate(array):
                names.latex[symbol] = f"{letter}^{{({index})}}_{{-1,{j}}}"
            states[f"{letter}x{index}"] = array
        return states

    def _initial(self, states: Mapping[str, numpy.ndarray], name: str) -> numpy.ndarray:
        return states[name] if name in states else numpy.full(self.units, sympy.S.Zero, dtype=object)


def _weights(names: Names, index: int, name: str, shape, letter: str, sub: str, what: str) -> numpy.ndarray:
    return names.array(f"{name}{index}", shape, tex_array_name(letter, index, sub), f"{what} of layer {index}")


def _nodes(names: Names, index: int, name: str, shape, letter: str, sub: str, what: str) -> numpy.ndarray:
    return node_array(names, f"{name}{index}", shape, tex_array_name(letter, index, sub), f"{what} of layer {index}")


@dataclass(frozen=True)
class RNN(_Recurrent):
    """An Elman layer ``z_t = Wx x_t + Wh h_{t-1} + b``, ``h_t = f(z_t)`` over every step
    (``Wx<l>`` is ``units x features``, ``Wh<l>`` ``units x units``, ``b<l>`` ``units``)."""

    activation: str = "tanh"
    bias: bool = True

    kind = "rnn"

    def __post_init__(self):
        super().__post_init__()
        activation_record(self.kind, self.activation)
        if not isinstance(self.bias, bool):
            raise LayerTypeError(f"rnn: bias must be true or false, got {self.bias!r}")

    def build(self, x: numpy.ndarray, index: int, names: Names) -> RecurrentLayer:
        self.output_shape(x.shape)
        steps, features = x.shape
        u, record = self.units, activation_record(self.kind, self.activation)
        parameters = {f"Wx{index}": _weights(names, index, "Wx", (u, features), "W", "x", "the input weights"),
                      f"Wh{index}": _weights(names, index, "Wh", (u, u), "W", "h", "the recurrent weights")}
        if self.bias:
            parameters[f"b{index}"] = _weights(names, index, "b", (u,), "b", "", "the bias")
        Wx, Wh, b = parameters[f"Wx{index}"], parameters[f"Wh{index}"], parameters.get(f"b{index}")
        states = self._states(index, names, "h")
        z = _nodes(names, index, "z", (steps, u), "z", "", "the pre-activations")
        h = _nodes(names, index, "h", (steps, u), "h", "", "the states")
        equations, previous = [], self._initial(states, f"hx{index}")
        for t in range(steps):
            for j in range(u):
                bias = () if b is None else (b[j],)
                equations.append((z[t, j], affine_row([*Wx[j], *Wh[j]], [*x[t], *previous], bias)))
            equations += [(h[t, j], elementwise(record, z[t, j])) for j in range(u)]
            previous = h[t]
        settings = {"units": u, "activation": self.activation, "bias": self.bias, "h0": self.h0, "steps": steps}
        return RecurrentLayer(index, self.kind, x, h, parameters, tuple(equations), settings, {f"z{index}": z, f"h{index}": h},
                              states)


def _gate_parameters(names: Names, index: int, gates: str, u: int, features: int, bias: bool) -> dict:
    """PyTorch's ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` as ``Wi``, ``Wh``, ``bi``, ``bh``,
    each stacked by gate in the order ``gates``."""
    n = len(gates) * u
    parameters = {f"Wi{index}": _weights(names, index, "Wi", (n, features), "W", "i", f"the input weights ({gates})"),
                  f"Wh{index}": _weights(names, index, "Wh", (n, u), "W", "h", f"the recurrent weights ({gates})")}
    if bias:
        parameters[f"bi{index}"] = _weights(names, index, "bi", (n,), "b", "i", f"the input biases ({gates})")
        parameters[f"bh{index}"] = _weights(names, index, "bh", (n,), "b", "h", f"the recurrent biases ({gates})")
    return parameters


def _gate_rows(parameters: Mapping[str, numpy.ndarray], index: int, gate: int, u: int):
    """Gate number ``gate``'s block of each stacked array: (Wi rows, Wh rows, bi, bh) (biases may be None)."""
    rows = slice(gate * u, (gate + 1) * u)
    bi, bh = parameters.get(f"bi{index}"), parameters.get(f"bh{index}")
    return (parameters[f"Wi{index}"][rows], parameters[f"Wh{index}"][rows],
            None if bi is None else bi[rows], None if bh is None else bh[rows])


def _gate_sum(block, j: int, x_t, h_prev, with_hidden: bool = True):
    """``W_i x_t + b_i + W_h h_{t-1} + b_h`` for unit ``j`` of one gate (``with_hidden=False``:
    the input half only, as the GRU's candidate takes it)."""
    Wi, Wh, bi, bh = block
    biases = [b[j] for b in ((bi, bh) if with_hidden else (bi,)) if b is not None]
    weights, inputs = [*Wi[j]], [*x_t]
    if with_hidden:
        weights, inputs = [*weights, *Wh[j]], [*inputs, *h_prev]
    return affine_row(weights, inputs, biases)


@dataclass(frozen=True)
class _GatedCell(_Recurrent):
    bias: bool = True

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.bias, bool):
            raise LayerTypeError(f"{self.kind}: bias must be true or false, got {self.bias!r}")

    def _cell_arrays(self, x: numpy.ndarray, index: int, names: Names, state_letters: str):
        """``(steps, parameters, states, pre, gate, h)``: the stacked parameters, the given initial
        states, per gate the node arrays of its pre-activation ``a_g`` and its value, and the states."""
        self.output_shape(x.shape)
        steps, features = x.shape
        shape = (steps, self.units)
        parameters = _gate_parameters(names, index, self.gates, self.units, features, self.bias)
        states = self._states(index, names, state_letters)
        pre = {g: _nodes(names, index, f"a{g}", shape, "a", g, f"the pre-activations of gate {g}") for g in self.gates}
        gate = {g: _nodes(names, index, g, shape, g, "", f"gate {g}") for g in self.gates}
        return steps, parameters, states, pre, gate, _nodes(names, index, "h", shape, "h", "", "the states")


@dataclass(frozen=True)
class LSTM(_GatedCell):
    """An LSTM layer in PyTorch's layout (gates ``i, f, g, o``; see the module docstring)."""

    kind = "lstm"
    gates = "ifgo"
    stacks, bias_arrays, nodes_per_entry = 4, 2, 10

    def build(self, x: numpy.ndarray, index: int, names: Names) -> RecurrentLayer:
        steps, parameters, states, pre, gate, h = self._cell_arrays(x, index, names, "hc")
        u = self.units
        c = _nodes(names, index, "c", (steps, u), "c", "", "the cell states")
        squash = {"i": _sigmoid, "f": _sigmoid, "g": sympy.tanh, "o": _sigmoid}
        equations = []
        h_prev, c_prev = self._initial(states, f"hx{index}"), self._initial(states, f"cx{index}")
        for t in range(steps):
            for number, g in enumerate(self.gates):
                block = _gate_rows(parameters, index, number, u)
                equations += [(pre[g][t, j], _gate_sum(block, j, x[t], h_prev)) for j in range(u)]
                equations += [(gate[g][t, j], squash[g](pre[g][t, j])) for j in range(u)]
            i, f, g, o = (gate[name][t] for name in self.gates)
            equations += [(c[t, j], f[j] * c_prev[j] + i[j] * g[j]) for j in range(u)]
            equations += [(h[t, j], o[j] * sympy.tanh(c[t, j])) for j in range(u)]
            h_prev, c_prev = h[t], c[t]
        nodes = _node_map(index, *((f"a{g}", pre[g]) for g in self.gates), *gate.items(), ("c", c), ("h", h))
        settings = {"units": u, "bias": self.bias, "h0": self.h0, "steps": steps}
        return RecurrentLayer(index, self.kind, x, h, parameters, tuple(equations), settings, nodes, states)


@dataclass(frozen=True)
class GRU(_GatedCell):
    """A GRU layer in PyTorch's layout (gates ``r, z, n``; see the module docstring)."""

    kind = "gru"
    gates = "rzn"
    stacks, bias_arrays, nodes_per_entry = 3, 2, 8

    def build(self, x: numpy.ndarray, index: int, names: Names) -> RecurrentLayer:
        steps, parameters, states, pre, gate, h = self._cell_arrays(x, index, names, "h")
        u = self.units
        hn = _nodes(names, index, "hn", (steps, u), "h", "n", "the recurrent part of the candidate")
        blocks = [_gate_rows(parameters, index, number, u) for number in range(3)]
        equations, h_prev = [], self._initial(states, f"hx{index}")
        for t in range(steps):
            for number, g in enumerate("rz"):
                equations += [(pre[g][t, j], _gate_sum(blocks[number], j, x[t], h_prev)) for j in range(u)]
                equations += [(gate[g][t, j], _sigmoid(pre[g][t, j])) for j in range(u)]
            _, Wh_n, _, bh_n = blocks[2]
            equations += [(hn[t, j], affine_row(Wh_n[j], h_prev, () if bh_n is None else (bh_n[j],))) for j in range(u)]
            equations += [(pre["n"][t, j], _gate_sum(blocks[2], j, x[t], h_prev, with_hidden=False)
                           + gate["r"][t, j] * hn[t, j]) for j in range(u)]
            equations += [(gate["n"][t, j], sympy.tanh(pre["n"][t, j])) for j in range(u)]
            z, n = gate["z"][t], gate["n"][t]
            equations += [(h[t, j], (1 - z[j]) * n[j] + z[j] * h_prev[j]) for j in range(u)]
            h_prev = h[t]
        nodes = _node_map(index, *((f"a{g}", pre[g]) for g in self.gates), ("hn", hn), *gate.items(), ("h", h))
        settings = {"units": u, "bias": self.bias, "h0": self.h0, "steps": steps}
        return RecurrentLayer(index, self.kind, x, h, parameters, tuple(equations), settings, nodes, states)


def _node_map(index: int, *arrays) -> dict[str, numpy.ndarray]:
    """``{"ai1": ..., "i1": ..., "h1": ...}``: each node array under its full name."""
    return {f"{name}{index}": array for name, array in arrays}


def _sigmoid(z):
    return activation_record("lstm", "sigmoid").function(z)
