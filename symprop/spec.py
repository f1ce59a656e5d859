"""Network files: a TOML description of a network and its numbers, read into a :class:`Problem`.

The schema (more keys are allowed and ignored)::

    title = "..."; notation = "mazur"; reduction = "mean"
    [network]   inputs (names or a count), targets, loss, layers = [{ units, activation, names, bias }]
    [graph]     inputs, parameters, nodes = [["q", "x + y"], ["f", "q*z"]], output      (instead of [network])
    [values]    every input, target and parameter, by name
    [[examples]]  the data (inputs and targets) of each example, when there are several
    [train]     learning_rate, update (weights | all), steps, init (how to draw missing parameters)

Everything wrong with a file is a :class:`SpecError` whose message is one line,
``<file>: <key> (line N): <what was expected>``. Node expressions are checked
against a short list of Python syntax (numbers, declared names, ``+ - * / **``
and a few functions) before SymPy's parser sees them, so no file can run code.
Requests that would take very long (more than ``MAX_PARAMETERS`` parameters,
``MAX_LAYERS`` layers, ``MAX_NODES`` nodes, ``MAX_STEPS`` steps, ...) are
refused up front with that reason.
"""
from __future__ import annotations

import ast
import difflib
import io
import math
import os
import re
import tokenize
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import sympy
from sympy import Expr, Float, Integer, Rational, Symbol
from sympy.parsing.sympy_parser import auto_number, parse_expr

from . import functions, nn
from .graph import Graph, GraphError
from .notation import PRESETS

#: Beyond these a derivation (or its document) would take very long: refused up front.
MAX_PARAMETERS = 200_000
MAX_LAYERS = 200  # the closed forms nest one level per layer: time grows with depth squared
MAX_NODES = 400  # like MAX_LAYERS: a chain of 400 nodes takes seconds, of 1000 most of a minute
MAX_EXPRESSION_LENGTH = 2_000
MAX_NESTING = 30  # SymPy differentiates nested calls recursively: deeper nesting is slow, then overflows
MAX_STEPS = 100_000
MAX_EXAMPLES = 10_000
MAX_TEXT_LENGTH = 10_000_000
MAX_DIGITS = 20_000  # digits of the exact numbers a node expression may make SymPy compute
LOSSES = nn.LOSSES
REDUCTIONS = ("mean", "sum")
UPDATES = ("weights", "all")
INIT_METHODS = ("uniform", "normal", "xavier")
INIT_EXAMPLE = '[train] init = { method = "uniform", low = -0.5, high = 0.5, seed = 0 }'

#: A declared name: a letter, then letters, digits and underscores.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
UNIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}\Z")

#: Names SymPy's own parser would read as something other than a symbol.
SYMPY_MEANINGS = {
    "E": "Euler's number", "I": "the imaginary unit", "S": "SymPy's singleton registry", "N": "numeric evaluation",
    "O": "the order symbol", "Q": "the assumptions registry", "pi": "the number pi", "beta": "the beta function",
    "gamma": "the gamma function", "lambda": "a Python lambda", "oo": "infinity", "zoo": "complex infinity",
}

Key = tuple[str | int, ...]
_MISSING = object()


class SpecError(ValueError):
    """A network file that cannot be used, in one line: ``<file>: <key> (line N): <what was expected>``.

    ``source``, ``key``, ``line`` (None when unknown) and ``expected`` are kept for tools.
    """

    def __init__(self, source: str, key: str, expected: str, line: int | None = None, column: int | None = None):
        self.source, self.key, self.expected, self.line, self.column = source, key, expected, line, column
        where = key
        if line is not None:
            where += f" (line {line}, column {column})" if column is not None else f" (line {line})"
        super().__init__(_one_line(f"{source}: {where}: {expected}"))

    def __reduce__(self):
        return (type(self), (self.source, self.key, self.expected, self.line, self.column))


def _one_line(text: str) -> str:
    """Control characters (newlines above all) written as escapes, so a message stays one line."""
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Problem:
    """A network (or expression graph) with every number a worked example needs.

    ``values`` holds the first example's data and every parameter;
    ``examples`` the data of each example (one when the file has no
    ``[[examples]]``); ``drawn`` the parameters ``[train] init`` drew.
    """

    title: str
    notation: str
    source: str
    network: nn.Network | None
    graph: Graph
    values: Mapping[Symbol, float]
    examples: tuple[Mapping[Symbol, float], ...]
    reduction: str
    learning_rate: float
    update: str
    steps: int
    drawn: tuple[Symbol, ...] = ()
    init: Mapping[str, Any] | None = field(default=None, compare=False)


# ---------------------------------------------------------------- entry points


def load(path, *, notation: str | None = None) -> Problem:
    """The problem in the network file at ``path``; ``notation`` overrides the file's."""
    return loads(_read_text(path), source=str(path), notation=notation)


