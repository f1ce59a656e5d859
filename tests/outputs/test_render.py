"""Rendered documents: math survives a real CommonMark parser in every flavor, prose
is escaped (no TeX injection), Korean has no English left, templates can be
overridden, and the showcase documents match the committed golden files."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import sympy
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from symprop.document.build import build_document
from symprop.document.i18n import ENGLISH
from symprop.engine import backprop
from symprop.files import spec
from symprop.model import nn
from symprop.model.graph import Graph
from symprop.numbers import worked_example as numeric
from symprop.outputs import pipeline, render
from symprop.outputs.user_templates import UserTemplateError
from symprop.printing.rows import math_lines

ROOT = Path(__file__).resolve().parents[2]
FLAVORS = ("github", "kramdown", "dollar")


def _load_golden_script():
    spec = importlib.util.spec_from_file_location("regenerate_golden", ROOT / "scripts" / "regenerate_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _load_golden_script()


@pytest.fixture(scope="module")
def mazur_example():
    return golden.mazur()


@pytest.fixture(scope="module")
def showcase():
    return golden.showcase_documents()


def parser(flavor: str) -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=flavor == "kramdown")


def parsed_math(markdown: str, flavor: str) -> list[str]:
    """Every math span the parser found, in document order (GitHub's fenced math too)."""
    found = []
    for token in parser(flavor).parse(markdown):
        if token.type == "math_block" or (token.type == "fence" and token.info == "math"):
            found.append(token.content.strip("\n"))  # the newlines after and before the delimiters
        for child in token.children or ():
            if child.type.startswith("math_inline"):
                found.append(child.content)
    return found


def emitted_math(markdown: str, flavor: str, display_only: bool = False) -> list[str]:
    """Every math span as the renderer wrote it, read off the source by its delimiters
    (only the display blocks with ``display_only``)."""
    display = r"^```math\n(.*?)\n```$" if flavor == "github" else r"^\$\$\n(.*?)\n\$\$$"
    inline = r"\$\$(.+?)\$\$" if flavor == "kramdown" else r"(?<!\$)\$([^$\n]+?)\$(?!\$)"
    spans = []
    pattern = re.compile(f"{display}|{inline}", re.M | re.S)
    for match in pattern.finditer(_without_mermaid(markdown)):
        if match.group(1) is not None or not display_only:
            spans.append(match.group(1) if match.group(1) is not None else match.group(2))
    return spans


def _without_mermaid(markdown: str) -> str:
    return re.sub(r"^```mermaid\n.*?\n```$", "", markdown, flags=re.M | re.S)


def text_tokens(markdown: str, flavor: str) -> list[str]:
    """The prose the parser sees: text inside paragraphs, headings and table cells."""
    texts = []
    for token in parser(flavor).parse(markdown):
        for child in token.children or ():
            if child.type == "text":
                texts.append(child.content)
    return texts


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_math_span_survives_the_parser_intact(showcase, flavor):
    markdown = showcase[f"mazur.{flavor}.md"]
    emitted = emitted_math(markdown, flavor)
    assert len(emitted) > 120
    assert parsed_math(markdown, flavor) == emitted
    leibniz = (
        r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} = \frac{\partial E_{\mathrm{total}}}{\partial \mathrm{out}_{o1}} "
        r"\frac{\partial \mathrm{out}_{o1}}{\partial \mathrm{net}_{o1}} \frac{\partial \mathrm{net}_{o1}}{\partial w_{5}}"
    )
    assert leibniz in emitted
    for text in text_tokens(markdown, flavor):
        assert "\\frac" not in text and "_{" not in text and "$" not in text, text


def leaky_relu_solution():
    """A leaky ReLU network, whose derivative prints as ``cases`` with a fraction on a row."""
    network = nn.mlp(["x1", "x2"], [nn.Dense(2, "leaky_relu"), nn.Dense(1, "sigmoid")], "half_sse")
    derivation = backprop.derive(network)
    symbols = (*network.graph.inputs, *network.graph.parameters)
    values = {s.name: 0.1 * ((5 * i) % 7 - 3) for i, s in enumerate(symbols)}
    return SimpleNamespace(derivation=derivation, example=numeric.worked_example(derivation, values, learning_rate=0.1))


