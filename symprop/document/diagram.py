"""The picture of a network or computational graph, laid out once for every format:
TikZ (LaTeX and PDF), SVG (the Markdown of blogs, and the HTML page) and Mermaid
(GitHub's Markdown) all draw the same layout.

A layered network is drawn as units in columns with each weight's value and
gradient on its edge (Mazur's picture), each bias a box of its own before the units
it feeds; any other graph as its computational graph, one column per depth, with
the forward value and the backward gradient on each edge (the CS231n and "Deep
Learning from Scratch" pictures). Numbers are rounded to the picture's digits
(``picture_digits``, 4 significant by default, never more than the document's).

The layout (a plain mapping, :class:`symprop.document.model.Figure`'s ``layout``):

``kind``     ``network``, ``graph`` or ``none``;
``nodes``    per node its ``name``, ``id`` (for Mermaid and TikZ), ``param`` (its name when
             it is a parameter, such as a bias), ``tex``, ``label``
             (Mermaid's text), ``shape`` (``circle``, ``bias``, ``loss``), centre ``x``,
             ``y`` and half sizes ``hw``, ``hh`` (centimetres), ``texts`` under it;
``edges``    per edge its ends (``source``, ``target`` ids and ``from``, ``to`` names),
             ``param``, the drawn segment ``x1 y1 x2 y2``, its ``lines`` of text and
             their ``box`` (None when no place was free, see ``unlabelled``);
``legend``   what each colour means; ``box`` the whole picture's extent and ``width``
             its width; ``scale`` the factor that fits it to :data:`~symprop.document.picture_layout.MAX_WIDTH`
             by ``MAX_HEIGHT`` (TikZ shrinks it further to a narrower text width).
"""
from __future__ import annotations

import math
import re

from symprop.document.i18n import prose
from symprop.document.options import DEFAULTS
from symprop.document.picture_layout import (
    MIN_SCALE, Edge, Node, Text, best_attempt, fit_scale, legend_entries, node_size, text_boxes,
)
from symprop.document.placement import LABEL_LEAD_PT, Box, union
from symprop.printing.numbers import latex_number, plain_number

#: Significant digits of the numbers written in a picture (the default of ``picture_digits``).
PICTURE_DIGITS = DEFAULTS["picture_digits"]
#: Graphs with more nodes and parameters than this are not drawn (a picture would not help).
MAX_DRAWN = 80
NONE = {"kind": "none", "nodes": [], "edges": []}


def diagram(doc) -> dict:
    """The layout of ``doc``'s picture (a :class:`symprop.document.formulas.Formulas`), or
    ``kind`` ``none`` where its units cannot be drawn legibly one by one."""
    # A graph over matrices would be drawn entry by entry, a tangle of scalars that says less
    # than its matrix equations: such graphs, like very large ones, get no picture.
    if doc.summarised or len(doc.graph.nodes) + len(doc.graph.parameters) > MAX_DRAWN or doc.graph.arrays:
        return dict(NONE)
    if doc.network is not None:
        kind, (nodes, edges) = "network", _network_sketch(doc, Numbers(doc))
    else:
        kind, (nodes, edges) = "graph", _graph_sketch(doc, Numbers(doc))
    layout = laid_out(kind, nodes, edges, _legend(doc, kind))
    # A network's units shrunk past legibility even without their labels (a deep one): the
    # network section draws it by layer instead (:mod:`symprop.document.layer_diagram`).
    if kind == "network" and layout["scale"] < MIN_SCALE:
        return dict(NONE)
    return layout


def mermaid_id(name: str) -> str:
    """A Mermaid (and TikZ) node id: letters, digits and underscores only, distinct for
    distinct names: ``n_`` and a plain name, ``n_out_h1_2_`` for a batch copy ``out_h1[2]``,
    and ``n_0`` and the hex of any other name (a plain one that ends like a copy's id too)."""
    copy = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)\[(\d+)\]", name)
    if copy:
        return f"n_{copy[1]}_{copy[2]}_"
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and not re.search(r"_\d+_\Z", name):
        return "n_" + name
    return "n_0" + name.encode("utf-8", "surrogatepass").hex()


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (and inside the Markdown fence around it):
    quotes, angle brackets, ``#``, backquotes as entity codes, controls as spaces."""
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", text).replace("#", "#35;")
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("`", "#96;")


_SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


def plain_picture_number(value, digits: int) -> str:
    """A number as plain text in a picture: a true minus sign, ``9.1×10⁻⁹`` for ``9.1e-9``."""
    text = plain_number(value, digits)
    mantissa, _, exponent = text.partition("e")
    if exponent:
        text = f"{mantissa}×10{exponent.lstrip('+').translate(_SUPERSCRIPT)}"
    return text.replace("-", "−")


