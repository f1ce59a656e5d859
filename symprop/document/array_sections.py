r"""The document of a layer stack (:class:`~symprop.model.stack.LayerStack`), summarised by layer and
by shared weight: the layers and their picture, the forward pass as index formulas with the
numbers as arrays, then per layer from the output back: the gradient arriving, the activation
step, the index forms of ``dW``, ``db`` and ``dX`` (proven equal to the engine's gradient of
every entry by :func:`symprop.layers.array_forms.prove`), one derivation per kind of entry (the
engine's chain rule for the first entry of each parameter array), the gradients as arrays; the
finite-difference check and the update.

A layer type's backward section is its index forms (:data:`symprop.layers.backward_forms.FORMS`)
and the sentences named by their ``words`` (:mod:`symprop.document.layer_prose`); nothing here
depends on the kind beyond flatten's one sentence.
"""
from __future__ import annotations

import numpy

from symprop.document.i18n import prose, wording
from symprop.document.layer_diagram import layer_diagram, shape_text
from symprop.document.model import Document, Figure, Math, Prose, Table, equation, heading, paragraph, section
from symprop.document.options import paper_of, section_shown
from symprop.document.recurrent_picture import is_recurrent, unrolled_problem
from symprop.document.results import training
from symprop.errors import SympropError
from symprop.layers.array_forms import index_forms, prove, upstream_array
from symprop.layers.backward_forms import prove_form, prove_forward
from symprop.layers.type_forms import backward_form
from symprop.model.graph import adjoint_symbol
from symprop.model.layer_types import array_tex, entry_tex
from symprop.printing.latex import SympropLatexPrinter, updated
from symprop.printing.numbers import latex_number
from symprop.printing.rows import break_long_row

#: Matrices shown per array; a larger array's first ones are shown, then a row of dots.
MAX_BLOCKS = 8
#: Layer kind -> blocks its backward section adds after the index forms and the one derivation per
#: kind of entry, ``blocks(document, layer)`` (a :class:`StackDocument` and the built layer): what a
#: layer type explains beyond its forms (the sum over time of a recurrent layer, say).
EXTRA_BLOCKS: dict = {}


