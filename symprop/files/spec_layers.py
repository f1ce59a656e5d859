"""``[network]`` of layer types: an array-shaped input, layer tables by ``type``, nested values.

    [network]
    inputs = { name = "x", shape = [1, 3, 3] }
    layers = [{ type = "conv2d", filters = 1, kernel = [2, 2], stride = 1, padding = 0, bias = true,
                activation = "relu" },
              { type = "maxpool", size = 2, stride = 1 }, { type = "flatten" },
              { type = "dense", units = 1, activation = "identity" }]
    loss = "half_sse"          # or "sum" (no targets), "upstream" (the upstream gradient g in their place)
    targets = "t"              # the name of the target array, shaped like the output
    [values]
    x = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]]
    W1 = [[[[0.08, -0.07], [-0.28, 0.33]]]]

:data:`LAYER_TYPES` maps each ``type`` to its reader: the keys its table may have and a function
reading them into a :class:`~symprop.model.layer_types.LayerType`. A new layer type is one entry,
made with :func:`layer_type`. Every refusal is one line naming the key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Callable

import numpy

from symprop.model import functions, nn
from symprop.model.attention import Attention
from symprop.model.conv import Conv2d, Flatten, Pool2d
from symprop.model.normalisation import BatchNorm, LayerNorm
from symprop.model.recurrent import GRU, LSTM, RNN, STATES
from symprop.model.layer_types import LayerType, LayerTypeError
from symprop.model.stack import STACK_LOSSES, LayerStack, as_layer_type, stack
from symprop.files.spec_file import NAME, SpecFile, check_name, refuse_unknown_keys
from symprop.files.toml_text import MISSING, Key, describe

#: Beyond these a stack's derivation would take very long: refused before it is built.
MAX_STACK_PARAMETERS = 50_000
MAX_STACK_NODES = 20_000
MAX_AXIS = 1_000
INPUT_KEYS = ("name", "shape")
STACK_KEYS = ("inputs", "targets", "loss", "layers")


@dataclass(frozen=True)
class LayerEntry:
    """How a layer table of one ``type`` is read: the keys it may have (besides ``type``)."""

    keys: tuple[str, ...]
    read: Callable[[SpecFile, Key], LayerType]


#: ``type`` -> its reader, in the order messages list them.
LAYER_TYPES: dict[str, LayerEntry] = {}


def layer_type(name: str, *keys: str):
    """Register the decorated ``read(spec, key) -> LayerType`` for layer tables of ``type = name``."""
    def register(read):
        LAYER_TYPES[name] = LayerEntry(keys, read)
        return read
    return register


def _whole(spec: SpecFile, key: Key, default, low: int, what: str) -> int:
    return spec.integer(key, default, low=low, high=MAX_AXIS, what=what)


def _pair(spec: SpecFile, key: Key, default, low: int, what: str) -> tuple[int, int] | int:
    """A whole number or a list of two (rows, columns), each at least ``low``."""
    value = spec.get(key, default)
    if isinstance(value, list):
        if len(value) != 2:
            raise spec.error(key, f"expected {what}: a whole number or two, [rows, columns], got {describe(value)}")
        return tuple(_whole(spec, (*key, i), MISSING, low, what) for i in range(2))
    return _whole(spec, key, default, low, what)


def _activation(spec: SpecFile, key: Key, default: str) -> str:
    return spec.choice((*key, "activation"), tuple(functions.ACTIVATIONS), default)


@layer_type("conv2d", "filters", "kernel", "stride", "padding", "bias", "activation")
def _conv2d(spec: SpecFile, key: Key) -> Conv2d:
    filters = _whole(spec, (*key, "filters"), MISSING, 1, "a positive whole number of filters")
    kernel = _pair(spec, (*key, "kernel"), MISSING, 1, "the kernel's size, at least 1")
    stride = _pair(spec, (*key, "stride"), 1, 1, "a stride of at least 1")
    padding = _pair(spec, (*key, "padding"), 0, 0, "a padding of 0 or more")
    activation = _activation(spec, key, "identity")
    if activation == "softmax":
        raise spec.error((*key, "activation"), "softmax acts on a whole vector: use it in a dense layer after flatten")
    return Conv2d(filters, kernel, stride, padding, spec.flag((*key, "bias"), True), activation)


def _pool(mode: str):
    def read(spec: SpecFile, key: Key) -> Pool2d:
        size = _pair(spec, (*key, "size"), 2, 1, "a window size of at least 1")
        stride = _pair(spec, (*key, "stride"), size, 1, "a stride of at least 1")
        return Pool2d(mode, size, stride)
    return read


layer_type("maxpool", "size", "stride")(_pool("max"))
layer_type("avgpool", "size", "stride")(_pool("avg"))
layer_type("flatten")(lambda spec, key: Flatten())


@layer_type("dense", "units", "activation", "bias", "alpha")
def _dense(spec: SpecFile, key: Key) -> nn.Dense:
    units = spec.integer((*key, "units"), low=1, high=MAX_STACK_PARAMETERS, what="a positive whole number of units")
    bias = spec.choice((*key, "bias"), nn.BIAS_MODES, "per_unit")
    alpha = spec.number((*key, "alpha"), 0.01, what="a leaky ReLU slope between 0 and 1")
    if not 0 < alpha < 1:
        raise spec.error((*key, "alpha"), f"expected a leaky ReLU slope between 0 and 1, got {alpha!r}")
    return nn.Dense(units, _activation(spec, key, "sigmoid"), bias, None, alpha)


def _units(spec: SpecFile, key: Key) -> int:
    return spec.integer((*key, "units"), low=1, high=MAX_AXIS, what="a positive whole number of units")


def _h0(spec: SpecFile, key: Key) -> str:
    return spec.choice((*key, "h0"), STATES, "zero")


@layer_type("rnn", "units", "activation", "bias", "h0")
def _rnn(spec: SpecFile, key: Key) -> RNN:
    activation = _activation(spec, key, "tanh")
    return RNN(_units(spec, key), _h0(spec, key), activation, spec.flag((*key, "bias"), True))


layer_type("lstm", "units", "bias", "h0")(
    lambda spec, key: LSTM(_units(spec, key), _h0(spec, key), spec.flag((*key, "bias"), True)))
layer_type("gru", "units", "bias", "h0")(
    lambda spec, key: GRU(_units(spec, key), _h0(spec, key), spec.flag((*key, "bias"), True)))


def _normalisation(kind):
    def read(spec: SpecFile, key: Key):
        epsilon = spec.number((*key, "epsilon"), 1e-5, what="an epsilon between 0 and 1")
        return kind(epsilon)
    return read


layer_type("layernorm", "epsilon")(_normalisation(LayerNorm))
layer_type("batchnorm", "epsilon")(_normalisation(BatchNorm))
layer_type("attention", "dim")(lambda spec, key: Attention(
    spec.integer((*key, "dim"), low=1, high=MAX_AXIS, what="a positive whole number dim")))


# ---------------------------------------------------------------- the whole [network]


def is_stack(spec: SpecFile) -> bool:
    """Whether ``[network]`` is a stack of layer types: an array-shaped input (a table) or a
    layer whose ``type`` is not dense."""
    if isinstance(spec.get(("network", "inputs")), dict):
        return True
    layers = spec.get(("network", "layers"))
    return isinstance(layers, list) and any(isinstance(t, dict) and t.get("type", "dense") != "dense" for t in layers)


def build_stack(spec: SpecFile, notation: str, title: str = "") -> LayerStack:
    """The :class:`~symprop.model.stack.LayerStack` of ``[network]``."""
    refuse_unknown_keys(spec, ("network",), STACK_KEYS, "in [network]")
    name, shape = _input(spec)
    layers = _layer_types(spec)
    _check_shapes(spec, shape, layers)
    loss = spec.choice(("network", "loss"), STACK_LOSSES, "half_sse")
    targets = spec.string(("network", "targets"), None, what="the name of the target array") if spec.get(
        ("network", "targets")) is not MISSING else None
    if targets is not None:
        check_name(spec, ("network", "targets"), targets, NAME)
    try:
        return stack(shape, layers, loss, input_name=name, target_name=targets, notation=notation, title=title)
    except LayerTypeError as error:
        raise spec.error(("network",), str(error)) from None


def _input(spec: SpecFile) -> tuple[str, tuple[int, ...]]:
    key = ("network", "inputs")
    table = spec.get(key)
    if not isinstance(table, dict):
        raise spec.error(key, 'a layer type takes an array-shaped input: expected inputs = { name = "x", shape = '
                         f"[channels, height, width] }}, got {describe(table)}")
    refuse_unknown_keys(spec, key, INPUT_KEYS, "in [network] inputs")
    name = spec.string((*key, "name"), "x", what="the input's name")
    check_name(spec, (*key, "name"), name, NAME)
    shape = spec.require((*key, "shape"), "the input's shape, such as [channels, height, width]")
    if not isinstance(shape, list) or not shape or len(shape) > 4:
        raise spec.error((*key, "shape"), f"expected a shape of 1 to 4 axes, such as [1, 3, 3], got {describe(shape)}")
    return name, tuple(_whole(spec, (*key, "shape", i), MISSING, 1, "a positive whole number") for i in
                       range(len(shape)))


def _layer_types(spec: SpecFile) -> list[LayerType]:
    key = ("network", "layers")
    layers = spec.require(key, 'a list of layers like { type = "conv2d", filters = 1, kernel = [2, 2] }')
    if not isinstance(layers, list) or not layers:
        raise spec.error(key, f"expected a list of at least one layer, got {describe(layers)}")
    return [_layer(spec, (*key, i)) for i in range(len(layers))]


def _layer(spec: SpecFile, key: Key) -> LayerType:
    spec.table(key, required="a layer")
    kind = spec.choice((*key, "type"), tuple(LAYER_TYPES), "dense")
    entry = LAYER_TYPES[kind]
    refuse_unknown_keys(spec, key, ("type", *entry.keys), f"in layer {key[-1] + 1} ({kind})")
    try:
        return entry.read(spec, key)
    except (LayerTypeError, nn.NetworkError) as error:
        raise spec.error(key, str(error)) from None


def _check_shapes(spec: SpecFile, shape: tuple[int, ...], layers: list[LayerType]) -> None:
    """Each layer takes the shape the one before makes, and the whole stays small enough to
    derive: refused at the first layer that cannot, before anything is built."""
    nodes, parameters = 0, 0
    for i, layer in enumerate(layers):
        try:
            out = as_layer_type(layer).output_shape(shape)
        except LayerTypeError as error:
            raise spec.error(("network", "layers", i), f"{error} (its input has shape {list(shape)})") from None
        parameters += _parameter_count(layer, shape, out)
        nodes += layer.node_count(shape) if hasattr(layer, "node_count") else 2 * int(numpy.prod(out))
        shape = out
    if parameters > MAX_STACK_PARAMETERS or nodes > MAX_STACK_NODES:
        raise spec.error(("network", "layers"), f"{parameters} parameters and {nodes} nodes: at most "
                         f"{MAX_STACK_PARAMETERS} and {MAX_STACK_NODES}, as more would take very long")


def _parameter_count(layer, shape, out) -> int:
    if hasattr(layer, "parameter_count"):
        return layer.parameter_count(shape)
    if isinstance(layer, Conv2d):
        return out[0] * shape[0] * layer.kernel[0] * layer.kernel[1] + (out[0] if layer.bias else 0)
    if isinstance(layer, nn.Dense):
        return layer.units * shape[-1] + {"per_unit": layer.units, "shared": 1, "none": 0}[layer.bias]
    return 0


# ---------------------------------------------------------------- nested values


def array_value_keys(spec: SpecFile, key: Key, value, entries: numpy.ndarray) -> dict[str, Key]:
    """Each entry's name -> the key of its number in ``value``, nested lists shaped like
    ``entries`` (a one-entry array may be given as a plain number); refused in one line
    naming the key and the shape expected otherwise."""
    shape = entries.shape
    if entries.size == 1 and not isinstance(value, list):
        return {entries.flat[0].name: key}
    wrong = _shape_mismatch(value, shape, ())
    if wrong is not None:
        raise spec.error(key, f"expected an array of shape {list(shape)} (nested lists), got {wrong}")
    return {entries[index].name: (*key, *index) for index in product(*(range(n) for n in shape))}


def _shape_mismatch(value, shape: tuple[int, ...], at: tuple[int, ...]) -> str | None:
    """What differs first between ``value`` and nested lists of ``shape`` (None when nothing does)."""
    where = "".join(f"[{i}]" for i in at)
    if not shape:
        return f"a list at {where}, where a number is expected" if isinstance(value, list) else None
    if not isinstance(value, list):
        return f"{describe(value)} at {where or 'the top'}, where a list of {shape[0]} is expected"
    if len(value) != shape[0]:
        return f"a list of {len(value)} at {where or 'the top'}, where {shape[0]} entries are expected"
    for i, item in enumerate(value):
        wrong = _shape_mismatch(item, shape[1:], (*at, i))
        if wrong is not None:
            return wrong
    return None


def stack_xavier(rng: numpy.random.Generator, parameter, network: LayerStack) -> float:
    """A stack parameter's Xavier start, fan-in and fan-out as PyTorch counts them: a kernel
    ``(F, C, kh, kw)`` has ``C kh kw`` and ``F kh kw``; biases start at 0."""
    if parameter not in set(network.weights):
        return 0.0
    shape = network.layer_of(parameter).parameters[network.array_of(parameter)].shape
    if len(shape) < 2:  # a normalisation's scale gamma: 1 at the start, as PyTorch starts it
        return 1.0
    field = math.prod(shape[2:])
    limit = math.sqrt(6 / (shape[1] * field + shape[0] * field))
    return rng.uniform(-limit, limit)
