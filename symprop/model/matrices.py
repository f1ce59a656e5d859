r"""Matrices in networks: matrix-valued inputs, parameters and nodes, split into entries.

A network may be written with SymPy matrices: ``W = MatrixSymbol("W", 2, 3)``, a node
``z = W x + b``, a loss ``L = (z - y)^T (z - y)`` (1x1, taken as its entry) or
``trace(...)`` or ``z[0, 0]``. Each matrix stands for its scalar entries, one symbol
per entry named as SymPy prints the entry (``W[0, 1]``, rows and columns counted
from 0) and set in LaTeX as ``W_{0,1}``; a node's matrix expression becomes one
scalar equation per entry, written out with SymPy's own matrix arithmetic. So every
entry's gradient comes from the one reverse walk over scalar equations, and no
backward rule is written for any matrix operation.

:class:`Arrays` remembers which entry symbols form which matrix, and each matrix node's
expression as written, so the engine can ask SymPy's matrix calculus for a matrix form
(``2 (W x + b - y) x^T``) and prove it against the entries.

Only what can be written out entry by entry is taken: a matrix with a symbolic shape,
a product of misaligned shapes, a matrix inverse, a ``Derivative`` or an undefined
function is refused in one line naming it, never differentiated to a silent zero.
This module imports no other part of the model.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy
from sympy import Expr, ImmutableMatrix, MatrixSymbol, Symbol
from sympy.core.function import AppliedUndef
from sympy.matrices import MatrixBase
from sympy.matrices.expressions import (
    Determinant, HadamardPower, HadamardProduct, Identity, MatAdd, MatMul, MatPow, MatrixExpr, OneMatrix, Trace,
    Transpose, ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from symprop.errors import SympropError

__all__ = ["Arrays", "MatrixError", "Split", "entry_latex", "entry_matrix", "explicit_entries", "has_matrices",
           "split_into_entries"]


class MatrixError(SympropError, ValueError):
    """A matrix that cannot be written out entry by entry, said in one line naming it."""


@dataclass(frozen=True)
class MatrixRecord:
    """One matrix of the network: its ``name``, its ``role`` (input, parameter or node),
    ``entries`` (a Matrix of the scalar entry symbols), ``written`` (the MatrixSymbol or
    Matrix as given; for a node, its expression as written, in matrices)."""

    name: str
    role: str
    entries: ImmutableMatrix
    written: object


@dataclass(frozen=True)
class Arrays(Mapping):
    """name -> the Matrix of entry symbols of each matrix input, parameter and node.

    ``records`` holds the :class:`MatrixRecord` of each; ``written`` every node in graph
    order: node (as written, a MatrixSymbol or a Symbol) -> its expression as written,
    so that the output can be rebuilt in matrices."""

    records: Mapping[str, MatrixRecord] = field(default_factory=dict)
    written: Mapping[object, object] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ImmutableMatrix:
        return self.records[name].entries

    def __iter__(self):
        return iter(self.records)

    def __len__(self):
        return len(self.records)

    def __hash__(self):
        return id(self)

    def of_role(self, role: str) -> dict[str, MatrixRecord]:
        return {name: r for name, r in self.records.items() if r.role == role}

    def record_of(self, key) -> MatrixRecord | None:
        """The record of ``key``: a name, a MatrixSymbol, or a Matrix of entry symbols."""
        if isinstance(key, str):
            return self.records.get(key)
        for record in self.records.values():
            if key == record.written or (isinstance(key, MatrixBase) and key.shape == record.entries.shape
                                         and ImmutableMatrix(key) == record.entries):
                return record
        return None

    def with_written(self, written: Mapping) -> Arrays:
        """These arrays, with ``written`` (node -> its expression in matrices) added: after a
        bare matrix expression is written out (:func:`explicit_entries`) and decomposed into
        scalar nodes, ``{output: the expression}`` lets the engine still find its matrix form."""
        return Arrays(self.records, {**self.written, **written})

    @property
    def entry_owner(self) -> dict[Symbol, str]:
        """entry symbol -> the name of its matrix."""
        return {s: name for name, r in self.records.items() for s in r.entries}


def entry_latex(name: str, row: int, column: int) -> str:
    """``W_{0,1}``: the entry in row 0, column 1 (counted from 0, as SymPy counts)."""
    return f"{sympy.latex(Symbol(name))}_{{{row},{column}}}"


def entry_matrix(matrix: MatrixSymbol) -> ImmutableMatrix:
    """The Matrix of ``matrix``'s entry symbols, ``W[i, j]`` (real), row by row."""
    rows, columns = concrete_shape(matrix)
    return ImmutableMatrix(rows, columns, lambda i, j: Symbol(f"{matrix.name}[{i}, {j}]", real=True))


