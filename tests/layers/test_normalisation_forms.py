"""dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm)), dgamma and dbeta for layer and batch
normalisation: their LaTeX, and every entry equal to the engine's per-entry gradient."""
from __future__ import annotations

import dataclasses

import pytest

from symprop.engine.backprop import derive
from symprop.layers.backward_forms import Mean, prove_form
from symprop.layers.matrix_proof import MatrixFormError
from symprop.layers.normalisation_forms import INPUT_GRADIENT, batchnorm_form, dnorm, layernorm_form
from symprop.model.normalisation import BatchNorm, LayerNorm
from tests.layer_graphs import layer_graph


def test_layernorm_is_written_as_karpathys_notes_write_it():
    _, layer = layer_graph(LayerNorm(), (2, 3))
    assert dict(layernorm_form(layer).latex_rows()) == {
        "dnorm": r"\frac{\partial L}{\partial \hat{x}} = \frac{\partial L}{\partial y} \odot \gamma",
        "dx": r"\frac{\partial L}{\partial x} = \mathrm{rstd} \left(\frac{\partial L}{\partial \hat{x}} - \hat{x} "
              r"\odot \operatorname{mean}\left(\frac{\partial L}{\partial \hat{x}} \odot \hat{x}\right) - "
              r"\operatorname{mean}\left(\frac{\partial L}{\partial \hat{x}}\right)\right)",
        "dgamma": r"\frac{\partial L}{\partial \gamma} = \sum_{r} \frac{\partial L}{\partial y} \odot \hat{x}",
        "dbeta": r"\frac{\partial L}{\partial \beta} = \sum_{r} \frac{\partial L}{\partial y}",
    }


def test_batchnorm_sums_its_scale_over_the_batch():
    _, layer = layer_graph(BatchNorm(), (3, 2))
    rows = dict(batchnorm_form(layer).latex_rows())
    assert rows["dgamma"] == (r"\frac{\partial L}{\partial \gamma_{f}} = \mathbf{1}^{T} \left(\frac{\partial L}"
                              r"{\partial y} \odot \hat{x}\right)")
    assert rows["dx"] == dict(layernorm_form(layer_graph(LayerNorm(), (3,))[1]).latex_rows())["dx"]


@pytest.mark.parametrize("spec, shape, entries", [
    (LayerNorm(), (3,), 3 + 3 + 3), (LayerNorm(), (4, 3), 3 + 3 + 12),
    (BatchNorm(), (3, 2), 2 + 2 + 6), (BatchNorm(), (2, 2, 2, 2), 2 + 2 + 16),
], ids=["layernorm-vector", "layernorm-rows", "batchnorm-of-three", "batchnorm2d"])
def test_every_entry_equals_the_engines_gradient(spec, shape, entries):
    graph, layer = layer_graph(spec, shape)
    form = (layernorm_form if spec.kind == "layernorm" else batchnorm_form)(layer)
    assert prove_form(form, derive(graph), layer) == entries


def test_without_the_variance_term_dx_is_wrong():
    graph, layer = layer_graph(BatchNorm(), (3, 1))
    form = batchnorm_form(layer)
    equations = [dataclasses.replace(eq, rhs=INPUT_GRADIENT.args[0] * (dnorm - Mean(dnorm))) if eq.key == "dx" else eq
                 for eq in form.equations]
    with pytest.raises(MatrixFormError, match="batchnorm"):
        prove_form(dataclasses.replace(form, equations=tuple(equations)), derive(graph), layer)
