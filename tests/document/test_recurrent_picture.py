"""The recurrent pictures: a cell rolled up with a loop edge for its state, or unrolled one cell per
step; laid out clear of each other's labels, fitting the page, drawn in every format, and the
option refused in one line where it does not apply."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document import picture_layout
from symprop.document.array_sections import StackOptionError
from symprop.document.build import build_document
from symprop.document.layer_diagram import layer_diagram
from symprop.document.placement import Box, segment_meets_box
from symprop.document.recurrent_picture import FIRST_STEPS, MAX_STEPS
from symprop.files import spec
from symprop.model.conv import Flatten
from symprop.model.nn import Dense
from symprop.model.recurrent import GRU, LSTM, RNN
from symprop.model.stack import stack
from symprop.outputs import render
from tests.pictures import box, drawn_boxes, overlapping, solution


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def rnn(steps: int = 2, layer=None, *after):
    return stack([steps, 2], [layer or RNN(units=2), *(after or (Dense(1, "identity"),))], "half_sse")


def fits_the_page(layout) -> bool:
    return (2 * layout["box"]["hw"] * layout["scale"] <= picture_layout.MAX_WIDTH + 1e-9
            and 2 * layout["box"]["hh"] * layout["scale"] <= picture_layout.MAX_HEIGHT + 1e-9)


def loops(layout) -> list[dict]:
    return [e for e in layout["edges"] if e["from"] == e["to"]]


def inside(inner: Box, outer: Box) -> bool:
    return outer.left <= inner.left and inner.right <= outer.right and outer.bottom <= inner.bottom and inner.top <= outer.top


def test_a_recurrent_layer_is_one_cell_with_a_loop_carrying_its_state():
    layout = layer_diagram(rnn())
    assert [n["name"] for n in layout["nodes"]] == ["x", "rnn 2, 2 steps", "dense 1", "L"]
    [loop] = loops(layout)
    assert loop["from"] == "rnn 2, 2 steps" and loop["curve"] is not None
    assert [line["tex"] for line in loop["lines"]] == [r"h_{t-1} \to h_{t}", "2"]
    cell = next(n for n in layout["nodes"] if n["name"] == loop["from"])
    assert loop["y1"] == loop["y2"] == round(cell["y"] + cell["hh"], 3)  # both ends on the cell's top
    assert min(loop["curve"]["y1"], loop["box"]["y"] - loop["box"]["hh"]) > cell["y"] + cell["hh"]  # above it
    # the arrays the cell takes and makes, and the dense layer's after it, are per step
    assert [e["lines"][0]["plain"] for e in layout["edges"] if e not in loops(layout)] == \
        ["2 at every step", "2 at every step", "1 at every step"]


def test_an_lstm_loop_carries_both_states_and_a_korean_picture_says_every_step_in_korean():
    layout = layer_diagram(rnn(2, LSTM(units=3)), "ko")
    [loop] = loops(layout)
    assert loop["lines"][0]["plain"] == "hₜ₋₁, cₜ₋₁ → hₜ, cₜ" and loop["lines"][1]["plain"] == "3"
    assert layout["edges"][0]["lines"][0]["plain"] == "매 단계 2"


def test_a_layer_without_steps_keeps_its_shapes():
    layout = layer_diagram(solution("conv").derivation.network)
    assert loops(layout) == [] and all("every step" not in e["label"] for e in layout["edges"])


@pytest.mark.parametrize("network", [rnn(), rnn(4, GRU(units=2)), rnn(3, LSTM(units=2), Dense(3), Dense(1))],
                         ids=["rnn", "gru", "lstm-dense-dense"])
def test_the_rolled_picture_has_no_overlap_and_fits_the_page(network):
    layout = layer_diagram(network)
    assert overlapping(drawn_boxes(layout)) == [] and layout["unlabelled"] == layout["crossing"] == layout["far"] == 0
    assert fits_the_page(layout)
    lines = [e for e in layout["edges"] if e not in loops(layout)]
    for loop in loops(layout):  # the picture's extent holds the loop and its label, and no edge crosses the loop
        assert inside(box(loop["box"]), box(layout["box"]))
        top = loop["y1"] + 0.75 * (loop["curve"]["y1"] - loop["y1"])  # a cubic's peak
        arc = Box((loop["curve"]["x1"] + loop["curve"]["x2"]) / 2, (loop["y1"] + top) / 2,
                  (loop["curve"]["x1"] - loop["curve"]["x2"]) / 2, (top - loop["y1"]) / 2)
        assert inside(arc, box(layout["box"])) and top < loop["box"]["y"] - loop["box"]["hh"]
        assert not any(segment_meets_box((e["x1"], e["y1"]), (e["x2"], e["y2"]), arc.grown(-0.01)) for e in lines)


def test_two_recurrent_layers_each_get_their_loop():
    layout = layer_diagram(rnn(2, RNN(units=2), GRU(units=3), Dense(1)))
    assert [(loop["from"], loop["lines"][1]["plain"]) for loop in loops(layout)] == [("rnn 2, 2 steps", "2"),
                                                                                    ("gru 3, 2 steps", "3")]
    assert overlapping(drawn_boxes(layout)) == []


def test_unrolled_is_one_cell_per_step_from_the_initial_state_each_fed_by_its_input():
    layout = layer_diagram(rnn(3), unrolled=True)
    names = [n["name"] for n in layout["nodes"]]
    assert names == ["h₋₁ = 0", "x₀", "x₁", "x₂", "rnn 2, t = 0", "rnn 2, t = 1", "rnn 2, t = 2",
                     "dense 1, t = 0", "dense 1, t = 1", "dense 1, t = 2", "L"]
    pairs = {(e["from"], e["to"]) for e in layout["edges"]}
    assert {("h₋₁ = 0", "rnn 2, t = 0"), ("rnn 2, t = 0", "rnn 2, t = 1"), ("rnn 2, t = 1", "rnn 2, t = 2")} <= pairs
    assert {(f"x{s}", f"rnn 2, t = {t}") for t, s in enumerate("₀₁₂")} <= pairs
    assert {(f"rnn 2, t = {t}", f"dense 1, t = {t}") for t in range(3)} | {(f"dense 1, t = {t}", "L") for t in range(3)} <= pairs
    # each shared weight is named once, on the first edge it acts on
    named = [line["plain"] for e in layout["edges"] for line in e["lines"] if line["plain"][0] == "W"]
    assert sorted(named) == ["W2", "Wh1", "Wx1"]
    texts = {line["plain"]: line["tex"] for e in layout["edges"] for line in e["lines"]}
    assert texts["Wx1"] == r"W_{x}^{(1)}" and texts["Wh1"] == r"W_{h}^{(1)}"
    assert loops(layout) == []


@pytest.mark.parametrize("steps, layer", [(2, RNN(units=2)), (6, LSTM(units=2)), (7, RNN(units=3)), (40, GRU(units=2))])
def test_the_unrolled_picture_has_no_overlap_and_fits_the_page_however_long_the_run(steps, layer):
    layout = layer_diagram(rnn(steps, layer), unrolled=True)
    assert overlapping(drawn_boxes(layout)) == [] and layout["unlabelled"] == layout["crossing"] == layout["far"] == 0
    assert fits_the_page(layout) and layout["scale"] >= picture_layout.MIN_SCALE
    cells = [n["name"] for n in layout["nodes"] if n["name"].startswith(f"{layer.kind} ")]
    if steps <= MAX_STEPS:
        assert cells == [f"{layer.kind} {layer.units}, t = {t}" for t in range(steps)]
    else:  # the first steps, one row standing for those between, the last: one column, never wrapped
        assert cells[FIRST_STEPS:] == [f"{layer.kind} {layer.units}, t = {FIRST_STEPS} … {steps - 2}",
                                       f"{layer.kind} {layer.units}, t = {steps - 1}"]
        assert f"x{FIRST_STEPS} … x{steps - 2}".translate(SUBSCRIPTS) in [n["name"] for n in layout["nodes"]]
    assert len({n["x"] for n in layout["nodes"] if n["name"] in cells}) == 1


def test_a_given_initial_state_and_two_recurrent_layers_are_told_apart():
    layout = layer_diagram(rnn(2, RNN(units=2, h0="given"), LSTM(units=2), Dense(1)), unrolled=True)
    names = [n["name"] for n in layout["nodes"]]
    assert "h₋₁ (1)" in names and "h₋₁, c₋₁ = 0 (2)" in names
    assert overlapping(drawn_boxes(layout)) == []


@pytest.fixture(scope="module")
def rnn_example():
    return solution("rnn")


def test_every_format_draws_the_loop(rnn_example):
    derivation, example = rnn_example.derivation, rnn_example.example
    github = render.render_markdown(derivation, example)
    assert '-- "hₜ₋₁ → hₜ<br/>2" -->' in github and "A recurrent layer is drawn rolled up" in github
    assert '<path d="M' in render.render_svg(derivation, example)
    assert ".. controls" in render.render_latex(derivation, example)
    assert '<path class="wire" d="M' in render.render_html(derivation, example)


def test_every_format_draws_the_steps_unrolled(rnn_example):
    derivation, example = rnn_example.derivation, rnn_example.example
    github = render.render_markdown(derivation, example, unrolled=True)
    assert '["rnn 2, t = 1"]' in github and "#quot;" not in github and "The network unrolled" in github
    assert "x₁" in render.render_svg(derivation, example, unrolled=True)
    latex = render.render_latex(derivation, example, unrolled=True)
    assert r"\text{rnn 2}, t = 1" in latex and ".. controls" not in latex
    assert 'data-node="dense 1, t = 0"' in render.render_html(derivation, example, unrolled=True)


def test_unrolled_is_refused_in_one_line_where_there_are_no_steps_to_unroll():
    with pytest.raises(StackOptionError, match=r"^unrolled: the network has no recurrent layer .*expected unrolled off$"):
        build_document(symprop.derive(solution("conv").derivation.network), None, unrolled=True)
    with pytest.raises(StackOptionError, match="no recurrent layer"):
        build_document(solution("mazur").derivation, None, unrolled=True)  # a dense network
    flattened = symprop.derive(stack([2, 2], [RNN(units=2), Flatten(), Dense(1)], "half_sse"))
    with pytest.raises(StackOptionError, match=r"layer 2 \(flatten\) does not work one step at a time"):
        build_document(flattened, None, unrolled=True)


def test_the_command_line_flag(tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["derive", str(spec.builtin_path("rnn")), "--unrolled", "-f", "md", "-o", "-", "-q"])
    assert done.exit_code == 0 and "rnn 2, t = 1" in done.output
    refused = runner.invoke(main, ["derive", "--unrolled", "-f", "json", "-o", str(tmp_path)])  # Mazur's network
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1
    assert "unrolled: the network has no recurrent layer" in refused.output
    assert "--unrolled" in runner.invoke(main, ["derive", "--help"]).output


@pytest.mark.parametrize("steps", [3, 9])
def test_every_node_and_parameter_has_its_box_for_the_page_to_step_through(steps):
    network = rnn(steps, LSTM(units=2, h0="given"))
    layout = layer_diagram(network, unrolled=True)
    owner = {name: n["name"] for n in layout["nodes"] for name in n["names"]}
    symbols = [*network.graph.nodes, *network.graph.parameters, *network.graph.inputs]
    assert [s.name for s in symbols if s.name not in owner and not s.name.startswith("t[")] == []
    assert owner["c1[1, 0]"] == "lstm 2, t = 1" and owner["Wh1[0, 0]"] == "lstm 2, t = 0" and owner["x[2, 1]"] == "x₂"
    assert owner["cx1[0]"] == "h₋₁, c₋₁"
