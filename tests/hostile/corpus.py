"""Running one hostile case and asserting its outcome.

A case is a network file (text or raw bytes) and the command-line arguments
around it. It is run in-process through click's ``CliRunner`` (fast), or as
``python -m symprop`` in a subprocess where the real process matters (its
standard streams, its exit status). Either way it must end in one of two
ways, within its time bound:

* derived: exit 0, every document named on standard output written;
* refused: exit 2, exactly one line on standard error, starting
  ``symprop: error:`` and holding the fragment the case expects, no output
  folder created.

Never exit 3 (an internal error), never a traceback, never a hang: a case
that runs past its bound is stopped by ``SIGALRM`` and fails at once.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from symprop.cli import main
from tests.deadlines import CaseTimeout, time_bound

#: The folder the cases run from: ``python -m symprop`` must find this package.
ROOT = Path(__file__).resolve().parents[2]
#: Seconds a case may take unless it says otherwise.
DEFAULT_SECONDS = 10.0
PREFIX = "symprop: error: "


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its exit code, standard output and error, time, and the output folder."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    output_dir: Path
    #: The files the run left in the output folder: name -> size in bytes.
    files: dict

    def describe(self) -> str:
        return f"exit {self.code} after {self.seconds:.1f} s; stderr: {self.stderr[:600]!r}; stdout: {self.stdout[:300]!r}"


def _write_source(folder: Path, source: str | bytes | None, name: str) -> list[str]:
    if source is None:
        return []
    path = folder / name
    path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
    return [str(path)]


def run(source: str | bytes | None, args: tuple[str, ...] = ("derive",), *, after: tuple[str, ...] = (),
        formats: str | None = "md", seconds: float = DEFAULT_SECONDS, subprocess_run: bool = False,
        stdin: bytes | None = None, name: str = "net.toml") -> Outcome:
    """Run ``symprop ARGS [FILE] AFTER`` on ``source`` written to a file in a fresh folder;
    ``derive`` also gets ``-f FORMATS -o OUT``."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "out"
        argv = [*args, *_write_source(folder, source, name), *after]
        if args and args[0] == "derive" and formats is not None:
            argv += ["-f", formats, "-o", str(out)]
        start = time.perf_counter()
        if subprocess_run:
            code, stdout, stderr = _in_subprocess(argv, stdin, seconds)
        else:
            code, stdout, stderr = _in_process(argv, stdin, seconds)
        files = {p.name: p.stat().st_size for p in out.iterdir()} if out.is_dir() else {}
        outcome = Outcome(code, stdout, stderr, time.perf_counter() - start, out, files)
        _check_files(outcome)
        return outcome


def _in_process(argv: list[str], stdin: bytes | None, seconds: float) -> tuple[int, str, str]:
    with time_bound(seconds, "symprop " + " ".join(argv)[:200]):
        result = CliRunner().invoke(main, argv, input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"an exception escaped the command line: {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def _in_subprocess(argv: list[str], stdin: bytes | None, seconds: float) -> tuple[int, str, str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run([sys.executable, "-m", "symprop", *argv], input=stdin or b"", capture_output=True,
                              timeout=seconds, cwd=ROOT, env=environment)
    except subprocess.TimeoutExpired:
        raise CaseTimeout(f"python -m symprop {' '.join(argv)[:200]}: still running after {seconds:g} s") from None
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def _check_files(outcome: Outcome) -> None:
    """Done or refused, the output folder holds whole documents or nothing."""
    if outcome.code != 0:
        assert not outcome.files, f"a refused run left {sorted(outcome.files)}: {outcome.describe()}"
        return
    assert all(size > 0 for size in outcome.files.values()), f"an empty document: {outcome.files}"


def refused(source: str | bytes | None, fragment: str, args: tuple[str, ...] = ("derive",), **options) -> Outcome:
    """Assert the case is refused: exit 2, one line on standard error holding ``fragment``."""
    outcome = run(source, args, **options)
    assert_refusal(outcome, fragment)
    return outcome


