"""symprop: backpropagation worked out in full, from a SymPy expression graph.

    >>> from symprop import nn, derive
    >>> network = nn.mlp(["i1", "i2"], [nn.Dense(2), nn.Dense(2)], "half_sse", notation="mazur")
    >>> derivation = derive(network)
    >>> derivation["w5"].closed_form
    out_h1*out_o1*(1 - out_o1)*(out_o1 - t1)

The names below are imported on first use, so ``symprop --help`` does not
pay for importing SymPy.
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "Graph": "graph",
    "derive": "backprop",
    "node_gradient": "backprop",
    "Dense": "nn",
    "mlp": "nn",
    "batched": "nn",
    "worked_example": "numeric",
    "check_claim": "check",
    "check_backward": "check",
    "assert_gradient": "check",
    "assert_backward": "check",
    "render_markdown": "render",
    "render_latex": "render",
    "load": "spec",
    "loads": "spec",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'symprop' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