@pytest.mark.parametrize("name", [*sorted(spec.builtin_examples()), "leaky_relu"])
@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_flavor_of_every_example_survives_commonmark(name, flavor, lang):
    """Each math span the writer emits is exactly what a CommonMark parser hands the math
    renderer, and no command name leaks into the text around it."""
    solution = leaky_relu_solution() if name == "leaky_relu" else pipeline.solve(spec.load_builtin(name))
    markdown = render.render_markdown(solution.derivation, solution.example, lang=lang, flavor=flavor)
    emitted = emitted_math(markdown, flavor)
    assert len(emitted) > 20
    assert parsed_math(markdown, flavor) == emitted
    for text in text_tokens(markdown, flavor):
        assert "\\frac" not in text and "frac{" not in text and "_{" not in text and "$" not in text, text
    for line in (line for span in emitted for line in span.split("\n")):
        # a line ending in an odd run of backslashes has cut a command off its name ("\\" + "frac")
        assert (len(line) - len(line.rstrip("\\"))) % 2 == 0, line


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_equation_of_the_document_reaches_the_reader(mazur_example, flavor):
    """The equations of the document model, delimited as the writer does, are exactly
    what the parser hands to the math renderer."""
    document = build_document(*mazur_example)
    parsed = parsed_math(render.render_markdown(*mazur_example, flavor=flavor), flavor)
    equations = [b.rows for b in document.blocks if b.kind == "equation"]
    assert len(equations) > 50
    for rows in equations:
        assert math_lines(rows) in parsed


@pytest.mark.parametrize("flavor", FLAVORS)
def test_math_follows_the_measured_markdown_rules(showcase, flavor):
    markdown = showcase[f"mazur.{flavor}.md"]
    for span in emitted_math(markdown, flavor):
        assert not re.search(r"[_^](?!\{)", span), span          # every sub/superscript braced
        assert "*" not in span and "\\{" not in span and "|" not in span and "\\_" not in span
    for span in emitted_math(markdown, flavor, display_only=True):
        for line in span.split("\n"):
            assert not re.match(r"[#\-+>]| {4}", line), line
    for line in markdown.split("\n"):  # a line that starts with inline math must not read as a list or quote
        assert not re.match(r"\$+(?:[#>]|[-+] )", line), line
    if flavor != "github":
        lines = markdown.split("\n")
        for i, line in enumerate(lines):
            if line == "$$" and (i == 0 or lines[i - 1] == "" or lines[i - 1].startswith("\\")):
                continue
            if line == "$$":
                assert lines[i + 1] == "", f"closing $$ at line {i} needs a blank line after it"


def test_github_uses_fenced_display_math_and_kramdown_only_double_dollars(showcase):
    assert "```math\n" in showcase["mazur.github.md"] and "\n$$\n" not in showcase["mazur.github.md"]
    kramdown = showcase["mazur.kramdown.md"]
    assert "$$w_{5}$$" in kramdown
    assert not re.search(r"(?<!\$)\$(?!\$)", kramdown.replace("$$", ""))
    assert "$w_{5}$" in showcase["mazur.dollar.md"]


def test_mazur_document_has_the_sections_and_numbers_in_order(showcase):
    markdown = showcase["mazur.github.md"]
    headings = [line for line in markdown.split("\n") if line.startswith("## ")]
    assert headings == [
        "## The network", "## Forward pass", "## Loss", "## Output-layer weights", "## Hidden-layer weights",
        "## Biases", "## Delta form", "## Matrix form", "## Gradient check", "## After the update",
    ]
    assert r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} &= (\mathrm{out}_{o1} - t_{1}) \sigma'(\mathrm{net}_{o1}) \cdot \mathrm{out}_{h1}" in markdown
    assert r"&= 0.74136507 \cdot 0.186815602 \cdot 0.593269992" in markdown
    assert 'w_{5}^{+} &= w_{5} - \\eta \\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{5}} \\\\\n&= 0.4 - 0.5 \\cdot 0.0821670406 \\\\\n&= 0.35891648' in markdown
    assert r"&= \delta_{o1} w_{5} + \delta_{o2} w_{7}" in markdown
    assert "w_{1}^{+}" in markdown and "&= 0.149780716" in markdown
    assert "This example updates the weights only: the biases keep their values." in markdown
    assert "This example does not update $b_{1}$." in markdown
    assert '  n_out_h1 -- "w5 = 0.4<br/>0.08217" --> n_out_o1' in markdown
    assert "| $w_{5}$ | $0.0821670406$ | $0.0821670406$ |" in markdown
    assert "The loss falls from $0.298371109$ to $0.291027774$." in markdown


