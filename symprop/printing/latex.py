r"""LaTeX as the tutorials write it: a :class:`~sympy.printing.latex.LatexPrinter`
subclass with one ``_print_SympropFunction`` for all of symprop's functions.

* ``sigmoid(z)`` prints ``\sigma(z)``: each function prints as the LaTeX
  head of its record (:mod:`symprop.model.activations`, :mod:`symprop.model.losses`),
  ``relu`` and ``softmax`` as operator names; ``Heaviside(z, 0)`` (the derivative
  of ReLU) as the unit step ``H(z)``.
* Parentheses are plain ``(``, ``)`` around flat content and ``\left( \right)`` only
  around tall content (a fraction, a sum sign, an environment): :func:`sized_parentheses`.
* A product of factors sets ``\cdot`` where a factor's name is longer than one letter
  (``w_{5} \cdot \mathrm{out}_{h1}``) and juxtaposes single letters (``a_{k} \delta_{j}``):
  :func:`resolve_products`.
* An entry of an indexed base with a superscript sets its subscript under it
  (``w^{(1)}_{jk}``, not ``{w^{(1)}}_{j,k}``).
* ``Derivative(E, w)`` prints as the partial-derivative fraction
  ``\frac{\partial E_{total}}{\partial w_{5}}``, always with ``\partial``.
* :class:`ActivationPrime` ``(sigmoid(z))`` prints ``\sigma'(z)``.
* ``HadamardProduct`` prints with ``\odot``.
* Symbols take their LaTeX from the graph (``graph.latex_names``); an adjoint
  symbol with no name of its own prints as ``\frac{\partial E}{\partial v}``.
* A symbol's name is escaped, whatever its source, by :mod:`symprop.model.tex_names`
  (the one home for it): ``\input{/etc/passwd}`` prints its characters upright, and
  two symbols of one graph never print alike (``Graph.printed_names``).

Every string that leaves :func:`latex` is safe inside Markdown math: no ``*``,
``\{``, ``\}`` or ``|`` (they become ``\ast``, ``\lbrace``, ``\rbrace``,
``\vert``), which are equally valid LaTeX.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Mapping, Sequence

import sympy
from sympy import Basic, Derivative, Expr, Function, Symbol
from sympy.printing.latex import LatexPrinter
from sympy.printing.repr import ReprPrinter
from sympy.printing.precedence import PRECEDENCE

from symprop.model import functions
from symprop.model.tex_names import is_safe_tex, symbol_tex
# One definition in printing.numbers; document/ still imports these three from here.
from symprop.printing.numbers import number_names

CHAIN_ORDERS = ("loss_first", "parameter_first")


class ActivationPrime(Function):
    r"""A display form for the derivative of an activation at its argument:
    ``ActivationPrime(sigmoid(z))`` stands for ``sigma'(z)``. Never evaluated;
    it exists to be printed (``\sigma'\left(z\right)``)."""

    nargs = 1


class OrderedProduct(Expr):
    """A product printed with its factors in the given order (the chain order), which
    SymPy's ``Mul`` would sort. Display only: build it with :func:`ordered_product`."""

    precedence = PRECEDENCE["Mul"]


class OrderedSum(Expr):
    """A sum printed with its terms in the given order. Display only: :func:`ordered_sum`."""

    precedence = PRECEDENCE["Add"]


class Dots(Expr):
    r"""``\dots`` standing for the terms a long sum leaves out. Display only."""

    precedence = PRECEDENCE["Atom"]


class PrintsSharedOnce:
    """A printer mixin: each distinct sub-expression is printed once per printer.

    A network's closed forms share their downstream sums, which would otherwise be
    printed again for every weight; the text of a sub-expression does not depend on
    where it stands (its parent adds any parentheses).
    """

    def _print(self, expr, **kwargs) -> str:
        if kwargs or not isinstance(expr, Basic) or expr.is_Atom:
            return super()._print(expr, **kwargs)
        printed = self.__dict__.setdefault("_printed", {})
        if expr not in printed:
            printed[expr] = super()._print(expr)
        return printed[expr]


class SympropLatexPrinter(PrintsSharedOnce, LatexPrinter):
    """LaTeX printer with symprop's functions, partial fractions and graph names.

    Settings beyond SymPy's (all in :attr:`_default_settings`; unknown keys
    raise ``TypeError`` as in every SymPy printer):

    ``graph``: a :class:`~symprop.model.graph.Graph` whose ``latex_names`` name the
    symbols (explicit ``symbol_names`` win);
    ``step``: LaTeX head of the unit step (``H``);
    ``markdown_safe``: rewrite ``* \\{ \\} |`` so that Markdown cannot eat them;
    ``zero_symbols``: symbols whose value is 0 in a line of numbers: the terms of a sum
    they multiply are left out (``0.2967``, not ``0.2967 - 0``);
    ``magnitudes``: symbol -> the text of its absolute value, for symbols whose value
    is negative in a line of numbers: ``-s`` prints as that magnitude and ``+ s`` as
    ``- magnitude`` (``e^{0.4469}``, not ``e^{-(-0.4469)}``; ``a - 0.3``, not ``a + (-0.3)``).
    """

    _default_settings = {
        **LatexPrinter._default_settings,
        "graph": None,
        "step": "H",
        "markdown_safe": True,
        "zero_symbols": frozenset(),
        "magnitudes": {},
    }

    def __init__(self, settings=None):
        settings = dict(settings or {})
        graph = settings.get("graph")
        if graph is not None:
            settings["symbol_names"] = {**graph_symbol_names(graph), **(settings.get("symbol_names") or {})}
        super().__init__(settings)
        if self._settings["mul_symbol_latex"] == " ":
            # juxtaposition is decided once the neighbours are printed (resolve_products)
            self._settings["mul_symbol_latex"] = PRODUCT_MARK

    def doprint(self, expr) -> str:
        text = sized_parentheses(resolve_products(super().doprint(expr)))
        return markdown_safe(text) if self._settings["markdown_safe"] else text

    def _print_Symbol(self, expr, style="plain") -> str:
        r"""A symbol's name from ``symbol_names`` (the graph's), else SymPy's for a plain
        identifier and the escaped, upright name for any other
        (:func:`symprop.model.tex_names.symbol_tex`: ``\input{x}`` prints those characters)."""
        if expr in self._settings["symbol_names"] or (is_safe_tex(expr.name) and style != "plain"):
            return super()._print_Symbol(expr, style)
        return symbol_tex(expr.name)

    def _power(self, tex: str, exp) -> str:
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _print_Function(self, expr, exp=None) -> str:
        # SymPy's dispatch skips base classes of a Function subclass (a renamed subclass of a
        # known function must not print as that function), so symprop's functions are found here.
        if isinstance(expr, functions.SympropFunction):
            return self._print_SympropFunction(expr, exp)
        return super()._print_Function(expr, exp)

    def _print_SympropFunction(self, expr, exp=None) -> str:
        r"""Every symprop function: its record's LaTeX head, the subscript and argument groups of
        its ``latex_parts``: ``\sigma\left(z\right)``, ``\operatorname{LeakyReLU}_{\alpha}\left(z\right)``,
        ``\operatorname{softmax}_{k}\left(z_1, \dots\right)``, ``L_{\mathrm{CE}}\left(z_1, \dots; t_1, \dots\right)``."""
        subscript, groups = expr.latex_parts()
        head = functions.record_of(type(expr)).latex
        if subscript is not None:
            head = rf"{head}_{{{self._print(subscript)}}}"
        args = "; ".join(", ".join(self._print(a) for a in group) for group in groups)
        return self._power(rf"{head}\left({args}\right)", exp)

    def _print_Indexed(self, expr) -> str:
        r"""An entry of an indexed base, its subscript under the base's superscript:
        ``w^{(1)}_{jk}`` (one-letter indices run together), ``x_{i}``; a base that has a
        subscript of its own keeps SymPy's braces (``{x_{1}}_{i}``)."""
        base = self._print(expr.base)
        indices = [self._print(i) for i in expr.indices]
        joined = "".join(indices) if all(len(i) == 1 for i in indices) else ",".join(indices)
        if top_level_script(base, "_") is not None:
            return f"{{{base}}}_{{{joined}}}"
        return f"{base}_{{{joined}}}"

    def _print_Heaviside(self, expr, exp=None) -> str:
        r"""The unit step ``H\left(z\right)`` (``H(0) = 0`` here, ReLU's derivative at 0)."""
        return self._power(rf"{self._settings['step']}\left({self._print(expr.args[0])}\right)", exp)

    def _print_ActivationPrime(self, expr, exp=None) -> str:
        r"""``\sigma'\left(z\right)``: the activation's head, a prime, its arguments."""
        inner = expr.args[0]
        head = self._function_head(inner)
        args = ", ".join(self._print(a) for a in inner.args)
        return self._power(rf"{head}'\left({args}\right)", exp)

    def _function_head(self, applied) -> str:
        record = functions.record_of(type(applied))
        if record is not None:
            return record.latex
        name = type(applied).__name__
        return rf"\{name}" if name in self._builtin_heads else rf"\operatorname{{{name}}}"

    _builtin_heads = frozenset({"tanh", "sin", "cos", "exp", "log", "sinh", "cosh"})

    def _print_Derivative(self, expr) -> str:
        r"""``\frac{\partial E}{\partial w}``: the tutorials' partial fraction, also for one variable."""
        if len(expr.variable_count) != 1 or expr.variable_count[0][1] != 1:
            return super()._print_Derivative(expr)
        of, wrt = expr.expr, expr.variables[0]
        return rf"\frac{{\partial {self._print(of)}}}{{\partial {self._print(wrt)}}}"

    def _print_OrderedProduct(self, expr) -> str:
        """Factors in their given order, a sum in parentheses, joined by the ``mul_symbol``."""
        separator = self._settings["mul_symbol_latex"]
        text = ""
        for factor in expr.args:
            printed = self.parenthesize(factor, PRECEDENCE["Mul"], strict=True)
            if text:
                text += separator  # "x 2": resolve_products writes "x \cdot 2"
            text += printed
        return text

    def _as_ordered_terms(self, expr, order=None):
        """SymPy's order of a sum's terms, but a positive term first: ``z_1 - t_1``, not
        ``-t_1 + z_1`` (how a difference is written by hand)."""
        terms = [t for t in super()._as_ordered_terms(expr, order=order) if not self._is_zero_term(t)] or [sympy.S.Zero]
        if not terms[0].could_extract_minus_sign():
            return terms
        first = next((i for i, term in enumerate(terms) if not term.could_extract_minus_sign()), None)
        return terms if first is None else [terms[first], *terms[:first], *terms[first + 1:]]

    def _print_Add(self, expr, order=None) -> str:
        """SymPy's sum, with each term's sign as its value gives it (see ``magnitudes``)."""
        tex = ""
        for i, term in enumerate(self._as_ordered_terms(expr, order=order)):
            negative, text = self._signed(term)
            tex += ("- " if negative else "") if i == 0 else (" - " if negative else " + ")
            tex += text
        return tex

    def _signed(self, term) -> tuple[bool, str]:
        """``(is subtracted, text of its magnitude)`` of one term of a sum."""
        magnitudes = self._settings["magnitudes"]
        if term in magnitudes:
            return True, magnitudes[term]
        negative = term.could_extract_minus_sign()
        if negative:
            term = -term
            if term in magnitudes:
                return False, magnitudes[term]
        text = self._print(term)
        return negative, rf"\left({text}\right)" if self._needs_add_brackets(term) else text

    def _print_Mul(self, expr) -> str:
        """``-s`` of a symbol whose value is negative prints as its magnitude."""
        magnitudes = self._settings["magnitudes"]
        if magnitudes and expr.could_extract_minus_sign() and -expr in magnitudes:
            return magnitudes[-expr]
        return super()._print_Mul(expr)

    def _is_zero_term(self, term) -> bool:
        zeros = self._settings["zero_symbols"]
        return bool(zeros) and any(f in zeros for f in (term.args if term.is_Mul else (term,)))

    def _print_OrderedSum(self, expr) -> str:
        """Terms in their given order; a term printed with a leading minus is subtracted."""
        terms = [t for t in expr.args if not self._is_zero_term(t)] or [sympy.S.Zero]
        text = self._print(terms[0])
        for term in terms[1:]:
            printed = self._print(term)
            text += f" - {printed[1:].lstrip()}" if printed.startswith("-") else f" + {printed}"
        return text

    def _print_Dots(self, expr) -> str:
        return r"\dots"

    def _print_HadamardProduct(self, expr) -> str:
        r"""``A \odot B`` (SymPy's default is ``\circ``)."""
        return r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in expr.args)


