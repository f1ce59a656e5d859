"""The LaTeX printer: exact strings for every symprop function, partial fractions,
prime forms, chain order, numbers plugged in and the Markdown-safe rewrites."""
import pytest
import sympy
from sympy import Heaviside, MatrixSymbol, Rational, Symbol

from symprop.engine import backprop

from symprop.model import functions

from symprop.model import nn
from symprop.printing.latex import (
    SympropLatexPrinter, in_chain_order, latex, markdown_safe, ordered_product, ordered_sum, partial, prime,
    substituted,
)

z, a, y = (Symbol(n, real=True) for n in ("z", "a", "y"))


@pytest.fixture(scope="module")
def mazur():
    return nn.mlp(
        ["i1", "i2"],
        [nn.Dense(2, "sigmoid", bias="shared", names=["h1", "h2"]), nn.Dense(2, "sigmoid", bias="shared", names=["o1", "o2"])],
        "half_sse", notation="mazur", targets=["t1", "t2"],
    )


def named(graph, name):
    return next(s for s in (*graph.inputs, *graph.parameters, *graph.nodes) if s.name == name)


@pytest.mark.parametrize("expr, expected", [
    (functions.sigmoid(z), r"\sigma(z)"),
    (functions.relu(z), r"\operatorname{ReLU}(z)"),
    (functions.softplus(z), r"\operatorname{softplus}(z)"),
    (functions.leaky_relu(z, Rational(1, 100)), r"\operatorname{LeakyReLU}_{\frac{1}{100}}(z)"),
    (functions.softmax(2, z, a), r"\operatorname{softmax}_{2}(z, a)"),
    (functions.softmax_cross_entropy(z, a, y, Symbol("t")), r"L_{\mathrm{CE}}(z, a; y, t)"),
    (Heaviside(z, 0), r"H(z)"),
    (functions.sigmoid(z) ** 2, r"\sigma(z)^{2}"),
    (functions.sigmoid(z) * (1 - functions.sigmoid(z)), r"(1 - \sigma(z)) \sigma(z)"),
    (prime(functions.sigmoid(z)), r"\sigma'(z)"),
    (prime(functions.relu(z)), r"\operatorname{ReLU}'(z)"),
    (prime(sympy.tanh(z)), r"\tanh'(z)"),
    (partial(a, z), r"\frac{\partial a}{\partial z}"),
    (sympy.HadamardProduct(MatrixSymbol("A", 2, 1), MatrixSymbol("B", 2, 1)), r"A \odot B"),
])
def test_symprop_functions_print_as_the_tutorials_write_them(expr, expected):
    assert latex(expr) == expected


def test_graph_names_and_unnamed_adjoints(mazur):
    graph = mazur.graph
    E, w5, out_o1 = named(graph, "E_total"), named(graph, "w5"), named(graph, "out_o1")
    assert latex(partial(E, w5), graph) == r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}"
    assert latex(backprop.adjoint_symbol(named(graph, "net_o1")), graph) == r"\delta_{o1}"
    assert latex(backprop.adjoint_symbol(out_o1), graph) == r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{o1}}"
    assert latex(prime(graph.definition[out_o1]), graph) == r"\sigma'(\mathrm{net}_{o1})"


def test_3b1b_names_and_explicit_symbol_names_win():
    network = nn.mlp(1, [nn.Dense(1), nn.Dense(1)], "sse", notation="3b1b")
    graph = network.graph
    z_L = network.layers[-1].nets[0]
    assert latex(prime(graph.definition[network.layers[-1].outs[0]]), graph) == r"\sigma'(z^{(L)})"
    assert latex(z_L, graph, symbol_names={z_L: "Z"}) == "Z"


def test_ordered_product_keeps_chain_order_and_parenthesises_sums():
    product = ordered_product([a - y, a * (1 - a), z])
    assert latex(product) == r"(a - y) a (1 - a) z"
    assert latex(ordered_product([1, z])) == "z"
    assert latex(ordered_product([])) == "1"
    assert latex(ordered_product([z, sympy.factor_terms(2 * a - 2 * y)])) == r"z \cdot 2 (a - y)"
    assert latex(ordered_sum([product, -z, y])) == r"(a - y) a (1 - a) z - z + y"


