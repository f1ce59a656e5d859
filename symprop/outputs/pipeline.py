"""The jobs the command line runs, one library call each: a network file in, documents out.

``solve`` turns a loaded problem into its derivation and worked example;
``write_documents`` renders and writes the requested formats;
``json_document`` is the JSON for tools; ``gradient_text`` one parameter's
derivation for a terminal.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from symprop.document.options import document_options
from symprop.errors import SympropError
from symprop.model.nn import Network
from symprop.model.stack import LayerStack
from symprop.outputs import export


@dataclass(frozen=True)
class Solution:
    """A problem with its derivation and, when it has values, its worked example."""

    problem: object
    derivation: object
    example: object


#: Measured cost of loading, deriving, working the example and writing Markdown and
#: JSON, per parameter (784-16-10: about 23 s on 2 cores), dominated by generating the
#: straight-line code and two loss evaluations per parameter for the gradient check.
SECONDS_PER_PARAMETER = 0.002
#: The same for a dense network large enough to be worked in arrays (measured: 784-16-10 in about 1 s).
SECONDS_PER_PARAMETER_IN_ARRAYS = 0.0001
#: One training step, per parameter: the scalar program (Mazur's 10 parameters, 2,000 steps in 0.2 s)
#: and arrays (784-16-10, 200 steps in 0.2 s); N digits (mpmath) about 20 times the scalar program.
STEP_SECONDS_PER_PARAMETER = 1e-5
STEP_SECONDS_PER_PARAMETER_IN_ARRAYS = 1e-7
DIGITS_SLOWDOWN = 20
#: Exact arithmetic nests every value in the ones before it, and SymPy walks those trees as trees:
#: the cost grows about four times per node of depth (Mazur, 10 parameters 5 deep: 3 s; a 3-3-3
#: network, 24 parameters 5 deep: 8 s; 2-2-2-2, 7 deep: minutes).
EXACT_SECONDS_PER_UNIT = 3e-4
EXACT_GROWTH = 4
#: Jobs estimated to take longer are refused before they start, unless ``--max-seconds`` is raised.
MAX_SECONDS = 60


class WorkTooLarge(SympropError, ValueError):
    """A job whose estimated time is beyond the bound it was given: refused before it starts."""


@dataclass(frozen=True)
class WorkEstimate:
    """A forecast of :func:`solve`'s time, and what makes it large (for the refusal)."""

    seconds: float
    what: str
    remedy: str


def expected_seconds(problem) -> float:
    """A rough forecast of :func:`solve`'s time in float64 before training: deriving every
    gradient, the worked example and its gradient check."""
    from symprop.numbers.worked_example import VECTORISED_PARAMETERS

    count = len(problem.graph.parameters)
    in_arrays = isinstance(problem.network, Network) and count >= VECTORISED_PARAMETERS
    return count * (SECONDS_PER_PARAMETER_IN_ARRAYS if in_arrays else SECONDS_PER_PARAMETER)


def work_estimate(problem, *, steps: int | None = None, precision="float") -> WorkEstimate:
    """What :func:`solve` will cost: deriving and checking every parameter, the training
    steps, and the arithmetic (exact values grow with the network's depth)."""
    from symprop.numbers.worked_example import VECTORISED_PARAMETERS

    count = len(problem.graph.parameters)
    steps = problem.steps if steps is None else steps
    in_arrays = isinstance(problem.network, Network) and count >= VECTORISED_PARAMETERS and precision == "float"
    base = expected_seconds(problem) if in_arrays else count * SECONDS_PER_PARAMETER
    per_step = STEP_SECONDS_PER_PARAMETER_IN_ARRAYS if in_arrays else STEP_SECONDS_PER_PARAMETER
    if isinstance(precision, int):
        base, per_step = base * DIGITS_SLOWDOWN, per_step * DIGITS_SLOWDOWN
    training = steps * count * per_step
    estimate = WorkEstimate(base + training, f"{count} parameters", "a smaller network")
    if training > base:
        estimate = WorkEstimate(base + training, f"{count} parameters x {steps} training steps", "fewer --steps")
    if precision == "exact":
        depth = graph_depth(problem.graph)
        exact = count * float(EXACT_GROWTH) ** depth * EXACT_SECONDS_PER_UNIT
        estimate = WorkEstimate(estimate.seconds + exact, f"exact arithmetic on {count} parameters, {depth} nodes deep",
                                "--precision 30 (digits) or float")
    return estimate


