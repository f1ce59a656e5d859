"""Pictures of a network or graph: positioned nodes and labelled edges for TikZ and Mermaid."""
from __future__ import annotations

import re

from symprop.document import diagram
from symprop.document.formulas import Formulas
from symprop.document.options import DocumentOptions


def picture(solution, example=True, per_parameter=None) -> dict:
    options = DocumentOptions(per_parameter=per_parameter)
    return diagram.diagram(Formulas(solution.derivation, solution.example if example else None, options))


def test_mermaid_ids_and_labels_are_safe():
    assert diagram.mermaid_id("out_h1[2]") == "n_out_h1_2_"
    assert diagram.mermaid_text('a "b" <c>') == "a #quot;b#quot; #lt;c#gt;"


def test_mazurs_network_is_drawn_in_columns_with_weights_and_gradients(mazur_solution):
    drawn = picture(mazur_solution)
    assert (drawn["kind"], len(drawn["nodes"]), len(drawn["edges"])) == ("network", 9, 14)
    assert drawn["nodes"][0] == {
        "id": "n_i1", "ref": "(n_i1)", "tex": "i_{1}", "value": "0.05", "label": "i1 = 0.05", "at": "(0.00,1.20)",
        "shape": "circle", "name": "i1", "names": ["i1"],
    }
    assert drawn["nodes"][-1] == {
        "id": "n_E_total", "ref": "(n_E_total)", "tex": r"E_{\mathrm{total}}", "value": "0.298371109",
        "label": "E_total = 0.298371109", "at": "(12.60,0.00)", "shape": "loss",
        "name": "E_total", "names": ["E_total"],
    }
    assert drawn["edges"][0] == {
        "source": "n_i1", "target": "n_out_h1", "source_ref": "(n_i1)", "target_ref": "(n_out_h1)", "tex": "w_{1}",
        "param": "w1", "caption": "w1 = 0.15", "pos": "0.30", "label": "w1 = 0.15<br/>∂E_total/∂w1 = 0.000438567734", "forward": None, "backward": "0.0004386",
    }
    assert drawn["edges"][-1]["label"] == "∂E_total/∂out_o2 = -0.217071535"
    assert [n["shape"] for n in drawn["nodes"]].count("bias") == 2
    # what the HTML page needs: the symbols a unit stands for, the parameter of each edge
    assert drawn["nodes"][2]["names"] == ["out_h1", "net_h1"]
    assert [e["param"] for e in drawn["edges"] if e["source"] == "n_b1"] == ["b1", "b1"]


def test_without_an_example_edges_carry_the_weights_only(mazur_solution):
    edge = picture(mazur_solution, example=False)["edges"][0]
    assert (edge["label"], edge["backward"]) == ("w1", None)


def test_a_summarised_document_has_no_picture(mazur_solution):
    assert picture(mazur_solution, per_parameter=False) == {"kind": "none", "nodes": [], "edges": []}


def test_a_graph_is_drawn_one_column_per_depth_with_forward_and_backward_values(graph_solution):
    drawn = picture(graph_solution)
    assert drawn["kind"] == "graph"
    assert [(n["id"], n["at"]) for n in drawn["nodes"]] == [
        ("n_x", "(0.00,2.40)"), ("n_y", "(0.00,0.00)"), ("n_z", "(0.00,-2.40)"), ("n_q", "(4.20,0.00)"),
        ("n_f", "(8.40,0.00)"),
    ]
    assert drawn["nodes"][-1]["shape"] == "loss"
    assert drawn["edges"][0] == {
        "source": "n_x", "target": "n_q", "source_ref": "(n_x)", "target_ref": "(n_q)", "tex": None, "param": None,
        "caption": None, "pos": "0.50",
        "label": "→ -2<br/>← -4", "forward": "-2", "backward": "-4",
    }
    assert [(e["source"], e["target"]) for e in drawn["edges"]] == [
        ("n_x", "n_q"), ("n_y", "n_q"), ("n_q", "n_f"), ("n_z", "n_f"),
    ]


def test_bias_edges_carry_their_own_gradient_or_the_units_delta(mazur_solution):
    from symprop.outputs import pipeline
    from symprop.files import spec

    nielsen = pipeline.solve(spec.load_builtin("nielsen"))  # per-unit biases, two examples
    labels = [e["label"] for e in picture(nielsen)["edges"] if e["source"] == "n_b1_1"]
    b = nielsen.derivation.symbol("b1_1")
    assert labels == [f"∂C/∂b1_1 = {diagram.plain_number(nielsen.example.gradients[b], 9)}"]
    shared = [e["label"] for e in picture(mazur_solution)["edges"] if e["source"] == "n_b1"]
    assert shared == ["∂E_total/∂net_h1 = 0.00877135469", "∂E_total/∂net_h2 = 0.00995425471"]


def test_mermaid_ids_are_distinct_for_distinct_names():
    names = ["out_h1[2]", "out_h1_2_", "a$b", "a%b", "a_b", "a b", "a_1[2]", "a[12]", "가"]
    ids = [diagram.mermaid_id(n) for n in names]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"\w+", i, flags=re.ASCII) for i in ids)
    assert diagram.mermaid_text("a`b#c\nd") == "a#96;b#35;c d"


def test_a_graph_over_matrices_gets_no_picture_of_its_scalar_entries():
    import sympy

    from symprop.document.diagram import diagram
    from symprop.document.formulas import Formulas
    from symprop.document.options import document_options
    from symprop.engine.backprop import derive

    W, x = sympy.MatrixSymbol("W", 2, 2), sympy.MatrixSymbol("x", 2, 1)
    derivation = derive((x.T * W * x)[0, 0], parameters=[W])
    assert diagram(Formulas(derivation, None, document_options()))["kind"] == "none"
