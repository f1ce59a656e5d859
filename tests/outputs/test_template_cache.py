"""Compiled templates are kept between environments, only for the same source and settings,
and a cache that cannot be written or had changes nothing but the time."""
from __future__ import annotations

import jinja2
import pytest

from symprop.outputs import render, template_cache
from symprop.outputs.template_cache import bytecode_cache

SETTINGS = dict(variable_start_string="(((", variable_end_string=")))", trim_blocks=True)


class CountingEnvironment(jinja2.Environment):
    """An environment that counts the templates it compiles from source."""

    compiled = 0

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        CountingEnvironment.compiled += 1
        return super().compile(source, name, filename, raw, defer_init)


def environment(folder, cache_folder, settings=SETTINGS):
    return CountingEnvironment(loader=jinja2.FileSystemLoader(str(folder)),
                               bytecode_cache=bytecode_cache(settings, str(cache_folder)), **settings)


@pytest.fixture
def templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.j2").write_text("Hello ((( name )))!\n")
    (tmp_path / "cache").mkdir()
    CountingEnvironment.compiled = 0
    return folder


def test_a_second_environment_reads_the_compiled_template_and_renders_the_same(templates, tmp_path):
    first = environment(templates, tmp_path / "cache").get_template("page.j2").render(name="w5")
    assert CountingEnvironment.compiled == 1
    second = environment(templates, tmp_path / "cache").get_template("page.j2").render(name="w5")
    assert CountingEnvironment.compiled == 1 and second == first == "Hello w5!"


def test_a_changed_template_is_compiled_again(templates, tmp_path):
    environment(templates, tmp_path / "cache").get_template("page.j2")
    (templates / "page.j2").write_text("Goodbye ((( name )))!\n")
    again = environment(templates, tmp_path / "cache").get_template("page.j2").render(name="w5")
    assert CountingEnvironment.compiled == 2 and again == "Goodbye w5!"


def test_other_settings_never_read_code_compiled_under_these(templates, tmp_path):
    environment(templates, tmp_path / "cache").get_template("page.j2")
    other = {**SETTINGS, "trim_blocks": False}
    environment(templates, tmp_path / "cache", other).get_template("page.j2")
    assert CountingEnvironment.compiled == 2
    assert len({path.name.split("_")[3] for path in (tmp_path / "cache").iterdir()}) == 2  # two fingerprints


def test_a_cache_that_cannot_be_written_or_read_only_costs_the_compiling(templates, tmp_path):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    for _ in range(2):
        assert environment(templates, not_a_folder).get_template("page.j2").render(name="b1") == "Hello b1!"
    assert CountingEnvironment.compiled == 2


def test_no_safe_folder_means_no_cache(monkeypatch):
    def refused(self):
        raise RuntimeError("Cannot determine safe temp directory.")

    monkeypatch.setattr(template_cache._CacheOrNothing, "_get_default_cache_dir", refused)
    assert bytecode_cache(SETTINGS) is None


def test_the_document_environments_share_one_cache_named_by_their_settings():
    markdown, latex = (render.template_environment(fmt) for fmt in ("markdown", "latex"))
    assert markdown.bytecode_cache is latex.bytecode_cache is not None
    assert markdown.bytecode_cache.pattern == bytecode_cache(render.ENVIRONMENT_SETTINGS).pattern
