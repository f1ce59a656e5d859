"""The whole document: its sections in reading order, each made of model blocks."""
from __future__ import annotations

import re

import pytest

from symprop.document.build import build_document
from symprop.document.model import Equation, Figure, Heading, Math, Paragraph, Table
from symprop.files import spec
from symprop.outputs import pipeline


def keys(document) -> list[str]:
    return [s.key for s in document.sections]


def sentences(section) -> list[str]:
    return [b.prose.key for b in section.blocks if isinstance(b, (Heading, Paragraph))]


def test_mazurs_document_has_every_section_in_order(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example)
    assert document.title == "A step by step backpropagation example" and document.lang == "en"
    assert keys(document) == [
        "network", "forward", "loss", "output_parameters", "hidden_parameters", "biases", "delta", "matrix", "check",
        "after_update",
    ]
    network = document.section("network")
    assert [b.kind for b in network.blocks[:3]] == ["heading", "paragraph", "figure"]
    assert sentences(network) == [
        "network", "network_picture_gradients", "network_definitions", "activation_identities", "given_values",
        "learning_rate_given",
    ]


def test_a_symbolic_document_says_so_first_and_has_no_numbers(mazur_solution):
    document = build_document(mazur_solution.derivation, None, lang="ko", title="T")
    assert (document.title, document.lang) == ("T", "ko")
    assert keys(document)[:2] == ["intro", "network"]
    assert sentences(document.section("intro")) == ["symbolic_only"]
    assert document.section("check") is None and document.section("after_update") is None
    assert document.section("forward") is None


def test_a_graph_gets_the_default_title_one_group_and_its_node_rules(graph_solution):
    document = build_document(graph_solution.derivation, graph_solution.example)
    assert document.title == "Backpropagation, step by step"
    assert keys(document) == ["network", "forward", "loss", "parameters", "delta", "node_rules", "check", "after_update"]
    forward = [b for b in document.section("forward").blocks if isinstance(b, Equation)]
    assert forward == [Equation(("q &= x + y", "&= - 2 + 5", "&= 3"))]
    assert sentences(document.section("loss"))[:2] == ["output", "output_intro"]


def test_forward_rows_are_definition_numbers_value(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example)
    equations = [b.rows for b in document.section("forward").blocks if isinstance(b, Equation)]
    assert equations[0] == (
        r"\mathrm{net}_{h1} &= w_{1} i_{1} + w_{2} i_{2} + b_{1}", r"&= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35", "&= 0.3775",
    )
    loss = [b.rows for b in document.section("loss").blocks if isinstance(b, Equation)]
    assert loss[0][-1] == "&= 0.298371109"
    identities = [b.rows for b in document.section("network").blocks if isinstance(b, Equation)][1]
    assert identities == (
        r"\sigma(z) &= \frac{1}{1 + e^{- z}}",
        r"\sigma'(z) &= \sigma(z) (1 - \sigma(z))",
    )
    given = next(b for b in document.section("network").blocks if isinstance(b, Table))
    assert given.rows[:2] == ((Math("i_{1}"), Math("0.05")), (Math("i_{2}"), Math("0.1")))


def test_several_examples_note_the_combined_loss_and_gradient():
    solution = pipeline.solve(spec.load_builtin("nielsen"))
    document = build_document(solution.derivation, solution.example)
    note = document.section("loss").blocks[-1]
    assert note.prose.key == "loss_over_examples_mean"
    assert note.prose.values == {"count": "2", "value": Math("0.267707354")}
    reduced = next(b for b in document.section("output_parameters").blocks
                   if isinstance(b, Paragraph) and b.prose.key == "examples_reduced")
    assert reduced.prose.values == {"count": "2", "value": Math("0.0135982757")}


def test_a_summarised_document_shows_one_parameter_per_layer_and_a_picture_by_layer(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example, per_parameter=False)
    figures = [b for b in document.blocks if isinstance(b, Figure)]
    assert [f.layout["kind"] for f in figures] == ["layers"]  # boxes per layer, not units
    assert [n["name"] for n in figures[0].layout["nodes"]][0] == "2 inputs"
    hidden = document.section("hidden_parameters")
    assert sentences(hidden).count("gradient_of") == 1
    omitted = [b.prose for b in hidden.blocks if isinstance(b, Paragraph) and b.prose.key == "summary_layer"]
    assert [(p.values["layer"], p.values["count"], p.values["parameter"]) for p in omitted] == [
        ("1", "3", Math("w_{1}"))]


def test_a_section_does_not_depend_on_the_sections_built_before_it(mazur_solution):
    """Building the document twice, or one section alone, gives the same blocks."""
    first = build_document(mazur_solution.derivation, mazur_solution.example)
    second = build_document(mazur_solution.derivation, mazur_solution.example)
    assert first == second


def test_numeric_lines_leave_out_zero_terms_and_write_differences_positive_first():
    solution = pipeline.solve(spec.load_builtin("softmax"))
    rows = [row for b in build_document(solution.derivation, solution.example).blocks if isinstance(b, Equation)
            for row in b.rows]
    numeric = [row for row in rows if re.search(r"\d\.\d", row)]  # a rule's step ends "+ 0" as Mazur's does
    assert not any("- t_{1} + " in row or "&= - 0 " in row or row.endswith(" + 0") for row in numeric)
    assert r"\frac{\partial L}{\partial a^{(2)}_{1}} &= z^{(2)}_{1} - t_{1}" in rows


