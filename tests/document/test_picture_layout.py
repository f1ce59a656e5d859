"""Where a picture's nodes go: columns, stacks, and a row too wide for the page wrapped into rows."""
from __future__ import annotations

import collections

import pytest

from symprop.document import picture_layout
from symprop.document.build import build_document
from symprop.document.picture_layout import Edge, Node, Text, best_attempt, positions
from tests.pictures import drawn_boxes, overlapping, solved_file
from tests.spec_pictures import DEEP


def row(count: int):
    """``count`` boxes in a row, each edge labelled, as a picture by layer draws them."""
    nodes = [Node(f"layer {k}", f"n{k}", rf"\text{{layer {k}}}", k, "bias") for k in range(count)]
    edges = [Edge(a.name, b.name, [Text("16", "16")]) for a, b in zip(nodes, nodes[1:])]
    return nodes, edges


def test_a_row_wrapped_into_bands_reads_as_a_snake():
    nodes, _ = row(9)
    at = positions(nodes, 2.2, 0.45, bands=3)
    xs, ys = [at[n.name][0] for n in nodes], [at[n.name][1] for n in nodes]
    assert ys[0] == ys[2] > ys[3] == ys[5] > ys[6] == ys[8]  # three rows, top to bottom
    assert xs[0] < xs[1] < xs[2] and xs[3] > xs[4] > xs[5] and xs[6] < xs[7] < xs[8]  # every other row leftwards
    assert xs[2] == xs[3] and xs[5] == xs[6]  # a row starts under the end of the row above
    assert positions(nodes, 2.2, 0.45) == positions(nodes, 2.2, 0.45, bands=1)
    assert len({y for _, y in positions(nodes, 2.2, 0.45).values()}) == 1
    seven = positions(nodes[:7], 2.2, 0.45, bands=3)
    assert sorted(collections.Counter(y for _, y in seven.values()).values()) == [2, 2, 3]  # no box alone in a row


def test_a_row_too_wide_for_the_page_wraps_instead_of_shrinking():
    nodes, edges = row(10)
    one_row = picture_layout.spaced(nodes, edges)
    assert one_row["scale"] < picture_layout.MIN_SCALE  # one row would be shrunk past legibility
    placed = best_attempt(nodes, edges)
    assert not placed["summary"] and placed["scale"] >= picture_layout.MIN_SCALE and placed["dropped"] == 0
    assert len({y for _, y in placed["at"].values()}) > 1
    assert len(set(placed["at"].values())) == len(nodes)


def test_columns_of_several_nodes_are_not_wrapped():
    """Wrapping a column of units would send its edges through the row below: such a picture
    is drawn in one row (and a network's, when that is too small, by layer)."""
    nodes = [Node(f"u{k}{j}", f"u{k}{j}", f"u_{{{k}{j}}}", k) for k in range(12) for j in range(2)]
    edges = [Edge(f"u{k}{a}", f"u{k + 1}{b}", []) for k in range(11) for a in range(2) for b in range(2)]
    placed = best_attempt(nodes, edges)
    assert len({x for x, _ in placed["at"].values()}) == 12


@pytest.fixture(scope="module", params=sorted(DEEP))
def deep(request):
    return solved_file(DEEP[request.param])


def test_a_deep_dense_network_gets_a_legible_picture_by_layer(deep):
    """Deeper than three hidden layers, its units are too many to draw one by one: its layers are
    drawn, in rows, at a size the page can read; never no picture."""
    figures = [b.layout for b in build_document(deep.derivation, deep.example).blocks if b.kind == "figure"]
    assert [f["kind"] for f in figures] == ["layers"]
    drawn = figures[0]
    assert not drawn["summary"] and drawn["scale"] >= picture_layout.MIN_SCALE and drawn["unlabelled"] == 0
    assert 2 * drawn["box"]["hw"] * drawn["scale"] <= picture_layout.MAX_WIDTH + 1e-9
    assert 2 * drawn["box"]["hh"] * drawn["scale"] <= picture_layout.MAX_HEIGHT + 1e-9
    assert overlapping(drawn_boxes(drawn)) == []
    places = [(n["x"], n["y"]) for n in drawn["nodes"]]
    assert len(set(places)) == len(places) == len(deep.derivation.network.layers) + 2
