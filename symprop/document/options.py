"""The options of a derivation document, declared once.

:data:`DEFAULTS` is the settings table (in the spirit of SymPy's
``Printer._default_settings``): every option a document takes, with its
default. :func:`document_options` builds a :class:`DocumentOptions` from
keyword settings and refuses unknown keys, naming the nearest known one.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, fields

from symprop.document.i18n import LANGUAGES
from symprop.errors import SympropError, WrongArgument

#: Markdown flavors: ``github`` ($…$ inline, fenced ``math`` blocks), ``kramdown``
#: ($$ only, inline too; Jekyll), ``dollar`` ($/$$: Hugo passthrough, Obsidian, pandoc).
FLAVORS = ("github", "kramdown", "dollar")

#: Paper sizes of the LaTeX document; with none chosen, Korean documents are set on A4 (the
#: paper of Korea, as of most of the world) and English ones on US Letter.
PAPERS = ("a4", "letter")

#: Every section a document may have, by its name on the command line, in reading order, with
#: whether it is shown by default: ``True`` always (when it applies: a check needs an example),
#: ``"dlfs"`` with the dlfs notation only, ``"graph"`` for a computational graph only (not a
#: layered network), ``"unless-only"`` unless the document is of chosen parameters (``only``).
SECTIONS = {
    "network": True, "forward": True, "loss": True, "output-parameters": True, "hidden-parameters": True,
    "biases": True, "parameters": True, "delta": True, "matrix": "unless-only", "layer-view": "dlfs",
    "node-rules": "graph", "check": True, "after-update": True,
}


class SectionError(SympropError, ValueError):
    """A section switch (``--sections``) that names no section, in one line with the known ones."""


def section_switches(text) -> tuple[str, ...]:
    """``"+layer-view,-matrix"`` (or a list of such items) as ``("+layer-view", "-matrix")``:
    ``name`` or ``+name`` switches a section on, ``-name`` off; the others keep their default.
    Underscores may stand for hyphens (``node_rules``); an unknown name is a :class:`SectionError`."""
    if not isinstance(text, (str, list, tuple, type(None))):
        raise WrongArgument("the sections option", "a string such as '+node-rules,-matrix' or a list of names", text)
    items = text.split(",") if isinstance(text, str) else list(text or ())
    switches = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        sign, name = (item[0], item[1:]) if item[0] in "+-" else ("+", item)
        name = name.strip().replace("_", "-")
        if name not in SECTIONS:
            near = difflib.get_close_matches(name, SECTIONS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise SectionError(f"unknown section {name!r}: {hint}(sections: {', '.join(SECTIONS)})")
        switches.append(sign + name)
    return tuple(switches)


@dataclass(frozen=True)
class DocumentOptions:
    """What a document shows and how.

    ``lang``: ``en`` or ``ko``; ``flavor``: the Markdown flavor (:data:`FLAVORS`);
    ``digits``: significant digits of every number; ``title``: the document's
    title (the network's own, or the language's default, when None);
    ``per_parameter``: one derivation per parameter (True), per layer (False), or
    per parameter up to ``summary_threshold`` parameters (None);
    ``long_sum``: affine sums with more terms print their first two, ``\\dots`` and the last;
    ``paths_shown``: chain-rule paths listed one by one at most;
    ``trace_rows``: rows of the training table at most;
    ``verify_matrix_up_to``: networks up to this many parameters get their matrix
    form proven entry by entry in the document, when their closed forms print
    as trees of at most ``proof_tree_limit`` nodes (the proof walks them);
    ``closed_form_limit``: a closed form whose printed tree has more nodes than
    this is left in delta form (it grows exponentially with depth);
    ``only``: the names of the parameters whose derivations the document shows (all when
    empty), with what they need: the network, the forward pass, the deltas they use;
    ``sections``: section switches (:func:`section_switches`), ``+name`` on, ``-name`` off,
    each section otherwise shown by its default in :data:`SECTIONS`;
    ``matrix_entries``: a matrix parameter is one matrix equation (False), followed by
    each entry's own derivation (True);
    ``picture_digits``: significant digits of the numbers in the picture (at most ``digits``).
    ``rules``: each factor's derivation shows the rule that gives it term by term (the sum
    rule, a constant multiple, the power rule with the inner derivative), as Mazur does;
    ``paper``: the LaTeX document's paper, one of :data:`PAPERS` (None: A4 for Korean, Letter otherwise);
    ``unrolled``: a recurrent network's picture shows every time step (one cell per step) rather than
    the cell rolled up with a loop; refused for a network without a recurrent layer.
    """

    lang: str = "en"
    flavor: str = "github"
    digits: int = 9
    title: str | None = None
    per_parameter: bool | None = None
    summary_threshold: int = 60
    long_sum: int = 6
    paths_shown: int = 8
    trace_rows: int = 21
    verify_matrix_up_to: int = 400
    proof_tree_limit: int = 20000
    closed_form_limit: int = 400
    only: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    matrix_entries: bool = False
    picture_digits: int = 4
    paper: str | None = None
    rules: bool = True
    unrolled: bool = False

    def __post_init__(self):
        if not isinstance(self.only, (str, list, tuple, type(None))):
            raise WrongArgument("the only option", "a parameter name or a list of them", self.only)
        only = (self.only,) if isinstance(self.only, str) else tuple(str(getattr(p, "name", p)) for p in self.only or ())
        object.__setattr__(self, "only", only)  # a tuple, so that options stay hashable
        object.__setattr__(self, "sections", section_switches(self.sections or ()))
        if self.lang not in LANGUAGES:
            raise ValueError(f"unknown language {self.lang!r}: expected one of {', '.join(LANGUAGES)}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"unknown Markdown flavor {self.flavor!r}: expected one of {', '.join(FLAVORS)}")
        if self.paper is not None and self.paper not in PAPERS:
            raise ValueError(f"unknown paper {self.paper!r}: expected one of {', '.join(PAPERS)}")
        if not isinstance(self.digits, int) or isinstance(self.digits, bool) or not 1 <= self.digits <= 1000:
            raise ValueError(f"digits must be a whole number from 1 to 1000, got {self.digits!r}")
        if not isinstance(self.picture_digits, int) or isinstance(self.picture_digits, bool) or not 1 <= self.picture_digits <= 30:
            raise ValueError(f"picture_digits must be a whole number from 1 to 30, got {self.picture_digits!r}")

    def summarises(self, parameters: int) -> bool:
        """Whether a network of ``parameters`` parameters is written per layer rather than
        per parameter (in documents and in the JSON's formulas)."""
        if self.per_parameter is not None:
            return not self.per_parameter
        return parameters > self.summary_threshold


#: The settings table: every document option and its default.
DEFAULTS = {f.name: f.default for f in fields(DocumentOptions)}


def document_options(options: DocumentOptions | None = None, **settings) -> DocumentOptions:
    """``options`` (or the defaults) with ``settings`` applied; an unknown key is an error
    that names the nearest option (``digit``: did you mean ``digits``?)."""
    for key in settings:
        if key not in DEFAULTS:
            near = difflib.get_close_matches(key, DEFAULTS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known options: {', '.join(DEFAULTS)}"
            raise TypeError(f"unknown document option {key!r}{hint}")
    base = {f.name: getattr(options, f.name) for f in fields(DocumentOptions)} if options else dict(DEFAULTS)
    return DocumentOptions(**{**base, **settings})


def paper_of(options: DocumentOptions) -> str:
    """The paper of the document: the one chosen, else A4 for Korean and Letter otherwise."""
    return options.paper or ("a4" if options.lang == "ko" else "letter")


def section_shown(options: DocumentOptions, name: str, *, notation: str | None, graph: bool) -> bool:
    """Whether the section ``name`` is switched on: its last switch in ``options.sections``,
    else its default in :data:`SECTIONS` for a network of ``notation`` (or a plain ``graph``)."""
    for switch in reversed(options.sections):
        if switch[1:] == name:
            return switch[0] == "+"
    default = SECTIONS[name]
    if default == "dlfs":
        return notation == "dlfs"
    if default == "graph":
        return graph
    if default == "unless-only":
        return not options.only
    return bool(default)
