"""The network, forward-pass and loss sections."""
from __future__ import annotations

import sympy
from sympy import Symbol

from symprop.document.formulas import Formulas
from symprop.document.network import NetworkSections, function_first, has_definition, uses_symprop_functions
from symprop.document.options import DocumentOptions
from symprop.engine.backprop import derive
from symprop.model import nn
from symprop.model.functions import sigmoid

z = Symbol("z", real=True)


def test_long_affine_sums_are_cut_with_dots():
    network = nn.mlp([f"x{i}" for i in range(8)], [nn.Dense(1)], "half_sse")
    sections = NetworkSections(Formulas(derive(network), None, DocumentOptions(long_sum=6)))
    net = network.layers[0].nets[0]
    assert sections.f.tex(sections.definition(net), order="none") == (
        r"w^{(1)}_{11} x_{0} + w^{(1)}_{12} x_{1} + \dots + w^{(1)}_{18} x_{7} + b^{(1)}_{1}")
    wide = NetworkSections(Formulas(derive(network), None, DocumentOptions(long_sum=8)))
    assert r"\dots" not in wide.f.tex(wide.definition(net), order="none")


def test_a_summarised_network_shows_the_first_unit_of_each_layer(mazur_solution):
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions(per_parameter=False))
    shown = NetworkSections(f)
    assert [n.name for n in shown.shown_nodes] == ["net_h1", "out_h1", "net_o1", "out_o1", "E_total"]
    assert [p.name for p in shown.shown_parameters] == ["w1", "b1", "w5", "b2"]


def test_small_helpers():
    assert function_first(sigmoid(z) * (1 - sigmoid(z)), sigmoid(z)).args == (sigmoid(z), 1 - sigmoid(z))
    assert (has_definition(sigmoid), has_definition(sympy.tanh)) == (True, True)
    assert has_definition(sympy.exp) is False
    assert uses_symprop_functions(z + sigmoid(z)) and not uses_symprop_functions(sympy.exp(z))