def loads(text: str, source: str = "<string>", *, notation: str | None = None) -> Problem:
    """The problem described by the TOML ``text`` (``source`` names it in errors).

    ``notation`` renames the network's quantities as that preset does; the
    file's values, named in the file's notation, follow them by position.
    """
    spec = _File(text, source)
    problem = _problem(spec)
    if notation is not None and notation != problem.notation:
        problem = _renamed(spec, problem, notation)
    return problem


def required_names(path_or_text) -> list[dict]:
    """Every name the file must give a value for, in order:
    ``{"name", "role", "latex", "given", "drawn"}`` with role ``input``, ``target``,
    ``weight``, ``bias`` (a [network]) or ``data``, ``parameter`` (a [graph]).
    ``given``: the file gives it (in every example, for data); ``drawn``: ``[train] init`` would draw it."""
    if isinstance(path_or_text, os.PathLike) or ("\n" not in path_or_text and "=" not in path_or_text):
        spec = _File(_read_text(path_or_text), str(path_or_text))
    else:
        spec = _File(path_or_text, "<string>")
    network, graph = _structure(spec, _notation(spec))
    roles = _roles(network, graph)
    given = _given_names(spec)
    drawable = spec.get(("train", "init")) is not _MISSING
    return [
        {
            "name": symbol.name, "role": role, "latex": graph.latex_name(symbol), "given": symbol.name in given,
            "drawn": drawable and role in _PARAMETER_ROLES and symbol.name not in given,
        }
        for symbol, role in roles.items()
    ]


def builtin_examples() -> dict[str, str]:
    """The built-in example files, name -> TOML text (``mazur``, ``3b1b``, ``softmax``, ``graph``, ``nielsen``)."""
    folder = resources.files("symprop.examples")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: _example_order(f.name))
    return {f.name.removesuffix(".toml"): f.read_text(encoding="utf-8") for f in files}


def builtin_path(name: str):
    """Where the built-in example ``name`` lives (a path inside the installed package)."""
    file = resources.files("symprop.examples") / f"{name}.toml"
    if not file.is_file():
        raise SpecError("examples", name, f"no such built-in example: expected one of {', '.join(builtin_examples())}")
    return file


def load_builtin(name: str, *, notation: str | None = None) -> Problem:
    """The built-in example ``name`` as a :class:`Problem`."""
    return loads(builtin_path(name).read_text(encoding="utf-8"), source=f"{name}.toml", notation=notation)


def _example_order(filename: str) -> tuple[int, str]:
    first = ("mazur.toml", "3b1b.toml", "nielsen.toml", "softmax.toml", "graph.toml")
    return (first.index(filename) if filename in first else len(first), filename)


def _read_text(path) -> str:
    try:
        size = os.path.getsize(path)
        if size > MAX_TEXT_LENGTH:
            raise SpecError(str(path), "file", f"{size} bytes: a network file is at most {MAX_TEXT_LENGTH} bytes")
        return Path(path).read_bytes().decode("utf-8-sig")  # a byte-order mark (Windows editors) is dropped
    except UnicodeDecodeError as error:
        raise SpecError(str(path), "file", f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise SpecError(str(path), "file", f"cannot be read: {error.strerror or error}") from None


# ---------------------------------------------------------------- the file and its keys


class _File:
    """A parsed network file: typed access to its keys, and errors that point at them."""

    def __init__(self, text: str, source: str):
        self.text, self.source = text, source
        self.data = self._parse()

    def _parse(self) -> dict:
        if not isinstance(self.text, str):
            raise SpecError(self.source, "file", f"expected TOML text, got {type(self.text).__name__}")
        if len(self.text) > MAX_TEXT_LENGTH:
            raise SpecError(self.source, "file", f"a network file is at most {MAX_TEXT_LENGTH} characters")
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            raise _syntax_error(self.source, error) from None
        except RecursionError:
            raise SpecError(self.source, "TOML syntax", "arrays or tables nested too deeply") from None

    @cached_property
    def locator(self) -> _Locator:
        return _Locator(self.text)

    def error(self, key: Key, expected: str) -> SpecError:
        return SpecError(self.source, key_text(key), expected, self.locator.line(key))

    def get(self, key: Key, default=_MISSING):
        node = self.data
        for part in key:
            found = (isinstance(node, list) and 0 <= part < len(node)) if isinstance(part, int) else (
                isinstance(node, dict) and part in node
            )
            if not found:
                return default
            node = node[part]
        return node

    def require(self, key: Key, what: str):
        value = self.get(key)
        if value is _MISSING:
            raise self.error(key, f"missing: expected {what}{self._misspelling(key)}")
        return value

    def _misspelling(self, key: Key) -> str:
        parent = self.get(key[:-1])
        if not isinstance(parent, dict) or not isinstance(key[-1], str):
            return ""
        close = difflib.get_close_matches(key[-1], [k for k in parent if isinstance(k, str)], n=1)
        return f" (is {close[0]!r} a misspelling of {key[-1]!r}?)" if close else ""

    def table(self, key: Key, *, required: str | None = None) -> dict:
        value = self.require(key, required) if required else self.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {describe(value)}")
        return value

    def string(self, key: Key, default=_MISSING, *, what: str = "a string") -> str:
        value = self.require(key, what) if default is _MISSING else self.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"expected {what}, got {describe(value)}")
        return value

    def choice(self, key: Key, choices, default=_MISSING) -> str:
        options = ", ".join(choices)
        value = self.string(key, default, what=f"one of {options}")
        if value not in choices:
            raise self.error(key, f"unknown {key[-1]} {value!r}: expected one of {options}")
        return value

    def integer(self, key: Key, default=_MISSING, *, low: int, high: int, what: str,
                too_large: str = "is too many: at most {high}, as more would take very long") -> int:
        value = self.require(key, what) if default is _MISSING else self.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.error(key, f"expected {what}, got {describe(value)}")
        if value > high:
            raise self.error(key, f"{describe(value)} " + too_large.format(high=high))
        return value

    def number(self, key: Key, default=_MISSING, *, what: str = "a finite number") -> float:
        value = self.require(key, what) if default is _MISSING else self.get(key, default)
        number = finite_number(value)
        if number is None:
            raise self.error(key, f"expected {what}, got {describe(value)}")
        return number

    def names(self, key: Key, default=_MISSING, *, pattern=NAME, what: str = "names",
              in_expressions: bool = False) -> list[str] | None:
        value = self.require(key, f"a list of {what}") if default is _MISSING else self.get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of {what} (strings), got {describe(value)}")
        for name in value:
            check_name(self, key, name, pattern, in_expressions=in_expressions)
        repeated = _repeated(value)
        if repeated:
            raise self.error(key, f"duplicate name {repeated!r}: each name is used once")
        return value


