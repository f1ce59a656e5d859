"""The expression graph: structure queries, expansion, and the one-line validation errors."""
from __future__ import annotations

import pytest
import sympy
from sympy import Symbol, sin

from symprop.model.graph import Equation, Graph, GraphError

x, y, z, w = (Symbol(n, real=True) for n in ("x", "y", "z", "w"))
q, f, g, u = (Symbol(n, real=True) for n in ("q", "f", "g", "u"))


@pytest.fixture
def shared():
    """q = x + y, f = q z, g = f q + sin q: q feeds two nodes, g uses q directly and through f."""
    return Graph.from_pairs([(q, x + y), (f, q * z), (g, f * q + sin(q))], inputs=[z], parameters=[x, y])


def test_nodes_definitions_and_default_output(shared):
    assert shared.nodes == (q, f, g)
    assert shared.output == g
    assert shared.definition == {q: x + y, f: q * z, g: f * q + sin(q)}
    assert shared.equations[1] == Equation(f, q * z)
    assert tuple(shared.equations[0]) == (q, x + y)


def test_parents_are_nodes_and_parameters_only(shared):
    assert shared.parents[q] == (x, y)
    assert shared.parents[f] == (q,)  # z is an input, not differentiated
    assert set(shared.parents[g]) == {f, q} and len(shared.parents[g]) == 2


def test_consumers_list_every_node_that_uses_a_symbol_in_graph_order(shared):
    assert shared.consumers == {x: (q,), y: (q,), q: (f, g), f: (g,), g: ()}


def test_reachable_holds_what_the_output_depends_on():
    graph = Graph.from_pairs(
        [(q, x + y), (u, w * x), (g, q ** 2)], inputs=[], parameters=[x, y, w], output=g
    )
    assert graph.reachable == frozenset({g, q, x, y})


def test_expanded_writes_a_node_in_inputs_and_parameters(shared):
    assert shared.expanded() == (x + y) ** 2 * z + sin(x + y)
    assert shared.expanded(f) == (x + y) * z
    with pytest.raises(GraphError, match="^w is not a node of the graph$"):
        shared.expanded(w)


def test_explicit_output_may_be_an_inner_node():
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], inputs=[z], parameters=[x, y], output=q)
    assert graph.output == q
    assert graph.reachable == frozenset({q, x, y})


def test_latex_name_defaults_to_sympy_latex():
    graph = Graph.from_pairs([(q, x * y)], parameters=[x, y], latex_names={q: r"\tilde{q}"})
    assert graph.latex_name(q) == r"\tilde{q}"
    assert graph.latex_name(Symbol("w_1")) == "w_{1}"


def test_pairs_are_sympified():
    graph = Graph.from_pairs([(q, 3)], parameters=[])
    assert graph.definition[q] == sympy.Integer(3)


def one_line_graph_error(build, message):
    with pytest.raises(GraphError) as raised:
        build()
    text = str(raised.value)
    assert "\n" not in text
    assert text == message


def test_node_assigned_twice():
    one_line_graph_error(
        lambda: Graph.from_pairs([(q, x), (q, y)], parameters=[x, y]),
        "node q is assigned twice (node 1 and node 2): each name is assigned once",
    )


def test_node_may_not_reassign_a_parameter():
    one_line_graph_error(
        lambda: Graph.from_pairs([(x, y)], parameters=[x, y]),
        "node x (node 1) has the name of parameter 1: each name is assigned once",
    )


def test_node_refers_to_unknown_symbol():
    one_line_graph_error(
        lambda: Graph.from_pairs([(q, x + w)], parameters=[x]),
        "node q uses w, which is not an input, a parameter or an earlier node",
    )


def test_node_refers_to_later_node():
    one_line_graph_error(
        lambda: Graph.from_pairs([(q, f + x), (f, x)], parameters=[x]),
        "node q uses f, which is not an input, a parameter or an earlier node",
    )


def test_output_not_a_node():
    one_line_graph_error(
        lambda: Graph.from_pairs([(q, x)], parameters=[x], output=w),
        "output w is not a node of the graph",
    )


def test_empty_graph():
    one_line_graph_error(lambda: Graph.from_pairs([], parameters=[x]), "the graph has no nodes: give at least one equation")


def test_an_input_that_is_also_a_parameter_is_a_parameter():
    graph = Graph.from_pairs([(q, x * y)], inputs=[x, y], parameters=[x])
    assert (graph.inputs, graph.parameters) == ((y,), (x,))
    assert Graph((x, y), (x,), ((q, x * y),), q) == graph


def test_node_must_be_a_symbol():
    one_line_graph_error(lambda: Graph.from_pairs([(x + y, x)], parameters=[x, y]), "node x + y must be a Symbol")


def test_graph_error_is_a_value_error():
    assert issubclass(GraphError, ValueError)