def graph_symbol_names(graph) -> dict[Symbol, str]:
    r"""The graph's LaTeX names, adjoints without a name of their own as
    ``\frac{\partial E}{\partial v}`` (see :attr:`symprop.model.graph.Graph.symbol_latex`)."""
    return graph.symbol_latex


#: What the printer writes between two factors of a product when the settings ask for
#: juxtaposition; :func:`resolve_products` turns each into a space or ``\cdot``.
PRODUCT_MARK = " \x01 "
_MARK = re.compile(re.escape(PRODUCT_MARK))
#: A name longer than one letter, set upright (``\mathrm{out}``), with its scripts.
_LONG_NAME_START = re.compile(r"\\mathrm\{[A-Za-z]{2,}\}")
_LONG_NAME_END = re.compile(r"\\mathrm\{[A-Za-z]{2,}\}(?:[_^]\{[^{}]*\})*\Z")


def resolve_products(tex: str) -> str:
    r"""Each :data:`PRODUCT_MARK` of ``tex`` as ``\cdot`` where juxtaposition would run names
    together: before a name longer than one letter or a digit (``w_{5} \cdot \mathrm{out}_{h1}``,
    ``x \cdot 2``), and after such a name unless a parenthesis follows
    (``\mathrm{out}_{o1} (1 - \mathrm{out}_{o1})``); elsewhere a space (``a_{k} \delta_{j}``)."""
    if PRODUCT_MARK not in tex:
        return tex
    pieces = _MARK.split(tex)
    out = pieces[0]
    for piece in pieces[1:]:
        right = piece.lstrip()
        dotted = (_LONG_NAME_START.match(right) or right[:1].isdigit()
                  or (_LONG_NAME_END.search(out) and not right.startswith(("(", r"\left"))))
        out += (r" \cdot " if dotted else " ") + piece
    return out