def key_text(key: Key) -> str:
    """``("network", "layers", 0, "units")`` -> ``network.layers[0].units``."""
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "file"


def describe(value) -> str:
    """A value as the error message shows it (TOML spelling, cut short)."""
    if value is _MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = repr(value) if isinstance(value, (str, int, float, complex)) else f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def finite_number(value) -> float | None:
    """``value`` as a float when it is a finite TOML number (not a bool, nan or inf), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_name(spec: _File, key: Key, name: str, pattern=NAME, *, in_expressions: bool = False) -> None:
    """A name a file declares: identifier-like (so it can be a TOML key and never
    TeX), and in a [graph] not the name of a function its expressions call."""
    if not pattern.match(name):
        raise spec.error(key, f"{name!r} is not a usable name: expected a letter, then letters, digits or _ "
                         "(64 at most)")
    if in_expressions and name in EXPRESSION_FUNCTIONS:
        raise spec.error(key, f"{name!r} is the name of a function: choose another name")


def _repeated(names) -> str | None:
    seen = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _syntax_error(source: str, error: tomllib.TOMLDecodeError) -> SpecError:
    """tomllib's ``Invalid value (at line 3, column 9)`` as ``TOML syntax (line 3, column 9): invalid value``."""
    message = str(error)
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    end = re.search(r"\s*\(at end of document\)\s*$", message)
    what = message[: (where or end).start()] if (where or end) else message
    what = what[:1].lower() + what[1:]
    if where:
        return SpecError(source, "TOML syntax", what, int(where.group(1)), int(where.group(2)))
    return SpecError(source, "TOML syntax", what + (" (at the end of the file)" if end else ""))


# ---------------------------------------------------------------- building the problem


def _problem(spec: _File) -> Problem:
    title = _title(spec)
    notation = _notation(spec)
    reduction = spec.choice(("reduction",), REDUCTIONS, "mean")
    network, graph = _structure(spec, notation, title)
    learning_rate, update, steps, init = _train(spec, network)
    values, examples, drawn = _values(spec, network, graph, init)
    if network is None:
        update = "all"  # a graph has no weights: its parameters are what an update changes
    return Problem(title, notation, spec.source, network, graph, values, examples, reduction, learning_rate, update,
                   steps, drawn, init)


def _title(spec: _File) -> str:
    title = spec.string(("title",), "", what="a one-line title")
    if len(title) > 200 or re.search(r"[\x00-\x1f\x7f\u2028\u2029]", title):
        raise spec.error(("title",), "expected a title of one line, at most 200 characters")
    return title


def _notation(spec: _File) -> str:
    return spec.choice(("notation",), tuple(PRESETS), "plain")


def _structure(spec: _File, notation: str, title: str = "") -> tuple[nn.Network | None, Graph]:
    has_network, has_graph = "network" in spec.data, "graph" in spec.data
    if has_network and has_graph:
        raise spec.error(("graph",), "give either [network] (a layered network) or [graph] (an expression graph), "
                         "not both")
    if has_network:
        network = build_network(spec, notation, title)
        return network, network.graph
    if has_graph:
        return None, build_graph(spec)
    raise spec.error(("network",), "missing: give a [network] table (layers) or a [graph] table (nodes)"
                     + spec._misspelling(("network",)))


