"""The picture of a layer stack: one box per layer in a row, the shape of the array between each two
on the edge, the loss last. It stays one row of a few boxes whatever the layers' sizes (a scalar
picture of a convolution would have thousands of nodes), and its width is fitted to the page.
"""
from __future__ import annotations

from symprop.document.diagram import mermaid_id, mermaid_text

#: The widest the row may be, in the picture's units (centimetres in TikZ); boxes sit at most
#: ``COLUMN`` apart.
ROW_WIDTH = 13.0
COLUMN = 3.2


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


def _node(name: str, tex: str, text: str, column: int, step: float, shape: str, names=()) -> dict:
    node_id = mermaid_id(name)
    return {"id": node_id, "ref": f"({node_id})", "tex": tex, "value": None, "label": mermaid_text(text),
            "at": f"({column * step:.2f},0.00)", "shape": shape, "name": name, "names": [name, *names]}


def _edge(source: dict, target: dict, shape) -> dict:
    return {"source": source["id"], "target": target["id"], "source_ref": source["ref"], "target_ref": target["ref"],
            "tex": shape_text(shape, r"{\times}"), "param": None, "caption": None, "pos": "0.50",
            "label": mermaid_text(shape_text(shape)), "forward": None, "backward": None}


def layer_diagram(stack) -> dict:
    """``{"kind": "layers", "nodes", "edges"}`` for a :class:`~symprop.model.stack.LayerStack`,
    in the layout every writer draws (:func:`symprop.document.diagram.diagram`'s)."""
    count = len(stack.layers) + 2
    step = min(COLUMN, ROW_WIDTH / (count - 1))
    input_name = stack.input.flat[0].name.split("[")[0]
    nodes = [_node(input_name, input_name, input_name, 0, step, "bias")]
    for layer in stack.layers:
        caption = _caption(layer)
        names = [s.name for array in (*layer.nodes.values(), *layer.parameters.values()) for s in array.flat]
        nodes.append(_node(f"layer {layer.index}", rf"\text{{{caption}}}", caption, layer.index, step, "bias", names))
    nodes.append(_node(stack.output.name, stack.output.name, stack.output.name, count - 1, step, "loss"))
    shapes = [stack.input.shape, *(layer.output_shape for layer in stack.layers)]
    edges = [_edge(a, b, shape) for a, b, shape in zip(nodes, nodes[1:], shapes)]
    return {"kind": "layers", "nodes": nodes, "edges": edges}
