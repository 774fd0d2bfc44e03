"""Real Chromium (Debian's package, driven by Debian's chromedriver) against a real server.

One browser for the whole session; one `hindsight serve` process per test on that
backend's committed database. axe-core comes from the npm registry at test time
(`npm pack`, cached outside git) and is injected into each page the tests visit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ROOT, free_port, hindsight, wait_http

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_VERSION = os.environ.get("HINDSIGHT_TEST_AXE", "axe-core@4")
AXE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hindsight-axe"
PASSWORD = "correct horse battery staple"
BAD_IMPACTS = {"serious", "critical"}


def _need(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} is missing ({path}): apt-get install -y chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: the browser is required)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser build from the npm registry, packed once into a cache outside git."""
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    script = AXE_CACHE / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to fetch axe-core from the npm registry")
        # Packed into a directory of this process's own and renamed into place, so parallel
        # test workers fetching it at once never read a half-written file.
        own = Path(tempfile.mkdtemp(dir=AXE_CACHE))
        packed = subprocess.run(
            [npm, "pack", AXE_VERSION, "--silent", "--pack-destination", str(own)],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout.split()[-1]
        with tarfile.open(own / packed) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None, "axe-core's package has no axe.min.js"
            (own / "axe.min.js").write_bytes(member.read())
        os.replace(own / "axe.min.js", script)
        shutil.rmtree(own, ignore_errors=True)
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _need(CHROMIUM, "Chromium")
    _need(CHROMEDRIVER, "chromedriver")
    from selenium import webdriver  # the browser tier only: unit tests do not load selenium
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1600")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


@dataclass
class Site:
    base: str
    env: dict[str, str]
    axe: str
    checked: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def user(self, username: str, role: str, name: str, team: str | None = None) -> None:
        args = ["user", "create", username, "--role", role, "--name", name, "--password-stdin"]
        if team:
            args += ["--team", team]
        done = subprocess.run(
            hindsight(*args), cwd=ROOT, env=self.env, input=PASSWORD + "\n", text=True,
            capture_output=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr


@pytest.fixture
def site(committed_database_url: str, axe_source: str, tmp_path: Path) -> Iterator[Site]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    env.update(
        HINDSIGHT_DATABASE_URL=committed_database_url,
        HINDSIGHT_CONFIG_DIR=str(ROOT / "config"),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        hindsight("serve", "--port", str(port)), cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", proc)
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        yield Site(base, env, axe_source)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
