"""The delta form, the gradient check and the forward pass after the update."""
from __future__ import annotations

import pytest

from symprop.document.formulas import Formulas
from symprop.document.model import Mark, Math, Plot, Table
from symprop.document.network import NetworkSections
from symprop.document.options import DocumentOptions
from symprop.document.results import DeltaSection, after_section, check_section, one_row, sampled
from symprop.files import spec
from symprop.outputs import pipeline


@pytest.fixture(scope="module")
def formulas(mazur_solution):
    return Formulas(mazur_solution.derivation, mazur_solution.example, DocumentOptions())


def test_delta_rows_name_each_delta_then_each_gradient(mazur_solution):
    f = Formulas(mazur_solution.derivation, None, DocumentOptions())
    deltas, gradients = DeltaSection(f, NetworkSections(f).shown_parameters).rows()
    assert deltas[:2] == [
        r"\delta_{o1} &= \frac{\partial E_{\mathrm{total}}}{\partial \mathrm{net}_{o1}}",
        r"&= (\mathrm{out}_{o1} - t_{1}) \cdot \mathrm{out}_{o1} (1 - \mathrm{out}_{o1})",
    ]
    assert r"\frac{\partial E_{\mathrm{total}}}{\partial w_{1}} &= \delta_{h1} i_{1}" in gradients


def test_the_check_table_has_one_row_per_parameter(formulas):
    table = next(b for b in check_section(formulas, NetworkSections(formulas).shown_parameters).blocks
                 if isinstance(b, Table))
    assert table.align == "lrrrc" and len(table.rows) == 10
    assert table.rows[0] == (
        Math("w_{1}"), Math("0.000438567734"), Math("0.000438567738"), Math(r"9.1 \times 10^{-9}"), Mark(True))


def test_after_the_update_the_loss_fell(formulas):
    section = after_section(formulas, NetworkSections(formulas).shown_nodes)
    verdict = section.blocks[3].prose
    assert verdict.key == "loss_fell"
    assert verdict.values == {"before": Math("0.298371109"), "after": Math("0.291027774")}
    assert section.blocks[2].rows[0] == (Math(r"\mathrm{net}_{h1}"), Math("0.3775"), Math("0.377445179"))
    assert not any(isinstance(b, Plot) for b in section.blocks)


def test_a_training_run_adds_its_trace_and_plot():
    solution = pipeline.solve(spec.load_builtin("mazur"), steps=30)
    f = Formulas(solution.derivation, solution.example, DocumentOptions(trace_rows=5))
    blocks = after_section(f, NetworkSections(f).shown_nodes).blocks
    trace, plot = blocks[-2], blocks[-1]
    assert [row[0] for row in trace.rows] == ["0", "8", "15", "22", "30"]
    assert plot.points.startswith("(0,0.298371) (1,0.291028)") and plot.points.count("(") == 31


@pytest.mark.parametrize(
    "count, at_most, indices",
    [(5, 10, [0, 1, 2, 3, 4]), (11, 3, [0, 5, 10]), (101, 5, [0, 25, 50, 75, 100])],
)
def test_sampled_indices_keep_the_first_and_last(count, at_most, indices):
    assert sampled(count, at_most) == indices


def test_one_row_aligns_a_chain_at_its_first_equals_sign():
    assert one_row(["a = b", "&= c"]) == ["a &= b", "&= c"]
    assert one_row(["a &= b = c"]) == ["a &= b = c"]
