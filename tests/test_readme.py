"""The README's Python examples run as written and print what their comments say."""
import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def expected_prints(block: str) -> list[str]:
    """The ``# ...`` comment after each ``print(...)`` line, up to two spaces: what it should show."""
    return [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+#\s*(.+)$", block, flags=re.M)]


def test_readme_examples_run_and_print_what_they_say():
    namespace: dict = {}
    blocks = python_blocks()
    assert len(blocks) >= 3
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), namespace)
        printed = out.getvalue().splitlines()
        for expected in expected_prints(block):
            shown = expected.split("  ")[0]
            assert shown in printed, (shown, printed)


def section_toml_blocks(heading: str) -> list[str]:
    """The TOML blocks of the README's section under ``## heading``, up to the next section."""
    text = README.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def test_the_layer_types_network_file_derives_and_agrees_with_the_builtin_conv_example():
    from symprop.files import spec
    from symprop.outputs import pipeline

    block = section_toml_blocks("Layer types")[0]
    solution = pipeline.solve(spec.loads(block, source="README.md"))
    assert [layer.kind for layer in solution.problem.network.layers] == ["conv2d", "flatten", "dense"]
    assert all(check.ok for check in solution.example.checks)  # its gradients against finite differences
    builtin = pipeline.solve(spec.load_builtin("conv"))  # the same network and values as the built-in example
    assert {p.name: v for p, v in solution.example.gradients.items()} == \
        {p.name: v for p, v in builtin.example.gradients.items()}


def test_the_layer_types_lstm_file_draws_its_parameters_and_derives_them_checked():
    from symprop.files import spec
    from symprop.outputs import pipeline

    block = section_toml_blocks("Layer types")[1]
    solution = pipeline.solve(spec.loads(block, source="README.md"))
    assert [layer.kind for layer in solution.problem.network.layers] == ["lstm", "dense"]
    drawn = {p.name.split("[")[0] for p in solution.example.gradients}
    assert drawn == {"Wi1", "Wh1", "bi1", "bh1", "W2", "b2"}  # every parameter drawn by [train] init, as its comment says
    assert all(check.ok for check in solution.example.checks)
