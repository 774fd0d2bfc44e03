"""Who may decide what: waiving a finding and verifying an action, as policy.

Pure: the principal acting, the incident's facilitators and the catalog in,
a refusal (or None) out; the services ask and raise `Forbidden`. Keys live
in config/policy.yaml under `waivers:` and `verification:`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.catalog import Catalog
from app.domain.people import Principal
from app.domain.vocabulary import Scope

Waiver = Literal["facilitator", "admin", "writer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WaiverPolicy(_Strict):
    # who may waive a finding: the incident's facilitator, anyone with the admin scope, or
    # (the old, open behaviour) anyone with the write scope
    allowed: tuple[Waiver, ...] = Field(default=("facilitator", "admin"), min_length=1)
    # findings of these rule families (or exact ids) are regulatory: `regulatory_allowed` only
    regulatory_rules: tuple[str, ...] = ("compliance",)
    regulatory_allowed: tuple[Waiver, ...] = Field(default=("admin",), min_length=1)
    # longest a waiver may last, in days (None: a waiver may be open-ended)
    max_days: int | None = Field(default=None, ge=1)


class VerificationPolicy(_Strict):
    # true: the person recording a passing validation must not be the action's owner
    verifier_must_differ_from_owner: bool = False


def same_person(catalog: Catalog, a: str | None, b: str | None) -> bool:
    """Owners are written by name, e-mail or Jira id: compare the catalog person behind each."""
    if not a or not b:
        return False
    if a.strip().casefold() == b.strip().casefold():
        return True
    pa, pb = catalog.person(a), catalog.person(b)
    return pa is not None and pa is pb


def is_regulatory(policy: WaiverPolicy, rule: str) -> bool:
    family = rule.partition(".")[0]
    return rule in policy.regulatory_rules or family in policy.regulatory_rules


def waiver_refusal(
    policy: WaiverPolicy,
    *,
    rule: str,
    principal: Principal,
    facilitators: Sequence[str],
    catalog: Catalog,
) -> str | None:
    """Why `principal` may not waive a finding of `rule` on this incident, or None."""
    regulatory = is_regulatory(policy, rule)
    allowed = policy.regulatory_allowed if regulatory else policy.allowed
    if "admin" in allowed and principal.can(Scope.ADMIN):
        return None
    if "writer" in allowed and principal.can(Scope.WRITE):
        return None
    if (
        "facilitator" in allowed
        and principal.can(Scope.WRITE)
        and any(same_person(catalog, principal.person, f) for f in facilitators)
    ):
        return None
    who = {"facilitator": "the incident's facilitator", "admin": "an admin", "writer": "a writer"}
    names = " or ".join(who[a] for a in allowed)
    kind = "a regulatory finding" if regulatory else "this finding"
    shown = ", ".join(f for f in facilitators if f) or "none set"
    return (
        f"{principal.person} may not waive {kind} ({rule}): only {names} may "
        f"(waivers policy; facilitator: {shown})"
    )


def verification_refusal(
    policy: VerificationPolicy, *, verifier: str, owner: str | None, catalog: Catalog
) -> str | None:
    """Why `verifier` may not record a passing validation of an action `owner` owns, or None."""
    if policy.verifier_must_differ_from_owner and same_person(catalog, verifier, owner):
        return (
            f"{verifier} owns this action and may not verify it: policy "
            "(verification.verifier_must_differ_from_owner) wants a second person to check"
        )
    return None
