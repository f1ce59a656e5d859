"""The command line's jobs: solve a problem, write its documents, its JSON, one gradient's text, its code."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy
import pytest

from symprop.outputs import export

from symprop.outputs import pipeline

from symprop.files import spec
from symprop.outputs.pipeline import Solution


def test_solve_derives_and_works_mazurs_example(mazur_solution):
    problem, derivation, example = mazur_solution.problem, mazur_solution.derivation, mazur_solution.example
    assert derivation.network is problem.network
    assert float(example.loss) == 0.2983711087600027
    assert len(example.loss_history) == 2


def test_solve_may_override_the_steps():
    example = pipeline.solve(spec.load_builtin("mazur"), steps=3).example
    assert example.loss_history == (0.2983711087600027, 0.29102777369359933, 0.28354713312241997, 0.2759432888894519)


def test_expected_seconds_grow_with_the_parameters(mazur_solution):
    assert pipeline.expected_seconds(mazur_solution.problem) == 10 * pipeline.SECONDS_PER_PARAMETER


@pytest.mark.parametrize(
    "suffix, lang, flavor, name",
    [(".md", "en", "github", "mazur"), (".md", "ko", "dollar", "mazur-ko-dollar"), (".md", "en", "kramdown",
     "mazur-kramdown"), (".tex", "ko", "dollar", "mazur-ko"), (".pdf", "en", "kramdown", "mazur")],
)
def test_document_name_tags_only_what_is_not_the_default(suffix, lang, flavor, name):
    assert pipeline.document_name("mazur", suffix, lang, flavor) == name


def test_json_document_of_mazurs_network(mazur_solution):
    document = pipeline.json_document(mazur_solution)
    assert list(document) == [
        "schema", "title", "parameters", "values", "forward", "loss", "gradients", "learning_rate", "steps",
        "updated_parameters", "updated", "loss_after", "loss_history", "checks", "formulas_per", "formulas",
        "input_gradients",
        "layers",
    ]
    assert document["schema"] == 2 and document["steps"] == 1
    assert document["formulas_per"] == "parameter"
    assert document["values"] == {"i1": 0.05, "i2": 0.1, "t1": 0.01, "t2": 0.99, "w1": 0.15, "w2": 0.2, "w3": 0.25,
                                  "w4": 0.3, "b1": 0.35, "w5": 0.4, "w6": 0.45, "w7": 0.5, "w8": 0.55, "b2": 0.6}
    assert document["title"] == "A step by step backpropagation example"
    assert document["parameters"] == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"]
    assert document["updated_parameters"] == ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]
    assert (document["gradients"]["w5"], document["updated"]["w5"], document["updated"]["b1"]) == (
        0.0821670405642308, 0.35891647971788465, 0.35)
    assert document["checks"]["w5"]["ok"] is True
    assert document["formulas"]["w5"]["latex"] == (
        r"\mathrm{out}_{h1} \cdot \mathrm{out}_{o1} (1 - \mathrm{out}_{o1}) (\mathrm{out}_{o1} - t_{1})"
    )
    assert len(document["layers"]) == 2
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_json_document_of_a_graph_has_no_layers(graph_solution):
    document = pipeline.json_document(graph_solution)
    assert "layers" not in document
    assert (document["forward"], document["gradients"]) == ({"q": 3.0, "f": -12.0}, {"x": -4.0, "y": -4.0, "z": 3.0})


def test_gradient_text_of_a_graph_parameter(graph_solution):
    assert pipeline.gradient_text(graph_solution, "x") == "\n".join([
        "df/dx",
        "  path 1: df/dq * dq/dx = -4",
        "    df/dq = z = -4",
        "    dq/dx = 1",
        "  closed form: z",
        "  delta form:  delta_q",
        "  value:       -4",
        "  update:      x+ = x - 0.01 * df/dx = -1.96",
    ])


def test_gradient_text_without_an_example_has_no_numbers(mazur_solution):
    symbolic = Solution(mazur_solution.problem, mazur_solution.derivation, None)
    assert pipeline.gradient_text(symbolic, "w5") == "\n".join([
        "dE_total/dw5",
        "  path 1: dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5",
        "    dE_total/dout_o1 = out_o1 - t1",
        "    dout_o1/dnet_o1 = out_o1*(1 - out_o1)",
        "    dnet_o1/dw5 = out_h1",
        "  closed form: out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)",
        "  delta form:  delta_net_o1*out_h1",
    ])


def test_gradient_text_of_a_parameter_the_step_keeps(mazur_solution):
    text = pipeline.gradient_text(mazur_solution, "b1", digits=4)
    assert text.splitlines()[1] == (
        "  path 1: dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dout_h1 * dout_h1/dnet_h1 * dnet_h1/db1 = 0.01337"
    )
    assert text.splitlines()[-1] == "  value:       0.01873"


def test_backward_code_per_layer_or_per_node(mazur_solution, graph_solution):
    assert "def backward(x, t, W1, b1, W2, b2):" in pipeline.backward_code(mazur_solution.problem)
    assert "def gradient(" in pipeline.backward_code(mazur_solution.problem, style="graph")
    code = pipeline.backward_code(graph_solution.problem)
    assert "    q = x + y\n    f = q*z\n    delta_f = 1\n    delta_q = z\n" in code


def test_write_documents_writes_each_format_once_and_says_so(tmp_path, graph_solution):
    steps = []
    written = pipeline.write_documents(graph_solution, ["json", "md", "json"], tmp_path, stem="graph",
                                       lang="ko", on_step=steps.append)
    assert [p.name for p in written] == ["graph-ko.md", "graph-ko.json"]
    assert steps == ["md", "json"]
    assert json.loads((tmp_path / "graph-ko.json").read_text(encoding="utf-8")) == pipeline.json_document(graph_solution)


def test_write_documents_refuses_an_unknown_format_before_writing(tmp_path, graph_solution):
    with pytest.raises(export.ExportError) as error:
        pipeline.write_documents(graph_solution, ["md", "docx"], tmp_path, stem="graph")
    assert str(error.value) == "unknown format 'docx': expected any of md, tex, pdf, json, html"
    assert list(tmp_path.iterdir()) == []


def test_json_document_without_a_step_has_no_update():
    document = pipeline.json_document(pipeline.solve(spec.load_builtin("mazur"), steps=0))
    assert (document["steps"], document["updated_parameters"], document["updated"], document["loss_after"]) == (
        0, [], {}, None)
    assert document["loss_history"] == [document["loss"]]


def test_json_numbers_that_are_not_finite_are_written_as_strings():
    assert pipeline.finite_json({"a": [1.0, math.inf, (-math.inf, math.nan)], "b": "x", "c": None, "d": 2}) == {
        "a": [1.0, "Infinity", ["-Infinity", "NaN"]], "b": "x", "c": None, "d": 2}


@pytest.mark.parametrize("table, expected", [
    ([math.inf, -math.inf], ["Infinity", "-Infinity"]),  # their sum is NaN: each is rewritten
    ([1e308, 1e308, -1e308], [1e308, 1e308, -1e308]),   # a sum that overflows, of finite numbers
    ([0.5, math.nan, True, 3], [0.5, "NaN", True, 3]),
    ([2.0, 10**400], [2.0, 10**400]),                    # a whole number too large for a float stays
])
def test_tables_of_numbers_are_checked_whatever_their_sum(table, expected):
    assert pipeline.finite_json({"t": table, "d": dict(enumerate(table))}) == {"t": expected, "d": dict(enumerate(expected))}


def test_a_diverging_training_writes_json_with_finite_numbers_only(tmp_path):
    text = spec.builtin_examples()["graph"].replace("learning_rate = 0.01", "learning_rate = 1e300").replace(
        "steps = 1", "steps = 4")
    solution = pipeline.solve(spec.loads(text, source="graph.toml"))
    [path] = pipeline.write_documents(solution, ["json"], tmp_path, stem="graph")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "Infinity" in document["loss_history"] or "-Infinity" in document["loss_history"] or (
        "NaN" in document["loss_history"])
    assert all(isinstance(v, (float, int, str)) for v in document["loss_history"])


def test_render_documents_returns_each_format_by_suffix(graph_solution):
    texts = pipeline.render_documents(graph_solution, ["json", "md"])
    assert list(texts) == [".md", ".json"]
    assert texts[".md"].startswith("# ")


def test_gradient_text_of_no_step_has_no_update():
    solution = pipeline.solve(spec.load_builtin("graph"), steps=0)
    assert pipeline.gradient_text(solution, "x").splitlines()[-1] == "  value:       -4"


def test_a_large_dense_network_is_forecast_at_the_arrays_rate():
    from types import SimpleNamespace

    from symprop.model import nn
    from symprop.numbers.worked_example import VECTORISED_PARAMETERS

    network = nn.mlp(100, [nn.Dense(16), nn.Dense(10)], "mse")
    problem = SimpleNamespace(network=network, graph=network.graph)
    count = len(problem.graph.parameters)
    assert count >= VECTORISED_PARAMETERS
    assert pipeline.expected_seconds(problem) == count * pipeline.SECONDS_PER_PARAMETER_IN_ARRAYS


def test_json_gives_the_input_gradients_when_the_file_asks_for_them():
    from tests.spec_files import UPSTREAM

    document = pipeline.json_document(pipeline.solve(spec.loads(UPSTREAM)))
    assert list(document["input_gradients"]) == ["x1", "x2", "g1", "g2"]
    for entry in document["input_gradients"].values():
        assert entry["ok"] and entry["value"] == pytest.approx(entry["numeric"], rel=1e-6)
    # dL/dg_k = z_k, the k-th output (L = sum_k g_k z_k)
    assert document["input_gradients"]["g1"]["value"] == pytest.approx(document["forward"]["z1_1"], rel=1e-12)
    assert json.loads(json.dumps(document)) == document
    assert pipeline.json_document(pipeline.solve(spec.loads(UPSTREAM.replace("input_gradients = true", ""))))[
        "input_gradients"] == {}


def test_json_of_a_large_layered_network_gives_formulas_per_layer_only():
    from symprop.model import nn
    from symprop.engine.backprop import derive
    from symprop.numbers.worked_example import worked_example
    from symprop.document.options import document_options

    network = nn.mlp(8, [nn.Dense(8), nn.Dense(2)], "mse")
    values = {s.name: 0.01 * (i % 7 - 3) for i, s in enumerate((*network.graph.inputs, *network.graph.parameters))}
    derivation = derive(network)
    solution = Solution(SimpleNamespace(title=""), derivation, worked_example(derivation, values, steps=0))
    summary = pipeline.json_document(solution)
    assert summary["formulas_per"] == "layer" and summary["formulas"] == {}
    assert [layer["formulas"]["index_form"] for layer in summary["layers"]]  # the per-layer forms are there
    assert len(summary["gradients"]) == len(network.parameters) == 90
    full = pipeline.json_document(solution, document_options(per_parameter=True))
    assert full["formulas_per"] == "parameter" and len(full["formulas"]) == 90


def test_solve_reports_each_phase_as_it_ends():
    phases = []
    pipeline.solve(spec.load_builtin("mazur"), on_step=phases.append)
    assert phases == ["derive", "numbers", "check"]


def test_write_documents_writes_the_set_whole_or_not_at_all(graph_solution, tmp_path, monkeypatch):
    import errno
    import os

    written = pipeline.write_documents(graph_solution, ["md", "tex", "json"], tmp_path, stem="graph")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.json", "graph.md", "graph.tex"]
    earlier = {p: p.read_bytes() for p in written}
    def full(handle):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export.os, "fsync", full)
    with pytest.raises(export.ExportError, match="the disk is full"):
        pipeline.write_documents(graph_solution, ["md", "tex", "json"], tmp_path, stem="graph", digits=3)
    assert {p: p.read_bytes() for p in written} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.json", "graph.md", "graph.tex"]


def test_the_json_of_a_layer_stack_gives_each_layers_type_formulas_and_arrays():
    solution = pipeline.solve(spec.load_builtin("cnn"))
    document = pipeline.json_document(solution)
    layers = document["layers"]
    assert [layer["type"] for layer in layers] == ["conv2d", "maxpool", "flatten", "dense"]
    assert set(layers[0]["arrays"]) == {"W", "dW", "b", "db"}  # dX only when input gradients are asked for
    assert layers[1]["arrays"] == {} and "dX" in layers[1]["formulas"]
    kernel = solution.problem.network.layers[0].parameters["W1"]
    assert layers[0]["arrays"]["dW"][1][0][1][1] == document["gradients"][kernel[1, 0, 1, 1].name]
    assert layers[3]["arrays"]["W"] == [[solution.example.values[w] for w in row]
                                        for row in solution.problem.network.layers[3].parameters["W4"]]
    asked = pipeline.json_document(pipeline.solve(replace(spec.load_builtin("cnn"), input_gradients=True)))
    assert numpy.array(asked["layers"][0]["arrays"]["dX"]).shape == (2, 4, 4)
    assert numpy.array(asked["layers"][2]["arrays"]["dX"]).shape == (2, 2, 2)


def test_a_stack_takes_the_scalar_program_and_the_graphs_backward_code():
    problem = spec.load_builtin("conv")
    assert pipeline.expected_seconds(problem) == len(problem.graph.parameters) * pipeline.SECONDS_PER_PARAMETER
    assert "\ndef gradient(values):" in pipeline.backward_code(problem)  # one line per node, not dense layers
