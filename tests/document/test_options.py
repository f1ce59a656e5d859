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
    ({"paper": "a5"}, "unknown paper 'a5': expected one of a4, letter"),
])
def test_bad_values_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        document_options(**settings)


def test_section_switches_read_plus_minus_and_bare_names():
    from symprop.document.options import section_switches

    assert section_switches("+layer-view, node_rules,-matrix") == ("+layer-view", "+node-rules", "-matrix")
    assert section_switches(["check", "-after-update"]) == ("+check", "-after-update")
    assert section_switches("") == ()
    assert document_options(sections="layer-view").sections == ("+layer-view",)


def test_an_unknown_section_is_refused_in_one_line_with_the_nearest_and_the_list():
    from symprop.document.options import SECTIONS, SectionError
    from symprop.errors import SympropError

    with pytest.raises(SectionError) as raised:
        document_options(sections="+layer-view,+node-rule")
    assert str(raised.value) == f"unknown section 'node-rule': did you mean 'node-rules'? (sections: {', '.join(SECTIONS)})"
    assert isinstance(raised.value, SympropError)


def test_section_defaults_follow_the_notation_the_graph_and_only():
    from symprop.document.options import section_shown

    plain = document_options()
    assert section_shown(plain, "layer-view", notation="dlfs", graph=False)
    assert not section_shown(plain, "layer-view", notation="mazur", graph=False)
    assert section_shown(plain, "node-rules", notation=None, graph=True)
    assert not section_shown(plain, "node-rules", notation="mazur", graph=False)
    assert section_shown(plain, "matrix", notation="mazur", graph=False)
    assert not section_shown(document_options(only=["w5"]), "matrix", notation="mazur", graph=False)
    assert section_shown(document_options(only="w5", sections="+matrix"), "matrix", notation="mazur", graph=False)
    assert not section_shown(document_options(sections="+check,-check"), "check", notation=None, graph=True)


def test_only_is_kept_as_a_tuple_of_names_so_options_stay_hashable():
    assert document_options(only="w5").only == ("w5",)
    assert document_options(only=["w5", "w6"]).only == ("w5", "w6")
    assert hash(document_options(only=["w5"], sections=["+node-rules"]))


def test_only_and_sections_of_the_wrong_kind_are_refused_in_one_line():
    from symprop.errors import WrongArgument

    with pytest.raises(WrongArgument, match="the only option expects a parameter name or a list of them, got an int"):
        document_options(only=5)
    with pytest.raises(WrongArgument, match="the sections option expects a string such as"):
        document_options(sections={"node-rules": True})


def test_the_paper_is_a4_for_korean_and_letter_otherwise_unless_chosen():
    from symprop.document.options import paper_of

    assert (paper_of(document_options()), paper_of(document_options(lang="ko"))) == ("letter", "a4")
    assert paper_of(document_options(paper="a4")) == "a4"
    assert paper_of(document_options(lang="ko", paper="letter")) == "letter"