def concrete_shape(matrix) -> tuple[int, int]:
    """``matrix``'s shape as two whole numbers; a symbolic shape is refused."""
    shape = matrix.shape
    if not all(getattr(n, "is_Integer", False) or isinstance(n, int) for n in shape):
        raise MatrixError(f"the matrix {matrix} has the symbolic shape {shape[0]}x{shape[1]}: give its rows and "
                          "columns as numbers")
    return int(shape[0]), int(shape[1])


def needs_splitting(inputs, parameters, pairs, output) -> bool:
    """True when a declaration, a node or the output is a matrix, or an expression is
    matrix-valued: a check of types only, so scalar networks pay nothing for it."""
    matrix = (MatrixBase, MatrixExpr)
    return (any(isinstance(s, matrix) for s in (*inputs, *parameters, output))
            or any(isinstance(node, matrix) or isinstance(expr, matrix) for node, expr in pairs))


def has_matrices(*parts) -> bool:
    """True when any of ``parts`` (symbols, expressions, or iterables of them) is or holds a matrix."""
    for part in parts:
        if isinstance(part, (MatrixBase, MatrixExpr)):
            return True
        if isinstance(part, sympy.Basic):
            if part.has(MatrixSymbol) or any(isinstance(a, (MatrixBase, MatrixExpr)) for a in sympy.preorder_traversal(part)):
                return True
        elif isinstance(part, Iterable) and not isinstance(part, str) and has_matrices(*part):
            return True
    return False


# --- writing expressions out entry by entry --------------------------------------------------------

def explicit_entries(expr, matrices: Mapping | Iterable = ()) -> tuple[Expr | ImmutableMatrix, Arrays]:
    """``expr`` (holding MatrixSymbols, Matrices, traces, entries ``M[i, j]``) written over
    scalar entry symbols, and the :class:`Arrays` of the matrices it used.

    ``matrices`` may give a MatrixSymbol's entries (MatrixSymbol -> Matrix of symbols);
    every other MatrixSymbol of ``expr`` gets ``W[i, j]`` entries. A scalar (or 1x1)
    ``expr`` gives a scalar expression: call this before decomposing a bare
    expression into equations, and declare the entries as parameters or inputs.
    """
    table = dict(matrices) if isinstance(matrices, Mapping) else {m: entry_matrix(m) for m in matrices}
    records = {}
    for symbol in sorted(_matrix_symbols(expr) - set(table), key=lambda m: m.name):
        table[symbol] = entry_matrix(symbol)
    for symbol, entries in table.items():
        records[symbol.name] = MatrixRecord(symbol.name, "matrix", ImmutableMatrix(entries), symbol)
    value = as_scalar_if_1x1(written_out(expr, table, "the expression"))
    return value, Arrays(records, {})


def _matrix_symbols(expr) -> set[MatrixSymbol]:
    if isinstance(expr, MatrixBase):
        return set().union(*(_matrix_symbols(e) for e in expr)) if expr else set()
    return set(expr.atoms(MatrixSymbol)) if isinstance(expr, sympy.Basic) else set()


def as_scalar_if_1x1(value):
    """A 1x1 matrix as its one entry; anything else as it is."""
    if isinstance(value, MatrixBase) and value.shape == (1, 1):
        return value[0, 0]
    return value


def written_out(expr, table: Mapping[MatrixSymbol, ImmutableMatrix], where: str):
    """``expr`` with every matrix written out: an ImmutableMatrix of scalar expressions for
    a matrix, a scalar expression otherwise. ``table`` gives each known MatrixSymbol's entries."""
    if isinstance(expr, MatrixSymbol):
        if expr not in table:
            raise MatrixError(f"{where} uses the matrix {expr}, which is not an input, a parameter or an earlier node")
        return table[expr]
    if isinstance(expr, MatrixBase):
        rows, columns = expr.shape
        return ImmutableMatrix(rows, columns, [written_out(e, table, where) for e in expr])
    refuse_undifferentiable(expr, where)
    if not isinstance(expr, sympy.Basic) or not has_matrices(expr):
        return expr
    rule = _RULES.get(type(expr)) or next((r for cls, r in _RULES.items() if isinstance(expr, cls)), None)
    if rule is not None:
        return rule(expr, lambda e: written_out(e, table, where), where)
    if isinstance(expr, MatrixExpr):
        raise MatrixError(f"{where} uses {type(expr).__name__} ({expr}), which symprop cannot write out entry by "
                          "entry: use products, sums, transposes, traces, entries and elementwise functions")
    return expr.func(*[_scalar(written_out(a, table, where), where) for a in expr.args])


