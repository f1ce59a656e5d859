"""The picture as SVG: well-formed, the layout's geometry, no text over another, and the
SVG file beside the kramdown and dollar Markdown (which carry no Mermaid)."""
from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from symprop.document.placement import Box, char_width
from symprop.outputs import svg
from tests.pictures import EXAMPLES, LANGUAGES, layout, solution

NS = {"s": "http://www.w3.org/2000/svg"}


def text_boxes(document: str) -> list[tuple[str, Box]]:
    """The box of every text the SVG sets, measured as the layout measures text (its
    width in ems of the layout's font, which the SVG's smaller font stays inside)."""
    root = ET.fromstring(document.split("?>", 1)[1])
    boxes = []
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        size = float(text.get("font-size")) / svg.FONT_FACTOR
        width = sum(map(char_width, text.text)) * size
        x, y = float(text.get("x")), float(text.get("y"))
        left = x - width / 2 if text.get("text-anchor") == "middle" else x
        boxes.append((text.text, Box(left + width / 2, y, width / 2, size * 1.1875 / 2)))
    return boxes


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", EXAMPLES)
def test_no_text_of_the_svg_overlaps_another(name, lang):
    drawn = svg.svg_document(layout(name, lang), name)
    boxes = text_boxes(drawn)
    assert len(boxes) >= len(layout(name, lang)["nodes"])
    # touching lines of one node's texts are not overlapping: a 0.1 px tolerance for the rounding
    assert [(a, b) for (a, p), (b, q) in itertools.combinations(boxes, 2) if p.meets(q, -0.1)] == []


def test_the_svg_keeps_the_pages_parameter_and_node_attributes():
    drawn = svg.svg_document(layout("mazur"), "Mazur")
    root = ET.fromstring(drawn.split("?>", 1)[1])
    params = {g.get("data-param") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-param")}
    assert params == {f"w{k}" for k in range(1, 9)} | {"b1", "b2"}
    nodes = [g.get("data-node") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-node")]
    assert sorted(nodes) == sorted(n["name"] for n in layout("mazur")["nodes"])
    assert "0.0004386" in drawn and "weight or value" in drawn
    # a graph's parameters are nodes of the picture too
    graph = ET.fromstring(svg.svg_document(layout("graph"), "graph").split("?>", 1)[1])
    nodes = {g.get("data-node"): g.get("data-param") for g in graph.iter("{http://www.w3.org/2000/svg}g") if g.get("data-node")}
    assert nodes == {"x": "x", "y": "y", "z": "z", "q": None, "f": None}


def test_svg_pixels_are_the_layouts_centimetres():
    drawn = layout("graph")
    p = svg.pixels(drawn)
    left = drawn["box"]["x"] - drawn["box"]["hw"]
    q = next(n for n in p["nodes"] if n["name"] == "q")
    layout_q = next(n for n in drawn["nodes"] if n["name"] == "q")
    assert q["x"] == round(svg.MARGIN + (layout_q["x"] - left) * svg.PX_PER_CM, 1)
    assert q["w"] == round(layout_q["hw"] * svg.PX_PER_CM, 1)


@pytest.mark.parametrize("flavor", ["kramdown", "dollar"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_kramdown_and_dollar_markdown_show_an_svg_file_that_exists(tmp_path, name, flavor):
    from symprop.outputs.pipeline import write_documents

    for lang in LANGUAGES:
        written = write_documents(solution(name), ["md"], tmp_path, stem=name, flavor=flavor, lang=lang)
        [markdown] = [p for p in written if p.suffix == ".md"]
        text = markdown.read_text(encoding="utf-8")
        assert "```mermaid" not in text
        [reference] = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        assert (tmp_path / reference).is_file() and tmp_path / reference in written
        assert reference == markdown.stem + ".svg"
        ET.fromstring((tmp_path / reference).read_text(encoding="utf-8").split("?>", 1)[1])


def test_github_markdown_keeps_mermaid_with_rounded_labels():
    from symprop.outputs.render import render_markdown

    s = solution("mazur")
    text = render_markdown(s.derivation, s.example)
    assert "```mermaid" in text and ".svg" not in text
    assert '  n_i1 -- "w1 = 0.15<br/>0.0004386" --> n_out_h1' in text


def test_markdown_without_a_file_carries_the_svg_inside():
    import base64

    from symprop.outputs.render import render_markdown

    s = solution("graph")
    text = render_markdown(s.derivation, s.example, flavor="kramdown")
    [url] = re.findall(r"!\[[^\]]*\]\((data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)\)", text)
    assert base64.b64decode(url.split(",", 1)[1]).decode("utf-8").startswith("<?xml")
