"""Work too large to finish is refused before it starts, in one line naming what is large and
the option that raises the bound; work within the bounds finishes in seconds."""
from __future__ import annotations

import pytest

from symprop.files import spec
from symprop.outputs import pipeline
from tests.hostile.corpus import MAZUR, dense_file, derived, refused

TRAIN_784 = '[train]\nsteps = {steps}\ninit = {{ method = "uniform", low = -0.5, high = 0.5, seed = 1 }}'


@pytest.mark.parametrize("layers", [20, 50])
def test_deep_narrow_sigmoid_networks_derive_and_write_markdown_in_seconds(layers):
    outcome = derived(dense_file(4, [4] * layers), seconds=45)
    assert outcome.files["net.md"] < 5_000_000  # deltas and per-layer forms, never an exponential tree


def test_a_deep_network_writes_json_too():
    derived(dense_file(4, [4] * 20), formats="md,json", seconds=45)


def test_199000_inputs_are_refused_up_front():
    refused(dense_file(199_000, [1]), "network.inputs (line 2): 199000 inputs: at most 50000", seconds=5)


def test_a_network_of_too_many_parameters_is_refused_up_front():
    refused(dense_file(784, [64, 10]), "50890 parameters: deriving more than 50000 would take very long", seconds=5)


def test_too_many_layers_are_refused_up_front():
    refused(dense_file(2, [1] * 201), "201 layers: at most 200", seconds=5)


def test_too_many_units_in_a_layer_are_refused_up_front():
    refused(dense_file(1, [60_000]), "units", seconds=5)


def test_exact_arithmetic_on_ten_layers_is_refused_up_front():
    refused(dense_file(3, [3] * 10), "(exact arithmetic on 120 parameters, 21 nodes deep), more than --max-seconds 60: "
            "use --precision 30 (digits) or float, or raise --max-seconds", after=("--precision", "exact"), seconds=5)


def test_exact_arithmetic_on_784_16_10_is_refused_up_front():
    refused(dense_file(784, [16, 10]), "exact arithmetic on 12730 parameters", after=("--precision", "exact"), seconds=20)


def test_exact_arithmetic_on_mazur_finishes():
    derived(MAZUR, after=("--precision", "exact"), seconds=45)


def test_a_hundred_thousand_steps_of_784_16_10_are_refused_with_the_option_to_raise_the_bound():
    refused(dense_file(784, [16, 10], train=TRAIN_784.format(steps=100_000)),
            "(12730 parameters x 100000 training steps), more than --max-seconds 60: use fewer --steps, or raise "
            "--max-seconds", seconds=20)


def test_steps_from_the_command_line_are_estimated_too():
    refused(dense_file(784, [16, 10], train=TRAIN_784.format(steps=1)), "x 100000 training steps",
            after=("--steps", "100000"), seconds=20)


def test_a_lower_bound_refuses_smaller_jobs():
    refused(dense_file(784, [16, 10], train=TRAIN_784.format(steps=1)), "more than --max-seconds 1",
            after=("--max-seconds", "1"), seconds=20)


def test_more_steps_than_the_file_format_allows_are_refused():
    refused(MAZUR.replace("steps = 1", "steps = 100001"), "train.steps", seconds=5)


def test_more_steps_than_the_option_allows_are_refused():
    refused(MAZUR, "100001", after=("--steps", "100001"), seconds=5)


def test_many_steps_of_a_small_network_finish():
    derived(MAZUR, after=("--steps", "20000"), seconds=45)


def test_digits_beyond_the_bound_are_refused():
    refused(MAZUR, "from 5 to 1000", after=("--precision", "100000"), seconds=5)


def test_a_thousand_digits_on_mazur_finish():
    derived(MAZUR, after=("--precision", "1000"), seconds=45)


def test_max_seconds_must_be_positive():
    refused(MAZUR, "--max-seconds", after=("--max-seconds", "0"), seconds=5)


def test_too_many_examples_are_refused_up_front():
    examples = "".join("[[examples]]\ni1 = 0.05\ni2 = 0.1\nt1 = 0.01\nt2 = 0.99\n" for _ in range(10_001))
    text = MAZUR.replace("i1 = 0.05\ni2 = 0.10\nt1 = 0.01\nt2 = 0.99\n", "") + examples
    refused(text, "10001 examples: at most 10000", seconds=20)


# ---------------------------------------------------------------- the estimate itself

def test_the_estimate_names_what_is_large():
    problem = spec.loads(dense_file(3, [3] * 10))
    estimate = pipeline.work_estimate(problem, precision="exact")
    assert estimate.what == "exact arithmetic on 120 parameters, 21 nodes deep" and estimate.seconds > 10**6
    assert pipeline.work_estimate(problem).seconds < 5


def test_the_estimate_grows_with_steps_and_digits():
    problem = spec.load_builtin("mazur")
    one, many = pipeline.work_estimate(problem, steps=1), pipeline.work_estimate(problem, steps=100_000)
    assert many.seconds > 5 * one.seconds and "training steps" in many.what
    assert pipeline.work_estimate(problem, precision=30).seconds > one.seconds


def test_check_work_refuses_beyond_the_bound_and_passes_within():
    problem = spec.load_builtin("mazur")
    assert pipeline.check_work(problem, max_seconds=60).seconds < 60
    with pytest.raises(pipeline.WorkTooLarge, match=r"more than --max-seconds 0.001"):
        pipeline.check_work(problem, max_seconds=0.001)
