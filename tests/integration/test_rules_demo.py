"""The demo incidents carry the findings their headers promise, and fixing the data clears them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.demo import load_demo
from app.settings import Settings
from tests.conftest import ApiClient

Find = Callable[[str, str], dict[str, Any]]


class Demo:
    """One demo incident, read and fixed through the API like a user would."""

    def __init__(self, api: ApiClient, key: str) -> None:
        self.api, self.key = api, key
        self.base = f"/api/v1/incidents/{key}"

    def get(self, part: str, field: str, prefix: str) -> dict[str, Any]:
        rows: list[dict[str, Any]] = self.api.get(f"{self.base}/{part}").json
        [row] = [r for r in rows if str(r[field]).startswith(prefix)]
        return row

    def action(self, prefix: str) -> dict[str, Any]:
        return self.get("actions", "title", prefix)

    def findings(self) -> set[tuple[str, str]]:
        rows = self.api.get(f"{self.base}/findings").json
        return {(f["rule"], f["entity_key"]) for f in rows}

    def ok(self, response: Any) -> None:
        assert response.status_code in (200, 201, 204), response.json


def _incident_01(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    drills = d.action("Re-enable weekly automated restore drills")["key"]
    planted = {("ownership.missing", drills), ("language.individual_blame", d.key)}

    def fix() -> None:
        d.ok(d.api.patch(f"/api/v1/actions/{drills}", json={"owner": "Tomasz Nowak"}))
        lessons = d.api.get(f"{d.base}/postmortem").json["postmortem"]["lessons"]
        d.ok(
            d.api.patch(
                f"{d.base}/postmortem",
                json={
                    "lessons": [
                        "The restore report was not on the change-freeze checklist, "
                        "so nobody saw it fail."
                        if "DBA failed" in line
                        else line
                        for line in lessons
                    ]
                },
            )
        )

    return planted, fix


def _incident_02(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    cause = d.get("causes", "statement", "Gap recovery depends")
    decision = d.get("timeline", "text", "Resume midpoint-peg")
    planted = {
        ("completeness.cause_unaddressed", f"{d.key}/{cause['id']}"),
        ("completeness.decision_rationale", f"{d.key}/{decision['id']}"),
    }

    def fix() -> None:
        d.ok(
            d.api.post(
                f"{d.base}/actions",
                json={
                    "title": "Size retransmission capacity for current peak message rates",
                    "type": "prevent",
                    "owner": "Kenji Watanabe",
                    "due_date": "2026-12-04",
                    "cause_ids": [cause["id"]],
                    "success_criteria": "Gap recovery completes within 2 s at 2x peak rate",
                    "validation_method": "Quarterly load test against the retransmission service",
                },
            )
        )
        d.ok(
            d.api.patch(
                f"{d.base}/timeline/{decision['id']}",
                json={"rationale": "Standby handler had clean sequence numbers on all 12 channels"},
            )
        )

    return planted, fix


def _incident_03(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    cause = d.get("causes", "statement", "Human error")
    certs = d.action("Track backup client certificates")["key"]
    planted = {
        ("language.human_error", f"{d.key}/{cause['id']}"),
        ("completeness.success_criteria", certs),
        ("completeness.validation_method", certs),
    }

    def fix() -> None:
        d.ok(d.api.delete(f"{d.base}/causes/{cause['id']}"))
        d.ok(
            d.api.patch(
                f"/api/v1/actions/{certs}",
                json={
                    "success_criteria": "Every backup client certificate is in the inventory",
                    "validation_method": "Expiry alert fires in a monthly test "
                    "with a 29-day certificate",
                },
            )
        )

    return planted, fix


def _incident_04(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    replica = d.action("Run job-runner exports from a read replica")["key"]

    def fix() -> None:
        d.ok(d.api.patch(f"/api/v1/actions/{replica}", json={"owner": "Elena Petrova"}))

    return {("ownership.unknown_owner", replica)}, fix


def _incident_05(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    model = d.action("Cross-region failover capacity model")["key"]

    def fix() -> None:
        d.ok(
            d.api.post(
                f"{d.base}/participants", json={"role": "communications", "name": "Laura Chen"}
            )
        )
        d.ok(d.api.patch(f"/api/v1/actions/{model}", json={"due_date": "2026-07-20"}))

    return {("completeness.business_role", d.key), ("deadlines.too_far", model)}, fix


def _incident_06(d: Demo) -> tuple[set[tuple[str, str]], Callable[[], None]]:
    cause = d.get("causes", "statement", "Elena Petrova approved")

    def fix() -> None:
        d.ok(
            d.api.patch(
                f"{d.base}/causes/{cause['id']}",
                json={
                    "statement": "Rate-limit exceptions are approved "
                    "without a job-runner capacity check"
                },
            )
        )
        d.ok(d.api.patch(f"{d.base}/postmortem", json={"review_held_at": "2026-09-25T15:00:00Z"}))

    return {
        ("language.person_as_cause", f"{d.key}/{cause['id']}"),
        ("completeness.review_late", d.key),
    }, fix


PLANTED = [_incident_01, _incident_02, _incident_03, _incident_04, _incident_05, _incident_06]


@pytest.fixture
def demo_keys(committed_settings: Settings) -> list[str]:
    """`load_demo` builds a runtime of its own: its writes are committed."""
    summary = load_demo(committed_settings)
    assert len(summary.loaded) == len(PLANTED)
    return summary.loaded


def test_demo_incidents_show_their_planted_findings_and_fixes_clear_them(
    committed_api: ApiClient, demo_keys: list[str]
) -> None:
    api = committed_api
    for key, planted_in in zip(demo_keys, PLANTED, strict=True):
        demo = Demo(api, key)
        planted, fix = planted_in(demo)
        before = demo.findings()
        assert planted <= before, (key, planted - before)
        fix()
        after = demo.findings()
        assert not planted & after, (key, planted & after)
        assert len(after) > 0  # the rest of the story (overdue work, obligations) is still there
