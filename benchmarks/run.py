"""symprop benchmarks: every figure beside its target, measured in one run.

    python benchmarks/run.py            # everything (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # skip the slow sympy.diff reference at 16-16-16

Timings are the best of a few repeats (``timeit``'s advice: the minimum is
the least disturbed measurement). torch is optional: without it, that row
says so.
"""
from __future__ import annotations

import argparse
import compileall
import gc
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sympy  # noqa: E402

from symprop import nn  # noqa: E402

from symprop.engine import backprop

ROWS: list[tuple[str, str, str, bool | None]] = []


def report(name: str, measured: str, target: str, ok: bool | None) -> None:
    ROWS.append((name, measured, target, ok))
    mark = {True: "ok", False: "MISSED", None: "-"}[ok]
    print(f"{name:<58} {measured:>16}  {target:<22} {mark}", flush=True)


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_each(first, second, *, calls: int, repeats: int) -> tuple[float, float]:
    """The best time of one call of each, their repeats taken in turn, so that a busy machine
    slows both alike rather than whichever happened to run during the load."""
    best = [math.inf, math.inf]
    for _ in range(repeats):
        for i, function in enumerate((first, second)):
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls):
                function()
            best[i] = min(best[i], (time.perf_counter() - start) / calls)
    return best[0], best[1]


def sigmoid_mlp(widths: tuple[int, ...]) -> nn.Network:
    return nn.mlp(widths[0], [nn.Dense(w, "sigmoid") for w in widths[1:]], "mse", notation="plain")


def all_gradients(network, backend="auto"):
    """Derive, then build every parameter's delta form (the per-parameter result)."""
    derivation = backprop.derive(network, max_paths=0, backend=backend)
    return derivation, [g.delta_form for g in derivation]


def bench_derivation_scaling() -> None:
    sizes = [(2, 2, 2), (8, 8, 8), (16, 16, 16), (32, 32, 10), (64, 32, 10), (784, 16, 10)]
    params, seconds = [], []
    for widths in sizes:
        network = sigmoid_mlp(widths)
        name = f"{'-'.join(map(str, widths))} ({len(network.parameters)} params)"
        records = best_of(lambda: backprop.derive(network, max_paths=0))
        elapsed = best_of(lambda: all_gradients(network))
        params.append(len(network.parameters))
        seconds.append(elapsed)
        largest = widths == (784, 16, 10)
        report(f"derive: every gradient record, {name}", f"{records:.3f} s", "<= 0.5 s" if largest else "",
               records <= 0.5 if largest else None)
        report(f"  ... and every delta form built as a SymPy expression", f"{elapsed:.3f} s", "", None)
        if largest:
            forms = best_of(lambda: [(g.delta_form, g.closed_form) for g in backprop.derive(network, max_paths=0)],
                            repeats=2)
            report("  ... every delta form and every closed form built", f"{forms:.3f} s", "<= 1 s", forms <= 1)
    slope = np.polyfit(np.log(params), np.log(seconds), 1)[0]
    report("time ~ params^k, fitted k (2-2-2 .. 784-16-10)", f"k = {slope:.2f}", "k <= 1.1 (linear)", slope <= 1.1)
    tail = np.polyfit(np.log(params[2:]), np.log(seconds[2:]), 1)[0]
    report("  ... fitted over 16-16-16 .. 784-16-10 only", f"k = {tail:.2f}", "k <= 1.1 (linear)", tail <= 1.1)
    sympy_only = best_of(lambda: all_gradients(sigmoid_mlp((784, 16, 10)), backend="sympy"), repeats=1)
    report("derive all gradients 784-16-10, SymPy alone", f"{sympy_only:.3f} s", "works (no target)", None)


def bench_memory() -> None:
    code = (
        "import resource, sys; sys.path.insert(0, %r)\n"
        "from symprop.model import nn\nfrom symprop.engine import backprop\n"
        "n = nn.mlp(784, [nn.Dense(16), nn.Dense(10)], 'mse')\n"
        "d = backprop.derive(n, max_paths=0); [g.delta_form for g in d]\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n" % str(ROOT)
    )
    peak_kib = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    report("peak memory, 784-16-10 derivation (whole process)", f"{peak_kib / 1024:.0f} MiB", "<= 1024 MiB",
           peak_kib <= 1024 * 1024)


def random_point(symbols, seed=0):
    rng = random.Random(seed)
    return {s: sympy.Float(rng.uniform(-1, 1), 30) for s in symbols}


