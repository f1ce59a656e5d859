"""A whole derivation document, section by section (DOCUMENT.md): the network, the
forward pass, the loss, the parameters (output layer, hidden layers, biases; or
one group for a plain graph), the delta form, the matrix form, the layer view or
the node rules, the check, and the forward pass after the update."""
from __future__ import annotations

from symprop.document import layer_sections
from symprop.engine.records import Derivation
from symprop.errors import WrongArgument
from symprop.numbers.worked_example import WorkedExample
from symprop.document.formulas import Formulas
from symprop.document.model import Document, paragraph, section
from symprop.document.network import NetworkSections
from symprop.document.options import DocumentOptions, document_options
from symprop.document.parameters import ParameterSections
from symprop.document.results import DeltaSection, after_section, check_section
from symprop.document.i18n import prose


def build_document(derivation, example=None, options: DocumentOptions | None = None, **settings) -> Document:
    """The document of ``derivation`` (and of its worked ``example``, when given);
    ``settings`` as in :class:`~symprop.document.options.DocumentOptions`."""
    expect_derivation("build_document", derivation, example)
    options = document_options(options, **settings)
    f = Formulas(derivation, example, options)
    network = NetworkSections(f)
    sections = [
        section("intro", paragraph("symbolic_only") if example is None else None),
        network.network_section(),
        network.forward_section(),
        network.loss_section(),
        *ParameterSections(f).sections(),
        DeltaSection(f, network.shown_parameters).section(),
        layer_sections.matrix_section(derivation, example, f.tex, options.verify_matrix_up_to, options.proof_tree_limit),
        layer_sections.layer_view_section(derivation, f.tex),
        layer_sections.node_rules_section(derivation, f),
        check_section(f, network.shown_parameters),
        after_section(f, network.shown_nodes),
    ]
    title = options.title or getattr(derivation.network, "title", "") or prose(options.lang)["default_title"]
    return Document(title, options.lang, tuple(s for s in sections if s.blocks))


def expect_derivation(function: str, derivation, example=None) -> None:
    """A :class:`~symprop.errors.WrongArgument` unless ``derivation`` is a Derivation and
    ``example`` a WorkedExample or None."""
    if not isinstance(derivation, Derivation):
        raise WrongArgument(function, "a Derivation", derivation, "make one with symprop.derive(network)")
    if example is not None and not isinstance(example, WorkedExample):
        raise WrongArgument(function, "a WorkedExample or None as its example", example,
                            "make one with symprop.worked_example(derivation, values)")
