"""What the HTML writer adds to the document model: KaTeX inlined, the picture's
layout scaled to SVG coordinates, a plot as a polyline, and the numbers the page's
script needs (values, adjoints, the paths from the loss to each parameter, the steps
of the stepper), all in one self-contained page that makes no request.

The templates (``templates/html/``) draw; nothing here knows HTML beyond escaping.
"""
from __future__ import annotations

import base64
import functools
import json
import re
from pathlib import Path

from markupsafe import escape

from symprop.document.diagram import PICTURE_DIGITS
from symprop.document.model import Math
from symprop.printing.latex import latex, partial
from symprop.printing.numbers import plain_number
from symprop.printing.rows import math_lines
from symprop.outputs.svg import pixels

#: Past this many paths to one parameter the page marks no factors (the equations sum the paths unlisted).
MAX_MARKED_PATHS = 64
#: Past this many steps the page has no stepper (a summarised network of thousands of weights:
#: its steps would weigh megabytes, and its picture draws layers, not the nodes a step shows).
MAX_STEPS = 400


# --- the inlined files -----------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def assets(folder: str) -> dict:
    """KaTeX's script, its stylesheet with every font as a woff2 ``data:`` URL, its
    licence, and the page's own stylesheet and script, read from ``folder``
    (the packaged ``templates/html``)."""
    root = Path(folder)
    katex = root / "katex"
    fonts = katex / "fonts"

    def font(match) -> str:
        data = base64.b64encode((fonts / f"{match.group(1)}.woff2").read_bytes()).decode("ascii")
        return f'src:url(data:font/woff2;base64,{data}) format("woff2")'

    css = re.sub(r'src:url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)[^;}]*', font,
                 (katex / "katex.min.css").read_text(encoding="utf-8"))
    # XML namespace names, not addresses: the same strings, written so the page holds no URL
    script = (katex / "katex.min.js").read_text(encoding="utf-8").replace("http://www.w3.org/", "http:\\/\\/www.w3.org/")
    return {
        "katex_css": css, "katex_js": script,
        "katex_license": (katex / "LICENSE").read_text(encoding="utf-8").replace("--", "-"),
        "page_css": (root / "page.css").read_text(encoding="utf-8"),
        "page_js": (root / "page.js").read_text(encoding="utf-8"),
    }


# --- filters ---------------------------------------------------------------------------

def html_escape(text) -> str:
    return str(escape(str(text)))


def inline_tex(tex: str) -> str:
    """Inline math, set by KaTeX on load (its TeX shows if scripts are off)."""
    return f'<span class="tex">{html_escape(tex)}</span>'


def display_tex(rows) -> str:
    """Display math: one row, or aligned rows as ``aligned`` (as the Markdown writer
    sets them), in a box of its own that scrolls sideways."""
    if isinstance(rows, str):
        rows = [rows]
    return f'<div class="equation"><span class="tex display">{html_escape(math_lines(rows))}</span></div>'


def picture(layout) -> dict:
    """The layout in SVG pixels, the geometry of the SVG file (:func:`symprop.outputs.svg.pixels`):
    ``width``, ``height``, ``nodes`` (centre ``x``, ``y``, half sizes ``w``, ``h``, ``name``,
    ``shape``, ``param``) and ``edges`` (the drawn segment ``x1 y1 x2 y2``, ``lx``/``ly``
    where the label's first line sits, ``param``, ``id``); ``dense`` when some edge found
    no free place for its label (labels then show on a highlighted path only)."""
    drawn = pixels(layout)
    edges = []
    for k, edge in enumerate(drawn["edges"]):
        box = edge["label"] or {"x": round((edge["x1"] + edge["x2"]) / 2, 1), "y": round((edge["y1"] + edge["y2"]) / 2, 1)}
        # the page sets the label's two lines 3 px above and 11 px below (lx, ly): centred on the box
        edges.append({**edge, "id": f"e{k}", "lx": box["x"], "ly": round(box["y"] - 4, 1)})
    return {"width": drawn["width"], "height": drawn["height"], "nodes": drawn["nodes"], "edges": edges,
            "dense": layout.get("unlabelled", 0) > 0}