def test_build_document_refuses_what_is_not_a_derivation():
    import pytest

    from symprop.errors import WrongArgument

    with pytest.raises(WrongArgument, match=r"^build_document expects a Derivation, got the string 'w5': make one with "
                       r"symprop\.derive\(network\)$"):
        build_document("w5")


def test_a_document_of_no_step_has_no_update_and_no_after_section():
    solution = pipeline.solve(spec.load_builtin("mazur"), steps=0)
    document = build_document(solution.derivation, solution.example)
    assert keys(document) == [
        "network", "forward", "loss", "output_parameters", "hidden_parameters", "biases", "delta", "matrix", "check",
    ]
    said = [key for section in document.sections for key in sentences(section)]
    assert not {"learning_rate_given", "descent", "not_updated", "biases_updated", "biases_not_updated"} & set(said)
    assert "gradient_of" in said


def test_a_graph_file_without_train_gives_a_document_without_update():
    text = spec.builtin_examples()["graph"].split("[train]")[0]
    solution = pipeline.solve(spec.loads(text, source="graph.toml"))
    document = build_document(solution.derivation, solution.example)
    assert "after_update" not in keys(document)
    assert "descent" not in [key for section in document.sections for key in sentences(section)]


def test_an_upstream_loss_says_where_the_gradient_comes_from_and_inputs_get_rows():
    from tests.spec_files import UPSTREAM

    solution = pipeline.solve(spec.loads(UPSTREAM))
    document = build_document(solution.derivation, solution.example)
    loss = next(s for s in document.sections if s.key == "loss")
    assert loss.blocks[1].prose.key == "loss_upstream"
    delta = next(s for s in document.sections if s.key == "delta")
    rows = [row for block in delta.blocks if isinstance(block, Equation) for row in block.rows]
    assert any(row.startswith(r"\frac{\partial L}{\partial x_{1}}") for row in rows)
    check = next(s for s in document.sections if s.key == "check")
    table = next(b for b in check.blocks if isinstance(b, Table))
    assert [row[0].tex for row in table.rows][-4:] == ["x_{1}", "x_{2}", "g_{1}", "g_{2}"]


def headings(document) -> list[str]:
    return [b.key for s in document.sections for b in s.blocks if isinstance(b, Heading) and b.key]


def test_only_derives_the_chosen_parameters_with_the_deltas_they_use(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example, only=["w5"])
    assert keys(document) == ["network", "forward", "loss", "output_parameters", "delta", "check", "after_update"]
    assert headings(document) == ["w5"]
    deltas, gradients = [b.rows for b in document.section("delta").blocks if isinstance(b, Equation)]
    assert [row.split(" &= ")[0] for row in deltas if "&=" in row and not row.startswith("&")] == [r"\delta_{o1}"]
    assert gradients[0].startswith(r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} &= ") and len(gradients) == 3
    table = next(b for b in document.section("check").blocks if isinstance(b, Table))
    assert [row[0] for row in table.rows] == [Math("w_{5}")]


def test_only_a_hidden_weight_brings_the_deltas_above_it(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example, only=("w1", "b2"))
    assert keys(document)[3:5] == ["hidden_parameters", "biases"] and headings(document) == ["w1", "b2"]
    deltas = next(b.rows for b in document.section("delta").blocks if isinstance(b, Equation))
    named = [row.split(" &= ")[0] for row in deltas if not row.startswith("&")]
    assert named == [r"\delta_{o1}", r"\delta_{o2}", r"\delta_{h1}"]
    first = document.section("hidden_parameters")
    assert "branch_upstream" in sentences(first)  # w1 derives the deltas it reuses itself: no one else is shown


def test_an_unknown_parameter_in_only_is_refused_with_the_nearest_and_the_list(mazur_solution):
    from symprop.document.formulas import UnknownParameter
    from symprop.errors import SympropError

    with pytest.raises(UnknownParameter) as raised:
        build_document(mazur_solution.derivation, mazur_solution.example, only=["w5", "w9"])
    assert str(raised.value) == ("unknown parameter 'w9' in only: did you mean 'w8'? "
                                 "(parameters: w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)")
    assert isinstance(raised.value, SympropError) and "\n" not in str(raised.value)


def test_sections_switch_the_layer_view_and_node_rules_on_and_others_off(mazur_solution):
    document = build_document(mazur_solution.derivation, mazur_solution.example,
                              sections="+layer-view,node_rules,-matrix,-after-update")
    assert keys(document) == [
        "network", "forward", "loss", "output_parameters", "hidden_parameters", "biases", "delta", "layer_view",
        "node_rules", "check",
    ]
    assert keys(build_document(mazur_solution.derivation, mazur_solution.example, sections=["-biases", "+biases"]))[5] == "biases"


def test_a_graphs_node_rules_and_a_dlfs_networks_layer_view_are_on_by_default_and_can_be_switched_off(graph_solution):
    from symprop.model.nn import Dense, mlp
    from symprop.engine.backprop import derive

    assert "node_rules" not in keys(build_document(graph_solution.derivation, graph_solution.example, sections="-node-rules"))
    dlfs = derive(mlp(2, [Dense(2, "relu"), Dense(2, "sigmoid")], "half_sse", notation="dlfs"))
    assert "layer_view" in keys(build_document(dlfs))
    assert "layer_view" not in keys(build_document(dlfs, sections="-layer-view"))
