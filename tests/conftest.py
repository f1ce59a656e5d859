"""Shared fixtures: the textbook networks every core test file checks.

In CI (``CI`` set) Hypothesis draws its examples from a fixed seed, so a run
is reproducible; elsewhere each run explores new examples.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from symprop.engine import backprop
from symprop.model.nn import Dense, mlp


def mazur_network():
    """Matt Mazur's 2-2-2 sigmoid network, one bias shared per layer, loss 1/2 sum (t - o)^2."""
    return mlp(
        ["i1", "i2"],
        [
            Dense(2, "sigmoid", bias="shared", names=["h1", "h2"]),
            Dense(2, "sigmoid", bias="shared", names=["o1", "o2"]),
        ],
        "half_sse",
        notation="mazur",
        targets=["t1", "t2"],
    )


def chain_network(layers: int = 3, activation: str = "sigmoid"):
    """3Blue1Brown's one-neuron-per-layer chain with cost (a - y)^2."""
    return mlp(1, [Dense(1, activation)] * layers, "sse", notation="3b1b")


@pytest.fixture(scope="session")
def mazur():
    return mazur_network()


@pytest.fixture(scope="session")
def mazur_derivation(mazur):
    return backprop.derive(mazur)


@pytest.fixture(scope="session")
def chain():
    return chain_network()


@pytest.fixture(scope="session")
def chain_derivation(chain):
    return backprop.derive(chain)


@pytest.fixture(scope="session")
def mazur_solution():
    """Mazur's built-in example, derived and worked."""
    from symprop.outputs import pipeline
    from symprop.files import spec

    return pipeline.solve(spec.load_builtin("mazur"))


@pytest.fixture(scope="session")
def graph_solution():
    """The built-in computational graph f = (x + y) z, derived and worked."""
    from symprop.outputs import pipeline
    from symprop.files import spec

    return pipeline.solve(spec.load_builtin("graph"))
