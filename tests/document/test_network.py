"""The network, forward-pass and loss sections."""
from __future__ import annotations

import pytest
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


def test_a_loss_of_one_term_per_output_is_split_with_each_value(mazur_solution):
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions())
    blocks = NetworkSections(f).loss_section().blocks
    split = blocks[blocks.index(next(b for b in blocks if getattr(b, "prose", None) and b.prose.key == "loss_split")) + 1]
    assert split.rows == (
        r"E_{o1} &= \frac{(t_{1} - \mathrm{out}_{o1})^{2}}{2}", r"&= \frac{(0.01 - 0.75136507)^{2}}{2}", "&= 0.274811083",
        r"E_{o2} &= \frac{(t_{2} - \mathrm{out}_{o2})^{2}}{2}", r"&= \frac{(0.99 - 0.772928465)^{2}}{2}",
        "&= 0.0235600256",
        r"E_{\mathrm{total}} &= E_{o1} + E_{o2}", "&= 0.274811083 + 0.0235600256", "&= 0.298371109",
    )
    assert 0.274811083 + 0.0235600256 == pytest.approx(float(mazur_solution.example.loss), abs=1e-9)


def test_a_loss_that_is_not_one_term_per_output_is_not_split():
    from symprop.files import spec
    from symprop.outputs import pipeline

    solution = pipeline.solve(spec.load_builtin("softmax"))
    f = Formulas(solution.derivation, solution.example, DocumentOptions())
    assert not any(getattr(b, "prose", None) and b.prose.key == "loss_split" for b in NetworkSections(f).loss_section().blocks)


def test_exact_arithmetic_keeps_the_loss_whole():
    from symprop.files import spec
    from symprop.outputs import pipeline

    solution = pipeline.solve(spec.load_builtin("mazur"), precision="exact")
    f = Formulas(solution.derivation, solution.example, DocumentOptions())
    assert not any(getattr(b, "prose", None) and b.prose.key == "loss_split" for b in NetworkSections(f).loss_section().blocks)
