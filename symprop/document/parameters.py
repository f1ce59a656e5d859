r"""Sections 4 to 6 of a document: each parameter's derivation, as Mazur writes it.

For a parameter ``p``: the chain rule in Leibniz form; where paths branch, the
gradient of the branching node as a sum over the nodes it feeds (and the
gradients those terms reuse); each factor derived and evaluated; the paths; the
product as a closed form in forward quantities with its number; the update.

What is explained in full, and where, is decided once for the whole document
by :class:`Plan` (the first parameter to need a factor or a branch shows it,
later ones refer back), so no section depends on the order it is built in.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy

from symprop.document.formulas import Formulas, is_activation_of, tree_size
from symprop.document.matrix_parameters import matrix_parameter_blocks
from symprop.document.model import Heading, Math, Prose, equation, heading, paragraph, section
from symprop.printing.latex import ordered_product, partial, prime, updated
from symprop.printing.rows import chain_rows


def single_chain(f: Formulas, p):
    """The factors shared by every path from the output to ``p`` (output first) and the
    node above them where paths branch (the output when there is one path)."""
    chain, node = [], p
    while node != f.output:
        users = f.users(node)
        if len(users) != 1:
            break
        chain.append((users[0], node))
        node = users[0]
    return list(reversed(chain)), node


@dataclass(frozen=True)
class Plan:
    """Which parameter explains what, for parameters in reading order: the first to
    reach a branching node shows its sum (and the upstream gradients no branch has
    shown yet), the first to use a factor derives it."""

    branch_owner: dict
    upstream: dict
    factor_owner: dict

    @classmethod
    def of(cls, f: Formulas, parameters) -> Plan:
        branch_owner, upstream, factor_owner, shown_upstream = {}, {}, {}, set()
        for p in parameters:
            chain, top = single_chain(f, p)
            for step in chain:
                factor_owner.setdefault(step, p)
            if top == f.output or top in branch_owner:
                continue
            branch_owner[top] = p
            fresh = [c for c in f.users(top) if c != f.output and c not in shown_upstream]
            shown_upstream.update(fresh)
            upstream[p] = fresh
        return cls(branch_owner, upstream, factor_owner)


class ParameterSections:
    """Output-layer weights, hidden-layer weights (from the output backwards), biases;
    or one group of every parameter for a plain graph."""

    def __init__(self, formulas: Formulas):
        self.f = formulas
        #: Blocks that read the same for every parameter below one node (a factor an earlier
        #: parameter derived, a branch shown again), built once: 784 weights share them.
        self._repeated: dict = {}

    def _once(self, key, build):
        if key not in self._repeated:
            self._repeated[key] = build()
        return self._repeated[key]

    @cached_property
    def groups(self) -> list[tuple[str, list]]:
        """``(key, [(layer, parameters), ...])`` in reading order, empty groups left out."""
        f = self.f
        if f.network is None:
            return [("parameters", [(None, self.derived_one_by_one(f.graph.parameters))])]
        layers = f.network.layers
        groups = [
            ("output_parameters", [(layers[-1], list(layers[-1].weight_parameters))]),
            ("hidden_parameters", [(layer, list(layer.weight_parameters)) for layer in reversed(layers[:-1])]),
            ("biases", [(layer, list(layer.bias_parameters)) for layer in reversed(layers)]),
        ]
        return [(key, per_layer) for key, per_layer in groups if any(ps for _, ps in per_layer)]

    def derived_one_by_one(self, parameters) -> list:
        """The parameters with a derivation of their own: a matrix parameter's entries only
        when the document asks for them (``matrix_entries``)."""
        owner = self.f.graph.arrays.entry_owner if self.f.graph.arrays else {}
        shown = self.f.options.matrix_entries
        return [p for p in parameters if p not in owner or shown]

    def matrix_blocks(self) -> list:
        """One matrix equation per matrix parameter (:mod:`symprop.document.matrix_parameters`)."""
        f = self.f
        return [block for gradient in f.derivation.matrix_gradients.values()
                for block in matrix_parameter_blocks(f, gradient)]

    def shown(self, per_layer) -> list:
        """The parameters derived one by one: the chosen ones (``only``), or all, or the first
        of each layer when summarised."""
        chosen = self.f.chosen
        if chosen is not None:
            return [p for _, ps in per_layer for p in ps if p in chosen]
        summarise = self.f.summarised
        return [p for layer, ps in per_layer for p in (ps[:1] if summarise and layer is not None else ps)]

    @cached_property
    def plan(self) -> Plan:
        return Plan.of(self.f, [p for _, per_layer in self.groups for p in self.shown(per_layer)])

    def sections(self) -> list:
        """One section per group; a group none of whose parameters is shown is left out (the
        group of a graph's parameters stays while it has matrix parameters to show)."""
        matrices = bool(self.f.derivation.matrix_gradients) and self.f.chosen is None
        return [self.group(key, per_layer) for key, per_layer in self.groups
                if self.shown(per_layer) or (key == "parameters" and matrices)]

    def group(self, key: str, per_layer):
        f = self.f
        omitted = [
            paragraph("summary_layer", layer=str(layer.index), count=str(len(ps) - 1), parameter=Math(f.tex(ps[0])))
            for layer, ps in per_layer if f.summarised and f.chosen is None and layer is not None and len(ps) > 1
        ]
        note = None
        if key == "biases" and f.example is not None and f.updates:
            updated = any(p in f.updated for _, ps in per_layer for p in ps)
            note = paragraph("biases_updated" if updated else "biases_not_updated")
        derivations = [block for p in self.shown(per_layer) for block in self.parameter(p)]
        matrices = self.matrix_blocks() if key == "parameters" else []
        return section(key, heading(key), paragraph(key + "_intro"), note, *matrices, *derivations, *omitted)

    def parameter(self, p) -> list:
        """One parameter's derivation: Leibniz chain, branch sum, factors, paths, product, update."""
        f = self.f
        chain, top = single_chain(f, p)
        gradient = f.partial(f.output, p)
        leibniz = ([partial(f.output, top)] if top != f.output else []) + [partial(of, wrt) for of, wrt in chain]
        blocks = [Heading(Prose("gradient_of", {"parameter": Math(f.tex(p))}), 3, key=p.name)]
        if len(leibniz) > 1:
            blocks += [paragraph("chain_rule"), equation(chain_rows([gradient, f.tex(ordered_product(f.chain(leibniz)))]))]
        if top != f.output:
            blocks += self.branch(top, p)
        if chain:
            blocks += [paragraph("each_factor"), *(equation(self.factor(of, wrt, p)) for of, wrt in f.chain(chain))]
        blocks += self.paths(p)
        blocks += self.product(p, chain, top)
        blocks += [self.examples_note(p), *self.update(p)]
        return [b for b in blocks if b is not None]

    def factor(self, of, wrt, p) -> list[str]:
        """``d of / d wrt = f'(z) = closed form = numbers = value``; only the value where
        an earlier parameter derived the same factor."""
        f = self.f
        derivative = f.local(of, wrt)
        if self.plan.factor_owner[(of, wrt)] != p:
            return self._once(("factor", of, wrt), lambda: tuple(chain_rows(
                [f.partial(of, wrt), f.tex(derivative), f.num(f.local_value(of, wrt))])))
        defined = f.graph.definition[of]
        rule = rule_step(defined, wrt) if f.options.rules else None
        return chain_rows([
            f.partial(of, wrt), rule.latex(f.tex) if rule else None, f.tex(prime(defined)) if is_activation_of(defined, wrt) else None,
            f.tex(derivative), f.sub(derivative), f.num(f.local_value(of, wrt)),
        ])

    def branch(self, node, p) -> list:
        """``dE/dnode`` as a sum over the nodes it feeds, and each term's upstream gradient."""
        if self.plan.branch_owner[node] != p:
            return self._once(("branch", node), lambda: tuple(self._branch(node, p, first=False)))
        return self._branch(node, p, first=True)

    def _branch(self, node, p, first: bool) -> list:
        f = self.f
        named = f.sum_over_consumers(node, f.adjoint_or_one)
        rows = chain_rows([
            f.partial(f.output, node), *([f.tex(f.leibniz_sum(node))] if first else []), f.tex(named),
            *([f.sub(named)] if first else []), f.num(f.adjoint_value(node)),
        ])
        node_tex = Math(f.tex(node))
        upstream = self.plan.upstream.get(p, []) if first else []
        blocks = []
        if upstream:
            count = str(len(f.users(node)))
            blocks += [paragraph("branch_upstream", node=node_tex, count=count), *(equation(self.upstream(c)) for c in upstream)]
        return blocks + [paragraph("branch_sum" if first else "branch_again", node=node_tex), equation(rows)]

    def upstream(self, node) -> list[str]:
        """``delta = dE/dnode = sum dE/dc dc/dnode = numbers = value`` for a node whose
        gradient the branch reuses."""
        f = self.f
        plugged = f.sum_of_products([
            f.chain([f.adjoint_value(c) if c != f.output else 1, f.local_value(c, node)]) for c in f.users(node)
        ])
        symbol = f.derivation.adjoints[node].symbol
        name = f.tex(symbol) if symbol in f.graph.latex_names else None
        return chain_rows([
            name, f.partial(f.output, node), f.tex(f.leibniz_sum(node)), plugged, f.num(f.adjoint_value(node)),
        ])

    def paths(self, p) -> list:
        f = self.f
        gradient = f.derivation.gradients[p]
        if gradient.path_count < 2:
            return []
        parameter, count = Math(f.tex(p)), str(gradient.path_count)
        if not (gradient.path_count <= f.options.paths_shown and gradient.paths_listed):
            return [paragraph(f.wording("paths_not_listed"), count=count, parameter=parameter)]
        terms = [f.tex(ordered_product(f.chain([partial(s.of, s.wrt) for s in path.factors]))) for path in gradient.paths]
        rows = [f"{f.partial(f.output, p)} &= {terms[0]}", *(f"&\\quad + {t}" for t in terms[1:])]
        return [paragraph(f.wording("paths"), count=count, parameter=parameter), equation(rows)]

    def product(self, p, chain, top) -> list:
        """``dE/dp = closed form in chain order = product of the numbers = value``; a closed
        form too large to print (its tree grows exponentially with depth) is written
        through ``dE/dtop``, which the branch above has derived."""
        f = self.f
        numbers = value = None
        if f.example is not None:
            head = [f.adjoint_value(top)] if top != f.output else []
            factor_values = [f.local_value(of, wrt) for of, wrt in chain if f.local(of, wrt) != 1]
            numbers = f.product_of_numbers(f.chain(head + factor_values) if chain else [])
            value = f.first_example_gradient(p)
        closed = f.closed_gradient(p)
        if tree_size(closed, f.tree_sizes) <= f.options.closed_form_limit:
            key, forms = "product", [f.closed_gradient(p, primes=True), closed]
        else:
            key, forms = "product_through", [self.through(top, chain, primes) for primes in (True, False)]
        rows = chain_rows([f.partial(f.output, p), *map(f.tex, forms), numbers, f.num(value)])
        return [paragraph(key), equation(rows)]

    def through(self, top, chain, primes):
        """``dE/dtop`` times the chain's local derivatives, in chain order."""
        f = self.f
        head = [partial(f.output, top)] if top != f.output else []
        return ordered_product(f.chain(head + [f.local_form(of, wrt, primes) for of, wrt in chain]))

    def examples_note(self, p):
        example = self.f.example
        if example is None or example.examples < 2:
            return None
        key = "examples_reduced" if example.reduction == "mean" else "examples_summed"
        return paragraph(key, count=str(example.examples), value=Math(self.f.num(example.gradients[p])))

    def update(self, p) -> list:
        """``p^{+} = p - eta dE/dp = numbers = value`` (``w_{5}^{+}``), or that the example keeps ``p``."""
        f = self.f
        example = f.example
        if not f.updates:
            return []
        if example is not None and p not in f.updated:
            return [paragraph("not_updated", parameter=Math(f.tex(p)))]
        new = updated(f.tex(p))
        step = rf"{f.tex(p)} - \eta {f.partial(f.output, p)}"
        numbers = value = None
        if example is not None:
            eta, grad = f.factor_number(example.learning_rate), f.factor_number(example.gradients[p])
            numbers = rf"{f.num(example.values[p])} - {eta} \cdot {grad}"
            value = f.num(example.updated[p])
        key = "descent" if example is not None else "descent_symbolic"
        return [paragraph(key, eta=Math(r"\eta")), equation(chain_rows([new, step, numbers, value]))]


#: A sum with more terms than this is differentiated without its term-by-term step.
RULE_TERMS = 6


@dataclass(frozen=True)
class RuleStep:
    r"""A derivative written term by term, each term as the factors its rule gives, in the
    order they print: a power rule's ``(u)^{n - 1}`` is an unevaluated power whose exponent is
    the unevaluated ``n - 1``. :attr:`expression` is the step as one unevaluated SymPy
    expression (``.doit()`` gives the derivative) and :meth:`latex` prints the same factors."""

    terms: tuple[tuple[sympy.Expr, ...], ...]

    @property
    def expression(self) -> sympy.Expr:
        """``sum_terms prod_factors``, nothing evaluated (``0``, ``1`` and ``2 - 1`` kept)."""
        return sympy.Add(*(sympy.Mul(*factors, evaluate=False) for factors in self.terms), evaluate=False)

    def latex(self, tex) -> str:
        r"""The terms joined by ``+``, each one's factors by ``\cdot``, a negative term or
        factor after the first in parentheses (``\cdot (-1)``); ``tex`` prints one factor."""
        return " + ".join(_after_first([_product_latex(factors, tex) for factors in self.terms]))


def _product_latex(factors, tex) -> str:
    return r" \cdot ".join(_after_first([_factor_latex(x, tex) for x in factors]))


def _factor_latex(factor, tex) -> str:
    """``(base)^{n - 1}`` for a power rule's unevaluated power, else the factor as printed."""
    if factor.is_Pow and factor.exp.is_Add:
        n, minus = factor.exp.args
        return f"({tex(factor.base)})^{{{tex(n)} - {tex(-minus)}}}"
    return tex(factor)


def _after_first(pieces: list[str]) -> list[str]:
    """A negative piece after the first in parentheses: ``+ (-x)``, ``\\cdot (-1)``."""
    return pieces[:1] + [f"({piece})" if piece.startswith("-") else piece for piece in pieces[1:]]


def rule_step(expression, wrt) -> RuleStep | None:
    r"""The derivative of a sum by ``wrt`` written term by term, each by the rule that gives it,
    as Mazur writes ``dE_total/dout_o1 = 2 \cdot \frac{1}{2} (t_1 - out_o1)^{2 - 1} \cdot (-1) + 0``
    (sum rule: a term without ``wrt`` gives 0; constant multiple: ``c w`` gives ``c``; power
    rule with the inner derivative: ``c u^n`` gives ``n c u^{n-1} u'``); None for any other
    expression (an activation's derivative is its record's identity, shown as ``f'(z)``)."""
    terms = sympy.Add.make_args(expression)
    if not 2 <= len(terms) <= RULE_TERMS:
        return None
    pieces = [term_rule(term, wrt) for term in terms]
    return None if None in pieces else RuleStep(tuple(pieces))


def term_rule(term, wrt) -> tuple | None:
    """One term's derivative by ``wrt`` as the factors its rule gives (see :func:`rule_step`)."""
    if not term.has(wrt):
        return (sympy.S.Zero,)
    coefficient, rest = term.as_independent(wrt, as_Add=False)
    if rest == wrt:
        return (coefficient,)
    if rest.is_Pow and rest.exp.is_Integer and rest.exp > 1 and rest.base.is_Add:
        base, power = rest.args
        lowered = sympy.Pow(base, sympy.Add(power, -1, evaluate=False), evaluate=False)
        return (power, *([coefficient] if coefficient != 1 else []), lowered, sympy.diff(base, wrt))
    return None
