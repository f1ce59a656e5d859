"""Each parameter's derivation, and the plan of what is explained where."""
from __future__ import annotations

import pytest
from sympy import Symbol

from symprop.document.build import build_document
from symprop.document.formulas import Formulas
from symprop.document.model import Equation, Paragraph
from symprop.document.options import DocumentOptions
from symprop.document.parameters import ParameterSections, Plan, single_chain
from symprop.engine.backprop import derive
from symprop.model import nn
from symprop.numbers.worked_example import worked_example

out_h1, net_h1, w1, w2, w5, net_o1, net_o2 = (
    Symbol(n, real=True) for n in ("out_h1", "net_h1", "w1", "w2", "w5", "net_o1", "net_o2"))


@pytest.fixture(scope="module")
def sections(mazur_solution):
    return ParameterSections(Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions()))


def equations(blocks) -> list[tuple[str, ...]]:
    return [b.rows for b in blocks if isinstance(b, Equation)]


def sentences(blocks) -> list[str]:
    return [b.prose.key for b in blocks if isinstance(b, Paragraph)]


def test_a_hidden_weight_shares_one_chain_below_its_branch(sections):
    assert single_chain(sections.f, w1) == ([(out_h1, net_h1), (net_h1, w1)], out_h1)
    E, out_o1 = Symbol("E_total", real=True), Symbol("out_o1", real=True)
    assert single_chain(sections.f, w5) == ([(E, out_o1), (out_o1, net_o1), (net_o1, w5)], E)


def test_the_plan_gives_each_factor_and_branch_to_its_first_reader(sections):
    plan = sections.plan
    assert plan.branch_owner[out_h1] == w1
    assert plan.factor_owner[(out_h1, net_h1)] == w1 and plan.factor_owner[(net_h1, w2)] == w2
    # w1 shows the gradients of net_o1 and net_o2 that its branch reuses; w2 reuses them
    assert plan.upstream[w1] == [net_o1, net_o2] and w2 not in plan.upstream


def test_the_plan_does_not_depend_on_what_was_printed_before(sections):
    order = [p for _, per_layer in sections.groups for p in sections.shown(per_layer)]
    assert Plan.of(sections.f, order) == sections.plan
    assert Plan.of(sections.f, order[::-1]).branch_owner[out_h1] != w1  # the first reader in that order


def test_an_output_weights_derivation_is_one_chain(sections):
    blocks = sections.parameter(w5)
    assert sentences(blocks) == ["chain_rule", "each_factor", "product", "descent"]
    rows = equations(blocks)
    assert rows[2] == (
        r"\frac{\partial \mathrm{out}_{o1}}{\partial \mathrm{net}_{o1}} &= \sigma'(\mathrm{net}_{o1})",
        r"&= \mathrm{out}_{o1} (1 - \mathrm{out}_{o1})", r"&= 0.75136507 \cdot (1 - 0.75136507)",
        "&= 0.186815602",
    )
    assert rows[-2][-2:] == (r"&= 0.74136507 \cdot 0.186815602 \cdot 0.593269992", "&= 0.0821670406")
    assert rows[-1] == (
        r"w_{5}^{+} &= w_{5} - \eta \frac{\partial E_{\mathrm{total}}}{\partial w_{5}}", r"&= 0.4 - 0.5 \cdot 0.0821670406",
        "&= 0.35891648",
    )


def test_a_later_hidden_weight_refers_back_to_the_branch(sections):
    first, later = sections.parameter(w1), sections.parameter(w2)
    assert sentences(first)[:3] == ["chain_rule", "branch_upstream", "branch_sum"]
    assert sentences(later)[:2] == ["chain_rule", "branch_again"]
    # the shared factor dout_h1/dnet_h1 is derived for w1 and only evaluated for w2
    factor = r"\frac{\partial \mathrm{out}_{h1}}{\partial \mathrm{net}_{h1}} &= \sigma'(\mathrm{net}_{h1})"
    assert any(rows[0] == factor for rows in equations(first))
    assert not any(rows[0] == factor for rows in equations(later))
    assert any(rows[0].startswith(r"\frac{\partial \mathrm{out}_{h1}}{\partial \mathrm{net}_{h1}} &= \mathrm{out}_{h1}") for rows in equations(later))


def test_a_deep_networks_closed_form_is_written_through_its_branch():
    """A closed form that would print as an exponential tree is kept through dE/dtop."""
    network = nn.mlp([f"x{i}" for i in range(2)], [nn.Dense(2) for _ in range(6)], "half_sse")
    derivation = derive(network)
    values = {s.name: 0.1 * (i % 7 - 3) for i, s in enumerate((*network.graph.inputs, *network.graph.parameters))}
    example = worked_example(derivation, values, learning_rate=0.1)
    f = Formulas(derivation, example, DocumentOptions(closed_form_limit=400))
    first_weight = network.layers[0].weight_parameters[0]
    blocks = ParameterSections(f).parameter(first_weight)
    assert "product_through" in sentences(blocks)
    product = equations(blocks)[-2]
    assert product[0].startswith(r"\frac{\partial L}{\partial w^{(1)}_{11}} &= \frac{\partial L}{\partial a^{(1)}_{1}}")
    assert product[-1] == f"&= {f.num(f.first_example_gradient(first_weight))}"
    assert max(len(row) for row in product) < 200
    last_weight = network.layers[-1].weight_parameters[0]
    assert "product" in sentences(ParameterSections(f).parameter(last_weight))


def test_each_factor_shows_the_rule_that_gives_it_term_by_term(mazur_solution):
    """Mazur's ``2 * 1/2 (target - out)^(2-1) * -1 + 0``: the sum rule, a constant multiple,
    the power rule with its inner derivative; hidden with ``rules=False``."""
    def factors(**options):
        document = build_document(mazur_solution.derivation, mazur_solution.example, **options)
        return [b.rows for b in document.blocks if isinstance(b, Equation) and b.rows[0].startswith(
            (r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{o1}} &=",
             r"\frac{\partial \mathrm{net}_{o1}}{\partial w_{5}} &="))]
    shown = factors()
    assert shown[0][:2] == (
        r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{o1}} &= "
        r"2 \cdot \frac{1}{2} \cdot (t_{1} - \mathrm{out}_{o1})^{2 - 1} \cdot (-1) + 0",
        r"&= \mathrm{out}_{o1} - t_{1}",
    )
    assert shown[1][:2] == (r"\frac{\partial \mathrm{net}_{o1}}{\partial w_{5}} &= 0 + \mathrm{out}_{h1} + 0",
                            r"&= \mathrm{out}_{h1}")
    hidden = factors(rules=False)
    assert hidden[0][0] == r"\frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{o1}} &= \mathrm{out}_{o1} - t_{1}"