def _scalar(value, where: str):
    """A scalar argument of a scalar function; a 1x1 matrix counts as its entry."""
    value = as_scalar_if_1x1(value)
    if isinstance(value, MatrixBase):
        raise MatrixError(f"{where} uses a {value.rows}x{value.cols} matrix where a scalar is expected: take "
                          "its trace or an entry [i, j]")
    return value


def refuse_undifferentiable(expr, where: str) -> None:
    """A one-line refusal of a ``Derivative``, an ``Integral`` or an undefined function
    in ``expr``: symprop differentiates only what it can write in closed form."""
    if not isinstance(expr, sympy.Basic):
        return
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, (sympy.Derivative, sympy.Integral, sympy.Subs)):
            raise MatrixError(f"{where} holds the unevaluated {type(sub).__name__} {sub}: write it out "
                              "(symprop differentiates closed forms only)")
        if isinstance(sub, AppliedUndef):
            raise MatrixError(f"{where} uses the undefined function {sub.func}: symprop cannot differentiate it; "
                              "use a SymPy or symprop function")


def _product(expr, out, where):
    value = sympy.S.One
    for factor in expr.args:
        part = out(factor)
        if isinstance(value, MatrixBase) and isinstance(part, MatrixBase) and value.cols != part.rows:
            raise MatrixError(f"{where} multiplies a {value.rows}x{value.cols} matrix by a {part.rows}x{part.cols} "
                              "one: the columns of the first must equal the rows of the second")
        value = value * part
    return value


def _sum(expr, out, where):
    parts = [out(a) for a in expr.args]
    shapes = {p.shape for p in parts if isinstance(p, MatrixBase)}
    if len(shapes) > 1:
        raise MatrixError(f"{where} adds matrices of the shapes {', '.join(f'{r}x{c}' for r, c in sorted(shapes))}: "
                          "a sum needs one shape")
    return sum(parts[1:], parts[0])


def _power(expr, out, where):
    base, exponent = expr.args
    if not (exponent.is_Integer and exponent >= 0):
        raise MatrixError(f"{where} raises a matrix to the power {exponent}: only whole powers 0, 1, 2, ... are "
                          "written out (no inverse)")
    return _square(out(base), where) ** int(exponent)


def _square(matrix, where):
    if matrix.rows != matrix.cols:
        raise MatrixError(f"{where} uses a power, trace or determinant of a {matrix.rows}x{matrix.cols} matrix: it "
                          "must be square")
    return matrix


def _entry(expr, out, where):
    parent, i, j = expr.args
    if not (i.is_Integer and j.is_Integer):
        raise MatrixError(f"{where} takes the entry [{i}, {j}] of {parent}: give the row and column as numbers")
    return out(parent)[int(i), int(j)]  # SymPy itself refuses an entry out of range


def _elementwise(expr, out, where):
    function = expr.function
    return out(expr.expr).applyfunc(lambda e: _scalar(written_out(function(e), {}, where), where))


def _constant(expr, out, where):
    concrete_shape(expr)
    return ImmutableMatrix(expr.as_explicit())


def _inverse(expr, out, where):
    raise MatrixError(f"{where} uses the matrix inverse {expr}: its entries are ratios of cofactors that symprop does "
                      "not write out; solve for it as a node instead")


#: How each matrix operation is written out entry by entry (SymPy's own arithmetic on
#: explicit matrices); anything else of the matrix kind is refused by name.
_RULES = {
    MatMul: _product,
    MatAdd: _sum,
    MatPow: _power,
    Transpose: lambda e, out, where: out(e.arg).T,
    Trace: lambda e, out, where: _square(out(e.arg), where).trace(),
    Determinant: lambda e, out, where: _square(out(e.arg), where).det(method="berkowitz"),
    MatrixElement: _entry,
    HadamardProduct: lambda e, out, where: _hadamard([out(a) for a in e.args], where),
    HadamardPower: lambda e, out, where: out(e.base).applyfunc(lambda v: v ** _scalar(out(e.exp), where)),
    ElementwiseApplyFunction: _elementwise,
    Identity: _constant,
    ZeroMatrix: _constant,
    OneMatrix: _constant,
    sympy.Inverse: _inverse,
}


def _hadamard(parts, where):
    if len({p.shape for p in parts}) > 1:
        raise MatrixError(f"{where} multiplies entrywise matrices of different shapes")
    value = parts[0]
    for part in parts[1:]:
        value = value.multiply_elementwise(part)
    return value