def plot(points: str) -> dict:
    """A plot's ``(x,y) (x,y) ...`` as a polyline in a 600 x 260 box, with its ranges."""
    pairs = [tuple(float(v) for v in p.split(",")) for p in re.findall(r"\(([^)]*)\)", points)]
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = 520 / ((x1 - x0) or 1)
    sy = 200 / ((y1 - y0) or 1)
    line = " ".join(f"{60 + (x - x0) * sx:.1f},{220 - (y - y0) * sy:.1f}" for x, y in pairs)
    return {"line": line, "x0": plain_number(x0, 4), "x1": plain_number(x1, 4),
            "y0": plain_number(y0, 4), "y1": plain_number(y1, 4)}


def formula_count(document, text) -> int:
    """How many formulas the page sets: every equation, and every inline formula of
    headings, paragraphs and table cells that the sentence of ``text`` (the language's
    table) uses (the picture's labels are plain text)."""
    def in_prose(prose) -> int:
        used = set(re.findall(r"\{(\w+)", text[prose.key]))
        return sum(isinstance(v, Math) and k in used for k, v in prose.values.items())

    count = 0
    for block in document.blocks:
        if block.kind == "equation":
            count += 1
        elif block.kind in ("heading", "paragraph"):
            count += in_prose(block.prose)
        elif block.kind == "table":
            count += sum(in_prose(h) for h in block.header)
            count += sum(isinstance(c, Math) for row in block.rows for c in row)
    return count


# --- the page's numbers ---------------------------------------------------------------

def page_data(document, derivation, example, digits: int, text) -> str:
    """The JSON the page's script reads: per picture node its value and adjoint, per
    parameter the edges and nodes of its paths to the loss, the stepper's steps, and
    the sentences of the page in the document's language. ``<``, ``>`` and ``&`` are
    written as JSON escapes, so no name in the blob can close its ``<script>`` or open
    a comment or tag the HTML parser would read there."""
    layout = next((b.layout for b in document.blocks if b.kind == "figure"), None)
    data = {"text": {k: v for k, v in text.items() if k.startswith("page_")},
            "output": derivation.graph.output.name, "formulas": formula_count(document, text),
            "nodes": {}, "paths": {}, "steps": []}
    if layout is not None and layout["kind"] != "none":
        drawn = picture(layout)
        data["paths"] = paths(drawn, derivation)
        if stepped(derivation, example):
            numbers = Numbers(derivation, example, digits)
            data["nodes"] = {n["name"]: numbers.node(n) for n in drawn["nodes"]}
            data["steps"] = numbers.steps(drawn)
    if example is not None:
        data["loss_after"] = plain_number(example.loss_after, digits)
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return blob.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def stepped(derivation, example) -> bool:
    """Whether the page steps through the worked example: there is one, and its steps (each
    node forward and back, each parameter's gradient and update) are at most :data:`MAX_STEPS`."""
    graph = derivation.graph
    return example is not None and 2 * (len(graph.nodes) + len(graph.parameters)) + 1 <= MAX_STEPS


def paths(drawn, derivation) -> dict:
    """Per parameter, the picture's edges and nodes on the paths from the loss to it:
    its own edges (or node), then everything downstream of them up to the loss."""
    parameters = {p.name for p in derivation.graph.parameters}
    outgoing: dict[str, list] = {}
    for e in drawn["edges"]:
        outgoing.setdefault(e["from"], []).append(e)
    result = {}
    for p in sorted(parameters):
        edges = [e for e in drawn["edges"] if e.get("param") == p]
        start = [e["to"] for e in edges] + [n["name"] for n in drawn["nodes"] if n["name"] == p]
        nodes, seen_edges = set(start), {e["id"] for e in edges}
        frontier = list(start)
        while frontier:
            for e in outgoing.get(frontier.pop(), ()):
                seen_edges.add(e["id"])
                if e["to"] not in nodes:
                    nodes.add(e["to"])
                    frontier.append(e["to"])
        if edges or p in nodes:
            result[p] = {"edges": sorted(seen_edges, key=lambda i: int(i[1:])), "nodes": sorted(nodes),
                         "count": derivation.gradients[derivation.symbol(p)].path_count,
                         "factors": path_factors(derivation, p)}
    return result


