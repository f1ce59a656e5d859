"""Network files: a TOML description of a network and its numbers, read into a :class:`Problem`.

The schema (any other key is refused, with the nearest name it may be a misspelling of)::

    title = "..."; notation = "mazur"; reduction = "mean"
    [network]   inputs (names or a count), targets, loss, layers = [{ units, activation, names, bias }]
    [graph]     inputs, parameters, nodes = [["q", "x + y"], ["f", "q*z"]], output      (instead of [network])
    [values]    every input, target and parameter, by name
    [[examples]]  the data (inputs and targets) of each example, when there are several
    [train]     learning_rate, update (weights | all), steps, init (how to draw missing parameters),
                input_gradients (true: gradients by every input too); a [graph] without [train] takes no step

Everything wrong with a file is a :class:`SpecError` whose message is one line,
``<file>: <key> (line N): <what was expected>``. Node expressions are checked
against a short list of Python syntax (numbers, declared names, ``+ - * / **``
and a few functions) before SymPy's parser sees them, so no file can run code.
Requests that would take very long (more than ``MAX_PARAMETERS`` parameters,
``MAX_LAYERS`` layers, ``MAX_NODES`` nodes, ``MAX_STEPS`` steps, ...) are
refused up front with that reason.

This module reads the numbers: ``[values]``, ``[[examples]]`` and ``[train]``
(drawing missing parameters), and ships the built-in examples. The rest of
the reading is done by :mod:`symprop.spec_file` (keys and their types),
:mod:`symprop.spec_structure` (``[network]`` and ``[graph]``),
:mod:`symprop.expressions` (node expressions) and :mod:`symprop.toml_text`
(where a key stands in the text).
"""
from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Mapping

import numpy as np
from sympy import Symbol

from symprop.model import nn
from symprop.model.collection import in_bulk
from symprop.model.graph import Graph
from symprop.model.notation import PRESETS
from symprop.model.losses import a_distribution
from symprop.files.spec_file import SpecError, SpecFile, read_text, refuse_unknown_keys, unknown_key_message
from symprop.files.spec_layers import array_value_keys, stack_xavier
from symprop.files.spec_structure import build_network, structure
from symprop.model.stack import LayerStack
from symprop.files.toml_text import MISSING, describe

MAX_STEPS = 100_000
MAX_EXAMPLES = 10_000
#: The largest size of ``[train] init``'s low, high, mean and std: draws stay finite in float64.
MAX_INIT_SIZE = 1e300
REDUCTIONS = ("mean", "sum")
UPDATES = ("weights", "all")
INIT_METHODS = ("uniform", "normal", "xavier")
#: The keys a file may have at its top level, in [train], and in [train] init for each method.
TOP_KEYS = ("title", "title_ko", "notation", "reduction", "network", "graph", "values", "examples", "train")
TRAIN_KEYS = ("learning_rate", "update", "steps", "init", "input_gradients")
INIT_KEYS = {
    "uniform": ("method", "seed", "low", "high", "decimals"),
    "normal": ("method", "seed", "mean", "std", "decimals"),
    "xavier": ("method", "seed", "decimals"),
}
INIT_EXAMPLE = '[train] init = { method = "uniform", low = -0.5, high = 0.5, seed = 0 }'


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
    network: nn.Network | LayerStack | None
    graph: Graph
    values: Mapping[Symbol, float]
    examples: tuple[Mapping[Symbol, float], ...]
    reduction: str
    learning_rate: float
    update: str
    steps: int
    drawn: tuple[Symbol, ...] = ()
    init: Mapping[str, Any] | None = field(default=None, compare=False)
    #: ``[train] input_gradients``: derive the gradient by every input as well
    input_gradients: bool = False
    #: ``title_ko``: the title of the Korean documents ("" when the file gives none)
    title_ko: str = ""

    def title_in(self, lang: str) -> str:
        """The title of a document in ``lang``: ``title_ko`` for Korean when the file has one."""
        return self.title_ko if lang == "ko" and self.title_ko else self.title

    def _repr_markdown_(self) -> str:
        """Shown in a notebook: the title and source, the network (or graph), the examples and the training."""
        shape = self.network.describe() if self.network is not None else (
            f"a graph of {len(self.graph.nodes)} nodes and {len(self.graph.parameters)} parameters")
        examples = f"{len(self.examples)} example{'s' * (len(self.examples) != 1)}"
        training = f"{self.steps} step{'s' * (self.steps != 1)} at learning rate {self.learning_rate}, update {self.update}"
        title = self.title or "Untitled problem"
        return f"**{title}** (`{self.source}`): {shape}; {examples}; {training}\n"


