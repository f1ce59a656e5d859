"""The whole-layer sections of a document: the matrix form (Nielsen's BP1-BP4), the
"Deep Learning from Scratch" layer view, and the node rules of a computational graph.

Each builder takes a printer ``tex(expr) -> str`` (the node rules, which print
numbers too, the document's :class:`~symprop.document.formulas.Formulas`) and
returns a section of the document model; the formulas come from :mod:`symprop.layers.matrix`, which
derives them with the engine.
"""
from __future__ import annotations

from typing import Callable

from symprop.document.formulas import Formulas, tree_size
from symprop.document.model import Math, equation, heading, paragraph, section
from symprop.printing.latex import ordered_product, partial
from symprop.printing.rows import chain_rows

from symprop.layers import matrix
from symprop.layers.layer_symbols import network_symbols

#: Nielsen's names of the four equations, by matrix-form key (BP1 for the output layer's delta).
BP_LABELS = {"bias_gradient": "BP3", "weight_gradient": "BP4", "index_form": "BP4"}
SINGLE_EXAMPLE_KEYS = ("forward_net", "forward_out", "loss_gradient", "delta", "bias_gradient", "weight_gradient",
                       "index_form")
BATCH_KEYS = ("batch_delta", "batch_weight_gradient", "batch_bias_gradient")


def matrix_section(derivation, example, tex: Callable, verify_up_to: int, tree_limit: int = 20000):
    """Per layer its vectorised equations, labelled BP1-BP4; the batch form when the
    example has several; and whether every entry was proven equal to the per-weight
    gradients (:func:`symprop.layers.matrix.verify_matrix_form`, which raises otherwise).

    The proof runs for networks of up to ``verify_up_to`` parameters whose closed
    forms print as trees of at most ``tree_limit`` nodes: it walks those trees,
    which grow exponentially with depth (a few tens of milliseconds for Mazur's)."""
    network = derivation.network
    if network is None:
        return section("matrix")
    verified = len(network.parameters) <= verify_up_to and largest_closed_form(derivation) <= tree_limit
    if verified:
        matrix.verify_matrix_form(network, derivation)
    forms = matrix.matrix_form(network, reduction=getattr(example, "reduction", "mean"))
    last = forms[-1].index
    examples = example.examples if example is not None else 1
    blocks = [heading("matrix"), paragraph("matrix_intro"), notation_change(network, tex)]
    for form in forms:
        equations = dict(form.equations)
        rows = [_labelled(tex(equations[k]), _label(k, form.index == last))
                for k in SINGLE_EXAMPLE_KEYS if k in equations]
        blocks += [paragraph("matrix_layer", layer=str(form.index)), equation(rows)]
        batch = [tex(equations[k]) for k in BATCH_KEYS if k in equations] if examples > 1 else []
        if batch:
            blocks += [paragraph("matrix_batch", m=str(examples)), equation(batch)]
    if verified:
        blocks.append(paragraph("matrix_verified"))
    return section("matrix", *blocks)


def notation_change(network, tex: Callable):
    r"""The sentence that says how the matrix form names what the per-unit sections named
    otherwise (Mazur's ``\mathrm{net}_{h1}``, ``\mathrm{out}_{h1}`` become the entries of
    ``z^{(1)}``, ``a^{(1)}``), or None when the letters are the same."""
    first, symbols = network.layers[0], network_symbols(network).layers[0]
    net, out = tex(first.nets[0]), tex(first.outs[0])
    z, a = symbols.z.name, symbols.a.name
    if net.startswith(z.split("^")[0]) and out.startswith(a.split("^")[0]):
        return None
    return paragraph("matrix_notation", z=Math(z), a=Math(a), W=Math(symbols.W.name), net=Math(net), out=Math(out))


def largest_closed_form(derivation) -> int:
    """The printed size of the largest closed form: the first layer's first weight's,
    whose paths cross every layer."""
    first = derivation.network.layers[0]
    parameter = (first.weight_parameters or first.bias_parameters)[0]
    return tree_size(derivation.gradients[parameter].closed_form)


def _label(key: str, output_layer: bool) -> str | None:
    if key == "delta":
        return "BP1" if output_layer else "BP2"
    return BP_LABELS.get(key)


