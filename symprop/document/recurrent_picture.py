r"""The pictures of a recurrent layer (rnn, lstm, gru): rolled up, or unrolled over its steps.

Rolled up (the default), the layer is one box, the cell, with a loop edge over it that carries
the state from each step to the next (``h_{t-1} -> h_t``, and the cell state ``c`` of an LSTM),
and the arrays it takes and makes step by step are labelled "at every step". Unrolled
(the document option ``unrolled``, ``--unrolled``), every step is a row: the initial state,
then one box per step for the cell and for each dense layer after it (which applies at every
step), the inputs ``x_t`` feeding the cells and every step's output feeding the loss; each
shared weight is named once, on the first edge it acts on. More than :data:`MAX_STEPS` steps
show the first few, one row standing for the steps between them and the last, and the last.

The loop is the one curved edge of any picture: its layout edge carries ``curve``, the two
control points of a cubic Bézier from ``(x1, y1)`` to ``(x2, y2)`` (centimetres), which TikZ,
SVG and the HTML page draw as such and Mermaid as its own self-loop.
"""
from __future__ import annotations

import math

from symprop.document.diagram import laid_out, mermaid_id, mermaid_text
from symprop.document.i18n import prose
from symprop.document.picture_layout import PAD, Edge, Node, Text, fit_scale, label_size
from symprop.document.placement import CLEARANCE, Box, union
from symprop.model.layer_types import array_tex
from symprop.model.stack import LayerStack

#: The layer kinds drawn as a cell with a loop, and those that also work one step at a time.
RECURRENT = ("rnn", "lstm", "gru")
PER_STEP = (*RECURRENT, "dense")
#: The loop's ends on the cell's top edge (half their distance), how far it bows out past them,
#: and how high it first rises above the cell (centimetres).
LOOP_HALF = 0.3
LOOP_BULGE = 0.35
LOOP_RISE = 0.4
#: The most steps an unrolled picture draws one by one: a column holds them and the initial state
#: without wrapping. A longer run shows its first :data:`FIRST_STEPS`, one row for the steps
#: between, and its last.
MAX_STEPS = 6
FIRST_STEPS = 4
_SUBSCRIPT = str.maketrans("0123456789-t", "₀₁₂₃₄₅₆₇₈₉₋ₜ")


def is_recurrent(layer) -> bool:
    return layer.kind in RECURRENT


def stepped_arrays(stack) -> list[bool]:
    """For the input and each layer's output: whether it is an array over time steps taken one
    step at a time, that is in or out of a run of :data:`PER_STEP` layers holding a recurrent one."""
    layers, marks = stack.layers, [False] * (len(stack.layers) + 1)
    start = 0
    while start < len(layers):
        end = start
        while end < len(layers) and layers[end].kind in PER_STEP and len(layers[end].input_shape) == 2:
            end += 1
        if any(is_recurrent(layer) for layer in layers[start:end]):
            marks[start:end + 1] = [True] * (end + 1 - start)
        start = max(end, start + 1)
    return marks


def every_step(size: int, lang: str) -> Text:
    """``2 at every step``: what an array over the steps carries at each of them."""
    words = prose(lang)["picture_every_step"].format(shape=size)
    return Text(rf"\text{{{words}}}", words)


def _letters(layer) -> str:
    return "hc" if layer.kind == "lstm" else "h"


def loop_lines(layer) -> list[Text]:
    r"""The loop's label: ``h_{t-1} -> h_t`` (and ``c`` for an LSTM), then the state's size."""
    letters = _letters(layer)
    tex = ", ".join(f"{s}_{{t-1}}" for s in letters) + r" \to " + ", ".join(f"{s}_{{t}}" for s in letters)
    plain = ", ".join(f"{s}ₜ₋₁" for s in letters) + " → " + ", ".join(f"{s}ₜ" for s in letters)
    return [Text(tex, plain), Text(str(layer.settings["units"]), str(layer.settings["units"]))]


# --- the loop edge --------------------------------------------------------------------------

def _box(mapping) -> Box:
    return Box(mapping["x"], mapping["y"], mapping["hw"], mapping["hh"])


def _drawn(layout) -> list[Box]:
    """Every box the layout draws: nodes, their texts, edge labels, legend entries."""
    boxes = [_box(n) for n in layout["nodes"]] + [_box(t) for n in layout["nodes"] for t in n["texts"]]
    return boxes + [_box(e["box"]) for e in layout["edges"] if e["box"]] + [_box(e["box"]) for e in layout["legend"]]