def _renamed(spec: _File, problem: Problem, notation: str) -> Problem:
    """The problem named by another notation preset; values move with their symbols' positions."""
    if notation not in PRESETS:
        raise SpecError(spec.source, "notation", f"unknown notation {notation!r}: expected one of {', '.join(PRESETS)}")
    if problem.network is None:
        return replace(problem, notation=notation)
    network = build_network(spec, notation, problem.title)
    old, new = problem.graph, network.graph
    rename = dict(zip((*old.inputs, *old.parameters), (*new.inputs, *new.parameters)))
    values = {rename[s]: v for s, v in problem.values.items()}
    examples = tuple({rename[s]: v for s, v in example.items()} for example in problem.examples)
    drawn = tuple(rename[s] for s in problem.drawn)
    return replace(problem, notation=notation, network=network, graph=new, values=values, examples=examples,
                    drawn=drawn)


# ---------------------------------------------------------------- [network]


def build_network(spec: _File, notation: str, title: str = "") -> nn.Network:
    """The layered network of ``[network]``, named by ``notation``."""
    spec.table(("network",), required="a table")
    inputs = _network_inputs(spec)
    layers = _layers(spec)
    _check_size(spec, inputs, layers)
    loss = spec.choice(("network", "loss"), LOSSES, "half_sse")
    _check_loss_fits(spec, loss, layers)
    targets = spec.names(("network", "targets"), None, what="target names")
    if targets is not None and len(targets) != layers[-1].units:
        raise spec.error(("network", "targets"), f"{len(targets)} targets named, but the output layer has "
                         f"{layers[-1].units} units: expected one target per output unit")
    clash = _repeated([*(inputs if isinstance(inputs, list) else []), *(targets or [])])
    if clash:
        raise spec.error(("network", "targets"), f"the name {clash!r} is both an input and a target: use distinct "
                         "names")
    try:
        return nn.mlp(inputs, layers, loss, targets=targets, notation=notation, title=title)
    except (nn.NetworkError, GraphError) as error:
        clash = _name_clash(spec, inputs, layers, loss, targets, notation)
        raise clash or spec.error(("network",), str(error)) from None


def _name_clash(spec: _File, inputs, layers, loss, targets, notation) -> SpecError | None:
    """Which input or target name is also a name the notation gives a parameter or node, if any."""
    try:
        generated = nn.mlp(len(inputs) if isinstance(inputs, list) else inputs, layers, loss, notation=notation).graph
    except (nn.NetworkError, GraphError):
        return None
    taken = {s.name for s in (*generated.parameters, *generated.nodes)}
    for key, names in ((("network", "inputs"), inputs), (("network", "targets"), targets)):
        clash = next((n for n in names if n in taken), None) if isinstance(names, list) else None
        if clash:
            return spec.error(key, f"{clash!r} is also the name notation {notation} gives a parameter or node of this "
                              "network: choose another name")
    return None


def _network_inputs(spec: _File) -> int | list[str]:
    key = ("network", "inputs")
    value = spec.require(key, "the inputs' names, or their count")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise spec.error(key, f"expected a positive count of inputs, got {value}")
        if value > MAX_PARAMETERS:
            raise spec.error(key, f"{value} inputs: at most {MAX_PARAMETERS}, as more would take very long")
        return value
    if not isinstance(value, list):
        raise spec.error(key, f"expected a list of input names or their count, got {describe(value)}")
    names = spec.names(key, what="input names")
    if not names:
        raise spec.error(key, "no inputs: expected at least one name")
    return names


def _layers(spec: _File) -> list[nn.Dense]:
    key = ("network", "layers")
    layers = spec.require(key, 'a list of layers like { units = 2, activation = "sigmoid" }')
    if not isinstance(layers, list):
        raise spec.error(key, 'expected a list of layers like { units = 2, activation = "sigmoid" }, got '
                         + describe(layers))
    if not layers:
        raise spec.error(key, "the network is empty: expected at least one layer")
    if len(layers) > MAX_LAYERS:
        raise spec.error(key, f"{len(layers)} layers: at most {MAX_LAYERS}, as deeper networks would take very long")
    return [_dense(spec, (*key, i)) for i in range(len(layers))]


def _dense(spec: _File, key: Key) -> nn.Dense:
    spec.table(key, required="a layer")
    units = spec.integer((*key, "units"), low=1, high=MAX_PARAMETERS, what="a positive whole number of units")
    activation = spec.choice((*key, "activation"), tuple(functions.ACTIVATIONS), "sigmoid")
    bias = spec.choice((*key, "bias"), nn.BIAS_MODES, "per_unit")
    names = spec.names((*key, "names"), None, pattern=UNIT_NAME, what="unit names")
    if names is not None and len(names) != units:
        raise spec.error((*key, "names"), f"{len(names)} names for {units} units: expected one name per unit")
    alpha = spec.number((*key, "alpha"), 0.01, what="a leaky ReLU slope between 0 and 1")
    if not 0 < alpha < 1:
        raise spec.error((*key, "alpha"), f"expected a leaky ReLU slope between 0 and 1, got {alpha!r}")
    return nn.Dense(units, activation, bias, names, alpha)


