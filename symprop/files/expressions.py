"""Node expressions of a network file, read safely: plain arithmetic over declared names, never code.

:func:`parse_expression` checks the text with Python's ``ast`` against a
short list of syntax (numbers, the declared names, ``+ - * / **`` and calls
of :data:`EXPRESSION_FUNCTIONS`) before SymPy's parser sees it, then lets
that parser evaluate it with no builtins and nothing but numbers, the names
and the functions in scope. Declared names are renamed (``x`` -> ``_n_x``)
so none can shadow a keyword or a name the parser calls, and names SymPy
would read otherwise (``E``, ``I``, ``pi``) stay plain symbols. Text that
is too long, nested too deeply, or would make numbers too large to compute
is refused up front; everything refused is an :class:`ExpressionError`.
"""
from __future__ import annotations

import ast
import io
import math
import tokenize
from typing import Mapping

import sympy
from sympy import Expr, Float, Integer, Rational, Symbol
from sympy.parsing.sympy_parser import auto_number, parse_expr

from symprop.errors import SympropError
from symprop.model import functions
from symprop.files.toml_text import describe

MAX_EXPRESSION_LENGTH = 2_000
MAX_NESTING = 30  # SymPy differentiates nested calls recursively: deeper nesting is slow, then overflows
MAX_DIGITS = 20_000  # digits of the exact numbers a node expression may make SymPy compute

#: Names SymPy's own parser would read as something other than a symbol.
SYMPY_MEANINGS = {
    "E": "Euler's number", "I": "the imaginary unit", "S": "SymPy's singleton registry", "N": "numeric evaluation",
    "O": "the order symbol", "Q": "the assumptions registry", "pi": "the number pi", "beta": "the beta function",
    "gamma": "the gamma function", "lambda": "a Python lambda", "oo": "infinity", "zoo": "complex infinity",
}


class ExpressionError(SympropError, ValueError):
    """A node expression that is not plain arithmetic over declared names."""


def _leaky_relu(z, alpha=Rational(1, 100)):
    return functions.leaky_relu(z, alpha)


#: The functions a node may call: name -> (SymPy callable, fewest arguments, most arguments).
EXPRESSION_FUNCTIONS = {
    "sigmoid": (functions.sigmoid, 1, 1), "relu": (functions.relu, 1, 1), "tanh": (sympy.tanh, 1, 1),
    "exp": (sympy.exp, 1, 1), "log": (sympy.log, 1, 1), "sqrt": (sympy.sqrt, 1, 1), "Abs": (sympy.Abs, 1, 1),
    "Max": (sympy.Max, 1, 64), "Min": (sympy.Min, 1, 64), "softplus": (functions.softplus, 1, 1),
    "leaky_relu": (_leaky_relu, 1, 2),
}
_ALLOWED_SYNTAX = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load,
                   ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.UAdd, ast.USub)
_SYNTAX_NAMES = {
    ast.Attribute: "attribute access (.)", ast.Subscript: "indexing ([])", ast.Lambda: "lambda",
    ast.BitXor: "^ (write ** for a power)", ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.Not: "not",
    ast.IfExp: "if/else", ast.Starred: "* unpacking", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dictionaries", ast.Set: "sets", ast.JoinedStr: "f-strings",
    ast.NamedExpr: ":=", ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions",
}
#: Prefix of the Python identifiers declared names become, so none can shadow a keyword or a parser name.
_MANGLE = "_n_"


