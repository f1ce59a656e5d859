"""The document model's blocks and helpers."""
from __future__ import annotations

from symprop.document.model import Document, Equation, Math, Prose, Section, equation, heading, paragraph, section


def test_helpers_build_blocks_of_each_kind():
    assert heading("loss").kind == "heading" and heading("loss").level == 2
    assert heading("gradient_of", 3, parameter=Math("w")).prose == Prose("gradient_of", {"parameter": Math("w")})
    assert paragraph("product").kind == "paragraph"
    assert equation("a = b") == Equation(("a = b",)) and equation("a = b").single
    assert not equation(["a &= b", "&= c"]).single


def test_a_section_leaves_out_missing_blocks_and_a_document_finds_sections():
    loss = section("loss", heading("loss"), None, equation("E = 1"))
    assert loss == Section("loss", (heading("loss"), equation("E = 1")))
    document = Document("T", "en", (loss,))
    assert document.section("loss") is loss and document.section("check") is None
    assert document.blocks == loss.blocks
