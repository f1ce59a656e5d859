"""The picture of a network or computational graph, as positioned nodes and labelled
edges, for the templates to draw as TikZ (LaTeX) or Mermaid (Markdown).

A layered network is drawn as units in columns with the weights on the edges
(Mazur's picture); any other graph as its computational graph, one column per
depth, with the forward value and the backward gradient on each edge (the
CS231n and "Deep Learning from Scratch" pictures).
"""
from __future__ import annotations

import re

from symprop.printing.numbers import latex_number, plain_number

COLUMN_WIDTH = 4.2
ROW_HEIGHT = 2.4
#: Significant digits of the gradients written on a picture's edges.
PICTURE_DIGITS = 4
#: Graphs with more nodes and parameters than this are not drawn (a picture would not help).
MAX_DRAWN = 80


def diagram(doc) -> dict:
    """``{"kind", "nodes", "edges"}`` for ``doc`` (a :class:`symprop.document.formulas.Formulas`)."""
    # A graph over matrices would be drawn entry by entry, a tangle of scalars that says less
    # than its matrix equations: such graphs, like very large ones, get no picture.
    if doc.summarised or len(doc.graph.nodes) + len(doc.graph.parameters) > MAX_DRAWN or doc.graph.arrays:
        return {"kind": "none", "nodes": [], "edges": []}
    return _network_diagram(doc) if doc.network is not None else _graph_diagram(doc)


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


def _node(doc, symbol, column, row, rows, shape="circle", also=()) -> dict:
    """A node; ``also`` names the other symbols it stands for (a unit's pre-activation)."""
    value = doc.value(symbol)
    plain = symbol.name + (f" = {plain_number(value, doc.digits)}" if value is not None else "")
    return {
        "id": mermaid_id(symbol.name),
        "ref": f"({mermaid_id(symbol.name)})",
        "tex": doc.tex(symbol),
        "value": latex_number(value, doc.digits) if value is not None else None,
        "label": mermaid_text(plain),
        "at": f"({column * COLUMN_WIDTH:.2f},{((rows - 1) / 2 - row) * ROW_HEIGHT:.2f})",
        "shape": shape,
        "name": symbol.name,
        "names": [symbol.name, *(s.name for s in also)],
    }


def _edge(doc, source, target, tex=None, name=None, gradient=None, pos=0.3, param=None) -> dict:
    """An edge labelled with a parameter (and its value) and the gradient along it,
    the label at ``pos`` of the way along the edge; ``param`` names the parameter it
    stands for (its weight, or the bias it comes from)."""
    param = param or (name.name if name is not None else None)
    parts = []
    if name is not None:
        value = doc.value(name)
        parts.append(name.name + (f" = {plain_number(value, doc.digits)}" if value is not None else ""))
    if gradient is not None:
        symbol, value = gradient
        parts.append(f"∂{doc.output.name}/∂{symbol.name} = {plain_number(value, doc.digits)}")
    return {
        "source": mermaid_id(source.name),
        "target": mermaid_id(target.name),
        "source_ref": f"({mermaid_id(source.name)})",
        "target_ref": f"({mermaid_id(target.name)})",
        "tex": tex,
        "param": param,
        "caption": parts[0] if name is not None else None,
        "pos": f"{pos:.2f}",
        "label": "<br/>".join(map(mermaid_text, parts)) if parts else None,
        "forward": None,
        "backward": latex_number(gradient[1], min(doc.digits, PICTURE_DIGITS)) if gradient is not None else None,
    }


