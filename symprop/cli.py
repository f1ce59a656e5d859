"""The ``symprop`` command: a thin click shell, one library call per command.

SymPy and Jinja2 are imported inside the commands, so ``symprop --help``
starts fast. Bad input ends in one line on stderr and exit code 2 (1 for a
failed check), never a traceback unless ``--debug`` is given.
"""
from __future__ import annotations

import atexit
import dataclasses
import functools
import gc
import re
import sys
from pathlib import Path

import click

from symprop import __version__
from symprop.errors import FailedCheck, SympropError  # imports nothing: start-up stays fast
from symprop.outputs.export import FORMATS  # the standard library only, like .notation: start-up stays fast
from symprop.model.notation import PRESETS

EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
#: Jobs expected to take longer than this are announced before they start.
SLOW_SECONDS = 10


#: Errors that are not symprop's own but still mean the input was wrong: a missing
#: file, a folder given for a file.
OTHER_USER_ERRORS = (FileNotFoundError, IsADirectoryError)


def reports_errors(command):
    """Turn exceptions into one line and an exit code; ``--debug`` shows the traceback.

    A failed check (:class:`~symprop.errors.FailedCheck`) exits with 1, any other
    :class:`~symprop.errors.SympropError` with 2, anything else is an internal error (3).
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # noqa: BLE001 - every failure must end in one clear line
            if click.get_current_context().find_root().params.get("debug"):
                raise
            if isinstance(error, FailedCheck):
                fail(one_line(error), EXIT_FAILED_CHECK)
            if isinstance(error, (SympropError, *OTHER_USER_ERRORS)):
                fail(one_line(error), EXIT_BAD_INPUT)
            fail(f"internal error ({type(error).__name__}): {one_line(error)} (run with --debug for the traceback)",
                 EXIT_INTERNAL)

    return wrapper


def one_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split()) or type(error).__name__


#: The longest error line: a message quoting a hostile input is cut here, to stay readable.
MAX_MESSAGE_LENGTH = 800


def fail(message: str, code: int):
    if len(message) > MAX_MESSAGE_LENGTH:
        message = f"{message[:MAX_MESSAGE_LENGTH]}... ({len(message)} characters in all)"
    click.echo(f"symprop: error: {message}", err=True)
    sys.exit(code)


def comma_list(choices):
    """A click callback for ``md,tex`` style lists, checked against ``choices``."""

    def parse(ctx, param, value):
        items = [v.strip() for v in value.split(",") if v.strip()]
        wrong = [v for v in items if v not in choices]
        if wrong or not items:
            raise click.BadParameter(f"{wrong[0] if wrong else value!r}: expected a comma-separated list of {', '.join(choices)}")
        return items

    return parse


def parse_precision(value: str):
    """``float``, ``exact``, or a number of significant digits (mpmath) from 5 to 1000."""
    if value in ("float", "exact"):
        return value
    if value.isdigit() and 5 <= int(value) <= 1000:
        return int(value)
    raise click.BadParameter(f"{value!r}: expected float, exact, or a number of digits from 5 to 1000")


#: The file name that means standard input, and the folder that means standard output.
STDIO = "-"


def load_problem(file: str | None, notation: str | None = None):
    """The problem in ``file`` (``-``: standard input), or the built-in Mazur example when there is none."""
    from symprop.files import spec
    from symprop.files.spec_file import read_stream

    if file is None:
        return spec.loads(spec.builtin_examples()["mazur"], source="mazur.toml", notation=notation)
    if file == STDIO:
        return spec.loads(read_stream(sys.stdin.buffer, "<stdin>"), source="<stdin>", notation=notation)
    return spec.load(file, notation=notation)


#: What an option looks like (``--points``, ``--points=3``); ``--x`` or ``---1`` may be a formula too,
#: but is read as an option, as click does, unless it is none of the command's options.
OPTION_NAME = re.compile(r"--[A-Za-z][A-Za-z0-9-]*(=.*)?\Z")


class ClaimArguments(click.Command):
    """A command whose last argument is a formula that may start with ``-`` (a claim
    ``-(t1 - out_o1)*...``): an argument that starts with one ``-`` and is not one of the
    command's options is taken as an argument, as if it followed ``--``."""

    def parse_args(self, ctx, args):
        params = [p for p in self.get_params(ctx) if isinstance(p, click.Option)]
        options = {name for p in params for name in (*p.opts, *p.secondary_opts)}
        valued = {name for p in params if not p.is_flag and not p.count for name in p.opts}
        end = args.index("--") if "--" in args else len(args)
        formulas = [i for i, a in enumerate(args[:end]) if a.startswith("-") and not OPTION_NAME.match(a) and len(a) > 1
                    and a not in options and (i == 0 or args[i - 1] not in valued)]
        if formulas:
            rest = [a for i, a in enumerate(args[:end]) if i not in formulas]
            args = [*rest, "--", *(args[i] for i in formulas), *args[end + 1:]]
        return super().parse_args(ctx, args)


