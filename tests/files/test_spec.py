"""Network files: the schema, the built-in examples, and every refusal as one clear line."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import sympy
from sympy import Rational, Symbol

from symprop.engine import backprop


from symprop.model import functions

from symprop.files import spec

from symprop.files.spec import SpecError
from tests.spec_files import GRAPH, NETWORK, UPSTREAM, drawn_network, refusal

MAZUR_PARAMETERS = {
    "w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "b1": 0.35,
    "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55, "b2": 0.60,
}


def by_name(mapping) -> dict[str, float]:
    return {symbol.name: value for symbol, value in mapping.items()}


# ---------------------------------------------------------------- built-in examples


def test_builtin_examples_are_listed_in_reading_order():
    assert list(spec.builtin_examples()) == ["mazur", "3b1b", "nielsen", "softmax", "graph", "conv", "cnn", "rnn", "layernorm"]


@pytest.mark.parametrize("name", ["mazur", "3b1b", "nielsen", "softmax", "graph", "conv", "cnn", "rnn", "layernorm"])
def test_each_builtin_example_loads_and_derives(name):
    problem = spec.load_builtin(name)
    derivation = backprop.derive(problem.network or problem.graph)
    assert set(derivation.gradients) == set(problem.graph.parameters)
    assert set(problem.values) == {*problem.graph.inputs, *problem.graph.parameters}
    assert all(isinstance(v, float) for v in problem.values.values())
    assert problem.title and problem.source == f"{name}.toml"
    assert spec.builtin_path(name).read_text(encoding="utf-8") == spec.builtin_examples()[name]


def test_mazur_file_is_mazurs_network_with_his_numbers():
    problem = spec.load_builtin("mazur")
    assert [p.name for p in problem.graph.parameters] == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"]
    assert by_name(problem.values) == {"i1": 0.05, "i2": 0.10, "t1": 0.01, "t2": 0.99, **MAZUR_PARAMETERS}
    assert [s.name for s in problem.network.inputs] == ["i1", "i2"]
    assert [s.name for s in problem.network.targets] == ["t1", "t2"]
    assert [layer.units for layer in problem.network.layers] == [("h1", "h2"), ("o1", "o2")]
    assert problem.network.loss == "half_sse"
    assert problem.title == "A step by step backpropagation example"
    assert (problem.notation, problem.learning_rate, problem.update, problem.steps) == ("mazur", 0.5, "weights", 1)
    assert (problem.reduction, len(problem.examples), problem.drawn) == ("mean", 1, ())
    # w1 is i1 -> h1 and w2 is i2 -> h1, as Mazur numbers them
    w1, w2 = (Symbol(n, real=True) for n in ("w1", "w2"))
    assert problem.network.layers[0].weights[0] == (w1, w2)


def test_mazur_file_gives_his_gradient_for_w5():
    problem = spec.load_builtin("mazur")
    w5 = Symbol("w5", real=True)
    loss = problem.graph.expanded()
    value = sympy.diff(loss, w5).subs(problem.values)
    assert round(float(loss.subs(problem.values)), 9) == 0.298371109
    assert round(float(value), 9) == 0.082167041


def test_graph_file_is_cs231ns_example():
    problem = spec.load_builtin("graph")
    x, y, z, q, f = (Symbol(n, real=True) for n in "xyzqf")
    assert problem.network is None
    assert problem.graph.definition == {q: x + y, f: q * z}
    assert problem.graph.parameters == (x, y, z) and problem.graph.inputs == ()
    assert problem.update == "all"
    loss = problem.graph.expanded()
    gradients = {p.name: float(sympy.diff(loss, p).subs(problem.values)) for p in problem.graph.parameters}
    assert gradients == {"x": -4, "y": -4, "z": 3}


def test_3b1b_file_is_a_one_neuron_chain():
    problem = spec.load_builtin("3b1b")
    assert [p.name for p in problem.graph.parameters] == ["w1", "b1", "w2", "b2", "w3", "b3"]
    assert [s.name for s in problem.graph.inputs] == ["a0", "y"]
    assert problem.graph.output.name == "C0" and problem.network.loss == "sse"


def test_softmax_file_is_a_classifier_with_a_one_hot_target():
    problem = spec.load_builtin("softmax")
    assert problem.network.loss == "softmax_cross_entropy"
    assert [layer.activation for layer in problem.network.layers] == ["relu", "softmax"]
    assert [problem.values[t] for t in problem.network.targets] == [0.0, 1.0, 0.0]
    assert len(problem.graph.parameters) == 2 * 3 + 3 + 3 * 3 + 3
    # every hidden ReLU is active at these values, so finite differences are smooth there
    x1, x2 = (problem.values[s] for s in problem.network.inputs)
    layer = problem.network.layers[0]
    for row, bias in zip(layer.weights, layer.biases):
        assert problem.values[row[0]] * x1 + problem.values[row[1]] * x2 + problem.values[bias] > 0.05


def test_nielsen_file_has_two_examples_and_mean_reduction():
    problem = spec.load_builtin("nielsen")
    assert problem.reduction == "mean" and len(problem.examples) == 2
    assert [by_name(e) for e in problem.examples] == [
        {"x1": 0.2, "x2": 0.9, "y1": 1.0, "y2": 0.0},
        {"x1": 0.7, "x2": 0.1, "y1": 0.0, "y2": 1.0},
    ]
    assert by_name(problem.values)["x1"] == 0.2 and by_name(problem.values)["w1_1_2"] == -0.4
    assert problem.steps == 10


def test_unknown_builtin_example_is_refused_with_the_choices():
    with pytest.raises(SpecError, match=r"^examples: nope: no such built-in example: expected one of mazur, 3b1b"):
        spec.builtin_path("nope")


# ---------------------------------------------------------------- schema


def test_layered_network_defaults():
    problem = spec.loads(drawn_network().replace("[values]", '[train]\ninit = "uniform"\n[values]'))
    assert problem.notation == "plain" and problem.title == "" and problem.network.loss == "half_sse"
    assert [layer.activation for layer in problem.network.layers] == ["sigmoid", "sigmoid"]
    assert problem.network.layers[0].biases == tuple(Symbol(f"b1_{j}", real=True) for j in (1, 2))
    assert (problem.learning_rate, problem.update, problem.steps, problem.reduction) == (0.5, "weights", 1, "mean")


def test_inputs_may_be_a_count_named_by_the_notation():
    text = ('[network]\ninputs = 2\nlayers = [{ units = 1 }]\n[train]\ninit = "uniform"\n'
            "[values]\nx1 = 1\nx2 = 2\ny1 = 0\n")
    problem = spec.loads(text)
    assert [s.name for s in problem.network.inputs] == ["x1", "x2"]
    assert [p.name for p in problem.graph.parameters] == ["w1_1_1", "w1_1_2", "b1_1"]


GRAPH_VALUES = GRAPH + "[values]\nx = 1\ny = 2\nz = 3\n"


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("[trian]\nsteps = 2\n", "trian (line 8): unknown table [trian]: did you mean [train]?"),
        ("[colour]\nanything = true\n", "colour (line 8): unknown table [colour]: expected one of title, title_ko, notation, "
         "reduction, network, graph, values, examples, train"),
        ("[train]\nlearning_rte = 0.1\n", "train.learning_rte (line 9): unknown key 'learning_rte' in [train]: did "
         "you mean 'learning_rate'?"),
        ('[train]\ninit = { method = "normal", sdt = 2 }\n', "train.init.sdt (line 9): unknown key 'sdt' in [train] "
         "init (normal): did you mean 'std'?"),
        ('[train]\ninit = { method = "normal", low = 1 }\n', "train.init.low (line 9): unknown key 'low' in [train] "
         "init (normal): expected one of method, seed, mean, std, decimals"),
    ],
)
def test_unknown_tables_and_keys_are_refused_with_the_nearest_name(extra, expected):
    assert refusal(GRAPH_VALUES + extra) == f"f.toml: {expected}"


def test_an_unknown_top_level_key_is_refused():
    assert refusal("titel = 'x'\n" + GRAPH_VALUES) == (
        "f.toml: titel (line 1): unknown key 'titel' at the top level: did you mean 'title'?")


def test_required_names_refuse_unknown_keys_too():
    with pytest.raises(SpecError, match=r"unknown key 'steeps' in \[train\]: did you mean 'steps'\?"):
        spec.required_names(GRAPH_VALUES + "[train]\nsteeps = 2\n")


def test_every_key_a_file_may_have_is_accepted():
    text = ('title = "t"\nnotation = "plain"\nreduction = "sum"\n' + GRAPH.replace("nodes", 'parameters = ["x"]\nnodes')
            + '[train]\nlearning_rate = 0.1\nupdate = "all"\nsteps = 2\n'
            + 'init = { method = "uniform", seed = 1, low = -1, high = 1, decimals = 3 }\n'
            + "[values]\nx = 1\n[[examples]]\ny = 2\nz = 3\n")
    assert spec.loads(text).steps == 2


def test_graph_parameters_subset_and_default_output():
    text = GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + "[values]\nx = 1\ny = 2\nz = 3\n"
    problem = spec.loads(text)
    x, y, z, f = (Symbol(n, real=True) for n in "xyzf")
    assert problem.graph.inputs == (x, y) and problem.graph.parameters == (z,)
    assert problem.graph.output == f
    assert [by_name(e) for e in problem.examples] == [{"x": 1.0, "y": 2.0}]


def test_graph_expressions_parse_to_exact_numbers_and_allowed_functions():
    text = """\
    [graph]
    inputs = ["x", "w"]
    parameters = ["w"]
    nodes = [
      ["a", "1/2*x + 0.25*w**2 - 3"],
      ["b", "sigmoid(a) + relu(a) + tanh(a) + softplus(a) + leaky_relu(a) + leaky_relu(a, 0.2)"],
      ["c", "exp(b) + log(1 + b**2) + sqrt(x**2 + 1) + Abs(x) + Max(a, b, 0) + Min(a, b)"],
    ]
    [values]
    x = 1
    w = 2
    """
    problem = spec.loads(textwrap.dedent(text))
    x, w, a, b = (Symbol(n, real=True) for n in ("x", "w", "a", "b"))
    definition = {node.name: expr for node, expr in problem.graph.definition.items()}
    assert definition["a"] == Rational(1, 2) * x + sympy.Float("0.25") * w**2 - 3
    leaky = functions.leaky_relu(a, Rational(1, 100)) + functions.leaky_relu(a, sympy.Float("0.2"))
    assert definition["b"] == functions.sigmoid(a) + functions.relu(a) + sympy.tanh(a) + functions.softplus(a) + leaky
    assert definition["c"].has(sympy.Max(a, b, 0), sympy.Min(a, b), sympy.Abs(x), sympy.exp(b))
    assert backprop.derive(problem.graph)["w"].path_count == 2  # c <- a <- w and c <- b <- a <- w


def test_names_sympy_would_misread_are_plain_symbols():
    names = ["E", "I", "S", "N", "O", "Q", "beta", "gamma", "lambda", "pi"]
    text = (f"[graph]\ninputs = {names!r}\n".replace("'", '"')
            + 'nodes = [["f", "E*I + S*N + O*Q + beta*gamma + lambda*pi"]]\n[values]\n'
            + "".join(f"{n} = {i + 1}\n" for i, n in enumerate(names)))
    problem = spec.loads(text)
    expr = problem.graph.definition[Symbol("f", real=True)]
    symbols = {n: Symbol(n, real=True) for n in names}
    assert expr == sum((symbols[a] * symbols[b] for a, b in zip(names[::2], names[1::2])), sympy.S.Zero)
    assert not expr.has(sympy.E, sympy.I, sympy.pi)
    assert isinstance(symbols["E"], Symbol) and expr.free_symbols == set(symbols.values())
    gradient = backprop.derive(problem.graph)["E"]
    assert gradient.closed_form == symbols["I"]  # d(E*I)/dE is the symbol I, not the imaginary unit
    assert by_name(problem.values)["lambda"] == 9.0


def test_a_parameter_that_never_reaches_the_output_gets_a_zero_gradient():
    text = '[graph]\ninputs = ["x", "u"]\nnodes = [["g", "u**2"], ["f", "3*x"]]\noutput = "f"\n[values]\nx = 1\nu = 2\n'
    derivation = backprop.derive(spec.loads(text).graph)
    assert derivation["u"].closed_form == 0 and derivation["u"].path_count == 0
    assert derivation["x"].closed_form == 3


def test_several_examples_keep_parameters_in_values():
    text = 'reduction = "sum"\n' + GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + textwrap.dedent("""\
        [[examples]]
        x = 1
        y = 2
        [[examples]]
        x = 3
        y = 4
        [values]
        z = 5
        """)
    problem = spec.loads(text)
    assert problem.reduction == "sum"
    assert [by_name(e) for e in problem.examples] == [{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 4.0}]
    assert by_name(problem.values) == {"x": 1.0, "y": 2.0, "z": 5.0}


def test_inline_array_of_examples_works_like_tables():
    text = "examples = [{ x = 1, y = 2 }]\n" + GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + "[values]\nz = 5\n"
    assert [by_name(e) for e in spec.loads(text).examples] == [{"x": 1.0, "y": 2.0}]


def test_notation_override_renames_and_keeps_values_by_position():
    problem = spec.loads(spec.builtin_examples()["mazur"], source="mazur.toml", notation="plain")
    assert problem.notation == "plain"
    names = [p.name for p in problem.graph.parameters]
    assert names[:5] == ["w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2", "b1_1"]
    values = by_name(problem.values)
    assert [values[n] for n in names] == list(MAZUR_PARAMETERS.values())
    assert values["i1"] == 0.05 and values["t2"] == 0.99


def test_load_reads_a_file_and_names_it_in_errors(tmp_path):
    good = tmp_path / "net.toml"
    good.write_text(spec.builtin_examples()["graph"], encoding="utf-8")
    assert spec.load(good).source == str(good)
    bad = tmp_path / "bad.toml"
    bad.write_text(GRAPH.replace("q*z", "q*w") + "[values]\nx = 1\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        spec.load(bad)
    assert str(caught.value) == (
        f"{bad}: graph.nodes[1] (line 3): node 'f': unknown name 'w': declare it in graph.inputs or define it as an "
        "earlier node"
    )


def test_a_file_with_a_byte_order_mark_and_crlf_line_ends_loads(tmp_path):
    path = tmp_path / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbf" + spec.builtin_examples()["graph"].replace("\n", "\r\n").encode())
    assert by_name(spec.load(path).values) == {"x": -2.0, "y": 5.0, "z": -4.0}
    path.write_bytes(path.read_bytes().replace(b"z = -4", b"z = nan"))
    with pytest.raises(SpecError, match=r"windows\.toml: values\.z \(line 20\): expected a finite number, got nan$"):
        spec.load(path)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "top, expected",
    [
        ('notation = "goodfellow"\n',
         "notation (line 1): unknown notation 'goodfellow': expected one of mazur, 3b1b, nielsen, dlfs, plain"),
        ('reduction = "max"\n', "reduction (line 1): unknown reduction 'max': expected one of mean, sum"),
        ('title = "two\\nlines"\n', "title (line 1): expected a title of one line, at most 200 characters"),
        ("title = 3\n", "title (line 1): expected a one-line title, got 3"),
    ],
)
def test_top_level_refusals(top, expected):
    assert refusal(top + drawn_network()) == f"f.toml: {expected}"


@pytest.mark.parametrize(
    "train, expected",
    [
        ('update = "biases"', "train.update (line 8): unknown update 'biases': expected one of weights, all"),
        ("learning_rate = 0", "train.learning_rate (line 8): expected a finite positive number, got 0.0"),
        ("learning_rate = -0.5", "train.learning_rate (line 8): expected a finite positive number, got -0.5"),
        ("learning_rate = nan", "train.learning_rate (line 8): expected a finite positive number, got nan"),
        ("learning_rate = inf", "train.learning_rate (line 8): expected a finite positive number, got inf"),
        ('learning_rate = "0.5"', "train.learning_rate (line 8): expected a finite positive number, got '0.5'"),
        ("learning_rate = true", "train.learning_rate (line 8): expected a finite positive number, got true"),
        ("steps = -1", "train.steps (line 8): expected a whole number of steps, 0 or more, got -1"),
        ("steps = 2.0", "train.steps (line 8): expected a whole number of steps, 0 or more, got 2.0"),
        ("steps = 100001", "train.steps (line 8): 100001 is too many: at most 100000, as more would take very long"),
        ("init = 3", 'train.init (line 8): expected a method (uniform, normal, xavier) or a table like { method = '
                     '"uniform", low = -0.5, high = 0.5, seed = 0 }, got 3'),
        ('init = "he"', "train.init (line 8): unknown init 'he': expected one of uniform, normal, xavier"),
        ('init = { method = "uniform", low = 1, high = 1 }',
         "train.init.high (line 8): expected high > low, got low = 1.0, high = 1.0"),
        ('init = { method = "normal", std = 0 }',
         "train.init.std (line 8): expected a finite positive standard deviation, got 0.0"),
        ('init = { method = "uniform", seed = -1 }',
         "train.init.seed (line 8): expected a whole number seed, 0 or more, got -1"),
        ('init = { method = "uniform", seed = 9223372036854775808 }',
         "train.init.seed (line 8): 9223372036854775808 is too large: a seed is at most 9223372036854775807"),
        ('init = { method = "uniform", decimals = 16 }', "train.init.decimals (line 8): 16 decimals: at most 15"),
        ('init = { seed = 1 }', "train.init.method (line 8): missing: expected one of uniform, normal, xavier"),
    ],
)
def test_train_refusals(train, expected):
    assert refusal(drawn_network(f"[train]\n{train}\n")) == f"f.toml: {expected}"


def test_steps_zero_is_allowed():
    assert spec.loads(drawn_network('[train]\nsteps = 0\ninit = "xavier"\n')).steps == 0


def test_missing_values_name_every_missing_name_and_how_to_draw_them():
    text = NETWORK + "\n[values]\ni1 = 0.5\nw1_1_1 = 0.1\n"
    assert refusal(text) == (
        "f.toml: values (line 8): missing values for i2, y1, w1_1_2, w1_2_1, w1_2_2, b1_1, b1_2, w2_1_1, w2_1_2, "
        'b2_1: give each in [values]; or have parameters drawn: [train] init = { method = "uniform", low = -0.5, '
        "high = 0.5, seed = 0 }"
    )


def test_missing_data_cannot_be_drawn():
    text = NETWORK + '\n[train]\ninit = "uniform"\n[values]\ni1 = 0.5\n'
    assert refusal(text) == "f.toml: values (line 10): missing values for i2, y1: give each in [values]"


def test_a_long_list_of_missing_names_is_cut_short():
    message = refusal("[network]\ninputs = 30\nlayers = [{ units = 1 }]\n")
    assert "x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12 and 50 more: give each" in message


@pytest.mark.parametrize(
    "values, expected",
    [
        ("w9 = 1\nz3 = 2", "values.w9 (line 14): w9, z3: not a name of the network; expected its inputs, targets and "
                           "parameters (symprop describe lists them)"),
        ("z1_1 = 1", "values.z1_1 (line 14): z1_1: computed by the network from the inputs and parameters; remove "
                     "from [values]"),
        ("w1_1_1 = nan", "values.w1_1_1 (line 14): expected a finite number, got nan"),
        ("w1_1_1 = -inf", "values.w1_1_1 (line 14): expected a finite number, got -inf"),
        ('w1_1_1 = "0.1"', "values.w1_1_1 (line 14): expected a finite number, got '0.1'"),
        ("w1_1_1 = false", "values.w1_1_1 (line 14): expected a finite number, got false"),
        ("w1_1_1 = [0.1]", "values.w1_1_1 (line 14): expected a finite number, got a list of 1"),
        ("w1_1_1 = 1979-05-27", "values.w1_1_1 (line 14): expected a finite number, got a date"),
        ("w1_1_1 = " + "9" * 400, "values.w1_1_1 (line 14): expected a finite number, got "
                                  "9999999999999999999999999999999999999..."),
    ],
)
def test_value_refusals(values, expected):
    assert refusal(drawn_network('[train]\ninit = "uniform"\n') + values + "\n") == f"f.toml: {expected}"


def test_softmax_cross_entropy_targets_must_sum_to_one():
    text = spec.builtin_examples()["softmax"].replace("t1 = 0.0", "t1 = 0.5")
    assert refusal(text, "softmax.toml") == (
        "softmax.toml: values (line 15): the targets t1, t2, t3 sum to 1.5: softmax_cross_entropy expects a one-hot "
        "label or probabilities summing to 1"
    )


@pytest.mark.parametrize(
    "examples, expected",
    [
        ("[[examples]]\nx = 1\n", "examples[0] (line 1): missing values for y: each example gives every input and "
                                  "target"),
        ("[[examples]]\nx = 1\ny = 2\n[[examples]]\nx = 1\ny = 2\nz = 3\n",
         "examples[1].z (line 7): z: parameters stay in [values]"),
        ("[[examples]]\nx = 1\ny = 2\nw = 3\n", "examples[0].w (line 4): w: not an input or target of the network"),
        ("examples = []\n", "examples (line 1): no examples: expected at least one [[examples]] table"),
        ("examples = 3\n", "examples (line 1): expected [[examples]] tables, each giving one example's inputs and "
                           "targets, got 3"),
        ("examples = [{ x = 1, y = 2 }, 3]\n", "examples (line 1): expected [[examples]] tables, each giving one "
                                               "example's inputs and targets, got a list of 2"),
        ("[[examples]]\nx = 1\ny = inf\n", "examples[0].y (line 3): expected a finite number, got inf"),
    ],
)
def test_example_refusals(examples, expected):
    text = examples + GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + "[values]\nz = 5\n"
    assert refusal(text) == f"f.toml: {expected}"


def test_the_combined_loss_name_must_be_free_with_several_examples():
    text = ('[graph]\ninputs = ["x", "f_batch"]\nparameters = ["f_batch"]\nnodes = [["f", "x*f_batch"]]\n'
            "[[examples]]\nx = 1\n[[examples]]\nx = 2\n[values]\nf_batch = 3\n")
    assert refusal(text) == (
        "f.toml: examples (line 5): the name 'f_batch' is taken: with several examples it names the combined f; "
        "rename it"
    )
    assert len(spec.loads(text.replace("[[examples]]\nx = 2\n", "")).examples) == 1


def test_data_goes_in_examples_or_values_not_both():
    text = GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + "[[examples]]\nx = 1\ny = 2\n[values]\nx = 1\nz = 5\n"
    assert refusal(text) == (
        "f.toml: values.x (line 9): x: data is given in each [[examples]] table when there are examples; remove it "
        "from [values]"
    )


# ---------------------------------------------------------------- expressions cannot run code


def test_import_in_a_node_is_refused_with_the_file_and_key(tmp_path):
    marker = tmp_path / "pwned"
    values = "[values]\nx = 1\ny = 2\nz = 3\n"
    for expression in ("__import__('os')", f"__import__('os').system('touch {marker}')"):
        text = GRAPH.replace('"q*z"', json.dumps(expression)) + values
        assert refusal(text) == (
            "f.toml: graph.nodes[1] (line 3): node 'f': '__import__': names starting with _ are not allowed"
        )
    text = GRAPH.replace('"q*z"', json.dumps(f"open('{marker}', 'w')")) + values
    assert refusal(text) == (
        "f.toml: graph.nodes[1] (line 3): node 'f': calling open is not allowed: the functions are sigmoid, tanh, "
        "relu, leaky_relu, softplus, silu, exp, log, sqrt, Abs, Max, Min"
    )
    assert not marker.exists()


# ---------------------------------------------------------------- drawing parameters


def test_uniform_init_draws_missing_parameters_reproducibly():
    text = drawn_network('[train]\ninit = { method = "uniform", low = -0.5, high = 0.5, seed = 7 }\n')
    first, again = spec.loads(text), spec.loads(text)
    assert first.values == again.values
    parameters = first.graph.parameters
    assert first.drawn == parameters

    expected = np.random.default_rng(7).uniform(-0.5, 0.5, size=len(parameters))
    assert [first.values[p] for p in parameters] == [float(v) for v in expected]
    other = spec.loads(text.replace("seed = 7", "seed = 8"))
    assert [other.values[p] for p in parameters] != [first.values[p] for p in parameters]
    assert first.init == {"method": "uniform", "seed": 7, "low": -0.5, "high": 0.5}


def test_init_draws_only_what_values_leave_out():
    text = drawn_network('[train]\ninit = { method = "normal", mean = 1.0, std = 0.1, seed = 3, decimals = 2 }\n')
    problem = spec.loads(text + "w1_1_1 = 0.125\nb2_1 = -1\n")
    values = by_name(problem.values)
    assert values["w1_1_1"] == 0.125 and values["b2_1"] == -1.0
    assert [p.name for p in problem.drawn] == ["w1_1_2", "w1_2_1", "w1_2_2", "b1_1", "b1_2", "w2_1_1", "w2_1_2"]
    assert all(round(values[p.name], 2) == values[p.name] and 0.5 < values[p.name] < 1.5 for p in problem.drawn)


def test_xavier_init_uses_each_layers_fan_in_and_fan_out():
    problem = spec.loads(drawn_network('[train]\ninit = { method = "xavier", seed = 1 }\n'))
    values = by_name(problem.values)
    hidden, output = (6 / (2 + 2)) ** 0.5, (6 / (2 + 1)) ** 0.5
    assert all(abs(values[n]) <= hidden for n in ("w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2"))
    assert all(abs(values[n]) <= output for n in ("w2_1_1", "w2_1_2"))
    rng = np.random.default_rng(1)
    expected = [rng.uniform(-hidden, hidden) for _ in range(4)] + [rng.uniform(-output, output) for _ in range(2)]
    assert [values[n] for n in ("w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2", "w2_1_1", "w2_1_2")] == expected
    assert values["b1_1"] == values["b1_2"] == values["b2_1"] == 0.0
    assert spec.loads(drawn_network('[train]\ninit = "xavier"\n')).init == {"method": "xavier", "seed": 0}


def test_xavier_needs_layers():
    text = GRAPH + '[train]\ninit = "xavier"\n[values]\nx = 1\n'
    assert refusal(text) == (
        "f.toml: train.init.method (line 5): xavier draws from each layer's sizes: a [graph] has no layers, use "
        "uniform or normal"
    )


# ---------------------------------------------------------------- describe


def test_required_names_of_mazurs_file():
    names = spec.required_names(spec.builtin_examples()["mazur"])
    assert [(n["name"], n["role"]) for n in names] == [
        ("i1", "input"), ("i2", "input"), ("t1", "target"), ("t2", "target"),
        ("w1", "weight"), ("w2", "weight"), ("w3", "weight"), ("w4", "weight"), ("b1", "bias"),
        ("w5", "weight"), ("w6", "weight"), ("w7", "weight"), ("w8", "weight"), ("b2", "bias"),
    ]
    assert all(n["given"] and not n["drawn"] for n in names)
    assert names[4]["latex"] == "w_{1}" and names[2]["latex"] == "t_{1}"


def test_required_names_say_what_is_missing_and_what_init_would_draw(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(NETWORK + '[train]\ninit = "uniform"\n[values]\ni1 = 1\nw1_1_1 = 2\n', encoding="utf-8")
    names = {n["name"]: n for n in spec.required_names(path)}
    assert (names["i1"]["given"], names["i2"]["given"], names["y1"]["given"]) == (True, False, False)
    assert (names["w1_1_1"]["given"], names["w1_1_1"]["drawn"]) == (True, False)
    assert (names["b2_1"]["given"], names["b2_1"]["drawn"], names["b2_1"]["role"]) == (False, True, "bias")
    assert (names["i2"]["drawn"], names["y1"]["role"]) == (False, "target")
    graph = spec.required_names(GRAPH.replace("nodes", 'parameters = ["z"]\nnodes') + "[[examples]]\nx = 1\n")
    assert [(n["name"], n["role"], n["given"]) for n in graph] == [
        ("x", "data", True), ("y", "data", False), ("z", "parameter", False)
    ]


def test_required_names_refuse_a_broken_structure_in_one_line():
    with pytest.raises(SpecError, match=r"^<string>: network.layers\[0\].units \(line 2\): expected a positive"):
        spec.required_names("[network]\nlayers = [{ units = -1 }]\ninputs = 1\n")


def test_a_graph_without_train_takes_no_step_and_a_network_keeps_its_default():
    assert spec.loads(GRAPH_VALUES).steps == 0
    assert spec.loads(GRAPH_VALUES + "[train]\nlearning_rate = 0.1\n").steps == 1
    assert spec.loads(drawn_network('[train]\ninit = "xavier"\n')).steps == 1


def test_a_misspelled_name_in_values_or_examples_gets_the_nearest_name():
    assert refusal(GRAPH_VALUES.replace("z = 3", "z = 3\nyy = 4")) == (
        "f.toml: values.yy (line 8): yy: not a name of the network; did you mean 'y'?")
    text = GRAPH.replace("nodes", 'parameters = ["x"]\nnodes') + "[values]\nx = 1\n[[examples]]\ny = 2\nzz = 3\n"
    assert refusal(text) == "f.toml: examples[0].zz (line 9): zz: not an input or target of the network; did you mean 'z'?"


# ---------------------------------------------------------------- a given upstream gradient, input gradients



def test_upstream_gradient_is_given_as_one_list_in_output_order():
    problem = spec.loads(UPSTREAM)
    assert [t.name for t in problem.network.targets] == ["g1", "g2"]
    assert by_name(problem.values)["g1"] == 0.1 and by_name(problem.values)["g2"] == -0.2
    assert problem.input_gradients is True
    # L = sum_k g_k z_k, so the backward pass of the sigmoid layer is dW = (g * z (1 - z)) x^T
    derivation = backprop.derive(problem.network, wrt="all")
    values = by_name(problem.values)
    for j in (1, 2):
        z = 1 / (1 + np.exp(-(values[f"W1_{j}_1"] * 1.0 + values[f"W1_{j}_2"] * 0.5)))
        delta = values[f"g{j}"] * z * (1 - z)
        at = {s: values[s.name] for s in (*problem.graph.inputs, *problem.graph.parameters)}
        closed = problem.graph.expanded_nodes
        got = derivation[f"W1_{j}_2"].closed_form.xreplace(closed).xreplace(at)
        assert float(got) == pytest.approx(delta * 0.5, rel=1e-12)


def test_upstream_gradient_entries_may_be_named_and_given_per_example():
    text = UPSTREAM.replace("g = [0.1, -0.2]", "g1 = 0.1\ng2 = -0.2")
    assert by_name(spec.loads(text).values)["g2"] == -0.2
    per_example = UPSTREAM.replace("x1 = 1.0\nx2 = 0.5\ng = [0.1, -0.2]\n", "").replace(
        "[train]", "[[examples]]\nx1 = 1.0\nx2 = 0.5\ng = [0.1, -0.2]\n[[examples]]\nx1 = 0\nx2 = 1\ng = [1, 2]\n[train]")
    problem = spec.loads(per_example)
    assert [by_name(e)["g2"] for e in problem.examples] == [-0.2, 2.0]


@pytest.mark.parametrize("change, expected", [
    (("g = [0.1, -0.2]", "g = [0.1]"), "values.g (line 10): expected 2 numbers, one per output (g1, g2), got 1"),
    (("g = [0.1, -0.2]", 'g = [0.1, "a"]'), "values.g[1] (line 10): expected a finite number"),
    (("input_gradients = true", 'input_gradients = "yes"'),
     "train.input_gradients (line 19): expected true or false, got 'yes'"),
])
def test_upstream_and_input_gradient_refusals(change, expected):
    assert expected in refusal(UPSTREAM.replace(*change))


def test_a_problem_describes_itself_in_one_line_in_a_notebook():
    from symprop.files import spec

    assert spec.load_builtin("mazur")._repr_markdown_() == (
        "**A step by step backpropagation example** (`mazur.toml`): 2 inputs -> 2 sigmoid -> 2 sigmoid, loss "
        "half_sse; 10 parameters (8 weights, 2 biases); 1 example; 1 step at learning rate 0.5, update weights\n")
    assert "a graph of 2 nodes and 3 parameters" in spec.load_builtin("graph")._repr_markdown_()


GRAPH_UPSTREAM = """
[graph]
inputs = ["x"]
parameters = ["w", "b"]
nodes = [["y1", "w*x + b"], ["y2", "tanh(y1)"]]
output = ["y1", "y2"]
loss = "upstream"
[values]
x = 2
w = 0.5
b = -0.5
g = [1.0, 2.0]
"""


def test_a_graph_may_start_from_a_given_upstream_gradient():
    problem = spec.loads(GRAPH_UPSTREAM)
    graph = problem.graph
    assert [x.name for x in graph.inputs] == ["x", "g1", "g2"]
    assert by_name(problem.values)["g2"] == 2.0
    w, b, x = (Symbol(n, real=True) for n in "wbx")
    loss = 1.0 * (w * x + b) + 2.0 * sympy.tanh(w * x + b)
    derivation = backprop.derive(graph)
    at = {w: 0.5, b: -0.5, x: 2}
    for p in (w, b):
        got = derivation[p].closed_form.xreplace(graph.expanded_nodes).xreplace(dict(problem.values))
        assert float(got) == pytest.approx(float(sympy.diff(loss, p).subs(at)), rel=1e-12)
    assert [r["name"] for r in spec.required_names(GRAPH_UPSTREAM) if r["given"]] == ["x", "g1", "g2", "w", "b"]


@pytest.mark.parametrize("change, expected", [
    (('loss = "upstream"', 'loss = "mse"'), "graph.loss (line 7): unknown loss 'mse': expected one of upstream"),
    (('output = ["y1", "y2"]', 'output = ["y1", "y3"]'), "graph.output (line 6): 'y3' is not a node"),
    (("g = [1.0, 2.0]", "g = [1.0]"), "values.g (line 12): expected 2 numbers, one per output (g1, g2), got 1"),
])
def test_graph_upstream_refusals(change, expected):
    assert expected in refusal(GRAPH_UPSTREAM.replace(*change))


def test_a_korean_title_is_read_and_used_for_korean_documents():
    problem = spec.load_builtin("mazur")
    assert problem.title_ko == "역전파 단계별 예제"
    assert (problem.title_in("ko"), problem.title_in("en")) == ("역전파 단계별 예제", problem.title)
    assert all(spec.load_builtin(name).title_ko for name in spec.builtin_examples())
    plain = spec.loads('title = "Plain"\n' + GRAPH_VALUES, source="p.toml")
    assert plain.title_in("ko") == "Plain"
    with pytest.raises(SpecError, match="title_ko"):
        spec.loads('title_ko = "a\\u0007b"\n' + GRAPH, source="t.toml")


def test_a_layer_stack_refuses_another_notation_rather_than_ignoring_it():
    with pytest.raises(SpecError, match="a layer stack names its arrays W1, b1"):
        spec.load_builtin("conv", notation="nielsen")
    assert spec.load_builtin("conv", notation="plain").notation == "plain"  # its own: nothing to rename