class Numbers:
    """The numbers a picture writes, rounded to its digits, as LaTeX and as plain text."""

    def __init__(self, doc):
        self.doc = doc
        self.digits = min(doc.digits, doc.options.picture_digits)

    def text(self, value, colour: str = "value", prefix_tex: str = "", prefix: str = "") -> Text | None:
        if value is None:
            return None
        value = _as_float(value)
        return Text(prefix_tex + latex_number(value, self.digits), prefix + plain_picture_number(value, self.digits),
                    colour)

    def named(self, symbol) -> Text | None:
        """``name = value`` (a weight on its edge), or the name alone without an example."""
        value = self.doc.value(symbol)
        if value is None:
            return Text(self.doc.tex(symbol), symbol.name)
        return self.text(value, prefix_tex=self.doc.tex(symbol) + " = ", prefix=symbol.name + " = ")


def _as_float(value):
    """An exact value as a float (a picture's few digits need no more, and an exact value
    would be evaluated anew by each printer), unless it lies beyond a float's range."""
    if isinstance(value, (int, float)):
        return value
    approximate = float(value)
    return approximate if math.isfinite(approximate) and (approximate != 0 or value.is_zero) else value


def _node(doc, numbers, symbol, column, shape="circle", also=(), gradient=None) -> Node:
    """A node and the texts under it: its value, and for a bias its gradient."""
    texts = [numbers.text(doc.value(symbol)), numbers.text(gradient, "gradient")]
    param = symbol.name if symbol in doc.graph.parameters else None
    return Node(symbol.name, mermaid_id(symbol.name), doc.tex(symbol), column, shape, [t for t in texts if t],
                {"names": [symbol.name, *(s.name for s in also)], "param": param})


def _network_sketch(doc, numbers):
    """Units in columns; each layer's biases (one box per distinct bias) under the column
    that feeds the layer, so no bias edge crosses a column; the loss in the last column."""
    network = doc.network
    nodes = [_node(doc, numbers, s, 0) for s in network.inputs]
    edges = []
    for layer in network.layers:
        for b in dict.fromkeys(layer.bias_parameters):
            nodes.append(_node(doc, numbers, b, layer.index - 1, "bias", gradient=_gradient(doc, b)))
    for layer in network.layers:
        nodes += [_node(doc, numbers, out, layer.index, also=(net,)) for net, out in zip(layer.nets, layer.outs)]
        for row, bias, out in zip(layer.weights, layer.biases, layer.outs):
            for w, source in zip(row, layer.inputs):
                lines = [numbers.named(w), numbers.text(_gradient(doc, w), "gradient")]
                edges.append(Edge(source.name, out.name, [t for t in lines if t], {"param": w.name, "tex": doc.tex(w)}))
            if bias is not None:
                edges.append(Edge(bias.name, out.name, [], {"param": bias.name}))
    nodes.append(_node(doc, numbers, doc.output, len(network.layers) + 1, "loss"))
    for out in network.layers[-1].outs:
        adjoint = numbers.text(doc.adjoint_value(out), "gradient")
        edges.append(Edge(out.name, doc.output.name, [adjoint] if adjoint else []))
    return _ordered(nodes), edges


def _ordered(nodes):
    """Nodes column by column; within a column the units first, then the biases."""
    return sorted(nodes, key=lambda n: (n.column, n.shape == "bias"))


def _gradient(doc, parameter):
    return None if doc.example is None else doc.example.gradients[parameter]


def _graph_sketch(doc, numbers):
    """One column per depth; an input or parameter in the column just before the first node
    that uses it, so its edges are short."""
    graph = doc.graph
    parents = {node: _all_parents(graph, node) for node in graph.nodes}
    depth = {}
    for node in graph.nodes:
        depth[node] = 1 + max((depth.get(p, 0) for p in parents[node] if p in depth), default=0)
    shown = [s for s in (*graph.inputs, *graph.parameters) if _feeds(graph, s)]
    for s in shown:
        depth[s] = min(depth[n] for n in graph.nodes if n in graph.reachable and s in parents[n]) - 1
    shown += [n for n in graph.nodes if n in graph.reachable]
    nodes = [_node(doc, numbers, s, depth[s], "loss" if s == graph.output else "circle") for s in shown]
    edges = [_graph_edge(doc, numbers, parent, node)
             for node in graph.nodes if node in graph.reachable for parent in parents[node]]
    return sorted(nodes, key=lambda n: n.column), edges


def _all_parents(graph, node) -> tuple:
    """Inputs, parameters and nodes the node's expression uses, inputs first."""
    free = graph.definition[node].free_symbols
    return (*(s for s in graph.inputs if s in free), *graph.parents[node])


def _feeds(graph, symbol) -> bool:
    return any(symbol in graph.definition[n].free_symbols for n in graph.nodes if n in graph.reachable)