def test_chain_order_reverses_for_parameter_first():
    assert in_chain_order([1, 2, 3], "loss_first") == [1, 2, 3]
    assert in_chain_order([1, 2, 3], "parameter_first") == [3, 2, 1]
    with pytest.raises(ValueError):
        in_chain_order([1], "sideways")


def test_unknown_setting_is_rejected_and_own_settings_are_declared():
    with pytest.raises(TypeError, match="Unknown setting 'colour'"):
        latex(z, colour="red")
    for key in ("graph", "step", "markdown_safe"):
        assert key in SympropLatexPrinter._default_settings
    assert latex(Heaviside(z, 0), step=r"\Theta") == r"\Theta(z)"


def test_markdown_safe_rewrites_characters_markdown_eats():
    assert markdown_safe(r"\left\{ a \right\} |x| a*b \|v\|") == r"\left\lbrace  a \right\rbrace  \vert x\vert  a\ast b \Vert v\Vert "
    assert latex(sympy.Abs(z)) == r"\left\vert {z}\right\vert "
    assert latex(sympy.Abs(z), markdown_safe=False) == r"\left|{z}\right|"


def test_substituted_plugs_numbers_in_without_evaluating(mazur):
    graph = mazur.graph
    out_o1, t1 = named(graph, "out_o1"), named(graph, "t1")
    values = {out_o1: 0.75136507, t1: 0.01, named(graph, "out_o2"): 0.772928465, named(graph, "t2"): 0.99}
    assert substituted(out_o1 * (1 - out_o1), values, graph) == r"0.75136507 \cdot (1 - 0.75136507)"
    loss = graph.definition[graph.output]
    assert substituted(loss, values, graph, order="none") == (
        r"\frac{(0.01 - 0.75136507)^{2}}{2} + \frac{(0.99 - 0.772928465)^{2}}{2}"
    )
    assert substituted(out_o1 - t1, {out_o1: -0.5, t1: 0.25}) == r"(-0.5) - 0.25"


def test_a_difference_is_written_positive_term_first():
    t1, z1, a = (sympy.Symbol(n, real=True) for n in ("t1", "z1", "a"))
    assert latex(z1 - t1) == "z_{1} - t_{1}"
    assert latex(-t1 - a) == "- a - t_{1}"  # no positive term: SymPy's order stands
    assert latex((z1 - t1) * a) == r"a (z_{1} - t_{1})"


def test_terms_a_zero_multiplies_are_left_out_of_a_line_of_numbers():
    t1, z1, a = (sympy.Symbol(n, real=True) for n in ("t1", "z1", "a"))
    names = {t1: "0", z1: "0.2967", a: "2"}
    assert latex(z1 - t1, symbol_names=names, zero_symbols=frozenset({t1})) == "0.2967"
    assert latex(a * t1 + z1, symbol_names=names, zero_symbols=frozenset({t1})) == "0.2967"
    # a product on its own is a value, not a term of a sum: it stays
    assert latex(t1 * a, symbol_names=names, zero_symbols=frozenset({t1}), mul_symbol="dot") == r"2 \cdot 0"
    assert latex(a * t1 + t1, symbol_names=names, zero_symbols=frozenset({t1})) == "0"
    assert latex(z1 - t1, symbol_names=names) == "0.2967 - 0"


def test_signs_of_negative_values_are_folded_into_the_line_of_numbers():
    net, b, a = (sympy.Symbol(n, real=True) for n in ("net", "b", "a"))
    names = {net: r"(-0.4469)", b: r"(-0.3)", a: "0.5"}
    settings = dict(symbol_names=names, magnitudes={net: "0.4469", b: "0.3"})
    assert latex(1 / (1 + sympy.exp(-net)), **settings) == r"\frac{1}{1 + e^{0.4469}}"
    assert latex(a + b, **settings) == "0.5 - 0.3"
    assert latex(a - b, **settings) == "0.5 + 0.3"
    assert latex(b + a * net, **settings, mul_symbol="dot") == r"0.5 \cdot (-0.4469) - 0.3"
    assert latex(a + b, symbol_names=names) == r"0.5 + (-0.3)"  # without magnitudes, as given


