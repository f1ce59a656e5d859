"""Hand-written backward passes against the engine: gradient functions and "Deep Learning from Scratch" layers."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from symprop.checks.backward_check import assert_backward, check_backward
from symprop.model.nn import Dense, mlp
from symprop.checks.random_points import ClaimError

from tests.conftest import mazur_network

MAZUR = mazur_network()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def mazur_gradients(values, *, only_first_path=False):
    """Mazur's gradients by hand, in NumPy, from the values by name."""
    v = values
    x = np.array([v["i1"], v["i2"]])
    t = np.array([v["t1"], v["t2"]])
    w_hidden = np.array([[v["w1"], v["w2"]], [v["w3"], v["w4"]]])
    w_out = np.array([[v["w5"], v["w6"]], [v["w7"], v["w8"]]])
    h = sigmoid(w_hidden @ x + v["b1"])
    o = sigmoid(w_out @ h + v["b2"])
    delta_out = (o - t) * o * (1 - o)
    back = w_out.T @ delta_out if not only_first_path else w_out[0] * delta_out[0]
    delta_hidden = back * h * (1 - h)
    grads = {"b1": delta_hidden.sum(), "b2": delta_out.sum()}
    grads.update(zip(["w1", "w2", "w3", "w4"], np.outer(delta_hidden, x).ravel()))
    grads.update(zip(["w5", "w6", "w7", "w8"], np.outer(delta_out, h).ravel()))
    return grads


def test_a_right_gradient_function_passes():
    report = check_backward(MAZUR, mazur_gradients)
    assert report.ok
    assert set(report.worst) == {"w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"}
    assert max(report.worst.values()) < 1e-12
    assert report.summary().startswith("backward: OK, worst relative error ")


def test_a_gradient_function_missing_a_path_fails_on_the_hidden_parameters():
    report = check_backward(MAZUR, lambda values: mazur_gradients(values, only_first_path=True))
    assert not report.ok
    assert {c.parameter for c in report.failing()} == {"w1", "w2", "w3", "w4", "b1"}
    assert report.worst["w5"] < 1e-12
    assert report.summary().splitlines()[0] == ("backward: WRONG for w1, w2, w3, w4, b1 at 5 random points (rtol 1e-6); "
                                                "dense layer 1 first wrong from the output: not a common error")


def test_a_missing_gradient_is_an_infinite_error_shown_as_missing():
    report = check_backward(MAZUR, lambda values: {k: g for k, g in mazur_gradients(values).items() if k != "b2"})
    assert report.worst["b2"] == float("inf")
    b2_line = next(line for line in report.summary().splitlines() if line.startswith("  b2 "))
    assert b2_line.split()[1:2] == ["inf"] and "missing" in b2_line and b2_line.endswith("<- differs")
    assert report.to_dict()["parameters"][-1]["relative_error"] is None


class Affine:
    """A "Deep Learning from Scratch" affine layer, x @ W + b, optionally with a classic bug."""

    def __init__(self, n_in, n_out, bug=None):
        self.W, self.b, self.bug = np.zeros((n_in, n_out)), np.zeros(n_out), bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout if self.bug != "dW transposed" else (self.x.T @ dout).T
        self.db = dout.sum(axis=0)
        return dout @ (self.W if self.bug == "dx without transpose" else self.W.T)


class Sigmoid:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class HalfSSE:
    def forward(self, y, t):
        self.y, self.t = y, t
        return 0.5 * np.sum((t - y) ** 2)

    def backward(self, dout=1):
        return dout * (self.y - self.t)


def mazur_layers(bug=None, loss=True):
    layers = [Affine(2, 2), Sigmoid(), Affine(2, 2, bug), Sigmoid()]
    return layers + [HalfSSE()] if loss else layers


@pytest.mark.parametrize("loss", [True, False])
def test_right_layers_pass_with_or_without_a_loss_layer(loss):
    report = assert_backward(MAZUR, mazur_layers(loss=loss))
    assert report.ok and max(report.worst.values()) < 1e-12


def test_a_wrong_transpose_in_the_backward_of_dx_is_caught_below_it():
    report = check_backward(MAZUR, mazur_layers("dx without transpose"))
    assert {c.parameter for c in report.failing()} == {"w1", "w2", "w3", "w4", "b1"}
    assert all(report.worst[p] < 1e-12 for p in ("w5", "w6", "w7", "w8", "b2"))


def test_a_transposed_weight_gradient_is_caught_on_the_off_diagonal_weights():
    report = check_backward(MAZUR, mazur_layers("dW transposed"))
    # W[k, j] holds the weight from input k to unit j: transposing swaps w6 and w7 only.
    assert {c.parameter for c in report.failing()} == {"w6", "w7"}


