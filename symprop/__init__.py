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
    "Graph": "model.graph",
    "derive": "engine.backprop",
    "node_gradient": "engine.backprop",
    "Dense": "model.nn",
    "mlp": "model.nn",
    "batched": "model.nn",
    "worked_example": "numbers.worked_example",
    "check_claim": "checks.claims",
    "check_backward": "checks.backward_check",
    "assert_gradient": "checks.claims",
    "assert_backward": "checks.backward_check",
    "render_markdown": "outputs.render",
    "render_latex": "outputs.render",
    "render_html": "outputs.render",
    "load": "files.spec",
    "loads": "files.spec",
    "SympropError": "errors",
    "FailedCheck": "errors",
    "WrongArgument": "errors",
}


#: Modules users reach from the top: ``from symprop import nn``.
_MODULES = {"nn": "model.nn", "functions": "model.functions"}


def __getattr__(name):
    if name in _MODULES:
        return import_module(f".{_MODULES[name]}", __name__)
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'symprop' has no attribute {name!r}")


__all__ = sorted([*_EXPORTS, *_MODULES])
