"""The HTML page, read as text: one self-contained file that names no host, every
section of the document, the numbers of the Markdown, the paths of each parameter
from the derivation, and a small page for a summarised network, its picture drawn by layer.
(tests/outputs/test_html_browser.py opens the pages in Chromium.)"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

import symprop
from symprop.document.i18n import ENGLISH, KOREAN
from symprop.outputs.html import html_escape
from symprop.files import spec
from symprop.numbers.worked_example import worked_example
from symprop.outputs import html, pipeline, render

EXAMPLES = tuple(spec.builtin_examples())


@pytest.fixture(scope="module")
def solutions():
    return {name: pipeline.solve(spec.load_builtin(name)) for name in EXAMPLES}


@pytest.fixture(scope="module")
def pages(solutions):
    return {(name, lang): render.render_html(s.derivation, s.example, lang=lang, title=s.problem.title or None)
            for name, s in solutions.items() for lang in ("en", "ko")}


def page_json(page: str) -> dict:
    blob = re.search(r'<script type="application/json" id="symprop-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(blob)


class Attributes(HTMLParser):
    """Every tag's attributes, and the text outside <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.links, self.tags, self.ids = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "poster", "srcset"):
                self.links.append(value)
            if name == "id":
                self.ids.append(value)


def parsed(page: str) -> Attributes:
    parser = Attributes()
    parser.feed(page)
    return parser


def without_licence(page: str) -> str:
    return re.sub(r"<!-- KaTeX 0\.16\.\d+ .*?-->", "", page, count=1, flags=re.S)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("lang", ("en", "ko"))
def test_the_page_makes_no_request(pages, name, lang):
    page = pages[name, lang]
    for link in parsed(page).links:
        assert link.startswith(("data:", "#")) or not re.match(r"\w+:|//", link), link
    rest = without_licence(page)
    assert "http://" not in rest and "https://" not in rest
    assert "//cdn" not in rest and "@import" not in rest
    assert re.search(r"url\((?!data:|#)", rest) is None  # every font is inlined
    assert page.count("<!-- KaTeX 0.16") == 1


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_section_and_formula_is_on_the_page(pages, solutions, name):
    page = pages[name, "en"]
    document = render.document_of(solutions[name].derivation, solutions[name].example,
                                  render.document_options(title=solutions[name].problem.title or None))
    tags = parsed(page).tags
    sections = [a["data-section"] for t, a in tags if t == "section"]
    assert sections == [s.key for s in document.sections]
    spans = page.count('<span class="tex">') + page.count('<span class="tex display">')
    assert spans == html.formula_count(document, ENGLISH) == page_json(page)["formulas"]
    equations = sum(b.kind == "equation" for b in document.blocks)
    assert page.count('<div class="equation">') == equations
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert pages[name, "ko"].startswith("<!DOCTYPE html>\n<html lang=\"ko\">")


def test_each_parameter_derivation_has_a_container_named_after_it(pages, solutions):
    page = pages["mazur", "en"]
    containers = re.findall(r'<div class="derivation" data-param="(\w+)">', page)
    assert containers == ["w5", "w6", "w7", "w8", "w1", "w2", "w3", "w4", "b2", "b1"]
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert set(re.findall(r'data-param="(\w+)"', svg)) == {p.name for p in solutions["mazur"].derivation.graph.parameters}
    assert set(re.findall(r'data-node="(\w+)"', svg)) == {"i1", "i2", "out_h1", "out_h2", "out_o1", "out_o2", "b1", "b2",
                                                           "E_total"}


def test_paths_to_a_parameter_are_the_derivations_paths(pages, solutions):
    """Every picture edge on a path from the loss to w1, read off the derivation's own
    paths (net_h1 and out_h1 are drawn as one unit), and nothing else."""
    derivation = solutions["mazur"].derivation
    data = page_json(pages["mazur", "en"])
    svg = pages["mazur", "en"]
    edge_ends = dict((i, (a, b)) for i, a, b in re.findall(r'data-edge="(e\d+)" data-from="(\w+)" data-to="(\w+)"', svg))
    unit = {f"net_{u}": f"out_{u}" for u in ("h1", "h2", "o1", "o2")}
    for name in ("w1", "w5", "b1"):
        gradient = derivation[name]
        expected = set()
        for path in gradient.paths:
            drawn = []
            for s in reversed(path.nodes):  # the parameter first, the loss last
                n = unit.get(s.name, s.name)
                if not drawn or drawn[-1] != n:
                    drawn.append(n)
            if drawn[0].startswith("w"):  # a weight is an edge from its input
                source = {"w1": "i1", "w5": "out_h1"}[name]
                drawn[0] = source
            expected |= set(zip(drawn, drawn[1:]))
        got = {edge_ends[e] for e in data["paths"][name]["edges"]}
        assert got == expected, name
        assert data["paths"][name]["count"] == gradient.path_count
    assert len(data["paths"]["w1"]["edges"]) == 5 and data["paths"]["w1"]["count"] == 2