def test_showcase_matches_the_golden_files(showcase):
    """Regenerate with: python scripts/regenerate_golden.py"""
    directory = ROOT / "output" / "showcase"
    assert sorted(p.name for p in directory.iterdir()) == sorted(showcase)
    for name, text in showcase.items():
        assert (directory / name).read_text(encoding="utf-8") == text, f"{name} differs from the renderer's output"


def test_rendering_is_deterministic(mazur_example):
    derivation, example = mazur_example
    render._last_document.clear()
    first = render.render_markdown(derivation, example) + render.render_latex(derivation, example)
    render._last_document.clear()
    derivation, example = golden.mazur()
    second = render.render_markdown(derivation, example) + render.render_latex(derivation, example)
    assert first == second


INJECTION = r"Mazur \input{/etc/passwd} ^^5c \write18{rm -rf} 100% & $x$ #1 ~ _"


def test_user_title_cannot_inject_tex(mazur_example):
    tex = render.render_latex(*mazur_example, title=INJECTION)
    assert r"\input{/etc/passwd}" not in tex and r"\write18" not in tex and "^^" not in tex
    escaped = (
        r"Mazur \textbackslash{}input\{/etc/passwd\} \textasciicircum{}\textasciicircum{}5c "
        r"\textbackslash{}write18\{rm -rf\} 100\% \& \$x\$ \#1 \textasciitilde{} \_"
    )
    assert f"\\hypersetup{{pdftitle={{{escaped}}}}}" in tex
    assert f"\\title{{{escaped}}}" in tex


def test_user_title_is_literal_markdown(mazur_example):
    markdown = render.render_markdown(*mazur_example, title="*bold* [link](x) <b> $x$ | a_b")
    assert markdown.startswith(r"# \*bold\* \[link\](x) \<b\> \$x\$ \| a\_b" + "\n")
    heading = parser("github").parse(markdown)[1]
    assert {c.type for c in heading.children} == {"text"}
    assert "".join(c.content for c in heading.children) == "*bold* [link](x) <b> $x$ | a_b"


def test_latex_document_and_fragment(mazur_example):
    full = render.render_latex(*mazur_example)
    assert full.startswith("\\documentclass")
    assert "\\usepackage{amsmath,amssymb}" in full and "\\usepackage{hyperref}" in full
    assert "\\hypersetup{pdftitle={A step by step backpropagation example}}" in full
    assert "kotex" not in full and full.rstrip().endswith("\\end{document}")
    assert "\\begin{tikzpicture}" in full
    korean = render.render_latex(*mazur_example, lang="ko")
    assert "\\usepackage{kotex}" in korean
    fragment = render.render_latex(*mazur_example, fragment=True)
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    assert "\\section*{The network}" in fragment


def english_words() -> set[str]:
    return {w.lower() for text in ENGLISH.values() for w in re.findall(r"[A-Za-z]{2,}", text)}


@pytest.mark.parametrize("flavor", FLAVORS)
def test_no_english_prose_in_a_korean_markdown_document(showcase, flavor):
    markdown = showcase[f"mazur.ko.{flavor}.md"]
    words = {w.lower() for text in text_tokens(markdown, flavor) for w in re.findall(r"[A-Za-z]{2,}", text)}
    assert words & english_words() == set()
    for term in ("순전파", "역전파", "연쇄법칙", "가중치", "편향", "활성화 함수", "손실 함수", "학습률", "경사하강법", "오차"):
        assert term in markdown, term