# --- names of any source are escaped, and distinct names print distinctly ----------

@pytest.mark.parametrize("name, tex", [
    (r"\input{/etc/passwd}", r"\mathrm{\backslash{}input\lbrace{}/etc/passwd\rbrace{}}"),
    ("a$b", r"\mathrm{a\$b}"), ("<script>", r"\mathrm{\lt{}script\gt{}}"), ("a%b", r"\mathrm{a\%b}"),
    ("w1", "w_{1}"), ("z^{(1)}", "z^{(1)}"),
])
def test_a_symbol_prints_its_name_escaped_without_a_graph(name, tex):
    assert latex(Symbol(name, real=True)) == tex


def test_the_graph_prints_clashing_names_distinctly():
    symbols = [Symbol(n, real=True) for n in ("w1", "w_1", "x__2", "x^2")]
    f = Symbol("f", real=True)
    from symprop.model.graph import Graph

    graph = Graph.from_pairs([(f, sum(symbols))], parameters=symbols)
    printer = SympropLatexPrinter({"graph": graph})
    printed = [printer.doprint(s) for s in symbols]
    assert printed == [r"\mathrm{w1}", r"\mathrm{w\_1}", r"\mathrm{x\_\_2}", r"\mathrm{x\hat{\ }2}"]
    assert len(set(printed)) == len(printed)


def test_hostile_unit_and_input_names_are_escaped_inside_the_notation():
    network = nn.mlp(["a$b"], [nn.Dense(1, "sigmoid", names=["}{\\input{x}"])], "half_sse", notation="mazur")
    printed = {s.name: network.graph.latex_name(s) for s in network.graph.nodes}
    assert printed["out_}{\\input{x}"] == r"\mathrm{out}_{\rbrace{}\lbrace{}\backslash{}input\lbrace{}x\rbrace{}}"
    assert network.graph.latex_name(network.graph.inputs[0]) == r"\mathrm{a\$b}"


def test_parentheses_are_sized_only_around_tall_content():
    from symprop.printing.latex import sized_parentheses

    assert sized_parentheses(r"\sigma\left(z\right)") == r"\sigma(z)"
    assert sized_parentheses(r"\left(\frac{1}{2}\right)^{2} \left(a - \left(b\right)\right)") == (
        r"\left(\frac{1}{2}\right)^{2} (a - (b))"
    )
    assert sized_parentheses(r"\left(\left(\frac{a}{b}\right) + c\right)") == r"\left(\left(\frac{a}{b}\right) + c\right)"
    assert latex(sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2) == r"\frac{e^{- z}}{(1 + e^{- z})^{2}}"


def test_a_dot_stands_between_factors_with_names_longer_than_one_letter(mazur):
    graph = mazur.graph
    w5, out_h1, out_o1 = named(graph, "w5"), named(graph, "out_h1"), named(graph, "out_o1")
    assert latex(ordered_product([w5, out_h1]), graph) == r"w_{5} \cdot \mathrm{out}_{h1}"
    assert latex(w5 * out_h1, graph) == r"\mathrm{out}_{h1} \cdot w_{5}"
    assert latex(ordered_product([out_o1, 1 - out_o1]), graph) == r"\mathrm{out}_{o1} (1 - \mathrm{out}_{o1})"
    assert latex(z * a) == "a z"
    assert latex(ordered_product([z, 2])) == r"z \cdot 2"


def test_an_indexed_entry_sets_its_subscript_under_the_superscript_and_an_update_takes_one_superscript():
    from symprop.printing.latex import updated

    j, k = sympy.symbols("j k")
    assert latex(sympy.IndexedBase("w^{(1)}")[j, k]) == r"w^{(1)}_{jk}"
    assert latex(sympy.IndexedBase(r"\delta^{(1)}")[j]) == r"\delta^{(1)}_{j}"
    assert updated("w_{5}") == "w_{5}^{+}"
    assert updated("w^{(1)}_{jk}") == "w^{(1)+}_{jk}"
