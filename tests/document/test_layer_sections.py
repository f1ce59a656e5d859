"""Whole-layer sections of a document: matrix form, layer view, node rules."""
from __future__ import annotations

import pytest

from symprop.engine import backprop

from symprop.document import layer_sections as layers_document
from symprop.document.model import Equation, Paragraph

from symprop.outputs import pipeline
from symprop.document.formulas import Formulas
from symprop.document.options import DocumentOptions

from symprop.files import spec
from symprop.model.nn import Dense, mlp
from symprop.printing.latex import SympropLatexPrinter


def printer(derivation):
    return SympropLatexPrinter({"graph": derivation.graph}).doprint


def equations(section) -> list[tuple[str, ...]]:
    return [b.rows for b in section.blocks if isinstance(b, Equation)]


def sentences(section) -> list[str]:
    return [b.prose.key for b in section.blocks if isinstance(b, Paragraph)]


@pytest.fixture(scope="module")
def mazur_solution():
    return pipeline.solve(spec.load_builtin("mazur"))


def test_mazurs_matrix_form_is_labelled_bp1_to_bp4_and_proven(mazur_solution):
    derivation = mazur_solution.derivation
    section = layers_document.matrix_section(derivation, mazur_solution.example, printer(derivation), 400)
    assert sentences(section) == ["matrix_intro", "matrix_notation", "matrix_layer", "matrix_layer", "matrix_verified"]
    assert [b.prose.values for b in section.blocks if getattr(b, "prose", None) and b.prose.key == "matrix_layer"] == [
        {"layer": "1"}, {"layer": "2"}]
    hidden, output = equations(section)
    assert list(output[:4]) == [
        r"z^{(2)} = b^{(2)} \mathbf{1} + W^{(2)} a^{(1)}",
        r"a^{(2)} = \sigma(z^{(2)})",
        r"\nabla_{a^{(2)}} E_{\mathrm{total}} = a^{(2)} - t",
        r"\delta^{(2)} = \nabla_{a^{(2)}} E_{\mathrm{total}} \odot \sigma'(z^{(2)}) \tag{BP1}",
    ]
    assert hidden[2] == (
        r"\delta^{(1)} = ((W^{(2)})^{T} \delta^{(2)}) \odot \sigma'(z^{(1)})"
        r" \tag{BP2}"
    )
    assert [row.rsplit(" ", 1)[-1] for row in hidden[3:]] == [r"\tag{BP3}", r"\tag{BP4}", r"\tag{BP4}"]


def test_large_networks_are_not_proven_in_the_document(mazur_solution):
    derivation = mazur_solution.derivation
    section = layers_document.matrix_section(derivation, mazur_solution.example, printer(derivation), 5)
    assert "matrix_verified" not in sentences(section) and len(equations(section)) == 2


def test_several_examples_add_the_batch_form():
    solution = pipeline.solve(spec.load_builtin("nielsen"))
    section = layers_document.matrix_section(solution.derivation, solution.example, printer(solution.derivation), 400)
    assert sentences(section).count("matrix_batch") == 2
    assert list(equations(section)[-1]) == [
        r"\Delta^{2} = \nabla_{A^{2}} C \odot \sigma'(Z^{2})",
        r"\frac{\partial C}{\partial W^{2}} = \frac{1}{m} \Delta^{2} (A^{1})^{T}",
        r"\frac{\partial C}{\partial b^{2}} = \frac{1}{m} \Delta^{2} \mathbf{1}",
    ]


def test_labels():
    assert (layers_document._label("delta", True), layers_document._label("delta", False)) == ("BP1", "BP2")
    assert layers_document._label("forward_net", True) is None
    assert layers_document._labelled("x", "BP3") == r"x \tag{BP3}"
    assert layers_document._labelled("x", None) == "x"


