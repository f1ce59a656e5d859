"""Files that are not UTF-8 TOML: other encodings, byte-order marks, NUL bytes, broken syntax.
Each is refused in one line naming the file and what is wrong (or, for a UTF-8 byte-order
mark, read as if it were not there)."""
from __future__ import annotations

import pytest

from tests.hostile.corpus import MAZUR, derived, refused

ENCODED = [
    (MAZUR.encode("utf-16"), "not UTF-8 text (a NUL byte at byte 3: UTF-16 or UTF-32 text? save it as UTF-8)"),
    (MAZUR.encode("utf-16-le"), "not UTF-8 text (a NUL byte at byte 1: UTF-16 or UTF-32 text? save it as UTF-8)"),
    (MAZUR.encode("utf-16-be"), "not UTF-8 text (a NUL byte at byte 0: UTF-16 or UTF-32 text? save it as UTF-8)"),
    (MAZUR.encode("utf-32"), "not UTF-8 text"),
    (MAZUR.replace('"Mazur"', '"Mazur é"').encode("latin-1"), "not UTF-8 text"),
    (MAZUR.replace('"Mazur"', '"Mazur \u00fc"').encode("cp1252"), "not UTF-8 text"),
    (b"\xff\xfe\x00\x00" + MAZUR.encode("utf-32-le"), "not UTF-8 text"),
    (b"\x80" + MAZUR.encode(), "not UTF-8 text (byte 0)"),
    (MAZUR.encode() + b"\xc3", "not UTF-8 text"),
    (MAZUR.replace("i1 = 0.05", "i1 = 0.05 # \udcff", 1).encode("utf-8", "surrogateescape"), "not UTF-8 text"),
]


@pytest.mark.parametrize("data, fragment", ENCODED, ids=[f"encoding-{i}" for i in range(len(ENCODED))])
def test_a_file_in_another_encoding_is_refused(data, fragment):
    refused(data, fragment)


def test_a_utf8_byte_order_mark_is_dropped():
    derived(b"\xef\xbb\xbf" + MAZUR.encode())


def test_a_utf8_byte_order_mark_from_standard_input_is_dropped():
    outcome = derived(None, ("derive", "-", "-f", "json", "-o", "-"), formats=None, stdin=b"\xef\xbb\xbf" + MAZUR.encode())
    assert '"schema": 2' in outcome.stdout


def test_utf16_on_standard_input_is_refused_naming_it():
    refused(None, "<stdin>: file: not UTF-8 text", ("derive", "-", "-f", "md", "-o", "-"), formats=None,
            stdin=MAZUR.encode("utf-16"))


NUL_BYTES = [
    b"\x00" + MAZUR.encode(),
    MAZUR.encode().replace(b"i1 = 0.05", b"i1 = 0.05\x00"),
    MAZUR.encode().replace(b'title = "Mazur"', b'title = "Ma\x00zur"'),
    MAZUR.encode().replace(b"[values]", b"[val\x00ues]"),
    MAZUR.encode().replace(b"i1 = 0.05", b"i1 = 0.05 # \x00"),
    MAZUR.encode() + b"\x00" * 1000,
]


@pytest.mark.parametrize("data", NUL_BYTES, ids=[f"nul-{i}" for i in range(len(NUL_BYTES))])
def test_nul_bytes_are_refused_in_one_line(data):
    outcome = refused(data, "a NUL byte at byte")
    assert "\x00" not in outcome.stderr


def test_control_characters_in_a_title_are_refused():
    refused(MAZUR.replace('title = "Mazur"', 'title = "Ma\\u0007zur"'), "a title of one line")


def test_a_newline_in_a_title_is_refused():
    refused(MAZUR.replace('title = "Mazur"', 'title = "Ma\\nzur"'), "a title of one line")


def test_a_title_of_a_thousand_characters_is_refused():
    refused(MAZUR.replace('title = "Mazur"', f'title = "{"M" * 1000}"'), "at most 200 characters")


