r"""The Markdown, LaTeX and HTML writers of the document model, through Jinja2 templates.

:func:`symprop.document.build.build_document` makes a format-neutral
:class:`~symprop.document.model.Document`; a writer renders it with the shared
skeleton (``templates/skeleton.j2``: the sections' blocks in order) and its
format's macros, one per block kind (``templates/<format>/blocks.*.j2``).
Templates never call SymPy and never do math.

One Jinja2 environment per format, with delimiters that cannot clash with TeX
(``((* block *))``, ``((( value )))``, ``((= comment =))``): Jinja's defaults
break on ``{#1}`` in a ``\newcommand`` and silently turn ``a^{{2}}`` into
``a^2``. ``StrictUndefined`` makes a missing context field an error. Prose is
escaped by the ``say``, ``esc`` and ``fill`` filters; printed math is never escaped.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import jinja2

from symprop.errors import SympropError
from symprop.outputs.user_templates import reported_template_errors
from symprop.document.build import build_document, expect_derivation
from symprop.document.i18n import prose, with_particles
from symprop.document.model import Document, Mark, Math
from symprop.document.options import document_options
from symprop.outputs import html, page, svg
from symprop.outputs.template_cache import bytecode_cache
from symprop.printing.rows import math_lines

FORMATS = ("markdown", "latex", "html")
#: Per format: its document template (extending the skeleton) and its block macros.
TEMPLATE_NAMES = {"markdown": "markdown/document.md.j2", "latex": "latex/document.tex.j2",
                  "html": "html/document.html.j2"}
BLOCK_TEMPLATES = {"markdown": "markdown/blocks.md.j2", "latex": "latex/blocks.tex.j2",
                   "html": "html/blocks.html.j2"}


def render_markdown(derivation, example=None, *, template_dir=None, picture_file=None, **settings) -> str:
    """The derivation as Markdown for ``flavor``: ``github`` (``$…$`` inline,
    fenced ``math`` blocks, the picture in Mermaid), ``kramdown`` (``$$`` only, inline
    too; Jekyll) or ``dollar`` (``$``/``$$``: Hugo passthrough, Obsidian, Jupyter,
    pandoc), whose picture is an SVG image: ``picture_file`` (written beside the
    Markdown, :func:`render_svg`), or without one the SVG itself as a ``data:`` URL.
    ``settings``: the document options (:mod:`symprop.document.options`)."""
    expect_derivation("render_markdown", derivation, example)
    options = document_options(**settings)
    return write_markdown(document_of(derivation, example, options), flavor=options.flavor, template_dir=template_dir,
                          picture_file=picture_file)


def render_svg(derivation, example=None, *, template_dir=None, **settings) -> str | None:
    """The document's picture as an SVG file's text, or None when it has no picture
    (``template_dir`` is accepted as the other writers take it; the SVG has no template)."""
    expect_derivation("render_svg", derivation, example)
    return write_svg(document_of(derivation, example, document_options(**settings)))


def write_svg(document: Document) -> str | None:
    layout = next((b.layout for b in document.blocks if b.kind == "figure"), None)
    if layout is None or layout["kind"] == "none":
        return None
    return svg.svg_document(layout, document.title)


def render_latex(derivation, example=None, *, fragment=False, template_dir=None, **settings) -> str:
    """The derivation as a complete LaTeX document (amsmath, hyperref with the title
    as PDF title, kotex for Korean), or with ``fragment=True`` a body to ``\\input``."""
    expect_derivation("render_latex", derivation, example)
    options = document_options(**settings)
    return write_latex(document_of(derivation, example, options), fragment=fragment, template_dir=template_dir)


def render_html(derivation, example=None, *, template_dir=None, **settings) -> str:
    """The derivation as one self-contained interactive HTML page: KaTeX inlined (no
    request to any host), the picture as SVG whose weights and biases highlight their
    paths to the loss and their derivations, and a stepper through the worked example."""
    expect_derivation("render_html", derivation, example)
    options = document_options(**settings)
    return write_html(document_of(derivation, example, options), derivation, example,
                      digits=options.digits, template_dir=template_dir)


def write_html(document: Document, derivation, example=None, *, digits: int = 9, template_dir=None) -> str:
    page = html.page_data(document, derivation, example, digits, prose(document.lang))
    return _render("html", template_dir, document, flavor="html", page=page, page_steps=html.stepped(derivation, example),
                   page_parameters={p.name for p in derivation.graph.parameters},
                   **html.assets(str(packaged_templates() / "html")))


def write_markdown(document: Document, *, flavor: str = "github", template_dir=None, picture_file=None) -> str:
    document_options(flavor=flavor)  # the options table refuses an unknown flavor
    if flavor != "github" and picture_file is None:
        drawn = write_svg(document)
        picture_file = "" if drawn is None else svg.data_url(drawn)
    return _render("markdown", template_dir, document, flavor=flavor, picture_file=picture_file or "")


def write_latex(document: Document, *, fragment: bool = False, template_dir=None) -> str:
    """The LaTeX of ``document``, for pdflatex: kotex is loaded for Korean and for any
    Hangul (a title, a name); a character pdflatex cannot set is refused up front
    (:func:`refuse_untypesettable`), so a PDF never fails on it."""
    needs = {"kotex": document.lang == "ko" or bool(HANGUL.search(document.title)), "angles": False}
    paged = page.for_the_page(document)
    while True:
        text = _render("latex", template_dir, paged, fragment=bool(fragment), flavor="latex", **needs)
        # Hangul in a name, or a name's < and > (as \lt, \gt, which only MathJax and KaTeX
        # know): rendered again with what they need, which ordinary documents do not
        found = {"kotex": needs["kotex"] or bool(HANGUL.search(text)),
                 "angles": needs["angles"] or "\\lt{}" in text or "\\gt{}" in text}
        if found == needs:
            break
        needs = found
    refuse_untypesettable(text, document.title, needs["kotex"])
    return text


class TypesettingError(SympropError, ValueError):
    """A character the LaTeX document cannot set, said in one line."""


#: Hangul, for which the LaTeX writer loads kotex.
HANGUL = re.compile("[\u3130-\u318f\uac00-\ud7a3]")
#: What pdflatex sets with T1 fonts and UTF-8 input: printable ASCII and every character LaTeX's
#: ``t1enc.dfu``, ``ts1enc.dfu``, ``omsenc.dfu`` and ``ot1enc.dfu`` declare, and the three of
#: ``utf8enc.dfu`` that compile with them (each tried, TeX Live 2022); with
#: kotex also Hangul syllables and compatibility jamo, CJK punctuation, full-width forms and Hanja
#: (tried one by one: the old jamo of U+1100 have no font).
_TYPESET = (
    "\n\t\x20-\x7e\u00a0-\u0125\u0128-\u0137\u0139-\u013e\u0141-\u0148\u014a-\u0165\u0168-\u017e"
    "\u0192\u01c4-\u01d4\u01e2-\u01e3\u01e6-\u01eb\u01f0\u01f4-\u01f5\u0218-\u021b\u0232-\u0233\u0237"
    "\u02c6\u02c7\u02d8-\u02d9\u02dc\u02db\u02dd\u0e3f\u1e02-\u1e03\u1e0d\u1e1e-\u1e21\u1e25\u1e30-\u1e31\u1e37"
    "\u1e43\u1e45\u1e47\u1e5b\u1e63\u1e6d\u1e8e-\u1e91\u1e9e\u1ef2-\u1ef3\u200c\u2010-\u2016\u2018-\u201a"
    "\u201c-\u201e\u2020-\u2022\u2026\u2030-\u2031\u2039-\u203b\u203d\u2044\u204e\u2052\u20a1\u20a4\u20a6"
    "\u20a9\u20ab-\u20ac\u20b1\u2103\u2116-\u2117\u211e\u2120\u2122\u2126-\u2127\u212e\u2190-\u2193"
    "\u2329-\u232a\u2422-\u2423\u25e6\u25ef\u266a\u27e8-\u27e9\u3008-\u3009\ufb00-\ufb06\ufeff"
)
_KOTEX = "\u3000-\u303f\u3130-\u318f\u4e00-\u9fff\uac00-\ud7a3\uff01-\uff5e"
_UNTYPESET = {False: re.compile(f"[^{_TYPESET}]"), True: re.compile(f"[^{_TYPESET}{_KOTEX}]")}


def refuse_untypesettable(tex: str, title: str, kotex: bool) -> None:
    """A :class:`TypesettingError` naming the first character of ``tex`` that pdflatex
    cannot set (right-to-left scripts, zero-width and direction marks, emoji, ...) and
    where it is: the title, or the text around it."""
    found = _UNTYPESET[kotex].search(tex)
    if found is None:
        return
    c = found.group()
    name = unicodedata.name(c, "a control character")
    where = "the title" if c in title else f"the text {tex[max(0, found.start() - 20):found.start()]!r}"
    raise TypesettingError(f"{where} has U+{ord(c):04X} ({name}), which the LaTeX document cannot typeset: "
                           "leave it out for LaTeX and PDF (Markdown, HTML and JSON keep it)")


def document_of(derivation, example, options) -> Document:
    """The document, built once for the last derivation, example and options: writing
    one derivation as Markdown in several flavors and as LaTeX prints every formula
    once (derivations and worked examples are frozen, so the same objects give the
    same document; the flavor is the writer's, not the document's)."""
    key = (derivation, example, document_options(options, flavor="github"))
    cached = _last_document.get("key")
    if cached is not None and cached[0] is key[0] and cached[1] is key[1] and cached[2] == key[2]:
        return _last_document["document"]
    document = build_document(derivation, example, options)
    _last_document.update(key=key, document=document)
    return document


_last_document: dict = {}


def _render(fmt: str, template_dir, document: Document, **format_options) -> str:
    environment = template_environment(fmt, None if template_dir is None else str(Path(template_dir).resolve()))
    packaged = "symprop/" + BLOCK_TEMPLATES[fmt]
    # without a user's folder both imports name the packaged macros, which Jinja then compiles once
    blocks = BLOCK_TEMPLATES[fmt] if template_dir is not None else packaged
    context = {"document": document, "text": prose(document.lang), "blocks_template": blocks,
               "packaged_blocks": packaged, **format_options}
    with reported_template_errors(template_dir):
        text = environment.get_template(TEMPLATE_NAMES[fmt]).render(context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def packaged_templates() -> Path:
    """The templates shipped with symprop: the source tree's top-level ``templates/``,
    or the installed package ``symprop.templates``."""
    source_tree = Path(__file__).resolve().parents[2] / "templates"
    if (source_tree / "markdown").is_dir():
        return source_tree
    from importlib.resources import files

    return Path(str(files("symprop.templates")))


#: Every environment's settings (the delimiters and whitespace control shape the compiled code).
ENVIRONMENT_SETTINGS = dict(
    block_start_string="((*", block_end_string="*))",
    variable_start_string="(((", variable_end_string=")))",
    comment_start_string="((=", comment_end_string="=))",
    undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
)


@functools.cache
def _compiled_templates():
    """The bytecode cache every environment shares (:mod:`symprop.outputs.template_cache`)."""
    return bytecode_cache(ENVIRONMENT_SETTINGS)


@functools.lru_cache(maxsize=None)
def template_environment(fmt: str, template_dir: str | None = None):
    """The Jinja2 environment of ``fmt`` (one per format and template folder).

    Lookup: the user's ``template_dir`` first, then the packaged templates; a
    user's template may ``((* extends "symprop/markdown/document.md.j2" *))``
    to override single blocks of the packaged one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    packaged = jinja2.FileSystemLoader(str(packaged_templates()))
    loaders = [jinja2.FileSystemLoader(template_dir)] if template_dir else []
    loaders += [packaged, jinja2.PrefixLoader({"symprop": packaged})]
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), bytecode_cache=_compiled_templates(),
                                     **ENVIRONMENT_SETTINGS)
    escape = {"latex": latex_escape, "html": html.html_escape}.get(fmt, markdown_escape)
    environment.filters.update(
        esc=escape,
        fill=functools.partial(fill, escape=escape),
        inline=_inline,
        display={"latex": _latex_display, "html": html.display_tex}.get(fmt, _markdown_display),
        say=_say, cell=_cell, page_table=_page_table, picture=html.picture, plot_line=html.plot, fence=fence,
    )
    return environment


