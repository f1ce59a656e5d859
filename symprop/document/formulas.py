r"""What every section of a document reads: the derivation's symbols printed as
LaTeX, the worked example's numbers, and the chain rule's sums arranged in the
notation's chain order.

:class:`Formulas` only looks things up and prints them; the engine has already
recorded every term (``delta_c * dc/du`` for each consumer ``c`` of ``u``), so
nothing here re-derives the chain rule.
"""
from __future__ import annotations

import difflib
from functools import cached_property
from typing import Callable

import sympy
from sympy import Symbol

from symprop.document.i18n import wording
from symprop.document.model import Math
from symprop.document.options import DocumentOptions
from symprop.engine.backprop import consumer_terms
from symprop.errors import SympropError
from symprop.printing.latex import (
    SympropLatexPrinter, graph_symbol_names, in_chain_order, ordered_product, ordered_sum, partial, prime,
)
from symprop.printing.numbers import NumberNames, latex_number, number_names


class Formulas:
    """The derivation (and worked example) of one document, ready to print."""

    def __init__(self, derivation, example, options: DocumentOptions):
        self.derivation, self.example, self.options = derivation, example, options
        self.digits = options.digits
        self._printers: dict = {}
        self._ordered_adjoints: dict = {}
        #: Printed texts by what they print: a per-parameter document prints the same
        #: partials, sums and numbers for every parameter of a unit (784 weights share them).
        self._texts: dict = {}
        self._numbers: dict = {}
        #: Printed sizes of sub-expressions, shared by every closed form of the document: the
        #: closed forms of a deep network share most of their DAG, counted once this way.
        self.tree_sizes: dict = {}

    # --- the derivation ---------------------------------------------------------

    @property
    def graph(self):
        return self.derivation.graph

    @cached_property
    def network(self):
        """The layered network, or None for a plain graph."""
        network = self.derivation.network
        return network if getattr(network, "layers", None) else None

    @property
    def output(self) -> Symbol:
        return self.graph.output

    def wording(self, key: str) -> str:
        """The sentence ``key``, in its variant of the output for a computational graph
        (whose output need not be a loss)."""
        return wording(key, self.network is None)

    @cached_property
    def chain_order(self) -> str:
        return self.network.notation.chain_order if self.network is not None else "loss_first"

    @cached_property
    def updates(self) -> bool:
        """Whether the document shows an update: symbolically without an example, and with one
        only when it took at least one step (``steps = 0``: the numbers at the point, no update)."""
        return self.example is None or len(self.example.loss_history) > 1

    @cached_property
    def updated(self) -> frozenset:
        """The parameters the example's step changes (a set: documents ask for each parameter)."""
        return frozenset(self.example.updated_parameters) if self.example is not None else frozenset()

    @cached_property
    def summarised(self) -> bool:
        return self.options.summarises(len(self.graph.parameters))

    @cached_property
    def chosen(self) -> tuple | None:
        """The parameters the document is of (``options.only``), in graph order; None for all."""
        if not self.options.only:
            return None
        return chosen_parameters(self.derivation, self.options.only)

    @cached_property
    def deltas_used(self) -> frozenset:
        """The nodes whose adjoints the chosen parameters' gradients use, directly
        (``dE/dp = sum_c delta_c dc/dp``) or through other adjoints (``delta_u = sum_c delta_c dc/du``)."""
        parameters = self.chosen if self.chosen is not None else self.graph.parameters
        todo = [t.consumer for p in parameters for t in self.terms(p)]
        used: set = set()
        while todo:
            node = todo.pop()
            if node in used or node == self.output:
                continue
            used.add(node)
            todo += [t.consumer for t in self.terms(node)]
        return frozenset(used)

    def terms(self, symbol):
        """The engine's terms ``delta_c * dc/dsymbol``, one per consumer leading to the output."""
        d = self.derivation
        if symbol in d.adjoints:
            return d.adjoints[symbol].terms
        if symbol in d.gradients:
            return d.gradients[symbol].terms
        return consumer_terms(d.graph, d.local, d.adjoints, symbol)  # a node the output does not depend on

    def users(self, symbol) -> tuple:
        """The consumers of ``symbol`` that lead to the output, in graph order."""
        return tuple(t.consumer for t in self.terms(symbol))

    def local(self, of, wrt):
        return self.derivation.local[(of, wrt)]

    def chain(self, factors) -> list:
        """Factors given output first, in the notation's chain order."""
        return in_chain_order(factors, self.chain_order)

    def sum_over_consumers(self, symbol, upstream: Callable, local: Callable | None = None):
        r"""``sum_c upstream(c) * local(c, symbol)`` over the consumers of ``symbol``, each
        product in chain order: the one shape of every chain-rule sum in a document
        (``local`` defaults to the engine's ``dc/dsymbol``)."""
        local = local or self.local
        return ordered_sum([
            ordered_product(self.chain([upstream(t.consumer), local(t.consumer, symbol)])) for t in self.terms(symbol)
        ])

    def leibniz_sum(self, symbol):
        r"""``sum_c dE/dc * dc/dsymbol`` as partial fractions."""
        return self.sum_over_consumers(symbol, lambda c: partial(self.output, c), partial)

    def adjoint_or_one(self, node):
        return sympy.S.One if node == self.output else self.derivation.adjoints[node].symbol

    def local_form(self, of, wrt, primes=False):
        """``d of / d wrt`` in forward quantities, or ``f'(z)`` when ``of = f(wrt)`` and ``primes``."""
        defined = self.graph.definition[of]
        if primes and is_activation_of(defined, wrt):
            return prime(defined)
        return self.local(of, wrt)

    def closed_adjoint(self, node, primes=False):
        """``dE/dnode`` in forward quantities, each product in chain order; with
        ``primes`` each activation's derivative reads ``\\sigma'(z)``. Built as a DAG."""
        if node == self.output:
            return sympy.S.One
        key = (node, primes)
        if key not in self._ordered_adjoints:
            # The nodes after this one first, from the output back: each sum then finds its
            # consumers' forms already made, and a chain of 400 nodes never recurses 400 deep.
            nodes = self.graph.nodes
            for later in reversed(nodes[nodes.index(node):] if node in nodes else nodes):
                if later != self.output and (later, primes) not in self._ordered_adjoints:
                    self._ordered_adjoints[(later, primes)] = self._adjoint_sum(later, primes)
            if key not in self._ordered_adjoints:  # not a node: an input's sum over its consumers
                self._ordered_adjoints[key] = self._adjoint_sum(node, primes)
        return self._ordered_adjoints[key]

    def _adjoint_sum(self, node, primes):
        return self.sum_over_consumers(
            node, lambda c: self.closed_adjoint(c, primes), lambda of, wrt: self.local_form(of, wrt, primes))

    def closed_gradient(self, p, primes=False):
        return self.sum_over_consumers(
            p, lambda c: self.closed_adjoint(c, primes), lambda of, wrt: self.local_form(of, wrt, primes))

    # --- the numbers ----------------------------------------------------------------

    @cached_property
    def values(self) -> dict:
        """Every known number: data, parameters, forward values, adjoints (by their symbols)."""
        if self.example is None:
            return {}
        values = {**self.example.values, **self.example.forward}
        for node, adjoint in self.derivation.adjoints.items():
            values[adjoint.symbol] = self.example.adjoints[node]
        return values

    def value(self, symbol):
        return self.values.get(symbol)

    def local_value(self, of, wrt):
        return None if self.example is None else self.example.local[(of, wrt)]

    def adjoint_value(self, node):
        """``dE/dnode`` at the first example (a parameter's too)."""
        if self.example is None:
            return None
        if node in self.example.adjoints:
            return self.example.adjoints[node]
        return self.first_example_gradient(node)

    def first_example_gradient(self, p):
        """The gradient at the first example's data (the combined gradient for one example)."""
        return sum(self.example.adjoints[c] * self.example.local[(c, p)] for c in self.users(p))

    # --- printing -------------------------------------------------------------------

    def printer(self, numbers: bool = False, order=None) -> SympropLatexPrinter:
        """One printer per kind of line (names or numbers, SymPy's order or as built)."""
        key = (numbers, order)
        if key not in self._printers:
            names = graph_symbol_names(self.graph)
            settings = {"symbol_names": names, "order": order}
            if numbers:
                zeros = frozenset(s for s, v in self.values.items() if v == 0)
                magnitudes = NumberNames(self.values, self.digits, negative=True)
                settings.update(symbol_names=NumberNames(self.values, self.digits, fallback=names), mul_symbol="dot",
                                zero_symbols=zeros, magnitudes=magnitudes)
            self._printers[key] = SympropLatexPrinter(settings)
        return self._printers[key]

    def tex(self, expr, order=None) -> str:
        key = (expr, order)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = self.printer(False, order).doprint(expr)
        return text

    def sub(self, expr, order=None) -> str | None:
        """``expr`` with the numbers plugged in (None without an example, or when
        ``expr`` is one symbol or a number: its value says it all)."""
        if self.example is None or expr.is_Symbol or expr.is_Number:
            return None
        return self.printer(True, order).doprint(expr)

    def num(self, value) -> str | None:
        if value is None:
            return None
        key = (type(value), value)  # 1 and 1.0 are equal keys but print differently
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = latex_number(value, self.digits)
        return text

    def cell(self, value, digits: int | None = None) -> Math:
        r"""A number for a table cell, set as math: a true minus sign, ``1.5 \times 10^{-11}``."""
        return Math(latex_number(value, self.digits if digits is None else digits))

    def partial(self, of, wrt) -> str:
        key = ("partial", of, wrt)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = self.tex(partial(of, wrt))
        return text

    def product_of_numbers(self, values, at_least: int = 2) -> str | None:
        r"""``a \cdot b \cdot c`` with negative numbers in parentheses (None for fewer
        than ``at_least`` numbers, or without an example)."""
        if self.example is None or len(values) < at_least:
            return None
        return r" \cdot ".join(map(self.factor_number, values))

    def factor_number(self, value) -> str:
        """``value`` as :func:`number_names` writes a factor (a negative one in parentheses),
        printed once per document (a layer's inputs and a unit's adjoint recur in every product)."""
        key = ("factor", type(value), value)
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = number_names({0: value}, self.digits)[0]
        return text

    def sum_of_products(self, products) -> str | None:
        r"""``a_1 \cdot b_1 + a_2 \cdot b_2 + ...`` from lists of numbers."""
        if self.example is None:
            return None
        return " + ".join(self.product_of_numbers(p, at_least=1) for p in products)


