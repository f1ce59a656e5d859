"""Generated network files, valid and broken, thrown at the loader and the engine.

Each file is either derived or refused with a one-line :class:`SpecError`;
any other exception is a bug. 1,000 files when ``CI`` is set, 100 otherwise.
Networks stay small (at most 3 units, 2 layers, 4 nodes) so the run is fast.
"""
from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symprop.engine import backprop

from symprop.files import spec

from symprop.files import spec_structure
from symprop.files.spec import SpecError

SOURCE = "fuzz.toml"
EXAMPLES = 1000 if os.environ.get("CI") else 100

# ---------------------------------------------------------------- writing TOML


def toml_value(value) -> str:
    """TOML for ``value``; None (which TOML lacks) writes nothing, a syntax error."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def toml_text(document: dict) -> str:
    """Top-level values, then one [table] per dict, then [[examples]] tables."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in document.items() if not isinstance(v, dict)
             and k != "examples"]
    for name, table in document.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_key(name)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    examples = document.get("examples")
    if isinstance(examples, list) and all(isinstance(e, dict) for e in examples):
        for example in examples:
            lines.append("[[examples]]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in example.items()]
    elif "examples" in document:
        lines.insert(0, f"examples = {toml_value(examples)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- strategies

JUNK = st.one_of(
    st.booleans(), st.integers(-3, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.integers(0, 3), max_size=2), st.just({"a": 1}),
)
NAMES = ["x", "y", "z", "w", "i1", "i2", "E", "I", "S", "N", "O", "Q", "pi", "beta", "gamma", "lambda", "Integer",
         "if", "a0", "w1", "b1", "t1", "net_h1", "delta_x", "exp"]
BAD_NAMES = ["", "1x", "h 1", "__import__", "x.y", "é", "a" * 70]
NASTY = [
    "__import__('os')", "__import__('os').system('true')", "x.__class__", "().__class__", "open('f')", "x[0]",
    "lambda: 0", "[a for a in b]", "'text'", "x if y else z", "x < y", "x ^ 2", "x // 2", "1/0", "log(0)",
    "sqrt(-1)", "10**10**10", "(2*x)**10**12", "1e400", "(", "x +", "", "x; y", "sigmoid", "sigmoid(x, y)",
    "Max()", "eval('1')", "E", "I*x", "pi", "x\ny", "ｘ", "sigmoid(" * 31 + "x" + ")" * 31,
]
FUNCTIONS = ["sigmoid", "relu", "tanh", "exp", "log", "sqrt", "Abs", "softplus", "leaky_relu"]


def choose(valid, invalid, broken: float = 0.04):
    """Mostly a valid value, sometimes (``broken`` of the time) an invalid one.

    Each field breaks rarely, so that about half of the files are valid and
    the rest fail in one place each, spread over every kind of refusal."""
    # Hypothesis leans toward small draws (0 is where it starts and shrinks to): 0 means valid.
    return st.integers(0, 99).flatmap(lambda r: invalid if r >= 100 - broken * 100 else valid)


def expressions(names: list[str]):
    numbers = st.one_of(st.integers(-5, 5).map(str), st.sampled_from(["0.5", "1e-3", "2.25", "1/3"]))
    leaves = st.one_of(st.sampled_from(names), numbers) if names else numbers
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map("({0[0]} {0[1]} {0[2]})".format),
            st.tuples(st.sampled_from(FUNCTIONS), inner).map("{0[0]}({0[1]})".format),
            st.tuples(st.sampled_from(["Max", "Min", "leaky_relu"]), inner, inner).map("{0[0]}({0[1]}, {0[2]})".format),
            inner.map(lambda e: f"-{e}"),
        ),
        max_leaves=5,
    )


def layers():
    layer = st.fixed_dictionaries(
        {"units": choose(st.integers(1, 3), st.one_of(st.integers(-1, 0), JUNK))},
        optional={
            "activation": choose(st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity",
                                                  "softmax"]), st.one_of(st.just("sigmod"), JUNK)),
            "bias": choose(st.sampled_from(["per_unit", "shared", "none"]), st.one_of(st.just("both"), JUNK)),
            "alpha": choose(st.sampled_from([0.01, 0.2]), JUNK),
        },
    )
    return choose(st.lists(layer, min_size=1, max_size=2), st.one_of(st.just([]), JUNK))


