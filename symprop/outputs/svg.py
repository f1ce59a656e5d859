"""The picture's layout drawn as SVG: a file of its own beside the Markdown (every blog
shows an image, few render Mermaid), and the geometry of the HTML page's inline picture.

Both scale the layout's centimetres by :data:`PX_PER_CM`, with ``y`` turned to point
down, and set text at the sizes the layout measured it for
(:mod:`symprop.document.placement`), so what does not overlap in the layout does not
overlap in the drawing. Every parameter's element carries ``data-param``, every node
``data-node``, as the HTML page's script expects.
"""
from __future__ import annotations

import base64

from markupsafe import escape

from symprop.document.placement import CM_PER_PT, LABEL_PT, NAME_PT

PX_PER_CM = 45.0
#: The SVG's fonts are sans-serif, wider than Computer Modern: set a little smaller than
#: the layout's sizes, so that they stay inside the boxes the layout measured.
FONT_FACTOR = 0.8
LABEL_PX = round(LABEL_PT * CM_PER_PT * PX_PER_CM * FONT_FACTOR, 1)
NAME_PX = round(NAME_PT * CM_PER_PT * PX_PER_CM * FONT_FACTOR, 1)
COLOURS = {"value": "#222222", "gradient": "#b22222", "forward": "#2e7d32"}
MARGIN = 6.0


def pixels(layout) -> dict:
    """The layout in SVG pixels: ``width``, ``height``, and a function ``at`` from layout
    centimetres to pixels, with every node, edge, label and legend entry converted."""
    box = layout["box"]
    left, top = box["x"] - box["hw"], box["y"] + box["hh"]

    def px(x: float) -> float:
        return round(MARGIN + (x - left) * PX_PER_CM, 1)

    def py(y: float) -> float:
        return round(MARGIN + (top - y) * PX_PER_CM, 1)

    def rect(b) -> dict:
        return {"x": px(b["x"]), "y": py(b["y"]), "w": round(b["hw"] * PX_PER_CM, 1), "h": round(b["hh"] * PX_PER_CM, 1)}

    nodes = [{**n, **rect(n), "texts": [{**t, **rect(t)} for t in n["texts"]]} for n in layout["nodes"]]
    edges = [{**e, "x1": px(e["x1"]), "y1": py(e["y1"]), "x2": px(e["x2"]), "y2": py(e["y2"]),
              "label": None if e["box"] is None else rect(e["box"]), "path": _path(e, px, py)} for e in layout["edges"]]
    legend = [{**e, "x1": px(e["x1"]), "x2": px(e["x2"]), "tx": px(e["tx"]), "y": py(e["y"]), "box": rect(e["box"])}
              for e in layout["legend"]]
    return {"width": round(2 * MARGIN + 2 * box["hw"] * PX_PER_CM), "height": round(2 * MARGIN + 2 * box["hh"] * PX_PER_CM),
            "nodes": nodes, "edges": edges, "legend": legend}


def _path(edge, px, py) -> str | None:
    """A curved edge (a loop: ``curve`` holds its Bézier control points) as SVG path data; None for a line."""
    c = edge.get("curve")
    if not c:
        return None
    return (f'M{px(edge["x1"])},{py(edge["y1"])} C{px(c["x1"])},{py(c["y1"])} {px(c["x2"])},{py(c["y2"])} '
            f'{px(edge["x2"])},{py(edge["y2"])}')


def line_offsets(count: int) -> list[float]:
    """The vertical offsets (pixels) of ``count`` stacked lines of label text from their centre."""
    step = PX_PER_CM * LABEL_PT * 1.1875 * CM_PER_PT  # the layout's line height
    return [round((k - (count - 1) / 2) * step, 1) for k in range(count)]


def _attr(value) -> str:
    return str(escape(str(value)))