# --- splitting a graph ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """A network's declarations with every matrix written out: scalar inputs, parameters,
    ``(node, expression)`` pairs and output, the :class:`Arrays`, and the entries' LaTeX names."""

    inputs: tuple[Symbol, ...]
    parameters: tuple[Symbol, ...]
    equations: tuple[tuple[Symbol, Expr], ...]
    output: Symbol
    arrays: Arrays
    latex_names: dict[Symbol, str]


def split_into_entries(inputs, parameters, equations, output) -> Split:
    """Matrix inputs and parameters replaced by their entries (in row order), each matrix
    node by one equation per entry, a 1x1 value by its entry; scalars kept as they are."""
    table: dict = {}
    records: dict[str, MatrixRecord] = {}
    latex_names: dict[Symbol, str] = {}
    declared = {}
    for role, items in (("input", inputs), ("parameter", parameters)):
        declared[role] = tuple(s for item in items for s in _declare(item, role, table, records, latex_names))
    pairs, written = [], {}
    for number, (node, expr) in enumerate(equations, 1):
        where = f"node {_label(node, number)}"
        value = written_out(expr, table, where)
        written[node] = expr
        pairs.extend(_node_entries(node, value, where, table, records, latex_names))
    return Split(declared["input"], declared["parameter"], tuple(pairs), _scalar_output(output, table),
                 Arrays(records, written), latex_names)


def _label(node, number: int) -> str:
    return str(node) if isinstance(node, (Symbol, MatrixSymbol)) else f"{number} ({node!r})"


def _declare(item, role: str, table, records, latex_names) -> tuple:
    """An input's or parameter's scalar symbols: its entries when it is a matrix."""
    if isinstance(item, MatrixSymbol):
        entries = entry_matrix(item)
        table[item] = entries
        _record(records, latex_names, MatrixRecord(item.name, role, entries, item), item.name)
        return tuple(entries)
    if isinstance(item, MatrixBase):
        entries = ImmutableMatrix(item)
        if not all(isinstance(e, Symbol) for e in entries):
            raise MatrixError(f"the {role} matrix {list(entries.tolist())} must hold symbols only")
        name = str(entries.tolist())
        _record(records, latex_names, MatrixRecord(name, role, entries, item), None)
        return tuple(entries)
    return (item,)


def _record(records, latex_names, record: MatrixRecord, latex_base: str | None) -> None:
    if record.name in records:
        raise MatrixError(f"the name {record.name} is given to two matrices: each name is declared once")
    records[record.name] = record
    if latex_base is not None:
        for (i, j), entry in _indexed(record.entries):
            latex_names[entry] = entry_latex(latex_base, i, j)


def _indexed(matrix: ImmutableMatrix):
    return (((i, j), matrix[i, j]) for i in range(matrix.rows) for j in range(matrix.cols))


def _node_entries(node, value, where, table, records, latex_names) -> list[tuple[Symbol, Expr]]:
    """The scalar equations of one node: one per entry of a matrix node."""
    if isinstance(node, MatrixSymbol):
        shape = concrete_shape(node)
        value = value if isinstance(value, MatrixBase) else ImmutableMatrix([[value]])
        if value.shape != shape:
            raise MatrixError(f"{where} is a {shape[0]}x{shape[1]} matrix but its expression is "
                              f"{value.rows}x{value.cols}")
        entries = entry_matrix(node)
        table[node] = entries
        _record(records, latex_names, MatrixRecord(node.name, "node", entries, node), node.name)
        return [(entries[i, j], value[i, j]) for (i, j), _ in _indexed(entries)]
    value = as_scalar_if_1x1(value)
    if isinstance(value, MatrixBase):
        raise MatrixError(f"{where} is a {value.rows}x{value.cols} matrix: name it MatrixSymbol(\"{node}\", "
                          f"{value.rows}, {value.cols}) so that later nodes can use it")
    return [(node, value)]


def _scalar_output(output, table) -> Symbol:
    """The output as a scalar symbol: a 1x1 matrix node's entry; a larger matrix is refused."""
    if isinstance(output, MatrixSymbol):
        entries = table.get(output)
        if entries is None:
            raise MatrixError(f"output {output} is not a node of the graph")
        if entries.shape != (1, 1):
            raise MatrixError(f"output {output} is a {entries.rows}x{entries.cols} matrix: the output must be a "
                              "scalar, such as a loss (take its trace, an entry [i, j] or a loss of it)")
        return entries[0, 0]
    return output
