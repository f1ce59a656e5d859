"""A matrix parameter in a document: one matrix equation, its entries only on request."""
from __future__ import annotations

import pytest
import sympy
from sympy import MatrixSymbol, Symbol

from symprop.document.build import build_document
from symprop.document.model import Equation, Heading, Paragraph
from symprop.engine.backprop import derive
from symprop.model.graph import Graph
from symprop.numbers.worked_example import worked_example

W, x, b, y = MatrixSymbol("W", 2, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("b", 2, 1), MatrixSymbol("y", 2, 1)
z, X = MatrixSymbol("z", 2, 1), MatrixSymbol("X", 2, 2)
L = Symbol("L", real=True)


@pytest.fixture(scope="module")
def derivation():
    """z = W x + b, L = |z - y|^2: W has a matrix form."""
    return derive(Graph.from_pairs([(z, W * x + b), (L, (z - y).T * (z - y))], parameters=[W], inputs=[x, y, b]))


@pytest.fixture(scope="module")
def determinant():
    """L = det X: SymPy's matrix calculus gives no form, so the entries' matrix is shown."""
    return derive(Graph.from_pairs([(L, sympy.Determinant(X))], parameters=[X]))


def parameter_blocks(document):
    return document.section("parameters").blocks


def headings(blocks) -> list[str]:
    return [b.key for b in blocks if isinstance(b, Heading) and b.level == 3]


def test_each_matrix_is_one_equation_and_its_entries_are_not_derived_by_default(derivation, determinant):
    blocks = parameter_blocks(build_document(derivation)) + parameter_blocks(build_document(determinant))
    assert headings(blocks) == ["W", "X"]
    equations = [b.rows for b in blocks if isinstance(b, Equation)]
    assert equations == [
        (r"\frac{\partial L}{\partial W} = 2 (W x + b - y) x^{T}",),
        (r"\frac{\partial L}{\partial X} = \left[\begin{matrix}X_{1,1} & - X_{1,0}\\- X_{0,1} & X_{0,0}"
         r"\end{matrix}\right]",),
    ]
    keys = [b.prose.key for b in blocks if isinstance(b, Paragraph)]
    assert keys == ["parameters_intro", "matrix_gradient_form", "matrix_entries_hidden",
                    "parameters_intro", "matrix_gradient_entrywise", "matrix_entries_hidden"]


def test_entries_are_derived_on_request(derivation):
    blocks = parameter_blocks(build_document(derivation, matrix_entries=True))
    assert headings(blocks) == ["W", *(s.name for s in derivation.graph.parameters)]
    assert "W[1, 2]" in headings(blocks)
    assert not any(isinstance(b, Paragraph) and b.prose.key == "matrix_entries_hidden" for b in blocks)


def test_a_worked_example_adds_the_matrix_of_numbers(derivation):
    graph = derivation.graph
    values = {s: sympy.Rational(k + 1, 10) for k, s in enumerate((*graph.inputs, *graph.parameters))}
    example = worked_example(derivation, values, learning_rate=0.1)
    blocks = parameter_blocks(build_document(derivation, example, digits=4))
    rows = [b.rows for b in blocks if isinstance(b, Equation)][0]
    gradient = [example.gradients[sympy.Symbol(f"W[{i}, {j}]", real=True)] for i in range(2) for j in range(3)]
    assert rows[0] == r"\frac{\partial L}{\partial W} &= 2 (W x + b - y) x^{T}"
    first = float(gradient[0])
    assert rows[1].startswith(r"&= \left[\begin{matrix}") and f"{first:.4g}" in rows[1]
    assert rows[1].count(r"\\") == 1 and rows[1].count("&") == 1 + 4


def test_korean_has_the_same_blocks(derivation):
    english = parameter_blocks(build_document(derivation))
    korean = parameter_blocks(build_document(derivation, lang="ko"))
    assert [type(b) for b in korean] == [type(b) for b in english]
    assert [b.rows for b in korean if isinstance(b, Equation)] == [b.rows for b in english if isinstance(b, Equation)]
