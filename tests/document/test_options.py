"""The settings table of a document."""
from __future__ import annotations

import pytest

from symprop.document.options import DEFAULTS, DocumentOptions, document_options


def test_every_option_has_a_default_and_settings_apply():
    assert DEFAULTS["digits"] == 9 and DEFAULTS["lang"] == "en" and DEFAULTS["flavor"] == "github"
    options = document_options(digits=4, lang="ko")
    assert (options.digits, options.lang, options.flavor) == (4, "ko", "github")
    assert document_options(options, flavor="dollar") == DocumentOptions(lang="ko", flavor="dollar", digits=4)


def test_an_unknown_option_names_the_nearest_one():
    with pytest.raises(TypeError, match="unknown document option 'digit'; did you mean 'digits'"):
        document_options(digit=3)
    with pytest.raises(TypeError, match="known options: lang, flavor"):
        document_options(zzz=3)


@pytest.mark.parametrize("settings, message", [
    ({"lang": "fr"}, "unknown language 'fr'"),
    ({"flavor": "rst"}, "unknown Markdown flavor 'rst'"),
    ({"digits": 0}, "digits must be a whole number from 1 to 1000"),
    ({"digits": True}, "digits must be a whole number"),
])
def test_bad_values_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        document_options(**settings)