@jinja2.pass_context
def _say(context, sentence) -> str:
    """A :class:`~symprop.document.model.Prose` sentence in the document's language,
    escaped for the format, its placeholders filled (math set inline), each Korean
    particle in the form that follows its placeholder's final sound."""
    environment = context.environment
    spoken = {k: v.tex if isinstance(v, Math) else str(v) for k, v in sentence.values.items()}
    text = with_particles(context["text"][sentence.key], spoken)
    values = {k: _cell(context, v) for k, v in sentence.values.items()}
    return environment.filters["fill"](text, **values)


@jinja2.pass_context
def _cell(context, fragment) -> str:
    """A table cell or placeholder: inline math, a check mark, or literal text."""
    flavor = context["flavor"]
    if isinstance(fragment, Math):
        return inline_math(flavor, fragment.tex)
    if isinstance(fragment, Mark):
        marks = ("$\\checkmark$", "$\\times$") if flavor == "latex" else ("✓", "✗")
        return marks[0] if fragment.ok else marks[1]
    return context.environment.filters["esc"](fragment)  # literal text is prose: escaped like it


# --- prose escaping -----------------------------------------------------------

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_LATEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIALS))


def latex_escape(text) -> str:
    r"""Prose made inert for TeX: every special character printed literally, so
    ``\input{/etc/passwd}``, ``\write18`` and ``^^5c`` come out as text."""
    one_line = re.sub(r"\s*\n\s*", " ", str(text))  # a blank line would end a paragraph inside \title{}
    return _LATEX_SPECIAL.sub(lambda m: _LATEX_SPECIALS[m.group()], one_line)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~&{}])|^([#+\-=>])")


def markdown_escape(text) -> str:
    """Prose made literal for CommonMark: the ASCII punctuation that starts inline
    markup (emphasis, code, links, HTML, math, tables, entities) is backslash-escaped,
    and so is a leading character that would start a block; newlines become spaces.
    Braces too, for kramdown: ``{::nomarkdown}`` and ``{: .class}`` come out as text."""
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), re.sub(r"\s*\n\s*", " ", str(text)))


