"""Names in TeX: the one place they are escaped, whatever their source."""
from __future__ import annotations

import pytest
import sympy

from symprop.model import tex_names
from symprop.model.graph import Graph, GraphError


@pytest.mark.parametrize("name, tex", [
    ("w1", "w_{1}"), ("out_h1", r"\mathrm{out}_{h1}"), ("alpha", r"\alpha"), ("x__2", "x^{2}"),
    ("z^{(1)}", "z^{(1)}"), (r"\delta^{(2)}", r"\delta^{(2)}"),
    (r"\input{/etc/passwd}", r"\mathrm{\backslash{}input\lbrace{}/etc/passwd\rbrace{}}"),
    ("a$b", r"\mathrm{a\$b}"), ("c#d", r"\mathrm{c\#d}"), ("e%f", r"\mathrm{e\%f}"), ("g&h", r"\mathrm{g\&h}"),
    ("<b>", r"\mathrm{\lt{}b\gt{}}"), ("^^5c", r"\mathrm{\hat{\ }\hat{\ }5c}"), ("a~b", r"\mathrm{a\sim{}b}"),
    ("é", r"\mathrm{\text{é}}"), ("x\u200by", r"\mathrm{x\langle U{+}200B\rangle{}y}"),
])
def test_symbol_tex(name, tex):
    assert tex_names.symbol_tex(name) == tex


@pytest.mark.parametrize("name", [r"\input{x}", r"\write18{x}", "a%b", "a}{", "{", "^^5c", r"\def\x{}", "a$", ""])
def test_unsafe_tex_is_not_taken_as_tex(name):
    assert not tex_names.is_safe_tex(name)


def test_name_text_is_injective_on_specials():
    specials = list(r"\{}$#%&_^~<>|*`[] " + "\"'")
    printed = [tex_names.name_text(c) for c in specials]
    assert len(set(printed)) == len(printed)
    assert all(p.startswith("\\") for p in printed)


def test_distinct_names_prints_clashing_symbols_upright_and_keeps_the_rest():
    a, b, c = sympy.symbols("w1 w_1 v", real=True)
    names = {a: "w_{1}", b: "w_{1}", c: "v"}
    assert tex_names.distinct_names(names, {s: s.name for s in names}) == {
        a: r"\mathrm{w1}", b: r"\mathrm{w\_1}", c: "v"}


def test_a_graph_prints_every_symbol_distinctly():
    names = ["w1", "w_1", "x__2", "x^2", "x^{2}", "a", r"\input{a}", "a b"]
    symbols = [sympy.Symbol(n, real=True) for n in names]
    f = sympy.Symbol("f", real=True)
    graph = Graph.from_pairs([(f, sum(symbols))], parameters=symbols)
    printed = [graph.latex_name(s) for s in (*symbols, f)]
    assert len(set(printed)) == len(printed)
    assert graph.latex_name(sympy.Symbol("a", real=True)) == "a"


def test_a_clash_given_names_cannot_settle_is_refused_naming_both():
    a, b, c, f = sympy.symbols("a b c f", real=True)
    graph = Graph.from_pairs([(f, a + b + c)], parameters=[a, b, c], latex_names={a: r"\mathrm{b}", c: "b"})
    with pytest.raises(GraphError, match=r"^a and b would print alike"):
        graph.printed_names