class OneLineErrors(click.Group):
    """click's usage errors (a bad option or argument) as one line too, exit code 2,
    instead of the usage text around them."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        if args is None:  # the process's own command line (a test's runner passes its arguments)
            run_as_one_job()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            fail(" ".join(error.format_message().split()), error.exit_code)
        except click.Abort:
            fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)


def run_as_one_job() -> None:
    """The cycle collector off for the rest of this process, which ends with its command.

    A command is one job of bulk work (see :mod:`symprop.model.collection`): the collector
    finds nothing in it, yet each pass walks every object built so far, and the first pass
    after a paused stretch walks everything built during it (a tenth of a second after a
    784-16-10 file is read). Python's shutdown then runs the collector several times over
    the whole heap while it tears the modules down (about half a second after a 784-16-10
    job): the heap is frozen as the process exits, so reference counting and the end of the
    process free it. Files are flushed and closed where they are written, and the other
    exit handlers still run."""
    gc.disable()
    atexit.register(gc.freeze)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="symprop")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug):
    """symprop: backpropagation worked out in full, as Markdown, LaTeX, PDF or JSON."""


NOTATIONS = tuple(PRESETS)


#: What the progress bar of ``derive`` says while each phase runs, keyed by the phase that just
#: ended: deriving, the worked example's numbers, the gradient check, then each document.
PHASES = {"start": "deriving", "derive": "working the example", "numbers": "checking the gradients",
          "check": "writing documents"}


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-f", "--format", "formats", default="md,tex", show_default=True,
              callback=comma_list(FORMATS), help=f"Formats to write, any of {','.join(FORMATS)}.")
@click.option("--notation", type=click.Choice(NOTATIONS), help="Name quantities as this tutorial does (default: the file's).")
@click.option("--lang", type=click.Choice(("en", "ko")), default="en", show_default=True, help="Language of the prose.")
@click.option("--rules/--no-rules", default=True, show_default=True,
              help="Show how each local derivative follows from its rules (sum, constant multiple, power), term by term.")
@click.option("--paper", type=click.Choice(("a4", "letter")), default=None,
              help="Paper of the LaTeX and PDF documents (default: A4 for Korean, Letter for English).")
@click.option("--flavor", type=click.Choice(("github", "kramdown", "dollar")), default="github", show_default=True,
              help="Markdown math flavor: GitHub, Jekyll/kramdown ($$ only), or $/$$ (Hugo, Obsidian, pandoc).")
@click.option("--digits", type=click.IntRange(1, 30), default=9, show_default=True, help="Significant digits of numbers.")
@click.option("--steps", type=click.IntRange(0, 100_000), help="Training steps to run (default: the file's).")
@click.option("--input-gradients", is_flag=True, help="Derive the gradient by every input too (as [train] "
              "input_gradients = true does).")
@click.option("--precision", default="float", show_default=True, callback=lambda ctx, param, value: parse_precision(value),
              help="Arithmetic of the worked example: float (float64), exact (rationals), or a number of digits.")
@click.option("--fragment", is_flag=True, help="Write the LaTeX as a fragment to \\input into your own document.")
@click.option("--per-parameter", is_flag=True, default=None,
              help="Write every parameter out, even for a large network (which is otherwise summarised per layer).")
@click.option("--only", multiple=True, metavar="PARAM",
              help="Write the derivation of this parameter only (repeatable), with the deltas it uses.")
@click.option("--sections", default="", metavar="LIST",
              help="Switch sections on or off: +name (or name) on, -name off, comma-separated "
                   "(+layer-view,+node-rules,-matrix); see the README for the names.")
@click.option("--unrolled", is_flag=True, help="Draw a recurrent network's picture step by step (one cell per step) "
              "rather than rolled up (one cell with a loop).")
@click.option("--templates", "template_dir", type=click.Path(file_okay=False, exists=True),
              help="A folder of your own templates, searched before the built-in ones.")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, allow_dash=True), default="output",
              show_default=True, help="Folder to write into; - writes the one format asked for to standard output.")
@click.option("-q", "--quiet", is_flag=True, help="No notes and no progress on standard error.")
@click.option("--max-seconds", type=click.IntRange(1, 10**6), default=60, show_default=True,
              help="Refuse up front a job estimated to take longer than this.")
@reports_errors
def derive(file, formats, notation, lang, rules, paper, flavor, digits, steps, input_gradients, precision, fragment, per_parameter,
           only, sections, unrolled, template_dir, output_dir, quiet, max_seconds):
    """Write the derivation of FILE (default: the built-in Mazur example; - reads standard input)."""
    from symprop.outputs.export import safe_stem
    from symprop.outputs.pipeline import check_work, render_documents, solve, write_documents

    to_stdout = output_dir == STDIO
    if to_stdout and len(dict.fromkeys(formats)) > 1:
        fail(f"-o - writes one document to standard output: choose one format with -f, not {','.join(formats)}",
             EXIT_BAD_INPUT)
    problem = load_problem(file, notation)
    if input_gradients:
        problem = dataclasses.replace(problem, input_gradients=True)
    stem = safe_stem(Path(file).stem if file and file != STDIO else "mazur" if not file else "stdin")
    estimate = check_work(problem, steps=steps, precision=precision, max_seconds=max_seconds)
    if estimate.seconds > SLOW_SECONDS and not quiet:
        click.echo(f"symprop: note: {estimate.what}; the worked example and its gradient "
                   f"check will take about {estimate.seconds:.0f} s", err=True)
    show_progress = sys.stderr.isatty() and not quiet
    settings = dict(stem=stem, lang=lang, rules=rules, paper=paper, flavor=flavor, digits=digits, fragment=fragment, per_parameter=per_parameter,
                    only=only, sections=sections, unrolled=unrolled, template_dir=template_dir)
    with click.progressbar(length=len(formats) + len(PHASES) - 1, label=PHASES["start"], file=sys.stderr,
                           hidden=not show_progress) as bar:
        def step(name):
            bar.label = PHASES.get(name, PHASES["check"])
            bar.update(1)

        solution = solve(problem, steps=steps, precision=precision, on_step=step)
        if to_stdout:
            [text] = render_documents(solution, formats, on_step=step, **settings).values()
        else:
            paths = write_documents(solution, formats, Path(output_dir), on_step=step, **settings)
    if to_stdout:
        stream = sys.stdout.buffer
        stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        stream.flush()
        return
    for path in paths:
        click.echo(str(path))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("parameter")
@click.option("--notation", type=click.Choice(NOTATIONS), help="Name quantities as this tutorial does.")
@click.option("--digits", type=click.IntRange(1, 30), default=9, show_default=True, help="Significant digits of numbers.")
@reports_errors
def grad(file, parameter, notation, digits):
    """Print the derivation of one PARAMETER's gradient in FILE."""
    from symprop.outputs.pipeline import gradient_text, solve

    click.echo(gradient_text(solve(load_problem(file, notation)), parameter, digits=digits))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the names as JSON for tools.")
