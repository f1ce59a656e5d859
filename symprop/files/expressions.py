"""The one safe reader of formulas: plain arithmetic over declared names, never code.

:func:`parse` reads a text by a :class:`Grammar` (its names, its functions,
the wording of its refusals); node expressions of a network file use
:func:`parse_expression`, and claimed gradients (:mod:`symprop.checks.claims`)
a grammar of their own, with the network's names, ``^`` as a power and
decimals read exactly. :func:`parse_expression` checks the text with Python's ``ast`` against a
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
from dataclasses import dataclass, field
from typing import Mapping

import sympy
from sympy import Expr, Float, Integer, Rational, Symbol
from sympy.parsing.sympy_parser import auto_number, parse_expr, rationalize

from symprop.errors import SympropError
from symprop.model import functions
from symprop.files.toml_text import describe

MAX_EXPRESSION_LENGTH = 2_000
MAX_NESTING = 30  # SymPy differentiates nested calls recursively: deeper nesting is slow, then overflows
MAX_DIGITS = 20_000  # digits of the exact numbers a node expression may make SymPy compute
#: Arguments of one Max or Min: SymPy's derivative of Max(a_1..a_n) by each a_k builds a Max of the
#: others, comparing every pair, so a node's derivatives cost about n^4 (8: 0.4 s, 16: 5 s, 32: 70 s).
MAX_EXTREMUM_ARGUMENTS = 8

#: Names SymPy's own parser would read as something other than a symbol.
SYMPY_MEANINGS = {
    "E": "Euler's number", "I": "the imaginary unit", "S": "SymPy's singleton registry", "N": "numeric evaluation",
    "O": "the order symbol", "Q": "the assumptions registry", "pi": "the number pi", "beta": "the beta function",
    "gamma": "the gamma function", "lambda": "a Python lambda", "oo": "infinity", "zoo": "complex infinity",
}


class ExpressionError(SympropError, ValueError):
    """A node expression that is not plain arithmetic over declared names."""


#: Elementary functions a text may call, beside symprop's own: name -> (SymPy callable, fewest, most arguments).
ELEMENTARY_FUNCTIONS = {
    "exp": (sympy.exp, 1, 1), "log": (sympy.log, 1, 1), "sqrt": (sympy.sqrt, 1, 1), "Abs": (sympy.Abs, 1, 1),
    "Max": (sympy.Max, 1, MAX_EXTREMUM_ARGUMENTS), "Min": (sympy.Min, 1, MAX_EXTREMUM_ARGUMENTS),
}


def record_functions(*, node_files: bool) -> dict[str, tuple]:
    """symprop's functions as a text calls them, from their records: name -> (callable, fewest, most
    arguments; None for no limit); ``node_files`` keeps those a network file's nodes may call."""
    return {record.name: (record.caller, *record.arity) for record in functions.FUNCTION_RECORDS
            if record.in_node_files or not node_files}


#: The functions a node may call: name -> (SymPy callable, fewest arguments, most arguments).
EXPRESSION_FUNCTIONS = {**record_functions(node_files=True), **ELEMENTARY_FUNCTIONS}
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
#: Tokens the token screen lets through: names, numbers, arithmetic operators, and line ends.
_SCREEN_KINDS = {tokenize.NAME, tokenize.NUMBER, tokenize.OP, tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER}
_SCREEN_OPERATORS = {"+", "-", "*", "/", "**", "^", "(", ")", ","}


class Messages:
    """How each refusal is worded: a node expression's wording, as :class:`ExpressionError`.

    ``later`` names the nodes defined after this one and ``node`` the node
    itself (both errors to use). A subclass words them for another kind of
    text (claims: :mod:`symprop.checks.claims`); every method returns the
    exception to raise.
    """

    def __init__(self, later: Mapping[str, int] | None = None, node: str = ""):
        self.later, self.node = later or {}, node

    def refuse(self, message: str) -> Exception:
        return ExpressionError(message)

    def unreadable(self, text: str, detail: str) -> Exception:
        return self.refuse(f"{text.strip()[:60]!r} is not a valid expression ({detail})")

    def unfinished(self, text: str, detail: str) -> Exception:
        """The tokenizer stopped: unbalanced parentheses, an unfinished string."""
        return self.unreadable(text, detail)

    def hidden_name(self, name: str) -> Exception:
        return self.refuse(f"{name!r}: names starting with _ are not allowed")

    def not_arithmetic(self, token: str) -> Exception:
        """A token the token screen refuses (a grammar with ``screen_tokens`` only)."""
        return self.refuse(f"{token!r} is not allowed: use names, numbers, + - * / ** and parentheses")

    def unknown_name(self, name: str) -> Exception:
        if name == self.node:
            return self.refuse("it uses itself (a cycle): a node may use only inputs and earlier nodes")
        if name in self.later:
            return self.refuse(f"it uses {name!r}, which is defined later (graph.nodes[{self.later[name]}]): "
                               "a node may use only inputs and earlier nodes")
        meaning = f" ({name} is a plain symbol here, never {SYMPY_MEANINGS[name]})" if name in SYMPY_MEANINGS else ""
        return self.refuse(f"unknown name {name!r}: declare it in graph.inputs or define it as an earlier "
                           f"node{meaning}")

    def power_too_large(self, base: float, exponent: float, reason: str) -> Exception:
        """A power of numbers alone too large to compute; ``reason`` says how."""
        return self.refuse(reason)

    def too_deep(self, depth: int, most: int) -> Exception:
        """Operations nested past the grammar's bound (a sum of many terms nests one level per term)."""
        return self.refuse(f"nested {depth} levels deep: at most {most}; split it into several nodes")


