r"""How a name is written in TeX: the one home for escaping names, whatever their source.

A name reaches a document from a network file, from Python (``Graph`` symbols,
``nn.Dense(names=...)``, ``nn.mlp`` inputs and targets) or from the command line;
every one of them is printed by :func:`symbol_tex` (a whole symbol) or
:func:`name_text` (a name inside a notation's LaTeX, such as a unit in
``out_{h1}``), here and nowhere else. The LaTeX printer
(:mod:`symprop.printing.latex`) prints symbols through them; prose around the math
(titles, sentences, table cells) is escaped by the writers' filters in
:mod:`symprop.outputs.render`.

A plain identifier (a letter, then letters, digits and ``_``) is printed as SymPy
prints it: ``w1`` -> ``w_{1}``, ``alpha`` -> ``\alpha``, ``x__2`` -> ``x^{2}``. Any
other name is printed upright, character by character, with every character that
means something to TeX, Markdown or HTML written as a command that prints it:
``\input{/etc/passwd}`` comes out as those characters, never as an ``\input``; the
result holds no ``$``, ``#``, ``%``, ``&``, ``<``, ``>``, ``|``, ``*``, backquote,
raw brace pair or newline of the name's own. Distinct names give distinct text
(:func:`distinct_names` settles the names SymPy's convention would print alike).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Mapping

#: A name SymPy's printer reads as its author meant: a letter, then letters, digits, ``_``.
PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

#: The characters of a name written as TeX commands (valid in LaTeX math, MathJax and
#: KaTeX alike; ``\lt`` and ``\gt`` are defined by the LaTeX writer's preamble).
_COMMANDS = {
    "\\": r"\backslash{}", "{": r"\lbrace{}", "}": r"\rbrace{}", "$": r"\$", "#": r"\#", "%": r"\%",
    "&": r"\&", "_": r"\_", "^": r"\hat{\ }", "~": r"\sim{}", "<": r"\lt{}", ">": r"\gt{}",
    "|": r"\vert{}", "*": r"\ast{}", "`": r"\backprime{}", "[": r"\lbrack{}", "]": r"\rbrack{}",
    " ": r"\ ", '"': r"\text{''}", "'": r"\prime{}",
}
#: ASCII that is the same in TeX math, Markdown and HTML.
_INERT = re.compile(r"[A-Za-z0-9!()+,\-./:;=?@]")


#: The commands a name may hold and still be printed as TeX: letters and accents, no
#: command that reads a file, writes, defines or changes how TeX reads.
SAFE_COMMANDS = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi "
    "rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Upsilon Phi Psi Omega nabla partial ell hat bar tilde vec dot ddot mathrm mathbf prime".split()
)
_TEX_TOKEN = re.compile(r"\\([A-Za-z]+)|([_^])(?=[{A-Za-z0-9\\])|([{}])|([A-Za-z0-9 (),.'+\-=/:;!?])")


def is_safe_tex(name: str) -> bool:
    r"""Whether ``name`` may be printed as the TeX it is: a plain identifier, or TeX made of
    letters, digits, inert punctuation, balanced braces, ``_`` and ``^`` before a group or
    a letter, and :data:`SAFE_COMMANDS` (``z^{(1)}``, ``\delta^{(2)}``: the names of the
    matrix forms). ``$``, ``%``, ``&``, ``#``, ``~``, ``^^``, ``\input`` and the like are not."""
    if PLAIN_NAME.match(name):
        return True
    depth, position = 0, 0
    for token in _TEX_TOKEN.finditer(name):
        if token.start() != position or (token.group(1) and token.group(1) not in SAFE_COMMANDS):
            return False
        depth += {"{": 1, "}": -1}.get(token.group(3), 0)
        if depth < 0:
            return False
        position = token.end()
    return position == len(name) and depth == 0 and bool(name)


def symbol_tex(name: str) -> str:
    r"""The LaTeX of a symbol named ``name``: SymPy's for a plain identifier or safe TeX
    (:func:`is_safe_tex`), else :func:`upright` (``a$b`` -> ``\mathrm{a\$b}``)."""
    if PLAIN_NAME.match(name):
        return upright_words(_sympy_tex(name))
    if is_safe_tex(name):
        return _sympy_tex(name)
    return upright(name)


def _sympy_tex(name: str) -> str:
    import sympy  # here, not above: the command line's start-up imports the notations, which import this

    return sympy.latex(sympy.Symbol(name))


#: A word of SymPy's printing of a plain name: its base at the start, or a script group.
_WORD = re.compile(r"\A([A-Za-z]{2,})(?=[_^]|\Z)|(?<=[_^]\{)([A-Za-z]{3,})(?=\})")


def upright_words(tex: str) -> str:
    r"""SymPy's TeX of a plain name with its words upright, as a careful TeX author sets
    them: a base of two letters or more (``net_{h1}`` -> ``\mathrm{net}_{h1}``) and a script
    of three letters or more (``E_{total}`` -> ``E_{\mathrm{total}}``); one-letter names,
    index pairs (``x_{ij}``), Greek letters and accents (``\alpha``, ``\dot{x}``) stay as
    SymPy writes them."""
    return _WORD.sub(lambda m: rf"\mathrm{{{m.group()}}}", tex)


def upright(name: str) -> str:
    r"""``name`` set upright, every character as itself: ``w_1`` -> ``\mathrm{w\_1}``."""
    return rf"\mathrm{{{name_text(name)}}}"


# A network's few unit names recur in every one of its thousands of symbols.
@lru_cache(maxsize=8192)
def name_text(name: str) -> str:
    r"""``name`` as TeX math that prints its characters literally (inside a subscript or
    ``\mathrm``): letters and digits as they are, specials as commands, other
    characters as ``\text{é}``, invisible ones (controls, zero-width, direction marks) as
    their code point ``\langle U{+}200B\rangle``, so that they show and stay distinct."""
    return "".join(_character(c) for c in str(name))


def _character(c: str) -> str:
    if c in _COMMANDS:
        return _COMMANDS[c]
    if _INERT.match(c):
        return c
    if unicodedata.category(c)[0] in "CZ" or not c.isprintable():
        return rf"\langle U{{+}}{ord(c):04X}\rangle{{}}"
    return rf"\text{{{c}}}"


def distinct_names(names: Mapping[object, str], raw: Mapping[object, str]) -> dict[object, str]:
    r"""``names`` (symbol -> LaTeX) with the symbols that would print alike printed
    upright from their ``raw`` names instead: ``w1`` and ``w_1`` both read ``w_{1}`` by
    SymPy's convention, so they print ``\mathrm{w1}`` and ``\mathrm{w\_1}``; a name no
    other symbol shares keeps its LaTeX. Deterministic: it depends only on the names."""
    holders: dict[str, list] = {}
    for symbol, tex in names.items():
        holders.setdefault(tex, []).append(symbol)
    settled = dict(names)
    for tex, symbols in holders.items():
        if len(symbols) > 1:
            settled.update({s: upright(raw[s]) for s in symbols})
    return settled


def first_clash(names: Mapping[object, str]) -> tuple[object, object] | None:
    """Two symbols whose LaTeX is the same, or None."""
    seen: dict[str, object] = {}
    for symbol, tex in names.items():
        if tex in seen:
            return seen[tex], symbol
        seen[tex] = symbol
    return None