# ---------------------------------------------------------------- entry points


def load(path, *, notation: str | None = None) -> Problem:
    """The problem in the network file at ``path``; ``notation`` overrides the file's."""
    return loads(read_text(path), source=str(path), notation=notation)


@in_bulk  # a large network's symbols, equations and values: no cycle collection meanwhile
def loads(text: str, source: str = "<string>", *, notation: str | None = None) -> Problem:
    """The problem described by the TOML ``text`` (``source`` names it in errors).

    ``notation`` renames the network's quantities as that preset does; the
    file's values, named in the file's notation, follow them by position.
    """
    spec = SpecFile(text, source)
    problem = _problem(spec)
    if notation is not None and notation != problem.notation:
        problem = _renamed(spec, problem, notation)
    return problem


def required_names(path_or_text, *, source: str | None = None) -> list[dict]:
    """Every name the file must give a value for, in order:
    ``{"name", "role", "latex", "given", "drawn"}`` with role ``input``, ``target``,
    ``weight``, ``bias`` (a [network]) or ``data``, ``parameter`` (a [graph]).
    ``given``: the file gives it (in every example, for data); ``drawn``: ``[train] init`` would draw it.
    With ``source``, ``path_or_text`` is the text of the file ``source`` names."""
    if source is not None:  # text read elsewhere (standard input)
        spec = SpecFile(path_or_text, source)
    elif isinstance(path_or_text, os.PathLike) or ("\n" not in path_or_text and "=" not in path_or_text):
        spec = SpecFile(read_text(path_or_text), str(path_or_text))
    else:
        spec = SpecFile(path_or_text, "<string>")
    network, graph = structure(spec, _notation(spec))
    _refuse_unknown_tables(spec)
    refuse_unknown_keys(spec, ("train",), TRAIN_KEYS, "in [train]")
    roles = _roles(network, graph)
    given = _given_names(spec, roles, network)
    drawable = spec.get(("train", "init")) is not MISSING
    return [
        {
            "name": symbol.name, "role": role, "latex": graph.latex_name(symbol), "given": symbol.name in given,
            "drawn": drawable and role in _PARAMETER_ROLES and symbol.name not in given,
        }
        for symbol, role in roles.items()
    ]


def builtin_examples() -> dict[str, str]:
    """The built-in example files, name -> TOML text (``mazur``, ``3b1b``, ``softmax``, ``graph``, ``nielsen``,
    ``conv``, ``cnn``)."""
    folder = resources.files("symprop.files.examples")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: _example_order(f.name))
    return {f.name.removesuffix(".toml"): f.read_text(encoding="utf-8") for f in files}


def builtin_path(name: str):
    """Where the built-in example ``name`` lives (a path inside the installed package)."""
    file = resources.files("symprop.files.examples") / f"{name}.toml"
    if not file.is_file():
        raise SpecError("examples", name, f"no such built-in example: expected one of {', '.join(builtin_examples())}")
    return file


def load_builtin(name: str, *, notation: str | None = None) -> Problem:
    """The built-in example ``name`` as a :class:`Problem`."""
    return loads(builtin_path(name).read_text(encoding="utf-8"), source=f"{name}.toml", notation=notation)


def _example_order(filename: str) -> tuple[int, str]:
    first = ("mazur.toml", "3b1b.toml", "nielsen.toml", "softmax.toml", "graph.toml", "conv.toml", "cnn.toml", "rnn.toml",
             "layernorm.toml")
    return (first.index(filename) if filename in first else len(first), filename)


# ---------------------------------------------------------------- building the problem


def _problem(spec: SpecFile) -> Problem:
    title, title_ko = _title(spec), _title(spec, "title_ko")
    notation = _notation(spec)
    reduction = spec.choice(("reduction",), REDUCTIONS, "mean")
    network, graph = structure(spec, notation, title)
    _refuse_unknown_tables(spec)
    learning_rate, update, steps, init = _train(spec, network)
    values, examples, drawn = _values(spec, network, graph, init)
    if network is None:
        update = "all"  # a graph has no weights: its parameters are what an update changes
        if "train" not in spec.data:
            steps = 0  # a graph is differentiated, not trained, unless its file asks
    return Problem(title, notation, spec.source, network, graph, values, examples, reduction, learning_rate, update,
                   steps, drawn, init, spec.flag(("train", "input_gradients")), title_ko)


