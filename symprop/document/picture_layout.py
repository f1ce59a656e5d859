"""Where everything of a picture goes: nodes in columns, edges cut at the nodes'
borders, labels where they cover nothing (:mod:`symprop.document.placement`), a legend
under it all, and the scale that fits the whole to the page.

The input is a sketch: :class:`Node` and :class:`Edge` records that say what is drawn
(each node's column, shape and the texts under it; each edge's lines of text) but not
where. The output is the picture's layout, the mapping every format draws
(:func:`symprop.document.diagram.diagram` documents its keys).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from symprop.document.placement import (
    CM_PER_PT, LABEL_LEAD_PT, LINE_CM, NAME_PT, Box, Segment, border_point, place_labels, tex_width, text_width, union,
)

#: The widest and tallest a picture may be on the page (an A4 or Letter page with 2 cm
#: margins holds 17 cm of text; the height leaves room for the title above the picture
#: on the first page), in centimetres.
MAX_WIDTH = 16.0
MAX_HEIGHT = 14.0
#: Gaps between columns and between the nodes of a column (below a node's texts) tried,
#: smallest picture first, until every label has a place clear of the other edges.
COLUMN_GAPS = (2.2, 2.9, 3.7, 4.6, 5.7)
ROW_GAPS = (0.45, 1.1, 1.9)
#: The most nodes stacked in one column, and the space between the stacks of a wrapped column.
MAX_ROWS = 7
STACK_GAP = 0.5
#: The space between two rows of a picture wrapped into rows (:func:`positions`), room for
#: the label of the edge from one row to the next beside it.
BAND_GAP = 0.9
#: A picture that would shrink below this to fit the page is drawn as a summary: its nodes
#: and values, no edge labels (the edges' numbers are all in the document's text).
MIN_SCALE = 0.62
#: Space around texts.
PAD = 0.04
#: The sample line of a legend entry and the space after an entry.
SWATCH = 0.5
LEGEND_GAP = 0.45


@dataclass
class Text:
    """A line of text: LaTeX for TikZ, plain text for SVG and Mermaid, and its colour
    (``value``, ``gradient`` or ``forward``)."""

    tex: str
    plain: str
    colour: str = "value"

    @property
    def width(self) -> float:
        return max(tex_width(self.tex), text_width(self.plain))


@dataclass
class Node:
    name: str
    id: str
    tex: str
    column: int
    shape: str = "circle"
    texts: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class Edge:
    source: str
    target: str
    lines: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def node_size(node: Node) -> tuple[float, float]:
    """Half width and half height of a node's shape: a circle around its name, or a box."""
    name = max(tex_width(node.tex, NAME_PT), text_width(node.name, NAME_PT))
    if node.shape == "circle":
        r = max(0.5, name / 2 + 0.14)
        return r, r
    if node.shape == "loss":
        return name / 2 + 0.22, 0.32
    return name / 2 + 0.14, 0.25


def _slot_height(node: Node, row_gap: float) -> float:
    """A node's share of its column; a bias keeps the narrowest gap, so that its edge stays short."""
    gap = min(row_gap, ROW_GAPS[0]) if node.shape == "bias" else row_gap
    return 2 * node_size(node)[1] + len(node.texts) * LINE_CM + 2 * PAD + gap


def _column_width(members) -> float:
    return max(max([2 * node_size(n)[0], *(t.width for t in n.texts)]) for n in members)


