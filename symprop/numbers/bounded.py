"""mpmath for generated code, with the size of its numbers bounded.

mpmath's exponent never overflows, so the float64 fallback and the N-digit
arithmetic can always go on, but not always in reasonable time:
``exp(exp(exp(exp(exp(1)))))`` asks for ``exp`` of a number of 1.6 million
digits, whose argument reduction needs ln 2 to millions of bits and runs for
minutes. Every mpmath function the generated code calls, and every power with a
symbolic exponent, goes through :data:`BOUNDED_MPMATH`, which refuses an
argument beyond 2^MAX_MAGNITUDE_BITS (about 10^19728) in one line instead.
"""
from __future__ import annotations

import functools
import math

import mpmath

from symprop.errors import SympropError

#: The largest binary exponent of a number mpmath is given: 2^65536 is about 10^19728. Each
#: function then works to at most this many extra bits, a few milliseconds.
MAX_MAGNITUDE_BITS = 65_536
#: The bound in decimal digits, for messages.
MAX_MAGNITUDE_DIGITS = int(MAX_MAGNITUDE_BITS * math.log10(2))


class NumberTooLarge(SympropError, ValueError):
    """A value grown beyond what the arithmetic computes in reasonable time (an exponential of a large number)."""


def check_size(x):
    """``x`` itself, refused when it is a real mpmath number beyond the bound."""
    if isinstance(x, (mpmath.mpf, mpmath.mpc)) and mpmath.isfinite(x) and x != 0:
        bits = mpmath.mag(x)
        if bits > MAX_MAGNITUDE_BITS:
            digits = bits * 30_103 // 100_000  # log10(2) in integers: bits may not fit a float
            about = f"about 10^{digits}" if digits < 10**15 else "a number of more than 10^15 digits"
            raise NumberTooLarge(f"a value grows beyond 10^{MAX_MAGNITUDE_DIGITS} ({about}): an exponential "
                                 "or power of a large number? choose smaller values")
    return x


def _bounded(function):
    @functools.wraps(function)
    def call(*args):
        for arg in args:
            check_size(arg)
        return function(*args)
    return call


class _BoundedMpmath:
    """The ``mpmath`` module with each function's arguments checked by :func:`check_size`;
    constants, types and contexts are mpmath's own."""

    def __getattr__(self, name):
        attribute = getattr(mpmath, name)
        if callable(attribute) and not isinstance(attribute, type) and name not in _UNCHECKED:
            attribute = _bounded(attribute)
        setattr(self, name, attribute)  # once per name
        return attribute

    @staticmethod
    def power(base, exponent):
        """``base ** exponent`` for a symbolic exponent, both checked."""
        return check_size(base) ** check_size(exponent)


#: Names used for their own sake, not to compute with: precision contexts, conversions.
_UNCHECKED = {"workdps", "workprec", "mpf", "mpc", "mag", "isfinite", "isinf", "isnan", "mp"}

BOUNDED_MPMATH = _BoundedMpmath()
