"""symprop: backpropagation worked out in full, from a SymPy expression graph."""
__version__ = "0.1.0"