def assert_refusal(outcome: Outcome, fragment: str) -> None:
    assert outcome.code == 2, outcome.describe()
    assert "Traceback" not in outcome.stderr, outcome.describe()
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and outcome.stderr.endswith("\n"), f"expected one line on stderr: {outcome.describe()}"
    assert lines[0].startswith(PREFIX), outcome.describe()
    assert fragment.lower() in lines[0].lower(), f"expected {fragment!r} in the message: {outcome.describe()}"
    assert len(lines[0]) < 1_000, f"the line is {len(lines[0])} characters long"


def derived(source: str | bytes | None, args: tuple[str, ...] = ("derive",), *, formats: str | None = "md",
            **options) -> Outcome:
    """Assert the case is derived: exit 0, no error, each requested document written and not empty."""
    outcome = run(source, args, formats=formats, **options)
    assert outcome.code == 0, outcome.describe()
    assert "Traceback" not in outcome.stderr and PREFIX not in outcome.stderr, outcome.describe()
    if args[0] == "derive" and formats is not None:
        written = [Path(line).name for line in outcome.stdout.splitlines()]
        assert len(written) == len(formats.split(",")) and set(written) == set(outcome.files), outcome.describe()
    return outcome


# ------------------------------------------------------------------ files the cases start from

MAZUR = """\
title = "Mazur"
notation = "mazur"

[network]
inputs = ["i1", "i2"]
targets = ["t1", "t2"]
loss = "half_sse"
layers = [
  { units = 2, activation = "sigmoid", names = ["h1", "h2"], bias = "shared" },
  { units = 2, activation = "sigmoid", names = ["o1", "o2"], bias = "shared" },
]

[values]
i1 = 0.05
i2 = 0.10
t1 = 0.01
t2 = 0.99
w1 = 0.15
w2 = 0.20
w3 = 0.25
w4 = 0.30
b1 = 0.35
w5 = 0.40
w6 = 0.45
w7 = 0.50
w8 = 0.55
b2 = 0.60

[train]
learning_rate = 0.5
update = "weights"
steps = 1
"""


def graph_file(nodes: list[tuple[str, str]], inputs=("x", "y"), values: dict | None = None,
               parameters=None, train: str = "") -> str:
    """A ``[graph]`` file with these nodes, every input given a value (1.0 unless ``values`` says)."""
    values = {name: 1.0 for name in inputs} | (values or {})
    lines = ["[graph]", f"inputs = {_toml_list(inputs)}"]
    if parameters is not None:
        lines.append(f"parameters = {_toml_list(parameters)}")
    lines.append("nodes = [" + ", ".join(f"[{_toml_string(n)}, {_toml_string(e)}]" for n, e in nodes) + "]")
    lines += ["", "[values]", *(f"{name} = {value!r}" for name, value in values.items())]
    return "\n".join(lines) + "\n" + (f"\n{train}\n" if train else "")


def dense_file(inputs: int, widths: list[int], *, activation: str = "sigmoid", train: str = "",
               loss: str = "half_sse") -> str:
    """A dense network of ``inputs`` inputs and these layer widths, its data and parameters drawn."""
    layers = ",\n".join(f'  {{ units = {w}, activation = "{activation}" }}' for w in widths)
    data = "\n".join(f"x{k} = 0.5" for k in range(1, inputs + 1)) if inputs <= 1000 else ""
    targets = "\n".join(f"y{k} = 0.25" for k in range(1, widths[-1] + 1))
    train = train or '[train]\nlearning_rate = 0.5\ninit = { method = "uniform", low = -0.5, high = 0.5, seed = 1 }'
    return (f"[network]\ninputs = {inputs}\nloss = \"{loss}\"\nlayers = [\n{layers}\n]\n\n{train}\n\n"
            f"[values]\n{data}\n{targets}\n")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(names) -> str:
    return "[" + ", ".join(_toml_string(n) for n in names) + "]"
