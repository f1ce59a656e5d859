"""Documents of networks with recurrent, normalisation and attention layers: every format renders,
each layer's backward equations and sentence appear (English and Korean), and the JSON gives each
parameter array and its gradient by role, nested like the parameter."""
from __future__ import annotations

import json

import numpy
import pytest

from symprop.document.i18n import LANGUAGES
from symprop.document.layer_type_prose import TYPE_PROSE
from symprop.files.spec import load_builtin, loads
from symprop.outputs.pipeline import render_documents, solve

MIXED = """
title = "Every new layer type in one stack"
[network]
inputs = { name = "x", shape = [3, 2] }
layers = [{ type = "batchnorm" }, { type = "gru", units = 2 }, { type = "layernorm" }, { type = "attention", dim = 2 },
          { type = "rnn", units = 1, activation = "sigmoid" }, { type = "lstm", units = 1 }]
[values]
x = [[0.5, -0.2], [0.1, 0.4], [-0.3, 0.2]]
t = [[0.2], [-0.1], [0.3]]
[train]
init = { method = "xavier", seed = 3 }
"""


@pytest.fixture(scope="module")
def mixed():
    return solve(loads(MIXED))


def test_every_kind_has_its_sentence_in_every_language():
    for language, table in TYPE_PROSE.items():
        assert set(table) == {f"{kind}_backward" for kind in ("rnn", "lstm", "gru", "layernorm", "batchnorm",
                                                               "attention")} | {"stack_forward_steps", "picture_every_step", "stack_picture_rolled",
                                                                   "stack_picture_unrolled"}
        assert set(table) <= set(LANGUAGES[language])


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_stack_of_every_new_type_renders_in_every_format(mixed, lang):
    texts = render_documents(mixed, ["md", "tex", "json", "html"], lang=lang)
    assert set(texts) == {".md", ".tex", ".json", ".html"}
    for kind in ("rnn", "lstm", "gru", "layernorm", "batchnorm", "attention"):
        sentence = TYPE_PROSE[lang][f"{kind}_backward"].split("{")[0][:40]
        assert sentence in texts[".md"], kind
    assert r"\frac{\partial L}{\partial W_{h}} &= \sum_{t} \Delta a^{h}_{t} h_{t-1}^{T}" in texts[".md"]
    assert r"\mathrm{d}S &= A \odot" in texts[".tex"]
    assert r"a_{n,t} &= hn_{t} \odot r_{t} + W_{in} x_{t} + b_{in}" in texts[".md"]
    assert '["gru 2, 3 steps"]' in texts[".md"]  # the picture draws a recurrent layer rolled up


def test_the_json_gives_each_array_and_its_gradient_by_role(mixed):
    document = json.loads(render_documents(mixed, ["json"])[".json"])
    kinds = [layer["type"] for layer in document["layers"]]
    assert kinds == ["batchnorm", "gru", "layernorm", "attention", "rnn", "lstm"]
    gru = document["layers"][1]["arrays"]
    assert set(gru) == {"Wi", "dWi", "Wh", "dWh", "bi", "dbi", "bh", "dbh"}
    assert numpy.shape(gru["Wi"]) == numpy.shape(gru["dWi"]) == (6, 2)
    norm = document["layers"][0]["arrays"]
    assert set(norm) == {"gamma", "dgamma", "beta", "dbeta"} and norm["gamma"] == [1.0, 1.0]
    assert set(document["layers"][4]["arrays"]) == {"Wx", "dWx", "Wh", "dWh", "b", "db"}
    assert document["layers"][4]["formulas"]["backward"]["dWh"] == (r"\frac{\partial L}{\partial W_{h}} = \sum_{t} "
                                                                     r"\delta_{t} h_{t-1}^{T}")
    gradients = mixed.example.gradients
    wh = mixed.problem.network.layers[4].parameters["Wh5"]
    assert document["layers"][4]["arrays"]["dWh"] == [[float(gradients[wh[0, 0]])]]


@pytest.mark.parametrize("name", ["rnn", "layernorm"])
def test_the_built_in_examples_render_in_every_format(name):
    texts = render_documents(solve(load_builtin(name)), ["md", "tex", "json", "html"])
    assert all(texts.values())
    arrays = json.loads(texts[".json"])["layers"][0]["arrays"]
    assert {"rnn": "dWh", "layernorm": "dgamma"}[name] in arrays
