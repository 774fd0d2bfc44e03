"""Blameless language policy: which texts are read, who counts as a person, the findings."""

from __future__ import annotations

from dataclasses import replace

from app.rules.views import CauseView, TimelineView
from tests.unit.test_policy_kit import ctx, incident, policy, rules, run


def test_blameless_incident_has_no_language_findings() -> None:
    assert not {r for r in rules(run(incident())) if r.startswith("language.")}


def test_individual_blame_in_the_summary() -> None:
    view = incident(summary="Checkout failed because Maya Okafor forgot to renew the certificate.")
    [finding] = [f for f in run(view).findings if f.rule == "language.individual_blame"]
    assert finding.entity_type == "incident" and finding.entity_key == "INC-1"
    assert finding.details["field"] == "summary" and "forgot" in finding.details["phrase"]
    assert finding.suggestion  # a systems-focused rephrasing is offered


def test_person_named_as_a_cause() -> None:
    view = incident(
        causes=(CauseView("INC-1/1", "root_cause", "change", "Root cause: Maya Okafor"),)
    )
    [finding] = [f for f in run(view).findings if f.rule == "language.person_as_cause"]
    assert finding.entity_type == "cause" and finding.severity == "blocker"


def test_human_error_as_root_cause() -> None:
    view = incident(causes=(CauseView("INC-1/1", "root_cause", "process", "Human error."),))
    assert "language.human_error" in rules(run(view))


def test_timeline_and_lessons_are_read() -> None:
    base = incident()
    assert base.postmortem is not None
    view = replace(
        base,
        timeline=(
            *base.timeline,
            TimelineView("INC-1/7", "note", "Ravi Menon failed to acknowledge the page."),
        ),
        postmortem=replace(base.postmortem, lessons=("The DBA was careless with the backup.",)),
    )
    findings = [f for f in run(view).findings if f.rule.startswith("language.")]
    assert {(f.entity_type, f.details["field"]) for f in findings} == {
        ("timeline_event", "text"),
        ("postmortem", "lessons[0]"),
    }


def test_neutral_who_did_what_is_not_blame() -> None:
    view = incident(
        timeline=(
            *incident().timeline,
            TimelineView("INC-1/7", "action", "Maya Okafor rolled back the config."),
        )
    )
    assert not {r for r in rules(run(view)) if r.startswith("language.")}


def test_same_phrase_twice_gives_two_fingerprints() -> None:
    view = incident(summary="Maya Okafor forgot the flag. Later Ravi Menon forgot the flag.")
    fps = [f.fingerprint for f in run(view).findings if f.rule == "language.individual_blame"]
    assert len(fps) == 2 and len(set(fps)) == 2


def test_language_severity_is_tunable() -> None:
    context = ctx(policy(rules={"language.human_error": {"severity": "warning"}}))
    view = incident(causes=(CauseView("INC-1/1", "root_cause", "process", "Human error."),))
    [finding] = [f for f in run(view, context).findings if f.rule == "language.human_error"]
    assert finding.severity == "warning"


def _corpus_document(n: int = 120) -> tuple[str, list[str], list[str]]:
    """A Markdown postmortem whose timeline lines and root causes are corpus sentences."""
    from tests.blameless_eval import load_corpus

    rows = [e for e in load_corpus() if "\n" not in e.text and not e.text.startswith(("-", "#"))]
    timeline = [e.text for e in rows if e.context != "cause"][:n]
    causes = [e.text for e in rows if e.context == "cause"][: n // 4]
    people = sorted({p for e in rows[: n * 2] for p in e.people if " " not in p})[:20]
    doc = "\n".join(
        [
            "# Postmortem: corpus",
            "",
            "## Summary",
            "",
            "Checkout was slow for an hour.",
            "",
            "## Participants",
            "",
            *(f"- Responder: {p}" for p in people),
            "",
            "## Timeline",
            "",
            *(f"- 10:{i % 60:02d} {t}" for i, t in enumerate(timeline)),
            "",
            "## Root causes",
            "",
            *(f"{i + 1}. {c}" for i, c in enumerate(causes)),
            "",
            "## Action items",
            "",
            "- Add a canary stage",
            "",
        ]
    )
    return doc, timeline, causes


def test_lint_and_the_language_policy_give_the_same_blame_findings() -> None:
    from app.catalog import Catalog
    from app.rules import language
    from app.rules.lint import lint_text
    from app.rules.markdown import parse, to_view
    from app.rules.model import Context as RulesContext

    doc, _, _ = _corpus_document()
    pol = policy()
    view = to_view(parse(doc), "corpus.md")
    # Lint reads a document with no catalog (its people are the document's), so the API side
    # gets the same: the comparison is of the detector path, not of two different name lists.
    context = RulesContext(pol, Catalog(), ctx(pol).now)
    api = run(view, context)
    linted = lint_text(doc, "corpus.md", pol)

    def blame(findings: list) -> list[tuple]:  # type: ignore[type-arg]
        return sorted(
            (f.rule, f.entity_key, f.details["phrase"], f.details["detector"], f.details["score"])
            for f in findings
            if f.rule.startswith("language.")
        )

    assert len(blame(api.findings)) >= 40
    assert blame(api.findings) == blame(linted)
    # ... and both are what the detector says about each text on its own.
    direct = [
        (h.where.entity_key, h.match.phrase, h.match.rule, round(h.match.score, 3))
        for h in language.hits(view, context)
    ]
    assert sorted(direct) == sorted(b[1:] for b in blame(linted))


def test_lint_of_a_200_line_postmortem_is_fast_after_start_up() -> None:
    import time

    from app.rules.blameless import model
    from app.rules.lint import lint_text

    doc, timeline, causes = _corpus_document(160)
    assert doc.count("\n") >= 200
    model.load()  # start-up: the model file is read once per process
    lint_text("# x\n\n## Summary\n\nWarm-up.\n", "warm.md", policy())
    start = time.perf_counter()
    lint_text(doc, "big.md", policy())
    assert time.perf_counter() - start < 1.0
