r"""How wide a row of display math is set, in points, in the documents' 10 pt Latin Modern:
the widths of Computer Modern's glyphs (rounded up), the math spacing TeX puts around a
relation (5 mu each side), a binary operator (4 mu) and after punctuation (3 mu), scripts at
7 pt and second-level scripts at 5 pt, a fraction as wide as its wider part.

An estimate, not TeX: measured against TeX's own boxes of every display row of the built-in
examples it is never short by more than a few percent (tests/printing/test_widths.py compiles
them), so a caller keeps a margin (:data:`MARGIN`) below the text width."""
from __future__ import annotations

import re
from functools import lru_cache

#: Text widths (points) of the paper settings of the LaTeX document: the paper less two 1.5 cm margins.
TEXT_WIDTH = {"letter": 614.295 - 85.358, "a4": 597.508 - 85.358}
#: What a row may fill of the text width, for the estimate's error.
MARGIN = 0.95

_MU = 10 / 18  # one math unit at 10 pt: 1/18 em
_RELATION, _BINARY, _PUNCT = 5 * _MU, 4 * _MU, 3 * _MU
#: Italic letters of cmmi10 (rounded up); capitals and anything unknown are 7.5.
_ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyz",
                   (5.3, 4.3, 4.4, 5.3, 4.7, 4.9, 4.8, 5.8, 3.5, 4.2, 5.3, 3.0, 8.8, 6.1, 4.9, 5.1, 4.5, 4.6, 4.7,
                    3.7, 5.8, 4.9, 7.2, 5.8, 4.9, 4.7)))
#: Italic capitals of cmmi10, with the italic correction a script after them adds.
_ITALIC_CAPITAL = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                           (7.5, 8.1, 7.9, 8.3, 7.9, 7.7, 7.9, 9.0, 5.1, 6.3, 9.0, 6.8, 10.3, 9.0, 7.7, 7.7, 7.9,
                            7.7, 6.9, 7.2, 7.9, 7.7, 10.6, 9.0, 7.7, 7.5)))
_UPRIGHT_LOWER, _CAPITAL, _DIGIT, _OTHER = 5.0, 7.6, 5.0, 7.8
_NARROW = {".": 2.8, ",": 2.8 + _PUNCT, ";": 2.8 + _PUNCT, ":": 2.8, "(": 3.9, ")": 3.9, "[": 2.8, "]": 2.8,
           "|": 2.8, "'": 2.8, "!": 2.8, "/": 5.0, " ": 0.0, "~": 3.4}
_RELATIONS = {"=", "<", ">"}
_BINARIES = {"+", "-", "*"}
#: Commands set as a glyph (points), before any spacing their class adds.
_GLYPHS = {"partial": 5.8, "cdot": 2.8, "odot": 7.8, "times": 7.8, "eta": 5.0, "sigma": 5.8, "delta": 4.5,
           "alpha": 6.5, "beta": 5.7, "gamma": 5.2, "epsilon": 4.1, "varepsilon": 4.7, "lambda": 5.9,
           "mu": 6.1, "theta": 4.7, "tau": 4.4, "pi": 5.8, "phi": 6.0, "varphi": 6.6, "psi": 6.9, "omega": 6.3,
           "Delta": 8.4, "Sigma": 7.3, "nabla": 8.4, "infty": 10.0, "sum": 14.5, "prod": 12.8, "ldots": 13.4,
           "cdots": 13.4, "dots": 13.4, "prime": 2.8, "checkmark": 8.4, "ell": 4.2, "lt": 7.8, "gt": 7.8,
           "le": 7.8, "ge": 7.8, "leq": 7.8, "geq": 7.8, "approx": 7.8, "ne": 7.8, "neq": 7.8, "to": 10.0,
           "rightarrow": 10.0, "mapsto": 10.0, "in": 6.7, "{": 5.0, "}": 5.0, "_": 5.0, "&": 7.8, "%": 8.4,
           "#": 8.4, "$": 5.0, "lbrace": 5.0, "rbrace": 5.0, "langle": 3.9, "rangle": 3.9, "mid": 2.8}
