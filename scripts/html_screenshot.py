"""Regenerate docs/html-mazur.png, the README's picture of the interactive page: Mazur's
page in headless Chromium at 1280 x 760, the pointer on w1 (its two paths highlighted in
the picture, its derivation scrolled into view with the factors of the paths marked).

    python scripts/html_screenshot.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symprop.files import spec  # noqa: E402
from symprop.outputs import pipeline, render  # noqa: E402
from tests import browser  # noqa: E402

SIZE = (1280, 760)


def main() -> int:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    solution = pipeline.solve(spec.load_builtin("mazur"))
    with tempfile.TemporaryDirectory() as folder, browser.chromium(SIZE) as driver:
        page = Path(folder) / "mazur.html"
        page.write_text(render.render_html(solution.derivation, solution.example), encoding="utf-8")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": SIZE[0], "height": SIZE[1], "deviceScaleFactor": 1, "mobile": False})
        driver.get(page.as_uri())
        browser.math_done(driver)
        ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, '.edge[data-param="w1"] .label')).perform()
        WebDriverWait(driver, 5).until(lambda d: d.execute_script(
            "return Math.abs(document.querySelector('.derivation[data-param=w1]').getBoundingClientRect().top - 16) < 3"))
        target = ROOT / "docs" / "html-mazur.png"
        driver.save_screenshot(str(target))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
