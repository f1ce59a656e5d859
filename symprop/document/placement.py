"""The geometry of a picture: how large its texts are, where an edge runs, and where
each edge's label can go without covering another label, a node or an edge it does
not belong to.

Lengths are centimetres (TikZ's unit); the SVG drawing scales them to pixels. Text is
measured by an estimate that errs on the wide side, in ems of the picture's label
font (:data:`LABEL_PT` points): an estimate, because the layout is computed once,
before any renderer sets a glyph, and wide because a label that comes out narrower
than its box still overlaps nothing.
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

#: The size of the labels' font (LaTeX's ``\scriptsize`` in an 11 pt document) and of node names (``\footnotesize``).
LABEL_PT = 8.0
NAME_PT = 9.0
CM_PER_PT = 2.54 / 72.27
#: The height of one line of label text (``\scriptsize``'s 9.5 pt baseline skip), in centimetres.
LINE_CM = 9.5 * CM_PER_PT
#: Extra space between the lines of an edge's label: a name with a subscript under a superscript
#: (``w^{(2)}_{21}``) reaches below its line, and would touch the gradient under it.
LABEL_LEAD_PT = 1.5
#: Clearance kept between a label and anything else, in centimetres.
CLEARANCE = 0.06
#: Where along its edge a label may sit (fractions of the way from source to target), most wanted first.
ALONG = (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75, 0.45, 0.55, 0.2, 0.8, 0.36, 0.64, 0.28, 0.72, 0.16, 0.84)

#: Widths in ems, chosen a little wider than Computer Modern's (and than a sans-serif SVG font at
#: the size the SVG drawing uses), so an estimated box holds the text set in either.
_WIDE = {"m": 0.9, "w": 0.76, "M": 1.0, "W": 1.05, "∂": 0.6, "−": 0.8, "-": 0.8, "+": 0.8, "=": 0.8,
         "→": 1.0, "←": 1.0, ".": 0.3, ",": 0.3, " ": 0.34, "(": 0.4, ")": 0.4, "[": 0.3, "]": 0.3,
         "i": 0.36, "l": 0.36, "j": 0.42, "t": 0.42, "f": 0.5, "1": 0.54}


def char_width(c: str) -> float:
    """The estimated width of one character, in ems."""
    if c in _WIDE:
        return _WIDE[c]
    if "\uac00" <= c <= "\ud7a3" or "\u3130" <= c <= "\u318f":
        return 1.05
    if c.isdigit():
        return 0.54
    if c.isupper():
        return 0.78
    return 0.58


# A picture is laid out at several spacings and in several rows, each measuring every label again.
@lru_cache(maxsize=65536)
def text_width(text: str, pt: float = LABEL_PT) -> float:
    """The estimated width of a line of plain text, in centimetres."""
    return sum(map(char_width, text)) * pt * CM_PER_PT


_WRAPPERS = re.compile(r"\\(?:mathrm|mathit|mathbf|boldsymbol|operatorname|text|textcolor\{[^}]*\})\s*")
_COMMAND = re.compile(r"\\[A-Za-z]+\s*|\\.")


@lru_cache(maxsize=65536)
def tex_width(tex: str, pt: float = LABEL_PT) -> float:
    """The estimated width of inline math ``tex``, in centimetres: sub- and superscripts
    at 70 %, a subscript under a superscript no wider than the wider of the two, each
    command (``\\sigma``, ``\\cdot``) one character."""
    text = _WRAPPERS.sub("", tex).replace(r"\times", "=").replace(r"\cdot", ".").replace(r"\,", " ")
    text = _COMMAND.sub("x", text)
    return _math_ems(text) * pt * CM_PER_PT


def _math_ems(text: str) -> float:
    """Ems of ``text`` (commands already replaced): scripts grouped by braces at 70 %."""
    ems, pending, k = 0.0, [], 0
    while k < len(text):
        c = text[k]
        if c in "^_":
            group, k = _script(text, k + 1)
            pending.append(0.7 * _math_ems(group))
            continue
        ems += max(pending, default=0.0)
        pending = []
        if c not in "{}":
            ems += char_width(c)
        k += 1
    return ems + max(pending, default=0.0)


def _script(text: str, k: int) -> tuple[str, int]:
    """The script starting at ``text[k]`` (a braced group or one character) and the index after it."""
    if k < len(text) and text[k] == "{":
        depth = 0
        for end in range(k, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                return text[k + 1:end], end + 1
    return text[k:k + 1], k + 1


@dataclass(frozen=True)
class Box:
    """An upright rectangle by its centre and half sizes."""

    x: float
    y: float
    hw: float
    hh: float

    @property
    def left(self) -> float:
        return self.x - self.hw

    @property
    def right(self) -> float:
        return self.x + self.hw

    @property
    def bottom(self) -> float:
        return self.y - self.hh

    @property
    def top(self) -> float:
        return self.y + self.hh

    def meets(self, other: "Box", clearance: float = 0.0) -> bool:
        """Whether the boxes overlap, or come closer than ``clearance``."""
        return (abs(self.x - other.x) < self.hw + other.hw + clearance
                and abs(self.y - other.y) < self.hh + other.hh + clearance)

    def grown(self, by: float) -> "Box":
        return Box(self.x, self.y, self.hw + by, self.hh + by)


def union(boxes) -> Box:
    """The smallest box around ``boxes``."""
    boxes = list(boxes)
    left, right = min(b.left for b in boxes), max(b.right for b in boxes)
    bottom, top = min(b.bottom for b in boxes), max(b.top for b in boxes)
    return Box((left + right) / 2, (bottom + top) / 2, (right - left) / 2, (top - bottom) / 2)


def segment_meets_box(p, q, box: Box) -> bool:
    """Whether the segment from ``p`` to ``q`` passes through ``box`` (Liang and Barsky's clipping)."""
    (x1, y1), (x2, y2) = p, q
    dx, dy = x2 - x1, y2 - y1
    low, high = 0.0, 1.0
    for step, room in ((-dx, x1 - box.left), (dx, box.right - x1), (-dy, y1 - box.bottom), (dy, box.top - y1)):
        if step == 0:
            if room < 0:
                return False
            continue
        t = room / step
        if step < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def border_point(centre, toward, shape: str, hw: float, hh: float) -> tuple[float, float]:
    """Where the line from ``centre`` toward the point ``toward`` leaves a node: a circle of
    radius ``hw``, or a box of half sizes ``hw`` by ``hh``."""
    (x, y), (tx, ty) = centre, toward
    dx, dy = tx - x, ty - y
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    if shape == "circle":
        t = hw / length
    else:
        t = min(hw / max(abs(dx), 1e-9), hh / max(abs(dy), 1e-9))
    return x + t * dx, y + t * dy


@dataclass
class Segment:
    """An edge as drawn, from ``p`` to ``q``."""

    p: tuple
    q: tuple

    def at(self, t: float) -> tuple[float, float]:
        return self.p[0] + t * (self.q[0] - self.p[0]), self.p[1] + t * (self.q[1] - self.p[1])


def candidates(segment: Segment, hw: float, hh: float, away: tuple = (1,)):
    """Boxes of size ``hw`` by ``hh`` a label may take: centred on its edge at each of
    :data:`ALONG`, then beside it, above and below, ``away`` label heights off it."""
    for t in ALONG:
        x, y = segment.at(t)
        yield Box(x, y, hw, hh)
    for distance in away:
        for t in ALONG:
            x, y = segment.at(t)
            for side in (1, -1):
                yield Box(x, y + side * distance * (hh + CLEARANCE * 2), hw, hh)


#: Places tried in turn, each first clear of other edges, then over them: on or just beside
#: the edge, then (where that is all taken) two to six label heights off it.
TIERS = ((1,), (2, 3), (4, 5, 6))


def place_labels(labels, segments, obstacles) -> tuple[list, set, set]:
    """A box for each label that overlaps no other label and no obstacle (nodes and their
    texts), or None where no such place exists; the labels that had to cover an edge not
    their own; and those that had to move off their edge by more than a label's height
    (where a reader may take them for another edge's). A label stays on or beside its edge when it can, clear of every other
    edge if it has such a place there, over one if not; only then does it move further off.

    ``labels``: ``(edge index, half width, half height)`` in the order they are placed;
    ``segments``: every edge as drawn; ``obstacles``: boxes nothing may cover."""
    placed: list[Box] = []
    result: list = [None] * len(labels)
    crossing: set[int] = set()
    far: set[int] = set()
    for k, (edge, hw, hh) in enumerate(labels):
        for tier, away in enumerate(TIERS):
            box, covers = _best_place(candidates(segments[edge], hw, hh, away), segments, edge, obstacles, placed)
            if box is not None:
                break
        if covers:
            crossing.add(k)
        if box is not None:
            placed.append(box)
            result[k] = box
            if tier:
                far.add(k)
    return result, crossing, far


def _best_place(boxes, segments, edge: int, obstacles, placed) -> tuple:
    """The first of ``boxes`` clear of everything, else the first clear of all but edges;
    and whether it covers an edge."""
    first_free = None
    for candidate in boxes:
        roomy = candidate.grown(CLEARANCE)
        if not _clear(roomy, obstacles, placed):
            continue
        if not _covers_edge(roomy, segments, edge):
            return candidate, False
        first_free = first_free or candidate
    return first_free, first_free is not None


def _clear(box: Box, obstacles, placed) -> bool:
    return not any(box.meets(b) for b in obstacles) and not any(box.meets(b) for b in placed)


def _covers_edge(box: Box, segments, own: int) -> bool:
    """Whether ``box`` lies on any segment but the ``own``-th. A segment wholly to one side of the
    box is passed over before the clipping: a deep network's picture has thousands of them."""
    left, right, bottom, top = box.left, box.right, box.bottom, box.top
    for j, s in enumerate(segments):
        (x1, y1), (x2, y2) = s.p, s.q
        if j == own or (x1 < left and x2 < left) or (x1 > right and x2 > right) or (
                y1 < bottom and y2 < bottom) or (y1 > top and y2 > top):
            continue
        if segment_meets_box(s.p, s.q, box):
            return True
    return False
