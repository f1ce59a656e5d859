"""A time bound for tests that could hang (a read that blocks, a job that runs away):
they fail fast instead of blocking the suite."""
from __future__ import annotations

import contextlib
import signal


class CaseTimeout(BaseException):
    """A case ran past its time bound. A ``BaseException``, so the command line's
    ``except Exception`` cannot turn it into an internal error and hide the hang."""


@contextlib.contextmanager
def time_bound(seconds: float, what: str):
    """Fail with :class:`CaseTimeout` when the body runs longer than ``seconds``."""

    def expire(signum, frame):
        raise CaseTimeout(f"{what}: still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
