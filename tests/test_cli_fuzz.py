"""Generated network files thrown at the command line: each one is derived (exit 0,
the paths written) or refused in one line (exit 2), never a traceback or an
internal error. 1,000 files when ``CI`` is set, 100 otherwise."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from symprop.cli import main

from tests.files.test_spec_fuzz import network_files

EXAMPLES = 1000 if os.environ.get("CI") else 100


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_files())
def test_generated_files_are_derived_or_refused_by_the_cli(text):
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "net.toml"
        source.write_text(text)
        out = Path(folder) / "out"
        result = CliRunner().invoke(main, ["derive", str(source), "-f", "json", "-o", str(out)])
        if result.exit_code == 0:
            assert result.output == f"{out / 'net.json'}\n"
            assert (out / "net.json").stat().st_size > 0
        else:
            assert result.exit_code == 2, (text, result.output)
            assert result.output.startswith("symprop: error: ") and result.output.count("\n") == 1, result.output
            assert not out.exists()