_SIZER = re.compile(r"\\(left|right)(?![A-Za-z])\s*(\\[A-Za-z]+|\\.|.)")
#: What makes parenthesised content taller than a line of text.
_TALL = re.compile(r"\\(?:frac|dfrac|tfrac|sum|prod|int|begin|binom|left)(?![A-Za-z])")


def sized_parentheses(tex: str) -> str:
    r"""``tex`` with each ``\left( ... \right)`` around flat content written as plain
    parentheses (``\sigma(z)``, no gap after the function's name and no oversized
    parentheses); a pair around something tall (``\frac``, ``\sum``, an environment, a
    sized pair inside) keeps its ``\left``/``\right``. Linear in the text."""
    if "\\left" not in tex:
        return tex
    buffers, openers, position = [[]], [], 0
    for match in _SIZER.finditer(tex):
        buffers[-1].append(tex[position:match.start()])
        position = match.end()
        if match.group(1) == "left":
            openers.append(match.group())
            buffers.append([])
        elif not openers:
            buffers[-1].append(match.group())
        else:
            opener, content = openers.pop(), "".join(buffers.pop())
            flat = opener.endswith("(") and match.group(2) == ")" and not _TALL.search(content)
            buffers[-1].append(f"({content})" if flat else opener + content + match.group())
    buffers[-1].append(tex[position:])
    while openers:  # an unmatched \left (none is printed): kept as it was
        content = "".join(buffers.pop())
        buffers[-1].append(openers.pop() + content)
    return "".join(buffers[-1])