def test_assert_backward_names_the_parameters_and_values():
    with pytest.raises(AssertionError) as error:
        assert_backward(MAZUR, mazur_layers("dx without transpose"), points=2)
    lines = str(error.value).splitlines()
    assert lines[1] == ("backward: WRONG for w1, w2, w3, w4, b1 at 2 random points (rtol 1e-6); "
                        "dense layer 1 first wrong from the output: not a common error")
    assert lines[2].split() == ["parameter", "worst", "rel.", "error", "expected", "got", "point"]
    w1 = lines[3].split()
    assert w1[0] == "w1" and w1[-2:] == ["<-", "differs"]
    assert float(w1[2]) == pytest.approx(mazur_gradients(check_backward(MAZUR, mazur_gradients, points=2)
                                                         .values[int(w1[4]) - 1])["w1"], rel=1e-8)


def test_a_wrong_forward_pass_is_reported_as_a_problem():
    layers = mazur_layers(loss=False)
    layers[1] = type("Tanh", (), {"forward": lambda self, x: np.tanh(x), "backward": lambda self, d: d})()
    report = check_backward(MAZUR, layers, points=1)
    assert not report.ok
    assert report.problems[0].startswith("point 1: the forward output is [")
    assert "but the network gives [" in report.problems[0]


def test_a_dlfs_network_object_with_layers_and_last_layer_is_accepted():
    class TwoLayerNet:
        def __init__(self):
            self.layers = OrderedDict(Affine1=Affine(2, 2), Sigmoid1=Sigmoid(), Affine2=Affine(2, 2), Sigmoid2=Sigmoid())
            self.lastLayer = HalfSSE()

    assert check_backward(MAZUR, TwoLayerNet(), points=2).ok


class SoftmaxWithLoss:
    """Deep Learning from Scratch's fused layer: backward gives (y - t) / batch."""

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


def test_per_unit_biases_and_softmax_with_loss_pass():
    network = mlp(2, [Dense(3, "relu"), Dense(2, "identity")], "softmax_cross_entropy")
    report = check_backward(network, [Affine(2, 3), Relu(), Affine(3, 2), SoftmaxWithLoss()], points=3)
    assert report.ok, report.summary()
    assert set(report.worst) >= {"b1_1", "b1_2", "b1_3", "b2_1", "b2_2"}


def test_a_weight_array_of_the_wrong_shape_is_refused():
    with pytest.raises(ClaimError, match=r"^dense layer 1: W has shape \(3, 2\), expected \(2, 2\) \(inputs x units\)$"):
        check_backward(MAZUR, [Affine(3, 2), Sigmoid(), Affine(2, 2), Sigmoid()])


def test_layers_need_a_layered_network():
    with pytest.raises(ClaimError, match="layered Network"):
        check_backward(MAZUR.graph, mazur_layers())


def test_one_affine_layer_alone_is_a_backward():
    network = mlp(2, [Dense(2, "identity")], "half_sse")
    assert check_backward(network, Affine(2, 2), points=2).ok


def test_a_loss_layer_for_another_loss_fails_with_the_loss_named():
    class SSE(HalfSSE):
        def forward(self, y, t):
            return 2 * super().forward(y, t)

        def backward(self, dout=1):
            return 2 * super().backward(dout)

    report = check_backward(MAZUR, mazur_layers(loss=False) + [SSE()], points=2)
    assert {c.parameter for c in report.failing()} == set(report.worst)
    assert len(report.problems) == 2
    assert all(p.startswith(f"point {i}: the loss is [") for i, p in enumerate(report.problems, 1))
    assert all(c.got == pytest.approx(2 * c.expected, rel=1e-12) for c in report.checks)


def test_a_backward_report_shows_its_verdict_and_table_in_a_notebook():
    report = check_backward(MAZUR, lambda values: {k: -g for k, g in mazur_gradients(values).items()}, points=2)
    shown = report._repr_markdown_()
    assert shown.startswith("Backward pass: **WRONG** at 2 random points (rtol 1e-6); dense layer 2 is the first "
                            "from the output to disagree: its gradients have the opposite sign")
    assert "| parameter | worst relative error | expected | got | point | agrees |" in shown
    assert shown.count("| ✗ |") == 10 and "BackwardReport(" not in shown
    assert report.checks[0]._repr_markdown_().startswith("`w1`: worst relative error 2 at point ")
    assert report.diagnosis._repr_markdown_().startswith("**a sign error** in dense layer 2: ")
    right = check_backward(MAZUR, mazur_gradients, points=2)._repr_markdown_()
    assert right.startswith("Backward pass: **OK** at 2 random points") and "| ✓ |" in right


def test_a_layer_stack_is_checked_parameter_by_parameter_and_its_layers_refused():
    from symprop.files import spec

    conv = spec.load_builtin("conv").network
    names = [p.name for p in conv.graph.parameters]
    report = check_backward(conv, lambda values: {name: 0.0 for name in names}, points=2)
    assert [c.parameter for c in report.checks] == names and report.diagnosis is None
    assert any(c.relative_error == 1.0 for c in report.checks)  # zero where the gradient is not
    with pytest.raises(ClaimError, match="not a layer stack: give a function"):
        check_backward(conv, [Affine(4, 1)])
