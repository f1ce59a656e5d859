"""Regenerate the showcase documents under output/showcase/ (the golden files).

    python scripts/regenerate_golden.py

The documents are Matt Mazur's 2-2-2 example ("A Step by Step Backpropagation
Example"), rendered as Markdown in each flavor (kramdown and dollar with the picture as an SVG
file beside them) and as LaTeX, in English and Korean, and the built-in layer-stack examples
(``conv``, ``cnn``, ``rnn``,
``layernorm``) as GitHub Markdown and LaTeX in English and Markdown in Korean.
tests/test_render.py fails when the renderer's output differs from them.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWCASE = ROOT / "output" / "showcase"

MAZUR_VALUES = {
    "i1": 0.05, "i2": 0.10,
    "w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55,
    "b1": 0.35, "b2": 0.60,
    "t1": 0.01, "t2": 0.99,
}
MAZUR_TITLE = "A step by step backpropagation example"
TITLES = {"en": None, "ko": "역전파 단계별 예제"}  # None: the network's own title
LANGUAGES = ("en", "ko")
FLAVORS = ("github", "kramdown", "dollar")


def mazur():
    """Mazur's network, its derivation and its worked example (learning rate 0.5, weights updated)."""
    from symprop.engine import backprop
    from symprop.model import nn
    from symprop.numbers import worked_example as numeric

    network = nn.mlp(
        ["i1", "i2"],
        [nn.Dense(2, "sigmoid", bias="shared", names=["h1", "h2"]), nn.Dense(2, "sigmoid", bias="shared", names=["o1", "o2"])],
        "half_sse", notation="mazur", targets=["t1", "t2"], title=MAZUR_TITLE,
    )
    derivation = backprop.derive(network)
    example = numeric.worked_example(derivation, MAZUR_VALUES, learning_rate=0.5, update="weights")
    return derivation, example


#: The built-in examples of layer stacks with golden documents.
STACK_EXAMPLES = ("conv", "cnn", "rnn", "layernorm")


def stack_example(name: str):
    """A built-in layer-stack example's derivation and worked example, as ``symprop derive`` makes them."""
    from symprop.files import spec
    from symprop.outputs import pipeline

    solution = pipeline.solve(spec.load_builtin(name))
    return solution.derivation, solution.example


def stack_documents() -> dict[str, str]:
    from symprop.outputs.render import render_latex, render_markdown

    documents = {}
    for name in STACK_EXAMPLES:
        derivation, example = stack_example(name)
        documents[f"{name}.github.md"] = render_markdown(derivation, example)
        documents[f"{name}.ko.github.md"] = render_markdown(derivation, example, lang="ko")
        documents[f"{name}.tex"] = render_latex(derivation, example)
    return documents


def showcase_documents() -> dict[str, str]:
    """File name -> document text, for every language and format."""
    from symprop.outputs.render import render_latex, render_markdown, render_svg

    derivation, example = mazur()
    documents = stack_documents()
    for lang in LANGUAGES:
        suffix = "" if lang == "en" else f".{lang}"
        for flavor in FLAVORS:
            # kramdown and dollar Markdown show the picture as the SVG file beside them
            picture = None if flavor == "github" else f"mazur{suffix}.{flavor}.svg"
            documents[f"mazur{suffix}.{flavor}.md"] = render_markdown(
                derivation, example, lang=lang, flavor=flavor, title=TITLES[lang], picture_file=picture
            )
            if picture:
                documents[picture] = render_svg(derivation, example, lang=lang, title=TITLES[lang])
        documents[f"mazur{suffix}.tex"] = render_latex(derivation, example, lang=lang, title=TITLES[lang])
    return documents


def main() -> int:
    sys.path.insert(0, str(ROOT))
    SHOWCASE.mkdir(parents=True, exist_ok=True)
    for name, text in showcase_documents().items():
        (SHOWCASE / name).write_text(text, encoding="utf-8")
        print(SHOWCASE / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