def _check_size(spec: _File, inputs, layers: list[nn.Dense]) -> None:
    width = inputs if isinstance(inputs, int) else len(inputs)
    total = 0
    for layer in layers:
        total += width * layer.units + {"per_unit": layer.units, "shared": 1, "none": 0}[layer.bias]
        width = layer.units
    if total > MAX_PARAMETERS:
        raise spec.error(("network", "layers"), f"{total} parameters: deriving more than {MAX_PARAMETERS} would take "
                         "very long; use fewer or narrower layers")


def _check_loss_fits(spec: _File, loss: str, layers: list[nn.Dense]) -> None:
    last = layers[-1].activation
    if loss == "softmax_cross_entropy" and last not in ("softmax", "identity"):
        raise spec.error(("network", "loss"), f"softmax_cross_entropy takes the logits: expected a last layer with "
                         f"activation softmax or identity, not {last}")
    if loss == "cross_entropy" and last not in ("sigmoid", "softmax"):
        raise spec.error(("network", "loss"), f"cross_entropy takes probabilities: expected a last layer with "
                         f"activation sigmoid or softmax, not {last}")


# ---------------------------------------------------------------- [graph]


def build_graph(spec: _File) -> Graph:
    """The expression graph of ``[graph]``: every name a real symbol, nodes in file order."""
    spec.table(("graph",), required="a table")
    inputs = spec.names(("graph", "inputs"), what="input names", in_expressions=True)
    parameters = spec.names(("graph", "parameters"), inputs, what="parameter names", in_expressions=True)
    strangers = [p for p in parameters if p not in inputs]
    if strangers:
        raise spec.error(("graph", "parameters"), f"{', '.join(strangers)} not in graph.inputs: a parameter is one of "
                         "the inputs")
    if not parameters:
        raise spec.error(("graph", "parameters"), "no parameters: expected at least one input to take gradients for")
    pairs = _nodes(spec, {name: Symbol(name, real=True) for name in inputs})
    output = _graph_output(spec, [node.name for node, _ in pairs])
    data = [Symbol(n, real=True) for n in inputs if n not in parameters]
    try:
        return Graph.from_pairs(pairs, inputs=data, parameters=[Symbol(p, real=True) for p in parameters],
                                output=Symbol(output, real=True))
    except GraphError as error:
        raise spec.error(("graph",), str(error)) from None


def _nodes(spec: _File, known: dict[str, Symbol]) -> list[tuple[Symbol, Expr]]:
    key = ("graph", "nodes")
    nodes = spec.require(key, 'a list of [name, expression] pairs like [["q", "x + y"], ["f", "q*z"]]')
    if not isinstance(nodes, list):
        raise spec.error(key, f'expected a list of [name, expression] pairs, got {describe(nodes)}')
    if not nodes:
        raise spec.error(key, "the graph is empty: expected at least one node")
    if len(nodes) > MAX_NODES:
        raise spec.error(key, f"{len(nodes)} nodes: at most {MAX_NODES}, as more would take very long")
    pairs = [_node_pair(spec, (*key, i)) for i in range(len(nodes))]
    later = {name: i for i, (name, _) in reversed(list(enumerate(pairs)))}
    symbols = dict(known)
    result = []
    for i, (name, text) in enumerate(pairs):
        if name in symbols:
            kind = "an input" if name in known else "an earlier node"
            raise spec.error((*key, i), f"node {name!r} has the name of {kind}: each name is assigned once")
        try:
            expr = parse_expression(text, symbols, later={n: j for n, j in later.items() if j >= i}, node=name)
        except ExpressionError as error:
            raise spec.error((*key, i), f"node {name!r}: {error}") from None
        symbols[name] = Symbol(name, real=True)
        result.append((symbols[name], expr))
    _check_reserved_names(spec, ("graph",), list(symbols))
    return result


def _node_pair(spec: _File, key: Key) -> tuple[str, str]:
    pair = spec.get(key)
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise spec.error(key, f'expected a pair ["name", "expression"], got {describe(pair)}')
    check_name(spec, key, pair[0], in_expressions=True)
    return pair[0], pair[1]


def _check_reserved_names(spec: _File, key: Key, names: list[str]) -> None:
    """``delta_q`` beside a node ``q`` would be mistaken for q's adjoint symbol."""
    present = set(names)
    for name in names:
        if name.startswith("delta_") and name.removeprefix("delta_") in present:
            raise spec.error(key, f"the name {name!r} is reserved for the adjoint of {name.removeprefix('delta_')!r}: "
                             "choose another name")


def _graph_output(spec: _File, nodes: list[str]) -> str:
    key = ("graph", "output")
    output = spec.string(key, nodes[-1], what="the name of a node")
    if output not in nodes:
        raise spec.error(key, f"{output!r} is not a node: expected one of {', '.join(nodes[:10])}"
                         + (", ..." if len(nodes) > 10 else ""))
    return output


# ---------------------------------------------------------------- expressions


class ExpressionError(ValueError):
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


# ---------------------------------------------------------------- [train]


