"""A user's own templates: every mistake in them is one line naming the template, not a crash."""
from __future__ import annotations

import pytest

from symprop.outputs import render
from symprop.outputs.user_templates import UserTemplateError

CASES = [
    ("((* macro paragraph(b) *))\n((( undefined_thing.x )))\n((* endmacro *))\n",
     "template markdown/blocks.md.j2, line 2: 'undefined_thing' is undefined"),
    ("((* macro paragraph(b) *))\n((* if *))\n((* endmacro *))\n",
     "template markdown/blocks.md.j2, line 2: Expected an expression, got 'end of statement block'"),
    ('((* include "nothere.j2" *))\n', "asks for 'nothere.j2', which is in neither that folder nor the packaged"),
    (b"\xff\xfe bad", "template markdown/blocks.md.j2: not UTF-8 text (byte 0)"),
    ("((* macro paragraph(b) *))((( paragraph(b) )))((* endmacro *))\n", "calls itself without end"),
]


@pytest.mark.parametrize("text, message", CASES)
def test_a_broken_user_template_is_refused_in_one_line_naming_it(tmp_path, mazur_solution, text, message):
    (tmp_path / "markdown").mkdir()
    path = tmp_path / "markdown" / "blocks.md.j2"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(UserTemplateError) as caught:
        render.render_markdown(mazur_solution.derivation, mazur_solution.example, template_dir=tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_working_user_template_still_renders(tmp_path, mazur_solution):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "blocks.md.j2").write_text(
        '((* extends "symprop/markdown/blocks.md.j2" *))\n', encoding="utf-8")
    text = render.render_markdown(mazur_solution.derivation, mazur_solution.example, template_dir=tmp_path)
    assert "w_{5}" in text