def graph_depth(graph) -> int:
    """The longest chain of nodes from an input or parameter to the output."""
    depth: dict = {}
    for node in graph.nodes:
        depth[node] = 1 + max((depth.get(parent, 0) for parent in graph.parents[node]), default=0)
    return depth.get(graph.output, 0)


def check_work(problem, *, steps: int | None = None, precision="float", max_seconds: float = MAX_SECONDS) -> WorkEstimate:
    """The job's :class:`WorkEstimate`, refused up front (:class:`WorkTooLarge`) beyond ``max_seconds``."""
    estimate = work_estimate(problem, steps=steps, precision=precision)
    if estimate.seconds > max_seconds:
        raise WorkTooLarge(f"this job would take about {estimate.seconds:,.0f} s ({estimate.what}), more than "
                           f"--max-seconds {max_seconds:g}: use {estimate.remedy}, or raise --max-seconds")
    return estimate


def solve(problem, *, steps: int | None = None, precision="float",
          on_step: Callable[[str], None] = lambda name: None) -> Solution:
    """Derive every gradient of ``problem`` and work its example (forward pass,
    gradients, update, ``steps`` training steps, gradient check); ``on_step`` is told
    ``"derive"``, ``"numbers"`` and ``"check"`` as each phase ends."""
    from symprop.engine.backprop import derive
    from symprop.model.collection import bulk
    from symprop.numbers.worked_example import worked_example

    if steps is not None:
        problem = replace(problem, steps=steps)
    with bulk():
        derivation = derive(problem.network or problem.graph, wrt="all" if problem.input_gradients else "parameters")
        on_step("derive")
        example = worked_example(
            derivation, problem.values, learning_rate=problem.learning_rate, update=problem.update,
            steps=problem.steps, examples=list(problem.examples), reduction=problem.reduction, precision=precision,
            on_phase=on_step,
        )
    return Solution(problem, derivation, example)


def document_name(stem: str, suffix: str, lang: str = "en", flavor: str = "github") -> str:
    """``stem[-lang][-flavor]``: English and GitHub Markdown need no tag."""
    tags = [t for t, default in ((lang, "en"), (flavor if suffix == ".md" else "github", "github")) if t != default]
    return "-".join([stem, *tags])


def write_documents(
    solution: Solution,
    formats: Iterable[str],
    output_dir: Path,
    *,
    stem: str,
    fragment: bool = False,
    template_dir: Path | None = None,
    on_step: Callable[[str], None] = lambda name: None,
    **settings,
) -> list[Path]:
    """Render and write each format into ``output_dir``; returns the paths written.
    ``settings``: the document options (:mod:`symprop.document.options`).

    Everything is rendered (the PDF compiled) before the first file is
    written, and the files are written as one set (:func:`symprop.outputs.export.write_set`):
    all of them or, on a failure, none, the earlier set left as it was.
    """
    options = document_options(**settings)
    texts = render_documents(solution, formats, stem=stem, fragment=fragment, template_dir=template_dir,
                             on_step=on_step, picture_files=True, **settings)
    return export.write_set({
        # the picture of a Markdown document is named as the Markdown is
        export.output_path(output_dir, document_name(stem, ".md" if suffix == ".svg" else suffix, options.lang,
                                                     options.flavor), suffix): text
        for suffix, text in texts.items()
    })


def render_documents(
    solution: Solution,
    formats: Iterable[str],
    *,
    stem: str = "document",
    fragment: bool = False,
    template_dir: Path | None = None,
    on_step: Callable[[str], None] = lambda name: None,
    picture_files: bool = False,
    **settings,
) -> dict[str, str | bytes]:
    """Each format rendered (the PDF compiled), by suffix (``.md``, ``.tex``, ``.json``, ``.pdf``), in that
    order; ``settings``: the document options, the network's own title unless one is given.

    The kramdown and dollar Markdown show the picture as an SVG image: with ``picture_files``
    a file of its own (suffix ``.svg``, named as the Markdown is), which the Markdown refers
    to; without, inside the Markdown as a ``data:`` URL (a document written to standard output)."""
    from symprop.model.collection import bulk

    with bulk():
        return _rendered(solution, formats, stem=stem, fragment=fragment, template_dir=template_dir, on_step=on_step,
                         picture_files=picture_files, **settings)


