"""The HTML pages in a real browser (Debian's Chromium and chromedriver through Selenium,
headless, nothing downloaded; tests/browser.py). Every built-in example, in English and
Korean, loads from file:// with no console error and no request, KaTeX sets every
formula, nothing is wider than a 390 px phone; hovering or tabbing to w1 highlights
exactly its two paths and their factors and scrolls its derivation into view while the
picture stays put; the stepper reaches the loss after the update with the Markdown's
numbers; several training steps draw the trace. Screenshots go to output/screenshots
(ignored by git; the folder is named at the end of the test run).

In CI (``CI`` set) these tests never skip; elsewhere they skip without Chromium."""
from __future__ import annotations

import json
import os
import re

import pytest

import symprop
from symprop.files import spec
from symprop.outputs import pipeline, render
from tests import browser as chromium

EXAMPLES = tuple(spec.builtin_examples())
PHONE, DESKTOP = (390, 844), (1280, 900)
PAGES = (*EXAMPLES, *(f"{name}-ko" for name in EXAMPLES), "mazur-symbolic", "mazur-trained", "summarised")

if not chromium.available() and not os.environ.get("CI"):
    pytestmark = pytest.mark.skip(reason="needs selenium, /usr/bin/chromium and /usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    with chromium.chromium(DESKTOP) as driver:
        yield driver


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Each built-in example's page in both languages, its solution and its Markdown; Mazur's
    without numbers, and trained over several steps; a network summarised per layer."""
    folder = tmp_path_factory.mktemp("pages")
    pages = {}

    def page(name, derivation, example=None, **options):
        path = folder / f"{name}.html"
        path.write_text(render.render_html(derivation, example, **options), encoding="utf-8")
        pages[name] = (path, derivation, render.render_markdown(derivation, example, **options))

    for name in EXAMPLES:
        solution = pipeline.solve(spec.load_builtin(name))
        for lang, suffix in (("en", ""), ("ko", "-ko")):
            page(name + suffix, solution.derivation, solution.example, lang=lang, title=solution.problem.title or None)
    mazur = pages["mazur"][1]
    page("mazur-symbolic", mazur)
    trained = pipeline.solve(spec.load_builtin("mazur"), steps=4)
    page("mazur-trained", trained.derivation, trained.example)
    page("summarised", symprop.derive(symprop.mlp(30, [symprop.Dense(8), symprop.Dense(4)], "half_sse")))
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
    chromium.math_done(driver)
    return json.loads(driver.execute_script("return document.getElementById('symprop-data').textContent"))


#: Every element sticking out of the viewport, outside the boxes that scroll sideways
#: (equations, tables, code, the picture's box), with every block laid out first (but
#: the inside of an equation's box, which scrolls within it: its box is as wide as the text).
OVERFLOWING = """
const style = document.createElement('style');
style.textContent = ':not(.equation) { content-visibility: visible !important; }';
document.head.append(style);
const width = document.documentElement.clientWidth, out = [];
const inside = '.equation, .table, pre, .svg-box, .katex';  // what is inside these scrolls in them, or is KaTeX's
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT, {acceptNode(el) {
  const r = el.getBoundingClientRect();
  if (r.width && (r.right > width + 0.5 || r.left < -0.5)) out.push(el.tagName + '.' + el.className + ' ' + r.right);
  return el.matches(inside) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
}});
while (walk.nextNode());
style.remove();
return [document.documentElement.scrollWidth, out.slice(0, 5)];
"""


@pytest.mark.parametrize("name", PAGES)
def test_the_page_loads_clean_sets_every_formula_and_fits_a_phone(browser, site, name):
    path = site[name][0]
    data = open_page(browser, path, PHONE)
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert browser.execute_script("return document.querySelectorAll('.katex-error').length") == 0
    assert browser.execute_script("return document.querySelectorAll('.katex').length") == data["formulas"] > 0
    assert browser.execute_script("return document.querySelectorAll('.tex:not(:has(.katex))').length") == 0
    assert browser.execute_script(OVERFLOWING) == [PHONE[0], []]
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
    assert resources == []
    chromium.screenshot(browser, f"{name}-390")
    viewport(browser, DESKTOP)
    assert browser.execute_script(OVERFLOWING) == [DESKTOP[0], []]
    chromium.screenshot(browser, f"{name}-1280")


def test_the_page_refuses_every_request(browser, site):
    """Its policy makes the browser refuse anything from elsewhere (an image from a host
    here), so no request leaves the page, whatever it holds."""
    open_page(browser, site["mazur"][0])
    refused = browser.execute_async_script("""
        const done = arguments[0];
        document.addEventListener('securitypolicyviolation', e => done(e.blockedURI));
        const img = new Image(); img.src = 'https://example.org/x.png'; document.body.append(img);
        setTimeout(() => done(null), 3000);""")
    assert refused == "https://example.org/x.png"


def test_the_picture_on_a_phone_has_readable_labels_and_long_equations_scroll_in_their_box(browser, site):
    """At 390 px the picture fits, and its weights' labels and nodes' names stay at least
    8 px tall on screen (the picture shrinks; its labels do not shrink with it)."""
    open_page(browser, site["mazur"][0], PHONE)
    sizes = browser.execute_script("""
        const svg = document.querySelector('.picture svg'), r = svg.getBoundingClientRect();
        const k = r.width / svg.viewBox.baseVal.width;
        const px = sel => [...svg.querySelectorAll(sel)].map(t => parseFloat(getComputedStyle(t).fontSize) * k);
        return {right: r.right, labels: px('.edge .label'), names: px('.node .name')};""")
    assert sizes["right"] <= PHONE[0]
    # the long equations scroll inside their own boxes (the page does not: see above)
    assert browser.execute_script("""return [...document.querySelectorAll('.equation')].filter(e => {
        e.style.contentVisibility = 'visible'; return e.scrollWidth > e.clientWidth + 1;
      }).every(e => getComputedStyle(e).overflowX === 'auto') && document.documentElement.scrollWidth""") == PHONE[0]
    wide = browser.execute_script(
        "return [...document.querySelectorAll('.equation')].filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert wide > 0
    assert len(sizes["labels"]) == 8 and min(sizes["labels"]) >= 8
    assert min(sizes["names"]) >= 8
    chromium.screenshot(browser, "mazur-picture-390")
    # the panel folds away, and a derivation scrolled to then clears only its toggle
    folded = browser.execute_script("""
        const panel = document.querySelector('.panel'), toggle = panel.querySelector('.panel-toggle');
        const open = panel.offsetHeight; toggle.click();
        const result = [open, panel.offsetHeight, toggle.getAttribute('aria-expanded'),
          getComputedStyle(document.documentElement).getPropertyValue('--panel-height')];
        toggle.click(); return result;""")
    assert folded[0] > 200 and folded[1] < 60 and folded[2] == "false" and folded[3] == f"{folded[1]}px"


def test_dark_theme_follows_the_system(browser, site):
    open_page(browser, site["mazur"][0], DESKTOP, dark=False)
    light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    viewport(browser, DESKTOP, dark=True)
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") != light
    chromium.screenshot(browser, "mazur-dark-1280")
    viewport(browser, PHONE, dark=True)
    chromium.screenshot(browser, "mazur-dark-390")


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


IN_VIEW = """
const d = document.querySelector('.derivation[data-param=' + arguments[0] + ']').getBoundingClientRect();
const p = document.querySelector('.panel').getBoundingClientRect();
const top = p.width > 0.8 * innerWidth ? p.bottom : 0;  // a panel across the top covers what is under it
return d.top >= top - 2 && d.top < top + (innerHeight - top) / 2 && p.top === 0;
"""

#: Per highlighted equation of the derivation, how many of its factors are highlighted.
FACTORS = """
return [...document.querySelectorAll('.factor.highlight')].every(f => f.closest('.derivation.highlight')) &&
  [...document.querySelectorAll('.derivation.highlight .equation')].map(e => e.querySelectorAll('.factor.highlight').length);