def test_the_layer_view_is_of_layered_networks_in_any_notation(mazur_solution):
    derivation = mazur_solution.derivation
    mazur_view = layers_document.layer_view_section(derivation, printer(derivation))
    assert [b.prose.values["name"] for b in mazur_view.blocks if isinstance(b, Paragraph)
            and b.prose.key == "layer_forward"] == ["Affine", "Sigmoid", "Affine", "Sigmoid", "Half-Squared-Error-Loss"]
    graph = pipeline.solve(spec.load_builtin("graph")).derivation
    assert layers_document.layer_view_section(graph, printer(graph)).blocks == ()
    network = mlp(2, [Dense(2, "relu"), Dense(2, "softmax")], "cross_entropy", notation="dlfs")
    dlfs = backprop.derive(network)
    view = layers_document.layer_view_section(dlfs, printer(dlfs))
    forward = [b.prose.values for b in view.blocks if isinstance(b, Paragraph) and b.prose.key == "layer_forward"]
    assert [(layer["name"], layer["layer"]) for layer in forward] == [
        ("Affine", "1"), ("ReLU", "1"), ("Affine", "2"), ("Softmax", "2"), ("Cross-Entropy-Loss", "2"),
    ]
    rows = equations(view)
    assert rows[0] == (r"Y = X W^{(1)} + \mathbf{1} b^{(1)}",)
    assert rows[-1] == (r"\frac{\partial L}{\partial y} = - \frac{t}{y}",)


def test_node_rules_of_a_graph_say_each_edges_rule_and_its_numbers():
    solution = pipeline.solve(spec.load_builtin("graph"))
    graph = solution.derivation
    assert layers_document.matrix_section(graph, None, printer(graph), 400).blocks == ()
    symbolic = layers_document.node_rules_section(Formulas(graph, None, DocumentOptions()))
    rules = [b.prose for b in symbolic.blocks[2:]]
    assert rules[0].key == "rule_add"
    assert {k: v.tex for k, v in rules[0].values.items()} == {
        "node": "q", "parent": "x", "local": "1", "passed": r"\frac{\partial f}{\partial q}", "consumers": ""}
    assert [(r.key, r.values["node"].tex, r.values["parent"].tex) for r in rules[:3]] == [
        ("rule_add", "q", "x"), ("rule_add", "q", "y"), ("rule_multiply", "f", "q"),
    ]
    assert equations(symbolic) == []
    worked = equations(layers_document.node_rules_section(Formulas(graph, solution.example, DocumentOptions())))
    assert worked == [
        (r"\frac{\partial f}{\partial q} \frac{\partial q}{\partial x} &= \frac{\partial f}{\partial q}", "&= -4"),
        (r"\frac{\partial f}{\partial q} \frac{\partial q}{\partial y} &= \frac{\partial f}{\partial q}", "&= -4"),
        (r"\frac{\partial f}{\partial q} &= z", "&= -4"),
        (r"\frac{\partial f}{\partial z} &= q", "&= 3"),
    ]


def test_node_rules_of_a_network_gather_each_branch_in_numbers(mazur_solution):
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions())
    section = layers_document.node_rules_section(f)
    branches = [b.prose.values["node"].tex for b in section.blocks
                if isinstance(b, Paragraph) and b.prose.key == "rule_branch"]
    assert branches == ["b_{1}", "b_{2}", r"\mathrm{out}_{h1}", r"\mathrm{out}_{h2}"]
    assert equations(section)[-2] == (
        r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{h1}} &= \delta_{o1} w_{5} + \delta_{o2} w_{7}",
        r"&= 0.138498562 \cdot 0.4 + (-0.0380982365) \cdot 0.5", "&= 0.0363503064",
    )


def test_a_deep_network_is_not_proven_in_the_document_for_its_exponential_trees():
    network = mlp(4, [Dense(4) for _ in range(7)], "half_sse")
    derivation = backprop.derive(network)
    assert layers_document.largest_closed_form(derivation) > 20000
    section = layers_document.matrix_section(derivation, None, printer(derivation), 400, 20000)
    assert "matrix_verified" not in sentences(section) and len(equations(section)) == 7


def test_node_rules_of_chosen_parameters_keep_the_edges_on_their_paths(mazur_solution):
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions(only=("b2",)))
    rules = [(b.prose.key, b.prose.values["node"].tex, b.prose.values["parent"].tex)
             for b in layers_document.node_rules_section(f).blocks if isinstance(b, Paragraph) and "node" in b.prose.values]
    assert rules == [
        ("rule_add", r"\mathrm{net}_{o1}", "b_{2}"), ("rule_add", r"\mathrm{net}_{o2}", "b_{2}"),
        ("rule_function", r"\mathrm{out}_{o1}", r"\mathrm{net}_{o1}"), ("rule_function", r"\mathrm{out}_{o2}", r"\mathrm{net}_{o2}"),
        ("rule_function", r"E_{\mathrm{total}}", r"\mathrm{out}_{o1}"), ("rule_function", r"E_{\mathrm{total}}", r"\mathrm{out}_{o2}"),
        ("rule_branch", "b_{2}", ""),
    ]
