"""Network files and the refusal helper shared by the tests of the loader's modules."""
from __future__ import annotations

import textwrap

import pytest

from symprop.files import spec
from symprop.files.spec import SpecError

NETWORK = """\
[network]
inputs = ["i1", "i2"]
layers = [
  { units = 2, activation = "sigmoid" },
  { units = 1, activation = "sigmoid" },
]
"""

GRAPH = """\
[graph]
inputs = ["x", "y", "z"]
nodes = [["q", "x + y"], ["f", "q*z"]]
"""


def refusal(text: str, source: str = "f.toml") -> str:
    """The one-line message a file is refused with."""
    with pytest.raises(SpecError) as caught:
        spec.loads(textwrap.dedent(text), source=source)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{source}: ")
    return message


def drawn_network(extra: str = "") -> str:
    """A 2-2-1 network with its data given and no parameter values (``extra`` may ask to draw them)."""
    return NETWORK + extra + "\n[values]\ni1 = 0.5\ni2 = -0.5\ny1 = 1.0\n"


#: A sigmoid layer's backward pass from a given upstream gradient, with the gradients by its inputs.
UPSTREAM = """
notation = "dlfs"
[network]
inputs = ["x1", "x2"]
loss = "upstream"
layers = [{ units = 2, activation = "sigmoid" }]
[values]
x1 = 1.0
x2 = 0.5
g = [0.1, -0.2]
W1_1_1 = 0.1
W1_1_2 = 0.2
W1_2_1 = 0.3
W1_2_2 = 0.4
b1_1 = 0.0
b1_2 = 0.0
[train]
steps = 0
input_gradients = true
"""
