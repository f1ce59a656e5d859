"""The picture of a layer stack, or of a dense network too large to draw unit by unit: one box
per layer in a row, the shape of the array (or the number of values) between each two on the
edge, the loss last. It stays one row of a few boxes whatever the layers' sizes (a scalar picture
of a convolution would have thousands of nodes), and it is laid out like every other picture
(:func:`symprop.document.diagram.laid_out`), so it fits the page and its labels do not overlap.
"""
from __future__ import annotations

from symprop.document.diagram import laid_out, mermaid_id
from symprop.document.i18n import prose
from symprop.document.picture_layout import Edge, Node, Text
from symprop.document.recurrent_picture import (
    every_step, is_recurrent, loop_lines, stepped_arrays, unrolled_diagram, with_loops,
)


def shape_text(shape, times: str = "×") -> str:
    return times.join(map(str, shape))


def _caption(layer) -> str:
    """``conv2d 2×2``, ``maxpool 2×2``, ``dense 3``, ``flatten``: the kind and its size."""
    settings = layer.settings
    size = settings.get("kernel") or settings.get("size")
    if size:
        return f"{layer.kind} {shape_text(size)}"
    if "steps" in settings:  # a recurrent layer, drawn rolled up: one cell run over every step
        return f"{layer.kind} {settings['units']}, {settings['steps']} steps"
    return f"{layer.kind} {settings['units']}" if "units" in settings else layer.kind


def _node(name: str, tex: str, column: int, shape: str, names=()) -> Node:
    return Node(name, mermaid_id(name), tex, column, shape, [], {"names": [name, *names], "param": None})


def _shape(shape) -> Text:
    return Text(shape_text(shape, r"{\times}"), shape_text(shape))


def _row(first: tuple, layers: list, last: tuple, labels) -> tuple[dict, list[str]]:
    """One box per layer in a row between ``first`` and ``last`` (each ``(name, tex)``), and the
    layers' node names; ``layers`` gives each layer's caption and the names of its symbols,
    ``labels`` the text of each edge (one more than the layers)."""
    nodes = [_node(*first, 0, "bias")]
    captions = [caption for caption, _ in layers]
    for k, (caption, names) in enumerate(layers, 1):
        # a node is known by its caption; two layers alike ("dense 4" twice) are told apart by number
        name = caption if captions.count(caption) == 1 else f"{caption} ({k})"
        nodes.append(_node(name, rf"\text{{{name}}}", k, "bias", names))
    nodes.append(_node(*last, len(layers) + 1, "loss"))
    edges = [Edge(a.name, b.name, [label], {"param": None}) for a, b, label in zip(nodes, nodes[1:], labels)]
    return laid_out("layers", nodes, edges, []), [n.name for n in nodes[1:-1]]


def layer_diagram(stack, lang: str = "en", unrolled: bool = False) -> dict:
    """The layout of a :class:`~symprop.model.stack.LayerStack`'s picture: the input, one box per
    layer captioned with its kind and size, the loss; each edge labelled with the shape it carries,
    or with its size "at every step" around a recurrent layer, which is drawn rolled up, a cell
    with a loop edge for its state (:mod:`symprop.document.recurrent_picture`); ``unrolled``: the
    recurrent network drawn step by step instead (:func:`~symprop.document.recurrent_picture.unrolled_diagram`)."""
    if unrolled:
        return unrolled_diagram(stack, lang)
    input_name = stack.input.flat[0].name.split("[")[0]
    layers = [(_caption(layer), [s.name for array in (*layer.nodes.values(), *layer.parameters.values())
                                 for s in array.flat]) for layer in stack.layers]
    shapes = [stack.input.shape, *(layer.output_shape for layer in stack.layers)]
    labels = [every_step(shape[1], lang) if stepped else _shape(shape)
              for shape, stepped in zip(shapes, stepped_arrays(stack))]
    layout, names = _row((input_name, input_name), layers, (stack.output.name, stack.output.name), labels)
    return with_loops(layout, {name: loop_lines(layer) for name, layer in zip(names, stack.layers) if is_recurrent(layer)})


def network_layer_diagram(network, output_tex: str, lang: str = "en") -> dict:
    """The layout of a dense :class:`~symprop.model.nn.Network`'s picture by layer, for a network
    too large to draw unit by unit: a box for its inputs (``784 inputs``), one per layer
    (``dense 16, sigmoid``), the loss; each edge labelled with the number of values it carries."""
    inputs = prose(lang)["picture_inputs"].format(count=len(network.inputs))
    layers = [(f"dense {len(layer.nets)}, {layer.activation}",
               [s.name for s in (*layer.nets, *layer.outs, *layer.weight_parameters, *layer.bias_parameters)])
              for layer in network.layers]
    widths = [(len(network.inputs),), *((len(layer.nets),) for layer in network.layers)]
    return _row((inputs, rf"\text{{{inputs}}}"), layers, (network.output.name, output_tex), map(_shape, widths))[0]