def top_level_script(tex: str, script: str) -> tuple[int, int] | None:
    """``(start, end)`` of the braced group after the first ``^`` or ``_`` (``script``)
    outside every brace of ``tex``, or None."""
    depth = 0
    for i, c in enumerate(tex):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == script and depth == 0 and tex[i + 1:i + 2] == "{" and (i == 0 or tex[i - 1] != "\\"):
            end, inner = i + 1, 0
            for end in range(i + 1, len(tex)):
                inner += {"{": 1, "}": -1}.get(tex[end], 0)
                if inner == 0:
                    return i + 1, end + 1
            return None
    return None


def updated(tex: str, mark: str = "+") -> str:
    r"""The name of a parameter after its update: ``w_{5}`` -> ``w_{5}^{+}``,
    ``w^{(1)}_{jk}`` -> ``w^{(1)+}_{jk}`` (one superscript, never ``{w_{5}}^{+}``)."""
    superscript = top_level_script(tex, "^")
    if superscript is None:
        return f"{tex}^{{{mark}}}"
    end = superscript[1] - 1
    return tex[:end] + mark + tex[end:]


_MARKDOWN_UNSAFE = (
    (re.compile(r"\\\{"), r"\\lbrace "),
    (re.compile(r"\\\}"), r"\\rbrace "),
    (re.compile(r"\\\|"), r"\\Vert "),
    (re.compile(r"(?<!\\)\|"), r"\\vert "),
    (re.compile(r"\*"), r"\\ast "),
)