_RELATION_COMMANDS = {"lt", "gt", "le", "ge", "leq", "geq", "approx", "ne", "neq", "to", "rightarrow", "mapsto", "in"}
_BINARY_COMMANDS = {"cdot", "odot", "times", "pm", "mp"}
#: Spaces, in points.
_SPACES = {",": 3 * _MU, ":": 4 * _MU, ";": 5 * _MU, "!": -3 * _MU, " ": 3.3, "quad": 10.0, "qquad": 20.0}
#: Upright operator names (``\log``) and their thin space before an argument.
_NAMED = {"log", "exp", "max", "min", "tanh", "sin", "cos", "ln", "det"}
#: Commands whose argument is set as it is (a font or a style) or not at all.
_TRANSPARENT = {"mathrm", "operatorname", "mathbf", "boldsymbol", "mathit", "hat", "bar", "tilde", "vec",
                "mathsf", "mathcal", "overline", "displaystyle", "textstyle", "color", "textcolor"}
_ARGUMENTS = {"color": 1, "textcolor": 1}  # leading arguments set as nothing
_UPRIGHT = {"mathrm", "operatorname", "mathsf"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\S|\s+")
_MATRIX_ROW = re.compile(r"(?<!\\)\\\\")
_MATRIX_CELL = re.compile(r"(?<!\\)&")


@lru_cache(maxsize=65536)  # the page measures a row again as it tries each way of setting it
def row_width(tex: str) -> float:
    r"""About how many points ``tex`` (one row of display math, alignment points ignored) is wide."""
    return _Reader(tex).width()


@lru_cache(maxsize=65536)  # the same groups (a name, its scripts) recur in every row
def _group_width(tex: str, scale: float, upright: bool) -> float:
    return _Reader(tex, scale, upright).width()


class _Reader:
    """A left-to-right walk over the tokens of a math row, summing glyphs and spaces."""

    def __init__(self, tex: str, scale: float = 1.0, upright: bool = False):
        self.tokens = _TOKEN.findall(tex)
        self.at, self.scale, self.upright = 0, scale, upright
        self.previous = "start"  # the class of the last atom: start, ord, open, op, rel
        self.tall: list[bool] = []  # per open \\left: whether a fraction makes it tall

    def _holds_a_fraction(self) -> bool:
        """Whether a fraction stands before the ``\\right`` that closes the ``\\left`` just read."""
        depth = 1
        for token in self.tokens[self.at:]:
            depth += {"\\left": 1, "\\right": -1}.get(token, 0)
            if depth == 0:
                return False
            if token == "\\frac":
                return True
        return False

    def width(self) -> float:
        total = 0.0
        while self.at < len(self.tokens):
            total += self.atom()
        return total

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def group(self) -> str:
        """The next argument: a braced group's text, or one token."""
        while self.at < len(self.tokens) and self.tokens[self.at].isspace():
            self.at += 1
        if self.at >= len(self.tokens):
            return ""
        if self.tokens[self.at] != "{":
            return self.take()
        depth, parts = 0, []
        while self.at < len(self.tokens):
            token = self.take()
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0:
                break
            parts.append(token)
        return "".join(parts[1:])

    def inner(self, tex: str, scale: float | None = None, upright: bool | None = None) -> float:
        return _group_width(tex, self.scale if scale is None else scale, self.upright if upright is None else upright)

    def atom(self) -> float:
        token = self.take()
        if token == "{":  # a group: set as its content
            self.at -= 1
            return self.inner(self.group())
        if token.isspace() or token in "&}":
            return 0.0
        if token in "_^":
            return self.scripts(token)
        if token.startswith("\\"):
            return self.command(token[1:])
        return self.character(token)

    def scripts(self, first: str) -> float:
        """A subscript and/or superscript: the wider of the two, at the script size."""
        size = 0.78 if self.scale >= 1 else 0.68 / 0.78  # cmr7 and cmr5 are set wider than 7/10 and 5/10 of cmr10
        widths = [self.inner(self.group(), self.scale * size)]
        if self.at < len(self.tokens) and self.tokens[self.at] in "_^" and self.tokens[self.at] != first:
            self.take()
            widths.append(self.inner(self.group(), self.scale * size))
        self.previous = "ord"
        return max(widths) + 1.0 * self.scale

    def character(self, c: str) -> float:
        if c in _RELATIONS:
            return self.spaced(_OTHER, "rel")
        if c in _BINARIES:
            return self.spaced(_OTHER, "bin")
        kind = "open" if c in "([" else "ord"
        self.previous = kind
        if c in _NARROW:
            return _NARROW[c] * self.scale
        if c.isdigit():
            return _DIGIT * self.scale
        if c.islower() and c.isascii():
            return (_UPRIGHT_LOWER if self.upright else _ITALIC.get(c, _UPRIGHT_LOWER)) * self.scale
        if "\uac00" <= c <= "\ud7a3":
            return 10.0 * self.scale
        if not self.upright and c in _ITALIC_CAPITAL:
            return _ITALIC_CAPITAL[c] * self.scale
        return _CAPITAL * self.scale

    def spaced(self, glyph: float, kind: str) -> float:
        """A relation or binary operator with TeX's space on either side (none in scripts,
        and a binary sign after an opening, a relation or the start is unary: no space)."""
        unary = kind == "bin" and self.previous in ("start", "open", "rel", "bin")
        self.previous = "ord" if unary else kind
        if self.scale < 1 or unary:
            return glyph * self.scale
        return glyph + 2 * (_RELATION if kind == "rel" else _BINARY)

    def command(self, name: str) -> float:
        if name in _SPACES:
            return _SPACES[name] * self.scale
        if name == "frac":
            numerator, denominator = self.group(), self.group()
            self.previous = "ord"
            return max(self.inner(numerator), self.inner(denominator)) + 2.4 * self.scale
        if name in ("left", "right"):
            delimiter = self.take() if self.at < len(self.tokens) else "."
            if name == "left":
                self.tall.append(self._holds_a_fraction())
            tall = (self.tall.pop() if name == "right" and self.tall else self.tall[-1] if self.tall else False)
            self.previous = "open" if name == "left" else "ord"
            return (1.2 if delimiter == "." else 7.5 if tall else 5.5) * self.scale
        if name in ("hphantom", "phantom"):
            return self.inner(self.group())
        if name in ("text", "textrm", "mbox"):
            self.previous = "ord"
            return sum(10.0 if "\uac00" <= c <= "\ud7a3" else (3.3 if c == " " else 5.0) for c in self.group()) * self.scale
        if name in _TRANSPARENT:
            for _ in range(_ARGUMENTS.get(name, 0)):
                self.group()
            return self.inner(self.group(), upright=name in _UPRIGHT or self.upright) + (
                _RELATION * 0.6 if name == "operatorname" else 0.0)
        if name in _NAMED:
            self.previous = "ord"
            return (len(name) * _UPRIGHT_LOWER + 3 * _MU) * self.scale
        if name == "begin":
            return self.environment(self.group())
        if name in _RELATION_COMMANDS:
            return self.spaced(_GLYPHS[name], "rel")
        if name in _BINARY_COMMANDS:
            return self.spaced(_GLYPHS.get(name, _OTHER), "bin")
        self.previous = "ord"
        return _GLYPHS.get(name, _OTHER) * self.scale

    def environment(self, name: str) -> float:
        """A matrix or ``cases``: its widest cell of each column, the column gaps and the brackets."""
        start, depth = self.at, 1
        while self.at < len(self.tokens) and depth:
            token = self.take()
            if token == "\\begin":
                depth += 1
            elif token == "\\end":
                depth -= 1
        body = "".join(self.tokens[start:self.at - 1])
        self.group()  # the environment's name after \end
        rows = [_MATRIX_CELL.split(row) for row in _MATRIX_ROW.split(body)]
        columns = max(len(r) for r in rows)
        widest = [max((self.inner(r[k]) for r in rows if k < len(r)), default=0.0) for k in range(columns)]
        self.previous = "ord"
        brackets = 9.0 if name == "cases" else 8.0
        return sum(widest) + 10.0 * columns * self.scale + brackets


def text_width(text: str) -> float:
    """About how many points ``text`` is wide in the documents' 10 pt roman (Hangul 10 pt a syllable)."""
    return sum(10.0 if "\uac00" <= c <= "\ud7a3" else 3.3 if c == " " else 7.5 if c.isupper() else 5.0
               for c in text)