def _train(spec: _File, network: nn.Network | None) -> tuple[float, str, int, dict | None]:
    spec.table(("train",))
    learning_rate = spec.number(("train", "learning_rate"), 0.5, what="a finite positive number")
    if learning_rate <= 0:
        raise spec.error(("train", "learning_rate"), f"expected a finite positive number, got {learning_rate!r}")
    update = spec.choice(("train", "update"), UPDATES, "weights")
    steps = spec.integer(("train", "steps"), 1, low=0, high=MAX_STEPS, what="a whole number of steps, 0 or more")
    return learning_rate, update, steps, _init(spec, network)


def _init(spec: _File, network: nn.Network | None) -> dict | None:
    """``[train] init``: how missing parameters are drawn (a method name, or a table with its settings)."""
    key = ("train", "init")
    raw = spec.get(key)
    if raw is _MISSING:
        return None
    if isinstance(raw, str):
        init = {"method": spec.choice(key, INIT_METHODS)}
    elif isinstance(raw, dict):
        init = {"method": spec.choice((*key, "method"), INIT_METHODS)}
    else:
        raise spec.error(key, f"expected a method ({', '.join(INIT_METHODS)}) or a table like "
                         f"{INIT_EXAMPLE.split('= ', 1)[1]}, got {describe(raw)}")
    init["seed"] = spec.integer((*key, "seed"), 0, low=0, high=2**63 - 1, what="a whole number seed, 0 or more",
                                too_large="is too large: a seed is at most {high}")
    if init["method"] == "uniform":
        init["low"] = spec.number((*key, "low"), -0.5)
        init["high"] = spec.number((*key, "high"), 0.5)
        if not init["low"] < init["high"]:
            raise spec.error((*key, "high"), f"expected high > low, got low = {init['low']!r}, high = {init['high']!r}")
    elif init["method"] == "normal":
        init["mean"] = spec.number((*key, "mean"), 0.0)
        init["std"] = spec.number((*key, "std"), 1.0, what="a finite positive standard deviation")
        if init["std"] <= 0:
            raise spec.error((*key, "std"), f"expected a finite positive standard deviation, got {init['std']!r}")
    elif network is None:
        raise spec.error((*key, "method"), "xavier draws from each layer's sizes: a [graph] has no layers, use "
                         "uniform or normal")
    if spec.get((*key, "decimals")) is not _MISSING:
        init["decimals"] = spec.integer((*key, "decimals"), low=0, high=15, what="a number of decimals, 0 to 15",
                                        too_large="decimals: at most {high}")
    return init


def draw_parameters(init: Mapping[str, Any], parameters, network: nn.Network | None) -> dict[Symbol, float]:
    """Values for ``parameters``, drawn in order from ``numpy.random.default_rng(seed)``.

    uniform: U(low, high); normal: N(mean, std^2); xavier (Glorot uniform):
    a weight of a layer with fan-in n_in and fan-out n_out from
    U(-sqrt(6 / (n_in + n_out)), +sqrt(6 / (n_in + n_out))), biases 0.
    """
    rng = np.random.default_rng(init["seed"])
    drawn = {}
    for parameter in parameters:
        if init["method"] == "uniform":
            value = rng.uniform(init["low"], init["high"])
        elif init["method"] == "normal":
            value = rng.normal(init["mean"], init["std"])
        else:
            value = _xavier(rng, parameter, network)
        value = float(value)
        drawn[parameter] = round(value, init["decimals"]) + 0.0 if "decimals" in init else value
    return drawn


def _xavier(rng: np.random.Generator, parameter: Symbol, network: nn.Network) -> float:
    layer = network.layer_of(parameter)
    if parameter not in layer.weight_parameters:
        return 0.0
    limit = math.sqrt(6 / (len(layer.inputs) + len(layer.nets)))
    return rng.uniform(-limit, limit)


# ---------------------------------------------------------------- [values] and [[examples]]

_PARAMETER_ROLES = ("weight", "bias", "parameter")


def _roles(network: nn.Network | None, graph: Graph) -> dict[Symbol, str]:
    """Every name a file gives a value for -> its role, in the order a reader meets them."""
    if network is not None:
        weights = set(network.weights)
        roles = {s: "input" for s in network.inputs} | {s: "target" for s in network.targets}
        return roles | {p: "weight" if p in weights else "bias" for p in network.parameters}
    return {s: "data" for s in graph.inputs} | {p: "parameter" for p in graph.parameters}


def _given_names(spec: _File) -> set[str]:
    """Names the file gives values for: in [values], or (data) in every example."""
    values = spec.get(("values",), {})
    given = set(values) if isinstance(values, dict) else set()
    examples = spec.get(("examples",))
    if isinstance(examples, list) and examples and all(isinstance(e, dict) for e in examples):
        given |= set.intersection(*(set(e) for e in examples))
    return given


