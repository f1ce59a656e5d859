r"""The document context: every formula and number of a derivation document,
already printed, for the templates to place.

An *equation* in the context is a list of aligned rows (``["lhs &= a", "&= b"]``)
or a single string; a chain ``lhs = a = b = value`` is built by :func:`chain_rows`.
Sections (DOCUMENT.md): network, forward pass, loss, parameters (output layer,
hidden layers, biases; or one group for a plain graph), delta form, gradient
check, after the update.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy
from sympy import Symbol

from symprop.model import functions

from symprop.document import layer_sections as layers_document
from symprop.document.diagram import diagram
from symprop.document.i18n import prose
from symprop.printing.latex import (
    Dots, SympropLatexPrinter, graph_symbol_names, in_chain_order, number, number_names, ordered_product, ordered_sum,
    partial, plain_number, prime,
)
from symprop.printing.rows import break_long_row, chain_rows

#: Above this many parameters a document shows one parameter per layer.
SUMMARY_THRESHOLD = 60
#: Affine sums longer than this print their first terms, a ``\dots`` and the last one.
LONG_SUM = 6
#: Paths listed one by one at most (beyond: the count only).
PATHS_SHOWN = 8
#: Rows of the training table at most.
TRACE_ROWS = 21


def build_context(derivation, example=None, *, lang="en", digits=9, title=None, per_parameter=None) -> dict:
    """The context of :func:`symprop.outputs.render.render_markdown` and ``render_latex``."""
    doc = _Document(derivation, example, digits, per_parameter)
    text = prose(lang)
    context = {
        "lang": lang,
        "text": text,
        "title": title or _network_title(derivation) or text["default_title"],
        "has_example": example is not None,
        "example_count": example.examples if example is not None else 1,
        "is_network": doc.network is not None,
        "summarised": doc.summarised,
        "loss": doc.tex(doc.output),
        "eta": r"\eta",
        "network": doc.network_section(),
        "forward": doc.forward_section(),
        "output_equation": doc.output_equation(),
        "output_note": doc.output_note(),
        "group": {g["key"]: g for g in doc.parameter_groups()},
        "delta": doc.delta_section(),
        "matrix": layers_document.matrix_section(derivation, example, doc.tex),
        "layer_view": layers_document.layer_view_section(derivation, doc.tex),
        "node_rules": layers_document.node_rules_section(derivation, doc.tex),
        "check": doc.check_section(),
        "after": doc.after_section(),
    }
    return context


def _network_title(derivation) -> str:
    network = derivation.network
    return getattr(network, "title", "") or ""


@dataclass
class _Document:
    derivation: object
    example: object
    digits: int
    per_parameter: bool | None
    explained: set = field(default_factory=set)
    explained_upstream: set = field(default_factory=set)
    explained_factors: set = field(default_factory=set)
    ordered_adjoints: dict = field(default_factory=dict)
    printers: dict = field(default_factory=dict)

    # --- basic lookups --------------------------------------------------------

    @property
    def graph(self):
        return self.derivation.graph

    @property
    def network(self):
        network = self.derivation.network
        return network if getattr(network, "layers", None) else None

    @property
    def output(self) -> Symbol:
        return self.graph.output

    @cached_property
    def chain_order(self) -> str:
        return self.network.notation.chain_order if self.network is not None else "loss_first"

    @cached_property
    def summarised(self) -> bool:
        if self.per_parameter is not None:
            return not self.per_parameter
        return len(self.graph.parameters) > SUMMARY_THRESHOLD

    @cached_property
    def values(self) -> dict:
        """Every known number: data, parameters, forward values, adjoints (by their symbols)."""
        if self.example is None:
            return {}
        values = {**self.example.values, **self.example.forward}
        for node, adjoint in self.derivation.adjoints.items():
            values[adjoint.symbol] = self.example.adjoints[node]
        return values

    def printer(self, numbers: bool = False, order=None) -> SympropLatexPrinter:
        """One printer per kind of line (names or numbers, SymPy's order or as built)."""
        key = (numbers, order)
        if key not in self.printers:
            names = graph_symbol_names(self.graph)
            settings = {"symbol_names": names, "order": order}
            if numbers:
                settings.update(symbol_names={**names, **number_names(self.values, self.digits)}, mul_symbol="dot")
            self.printers[key] = SympropLatexPrinter(settings)
        return self.printers[key]

    def tex(self, expr, order=None) -> str:
        return self.printer(False, order).doprint(expr)

    def sub(self, expr, order=None) -> str | None:
        """``expr`` with the numbers plugged in (None without an example, or when
        ``expr`` is one symbol or a number: its value says it all)."""
        if self.example is None or expr.is_Symbol or expr.is_Number:
            return None
        return self.printer(True, order).doprint(expr)

    def num(self, value) -> str | None:
        return None if value is None else number(value, self.digits)

    def plain(self, value) -> str:
        """A number for a table cell: plain text, ``1.5e-11`` style."""
        return plain_number(value, self.digits)

    def value(self, symbol):
        return self.values.get(symbol)

    def partial(self, of, wrt) -> str:
        return self.tex(partial(of, wrt))

    def users(self, symbol) -> tuple:
        """The nodes using ``symbol`` that lead to the output."""
        return tuple(c for c in self.graph.consumers.get(symbol, ()) if c in self.derivation.adjoints)

    def local(self, of, wrt):
        return self.derivation.local[(of, wrt)]

    def local_value(self, of, wrt):
        return None if self.example is None else self.example.local[(of, wrt)]

    def adjoint_value(self, node):
        """``dE/dnode`` at the first example (a parameter's too)."""
        if self.example is None:
            return None
        if node in self.example.adjoints:
            return self.example.adjoints[node]
        return self.first_example_gradient(node)

    def chain(self, factors) -> list:
        """Factors given output first, in the notation's chain order."""
        return in_chain_order(factors, self.chain_order)

    def product_of_numbers(self, values, at_least: int = 2) -> str | None:
        r"""``a \cdot b \cdot c`` with negative numbers in parentheses (None for fewer
        than ``at_least`` numbers, or without an example)."""
        if self.example is None or len(values) < at_least:
            return None
        return r" \cdot ".join(number_names(dict(enumerate(values)), self.digits).values())

    def sum_of_products(self, products) -> str | None:
        r"""``a_1 \cdot b_1 + a_2 \cdot b_2 + ...`` from lists of numbers."""
        if self.example is None:
            return None
        return " + ".join(self.product_of_numbers(p, at_least=1) for p in products)

    # --- 1. network -------------------------------------------------------------

    def network_section(self) -> dict:
        values = []
        if self.example is not None:
            given = [*self.graph.inputs, *self.shown_parameters]
            values = [{"symbol": self.tex(s), "value": self.plain(self.example.values[s])} for s in given]
        return {
            "definitions": [
                piece for node in self.shown_nodes
                for piece in break_long_row(self.tex(node) + " &= " + self.tex(self.definition(node), order="none"))
            ],
            "activations": self.activation_identities(),
            "diagram": diagram(self),
            "given": values,
            "learning_rate": self.num(self.example.learning_rate) if self.example is not None else None,
        }

    @cached_property
    def shown_nodes(self) -> tuple:
        """Every node; for a summarised network the first unit of each layer and the output."""
        if not self.summarised or self.network is None:
            return self.graph.nodes
        firsts = {node for layer in self.network.layers for node in (layer.nets[0], layer.outs[0])}
        return tuple(n for n in self.graph.nodes if n in firsts or n == self.output)

    @cached_property
    def affine_of(self) -> dict:
        """net node -> (weights, inputs, bias) for a layered network."""
        if self.network is None:
            return {}
        return {
            net: (row, layer.inputs, bias)
            for layer in self.network.layers for net, row, bias in zip(layer.nets, layer.weights, layer.biases)
        }

    def definition(self, node):
        """A node's expression as the tutorials write it: ``w_1 i_1 + w_2 i_2 + b_1``."""
        if node in self.affine_of:
            row, inputs, bias = self.affine_of[node]
            terms = [ordered_product([w, a]) for w, a in zip(row, inputs)]
            if len(terms) > LONG_SUM:
                terms = [*terms[:2], Dots(), terms[-1]]
            return ordered_sum([*terms, *([bias] if bias is not None else [])])
        return self.graph.definition[node]

    def activation_identities(self) -> list[list[str]]:
        """For each one-argument activation used: ``f(z) = ...`` and ``f'(z) = ...``."""
        z = Symbol("z", real=True)
        seen, rows = [], []
        for expr in self.graph.definition.values():
            for applied in expr.atoms(sympy.Function):
                kind = type(applied)
                if len(applied.args) == 1 and kind not in seen and _has_definition(kind):
                    seen.append(kind)
        for kind in sorted(seen, key=lambda k: k.__name__):
            f = kind(z)
            rows.append([
                f"{self.tex(f)} &= {self.tex(f.rewrite(sympy.exp))}",
                f"{self.tex(prime(f))} &= {self.tex(_function_first(f.diff(z), f))}",
            ])
        return rows

    # --- 2. and 3. forward pass and loss -----------------------------------------

    def forward_section(self) -> list[list[str]]:
        return [self.node_equation(node) for node in self.shown_nodes if node != self.output]

    def node_equation(self, node) -> list[str]:
        """``node = definition = numbers = value``."""
        definition = self.definition(node)
        plugged = functions.elementary(definition) if _uses_symprop_functions(definition) else definition
        return chain_rows([
            self.tex(node), self.tex(definition, order="none"), self.sub(plugged, order="none"),
            self.num(self.value(node)),
        ])

    def output_equation(self) -> list[str]:
        return self.node_equation(self.output)

    def output_note(self) -> dict | None:
        """With several examples: the loss combined over them (the lines show the first)."""
        if self.example is None or self.example.examples < 2:
            return None
        key = "loss_over_examples_mean" if self.example.reduction == "mean" else "loss_over_examples_sum"
        return {"key": key, "count": str(self.example.examples), "value": self.num(self.example.loss)}

    # --- 4. to 6. parameters -------------------------------------------------------

    def parameter_groups(self) -> list[dict]:
        """Output-layer weights, hidden-layer weights (from the output backwards), biases;
        or one group of every parameter for a plain graph."""
        if self.network is None:
            return [self.group("parameters", [(None, list(self.graph.parameters))])]
        layers = self.network.layers
        groups = [
            self.group("output_parameters", [(layers[-1], list(layers[-1].weight_parameters))]),
            self.group("hidden_parameters", [(layer, list(layer.weight_parameters)) for layer in reversed(layers[:-1])]),
            self.group("biases", [(layer, list(layer.bias_parameters)) for layer in reversed(layers)]),
        ]
        return [g for g in groups if g["parameters"] or g["omitted"]]

    def group(self, key: str, per_layer) -> dict:
        shown, omitted = [], []
        for layer, parameters in per_layer:
            if self.summarised and layer is not None and len(parameters) > 1:
                omitted.append({"layer": str(layer.index), "count": str(len(parameters) - 1), "parameter": self.tex(parameters[0])})
                parameters = parameters[:1]
            shown += [self.parameter(p) for p in parameters]
        updated = self.example is not None and any(p in self.example.updated_parameters for _, ps in per_layer for p in ps)
        return {"key": key, "parameters": shown, "omitted": omitted, "updated": updated}

    def parameter(self, p) -> dict:
        """One parameter's derivation: Leibniz chain, branch sum, factors, paths, product, update."""
        chain, top = self.single_chain(p)
        gradient = self.partial(self.output, p)
        leibniz_factors = ([partial(self.output, top)] if top != self.output else []) + [partial(f[0], f[1]) for f in chain]
        return {
            "symbol": self.tex(p),
            "gradient": gradient,
            "leibniz": chain_rows([gradient, self.tex(ordered_product(self.chain(leibniz_factors)))])
            if len(leibniz_factors) > 1 else None,
            "branch": self.branch(top) if top != self.output else None,
            "factors": [self.factor(of, wrt) for of, wrt in self.chain(chain)],
            "paths": self.paths(p),
            "product": self.product(p, chain, top),
            "examples_note": self.examples_note(p),
            "descent": self.update(p),
        }

    def single_chain(self, p):
        """The factors shared by every path from the output to ``p`` (output first) and the
        node above them where paths branch (the output when there is one path)."""
        chain, node = [], p
        while node != self.output:
            users = self.users(node)
            if len(users) != 1:
                break
            chain.append((users[0], node))
            node = users[0]
        return list(reversed(chain)), node

    def factor(self, of, wrt) -> list[str]:
        """``d of / d wrt = f'(z) = closed form = numbers = value``."""
        derivative = self.local(of, wrt)
        defined = self.graph.definition[of]
        is_activation = _is_activation_of(defined, wrt)
        if (of, wrt) in self.explained_factors:
            return chain_rows([self.partial(of, wrt), self.tex(derivative), self.num(self.local_value(of, wrt))])
        self.explained_factors.add((of, wrt))
        return chain_rows([
            self.partial(of, wrt), self.tex(prime(defined)) if is_activation else None, self.tex(derivative),
            self.sub(derivative), self.num(self.local_value(of, wrt)),
        ])

    def branch(self, node) -> dict:
        """``dE/dnode`` as a sum over the nodes it feeds, and each term's upstream gradient."""
        first = node not in self.explained
        self.explained.add(node)
        users = self.users(node)
        leibniz = ordered_sum([ordered_product(self.chain([partial(self.output, c), partial(c, node)])) for c in users])
        named = ordered_sum([ordered_product(self.chain([self.adjoint_or_one(c), self.local(c, node)])) for c in users])
        return {
            "node": self.tex(node),
            "count": str(len(users)),
            "first": first,
            "equation": chain_rows([
                self.partial(self.output, node), *([self.tex(leibniz)] if first else []), self.tex(named),
                *([self.sub(named)] if first else []), self.num(self.adjoint_value(node)),
            ]),
            "upstream": [self.upstream(c) for c in self.new_upstream(users)] if first else [],
        }

    def new_upstream(self, users) -> list:
        """The nodes among ``users`` whose gradient no branch has shown yet."""
        fresh = [c for c in users if c != self.output and c not in self.explained_upstream]
        self.explained_upstream.update(fresh)
        return fresh

    def adjoint_or_one(self, node):
        return sympy.S.One if node == self.output else self.derivation.adjoints[node].symbol

    def upstream(self, node) -> list[str]:
        """``delta = dE/dnode = sum dE/dc dc/dnode = numbers = value`` for a node whose
        gradient the branch reuses."""
        users = self.users(node)
        leibniz = ordered_sum([ordered_product(self.chain([partial(self.output, c), partial(c, node)])) for c in users])
        plugged = self.sum_of_products([
            self.chain([self.adjoint_value(c) if c != self.output else 1, self.local_value(c, node)]) for c in users
        ])
        symbol = self.derivation.adjoints[node].symbol
        name = self.tex(symbol) if symbol in self.graph.latex_names else None
        return chain_rows([
            name, self.partial(self.output, node), self.tex(leibniz), plugged, self.num(self.adjoint_value(node)),
        ])

    def paths(self, p) -> dict | None:
        gradient = self.derivation.gradients[p]
        if gradient.path_count < 2:
            return None
        listed = gradient.path_count <= PATHS_SHOWN and gradient.paths_listed
        terms = []
        if listed:
            for path in gradient.paths:
                factors = [partial(f.of, f.wrt) for f in path.factors]
                terms.append(self.tex(ordered_product(self.chain(factors))))
        rows = [f"{self.partial(self.output, p)} &= {terms[0]}", *(f"&\\quad + {t}" for t in terms[1:])] if terms else []
        return {"count": str(gradient.path_count), "rows": rows}

    def ordered_adjoint(self, node, primes=False):
        """``dE/dnode`` in forward quantities, each product in chain order; with
        ``primes`` each activation's derivative reads ``\\sigma'(z)``."""
        if node == self.output:
            return sympy.S.One
        key = (node, primes)
        if key not in self.ordered_adjoints:
            self.ordered_adjoints[key] = ordered_sum([
                ordered_product(self.chain([self.ordered_adjoint(c, primes), self.local_form(c, node, primes)]))
                for c in self.users(node)
            ])
        return self.ordered_adjoints[key]

    def local_form(self, of, wrt, primes=False):
        """``d of / d wrt`` in forward quantities, or ``f'(z)`` when ``of = f(wrt)`` and ``primes``."""
        defined = self.graph.definition[of]
        if primes and _is_activation_of(defined, wrt):
            return prime(defined)
        return self.local(of, wrt)

    def ordered_gradient(self, p, primes=False):
        return ordered_sum([
            ordered_product(self.chain([self.ordered_adjoint(c, primes), self.local_form(c, p, primes)]))
            for c in self.users(p)
        ])

    def first_example_gradient(self, p):
        """The gradient at the first example's data (the combined gradient for one example)."""
        return sum(self.example.adjoints[c] * self.example.local[(c, p)] for c in self.users(p))

    def product(self, p, chain, top) -> list[str]:
        """``dE/dp = closed form in chain order = product of the numbers = value``."""
        numbers = None
        if self.example is not None:
            head = [self.adjoint_value(top)] if top != self.output else []
            factor_values = [self.local_value(of, wrt) for of, wrt in chain if self.local(of, wrt) != 1]
            numbers = self.product_of_numbers(self.chain(head + factor_values) if chain else [])
        value = self.first_example_gradient(p) if self.example is not None else None
        return chain_rows([
            self.partial(self.output, p), self.tex(self.ordered_gradient(p, primes=True)),
            self.tex(self.ordered_gradient(p)), numbers, self.num(value),
        ])

    def examples_note(self, p) -> dict | None:
        if self.example is None or self.example.examples < 2:
            return None
        key = "examples_reduced" if self.example.reduction == "mean" else "examples_summed"
        return {"key": key, "count": str(self.example.examples), "value": self.num(self.example.gradients[p])}

    def update(self, p) -> dict:
        """``{p}^{+} = p - eta dE/dp = numbers = value``, or that the example keeps ``p``."""
        updated = self.example is None or p in self.example.updated_parameters
        new = "{" + self.tex(p) + "}^{+}"
        step = rf"{self.tex(p)} - \eta {self.partial(self.output, p)}"
        numbers = value = None
        if self.example is not None and updated:
            eta, grad = number_names({0: self.example.learning_rate, 1: self.example.gradients[p]}, self.digits).values()
            numbers = rf"{self.num(self.example.values[p])} - {eta} \cdot {grad}"
            value = self.num(self.example.updated[p])
        return {"updated": updated, "equation": chain_rows([new, step, numbers, value])}

    # --- 7. delta form ------------------------------------------------------------

    def delta_section(self) -> dict:
        """Every named delta, then every gradient in delta form: one aligned block each."""
        return {
            "deltas": [row for node in self.delta_nodes for row in _one_row(self.delta_equation(node))],
            "gradients": [row for p in self.shown_parameters for row in _one_row(self.delta_gradient(p))],
        }

    @cached_property
    def named_adjoints(self) -> frozenset:
        """Nodes whose adjoint has a name of its own (``\\delta_{o1}``); every node but the
        output when none has."""
        adjoints = self.derivation.adjoints
        named = frozenset(n for n, a in adjoints.items() if a.symbol in self.graph.latex_names)
        return named or frozenset(n for n in adjoints if n != self.output)

    @cached_property
    def delta_nodes(self) -> list:
        """Named adjoints from the output backwards: layer by layer, units in order."""
        if self.network is not None:
            order = [net for layer in reversed(self.network.layers) for net in layer.nets]
        else:
            order = list(reversed(self.graph.nodes))
        nodes = [n for n in order if n in self.named_adjoints and n in self.derivation.adjoints]
        if self.summarised and self.network is not None:
            firsts = {layer.nets[0] for layer in self.network.layers}
            nodes = [n for n in nodes if n in firsts]
        return nodes

    @cached_property
    def shown_parameters(self) -> list:
        if not self.summarised or self.network is None:
            return list(self.graph.parameters)
        return [ps[0] for layer in self.network.layers for ps in (layer.weight_parameters, layer.bias_parameters) if ps]

    def upstream_named(self, node):
        """What multiplies a local derivative of ``node``'s consumer: 1 at the output, the
        consumer's named delta, or its own expansion when it has no name."""
        if node == self.output:
            return sympy.S.One
        if node in self.named_adjoints:
            return self.derivation.adjoints[node].symbol
        return self.named_definition(node)

    def named_definition(self, node):
        return ordered_sum([
            ordered_product(self.chain([self.upstream_named(c), self.local(c, node)])) for c in self.users(node)
        ])

    def delta_equation(self, node) -> list[str]:
        definition = self.named_definition(node)
        return chain_rows([
            self.tex(self.derivation.adjoints[node].symbol), self.partial(self.output, node), self.tex(definition),
            self.sub(definition), self.num(self.adjoint_value(node)),
        ])

    def delta_gradient(self, p) -> list[str]:
        form = ordered_sum([ordered_product(self.chain([self.upstream_named(c), self.local(c, p)])) for c in self.users(p)])
        value = self.first_example_gradient(p) if self.example is not None else None
        return chain_rows([self.partial(self.output, p), self.tex(form), self.sub(form), self.num(value)])

    # --- 8. and 9. check and after the update ---------------------------------------

    def check_section(self) -> list[dict]:
        if self.example is None:
            return []
        shown = set(self.shown_parameters)
        return [
            {
                "parameter": self.tex(c.parameter),
                "symbolic": self.plain(c.symbolic),
                "numeric": self.plain(c.numeric),
                "relative_error": format(float(c.relative_error), ".1e"),
                "ok": bool(c.ok),
            }
            for c in self.example.checks if c.parameter in shown
        ]

    def after_section(self) -> dict | None:
        example = self.example
        if example is None:
            return None
        before, after = float(example.loss), float(example.loss_after)
        key = "loss_fell" if after < before else "loss_rose" if after > before else "loss_same"
        history = list(example.loss_history)
        return {
            "nodes": [
                {"node": self.tex(n), "before": self.plain(example.forward[n]), "after": self.plain(example.forward_after[n])}
                for n in self.shown_nodes
            ],
            "loss_key": key,
            "before": self.num(example.loss),
            "after": self.num(example.loss_after),
            "steps": str(len(history) - 1),
            "trace": [{"step": str(i), "loss": self.plain(history[i])} for i in _sampled(len(history), TRACE_ROWS)]
            if len(history) > 2 else [],
            "plot": " ".join(f"({i},{plain_number(history[i], 6)})" for i in _sampled(len(history), 400))
            if len(history) > 2 else "",
        }


def _sampled(count: int, at_most: int) -> list[int]:
    """At most ``at_most`` evenly spaced indices of ``range(count)``, first and last included."""
    if count <= at_most:
        return list(range(count))
    step = (count - 1) / (at_most - 1)
    return sorted({round(i * step) for i in range(at_most)})


def _is_activation_of(defined, wrt) -> bool:
    """``defined`` is a one-argument function applied to ``wrt`` (``sigma(net)``)."""
    return isinstance(defined, sympy.Function) and defined.args == (wrt,)


def _function_first(expr, f):
    """``sigma (1 - sigma)`` rather than SymPy's ``(1 - sigma) sigma``."""
    if expr.is_Mul and f in expr.args:
        return ordered_product([f, *(a for a in expr.args if a != f)])
    return expr


def _has_definition(kind) -> bool:
    return kind is sympy.tanh or (isinstance(kind, type) and issubclass(kind, functions.Activation))


def _uses_symprop_functions(expr) -> bool:
    return any(isinstance(a, functions.FUNCTION_CLASSES) for a in sympy.preorder_traversal(expr))


def delta_rows(derivation) -> list[str]:
    """Aligned rows: each named delta's definition, then each gradient in delta form."""
    section = _Document(derivation, None, 9, True).delta_section()
    return [*section["deltas"], *section["gradients"]]


def _one_row(rows: list[str]) -> list[str]:
    return [rows[0] if "&" in rows[0] else rows[0].replace(" = ", " &= ", 1), *rows[1:]]
