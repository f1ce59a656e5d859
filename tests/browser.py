"""Debian's Chromium and chromedriver through Selenium, headless, with nothing downloaded:
the one way the browser tests and the benchmarks open the HTML pages.

``available()`` says whether the pieces are installed; ``chromium()`` starts one browser
(share it: starting one takes a second or two); ``load_times()`` opens a page and reads
the browser's own clock (Navigation Timing, and the page's ``symprop-math`` mark, set
when KaTeX has set the last formula); ``screenshot()`` writes to ``SHOTS``."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: Where the browser tests write their screenshots (a CI artefact); SYMPROP_SCREENSHOTS moves it.
SHOTS = Path(os.environ.get("SYMPROP_SCREENSHOTS", Path(__file__).resolve().parents[1] / "output" / "screenshots"))
#: The screenshots written in this run, named at the end of it (tests/outputs/conftest.py).
TAKEN: list[Path] = []


def screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    TAKEN.append(SHOTS / f"{name}.png")


def available() -> bool:
    return importlib.util.find_spec("selenium") is not None and Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@contextlib.contextmanager
def chromium(size=(1280, 900)):
    """A headless Chromium, its console log kept, closed (and its profile removed) on exit."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                         f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def load_times(driver, path: Path) -> dict:
    """Open ``path`` from file:// and return, in milliseconds from the start of navigation,
    ``load`` (the load event has finished: the page shows and its script answers) and
    ``math`` (KaTeX has set the last formula)."""
    driver.get(path.as_uri())
    math_done(driver)
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {load: n.loadEventEnd, math: performance.getEntriesByName('symprop-math')[0].startTime};")


def math_done(driver, timeout: float = 20) -> None:
    """Wait until the page has set its last formula (it sets them in slices)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script("return document.documentElement.dataset.math === 'done'"))


def cpu_seconds(driver) -> float:
    """The processor time (user and system) used so far by the browser: every process
    under the driver's, read from /proc. Unlike wall time, it does not grow when other
    work shares the machine."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks, stack = 0, list(children.get(driver.service.process.pid, []))
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