def test_no_english_prose_in_a_korean_latex_document(showcase):
    tex = showcase["mazur.ko.tex"]
    body = tex[tex.index("\\maketitle"):]
    body = re.sub(r"\\begin\{(tikzpicture|align\*)\}.*?\\end\{\1\}", " ", body, flags=re.S)
    body = re.sub(r"\\\[.*?\\\]|\$[^$]*\$", " ", body, flags=re.S)
    body = re.sub(r"\\[A-Za-z]+\*?(\[[^\]]*\])?", " ", body)
    words = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", body)}
    assert words & english_words() == set(), words & english_words()
    assert "연쇄법칙을 적용하면:" in tex and "편미분" in tex and "인수" not in tex


def test_symbolic_document_without_an_example(mazur_example):
    derivation, _ = mazur_example
    markdown = render.render_markdown(derivation)
    assert ENGLISH["symbolic_only"] in markdown
    assert "## Forward pass" not in markdown and "## Gradient check" not in markdown
    assert "0.5" not in markdown
    assert r"w_{5}^{+} = w_{5} - \eta \frac{\partial E_{\mathrm{total}}}{\partial w_{5}}" in markdown
    latex = render.render_latex(derivation)
    assert "\\section*{Delta form}" in latex


def test_plain_graph_groups_its_parameters_without_layers():
    x, y, z, q, f = sympy.symbols("x y z q f", real=True)
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], inputs=[x], parameters=[y, z])
    derivation = backprop.derive(graph)
    example = numeric.worked_example(derivation, {"x": -2, "y": 5, "z": -4}, learning_rate=0.1, update="all", steps=3)
    markdown = render.render_markdown(derivation, example)
    headings = [line for line in markdown.split("\n") if line.startswith("## ")]
    assert headings == ["## The computational graph", "## Forward pass", "## Output", "## Parameters", "## Delta form",
                        "## Node rules", "## Gradient check", "## After the update"]
    assert "The output falls from" in markdown and "loss" not in markdown.lower()
    assert '  n_q -- "→ 3<br/>← −4" --> n_f' in markdown
    assert "\\frac{\\partial f}{\\partial y} = \\frac{\\partial f}{\\partial q} \\frac{\\partial q}{\\partial y}" in markdown
    assert "| 3 | $-21.568762$ |" in markdown
    latex = render.render_latex(derivation, example)
    assert "\\addplot[mark=none, thick] coordinates {(0,-12) (1,-14.62) (2,-17.7712) (3,-21.5688)};" in latex


def test_large_network_is_summarised_per_layer_unless_asked():
    network = nn.mlp(8, [nn.Dense(8), nn.Dense(8)], "mse")
    derivation = backprop.derive(network)
    summary = render.render_markdown(derivation)
    assert summary.count("### The gradient with respect to") == 4
    assert "Layer 2 has 63 more parameters of the same form as $w^{(2)}_{11}$" in summary
    full = render.render_markdown(derivation, per_parameter=True)
    assert full.count("### The gradient with respect to") == 144


OWN_LOSS_SECTION = (
    '((* extends "symprop/markdown/document.md.j2" *))\n((* block section *))\n'
    '((* if section.key == "loss" *))\n## My loss\n\n((* else *))\n((( super() )))\n((* endif *))\n((* endblock *))\n'
)


def test_a_users_template_overrides_one_section(tmp_path, mazur_example):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "document.md.j2").write_text(OWN_LOSS_SECTION)
    markdown = render.render_markdown(*mazur_example, template_dir=tmp_path)
    assert "## My loss" in markdown and "## Loss" not in markdown and "## Forward pass" in markdown
    assert markdown.index("## Forward pass") < markdown.index("## My loss") < markdown.index("## Output-layer weights")


def test_a_users_block_macros_change_every_section(tmp_path, mazur_example):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "blocks.md.j2").write_text(
        '((* macro heading(b) *))\n((( "=" * b.level ))) ((( b.prose|say )))\n((* endmacro *))\n'
    )
    markdown = render.render_markdown(*mazur_example, template_dir=tmp_path)
    assert "== Forward pass" in markdown and "\n## " not in markdown and "=== The gradient with respect to" in markdown