def parse_expression(text: str, names: Mapping[str, Symbol], *, later: Mapping[str, int] | None = None,
                     node: str = "") -> Expr:
    """``text`` as a SymPy expression over ``names``, refusing anything but plain arithmetic.

    Python's ``ast`` checks the text first: numbers, the declared names,
    ``+ - * / **`` and calls of :data:`EXPRESSION_FUNCTIONS`. Only then does
    SymPy's parser evaluate it, with no builtins and nothing but numbers,
    the names and the functions in scope. Every declared name is a plain
    real symbol, so ``E`` and ``I`` are never Euler's number or the imaginary
    unit. ``later`` names the nodes defined after this one (an error to use).
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expected an expression, got an empty string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"{len(text)} characters: an expression is at most {MAX_EXPRESSION_LENGTH}")
    if not text.isascii():
        raise ExpressionError("expected ASCII characters only (names, digits, + - * / ** and parentheses)")
    mangled = _mangle(text, names)
    try:
        tree = ast.parse(mangled.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        detail = getattr(error, "msg", "") or "nested too deeply"
        raise ExpressionError(f"{text.strip()[:60]!r} is not a valid expression ({detail})") from None
    _check_syntax(tree, names, later or {}, node)
    _check_nesting(tree)
    _check_sizes(tree)
    expr = _evaluate(mangled.strip(), names)
    _check_value(expr)
    return expr


def _mangle(text: str, names: Mapping[str, Symbol]) -> str:
    """Every declared name ``x`` renamed ``_n_x``: ``lambda`` then parses as a name, and no
    name can shadow what the parser itself calls (``Integer``, ``Float``)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise ExpressionError(f"{text.strip()[:60]!r} is not a valid expression ({error.args[0]})") from None
    hidden = next((t.string for t in tokens if t.type == tokenize.NAME and t.string.startswith("_")), None)
    if hidden:
        raise ExpressionError(f"{hidden!r}: names starting with _ are not allowed")
    renamed = [(t.type, _MANGLE + t.string if t.type == tokenize.NAME and t.string in names else t.string)
               for t in tokens]
    return tokenize.untokenize(renamed)


def _unmangle(name: str) -> str:
    return name.removeprefix(_MANGLE)


def _check_syntax(tree: ast.AST, names: Mapping[str, Symbol], later: Mapping[str, int], node: str) -> None:
    called = {id(c.func) for c in ast.walk(tree) if isinstance(c, ast.Call)}
    for part in ast.walk(tree):
        if isinstance(part, ast.Call):
            _check_call(part)
        elif isinstance(part, ast.Name) and id(part) not in called:
            _check_name_use(part.id, names, later, node)
        elif isinstance(part, ast.Constant):
            if isinstance(part.value, bool) or not isinstance(part.value, (int, float)):
                raise ExpressionError(f"{describe(part.value)} is not allowed: only numbers and names")
        elif not isinstance(part, _ALLOWED_SYNTAX):
            raise _not_allowed(part)


def _not_allowed(part: ast.AST) -> ExpressionError:
    what = _SYNTAX_NAMES.get(type(part), type(part).__name__)
    return ExpressionError(f"{what} is not allowed: use numbers, declared names, + - * / ** and the functions "
                           f"{', '.join(EXPRESSION_FUNCTIONS)}")


def _check_call(call: ast.Call) -> None:
    if not isinstance(call.func, ast.Name):
        raise _not_allowed(call.func)
    name = call.func.id
    if name not in EXPRESSION_FUNCTIONS:
        raise ExpressionError(f"calling {_unmangle(name)} is not allowed: the functions are "
                              f"{', '.join(EXPRESSION_FUNCTIONS)}")
    if call.keywords:
        raise ExpressionError(f"{name}(...) takes no keyword arguments")
    _, fewest, most = EXPRESSION_FUNCTIONS[name]
    if not fewest <= len(call.args) <= most:
        count = f"{fewest}" if fewest == most else f"{fewest} to {most}"
        raise ExpressionError(f"{name} takes {count} argument{'s' if most > 1 else ''}, got {len(call.args)}")


def _check_name_use(name: str, names: Mapping[str, Symbol], later: Mapping[str, int], node: str) -> None:
    if name.startswith(_MANGLE) and _unmangle(name) in names:
        return
    if name in EXPRESSION_FUNCTIONS:
        raise ExpressionError(f"{name} is a function: call it, as in {name}(x)")
    if name == node:
        raise ExpressionError("it uses itself (a cycle): a node may use only inputs and earlier nodes")
    if name in later:
        raise ExpressionError(f"it uses {name!r}, which is defined later (graph.nodes[{later[name]}]): a node may "
                              "use only inputs and earlier nodes")
    meaning = f" ({name} is a plain symbol here, never {SYMPY_MEANINGS[name]})" if name in SYMPY_MEANINGS else ""
    raise ExpressionError(f"unknown name {name!r}: declare it in graph.inputs or define it as an earlier node{meaning}")


