"""Hostile claims for ``symprop check FILE PARAM CLAIM``: blank, a lone minus, huge numbers and
powers, code (``__import__``, lambda, attribute access), very long text. Each is refused in one
short line (exit 2) or decided (exit 0 equal, 1 not), quickly."""
from __future__ import annotations

import pytest

from tests.hostile.corpus import MAZUR, refused, run

RIGHT = "-(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1"

REFUSED = [
    ("", "expected an expression, got an empty string"),
    ("   ", "expected an expression, got an empty string"),
    ("\t", "expected an expression, got an empty string"),
    ("-", "cannot read the claim '-': invalid syntax"),
    ("- ", "invalid syntax"),
    ("+", "invalid syntax"),
    ("*", "invalid syntax"),
    ("out_o1 *", "invalid syntax"),
    ("(out_o1", "unbalanced parentheses"),
    ("out_o1)", "unbalanced parentheses or an unfinished expression"),
    ("1e999999", "gives inf, not a finite real number"),
    ("-1e999999", "gives inf"),
    ("10**(10**8)", "the claim raises 10 to the power 100000000: too large to compute"),
    ("10^(10^8)", "the claim raises 10 to the power 100000000: too large to compute"),
    ("((10**10000)**10000)**10000", "the claim raises 10 to the power 10000: too large to compute"),
    ("out_o1^10^10", "its numbers would grow past 20000 digits"),
    ("out_o1**(10**7)", "past 20000 digits"),
    ("2^2^2^2^2^2", "too large to compute"),
    ("1" * 5000, "characters)"),
    ("0.1" * 600, "characters)"),
    ("1/0", "it divides a number by zero"),
    ("out_o1/0", "infinite or undefined"),
    ("sqrt(-1)", "it holds the complex number I"),
    ("log(0)*out_h1", "infinite or undefined"),
    ("__import__('os')", "unknown name '__import__' in the claim"),
    ("__import__", "unknown name '__import__'"),
    ("__builtins__", "unknown name '__builtins__'"),
    ("_n_out_o1", "unknown name '_n_out_o1'"),
    ("lambda: 1", "unknown name 'lambda'"),
    ("(lambda x: x)(1)", "unknown name 'lambda'"),
    ("out_o1.real", "found '.'"),
    ("out_h1.__class__.__mro__", "found '.'"),
    ("().__class__", "found '.'"),
    ("eval('1')", "unknown name 'eval'"),
    ("exec('1')", "unknown name 'exec'"),
    ("open('/etc/passwd')", "unknown name 'open'"),
    ("getattr(out_o1, 'x')", "unknown name 'getattr'"),
    ("globals()", "unknown name 'globals'"),
    ("Symbol('x')", "unknown name 'Symbol'"),
    ("Integer(1)", "unknown name 'Integer'"),
    ("'w5'", "found \"'w5'\""),
    ("[1]", "found '['"),
    ("{}", "found '{'"),
    ("1 if 1 else 2", "unknown name 'if'"),
    ("out_o1 @ out_h1", "found '@'"),
    ("out_o1 // 2", "found '//'"),
    ("out_o1 % 2", "found '%'"),
    ("out_o1 < 1", "found '<'"),
    ("out_o1; out_h1", "found ';'"),
    ("w5[0]", "found '['"),
    ("w5 = 1", "found '='"),
    ("é", "expected ASCII characters only"),
    ("out_o1 × 2", "expected ASCII characters only"),
    ("\x00", "found '\\x00'"),
    ("out_o1\nout_h1", "invalid syntax"),
    ("x" * 5000, "unknown name 'xxxxxxxxxx"),
    ("(" * 5000, "unbalanced parentheses"),
    ("(" * 200 + "out_h1" + ")" * 200, None),  # parentheses alone nest nothing
    ("-" * 3000 + "1", "nested"),
    ("Max(" + ", ".join(["out_h1"] * 64) + ")", "Max takes"),
    ("sigmoid()", "sigmoid takes"),
    ("exp(out_o1, out_h1)", "exp takes"),
    ("w6", None),   # a well-formed claim that is not the gradient: exit 1, not a refusal
]


@pytest.mark.parametrize("claim, fragment", REFUSED, ids=[f"claim-{i}" for i in range(len(REFUSED))])
def test_a_hostile_claim_is_refused_in_one_short_line(claim, fragment):
    if fragment is None:
        outcome = run(MAZUR, ("check",), after=("w5", claim), formats=None)
        assert outcome.code == 1 and "NOT equal" in outcome.stdout, outcome.describe()
        return
    outcome = refused(MAZUR, fragment, ("check",), after=("w5", claim), formats=None, seconds=10)
    assert len(outcome.stderr) < 700, outcome.describe()


@pytest.mark.parametrize("claim", [
    RIGHT, "delta_net_o1*out_h1", "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1", "--(out_o1 - t1)*out_o1*(1-out_o1)*out_h1",
    "(out_o1-t1)*out_o1*(1-out_o1)*out_h1" + " + 0" * 90, "out_h1*" + "(" * 90 + "out_o1 - t1" + ")" * 90
    + "*out_o1*(1 - out_o1)",
])
def test_a_right_claim_is_equal_however_it_is_written(claim):
    outcome = run(MAZUR, ("check",), after=("w5", claim), formats=None, seconds=20)
    assert outcome.code == 0 and "is equal to the gradient" in outcome.stdout, outcome.describe()


def test_a_sum_of_two_thousand_terms_is_refused_saying_how_to_write_it():
    claim = "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1" + " + 0" * 2000
    refused(MAZUR, "nested 2005 levels deep (each + or * of a long sum is a level): at most 100; group the terms",
            ("check",), after=("w5", claim), formats=None)


def test_a_claim_of_forty_thousand_characters_is_refused_quickly():
    claim = "(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1" + " + out_h1 - out_h1" * 2200
    refused(MAZUR, "(39640 characters): nested", ("check",), after=("w5", claim), formats=None)


def test_forty_thousand_characters_in_parentheses_are_decided_quickly():
    claim = "(" + " + ".join(["(out_o1 - t1)*out_o1*(1 - out_o1)*out_h1/50"] * 50) + ")" + " " * 38_000
    outcome = run(MAZUR, ("check",), after=("w5", claim), formats=None, seconds=30)
    assert outcome.code == 0, outcome.describe()


def test_a_claim_longer_than_the_bound_is_refused_saying_the_bound():
    refused(MAZUR, "at most 50000", ("check",), after=("w5", "out_h1 + " * 6000 + "1"), formats=None)


def test_a_claim_for_an_unknown_parameter_is_refused():
    refused(MAZUR, "w9", ("check",), after=("w9", RIGHT), formats=None)


def test_a_claim_from_a_subprocess_keeps_its_exit_code_and_one_line():
    refused(MAZUR, "gives inf", ("check",), after=("w5", "1e999999"), formats=None, subprocess_run=True, seconds=30)


def test_a_claim_starting_with_many_minus_signs_is_a_formula_not_an_option():
    outcome = run(MAZUR, ("check",), after=("w5", "--" + RIGHT), formats=None)
    assert outcome.code == 0 and "is equal to the gradient" in outcome.stdout, outcome.describe()