def bench_against_expanded_diff(quick: bool) -> None:
    widths = (8, 8, 8) if quick else (16, 16, 16)
    network = sigmoid_mlp(widths)
    graph = network.graph
    records = best_of(lambda: backprop.derive(network, max_paths=0))
    fast = best_of(lambda: all_gradients(network))
    derivation, _ = all_gradients(network)
    start = time.perf_counter()
    loss = graph.expanded()
    reference = {p: sympy.diff(loss, p) for p in graph.parameters}
    slow = time.perf_counter() - start
    point = random_point((*graph.inputs, *graph.parameters))
    forward = dict(point)
    for eq in graph.equations:
        forward[eq.node] = eq.expr.xreplace(forward).evalf(30)
    worst = max(
        abs(derivation[p].closed_form.xreplace(forward).evalf(30) - reference[p].xreplace(point).evalf(30))
        for p in graph.parameters
    )
    name = "-".join(map(str, widths))
    report(f"sympy.diff of expanded loss, {name}", f"{slow:.1f} s", "", None)
    report(f"speed-up of the reverse walk over it, {name}", f"{slow / records:.0f}x", ">= 1000x", slow / records >= 1000)
    report("  ... counting every delta form built as a SymPy expression", f"{slow / fast:.0f}x", "", None)
    report(f"largest difference of the two at a 30-digit point, {name}", f"{float(worst):.1e}", "< 1e-20",
           worst < 1e-20)


def bench_backends_agree() -> None:
    network = sigmoid_mlp((32, 32, 10))
    a = backprop.derive(network, backend="sympy")
    b = backprop.derive(network, backend="symengine")
    same = all(a[p].delta_form == b[p].delta_form and a[p].closed_form == b[p].closed_form for p in network.parameters)
    report("SymEngine and SymPy paths give identical gradients (32-32-10)", "identical" if same else "DIFFERENT",
           "identical", same)


def bench_cli_help() -> None:
    command = [sys.executable, "-m", "symprop.cli", "--help"]
    subprocess.run(command, capture_output=True, check=True, cwd=ROOT)
    elapsed = best_of(lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT), repeats=5)
    report("symprop --help (whole process)", f"{elapsed:.3f} s", "< 0.3 s", elapsed < 0.3)


def bench_documents() -> None:
    from symprop.outputs import render
    from symprop.files import spec
    from symprop.outputs.pipeline import solve

    mazur = spec.builtin_examples()["mazur"]
    solution = solve(spec.loads(mazur, source="mazur.toml"))

    def cold_render(make_solution, formats):
        """Time the renders alone, each on a fresh derivation (the renderer reuses a
        context only for the same derivation object)."""
        fresh = make_solution()
        start = time.perf_counter()
        for fmt in formats:
            (render.render_markdown if fmt == "md" else render.render_latex)(fresh.derivation, fresh.example)
        return time.perf_counter() - start

    elapsed = min(cold_render(lambda: solve(spec.loads(mazur, source="mazur.toml")), ("md", "tex"))
                  for _ in range(3))
    report("Mazur document, Markdown + LaTeX, in-process", f"{elapsed:.3f} s", "< 0.3 s", elapsed < 0.3)
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from symprop.files import spec\nfrom symprop.outputs import render\nfrom symprop.outputs.pipeline import solve\n"
        "s = solve(spec.load_builtin('mazur'))\nstart = time.perf_counter()\n"
        "render.render_markdown(s.derivation, s.example); render.render_latex(s.derivation, s.example)\n"
        "print(time.perf_counter() - start)\n" % str(ROOT)
    )

    def fresh_process(environment=None) -> float:
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    env=environment).stdout)

    first = min(fresh_process() for _ in range(3))
    report("  ... the first render in a fresh process", f"{first:.3f} s", "< 0.3 s", first < 0.3)
    with tempfile.TemporaryDirectory() as folder:   # an empty temporary folder: no compiled template kept
        compiled = fresh_process({**os.environ, "TMPDIR": folder})
    report("  ... the same, templates compiled (empty bytecode cache)", f"{compiled:.3f} s", "works (no target)", None)
    large = sigmoid_mlp((784, 16, 10))
    elapsed = min(cold_render(lambda: SimpleNamespace(derivation=backprop.derive(large, max_paths=0), example=None),
                              ("md",)) for _ in range(2))
    report("784-16-10 document (summarised per layer), Markdown", f"{elapsed:.3f} s", "< 1 s", elapsed < 1)
    from symprop.outputs import export

    if not export.tex_available():
        report("Mazur PDF", "no TeX installed", "< 3 s", None)
        return
    latex = render.render_latex(solution.derivation, solution.example)
    with tempfile.TemporaryDirectory() as folder:
        elapsed = best_of(lambda: export.build_pdf(latex, Path(folder) / "mazur.pdf"), repeats=2)
    report("Mazur PDF through latexmk", f"{elapsed:.2f} s", "< 3 s", elapsed < 3)


