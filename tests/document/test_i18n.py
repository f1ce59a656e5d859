"""The prose tables: one per language, the same keys and placeholders in each."""
from __future__ import annotations

import re

import pytest

from symprop.document.i18n import ENGLISH, KOREAN, LANGUAGES, prose


def test_prose_of_each_language():
    assert prose("en") is ENGLISH
    assert prose("ko") is KOREAN
    assert list(LANGUAGES) == ["en", "ko"]


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError) as error:
        prose("fr")
    assert str(error.value) == "unknown language 'fr': expected one of en, ko"


def test_prose_tables_have_the_same_keys_and_placeholders():
    assert set(ENGLISH) == set(KOREAN)
    for key in ENGLISH:
        assert set(re.findall(r"\{(\w+)\}", ENGLISH[key])) == set(re.findall(r"\{(\w+)\}", KOREAN[key])), key


def test_placeholders_are_filled_by_name():
    assert ENGLISH["loss_fell"].format(before="0.3", after="0.29") == "The loss falls from 0.3 to 0.29."
    assert KOREAN["learning_rate_given"].format(eta="0.5") == "학습률은 0.5입니다."


def test_korean_uses_the_tutorials_terms():
    assert (KOREAN["forward"], KOREAN["check"], KOREAN["biases"]) == ("순전파", "기울기 검증", "편향")