"""


def test_hovering_or_tabbing_to_w1_highlights_its_paths_and_scrolls_to_its_derivation(browser, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    path, derivation, _ = site["mazur"]
    for size in (DESKTOP, PHONE):
        open_page(browser, path, size)
        expected = expected_edges(derivation, "w1", "i1")
        assert derivation["w1"].path_count == 2
        assert expected == {("i1", "out_h1"), ("out_h1", "out_o1"), ("out_h1", "out_o2"), ("out_o1", "E_total"),
                            ("out_o2", "E_total")}
        label = browser.find_element(By.CSS_SELECTOR, '.edge[data-param="w1"] .label')
        ActionChains(browser).move_to_element(label).perform()
        assert highlighted(browser) == expected
        assert browser.execute_script(
            "return [...document.querySelectorAll('.derivation.highlight')].map(d => d.dataset.param)") == ["w1"]
        WebDriverWait(browser, 5).until(lambda d: d.execute_script(IN_VIEW, "w1"))
        # the pointer is still on w1 (the picture did not move): still highlighted
        assert highlighted(browser) == expected
        # the written-out paths: every factor of both paths, and no equation marks a factor off w1's paths
        counts = browser.execute_script(FACTORS)
        assert counts and max(counts) == sum(len(p.nodes) - 1 for p in derivation["w1"].paths) == 10
        # readable without colour: a thicker, dashed stroke; the factors outlined
        width, dashes = browser.execute_script(
            "const s = getComputedStyle(document.querySelector('.edge.highlight .wire'));"
            "return [parseFloat(s.strokeWidth), s.strokeDasharray]")
        assert width >= 3 and dashes != "none"
        assert browser.execute_script(
            "return getComputedStyle(document.querySelector('.factor.highlight')).outlineStyle") == "solid"
        chromium.screenshot(browser, f"mazur-hover-w1-{size[0]}")
        ActionChains(browser).move_to_element(browser.find_element(By.CSS_SELECTOR, "main h1")).perform()
        assert highlighted(browser) == set()
        assert browser.execute_script("return document.querySelectorAll('.highlight').length") == 0

    # the keyboard: the first stop is w1's edge; its derivation scrolls into view
    open_page(browser, path, DESKTOP)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.param") == "w1"
    assert highlighted(browser) == expected_edges(derivation, "w1", "i1")
    WebDriverWait(browser, 5).until(lambda d: d.execute_script(IN_VIEW, "w1"))
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.param") == "w2"
    assert highlighted(browser) == expected_edges(derivation, "w2", "i2")
    WebDriverWait(browser, 5).until(lambda d: d.execute_script(IN_VIEW, "w2"))


#: Press Next until it is disabled; every line the stepper wrote.
STEP_THROUGH = """
document.querySelector('[data-step="reset"]').click();
const next = document.querySelector('[data-step="next"]'), lines = [], values = {};
while (!next.disabled) {
  next.click();
  lines.push(document.querySelector('.step-text').textContent);
  if (lines.length === 3) values.out_h1 = document.querySelector('.node[data-node=out_h1] .value').textContent;
}
return [lines, values];
"""


def test_the_stepper_reaches_the_loss_after_the_update_with_the_markdowns_numbers(browser, site):
    from selenium.webdriver.common.by import By

    path, _, markdown = site["mazur"]
    data = open_page(browser, path, DESKTOP)
    after = re.search(r"The loss falls from \$[\d.]+\$ to \$([\d.]+)\$", markdown).group(1)
    lines, values = browser.execute_script(STEP_THROUGH)
    assert len(lines) == len(data["steps"])
    assert lines[2].endswith("out_h1 = 0.593269992") and values["out_h1"] == "0.5933"  # net_h1, net_h2, out_h1
    assert lines[-1].endswith(f"= {after}")
    # every number the stepper shows is one the Markdown prints (but d loss / d loss = 1)
    for line, step in zip(lines, data["steps"]):
        assert line.endswith(step["value"]), line
        if step["name"] != data["output"] or step["slot"] != "adjoint":
            assert re.search(rf"(?<![\d.]){re.escape(step['value'])}(?!\d)", markdown), line
    browser.find_element(By.CSS_SELECTOR, '.node[data-node="out_h1"]').click()
    info = browser.find_element(By.CSS_SELECTOR, ".node-info").text
    adjoint = data["nodes"]["out_h1"]["adjoint"]
    assert "0.593269992" in info and adjoint in info and re.search(rf"(?<![\d.]){re.escape(adjoint)}(?!\d)", markdown)
    chromium.screenshot(browser, "mazur-stepper-end")


def test_several_training_steps_draw_the_trace(browser, site):
    path, _, markdown = site["mazur-trained"]
    open_page(browser, path, DESKTOP)
    points = browser.execute_script(
        "const p = document.querySelector('.plot polyline'); p.scrollIntoView();"
        "return p.points.numberOfItems")
    assert points == len(re.findall(r"^\| \d+ \|", markdown, re.M)) >= 4
    chromium.screenshot(browser, "mazur-trained-plot")
    open_page(browser, site["mazur"][0], DESKTOP)
    assert browser.execute_script("return document.querySelectorAll('.plot').length") == 0
