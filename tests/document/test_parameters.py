"""Each parameter's derivation, and the plan of what is explained where."""
from __future__ import annotations

import random
import re

import pytest
import sympy
from sympy import Symbol
from sympy.parsing.sympy_parser import parse_expr

from symprop.document.build import build_document
from symprop.document.formulas import Formulas
from symprop.document.model import Equation, Paragraph
from symprop.document.options import DocumentOptions
from symprop.document import parameters
from symprop.document.parameters import ParameterSections, Plan, rule_step, single_chain, term_rule
from symprop.engine.backprop import derive
from symprop.model import nn
from symprop.model.stack import LayerStack
from symprop.numbers.worked_example import worked_example
from symprop.printing.latex import prime
from symprop.printing.rows import CONTINUATION
from tests.reference import exactly_equal

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


# --- every rule step shown, checked against sympy.diff ------------------------------------------------

def equation_sides(rows) -> list[str]:
    """The sides ``lhs = a = b`` of a chain as :func:`chain_rows` set them, a row it broke
    joined back (a continuation row continues the side before it)."""
    sides = []
    for row in rows:
        if row.startswith(CONTINUATION):
            sides[-1] += " " + row[len(CONTINUATION):].removeprefix("{} ")
        elif row.startswith("&= "):
            sides.append(row[3:])
        else:
            sides += row.split(" &= ", 1) if " &= " in row else row.split(" = ", 1)
    return sides


_FRACTION = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")


def read_printed(tex: str, names: dict[str, Symbol]) -> sympy.Expr:
    r"""A printed rule step read back into SymPy on its own, without the step's expression:
    each name's TeX by its symbol, ``\frac{a}{b}``, ``^{n}``, ``\cdot``, parentheses."""
    text, local = tex, {}
    for index, (name, symbol) in enumerate(sorted(names.items(), key=lambda item: -len(item[0]))):
        text = text.replace(name, f" s{index} ")
        local[f"s{index}"] = symbol
    text = _FRACTION.sub(r"((\1)/(\2))", text).replace("^{", "**{").replace(r"\cdot", "*")
    text = text.replace("{", "(").replace("}", ")")
    assert "\\" not in text, f"unread TeX in {tex!r}"
    return parse_expr(text, local_dict=local, evaluate=True)


def wrong_rule_steps(f: Formulas, document) -> tuple[int, list]:
    """How many rule steps ``document`` shows, and those that are not ``sympy.diff`` of the
    expression they differentiate: read from the printed row, and as the step's expression
    evaluated (``.doit()``). A factor's second side is its rule step unless it is one of the
    factor's other sides (``f'(z)``, the derivative, its value)."""
    factors = {f.partial(of, wrt): (of, wrt) for of, wrt in f.derivation.local if of in f.graph.definition}
    shown, wrong = 0, []
    for block in document.blocks:
        sides = equation_sides(block.rows) if isinstance(block, Equation) else []
        if len(sides) < 3 or sides[0] not in factors:
            continue
        of, wrt = factors[sides[0]]
        defined, derivative = f.graph.definition[of], f.local(of, wrt)
        if sides[1] in {f.tex(prime(defined)), f.tex(derivative), f.num(f.local_value(of, wrt))}:
            continue
        shown += 1
        reference = sympy.diff(defined, wrt)
        step = rule_step(defined, wrt)
        names = {f.tex(s): s for s in defined.free_symbols}
        if (step is None or step.latex(f.tex) != sides[1] or not exactly_equal(step.expression.doit(), reference)
                or not exactly_equal(read_printed(sides[1], names), reference)):
            wrong.append((of, wrt, sides[1]))
    return shown, wrong


def builtin_dense_solutions():
    """The built-in examples derived per parameter (a layer stack has no rule steps)."""
    from symprop.files import spec
    from symprop.outputs import pipeline

    solutions = {name: pipeline.solve(spec.load_builtin(name)) for name in spec.builtin_examples()}
    return {name: s for name, s in solutions.items() if not isinstance(s.derivation.network, LayerStack)}


@pytest.fixture(scope="module")
def builtin_solutions():
    return builtin_dense_solutions()