@reports_errors
def describe(file, as_json):
    """List every name FILE must give a value for (- reads standard input)."""
    from symprop.files import spec
    from symprop.files.spec_file import read_stream

    if file == STDIO:
        names = spec.required_names(read_stream(sys.stdin.buffer, "<stdin>"), source="<stdin>")
    else:
        names = spec.required_names(Path(file))
    if as_json:
        import json

        click.echo(json.dumps(names, indent=2, ensure_ascii=False))
        return
    for entry in names:
        mark = "given" if entry["given"] else "missing"
        click.echo(f"{entry['name']:<16} {entry['role']:<10} {mark}")


@main.command()
@click.argument("name", required=False)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False),
              help="Write the example files into this folder instead of listing them.")
@reports_errors
def examples(name, output_dir):
    """List the built-in examples, or write them (or just NAME) into a folder."""
    from symprop.files import spec
    from symprop.outputs.export import output_path, write_set

    available = spec.builtin_examples()
    if name is not None and name not in available:
        fail(f"unknown example {name!r}: expected one of {', '.join(available)}", EXIT_BAD_INPUT)
    chosen = {name: available[name]} if name else available
    if output_dir is None and name is None:
        for key, text in chosen.items():
            title = next((line.split("=", 1)[1].strip().strip('"') for line in text.splitlines()
                          if line.startswith("title")), "")
            click.echo(f"{key:<12} {title}")
        return
    if output_dir is None:
        click.echo(chosen[name], nl=False)
        return
    for path in write_set({output_path(Path(output_dir), key, ".toml"): text for key, text in chosen.items()}):
        click.echo(str(path))


@main.command(cls=ClaimArguments)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("parameter")
@click.argument("claim")
@click.option("--points", type=click.IntRange(1, 1000), default=8, show_default=True,
              help="Random points for the numeric comparison.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@reports_errors
def check(file, parameter, claim, points, as_json):
    """Check a CLAIM for the gradient of PARAMETER in FILE: exit 0 if equal, 1 if not.

    A CLAIM may start with - (-(t1 - out_o1)*...) without a -- before it."""
    from symprop.checks.claims import check_claim

    problem = load_problem(file)
    verdict = check_claim(problem.network or problem.graph, parameter, claim, points=points)
    if as_json:
        import json

        click.echo(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(verdict.summary())
    sys.exit(0 if verdict.equal else EXIT_FAILED_CHECK)


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--style", type=click.Choice(("layers", "graph")), default=None,
              help="layers: NumPy over a batch, one matrix product per layer (networks of dense layers, "
                   "their default); graph: one line per node, values read from a mapping (the others' default).")
@reports_errors
def code(file, style):
    """Print Python source of FILE's backward pass, ready to paste into a project."""
    from symprop.outputs.pipeline import backward_code

    click.echo(backward_code(load_problem(file), style=style), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