class StackDocument:
    """The sections of a stack's document, built from its derivation and worked example."""

    def __init__(self, derivation, example, options):
        self.derivation, self.example, self.options = derivation, example, options
        self.stack, self.graph = derivation.network, derivation.graph
        self.tex = SympropLatexPrinter({"graph": self.graph}).doprint
        self.digits = options.digits

    # ------------------------------------------------------------ arrays as LaTeX

    def base(self, array: numpy.ndarray) -> str:
        """An array's own LaTeX: its first entry's, without the index (``W^{(1)}``, ``W_{x}^{(1)}``)."""
        return array_tex(self.graph.latex_name(array.flat[0]))

    def number(self, value) -> str:
        return latex_number(value, self.digits)

    def matrix(self, values: numpy.ndarray) -> str:
        rows = values.reshape(1, -1) if values.ndim == 1 else values
        body = r" \\ ".join(" & ".join(self.number(v) for v in row) for row in rows)
        return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"

    def array_rows(self, name: str, values: numpy.ndarray) -> list[str]:
        """``name = [...]`` for a vector or matrix; ``name_{i,j,:,:} = [...]`` per matrix of a larger array."""
        if values.ndim <= 2:
            return [f"{name} &= {self.matrix(values)}"]
        blocks = list(numpy.ndindex(values.shape[:-2]))
        # a subscript goes under the name's superscript (W^{(1)}_{0,0,:,:}, W^{(1)}_{x;0,:,:}); a
        # fraction is set in parentheses first
        group = rf"\left({name}\right)" if name.startswith(r"\frac") else name
        rows = [f"{entry_tex(group, (*i, ':', ':'))} &= {self.matrix(values[i])}" for i in blocks[:MAX_BLOCKS]]
        return rows + ([r"&\ \vdots"] if len(blocks) > MAX_BLOCKS else [])

    def values_of(self, array: numpy.ndarray, lookup) -> numpy.ndarray | None:
        values = numpy.empty(array.shape, dtype=object)
        for index in numpy.ndindex(array.shape):
            value = lookup(array[index])
            if value is None:
                return None
            values[index] = value
        return values

    def value(self, symbol):
        e = self.example
        return None if e is None else e.values.get(symbol, e.forward.get(symbol))

    def adjoint(self, symbol):
        e = self.example
        if e is None:
            return None
        return e.adjoints.get(symbol, e.gradients.get(symbol, e.input_gradients.get(symbol)))

    # ------------------------------------------------------------ sections

    def picture(self) -> list:
        """The layers as a picture: rolled up (a recurrent cell with its loop), or unrolled over the steps."""
        stack, options = self.stack, self.options
        key = "stack_picture_unrolled" if options.unrolled else (
            "stack_picture_rolled" if any(map(is_recurrent, stack.layers)) else "stack_picture")
        return [paragraph(key), Figure(layer_diagram(stack, options.lang, options.unrolled))]

    def network_section(self):
        stack, rows = self.stack, []
        for layer in stack.layers:
            settings = settings_text(layer.settings)
            parameters = ", ".join(f"{name}: {shape_text(array.shape)}" for name, array in layer.parameters.items())
            rows.append((str(layer.index), layer.kind, settings, shape_text(layer.input_shape),
                         shape_text(layer.output_shape), parameters))
        header = tuple(Prose(k) for k in ("col_layer", "col_type", "col_settings", "col_shape_in", "col_shape_out",
                                          "col_parameters"))
        blocks = [heading("network"), paragraph("stack_intro"), paragraph("stack_layers"),
                  Table(header, "rlllll", tuple(rows)), *self.picture()]
        if self.example is not None:
            arrays = [stack.input, *(a for layer in stack.layers for a in layer.parameters.values())]
            arrays += [stack.target] if stack.target.size else []
            given = [r for a in arrays for r in self.array_rows(self.base(a), self.values_of(a, self.value))]
            blocks += [paragraph("stack_values"), aligned(given)]
            if self.example.examples > 1:
                blocks.append(paragraph("stack_examples", count=str(self.example.examples)))
            blocks.append(paragraph("learning_rate_given", eta=Math(self.number(self.example.learning_rate))))
        return section("network", *blocks)

    def forward_section(self):
        blocks = [heading("stack_forward")]
        for layer in self.stack.layers:
            if layer.kind == "flatten":
                blocks.append(paragraph("stack_flatten", layer=str(layer.index)))
                continue
            steps = backward_form(layer)
            if steps is not None and steps.forward:  # a recurrence: its equations at step t, not at step 0
                prove_forward(steps, self.graph, layer)
                blocks += [paragraph("stack_forward_steps", layer=str(layer.index), kind=layer.kind,
                                     start=Math("h_{-1}")), aligned(steps.forward_rows())]
            else:
                blocks.append(paragraph("stack_forward_layer", layer=str(layer.index), kind=layer.kind))
                firsts = [next(eq for eq in layer.equations if eq[0] is array.flat[0]) for array in layer.nodes.values()]
                blocks.append(aligned([piece for node, expr in firsts
                                       for piece in break_long_row(f"{self.tex(node)} &= {self.tex(expr)}")]))
            values = self.values_of(layer.outputs, self.value)
            if values is not None:
                blocks += [paragraph("stack_values_out"), aligned(self.array_rows(self.base(layer.outputs), values))]
        loss = self.graph.definition[self.graph.output]
        blocks.append(paragraph("loss_intro"))
        blocks.append(aligned(break_long_row(f"{self.tex(self.graph.output)} &= {self.tex(loss)}")))
        if self.example is not None:
            blocks.append(paragraph("stack_loss", value=Math(self.number(self.example.loss))))
        return section("forward", *blocks)

    def backward_sections(self):
        """Each layer's backward section from the output back; with ``only``, the layers holding a
        chosen parameter array only (the gradient arriving at each is shown in its section)."""
        return [self.layer_backward(layer) for layer in reversed(self.stack.layers)
                if layer.kind != "flatten" and self.shown_arrays(layer)]

    def shown_arrays(self, layer) -> dict:
        """The layer's parameter arrays by name, those named by ``only`` when it is given; a layer
        without parameters (pooling) is shown unless ``only`` is given."""
        only = self.options.only
        if not only:
            return dict(layer.parameters) or {"": None}
        return {name: array for name, array in layer.parameters.items() if name in only}

    def layer_backward(self, layer):
        blocks = [heading("stack_backward", 2, layer=str(layer.index), kind=layer.kind)]
        outputs = layer.outputs
        blocks += self.upstream(layer, outputs)
        proven = 0
        forms = index_forms(layer)
        if forms:
            seen = layer.pre_activations if layer.pre_activations is not None else outputs
            upstream = Math(rf"\frac{{\partial L}}{{\partial {self.base(seen)}}}")
            blocks.append(paragraph("stack_delta", delta=Math(r"\delta"), upstream=upstream,
                                    x=Math(self.base(layer.inputs))))
        for form in forms:
            proven += prove(self.derivation, form, layer=layer)
            blocks += [paragraph(form.words), aligned(form.tex)]
        backward = backward_form(layer)
        if backward is not None:
            proven += prove_form(backward, self.derivation, layer)
            blocks += [paragraph(f"{layer.kind}_backward", upstream=Math("e_{t}")), aligned(backward.aligned_rows())]
        blocks += self.one_entry_per_kind(layer)
        extra = EXTRA_BLOCKS.get(layer.kind)
        blocks += extra(self, layer) if extra is not None else []
        gradients = self.gradient_rows(layer)
        if gradients:
            blocks += [paragraph("stack_numbers"), aligned(gradients)]
        blocks.append(paragraph("stack_proven", count=str(proven)))
        return section("stack_layer", *blocks)

    def parameter_arrays(self, layer) -> list:
        return [array for array in self.shown_arrays(layer).values() if array is not None]

    def upstream(self, layer, outputs) -> list:
        blocks = []
        values = self.values_of(outputs, self.adjoint)
        name = rf"\frac{{\partial L}}{{\partial {self.base(outputs)}}}"
        if values is not None:
            blocks += [paragraph("stack_upstream", delta=Math(name)), aligned(self.array_rows(name, values))]
        z = layer.pre_activations
        if z is not None and z is not outputs:
            dz = rf"\frac{{\partial L}}{{\partial {self.base(z)}}}"
            first = adjoint_symbol(z.flat[0])
            blocks += [paragraph("stack_activation", delta=Math(dz), upstream=Math(name)),
                       aligned(f"{self.tex(first)} &= {self.tex(self.derivation.adjoints[z.flat[0]].definition)}")]
            values = self.values_of(z, self.adjoint)
            if values is not None:
                blocks.append(aligned(self.array_rows(dz, values)))
        return blocks

    def one_entry_per_kind(self, layer) -> list:
        blocks = []
        for array in self.parameter_arrays(layer):
            entry = array.flat[0]
            gradient = self.derivation.gradients[entry]
            row = rf"\frac{{\partial L}}{{\partial {self.tex(entry)}}} &= {self.tex(gradient.delta_form)}"
            value = self.example.gradients[entry] if self.example is not None else None
            one_example = value is not None and self.example.examples == 1  # else the gradient is combined
            rows = break_long_row(row) + ([f"&= {self.number(value)}"] if one_example else [])
            blocks += [paragraph("stack_one_entry", entry=Math(self.tex(entry))), aligned(rows)]
        return blocks

    def gradient_rows(self, layer) -> list[str]:
        rows = []
        for array in self.parameter_arrays(layer):
            values = self.values_of(array, self.adjoint)
            if values is not None:
                rows += self.array_rows(rf"\frac{{\partial L}}{{\partial {self.base(array)}}}", values)
        values = self.values_of(layer.inputs, self.adjoint) if self.example is not None else None
        if values is not None:
            rows += self.array_rows(rf"\frac{{\partial L}}{{\partial {self.base(layer.inputs)}}}", values)
        return rows

    def check_section(self):
        if self.example is None:
            return None
        checks = self.example.checks
        failed = [c for c in checks if not c.ok]
        if failed:
            return section("check", heading("stack_check"),
                           paragraph("stack_check_failed", failed=str(len(failed)), count=str(len(checks))))
        error = max((c.relative_error for c in checks), default=0.0)
        return section("check", heading("stack_check"),
                       paragraph("stack_check_result", count=str(len(checks)), error=Math(latex_number(error, 2))))

    def after_section(self):
        e = self.example
        if e is None or not e.updated_parameters:
            return None
        rows = []
        for layer in self.stack.layers:
            for array in layer.parameters.values():
                values = self.values_of(array, lambda s: e.updated.get(s))
                rows += self.array_rows(updated(self.base(array)), values) if values is not None else []
        kept = set(self.stack.biases) - set(e.updated_parameters)
        return section("after_update", heading("stack_after"),
                       paragraph("stack_after_values", eta=Math(self.number(e.learning_rate))), aligned(rows),
                       paragraph("biases_not_updated") if kept else None,
                       paragraph("stack_after_loss", before=Math(self.number(e.loss)),
                                 after=Math(self.number(e.loss_after))),
                       *training(self, list(e.loss_history)))  # the loss at each step, when there were several

    def cell(self, value, digits: int | None = None) -> Math:
        """A number for a table cell (the training trace's), as :meth:`Formulas.cell` does."""
        return Math(latex_number(value, self.digits if digits is None else digits))

    def wording(self, key: str) -> str:
        """The sentence ``key`` of a network's output, which is a loss."""
        return wording(key, False)


