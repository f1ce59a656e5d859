"""Sections 7 to 9 of a document: the delta form, the finite-difference check, and
the forward pass after the update with the training trace."""
from __future__ import annotations

from functools import cached_property

from symprop.document.formulas import Formulas
from symprop.document.model import Mark, Math, Plot, Prose, Table, equation, heading, paragraph, section
from symprop.printing.numbers import plain_number
from symprop.printing.rows import ALIGNMENT, chain_rows

#: Points of the training plot at most.
PLOT_POINTS = 400
#: Significant digits of a relative error in the check table.
RELATIVE_ERROR_DIGITS = 2


class DeltaSection:
    """Every named delta, then every gradient in delta form: one aligned block each."""

    def __init__(self, formulas: Formulas, shown_parameters):
        self.f, self.shown_parameters = formulas, shown_parameters

    @cached_property
    def named_adjoints(self) -> frozenset:
        """Nodes whose adjoint has a name of its own (``\\delta_{o1}``); every node but the
        output when none has."""
        f = self.f
        adjoints = f.derivation.adjoints
        named = frozenset(n for n, a in adjoints.items() if a.symbol in f.graph.latex_names)
        return named or frozenset(n for n in adjoints if n != f.output)

    @cached_property
    def delta_nodes(self) -> list:
        """Named adjoints from the output backwards: layer by layer, units in order."""
        f = self.f
        if f.network is not None:
            order = [net for layer in reversed(f.network.layers) for net in layer.nets]
        else:
            order = list(reversed(f.graph.nodes))
        nodes = [n for n in order if n in self.named_adjoints and n in f.derivation.adjoints]
        if f.chosen is not None:  # the deltas the chosen parameters use, no others
            return [n for n in nodes if n in f.deltas_used]
        if f.summarised and f.network is not None:
            firsts = {layer.nets[0] for layer in f.network.layers}
            nodes = [n for n in nodes if n in firsts]
        return nodes

    def upstream_named(self, node):
        """What multiplies a local derivative of ``node``'s consumer: 1 at the output, the
        consumer's named delta, or its own expansion when it has no name."""
        if node == self.f.output:
            return 1
        if node in self.named_adjoints:
            return self.f.derivation.adjoints[node].symbol
        return self.named_definition(node)

    def named_definition(self, symbol):
        return self.f.sum_over_consumers(symbol, self.upstream_named)

    def delta_equation(self, node) -> list[str]:
        f = self.f
        definition = self.named_definition(node)
        return chain_rows([
            f.tex(f.derivation.adjoints[node].symbol), f.partial(f.output, node), f.tex(definition),
            f.sub(definition), f.num(f.adjoint_value(node)),
        ])

    def gradient_equation(self, p) -> list[str]:
        f = self.f
        form = self.named_definition(p)
        return chain_rows([f.partial(f.output, p), f.tex(form), f.sub(form), f.num(f.adjoint_value(p))])

    def rows(self) -> tuple[list[str], list[str]]:
        deltas = [row for node in self.delta_nodes for row in one_row(self.delta_equation(node))]
        gradients = [row for p in self.shown_parameters for row in one_row(self.gradient_equation(p))]
        return deltas, gradients

    def input_rows(self) -> list[str]:
        """``dE/dx = sum_c delta_c dc/dx`` for each input the derivation has a gradient for."""
        return [row for x in self.f.derivation.input_gradients for row in one_row(self.gradient_equation(x))]

    def section(self):
        deltas, gradients = self.rows()
        if not deltas:  # one node, the output: no delta beyond the gradients already shown
            return section("delta")
        inputs = self.input_rows()
        return section(
            "delta", heading("delta"), paragraph(self.f.wording("delta_intro")), equation(deltas), paragraph("delta_gradients"),
            equation(gradients), *((paragraph(self.f.wording("delta_inputs")), equation(inputs)) if inputs else ()),
        )


def one_row(rows: list[str]) -> list[str]:
    """A chain's rows aligned at their first ``=``, to stand in a block with others."""
    return [rows[0] if ALIGNMENT.search(rows[0]) else rows[0].replace(" = ", " &= ", 1), *rows[1:]]


def check_section(f: Formulas, shown_parameters):
    """The finite-difference check: one row per shown parameter."""
    if f.example is None:
        return section("check")
    shown = set(shown_parameters)
    checks = [c for c in f.example.checks if c.parameter in shown] + list(f.example.input_checks)
    rows = tuple(
        (Math(f.tex(c.parameter)), f.cell(c.symbolic), f.cell(c.numeric), f.cell(c.relative_error, RELATIVE_ERROR_DIGITS),
         Mark(bool(c.ok)))
        for c in checks
    )
    if not rows:
        return section("check")
    first = "col_variable" if f.example.input_checks else "col_parameter"
    header = tuple(Prose(k) for k in (first, "col_symbolic", "col_numeric", "col_relative_error", "col_agrees"))
    return section("check", heading("check"), paragraph(f.wording("check_intro")), Table(header, "lrrrc", rows),
                   paragraph("check_all_ok"))


def after_section(f: Formulas, shown_nodes):
    """The forward pass again with the updated parameters, the new loss, and the
    training trace when there were several steps."""
    example = f.example
    if example is None or not f.updates:  # no example, or no step taken (steps = 0)
        return section("after_update")
    before, after = float(example.loss), float(example.loss_after)
    key = f.wording("loss_fell" if after < before else "loss_rose" if after > before else "loss_same")
    nodes = tuple(
        (Math(f.tex(n)), f.cell(example.forward[n]), f.cell(example.forward_after[n])) for n in shown_nodes
    )
    return section(
        "after_update", heading("after"), paragraph("after_intro"),
        Table((Prose("col_node"), Prose("col_before"), Prose("col_after")), "lrr", nodes),
        paragraph(key, before=Math(f.num(example.loss)), after=Math(f.num(example.loss_after))),
        *training(f, list(example.loss_history)),
    )


def training(f: Formulas, history: list) -> list:
    if len(history) <= 2:
        return []
    rows = tuple((str(i), f.cell(history[i])) for i in sampled(len(history), f.options.trace_rows))
    points = " ".join(f"({i},{plain_number(history[i], 6)})" for i in sampled(len(history), PLOT_POINTS))
    return [
        heading("training", 3), paragraph(f.wording("training_intro"), steps=str(len(history) - 1)),
        Table((Prose("col_step"), Prose(f.wording("col_loss"))), "rr", rows),
        Plot(points, Prose("col_step"), Prose(f.wording("col_loss")), Prose(f.wording("training_plot"))),
    ]


def sampled(count: int, at_most: int) -> list[int]:
    """At most ``at_most`` evenly spaced indices of ``range(count)``, first and last included."""
    if count <= at_most:
        return list(range(count))
    step = (count - 1) / (at_most - 1)
    return sorted({round(i * step) for i in range(at_most)})
