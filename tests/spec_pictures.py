"""Graph files whose pictures are too large for a page as they are: a one-dimensional
convolution (a tall column of inputs) and a recurrent unit unrolled over eight steps
(a long row of columns)."""
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


CONV = _conv()
RNN = _rnn()