def _refuse_unknown_tables(spec: SpecFile) -> None:
    """A misspelled table (``[trian]``) or top-level key, refused rather than ignored."""
    for name, value in spec.data.items():
        if name not in TOP_KEYS:
            raise spec.error((name,), unknown_key_message(name, TOP_KEYS, "at the top level",
                                                          table=isinstance(value, dict)))


def _title(spec: SpecFile, key: str = "title") -> str:
    """``title`` (or ``title_ko``, the Korean documents' title): one line of at most 200 characters."""
    title = spec.string((key,), "", what="a one-line title")
    if len(title) > 200 or re.search(r"[\x00-\x1f\x7f\u2028\u2029]", title):
        raise spec.error((key,), "expected a title of one line, at most 200 characters")
    return title


def _notation(spec: SpecFile) -> str:
    return spec.choice(("notation",), tuple(PRESETS), "plain")


def _renamed(spec: SpecFile, problem: Problem, notation: str) -> Problem:
    """The problem named by another notation preset; values move with their symbols' positions."""
    if notation not in PRESETS:
        raise SpecError(spec.source, "notation", f"unknown notation {notation!r}: expected one of {', '.join(PRESETS)}")
    if isinstance(problem.network, LayerStack):  # refused, not ignored: nothing in a stack would change
        raise SpecError(spec.source, "notation", f"notation {notation!r} renames the quantities of dense layers; a "
                        "layer stack names its arrays W1, b1, ... in every notation: expected no notation option")
    if not isinstance(problem.network, nn.Network):
        return replace(problem, notation=notation)
    network = build_network(spec, notation, problem.title)
    old, new = problem.graph, network.graph
    rename = dict(zip((*old.inputs, *old.parameters), (*new.inputs, *new.parameters)))
    values = {rename[s]: v for s, v in problem.values.items()}
    examples = tuple({rename[s]: v for s, v in example.items()} for example in problem.examples)
    drawn = tuple(rename[s] for s in problem.drawn)
    return replace(problem, notation=notation, network=network, graph=new, values=values, examples=examples,
                    drawn=drawn)


# ---------------------------------------------------------------- [train]


def _train(spec: SpecFile, network: nn.Network | None) -> tuple[float, str, int, dict | None]:
    spec.table(("train",))
    refuse_unknown_keys(spec, ("train",), TRAIN_KEYS, "in [train]")
    learning_rate = spec.number(("train", "learning_rate"), 0.5, what="a finite positive number")
    if learning_rate <= 0:
        raise spec.error(("train", "learning_rate"), f"expected a finite positive number, got {learning_rate!r}")
    update = spec.choice(("train", "update"), UPDATES, "weights")
    steps = spec.integer(("train", "steps"), 1, low=0, high=MAX_STEPS, what="a whole number of steps, 0 or more")
    return learning_rate, update, steps, _init(spec, network)


def _init(spec: SpecFile, network: nn.Network | None) -> dict | None:
    """``[train] init``: how missing parameters are drawn (a method name, or a table with its settings)."""
    key = ("train", "init")
    raw = spec.get(key)
    if raw is MISSING:
        return None
    if isinstance(raw, str):
        init = {"method": spec.choice(key, INIT_METHODS)}
    elif isinstance(raw, dict):
        init = {"method": spec.choice((*key, "method"), INIT_METHODS)}
    else:
        raise spec.error(key, f"expected a method ({', '.join(INIT_METHODS)}) or a table like "
                         f"{INIT_EXAMPLE.split('= ', 1)[1]}, got {describe(raw)}")
    refuse_unknown_keys(spec, key, INIT_KEYS[init["method"]], f"in [train] init ({init['method']})")
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
    _check_init_range(spec, key, init)
    if spec.get((*key, "decimals")) is not MISSING:
        init["decimals"] = spec.integer((*key, "decimals"), low=0, high=15, what="a number of decimals, 0 to 15",
                                        too_large="decimals: at most {high}")
    return init


