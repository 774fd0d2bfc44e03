"""What a person does in the browser, in a few words each: sign in, fill, submit, check."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from .conftest import BAD_IMPACTS, PASSWORD, Site

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))),
  e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


class Browser:
    def __init__(self, driver: Any, site: Site) -> None:
        self.d = driver
        self.site = site
        driver.delete_all_cookies()

    def go(self, path: str) -> None:
        self.d.get(self.site.url(path))
        self.check_accessibility()

    def check_accessibility(self) -> None:
        """axe-core in the page as it is now: no serious or critical violation."""
        self.d.execute_script(self.site.axe)
        violations = self.d.execute_async_script(AXE_RUN)
        bad = [v for v in violations if v["impact"] in BAD_IMPACTS]
        assert not bad, f"{self.d.current_url}: {bad}"
        self.site.checked.append(self.d.current_url)

    def el(self, css: str) -> Any:
        return self.d.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        return list(self.d.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str = "main") -> str:
        return str(self.el(css).text)

    def open(self, css: str) -> None:
        """Open a <details> (the no-JS way the forms are folded) so its fields can be typed in."""
        self.d.execute_script("arguments[0].open = true", self.el(css))

    def fill(self, values: dict[str, str]) -> None:
        for css, value in values.items():
            element = self.el(css)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            elif element.get_attribute("type") in ("date", "datetime-local"):
                self.d.execute_script("arguments[0].value = arguments[1]", element, value)
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, css: str) -> None:
        """Press the button and wait for the next page, then check that page too."""
        old = self.el("html")
        self.el(css).click()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                old.is_enabled()  # raises once the old page is gone
            except Exception:
                break
            time.sleep(0.05)
        self.check_accessibility()

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.go("/incidents")
        assert "/sign-in" in self.d.current_url
        self.fill({"#username": username, "#password": password})
        self.submit("main form button[type=submit]")

    def reload_until(self, css: str, present: bool, timeout: float = 60) -> None:
        """The rules run after the write commits (never inside the request): look again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if bool(self.all(css)) == present:
                return
            time.sleep(0.5)
            self.d.refresh()
        raise AssertionError(f"{css} {'never appeared' if present else 'stayed'} on the page")

    def screenshot(self, name: str, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.d.execute_script("window.scrollTo(0, 0)")
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1280, min(int(height) + 40, 4000))
        self.d.save_screenshot(str(out / name))
        self.d.set_window_size(1280, 1600)
