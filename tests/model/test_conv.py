"""Convolution, pooling and flatten: shapes, refusals, and every gradient against an independent
reference (sympy.diff of the expanded loss at small sizes, central differences of a NumPy forward
pass written here at larger ones)."""
from __future__ import annotations

import numpy
import pytest
import sympy

from symprop.engine.backprop import derive
from symprop.model.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d, Pool2d
from symprop.model.layer_types import LayerTypeError
from symprop.model.nn import Dense
from symprop.model.stack import stack
from symprop.numbers.worked_example import worked_example
from tests.reference import assert_gradients_exact, assert_gradients_match_reference


def test_output_shapes_follow_kernel_stride_and_padding():
    assert Conv2d(3, 2).output_shape((1, 3, 3)) == (3, 2, 2)
    assert Conv2d(2, (2, 3), stride=2, padding=2).output_shape((1, 4, 4)) == (2, 4, 3)
    assert MaxPool2d(2).output_shape((2, 4, 4)) == (2, 2, 2)
    assert AvgPool2d(2, 1).output_shape((2, 4, 5)) == (2, 3, 4)
    assert Flatten().output_shape((2, 3, 3)) == (18,)


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2d(1, 4).output_shape((1, 3, 3)), "larger than the input's height (3)"),
    (lambda: Conv2d(1, 2, stride=0), "stride must be at least 1"),
    (lambda: Conv2d(0, 2), "filters must be a positive whole number"),
    (lambda: Conv2d(1, 2, activation="softmax"), "softmax acts on a whole vector"),
    (lambda: Conv2d(1, 2).output_shape((3, 3)), "[channels, height, width]"),
    (lambda: Pool2d("min"), "unknown pooling 'min'"),
    (lambda: MaxPool2d(2, 0), "stride must be at least 1"),
    (lambda: MaxPool2d(3).output_shape((1, 2, 2)), "larger than the input's height"),
])
def test_impossible_settings_are_refused_in_one_line(make, message):
    with pytest.raises(LayerTypeError) as error:
        make()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_convolution_entry_is_the_cross_correlation_with_the_padding_left_out():
    s = stack([1, 3, 3], [Conv2d(1, 2, stride=2, padding=1)], "sum")
    layer = s.layers[0]
    W, b, x, z = layer.parameters["W1"], layer.parameters["b1"], layer.inputs, layer.outputs
    # window (0, 0) starts at (-1, -1): only its bottom-right entry lies on the input
    assert s.graph.definition[z[0, 0, 0]] == W[0, 0, 1, 1] * x[0, 0, 0] + b[0]
    assert s.graph.definition[z[0, 1, 1]] == W[0, 0, 0, 0] * x[0, 1, 1] + W[0, 0, 0, 1] * x[0, 1, 2] + \
        W[0, 0, 1, 0] * x[0, 2, 1] + W[0, 0, 1, 1] * x[0, 2, 2] + b[0]


@pytest.mark.parametrize("layers, shape", [
    ([Conv2d(1, 2, activation="tanh")], [1, 3, 3]),
    ([Conv2d(2, 2, stride=2, padding=2, bias=False, activation="sigmoid")], [1, 2, 2]),
    ([Conv2d(1, 2), AvgPool2d(2, 1)], [2, 3, 3]),
    ([Conv2d(1, 2, activation="relu"), MaxPool2d(2, 1), Flatten(), Dense(1, "identity")], [1, 3, 3]),
])
def test_gradients_equal_sympy_diff_of_the_expanded_loss(layers, shape):
    derivation = derive(stack(shape, layers, "sum"))
    assert_gradients_exact(derivation)


def test_a_cross_entropy_classifier_matches_the_reference_at_random_points():
    network = stack([1, 2, 2], [Conv2d(2, 2, activation="tanh"), Flatten(), Dense(2, "softmax")], "cross_entropy")
    assert_gradients_match_reference(derive(network), points=2)


def test_max_pooling_at_a_tie_gives_each_tied_entry_half():
    """The convention the scalar graph uses: Max's derivative is H(x_k - max of the others), H(0) = 1/2."""
    network = stack([1, 2, 2], [MaxPool2d(2)], "sum")
    derivation = derive(network, wrt="all")
    x = network.input
    values = {x[0, 0, 0]: 0.7, x[0, 0, 1]: 0.7, x[0, 1, 0]: 0.1, x[0, 1, 1]: -0.3}
    example = worked_example(derivation, values)
    assert [example.input_gradients[x[0, 0, j]] for j in (0, 1)] == [0.5, 0.5]
    assert [example.input_gradients[x[0, 1, j]] for j in (0, 1)] == [0.0, 0.0]
    values[x[0, 1, 0]] = 0.7  # three tied: each still gets H(0) = 1/2
    example = worked_example(derivation, values)
    assert [example.input_gradients[x[0, r, k]] for r, k in ((0, 0), (0, 1), (1, 0))] == [0.5, 0.5, 0.5]
    values[x[0, 0, 1]], values[x[0, 1, 0]] = 0.6, 0.1  # no tie: the whole gradient goes to the maximum
    example = worked_example(derivation, values)
    assert example.input_gradients[x[0, 0, 0]] == 1.0 and example.input_gradients[x[0, 0, 1]] == 0.0