def bench_html_page() -> None:
    """The Mazur page's size, and its load in headless Chromium from file:// (the best of
    five loads in one browser): the load event (the page shows, its script answers), the
    page's mark once KaTeX has set the last formula (it sets them in slices), and the
    processor time all the browser's processes spent on the load."""
    from symprop.outputs import render
    from symprop.files import spec
    from symprop.outputs.pipeline import solve
    from tests import browser

    solution = solve(spec.load_builtin("mazur"))
    page = render.render_html(solution.derivation, solution.example)
    size = len(page.encode())
    report("Mazur HTML page (KaTeX, its fonts, the numbers inlined)", f"{size / 1e6:.2f} MB", "< 1.5 MB", size < 1_500_000)
    large = render.render_html(backprop.derive(sigmoid_mlp((784, 16, 10)), max_paths=0))
    size = len(large.encode())
    report("784-16-10 HTML page (summarised per layer)", f"{size / 1e6:.2f} MB", "< 3 MB", size < 3_000_000)
    if not browser.available():
        report("Mazur HTML page in Chromium", "no Chromium", "< 1 s", None)
        return
    times, cpu = [], []
    with tempfile.TemporaryDirectory() as folder, browser.chromium() as driver:
        path = Path(folder) / "mazur.html"
        path.write_text(page, encoding="utf-8")
        for _ in range(5):
            driver.get("about:blank")
            before = browser.cpu_seconds(driver)
            times.append(browser.load_times(driver, path))
            cpu.append(browser.cpu_seconds(driver) - before)
    load, math = min(t["load"] for t in times) / 1000, min(t["math"] for t in times) / 1000
    report("Mazur HTML page in Chromium, load event (file://)", f"{load:.3f} s", "< 1 s", load < 1)
    report("  ... until KaTeX has set every formula", f"{math:.3f} s", "< 1 s", math < 1)
    # wall time grows with whatever else the machine runs; the browser's processor time does not
    report("  ... processor time of the browser for all of it", f"{min(cpu):.2f} s", "< 1 s", min(cpu) < 1)


BIG_NETWORK_HEADER = """\
title = "784-16-10 sigmoid network"
notation = "plain"

[network]
inputs = 784
loss = "mse"
layers = [
  { units = 16, activation = "sigmoid" },
  { units = 10, activation = "sigmoid" },
]

[train]
learning_rate = 0.5
steps = 1
init = { method = "uniform", low = -0.5, high = 0.5, seed = 0 }
"""


def big_network_file(path: Path) -> Path:
    """A 784-16-10 sigmoid network file: parameters drawn by ``[train] init``, the inputs
    (an image's pixels in [0, 1]) and a one-hot target given in ``[values]``."""
    from symprop.files import spec

    names = spec.required_names(BIG_NETWORK_HEADER)
    rng = np.random.default_rng(0)
    lines = ["", "[values]"]
    for entry in names:
        if entry["role"] == "input":
            lines.append(f"{entry['name']} = {float(rng.uniform(0, 1))!r}")
    targets = [entry["name"] for entry in names if entry["role"] == "target"]
    lines += [f"{name} = {1.0 if i == 3 else 0.0}" for i, name in enumerate(targets)]
    path.write_text(BIG_NETWORK_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_big_network_file() -> None:
    """``symprop derive`` of a 784-16-10 file, whole process, beside derive() and reading the file."""
    with tempfile.TemporaryDirectory() as folder:
        source = big_network_file(Path(folder) / "big.toml")
        command = [sys.executable, "-m", "symprop", "derive", str(source), "--format", "md,json", "-o", folder]
        whole = best_of(lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT), repeats=2)
        size = (Path(folder) / "big.json").stat().st_size
        per_parameter = best_of(lambda: subprocess.run([*command[:6], "md", "-o", folder, "--per-parameter"],
                                                       capture_output=True, check=True, cwd=ROOT), repeats=1)
        code = (
            "import sys, time; sys.path.insert(0, %r)\n"
            "start = time.perf_counter()\n"
            "from symprop.files import spec\nfrom symprop.engine.backprop import derive\n"
            "problem = spec.load(%r)\nderive(problem.network)\n"
            "print(time.perf_counter() - start)\n" % (str(ROOT), str(source))
        )
        inner = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                         check=True, cwd=ROOT).stdout) for _ in range(2))
    report("symprop derive 784-16-10 file --format md,json (whole process)", f"{whole:.2f} s", "<= 3 s", whole <= 3)
    report("  ... reading the file + derive() (imports included)", f"{inner:.2f} s", "-", None)
    report("  ... whole process / (reading + derive())", f"{whole / inner:.2f}x", "<= 4x", whole / inner <= 4)
    report("  ... its JSON", f"{size / 1e6:.1f} MB", "<= 5 MB", size <= 5e6)
    report("symprop derive 784-16-10 file --format md --per-parameter", f"{per_parameter:.1f} s", "<= 30 s",
           per_parameter <= 30)