def _text(x, y, words, colour, size=LABEL_PX, cls="text") -> str:
    return (f'<text class="{cls}" x="{x}" y="{y}" font-size="{size}" fill="{COLOURS.get(colour, colour)}" '
            f'text-anchor="middle" dominant-baseline="central">{_attr(words)}</text>')


def _edge(e) -> str:
    param = f' data-param="{_attr(e["param"])}"' if e["param"] else ""
    parts = [f'<g class="edge" data-from="{_attr(e["from"])}" data-to="{_attr(e["to"])}"{param}>',
             f'<path d="{e["path"]}" fill="none" stroke="#555555" stroke-width="1" marker-end="url(#arrow)"/>'
             if e["path"] else
             f'<line x1="{e["x1"]}" y1="{e["y1"]}" x2="{e["x2"]}" y2="{e["y2"]}" stroke="#555555" '
             'stroke-width="1" marker-end="url(#arrow)"/>']
    label = e["label"]
    if label is not None:
        parts.append(f'<rect class="label-box" x="{round(label["x"] - label["w"], 1)}" y="{round(label["y"] - label["h"], 1)}" '
                     f'width="{round(2 * label["w"], 1)}" height="{round(2 * label["h"], 1)}" fill="#ffffff"/>')
        for line, dy in zip(e["lines"], line_offsets(len(e["lines"]))):
            parts.append(_text(label["x"], round(label["y"] + dy, 1), line["plain"], line["colour"], cls="label"))
    parts.append("</g>")
    return "\n".join(parts)


def _node(n) -> str:
    param = f' data-param="{_attr(n["param"])}"' if n["param"] else ""
    parts = [f'<g class="node {n["shape"]}" data-node="{_attr(n["name"])}"{param}>']
    if n["shape"] == "circle":
        parts.append(f'<circle cx="{n["x"]}" cy="{n["y"]}" r="{n["w"]}" fill="#ffffff" stroke="#222222"/>')
    else:
        x, y, w, h = n["x"] - n["w"], n["y"] - n["h"], 2 * n["w"], 2 * n["h"]
        width = 2 if n["shape"] == "loss" else 1
        parts.append(f'<rect x="{round(x, 1)}" y="{round(y, 1)}" width="{round(w, 1)}" height="{round(h, 1)}" rx="4" '
                     f'fill="#ffffff" stroke="#222222" stroke-width="{width}"/>')
    parts.append(_text(n["x"], n["y"], n["name"], "value", NAME_PX, "name"))
    parts += [_text(t["x"], t["y"], t["plain"], t["colour"], cls="value") for t in n["texts"]]
    parts.append("</g>")
    return "\n".join(parts)


def _legend(entry) -> str:
    colour = COLOURS[entry["colour"]]
    return (f'<g class="legend"><line x1="{entry["x1"]}" y1="{entry["y"]}" x2="{entry["x2"]}" y2="{entry["y"]}" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<text class="legend-text" x="{entry["tx"]}" y="{entry["y"]}" font-size="{LABEL_PX}" fill="{colour}" '
            f'dominant-baseline="central">{_attr(entry["text"])}</text></g>')


def svg_document(layout, title: str) -> str:
    """The picture as a standalone SVG file: white ground, edges under nodes, labels on white."""
    p = pixels(layout)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{p["width"]}" height="{p["height"]}" '
            f'viewBox="0 0 {p["width"]} {p["height"]}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" '
            f'role="img" aria-label="{_attr(title)}">')
    body = [
        '<?xml version="1.0" encoding="UTF-8"?>', head, f"<title>{_attr(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
        f'<rect width="{p["width"]}" height="{p["height"]}" fill="#ffffff"/>',
        '<g class="edges">', *map(_edge, p["edges"]), "</g>",
        '<g class="nodes">', *map(_node, p["nodes"]), "</g>",
        *map(_legend, p["legend"]), "</svg>",
    ]
    return "\n".join(body) + "\n"


def data_url(text: str) -> str:
    """An SVG file's text as a ``data:`` URL, for a Markdown image with no file beside it."""
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")
