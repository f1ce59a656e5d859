"""Notation presets: each textbook's names and LaTeX, filled in field by field."""
from __future__ import annotations

import pytest

from symprop.model.notation import PRESETS, Notation, NotationError, get_notation, layer_label


def test_the_presets_in_order():
    assert list(PRESETS) == ["mazur", "3b1b", "nielsen", "dlfs", "plain"]
    assert all(key == preset.key for key, preset in PRESETS.items())


def test_mazur_names_units_and_numbers_parameters():
    mazur = PRESETS["mazur"]
    assert mazur.name("weight", n=5) == ("w5", "w_{5}")
    assert mazur.name("net", unit="o1") == ("net_o1", r"\mathrm{net}_{o1}")
    assert mazur.name("target", j=1, unit="o1") == ("t1", r"\mathrm{target}_{o1}")
    assert mazur.name("delta", unit="h2") == ("delta_h2", r"\delta_{h2}")
    assert mazur.name("loss") == ("E_total", r"E_{\mathrm{total}}")


def test_3b1b_labels_layers_from_the_last_and_orders_the_chain_parameter_first():
    brown = get_notation("3b1b")
    assert brown.chain_order == "parameter_first"
    assert brown.name("weight", l=2, L="L-1", jk="") == ("w2_", "w^{(L-1)}_{}")
    assert brown.name("out", l=3, L="L", j=1) == ("a3_1", "a^{(L)}_{1}")
    assert brown.name("loss") == ("C0", "C_{0}")


def test_nielsen_and_dlfs_swap_nothing_but_their_letters():
    assert PRESETS["nielsen"].name("weight", l=2, j=1, k=3, jk="13") == ("w2_1_3", "w^{2}_{13}")
    dlfs = PRESETS["dlfs"]
    assert dlfs.name("net", l=1, j=2) == ("a1_2", "a^{(1)}_{2}")
    assert dlfs.name("out", l=1, j=2) == ("z1_2", "z^{(1)}_{2}")
    assert dlfs.name("weight", l=1, j=2, k=1, jk="21") == ("W1_2_1", "w^{(1)}_{21}")


def test_every_preset_but_3b1b_multiplies_loss_first_with_default_unit_names():
    assert {k: p.chain_order for k, p in PRESETS.items()} == {
        "mazur": "loss_first", "3b1b": "parameter_first", "nielsen": "loss_first", "dlfs": "loss_first",
        "plain": "loss_first",
    }
    plain = PRESETS["plain"]
    assert (plain.hidden_unit, plain.deep_hidden_unit, plain.output_unit) == ("h{j}", "h{l}{j}", "o{j}")


def test_every_preset_names_the_same_roles():
    roles = {"input", "target", "weight", "bias", "net", "out", "loss", "delta"}
    assert all(set(p.names) == roles for p in PRESETS.values())


def test_get_notation_passes_a_notation_through_and_refuses_unknown_keys():
    assert get_notation("plain") is PRESETS["plain"]
    custom = Notation("mine", "my names", {"loss": ("J", "J")})
    assert get_notation(custom) is custom
    with pytest.raises(NotationError) as error:
        get_notation("goodfellow")
    assert str(error.value) == "unknown notation 'goodfellow': expected one of mazur, 3b1b, nielsen, dlfs, plain"


def test_a_missing_field_is_a_key_error():
    with pytest.raises(KeyError):
        PRESETS["mazur"].name("weight")


@pytest.mark.parametrize("layer, depth, label", [(3, 3, "L"), (2, 3, "L-1"), (0, 3, "L-3"), (1, 1, "L")])
def test_layer_label_counts_back_from_the_last_layer(layer, depth, label):
    assert layer_label(layer, depth) == label


@pytest.mark.parametrize("preset", ["plain", "nielsen", "dlfs", "3b1b"])
def test_weights_of_wide_layers_have_distinct_latex(preset):
    from symprop.model import nn

    network = nn.mlp(11, [nn.Dense(11)], notation=preset)
    names = [network.graph.latex_name(w) for w in network.weights]
    assert len(set(names)) == len(names) == 121
    assert any(name.endswith("_{1,11}") for name in names) and any(name.endswith("_{11,1}") for name in names)
