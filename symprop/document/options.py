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

#: Markdown flavors: ``github`` ($…$ inline, fenced ``math`` blocks), ``kramdown``
#: ($$ only, inline too; Jekyll), ``dollar`` ($/$$: Hugo passthrough, Obsidian, pandoc).
FLAVORS = ("github", "kramdown", "dollar")


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
    ``matrix_entries``: a matrix parameter is one matrix equation (False), followed by
    each entry's own derivation (True).
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
    matrix_entries: bool = False

    def __post_init__(self):
        if self.lang not in LANGUAGES:
            raise ValueError(f"unknown language {self.lang!r}: expected one of {', '.join(LANGUAGES)}")
        if self.flavor not in FLAVORS:
            raise ValueError(f"unknown Markdown flavor {self.flavor!r}: expected one of {', '.join(FLAVORS)}")
        if not isinstance(self.digits, int) or isinstance(self.digits, bool) or not 1 <= self.digits <= 1000:
            raise ValueError(f"digits must be a whole number from 1 to 1000, got {self.digits!r}")


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
