"""A network file read key by key: typed getters whose errors are one line naming key and line."""
from __future__ import annotations

import pickle

import pytest

from symprop.files import spec
from symprop.files.spec_file import SpecError, SpecFile, check_name, finite_number, read_text, repeated
from tests.spec_files import refusal

TEXT = """\
a = 1
[t]
name = "x"
list = ["p", "q", "p"]
n = 2.5
flag = true
big = 100
netwrk = 1
"""


@pytest.fixture(scope="module")
def file():
    return SpecFile(TEXT, "f.toml")


def message(call) -> str:
    with pytest.raises(SpecError) as caught:
        call()
    return str(caught.value)


# ---------------------------------------------------------------- the error


def test_spec_error_keeps_its_parts_and_pickles():
    error = SpecError("f.toml", "network.loss", "unknown loss 'x'", 4)
    assert str(error) == "f.toml: network.loss (line 4): unknown loss 'x'"
    assert (error.source, error.key, error.line, error.expected) == ("f.toml", "network.loss", 4, "unknown loss 'x'")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
    assert str(SpecError("a\nb.toml", "k", "x\ny")) == "a\\nb.toml: k: x\\ny"


def test_spec_error_with_a_column():
    error = SpecError("f.toml", "TOML syntax", "invalid value", 3, 9)
    assert str(error) == "f.toml: TOML syntax (line 3, column 9): invalid value"
    assert pickle.loads(pickle.dumps(error)).column == 9


def test_malformed_toml_gives_line_and_column():
    assert refusal('title = "x"\n[network\n') == (
        "f.toml: TOML syntax (line 2, column 9): expected ']' at the end of a table declaration"
    )
    assert refusal("a = 1\na = 2\n") == "f.toml: TOML syntax (line 2, column 6): cannot overwrite a value"
    assert refusal("a = ") == "f.toml: TOML syntax: invalid value (at the end of the file)"
    assert refusal("a = " + "[" * 5000 + "]" * 5000).startswith("f.toml: TOML syntax")


def test_text_that_is_not_a_string_is_refused():
    assert message(lambda: SpecFile(b"a = 1", "g.toml")) == "g.toml: file: expected TOML text, got bytes"


# ---------------------------------------------------------------- reading the file


def test_read_text_drops_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfa = 1\n")
    assert read_text(path) == "a = 1\n"


def test_unreadable_files_are_one_line_errors(tmp_path):
    with pytest.raises(SpecError, match=r"^.*missing\.toml: file: cannot be read: No such file or directory$"):
        spec.load(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(SpecError, match=r"latin\.toml: file: not UTF-8 text \(byte 12\)$"):
        spec.load(latin)


# ---------------------------------------------------------------- typed keys


def test_get_follows_tables_and_list_indices(file):
    assert file.get(("t", "name")) == "x"
    assert file.get(("t", "list", 1)) == "q"
    assert file.get(("t", "list", 3), 7) == 7
    assert file.get(("t", "missing"), 7) == 7
    assert file.get(("a", "x"), 7) == 7


def test_a_missing_key_suggests_the_close_spelling_the_file_has(file):
    assert message(lambda: file.require(("t", "network"), "a table")) == (
        "f.toml: t.network (line 2): missing: expected a table (is 'netwrk' a misspelling of 'network'?)"
    )
    assert file.misspelling(("t", "zzzz")) == ""
    assert file.misspelling(("t", "list", 0)) == ""


@pytest.mark.parametrize(
    "read, expected",
    [
        (lambda f: f.table(("a",)), "f.toml: a (line 1): expected a table, got 1"),
        (lambda f: f.string(("t", "n")), "f.toml: t.n (line 5): expected a string, got 2.5"),
        (lambda f: f.choice(("t", "name"), ("y", "z")), "f.toml: t.name (line 3): unknown name 'x': expected one of y, z"),
        (lambda f: f.integer(("t", "flag"), low=0, high=10, what="a count"),
         "f.toml: t.flag (line 6): expected a count, got true"),
        (lambda f: f.integer(("t", "big"), low=0, high=10, what="a count"),
         "f.toml: t.big (line 7): 100 is too many: at most 10, as more would take very long"),
        (lambda f: f.number(("t", "name")), "f.toml: t.name (line 3): expected a finite number, got 'x'"),
        (lambda f: f.names(("t", "list")), "f.toml: t.list (line 4): duplicate name 'p': each name is used once"),
        (lambda f: f.names(("t", "n")), "f.toml: t.n (line 5): expected a list of names (strings), got 2.5"),
    ],
)
def test_each_getter_refuses_the_wrong_type_at_its_line(file, read, expected):
    assert message(lambda: read(file)) == expected


def test_getters_return_the_value_or_the_default(file):
    assert file.number(("t", "n")) == 2.5
    assert file.integer(("t", "x"), 3, low=0, high=10, what="a count") == 3
    assert file.names(("t", "nothing"), None) is None
    assert file.string(("t", "name")) == "x"


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "value, number",
    [(2, 2.0), (0.5, 0.5), (True, None), ("1", None), (float("inf"), None), (float("nan"), None), (10**400, None)],
)
def test_finite_number(value, number):
    assert finite_number(value) == number


