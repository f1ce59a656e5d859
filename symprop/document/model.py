r"""A derivation document, independent of any output format.

A :class:`Document` is a title and a list of :class:`Section`\ s; a section is a
key (``"loss"``, ``"check"``, ...) and a list of blocks, each one of a few
kinds that every writer knows how to set:

``heading``   a section or subsection title (:class:`Heading`);
``paragraph`` prose with inline math (:class:`Paragraph`);
``equation``  display math as aligned rows (:class:`Equation`);
``table``     rows of cells under a header (:class:`Table`);
``figure``    the picture of the network, laid out once (:class:`Figure`);
``plot``      a curve such as the training loss (:class:`Plot`);
``code``      source code, such as a generated backward pass (:class:`Code`).

Everything mathematical arrives printed as LaTeX; prose arrives as a key into
the language's table (:mod:`symprop.document.i18n`) with its placeholders'
values, so a writer only escapes the prose and adds its format's delimiters.
A new section is a builder that returns blocks; a new format is a writer
with one macro per block kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Union


@dataclass(frozen=True)
class Math:
    """Inline math, already printed as LaTeX."""

    tex: str


@dataclass(frozen=True)
class Mark:
    """A yes/no cell (a check mark or a cross)."""

    ok: bool


#: What a placeholder of prose or a table cell may hold: literal text or inline math.
Fragment = Union[str, Math, Mark]


@dataclass(frozen=True)
class Prose:
    """A sentence of the language table, ``text[key]``, with ``{name}`` placeholders
    filled from ``values`` (literal text, or :class:`Math` set inline)."""

    key: str
    values: Mapping[str, Fragment] = field(default_factory=dict)


@dataclass(frozen=True)
class Heading:
    """A title of ``level`` 2 (section) or 3 (subsection); ``key`` names what the
    subsection is about, such as the parameter whose derivation follows (``"w5"``),
    for writers that link to it (the HTML page)."""

    prose: Prose
    level: int = 2
    key: str | None = None
    kind: str = field(default="heading", init=False)


@dataclass(frozen=True)
class Paragraph:
    prose: Prose
    kind: str = field(default="paragraph", init=False)


@dataclass(frozen=True)
class Equation:
    r"""Display math: one row, or aligned rows (``lhs &= a``, ``&= b``)."""

    rows: tuple[str, ...]
    kind: str = field(default="equation", init=False)

    @property
    def single(self) -> bool:
        return len(self.rows) == 1


@dataclass(frozen=True)
class Table:
    """``header`` (prose per column), ``align`` (one of ``l r c`` per column) and rows
    of cells."""

    header: tuple[Prose, ...]
    align: str
    rows: tuple[tuple[Fragment, ...], ...]
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Figure:
    """The picture of the network: ``layout`` holds positioned nodes and labelled
    edges (:func:`symprop.document.diagram.diagram`), computed once for every format."""

    layout: Mapping
    kind: str = field(default="figure", init=False)


@dataclass(frozen=True)
class Plot:
    """A curve through ``points`` (x, y), with axis labels and a title."""

    points: str
    xlabel: Prose
    ylabel: Prose
    title: Prose
    kind: str = field(default="plot", init=False)


@dataclass(frozen=True)
class Code:
    """Source code in ``language``, set verbatim."""

    language: str
    text: str
    kind: str = field(default="code", init=False)


Block = Union[Heading, Paragraph, Equation, Table, Figure, Plot, Code]


@dataclass(frozen=True)
class Section:
    key: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A whole derivation document: its title, language and sections in reading order, and
    the paper its LaTeX is set on (``a4`` or ``letter``)."""

    title: str
    lang: str
    sections: tuple[Section, ...]
    paper: str = "letter"

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(b for s in self.sections for b in s.blocks)


def paragraph(key: str, **values: Fragment) -> Paragraph:
    return Paragraph(Prose(key, values))


def heading(key: str, level: int = 2, **values: Fragment) -> Heading:
    return Heading(Prose(key, values), level)


def equation(rows) -> Equation:
    """An :class:`Equation` from one row (a string) or a list of rows."""
    return Equation((rows,) if isinstance(rows, str) else tuple(rows))


def section(key: str, *blocks: Block | None) -> Section:
    """A section of the given blocks, ``None`` entries left out."""
    return Section(key, tuple(b for b in blocks if b is not None))