def _labelled(row: str, label: str | None) -> str:
    r"""The row with its equation tag, ``\tag{BP1}``: LaTeX sets the tags at the margin, lined
    up; the Markdown and HTML writers set them as a column of their own
    (:func:`symprop.printing.rows.tag_as_column`)."""
    return rf"{row} \tag{{{label}}}" if label else row


def layer_view_section(derivation, tex: Callable):
    """Each layer's forward and backward formulas, as "Deep Learning from Scratch"
    writes them (a layered network only; shown by default with the ``dlfs`` notation)."""
    network = derivation.network
    if network is None or not getattr(network, "layers", None):
        return section("layer_view")
    rules = matrix.layer_view(network)
    if not rules:
        return section("layer_view")
    blocks = [heading("layer_view"), paragraph("layer_view_intro")]
    for rule in rules:
        blocks += [
            paragraph("layer_forward", name=rule.name, layer=str(rule.layer)), equation([tex(eq) for eq in rule.forward]),
            paragraph("layer_backward"), equation([tex(eq) for eq in rule.backward]),
        ]
    return section("layer_view", *blocks)


def node_rules_section(f: Formulas):
    """How each edge of the computational graph passes the upstream gradient on (add nodes
    unchanged, multiply nodes times the other input, any other function times its
    derivative) and how branches sum what comes back; with a worked example, each rule's
    ``delta_node * d node / d parent`` in numbers (shown by default for a plain graph)."""
    tex = f.tex
    blocks = []
    for rule in matrix.node_rules(f.derivation):
        if not on_chosen_paths(f, rule):
            continue
        blocks.append(paragraph(
            "rule_" + rule.kind, node=Math(tex(rule.node)), parent=Math(tex(rule.parent) if rule.parent is not None else ""),
            local=Math(tex(rule.local)),
            passed=Math(tex(passed_in_chain_order(f, rule))),
            consumers=Math(", ".join(tex(c) for c in rule.consumers)),
        ))
        if f.example is not None:
            passed = passed_in_chain_order(f, rule)
            rows = [rule_lhs(f, rule), tex(passed), f.sub(passed), f.num(rule_value(f, rule))]
            blocks.append(equation(chain_rows(rows)))
    if not blocks:
        return section("node_rules")
    return section("node_rules", heading("node_rules"), paragraph("node_rules_intro"), *blocks)


def on_chosen_paths(f: Formulas, rule) -> bool:
    """Whether the rule's edge (or branch) lies on a path from a chosen parameter (``only``)
    to the output; every rule does when no parameter is chosen."""
    if f.chosen is None:
        return True
    upstream = f.deltas_used | {f.output}  # the nodes between the chosen parameters and the output
    if rule.kind == "branch":
        return rule.node in f.deltas_used or rule.node in f.chosen
    return rule.node in upstream and (rule.parent in f.deltas_used or rule.parent in f.chosen)


def passed_in_chain_order(f: Formulas, rule):
    """What a rule passes, its upstream gradient and local factor in the notation's chain
    order (as the left side writes them); a branch's sum as it is."""
    if rule.kind == "branch":
        return rule.passed
    upstream = 1 if rule.node == f.output else f.derivation.adjoints[rule.node].symbol
    return ordered_product(f.chain([upstream, rule.local]))


def rule_lhs(f: Formulas, rule) -> str:
    r"""What a rule computes, in Leibniz form: ``dE/dnode`` at a branch, ``dE/dnode dnode/dparent``
    along an edge (``dE/dparent`` for an edge out of the output, whose upstream gradient is 1)."""
    if rule.kind == "branch":
        return f.partial(f.output, rule.node)
    if rule.node == f.output:
        return f.partial(f.output, rule.parent)
    return f.tex(ordered_product(f.chain([partial(f.output, rule.node), partial(rule.node, rule.parent)])))


def rule_value(f: Formulas, rule):
    """What a rule passes, at the worked example: ``delta_node * local`` along an edge
    (``delta`` 1 at the output), the gathered ``dE/dnode`` at a branch."""
    if rule.kind == "branch":
        return f.adjoint_value(rule.node)
    upstream = 1 if rule.node == f.output else f.adjoint_value(rule.node)
    return upstream * f.local_value(rule.node, rule.parent)
