"""Sections 1 to 3 of a document: the network (picture, definitions, activation
identities, given values), the forward pass, and the loss (or the output)."""
from __future__ import annotations

from functools import cached_property

import sympy
from sympy import Symbol

from symprop.document.diagram import diagram
from symprop.document.formulas import Formulas
from symprop.document.layer_diagram import network_layer_diagram
from symprop.document.model import Figure, Math, Prose, Table, equation, heading, paragraph, section
from symprop.model import functions
from symprop.model.nn import upstream_inputs
from symprop.printing.latex import Dots, ordered_product, ordered_sum, prime, top_level_script
from symprop.printing.rows import break_long_row, chain_rows


class NetworkSections:
    """The nodes a document shows and how each is defined and evaluated."""

    def __init__(self, formulas: Formulas):
        self.f = formulas

    @cached_property
    def shown_nodes(self) -> tuple:
        """Every node; for a summarised network the first unit of each layer and the output."""
        f = self.f
        if not f.summarised or f.network is None:
            return f.graph.nodes
        firsts = {node for layer in f.network.layers for node in (layer.nets[0], layer.outs[0])}
        return tuple(n for n in f.graph.nodes if n in firsts or n == f.output)

    @cached_property
    def shown_parameters(self) -> list:
        f = self.f
        if not f.summarised or f.network is None:
            return list(f.graph.parameters)
        return [ps[0] for layer in f.network.layers for ps in (layer.weight_parameters, layer.bias_parameters) if ps]

    @cached_property
    def affine_of(self) -> dict:
        """net node -> (weights, inputs, bias) for a layered network."""
        if self.f.network is None:
            return {}
        return {
            net: (row, layer.inputs, bias)
            for layer in self.f.network.layers for net, row, bias in zip(layer.nets, layer.weights, layer.biases)
        }

    def definition(self, node):
        """A node's expression as the tutorials write it: ``w_1 i_1 + w_2 i_2 + b_1``."""
        if node in self.affine_of:
            row, inputs, bias = self.affine_of[node]
            terms = [ordered_product([w, a]) for w, a in zip(row, inputs)]
            if len(terms) > self.f.options.long_sum:
                terms = [*terms[:2], Dots(), terms[-1]]
            return ordered_sum([*terms, *([bias] if bias is not None else [])])
        return self.f.graph.definition[node]

    def node_equation(self, node) -> list[str]:
        """``node = definition = numbers = value``."""
        f = self.f
        definition = self.definition(node)
        plugged = functions.elementary(definition) if uses_symprop_functions(definition) else definition
        return chain_rows([
            f.tex(node), f.tex(definition, order="none"), f.sub(plugged, order="none"), f.num(f.value(node)),
        ])

    # --- the sections -------------------------------------------------------------

    def network_section(self):
        f = self.f
        layout = diagram(f)
        picture = []
        if layout["kind"] != "none":
            key = "graph_picture" if layout["kind"] == "graph" else (
                "network_picture_gradients" if f.example is not None else "network_picture")
            key = "picture_summary" if layout["summary"] else key
            picture = [paragraph(key), Figure(layout)]
        elif f.network is not None and not f.graph.arrays:  # too many units to draw one by one
            layers = network_layer_diagram(f.network, f.tex(f.output), f.options.lang)
            # a row of so many layers that it must shrink past legibility says nothing: no picture
            picture = [] if layers["summary"] else [
                paragraph("network_layer_picture", output=Math(f.tex(f.output))), Figure(layers)]
        definitions = [
            piece for node in self.shown_nodes
            for piece in break_long_row(f.tex(node) + " &= " + f.tex(self.definition(node), order="none"))
        ]
        identities = self.activation_identities()
        return section(
            "network", heading(f.wording("network")), *picture, paragraph("network_definitions"), equation(definitions),
            *([paragraph("activation_identities"), *map(equation, identities)] if identities else []),
            *self.given_values(),
        )

    def given_values(self) -> list:
        f = self.f
        if f.example is None:
            return []
        given = [*f.graph.inputs, *self.shown_parameters]
        if not given:
            return []
        rows = tuple((Math(f.tex(s)), f.cell(f.example.values[s])) for s in given)
        eta = Math(r"\eta" + " = " + f.num(f.example.learning_rate))
        return [
            paragraph("given_values"), Table((Prose("col_symbol"), Prose("col_value")), "lr", rows),
            paragraph("learning_rate_given", eta=eta) if f.updates else None,
        ]

    def activation_identities(self) -> list[list[str]]:
        """For each one-argument activation used: ``f(z) = ...`` and ``f'(z) = ...``."""
        f = self.f
        z = Symbol("z", real=True)
        seen = []
        for applied in f.graph.applied_functions:
            kind = type(applied)
            if len(applied.args) == 1 and kind not in seen and has_definition(kind):
                seen.append(kind)
        rows = []
        for kind in sorted(seen, key=lambda k: k.__name__):
            applied = kind(z)
            rows.append([
                f"{f.tex(applied)} &= {f.tex(applied.rewrite(sympy.exp))}",
                f"{f.tex(prime(applied))} &= {f.tex(function_first(applied.diff(z), applied))}",
            ])
        return rows

    def forward_section(self):
        f = self.f
        equations = [self.node_equation(node) for node in self.shown_nodes if node != f.output]
        if not equations or f.example is None:
            return section("forward")
        return section("forward", heading("forward"), paragraph("forward_intro"), *map(equation, equations))

    def loss_section(self):
        f = self.f
        is_network = f.network is not None
        return section(
            "loss", heading("loss" if is_network or upstream_inputs(f.graph) else "output"), self.loss_intro(),
            equation(self.node_equation(f.output)), *self.loss_terms(), self.loss_over_examples(),
        )

    def loss_terms(self) -> list:
        r"""Mazur's split of a loss made of one term per output, each with its numbers and
        value, then their sum: ``E_{o1} = \frac{(t_1 - \mathrm{out}_{o1})^2}{2} = ... = 0.2748``,
        ``E_{\mathrm{total}} = E_{o1} + E_{o2} = 0.2748 + 0.02356 = 0.2984`` (2 to 4 outputs,
        with an example; nothing for any other loss)."""
        f = self.f
        terms = per_output_terms(f)
        if not terms:
            return []
        base = f.tex(f.output).split("_")[0]
        rows, names, values = [], [], []
        for output, term in terms:
            script = top_level_script(f.tex(output), "_")
            name = f"{base}_{{{f.tex(output)[script[0] + 1:script[1] - 1]}}}" if script else f"{base}_{{{f.tex(output)}}}"
            value = float(term.xreplace({s: sympy.Float(float(f.value(s))) for s in term.free_symbols}))
            rows += chain_rows([name, f.tex(term, order="none"), f.sub(term, order="none"), f.num(value)])
            names.append(name)
            values.append(value)
        total = " + ".join(names)
        numbers = " + ".join(f.num(v) for v in values).replace("+ -", "- ")
        rows += chain_rows([f.tex(f.output), total, numbers, f.num(f.value(f.output))])
        return [paragraph("loss_split"), equation(rows)]

    def loss_intro(self):
        """The sentence before the loss: a given upstream gradient says where it comes from,
        ``dL/dy_k = g_k`` for the k-th output ``y_k``."""
        f = self.f
        if not upstream_inputs(f.graph):
            return paragraph("output_intro" if f.network is None else "loss_intro")
        rule = rf"\frac{{\partial {f.tex(f.output)}}}{{\partial y_{{k}}}} = g_{{k}}"
        return paragraph("loss_upstream", g=Math("g"), rule=Math(rule))

    def loss_over_examples(self):
        """With several examples: the loss combined over them (the lines show the first)."""
        example = self.f.example
        if example is None or example.examples < 2:
            return None
        key = "loss_over_examples_mean" if example.reduction == "mean" else "loss_over_examples_sum"
        return paragraph(key, count=str(example.examples), value=Math(self.f.num(example.loss)))