def _values(spec: _File, network, graph: Graph, init) -> tuple[dict, tuple[dict, ...], tuple[Symbol, ...]]:
    roles = _roles(network, graph)
    data = [s for s, role in roles.items() if role not in _PARAMETER_ROLES]
    parameters = [s for s, role in roles.items() if role in _PARAMETER_ROLES]
    given = _given_values(spec, roles, graph)
    has_examples = "examples" in spec.data
    shared = [s.name for s in data if s in given]
    if has_examples and shared:
        raise spec.error(("values", shared[0]), f"{', '.join(shared)}: data is given in each [[examples]] table "
                         "when there are examples; remove it from [values]")
    examples = _examples(spec, roles, data) if has_examples else [{s: given[s] for s in data if s in given}]
    _check_batch_name(spec, graph, len(examples))
    missing_data = [s for s in data if s not in examples[0]]
    missing = [s for s in parameters if s not in given]
    if missing_data or (missing and init is None):
        _missing_error(spec, missing_data, [] if init is not None else missing)
    drawn = draw_parameters(init, missing, network) if missing else {}
    _check_targets(spec, network, examples)
    values = {**examples[0], **{p: given.get(p, drawn.get(p)) for p in parameters}}
    return values, tuple(examples), tuple(drawn)


def _given_values(spec: _File, roles: dict[Symbol, str], graph: Graph) -> dict[Symbol, float]:
    table = spec.table(("values",))
    by_name = {s.name: s for s in roles}
    nodes = {s.name for s in graph.nodes}
    computed = [name for name in table if name in nodes]
    if computed:
        raise spec.error(("values", computed[0]), f"{', '.join(computed)}: computed by the network from the inputs "
                         "and parameters; remove from [values]")
    extra = [name for name in table if name not in by_name]
    if extra:
        raise spec.error(("values", extra[0]), f"{_listed(extra)}: not a name of the network; expected its inputs, "
                         "targets and parameters (symprop describe lists them)")
    return {by_name[name]: spec.number(("values", name)) for name in table}


def _examples(spec: _File, roles, data: list[Symbol]) -> list[dict[Symbol, float]]:
    key = ("examples",)
    examples = spec.get(key)
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise spec.error(key, f"expected [[examples]] tables, each giving one example's inputs and targets, got "
                         f"{describe(examples)}")
    if not examples:
        raise spec.error(key, "no examples: expected at least one [[examples]] table")
    if len(examples) > MAX_EXAMPLES:
        raise spec.error(key, f"{len(examples)} examples: at most {MAX_EXAMPLES}, as more would take very long")
    by_name = {s.name: s for s in data}
    known = {s.name for s in roles}
    result = []
    for i, example in enumerate(examples):
        wrong = [name for name in example if name not in by_name]
        if wrong:
            first = wrong[0]
            reason = "parameters stay in [values]" if first in known else "not an input or target of the network"
            raise spec.error((*key, i, first), f"{_listed(wrong)}: {reason}")
        missing = [s.name for s in data if s.name not in example]
        if missing:
            raise spec.error((*key, i), f"missing values for {_listed(missing)}: each example gives every input "
                             "and target")
        result.append({s: spec.number((*key, i, s.name)) for s in data})
    return result


def _missing_error(spec: _File, data: list[Symbol], parameters: list[Symbol]):
    names = [s.name for s in (*data, *parameters)]
    hint = f"; or have parameters drawn: {INIT_EXAMPLE}" if parameters else ""
    raise spec.error(("values",), f"missing values for {_listed(names)}: give each in [values]{hint}")


def _check_batch_name(spec: _File, graph: Graph, examples: int) -> None:
    """Several examples combine the output ``L`` into ``L_batch``: that name must be free."""
    batch = f"{graph.output.name}_batch"
    if examples > 1 and any(s.name == batch for s in (*graph.inputs, *graph.parameters, *graph.nodes)):
        raise spec.error(("examples",), f"the name {batch!r} is taken: with several examples it names the combined "
                         f"{graph.output.name}; rename it")


