"""The pages the postmortem walk-through does not reach, in the browser, by role: an admin's
tokens and dead letter, a viewer's read-only workspace, the print style, a form's errors."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Site
from .pages import Browser

pytestmark = pytest.mark.slow


def test_admin_viewer_and_print(browser: Any, site: Site) -> None:
    site.user("ada", "admin", "Ada Admin")
    site.user("vic", "viewer", "Vic Viewer")
    b = Browser(browser, site)
    b.sign_in("ada")
    b.go("/incidents/new")
    b.fill({"#f-impact-customers": "many"})
    b.submit("main form button[type=submit]")
    assert "Field required" in b.text("#err-title")  # pydantic's words, beside the field
    assert b.el("#f-title").get_attribute("aria-invalid") == "true"
    b.fill({"#f-title": "Edge proxy 502s", "#f-severity": "SEV3", "#f-impact-customers": "10"})
    b.submit("main form button[type=submit]")
    key = b.text("h1").split(":")[0]
    b.go("/admin/sync-failures")
    assert "dead letter is empty" in b.text()
    b.go("/admin/tokens")
    b.fill({"#token-name": "grafana"})
    b.el("#scope-read").click()
    b.submit("main form button[type=submit]")
    assert b.text("#new-token").startswith("hs_")
    b.submit("main table form button[type=submit]")  # revoke it
    assert "revoked" in b.text("main table")
    b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        b.go(f"/incidents/{key}")
        assert not b.el("header.site").is_displayed()  # the postmortem prints as a document
        assert not [f for f in b.all("main form") if f.is_displayed()]
        assert b.el("h1").is_displayed()
    finally:
        b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    b.submit("header form button[type=submit]")
    b.sign_in("vic")
    b.go(f"/incidents/{key}")
    assert not b.all("main form"), "a viewer sees no forms"
    b.go("/board")
    b.go("/dashboards")
    b.d.get(site.url("/admin/tokens"))
    assert "Not allowed" in b.text("h1")