# ---------------------------------------------------------------- larger sizes: central differences


def _forward(x, params, conv: Conv2d, pool: Pool2d, units: int):
    """conv (tanh) -> pool -> flatten -> dense (identity) -> half squared error, in NumPy."""
    W, b, V, c, t = params["W1"], params["b1"], params["W4"], params["b4"], params["t"]
    (ph, pw), (sh, sw), (kh, kw) = conv.padding, conv.stride, conv.kernel
    padded = numpy.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    rows, cols = (padded.shape[1] - kh) // sh + 1, (padded.shape[2] - kw) // sw + 1
    z = numpy.array([[[numpy.sum(W[f] * padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw]) + b[f]
                       for j in range(cols)] for i in range(rows)] for f in range(W.shape[0])])
    a = numpy.tanh(z)
    (qh, qw), (th, tw) = pool.size, pool.stride
    reduce = numpy.max if pool.mode == "max" else numpy.mean
    p = numpy.array([[[reduce(a[ch, i * th:i * th + qh, j * tw:j * tw + qw])
                       for j in range((a.shape[2] - qw) // tw + 1)] for i in range((a.shape[1] - qh) // th + 1)]
                     for ch in range(a.shape[0])])
    y = V @ p.reshape(-1) + c
    return 0.5 * numpy.sum((y - t) ** 2)


@pytest.mark.parametrize("pool", [MaxPool2d(2, 1), AvgPool2d(2, 2)], ids=["max", "avg"])
def test_gradients_agree_with_central_differences_of_an_independent_forward_pass(pool):
    conv = Conv2d(3, 3, stride=2, padding=2, activation="tanh")
    network = stack([2, 5, 5], [conv, pool, Flatten(), Dense(2, "identity")], "half_sse")
    rng = numpy.random.default_rng(7)
    arrays = {"x": network.input, "t": network.target,
              **{name: array for layer in network.layers for name, array in layer.parameters.items()}}
    numbers = {name: rng.uniform(-1, 1, array.shape) for name, array in arrays.items()}
    values = {array[i]: float(numbers[name][i]) for name, array in arrays.items() for i in numpy.ndindex(array.shape)}
    example = worked_example(derive(network), values)
    params = {k: v for k, v in numbers.items() if k != "x"}
    for name in ("W1", "b1", "W4"):
        for index in numpy.ndindex(numbers[name].shape):
            h = 1e-6
            up, down = {**params, name: params[name].copy()}, {**params, name: params[name].copy()}
            up[name][index] += h
            down[name][index] -= h
            numeric = (_forward(numbers["x"], up, conv, pool, 2) - _forward(numbers["x"], down, conv, pool, 2)) / (2 * h)
            symbolic = example.gradients[arrays[name][index]]
            assert abs(symbolic - numeric) <= 1e-6 * max(1.0, abs(numeric)), (name, index, symbolic, numeric)
    assert example.loss == pytest.approx(_forward(numbers["x"], params, conv, pool, 2), rel=1e-12)


def test_flatten_makes_no_equation_and_keeps_c_order():
    network = stack([2, 2, 2], [Flatten(), Dense(1, "identity")], "sum")
    flat = network.layers[0]
    assert flat.equations == () and list(flat.outputs) == list(network.input.flat)
    assert sympy.Symbol("x[1, 0, 1]", real=True) == flat.outputs[5]


def test_a_window_maximum_is_sympys_max_built_without_comparing_its_entries():
    from symprop.model.conv import WindowMax

    a, b, c, d = sympy.symbols("a b c d", real=True)
    window = WindowMax(a, b, c, d, evaluate=False)
    reference = sympy.Max(a, b, c, d)
    assert isinstance(window, sympy.Max) and sympy.latex(window) == sympy.latex(reference)
    assert sympy.pycode(window) == sympy.pycode(reference)
    rng = numpy.random.default_rng(3)
    for _ in range(5):
        point = dict(zip((a, b, c, d), (sympy.Rational(int(v), 97) for v in rng.integers(-500, 500, 4))))
        assert window.xreplace(point) == reference.xreplace(point)
        for s in (a, b, c, d):
            assert window.diff(s).xreplace(point) == reference.diff(s).xreplace(point), s


def test_a_window_step_is_what_heaviside_builds():
    """Unevaluated for distinct symbols (it would evaluate to itself), evaluated otherwise."""
    from symprop.model.conv import window_max, window_step

    a, b, c = sympy.symbols("a b c", real=True)
    for entry, others in [(a, (b, c)), (a, (b,))]:
        built = window_step(entry, others)
        assert sympy.srepr(built) == sympy.srepr(sympy.Heaviside(entry - sympy.Max(*others)))
    assert window_step(a, (a, b)) == sympy.Heaviside(a - window_max([a, b]))  # not distinct: SymPy decides
    assert window_step(sympy.Integer(3), (sympy.Integer(1), sympy.Integer(2))) == 1