def _loop_boxes(node, lines, rise: float) -> tuple[Box, Box]:
    """The loop's extent and its label's box, the loop rising ``rise`` above ``node``."""
    hw, hh = label_size(Edge("", "", lines))
    top = node["y"] + node["hh"]
    arc = Box(node["x"], top + rise / 2, LOOP_HALF + LOOP_BULGE, rise / 2)
    return arc, Box(node["x"], top + rise + PAD + hh, hw, hh)


def _loop(node, lines, taken) -> tuple[dict, list[Box]]:
    """The loop edge over ``node``, raised until neither it nor its label meets a box of ``taken``."""
    rise = LOOP_RISE
    for _ in range(len(taken) + 1):  # each raise clears at least one box
        arc, label = _loop_boxes(node, lines, rise)
        blocking = [b for b in taken if b.meets(label, CLEARANCE) or b.meets(arc)]
        if not blocking:
            break
        rise = max(rise + 0.05, max(b.top for b in blocking) - (node["y"] + node["hh"]) + CLEARANCE + 0.01)
    x, top, lift = node["x"], node["y"] + node["hh"], rise / 0.75  # a cubic's peak is 3/4 of its controls' height
    curve = {"x1": round(x + LOOP_HALF + LOOP_BULGE, 3), "y1": round(top + lift, 3),
             "x2": round(x - LOOP_HALF - LOOP_BULGE, 3), "y2": round(top + lift, 3)}
    edge = {"source": node["id"], "target": node["id"], "from": node["name"], "to": node["name"], "param": None,
            "tex": None, "caption": None, "x1": round(x + LOOP_HALF, 3), "y1": round(top, 3),
            "x2": round(x - LOOP_HALF, 3), "y2": round(top, 3), "curve": curve,
            "lines": [{"tex": t.tex, "plain": t.plain, "colour": t.colour} for t in lines],
            "box": {k: round(getattr(label, k), 3) for k in ("x", "y", "hw", "hh")},
            "label": "<br/>".join(mermaid_text(t.plain) for t in lines)}
    return edge, [arc, label]


def with_loops(layout: dict, loops: dict) -> dict:
    """``layout`` with a loop edge over each node named in ``loops`` (name -> the loop's label
    lines), each clear of everything drawn, and the picture's extent and scale grown to hold them."""
    by_name = {n["name"]: n for n in layout["nodes"]}
    taken, edges, added = _drawn(layout), list(layout["edges"]), []
    for name, lines in loops.items():
        edge, boxes = _loop(by_name[name], lines, taken)
        edges.append(edge)
        taken += boxes
        added += boxes
    if not added:
        return layout
    extent = union([_box(layout["box"]), *(b.grown(0.1) for b in added)])
    return {**layout, "edges": edges, "scale": math.floor(fit_scale(extent) * 1000) / 1000,
            "box": {k: round(getattr(extent, k), 3) for k in ("x", "y", "hw", "hh")}}


# --- unrolled -------------------------------------------------------------------------------

def unrolled_problem(stack) -> str | None:
    """Why ``stack`` (any network) cannot be drawn unrolled (one line), or None when it can: it must
    be a layer stack with a recurrent layer, every layer working one step at a time (recurrent or dense)."""
    if not isinstance(stack, LayerStack) or not any(map(is_recurrent, stack.layers)):
        return "the network has no recurrent layer (rnn, lstm, gru) to draw step by step"
    for layer in stack.layers:
        if layer.kind not in PER_STEP or len(layer.input_shape) != 2:
            return (f"layer {layer.index} ({layer.kind}) does not work one step at a time: the unrolled picture "
                    f"draws networks of {', '.join(PER_STEP)} layers")
    return None


def _weight(stack, layer, roles) -> Text | None:
    """The name of ``layer``'s weight array of one of ``roles`` (``Wx``, ``Wi``, ``W``; ``Wh``)."""
    for name, role in layer.roles.items():
        if role in roles:
            return Text(array_tex(stack.graph.latex_name(layer.parameters[name].flat[0])), name)
    return None


def _box_node(name: str, tex: str, column: int, shape: str = "bias", names=()) -> Node:
    """A box; ``names``: the symbols it stands for (the HTML page's stepper shows their numbers on it)."""
    return Node(name, mermaid_id(name), tex, column, shape, [], {"names": [name, *names], "param": None})


def _symbols(arrays, first: int, last: int) -> list[str]:
    """The names of the entries of steps ``first`` to ``last`` of arrays over the steps."""
    return [s.name for array in arrays for s in array[first:last + 1].flat]


def _size(n) -> Text:
    return Text(str(n), str(n))


