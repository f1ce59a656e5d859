"""A network with matrix parameters through every writer: Markdown that parses, LaTeX that
compiles, and JSON with each matrix's gradient as a nested list under its name."""
from __future__ import annotations

import json
import subprocess

import pytest
import sympy
from sympy import MatrixSymbol, Symbol

from symprop.engine.backprop import derive
from symprop.files import spec
from symprop.model.graph import Graph
from symprop.numbers.worked_example import worked_example
from symprop.outputs import export, pipeline, render
from tests.outputs.test_render import emitted_math, parsed_math

W, x, b, y = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("b", 2, 1), MatrixSymbol("y", 2, 1)
z, L = MatrixSymbol("z", 2, 1), Symbol("L", real=True)


@pytest.fixture(scope="module")
def solution():
    """A linear layer with squared error: W and b with a matrix form."""
    graph = Graph.from_pairs([(z, W * x + b), (L, (z - y).T * (z - y))], parameters=[W, b], inputs=[x, y])
    derivation = derive(graph)
    values = {e: sympy.Rational(k % 7 - 3, 5) for k, e in enumerate((*graph.inputs, *graph.parameters))}
    example = worked_example(derivation, values, learning_rate=0.1)
    return pipeline.Solution(type("Problem", (), {"title": "A linear layer"})(), derivation, example)


@pytest.mark.parametrize("flavor", ["github", "kramdown", "dollar"])
def test_markdown_math_survives_the_parser(solution, flavor):
    markdown = render.render_markdown(solution.derivation, solution.example, flavor=flavor)
    emitted = emitted_math(markdown, flavor)
    assert parsed_math(markdown, flavor) == emitted
    assert any(r"\frac{\partial L}{\partial W} &= 2 (W x + b - y) x^{T}" in m for m in emitted)


def test_latex_compiles_with_the_entries_too(solution, tmp_path):
    for lang in ("en", "ko"):
        source = render.render_latex(solution.derivation, solution.example, lang=lang, matrix_entries=True)
        assert r"\frac{\partial L}{\partial W} &= 2 (W x + b - y) x^{T}" in source
        pdf = export.build_pdf(source, tmp_path / f"matrix.{lang}.pdf")
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert ("gradient with respect to" if lang == "en" else "기울기") in text


def test_json_gives_each_matrix_gradient_as_a_nested_list(solution):
    document = json.loads(json.dumps(pipeline.json_document(solution)))
    matrix = document["matrices"]["W"]
    example = solution.example
    assert matrix["entries"] == [[f"W[{i}, {j}]" for j in range(3)] for i in range(2)]
    assert matrix["gradient"] == [[float(example.gradients[Symbol(f"W[{i}, {j}]", real=True)]) for j in range(3)]
                                  for i in range(2)]
    assert matrix["matrix_form"] == "2 (W x + b - y) x^{T}"
    assert matrix["matrix_form_note"].startswith("equal to every entry's gradient")
    assert document["matrices"]["b"]["gradient"] == [[document["gradients"]["b[0, 0]"]], [document["gradients"]["b[1, 0]"]]]
    assert set(document["matrices"]) == {"W", "b"}


def test_a_scalar_network_has_no_matrices_key():
    assert "matrices" not in pipeline.json_document(pipeline.solve(spec.load_builtin("mazur")))