def _check_init_range(spec: SpecFile, key, init: dict) -> None:
    """Drawing stays inside float64: NumPy refuses a uniform range wider than the largest
    float (``high - low`` overflows), and a normal draw near it overflows to infinity."""
    for name in ("low", "high", "mean", "std"):
        if name in init and abs(init[name]) > MAX_INIT_SIZE:
            raise spec.error((*key, name), f"{init[name]!r} is too large: {name} is at most {MAX_INIT_SIZE:g} in "
                             "size, as larger draws overflow float64")


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


def _xavier(rng: np.random.Generator, parameter: Symbol, network: nn.Network | LayerStack) -> float:
    """Fan-in and fan-out as PyTorch counts them: a kernel ``(F, C, kh, kw)`` has ``C kh kw`` and ``F kh kw``."""
    if isinstance(network, LayerStack):
        return stack_xavier(rng, parameter, network)
    layer = network.layer_of(parameter)
    if parameter not in layer.weight_set:
        return 0.0
    limit = math.sqrt(6 / (len(layer.inputs) + len(layer.nets)))
    return rng.uniform(-limit, limit)


# ---------------------------------------------------------------- [values] and [[examples]]

_PARAMETER_ROLES = ("weight", "bias", "parameter")


def _roles(network: nn.Network | None, graph: Graph) -> dict[Symbol, str]:
    """Every name a file gives a value for -> its role, in the order a reader meets them."""
    if network is not None:
        weights = set(network.weights)
        target = "upstream" if nn.LOSS_RECORDS[network.loss].given else "target"
        roles = {s: "input" for s in network.inputs} | {s: target for s in network.targets}
        return roles | {p: "weight" if p in weights else "bias" for p in network.parameters}
    upstream = set(nn.upstream_inputs(graph))
    return ({s: "upstream" if s in upstream else "data" for s in graph.inputs}
            | {p: "parameter" for p in graph.parameters})



def _given_names(spec: SpecFile, roles: dict[Symbol, str], network=None) -> set[str]:
    """Names the file gives values for: in [values], or (data) in every example; a vector
    (the upstream gradient ``g = [...]``) or an array (``W1 = [[[[...]]]]``) gives each of its entries."""
    vectors = _vectors(roles, network)
    values = spec.get(("values",), {})
    given = set(_value_keys(spec, ("values",), values, vectors)) if isinstance(values, dict) else set()
    examples = spec.get(("examples",))
    if isinstance(examples, list) and examples and all(isinstance(e, dict) for e in examples):
        given |= set.intersection(*(set(_value_keys(spec, ("examples", i), e, vectors))
                                    for i, e in enumerate(examples)))
    return given


def _values(spec: SpecFile, network, graph: Graph, init) -> tuple[dict, tuple[dict, ...], tuple[Symbol, ...]]:
    roles = _roles(network, graph)
    data = [s for s, role in roles.items() if role not in _PARAMETER_ROLES]
    parameters = [s for s, role in roles.items() if role in _PARAMETER_ROLES]
    given = _given_values(spec, roles, graph, network)
    has_examples = "examples" in spec.data
    shared = [s.name for s in data if s in given]
    if has_examples and shared:
        raise spec.error(("values", shared[0]), f"{', '.join(shared)}: data is given in each [[examples]] table "
                         "when there are examples; remove it from [values]")
    examples = _examples(spec, roles, data, network) if has_examples else [{s: given[s] for s in data if s in given}]
    _check_batch_name(spec, graph, len(examples))
    missing_data = [s for s in data if s not in examples[0]]
    missing = [s for s in parameters if s not in given]
    if missing_data or (missing and init is None):
        _missing_error(spec, missing_data, [] if init is not None else missing)
    drawn = draw_parameters(init, missing, network) if missing else {}
    _check_targets(spec, network, examples)
    values = {**examples[0], **{p: given.get(p, drawn.get(p)) for p in parameters}}
    return values, tuple(examples), tuple(drawn)


def _given_values(spec: SpecFile, roles: dict[Symbol, str], graph: Graph, network) -> dict[Symbol, float]:
    table = spec.table(("values",))
    by_name = {s.name: s for s in roles}
    nodes = {s.name for s in graph.nodes}
    computed = [name for name in table if name in nodes]
    if computed:
        raise spec.error(("values", computed[0]), f"{', '.join(computed)}: computed by the network from the inputs "
                         "and parameters; remove from [values]")
    keys = _value_keys(spec, ("values",), table, _vectors(roles, network))
    extra = [name for name in keys if name not in by_name]
    if extra:
        raise spec.error(("values", extra[0]), f"{_listed(extra)}: not a name of the network; "
                         + _nearest(extra[0], by_name, "expected its inputs, targets and parameters (symprop describe "
                                    "lists them)"))
    return {by_name[name]: spec.number(key) for name, key in keys.items()}