def settings_text(settings) -> str:
    """``filters 1, kernel 2×2, stride 1, padding 0, relu``: a pair of equal numbers said once, the
    activation by its name, a bias by the parameters column."""
    parts = []
    for key, value in settings.items():
        if key == "activation":
            parts.append(str(value))
        elif isinstance(value, list):
            parts.append(f"{key} {value[0] if len(set(value)) == 1 else shape_text(value)}")
        elif key != "bias":
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def aligned(rows):
    """An :class:`Equation` of ``rows``; a single row without its alignment mark."""
    rows = [rows] if isinstance(rows, str) else list(rows)
    return equation(rows if len(rows) > 1 else [rows[0].replace("&=", "=", 1)])


#: The sections of a stack's document that ``sections`` switches on and off; the per-layer backward
#: sections are the document itself and always shown.
STACK_SECTIONS = ("network", "forward", "check", "after-update")


class StackOptionError(SympropError, ValueError):
    """A document option that a layer stack's document cannot honour, refused in one line
    rather than ignored."""


def refuse_stack_options(stack, options) -> None:
    """A :class:`StackOptionError` for each option a stack's document would otherwise ignore:
    ``only`` naming anything but its parameter arrays (``W1``, ``b1``), ``per_parameter`` (it is
    written by layer and by kind of entry, never per parameter) and a section switch naming a
    section it does not have (:data:`STACK_SECTIONS`)."""
    arrays = [name for layer in stack.layers for name in layer.parameters]
    unknown = [name for name in options.only if name not in arrays]
    if unknown:
        raise StackOptionError(f"unknown parameter array {unknown[0]!r} in only: a layer stack's document is "
                               f"written by parameter array: expected any of {', '.join(arrays)}")
    if options.per_parameter:
        raise StackOptionError("per_parameter: a layer stack's document is written by layer and by kind of entry; "
                               "expected per_parameter off (the JSON's layers[i].arrays hold every entry)")
    refuse_unrolled(stack, options)
    other = [switch for switch in options.sections if switch[1:] not in STACK_SECTIONS]
    if other:
        raise StackOptionError(f"section {other[0][1:]!r} is not in a layer stack's document: expected one of "
                               f"{', '.join(STACK_SECTIONS)}")