@dataclass(frozen=True)
class Grammar:
    """What a text may use, and how it is read.

    ``symbols``: name -> value (declared names, plain real symbols); a name
    may be a batch copy ``out_o1[2]``, read as one name. ``functions``: name ->
    (callable, fewest, most arguments; None: no limit). ``screen_tokens``:
    refuse unknown names and anything but arithmetic token by token, before
    parsing. ``caret_is_power``: ``^`` means ``**``. ``exact_decimals``:
    ``0.05`` is read as 1/20.
    """

    symbols: Mapping[str, Expr]
    functions: Mapping[str, tuple] = field(default_factory=lambda: EXPRESSION_FUNCTIONS)
    messages: Messages = field(default_factory=Messages)
    screen_tokens: bool = False
    caret_is_power: bool = False
    exact_decimals: bool = False
    max_length: int = MAX_EXPRESSION_LENGTH
    max_nesting: int = MAX_NESTING


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
    return parse(text, Grammar(names, messages=Messages(later, node)))


def parse(text: str, grammar: Grammar) -> Expr:
    """``text`` read by ``grammar``: checked token by token, then as a Python syntax tree
    (only arithmetic, known names and calls of known functions; nesting and the size of
    numbers bounded), then evaluated by SymPy's parser with nothing else in scope."""
    messages = grammar.messages
    if not isinstance(text, str) or not text.strip():
        raise messages.refuse("expected an expression, got an empty string")
    if len(text) > grammar.max_length:
        raise messages.refuse(f"{len(text)} characters: an expression is at most {grammar.max_length}")
    if not text.isascii():
        raise messages.refuse("expected ASCII characters only (names, digits, + - * / ** and parentheses)")
    mangled, local = _mangle(text, grammar)
    try:
        tree = ast.parse(mangled.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        detail = getattr(error, "msg", "") or "nested too deeply"
        raise messages.unreadable(text, detail) from None
    _check_syntax(tree, grammar, local)
    _check_nesting(tree, grammar)
    _check_sizes(tree, grammar)
    expr = _evaluate(mangled.strip(), local, grammar)
    _check_value(expr, messages)
    return expr


def _tokens(text: str, grammar: Grammar) -> list[tuple[int, str]]:
    """``(kind, text)`` tokens, a batch copy ``name[k]`` that the grammar knows joined into one name."""
    try:
        tokens = [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, SyntaxError) as error:
        raise grammar.messages.unfinished(text, str(error.args[0])) from None
    joined, i = [], 0
    while i < len(tokens):
        window = tokens[i:i + 4]
        copy = (f"{window[0][1]}[{window[2][1]}]" if len(window) == 4 and window[0][0] == tokenize.NAME
                and window[1] == (tokenize.OP, "[") and window[2][0] == tokenize.NUMBER
                and window[3] == (tokenize.OP, "]") else None)
        if copy in grammar.symbols:
            joined.append((tokenize.NAME, copy))
            i += 4
        else:
            joined.append(tokens[i])
            i += 1
    return joined


def _screen(tokens: list[tuple[int, str]], grammar: Grammar) -> None:
    """Names starting with ``_`` refused unless declared; with ``screen_tokens``, unknown names
    and anything but numbers, arithmetic and parentheses, in the order they stand."""
    messages = grammar.messages
    if not grammar.screen_tokens:
        hidden = next((t for k, t in tokens if k == tokenize.NAME and t.startswith("_") and not _known(t, grammar)),
                      None)
        if hidden:
            raise messages.hidden_name(hidden)
        return
    for kind, token in tokens:
        if kind == tokenize.NAME and not _known(token, grammar):
            raise messages.hidden_name(token) if token.startswith("_") else messages.unknown_name(token)
        if kind not in _SCREEN_KINDS or kind == tokenize.OP and token not in _SCREEN_OPERATORS:
            raise messages.not_arithmetic(token)


def _known(name: str, grammar: Grammar) -> bool:
    return name in grammar.symbols or name in grammar.functions


def _mangle(text: str, grammar: Grammar) -> tuple[str, dict[str, Expr]]:
    """The text with every declared name renamed to an identifier ``_n_x`` (``lambda`` then
    parses as a name, and no name can shadow what the parser calls, ``Integer``, ``Float``),
    and the parser's names: identifier -> value."""
    tokens = _tokens(text, grammar)
    _screen(tokens, grammar)
    renamed, local = [], {}
    for kind, token in tokens:
        if kind == tokenize.NAME and token in grammar.symbols:
            identifier = _MANGLE + token if token.isidentifier() else f"{_MANGLE}{len(local)}_copy"
            local[identifier] = grammar.symbols[token]
            token = identifier
        elif kind == tokenize.OP and token == "^" and grammar.caret_is_power:
            token = "**"
        renamed.append((kind, token))
    return tokenize.untokenize(renamed), local


def _unmangle(name: str) -> str:
    return name.removeprefix(_MANGLE)


def _check_syntax(tree: ast.AST, grammar: Grammar, local: Mapping[str, Expr]) -> None:
    called = {id(c.func) for c in ast.walk(tree) if isinstance(c, ast.Call)}
    for part in ast.walk(tree):
        if isinstance(part, ast.Call):
            _check_call(part, grammar)
        elif isinstance(part, ast.Name) and id(part) not in called:
            _check_name_use(part.id, grammar, local)
        elif isinstance(part, ast.Constant):
            if isinstance(part.value, bool) or not isinstance(part.value, (int, float)):
                raise grammar.messages.refuse(f"{describe(part.value)} is not allowed: only numbers and names")
        elif not isinstance(part, _ALLOWED_SYNTAX):
            raise _not_allowed(part, grammar)


def _not_allowed(part: ast.AST, grammar: Grammar) -> Exception:
    what = _SYNTAX_NAMES.get(type(part), type(part).__name__)
    return grammar.messages.refuse(f"{what} is not allowed: use numbers, declared names, + - * / ** and the "
                                   f"functions {', '.join(grammar.functions)}")


def _check_call(call: ast.Call, grammar: Grammar) -> None:
    if not isinstance(call.func, ast.Name):
        raise _not_allowed(call.func, grammar)
    name, messages = call.func.id, grammar.messages
    if name not in grammar.functions:
        raise messages.refuse(f"calling {_unmangle(name)} is not allowed: the functions are "
                              f"{', '.join(grammar.functions)}")
    if call.keywords:
        raise messages.refuse(f"{name}(...) takes no keyword arguments")
    _, fewest, most = grammar.functions[name]
    if len(call.args) < fewest or most is not None and len(call.args) > most:
        count = (f"at least {fewest}" if most is None else f"{fewest}" if fewest == most else f"{fewest} to {most}")
        plural = "s" if most is None or most > 1 else ""
        raise messages.refuse(f"{name} takes {count} argument{plural}, got {len(call.args)}")


def _check_name_use(name: str, grammar: Grammar, local: Mapping[str, Expr]) -> None:
    if name in local:
        return
    if name in grammar.functions:
        raise grammar.messages.refuse(f"{name} is a function: call it, as in {name}(x)")
    raise grammar.messages.unknown_name(name)


def _check_nesting(tree: ast.AST, grammar: Grammar) -> None:
    depth = {tree: 0}
    for part in ast.walk(tree):
        for child in ast.iter_child_nodes(part):
            depth[child] = depth[part] + isinstance(child, ast.expr)
    deepest = max(depth.values())
    if deepest > grammar.max_nesting:
        raise grammar.messages.too_deep(deepest, grammar.max_nesting)


_ARITHMETIC = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__,
               ast.Pow: pow}