def _network_diagram(doc) -> dict:
    network = doc.network
    layers = network.layers
    nodes = [_node(doc, s, 0, k, len(network.inputs)) for k, s in enumerate(network.inputs)]
    edges = []
    for layer in layers:
        nodes += [_node(doc, out, layer.index, j, len(layer.outs), also=(net,))
                  for j, (net, out) in enumerate(zip(layer.nets, layer.outs))]
        top = len(layer.inputs)
        for b in layer.bias_parameters:
            nodes.append(_node(doc, b, layer.index - 1, -1, top, shape="bias"))
        for j, (row, bias, net, out) in enumerate(zip(layer.weights, layer.biases, layer.nets, layer.outs)):
            # labels of edges into alternate units sit at different distances, so crossing edges do not stack them
            pos = 0.3 if j % 2 == 0 else 0.6
            for w, source in zip(row, layer.inputs):
                edges.append(_edge(doc, source, out, doc.tex(w), w, _gradient(doc, w), pos))
            if bias is not None:
                edges.append(_edge(doc, bias, out, None, None, _bias_edge_gradient(doc, layer, bias, net), pos, bias.name))
    nodes.append(_node(doc, doc.output, len(layers) + 1, 0, 1, shape="loss"))
    for out in layers[-1].outs:
        value = doc.adjoint_value(out)
        edges.append(_edge(doc, out, doc.output, None, None, (out, value) if value is not None else None))
    return {"kind": "network", "nodes": nodes, "edges": edges}


def _bias_edge_gradient(doc, layer, bias, net):
    """A bias of its own carries its gradient; a bias shared by the layer gets one term of
    its gradient along each edge, the unit's delta ``dE/dnet`` (first example)."""
    if layer.biases.count(bias) == 1:
        return _gradient(doc, bias)
    value = doc.adjoint_value(net)
    return (net, value) if value is not None else None


def _gradient(doc, parameter):
    if doc.example is None:
        return None
    return parameter, doc.example.gradients[parameter]


def _graph_diagram(doc) -> dict:
    graph = doc.graph
    parents = {node: _all_parents(graph, node) for node in graph.nodes}
    depth = {s: 0 for s in (*graph.inputs, *graph.parameters)}
    for node in graph.nodes:
        depth[node] = 1 + max((depth[p] for p in parents[node]), default=0)
    shown = [s for s in (*graph.inputs, *graph.parameters, *graph.nodes) if s in graph.reachable or _feeds(graph, s)]
    columns: dict[int, list] = {}
    for s in shown:
        columns.setdefault(depth[s], []).append(s)
    nodes = [
        _node(doc, s, column, row, len(members), shape="loss" if s == graph.output else "circle")
        for column, members in sorted(columns.items()) for row, s in enumerate(members)
    ]
    edges = [_graph_edge(doc, parent, node) for node in graph.nodes if node in graph.reachable for parent in parents[node]]
    return {"kind": "graph", "nodes": nodes, "edges": edges}


def _all_parents(graph, node) -> tuple:
    """Inputs, parameters and nodes the node's expression uses, inputs first."""
    free = graph.definition[node].free_symbols
    return (*(s for s in graph.inputs if s in free), *graph.parents[node])


def _feeds(graph, symbol) -> bool:
    return any(symbol in graph.definition[n].free_symbols for n in graph.nodes if n in graph.reachable)


def _graph_edge(doc, parent, node) -> dict:
    """Forward value of ``parent`` above the edge, ``delta_node * dnode/dparent`` below."""
    forward = doc.value(parent)
    backward = None
    if doc.example is not None and (node, parent) in doc.derivation.local:
        backward = doc.example.adjoints[node] * doc.example.local[(node, parent)]
    parts = [f"→ {plain_number(forward, doc.digits)}"] if forward is not None else []
    parts += [f"← {plain_number(backward, doc.digits)}"] if backward is not None else []
    return {
        "source": mermaid_id(parent.name),
        "target": mermaid_id(node.name),
        "source_ref": f"({mermaid_id(parent.name)})",
        "target_ref": f"({mermaid_id(node.name)})",
        "tex": None,
        "param": None,
        "caption": None,
        "pos": "0.50",
        "label": "<br/>".join(map(mermaid_text, parts)) if parts else None,
        "forward": latex_number(forward, doc.digits) if forward is not None else None,
        "backward": latex_number(backward, doc.digits) if backward is not None else None,
    }
