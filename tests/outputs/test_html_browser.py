"""The HTML pages in a real browser: Debian's Chromium and chromedriver through Selenium,
headless, nothing downloaded. Every built-in example loads from file:// with no console
error and no request, KaTeX sets every formula, nothing is wider than a 390 px phone,
hovering or tabbing to w1 highlights exactly its paths, the stepper reaches the loss
after the update. Screenshots go to output/screenshots (ignored by git).

In CI (``CI`` set) these tests never skip; elsewhere they skip without Chromium."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
from pathlib import Path

import pytest

from symprop.files import spec
from symprop.outputs import pipeline, render

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "output" / "screenshots"
EXAMPLES = tuple(spec.builtin_examples())
PHONE, DESKTOP = (390, 844), (1280, 900)

_missing = importlib.util.find_spec("selenium") is None or not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists())
if _missing and not os.environ.get("CI"):
    pytestmark = pytest.mark.skip(reason="needs selenium, /usr/bin/chromium and /usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                     f"--user-data-dir={profile.name}", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Each built-in example's page (and Mazur's in Korean), its solution and its Markdown."""
    folder = tmp_path_factory.mktemp("pages")
    pages = {}
    for name in (*EXAMPLES, "mazur-ko"):
        example, lang = name.split("-")[0], ("ko" if name.endswith("-ko") else "en")
        solution = pipeline.solve(spec.load_builtin(example))
        options = dict(lang=lang, title=solution.problem.title or None)
        path = folder / f"{name}.html"
        path.write_text(render.render_html(solution.derivation, solution.example, **options), encoding="utf-8")
        markdown = render.render_markdown(solution.derivation, solution.example, **options)
        pages[name] = (path, solution, markdown)
    # no worked example (no stepper, no numbers), and a network large enough to be summarised (no picture)
    mazur = pages["mazur"][1]
    symbolic = folder / "mazur-symbolic.html"
    symbolic.write_text(render.render_html(mazur.derivation), encoding="utf-8")
    pages["mazur-symbolic"] = (symbolic, mazur, render.render_markdown(mazur.derivation))
    import symprop

    large = symprop.derive(symprop.mlp(30, [symprop.Dense(8), symprop.Dense(4)], "half_sse"))
    summarised = folder / "summarised.html"
    summarised.write_text(render.render_html(large), encoding="utf-8")
    pages["summarised"] = (summarised, None, render.render_markdown(large))
    SHOTS.mkdir(parents=True, exist_ok=True)
    return pages


def viewport(driver, size, dark=False):
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})


def open_page(driver, path, size=DESKTOP, dark=False):
    viewport(driver, size, dark)
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.as_uri())
    return json.loads(driver.execute_script("return document.getElementById('symprop-data').textContent"))


@pytest.mark.parametrize("name", (*EXAMPLES, "mazur-ko", "mazur-symbolic", "summarised"))
def test_the_page_loads_clean_sets_every_formula_and_fits_a_phone(browser, site, name):
    path, _, _ = site[name]
    data = open_page(browser, path, PHONE)
    log = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert log == []
    assert browser.execute_script("return document.querySelectorAll('.katex-error').length") == 0
    assert browser.execute_script("return document.querySelectorAll('.katex').length") == data["formulas"] > 0
    assert browser.execute_script("return document.querySelectorAll('.tex:not(:has(.katex))').length") == 0
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
    assert [r for r in resources if not r.startswith("data:")] == []
    browser.save_screenshot(str(SHOTS / f"{name}-390.png"))
    viewport(browser, DESKTOP)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= DESKTOP[0]
    browser.save_screenshot(str(SHOTS / f"{name}-1280.png"))


def test_dark_theme_follows_the_system(browser, site):
    path = site["mazur"][0]
    open_page(browser, path, DESKTOP, dark=False)
    light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    viewport(browser, DESKTOP, dark=True)
    dark = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert light != dark
    browser.save_screenshot(str(SHOTS / "mazur-dark-1280.png"))
    viewport(browser, PHONE, dark=True)
    browser.save_screenshot(str(SHOTS / "mazur-dark-390.png"))


