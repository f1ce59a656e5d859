"""Pictures of a network or graph, laid out once: every node its own place, labels that
cover nothing, numbers at the picture's digits, a legend, a size that fits the page."""
from __future__ import annotations

import re

import pytest

from symprop.document import diagram, picture_layout
from symprop.document.formulas import Formulas
from symprop.document.options import DocumentOptions
from tests.pictures import EXAMPLES, LANGUAGES, drawn_boxes, layout, overlapping, solution


def picture(solution, example=True, **options) -> dict:
    return diagram.diagram(Formulas(solution.derivation, solution.example if example else None, DocumentOptions(**options)))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", EXAMPLES)
def test_no_label_overlaps_another_label_a_node_or_a_text(name, lang):
    drawn = layout(name, lang)
    boxes = drawn_boxes(drawn)
    assert len([b for b in boxes if b[0].startswith("label")]) == sum(bool(e["lines"]) for e in drawn["edges"])
    assert overlapping(boxes) == []
    assert drawn["unlabelled"] == 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_node_has_a_place_of_its_own(name):
    nodes = layout(name)["nodes"]
    places = [(n["x"], n["y"]) for n in nodes]
    assert len(set(places)) == len(places) == len({n["name"] for n in nodes})


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_picture_fits_the_text_width_and_the_first_page(name):
    drawn = layout(name)
    width, height = 2 * drawn["box"]["hw"] * drawn["scale"], 2 * drawn["box"]["hh"] * drawn["scale"]
    assert width <= picture_layout.MAX_WIDTH + 1e-9 and height <= picture_layout.MAX_HEIGHT + 1e-9
    assert drawn["scale"] >= picture_layout.MIN_SCALE  # the built-in examples are not shrunk to a summary
    # and every drawn thing is inside the picture's extent
    box = drawn["box"]
    for what, b in drawn_boxes(drawn):
        assert box["x"] - box["hw"] <= b.left and b.right <= box["x"] + box["hw"], what


def test_per_unit_biases_each_have_their_own_place():
    nodes = {n["name"]: n for n in layout("nielsen")["nodes"]}
    biases = [n for n in nodes.values() if n["shape"] == "bias"]
    assert sorted(n["name"] for n in biases) == ["b1_1", "b1_2", "b1_3", "b2_1", "b2_2"]
    assert len({(n["x"], n["y"]) for n in biases}) == 5


def test_mazurs_edges_carry_the_weights_values_and_gradients_to_four_digits():
    drawn = layout("mazur")
    w1 = next(e for e in drawn["edges"] if e["param"] == "w1")
    assert [(t["plain"], t["colour"]) for t in w1["lines"]] == [("w1 = 0.15", "value"), ("0.0004386", "gradient")]
    assert w1["lines"][0]["tex"] == "w_{1} = 0.15"
    w7 = next(e for e in drawn["edges"] if e["param"] == "w7")
    assert [t["plain"] for t in w7["lines"]] == ["w7 = 0.5", "−0.0226"]  # a true minus sign
    s = solution("mazur")
    gradient = s.example.gradients[s.derivation.symbol("w5")]
    assert next(e for e in drawn["edges"] if e["param"] == "w5")["lines"][1]["plain"] == diagram.plain_picture_number(gradient, 4)
    # every number in the picture has at most 4 significant digits
    for e in drawn["edges"]:
        for t in e["lines"]:
            digits = re.sub(r"^.*= ", "", t["plain"]).lstrip("−0.").replace(".", "")
            assert len(digits) <= 4, t
    assert [n["texts"][0]["plain"] for n in drawn["nodes"] if n["name"] == "out_h1"] == ["0.5933"]


def test_a_shared_bias_is_one_box_with_its_value_and_gradient(mazur_solution):
    drawn = picture(mazur_solution)
    b1 = next(n for n in drawn["nodes"] if n["name"] == "b1")
    gradient = mazur_solution.example.gradients[mazur_solution.derivation.symbol("b1")]
    assert [t["plain"] for t in b1["texts"]] == ["0.35", diagram.plain_picture_number(gradient, 4)]
    assert [e["to"] for e in drawn["edges"] if e["param"] == "b1"] == ["out_h1", "out_h2"]
    # a bias edge runs from the column before its units, never across the picture
    h = {n["name"]: n for n in drawn["nodes"]}
    assert b1["x"] < h["out_h1"]["x"] < h["out_o1"]["x"]


def test_the_legend_says_what_each_colour_means_in_the_documents_language():
    assert [(e["colour"], e["text"]) for e in layout("mazur")["legend"]] == [
        ("value", "weight or value"), ("gradient", "gradient of E_total")]
    assert [e["text"] for e in layout("mazur", "ko")["legend"]] == ["가중치 또는 값", "E_total의 기울기"]
    assert [e["colour"] for e in layout("graph")["legend"]] == ["forward", "gradient"]