def path_factors(derivation, name: str) -> list[str]:
    """The factors of the paths from the loss to ``name``, as the equations print them:
    the local derivative ``d a / d b`` of each step of each path, and ``d loss / d b``
    for each node ``b`` on it (the run of factors the derivation groups), but not the
    whole gradient ``d loss / d name``. Longest first, so that a page marking them in a
    formula's TeX finds each whole. None past ``MAX_MARKED_PATHS`` paths."""
    graph, gradient = derivation.graph, derivation[name]
    if gradient.path_count > MAX_MARKED_PATHS:
        return []
    pairs = set()
    for path in gradient.paths:
        pairs |= set(zip(path.nodes, path.nodes[1:]))
        pairs |= {(graph.output, b) for b in path.nodes[1:-1]}
    return sorted({latex(partial(a, b), graph) for a, b in pairs}, key=lambda tex: (-len(tex), tex))


class Numbers:
    """The worked example's numbers by symbol name, printed as the documents print them."""

    def __init__(self, derivation, example, digits):
        self.derivation, self.example, self.digits = derivation, example, digits
        self.value = {s.name: v for s, v in {**example.values, **example.forward}.items()}
        self.adjoint = {s.name: v for s, v in example.adjoints.items()}
        self.adjoint.update({p.name: example.gradients[p] for p in derivation.graph.parameters})
        self.computed = {s.name for s in derivation.graph.nodes}

    def num(self, value, digits=None) -> str | None:
        return None if value is None else plain_number(value, digits or self.digits)

    def short(self, value) -> str | None:
        """A number as the picture writes it (fewer digits than the text)."""
        return self.num(value, min(self.digits, PICTURE_DIGITS))

    def node(self, node) -> dict:
        name = node["name"]
        value, adjoint = self.value.get(name), self.adjoint.get(name)
        return {"value": self.num(value), "adjoint": self.num(adjoint), "short": self.short(value),
                "given": name not in self.computed}

    def steps(self, drawn) -> list:
        """Forward node by node, backward node by node, each parameter's gradient, the
        update, and the loss after it; each step names the picture node it shows on."""
        graph, example = self.derivation.graph, self.example
        owner = {name: n["name"] for n in drawn["nodes"] for name in n.get("names", [n["name"]])}
        edges_of = {}
        for e in drawn["edges"]:
            if e.get("param"):
                edges_of.setdefault(e["param"], []).append(e["id"])
        steps = [{"key": "page_forward", "node": owner.get(s.name), "name": s.name, "value": self.num(example.forward[s]), "short": self.short(example.forward[s]),
                  "slot": "value"} for s in graph.nodes]
        steps += [{"key": "page_backward", "node": owner.get(s.name), "name": s.name,
                   "value": self.num(example.adjoints[s]), "short": self.short(example.adjoints[s]), "slot": "adjoint"}
                  for s in reversed(graph.nodes) if s in example.adjoints]
        steps += [{"key": "page_gradient", "node": owner.get(p.name), "edges": edges_of.get(p.name, []), "name": p.name,
                   "value": self.num(example.gradients[p]), "short": self.short(example.gradients[p]), "slot": "gradient"} for p in graph.parameters]
        steps += [{"key": "page_update", "node": owner.get(p.name), "edges": edges_of.get(p.name, []), "name": p.name,
                   "before": self.num(example.values[p]), "value": self.num(example.updated[p]), "short": self.short(example.updated[p]), "slot": "update"}
                  for p in example.updated_parameters]
        steps.append({"key": "page_updated_loss", "node": owner.get(graph.output.name), "name": graph.output.name,
                      "value": self.num(example.loss_after), "slot": "after", "short": self.short(example.loss_after)})
        return steps