def test_a_section_added_to_the_model_reaches_every_format(mazur_example, monkeypatch):
    """Writers iterate the document's sections: a new section needs no template change."""
    from symprop.document import build
    from symprop.document.model import Code, equation, heading, section

    original = build.build_document

    def with_extra(*args, **kwargs):
        document = original(*args, **kwargs)
        extra = section("extra", heading("check"), equation("x^{2} = 4"), Code("python", "print(1)\n"))
        return type(document)(document.title, document.lang, (*document.sections, extra))

    monkeypatch.setattr(render, "build_document", with_extra)
    render._last_document.clear()
    markdown, latex = render.render_markdown(*mazur_example), render.render_latex(*mazur_example)
    render._last_document.clear()
    assert markdown.rstrip().endswith("## Gradient check\n\n```math\nx^{2} = 4\n```\n\n```python\nprint(1)\n```")
    assert latex.rstrip().endswith(
        "\\section*{Gradient check}\n\\[\nx^{2} = 4\n\\]\n\\begin{verbatim}\nprint(1)\n\\end{verbatim}\n\n"
        "\\end{document}")


def test_strict_undefined_and_tex_safe_delimiters(tmp_path, mazur_example):
    (tmp_path / "latex").mkdir()
    (tmp_path / "latex" / "document.tex.j2").write_text("\\newcommand{\\x}[1]{{#1}} a^{{2}} ((( no_such_field )))")
    with pytest.raises(UserTemplateError, match="^template latex/document.tex.j2, line 1: 'no_such_field' is undefined$"):
        render.render_latex(*mazur_example, template_dir=tmp_path)
    (tmp_path / "latex" / "document.tex.j2").write_text("\\newcommand{\\x}[1]{{#1}} a^{{2}} ((( document.lang )))")
    assert render.render_latex(*mazur_example, template_dir=tmp_path) == "\\newcommand{\\x}[1]{{#1}} a^{{2}} en\n"


def test_escaping_filters():
    assert render.markdown_escape("a*b_c [x](y) <b> $5 | ~ &amp;") == r"a\*b\_c \[x\](y) \<b\> \$5 \| \~ \&amp;"
    assert render.markdown_escape("# not a heading") == r"\# not a heading"
    assert render.fill("{x} and {y}", escape=render.latex_escape, x="$a_1$", y="100%") == "$a_1$ and 100%"
    assert render.fill("50% of {x}", escape=render.latex_escape, x="$w$") == r"50\% of $w$"


def test_unknown_flavor_and_language_are_errors(mazur_example):
    with pytest.raises(ValueError, match="flavor"):
        render.render_markdown(*mazur_example, flavor="rst")
    with pytest.raises(ValueError, match="language"):
        render.render_markdown(*mazur_example, lang="fr")


def compiled_text(tmp_path, name: str, tex: str) -> str:
    """Build ``tex`` with latexmk as the PDF export does; the PDF's text."""
    (tmp_path / name).write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    pdf = tmp_path / name.replace(".tex", ".pdf")
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("name, heading", [("mazur.tex", "Gradient check"), ("mazur.ko.tex", "기울기 검증")])
def test_showcase_latex_compiles(tmp_path, showcase, name, heading):
    assert heading in compiled_text(tmp_path, name, showcase[name])


def test_graph_document_with_training_plot_compiles(tmp_path):
    x, y, z, q, f = sympy.symbols("x y z q f", real=True)
    graph = Graph.from_pairs([(q, x + y), (f, q * z)], inputs=[x], parameters=[y, z])
    derivation = backprop.derive(graph)
    example = numeric.worked_example(derivation, {"x": -2, "y": 5, "z": -4}, learning_rate=0.1, update="all", steps=3)
    text = compiled_text(tmp_path, "graph.tex", render.render_latex(derivation, example, title="q = x + y, f = q z"))
    assert "Training" in text and "The output over 3 steps of gradient descent" in text