def test_the_picture_digits_option_rounds_the_labels(mazur_solution):
    drawn = picture(mazur_solution, picture_digits=2)
    assert next(e for e in drawn["edges"] if e["param"] == "w1")["lines"][1]["plain"] == "0.00044"
    # never more digits than the document's own
    drawn = picture(mazur_solution, digits=3)
    assert next(e for e in drawn["edges"] if e["param"] == "w1")["lines"][1]["plain"] == "0.000439"


def test_without_an_example_edges_carry_the_weights_names_only(mazur_solution):
    drawn = picture(mazur_solution, example=False)
    assert [t["plain"] for t in drawn["edges"][0]["lines"]] == ["w1"]
    assert drawn["legend"] == []


def test_a_summarised_document_has_no_picture(mazur_solution):
    assert picture(mazur_solution, per_parameter=False) == {"kind": "none", "nodes": [], "edges": []}


def test_a_graph_is_drawn_with_forward_and_backward_values(graph_solution):
    drawn = picture(graph_solution)
    assert drawn["kind"] == "graph"
    columns = {n["name"]: n["x"] for n in drawn["nodes"]}
    # x and y feed q; z is drawn in the column just before f, which it feeds
    assert columns["x"] == columns["y"] < columns["q"] == columns["z"] < columns["f"]
    x_to_q = drawn["edges"][0]
    assert (x_to_q["from"], x_to_q["to"]) == ("x", "q")
    assert [(t["plain"], t["colour"]) for t in x_to_q["lines"]] == [("→ −2", "forward"), ("← −4", "gradient")]
    assert [(e["from"], e["to"]) for e in drawn["edges"]] == [("x", "q"), ("y", "q"), ("q", "f"), ("z", "f")]


def test_a_wide_graph_is_summarised_to_fit_the_page():
    from symprop.files import spec
    from symprop.outputs.pipeline import solve
    from tests.pictures import drawn_boxes, overlapping
    from tests.spec_pictures import CONV

    solved = solve(spec.loads(CONV))
    drawn = picture(solved)
    assert drawn["summary"] and all(e["box"] is None and e["lines"] == [] for e in drawn["edges"])
    assert drawn["scale"] * 2 * drawn["box"]["hh"] <= picture_layout.MAX_HEIGHT + 1e-9
    assert overlapping(drawn_boxes(drawn)) == []
    places = [(n["x"], n["y"]) for n in drawn["nodes"]]
    assert len(set(places)) == len(places)


def test_mermaid_ids_and_labels_are_safe():
    assert diagram.mermaid_id("out_h1[2]") == "n_out_h1_2_"
    assert diagram.mermaid_text('a "b" <c>') == "a #quot;b#quot; #lt;c#gt;"
    names = ["out_h1[2]", "out_h1_2_", "a$b", "a%b", "a_b", "a b", "a_1[2]", "a[12]", "가"]
    ids = [diagram.mermaid_id(n) for n in names]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"\w+", i, flags=re.ASCII) for i in ids)
    assert diagram.mermaid_text("a`b#c\nd") == "a#96;b#35;c d"


def test_numbers_in_plain_text_have_true_minus_signs_and_powers_of_ten():
    assert diagram.plain_picture_number(-0.0226, 4) == "−0.0226"
    assert diagram.plain_picture_number(9.1e-9, 4) == "9.1×10⁻⁹"


def test_a_graph_over_matrices_gets_no_picture_of_its_scalar_entries():
    import sympy

    from symprop.document.options import document_options
    from symprop.engine.backprop import derive

    W, x = sympy.MatrixSymbol("W", 2, 2), sympy.MatrixSymbol("x", 2, 1)
    derivation = derive((x.T * W * x)[0, 0], parameters=[W])
    assert diagram.diagram(Formulas(derivation, None, document_options()))["kind"] == "none"


def test_a_network_whose_units_would_be_shrunk_past_legibility_is_drawn_by_layer():
    """Six hidden layers of two units: not summarised, but its units' picture would shrink below
    :data:`~symprop.document.picture_layout.MIN_SCALE` even without labels; four layers still fit."""
    import symprop
    from symprop.document.build import build_document

    def figures(hidden):
        derivation = symprop.derive(symprop.mlp(2, [symprop.Dense(2) for _ in range(hidden)], "half_sse"))
        assert not Formulas(derivation, None, DocumentOptions()).summarised
        return [b.layout for b in build_document(derivation, None).blocks if b.kind == "figure"]

    deep = figures(7)
    assert [f["kind"] for f in deep] == ["layers"] and deep[0]["scale"] >= picture_layout.MIN_SCALE
    shallow = figures(5)
    assert [f["kind"] for f in shallow] == ["network"] and shallow[0]["scale"] >= picture_layout.MIN_SCALE
