"""A whole derivation document, section by section (DOCUMENT.md): the network, the
forward pass, the loss, the parameters (output layer, hidden layers, biases; or
one group for a plain graph), the delta form, the matrix form, the layer view and
the node rules, the check, and the forward pass after the update.

Which sections are shown is the options' business (``sections``, with the defaults of
:data:`~symprop.document.options.SECTIONS`); which parameters, ``only``'s."""
from __future__ import annotations

from symprop.document import layer_sections
from symprop.engine.records import Derivation
from symprop.errors import WrongArgument
from symprop.numbers.worked_example import WorkedExample
from symprop.document.formulas import Formulas
from symprop.document.model import Document, paragraph, section
from symprop.document.network import NetworkSections
from symprop.document.options import DocumentOptions, SECTIONS, document_options, paper_of, section_shown
from symprop.document.parameters import ParameterSections
from symprop.document.results import DeltaSection, after_section, check_section
from symprop.document.i18n import prose
from symprop.model.stack import LayerStack


def build_document(derivation, example=None, options: DocumentOptions | None = None, **settings) -> Document:
    """The document of ``derivation`` (and of its worked ``example``, when given);
    ``settings`` as in :class:`~symprop.document.options.DocumentOptions`."""
    expect_derivation("build_document", derivation, example)
    options = document_options(options, **settings)
    if isinstance(derivation.network, LayerStack):  # summarised by layer and shared weight
        # here, not above: the layer families' forms take a sixth of a dense network's start-up
        from symprop.document.array_sections import build_stack_document

        return build_stack_document(derivation, example, options)
    if options.unrolled:  # a dense network or a graph: refused, in the stack's own words
        from symprop.document.array_sections import refuse_unrolled

        refuse_unrolled(derivation.network, options)
    f = Formulas(derivation, example, options)
    network = NetworkSections(f)
    derived = list(f.chosen) if f.chosen is not None else network.shown_parameters
    builders = {
        "network": network.network_section,
        "forward": network.forward_section,
        "loss": network.loss_section,
        "parameter-groups": ParameterSections(f).sections,  # output-parameters, ..., each switched on its own
        "delta": lambda: DeltaSection(f, derived).section(),
        "matrix": lambda: layer_sections.matrix_section(derivation, example, f.tex, options.verify_matrix_up_to,
                                                        options.proof_tree_limit),
        "layer-view": lambda: layer_sections.layer_view_section(derivation, f.tex),
        "node-rules": lambda: layer_sections.node_rules_section(f),
        "check": lambda: check_section(f, derived),
        "after-update": lambda: after_section(f, network.shown_nodes),
    }
    sections = [section("intro", paragraph("symbolic_only") if example is None else None)]
    for name, build in builders.items():
        if name in SECTIONS and not is_shown(options, name, f):
            continue  # not built at all: the layer view and node rules of a large network take time
        built = build()
        sections += built if isinstance(built, list) else [built]
    shown = [s for s in sections if s.blocks and is_shown(options, s.key, f)]
    title = options.title or getattr(derivation.network, "title", "") or prose(options.lang)["default_title"]
    return Document(title, options.lang, tuple(shown), paper=paper_of(options))


def is_shown(options: DocumentOptions, key: str, f: Formulas) -> bool:
    """Whether the built section ``key`` is switched on (the introduction always is)."""
    name = key.replace("_", "-")
    if name not in SECTIONS:
        return True
    notation = f.network.notation.key if f.network is not None else None
    return section_shown(options, name, notation=notation, graph=f.network is None)


def expect_derivation(function: str, derivation, example=None) -> None:
    """A :class:`~symprop.errors.WrongArgument` unless ``derivation`` is a Derivation and
    ``example`` a WorkedExample or None."""
    if not isinstance(derivation, Derivation):
        raise WrongArgument(function, "a Derivation", derivation, "make one with symprop.derive(network)")
    if example is not None and not isinstance(example, WorkedExample):
        raise WrongArgument(function, "a WorkedExample or None as its example", example,
                            "make one with symprop.worked_example(derivation, values)")