def _rendered(solution, formats, *, stem, fragment, template_dir, on_step, picture_files,
              **settings) -> dict[str, str | bytes]:
    from symprop.document.formulas import chosen_parameters
    from symprop.outputs import render

    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in export.FORMATS]
    if unknown:
        raise export.ExportError(f"unknown format {unknown[0]!r}: expected any of {', '.join(export.FORMATS)}")
    if "pdf" in formats:
        export.require_tex()  # before any work: the one-line "install TeX" error
    options = {"title": solution.problem.title_in(settings.get("lang", "en")) or None, **settings,
               "template_dir": template_dir}
    chosen = document_options(**settings)  # refuses an unknown option or section before any work
    if isinstance(solution.derivation.network, LayerStack):
        from symprop.document.array_sections import refuse_stack_options

        refuse_stack_options(solution.derivation.network, chosen)  # an option its document cannot honour, whatever the formats
    else:
        if chosen.unrolled:  # no recurrent layer to unroll: refused, whatever the formats
            from symprop.document.array_sections import refuse_unrolled

            refuse_unrolled(solution.derivation.network, chosen)
        if chosen.only:
            chosen_parameters(solution.derivation, chosen.only)  # and an unknown parameter, whatever the formats
    lang = chosen.lang
    texts: dict[str, str | bytes] = {}
    if "md" in formats:
        texts.update(_markdown_and_picture(solution, options, document_name(stem, ".md", lang, chosen.flavor),
                                           picture_files and chosen.flavor != "github"))
        on_step("md")
    if "tex" in formats or "pdf" in formats:
        latex = render.render_latex(solution.derivation, solution.example, **options)
        if "tex" in formats:
            texts[".tex"] = (
                render.render_latex(solution.derivation, solution.example, fragment=True, **options)
                if fragment else latex
            )
        on_step("tex")
    if "json" in formats:
        import json

        document = json_document(solution, document_options(**settings))
        # A network summarised per layer has thousands of entries nobody reads by eye: no indentation.
        layout = dict(separators=(",", ":")) if document["formulas_per"] == "layer" else dict(indent=2)
        texts[".json"] = json.dumps(document, ensure_ascii=False, allow_nan=False, **layout) + "\n"
        on_step("json")
    if "html" in formats:
        texts[".html"] = render.render_html(solution.derivation, solution.example, **options)
        on_step("html")
    if "pdf" in formats:
        texts[".pdf"] = export.compile_pdf(latex, name=document_name(stem, ".pdf", lang) + ".pdf")
        on_step("pdf")
    return texts


def _markdown_and_picture(solution: Solution, options: dict, name: str, picture_file: bool) -> dict:
    """The Markdown (``.md``) and, when ``picture_file`` and there is a picture, its SVG
    (``.svg``), which the Markdown refers to by ``name.svg``."""
    from symprop.outputs import render

    picture = render.render_svg(solution.derivation, solution.example, **options) if picture_file else None
    texts = {".md": render.render_markdown(solution.derivation, solution.example,
                                           picture_file=f"{name}.svg" if picture else None, **options)}
    return {**texts, ".svg": picture} if picture else texts


