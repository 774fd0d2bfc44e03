"""Tests for app.rules.blameless: corpus quality gates plus behaviour the corpus cannot pin down
(offsets, people matching, as_cause semantics, negation, quoting)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from app.rules.blameless import BlameMatch, detect, find_blame, is_blameful

_ROOT = Path(__file__).resolve().parents[2]
if (
    str(_ROOT) not in sys.path
):  # pytest's rootdir insertion puts tests/unit first, not the repo root
    sys.path.insert(0, str(_ROOT))

from tests.blameless_eval import (  # noqa: E402
    Example,
    evaluate,
    format_misses,
    format_scores,
    load_corpus,
    main,
    select,
)


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_corpus()


# The former blind sets (v1, v2) were read after they were scored and are holdout now; the v3
# blind set (scored once: P 0.952, R 0.881 with model.blame_lr.0a833164) and the v4 blind set
# (scored once: P 0.892, R 0.937 with model.blame_lr.2727106e) are tune now; the v5 blind set
# (scored once: P 0.953, R 0.829 with model.blame_lr.8732e39e) is training data now, a stratified
# quarter holdout. The blind set v6 (385 rows, written apart from the model) was appended at the
# end after model.blame_lr.9976b92f was frozen (commit cdfd208) and scored once: P 0.921, R 0.953.
# With fewer than _BLIND_MIN blind rows the blind tests fail rather than pass on nothing.
_V3_START, _V3_END = 2077, 2396  # the former blind v3 rows (tune whole)
_ROUND4_END = _V3_END + 435  # the round-4 rows (a quarter holdout) end here
_V4_END = _ROUND4_END + 319  # the former blind v4 rows (tune whole) end here
_ROUND5_END = _V4_END + 200  # the round-5 rows written for the next model (a quarter holdout)
_V5_END = _ROUND5_END + 367  # the former blind v5 rows (a quarter holdout) end here
_ROUND6_END = _V5_END + 85  # the round-6 rows written after v5 (a quarter holdout) end here
_BLIND_MIN = 200  # blind rows needed before a blind figure means anything


def _blind(corpus: list[Example]) -> list[Example]:
    rows = select(corpus, "blind")
    assert len(rows) >= _BLIND_MIN, (
        f"{len(rows)} blind rows: the blind split is empty until the next blind set (v6, at least "
        f"{_BLIND_MIN} rows written apart from the model) is appended after the model is frozen; "
        "no blind figure exists before then, so this test fails instead of passing on nothing"
    )
    return rows


def _kinds(text: str, **kw: object) -> list[str]:
    return [m.kind for m in find_blame(text, **kw)]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Corpus gates
# ------------------------------------------------------------------------------------------------


def test_corpus_is_big_and_balanced_enough(corpus: list[Example]) -> None:
    assert len(corpus) >= 1500
    labels = Counter(e.label for e in corpus)
    assert min(labels.values()) / len(corpus) > 0.35
    assert len({e.text for e in corpus}) == len(corpus), "duplicate sentences skew the scores"
    contexts = Counter(e.context for e in corpus)
    assert set(contexts) == {"summary", "cause", "timeline", "lesson"}
    for split in ("tune", "holdout"):
        assert {e.label for e in select(corpus, split)} == {"blameful", "blameless"}, split


def test_blind_split_is_big_and_has_both_labels(corpus: list[Example]) -> None:
    blind = _blind(corpus)
    assert {e.label for e in blind} == {"blameful", "blameless"}
    assert all(e.split == "blind" for e in corpus[len(corpus) - len(blind) :]), "blind rows last"


def test_holdout_is_about_a_quarter_of_each_written_batch(corpus: list[Example]) -> None:
    # The original 337 rows, the 842 rows of v2, the 462 rows of v3, the round-4 rows and the
    # round-5 and round-6 rows each had a quarter drawn as holdout before anything was trained on
    # them; the former blind sets v1 (80 rows between the original and v2) and v2 (the 196 rows
    # after it) are holdout whole, the former blind sets v3 and v4 are tune whole, and the former
    # blind set v5 had a stratified quarter drawn as holdout when it was folded in.
    original, v2, v3 = corpus[:337], corpus[577:1419], corpus[1615:_V3_START]
    round4, round5 = corpus[_V3_END:_ROUND4_END], corpus[_V4_END:_ROUND5_END]
    former_blind_v1, former_blind_v2 = corpus[497:577], corpus[1419:1615]
    former_blind_v5, round6 = corpus[_ROUND5_END:_V5_END], corpus[_V5_END:_ROUND6_END]
    for batch in (original, v2, v3, round4, round5, former_blind_v5, round6):
        assert 0.2 <= sum(e.split == "holdout" for e in batch) / len(batch) <= 0.3
    assert all(e.split == "holdout" for e in former_blind_v1 + former_blind_v2)
    assert all(e.split == "tune" for e in corpus[_V3_START:_V3_END] + corpus[_ROUND4_END:_V4_END])
    assert not any(e.split == "blind" for e in corpus[:_ROUND6_END])
    assert all(e.split == "blind" for e in corpus[_ROUND6_END:])


@pytest.mark.slow
def test_corpus_precision_and_recall(corpus: list[Example]) -> None:
    print()
    for name in ("all", "tune", "holdout", "blind"):
        print(format_scores(name, evaluate(select(corpus, name))))
    # The shipped model was trained on tune + holdout, so those two are in-sample figures.
    whole = evaluate(select(corpus, "tune") + select(corpus, "holdout"))
    assert whole.precision >= 0.95, format_misses(whole)
    assert whole.recall >= 0.95, format_misses(whole)


def test_rules_alone_point_precisely(corpus: list[Example]) -> None:
    # The table's job is pointing: what it flags must be blame, whatever it misses.
    rules = evaluate(corpus, find_blame)
    assert rules.precision >= 0.95


def test_blind_precision(corpus: list[Example]) -> None:
    # Blind rows are written apart from the model and appended after it is frozen; they are never
    # tuned against, and their misses are deliberately not printed here (reading them would turn
    # them into tune data). Fewer than _BLIND_MIN blind rows fails: an empty split is no figure.
    # Issue 11's bar. model.blame_lr.2727106e scored 0.892 on v4 (held then by a 0.885 floor);
    # v4 and v5 are training data now; the model trained after v5 is held to the bar on v6, which
    # is appended after that model is frozen. model.blame_lr.9976b92f scored 0.921 on v6 (scored
    # once). Never tune on v6.
    blind = evaluate(_blind(corpus))
    print(format_scores("blind", blind))
    assert blind.precision >= 0.9


def test_blind_recall(corpus: list[Example]) -> None:
    # Issue 11's bar. model.blame_lr.0a833164 scored 0.881 on v3, model.blame_lr.2727106e 0.937
    # on v4 and model.blame_lr.8732e39e 0.829 on v5 (held then by a 0.82 floor). v5 is training
    # data now; the model trained after it, model.blame_lr.9976b92f, scored 0.953 on v6 (once).
    assert evaluate(_blind(corpus)).recall >= 0.9


def test_flagged_blame_gets_its_kind_and_a_phrase(corpus: list[Example]) -> None:
    flagged = right = 0
    for ex in corpus:
        if ex.label != "blameful":
            continue
        found = detect(ex.text, people=ex.people, as_cause=ex.as_cause)
        if not found:
            continue
        flagged += 1
        phrase_ok = all(m.phrase.strip() and ex.text[m.start : m.end] == m.phrase for m in found)
        right += phrase_ok and any(m.kind == ex.category for m in found)
    assert flagged >= 600
    assert right / flagged >= 0.9, f"{right}/{flagged}"


def test_eval_module_runs_as_a_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--split", "tune", "--misses"]) == 0
    out = capsys.readouterr().out
    for name in ("all", "tune", "holdout", "blind", "misses (tune)"):
        assert name in out


# ------------------------------------------------------------------------------------------------
# The examples from the spec
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The deploy failed to complete",
        "The health check failed to detect the stale replica",
        "We should have alerting on queue depth",
        "The on-call engineer followed the runbook",
        "Alice paged the database team at 10:02",
        "This was not anyone's fault.",
        "The script failed to parse the manifest.",
        "Marco failed over the primary to us-east-2.",
    ],
)
def test_system_focused_sentences_pass(text: str) -> None:
    assert find_blame(text, people=["Alice", "Marco"]) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Bob failed to page the secondary.", "individual_blame"),
        ("It was Dave's fault.", "individual_blame"),
        ("The on-call engineer was careless.", "individual_blame"),
        ("She should have known the table would lock.", "individual_blame"),
        ("Ops dropped the ball.", "individual_blame"),
        ("The reviewer was negligent.", "individual_blame"),
        ("He didn't bother to check the graphs.", "individual_blame"),
        ("he forgot to drain the node", "individual_blame"),
        ("they forgot to drain the node", "individual_blame"),
        ("Bob forgot to renew the certificate.", "individual_blame"),
        ("Priya's mistake took down checkout.", "individual_blame"),
        ("Mistakes were made by the DBA.", "individual_blame"),
        ("The intern broke prod.", "person_as_cause"),
        ("Root cause: Bob.", "person_as_cause"),
        ("The outage was caused by human error.", "human_error"),
        ("This incident was due to operator error.", "human_error"),
        ("Classic user error.", "human_error"),
    ],
)
def test_blameful_sentences_are_flagged(text: str, kind: str) -> None:
    assert kind in _kinds(text, people=["Bob", "Dave", "Priya"])


# ------------------------------------------------------------------------------------------------
# Match shape: offsets, ordering, messages
# ------------------------------------------------------------------------------------------------


def test_offsets_point_at_the_phrase() -> None:
    text = "At 10:05 the alert fired. Then Kenji failed to acknowledge the page."
    [m] = find_blame(text, people=["Kenji"])
    assert (m.start, m.end) == (31, 58)
    assert m.phrase == "Kenji failed to acknowledge" == text[m.start : m.end]
    assert m.kind == "individual_blame"


def test_matches_are_ordered_non_overlapping_and_consistent() -> None:
    text = (
        "Root cause: human error. Bob was careless, and it was Priya's fault; "
        "the intern broke prod."
    )
    matches = find_blame(text, people=["Bob", "Priya"], as_cause=True)
    assert len(matches) >= 4
    for a, b in zip(matches, matches[1:], strict=False):
        assert a.end <= b.start
    for m in matches:
        assert text[m.start : m.end] == m.phrase
        assert m.message and m.suggestion


def test_human_error_suggestion_points_at_conditions() -> None:
    [m] = find_blame("Root cause: human error.", as_cause=True)
    assert m.kind == "human_error"
    assert m.phrase == "human error"
    for word in ("guardrail", "UI", "review"):
        assert word in m.suggestion


def test_each_kind_has_a_distinct_systems_focused_suggestion() -> None:
    ib = find_blame("Bob forgot to renew the certificate.")[0]
    pc = find_blame("The intern broke prod.")[0]
    he = find_blame("It was human error.")[0]
    assert len({ib.suggestion, pc.suggestion, he.suggestion}) == 3
    assert "change or condition" in pc.suggestion


def test_blame_match_is_frozen() -> None:
    m = find_blame("The intern broke prod.")[0]
    assert isinstance(m, BlameMatch)
    with pytest.raises(FrozenInstanceError):
        m.start = 0  # type: ignore[misc]


def test_is_blameful_mirrors_find_blame() -> None:
    assert is_blameful("Bob failed to page the secondary.", people=["Bob"])
    assert not is_blameful("Bob paged the secondary.", people=["Bob"])
    assert is_blameful("Alice paged the DB team.", people=["Alice"], as_cause=True)
    assert not is_blameful("")


# ------------------------------------------------------------------------------------------------
# People matching
# ------------------------------------------------------------------------------------------------


def test_ambiguous_verbs_need_a_known_person() -> None:
    # "failed to" is as often about systems; only the participant list says Kenji is a person.
    assert not is_blameful("Kenji failed to acknowledge the page.")
    assert is_blameful("Kenji failed to acknowledge the page.", people=["Kenji"])


def test_people_are_case_insensitive_and_match_name_parts_and_handles() -> None:
    assert is_blameful("Bob failed to page the secondary.", people=["bob"])
    assert is_blameful("BOB FAILED TO PAGE THE SECONDARY.", people=["Bob"])
    assert is_blameful("Again, Larsen didn't wait for CI.", people=["Emma Larsen"])
    assert is_blameful("@jdoe broke the build", people=["@jdoe"])
    assert is_blameful("jdoe broke the build", people=["jdoe"])


def test_people_as_a_bare_string_means_one_name() -> None:
    assert is_blameful("Bob failed to page the secondary.", people="Bob")
    assert not is_blameful("o b", people="Bob", as_cause=True)


def test_names_that_are_common_words_only_match_capitalised() -> None:
    assert not is_blameful(
        "The deploy will fail if the canary breaks.", people=["Will"], as_cause=True
    )
    assert not is_blameful("mark the ticket resolved", people=["Mark"], as_cause=True)
    assert is_blameful("Will broke prod.", people=["Will"])


def test_possessive_and_pronoun_subjects() -> None:
    assert is_blameful("Priya's mistake in the config took down checkout.")
    assert is_blameful("It was Marco’s fault.")  # typographic apostrophe
    assert is_blameful("my bad, i forgot to remove the flag")
    assert not is_blameful("Linh's dashboard made the regression obvious.", people=["Linh"])
    assert not is_blameful("It's nobody's fault that the vendor changed the API.")


def test_roles_are_blame_targets_but_systems_named_like_roles_are_not() -> None:
    assert is_blameful("The intern broke prod.")
    assert is_blameful("The on-call engineer was careless.")
    assert is_blameful("The SRE on duty overlooked the disk warning.")
    assert is_blameful("The developer who wrote the migration never tested it.")
    assert not is_blameful("The etcd operator failed to restore the snapshot.")
    assert not is_blameful("The operator (the Kubernetes operator) failed to reconcile.")


def test_unknown_capitalised_subject_with_a_participant_list_is_a_system() -> None:
    assert not is_blameful("Kafka Connect forgot its offsets.", people=["Alice"])
    assert is_blameful("Bob forgot to renew the certificate.")  # no list: cannot tell, so flag


# ------------------------------------------------------------------------------------------------
# as_cause
# ------------------------------------------------------------------------------------------------


def test_as_cause_flags_any_named_participant() -> None:
    text = "Ravi ran the cleanup script against production."
    assert not is_blameful(text, people=["Ravi"])
    [m] = find_blame(text, people=["Ravi"], as_cause=True)
    assert (m.kind, m.phrase) == ("person_as_cause", "Ravi")


def test_as_cause_flags_roles_acting() -> None:
    text = "Cause: the on-call engineer restarted the primary instead of the replica."
    assert "person_as_cause" in _kinds(text, as_cause=True)
    assert not is_blameful("The on-call engineer lacked access to the console.", as_cause=True)


def test_as_cause_makes_any_human_error_blame() -> None:
    text = "Make the consoles distinct to reduce the chance of human error."
    assert not is_blameful(text)
    assert _kinds(text, as_cause=True) == ["human_error"]


def test_as_cause_still_respects_negation_and_technical_terms() -> None:
    assert not is_blameful("It was not human error; the UI was misleading.", as_cause=True)
    assert not is_blameful("The handler returned a user error (HTTP 400).", as_cause=True)
    assert not is_blameful("Requests were misclassified as user errors.", as_cause=True)


def test_as_cause_leaves_system_causes_alone() -> None:
    for text in (
        "The health check failed to detect the stale replica.",
        "The alert threshold was above the observed peak.",
        "Renewal depended on a manual calendar reminder.",
    ):
        assert not is_blameful(text, people=["Alice", "Bob"], as_cause=True), text


# ------------------------------------------------------------------------------------------------
# Negation, quoting, explanations
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "This was not anyone's fault.",
        "No one is to blame for this incident.",
        "Nobody dropped the ball here: the alert never fired.",
        "This wasn't Bob's fault, the tool defaulted to prod.",
        "The on-call engineer was not careless; the alert text was wrong.",
        "Rather than blaming the DBA, we looked at the backup process.",
        "Neither Alice nor Bob is at fault; the runbook was out of date.",
    ],
)
def test_negations_are_not_blame(text: str) -> None:
    assert find_blame(text, people=["Alice", "Bob"]) == []


def test_negation_is_scoped_to_its_clause() -> None:
    text = "The alert did not fire, and Bob ignored the dashboard."
    assert _kinds(text, people=["Bob"]) == ["individual_blame"]


def test_quoted_words_are_mentions() -> None:
    assert not is_blameful("Avoid words like 'careless' or 'negligent' in postmortems.")
    assert not is_blameful('The "should have known" trap is hindsight bias.')


def test_an_explained_omission_is_not_blame() -> None:
    people = ["Elena"]
    assert not is_blameful(
        "Elena didn't escalate because the runbook said to wait 30 minutes.", people=people
    )
    assert is_blameful("Elena didn't escalate to the database team.", people=people)


def test_idioms_and_hindsight_apply_whatever_the_subject() -> None:
    assert is_blameful("We should have known the cache would fill up.")
    assert is_blameful("Engineers need to be more careful with prod.")
    assert not is_blameful("We should add a confirmation prompt.")
    assert not is_blameful("The system uses lazy loading for the config.")


def test_import_does_no_work() -> None:
    # Rules compile on first use so that importing the module (e.g. by the API) stays free.
    code = (
        "import app.rules.blameless; from app.rules.blameless import table; "
        "assert table.rule_set.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_ROOT)


def test_matches_name_the_rule_that_found_them() -> None:
    (m,) = find_blame("Bob forgot to renew the TLS certificate.", people=["Bob"])
    assert m.rule == "blame.omission.forgot" and m.kind == "individual_blame"
    (m,) = find_blame("Root cause: human error.", as_cause=True)
    assert m.rule == "blame.human_error.term"


def test_model_tokens_keep_offsets_after_a_dotted_capital_i() -> None:
    # "İ" lowers to two characters; the tokens' offsets index the original sentence, so a
    # lowered copy that grew by one would shift every span after it (and the highlighted phrase).
    from app.rules.blameless.features import tokens, words

    sentence = "İzmir ops: Bob forgot to renew the certificate."
    toks = tokens(sentence, ("Bob",))
    assert [sentence[t.start : t.end] for t in toks][2:5] == ["Bob", "forgot", "to"]
    assert [t.word for t in toks] == words(sentence, ("Bob",))
    assert toks[0].word == "izmir"