def _vectors(roles: dict[Symbol, str], network=None) -> dict[str, tuple[Symbol, ...] | np.ndarray]:
    """Names a file may give as a list, one number per entry: the upstream gradient ``g``; in a
    stack, every array (input, targets, parameters) as nested lists shaped like it."""
    if isinstance(network, LayerStack):
        arrays = [network.input, *network.states, network.target,
                  *(a for layer in network.layers for a in layer.parameters.values())]
        return {a.flat[0].name.split("[")[0]: a for a in arrays if a.size}
    given = [s for s, role in roles.items() if role == "upstream"]
    return {nn.LOSS_RECORDS["upstream"].given_vector: tuple(given)} if given else {}


def _value_keys(spec: SpecFile, key, table: dict, vectors: dict[str, tuple[Symbol, ...]]) -> dict[str, tuple]:
    """Each name ``table`` gives a number for -> its key; a vector name given as a list
    (``g = [0.1, -0.2]``, one number per output) stands for each of its entries."""
    keys = {}
    for name, value in table.items():
        if isinstance(vectors.get(name), np.ndarray):
            keys.update(array_value_keys(spec, (*key, name), value, vectors[name]))
            continue
        if name not in vectors or not isinstance(value, list):
            keys[name] = (*key, name)
            continue
        entries = vectors[name]
        if len(value) != len(entries):
            raise spec.error((*key, name), f"expected {len(entries)} numbers, one per output "
                             f"({', '.join(e.name for e in entries)}), got {len(value)}")
        keys.update({entry.name: (*key, name, i) for i, entry in enumerate(entries)})
    return keys


def _examples(spec: SpecFile, roles, data: list[Symbol], network=None) -> list[dict[Symbol, float]]:
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
    result, vectors = [], _vectors(roles, network)
    for i, table in enumerate(examples):
        example = _value_keys(spec, (*key, i), table, vectors)
        wrong = [name for name in example if name not in by_name]
        if wrong:
            first = wrong[0]
            reason = "parameters stay in [values]" if first in known else (
                "not an input or target of the network" + _nearest(first, by_name, "", prefix="; "))
            raise spec.error((*key, i, first), f"{_listed(wrong)}: {reason}")
        missing = [s.name for s in data if s.name not in example]
        if missing:
            raise spec.error((*key, i), f"missing values for {_listed(missing)}: each example gives every input "
                             "and target")
        result.append({s: spec.number(example[s.name]) for s in data})
    return result


def _missing_error(spec: SpecFile, data: list[Symbol], parameters: list[Symbol]):
    names = [s.name for s in (*data, *parameters)]
    hint = f"; or have parameters drawn: {INIT_EXAMPLE}" if parameters else ""
    raise spec.error(("values",), f"missing values for {_listed(names)}: give each in [values]{hint}")


def _check_batch_name(spec: SpecFile, graph: Graph, examples: int) -> None:
    """Several examples combine the output ``L`` into ``L_batch``: that name must be free."""
    batch = f"{graph.output.name}_batch"
    if examples > 1 and any(s.name == batch for s in (*graph.inputs, *graph.parameters, *graph.nodes)):
        raise spec.error(("examples",), f"the name {batch!r} is taken: with several examples it names the combined "
                         f"{graph.output.name}; rename it")


def _nearest(name: str, names, otherwise: str, prefix: str = "") -> str:
    """``did you mean 'w5'?`` when one of ``names`` is close to ``name``, else ``otherwise``."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"{prefix}did you mean {close[0]!r}?" if close else otherwise


def _listed(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check_targets(spec: SpecFile, network, examples) -> None:
    """Softmax with cross-entropy has dL/dz = y - t only when the targets sum to 1 (a one-hot label)."""
    if network is None or network.loss != "softmax_cross_entropy":
        return
    for i, example in enumerate(examples):
        total = sum(example[t] for t in network.targets)
        if not a_distribution(total):
            key = ("values",) if "examples" not in spec.data else ("examples", i)
            raise spec.error(key, f"the targets {', '.join(t.name for t in network.targets)} sum to {total:g}: "
                             "softmax_cross_entropy expects a one-hot label or probabilities summing to 1")

