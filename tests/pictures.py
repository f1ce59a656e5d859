"""Shared by the picture tests: every built-in example solved once, its picture's layout
in each language, and the boxes of everything a layout draws."""
from __future__ import annotations

import functools
import itertools

from symprop.document.diagram import diagram
from symprop.document.formulas import Formulas
from symprop.document.layer_diagram import layer_diagram
from symprop.document.options import DocumentOptions
from symprop.document.placement import Box
from symprop.files import spec
from symprop.model.stack import LayerStack

EXAMPLES = tuple(spec.builtin_examples())
LANGUAGES = ("en", "ko")


@functools.lru_cache(maxsize=None)
def solution(name: str):
    from symprop.outputs.pipeline import solve

    return solve(spec.load_builtin(name))


@functools.lru_cache(maxsize=None)
def solved_file(text: str):
    """A network file's text solved once for every test that draws it."""
    from symprop.outputs.pipeline import solve

    return solve(spec.loads(text))


@functools.lru_cache(maxsize=None)
def layout(name: str, lang: str = "en") -> dict:
    solved = solution(name)
    if isinstance(solved.derivation.network, LayerStack):  # drawn by layer, as its document draws it
        return layer_diagram(solved.derivation.network)
    return diagram(Formulas(solved.derivation, solved.example, DocumentOptions(lang=lang)))


def box(mapping) -> Box:
    return Box(mapping["x"], mapping["y"], mapping["hw"], mapping["hh"])


def drawn_boxes(drawn: dict) -> list[tuple[str, Box]]:
    """``(what, box)`` for each node, each text under a node, each placed edge label and each legend entry."""
    boxes = [(f"node {n['name']}", box(n)) for n in drawn["nodes"]]
    boxes += [(f"text {t['plain']} of {n['name']}", box(t)) for n in drawn["nodes"] for t in n["texts"]]
    boxes += [(f"label {e['from']}->{e['to']}", box(e["box"])) for e in drawn["edges"] if e["box"]]
    boxes += [(f"legend {entry['text']}", box(entry["box"])) for entry in drawn["legend"]]
    return boxes


def overlapping(boxes) -> list[tuple[str, str]]:
    """The pairs of ``(what, box)`` whose boxes intersect."""
    return [(a, b) for (a, p), (b, q) in itertools.combinations(boxes, 2) if p.meets(q, -0.005)]  # touching (rounded to 0.001) is not overlapping
