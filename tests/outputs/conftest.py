"""The browser tests' screenshots are an artefact of the run: say where they are."""
from __future__ import annotations

from tests import browser


def pytest_terminal_summary(terminalreporter):
    if browser.TAKEN:
        terminalreporter.write_line(f"{len(browser.TAKEN)} screenshots of the HTML pages in {browser.SHOTS}")