class UnknownParameter(SympropError, ValueError):
    """A parameter asked for (``only``, ``--only``) that the network does not have, in one line."""


#: Parameters an error lists at most: a large network has thousands.
LISTED_PARAMETERS = 24


def chosen_parameters(derivation, names) -> tuple:
    """The parameters called ``names``, in the graph's order; an :class:`UnknownParameter`
    naming the nearest parameter and listing them for a name that is none."""
    by_name = {p.name: p for p in derivation.graph.parameters}
    for name in names:
        if name not in by_name:
            near = difflib.get_close_matches(str(name), by_name, n=1, cutoff=0.5)  # names are short: w9 is near w8
            hint = f"did you mean {near[0]!r}? " if near else ""
            listed = ", ".join(list(by_name)[:LISTED_PARAMETERS]) + (", ..." if len(by_name) > LISTED_PARAMETERS else "")
            raise UnknownParameter(f"unknown parameter {name!r} in only: {hint}(parameters: {listed})")
    wanted = set(names)
    return tuple(p for p in derivation.graph.parameters if p.name in wanted)


def is_activation_of(defined, wrt) -> bool:
    """``defined`` is a one-argument function applied to ``wrt`` (``sigma(net)``)."""
    return isinstance(defined, sympy.Function) and defined.args == (wrt,)


def tree_size(expr, memo: dict | None = None) -> int:
    """The number of nodes ``expr`` prints as: a tree, though it is stored as a DAG
    (counted over the DAG, each distinct sub-expression once)."""
    memo = {} if memo is None else memo
    if expr in memo:
        return memo[expr]
    size = 1 + sum(tree_size(a, memo) for a in expr.args)
    memo[expr] = size
    return size