def _check_nesting(tree: ast.AST) -> None:
    depth = {tree: 0}
    for part in ast.walk(tree):
        for child in ast.iter_child_nodes(part):
            depth[child] = depth[part] + isinstance(child, ast.expr)
    deepest = max(depth.values())
    if deepest > MAX_NESTING:
        raise ExpressionError(f"nested {deepest} levels deep: at most {MAX_NESTING}; split it into several nodes")


_ARITHMETIC = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__,
               ast.Pow: pow}


def _check_sizes(tree: ast.AST) -> None:
    """Numbers must stay small: SymPy computes integers and fractions exactly, so
    ``10**10**10`` or ``(2*x)**10**12`` would never finish.

    Bottom up (children before parents), each subexpression gets ``digits``,
    a bound on the digits of the exact numbers SymPy could build from it
    (products and sums add digits, a power multiplies them by the exponent),
    and, when it holds numbers only, its float ``value``, which must be real
    and finite.
    """
    digits: dict[ast.AST, float] = {}
    value: dict[ast.AST, float | None] = {}
    for part in reversed(list(ast.walk(tree))):
        if isinstance(part, ast.Constant):
            digits[part] = len(str(abs(part.value))) if isinstance(part.value, int) else 1
            value[part] = _float(lambda: float(part.value))
        elif isinstance(part, ast.Name):
            digits[part], value[part] = 1, None
        elif isinstance(part, ast.Call):
            digits[part], value[part] = 1 + sum(digits[a] for a in part.args), None
        elif isinstance(part, ast.UnaryOp):
            digits[part] = digits[part.operand]
            inner = value[part.operand]
            value[part] = None if inner is None else (-inner if isinstance(part.op, ast.USub) else inner)
        elif isinstance(part, ast.BinOp):
            left, right = value[part.left], value[part.right]
            exponent = abs(right) if isinstance(part.op, ast.Pow) and right is not None else None
            digits[part] = (digits[part.left] * max(1.0, exponent) if exponent is not None
                            else digits[part.left] + digits[part.right])
            both = left is not None and right is not None
            value[part] = _float(lambda: _ARITHMETIC[type(part.op)](left, right)) if both else None
        else:
            continue
        if digits[part] > MAX_DIGITS:
            raise ExpressionError(f"its numbers would grow past {MAX_DIGITS} digits (a large power?): use smaller "
                                  "exponents")


def _float(compute) -> float:
    """A calculation on numbers alone, which must give a finite real number."""
    try:
        result = compute()
    except ZeroDivisionError:
        raise ExpressionError("it divides a number by zero") from None
    except OverflowError:
        raise ExpressionError("a calculation on numbers alone overflows") from None
    if not isinstance(result, float) or not math.isfinite(result):
        raise ExpressionError(f"a calculation on numbers alone gives {result}, not a finite real number")
    return result


def _evaluate(mangled: str, names: Mapping[str, Symbol]) -> Expr:
    local = {_MANGLE + name: symbol for name, symbol in names.items()}
    local.update({name: entry[0] for name, entry in EXPRESSION_FUNCTIONS.items()})
    # No builtins, and nothing but the number classes auto_number writes.
    scope = {"__builtins__": {}, "Integer": Integer, "Float": Float, "Rational": Rational}
    try:
        expr = parse_expr(mangled, local_dict=local, global_dict=scope, transformations=(auto_number,))
    except Exception as error:  # noqa: BLE001 - SymPy raises many kinds; the text was checked above
        raise ExpressionError(f"SymPy cannot evaluate it ({type(error).__name__}: {str(error)[:80]})") from None
    if not isinstance(expr, Expr):
        raise ExpressionError(f"it is not a number-valued expression (got {type(expr).__name__})")
    return expr


def _check_value(expr: Expr) -> None:
    """No infinities, undefined values or complex numbers, such as ``1/0``, ``log(0)`` or ``sqrt(-1)``."""
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise ExpressionError(f"it is infinite or undefined ({str(expr)[:60]}): check divisions and logarithms")
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, Expr) and sub.is_number and sub.is_extended_real is False:
            raise ExpressionError(f"it holds the complex number {str(sub)[:40]}: every value must be real")