#: The version of :func:`json_document`'s layout; it grows when a key changes meaning or goes.
#: 2: ``formulas`` holds per-parameter formulas only when they are asked for or the network is
#: small (``formulas_per`` says which); a large layered network's are per layer, in ``layers``;
#: a closed form too large to print is ``null``, with its size and its delta form.
JSON_SCHEMA = 2
#: How a number that is not finite (a loss that overflowed in training) is written: JSON has no such numbers.
NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def json_document(solution: Solution, options=None) -> dict:
    """The JSON for tools: the schema version, the starting values, parameters, forward
    values, loss, gradients, the update (none when no step was taken), the loss history,
    checks, the closed-form gradients (LaTeX and exact ``srepr``: per parameter, unless
    ``options`` (:class:`~symprop.document.options.DocumentOptions`) summarise a layered
    network per layer, as its documents do), the gradients by the inputs when they were
    asked for (the first example's loss) and, for layered networks, the matrix and index
    forms per layer, and for a graph with matrix parameters their gradients as nested
    lists under ``matrices``. Every number is finite: an infinite or NaN value is written as the
    string ``"Infinity"``, ``"-Infinity"`` or ``"NaN"``."""

    from symprop.printing.latex import SharedReprPrinter, SympropLatexPrinter

    derivation, example = solution.derivation, solution.example
    graph = derivation.graph
    latex, srepr = SympropLatexPrinter({"graph": graph}).doprint, SharedReprPrinter().doprint
    stepped = len(example.loss_history) > 1
    per_layer = derivation.network is not None and (options or document_options()).summarises(len(graph.parameters))
    document = {
        "schema": JSON_SCHEMA,
        "title": solution.problem.title,
        "parameters": [p.name for p in graph.parameters],
        "values": _floats_by_name(example.values),
        "forward": _floats_by_name(example.forward),
        "loss": _float(example.loss),
        "gradients": _floats_by_name(example.gradients),
        "learning_rate": _float(example.learning_rate),
        "steps": len(example.loss_history) - 1,
        "updated_parameters": [p.name for p in example.updated_parameters] if stepped else [],
        "updated": _floats_by_name(example.updated) if stepped else {},
        "loss_after": _float(example.loss_after) if stepped else None,
        "loss_history": [_float(v) for v in example.loss_history],
        "checks": {
            c.parameter.name: {"symbolic": float(c.symbolic), "numeric": float(c.numeric),
                               "relative_error": float(c.relative_error), "ok": bool(c.ok)}
            for c in example.checks
        },
        "formulas_per": "layer" if per_layer else "parameter",
        "formulas": {} if per_layer else _formulas(derivation, latex, srepr),
        "input_gradients": {
            c.parameter.name: {"value": _float(example.input_gradients[c.parameter]), "numeric": float(c.numeric),
                               "ok": bool(c.ok), **({} if per_layer else {
                                   "latex": latex(derivation[c.parameter].closed_form),
                                   "srepr": srepr(derivation[c.parameter].closed_form)})}
            for c in example.input_checks
        },
    }
    if isinstance(derivation.network, LayerStack):
        from symprop.layers.array_forms import stack_layers_json

        document["layers"] = stack_layers_json(derivation, example, latex)
    elif derivation.network is not None:
        from symprop.layers.matrix import layers_json

        document["layers"] = layers_json(derivation.network, example)
    if derivation.matrix_gradients:
        document["matrices"] = _matrices_json(derivation, example, latex)
    return finite_json(document)


def _matrices_json(derivation, example, latex) -> dict:
    """Per matrix parameter: its gradient at the example as a nested list (rows of
    entries), the entries' names in the same layout, and the matrix form (LaTeX, or null
    with the reason)."""
    matrices = {}
    for name, gradient in derivation.matrix_gradients.items():
        rows, columns = gradient.shape
        layout = [gradient.entries[i * columns:(i + 1) * columns] for i in range(rows)]
        form = gradient.matrix_form
        matrices[name] = {
            "gradient": [[_float(example.gradients[g.symbol]) for g in row] for row in layout],
            "entries": [[g.symbol.name for g in row] for row in layout],
            "matrix_form": None if form is None else latex(form),
            "matrix_form_note": gradient.matrix_form_note,
        }
    return matrices


#: Closed forms printed in the JSON up to this printed size; a deep network's double with every
#: layer (20 layers of width 4: millions of nodes), so larger ones give their delta form instead.
JSON_CLOSED_FORM_LIMIT = 20_000


def _formulas(derivation, latex, srepr) -> dict:
    """Each gradient's closed form (LaTeX and exact ``srepr``), or, when its printed tree is
    larger than JSON_CLOSED_FORM_LIMIT nodes, ``null`` for both, its size, and its delta form."""
    from symprop.document.formulas import tree_size

    sizes: dict = {}
    formulas = {}
    for g in derivation:
        size = tree_size(g.closed_form, sizes)
        if size <= JSON_CLOSED_FORM_LIMIT:
            formulas[g.symbol.name] = {"latex": latex(g.closed_form), "srepr": srepr(g.closed_form)}
        else:
            formulas[g.symbol.name] = {"latex": None, "srepr": None, "closed_form_size": size,
                                       "delta_latex": latex(g.delta_form), "delta_srepr": srepr(g.delta_form)}
    return formulas


