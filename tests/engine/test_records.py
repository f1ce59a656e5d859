"""The derivation's data: factors, paths, adjoints, gradients and their forms."""
from __future__ import annotations

import pytest
import sympy
from sympy import Symbol

from symprop.engine import backprop
from symprop.engine.records import Adjoint, Factor, Gradient, Path, Term, UnknownNameError
from symprop.errors import SympropError
from tests.conftest import mazur_network

x, y, u, v, w, E = (Symbol(n, real=True) for n in ("x", "y", "u", "v", "w", "E"))
delta_u, delta_v = Symbol("delta_u", real=True), Symbol("delta_v", real=True)


def two_path_gradient(**changes) -> Gradient:
    """E = f(u, v) with u = w x and v = w y: two terms, two paths."""
    closed = {u: 2 * x, v: 3 * y}
    terms = (Term(u, x, delta_u, closed), Term(v, y, delta_v, closed))
    paths = (Path((Factor(E, u, 2 * x), Factor(u, w, x))), Path((Factor(E, v, 3 * y), Factor(v, w, y))))
    fields = dict(symbol=w, output=E, terms=terms, path_count=2, max_paths=64, list_paths=lambda: paths)
    return Gradient(**{**fields, **changes})


def test_a_path_multiplies_its_factors_and_lists_its_nodes_output_first():
    path = Path((Factor(E, u, 2 * x), Factor(u, w, x)))
    assert path.product == 2 * x**2
    assert path.nodes == (E, u, w)
    assert Path(()).nodes == () and Path(()).product == 1


def test_delta_form_and_closed_form_sum_the_terms():
    gradient = two_path_gradient()
    assert gradient.delta_form == delta_u * x + delta_v * y
    assert gradient.closed_form == 2 * x**2 + 3 * y**2
    assert gradient.sum_over_paths == gradient.closed_form
    assert gradient.paths_listed and gradient.reaches_output


def test_paths_beyond_the_bound_are_not_listed():
    gradient = two_path_gradient(max_paths=1)
    assert gradient.paths == ()
    assert not gradient.paths_listed
    assert gradient.sum_over_paths == 0
    assert two_path_gradient(list_paths=None).paths == ()


def test_the_output_with_respect_to_itself_is_1_and_a_symbol_off_every_path_is_unreached():
    itself = two_path_gradient(symbol=E, terms=(), path_count=1)
    assert (itself.delta_form, itself.closed_form) == (1, 1)
    unreached = two_path_gradient(terms=(), path_count=0, list_paths=lambda: ())
    assert not unreached.reaches_output
    assert unreached.delta_form == 0 and unreached.paths_listed


def test_adjoint_and_term_read_closed_forms_from_the_shared_table():
    closed = {u: 2 * x}
    terms = (Term(E, 2 * x, 1, closed),)
    assert Adjoint(u, delta_u, terms, closed).closed_form == 2 * x
    assert Term(u, x, delta_u, closed).adjoint_closed == 2 * x
    # the table is not part of equality
    assert Adjoint(u, delta_u, terms, closed) == Adjoint(u, delta_u, terms, {})


def test_an_adjoint_is_the_sum_of_its_terms():
    closed = {u: 2 * x, v: 3 * y}
    adjoint = Adjoint(w, Symbol("delta_w"), (Term(u, x, delta_u, closed), Term(v, y, delta_v, closed)), closed)
    assert adjoint.definition == delta_u * x + delta_v * y
    assert Adjoint(E, Symbol("delta_E"), (), closed).definition == 1


def test_a_derivation_is_indexed_by_parameter_or_name(mazur_derivation):
    d = mazur_derivation
    w5 = d.symbol("w5")
    assert w5 == Symbol("w5", real=True)
    assert d["w5"] is d[w5] is d.gradients[w5]
    assert len(d) == 10
    assert [g.symbol.name for g in d] == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"]
    assert d.output == Symbol("E_total", real=True)


def test_an_unknown_parameter_lists_the_parameters(mazur_derivation):
    with pytest.raises(KeyError) as error:
        mazur_derivation.symbol("w9")
    assert error.value.args[0] == "w9 is not a parameter of this network (parameters: w1, w2, w3, w4, b1, w5, w6, w7, w8, b2)"


def test_an_unknown_name_is_a_symprop_error_whose_text_has_no_quotes(mazur_derivation):
    with pytest.raises(UnknownNameError) as error:
        mazur_derivation.symbol("w9")
    assert isinstance(error.value, SympropError) and isinstance(error.value, KeyError)
    assert str(error.value).startswith("w9 is not a parameter of this network (parameters: w1,")


def test_mazurs_w5_gradient(mazur_derivation):
    gradient = mazur_derivation["w5"]
    assert (gradient.path_count, gradient.max_paths) == (1, 64)
    assert sympy.sstr(gradient.delta_form) == "delta_net_o1*out_h1"
    assert sympy.sstr(gradient.closed_form) == "out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)"
    assert [node.name for node in gradient.paths[0].nodes] == ["E_total", "out_o1", "net_o1", "w5"]


def test_adjoints_are_listed_output_first_with_their_recurrence(mazur_derivation):
    adjoints = list(mazur_derivation.adjoints.values())
    assert adjoints[0].node == mazur_derivation.output
    out_o2 = adjoints[1]
    assert (out_o2.node.name, out_o2.symbol.name, sympy.sstr(out_o2.definition)) == (
        "out_o2", "delta_out_o2", "out_o2 - t2")


def test_a_bound_of_one_path_leaves_hidden_paths_unlisted(mazur):
    gradient = backprop.derive(mazur, max_paths=1)["w1"]
    assert (gradient.path_count, gradient.paths, gradient.paths_listed) == (2, (), False)


def test_a_gradient_shows_itself_as_its_equation():
    derivation = backprop.derive(mazur_network())
    assert derivation["w5"]._repr_latex_() == (
        r"$$ \frac{\partial E_{\mathrm{total}}}{\partial w_{5}} = "
        r"\mathrm{out}_{h1} \cdot \mathrm{out}_{o1} (1 - \mathrm{out}_{o1}) (\mathrm{out}_{o1} - t_{1}) $$"
    )
    assert derivation["w5"]._repr_markdown_() == "$$\n" + derivation["w5"]._repr_latex_()[3:-3].strip() + "\n$$\n"


def test_a_derivation_shows_its_deltas_and_gradients_not_a_document():
    derivation = backprop.derive(mazur_network())
    rows = derivation._repr_latex_()
    assert rows.startswith("$$ \\begin{aligned}\n")
    assert '\\delta_{o1} &= \\frac{\\partial E_{\\mathrm{total}}}{\\partial \\mathrm{out}_{o1}} \\cdot \\mathrm{out}_{o1} (1 - \\mathrm{out}_{o1}) \\\\' in rows
    assert r"\frac{\partial E_{\mathrm{total}}}{\partial w_{1}} &= \delta_{h1} i_{1}" in rows
    assert "#" not in derivation._repr_markdown_() and "BP1" not in rows
    assert rows.count(r"\\") == len(derivation.adjoints) - 1 + len(derivation) - 1