def test_tikz_picture_of_the_network(showcase):
    """The TikZ is drawn from the layout's own coordinates, each text where the layout placed it."""
    from tests.pictures import layout

    tex = showcase["mazur.tex"]
    drawn = layout("mazur")
    h1 = next(n for n in drawn["nodes"] if n["name"] == "out_h1")
    w5 = next(e for e in drawn["edges"] if e["param"] == "w5")
    for line in (
        f"\\filldraw[fill=white] ({h1['x']},{h1['y']}) circle[radius={h1['hw']}];",
        f"\\node[font=\\footnotesize] at ({h1['x']},{h1['y']}) {{$\\mathrm{{out}}_{{h1}}$}};",
        f"\\node[fill=white, inner sep=1pt, align=center] at ({w5['box']['x']},{w5['box']['y']}) "
        "{\\textcolor{black}{$w_{5} = 0.4$}\\\\[1.5pt]\\textcolor{red!70!black}{$0.08217$}};",
        f"\\draw[->, black!65] ({w5['x1']},{w5['y1']}) -- ({w5['x2']},{w5['y2']});",
    ):
        assert line + "\n" in tex, line
    assert "weight or value" in tex and "gradient of $E_{\\mathrm{total}}$" in tex


def test_matrix_form_is_labelled_and_proven(showcase):
    markdown = showcase["mazur.github.md"]
    section = markdown[markdown.index("## Matrix form"):markdown.index("## Gradient check")]
    assert (r"\delta^{(2)} &= \nabla_{a^{(2)}} E_{\mathrm{total}} \odot \sigma'(z^{(2)}) && \text{(BP1)}"
            in section)
    assert r"\delta^{(1)} &= ((W^{(2)})^{T} \delta^{(2)}) \odot" in section
    assert section.count(r"\text{(BP4)}") == 4 and section.count(r"\text{(BP3)}") == 2
    assert ENGLISH["matrix_verified"] in section


def test_matrix_form_that_does_not_hold_stops_the_document(monkeypatch):
    from symprop.layers import matrix
    from symprop.files import spec
    from symprop.outputs.pipeline import solve

    solution = solve(spec.load_builtin("mazur"))

    def refuted(network, derivation):
        raise matrix.MatrixFormError("layer 1: entry differs")

    monkeypatch.setattr(matrix, "verify_matrix_form", refuted)
    with pytest.raises(matrix.MatrixFormError):
        render.render_markdown(solution.derivation, solution.example)


def test_dlfs_documents_show_the_layer_view():
    from symprop.files import spec
    from symprop.outputs.pipeline import solve

    solution = solve(spec.load_builtin("softmax", notation="dlfs"))
    markdown = render.render_markdown(solution.derivation, solution.example)
    section = markdown[markdown.index("## Layers, forward and backward"):]
    assert "Affine layer 1, forward:" in section and "Softmax-with-Loss layer 2, forward:" in section
    assert r"\frac{\partial L}{\partial W^{(1)}} &= X^{T} \frac{\partial L}{\partial Y}" in section
    assert "## Layers, forward and backward" not in render.render_markdown(solve(spec.load_builtin("mazur")).derivation)


def test_graph_documents_show_the_node_rules():
    from symprop.files import spec
    from symprop.outputs.pipeline import solve

    solution = solve(spec.load_builtin("graph"))
    markdown = render.render_markdown(solution.derivation, solution.example)
    assert "$q$ is an add node (a sum): the gradient reaches $x$ unchanged" in markdown
    assert "$f$ is a multiply node (a product): the gradient reaching $q$ is the upstream gradient times the other input, $z$." in markdown


@pytest.mark.parametrize("render_name", ["render_markdown", "render_latex"])
def test_renderers_refuse_what_is_not_a_derivation_in_one_line(render_name):
    from symprop.errors import WrongArgument

    render_function = getattr(render, render_name)
    with pytest.raises(WrongArgument) as raised:
        render_function(None)
    assert str(raised.value) == f"{render_name} expects a Derivation, got None: make one with symprop.derive(network)"
    derivation = backprop.derive(nn.mlp(1, [nn.Dense(1)]))
    with pytest.raises(TypeError) as raised:
        render_function(derivation, {"x": 1})
    assert str(raised.value) == (f"{render_name} expects a WorkedExample or None as its example, got a dict: make one "
                                 "with symprop.worked_example(derivation, values)")