def expected_edges(derivation, name, source):
    """The picture edges (from, to) on the derivation's paths from the loss to ``name``:
    a unit is drawn once for its net and its out; a weight's edge starts at ``source``."""
    drawn_as = {s.name: s.name.replace("net_", "out_") for p in derivation[name].paths for s in p.nodes}
    edges = set()
    for path in derivation[name].paths:
        names = []
        for symbol in reversed(path.nodes):
            n = drawn_as[symbol.name]
            if not names or names[-1] != n:
                names.append(n)
        names[0] = source
        edges |= set(zip(names, names[1:]))
    return edges


def highlighted(driver):
    return set(map(tuple, driver.execute_script(
        "return [...document.querySelectorAll('.edge.highlight')].map(e => [e.dataset.from, e.dataset.to])")))


def test_hovering_or_tabbing_to_w1_highlights_its_two_paths(browser, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    path, solution, _ = site["mazur"]
    open_page(browser, path, DESKTOP)
    expected = expected_edges(solution.derivation, "w1", "i1")
    assert solution.derivation["w1"].path_count == 2
    assert expected == {("i1", "out_h1"), ("out_h1", "out_o1"), ("out_h1", "out_o2"), ("out_o1", "E_total"),
                        ("out_o2", "E_total")}
    label = browser.find_element(By.CSS_SELECTOR, '.edge[data-param="w1"] .label')
    ActionChains(browser).move_to_element(label).perform()
    assert highlighted(browser) == expected
    assert browser.execute_script(
        "return [...document.querySelectorAll('.derivation.highlight')].map(d => d.dataset.param)") == ["w1"]
    # highlighted without colour too: a thicker, dashed stroke
    width = browser.execute_script(
        "return getComputedStyle(document.querySelector('.edge.highlight .wire')).strokeWidth")
    assert float(width.rstrip("px")) >= 3
    browser.save_screenshot(str(SHOTS / "mazur-hover-w1.png"))
    ActionChains(browser).move_to_element(browser.find_element(By.TAG_NAME, "h1")).click().perform()
    assert highlighted(browser) == set()

    # the keyboard: the first stop is w1's edge; its derivation scrolls into view
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.param") == "w1"
    assert highlighted(browser) == expected
    WebDriverWait(browser, 5).until(lambda d: d.execute_script(
        "const r = document.querySelector('.derivation[data-param=w1]').getBoundingClientRect();"
        "return r.top >= -2 && r.top < innerHeight / 2"))
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.param") == "w2"
    assert highlighted(browser) == expected_edges(solution.derivation, "w2", "i2")


def test_the_stepper_reaches_the_loss_after_the_update(browser, site):
    from selenium.webdriver.common.by import By

    path, solution, markdown = site["mazur"]
    data = open_page(browser, path, DESKTOP)
    after = re.search(r"The loss falls from \$[\d.]+\$ to \$([\d.]+)\$", markdown).group(1)
    text = browser.find_element(By.CSS_SELECTOR, ".step-text")
    browser.find_element(By.CSS_SELECTOR, '[data-step="reset"]').click()
    value = lambda name: browser.execute_script(
        f"return document.querySelector('.node[data-node={name}] .value').textContent")
    assert value("out_h1") == "" and value("i1") == "0.05"
    next_button = browser.find_element(By.CSS_SELECTOR, '[data-step="next"]')
    clicks = 0
    while next_button.is_enabled():
        next_button.click()
        clicks += 1
        if clicks == 3:  # net_h1, net_h2, out_h1
            assert text.text.endswith("out_h1 = 0.593269992") and value("out_h1") == "0.5933"
    assert clicks == len(data["steps"])
    assert text.text.endswith(f"= {after}")
    browser.find_element(By.CSS_SELECTOR, '.node[data-node="out_h1"]').click()
    info = browser.find_element(By.CSS_SELECTOR, ".node-info").text
    assert "0.593269992" in info and "0.593269992" in markdown
    browser.save_screenshot(str(SHOTS / "mazur-stepper-end.png"))