def test_the_numbers_are_the_markdowns(pages, solutions):
    s = solutions["mazur"]
    markdown = render.render_markdown(s.derivation, s.example)
    data = page_json(pages["mazur", "en"])
    before, after = re.search(r"The loss falls from \$([\d.]+)\$ to \$([\d.]+)\$", markdown).groups()
    assert data["loss_after"] == after == data["steps"][-1]["value"]
    assert data["nodes"]["E_total"]["value"] == before
    for node in ("out_h1", "out_o2"):
        row = re.search(rf"\| \$\\mathrm{{out}}_{{{node[4:]}}}\$ \| \$([\d.]+)\$ \|", markdown).group(1)
        assert data["nodes"][node]["value"] == row
    gradients = {st["name"]: st["value"] for st in data["steps"] if st["key"] == "page_gradient"}
    for name in ("w1", "w5", "b2"):
        assert f"| ${name[0]}_{{{name[1:]}}}$ | ${gradients[name]}$ |" in markdown


def test_mazurs_page_is_small(pages):
    assert len(pages["mazur", "en"].encode()) < 1_500_000


def test_a_summarised_network_has_a_small_page_with_a_picture_by_layer():
    network = symprop.mlp([f"x{i}" for i in range(1, 41)], [symprop.Dense(8), symprop.Dense(4)], "half_sse")
    derivation = symprop.derive(network)
    page = render.render_html(derivation)
    figure = re.search(r'<figure class="picture" data-kind="layers">(.*?)</figure>', page, re.S).group(1)
    nodes = re.findall(r'<g class="node (\w+)" data-node="([^"]+)"( data-param)?', figure)
    assert nodes == [("bias", "40 inputs", ""), ("bias", "dense 8, sigmoid", ""), ("bias", "dense 4, sigmoid", ""),
                     ("loss", "L", "")]
    assert re.findall(r'<text class="label"[^>]*>([^<]*)</text>', figure) == ["40", "8", "4"]  # the widths
    assert "data-param" not in figure and 'class="stepper"' not in page
    assert html_escape(ENGLISH["page_hint_layers"]) in figure and ENGLISH["page_hint"] not in figure
    assert len(page.encode()) < 1_200_000
    assert page_json(page)["paths"] == {} and page_json(page)["steps"] == []
    # summarised per layer: one worked parameter of each kind of each layer stands for the rest
    assert re.findall(r'<div class="derivation" data-param="(\w+)"', page) == ["w2_1_1", "w1_1_1", "b2_1", "b1_1"]


def test_a_summarised_network_with_an_example_has_no_stepper_of_thousands_of_steps():
    network = symprop.mlp([f"x{i}" for i in range(1, 41)], [symprop.Dense(8), symprop.Dense(4)], "half_sse")
    derivation = symprop.derive(network)
    given = (*network.inputs, *network.targets, *network.parameters)
    example = worked_example(derivation, {s: (k % 7 - 3) / 10 for k, s in enumerate(given)})
    assert not html.stepped(derivation, example)
    page = render.render_html(derivation, example)
    assert 'data-kind="layers"' in page and 'class="stepper"' not in page
    assert page_json(page)["steps"] == [] and len(page.encode()) < 1_200_000


def test_prose_and_code_are_escaped():
    network = symprop.mlp(["x1"], [symprop.Dense(1)], "half_sse")
    page = render.render_html(symprop.derive(network), title="<script>alert(1)</script> & co")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def test_the_page_sentences_exist_in_both_languages_with_the_same_placeholders():
    keys = [k for k in ENGLISH if k.startswith("page_")]
    assert keys and all(k in KOREAN for k in keys)
    for k in keys:
        assert sorted(re.findall(r"\{(\w+)", ENGLISH[k])) == sorted(re.findall(r"\{(\w+)", KOREAN[k])), k


def test_the_command_writes_the_page(tmp_path):
    from click.testing import CliRunner

    from symprop.cli import main

    result = CliRunner().invoke(main, ["derive", "--format", "html", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["mazur.html"]
    assert symprop.render_html is render.render_html


def test_the_factors_marked_for_w1_are_the_factors_of_its_paths(pages, solutions):
    """Each marked factor of w1 is d a / d b for one step a -> b of one of its paths, or
    d loss / d b for a node b on one; every step of both paths is marked, and printed in
    w1's derivation just so, where the page finds it."""
    from symprop.printing.latex import latex, partial

    derivation = solutions["mazur"].derivation
    graph, paths = derivation.graph, derivation["w1"].paths
    factors = page_json(pages["mazur", "en"])["paths"]["w1"]["factors"]
    steps = {latex(partial(a, b), graph) for p in paths for a, b in zip(p.nodes, p.nodes[1:])}
    runs = {latex(partial(graph.output, b), graph) for p in paths for b in p.nodes[1:-1]}
    assert set(factors) == steps | runs and len(steps) == 8  # 5 steps per path, 2 shared
    assert latex(partial(graph.output, derivation.symbol("w1")), graph) not in factors
    page = pages["mazur", "en"]
    start = page.index('<div class="derivation" data-param="w1">')
    own = page[start:page.index('<div class="derivation"', start + 1)]
    assert all(html.html_escape(f) in own for f in steps)


def test_the_picture_stands_once_in_the_panel_and_the_policy_refuses_requests(pages):
    page = pages["mazur", "en"]
    panel = page[page.index('<aside class="panel"'):page.index("</aside>")]
    assert page.count('<figure class="picture') == 1 and '<figure class="picture' in panel
    assert page.index("</aside>") < page.index("<main>")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1)
    assert "default-src 'none'" in policy and "http" not in policy
    assert '<aside class="panel"' not in pages["mazur", "en"].replace(panel, "")
