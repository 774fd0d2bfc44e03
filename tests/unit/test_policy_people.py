"""Who may decide: waiving findings, verifying actions; and what a validation record shows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.people import Principal, PrincipalKind
from app.domain.transitions import TransitionError, check_incident_transition
from app.domain.vocabulary import IncidentStatus as I
from app.domain.vocabulary import Scope
from app.rules.permissions import (
    VerificationPolicy,
    WaiverPolicy,
    same_person,
    verification_refusal,
    waiver_refusal,
)
from app.rules.views import ValidationView
from tests.unit.test_policy_kit import CATALOG, NOW, action, incident, rules, run

WRITE = frozenset({Scope.WRITE})
ADMIN = frozenset({Scope.ADMIN})


def who(name: str, scopes: frozenset[Scope] = WRITE) -> Principal:
    return Principal(name, scopes, PrincipalKind.PERSON, "t")


def test_the_same_person_under_another_spelling() -> None:
    assert same_person(CATALOG, "Maya Okafor", "maya@example.com")
    assert same_person(CATALOG, "ravi menon", "Ravi Menon")
    assert not same_person(CATALOG, "Maya Okafor", "Ravi Menon")
    assert not same_person(CATALOG, "Maya Okafor", None)


@pytest.mark.parametrize(
    ("principal", "rule", "allowed"),
    [
        (who("Noor Haddad"), "ownership.missing", True),  # the facilitator
        (who("Ravi Menon"), "ownership.missing", False),  # a writer, not the facilitator
        (who("Ravi Menon", ADMIN), "ownership.missing", True),
        (who("Noor Haddad"), "compliance.overdue", False),  # regulatory: admins only
        (who("Ravi Menon", ADMIN), "compliance.overdue", True),
        (who("Noor Haddad", frozenset({Scope.READ})), "ownership.missing", False),
    ],
)
def test_waiving_is_a_permission(principal: Principal, rule: str, allowed: bool) -> None:
    refusal = waiver_refusal(
        WaiverPolicy(),
        rule=rule,
        principal=principal,
        facilitators=["Noor Haddad"],
        catalog=CATALOG,
    )
    assert (refusal is None) is allowed
    if refusal:
        assert principal.person in refusal and rule in refusal


def test_waiver_policy_can_open_it_to_writers() -> None:
    open_ = WaiverPolicy(allowed=("writer",), regulatory_allowed=("facilitator", "admin"))
    kw = {"facilitators": ["Noor Haddad"], "catalog": CATALOG}
    assert waiver_refusal(open_, rule="deadlines.stale", principal=who("Ravi Menon"), **kw) is None
    assert waiver_refusal(open_, rule="compliance.due", principal=who("Noor Haddad"), **kw) is None
    assert waiver_refusal(open_, rule="compliance.due", principal=who("Ravi Menon"), **kw)


def test_owner_may_not_verify_their_own_action_when_policy_says_so() -> None:
    strict = VerificationPolicy(verifier_must_differ_from_owner=True)
    kw = {"owner": "Maya Okafor", "catalog": CATALOG}
    assert verification_refusal(strict, verifier="maya@example.com", **kw)
    assert verification_refusal(strict, verifier="Ravi Menon", **kw) is None
    assert verification_refusal(VerificationPolicy(), verifier="Maya Okafor", **kw) is None


def test_a_failed_validation_is_a_finding_until_a_check_passes() -> None:
    failed = ValidationView(
        7,
        "fail",
        "restore drill of last night's backup",
        NOW - timedelta(hours=2),
        "Ravi Menon",
        "https://ci.example.com/run/5512",
    )
    reopened = action(key="ACT-3", status="open", last_validation=failed)
    outcome = run(incident(actions=(reopened,)))
    [finding] = [f for f in outcome.findings if f.rule == "verification.failed"]
    assert "restore drill" in finding.message and "Ravi Menon" in finding.message
    assert finding.details["evidence"] == "https://ci.example.com/run/5512"
    passed = ValidationView(8, "pass", "drill again", NOW, "Ravi Menon", "https://ci/5513")
    fixed = action(
        key="ACT-3", status="verified", last_validation=passed, has_passing_validation=True
    )
    assert not {r for r in rules(run(incident(actions=(fixed,)))) if r.startswith("verification")}


def test_verified_without_any_passing_record_is_flagged() -> None:
    bare = action(key="ACT-5", status="verified")
    assert "verification.unrecorded" in rules(run(incident(actions=(bare,))))


@pytest.mark.parametrize(
    ("current", "new", "ok"),
    [
        (I.OPEN, I.INVESTIGATING, True),
        (I.INVESTIGATING, I.OPEN, True),
        (I.MITIGATED, I.RESOLVED, True),
        (I.OPEN, I.CLOSED, True),
        (I.RESOLVED, I.CLOSED, True),
        (I.RESOLVED, I.OPEN, False),
        (I.CLOSED, I.INVESTIGATING, False),
        (I.CLOSED, I.RESOLVED, False),
    ],
)
def test_incident_transitions(current: I, new: I, ok: bool) -> None:
    if ok:
        check_incident_transition(current, new)
        return
    with pytest.raises(TransitionError) as err:
        check_incident_transition(current, new)
    assert ("reopen" in str(err.value)) is (new != I.RESOLVED)