def positions(nodes, gap: float, row_gap: float, bands: int = 1) -> dict:
    """Each node's centre: its column's ``x`` (columns ``gap`` apart, past the widest of
    each), its ``y`` in its column's stack (``row_gap`` between nodes), every column
    centred on ``y = 0``. A column of more than :data:`MAX_ROWS` nodes is wrapped into
    side-by-side stacks, every other one shifted down by half a node, so that edges from
    the stack behind pass between the nodes in front. With ``bands`` above 1 the columns
    are wrapped like lines of text into that many rows, :data:`BAND_GAP` apart, read as a
    snake (every other row right to left, its first column under the last column of the
    row above), so the edge from one row to the next is short."""
    columns: dict[int, list] = {}
    for n in nodes:
        columns.setdefault(n.column, []).append(n)
    order = sorted(columns)
    bands = max(1, min(bands, len(order)))
    # as even as can be (7 columns in 3 rows: 2, 2, 3), so no row holds a lone box
    cuts = [len(order) * k // bands for k in range(bands + 1)]
    at, join, below = {}, 0.0, None
    for k, (start, end) in enumerate(zip(cuts, cuts[1:])):
        band = _band([columns[c] for c in order[start:end]], gap, row_gap)
        if k % 2:  # right to left
            band = {name: (-x, y) for name, (x, y) in band.items()}
        members = [n for c in order[start:end] for n in columns[c]]
        first = band[members[0].name][0]
        top = max(band[n.name][1] + node_size(n)[1] for n in members)
        drop = 0.0 if below is None else below - BAND_GAP - top  # this row's top BAND_GAP under the last
        at.update({name: (x - first + join, y + drop) for name, (x, y) in band.items()})
        join = at[members[-1].name][0]
        below = min(at[n.name][1] - node_size(n)[1] - len(n.texts) * LINE_CM - PAD for n in members)
    return at


def _band(columns, gap: float, row_gap: float) -> dict:
    """Centres of one row of ``columns`` (lists of nodes), left to right from ``x = 0``."""
    at, right = {}, None
    for members in columns:
        stacks = [members[k:k + MAX_ROWS] for k in range(0, len(members), MAX_ROWS)]
        width = _column_width(members)
        x = 0.0 if right is None else right + gap + width / 2
        for k, stack in enumerate(stacks):
            shift = -_slot_height(stack[0], row_gap) / 2 if k % 2 else 0.0
            at.update(_stack(stack, x + k * (width + STACK_GAP), shift, row_gap))
        right = x + (len(stacks) - 1) * (width + STACK_GAP) + width / 2
    return at


def _stack(members, x: float, shift: float, row_gap: float) -> dict:
    """Centres of ``members`` stacked downward at ``x``, centred on ``y = shift``."""
    at = {}
    y = shift + sum(_slot_height(n, row_gap) for n in members) / 2
    for n in members:
        above = (_slot_height(n, row_gap) - _slot_height(n, 0)) / 2
        y -= node_size(n)[1] + above
        at[n.name] = (x, y)
        y -= _slot_height(n, row_gap) - node_size(n)[1] - above
    return at


def text_boxes(node: Node, centre) -> list[Box]:
    """The boxes of the texts under a node, one line each."""
    x, y = centre
    top = y - node_size(node)[1] - PAD
    return [Box(x, top - (k + 0.5) * LINE_CM, t.width / 2, LINE_CM / 2) for k, t in enumerate(node.texts)]


def label_size(edge: Edge) -> tuple[float, float]:
    lines = len(edge.lines)
    height = lines * LINE_CM + (lines - 1) * LABEL_LEAD_PT * CM_PER_PT
    return max(t.width for t in edge.lines) / 2 + PAD, height / 2 + PAD


def attempt(nodes, edges, gap: float, row_gap: float, bands: int = 1) -> dict:
    """The picture with columns ``gap`` and nodes ``row_gap`` apart (in ``bands`` rows): centres,
    segments, obstacles, label boxes, and the labels that cover an edge not their own."""
    at = positions(nodes, gap, row_gap, bands)
    by_name = {n.name: n for n in nodes}
    segments = []
    for e in edges:
        a, b = by_name[e.source], by_name[e.target]
        p = border_point(at[a.name], at[b.name], a.shape, *node_size(a))
        q = border_point(at[b.name], at[a.name], b.shape, *node_size(b))
        segments.append(Segment(p, q))
    obstacles = [Box(*at[n.name], *node_size(n)) for n in nodes]
    obstacles += [b for n in nodes for b in text_boxes(n, at[n.name])]
    labelled = [k for k, e in enumerate(edges) if e.lines]
    # the shortest edges first: they have the fewest places to choose from
    labelled.sort(key=lambda k: _length(segments[k]))
    boxes, crossing, far = place_labels([(k, *label_size(edges[k])) for k in labelled], segments, obstacles)
    extent = union(obstacles + [b for b in boxes if b is not None])
    return {"at": at, "segments": segments, "obstacles": obstacles, "labels": dict(zip(labelled, boxes)),
            "dropped": sum(b is None for b in boxes), "crossing": len(crossing), "far": len(far),
            "scale": fit_scale(extent)}


def _length(s: Segment) -> float:
    return ((s.q[0] - s.p[0]) ** 2 + (s.q[1] - s.p[1]) ** 2) ** 0.5


def best_attempt(nodes, edges) -> dict:
    """The picture's places (:func:`spaced`); a row of one node per column too wide for the
    page wrapped into rows (:func:`wrapped`); or its summary: with no edge labels, when the
    labels would make it too large for the page."""
    tried = spaced(nodes, edges)
    if tried["scale"] < MIN_SCALE and len({n.column for n in nodes}) == len(nodes):
        tried = wrapped(nodes, edges, tried)
    if tried["scale"] >= MIN_SCALE or not any(e.lines for e in edges):
        return {**tried, "summary": False}
    bare = [Edge(e.source, e.target, [], e.extra) for e in edges]
    return {**attempt(nodes, bare, COLUMN_GAPS[0], ROW_GAPS[0]), "summary": True}


def wrapped(nodes, edges, one_row: dict) -> dict:
    """The row in the fewest rows that need not shrink it (or shrink it least), every label placed."""
    best = one_row
    # a row of n bands is at least 1/n of the one row's width: fewer than 1/scale bands still shrink
    fewest = max(2, min(len(nodes), int(1 / one_row["scale"]))) if one_row["scale"] > 0 else 2
    for bands in range(fewest, len(nodes) + 1):
        tried = spaced(nodes, edges, bands)
        if (-tried["dropped"], tried["scale"]) > (-best["dropped"], best["scale"]):
            best = tried
        if best["scale"] >= 1 and best["dropped"] == 0:
            break
    return best


def spaced(nodes, edges, bands: int = 1) -> dict:
    """The smallest spacing (:data:`COLUMN_GAPS` by :data:`ROW_GAPS`) at which every label
    has a place on or beside its edge clear of the other edges; else the one that leaves
    out the fewest labels, then weighs labels moved off their edges (four times), labels
    over an edge and how much the picture must shrink."""
    spacings = sorted(((g, r) for g in COLUMN_GAPS for r in ROW_GAPS), key=lambda s: s[0] + 1.5 * s[1])
    best = None
    for gap, row_gap in spacings:
        tried = attempt(nodes, edges, gap, row_gap, bands)
        score = (tried["dropped"], 4 * tried["far"] + tried["crossing"] + 8 * (1 - tried["scale"]))
        if best is None or score < best[0]:
            best = (score, tried)
        if tried["dropped"] == tried["far"] == tried["crossing"] == 0:
            break
    return best[1]


def legend_entries(entries, below: float, centre: float) -> list[dict]:
    """The legend: one line of (sample line, words) entries centred under the picture;
    ``words`` as :func:`symprop.document.diagram._words` gives them."""
    widths = [SWATCH + 0.15 + max(text_width(words["text"]), text_width(words["before"] + words["after"])
                                  + tex_width(words["tex"])) for _, words in entries]
    total = sum(widths) + LEGEND_GAP * (len(entries) - 1)
    x, y = centre - total / 2, below - LINE_CM
    placed = []
    for (colour, words), width in zip(entries, widths):
        placed.append({"colour": colour, **words, "x1": round(x, 3), "x2": round(x + SWATCH, 3),
                       "tx": round(x + SWATCH + 0.15, 3), "y": round(y, 3),
                       "box": Box(x + width / 2, y, width / 2, LINE_CM / 2)})
        x += width + LEGEND_GAP
    return placed


def fit_scale(box: Box) -> float:
    """The factor that fits ``box`` into :data:`MAX_WIDTH` by :data:`MAX_HEIGHT` (at most 1)."""
    return min(1.0, MAX_WIDTH / (2 * box.hw), MAX_HEIGHT / (2 * box.hh))