@st.composite
def network_table(draw):
    inputs = draw(choose(
        st.one_of(st.integers(1, 3), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)),
        st.one_of(st.just(0), st.lists(st.sampled_from(BAD_NAMES + NAMES), max_size=3), JUNK),
    ))
    table = {"inputs": inputs, "layers": draw(layers())}
    if draw(st.booleans()):
        table["loss"] = draw(choose(st.sampled_from(spec_structure.LOSSES), st.one_of(st.just("hinge"), JUNK)))
    if draw(st.integers(0, 19)) == 19:
        table["targets"] = draw(st.lists(st.sampled_from(NAMES + BAD_NAMES), max_size=3))
    if isinstance(table["layers"], list) and table["layers"] and isinstance(table["layers"][0], dict):
        if draw(st.integers(0, 19)) == 19:  # unit names, sometimes of the wrong count
            table["layers"][0]["names"] = draw(st.lists(st.sampled_from(["h1", "h2", "h3", "o1", "h 1"]), max_size=3))
    return table


@st.composite
def graph_table(draw):
    inputs = draw(choose(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True),
                         st.one_of(st.lists(st.sampled_from(NAMES + BAD_NAMES), max_size=3), JUNK)))
    names = [n for n in inputs if isinstance(n, str)] if isinstance(inputs, list) else []
    nodes, node_names = [], []
    for index in range(draw(choose(st.integers(1, 4), st.just(0)))):
        name = draw(choose(st.just(f"n{index}"), st.sampled_from(NAMES + BAD_NAMES + ["n0"])))
        expression = draw(choose(expressions(names + node_names),
                                 st.one_of(st.sampled_from(NASTY), st.just(f"n{index + 1} + 1"), st.just(name)),
                                 broken=0.08))
        nodes.append(draw(choose(st.just([name, expression]), st.one_of(st.just([name]), JUNK), broken=0.02)))
        node_names.append(name)
    table = {"inputs": inputs, "nodes": nodes}
    if draw(st.integers(0, 3)) == 0:
        table["parameters"] = draw(choose(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
                                          if names else st.just([]), st.lists(st.sampled_from(names + ["zz"]))))
    if draw(st.integers(0, 3)) == 0 and node_names:
        table["output"] = draw(choose(st.sampled_from(node_names), st.sampled_from(["nope", *names])))
    return table


def numbers(one_hot: bool = False):
    valid = st.sampled_from([0.0, 1.0]) if one_hot else st.floats(-3, 3, allow_nan=False).map(lambda f: round(f, 3))
    return choose(valid, st.one_of(st.floats(allow_nan=True, allow_infinity=True), JUNK), broken=0.01)


@st.composite
def train_table(draw):
    keys = {
        "learning_rate": choose(st.sampled_from([0.1, 0.5, 1]), st.one_of(st.just(0), JUNK)),
        "update": choose(st.sampled_from(["weights", "all"]), st.one_of(st.just("biases"), JUNK)),
        "steps": choose(st.integers(0, 3), st.one_of(st.just(-1), st.just(10**6), JUNK)),
        "init": choose(
            st.one_of(st.sampled_from(["uniform", "normal", "xavier"]),
                      st.fixed_dictionaries({"method": st.sampled_from(["uniform", "normal", "xavier"])},
                                            optional={"seed": st.integers(0, 9), "low": st.just(-1.0),
                                                      "high": st.just(1.0), "std": st.just(0.5),
                                                      "decimals": st.integers(0, 3)})),
            st.one_of(st.just("he"), st.just({"method": "uniform", "low": 1, "high": 0}), JUNK),
        ),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(keys)), unique=True, max_size=4))
    return {key: draw(keys[key]) for key in chosen}


