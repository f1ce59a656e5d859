"""The base of every error symprop raises for a user to read.

Each stage defines its own errors (``GraphError``, ``SpecError``, ...) on
top of :class:`SympropError`, keeping the built-in base it had
(``ValueError`` mostly), so ``except SympropError`` catches any of them and
older ``except ValueError`` code still works. Their message is one line.

This module imports nothing, so every stage can use it and the command line
can catch these errors without importing SymPy.
"""

__all__ = ["FailedCheck", "SympropError"]


class SympropError(Exception):
    """An error in what symprop was given (a file, a network, a claim), said in one line."""


class FailedCheck(SympropError):
    """A check symprop ran on its own result that did not hold (a gradient against
    finite differences, a matrix form against the per-weight gradients)."""