def _graph_edge(doc, numbers, parent, node) -> Edge:
    """Forward value of ``parent`` (green), ``delta_node * dnode/dparent`` (red)."""
    backward = None
    if doc.example is not None and (node, parent) in doc.derivation.local:
        backward = doc.example.adjoints[node] * doc.example.local[(node, parent)]
    # the arrows say which way each number flows where no colour does (Mermaid)
    lines = [numbers.text(doc.value(parent), "forward", prefix="→ "), numbers.text(backward, "gradient", prefix="← ")]
    param = parent.name if parent in doc.graph.parameters else None
    return Edge(parent.name, node.name, [t for t in lines if t], {"param": param})


def _legend(doc, kind: str) -> list:
    """What each colour means, in the document's language."""
    if doc.example is None:
        return []
    text = prose(doc.options.lang)
    keys = {"graph": (("forward", "picture_forward"), ("gradient", "picture_backward"))}.get(
        kind, (("value", "picture_values"), ("gradient", "picture_gradients")))
    return [(colour, _words(text[key], doc.output.name, doc.tex(doc.output))) for colour, key in keys]


def _words(sentence: str, name: str, tex: str) -> dict:
    """A legend's words: as plain text, and as the prose before and after the output's name
    (which LaTeX sets as math)."""
    before, _, after = sentence.partition("{output}")
    return {"text": sentence.replace("{output}", name), "before": before, "tex": tex if _ else "", "after": after}


# --- the layout as the formats read it ------------------------------------------------

def laid_out(kind: str, nodes, edges, legend) -> dict:
    """Place the sketch (:func:`symprop.document.picture_layout.best_attempt`) and write it
    as the layout mapping the templates draw."""
    placed = best_attempt(nodes, edges)
    at = placed["at"]
    node_maps = [_node_map(n, at[n.name]) for n in nodes]
    ids = {n.name: n.id for n in nodes}
    if placed["summary"]:
        edges = [Edge(e.source, e.target, [], e.extra) for e in edges]
    edge_maps = [_edge_map(e, ids, placed["segments"][k], placed["labels"].get(k)) for k, e in enumerate(edges)]
    boxes = placed["obstacles"] + [b for b in placed["labels"].values() if b is not None]
    extent = union(boxes)
    if placed["summary"]:
        legend = [entry for entry in legend if entry[0] == "value"] if kind == "network" else []
    entries = legend_entries(legend, extent.bottom - 0.1, extent.x) if legend else []
    extent = union([extent, *(e["box"] for e in entries)]).grown(0.1)
    return {
        "kind": kind, "nodes": node_maps, "edges": edge_maps,
        "legend": [{**e, "box": _box_map(e["box"])} for e in entries],
        "box": _box_map(extent), "width": round(2 * extent.hw, 3), "scale": math.floor(fit_scale(extent) * 1000) / 1000,
        "unlabelled": placed["dropped"], "crossing": placed["crossing"], "far": placed["far"],
        "summary": placed["summary"], "lead_pt": LABEL_LEAD_PT,
    }


def _box_map(box: Box | None) -> dict | None:
    if box is None:
        return None
    return {"x": round(box.x, 3), "y": round(box.y, 3), "hw": round(box.hw, 3), "hh": round(box.hh, 3)}


def _text_map(text: Text) -> dict:
    return {"tex": text.tex, "plain": text.plain, "colour": text.colour}


def _node_map(node: Node, centre) -> dict:
    hw, hh = node_size(node)
    texts = [{**_text_map(t), **_box_map(b)} for t, b in zip(node.texts, text_boxes(node, centre))]
    return {
        "id": node.id, "ref": f"({node.id})", "name": node.name, "names": node.extra["names"], "tex": node.tex,
        "param": node.extra["param"],
        "shape": node.shape, "x": round(centre[0], 3), "y": round(centre[1], 3), "hw": round(hw, 3),
        "hh": round(hh, 3), "at": f"({centre[0]:.3f},{centre[1]:.3f})", "texts": texts,
        "label": mermaid_text(" = ".join([node.name, *(t.plain for t in node.texts[:1])])),
    }


def _edge_map(edge: Edge, ids, segment, box) -> dict:
    lines = [_text_map(t) for t in edge.lines]
    named = edge.extra.get("tex")
    return {
        "source": ids[edge.source], "target": ids[edge.target], "from": edge.source, "to": edge.target,
        "param": edge.extra.get("param"), "tex": named,
        "caption": edge.lines[0].plain if named and edge.lines else None,
        "x1": round(segment.p[0], 3), "y1": round(segment.p[1], 3),
        "x2": round(segment.q[0], 3), "y2": round(segment.q[1], 3),
        "lines": lines, "box": _box_map(box),
        "label": "<br/>".join(mermaid_text(t.plain) for t in edge.lines) or None,
    }