def fence(text) -> str:
    """A Markdown code fence longer than any run of backquotes in ``text`` (at least three),
    so that nothing inside can close it."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    return "`" * max(3, longest + 1)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(prose: str, escape=markdown_escape, **math) -> str:
    """``prose`` with its ``{name}`` placeholders replaced by ``math[name]`` (already
    printed, inserted as is) and every other character escaped for the format."""
    return "".join([str(math[piece]) if i % 2 else piece for i, piece in enumerate(_escaped_pieces(prose, escape))])


@functools.lru_cache(maxsize=4096)
def _escaped_pieces(prose: str, escape) -> tuple[str, ...]:
    """``prose`` split at its placeholders: the text between them escaped, the names (odd
    places) as they are. One sentence serves every parameter of a large document, so its
    text is escaped once rather than once per use."""
    return tuple(piece if i % 2 else escape(piece) for i, piece in enumerate(_PLACEHOLDER.split(prose)))


def inline_math(flavor: str, tex: str) -> str:
    """``$tex$``, ``$$tex$$`` for kramdown, which reads only ``$$`` as math, or the HTML
    page's span that KaTeX sets."""
    if "\n" in tex:
        raise ValueError("inline math must be one line")
    if flavor == "html":
        return html.inline_tex(tex)
    return f"$${tex}$$" if flavor == "kramdown" else f"${tex}$"


@jinja2.pass_context
def _inline(context, tex: str) -> str:
    return inline_math(context["flavor"], tex)


@jinja2.pass_context
def _markdown_display(context, rows) -> str:
    """A fenced ``math`` block for GitHub; ``$$`` on their own lines otherwise."""
    body = math_lines(rows)
    if not body.strip():
        return ""  # no rows: no empty math block
    if context["flavor"] == "github":
        return f"```math\n{body}\n```"
    return f"$$\n{body}\n$$"


@jinja2.pass_context
def _latex_display(context, rows) -> str:
    r"""``\[ ... \]`` for one equation, ``align*`` for aligned rows, laid out for the document's paper."""
    return page.display(rows, context["document"].paper)


@jinja2.pass_context
def _page_table(context, table) -> page.PageTable:
    """A table laid out for the document's paper (column groups, a wrapped wide column)."""
    return page.page_table(table, [_say(context, h) for h in table.header], context["document"].paper)
