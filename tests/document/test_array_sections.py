"""Documents of layer stacks: summarised by layer and shared weight, in every format."""
from __future__ import annotations

import json
import re
import zlib

import pytest

from symprop.document.array_sections import StackOptionError, settings_text
from symprop.document.build import build_document
from symprop.document import picture_layout
from symprop.document.layer_diagram import layer_diagram
from symprop.files import spec
from symprop.outputs import pipeline


@pytest.fixture(scope="module")
def conv():
    return pipeline.solve(spec.load_builtin("conv"))


def test_the_document_goes_layer_by_layer_from_the_output_back(conv):
    document = build_document(conv.derivation, conv.example)
    keys = [s.key for s in document.sections]
    assert keys == ["network", "forward", "stack_layer", "stack_layer", "check", "after_update"]
    headings = [b.prose.values for s in document.sections for b in s.blocks if b.kind == "heading" and b.prose.values]
    assert [h["layer"] for h in headings] == ["3", "1"]  # flatten has no backward section of its own
    words = [b.prose.key for b in document.blocks if b.kind == "paragraph"]
    assert {"conv_dW", "conv_db", "conv_dX", "dense_dW", "stack_proven"} <= set(words)


def test_one_derivation_per_kind_of_entry_not_per_entry(conv):
    document = build_document(conv.derivation, conv.example)
    entries = [b.prose.values["entry"].tex for b in document.blocks if b.kind == "paragraph"
               and b.prose.key == "stack_one_entry"]
    assert entries == ["W^{(3)}_{0,0}", "b^{(3)}_{0}", "W^{(1)}_{0,0,0,0}", "b^{(1)}_{0}"]


def test_the_picture_is_one_box_per_layer_with_the_shapes_on_the_edges(conv):
    layout = layer_diagram(conv.problem.network)
    assert [n["label"] for n in layout["nodes"]] == ["x", "conv2d 2×2", "flatten", "dense 1", "L"]
    assert [e["label"] for e in layout["edges"]] == ["1×3×3", "1×2×2", "4", "1"]
    # laid out like every picture: it fits the page at the scale the layout chose
    assert 2 * layout["box"]["hw"] * layout["scale"] <= picture_layout.MAX_WIDTH + 1e-9


def test_settings_say_a_pair_of_equal_numbers_once():
    assert settings_text({"filters": 2, "kernel": [2, 3], "stride": [1, 1], "bias": True, "activation": "relu"}) == \
        "filters 2, kernel 2×3, stride 1, relu"


def test_every_format_renders_the_conv_example_and_the_pdf_fits_in_four_pages(conv):
    texts = pipeline.render_documents(conv, ["md", "tex", "json", "html", "pdf"], stem="conv")
    assert "Weight sharing: one kernel entry is used at every position" in texts[".md"]
    assert r"\begin{bmatrix}" in texts[".tex"] and "\\_{" not in texts[".tex"]
    assert json.loads(texts[".json"])["layers"][0]["type"] == "conv2d"
    assert 'data-kind="layers"' in texts[".html"]
    assert 1 <= page_count(texts[".pdf"]) <= 4


def page_count(pdf: bytes) -> int:
    """The PDF's page objects, counted in its text and in its compressed object streams."""
    chunks = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            pass
    return sum(len(re.findall(rb"/Type\s*/Page(?![s\w])", chunk)) for chunk in chunks)


def test_korean_documents_use_the_korean_sentences(conv):
    document = pipeline.render_documents(conv, ["md"], lang="ko")[".md"]
    assert "가중치 공유" in document and "Weight sharing" not in document


def test_without_values_the_document_is_the_symbolic_derivation_in_every_format():
    from symprop.engine.backprop import derive
    from symprop.outputs import render

    derivation = derive(spec.load_builtin("cnn").network)
    document = build_document(derivation)
    assert document.sections[0].blocks[0].prose.key == "symbolic_only"
    assert not any(s.key in ("check", "after_update") for s in document.sections)
    for write in (render.render_markdown, render.render_latex, render.render_html):
        assert "maxpool" in write(derivation)


def test_sections_switch_a_stack_documents_sections_off_and_on(conv):
    keys = [s.key for s in build_document(conv.derivation, conv.example, sections="-check,-after-update,-network").sections]
    assert keys == ["forward", "stack_layer", "stack_layer"]
    keys = [s.key for s in build_document(conv.derivation, conv.example, sections="-forward,+forward").sections]
    assert "forward" in keys


@pytest.mark.parametrize("settings, said", [
    (dict(only=("W9",)), "unknown parameter array 'W9' in only"),
    (dict(only=("W1[0, 0, 0, 0]",)), "expected any of W1, b1, W3, b3"),
    (dict(per_parameter=True), "per_parameter"),
    (dict(sections="-delta"), "section 'delta'"),
    (dict(sections="+node-rules"), "section 'node-rules'"),
])
def test_options_a_stack_document_cannot_honour_are_refused_not_ignored(conv, settings, said):
    with pytest.raises(StackOptionError, match=re.escape(said)):
        build_document(conv.derivation, conv.example, **settings)
    with pytest.raises(StackOptionError):  # before any format is rendered, the JSON too
        pipeline.render_documents(conv, ["json"], **settings)