def test_repeated_is_the_first_name_seen_twice():
    assert repeated(["a", "b", "b", "a"]) == "b"
    assert repeated(["a", "b"]) is None


def test_check_name_refuses_unusable_names_and_function_names_in_expressions(file):
    assert message(lambda: check_name(file, ("t", "name"), "1x")) == (
        "f.toml: t.name (line 3): '1x' is not a usable name: expected a letter, then letters, digits or _ (64 at most)"
    )
    assert message(lambda: check_name(file, ("t", "name"), "sigmoid", in_expressions=True)) == (
        "f.toml: t.name (line 3): 'sigmoid' is the name of a function: choose another name"
    )
    check_name(file, ("t", "name"), "sigmoid")  # a layered network may call a unit so
    check_name(file, ("t", "name"), "x" * 64)
    assert "is not a usable name" in message(lambda: check_name(file, ("t", "name"), "x" * 65))


def test_unknown_keys_are_refused_with_the_nearest_allowed_name():
    from symprop.files.spec_file import refuse_unknown_keys, unknown_key_message

    file = SpecFile("[t]\nunits = 1\nactivaton = 'relu'\n", "f.toml")
    refuse_unknown_keys(file, ("t",), ("units", "activation", "activaton"), "in t")  # all allowed: no error
    with pytest.raises(SpecError) as raised:
        refuse_unknown_keys(file, ("t",), ("units", "activation"), "in layer 1")
    assert str(raised.value) == "f.toml: t.activaton (line 3): unknown key 'activaton' in layer 1: did you mean 'activation'?"
    assert unknown_key_message("zzz", ("units", "alpha"), "in t") == "unknown key 'zzz' in t: expected one of units, alpha"
    assert unknown_key_message("trian", ("train",), "", table=True) == "unknown table [trian]: did you mean [train]?"


def test_read_stream_reads_utf8_and_refuses_the_rest_in_one_line():
    import io

    from symprop.files import spec_file

    assert spec_file.read_stream(io.BytesIO("\ufeffx = 1\n".encode()), "<stdin>") == "x = 1\n"
    with pytest.raises(SpecError) as raised:
        spec_file.read_stream(io.BytesIO(b"x = '\xff'"), "<stdin>")
    assert str(raised.value) == "<stdin>: file: not UTF-8 text (byte 5)"
    with pytest.raises(SpecError, match=r"^<stdin>: file: more than 10 bytes: a network file is at most 10 bytes$"):
        original, spec_file.MAX_TEXT_LENGTH = spec_file.MAX_TEXT_LENGTH, 10
        try:
            spec_file.read_stream(io.BytesIO(b"x" * 11), "<stdin>")
        finally:
            spec_file.MAX_TEXT_LENGTH = original


# --- only regular files are read, and no more than the bound --------------------

import os

from tests.deadlines import time_bound


def test_a_fifo_with_no_writer_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "net.toml"
    os.mkfifo(fifo)
    with time_bound(10, "the read"), pytest.raises(SpecError) as raised:
        read_text(fifo)
    assert str(raised.value) == (f"{fifo}: file: is a pipe (FIFO): expected a network file (a regular file), "
                                 "or - for standard input")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_reading(device):
    with time_bound(10, "the read"), pytest.raises(SpecError, match=r"is a character device: expected a network file"):
        read_text(device)


def test_a_link_to_a_device_and_a_folder_are_refused(tmp_path):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with time_bound(10, "the read"), pytest.raises(SpecError, match="is a character device"):
        read_text(link)
    with pytest.raises(SpecError, match=r"is a folder: expected a network file"):
        read_text(tmp_path)


def test_the_bound_holds_while_reading_whatever_the_size_says(monkeypatch):
    """``/proc`` files report size 0: the bound is the bytes read, not the size claimed."""
    from symprop.files import spec_file

    monkeypatch.setattr(spec_file, "MAX_TEXT_LENGTH", 10)
    with pytest.raises(SpecError, match=r"^/proc/self/status: file: more than 10 bytes"):
        read_text("/proc/self/status")


def test_a_file_swapped_for_a_fifo_after_the_look_is_refused(tmp_path, monkeypatch):
    """Between the look and the open a file may be replaced: the open does not block, the
    opened file is looked at again."""
    from symprop.files import spec_file

    regular, fifo = tmp_path / "net.toml", tmp_path / "pipe"
    regular.write_text("a = 1\n")
    os.mkfifo(fifo)
    real_open = os.open
    monkeypatch.setattr(spec_file.os, "open", lambda path, *args: real_open(fifo, *args))
    with time_bound(10, "the read"), pytest.raises(SpecError, match="is a pipe"):
        read_text(regular)


def test_required_names_reads_text_given_with_its_source():
    names = spec.required_names('[graph]\ninputs = ["x"]\nparameters = ["x"]\nnodes = [["f", "3*x"]]\n'
                                'output = "f"\n[values]\nx = 1\n', source="<stdin>")
    assert [n["name"] for n in names] == ["x"]