def _listed(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check_targets(spec: _File, network, examples) -> None:
    """Softmax with cross-entropy has dL/dz = y - t only when the targets sum to 1 (a one-hot label)."""
    if network is None or network.loss != "softmax_cross_entropy":
        return
    for i, example in enumerate(examples):
        total = sum(example[t] for t in network.targets)
        if abs(total - 1) > 1e-9:
            key = ("values",) if "examples" not in spec.data else ("examples", i)
            raise spec.error(key, f"the targets {', '.join(t.name for t in network.targets)} sum to {total:g}: "
                             "softmax_cross_entropy expects a one-hot label or probabilities summing to 1")


# ---------------------------------------------------------------- positions in the TOML text


class _Locator:
    """Line numbers of tables, keys and array items in a TOML text that tomllib accepted.

    tomllib gives no positions, so this scans the text once for table
    headers and ``key =`` assignments, stepping over strings and comments.
    TOML inline tables fit on one line, so an array item's line is also the
    line of every key inside it. Any surprise ends the scan: a missing line
    number is better than a wrong one.
    """

    def __init__(self, text: str):
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.places: dict[tuple, int] = {}
        self.values: dict[tuple, int] = {}
        self.arrays: dict[tuple, int] = {}
        try:
            self._scan()
        except (ValueError, IndexError):
            pass

    def line(self, key: Key) -> int | None:
        """The line of ``key``, or of the nearest enclosing table or item the text shows."""
        try:
            for end in range(len(key), 0, -1):
                offset = self._offset(tuple(key[:end]))
                if offset is not None:
                    return bisect_left(self.newlines, offset) + 1
        except (ValueError, IndexError):
            pass
        return None

    def _offset(self, key: tuple) -> int | None:
        if key in self.places:
            return self.places[key]
        if isinstance(key[-1], int) and key[:-1] in self.values:
            items = _item_offsets(self.text, self.values[key[:-1]])
            return items[key[-1]] if key[-1] < len(items) else None
        return None

    def _scan(self) -> None:
        text, pos, table = self.text, 0, ()
        while True:
            pos = _skip_blank(text, pos)
            if pos >= len(text):
                return
            start = pos
            if text[pos] == "[":
                table, pos = self._header(pos, start)
            else:
                keys, pos = _read_key(text, pos)
                pos = _skip_blank(text, pos, lines=False)
                if text[pos] != "=":
                    return
                path = (*table, *keys)
                self.places.setdefault(path, start)
                self.values.setdefault(path, pos + 1)
                pos = _skip_value(text, pos + 1)
            if pos <= start:
                return

    def _header(self, pos: int, start: int) -> tuple[tuple, int]:
        array = self.text.startswith("[[", pos)
        names, pos = _read_key(self.text, pos + (2 if array else 1))
        pos = _skip_blank(self.text, pos, lines=False) + (2 if array else 1)
        parent = ()
        for name in names[:-1]:
            parent = (*parent, name)
            if parent in self.arrays:
                parent = (*parent, self.arrays[parent])
        table = (*parent, names[-1])
        if array:
            self.places.setdefault(table, start)  # the array as a whole: its first table
            self.arrays[table] = self.arrays.get(table, -1) + 1
            table = (*table, self.arrays[table])
        self.places.setdefault(table, start)
        return table, pos


def _skip_blank(text: str, pos: int, lines: bool = True) -> int:
    """Past spaces (and, with ``lines``, newlines and comments)."""
    while pos < len(text):
        char = text[pos]
        if char in " \t" or (lines and char in "\r\n"):
            pos += 1
        elif char == "#" and lines:
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        else:
            return pos
    return pos


def _read_key(text: str, pos: int) -> tuple[tuple[str, ...], int]:
    """A dotted key (bare or quoted parts) starting at ``pos``."""
    parts = []
    while True:
        pos = _skip_blank(text, pos, lines=False)
        if text[pos] in "\"'":
            end = _skip_string(text, pos)
            parts.append(tomllib.loads(f"k = {text[pos:end]}")["k"])
        else:
            end = re.compile(r"[A-Za-z0-9_-]*").match(text, pos).end()
            if end == pos:
                raise ValueError("no key")
            parts.append(text[pos:end])
        pos = _skip_blank(text, end, lines=False)
        if pos >= len(text) or text[pos] != ".":
            return tuple(parts), pos
        pos += 1


def _skip_string(text: str, pos: int) -> int:
    for quotes in ('"""', "'''"):
        if text.startswith(quotes, pos):
            end = pos + 3
            while not text.startswith(quotes, end):
                end += 2 if quotes == '"""' and text[end] == "\\" else 1
            end += 3
            for _ in range(2):  # up to two quotes may end the content right before the delimiter
                end += end < len(text) and text[end] == quotes[0]
            return end
    quote, end = text[pos], pos + 1
    while text[end] != quote:
        end += 2 if quote == '"' and text[end] == "\\" else 1
    return end + 1


def _skip_value(text: str, pos: int) -> int:
    pos = _skip_blank(text, pos, lines=False)
    char = text[pos]
    if char in "\"'":
        return _skip_string(text, pos)
    if char in "[{":
        close = "]" if char == "[" else "}"
        pos += 1
        while True:
            before, pos = pos, _skip_blank(text, pos)
            if text[pos] == close:
                return pos + 1
            if char == "{":
                _, pos = _read_key(text, pos)
                pos = _skip_blank(text, pos, lines=False) + 1  # past '='
            pos = _skip_blank(text, _skip_value(text, pos))
            if text[pos] == ",":
                pos += 1
            if pos <= before:
                raise ValueError("the scan made no progress")
    end = pos
    while end < len(text) and text[end] not in ",]}\r\n#":
        end += 1
    return end


def _item_offsets(text: str, pos: int) -> list[int]:
    """Where each item of the array starting at ``pos`` begins."""
    pos = _skip_blank(text, pos, lines=False)
    if text[pos] != "[":
        return []
    offsets, pos = [], pos + 1
    while True:
        before, pos = pos, _skip_blank(text, pos)
        if text[pos] == "]":
            return offsets
        offsets.append(pos)
        pos = _skip_blank(text, _skip_value(text, pos))
        if text[pos] == ",":
            pos += 1
        if pos <= before:
            raise ValueError("the scan made no progress")
