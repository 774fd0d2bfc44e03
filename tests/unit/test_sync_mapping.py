"""config/jira.yaml and the pure mapping between Hindsight values and Jira values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from app.catalog import load_catalog
from app.domain.vocabulary import ActionStatus
from app.models import Action, Incident, Postmortem
from app.services.tracker_targets import status_path
from app.sync.jira import JiraTracker
from app.sync.jira_payloads import (
    adf_to_text,
    create_payload,
    remote_issue,
    rest_fields,
    search_change,
    text_to_adf,
    webhook_change,
)
from app.sync.mapping import MappingError, changed_fields, desired_fields, load_mapping
from app.sync.tracker import (
    IssueDraft,
    Link,
    StatusTarget,
    TransitionOption,
    UserRef,
)
from app.sync.workflow import choose_transition

CONFIG = Path(__file__).resolve().parents[2] / "config"
MAPPING = load_mapping(CONFIG)
CATALOG = load_catalog(CONFIG)
MAYA = next(p for p in CATALOG.people if p.name == "Maya Okafor")


def _incident() -> Incident:
    return Incident(
        id=3,
        key="INC-3",
        title="Checkout\ndown",
        severity="SEV1",
        status="resolved",
        services=["checkout", "orders-db"],
        summary="Payments failed.",
    )


def _action(incident: Incident) -> Action:
    return Action(
        id=7,
        key="ACT-7",
        incident=incident,
        title="Add an alert",
        type="detect",
        description="Page on-call.",
        owner="Maya Okafor",
        due_date=date(2030, 1, 2),
        priority="P1",
        status="wont_do",
        success_criteria="Fires in 5 min",
        tracker_deleted=False,
    )


def test_the_shipped_mapping_loads_and_the_environment_names_the_project() -> None:
    assert MAPPING.project == "OPS"
    assert load_mapping(CONFIG, "SRE").project == "SRE"
    assert MAPPING.issue_types == {"incident": "Bug", "postmortem": "Story", "action": "Task"}


def test_action_fields_for_cloud_and_data_center() -> None:
    action = _action(_incident())
    cloud = desired_fields(MAPPING, CATALOG, "cloud", "action", action)
    assert cloud["summary"] == "ACT-7: Add an alert"
    assert cloud["assignee"] == MAYA.jira_account_id
    assert cloud["priority"] == "High"
    assert cloud["duedate"] == "2030-01-02"
    assert cloud["status"] == StatusTarget("done", "Won't Do").token()
    assert cloud["custom:customfield_10051"] == "INC-3"
    assert "customfield_10050" not in " ".join(cloud), "severity is not mapped on actions"
    assert "Success criteria: Fires in 5 min" in cloud["description"]
    dc = desired_fields(MAPPING, CATALOG, "dc", "action", action)
    assert dc["assignee"] == MAYA.jira_username
    action.owner = "Someone Not In The Catalog"
    # never sent as a user: left out (Jira's assignee stays), or null under "unassign"
    assert "assignee" not in desired_fields(MAPPING, CATALOG, "cloud", "action", action)
    unassign = MAPPING.model_copy(update={"owner_without_jira_account": "unassign"})
    assert desired_fields(unassign, CATALOG, "cloud", "action", action)["assignee"] is None
    action.owner = None
    assert desired_fields(MAPPING, CATALOG, "cloud", "action", action)["assignee"] is None


def test_incident_and_postmortem_fields() -> None:
    incident = _incident()
    fields = desired_fields(MAPPING, CATALOG, "cloud", "incident", incident)
    assert fields["summary"] == "INC-3: Checkout down", "no newlines in a Jira summary"
    assert fields["priority"] == "Highest"  # SEV1
    assert fields["custom:customfield_10050"] == {"value": "SEV1"}
    assert fields["status"] == StatusTarget("done", "Done").token()
    pm = Postmortem(
        incident=incident,
        status="draft",
        facilitator="Maya Okafor",
        review_due=date(2024, 3, 6),
        summary="s",
        impact="i",
        lessons=["a", "b"],
    )
    fields = desired_fields(MAPPING, CATALOG, "dc", "postmortem", pm)
    assert fields["summary"] == "Postmortem INC-3: Checkout down"
    assert (fields["assignee"], fields["duedate"]) == (MAYA.jira_username, "2024-03-06")
    assert fields["status"] == StatusTarget("new").token()
    assert MAPPING.entity_label("postmortem", "INC-3") == "hs-INC-3-pm"
    assert MAPPING.entity_label("action", "ACT-7") == "hs-ACT-7"


@pytest.mark.parametrize(
    ("name", "category", "resolution", "expected"),
    [
        ("To Do", "new", None, ActionStatus.OPEN),
        ("In Progress", "indeterminate", None, ActionStatus.IN_PROGRESS),
        ("Done", "done", "Done", ActionStatus.DONE),
        ("Done", "done", "Won't Do", ActionStatus.WONT_DO),
        ("Closed", "done", "Duplicate", ActionStatus.WONT_DO),
        ("Resolved", "done", None, ActionStatus.DONE),
        ("Mystery", None, None, None),
    ],
)
def test_jira_status_by_category_and_resolution(
    name: str, category: str | None, resolution: str | None, expected: ActionStatus | None
) -> None:
    assert MAPPING.hindsight_status(name, category, resolution) == expected


@pytest.mark.parametrize(
    ("entity", "category", "resolution", "expected"),
    [
        ("postmortem", "new", None, "draft"),
        ("postmortem", "indeterminate", None, "in_review"),
        ("postmortem", "done", "Done", "published"),
        ("postmortem", "done", "Won't Do", None),  # closed, not published
        ("postmortem", "done", None, "published"),
        ("incident", "new", None, "open"),
        ("incident", "indeterminate", None, "investigating"),
        ("incident", "done", "Done", "resolved"),
        ("incident", None, None, None),
    ],
)
def test_postmortem_and_incident_statuses_back_from_jira(
    entity: str, category: str | None, resolution: str | None, expected: str | None
) -> None:
    assert MAPPING.inbound_status(entity, "x", category, resolution) == expected  # type: ignore[arg-type]


def test_entity_inbound_entries_replace_defaults_one_by_one() -> None:
    data = yaml.safe_load((CONFIG / "jira.yaml").read_text())
    data["inbound"]["postmortem"] = {"status_names": {"Published": "published"}}
    data["inbound"]["incident"] = {"categories": {"done": "closed"}}
    mapping = MAPPING.model_validate(data)
    assert mapping.inbound_status("postmortem", "Published", "indeterminate", None) == "published"
    assert mapping.inbound_status("postmortem", "Review", "indeterminate", None) == "in_review"
    assert mapping.inbound_status("incident", "Done", "done", "Done") == "closed"
    assert mapping.inbound_status("incident", "Open", "new", None) == "open"
    data["inbound"]["postmortem"] = {"categories": {"done": "finished"}}
    with pytest.raises(ValueError, match="inbound.postmortem: unknown Hindsight status"):
        MAPPING.model_validate(data)


def test_status_names_win_over_categories_when_configured() -> None:
    data = yaml.safe_load((CONFIG / "jira.yaml").read_text())
    data["inbound"]["status_names"] = {"Blocked": "blocked"}
    mapping = MAPPING.model_validate(data)
    assert mapping.hindsight_status("Blocked", "indeterminate", None) == ActionStatus.BLOCKED


def test_priorities_both_ways() -> None:
    assert MAPPING.jira_priority("P0") == "Highest"
    assert MAPPING.hindsight_priority("High") == "P1"
    assert MAPPING.hindsight_priority("Lowest") == "P3", "Jira's fifth level folds into P3"
    assert MAPPING.hindsight_priority("Blocker") is None
    assert MAPPING.hindsight_priority(None) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": ["hind sight"]}, "cannot contain spaces"),
        ({"labels": []}, "at least one label"),
        ({"statuses": {"action": {"finished": {"category": "done"}}}}, "unknown Hindsight status"),
        ({"statuses": {"action": {"done": {"category": "complete"}}}}, "category"),
        ({"custom_fields": [{"field": "customfield_1", "source": "moon_phase"}]}, "source"),
        ({"issue_typez": {}}, "issue_typez"),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path: Path, change: dict, message: str) -> None:
    data = yaml.safe_load((CONFIG / "jira.yaml").read_text())
    data.update(change)
    (tmp_path / "jira.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(MappingError, match=message):
        load_mapping(tmp_path)


def test_only_fields_that_differ_from_the_agreed_value_are_sent() -> None:
    desired = {"summary": "a", "priority": "High", "duedate": None}
    assert changed_fields(desired, {"summary": "a", "priority": "Low", "duedate": None}) == {
        "priority": "High"
    }
    assert changed_fields(desired, {}, creating=True) == desired
    assert changed_fields(desired, {"summary": "a"}) == {"priority": "High", "duedate": None}


@pytest.mark.parametrize(
    ("start", "goal", "path"),
    [
        ("open", "done", ["done"]),
        ("wont_do", "done", ["open", "done"]),  # Hindsight only reopens a wont_do
        ("verified", "open", ["open"]),  # with a reason (Jira's), a verified action reopens
        ("blocked", "done", ["open", "done"]),
        ("done", "done", []),
    ],
)
def test_jira_jumps_become_allowed_hindsight_steps(start: str, goal: str, path: list[str]) -> None:
    assert [s.value for s in status_path(ActionStatus(start), ActionStatus(goal))] == path


def test_transition_choice_prefers_a_named_status_then_the_category() -> None:
    options = [
        TransitionOption("11", "10000", "To Do", "new"),
        TransitionOption("21", "3", "In Progress", "indeterminate"),
        TransitionOption("41", "5", "Blocked", "indeterminate"),
        TransitionOption("31", "10001", "Done", "done", takes_resolution=True),
    ]
    assert choose_transition(options, StatusTarget("indeterminate")).id == "21"  # type: ignore[union-attr]
    assert choose_transition(options, StatusTarget("indeterminate", None, "Blocked")).id == "41"  # type: ignore[union-attr]
    assert choose_transition(options[:2], StatusTarget("done")) is None


def test_the_adapter_is_built_without_a_request() -> None:
    """Nothing listens on port 9: building it must not ask for serverInfo."""
    tracker = JiraTracker(
        "http://127.0.0.1:9",
        "OPS",
        user="bot",
        token="t",
        flavour="dc",
        custom_ids=["customfield_10051"],
    )
    assert tracker.flavour == "dc"
    tracker.close()


def test_create_payload_per_flavour() -> None:
    draft = IssueDraft(
        ref="hs-ACT-7",
        issue_type="Task",
        summary="ACT-7: x",
        labels=["hindsight", "hs-ACT-7"],
        description="one\n\ntwo",
        priority="High",
        duedate="2030-01-02",
        assignee=UserRef(account_id="acc-1", name="maya"),
        custom={"customfield_10051": "INC-3"},
        defaults={"duedate": "2099-01-01", "components": [{"name": "SRE"}]},
        link=Link("Relates", "OPS-2"),
    )
    cloud = create_payload(draft, "OPS", "cloud")
    fields = cloud["fields"]
    assert fields["assignee"] == {"accountId": "acc-1"}
    assert fields["description"] == text_to_adf("one\n\ntwo")
    assert fields["duedate"] == "2030-01-02", "a default never overrides a real value"
    assert fields["components"] == [{"name": "SRE"}]
    assert fields["labels"] == ["hindsight", "hs-ACT-7"]
    assert cloud["update"] == {
        "issuelinks": [{"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": "OPS-2"}}}]
    }
    dc = create_payload(
        IssueDraft(
            ref="r",
            issue_type="Sub-task",
            summary="s",
            labels=["hindsight"],
            description="d",
            assignee=UserRef(account_id="acc-1", name="maya"),
            parent="OPS-2",
        ),
        "OPS",
        "dc",
    )
    assert dc["fields"]["assignee"] == {"name": "maya"}
    assert dc["fields"]["description"] == "d"
    assert dc["fields"]["parent"] == {"key": "OPS-2"}
    assert "update" not in dc


def test_unsetting_on_update_but_not_on_create() -> None:
    assert rest_fields(
        {"assignee": None, "duedate": None, "priority": None}, "cloud", creating=False
    ) == {"assignee": None, "duedate": None}  # null unassigns, on both flavours
    assert rest_fields({"assignee": None}, "dc", creating=False) == {"assignee": None}
    assert rest_fields({"assignee": None, "duedate": None}, "cloud", creating=True) == {}


def test_reading_an_issue_from_either_flavour() -> None:
    raw = {
        "id": "10001",
        "key": "OPS-2",
        "fields": {
            "labels": ["hindsight", "hs-ACT-7"],
            "summary": "s",
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Won't Do"},
            "priority": {"name": "High"},
            "duedate": "2030-01-02",
            "assignee": {"accountId": "acc-1", "displayName": "Maya"},
            "updated": "2024-01-01T12:00:00.000+0000",
            "description": text_to_adf("a\n\nb"),
            "issuelinks": [{"outwardIssue": {"key": "OPS-1"}}, {"inwardIssue": {"key": "OPS-9"}}],
            "customfield_10051": "INC-3",
        },
    }
    issue = remote_issue(raw, ["customfield_10051"])
    assert issue.status_token() == StatusTarget("done", "Won't Do").token()
    assert issue.linked_keys == ("OPS-1", "OPS-9")
    assert issue.description == "a\n\nb" == adf_to_text(text_to_adf("a\n\nb"))
    assert issue.updated is not None and issue.updated.utcoffset() is not None
    assert issue.custom == {"customfield_10051": "INC-3"}


ISSUE = {
    "id": "10001",
    "key": "OPS-2",
    "fields": {
        "status": {"name": "Done", "statusCategory": {"key": "done"}},
        "resolution": {"name": "Won't Do"},
        "priority": {"name": "High"},
        "duedate": "2030-01-02",
        "assignee": {"accountId": "acc-1", "displayName": "Maya"},
        "updated": "2024-01-01T12:00:00.000+0000",
        "labels": ["hindsight", "hs-ACT-7"],
    },
}


def test_a_webhook_and_a_search_hit_become_the_same_neutral_change() -> None:
    payload = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1704110400000,
        "user": {
            "accountId": "acc-9",
            "displayName": "Priya Raman",
            "emailAddress": "priya@example.com",
        },
        "issue": ISSUE,
        "changelog": {
            "id": "10400",
            "items": [
                {"fieldId": "status", "field": "status"},
                {"field": "resolution"},
                {"fieldId": "summary"},
            ],
        },
    }
    hook = webhook_change(payload)
    hit = search_change(ISSUE)
    assert hook.state == hit.state
    assert hook.state.status_category == "done" and hook.state.resolution == "Won't Do"
    assert hook.state.assignee is not None and hook.state.assignee.account_id == "acc-1"
    assert (hook.issue_id, hook.issue_key, hook.kind) == ("10001", "OPS-2", "updated")
    assert hook.touched == {"status"}, "resolution travels with status; summary is not synced"
    assert hook.version == (1704110400000, 10400)
    assert hook.actor is not None and hook.actor.email == "priya@example.com"
    assert hit.touched == {"status", "assignee", "duedate", "priority"}
    assert hit.version == (int(hit.when.timestamp() * 1000), 0) and hit.actor is None


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("jira:issue_deleted", "deleted"),
        ("jira:issue_created", "created"),
        ("jira:worklog_updated", "other"),
    ],
)
def test_webhook_events_by_kind(event: str, kind: str) -> None:
    assert webhook_change({"webhookEvent": event, "issue": ISSUE}).kind == kind


def test_a_delivery_without_an_issue_is_not_a_change() -> None:
    from app.sync.jira_payloads import NotAnIssueEvent

    with pytest.raises(NotAnIssueEvent, match="project_created carries no issue"):
        webhook_change({"webhookEvent": "project_created", "project": {"key": "OPS"}})
