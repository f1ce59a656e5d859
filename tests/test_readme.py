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
