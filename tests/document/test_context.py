"""The document context: every formula and number of a derivation document, already printed."""
from __future__ import annotations

import pytest
import sympy
from sympy import Symbol

from symprop.document import context as document

from symprop.outputs import pipeline

from symprop.files import spec
from symprop.model.functions import sigmoid

z = Symbol("z", real=True)


@pytest.fixture(scope="module")
def mazur_solution():
    return pipeline.solve(spec.load_builtin("mazur"))


@pytest.fixture(scope="module")
def mazur_context(mazur_solution):
    return document.build_context(mazur_solution.derivation, mazur_solution.example)


@pytest.fixture(scope="module")
def graph_context():
    solution = pipeline.solve(spec.load_builtin("graph"))
    return document.build_context(solution.derivation, solution.example)


def test_the_context_keys_and_title(mazur_solution, mazur_context):
    assert list(mazur_context) == [
        "lang", "text", "title", "has_example", "example_count", "is_network", "summarised", "loss", "eta", "network",
        "forward", "output_equation", "output_note", "group", "delta", "matrix", "layer_view", "node_rules", "check",
        "after",
    ]
    assert mazur_context["title"] == "A step by step backpropagation example"
    assert (mazur_context["loss"], mazur_context["example_count"], mazur_context["summarised"]) == ("E_{total}", 1, False)
    symbolic = document.build_context(mazur_solution.derivation, None, lang="ko", title="T")
    assert (symbolic["title"], symbolic["has_example"], symbolic["check"], symbolic["after"]) == ("T", False, [], None)


def test_a_graph_without_a_title_gets_the_default_one_group_and_no_layers(graph_context):
    assert graph_context["title"] == "Backpropagation, step by step"
    assert list(graph_context["group"]) == ["parameters"]
    assert (graph_context["is_network"], graph_context["matrix"], graph_context["layer_view"]) == (False, None, [])
    assert graph_context["forward"] == [["q &= x + y", r"&= \left(-2\right) + 5", "&= 3"]]


def test_forward_rows_are_definition_numbers_value(mazur_context):
    assert mazur_context["forward"][0] == [
        "net_{h1} &= w_{1} i_{1} + w_{2} i_{2} + b_{1}", r"&= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35", "&= 0.3775",
    ]
    assert mazur_context["output_equation"][-1] == "&= 0.298371109"
    assert mazur_context["network"]["activations"] == [[
        r"\sigma\left(z\right) &= \frac{1}{1 + e^{- z}}",
        r"\sigma'\left(z\right) &= \sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)",
    ]]
    assert mazur_context["network"]["given"][:2] == [{"symbol": "i_{1}", "value": "0.05"}, {"symbol": "i_{2}", "value": "0.1"}]


def test_parameter_groups_output_layer_first_and_which_are_updated(mazur_context):
    groups = mazur_context["group"]
    assert [(key, [p["symbol"] for p in g["parameters"]], g["updated"]) for key, g in groups.items()] == [
        ("output_parameters", ["w_{5}", "w_{6}", "w_{7}", "w_{8}"], True),
        ("hidden_parameters", ["w_{1}", "w_{2}", "w_{3}", "w_{4}"], True),
        ("biases", ["b_{2}", "b_{1}"], False),
    ]


def test_an_output_weights_derivation_is_one_chain(mazur_context):
    w5 = mazur_context["group"]["output_parameters"]["parameters"][0]
    assert (w5["branch"], w5["paths"], w5["examples_note"]) == (None, None, None)
    assert w5["factors"][1] == [
        r"\frac{\partial out_{o1}}{\partial net_{o1}} &= \sigma'\left(net_{o1}\right)",
        r"&= out_{o1} \left(1 - out_{o1}\right)", r"&= 0.75136507 \cdot \left(1 - 0.75136507\right)",
        "&= 0.186815602",
    ]
    assert w5["product"][-2:] == [r"&= 0.74136507 \cdot 0.186815602 \cdot 0.593269992", "&= 0.0821670406"]
    assert w5["descent"] == {"updated": True, "equation": [
        r"{w_{5}}^{+} &= w_{5} - \eta \frac{\partial E_{total}}{\partial w_{5}}", r"&= 0.4 - 0.5 \cdot 0.0821670406",
        "&= 0.35891648",
    ]}


def test_a_hidden_weight_shares_one_chain_below_its_branch(mazur_solution):
    doc = document._Document(mazur_solution.derivation, mazur_solution.example, 9, None)
    out_h1, net_h1, w1 = (Symbol(n, real=True) for n in ("out_h1", "net_h1", "w1"))
    assert doc.single_chain(w1) == ([(out_h1, net_h1), (net_h1, w1)], out_h1)


def test_check_and_after_sections(mazur_context):
    assert mazur_context["check"][0] == {
        "parameter": "w_{1}", "symbolic": "0.000438567734", "numeric": "0.000438567738", "relative_error": "9.1e-09",
        "ok": True,
    }
    after = mazur_context["after"]
    assert (after["loss_key"], after["before"], after["after"], after["steps"], after["trace"], after["plot"]) == (
        "loss_fell", "0.298371109", "0.291027774", "1", [], "")
    assert after["nodes"][0] == {"node": "net_{h1}", "before": "0.3775", "after": "0.377445179"}


def test_several_examples_note_the_combined_loss_and_gradient():
    solution = pipeline.solve(spec.load_builtin("nielsen"))
    context = document.build_context(solution.derivation, solution.example)
    assert context["output_note"] == {"key": "loss_over_examples_mean", "count": "2", "value": "0.267707354"}
    assert context["group"]["output_parameters"]["parameters"][0]["examples_note"] == {
        "key": "examples_reduced", "count": "2", "value": "0.0135982757"}


def test_delta_rows_name_each_delta_then_each_gradient(mazur_solution):
    rows = document.delta_rows(mazur_solution.derivation)
    assert rows[:2] == [
        r"\delta_{o1} &= \frac{\partial E_{total}}{\partial net_{o1}}",
        r"&= \left(out_{o1} - t_{1}\right) out_{o1} \left(1 - out_{o1}\right)",
    ]
    assert r"\frac{\partial E_{total}}{\partial w_{1}} &= \delta_{h1} i_{1}" in rows


@pytest.mark.parametrize(
    "count, at_most, indices",
    [(5, 10, [0, 1, 2, 3, 4]), (11, 3, [0, 5, 10]), (101, 5, [0, 25, 50, 75, 100])],
)
def test_sampled_indices_keep_the_first_and_last(count, at_most, indices):
    assert document._sampled(count, at_most) == indices


def test_small_helpers():
    assert document._is_activation_of(sigmoid(z), z)
    assert not document._is_activation_of(sympy.exp(2 * z), z)
    assert document._function_first(sigmoid(z) * (1 - sigmoid(z)), sigmoid(z)).args == (sigmoid(z), 1 - sigmoid(z))
    assert (document._has_definition(sigmoid), document._has_definition(sympy.tanh)) == (True, True)
    assert document._has_definition(sympy.exp) is False
    assert document._uses_symprop_functions(z + sigmoid(z)) and not document._uses_symprop_functions(sympy.exp(z))
    assert document._one_row(["a = b", "&= c"]) == ["a &= b", "&= c"]
    assert document._one_row(["a &= b = c"]) == ["a &= b = c"]
