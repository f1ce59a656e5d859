"""TOML text as error messages show it: dotted keys, values in TOML's spelling, and lines."""
from __future__ import annotations

import textwrap

import pytest

from symprop.files.toml_text import MISSING, Locator, describe, key_text
from tests.spec_files import GRAPH, refusal

LAYERED = """\
title = "x"

[network]
inputs = 2
layers = [
  { units = 2 },
  { units = 1 },
]
[[examples]]
x = 1
[[examples]]
x = 2
"""


# ---------------------------------------------------------------- keys and values


@pytest.mark.parametrize(
    "key, text",
    [(("network", "layers", 0, "units"), "network.layers[0].units"), (("values",), "values"),
     (("examples", 1, "y"), "examples[1].y"), ((), "file"), ((0,), "[0]")],
)
def test_key_text_is_the_dotted_name(key, text):
    assert key_text(key) == text


@pytest.mark.parametrize(
    "value, shown",
    [(True, "true"), (False, "false"), ({"a": 1}, "a table"), ([1, 2, 3], "a list of 3"), ("two", "'two'"),
     (1.5, "1.5"), (0, "0"), (MISSING, "nothing"), (None, "a NoneType"), (b"x", "a bytes")],
)
def test_describe_spells_values_as_toml_does(value, shown):
    assert describe(value) == shown


def test_describe_cuts_long_values_to_40_characters():
    assert describe("x" * 50) == "'" + "x" * 36 + "..."
    assert len(describe("x" * 50)) == 40
    assert describe("x" * 38) == "'" + "x" * 38 + "'"


# ---------------------------------------------------------------- lines


@pytest.mark.parametrize(
    "key, line",
    [(("title",), 1), (("network",), 3), (("network", "inputs"), 4), (("network", "layers"), 5),
     (("network", "layers", 0), 6), (("network", "layers", 1, "units"), 7), (("examples",), 9),
     (("examples", 0), 9), (("examples", 1, "x"), 12)],
)
def test_locator_finds_tables_keys_and_array_items(key, line):
    assert Locator(LAYERED).line(key) == line


def test_a_key_the_text_lacks_is_placed_at_its_nearest_enclosing_table():
    locator = Locator(LAYERED)
    assert locator.line(("network", "loss")) == 3
    assert locator.line(("network", "layers", 5)) == 5
    assert locator.line(("nothing",)) is None


def test_line_numbers_survive_strings_comments_and_quoted_keys():
    text = textwrap.dedent('''\
        description = """A description
        [network]
        with # no comment"""
        # [graph] in a comment
        'notation' = "plain"   # a comment with "quotes"
        [network]
        inputs = 2
        layers = [  # [ bracket in a comment
          { units = 2, names = ["a]", "b"] },

          { units = 1, activation = 'sig"moid' },
        ]
        ''')
    assert refusal(text) == (
        "f.toml: network.layers[0].names (line 9): 'a]' is not a usable name: expected a letter, then letters, "
        "digits or _ (64 at most)"
    )
    text = text.replace('"a]"', '"a"')
    assert refusal(text) == (
        "f.toml: network.layers[1].activation (line 11): unknown activation 'sig\"moid': expected one of sigmoid, "
        "tanh, relu, leaky_relu, softplus, identity, softmax, silu"
    )


def test_line_numbers_in_arrays_of_tables_and_dotted_keys():
    text = GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + textwrap.dedent("""\
        [[examples]]
        x = 1
        y = 2
        [[examples]]
        x = 1
        y = "two"
        [values]
        z = 1
        """)
    assert refusal(text) == "f.toml: examples[1].y (line 10): expected a finite number, got 'two'"
    dotted = "values.x = 1\nvalues . y = 2\n'values'.\"z\" = nan\n" + GRAPH
    assert refusal(dotted) == "f.toml: values.z (line 3): expected a finite number, got nan"