@pytest.mark.parametrize("render_name", ["render_markdown", "render_latex", "render_html"])
def test_every_writer_takes_only_and_sections(mazur_solution, render_name):
    writer = getattr(render, render_name)
    text = writer(mazur_solution.derivation, mazur_solution.example, only=["w5"], sections="+node-rules")
    full = writer(mazur_solution.derivation, mazur_solution.example)
    assert "w_{5}" in text and len(text) < len(full)
    assert ("Node rules" in text) and ("Node rules" not in full)
    assert "Matrix form" in full and "Matrix form" not in text


# --- escaping, one-node graphs, what pdflatex cannot set ---------------------------

def _one_node(name="x"):
    Symbol = sympy.Symbol
    x, f = Symbol(name, real=True), Symbol("f", real=True)
    return backprop.derive(Graph.from_pairs([(f, 3 * x)], parameters=[x]))


def test_a_one_node_graph_has_no_empty_display(tmp_path):
    derivation = _one_node()
    tex = render.render_latex(derivation)
    assert not re.search(r"\\begin\{align\*\}\s*\\end\{align\*\}", tex) and "\\[\n\n\\]" not in tex
    for flavor in ("github", "kramdown", "dollar"):
        markdown = render.render_markdown(derivation, flavor=flavor)
        assert "```math\n\n```" not in markdown and "$$\n\n$$" not in markdown
    from symprop.outputs import export

    assert export.build_pdf(tex, tmp_path / "one.pdf").read_bytes().startswith(b"%PDF")


def test_hangul_anywhere_loads_kotex_and_angles_are_defined_only_when_used():
    plain = render.render_latex(_one_node())
    assert "kotex" not in plain and "providecommand{\\lt}" not in plain
    assert "\\usepackage{kotex}" in render.render_latex(_one_node(), title="역전파")
    assert "\\usepackage{kotex}" in render.render_latex(_one_node("가중치"))
    assert "\\providecommand{\\lt}{<}" in render.render_latex(_one_node("<x>"))


@pytest.mark.parametrize("title, code", [("שלום", "U+05E9"), ("a\u200bb", "U+200B"), ("🙂", "U+1F642")])
def test_a_title_pdflatex_cannot_set_is_refused_in_one_line(title, code):
    with pytest.raises(render.TypesettingError) as raised:
        render.render_latex(_one_node(), title=title)
    assert str(raised.value).startswith(f"the title has {code} (") and "\n" not in str(raised.value)
    assert render.render_markdown(_one_node(), title=title).startswith("# ")


def test_markdown_prose_neutralises_kramdown_braces_and_code_cannot_close_its_fence():
    assert render.markdown_escape("{::nomarkdown}<b>{:/}") == r"\{::nomarkdown\}\<b\>\{:/\}"
    assert render.fence("a ```` b") == "`````" and render.fence("plain") == "```"


def test_a_literal_table_cell_is_escaped_like_prose():
    from symprop.document.model import Table, Prose, Section, Document

    document = Document("t", "en", (Section("check", (Table((Prose("col_node"),), "l", (("<b>*x*</b>",),)),)),))
    assert r"\<b\>\*x\*\</b\>" in render.write_markdown(document)
    assert r"\textless{}b\textgreater{}" in render.write_latex(document, fragment=True)


#: What no built-in document may hold (issue "publishable documents"): multi-letter names in
#: italic, sized parentheses after a function's name, staggered subscripts, a difference
#: written negative term first, a double negative exponent, a negative zero.
FORBIDDEN = ("net" + "_{", "out" + "_{", "E_{" + "total}", "\\sigma\\left(", "}}_{", "-t_{1} + ", "e^{-(-", "= -0 ")


@pytest.mark.parametrize("name", sorted(spec.builtin_examples()))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_no_built_in_document_sets_what_a_careful_author_would_not(name, lang):
    solution = pipeline.solve(spec.load_builtin(name))
    documents = {f"md-{flavor}": render.render_markdown(solution.derivation, solution.example, lang=lang, flavor=flavor)
                 for flavor in FLAVORS}
    documents["tex"] = render.render_latex(solution.derivation, solution.example, lang=lang)
    documents["html"] = render.render_html(solution.derivation, solution.example, lang=lang)
    for kind, text in documents.items():
        for pattern in FORBIDDEN:
            assert pattern not in text, f"{name} {lang} {kind}: {pattern!r}"
        assert r"\qquad \text{(BP" not in text
    assert r"\mathrm{net}_{" in documents["tex"] or name != "mazur"


