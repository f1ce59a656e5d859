"""Network files whose pictures are too large for a page as they are: a one-dimensional
convolution (a tall column of inputs), a recurrent unit unrolled over eight steps (a long
row of columns), and dense networks deeper than three hidden layers."""
from __future__ import annotations


def _conv(n: int = 10) -> str:
    inputs = ", ".join(f'"x{i}"' for i in range(1, n + 1))
    nodes = [f'["y{i}", "k1*x{i} + k2*x{i + 1} + k3*x{i + 2} + c"]' for i in range(1, n - 1)]
    nodes.append('["L", "%s"]' % " + ".join(f"y{i}**2" for i in range(1, n - 1)))
    values = "\n".join(f"x{i} = {0.1 * i:.1f}" for i in range(1, n + 1))
    return (f'title = "A one-dimensional convolution"\nnotation = "dlfs"\n[graph]\ninputs = [{inputs}]\n'
            f'parameters = ["k1", "k2", "k3", "c"]\nnodes = [{", ".join(nodes)}]\noutput = "L"\n'
            f"[values]\n{values}\nk1 = 0.5\nk2 = -0.25\nk3 = 0.125\nc = 0.1\n")


def _rnn(steps: int = 8) -> str:
    inputs = ", ".join(f'"x{t}"' for t in range(1, steps + 1))
    nodes = ['["h1", "tanh(u*x1 + b)"]'] + [f'["h{t}", "tanh(w*h{t - 1} + u*x{t} + b)"]' for t in range(2, steps + 1)]
    nodes.append(f'["L", "(h{steps} - 1)**2"]')
    values = "\n".join(f"x{t} = {0.1 * t:.1f}" for t in range(1, steps + 1))
    return (f'title = "A recurrent unit unrolled"\nnotation = "dlfs"\n[graph]\ninputs = [{inputs}]\n'
            f'parameters = ["w", "u", "b"]\nnodes = [{", ".join(nodes)}]\noutput = "L"\n'
            f"[values]\n{values}\nw = 0.5\nu = 0.8\nb = 0.1\n")


def deep(width: int, hidden: int, activation: str = "sigmoid") -> str:
    """``width`` inputs, ``hidden`` layers of ``width`` units, two outputs; parameters drawn."""
    layers = "".join(f'  {{ units = {width}, activation = "{activation}" }},\n' for _ in range(hidden))
    values = "\n".join(f"x{i} = {0.1 * i:.1f}" for i in range(1, width + 1))
    return (f'title = "A deep network"\n[network]\ninputs = {width}\nloss = "half_sse"\nlayers = [\n{layers}'
            f'  {{ units = 2, activation = "sigmoid" }},\n]\n[values]\n{values}\ny1 = 0.2\ny2 = 0.8\n'
            '[train]\nlearning_rate = 0.5\ninit = { method = "uniform", low = -0.5, high = 0.5, seed = 0, decimals = 2 }\n')


CONV = _conv()
RNN = _rnn()
#: Dense networks too deep for one row of pictures: 4 units by 5 and 6 hidden layers, 8 by 4.
DEEP = {"4x5": deep(4, 5), "4x6": deep(4, 6), "8x4": deep(8, 4)}
