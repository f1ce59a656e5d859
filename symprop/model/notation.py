"""Notation presets: how the textbooks name and typeset each quantity.

One table per preset. Each entry is a pair of format strings, the plain
name (what a network file uses as a key, and generated code as an
identifier) and its LaTeX. A name longer than one letter is set upright (``\\mathrm{net}_{h1}``,
``E_{\\mathrm{total}}``), one letter in italic (``w_{5}``, ``a^{(L)}``). The fields a format may use:

``l`` layer (1-based), ``L`` the layer's label (``L``, ``L-1``, ... in
3Blue1Brown's style), ``j`` unit, ``k`` source unit, ``jk`` the index pair
(empty for one-neuron-per-layer chains), ``n`` running number of the
parameter of that kind, ``unit`` and ``src`` the unit names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from symprop.errors import SympropError
from symprop.model.tex_names import name_text

#: The fields that hold names a user chose.
USER_FIELDS = frozenset({"unit", "src"})


@dataclass(frozen=True)
class Notation:
    """A preset: one name pair per role, and the conventions of its source."""

    key: str
    title: str
    names: Mapping[str, tuple[str, str]]
    #: "loss_first" (Mazur: dE/dout * dout/dnet * dnet/dw) or
    #: "parameter_first" (3Blue1Brown: dz/dw * da/dz * dC/da).
    chain_order: str = "loss_first"
    #: Unit names used in place of ``{unit}`` when a file gives none.
    hidden_unit: str = "h{j}"
    deep_hidden_unit: str = "h{l}{j}"
    output_unit: str = "o{j}"
    extra: Mapping[str, str] = field(default_factory=dict)

    def name(self, role: str, **fields) -> tuple[str, str]:
        """(plain name, LaTeX) of ``role`` with the given fields filled in; the unit names
        (a user's) are escaped for the LaTeX (:func:`symprop.model.tex_names.name_text`)."""
        plain, latex = self.names[role]
        escaped = dict(fields)
        for key in USER_FIELDS.intersection(fields):
            escaped[key] = name_text(fields[key])
        return plain.format(**fields), latex.format(**escaped)


def _preset(key, title, **names) -> Notation:
    options = {k: names.pop(k) for k in ("chain_order", "hidden_unit", "deep_hidden_unit", "output_unit") if k in names}
    return Notation(key, title, names, **options)


PRESETS: dict[str, Notation] = {
    n.key: n
    for n in (
        _preset(
            "mazur",
            "Matt Mazur, A Step by Step Backpropagation Example",
            input=("i{k}", "i_{{{k}}}"),
            target=("t{j}", r"\mathrm{{target}}_{{{unit}}}"),
            weight=("w{n}", "w_{{{n}}}"),
            bias=("b{n}", "b_{{{n}}}"),
            net=("net_{unit}", r"\mathrm{{net}}_{{{unit}}}"),
            out=("out_{unit}", r"\mathrm{{out}}_{{{unit}}}"),
            loss=("E_total", r"E_{{\mathrm{{total}}}}"),
            delta=("delta_{unit}", r"\delta_{{{unit}}}"),
        ),
        _preset(
            "3b1b",
            "3Blue1Brown, Backpropagation calculus",
            chain_order="parameter_first",
            input=("a0_{k}", "a^{{({L})}}_{{{k}}}"),
            target=("y{j}", "y_{{{j}}}"),
            weight=("w{l}_{jk}", "w^{{({L})}}_{{{jk}}}"),
            bias=("b{l}_{j}", "b^{{({L})}}_{{{j}}}"),
            net=("z{l}_{j}", "z^{{({L})}}_{{{j}}}"),
            out=("a{l}_{j}", "a^{{({L})}}_{{{j}}}"),
            loss=("C0", "C_{{0}}"),
            delta=("delta{l}_{j}", r"\delta^{{({L})}}_{{{j}}}"),
        ),
        _preset(
            "nielsen",
            "Michael Nielsen, Neural Networks and Deep Learning, chapter 2",
            input=("x{k}", "x_{{{k}}}"),
            target=("y{j}", "y_{{{j}}}"),
            weight=("w{l}_{j}_{k}", "w^{{{l}}}_{{{jk}}}"),
            bias=("b{l}_{j}", "b^{{{l}}}_{{{j}}}"),
            net=("z{l}_{j}", "z^{{{l}}}_{{{j}}}"),
            out=("a{l}_{j}", "a^{{{l}}}_{{{j}}}"),
            loss=("C", "C"),
            delta=("delta{l}_{j}", r"\delta^{{{l}}}_{{{j}}}"),
        ),
        _preset(
            "dlfs",
            "Koki Saito, Deep Learning from Scratch, chapter 5",
            input=("x{k}", "x_{{{k}}}"),
            target=("t{j}", "t_{{{j}}}"),
            weight=("W{l}_{j}_{k}", "w^{{({l})}}_{{{jk}}}"),
            bias=("b{l}_{j}", "b^{{({l})}}_{{{j}}}"),
            net=("a{l}_{j}", "a^{{({l})}}_{{{j}}}"),
            out=("z{l}_{j}", "z^{{({l})}}_{{{j}}}"),
            loss=("L", "L"),
            delta=("delta{l}_{j}", r"\delta^{{({l})}}_{{{j}}}"),
        ),
        _preset(
            "plain",
            "plain names",
            input=("x{k}", "x_{{{k}}}"),
            target=("y{j}", "y_{{{j}}}"),
            weight=("w{l}_{j}_{k}", "w^{{({l})}}_{{{jk}}}"),
            bias=("b{l}_{j}", "b^{{({l})}}_{{{j}}}"),
            net=("z{l}_{j}", "z^{{({l})}}_{{{j}}}"),
            out=("a{l}_{j}", "a^{{({l})}}_{{{j}}}"),
            loss=("L", "L"),
            delta=("delta{l}_{j}", r"\delta^{{({l})}}_{{{j}}}"),
        ),
    )
}


class NotationError(SympropError, ValueError):
    """A notation preset that does not exist, said in one line."""


def get_notation(key: str | Notation) -> Notation:
    """The preset called ``key`` (a :class:`Notation` passes through)."""
    if isinstance(key, Notation):
        return key
    try:
        return PRESETS[key]
    except KeyError:
        raise NotationError(f"unknown notation {key!r}: expected one of {', '.join(PRESETS)}") from None


def layer_label(layer: int, depth: int) -> str:
    """3Blue1Brown's layer label: ``L`` for the last layer, ``L-1`` before it, ..."""
    return "L" if layer == depth else f"L-{depth - layer}"