_OVERFLOW = "a calculation on numbers alone overflows"


def _check_sizes(tree: ast.AST, grammar: Grammar) -> None:
    """Numbers must stay small: SymPy computes integers and fractions exactly, so
    ``10**10**10`` or ``(2*x)**10**12`` would never finish.

    Bottom up (children before parents), each subexpression gets ``digits``,
    a bound on the digits of the exact numbers SymPy could build from it
    (products and sums add digits, a power multiplies them by the exponent,
    unless its base is 0 or 1 in size), and, when it holds numbers only, its
    float ``value``, which must be real and finite.
    """
    digits: dict[ast.AST, float] = {}
    value: dict[ast.AST, float | None] = {}
    messages = grammar.messages
    too_many = f"its numbers would grow past {MAX_DIGITS} digits (a large power?): use smaller exponents"
    for part in reversed(list(ast.walk(tree))):
        if isinstance(part, ast.Constant):
            digits[part] = _constant_digits(part.value, grammar.exact_decimals)
            value[part] = _float(lambda: float(part.value), messages)
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
            digits[part] = _binop_digits(part, digits, left, right)
            if left is not None and right is not None:
                power = isinstance(part.op, ast.Pow)
                if power and digits[part] > MAX_DIGITS:
                    raise messages.power_too_large(left, right, _power_reason(left, right, too_many))
                value[part] = _float(lambda: _ARITHMETIC[type(part.op)](left, right), messages,
                                     (left, right) if power else None)
            else:
                value[part] = None
        else:
            continue
        if digits[part] > MAX_DIGITS:
            raise messages.refuse(too_many)


