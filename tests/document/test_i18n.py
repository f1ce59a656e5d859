"""The prose tables: one per language, the same keys and placeholders in each."""
from __future__ import annotations

import re

import pytest

from symprop.document.i18n import ENGLISH, KOREAN, LANGUAGES, PARTICLES, final_sound, particle, prose, with_particles
from symprop.files import spec
from symprop.outputs import pipeline, render


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
        assert set(re.findall(r"\{(\w+)\}", ENGLISH[key])) == set(re.findall(r"\{(\w+)(?:\|\w+)?\}", KOREAN[key])), key


def test_placeholders_are_filled_by_name():
    assert ENGLISH["loss_fell"].format(before="0.3", after="0.29") == "The loss falls from 0.3 to 0.29."
    assert KOREAN["learning_rate_given"].format(eta="0.5") == "학습률은 0.5입니다."


def test_korean_uses_the_tutorials_terms():
    assert (KOREAN["forward"], KOREAN["check"], KOREAN["biases"]) == ("순전파", "기울기 검증", "편향")


@pytest.mark.parametrize("before, topic, objective, ro", [
    (r"\mathrm{out}_{h1}", "은", "을", "로"),      # 일: ㄹ, which takes 로
    ("b_{1}", "은", "을", "로"),
    ("w_{5}", "는", "를", "로"),         # 오
    ("x_{3}", "은", "을", "으로"),       # 삼
    ("z_{6}", "은", "을", "으로"),       # 육
    ("a_{0}", "은", "을", "으로"),       # 영
    ("t_{2}", "는", "를", "로"),         # 이
    (r"E_{\mathrm{total}}", "은", "을", "로"),     # 엘
    ("\\mathrm{out}_{o2}", "는", "를", "로"),
    ("w_{n}", "은", "을", "으로"),       # 엔
    ("y", "는", "를", "로"),
    ("\\eta", "는", "를", "로"),         # 에타
    ("\\epsilon", "은", "을", "으로"),   # 입실론
    (r"\sigma(z)", "는", "를", "로"),
    ("0.5", "는", "를", "로"),
    ("0.298371109", "는", "를", "로"),
    ("10", "은", "을", "으로"),          # 십
    ("9.1 \\times 10^{-9}", "는", "를", "로"),
])
def test_particles_follow_the_final_sound_of_what_precedes_them(before, topic, objective, ro):
    assert (particle("는", before), particle("를", before), particle("로", before)) == (topic, objective, ro)
    assert particle("와", before) == ("와" if topic == "는" else "과")
    assert particle("가", before) == ("가" if topic == "는" else "이")


def test_final_sounds():
    assert final_sound(r"\mathrm{out}_{h1}") == "ㄹ" and final_sound("w_{5}") == "" and final_sound("x_{3}") == "ㅁ"
    assert final_sound("") == "" and final_sound("()") == ""


def test_with_particles_writes_the_form_that_fits():
    assert with_particles("{node|는} 노드입니다. {p|를} 갱신합니다.", {"node": r"\mathrm{out}_{h1}", "p": "w_{5}"}) == (
        "{node}은 노드입니다. {p}를 갱신합니다.")
    assert with_particles("{x}입니다", {"x": "1"}) == "{x}입니다"


KOREAN_PARTICLE = re.compile(r"\$([^$]+)\$(으로|로|은|는|을|를|과|와|이|가)(?![가-힣])")


@pytest.mark.parametrize("name", sorted(spec.builtin_examples()))
def test_every_particle_after_math_in_every_korean_document_fits(name):
    solution = pipeline.solve(spec.load_builtin(name))
    documents = [render.render_markdown(solution.derivation, solution.example, lang="ko", flavor="dollar"),
                 render.render_markdown(solution.derivation, None, lang="ko", flavor="dollar")]
    forms = {form: base for base, pair in PARTICLES.items() for form in pair}
    found = 0
    for document in documents:
        for match in KOREAN_PARTICLE.finditer(document):
            tex, written = match.groups()
            assert written == particle(forms[written], tex), match.group()
            found += 1
    assert found > 0