def test_plain_numbers_in_equations_become_sympy_numbers():
    import sympy as _sympy

    q = _sympy.Symbol("q", real=True)
    graph = Graph((), (), ((q, 3),), q)
    assert graph.equations[0].expr == _sympy.Integer(3) and graph.expanded() == 3


def test_names_are_compared_as_names_whatever_the_assumptions():
    plain_x = sympy.Symbol("x")
    one_line_graph_error(lambda: Graph.from_pairs([(q, x)], inputs=[plain_x], parameters=[x]),
                         "the name x is both input 1 and parameter 1: each name is declared once")
    one_line_graph_error(lambda: Graph.from_pairs([(plain_x, y)], inputs=[x], parameters=[y]),
                         "node x (node 1) has the name of input 1: each name is assigned once")


def test_a_name_reserved_for_an_adjoint_is_refused():
    delta_q = sympy.Symbol("delta_q", real=True)
    one_line_graph_error(lambda: Graph.from_pairs([(q, x)], inputs=[delta_q], parameters=[x]),
                         "the name delta_q (input 1) is reserved for the adjoint of node q: choose another name")


def test_inputs_and_parameters_must_be_symbols():
    one_line_graph_error(lambda: Graph.from_pairs([(q, x)], parameters=[x, "y"]),
                         "parameter 2 ('y') must be a Symbol")


def test_from_expression_builds_a_graph_with_its_generated_names():
    s = Symbol("s", real=True)
    graph = Graph.from_expression(sin(w * x + y) ** 2, parameters=[w], inputs=[x])
    assert (graph.inputs, graph.parameters, graph.output) == ((x, y), (w,), f)
    assert [(eq.node.name, eq.expr) for eq in graph.equations] == [
        ("p", w * x), ("s", Symbol("p", real=True) + y), ("sin1", sin(s)), ("f", Symbol("sin1", real=True) ** 2)]
    assert graph.latex_name(Symbol("sin1", real=True)) == r"\mathrm{sin}_{1}"
    assert graph.expanded() == sin(w * x + y) ** 2


def test_from_expression_takes_an_input_also_declared_a_parameter_as_a_parameter():
    graph = Graph.from_expression(w * x, parameters=[w], inputs=[w, x])
    assert (graph.inputs, graph.parameters) == ((x,), (w,))


def test_from_expression_refuses_in_one_line_as_a_graph_error():
    one_line_graph_error(lambda: Graph.from_expression(w * x),
                         "no parameters declared: say which symbols gradients are taken for, as parameters=[...] "
                         "(the expression's symbols: w, x)")


@pytest.mark.parametrize("make", [
    lambda x, y, z, w: sympy.sin(x * y) + sympy.exp(z) * w,
    lambda x, y, z, w: sympy.Piecewise((x, y > 0), (z, True)),
    lambda x, y, z, w: (x + y) ** w / z,
    lambda x, y, z, w: sympy.Heaviside(x - y) * sympy.log(w) + 3 * x,
    lambda x, y, z, w: sympy.Add(*[a * b for a, b in zip((w, x, y), (z, w, x))]),
])
def test_parents_are_in_first_appearance_order(make):
    """A node's parents in preorder, first appearance first, as SymPy's own traversal gives them."""
    from symprop.model.graph import _ordered_free

    symbols = sympy.symbols("x y z w", real=True)
    expr = make(*symbols)
    expected = tuple(dict.fromkeys(s for s in sympy.preorder_traversal(expr) if s in set(symbols)))
    assert _ordered_free(expr, set(symbols)) == expected
    assert _ordered_free(expr, set(symbols[:2])) == tuple(s for s in expected if s in symbols[:2])


def test_parents_of_max_follow_its_canonical_arguments():
    """``Max`` keeps its arguments as a set; its parents follow its printed (sorted) order, the same in every run."""
    from symprop.model.graph import _ordered_free

    x, y, z = sympy.symbols("x y z", real=True)
    expr = sympy.Max(z, x * y)
    assert _ordered_free(expr, {x, y, z}) == tuple(dict.fromkeys(s for a in expr.args for s in sympy.preorder_traversal(a)
                                                                  if s in {x, y, z}))


def test_applied_functions_are_every_application_once_in_graph_order():
    x, w, z, a, L = sympy.symbols("x w z a L", real=True)
    graph = Graph.from_pairs([(z, sympy.tanh(w * x) + sympy.exp(x)), (a, sympy.tanh(w * x) * sympy.sin(z)),
                              (L, a ** 2)], inputs=[x], parameters=[w])
    expected = [s for e in graph.equations for s in sympy.preorder_traversal(e.expr) if isinstance(s, sympy.Function)]
    assert graph.applied_functions == tuple(dict.fromkeys(expected))
    assert set(graph.applied_functions) == {sympy.tanh(w * x), sympy.exp(x), sympy.sin(z)}
