"""Each layer type's backward equations, by the kind of its built layer.

:func:`backward_form` gives the :class:`~symprop.layers.backward_forms.BackwardForm` of a built
layer (``rnn``, ``lstm``, ``gru``, ``layernorm``, ``batchnorm``, ``attention``), or None for a
kind that has none here; :func:`prove_layer` proves it against a derivation.
"""
from __future__ import annotations

from symprop.engine.records import Derivation
from symprop.layers.backward_forms import BackwardForm, prove_form
from symprop.layers.attention_forms import attention_form
from symprop.layers.normalisation_forms import batchnorm_form, layernorm_form
from symprop.layers.recurrent_forms import gru_form, lstm_form, rnn_form
from symprop.model.layer_types import ArrayLayer

__all__ = ["FORMS", "backward_form", "prove_layer"]

#: Layer kind -> the builder of its backward form.
FORMS = {"rnn": rnn_form, "lstm": lstm_form, "gru": gru_form, "layernorm": layernorm_form,
         "batchnorm": batchnorm_form, "attention": attention_form}


def backward_form(layer: ArrayLayer) -> BackwardForm | None:
    build = FORMS.get(layer.kind)
    return build(layer) if build is not None else None


def prove_layer(derivation: Derivation, layer: ArrayLayer, **options) -> int:
    """The layer's backward form against the engine (see :func:`~symprop.layers.backward_forms.prove_form`);
    the number of entries proven, 0 for a kind without a form."""
    form = backward_form(layer)
    return 0 if form is None else prove_form(form, derivation, layer, **options)