def finite_json(value):
    """``value`` with every float that is not finite written as a string (:data:`NON_FINITE`, ``"NaN"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE.get(value, "NaN")
    if isinstance(value, dict):
        if _finite_leaves(value.values()):  # a table of numbers (thousands of them): copied without a call each
            return dict(value)
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if _finite_leaves(value):
            return list(value)
        return [finite_json(item) for item in value]
    return value


def _finite_leaves(items) -> bool:
    """Whether every item is a string, a whole number, a bool, None or a finite float (nothing to rewrite).
    A table of numbers is summed first, at C speed: a finite exact sum means finite numbers."""
    items = list(items)
    try:
        if math.isfinite(math.fsum(items)):
            return True
    except (TypeError, ValueError, OverflowError):  # not all numbers, inf - inf, or a sum too large
        pass
    return all(type(item) in _LEAVES and (type(item) is not float or math.isfinite(item)) for item in items)


_LEAVES = frozenset({str, int, bool, float, type(None)})


def _float(value) -> float:
    """A float64 of any worked-example number (exact SymPy values through their DAG)."""
    from symprop.numbers.digits import numeric_value

    return value if isinstance(value, float) else float(numeric_value(value))


def _floats_by_name(mapping) -> dict[str, float]:
    return {symbol.name: _float(value) for symbol, value in mapping.items()}


def gradient_text(solution: Solution, parameter: str, *, digits: int = 9) -> str:
    """One parameter's derivation for a terminal: its paths, factors, closed form,
    delta form and, with values, its number and update."""
    import sympy

    from symprop.printing.numbers import plain_number

    derivation, example = solution.derivation, solution.example
    gradient = derivation[parameter]
    symbol, output = gradient.symbol, derivation.output
    lines = [f"d{output}/d{symbol}"]
    if gradient.paths_listed:
        for number, path in enumerate(gradient.paths, 1):
            chain = " * ".join(f"d{f.of}/d{f.wrt}" for f in path.factors)
            values = [example.local[(f.of, f.wrt)] for f in path.factors] if example else []
            product = f" = {plain_number(math.prod(values), digits)}" if example else ""
            lines.append(f"  path {number}: {chain}{product}")
            for factor, value in itertools.zip_longest(path.factors, values):
                shown = f" = {plain_number(value, digits)}" if value is not None and not factor.derivative.is_Number else ""
                lines.append(f"    d{factor.of}/d{factor.wrt} = {sympy.sstr(factor.derivative)}{shown}")
    else:
        lines.append(f"  {gradient.path_count} paths (more than {derivation.max_paths}: not listed)")
    lines.append(f"  closed form: {sympy.sstr(gradient.closed_form)}")
    lines.append(f"  delta form:  {sympy.sstr(gradient.delta_form)}")
    if example is not None:
        lines.append(f"  value:       {plain_number(example.gradients[symbol], digits)}")
        if symbol in example.updated_parameters and len(example.loss_history) > 1:
            lines.append(
                f"  update:      {symbol}+ = {symbol} - {plain_number(example.learning_rate, digits)} * d{output}/d{symbol}"
                f" = {plain_number(example.updated[symbol], digits)}"
            )
    return "\n".join(lines)


class CodeStyleError(SympropError, ValueError):
    """A code style the problem cannot be written in (one matrix product per layer for a layer
    stack or a graph), refused in one line rather than written in another style."""


def backward_code(problem, *, style: str | None = None) -> str:
    """Python source of ``problem``'s backward pass: NumPy with one matrix product per
    layer over a batch, the loss and gradients combined by the file's ``reduction``
    (``layers``, for networks of dense layers), or one line per node reading its values from a
    mapping (``graph``); ``None``: ``layers`` for dense networks, ``graph`` for the others."""
    from symprop.codegen import graph_code, numpy_code as codegen
    from symprop.engine.backprop import derive

    dense = isinstance(problem.network, Network)
    if style == "layers" and not dense:
        kind = "a layer stack" if isinstance(problem.network, LayerStack) else "a graph"
        raise CodeStyleError(f"--style layers writes one matrix product per dense layer, and {kind} has none: "
                             "expected --style graph")
    if style in (None, "layers") and dense:
        return codegen.backward_source(problem.network, reduction=problem.reduction)
    return graph_code.graph_source(derive(problem.network or problem.graph))