def deep_document_seconds(depth: int, width: int) -> float:
    """Derive a ``depth``-layer sigmoid network, work its example, write its Markdown and JSON."""
    from symprop.files import spec
    from symprop.numbers.worked_example import worked_example
    from symprop.outputs import pipeline

    network = nn.mlp(width, [nn.Dense(width, "sigmoid") for _ in range(depth)], "half_sse")
    symbols = (*network.graph.inputs, *network.graph.parameters)
    values = {s.name: 0.1 * ((7 * i) % 11 - 5) for i, s in enumerate(symbols)}
    start = time.perf_counter()
    derivation = backprop.derive(network)
    example = worked_example(derivation, values, learning_rate=0.1)
    problem = spec.Problem(f"{depth} layers", "plain", "", network, network.graph, values, (values,), "mean", 0.1,
                           "weights", 1)
    pipeline.render_documents(pipeline.Solution(problem, derivation, example), ["md", "json"])
    return time.perf_counter() - start


def bench_deep_documents() -> None:
    """Closed forms double in printed size with every layer; documents must not."""
    ten, twenty = (min(deep_document_seconds(depth, 4) for _ in range(2)) for depth in (10, 20))
    report("20-layer width-4 sigmoid network: derive, example, md + json", f"{twenty:.2f} s", "< 5 s", twenty < 5)
    report("  ... time(20 layers) / time(10 layers)", f"{twenty / ten:.2f}x", "<= 2.5x (linear)", twenty / ten <= 2.5)
    half, fifty = (min(deep_document_seconds(depth, 8) for _ in range(2)) for depth in (25, 50))
    report("50-layer width-8 sigmoid network: derive, example, md + json", f"{fifty:.2f} s", "<= 5 s", fifty <= 5)
    report("  ... time(50 layers) / time(25 layers)", f"{fifty / half:.2f}x", "<= 2.5x (linear)", fifty / half <= 2.5)


def bench_generated_code() -> None:
    """The code ``symprop code`` writes, run as a user runs it: one call on a batch of 256 rows."""
    from symprop.codegen import numpy_code as codegen

    widths, batch = (784, 16, 10), 256
    network = sigmoid_mlp(widths)
    scope: dict = {}
    exec(compile(codegen.backward_source(network), "<symprop code>", "exec"), scope)
    rng = np.random.default_rng(0)
    arrays = codegen.parameter_arrays(network, {p.name: rng.normal(0, 0.3) for p in network.parameters})
    data = {"inputs": rng.normal(size=(batch, widths[0])), "targets": rng.uniform(size=(batch, widths[-1]))}
    x, t = data["inputs"], data["targets"]
    _, gradients = scope["backward"](x, t, *arrays)
    assert gradients["W1"].shape == (widths[1], widths[0]), "the gradient is not one array per layer"
    t_forward, t_gradient = best_of_each(lambda: scope["forward"](x, t, *arrays),
                                         lambda: scope["backward"](x, t, *arrays), calls=10, repeats=15)
    ratio = t_gradient / t_forward
    report(f"generated NumPy gradient / its forward, {'-'.join(map(str, widths))}, batch {batch}", f"{ratio:.2f}x",
           "<= 2x", ratio <= 2)
    try:
        import torch
    except ImportError:
        report("generated NumPy gradient vs torch.autograd", "torch not installed", "<= 1.0x torch", None)
        return
    layers = [torch.nn.Linear(a, b).double() for a, b in zip(widths, widths[1:])]
    x = torch.tensor(data["inputs"])
    y = torch.tensor(data["targets"])

    def torch_step():
        out = x
        for layer in layers:
            out = torch.sigmoid(layer(out))
        loss = ((out - y) ** 2).mean(dim=1).mean()
        for layer in layers:
            layer.zero_grad()
        loss.backward()

    t_torch = best_of(lambda: [torch_step() for _ in range(50)], repeats=5) / 50
    report("generated NumPy gradient vs torch.autograd (same batch)", f"{t_gradient / t_torch:.2f}x torch",
           "<= 1.0x torch", t_gradient <= t_torch)


