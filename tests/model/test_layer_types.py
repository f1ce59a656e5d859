"""An array's LaTeX and its entries': a role subscript and the layer number stacked, never a
subscript set after a superscript."""
from __future__ import annotations

import pytest

from symprop.model.layer_parts import tex_array_name
from symprop.model.layer_types import array_tex, entry_tex


@pytest.mark.parametrize("letter, sub, array, entry", [
    ("W", "", "W^{(1)}", "W^{(1)}_{0,2}"),
    ("W", "x", "W_{x}^{(1)}", "W^{(1)}_{x;0,2}"),
    (r"\gamma", "", r"\gamma^{(1)}", r"\gamma^{(1)}_{0,2}"),
    ("b", "hh", "b_{hh}^{(1)}", "b^{(1)}_{hh;0,2}"),
])
def test_an_entry_sets_its_index_under_the_layer_number_and_gives_its_array_back(letter, sub, array, entry):
    assert tex_array_name(letter, 1, sub) == array
    assert entry_tex(array, (0, 2)) == entry
    assert array_tex(entry) == array
    assert "}}^{" not in entry and "}}_{" not in entry


def test_a_plain_name_with_a_subscript_of_its_own_is_not_read_as_a_role():
    assert entry_tex(r"\hat{x}^{(2)}", (1,)) == r"\hat{x}^{(2)}_{1}" and array_tex(r"\hat{x}^{(2)}_{1}") == r"\hat{x}^{(2)}"
    assert entry_tex("x", (0, 1)) == "x_{0,1}" and array_tex("x_{0,1}") == "x"