MALFORMED = [
    ("[network", "TOML syntax (line 4"),
    ("[[network]]", "network"),
    ("[network]]", "TOML syntax"),
    ('inputs = ["i1", "i2"]', "TOML syntax", 'inputs = ["i1", "i2"'),
    ('inputs = ["i1", "i2"]', "TOML syntax", 'inputs = ["i1" "i2"]'),
    ('inputs = ["i1", "i2"]', "TOML syntax", "inputs = [i1, i2]"),
    ('inputs = ["i1", "i2"]', "TOML syntax", 'inputs = ["i1", "i2"]\ninputs = ["i1"]'),
    ('title = "Mazur"', "TOML syntax", 'title = "Mazur'),
    ('title = "Mazur"', "TOML syntax", "title = 'Mazur"),
    ('title = "Mazur"', "TOML syntax", 'title = """Mazur'),
    ('title = "Mazur"', "TOML syntax", 'title == "Mazur"'),
    ('title = "Mazur"', "TOML syntax", 'title "Mazur"'),
    ('title = "Mazur"', "TOML syntax", '= "Mazur"'),
    ('title = "Mazur"', "TOML syntax", 'title = "\\q"'),
    ("i1 = 0.05", "TOML syntax", "i1 = 0,05"),
    ("i1 = 0.05", "TOML syntax", "i1 = .05"),
    ("i1 = 0.05", "TOML syntax", "i1 = 0.05.1"),
    ("i1 = 0.05", "TOML syntax", "i1 = 05"),
    ("i1 = 0.05", "TOML syntax", "i1 = 1__0"),
    ("i1 = 0.05", "TOML syntax", "i1 ="),
    ("i1 = 0.05", "TOML syntax", "i1 = 0.05 i2 = 0.1"),
    ("i1 = 0.05", "TOML syntax", "i1 = NaN"),
    ("i1 = 0.05", "TOML syntax", "i1 = Infinity"),
    ("[values]", "TOML syntax", "[values]\n[values]"),
    ("[values]", "TOML syntax", "[]"),
    ("[values]", "TOML syntax", "[values.]"),
    ("layers = [", "TOML syntax", "layers = [[\n"),
    ('bias = "shared" },', "TOML syntax", 'bias = "shared" ,'),
    ('bias = "shared" },', "TOML syntax", 'bias = "shared" }},'),
    ('{ units = 2, activation = "sigmoid", names = ["h1", "h2"]',
     "TOML syntax", '{ units = 2, units = 3, activation = "sigmoid", names = ["h1", "h2"]'),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[f"toml-{i}" for i in range(len(MALFORMED))])
def test_malformed_toml_is_refused_with_its_line(case):
    old, fragment, *new = case if len(case) == 3 else (case[0], case[1], case[0])
    text = MAZUR.replace(old, new[0], 1) if new else MAZUR
    if case[0] == "[network" and len(case) == 2:
        text = MAZUR.replace("[network]", "[network", 1)
    elif len(case) == 2:
        text = MAZUR.replace("[network]", case[0], 1)
    refused(text, fragment)


def test_an_empty_file_is_refused():
    refused("", "give a [network] table")


def test_a_file_of_blank_lines_and_comments_is_refused():
    refused("\n\n# nothing here\n   \n", "give a [network] table")


def test_a_file_that_is_a_toml_array_of_tables_is_refused():
    refused('[[network]]\ninputs = 2\nlayers = [{ units = 1 }]\n', "network")


def test_a_binary_file_is_refused():
    refused(bytes(range(256)) * 4, "not UTF-8 text")


def test_a_png_file_is_refused():
    refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not UTF-8 text")


def test_a_json_file_is_refused_as_toml_syntax():
    refused('{"network": {"inputs": 2}}\n', "TOML syntax (line 1")


def test_a_yaml_file_is_refused_as_toml_syntax():
    refused("network:\n  inputs: 2\n", "TOML syntax (line 1")


def test_a_line_of_a_million_characters_is_refused_quickly():
    refused(MAZUR.replace('title = "Mazur"', 'title = "' + "x" * 1_000_000 + '"'), "at most 200 characters")


def test_ten_thousand_unknown_keys_are_refused_at_the_first():
    keys = "\n".join(f"k{n} = {n}" for n in range(10_000))
    refused(MAZUR.replace("[values]", "[values]\n" + keys, 1), "k0")


def test_deeply_nested_toml_arrays_are_refused_in_one_line():
    refused(MAZUR.replace("w1 = 0.15", "w1 = " + "[" * 5000 + "]" * 5000, 1), "TOML syntax: arrays or tables nested too deeply")


def test_deeply_nested_toml_inline_tables_are_refused_in_one_line():
    refused(MAZUR.replace("w1 = 0.15", "w1 = " + "{a = " * 3000 + "1" + "}" * 3000, 1), "nested too deeply")