def coursera_convolution_file(path: Path) -> Path:
    """The Coursera course's convolution size: 10 examples of 3x4x4, 8 filters of 2x2 (ReLU),
    flattened into one sigmoid output with cross-entropy; parameters drawn by ``[train] init``."""
    rng = np.random.default_rng(0)
    lines = ['[network]', 'inputs = { name = "x", shape = [3, 4, 4] }',
             'layers = [{ type = "conv2d", filters = 8, kernel = [2, 2], activation = "relu" }, { type = "flatten" }, '
             '{ type = "dense", units = 1, activation = "sigmoid" }]', 'loss = "cross_entropy"',
             '[train]', 'init = { method = "uniform", low = -0.3, high = 0.3, seed = 1, decimals = 3 }']
    for i in range(10):
        lines += ['[[examples]]', f'x = {np.round(rng.uniform(-1, 1, (3, 4, 4)), 3).tolist()}', f't = [{i % 2}.0]']
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_coursera_convolution() -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = coursera_convolution_file(Path(folder) / "conv.toml")
        command = [sys.executable, "-m", "symprop", "derive", str(source), "-o", folder, "--format", "md,json"]
        elapsed = best_of(lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT), repeats=1)
    report("conv 10 x 3x4x4, 8 filters 2x2: derive + worked example (CLI)", f"{elapsed:.1f} s", "< 30 s", elapsed < 30)


def small_cnn_file(path: Path) -> Path:
    """A 12x12 image through conv 4@3x3 (ReLU), 2x2 max pooling and a softmax over 10: 1,050
    parameters, so that its numbers are worked in arrays by shape."""
    rng = np.random.default_rng(1)
    lines = ['[network]', 'inputs = { name = "x", shape = [1, 12, 12] }',
             'layers = [{ type = "conv2d", filters = 4, kernel = [3, 3], activation = "relu" }, '
             '{ type = "maxpool", size = 2, stride = 2 }, { type = "flatten" }, '
             '{ type = "dense", units = 10, activation = "softmax" }]', 'loss = "softmax_cross_entropy"',
             '[train]', 'init = { method = "uniform", low = -0.3, high = 0.3, seed = 1 }', '[values]',
             f'x = {np.round(rng.uniform(0, 1, (1, 12, 12)), 3).tolist()}', f't = {[float(i == 2) for i in range(10)]}']
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_small_cnn() -> None:
    from symprop.files import spec
    from symprop.numbers.worked_example import worked_example
    with tempfile.TemporaryDirectory() as folder:
        source = small_cnn_file(Path(folder) / "cnn.toml")
        command = [sys.executable, "-m", "symprop", "derive", str(source), "-o", folder, "--format", "md,json", "-q"]
        elapsed = best_of(lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT), repeats=1)
        report("12x12 CNN (1,050 parameters): derive md + json (CLI)", f"{elapsed:.1f} s", "< 5 s", elapsed < 5)
        problem = spec.load(source)
    seconds = {}
    for arrays in (True, False):
        derivation = backprop.derive(problem.network)   # each from a fresh derivation: no form built twice
        start = time.perf_counter()
        worked_example(derivation, problem.values, vectorised=arrays)
        seconds[arrays] = time.perf_counter() - start
    ratio = seconds[False] / seconds[True]
    report("12x12 CNN worked example + check: scalar / arrays by shape", f"{ratio:.1f}x ({seconds[True]:.2f} s)",
           "> 1x", ratio > 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="use 8-8-8 for the sympy.diff reference")
    args = parser.parse_args(argv)
    # Whole-process figures as an installed package runs: with its modules' bytecode written
    # (pip writes it at install, Python on first import), even where PYTHONDONTWRITEBYTECODE is set.
    compileall.compile_dir(str(ROOT / "symprop"), quiet=1)
    print(f"{'figure':<58} {'measured':>16}  {'target':<22} result")
    for bench in (bench_derivation_scaling, bench_memory, lambda: bench_against_expanded_diff(args.quick),
                  bench_backends_agree, bench_cli_help, bench_documents, bench_html_page, bench_big_network_file,
                  bench_deep_documents, bench_generated_code, bench_coursera_convolution, bench_small_cnn):
        try:
            bench()
        except Exception as error:  # a missing piece is reported, the other figures still print
            report(getattr(bench, "__name__", "benchmark"), "error", type(error).__name__ + ": " + str(error)[:60], False)
    missed = [row for row in ROWS if row[3] is False]
    print(f"\n{len(ROWS)} figures, {len(missed)} missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
