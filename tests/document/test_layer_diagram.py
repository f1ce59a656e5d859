"""The picture by layer of a dense network too large to draw unit by unit: its inputs, one box per
layer, the loss, the widths on the edges; laid out like every picture, and in every format."""
from __future__ import annotations

import re

import pytest

import symprop
from symprop.document import picture_layout
from symprop.document.build import build_document
from symprop.document.diagram import diagram
from symprop.document.formulas import Formulas
from symprop.document.layer_diagram import network_layer_diagram
from symprop.document.options import document_options
from symprop.outputs import render
from tests.pictures import drawn_boxes, overlapping


@pytest.fixture(scope="module")
def wide():
    """A 40-8-4 network: summarised, and far more than a picture of units could hold."""
    return symprop.derive(symprop.mlp([f"x{i}" for i in range(1, 41)], [symprop.Dense(8), symprop.Dense(4, "relu")],
                                      "half_sse"))


def test_a_box_per_layer_with_the_widths_on_the_edges(wide):
    layout = network_layer_diagram(wide.network, "L")
    assert [n["name"] for n in layout["nodes"]] == ["40 inputs", "dense 8, sigmoid", "dense 4, relu", "L"]
    assert [n["shape"] for n in layout["nodes"]] == ["bias", "bias", "bias", "loss"]
    assert [e["label"] for e in layout["edges"]] == ["40", "8", "4"]
    assert all(n["param"] is None for n in layout["nodes"])  # a box stands for a layer, not one parameter


def test_the_boxes_do_not_overlap_and_the_picture_fits_the_page(wide):
    layout = network_layer_diagram(wide.network, "L")
    assert overlapping(drawn_boxes(layout)) == [] and layout["unlabelled"] == 0
    assert 2 * layout["box"]["hw"] * layout["scale"] <= picture_layout.MAX_WIDTH + 1e-9
    assert 2 * layout["box"]["hh"] * layout["scale"] <= picture_layout.MAX_HEIGHT + 1e-9
    assert len({(n["x"], n["y"]) for n in layout["nodes"]}) == 4


def test_layers_alike_are_numbered_and_a_deep_network_still_fits():
    network = symprop.mlp(["x1", "x2"], [symprop.Dense(3) for _ in range(12)], "half_sse")
    layout = network_layer_diagram(network, "L")
    names = [n["name"] for n in layout["nodes"]]
    assert names[1:3] == ["dense 3, sigmoid (1)", "dense 3, sigmoid (2)"] and len(set(names)) == 14
    assert overlapping(drawn_boxes(layout)) == []
    assert 2 * layout["box"]["hw"] * layout["scale"] <= picture_layout.MAX_WIDTH + 1e-9


def test_a_network_too_deep_for_one_legible_row_wraps_into_rows():
    deep = symprop.derive(symprop.mlp(["x1", "x2"], [symprop.Dense(3) for _ in range(12)], "half_sse"))
    layout = network_layer_diagram(deep.network, "L")
    assert layout["scale"] >= picture_layout.MIN_SCALE and not layout["summary"]
    assert len({n["y"] for n in layout["nodes"]}) > 1 and overlapping(drawn_boxes(layout)) == []
    assert [b.layout["kind"] for b in build_document(deep, None).blocks if b.kind == "figure"] == ["layers"]
    shallow = symprop.derive(symprop.mlp([f"x{i}" for i in range(1, 11)], [symprop.Dense(6) for _ in range(3)], "half_sse"))
    assert [b.layout["kind"] for b in build_document(shallow, None).blocks if b.kind == "figure"] == ["layers"]


def test_the_network_section_draws_it_where_units_cannot_be(wide):
    options = document_options()
    assert diagram(Formulas(wide, None, options))["kind"] == "none"
    figures = [b for b in build_document(wide, None).blocks if b.kind == "figure"]
    assert [f.layout["kind"] for f in figures] == ["layers"]
    korean = [b for b in build_document(wide, None, lang="ko").blocks if b.kind == "figure"][0]
    assert korean.layout["nodes"][0]["name"] == "입력 40개"


def test_every_format_contains_it(wide):
    github = render.render_markdown(wide)
    assert '["40 inputs"]' in github and '-- "8" -->' in github
    assert "The network layer by layer" in github
    for flavor in ("kramdown", "dollar"):
        markdown = render.render_markdown(wide, flavor=flavor)
        assert "data:image/svg+xml;base64," in markdown and "```mermaid" not in markdown
    assert "dense 8, sigmoid" in render.render_svg(wide)
    latex = render.render_latex(wide)
    assert r"\begin{tikzpicture}" in latex and r"\text{dense 8, sigmoid}" in latex
    page = render.render_html(wide)
    assert 'data-kind="layers"' in page and 'data-node="dense 4, relu"' in page


def test_the_korean_sentence_takes_the_particle_of_the_loss(wide):
    korean = render.render_markdown(wide, lang="ko")
    # L is read 엘, ending in a consonant: 은, not 는
    assert re.search(r"맨 끝의 \$L\$은 손실입니다", korean)


def test_a_graph_over_matrices_still_has_no_picture():
    import sympy

    from symprop.engine.backprop import derive

    W, x = sympy.MatrixSymbol("W", 2, 2), sympy.MatrixSymbol("x", 2, 1)
    document = build_document(derive((x.T * W * x)[0, 0], parameters=[W]), None)
    assert [b for b in document.blocks if b.kind == "figure"] == []
