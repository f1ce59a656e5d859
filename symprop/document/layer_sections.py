"""The whole-layer sections of a document: the matrix form (Nielsen's BP1-BP4), the
"Deep Learning from Scratch" layer view, and the node rules of a computational graph.

Each builder takes a printer ``tex(expr) -> str`` and returns already-printed
strings for the templates; the formulas come from :mod:`symprop.matrix`, which
derives them with the engine.
"""
from __future__ import annotations

from typing import Callable

from symprop.layers import matrix

#: Networks up to this many parameters get the matrix form proven entry by entry in
#: the document (a few tens of milliseconds for Mazur's network).
VERIFY_UP_TO = 400

#: Nielsen's names of the four equations, by matrix-form key (BP1 for the output layer's delta).
BP_LABELS = {"bias_gradient": "BP3", "weight_gradient": "BP4", "index_form": "BP4"}
SINGLE_EXAMPLE_KEYS = ("forward_net", "forward_out", "loss_gradient", "delta", "bias_gradient", "weight_gradient",
                       "index_form")
BATCH_KEYS = ("batch_delta", "batch_weight_gradient", "batch_bias_gradient")


def matrix_section(derivation, example, tex: Callable) -> dict | None:
    """Per layer its vectorised equations, labelled BP1-BP4; the batch form when the
    example has several; and whether every entry was proven equal to the per-weight
    gradients (:func:`symprop.layers.matrix.verify_matrix_form`, which raises otherwise)."""
    network = derivation.network
    if network is None:
        return None
    verified = len(network.parameters) <= VERIFY_UP_TO
    if verified:
        matrix.verify_matrix_form(network, derivation)
    forms = matrix.matrix_form(network, reduction=getattr(example, "reduction", "mean"))
    last = forms[-1].index
    several = example is not None and example.examples > 1
    layers = []
    for form in forms:
        equations = dict(form.equations)
        rows = [_labelled(tex(equations[k]), _label(k, form.index == last))
                for k in SINGLE_EXAMPLE_KEYS if k in equations]
        batch = [tex(equations[k]) for k in BATCH_KEYS if k in equations] if several else []
        layers.append({"index": form.index, "rows": rows, "batch": batch})
    return {"layers": layers, "verified": verified}


def _label(key: str, output_layer: bool) -> str | None:
    if key == "delta":
        return "BP1" if output_layer else "BP2"
    return BP_LABELS.get(key)


def _labelled(row: str, label: str | None) -> str:
    return rf"{row} \qquad \text{{({label})}}" if label else row


def layer_view_section(derivation, tex: Callable) -> list[dict]:
    """Each layer's forward and backward formulas, as "Deep Learning from Scratch"
    writes them; shown with the ``dlfs`` notation."""
    network = derivation.network
    if network is None or network.notation.key != "dlfs":
        return []
    return [
        {"name": rule.name, "layer": rule.layer,
         "forward": [tex(eq) for eq in rule.forward], "backward": [tex(eq) for eq in rule.backward]}
        for rule in matrix.layer_view(network)
    ]


def node_rules_section(derivation, tex: Callable) -> list[dict]:
    """For a computational graph (not a layered network): how each edge passes the
    upstream gradient on, add nodes unchanged, multiply nodes times the other input,
    branches summed."""
    if derivation.network is not None:
        return []
    return [
        {"kind": rule.kind, "node": tex(rule.node), "parent": tex(rule.parent) if rule.parent is not None else "",
         "local": tex(rule.local), "passed": tex(rule.passed),
         "consumers": ", ".join(tex(c) for c in rule.consumers)}
        for rule in matrix.node_rules(derivation)
    ]
