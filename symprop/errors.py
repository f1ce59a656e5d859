"""The base of every error symprop raises for a user to read.

Each stage defines its own errors (``GraphError``, ``SpecError``, ...) on
top of :class:`SympropError`, keeping the built-in base it had
(``ValueError`` mostly), so ``except SympropError`` catches any of them and
older ``except ValueError`` code still works. Their message is one line.

This module imports nothing, so every stage can use it and the command line
can catch these errors without importing SymPy.
"""

__all__ = ["FailedCheck", "SympropError", "WrongArgument", "given"]


class SympropError(Exception):
    """An error in what symprop was given (a file, a network, a claim), said in one line."""


class FailedCheck(SympropError):
    """A check symprop ran on its own result that did not hold (a gradient against
    finite differences, a matrix form against the per-weight gradients)."""


class WrongArgument(SympropError, TypeError):
    """A function of the Python API given something of the wrong kind (``derive(None)``),
    said in one line: what was given and what was expected."""

    def __init__(self, function: str, expected: str, value, hint: str = ""):
        self.function, self.expected = function, expected
        super().__init__(f"{function} expects {expected}, got {given(value)}" + (f": {hint}" if hint else ""))

    def __reduce__(self):  # the value given may not pickle: the message does
        return (_rebuilt, (type(self), self.function, self.expected, str(self)))


def _rebuilt(cls, function: str, expected: str, message: str):
    error = cls.__new__(cls)
    error.function, error.expected = function, expected
    Exception.__init__(error, message)
    return error


def given(value) -> str:
    """What a wrong argument was, in a few words: ``None``, ``a list``, ``the string 'x+y'``."""
    if value is None:
        return "None"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return "the string " + " ".join(repr(text).split())
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