def _constant_digits(number, exact_decimals: bool) -> int:
    """Digits of an exact number SymPy makes of a constant (a decimal, when read exactly, has all its digits)."""
    if isinstance(number, int):
        return len(str(abs(number)))
    return len(repr(number)) if exact_decimals else 1


def _binop_digits(part: ast.BinOp, digits, left, right) -> float:
    if not isinstance(part.op, ast.Pow) or right is None:
        return digits[part.left] + digits[part.right]
    if left is not None and abs(left) in (0.0, 1.0):
        return 1  # 0, 1 and -1 keep their size under any power
    return digits[part.left] * max(1.0, abs(right))


def _power_reason(base: float, exponent: float, too_many: str) -> str:
    """Why ``base ** exponent`` cannot be computed: it overflows, or has too many digits."""
    try:
        base ** exponent
    except OverflowError:
        return _OVERFLOW
    return too_many


def _float(compute, messages: Messages, power: tuple[float, float] | None = None) -> float:
    """A calculation on numbers alone, which must give a finite real number (``power``:
    the base and exponent, when it is a power)."""
    try:
        result = compute()
    except ZeroDivisionError:
        raise messages.refuse("it divides a number by zero") from None
    except OverflowError:
        raise (messages.power_too_large(*power, _OVERFLOW) if power else messages.refuse(_OVERFLOW)) from None
    if not isinstance(result, float) or not math.isfinite(result):
        raise messages.refuse(f"a calculation on numbers alone gives {result}, not a finite real number")
    return result


def _evaluate(mangled: str, local: Mapping[str, Expr], grammar: Grammar) -> Expr:
    local = {**local, **{name: entry[0] for name, entry in grammar.functions.items()}}
    # No builtins, and nothing but the number classes auto_number and rationalize write.
    scope = {"__builtins__": {}, "Integer": Integer, "Float": Float, "Rational": Rational}
    transformations = (auto_number, rationalize) if grammar.exact_decimals else (auto_number,)
    try:
        expr = parse_expr(mangled, local_dict=local, global_dict=scope, transformations=transformations)
    except Exception as error:  # noqa: BLE001 - SymPy raises many kinds; the text was checked above
        message = f"SymPy cannot evaluate it ({type(error).__name__}: {str(error)[:80]})"
        raise grammar.messages.refuse(message) from None
    if not isinstance(expr, Expr):
        raise grammar.messages.refuse(f"it is not a number-valued expression (got {type(expr).__name__})")
    return expr


def _check_value(expr: Expr, messages: Messages) -> None:
    """No infinities, undefined values or complex numbers, such as ``1/0``, ``log(0)`` or ``sqrt(-1)``."""
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise messages.refuse(f"it is infinite or undefined ({str(expr)[:60]}): check divisions and logarithms")
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, Expr) and sub.is_number and sub.is_extended_real is False:
            raise messages.refuse(f"it holds the complex number {str(sub)[:40]}: every value must be real")
        if isinstance(sub, (sympy.Max, sympy.Min)) and len(sub.args) > MAX_EXTREMUM_ARGUMENTS:
            # Max(Max(a, b), Max(c, d)) is one Max of four: SymPy flattens nested calls.
            raise messages.refuse(f"a {type(sub).__name__} of {len(sub.args)} arguments (nested calls are merged): "
                                  f"at most {MAX_EXTREMUM_ARGUMENTS}; split it into several nodes")