def test_every_rule_step_of_every_builtin_example_is_the_derivative_it_claims(builtin_solutions):
    assert {"mazur", "3b1b", "nielsen", "softmax", "graph"} <= set(builtin_solutions)
    for name, solution in builtin_solutions.items():
        f = Formulas(solution.derivation, solution.example, DocumentOptions())
        shown, wrong = wrong_rule_steps(f, build_document(solution.derivation, solution.example))
        assert shown >= 2 and wrong == [], name


ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "silu", "identity")
LOSSES = ("half_sse", "sse", "mse", "half_mse", "cross_entropy", "upstream", "softmax_cross_entropy")


def random_dense_network(rng: random.Random, loss: str):
    """1 to 3 inputs, 1 to 3 layers of 1 to 3 units of random activations and bias modes."""
    layers = [nn.Dense(rng.randint(1, 3), rng.choice(ACTIVATIONS), bias=rng.choice(("per_unit", "shared", "none")))
              for _ in range(rng.randint(1, 3))]
    if loss == "softmax_cross_entropy":
        layers[-1] = nn.Dense(rng.randint(2, 3), rng.choice(("softmax", "identity")))
    notation = rng.choice(("plain", "mazur", "3b1b", "nielsen"))
    return nn.mlp(rng.randint(1, 3), layers, loss, notation=notation)


@pytest.mark.parametrize("seed", range(14))
def test_every_rule_step_of_random_dense_networks_is_the_derivative_it_claims(seed):
    rng = random.Random(seed)
    network = random_dense_network(rng, LOSSES[seed % len(LOSSES)])
    derivation = derive(network)
    example = None
    if seed % 2:  # with a worked example the factors carry numbers after the rule step
        values = {s.name: rng.uniform(0.05, 0.95) for s in (*network.graph.inputs, *network.graph.parameters)}
        if network.loss == "softmax_cross_entropy":  # its derivative softmax - t needs targets summing to 1
            values.update({t.name: float(i == 0) for i, t in enumerate(network.targets)})
        example = worked_example(derivation, values, learning_rate=0.1)
    f = Formulas(derivation, example, DocumentOptions())
    shown, wrong = wrong_rule_steps(f, build_document(derivation, example))
    assert shown >= 1 and wrong == []


def _without_inner_derivative(term, wrt):
    """The power rule's inner derivative forgotten: Mazur's ``\\cdot (-1)`` left out."""
    factors = term_rule(term, wrt)
    return factors[:-1] if factors is not None and len(factors) > 2 else factors


def test_a_wrong_rule_step_is_caught(mazur_solution, monkeypatch):
    """A step whose factors are wrong, and one printed unlike its (right) expression."""
    f = Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions())
    monkeypatch.setattr(parameters, "term_rule", _without_inner_derivative)
    shown, wrong = wrong_rule_steps(f, build_document(mazur_solution.derivation, mazur_solution.example))
    assert shown == 10 and [(of.name, wrt.name) for of, wrt, _ in wrong] == [("E_total", "out_o1"), ("E_total", "out_o2")]
    monkeypatch.undo()
    printed = parameters.RuleStep.latex
    monkeypatch.setattr(parameters.RuleStep, "latex", lambda step, tex: printed(step, tex).replace("2 - 1", "3 - 1"))
    shown, wrong = wrong_rule_steps(f, build_document(mazur_solution.derivation, mazur_solution.example))
    assert len(wrong) == 2 and all("3 - 1" in side for _, _, side in wrong)


def test_a_rule_step_is_one_unevaluated_expression_printed_factor_by_factor():
    t, out = Symbol("a", real=True), Symbol("b", real=True)
    step = rule_step(sympy.Rational(1, 2) * (t - out) ** 2 + t, out)
    assert step.expression.args[1] == sympy.Mul(2, sympy.Rational(1, 2), sympy.Pow(
        t - out, sympy.Add(2, -1, evaluate=False), evaluate=False), -1, evaluate=False)
    assert exactly_equal(step.expression.doit(), out - t)
    assert step.latex(sympy.latex) == r"0 + 2 \cdot \frac{1}{2} \cdot (a - b)^{2 - 1} \cdot (-1)"
    assert rule_step(t - out + t * out, out).latex(sympy.latex) == "0 + (-1) + a"  # a negative term in parentheses