@st.composite
def network_files(draw) -> str:
    """A network file: a structure, then values for the names it needs (or some wrong ones)."""
    document: dict = {}
    if draw(st.booleans()):
        document["title"] = draw(choose(st.sampled_from(["A title", "Ünïcode ✓"]),
                                        st.one_of(st.just("two\nlines"), JUNK)))
    if draw(st.booleans()):
        document["notation"] = draw(choose(st.sampled_from(sorted(spec.PRESETS)), st.one_of(st.just("gb"), JUNK)))
    if draw(st.integers(0, 3)) == 0:
        document["reduction"] = draw(choose(st.sampled_from(["mean", "sum"]), st.one_of(st.just("max"), JUNK)))
    kind = draw(st.sampled_from(["network"] * 20 + ["graph"] * 20 + ["both", "neither"]))
    if kind in ("network", "both"):
        document["network"] = draw(network_table())
    if kind in ("graph", "both"):
        document["graph"] = draw(graph_table())
    if draw(st.booleans()):
        document["train"] = draw(train_table())
    document.update(draw(values_for(toml_text(document))))
    return draw(corrupted(toml_text(document)))


@st.composite
def values_for(draw, structure: str) -> dict:
    """[values] (and maybe [[examples]]) for the names ``structure`` needs: each name given,
    left out, or given a bad value; sometimes an extra name."""
    try:
        required = spec.required_names(structure)
    except SpecError:
        required = [{"name": n, "role": "data"} for n in draw(st.lists(st.sampled_from(NAMES), max_size=3))]
    one_hot = '"softmax_cross_entropy"' in structure
    data = [r["name"] for r in required if r["role"] in ("input", "target", "data")]
    parameters = [r["name"] for r in required if r["name"] not in data]
    targets = [r["name"] for r in required if r["role"] == "target"]
    values = {}
    for name in parameters:
        if draw(st.integers(0, 99)) < 99 or "init" in structure:
            if draw(st.integers(0, 99)) < 99:
                values[name] = draw(numbers())
    several = draw(st.integers(0, 5)) == 5
    examples = [dict() for _ in range(draw(st.integers(1, 3)) if several else 1)]
    for example in examples:
        hot = draw(st.integers(0, max(len(targets) - 1, 0)))
        for name in data:
            if draw(st.integers(0, 99)) < 99:
                example[name] = (float(targets.index(name) == hot) if one_hot and name in targets
                                 else draw(numbers()))
    if draw(st.integers(0, 49)) == 49:
        values[draw(st.sampled_from(NAMES + ["extra"]))] = draw(numbers())
    document = {"values": values}
    if several:
        document["examples"] = examples
    else:
        values.update(examples[0])
    return document


@st.composite
def corrupted(draw, text: str) -> str:
    """The text as is (mostly), or with a few characters deleted, inserted or lines swapped."""
    damage = draw(st.integers(0, 19))
    if damage < 17 or not text:
        return text
    if damage == 17:
        start = draw(st.integers(0, len(text) - 1))
        return text[:start] + draw(st.sampled_from(["[", "]", "{", "}", "=", '"', "'", "#", "\n", ",", ".", "\x00"])) \
            + text[start + draw(st.integers(0, 2)):]
    lines = text.splitlines(keepends=True)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


# ---------------------------------------------------------------- the property


def derived_or_refused(text: str) -> None:
    try:
        problem = spec.loads(text, source=SOURCE)
    except SpecError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(f"{SOURCE}: ") and len(message) < 1000, message
        return
    try:
        derivation = backprop.derive(problem.network or problem.graph)
    except backprop.UndifferentiableError as error:  # a parameter no node uses: refused, never given 0
        message = str(error)
        assert "\n" not in message and " occurs in no node: it does not reach the output " in message, message
        return
    graph = problem.graph
    assert set(derivation.gradients) == set(graph.parameters)
    assert set(problem.values) == {*graph.inputs, *graph.parameters}
    assert all(set(example) == set(graph.inputs) for example in problem.examples) and problem.examples
    for gradient in derivation.gradients.values():
        assert gradient.delta_form is not None


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(network_files())
def test_generated_network_files_are_derived_or_refused_in_one_line(text):
    derived_or_refused(text)


@settings(max_examples=max(EXAMPLES // 10, 20), deadline=None)
@given(st.text(alphabet=st.sampled_from('[]{}=",.#\n abcxyz0123456789-+*/()_'), max_size=120))
def test_arbitrary_text_is_derived_or_refused_in_one_line(text):
    derived_or_refused(text)