def per_output_terms(f) -> list:
    """``[(output, term)]`` when the loss is a sum of one term per output of a network of 2
    to 4 outputs with a worked example (Mazur's ``E_total = E_o1 + E_o2``), else ``[]``."""
    if f.network is None or f.example is None or not float_values(f):
        return []
    outputs = list(f.network.layers[-1].outs)
    terms = sympy.Add.make_args(f.graph.definition[f.output])
    if not 2 <= len(outputs) <= 4 or len(terms) != len(outputs):
        return []
    found = {}
    for term in terms:
        used = [o for o in outputs if term.has(o)]
        if len(used) != 1 or used[0] in found or any(f.value(s) is None for s in term.free_symbols):
            return []
        found[used[0]] = term
    return [(o, found[o]) for o in outputs]


def float_values(f) -> bool:
    """Whether the worked example is in float64 (its loss a Python or NumPy float): the split's
    terms are summed in float64, which exact or many-digit arithmetic would not want."""
    return isinstance(f.value(f.output), float)


def function_first(expr, applied):
    """``sigma (1 - sigma)`` rather than SymPy's ``(1 - sigma) sigma``."""
    if expr.is_Mul and applied in expr.args:
        return ordered_product([applied, *(a for a in expr.args if a != applied)])
    return expr


def has_definition(kind) -> bool:
    return kind is sympy.tanh or (isinstance(kind, type) and issubclass(kind, functions.Activation))


def uses_symprop_functions(expr) -> bool:
    return any(isinstance(a, functions.FUNCTION_CLASSES) for a in sympy.preorder_traversal(expr))
