"""Forms into the API's models, blame spans into marks, charts into SVG: no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from app.domain.vocabulary import Scope
from app.schemas.analysis import CauseCreate, TimelineEventCreate
from app.schemas.findings import FindingRead
from app.schemas.incidents import IncidentCreate
from app.services.users import Person, Role
from app.web.charts import bars
from app.web.forms import FormErrors, FormSpec, read
from app.web.workspace import cause_tree, marked


def test_a_form_is_read_into_the_same_model_the_api_validates() -> None:
    form = MultiDict(
        [
            ("at", "2026-11-30T10:15"),
            ("kind", "decision"),
            ("text", "Fail over."),
            ("is_decision", "on"),
            ("alternatives", "Wait\n\n  Read-only  \n"),
            ("rationale", ""),
        ]
    )
    spec = FormSpec(times=("at",), bools=("is_decision",), lines=("alternatives",))
    event = read(TimelineEventCreate, form, spec)
    assert event.at == datetime(2026, 11, 30, 10, 15, tzinfo=UTC)  # datetime-local is UTC
    assert event.is_decision and event.alternatives == ["Wait", "Read-only"]
    assert event.rationale is None  # an empty field is "not given", not ""


def test_errors_name_each_field_in_pydantics_words() -> None:
    form = MultiDict({"severity": "SEV9", "impact.customers": "-1", "regulatory": "nope"})
    spec = FormSpec(
        nested={"impact": ("customers",)}, ints=("impact.customers",), multi=("regulatory",)
    )
    with pytest.raises(FormErrors) as caught:
        read(IncidentCreate, form, spec)
    errors = caught.value.errors
    assert errors["title"] == "Field required"
    assert errors["severity"].startswith("Input should be")
    assert "greater than or equal to 0" in errors["impact.customers"]
    assert "regulatory" in errors
    assert caught.value.values["severity"] == "SEV9"  # what was typed comes back


def test_ids_from_a_form_are_integers_and_words_stay_words() -> None:
    cause = read(
        CauseCreate,
        MultiDict(
            {"kind": "root_cause", "category": "process", "statement": "s", "parent_id": "7"}
        ),
        FormSpec(ints=("parent_id",)),
    )
    assert cause.parent_id == 7
    with pytest.raises(FormErrors) as caught:
        bad = {"kind": "x", "category": "process", "statement": "s", "parent_id": "seven"}
        read(CauseCreate, MultiDict(bad), FormSpec(ints=("parent_id",)))
    assert set(caught.value.errors) == {"kind", "parent_id"}


def finding(start: int, end: int, phrase: str, fid: int = 1) -> FindingRead:
    return FindingRead(
        id=fid, rule="language.individual_blame", severity="warning", entity_type="timeline_event",
        entity_key="INC-1/1", message="m", suggestion="s", fingerprint="f",
        details={"field": "text", "start": start, "end": end, "phrase": phrase},
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip


def test_blame_phrases_are_marked_at_their_span_and_the_rest_escaped() -> None:
    text = "<b>Sam</b> failed to check the lag & left."
    start = text.index("failed")
    html = str(marked(text, [finding(start, start + len("failed to check"), "failed to check")]))
    assert html.startswith("&lt;b&gt;Sam&lt;/b&gt; ")
    assert '<mark class="blame" id="blame-1">failed to check</mark>' in html
    assert html.endswith(" the lag &amp; left.")


def test_a_stale_span_marks_nothing() -> None:
    """The text was reworded after the evaluation: an old span must not mark new words."""
    assert "<mark" not in str(marked("The runbook had no check.", [finding(4, 11, "failed")]))
    assert "<mark" not in str(marked("short", [finding(0, 99, "short")]))


def test_the_cause_tree_nests_by_parent_and_orphans_go_to_the_top() -> None:
    class C:
        def __init__(self, id: int, parent_id: int | None) -> None:
            self.id, self.parent_id = id, parent_id

    causes = [C(1, None), C(2, 1), C(3, 2), C(4, 99)]
    tree = cause_tree(causes)
    assert [c.id for c in tree[None]] == [1, 4]
    assert [c.id for c in tree[1]] == [2] and [c.id for c in tree[2]] == [3]


def test_roles_carry_the_api_scopes() -> None:
    assert Role.VIEWER.scope is Scope.READ
    assert Role.MEMBER.scope is Scope.WRITE and Role.FACILITATOR.scope is Scope.WRITE
    assert Role.ADMIN.scope is Scope.ADMIN
    viewer = Person("v", "V", Role.VIEWER)
    assert viewer.can(Scope.READ) and not viewer.can(Scope.WRITE)
    assert Person("a", "A", Role.ADMIN).can(Scope.WRITE)
    assert Person("m", "M", Role.MEMBER).actor == "M"
    assert Person("m", "M", Role.MEMBER).principal.via == "user:m"
    assert Role.FACILITATOR.can_waive and not Role.MEMBER.can_waive


def test_a_chart_is_svg_with_its_numbers_written_and_labels_escaped() -> None:
    svg = str(bars("Actions", [("done", 3), ("<script>", 0), ("open", None)]))
    assert svg.startswith('<svg class="chart" role="img" aria-label="Actions"')
    assert ">3<" in svg and "&lt;script&gt;" in svg and "<script>" not in svg