def _state_node(layer, column: int, several: bool) -> Node:
    """The state before the first step, ``h_{-1}`` (and ``c_{-1}``), zero or given."""
    letters, zero = _letters(layer), layer.settings["h0"] == "zero"
    tex = ", ".join(f"{s}_{{-1}}" for s in letters) + (" = 0" if zero else "")
    name = ", ".join(f"{s}₋₁" for s in letters) + (" = 0" if zero else "")
    suffix = f" ({layer.index})" if several else ""
    given = [s.name for array in layer.states.values() for s in array.flat]
    return _box_node(name + suffix, tex + (rf"\ \text{{({layer.index})}}" if several else ""), column, names=given)


def shown_steps(steps: int) -> list[tuple[int, int]]:
    """The rows of an unrolled picture, each ``(first, last)`` step it stands for: one row per
    step, or for a longer run the first :data:`FIRST_STEPS`, one row for the steps between, the last."""
    if steps <= MAX_STEPS:
        return [(t, t) for t in range(steps)]
    return [*((t, t) for t in range(FIRST_STEPS)), (FIRST_STEPS, steps - 2), (steps - 1, steps - 1)]


def _steps(first: int, last: int, plain, tex) -> tuple[str, str]:
    """A row's steps, written by ``plain`` and ``tex`` (step -> text): ``x₄``, or ``x₄ … x₁₀``."""
    if first == last:
        return plain(first), tex(first)
    return f"{plain(first)} … {plain(last)}", rf"{tex(first)}, \dots, {tex(last)}"


def _step_nodes(layers, steps: list[tuple[int, int]]) -> list[list[Node]]:
    """One box per layer and step, ``rnn 2, t = 0`` (``rnn 2, t = 4 … 10`` for a row of steps);
    layers alike are told apart by number."""
    captions = [f"{layer.kind} {layer.settings['units']}" for layer in layers]
    rows = []
    for k, (layer, caption) in enumerate(zip(layers, captions), 1):
        caption = caption if captions.count(caption) == 1 else f"{caption} ({layer.index})"
        row = []
        for first, last in steps:
            name, tex = _steps(first, last, str, str)
            symbols = _symbols(layer.nodes.values(), first, last)
            symbols += [s.name for s in layer.parameter_symbols] if first == 0 else []  # shown once, at the first step
            row.append(_box_node(f"{caption}, t = {name}", rf"\text{{{caption}}}, t = {tex}", k, names=symbols))
        rows.append(row)
    return rows


def unrolled_diagram(stack, lang: str = "en") -> dict:
    """The layout of ``stack`` unrolled (:func:`unrolled_problem` must be None): a column of inputs
    ``x_t`` under the first layer's initial state, a column of boxes per layer (one per step),
    the loss; a recurrent layer's initial state heads the column before it."""
    steps, layers = shown_steps(stack.input.shape[0]), stack.layers
    name = stack.input.flat[0].name.split("[")[0]
    several = sum(map(is_recurrent, layers)) > 1
    tex = array_tex(stack.graph.latex_name(stack.input.flat[0]))
    inputs = [_box_node(*_steps(first, last, lambda t: f"{name}{str(t).translate(_SUBSCRIPT)}",
                                lambda t: f"{tex}_{{{t}}}"), 0, names=_symbols([stack.input], first, last))
              for first, last in steps]
    columns, edges = [inputs, *_step_nodes(layers, steps)], []
    heads = {}
    for k, layer in enumerate(layers, 1):
        before, cells = columns[k - 1], columns[k]
        into = _weight(stack, layer, ("W", "Wx", "Wi"))
        size = layer.input_shape[1]
        edges += [Edge(a.name, b.name, [into, _size(size)] if t == 0 else [], {"param": None})
                  for t, (a, b) in enumerate(zip(before, cells))]
        if is_recurrent(layer):
            heads[k - 1] = _state_node(layer, k - 1, several)
            edges += _recurrent_edges(stack, layer, heads[k - 1], cells)
    loss = _box_node(stack.output.name, stack.output.name, len(layers) + 1, "loss")
    edges += [Edge(a.name, loss.name, [_size(layers[-1].output_shape[1])] if t == 0 else [], {"param": None})
              for t, a in enumerate(columns[-1])]
    nodes = [n for k, column in enumerate(columns) for n in ([heads[k]] if k in heads else []) + column]
    return laid_out("layers", [*nodes, loss], edges, [])


def _recurrent_edges(stack, layer, state: Node, cells) -> list[Edge]:
    """The state into the first step, named with the recurrent weights that take it in every step,
    and from each step to the next."""
    lines = [_weight(stack, layer, ("Wh",)), _size(layer.settings["units"])]
    edges = [Edge(state.name, cells[0].name, lines, {"param": None})]
    return edges + [Edge(a.name, b.name, [], {"param": None}) for a, b in zip(cells, cells[1:])]