def test_a_stack_documents_latex_is_set_on_the_paper_asked_for(conv):
    assert build_document(conv.derivation, conv.example, paper="a4").paper == "a4"
    assert build_document(conv.derivation, conv.example, paper="letter").paper == "letter"


@pytest.mark.parametrize("only, layers, entries", [
    (("W1",), ["1"], ["W^{(1)}_{0,0,0,0}"]),
    (("b3", "b1"), ["3", "1"], ["b^{(3)}_{0}", "b^{(1)}_{0}"]),
])
def test_only_shows_the_chosen_parameter_arrays_in_their_layers_sections(conv, only, layers, entries):
    document = build_document(conv.derivation, conv.example, only=only)
    headings = [b.prose.values for s in document.sections for b in s.blocks if b.kind == "heading" and b.prose.values]
    assert [h["layer"] for h in headings] == layers
    shown = [b.prose.values["entry"].tex for b in document.blocks if b.kind == "paragraph"
             and b.prose.key == "stack_one_entry"]
    assert shown == entries
    assert {"network", "forward", "check"} <= {s.key for s in document.sections}  # what the gradients need


def test_several_training_steps_are_traced_in_a_stack_document(conv):
    trained = pipeline.solve(spec.load_builtin("conv"), steps=3)
    [after] = [s for s in build_document(trained.derivation, trained.example).sections if s.key == "after_update"]
    [table] = [b for b in after.blocks if b.kind == "table"]
    assert [row[0] for row in table.rows] == ["0", "1", "2", "3"]  # the loss before and after each step
    [once] = [s for s in build_document(conv.derivation, conv.example).sections if s.key == "after_update"]
    assert not [b for b in once.blocks if b.kind == "table"]


def _network_file(shape, layers: str, loss: str = "half_sse", targets: str = "") -> str:
    """A stack file with random parameters (``[train] init``) and an input of ``shape`` whose entries
    are 0.1, -0.2, 0.3, ... (row by row)."""
    size = 1
    for n in shape:
        size *= n
    values = [round(0.1 * (k + 1) * (-1) ** k, 2) for k in range(size)]
    for n in reversed(shape[1:]):
        values = [values[k:k + n] for k in range(0, len(values), n)]
    return (f'[network]\ninputs = {{ name = "x", shape = {list(shape)} }}\nlayers = [{layers}]\nloss = "{loss}"\n'
            f"[values]\nx = {values}\n{targets}\n"
            '[train]\ninit = { method = "uniform", low = -0.5, high = 0.5, seed = 0 }\n')


DENSE = '{ type = "dense", units = 1, activation = "identity" }'
#: One network per layer type that names its arrays with a role (Wx, Wi, Wq, ...) or by a Greek letter.
LAYER_TYPE_FILES = {
    "lstm": _network_file((2, 2), f'{{ type = "lstm", units = 2 }}, {DENSE}', targets="t = [[0.2], [-0.1]]"),
    "gru": _network_file((2, 2), f'{{ type = "gru", units = 2 }}, {DENSE}', targets="t = [[0.2], [-0.1]]"),
    "attention": _network_file((3, 2), '{ type = "attention", dim = 2 }', loss="sum"),
    "batchnorm": _network_file((3, 2), f'{{ type = "batchnorm" }}, {DENSE}', targets="t = [[1.0], [0.0], [1.0]]"),
    "maxpool": _network_file((1, 3, 3), f'{{ type = "maxpool", size = 2, stride = 1 }}, {{ type = "flatten" }}, {DENSE}',
                             targets="t = [0.5]"),
}
#: A subscript set after a superscript of a group, or a second one after a subscript: ``{W_{x}}^{(1)}``.
STAGGERED = re.compile(r"\}\}[\^_]\{")


@pytest.mark.parametrize("name", [*spec.builtin_examples(), *LAYER_TYPE_FILES])
def test_no_document_staggers_a_superscript_after_a_subscript(name):
    from symprop.outputs import render

    if name in LAYER_TYPE_FILES:
        problem = spec.loads(LAYER_TYPE_FILES[name], source=f"{name}.toml")
    else:
        problem = spec.load_builtin(name)
    solved = pipeline.solve(problem)
    if name in LAYER_TYPE_FILES:
        assert solved.problem.network.layers[0].kind == name  # the file builds the layer type it stands for
    for text in (render.render_markdown(solved.derivation, solved.example),
                 render.render_latex(solved.derivation, solved.example)):
        assert STAGGERED.findall(text) == [], name
