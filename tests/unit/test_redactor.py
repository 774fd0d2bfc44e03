"""The redactor alone: whole words, full names before parts, a part only as written."""

from __future__ import annotations

from app.services.redaction import Redactor

ROLES = {
    "Olivia Grant": "a business stakeholder",
    "Maya Okafor": "the incident commander",
    "maya@example.com": "the incident commander",
    "Al Li": "a responder",
}


def test_names_in_free_text_become_roles() -> None:
    r = Redactor(ROLES)
    assert r.text("maya okafor paged Grant. Olivia agreed; mail maya@example.com") == (
        "The incident commander paged a business stakeholder. A business stakeholder agreed; "
        "mail the incident commander"
    )


def test_words_that_only_look_like_names_stay() -> None:
    r = Redactor(ROLES)
    assert r.text("grant access to Mayan archives; Grantham; Al said") == (
        "grant access to Mayan archives; Grantham; Al said"
    )


def test_walk_redacts_every_string_and_keeps_keys() -> None:
    r = Redactor(ROLES)
    value = {"Maya Okafor": ["Olivia Grant", 3, None, {"owner": "Maya"}]}
    assert r.walk(value) == {
        "Maya Okafor": ["A business stakeholder", 3, None, {"owner": "The incident commander"}]
    }
    assert Redactor({}).text("Maya") == "Maya"
