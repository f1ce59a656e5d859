"""The kind of error a wrong backward pass makes, named at the first layer from the output that disagrees."""
from __future__ import annotations

import numpy as np
import pytest

from symprop.checks.backward_check import check_backward
from symprop.model.nn import Dense, mlp

from tests.checks.test_backward_check import MAZUR, Affine, HalfSSE, Sigmoid, mazur_gradients, mazur_layers, sigmoid


def corrupted(corrupt):
    """Mazur's right gradients with the output layer's dW (``W[k, j]``: input k to unit j) corrupted."""

    def backward(values):
        grads = mazur_gradients(values)
        dW = np.array([[grads["w5"], grads["w7"]], [grads["w6"], grads["w8"]]])
        dW, db = corrupt(dW, grads["b2"], values)
        grads.update(w5=dW[0, 0], w7=dW[0, 1], w6=dW[1, 0], w8=dW[1, 1], b2=db)
        return grads

    return backward


def slopes(values):
    """sigma'(net_o1), sigma'(net_o2) at the point, by hand."""
    v = values
    h = sigmoid(np.array([[v["w1"], v["w2"]], [v["w3"], v["w4"]]]) @ [v["i1"], v["i2"]] + v["b1"])
    o = sigmoid(np.array([[v["w5"], v["w6"]], [v["w7"], v["w8"]]]) @ h + v["b2"])
    return o * (1 - o)


@pytest.mark.parametrize("corrupt, kind, label", [
    (lambda dW, db, v: (-dW, -db), "sign", "a sign error"),
    (lambda dW, db, v: (dW.T, db), "transpose", "dW transposed"),
    (lambda dW, db, v: (dW / slopes(v), db), None, None),  # db right: not the whole missing factor
    (lambda dW, db, v: (dW[::-1], db), "swapped_rows", "rows 1 and 2 of dW swapped"),
])
def test_a_corrupted_output_layer_is_named_with_its_kind(corrupt, kind, label):
    report = check_backward(MAZUR, corrupted(corrupt))
    assert not report.ok and report.diagnosis.layer == 2
    if kind is None:
        assert report.diagnosis.kind == "unknown"
        return
    assert (report.diagnosis.kind, report.diagnosis.label) == (kind, label)
    assert report.summary().splitlines()[0].endswith(f"; dense layer 2 first wrong from the output: {label}")
    assert report.to_dict()["diagnosis"]["kind"] == kind


class ForgetfulSigmoid(Sigmoid):
    """A Sigmoid whose backward forgets its derivative: dout passes unchanged."""

    def backward(self, dout):
        return dout


def test_a_sigmoid_that_forgets_its_derivative_is_named_at_its_layer():
    report = check_backward(MAZUR, [Affine(2, 2), Sigmoid(), Affine(2, 2), ForgetfulSigmoid(), HalfSSE()])
    diagnosis = report.diagnosis
    assert (diagnosis.layer, diagnosis.kind, diagnosis.label) == (2, "missing_derivative", "missing sigmoid'(z)")
    assert "lack the activation derivative sigmoid'(z) of layer 2" in report.summary()
    hidden = check_backward(MAZUR, [Affine(2, 2), ForgetfulSigmoid(), Affine(2, 2), Sigmoid(), HalfSSE()])
    assert (hidden.diagnosis.layer, hidden.diagnosis.kind) == (1, "missing_derivative")


def test_a_transposed_dw_of_the_wrong_shape_is_named_a_transpose():
    network = mlp(3, [Dense(2, "sigmoid"), Dense(1, "sigmoid")], "half_sse")
    report = check_backward(network, [Affine(3, 2, "dW transposed"), Sigmoid(), Affine(2, 1), Sigmoid(), HalfSSE()])
    assert any("dW has shape (2, 3)" in p for p in report.problems)
    assert (report.diagnosis.layer, report.diagnosis.kind) == (1, "transpose")


def test_swapped_units_are_columns_swapped_biases_too():
    def backward(values):
        grads = mazur_gradients(values)
        grads.update(w5=grads["w7"], w6=grads["w8"], w7=grads["w5"], w8=grads["w6"])
        return grads

    report = check_backward(MAZUR, backward)
    assert (report.diagnosis.kind, report.diagnosis.label) == ("swapped_columns", "columns 1 and 2 of dW swapped")


def test_a_right_backward_has_no_diagnosis():
    assert check_backward(MAZUR, mazur_gradients).diagnosis is None
    assert check_backward(MAZUR, mazur_layers()).diagnosis is None