#: What each of those patterns needs to find at all.
_MARKDOWN_TRIGGERS = ("\\{", "\\}", "|", "*")


def markdown_safe(tex: str) -> str:
    r"""``tex`` with the characters Markdown renderers eat inside math replaced by
    equivalent commands: ``*`` -> ``\ast``, ``\{`` -> ``\lbrace``, ``|`` -> ``\vert``."""
    if not any(unsafe in tex for unsafe in _MARKDOWN_TRIGGERS):  # most texts: four scans in C, no rewriting
        return tex
    for pattern, replacement in _MARKDOWN_UNSAFE:
        tex = pattern.sub(replacement, tex)
    return tex


class SharedReprPrinter(PrintsSharedOnce, ReprPrinter):
    """SymPy's ``srepr``, printing each distinct sub-expression once (same output)."""


def latex(expr, graph=None, **settings) -> str:
    """``expr`` as LaTeX, named by ``graph`` when given; ``settings`` as in
    :class:`SympropLatexPrinter` (unknown keys raise ``TypeError``)."""
    return SympropLatexPrinter({"graph": graph, **settings}).doprint(expr)


@functools.lru_cache(maxsize=65536)  # documents ask for the same fractions again and again
def partial(of: Symbol, wrt: Symbol) -> Derivative:
    """The unevaluated ``d of / d wrt``, which prints as a partial fraction."""
    return Derivative(of, wrt, evaluate=False)


def prime(applied: Expr) -> ActivationPrime:
    """``f'(z)`` for an applied activation ``f(z)``."""
    return ActivationPrime(applied)


def in_chain_order(factors: Sequence, chain_order: str = "loss_first") -> list:
    """Factors listed output first (``dE/dout, dout/dnet, dnet/dw``), turned around
    for ``parameter_first`` (3Blue1Brown: ``dz/dw, da/dz, dC/da``)."""
    if chain_order not in CHAIN_ORDERS:
        raise ValueError(f"chain_order must be one of {', '.join(CHAIN_ORDERS)}")
    return list(factors) if chain_order == "loss_first" else list(reversed(factors))


def ordered_product(factors: Iterable[Expr]) -> Expr:
    """The product of ``factors`` printed in the given order, ones dropped; the empty
    product is 1 and a single factor stands alone."""
    kept = []
    for factor in map(sympy.sympify, factors):
        if factor != 1:
            kept += factor.args if isinstance(factor, OrderedProduct) else [factor]
    if not kept:
        return sympy.S.One
    return kept[0] if len(kept) == 1 else OrderedProduct(*kept)


def ordered_sum(terms: Iterable[Expr]) -> Expr:
    """The sum of ``terms`` printed in the given order, zeros dropped."""
    kept = [sympy.sympify(t) for t in terms if t != 0]
    if not kept:
        return sympy.S.Zero
    return kept[0] if len(kept) == 1 else OrderedSum(*kept)


def substituted(expr: Expr, values: Mapping[Symbol, object], graph=None, digits: int = 9, **settings) -> str:
    r"""``expr`` printed with each symbol replaced by its value and products written
    with ``\cdot``: the "numbers plugged in" line of a worked example."""
    return latex(expr, graph, symbol_names=number_names(values, digits), mul_symbol="dot", **settings)