def refuse_unrolled(network, options) -> None:
    """A :class:`StackOptionError` when ``unrolled`` is asked of a network whose picture cannot be
    unrolled: any network without a recurrent layer, or one with a layer that does not work step by step."""
    problem = unrolled_problem(network) if options.unrolled else None
    if problem:
        raise StackOptionError(f"unrolled: {problem}; expected unrolled off")


def build_stack_document(derivation, example, options) -> Document:
    """The whole document of a stack's derivation (and of its worked example, when given), with the
    sections :data:`STACK_SECTIONS` shown as ``options.sections`` switch them."""
    refuse_stack_options(derivation.network, options)
    doc = StackDocument(derivation, example, options)
    sections = [section("intro", paragraph("symbolic_only") if example is None else None),
                doc.network_section(), doc.forward_section(), *doc.backward_sections(), doc.check_section(),
                doc.after_section()]
    shown = [s for s in sections if s is not None and s.blocks and stack_section_shown(options, s.key)]
    title = options.title or derivation.network.title or prose(options.lang)["default_title"]
    return Document(title, options.lang, tuple(shown), paper=paper_of(options))


def stack_section_shown(options, key: str) -> bool:
    """Whether the built section ``key`` is switched on (those outside :data:`STACK_SECTIONS` always are)."""
    name = key.replace("_", "-")
    return name not in STACK_SECTIONS or section_shown(options, name, notation=None, graph=False)
