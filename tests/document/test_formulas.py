"""The lookups every section reads."""
from __future__ import annotations

import sympy
from sympy import Symbol

from symprop.document.formulas import Formulas, is_activation_of, tree_size
from symprop.document.options import DocumentOptions
from symprop.model.functions import sigmoid

x, y, z = (Symbol(n, real=True) for n in "xyz")


def test_tree_size_counts_a_shared_subexpression_each_time_it_prints():
    shared = x + y
    assert tree_size(x) == 1 and tree_size(shared) == 3
    assert tree_size(sympy.Mul(shared, sympy.exp(shared), evaluate=False)) == 1 + 3 + 4


def test_the_sum_over_consumers_is_the_engines_terms_in_chain_order(mazur_solution):
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions())
    out_h1 = Symbol("out_h1", real=True)
    assert f.tex(f.sum_over_consumers(out_h1, f.adjoint_or_one)) == r"\delta_{o1} w_{5} + \delta_{o2} w_{7}"
    assert f.tex(f.leibniz_sum(out_h1)) == (
        r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{net}_{o1}} \frac{\partial \mathrm{net}_{o1}}{\partial \mathrm{out}_{h1}} + "
        r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{net}_{o2}} \frac{\partial \mathrm{net}_{o2}}{\partial \mathrm{out}_{h1}}")
    # the value of dE/dout_h1 is the sum of its terms at the example
    terms = f.terms(out_h1)
    expected = sum(f.adjoint_value(t.consumer) * f.local_value(t.consumer, out_h1) for t in terms)
    assert abs(f.adjoint_value(out_h1) - expected) < 1e-15


def test_is_activation_of():
    assert is_activation_of(sigmoid(z), z)
    assert not is_activation_of(sympy.exp(2 * z), z)