def test_the_latex_document_sets_its_paper_and_keeps_short_displays_with_their_lead_in(mazur_example):
    english, korean = (render.render_latex(*mazur_example, lang=lang) for lang in ("en", "ko"))
    assert r"\usepackage[letterpaper, margin=1.5cm]{geometry}" in english
    assert r"\usepackage[a4paper, margin=1.5cm]{geometry}" in korean
    assert r"\usepackage[a4paper, margin=1.5cm]{geometry}" in render.render_latex(*mazur_example, paper="a4")
    assert "\n\n\\[" not in english and "\n\n\\begin{align*}" not in english and "\\end{align*}\n\n" not in english
    assert "Each factor:\n\\[\n" in english
    assert "\\allowdisplaybreaks\n" not in english.split("\\begin{document}")[0]  # no page breaks inside short blocks
    assert "\\begingroup\\allowdisplaybreaks\n\\begin{align*}" in english  # long ones may break


def test_the_latex_cases_keep_their_columns():
    solution = pipeline.solve(spec.load_builtin("softmax"))
    tex = render.render_latex(solution.derivation, solution.example)
    cases = [line for line in tex.split("\n") if "\\begin{cases}" in line and "otherwise" in line]
    assert cases and all("& \\text{otherwise}" in line and "& \\text{for}" in line for line in cases)


def test_the_readme_says_what_plain_commonmark_does_to_the_dollar_flavor(showcase):
    """Without a math extension (Hugo without passthrough) a row break ``\\\\`` arrives as one
    backslash and ``_`` pairs become emphasis: the README's figures, measured here."""
    markdown = showcase["mazur.dollar.md"]
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", markdown, re.M | re.S)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    broken = sum(1 for body in blocks if "\\\\" in body)
    assert "\\\\" not in html  # every row break is lost
    emphasis = html.count("<em>") + html.count("<strong>")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{broken} of the {len(blocks)} display blocks of Mazur's document" in readme
    assert f"{emphasis} emphasis tags" in readme
    assert "[markup.goldmark.extensions.passthrough]" in readme


def test_a_deep_networks_picture_by_layer_is_in_every_format():
    """Six hidden layers of four units (:data:`tests.spec_pictures.DEEP`): its layers wrapped into
    rows in Mermaid (github), an SVG image (kramdown, dollar), TikZ and the HTML page."""
    from tests.pictures import solved_file
    from tests.spec_pictures import DEEP

    s = solved_file(DEEP["4x6"])
    github = render.render_markdown(s.derivation, s.example)
    assert "```mermaid" in github and '["dense 4, sigmoid (6)"]' in github
    for flavor in ("kramdown", "dollar"):
        markdown = render.render_markdown(s.derivation, s.example, flavor=flavor)
        assert "data:image/svg+xml;base64," in markdown and "```mermaid" not in markdown
    svg = render.render_svg(s.derivation, s.example)
    assert svg.count(">dense 4, sigmoid (") == 6
    latex = render.render_latex(s.derivation, s.example)
    assert r"\begin{tikzpicture}" in latex and latex.count(r"\text{dense 4, sigmoid (") == 6
    page = render.render_html(s.derivation, s.example)
    assert 'data-kind="layers"' in page and 'data-node="dense 4, sigmoid (6)"' in page


def test_fill_escapes_one_sentence_for_each_format_and_fills_each_use_with_its_own_math():
    sentence = "the gradient of {p} is {value} (50% & more_)"
    markdown = render.fill(sentence, p="$w_{5}$", value="$0.08$")
    latex = render.fill(sentence, escape=render.latex_escape, p="$w_{5}$", value="$0.08$")
    again = render.fill(sentence, p="$w_{6}$", value="$-0.01$")
    assert markdown == r"the gradient of $w_{5}$ is $0.08$ (50% \& more\_)"
    assert latex == r"the gradient of $w_{5}$ is $0.08$ (50\% \& more\_)"
    assert again == r"the gradient of $w_{6}$ is $-0.01$ (50% \& more\_)"
