r"""A matrix parameter's gradient in a document: one matrix equation.

``dL/dW`` is shown as the matrix form SymPy's matrix calculus gives, once the engine has
proven it against the entries (``2 (W x + b - y) x^{T}``), or else as the Matrix of the
entries' closed forms; with a worked example, followed by the Matrix of its numbers.
Each entry's own derivation follows only when the document asks for it
(``matrix_entries=True``).
"""
from __future__ import annotations

from symprop.document.formulas import Formulas
from symprop.document.model import Heading, Math, Prose, equation, paragraph


def matrix_parameter_blocks(f: Formulas, gradient) -> list:
    """The heading, a sentence saying where the form comes from, and the one equation."""
    matrix = Math(f.tex(gradient.matrix))
    form = gradient.matrix_form
    blocks = [Heading(Prose("gradient_of", {"parameter": matrix}), 3, key=gradient.name)]
    if form is not None:
        blocks.append(paragraph("matrix_gradient_form", parameter=matrix, entry=Math(f.tex(gradient.entries[0].symbol))))
        shown = f.tex(form)
    else:
        blocks.append(paragraph("matrix_gradient_entrywise", parameter=matrix))
        shown = f.tex(gradient.closed_form)
    lhs = rf"\frac{{\partial {f.tex(f.output)}}}{{\partial {f.tex(gradient.matrix)}}}"
    numbers = numbers_matrix(f, gradient)
    # Rows are not broken: a break inside a matrix would split a row of its entries.
    blocks.append(equation([f"{lhs} &= {shown}", f"&= {numbers}"] if numbers else [f"{lhs} = {shown}"]))
    if not f.options.matrix_entries:
        blocks.append(paragraph("matrix_entries_hidden", parameter=matrix))
    return blocks


def numbers_matrix(f: Formulas, gradient) -> str | None:
    """The worked example's gradient of every entry, as a matrix of numbers (None without one)."""
    if f.example is None:
        return None
    rows, columns = gradient.shape
    values = [f.num(f.example.gradients[g.symbol]) for g in gradient.entries]
    body = r" \\ ".join(" & ".join(values[i * columns:(i + 1) * columns]) for i in range(rows))
    return rf"\left[\begin{{matrix}}{body}\end{{matrix}}\right]"
